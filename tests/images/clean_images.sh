#!/bin/bash
# clean_images.sh OUT_DIR: build the clean real-world images that tests/clean/test_clean_images.py
# scans (`make test-clean-images`), as one OCI layout with a tag per image:
#
#   minbase  debootstrap --variant=minbase bookworm, 1 layer (the base every other image is
#            derived from, unpacked into a chroot and repacked one layer per build step)
#   web      + nginx openssl openssh-server curl git (openssh-server's postinst generates the
#            SSH host keys /etc/ssh/ssh_host_*_key: the one image the gate must fail on)
#   python   + python3 and 36 python3-* packages; a COPY of a tiny local package and a RUN
#            that builds its wheel and installs it with pip (offline) into
#            /usr/local/lib/python3.11/dist-packages: a real RECORD file
#   ruby     + ruby and 19 gems from Debian (ruby-*, puma)
#   go       + golang-go
#   java     + openjdk-17-jre-headless and lib*-java packages
#   node     + nodejs npm (Debian); COPY package.json /app/; RUN npm install of 46 pinned
#            packages from the npm registry (the image's own npm, in the chroot)
#
# Each RUN step runs in a chroot of the image so far, as a Dockerfile's would: fresh mount,
# PID namespaces, /proc, /sys (read-only), a minimal /dev, the host's resolv.conf bound over the
# image's empty one, and the package downloads in a cache mount outside the image (as BuildKit's
# `RUN --mount=type=cache`). The base is made the way the official Debian image is
# (debuerreotype): the apt settings docker-clean, docker-gzip-indexes, docker-no-languages,
# docker-autoremove-suggests and a policy-rc.d that keeps services from starting; empty
# resolv.conf and hostname, an empty /dev, no apt lists. Every install step is the usual
# `apt-get update && apt-get install -y --no-install-recommends ... && rm -rf /var/lib/apt/lists/*`:
# no .deb files and no apt lists stay in the images (docker-clean deletes the downloaded
# packages, the step deletes the lists); dpkg's and apt's logs and databases stay, as in any
# image built so.
#
# Everything is cached by content in $RUMMAGE_CLEAN_IMAGES_CACHE (default
# /tmp/rummage-clean-images)/KEY, KEY a hash of this script, debian.sh, the package lists and the
# mirror URL: a rerun with the same inputs is instant, a changed script rebuilds (the .deb and
# npm download caches next to the key directories are kept across keys). Key directories not
# used for 3 days are removed. OUT_DIR gets:
#   oci          a symlink to the cached OCI layout (tags minbase web python ruby go java node)
#   images.json  per image: layers (count, digests, compressed bytes, created_by), the
#                uncompressed size of its final filesystem (regular files, hardlinks once),
#                files, dpkg packages, Python RECORD files, npm packages, SSH host keys
#   build-times.txt  seconds per build step of the build that made the cache
#
# Needs root (debootstrap, chroot, mounts), network access to a Debian mirror (read from the
# apt sources; override: MIRROR=URL) and to the npm registry (npm's step gets the host's CA
# bundle, $NODE_EXTRA_CA_CERTS or the system one, so a TLS-intercepting proxy works; it is not
# left in the image), and debootstrap umoci python3 (Debian packages).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=bookworm
# debian_mirror, remove_rootfs
# shellcheck source=debian.sh
. "$HERE/debian.sh"

PKG_WEB=(nginx openssl openssh-server curl git)
PKG_PYTHON=(python3 python3-pip python3-setuptools python3-wheel
    python3-requests python3-yaml python3-cryptography python3-jwt python3-boto3 python3-django
    python3-flask python3-numpy python3-sqlalchemy python3-psycopg2 python3-redis python3-celery
    python3-jinja2 python3-click python3-lxml python3-bs4 python3-pil python3-dateutil python3-tz
    python3-urllib3 python3-certifi python3-paramiko python3-openssl python3-nacl python3-bcrypt
    python3-pytest python3-simplejson python3-markdown python3-pygments python3-docutils
    python3-gunicorn python3-msgpack python3-protobuf python3-docker python3-kubernetes
    python3-pymysql)
PKG_RUBY=(ruby ruby-rack ruby-sinatra ruby-nokogiri ruby-rspec ruby-thor ruby-httparty
    ruby-faraday ruby-redis ruby-pg ruby-mysql2 ruby-jwt ruby-bcrypt ruby-activesupport puma
    ruby-rest-client ruby-net-ssh ruby-aws-sdk-core ruby-octokit ruby-oauth2)
