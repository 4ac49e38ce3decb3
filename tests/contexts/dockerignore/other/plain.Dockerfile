# Context "dockerignore", used as -f other/plain.Dockerfile: there is no
# other/plain.Dockerfile.dockerignore, so the root .dockerignore applies.
FROM busybox
COPY . /opt/
USER 65534
