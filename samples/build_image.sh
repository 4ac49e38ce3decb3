#!/usr/bin/env bash
# Builds the leaky sample app into a real container image, offline, and saves it as a
# docker-archive: OUT_DIR/leaky-app.tar (image leaky-app:demo).
#
#   samples/build_image.sh OUT_DIR [SEED]
#
# 1. samples/generate.py renders the app into OUT_DIR/app with fresh synthetic secrets.
# 2. A busybox base image (leaky-base) is made from /usr/bin/busybox and its applet links
#    (buildah from scratch + copy + commit): no registry is needed.
# 3. buildah bud builds samples/leaky-app/Dockerfile on it (--layers, chroot isolation) with
#    --build-arg NPM_TOKEN taken from the app's .npmrc, the way a careless CI job would.
# 4. skopeo copies the result to docker-archive:OUT_DIR/leaky-app.tar:leaky-app:demo.
#
# Everything buildah stores goes to OUT_DIR/store (vfs driver), never to the system store, and is
# removed at the end. Quiet on success; on failure it names the step and shows the end of
# OUT_DIR/build.log. Needs root (buildah's chroot isolation), python3, ssh-keygen, buildah, skopeo
# and busybox-static (Debian: python3 openssh-client buildah skopeo busybox-static).
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then die "usage: $prog OUT_DIR [SEED]"; fi
seed=${2-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || die "needs root (buildah with --isolation chroot, chroot for the base)"

missing=
for tool in python3 ssh-keygen buildah skopeo; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
busybox=/bin/busybox
[ -x "$busybox" ] || busybox=/usr/bin/busybox
if [ ! -x "$busybox" ] || ! "$busybox" --list-full >/dev/null 2>&1; then
    missing="$missing busybox"
fi
[ -z "$missing" ] || die "missing:$missing (Debian packages: python3 openssh-client buildah skopeo busybox-static)"
# The base must run with no shared libraries in it: only a static busybox will do.
if command -v ldd >/dev/null 2>&1 && ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked: install busybox-static"
fi

mkdir -p "$1"
out=$(cd "$1" && pwd)
app=$out/app
store=$out/store
base=$out/base-rootfs
tar=$out/leaky-app.tar
log=$out/build.log
: >"$log"

# Runs a step with its output in the log; on failure, says which step and shows the log's end.
step=
run() {
    echo "+ $(date +%T.%N | cut -c1-12) $step" >>"$log"
    if ! "$@" >>"$log" 2>&1; then
        echo "$prog: failed: $step (log: $log)" >&2
        tail -n 15 "$log" | sed 's/^/    /' >&2
        exit 1
    fi
}

# Leftovers of an earlier run. --one-file-system: never descend into a mount a killed RUN step
# may have left behind (its /proc, /sys, /dev).
clean() {
    rm -rf --one-file-system "$store" "$base" 2>>"$log" \
        || die "cannot remove $store or $base (a mount left by an interrupted build? see: grep $store /proc/self/mountinfo)"
}
clean
rm -f "$tar"

step="render the app (generate.py)"
run python3 "$here/generate.py" "$app" ${seed:+"$seed"}

B=(buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs)

step="make the busybox root file system"
make_rootfs() {
    mkdir -p "$base"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/www}
    chmod 1777 "$base/tmp"
    chmod 0700 "$base/root"
    cp "$busybox" "$base/bin/busybox"
    # every applet as a symlink to /bin/busybox, at its usual path (bin/sh, usr/bin/awk, ...)
    chroot "$base" /bin/busybox --install -s
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        >"$base/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$base/etc/group"
    printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$base/etc/shadow"
    chmod 0640 "$base/etc/shadow"
}
run make_rootfs

step="commit the base image leaky-base"
make_base() {
    local ctr version
    version=$("$busybox" 2>/dev/null | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')
    ctr=$("${B[@]}" from --quiet --name leaky-base-work scratch)
    "${B[@]}" copy --quiet "$ctr" "$base/" / >/dev/null
    "${B[@]}" config --created-by "COPY busybox-static rootfs (busybox ${version:-?}) /" \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --cmd /bin/sh "$ctr"
    "${B[@]}" commit --quiet --format docker --rm "$ctr" leaky-base
}
run make_base

npm_token=$(sed -n 's|^//registry.npmjs.org/:_authToken=||p' "$app/.npmrc")
[ -n "$npm_token" ] || die "no //registry.npmjs.org/:_authToken= line in $app/.npmrc"

step="buildah bud leaky-app:demo"
run "${B[@]}" bud --quiet --layers --isolation chroot --pull=never --format docker \
    --build-arg "NPM_TOKEN=$npm_token" -f "$app/Dockerfile" -t leaky-app:demo "$app"

step="skopeo copy to docker-archive:$tar"
run skopeo copy --quiet \
    "containers-storage:[vfs@$store/root+$store/run]localhost/leaky-app:demo" \
    "docker-archive:$tar:leaky-app:demo"

step="remove the build store"
clean
echo "+ $(date +%T.%N | cut -c1-12) done" >>"$log"