PKG_GO=(golang-go)
PKG_JAVA=(openjdk-17-jre-headless libcommons-lang3-java libjackson2-databind-java libguava-java
    liblog4j2-java libslf4j-java libcommons-io-java libhttpclient-java libbcprov-java
    libjsch-java libpostgresql-jdbc-java libnetty-java libtomcat9-java libcommons-codec-java)
PKG_NODE=(nodejs npm ca-certificates)
# tests/images/bench_images.sh's list, and more; top-level versions pinned (their dependencies
# still resolve at install time: images.json and /app/package-lock.json say what was installed).
NPM_PACKAGES=(express@5.3.0 webpack@5.113.0 webpack-cli@7.3.1 typescript@5.9.3 aws-sdk@2.1693.0
    lodash@4.18.1 react@19.3.1 react-dom@19.3.1 axios@1.21.1 moment@2.31.0 @babel/core@7.29.13
    eslint@10.15.0 jest@30.5.2 rxjs@7.8.2 vue@3.5.45 jquery@4.0.0 bootstrap@5.3.9
    mongoose@9.12.1 pg@8.23.1 jsonwebtoken@9.0.3 dotenv@18.0.10 stripe@23.1.0
    @aws-sdk/client-s3@3.1178.0 chalk@5.6.2 commander@14.0.3 cors@2.8.6 dayjs@1.11.23
    debug@4.4.3 fs-extra@11.4.1 graphql@16.15.0 helmet@8.3.0 joi@18.3.2 morgan@1.12.1
    mysql2@3.26.1 node-fetch@3.3.2 passport@0.7.0 prettier@3.10.2 redis@6.4.0 semver@7.8.6
    sequelize@6.37.8 socket.io@4.8.4 uuid@14.0.3 winston@3.19.0 ws@8.23.1 yargs@18.2.0
    zod@4.6.7)
IMAGES=(minbase web python ruby go java node)
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "clean_images: $*" >&2; }
die() { log "$*"; exit 1; }
for t in debootstrap umoci python3 unshare chroot flock sha256sum; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t (Debian: apt-get install -y debootstrap umoci python3)"
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts)"

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
MIRROR_URL=$(debian_mirror)
CACHE_ROOT=${RUMMAGE_CLEAN_IMAGES_CACHE:-/tmp/rummage-clean-images}
KEY=$( { cat "$0" "$HERE/debian.sh"; echo "mirror $MIRROR_URL"
         printf '%s\n' "${PKG_WEB[@]}" "${PKG_PYTHON[@]}" "${PKG_RUBY[@]}" "${PKG_GO[@]}" \
             "${PKG_JAVA[@]}" "${PKG_NODE[@]}" "${NPM_PACKAGES[@]}"; } | sha256sum | cut -c1-16)
K=$CACHE_ROOT/$KEY
L=$K/oci
W=$K/work
DEBS=$CACHE_ROOT/debs        # .deb download cache (debootstrap's and apt's), shared by keys
NPM_CACHE=$CACHE_ROOT/npm-cache
mkdir -p "$K" "$DEBS/partial" "$NPM_CACHE"

# One build at a time per cache (a second run waits, then finds the images made).
exec 9>"$CACHE_ROOT/lock"
flock 9

# step NAME COMMAND...: run a build step, record its wall time in $K/build-times.txt
step() {
    local name=$1 t0 t1 secs; shift
    log "building $name"
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1")
    touch "$K/build-times.txt"
    { grep -v "^$name " "$K/build-times.txt" || true; echo "$name $secs"; } >"$K/build-times.tmp"
    mv "$K/build-times.tmp" "$K/build-times.txt"
    log "$name: ${secs} s"
}

