#!/bin/bash
# bench_images.sh OUT_DIR: build the container images that `make bench` scans, into OUT_DIR
# (cached: what is already there is not built again; delete a file to rebuild it).
#
#   debian.tar        Debian bookworm (debootstrap minbase + python3, perl, gcc, git, ...),
#                     4 gzip layers split by directory, about 585 MB uncompressed: a
#                     docker-archive as Docker 25+ saves it (OCI blobs/ + index.json inside,
#                     manifest.json listed last)
#   debian-oci/       the same image as an OCI layout directory (gzip layers)
#   debian-zstd/      the same image with zstd layers (OCI layout, skopeo --dest-compress-format)
#   debian-zstd.tar   that one as a docker-archive (same packing as debian.tar)
#   debian-raw.tar    skopeo's docker-archive of it: uncompressed <sha>.tar layers with
#                     <id>/layer.tar symlinks
#   node.tar          debian.tar plus a layer /app with `npm install` of popular packages
#                     (about 300 MB of node_modules): the false-positive corpus, in which every
#                     finding is a false positive or a test key shipped by a package
#   images.json       per image and layer: compression, compressed and uncompressed bytes
#   build-times.txt   seconds per build step (last build of each)
#
# Needs root (debootstrap), network access to a Debian mirror and to the npm registry, and
# debootstrap umoci skopeo zstd python3 npm (Debian packages: debootstrap umoci skopeo zstd
# python3 npm). The Debian mirror is read from this machine's apt sources (override: MIRROR=URL).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
W=$OUT/work
SUITE=bookworm
DEB_INCLUDE=python3,perl,curl,ca-certificates,git,openssh-client,gcc,g++,make,libc6-dev,vim,less,procps
# Top-level versions pinned so the corpus stays the same from run to run (their dependencies
# still resolve at install time; work/node-packages.txt lists the tree that was installed).
NPM_PACKAGES=(express@5.3.0 webpack@5.113.0 webpack-cli@7.3.1 typescript@5.9.3 aws-sdk@2.1693.0
    lodash@4.18.1 react@19.3.1 react-dom@19.3.1 axios@1.21.1 moment@2.31.0 @babel/core@7.29.13
    eslint@10.15.0 jest@30.5.2 rxjs@7.8.2 vue@3.5.45 jquery@4.0.0 bootstrap@5.3.9
    mongoose@9.12.1 pg@8.23.1 jsonwebtoken@9.0.3 dotenv@18.0.10 stripe@23.1.0)

# debian_mirror, remove_rootfs
# shellcheck source=debian.sh
. "$(dirname "$0")/debian.sh"

log() { echo "bench_images: $*" >&2; }
die() { log "$*"; exit 1; }

need_tools() {
    local t missing=()
    for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (apt-get install -y ${missing[*]})"
}

# step NAME COMMAND...: run a build step, record its wall time in build-times.txt
step() {
    local name=$1 t0 t1; shift
    log "building $name"
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    local secs
    secs=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1")
    touch "$OUT/build-times.txt"
    { grep -v "^$name " "$OUT/build-times.txt" || true; echo "$name $secs"; } >"$OUT/build-times.tmp"
    mv "$OUT/build-times.tmp" "$OUT/build-times.txt"
    log "$name: ${secs} s"
}

# ---- the Debian rootfs, split into 4 layer tars, added to the work OCI layout ----------------
build_debian_layout() {
    local mirror rootfs=$W/rootfs L=$W/layers
    mirror=$(debian_mirror)
    [ "$(id -u)" = 0 ] || die "debootstrap needs root"
    remove_rootfs "$rootfs"
    rm -rf "$L" "$W/oci"
    mkdir -p "$rootfs" "$L" "$W/debs"
    log "debootstrap --variant=minbase $SUITE from $mirror (log: $W/debootstrap.log)"
    if ! debootstrap --variant=minbase --cache-dir="$W/debs" --include="$DEB_INCLUDE" \
            "$SUITE" "$rootfs" "$mirror" >"$W/debootstrap.log" 2>&1; then
        tail -n 20 "$W/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_* # as images do
    local tar=(tar -C "$rootfs" --numeric-owner --sort=name)
    (cd "$rootfs" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | sort) >"$L/top.list"
    (cd "$rootfs" && find usr -mindepth 1 -maxdepth 1 ! -name lib ! -name share | sort) >"$L/rest.list"
    "${tar[@]}" --anchored --exclude='usr/*' -cf "$L/1-base.tar" -T "$L/top.list"
    "${tar[@]}" -cf "$L/2-usr-lib.tar" usr/lib
    "${tar[@]}" -cf "$L/3-usr-share.tar" usr/share
    "${tar[@]}" -cf "$L/4-usr-rest.tar" -T "$L/rest.list"
    remove_rootfs "$rootfs"
    umoci init --layout "$W/oci"
    umoci new --image "$W/oci:bookworm"
    umoci config --image "$W/oci:bookworm" --author rummage-bench --no-history \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --config.env LANG=C.UTF-8 --config.cmd /bin/bash --config.workingdir /
    local l
    for l in 1-base:"debootstrap --variant=minbase $SUITE: all but /usr/*" \
             2-usr-lib:"debootstrap: /usr/lib" 3-usr-share:"debootstrap: /usr/share" \
             4-usr-rest:"debootstrap: /usr (bin, sbin, include, ...)"; do
        umoci raw add-layer --image "$W/oci:bookworm" --history.created_by "${l#*:}" "$L/${l%%:*}.tar"
    done
    umoci gc --layout "$W/oci"
    rm -rf "$L"
    touch "$W/debian.done"
}

