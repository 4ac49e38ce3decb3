#!/bin/bash
# make bench: rummage's throughput on a generated text corpus, next to baselines measured in
# the same run (cat to /dev/null, grep -c of one literal), with peak RSS.
# Usage: BUILD=build tests/bench.sh [SIZE_MB]   (default 256)
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
    read -r u s rss <"$out"
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
measure "grep -c password" grep -c password "$corpus"
measure "rummage -j1 (vectorscan)" "$RUMMAGE" scan -q -j1 --format json -o /dev/null "$corpus"
measure "rummage -j1 --engine pcre2" "$RUMMAGE" scan -q -j1 --engine pcre2 --format json -o /dev/null "$corpus"
measure "rummage -j$(nproc) tree (vectorscan)" "$RUMMAGE" scan -q --format json -o /dev/null "$tree"
