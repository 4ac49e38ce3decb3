#!/bin/bash
# tests/bench/big.sh TEXT: the big inputs of `make bench` (called by tests/bench.sh; BENCH_BIG=0
# skips them there). Peak memory must not grow with the size of a file or of an image:
#
#   - a single text file of BENCH_BIG_FILE_MB MiB (default 2048), generated once into
#     $BUILD/bench/big from TEXT (the bench corpus) with a few planted synthetic AWS key IDs,
#     scanned at -j1 and -j2;
#   - a docker-save image of BENCH_BIG_IMAGE_GB GB of layer files (default 10), generated on the
#     fly by tests/bench/gen_big.py and piped into `rummage scan -` (never stored on disk), at
#     -jN for each N in BENCH_BIG_IMAGE_JOBS (default: 2); the generator alone
#     (`gen_big.py image | cat > /dev/null`) is timed too, as the pipe's baseline. The generator
#     widens its pipe to 1 MiB (the default pipe-max-size): with 64 KiB, it and rummage take
#     turns more than they overlap (measured: 9.1 s against 5.8-7.5 s for 2 GB at -j1).
#
# Each line: wall, CPU (user + sys), MB/s (file or layer bytes / wall), peak RSS
# (/usr/bin/time), and the findings, with how many of the planted secrets were found (every one
# must be: the case measures real scanning work). BENCH_ROUNDS=N runs every case N times,
# interleaved, and prints medians. BENCH_REF_RSS=FILE (written by tests/bench.sh: label, MiB)
# adds the peak RSS of the image cases for comparison.
set -eu
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: BUILD=DIR $0 TEXT" >&2; exit 2; }
text=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=${BUILD:-build}
RUMMAGE=$PWD/$BUILD/rummage
GEN=$PWD/tests/bench/gen_big.py
file_mb=${BENCH_BIG_FILE_MB:-2048}
image_gb=${BENCH_BIG_IMAGE_GB:-10}
image_jobs=${BENCH_BIG_IMAGE_JOBS:-2}
rounds=${BENCH_ROUNDS:-1}
dir=$PWD/$BUILD/bench/big
mkdir -p "$dir"
run=$dir/run
rm -rf "$run"
mkdir -p "$run/reports"
rows=$run/rows.tsv
: >"$rows"

# The big file: built once (its generator, size and source text are in its stamp).
big=$dir/big-${file_mb}m.txt
stamp="$(sha256sum "$GEN" | cut -c1-16) $file_mb $(stat -c '%s %Y' "$text")"
if [ ! -s "$big" ] || [ "$(cat "$big.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$dir"/big-*m.txt "$dir"/big-*m.txt.*
    echo "generating a ${file_mb} MiB text file in $big"
    t0=$(date +%s.%N)
    python3 "$GEN" text "$big" $((file_mb * 1048576)) --text "$text" --planted "$big.planted"
    t1=$(date +%s.%N)
    echo "  (generated in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1") s)"
    echo "$stamp" >"$big.stamp"
fi
cat "$big" >/dev/null # warm the page cache (the file is read from memory, not from disk)

row() { # KEY LABEL BYTES WALL0 WALL1 TIMEFILE RC [GEN-TIMEFILE]
    local gen=""
    [ $# -ge 8 ] && gen=$(tail -n 1 "$8")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(tail -n 1 "$6")" "$7" "$gen" >>"$rows"
}

file_case() { # KEY JOBS
    local key=$1 j=$2 rc=0 t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %M' -o "$run/$key.time" "$RUMMAGE" scan -q --show-secrets -f json \
        -o "$run/reports/$key.json" "-j$j" "$big" >/dev/null 2>"$run/$key.err" || rc=$?
    t1=$(date +%s.%N)
    row "$key" "rummage -j$j ${file_mb} MiB text file" "$(stat -c %s "$big")" "$t0" "$t1" "$run/$key.time" "$rc"
}

gen_case() { # KEY: the generator alone, into cat
    local key=$1 t0 t1 st
    t0=$(date +%s.%N)
    set +e
    /usr/bin/time -f '%U %S %M' -o "$run/$key.time" \
        python3 "$GEN" image --size-gb "$image_gb" --pipe-size 1048576 --text "$text" --planted "$run/$key.planted" \
        --stats "$run/$key.stats" 2>"$run/$key.err" | cat >/dev/null
    st=("${PIPESTATUS[@]}")
    set -e
    t1=$(date +%s.%N)
    row "$key" "gen_big.py image | cat > /dev/null" "$(layer_bytes "$run/$key.stats")" "$t0" "$t1" \
        "$run/$key.time" "$(( st[0] ? st[0] : st[1] ))"
}

image_case() { # KEY JOBS
    local key=$1 j=$2 t0 t1 st
    t0=$(date +%s.%N)
    set +e
    /usr/bin/time -f '%U %S %M' -o "$run/$key.gen.time" \
        python3 "$GEN" image --size-gb "$image_gb" --pipe-size 1048576 --text "$text" --planted "$run/$key.planted" \
        --stats "$run/$key.stats" 2>"$run/$key.gen.err" |
        /usr/bin/time -f '%U %S %M' -o "$run/$key.time" "$RUMMAGE" scan -q --no-cache --show-secrets \
        -f json -o "$run/reports/$key.json" "-j$j" - >/dev/null 2>"$run/$key.err"
    st=("${PIPESTATUS[@]}")
    set -e
    t1=$(date +%s.%N)
    [ "${st[0]}" = 0 ] || echo "generator failed (exit ${st[0]}): $(head -c 300 "$run/$key.gen.err")"
    row "$key" "gen_big.py image | rummage -j$j -" "$(layer_bytes "$run/$key.stats")" "$t0" "$t1" \
        "$run/$key.time" "${st[1]}" "$run/$key.gen.time"
}

layer_bytes() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["layer_bytes"])' "$1" 2>/dev/null || echo 0; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "big inputs: a ${file_mb} MiB text file, a ${image_gb} GB image stream; $rounds round(s); load average $(load)"
for r in $(seq "$rounds"); do
    file_case "file-j1-r$r" 1
    file_case "file-j2-r$r" 2
    gen_case "gen-r$r"
    for j in $image_jobs; do
        image_case "image-j$j-r$r" "$j"
    done