# ---- npm install of popular packages, added as one layer on top of the Debian image ----------
build_node_layout() {
    local app=$W/appdir/app
    rm -rf "$W/appdir"
    mkdir -p "$app"
    echo '{"name": "bench-app", "version": "1.0.0", "private": true}' >"$app/package.json"
    log "npm install ${#NPM_PACKAGES[@]} packages (log: $W/npm.log)"
    if ! (cd "$app" && npm install --no-audit --no-fund --ignore-scripts --no-update-notifier \
            --cache "$W/npm-cache" "${NPM_PACKAGES[@]}") >"$W/npm.log" 2>&1; then
        tail -n 20 "$W/npm.log" >&2
        die "npm install failed"
    fi
    (cd "$app" && npm ls --all --no-update-notifier 2>/dev/null) >"$W/node-packages.txt" || true
    # POSIX format for this layer, with pax headers only where needed (as Go's archive/tar
    # writes them): node_modules has paths longer than 100 bytes
    tar -C "$W/appdir" --numeric-owner --owner=0 --group=0 --sort=name --format=posix \
        --pax-option=delete=atime,delete=ctime,delete=mtime -cf "$W/app-layer.tar" app
    rm -f "$W/node.done"
    umoci rm --image "$W/oci:node" 2>/dev/null || true
    umoci tag --image "$W/oci:bookworm" node
    umoci config --image "$W/oci:node" --no-history --config.workingdir /app \
        --config.env NODE_ENV=production
    umoci raw add-layer --image "$W/oci:node" \
        --history.created_by "npm install ${NPM_PACKAGES[*]}" "$W/app-layer.tar"
    umoci gc --layout "$W/oci"
    rm -rf "$W/appdir" "$W/app-layer.tar"
    touch "$W/node.done"
}

