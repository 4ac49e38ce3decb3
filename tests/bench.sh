#!/bin/bash
# make bench: rummage's throughput on a generated text corpus, next to baselines measured in
# the same run (cat to /dev/null, grep -c of one literal), with peak RSS.
# Usage: BUILD=build tests/bench.sh [SIZE_MB]   (default 256)
# Environment: BENCH_IMAGES=0 skips the container images, BENCH_IMAGES_DIR=DIR builds and reads
# them in DIR; BENCH_BIG=0 skips the big inputs (tests/bench/big.sh: BENCH_BIG_FILE_MB,
# BENCH_BIG_IMAGE_GB, BENCH_BIG_IMAGE_JOBS); BENCH_ROUNDS=N runs the --jobs scaling and the big
# inputs N times and prints medians.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUMMAGE=$PWD/$BUILD/rummage
SIZE_MB=${1:-256}
dir=$BUILD/bench
mkdir -p "$dir"
corpus=$dir/corpus.txt
tree=$dir/tree

# The corpus: real text from this machine (C headers, Python and shell sources, docs,
# configs), repeated up to SIZE_MB, plus the tree of the same files for the threaded case.
if [ ! -s "$corpus" ] || [ "$(( $(stat -c %s "$corpus") / 1048576 ))" -lt "$SIZE_MB" ]; then
    echo "generating a ${SIZE_MB} MB corpus in $corpus"
    list=$dir/files.txt
    { find /usr/include -type f -name '*.h' 2>/dev/null | head -4000
      find /usr/lib/python3* -type f -name '*.py' 2>/dev/null | head -3000
      find /usr/share/doc -type f \( -name '*.md' -o -name 'README*' -o -name 'copyright' \) 2>/dev/null | head -2000
      find /etc -maxdepth 2 -type f -name '*.conf' -readable 2>/dev/null | head -300
    } | sort >"$list"
    : >"$corpus"
    while [ "$(stat -c %s "$corpus")" -lt $((SIZE_MB * 1048576)) ]; do
        xargs -a "$list" -d '\n' cat -- 2>/dev/null >>"$corpus" || true
    done
    truncate -s $((SIZE_MB * 1048576)) "$corpus"
    rm -rf "$tree"; mkdir -p "$tree"
    split -b 4M -d -a 4 "$corpus" "$tree/part-"
fi
bytes=$(stat -c %s "$corpus")

measure() { # label, command...: prints wall, user+sys and peak RSS
    local label=$1; shift
    local t0 t1 out
    out=$(mktemp)
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$out" "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    read -r u s rss < <(tail -n 1 "$out") # time puts "Command exited with non-zero status" first
    rm -f "$out"
    python3 - "$label" "$t0" "$t1" "$u" "$s" "$rss" "$bytes" <<'PY'
import sys
label, t0, t1, u, s, rss, n = sys.argv[1:]
wall = float(t1) - float(t0)
print(f"{label:<34} {wall:7.2f} s wall {float(u)+float(s):7.2f} s cpu "
      f"{int(n)/wall/1e6:9.1f} MB/s  peak RSS {int(rss)/1024:7.1f} MiB")
PY
}

echo "corpus: $((bytes / 1048576)) MiB, $(nproc) cores, $("$RUMMAGE" --version)"
cat "$corpus" >/dev/null # warm the page cache
measure "cat > /dev/null" cat "$corpus"
# grep's count goes to a file: with its output on /dev/null, GNU grep stops at the first match
# (it takes that for -q), which timed nothing.
# shellcheck disable=SC2016 # $1, $2 are the inner shell's
measure "grep -c password" sh -c 'grep -c password "$1" >"$2"' sh "$corpus" "$dir/grep-count.txt"
measure "rummage -j1 (vectorscan)" "$RUMMAGE" scan -q -j1 --format json -o /dev/null "$corpus"
measure "rummage -j1 --engine pcre2" "$RUMMAGE" scan -q -j1 --engine pcre2 --format json -o /dev/null "$corpus"
measure "rummage -j$(nproc) tree (vectorscan)" "$RUMMAGE" scan -q --format json -o /dev/null "$tree"