done

python3 - "$rows" "$run" "$big.planted" "$rounds" "$(load)" "${BENCH_REF_RSS:-}" <<'PY'
import collections, json, os, statistics, sys
rows_path, run, file_planted, rounds, load, ref = sys.argv[1:]
rows = collections.OrderedDict()
for line in open(rows_path):
    key, label, nbytes, t0, t1, times, rc, gen = line.rstrip("\n").split("\t")
    base = key.rsplit("-r", 1)[0]
    try:
        u, s, rss = times.split()
        cpu, rss = float(u) + float(s), int(rss) / 1024
    except ValueError:
        cpu, rss = float("nan"), float("nan")
    g = gen.split()
    rows.setdefault(base, []).append(dict(key=key, label=label, bytes=int(nbytes),
        wall=float(t1) - float(t0), cpu=cpu, rss=rss, rc=int(rc),
        gen_cpu=float(g[0]) + float(g[1]) if len(g) == 3 else None))

def planted(path):
    try:
        return [l.rstrip("\n").split("\t") for l in open(path)]
    except OSError:
        return []

def result(r):
    key = r["key"]
    if key.startswith("gen-"):
        return "ok" if r["rc"] == 0 else f"FAILED exit {r['rc']}"
    try:
        rep = json.load(open(os.path.join(run, "reports", key + ".json")))
    except (OSError, ValueError):
        return f"FAILED exit {r['rc']}, no JSON report"
    want = planted(file_planted if key.startswith("file-") else os.path.join(run, key + ".planted"))
    f = rep.get("findings", [])
    where = lambda x: (x.get("location", {}).get("path"), x.get("location", {}).get("line"), x.get("secret"))
    want_set = {(p, int(l), s) for p, l, s in want}
    found = len(want_set & {where(x) for x in f})
    other = sorted({x.get("rule") for x in f if where(x) not in want_set})
    text = f"exit {r['rc']}, {len(f)} findings: {found} of {len(want)} planted found"
    if other:
        text += f", {len(f) - found} other ({', '.join(other)})"
    if found != len(want):
        text = "MISSED PLANTED SECRETS: " + text
    if rep.get("errors"):
        text += f"; {len(rep['errors'])} errors: {str(rep['errors'][0])[:80]}"
    return text

stats = {}
for name in sorted(os.listdir(run)):
    if name.endswith(".stats"):
        try:
            stats = json.load(open(os.path.join(run, name)))
        except ValueError:
            pass
if stats:
    print(f"\nimage stream: {stats['layers']} uncompressed layers, {stats['files']} files, "
          f"{stats['layer_bytes'] / 1e9:.1f} GB of files ({stats['stream_bytes'] / 1e9:.2f} GB of tar), "
          f"largest file {stats['largest_file'] / 1e6:.0f} MB, {stats['secrets']} planted secrets")
med = "medians of " + rounds if int(rounds) > 1 else "one round"
print(f"{'case (' + med + ')':<38} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'RSS MiB':>8}  result")
for base, rs in rows.items():
    m = lambda k: statistics.median(x[k] for x in rs)
    wall, cpu, rss = m("wall"), m("cpu"), m("rss")
    mbs = rs[0]["bytes"] / wall / 1e6 if rs[0]["bytes"] else float("nan")
    res = result(rs[len(rs) // 2])
    if rs[0]["gen_cpu"] is not None:
        res += f"; generator cpu {statistics.median(x['gen_cpu'] for x in rs):.1f} s"
    if len(rs) > 1:
        res += ("; walls " + ", ".join(f"{x['wall']:.1f}" for x in rs)
                + "; RSS " + ", ".join(f"{x['rss']:.1f}" for x in rs))
    print(f"{rs[0]['label']:<38} {wall:7.2f} {cpu:7.2f} {mbs:7.1f} {rss:8.1f}  {res}")
print("(image rows: wall of the whole pipe, CPU and RSS of rummage alone)")
if ref and os.path.exists(ref):
    print("peak RSS on the images above, for comparison: " +
          "; ".join(f"{l.split(chr(9))[0]} {float(l.split(chr(9))[1]):.1f} MiB" for l in open(ref) if "\t" in l))
print(f"load average at the end: {load}")
PY
