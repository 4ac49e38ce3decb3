#!/usr/bin/env python3
"""measure_entropy.py: measures the Shannon entropy of random tokens and of real non-secret
strings, and recommends the min_entropy thresholds that docs/entropy.md documents.

Method
  (a) random tokens: 10,000 per alphabet (hex, base64, base62) and length (16, 20, 24, 32,
      40, 64), from a seeded generator, so every run prints the same figures;
  (b) non-secret strings from files on this machine, in categories: C identifiers and
      string literals (/usr/include/**/*.h), Python identifiers and string literals
      (/usr/share/**/*.py), words and paths in /usr/share/doc (plain and .gz), camelCase
      identifiers, package file paths (/var/lib/dpkg/info/*.list), version strings
      (/var/lib/dpkg/status), UUIDs (found in all of the above; also without dashes) and
      hex constants from C headers (0x... without the 0x).
      A category contributes, at each length L, its strings of exactly L characters, or,
      when it has fewer than --min-exact of them, the first L characters of longer ones
      (an entropy rule with a bounded repetition sees such a window). Each category is
      capped (--per-category) so that no one source dominates the pooled figures.

The entropy is rummage's: H = log2(n) - sum(c * log2(c)) / n over byte counts, in bits per
character (src/engine/entropy.c). Standard library only. Usage:

    python3 tests/measure_entropy.py            # tables and recommendation, markdown
    python3 tests/measure_entropy.py --seed 7   # another sample
"""

import argparse
import gzip
import math
import os
import random
import re
import string
import sys
from collections import Counter

LENGTHS = (16, 20, 24, 32, 40, 64)
ALPHABETS = {
    "hex": string.digits + "abcdef",
    "base64": string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/",
    "base62": string.digits + string.ascii_uppercase + string.ascii_lowercase,
}
# Characters an entropy rule for base64/base62-like secrets would capture.
BASE64_CHARS = frozenset(string.ascii_letters + string.digits + "+/=_-")
HEX_CHARS = frozenset(string.hexdigits)


def shannon(s):
    """Entropy in bits per character, as rmg_entropy_shannon computes it."""
    n = len(s)
    if n == 0:
        return 0.0
    acc = sum(c * math.log2(c) for c in Counter(s).values() if c > 1)
    return max(0.0, math.log2(n) - acc / n)


def percentile(sorted_values, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = math.floor(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


# --------------------------------------------------------------------------- sources

def walk(root, suffixes, limit):
    """Sorted list of files under root ending in one of suffixes, at most limit."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(suffixes):
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    found.append(path)
                    if len(found) >= limit:
                        return found
    return found


def read_text(path, max_bytes):
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            return f.read(max_bytes).decode("utf-8", "replace")
    except (OSError, EOFError, gzip.BadGzipFile):
        return ""


IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{7,}\b")
C_STRING = re.compile(r'"((?:[^"\\\n]|\\.){8,200})"')
PY_STRING = re.compile(r"""(?:"((?:[^"\\\n]|\\.){8,200})"|'((?:[^'\\\n]|\\.){8,200})')""")
CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b|\b(?:[A-Z][a-z0-9]+){2,}\b")
HEX_LITERAL = re.compile(r"\b0[xX]([0-9a-fA-F]{8,})\b")
UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}\b")
WORD = re.compile(r"[^\s\"'`<>()\[\]{},;]{8,}")
DOC_PATH = re.compile(r"(?:/[A-Za-z0-9._+-]+){2,}")


def collect(max_bytes, file_limit):
    """Returns {category: set of strings} from files on this machine."""
    cats = {k: set() for k in ("c_ident", "c_string", "py_ident", "py_string", "doc_word",
                               "path", "camelCase", "version", "uuid", "uuid_hex",
                               "c_hex_literal")}

    def scan_common(text):
        cats["camelCase"].update(CAMEL.findall(text))
        cats["uuid"].update(UUID.findall(text))

    budget = max_bytes
    for path in walk("/usr/include", (".h",), file_limit):
        text = read_text(path, 1 << 20)
        budget -= len(text)
        cats["c_ident"].update(IDENT.findall(text))
        cats["c_string"].update(C_STRING.findall(text))
        cats["c_hex_literal"].update(HEX_LITERAL.findall(text))
        scan_common(text)
        if budget <= 0:
            break

    for path in walk("/usr/share", (".py",), file_limit):
        text = read_text(path, 1 << 20)
        cats["py_ident"].update(IDENT.findall(text))
        for a, b in PY_STRING.findall(text):
            cats["py_string"].add(a or b)
        scan_common(text)

    budget = max_bytes
    for path in walk("/usr/share/doc", ("", ), file_limit):
        if path.endswith((".png", ".jpg", ".gif", ".ico", ".pdf", ".woff", ".ttf")):
            continue
        text = read_text(path, 1 << 18)
        if "\x00" in text:
            continue
        budget -= len(text)
        for w in WORD.findall(text):
            (cats["path"] if DOC_PATH.fullmatch(w) else cats["doc_word"]).add(w)
        scan_common(text)
        if budget <= 0:
            break

    for path in walk("/var/lib/dpkg/info", (".list",), file_limit):
        for line in read_text(path, 1 << 22).splitlines():
            if line.count("/") >= 2:
                cats["path"].add(line.strip())

    for line in read_text("/var/lib/dpkg/status", 1 << 26).splitlines():
        if line.startswith("Version: "):
            cats["version"].add(line[len("Version: "):].strip())
    cats["uuid_hex"] = {u.replace("-", "").lower() for u in cats["uuid"]}
    return cats