# ---- Big inputs (tests/bench/big.sh) ----------------------------------------------------------
# A 2 GiB text file and a 10 GB docker-save stream generated on the fly: peak RSS must stay what
# it is on the images below. Run last, whatever the image part did; BENCH_BIG=0 skips it (sizes:
# BENCH_BIG_FILE_MB, BENCH_BIG_IMAGE_GB; BENCH_ROUNDS=N repeats each case and prints medians).
big_inputs() {
    [ "${BENCH_BIG:-1}" = 0 ] && return 0
    echo
    BUILD=$BUILD tests/bench/big.sh "$corpus" ||
        echo "big-input benchmark failed (see above)"
}

# ---- Container images -------------------------------------------------------------------------
# tests/images/bench_images.sh builds them once (about 3 minutes, needs root and network) into
# $BUILD/bench/images: debian.tar (Debian bookworm, 4 gzip layers, about 585 MB uncompressed),
# the same image with zstd layers, as an OCI layout and with uncompressed layers, and node.tar
# (the same plus an npm install layer: the false-positive corpus). In the same run: the
# decompression baselines (gzip/pigz/zstd -dc of the layers), rummage on each form of the image,
# and findings per GB on node.tar. BENCH_IMAGES=0 skips this part; BENCH_IMAGES_DIR=DIR builds
# and reads the images in DIR.
if [ "${BENCH_IMAGES:-1}" = 0 ]; then
    big_inputs
    exit 0
fi
imgdir=${BENCH_IMAGES_DIR:-$dir/images}
echo
echo "container images ($imgdir)"
if ! tests/images/bench_images.sh "$imgdir"; then
    echo "image benchmark skipped: tests/images/bench_images.sh could not build the images (see above)"
    big_inputs
    exit 0
fi
imgdir=$(cd "$imgdir" && pwd)
# This run's files (layer blobs, reports, cache) go under $BUILD, not into the image directory:
# two builds can share one BENCH_IMAGES_DIR.
run=$PWD/$dir/images-run
rm -rf "$run"
mkdir -p "$run/gz" "$run/zstd" "$run/reports"
rows=$run/rows.tsv
: >"$rows"

# The layer blobs of a docker-archive, in manifest order, as DIR/01, DIR/02, ... (untimed).
extract_layers() { # ARCHIVE DIR
    python3 - "$1" "$2" <<'PY'
import json, os, shutil, sys, tarfile
archive, out = sys.argv[1:]
with tarfile.open(archive) as tf:
    members = {m.name: m for m in tf.getmembers()}
    for i, name in enumerate(json.load(tf.extractfile("manifest.json"))[0]["Layers"], 1):
        m = members[name]
        while m.issym():
            m = members[os.path.normpath(os.path.join(os.path.dirname(m.name), m.linkname))]
        with tf.extractfile(m) as src, open(os.path.join(out, f"{i:02d}"), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
}
extract_layers "$imgdir/debian.tar" "$run/gz"
extract_layers "$imgdir/debian-zstd.tar" "$run/zstd"

imeasure() { # KEY IMAGE LABEL COMMAND...: time COMMAND (stdout to /dev/null), record a row
    local key=$1 image=$2 label=$3 rc=0 t0 t1; shift 3
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$run/$key.time" "$@" >/dev/null 2>"$run/$key.err" || rc=$?
    t1=$(date +%s.%N)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$image" "$label" "$t0" "$t1" \
        "$(tail -n 1 "$run/$key.time")" "$rc" >>"$rows"
}
scan() { # KEY IMAGE LABEL RUMMAGE-ARGS...: rummage scan with a JSON report in $run/reports
    # (--no-cache unless the args name a --cache-dir: every case scans the layers itself)
    local key=$1 image=$2 label=$3 cache=--no-cache; shift 3
    case " $* " in *" --cache-dir "*) cache= ;; esac
    imeasure "$key" "$image" "$label" "$RUMMAGE" scan -q $cache -f json -o "$run/reports/$key.json" "$@"
}