# run_chroot ROOTFS COMMAND [npm]: COMMAND run by /bin/sh in ROOTFS as a RUN step would be,
# with a clean environment. The mounts live in a private mount namespace and every process in
# a PID namespace, so nothing outlives the step, whatever happens to it. The apt downloads go
# to $DEBS through APT_CONFIG (a file in the cache mount, not in the image); with "npm", /root/.npm
# is a cache mount of $NPM_CACHE.
run_chroot() {
    local r=$1 cmd=$2 npm=${3:-}
    mkdir -p "$r/var/cache/apt/host-archives"
    cat >"$DEBS/apt.conf" <<'EOF'
// clean_images.sh: the build's apt settings (in the cache mount, never in an image)
Dir::Cache::Archives "/var/cache/apt/host-archives/";
// a mirror that serves an older snapshot than the machine's clock
Acquire::Check-Date "false";
Acquire::Check-Valid-Until "false";
EOF
    # npm: the host's CA bundle (NODE_EXTRA_CA_CERTS, else the system one) at /run/build-ca.crt
    # for the step only, as a build secret would be: a TLS-intercepting proxy's CA reaches npm
    # without going into the image
    local ca=
    if [ -n "$npm" ]; then
        mkdir -p "$r/root/.npm"
        ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
        [ -f "$ca" ] || ca=
        [ -z "$ca" ] || : >"$r/run/build-ca.crt"
    fi
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    unshare --mount --pid --fork --propagation private -- bash -euo pipefail -c '
        r=$1 debs=$2 npmc=$3 ca=$4 path=$5 cmd=$6
        mount -t proc proc "$r/proc"
        mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
        mount -t tmpfs -o nosuid,mode=0755,size=64m tmpfs "$r/dev"
        for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
            IFS=: read -r name major minor <<<"$n"
            mknod -m 0666 "$r/dev/$name" c "$major" "$minor"
        done
        mkdir -p "$r/dev/pts" "$r/dev/shm"
        mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
        ln -s pts/ptmx "$r/dev/ptmx"
        mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$r/dev/shm"
        ln -s /proc/self/fd "$r/dev/fd"
        ln -s /proc/self/fd/0 "$r/dev/stdin"
        ln -s /proc/self/fd/1 "$r/dev/stdout"
        ln -s /proc/self/fd/2 "$r/dev/stderr"
        mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
        mount --bind "$debs" "$r/var/cache/apt/host-archives"
        [ -z "$npmc" ] || mount --bind "$npmc" "$r/root/.npm"
        extra=()
        if [ -n "$ca" ]; then
            mount --bind "$ca" "$r/run/build-ca.crt"
            mount -o remount,bind,ro "$r/run/build-ca.crt"
            extra=(NODE_EXTRA_CA_CERTS=/run/build-ca.crt)
        fi
        exec chroot "$r" /usr/bin/env -i PATH="$path" HOME=/root LANG=C.UTF-8 TERM=dumb \
            DEBIAN_FRONTEND=noninteractive APT_CONFIG=/var/cache/apt/host-archives/apt.conf \
            "${extra[@]}" /bin/sh -c "$cmd"
    ' run_chroot "$r" "$DEBS" "${npm:+$NPM_CACHE}" "$ca" "$PATH_ENV" "$cmd"
    rmdir "$r/var/cache/apt/host-archives"
    [ -z "$npm" ] || rmdir "$r/root/.npm"
    [ -z "$ca" ] || rm -f "$r/run/build-ca.crt"
}

# measure ROOTFS OUT.json: the final filesystem of an image: bytes of its regular files
# (hardlinks once), files, dpkg packages installed, Python RECORD files, npm packages
measure() {
    python3 - "$@" <<'PY'
import json, os, sys
root, out = sys.argv[1:]
seen, size, files, records, npm = set(), 0, 0, 0, 0
for d, dirs, names in os.walk(root):
    for n in names:
        st = os.lstat(os.path.join(d, n))
        if not os.path.stat.S_ISREG(st.st_mode):
            continue
        files += 1
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            size += st.st_size
        if n == "RECORD" and d.endswith(".dist-info"):
            records += 1
        parent = os.path.dirname(d)
        if n == "package.json" and (os.path.basename(parent) == "node_modules" or (
                os.path.basename(parent).startswith("@")
                and os.path.basename(os.path.dirname(parent)) == "node_modules")):
            npm += 1
status = open(os.path.join(root, "var/lib/dpkg/status"), encoding="utf-8").read()
dpkg = sum(1 for p in status.split("\n\n") if "\nStatus: install ok installed" in "\n" + p)
host_keys = sorted("/etc/ssh/" + n for n in os.listdir(os.path.join(root, "etc/ssh"))
                   if n.startswith("ssh_host_") and n.endswith("_key")) \
    if os.path.isdir(os.path.join(root, "etc/ssh")) else []
json.dump({"fs_bytes": size, "files": files, "dpkg_packages": dpkg, "python_records": records,
           "npm_packages": npm, "host_keys": host_keys}, open(out, "w"))
PY
}

