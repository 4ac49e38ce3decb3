"""image_checks.py: comparing image findings, shared by test_images.py and test_registry.py.

A finding of the JSON report is keyed by (rule, path, state, layer index, fingerprint); a
fixture's expectation (tests/images/fixtures.py) carries the same fields, so two scans, or a
scan and its fixture, compare as multisets of keys with a readable difference.
"""
import platform
from collections import Counter

from test_cli import check


def loc(f):
    return f.get("location") or {}


def layer_of(f):
    lay = loc(f).get("layer")
    return lay.get("index") if isinstance(lay, dict) else None


def fkey(f):
    """(rule, path, state, layer index, fingerprint) of a reported finding."""
    return (f.get("rule"), loc(f).get("path"), f.get("state"), layer_of(f), f.get("fingerprint"))


def ekey(e):
    """The same key of a fixture's expectation."""
    return (e["rule"], e["path"], e["state"], e.get("layer"), e["fingerprint"])


def show(keys):
    return "\n".join(f"    {r} {p} {s} layer={lay} fp={(fp or '')[:12]}" + (f" x{n}" if n > 1 else "")
                     for (r, p, s, lay, fp), n in sorted(keys.items(), key=str)) or "    (none)"


def same_findings(doc, expect, res, what):
    """The findings are exactly the expected ones (as a multiset of fkey)."""
    got = Counter(fkey(f) for f in doc.get("findings", []))
    want = Counter(ekey(e) for e in expect)
    missing, extra = want - got, got - want
    check(not missing and not extra,
          f"{what}: findings differ from the expected ones\n  missing:\n{show(missing)}\n"
          f"  unexpected:\n{show(extra)}", res)


def errors_of(doc, level=None):
    return [x for x in doc.get("errors", []) if level is None or x.get("level") == level]


def err_text(x):
    return " ".join(str(x.get(k, "")) for k in ("target", "path", "message"))


def host_arch():
    m = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(m, m)