cat "$imgdir"/*.tar "$run"/gz/* "$run"/zstd/* "$imgdir"/debian-oci/blobs/sha256/* >/dev/null
imeasure gzip debian.tar "gzip -dc, the gzip layers" gzip -dc "$run"/gz/*
if command -v pigz >/dev/null; then
    imeasure pigz debian.tar "pigz -dc, the gzip layers" pigz -dc "$run"/gz/*
fi
if command -v zstd >/dev/null; then
    imeasure zstd debian-zstd.tar "zstd -dc, the zstd layers" zstd -q -dc "$run"/zstd/*
fi
scan j1 debian.tar "rummage -j1 docker-archive (gzip)" -j1 "docker-archive:$imgdir/debian.tar"
scan j2 debian.tar "rummage -j2 docker-archive (gzip)" -j2 "docker-archive:$imgdir/debian.tar"
if [ "$(nproc)" -gt 2 ]; then
    scan jn debian.tar "rummage -j$(nproc) docker-archive (gzip)" "-j$(nproc)" "docker-archive:$imgdir/debian.tar"
fi
# shellcheck disable=SC2016 # $0, $1, $2 are the inner shell's
imeasure stdin debian.tar "rummage -j2 - < debian.tar" \
    sh -c 'exec "$0" scan -q --no-cache -f json -o "$1" -j2 - <"$2"' "$RUMMAGE" "$run/reports/stdin.json" "$imgdir/debian.tar"
scan oci debian.tar "rummage -j2 oci: layout (gzip)" -j2 "oci:$imgdir/debian-oci"
scan zstd-scan debian-zstd.tar "rummage -j2 docker-archive (zstd)" -j2 "docker-archive:$imgdir/debian-zstd.tar"
scan raw debian-raw.tar "rummage -j2 docker-archive (plain tar)" -j2 "docker-archive:$imgdir/debian-raw.tar"
scan node node.tar "rummage -j2 node.tar (FP corpus)" -j2 "docker-archive:$imgdir/node.tar"

# Scaling with --jobs: both images (gzip layers, --no-cache) at -j1, -j2 and -j4 (more jobs than
# this machine's 2 cores shows what oversubscription costs), as images per minute and speedup
# over -j1. BENCH_ROUNDS=N (default 1) runs the six cases N times, interleaved; medians.
for r in $(seq "${BENCH_ROUNDS:-1}"); do
    for img in debian node; do
        for j in 1 2 4; do
            scan "scale-$img-j$j-r$r" "$img.tar" "rummage -j$j $img.tar" "-j$j" "docker-archive:$imgdir/$img.tar"
        done
    done
done

# The layer cache: node.tar shares debian.tar's 4 layers. A cold cache is filled by the first
# scan (its cost: hashing the blobs and writing the entries); then node.tar reads only its own
# layer, and a second scan of debian.tar nothing but its manifest and config.
scan cache-cold debian.tar "rummage -j2 debian.tar, cold cache" -j2 --cache-dir "$run/cache" "docker-archive:$imgdir/debian.tar"
scan cache-node node.tar "rummage -j2 node.tar, debian cached" -j2 --cache-dir "$run/cache" "docker-archive:$imgdir/node.tar"
scan cache-warm debian.tar "rummage -j2 debian.tar, warm cache" -j2 --cache-dir "$run/cache" "docker-archive:$imgdir/debian.tar"

# A registry on 127.0.0.1 (Debian's docker-registry, own config, temp storage, free port,
# stopped by PID): rummage reading the image from it, next to `skopeo copy` of the same image
# to an OCI directory (the work any pull does: download and check every blob).
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p "$run/registry"
    printf '%s\n' "version: 0.1" "log: {level: error, accesslog: {disabled: true}}" \
        "storage: {filesystem: {rootdirectory: $run/registry/data}}" \
        "http: {addr: 127.0.0.1:$port}" >"$run/registry/config.yml"
    docker-registry serve "$run/registry/config.yml" >"$run/registry/log" 2>&1 &
    regpid=$!
    for _ in $(seq 50); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null && break
        sleep 0.2
    done
    ref=127.0.0.1:$port/bench/debian:bookworm
    if skopeo copy -q --dest-tls-verify=false "oci:$imgdir/debian-oci:bookworm" "docker://$ref"; then
        imeasure skopeo debian.tar "skopeo copy registry -> oci: dir" \
            skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$run/skopeo-copy:bookworm"
        scan registry debian.tar "rummage -j2 docker:// (registry)" -j2 --tls-verify=false "docker://$ref"
        scan registry-warm debian.tar "rummage -j2 docker://, warm cache" -j2 --tls-verify=false \
            --cache-dir "$run/cache" "docker://$ref"
    else
        echo "registry benchmark skipped: could not push the image to 127.0.0.1:$port"
    fi
    kill "$regpid" 2>/dev/null || true
    wait "$regpid" 2>/dev/null || true
    rm -rf "$run/registry" "$run/skopeo-copy"
fi

python3 - "$rows" "$imgdir/images.json" "$run" <<'PY'
import collections, json, os, sys
rows_path, images_path, run = sys.argv[1:]
imgdir = os.path.dirname(images_path)
images = json.load(open(images_path))
rows = []
for line in open(rows_path):
    key, image, label, t0, t1, times, rc = line.rstrip("\n").split("\t")
    try:
        u, s, rss = times.split()
        cpu, rss = float(u) + float(s), int(rss) / 1024
    except ValueError:
        cpu, rss = float("nan"), float("nan")
    rows.append(dict(key=key, image=image, label=label, wall=float(t1) - float(t0), cpu=cpu,
                     rss=rss, rc=int(rc)))
gzip_wall = next((r["wall"] for r in rows if r["key"] == "gzip"), None)

def report(key):
    try:
        return json.load(open(os.path.join(run, "reports", key + ".json")))
    except (OSError, ValueError):
        return None

def status(r):
    if r["key"] in ("gzip", "pigz", "zstd", "skopeo"):
        return "ok" if r["rc"] == 0 else f"exit {r['rc']}"
    rep = report(r["key"])
    err = open(os.path.join(run, r["key"] + ".err"), errors="replace").read().strip().splitlines()
    if rep is None:
        return f"FAILED exit {r['rc']}, no JSON report" + (f": {err[0].replace(imgdir + '/', '')[:80]}" if err else "")
    f = rep.get("findings", [])
    paths = {x.get("location", {}).get("path") for x in f}
    text = f"exit {r['rc']}, {len(f)} findings in {len(paths)} files"
    st = rep.get("stats", {})
    if st.get("layers_cached"):
        text += f", {st['layers_cached']} of {st['layers']} layers cached"
    if r["rc"] >= 2:
        text = "FAILED " + text + (f": {err[0].replace(imgdir + '/', '')[:80]}" if err else "")
    return text

d = images["debian.tar"]
print(f"\ndebian.tar: {len(d['layers'])} layers, {d['compressed'] / 1e6:.1f} MB gzip, "
      f"{images['debian-zstd.tar']['compressed'] / 1e6:.1f} MB zstd, {d['uncompressed'] / 1e6:.1f} MB "
      f"uncompressed; node.tar: {images['node.tar']['compressed'] / 1e6:.1f} MB gzip, "
      f"{images['node.tar']['uncompressed'] / 1e6:.1f} MB uncompressed. MB/s: uncompressed layer bytes.")
print(f"{'case':<38} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'RSS MiB':>8} {'x gzip':>7}  result")
scale = [r for r in rows if r["key"].startswith("scale-")]
for r in rows:
    if r in scale:
        continue
    ok = r["rc"] < 2
    mbs = f"{images[r['image']]['uncompressed'] / r['wall'] / 1e6:7.1f}" if ok else "      -"
    ratio = f"{r['wall'] / gzip_wall:7.2f}" if ok and gzip_wall and r["image"] != "node.tar" else "      -"
    print(f"{r['label']:<38} {r['wall']:7.2f} {r['cpu']:7.2f} {mbs} {r['rss']:8.1f} {ratio}  {status(r)}")

# The same image in every form must give the same findings.
forms = [r["key"] for r in rows if r["image"] != "node.tar" and r["rc"] < 2 and report(r["key"]) is not None]
sets = {k: sorted(x.get("fingerprint", "") for x in report(k)["findings"]) for k in forms}
if len(sets) > 1:
    same = len({tuple(v) for v in sets.values()}) == 1
    print("findings of the Debian image in every form: " + ("identical" if same else
          "DIFFER: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items())))

def per_gb(key, image):
    rep = report(key)
    if rep is None or next(r["rc"] for r in rows if r["key"] == key) >= 2:
        print(f"{image}: no findings per GB, the scan failed")
        return
    f = rep.get("findings", [])
    img = images[image]
    print(f"\n{image}: {len(f)} findings, {len(f) / (img['uncompressed'] / 1e9):.1f} per GB uncompressed")
    if image == "node.tar" and f:
        app = [x for x in f if "node_modules/" in x.get("location", {}).get("path", "")
               or x.get("location", {}).get("path", "").lstrip("/").startswith("app/")]
        top = img["layers"][-1]["uncompressed"]
        print(f"  in /app (the npm layer, {top / 1e6:.0f} MB): {len(app)}, {len(app) / (top / 1e9):.1f} per GB; "
              f"elsewhere: {len(f) - len(app)}")
    def layer(loc):
        l = loc.get("layer")
        if isinstance(l, dict):
            return (l.get("index", -1), str(l.get("created_by", l.get("digest", "")))[:60])
        return (-1, str(l))
    layers = collections.Counter(layer(x["location"]) for x in f if "layer" in x.get("location", {}))
    for (index, what), n in sorted(layers.items()):
        print(f"  {n:6d}  in layer index {index}: {what}")
    by_rule = collections.Counter(x.get("rule") for x in f)
    example = {}
    for x in f:
        example.setdefault(x.get("rule"), x.get("location", {}).get("path"))
    for rule, n in by_rule.most_common(15):
        print(f"  {n:6d}  {rule:<40} e.g. {example[rule]}")

# Scaling with --jobs (medians over BENCH_ROUNDS); each image's findings must not depend on -j.
if scale:
    import statistics
    groups = collections.OrderedDict()
    for r in scale:
        groups.setdefault(r["key"].rsplit("-r", 1)[0], []).append(r)
    n = len(next(iter(groups.values())))
    print(f"\nscaling with --jobs, --no-cache, {os.cpu_count()} cores"
          + (f" (medians of {n} rounds)" if n > 1 else "") + ":")
    print(f"{'case':<26} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'RSS MiB':>8} {'img/min':>8} "
          f"{'speedup':>8}  result")
    base_wall = {}
    for key, rs in groups.items():
        img = rs[0]["image"]
        ok = [x for x in rs if x["rc"] < 2]
        if not ok:
            print(f"{rs[0]['label']:<26} FAILED: {status(rs[0])}")
            continue
        wall = statistics.median(x["wall"] for x in ok)
        cpu = statistics.median(x["cpu"] for x in ok)
        rss = statistics.median(x["rss"] for x in ok)
        base_wall.setdefault(img, wall)  # -j1 comes first
        mbs = images[img]["uncompressed"] / wall / 1e6
        text = status(ok[len(ok) // 2])
        if n > 1:
            text += ("; walls " + ", ".join(f"{x['wall']:.2f}" for x in rs)
                     + "; RSS " + ", ".join(f"{x['rss']:.1f}" for x in rs))
        print(f"{rs[0]['label']:<26} {wall:7.2f} {cpu:7.2f} {mbs:7.1f} {rss:8.1f} {60 / wall:8.1f} "
              f"{base_wall[img] / wall:8.2f}  {text}")
    for img in ("debian.tar", "node.tar"):
        keys = [r["key"] for r in scale if r["image"] == img and r["rc"] < 2 and report(r["key"])]
        fps = {tuple(sorted(x.get("fingerprint", "") for x in report(k)["findings"])) for k in keys}
        if keys:
            print(f"{img} findings at every -j: " + ("identical" if len(fps) == 1 else "DIFFER"))
    with open(os.path.join(run, "rss.tsv"), "w") as f:
        for r in rows:  # the plain-tar form: read as fast as the big image stream's layers
            if r["key"] == "raw" and r["rc"] < 2:
                f.write(f"-j2 debian-raw.tar (plain tar)\t{r['rss']:.1f}\n")
        for key, rs in groups.items():
            ok = [x["rss"] for x in rs if x["rc"] < 2]
            if ok:
                f.write(f"{rs[0]['label'].replace('rummage ', '')}\t{statistics.median(ok):.1f}\n")

per_gb("j2", "debian.tar")
per_gb("node", "node.tar")
print(f"\nreports: {run}/reports")
PY
rm -rf "$run/gz" "$run/zstd"
BENCH_REF_RSS=$run/rss.tsv big_inputs