def at_length(strings, length, min_exact, cap, rng):
    """Samples of exactly `length` characters from one category (see module doc)."""
    exact = sorted(s for s in strings if len(s) == length)
    if len(exact) < min_exact:
        exact = sorted({s[:length] for s in strings if len(s) >= length})
    if len(exact) > cap:
        exact = rng.sample(exact, cap)
    return exact


# --------------------------------------------------------------------------- report

def fmt(x):
    return "n/a" if x != x else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--n", type=int, default=10000, help="random tokens per cell")
    ap.add_argument("--per-category", type=int, default=3000)
    ap.add_argument("--min-exact", type=int, default=300)
    ap.add_argument("--max-bytes", type=int, default=200 << 20,
                    help="text read per source tree")
    ap.add_argument("--file-limit", type=int, default=100000)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    # (a) random tokens
    rand = {}
    for name, alphabet in ALPHABETS.items():
        for length in LENGTHS:
            values = sorted(shannon("".join(rng.choice(alphabet) for _ in range(length)))
                            for _ in range(args.n))
            rand[name, length] = values

    print("## Random tokens (bits/char)\n")
    print(f"{args.n} tokens per cell, seed {args.seed}; max possible = min(log2 L, "
          "log2 alphabet).\n")
    print("| alphabet | length | p1 | p5 | p50 | max possible |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, alphabet in ALPHABETS.items():
        for length in LENGTHS:
            v = rand[name, length]
            top = min(math.log2(length), math.log2(len(alphabet)))
            print(f"| {name} | {length} | {fmt(percentile(v, 1))} | {fmt(percentile(v, 5))} "
                  f"| {fmt(percentile(v, 50))} | {top:.2f} |")

    # (b) non-secret strings
    cats = collect(args.max_bytes, args.file_limit)
    print("\n## Non-secret strings (bits/char)\n")
    print("Distinct strings found: " +
          ", ".join(f"{k} {len(v)}" for k, v in cats.items()) + ".\n")
    print("| category | length | n | p50 | p95 | p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    pooled_b64 = {}
    pooled_hex = {}
    pooled_all = {}
    for length in LENGTHS:
        pooled_b64[length] = []
        pooled_hex[length] = []
        pooled_all[length] = []
        for name, strings in cats.items():
            sample = at_length(strings, length, args.min_exact, args.per_category, rng)
            values = sorted(shannon(s) for s in sample)
            pooled_all[length] += values
            pooled_b64[length] += [shannon(s) for s in sample if set(s) <= BASE64_CHARS]
            pooled_hex[length] += [shannon(s) for s in sample if set(s) <= HEX_CHARS]
            if values:
                print(f"| {name} | {length} | {len(values)} | {fmt(percentile(values, 50))} "
                      f"| {fmt(percentile(values, 95))} | {fmt(percentile(values, 99))} |")
    print("\n### Pooled over categories\n")
    print("`all`: every sample; `base64-alphabet`: those made only of `[A-Za-z0-9+/=_-]`, "
          "which a base64/base62 rule could capture; `hex-alphabet`: only hex digits.\n")
    print("| pool | length | n | p50 | p95 | p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, pool in (("all", pooled_all), ("base64-alphabet", pooled_b64),
                        ("hex-alphabet", pooled_hex)):
        for length in LENGTHS:
            v = sorted(pool[length])
            print(f"| {label} | {length} | {len(v)} | {fmt(percentile(v, 50))} "
                  f"| {fmt(percentile(v, 95))} | {fmt(percentile(v, 99))} |")

    # Per length: the highest threshold (0.05 steps) that keeps >= 99% of random tokens
    # of the family, and what share of the non-secret strings it rejects.
    def keep_99(names, lengths):
        lowest = min(percentile(rand[n, length], 1) for n in names for length in lengths)
        return math.floor(lowest * 20) / 20

    def rejected(pool, t):
        return sum(1 for x in pool if x < t) / len(pool) if pool else float("nan")

    def pct(x):
        return "n/a" if x != x else f"{x:.1%}"

    families = (("base64/base62", ("base64", "base62"), pooled_b64),
                ("hex", ("hex",), pooled_hex))
    print("\n## Threshold by length\n")
    print("T(L): the highest threshold (0.05 steps) keeping >= 99% of random tokens of "
          "length L; the share of non-secret strings of length L below it (alphabet pool "
          "and all strings).\n")
    print("| family | L | T(L) | rejected, alphabet pool | rejected, all |")
    print("|---|---:|---:|---:|---:|")
    for label, names, pool in families:
        for length in LENGTHS:
            t = keep_99(names, (length,))
            print(f"| {label} | {length} | {t:.2f} | {pct(rejected(pool[length], t))} "
                  f"(n={len(pool[length])}) | {pct(rejected(pooled_all[length], t))} |")

    print("\n## One threshold per family\n")
    for label, names, pool in families:
        for floor_len in (20, 32):
            lengths = [x for x in LENGTHS if x >= floor_len]
            t = keep_99(names, lengths)
            print(f"**{label}, length >= {floor_len}: min_entropy {t:.2f}**\n")
            print("| L | random kept | rejected, alphabet pool | rejected, all |")
            print("|---:|---:|---:|---:|")
            for length in lengths:
                kept = min(1 - rejected(rand[n, length], t) for n in names)
                print(f"| {length} | {kept:.1%} | {pct(rejected(pool[length], t))} | "
                      f"{pct(rejected(pooled_all[length], t))} |")
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