# pack_archive LAYOUT TAG OUT.tar NAME:TAG: a docker-archive as Docker 25+ writes it (the OCI
# layout's blobs, oci-layout, index.json, repositories, and manifest.json last), written
# under a temporary name and renamed.
pack_archive() {
    python3 - "$@" <<'PY'
import io, json, os, sys, tarfile
layout, tag, out, name = sys.argv[1:]
index = json.load(open(os.path.join(layout, "index.json")))
desc = [m for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
if not desc:
    sys.exit(f"{layout}: no tag {tag}")
desc = desc[0]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
manifest = json.load(open(blob(desc["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
member = lambda d: "blobs/" + d.replace(":", "/", 1)
repo, _, rtag = name.rpartition(":")
tmp = out + ".tmp"
with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tf:
    def add_bytes(path, data):
        ti = tarfile.TarInfo(path); ti.size = len(data); ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
    def add_dir(path):
        ti = tarfile.TarInfo(path); ti.type = tarfile.DIRTYPE; ti.mode = 0o755
        tf.addfile(ti)
    for d in ("blobs", "blobs/sha256"):
        add_dir(d)
    for d in [desc["digest"], manifest["config"]["digest"]] + [l["digest"] for l in manifest["layers"]]:
        path = blob(d)
        ti = tarfile.TarInfo(member(d)); ti.size = os.path.getsize(path); ti.mode = 0o644
        with open(path, "rb") as f:
            tf.addfile(ti, f)
    add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    desc = dict(desc, annotations={"io.containerd.image.name": name,
                                   "org.opencontainers.image.ref.name": rtag})
    add_bytes("index.json", json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [desc]}).encode())
    top = config["rootfs"]["diff_ids"][-1].split(":", 1)[1]
    add_bytes("repositories", json.dumps({repo: {rtag: top}}).encode())
    add_bytes("manifest.json", json.dumps([{"Config": member(manifest["config"]["digest"]),
        "RepoTags": [name], "Layers": [member(l["digest"]) for l in manifest["layers"]]}]).encode())
os.rename(tmp, out)
PY
}

# copy_layout SRC DST TAG [skopeo options]: skopeo copy between OCI layouts, via a temporary name
copy_layout() {
    local src=$1 dst=$2 tag=$3; shift 3
    rm -rf "$dst.tmp"
    skopeo copy -q "$@" "oci:$src:$tag" "oci:$dst.tmp:$tag"
    mv "$dst.tmp" "$dst"
}

raw_archive() {
    rm -f "$OUT/debian-raw.tar.tmp"
    skopeo copy -q "oci:$W/oci:bookworm" "docker-archive:$OUT/debian-raw.tar.tmp:rummage-bench/debian:bookworm"
    mv "$OUT/debian-raw.tar.tmp" "$OUT/debian-raw.tar"
}

# images.json: every docker-archive's layers in order, with compression (sniffed from the
# magic bytes), compressed and uncompressed sizes.
describe_images() {
    python3 - "$OUT" <<'PY'
import json, os, subprocess, sys, tarfile, zlib
out = sys.argv[1]
result = {}
for name in sorted(os.listdir(out)):
    if not name.endswith(".tar"):
        continue
    path = os.path.join(out, name)
    with tarfile.open(path) as tf:
        members = {m.name: m for m in tf.getmembers()}
        manifest = json.load(tf.extractfile("manifest.json"))[0]
        layers = []
        for lname in manifest["Layers"]:
            m = members[lname]
            while m.issym():  # skopeo's <id>/layer.tar -> ../<sha>.tar
                m = members[os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname))]
            f = tf.extractfile(m)
            head = f.read(512)
            f.seek(0)
            if head[:2] == b"\x1f\x8b":
                kind, d, n = "gzip", zlib.decompressobj(31), 0
                while chunk := f.read(1 << 20):
                    n += len(d.decompress(chunk))
                    while d.eof and d.unused_data:  # more gzip members
                        rest = d.unused_data
                        d = zlib.decompressobj(31)
                        n += len(d.decompress(rest))
            elif head[:4] == b"\x28\xb5\x2f\xfd":
                kind = "zstd"
                p = subprocess.Popen(["zstd", "-dc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                import threading
                def feed():
                    while chunk := f.read(1 << 20):
                        p.stdin.write(chunk)
                    p.stdin.close()
                t = threading.Thread(target=feed); t.start()
                n = 0
                while chunk := p.stdout.read(1 << 20):
                    n += len(chunk)
                t.join(); p.wait()
            else:
                kind, n = ("tar" if head[257:262] == b"ustar" else "unknown"), m.size
            layers.append({"member": lname, "compression": kind, "compressed": m.size, "uncompressed": n})
    result[name] = {"file_bytes": os.path.getsize(path), "layers": layers,
                    "compressed": sum(l["compressed"] for l in layers),
                    "uncompressed": sum(l["uncompressed"] for l in layers)}
json.dump(result, open(os.path.join(out, "images.json.tmp"), "w"), indent=1)
os.rename(os.path.join(out, "images.json.tmp"), os.path.join(out, "images.json"))
for name, r in result.items():
    print(f"  {name:<17} {len(r['layers'])} layers ({', '.join(sorted({l['compression'] for l in r['layers']}))}): "
          f"{r['compressed'] / 1e6:7.1f} MB compressed, {r['uncompressed'] / 1e6:7.1f} MB uncompressed",
          file=sys.stderr)
PY
}

need_tools python3 umoci skopeo zstd
mkdir -p "$W"
changed=0
# build_if_missing PATH STEP COMMAND...: run the step unless PATH exists
build_if_missing() {
    local path=$1; shift
    if [ ! -e "$path" ]; then
        step "$@"
        changed=1
    fi
}
if [ ! -e "$W/debian.done" ]; then
    need_tools debootstrap
    rm -rf "$W/node.done" "$OUT"/debian*.tar "$OUT/node.tar" "$OUT/debian-oci" "$OUT/debian-zstd"
    step debian-rootfs-and-layers build_debian_layout
fi
build_if_missing "$OUT/debian.tar" debian.tar \
    pack_archive "$W/oci" bookworm "$OUT/debian.tar" rummage-bench/debian:bookworm
build_if_missing "$OUT/debian-oci/index.json" debian-oci copy_layout "$W/oci" "$OUT/debian-oci" bookworm
build_if_missing "$OUT/debian-zstd/index.json" debian-zstd \
    copy_layout "$W/oci" "$OUT/debian-zstd" bookworm --dest-compress-format zstd
build_if_missing "$OUT/debian-zstd.tar" debian-zstd.tar \
    pack_archive "$OUT/debian-zstd" bookworm "$OUT/debian-zstd.tar" rummage-bench/debian:bookworm-zstd
build_if_missing "$OUT/debian-raw.tar" debian-raw.tar raw_archive
if [ ! -e "$W/node.done" ]; then
    need_tools npm
    rm -f "$OUT/node.tar"
    step node-npm-install-and-layer build_node_layout
fi
build_if_missing "$OUT/node.tar" node.tar pack_archive "$W/oci" node "$OUT/node.tar" rummage-bench/node:bookworm
if [ "$changed" = 1 ] || [ ! -e "$OUT/images.json" ]; then
    log "measuring layer sizes into images.json"
    describe_images
fi
log "images ready in $OUT"