# ---- the base: debootstrap minbase, made as the official Debian image is ---------------------
build_minbase() {
    local rootfs=$W/minbase
    remove_rootfs "$rootfs"
    rm -rf "$L" "$W/minbase.tar"
    mkdir -p "$rootfs"
    log "debootstrap --variant=minbase $SUITE from $MIRROR_URL (log: $W/debootstrap.log)"
    if ! debootstrap --variant=minbase --cache-dir="$DEBS" "$SUITE" "$rootfs" "$MIRROR_URL" \
            >"$W/debootstrap.log" 2>&1; then
        tail -n 20 "$W/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    # What debuerreotype does for the official image (minus its timestamps): no services start
    # in a build, apt keeps no packages and no translations, lists stay compressed.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' \
        >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
    rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/*_* "$rootfs/var/log/bootstrap.log"
    rm -rf "${rootfs:?}"/dev/* "${rootfs:?}"/tmp/* "${rootfs:?}"/run/*
    : >"$rootfs/etc/resolv.conf"
    : >"$rootfs/etc/hostname"
    (cd "$rootfs" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort) >"$W/minbase.list"
    tar -C "$rootfs" --numeric-owner --sort=name --xattrs -cf "$W/minbase.tar" -T "$W/minbase.list"
    measure "$rootfs" "$K/minbase.json"
    remove_rootfs "$rootfs"
    umoci init --layout "$L"
    umoci new --image "$L:minbase"
    umoci config --image "$L:minbase" --author clean_images.sh --no-history \
        --config.env "PATH=$PATH_ENV" --config.cmd bash
    umoci raw add-layer --image "$L:minbase" \
        --history.created_by "debootstrap --variant=minbase $SUITE (as the official Debian image)" \
        "$W/minbase.tar"
    rm -f "$W/minbase.tar" "$W/minbase.list"
}

# ---- derived images: unpack the base, one repack per build step -------------------------------
# start TAG: a bundle of the base to build TAG in ($B)
start() {
    B=$W/bundle-$1
    TAG=$1
    remove_rootfs "$B"
    umoci unpack --image "$L:minbase" "$B" >/dev/null
}

# commit CREATED_BY: the bundle's changes as TAG's next layer
commit() {
    umoci repack --refresh-bundle --history.created_by "$1" --image "$L:$TAG" "$B"
}

# run_step COMMAND [npm]: a RUN step
run_step() {
    run_chroot "$B/rootfs" "$1" "${2:-}"
    commit "RUN /bin/sh -c $1 # buildkit"
}

apt_step() {
    run_step "apt-get update && apt-get install -y --no-install-recommends $* && rm -rf /var/lib/apt/lists/*"
}

# finish: measure TAG's final filesystem, drop the bundle
finish() {
    measure "$B/rootfs" "$K/$TAG.json"
    remove_rootfs "$B"
}

build_web() {
    start web
    apt_step "${PKG_WEB[@]}"
    local k
    for k in rsa ecdsa ed25519; do
        [ -s "$B/rootfs/etc/ssh/ssh_host_${k}_key" ] || die "web: no /etc/ssh/ssh_host_${k}_key"
    done
    finish
}

build_python() {
    start python
    apt_step "${PKG_PYTHON[@]}"
    # A tiny package of the user's own, built into a wheel and installed with pip, offline:
    # pip writes its RECORD (path, sha256, size of every file installed).
    local src=$B/rootfs/src/acme-utils
    mkdir -p "$src/acme_utils/data"
    cat >"$src/pyproject.toml" <<'EOF'
[build-system]
requires = ["setuptools", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-utils"
version = "1.4.2"
description = "Acme's shared helpers"

[tool.setuptools]
packages = ["acme_utils"]

[tool.setuptools.package-data]
acme_utils = ["data/*.json"]
EOF
    cat >"$src/acme_utils/__init__.py" <<'EOF'
"""Acme's shared helpers."""
from .config import load

__all__ = ["load"]
__version__ = "1.4.2"
EOF
    cat >"$src/acme_utils/config.py" <<'EOF'
"""Settings with defaults, overridden by ACME_* environment variables."""
import json
import os
from importlib import resources

DEFAULTS = "defaults.json"


def load():
    with resources.files(__package__).joinpath("data", DEFAULTS).open() as f:
        settings = json.load(f)
    for key in settings:
        value = os.environ.get("ACME_" + key.upper())
        if value is not None:
            settings[key] = value
    return settings
EOF
    cat >"$src/acme_utils/data/defaults.json" <<'EOF'
{"timeout": 30, "retries": 3, "region": "eu-west-1", "log_level": "info"}
EOF
    commit "COPY acme-utils /src/acme-utils # buildkit"
    run_step "cd /src/acme-utils && pip wheel --no-deps --no-build-isolation --no-index --no-cache-dir -w /tmp/wheels . && pip install --break-system-packages --no-deps --no-index --no-cache-dir /tmp/wheels/acme_utils-1.4.2-py3-none-any.whl && rm -rf /tmp/wheels"
    local rec=$B/rootfs/usr/local/lib/python3.11/dist-packages/acme_utils-1.4.2.dist-info/RECORD
    [ -s "$rec" ] || die "python: no $rec"
    grep -q '^acme_utils/config.py,sha256=' "$rec" || die "python: acme_utils/config.py not in $rec"
    finish
}

build_ruby() { start ruby; apt_step "${PKG_RUBY[@]}"; finish; }
build_go() { start go; apt_step "${PKG_GO[@]}"; finish; }
build_java() { start java; apt_step "${PKG_JAVA[@]}"; finish; }

build_node() {
    start node
    apt_step "${PKG_NODE[@]}"
    mkdir -p "$B/rootfs/app"
    python3 - "$B/rootfs/app/package.json" "${NPM_PACKAGES[@]}" <<'PY'
import json, sys
deps = {}
for spec in sys.argv[2:]:
    name, _, version = spec.rpartition("@")
    deps[name] = version
json.dump({"name": "acme-web", "version": "1.0.0", "private": True, "dependencies": deps},
          open(sys.argv[1], "w"), indent=2)
PY
    commit "COPY package.json /app/ # buildkit"
    # --ignore-scripts: install scripts would fetch binaries from hosts other than the registry
    run_step "cd /app && npm install --no-audit --no-fund --no-update-notifier --ignore-scripts" npm
    [ -d "$B/rootfs/app/node_modules/express" ] || die "node: no /app/node_modules/express"
    finish
    umoci config --image "$L:node" --no-history --config.workingdir /app \
        --config.env NODE_ENV=production
}

# images.json: the measurements and each image's layers, from the layout
describe() {
    python3 - "$L" "$K" "${IMAGES[@]}" <<'PY'
import json, os, sys
layout, k, names = sys.argv[1], sys.argv[2], sys.argv[3:]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
index = json.load(open(os.path.join(layout, "index.json")))
refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
out = {}
for name in names:
    manifest = json.load(open(blob(refs[name]["digest"])))
    config = json.load(open(blob(manifest["config"]["digest"])))
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    r = json.load(open(os.path.join(k, name + ".json")))
    r.update({"ref": name, "layers": len(manifest["layers"]),
              "layer_digests": [l["digest"] for l in manifest["layers"]],
              "compressed_bytes": sum(l["size"] for l in manifest["layers"]),
              "created_by": [h.get("created_by", "") for h in history]})
    out[name] = r
json.dump(out, open(os.path.join(k, "images.json.tmp"), "w"), indent=1)
os.rename(os.path.join(k, "images.json.tmp"), os.path.join(k, "images.json"))
for name, r in out.items():
    print(f"  {name:<8} {r['layers']} layers, {r['fs_bytes'] / 1e6:7.1f} MB filesystem, "
          f"{r['compressed_bytes'] / 1e6:6.1f} MB compressed, {r['dpkg_packages']} dpkg packages",
          file=sys.stderr)
PY
}

mkdir -p "$W"
changed=0
if [ ! -e "$K/minbase.done" ]; then
    rm -f "$K"/*.done
    step minbase build_minbase
    touch "$K/minbase.done"
    changed=1
fi
for img in "${IMAGES[@]:1}"; do
    if [ ! -e "$K/$img.done" ]; then
        umoci rm --image "$L:$img" 2>/dev/null || true
        step "$img" "build_$img"
        touch "$K/$img.done"
        changed=1
    fi
done
if [ "$changed" = 1 ]; then
    umoci gc --layout "$L"
    rm -rf "$W"
fi
if [ "$changed" = 1 ] || [ ! -e "$K/images.json" ]; then
    describe
fi
touch "$K/.used"

# Key directories of other inputs (an older script, another mirror) not used for 3 days
for old in "$CACHE_ROOT"/????????????????; do
    if [ ! -d "$old" ] || [ "$old" = "$K" ]; then continue; fi
    [ -n "$(find "$old/.used" -newermt '-3 days' 2>/dev/null)" ] && continue
    log "removing $old (not used for 3 days)"
    remove_rootfs "$old"
done

ln -sfn "$L" "$OUT/oci"
cp "$K/images.json" "$OUT/images.json"
cp "$K/build-times.txt" "$OUT/build-times.txt" 2>/dev/null || true
echo "$K" >"$OUT/cache-dir.txt"
log "images ready in $OUT (cache $K)"
