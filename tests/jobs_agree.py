#!/usr/bin/env python3
"""jobs_agree.py: the same scan with 1, 2 and 4 worker threads gives the same report.

`make tsan` runs it with the ThreadSanitizer build, so the worker pool is exercised at several
thread counts on directories and on images (docker-save and OCI archives, compressed, OCI
layouts, nested archives, a truncated image): the findings, errors, exit code and counts must
not depend on the number of threads or their timing (only the elapsed time may differ). The
layer cache is off for those, then on (a private directory): a scan with 4 threads fills it
and one with 2 reads it; the two reports agree, and their findings are the same as without it.

Usage: RUMMAGE=BINARY tests/jobs_agree.py [FIXTURES_DIR]
FIXTURES_DIR is a kept image fixture directory (RUMMAGE_IMAGE_FIXTURES of test_images.py); its
archives and layouts are scanned too. Prints TAP; exit 1 if a scan disagrees.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUMMAGE = os.environ.get("RUMMAGE") or str(ROOT / "build" / "rummage")
JOBS = (1, 2, 4)


def targets(fixtures):
    out = [str(ROOT / d) for d in ("src", "tests/unit", "patterns", "samples")]
    if fixtures and fixtures.is_dir():
        for p in sorted(fixtures.rglob("*")):
            if p.name.startswith("_") or "_calibrate" in p.parts:
                continue
            if p.is_file() and p.name.endswith((".tar", ".tar.gz")):
                out.append(str(p))
            elif p.is_dir() and (p / "index.json").is_file() and (p / "oci-layout").is_file():
                out.append(f"oci:{p}")
    return out


def report(target, jobs, cache=None):
    cache_opts = ["--cache-dir", cache] if cache else ["--no-cache"]
    p = subprocess.run([RUMMAGE, "scan", "-j", str(jobs), *cache_opts, "-f", "json", target],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = {"unparsable": p.stdout.decode(errors="replace")[:500]}
    doc.get("stats", {}).pop("seconds", None)
    return p.returncode, doc, p.stderr


def without_stats(run):
    rc, doc, _ = run
    return rc, {k: v for k, v in doc.items() if k != "stats"}


def main(argv):
    fixtures = Path(argv[1]) if len(argv) > 1 else None
    ts = targets(fixtures)
    print(f"1..{len(ts)}")
    failed = 0
    cache = tempfile.mkdtemp(prefix="rmg-jobs-agree-cache-")
    try:
        for n, t in enumerate(ts, 1):
            failed += check(n, t, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"# {len(ts) - failed} passed, {failed} failed")
    return 1 if failed else 0


def check(n, t, cache):
    """One target: 1 if its scans disagree (printed as `not ok`), else 0."""
    runs = [report(t, j) for j in JOBS]
    rc0, doc0, _ = runs[0]
    bad = [j for j, (rc, doc, _) in zip(JOBS, runs) if (rc, doc) != (rc0, doc0)]
    # The layer cache filled, then read: the same report both times, and the same findings as
    # without it (not always the same errors: with the cache on, layer digests are checked).
    runs += [report(t, 4, cache), report(t, 2, cache)]
    if without_stats(runs[3]) != without_stats(runs[4]):
        bad.append("2 reading the layer cache that 4 filled")
    if runs[3][1].get("findings") != doc0.get("findings"):
        bad.append("4 with the layer cache: other findings")
    if rc0 not in (0, 1, 2):
        bad.append(f"exit {rc0}")
    if not bad:
        print(f"ok {n} - {t} (exit {rc0}, {len(doc0.get('findings', []))} findings)")
        return 0
    print(f"not ok {n} - {t}")
    print(f"#   differs from -j1 (exit {rc0}) with: {bad}")
    for what, (rc, _, err) in zip([*JOBS, "4 cache", "2 cache"], runs):
        for line in err.decode(errors="replace").splitlines()[:20]:
            print(f"#   -j{what} (exit {rc}): {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
