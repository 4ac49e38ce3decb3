#!/usr/bin/env python3
"""test_hostile.py: rummage against hostile input (issue 8).

Each test builds its hostile thing at test time (tests/hostile/hostile_fixtures.py: no binary
fixture lives in the repository), plants secrets generated for this run (AWS key ids) in good
files next to it, and runs `rummage scan` on it, with a text report on stdout and a JSON
report in a file (`-o json=FILE`). Every run asserts, besides what the test itself checks:

- no crash: the exit status is one of those the test allows (never a signal), and no
  AddressSanitizer / UndefinedBehaviorSanitizer / LeakSanitizer report on stderr (the suite
  also runs on the sanitizer build: RUMMAGE=build-san/rummage, or BUILD=build-san);
- no hang: the run is killed (and the test fails) past its time bound;
- nothing written outside the report: the run gets a fresh, empty working directory, TMPDIR
  and HOME, and they are still empty afterwards; the report's directory holds the report
  only; the input files are unchanged; the layer cache (XDG_CACHE_HOME, in the run's own
  directory) holds no raw secret;
- no raw secret anywhere in stdout, stderr or the report (no --show-secrets);
- terminal-safe output: stdout and stderr are valid UTF-8 without control characters (C0, DEL,
  C1) other than newlines: names from the input are escaped (docs/output.md);
- every error and warning of the JSON report is also on stderr, as
  `rummage: error|warning: TARGET: PATH: message`.

Then each test checks the documented outcome (docs/output.md, docs/images.md): exit 2 with an
error naming the target and the path, or a warning, and every good layer and file still
scanned: the planted secrets are found where they were put.

Same harness as tests/cli/test_cli.py: TAP output, `# N passed, N failed` last, exit 1 if a
test failed; `python3 tests/hostile/test_hostile.py NAME...` runs some; RUMMAGE is the binary.
Sizes: the bombs expand to gigabytes but are a few megabytes on disk (made from one compressed
block repeated), the 2 GiB files are sparse; see each test. RUMMAGE_TEST_TIMES=1 prints each
test's time.
"""
import functools
import hashlib
import io
import json
import os
import random
import re
import socket
import stat
import string
import sys
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "cli"))
from test_cli import RUMMAGE, aws_key_id, check, rng, run, run_suite  # noqa: E402  (the harness)
from image_checks import loc, layer_of  # noqa: E402
import hostile_fixtures as hf  # noqa: E402
from hostile_fixtures import GiB, MiB, Layer, entry, tar  # noqa: E402

TESTS = []
PLANTED = []   # the raw secrets of the running test: never in any output
RUNS = [0]     # runs of the running test (each gets its own directory)

# The sanitizer build is slower: its time bounds are 4 times wider; the sizes stay the same.
# Measured on 2 cores: the whole suite takes about 30 s with build/rummage and about 60 s with
# build-san/rummage (ASan + UBSan), the largest cases (bombs, 2 GiB files, 100 MB line,
# 100,000 files) 1 to 4 s each.
SANITIZED = b"__asan_init" in Path(RUMMAGE).read_bytes() if os.path.exists(RUMMAGE) else False
SLOW = 4 if SANITIZED else 1
AWS = "aws-access-key-id"


def test(fn):
    @functools.wraps(fn)
    def each(tmp):
        PLANTED.clear()
        RUNS[0] = 0
        return fn(tmp)
    TESTS.append(each)
    return each


# ------------------------------------------------------------------------- secrets


def key():
    """A fresh AWS access key id (test_cli's maker), remembered as planted."""
    k = aws_key_id()
    PLANTED.append(k)
    return k


def aws_line(k):
    """The line a planted key sits on: the key starts at column 21."""
    return f"aws_access_key_id = {k}\n"


def fingerprint(secret, rule=AWS):
    return hashlib.sha256(rule.encode() + b"\0" + secret.encode()).hexdigest()


def clean(name):
    """A layer entry's name as reported: absolute, without empty and "." components ("..",
    being only text in a layer, stays)."""
    return "/" + "/".join(p for p in name.split("/") if p not in ("", "."))


def good_layer(path="app/good.txt", how="gzip", extra=()):
    """A layer with one planted key in `path`; returns (layer, key)."""
    k = key()
    return Layer(tar([(path, aws_line(k)), *extra]), how), k


# ---------------------------------------------------------------------------- running


class Scan:
    def __init__(self, res, doc, report):
        self.res, self.doc, self.report = res, doc, report

    @property
    def text(self):
        return self.res.out.decode("utf-8", "replace")

    @property
    def err(self):
        return self.res.err.decode("utf-8", "replace")


def _snapshot(root, skip):
    """What is under root (kind, size, mtime of each), but for the directories in skip."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[p] = (stat.S_IFMT(st.st_mode), st.st_size if stat.S_ISREG(st.st_mode) else 0,
                      st.st_mtime_ns if stat.S_ISREG(st.st_mode) else 0)
    return out


_TERMINAL_UNSAFE = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def scan(tmp, *targets, opts=(), rc=(1,), input=None, limit=30, reported=True, cache=None):
    """Runs `rummage scan -o json=REPORT OPTS TARGETS` (text on stdout) in a fresh, empty
    working directory with its own TMPDIR, HOME and cache; checks the invariants of the module
    docstring and that the exit status is in rc; returns a Scan. reported=False: a usage error,
    which writes no report at all (and so no JSON to check). cache: a layer cache directory
    ($XDG_CACHE_HOME) shared between runs, instead of the run's own."""
    RUNS[0] += 1
    box = tmp / f".run{RUNS[0]}"
    dirs = {n: box / n for n in ("cwd", "tmp", "home", "out", "cache")}
    for d in dirs.values():
        d.mkdir(parents=True)
    if cache:
        dirs["cache"] = Path(cache)
    report = dirs["out"] / "report.json"
    skip = {box, Path(cache)} if cache else {box}
    before = _snapshot(tmp, skip)
    t0 = time.monotonic()
    res = run("scan", "--color", "never", "-o", f"json={report}", *opts, *targets,
              input=input, timeout=limit * SLOW, cwd=dirs["cwd"],
              env={"TMPDIR": str(dirs["tmp"]), "HOME": str(dirs["home"]),
                   "XDG_CACHE_HOME": str(dirs["cache"]), "COLUMNS": "100"})
    took = time.monotonic() - t0
    check(res.rc >= 0, f"killed by signal {-res.rc}", res)
    for mark in (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:", b"Sanitizer"):
        check(mark not in res.err, "sanitizer report on stderr", res)
    check(res.rc in rc, f"exit {res.rc}, expected {' or '.join(map(str, rc))}", res)
    for n in ("cwd", "tmp", "home"):
        left = sorted(os.listdir(dirs[n]))
        check(not left, f"the scan wrote into its {n}: {left}", res)
    after = _snapshot(tmp, skip)
    changed = sorted(set(before.items()) ^ set(after.items()))
    check(not changed, f"the scan changed its input: {changed[:5]}", res)
    check(sorted(os.listdir(dirs["out"])) == (["report.json"] if reported else []),
          f"the report's directory: {os.listdir(dirs['out'])}", res)
    if not reported:
        check(res.err.startswith(b"rummage: "), "a usage error is said on stderr", res)
        s = Scan(res, {"findings": [], "errors": []}, None)
        s.seconds = time.monotonic() - t0
        return s
    check(stat.S_IMODE(report.stat().st_mode) == 0o600, "the report has mode 0600", res)
    raw = report.read_bytes()
    try:
        doc = json.loads(raw.decode("utf-8"))  # strict: the report is UTF-8
    except ValueError as ex:
        raise AssertionError(f"the JSON report is not valid UTF-8 JSON: {ex}\n{res.describe()}")
    for name, data in (("stdout", res.out), ("stderr", res.err)):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as ex:
            raise AssertionError(f"{name} is not valid UTF-8 (an unescaped name?): {ex}\n"
                                 f"{res.describe()}")
        m = _TERMINAL_UNSAFE.search(data)
        check(not m, f"{name} holds a raw control character {m and m.group()!r} at "
                     f"{m and m.start()}: input text reached the terminal unescaped", res)
    cached = b"".join(p.read_bytes() for p in dirs["cache"].rglob("*") if p.is_file())
    for k in PLANTED:
        kb = k.encode()
        check(kb not in res.out and kb not in res.err and kb not in raw,
              f"a raw secret ({k[:6]}...) is in the output", res)
        check(kb not in cached, f"a raw secret ({k[:6]}...) is in the layer cache", res)
    # Every error of the report is on stderr, one line each, with its target (and path).
    lines = res.err.decode("utf-8").splitlines()
    for e in doc.get("errors", []):
        head = f"rummage: {e['level']}: "
        if _plain(e["target"]) and (e["path"] is None or _plain(e["path"])):
            want = head + e["target"] + (f": {e['path']}" if e["path"] else "") + ": "
            check(any(ln.startswith(want) for ln in lines),
                  f"the {e['level']} {e} is not on stderr as '{want}...'", res)
    s = Scan(res, doc, report)
    s.seconds = took
    return s


def _plain(s):
    return all(0x20 <= ord(c) < 0x7F and c != "\\" for c in s)


# -------------------------------------------------------------------------- checks


def found(s, k, path=None, state=None, layer=None, rule=AWS):
    """The findings of planted key k (at path, in state, layer); at least one."""
    fs = [f for f in s.doc["findings"] if f["fingerprint"] == fingerprint(k, rule)]
    where = [(loc(f).get("path"), f.get("state"), layer_of(f)) for f in fs]
    if path is not None:
        fs = [f for f in fs if loc(f).get("path") == path]
    if state is not None:
        fs = [f for f in fs if f.get("state") == state]
    if layer is not None:
        fs = [f for f in fs if layer_of(f) == layer]
    check(fs, f"the key planted {'at ' + repr(path) if path else ''} (state {state}, layer "
              f"{layer}) was not found; it was found at {where or 'no place'}", s.res)
    return fs


def not_found(s, k, why):
    fs = [f for f in s.doc["findings"] if f["fingerprint"] == fingerprint(k)]
    check(not fs, f"{why}: {[loc(f).get('path') for f in fs]}", s.res)


def message(s, level, target, where, text):
    """An error (level 'error') or warning of the report for `target` whose path or message
    holds `where`, and whose message holds `text` (a regex); it is on stderr (scan() checks
    that). Returns it."""
    es = [e for e in s.doc["errors"] if e["level"] == level and e["target"] == target and
          (where is None or where in (e["path"] or "") + " " + e["message"]) and
          re.search(text, e["message"])]
    check(es, f"expected an {level} for {target} about {where!r} matching /{text}/; the "
              f"report's errors: {json.dumps(s.doc['errors'], indent=1)[:3000]}", s.res)
    return es[0]


def no_errors(s, level="error"):
    es = [e for e in s.doc["errors"] if e["level"] == level]
    check(not es, f"no {level} expected: {es[:5]}", s.res)


def escaped_name(raw):
    """How the text report and stderr show a name (rmg_buf_put_safe): printable ASCII as it
    is, a backslash doubled, a valid UTF-8 character that is neither a control (C1) nor a
    bidi override as it is, any other byte as \\xHH."""
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        n = 1 if c < 0x80 else 2 if c >> 5 == 6 else 3 if c >> 4 == 14 else 4 if c >> 3 == 30 else 0
        try:
            ch = raw[i:i + n].decode("utf-8") if n else None
        except UnicodeDecodeError:
            ch = None
        cp = ord(ch) if ch else None
        if cp is not None and 0x20 <= cp < 0x7F:
            out.append("\\\\" if cp == 0x5C else ch)
        elif cp is not None and cp >= 0xA0 and not (0x202A <= cp <= 0x202E or
                                                      0x2066 <= cp <= 0x2069):
            out.append(ch)
        else:
            out.append(f"\\x{c:02x}")
            i += 1
            continue
        i += n
    return "".join(out)


def json_name(raw):
    """How the JSON report shows a name: valid UTF-8 as it is, each invalid byte as \\xHH."""
    return raw.decode("utf-8", "backslashreplace")


# ============================================================ 1. damaged layers and streams


def truncated_layer_case(how):
    def case(tmp):
        """Layer 1 (of 3) cut in the middle of its data: exit 2, an error naming the target and
        that layer; layers 0 and 2 still scanned and reported with their layer index."""
        l0, k0 = good_layer("app/zero.txt", how)
        k1, k2 = key(), key()
        filler = random.Random(rng.random()).randbytes(1 << 20)
        mid = tar([("app/filler.bin", filler), ("app/one.txt", aws_line(k1))])
        whole = Layer(mid, how)
        l1 = Layer(mid, how, blob=whole.blob[: len(whole.blob) * 3 // 5])
        l2 = Layer(tar([("app/two.txt", aws_line(k2))]), how)
        path = hf.docker_archive(tmp / "img.tar", [l0, l1, l2])
        target = f"docker-archive:{path}"
        s = scan(tmp, target, rc=(2,))
        message(s, "error", target, "0001/layer.tar", r".")
        found(s, k0, "/app/zero.txt", "present", 0)
        found(s, k2, "/app/two.txt", "present", 2)
        not_found(s, k1, "the key after the cut cannot have been read")
    case.__name__ = f"truncated_{how or 'tar'}_layer"
    return case


for _how in ("gzip", "zstd", "xz", "bzip2", None):
    test(truncated_layer_case(_how))


@test
def truncated_tar_header(tmp):
    """A plain tar layer cut inside a header (the second member's): exit 2, an error naming the
    layer; what came before the damage (the first file) and the other layers are reported."""
    l0, k0 = good_layer("app/zero.txt", None)
    k1, k2 = key(), key()
    body = tar([("app/first.txt", aws_line(k1)), ("app/second.txt", "x" * 100)])
    l1 = Layer(body, None, blob=body[:1024 + 200])  # first member whole, 200 bytes of the next
    l2, k2 = good_layer("app/two.txt", None)
    path = hf.docker_archive(tmp / "img.tar", [l0, l1, l2])
    s = scan(tmp, str(path), rc=(2,))
    message(s, "error", str(path), "0001/layer.tar", r"(?i)truncat|corrupt|cannot read")
    found(s, k0, "/app/zero.txt", layer=0)
    found(s, k1, "/app/first.txt", layer=1)
    found(s, k2, "/app/two.txt", layer=2)


@test
def truncated_stream_on_stdin(tmp):
    """`docker save | gzip` cut in the middle of layer 1, on stdin: exit 2; the key of layer 0
    (read before the cut; no manifest arrived, so it is named by its blob) is reported."""
    l0, k0 = good_layer()
    l1, k1 = good_layer("app/late.txt", None, extra=[
        ("app/noise.bin", random.Random(rng.random()).randbytes(1 << 20))])
    path = hf.docker_archive(tmp / "img.tar", [l0, l1])
    data = path.read_bytes()
    cut = data.index(l1.blob[:2048]) + 300 * 1024
    s = scan(tmp, "-", rc=(2,), input=hf.compress(data[:cut], "gzip")[:-20])
    message(s, "error", "-", None, r".")
    found(s, k0, "/0000/layer.tar!/app/good.txt")


@test
def garbage_layers(tmp):
    """Layers that are not what they claim: gzip magic then garbage, zstd magic then garbage,
    random bytes, an empty file, a tar of zeros: exit 2, an error naming each; the good
    layer is still reported."""
    good, k = good_layer()
    r = random.Random(rng.random())
    bad = [Layer(b"", None, blob=b"\x1f\x8b\x08\x00" + r.randbytes(5000)),
           Layer(b"", None, blob=b"\x28\xb5\x2f\xfd" + r.randbytes(5000)),
           Layer(b"", None, blob=r.randbytes(5000)),
           Layer(b"", None, blob=b""),
           Layer(b"", None, blob=bytes(10240))]
    path = hf.docker_archive(tmp / "img.tar", [good] + bad)
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    for i in range(1, 4):
        message(s, "error", target, f"{i:04d}/layer.tar", r".")
    found(s, k, "/app/good.txt", layer=0)


# ========================================================================== 2. names


def names_image(tmp, names, how="gzip"):
    """An image whose layer 1 holds a file per name (each with a planted key) and whose layer 0
    is a good layer; returns (target, {name: key}, good key)."""
    good, kg = good_layer()
    keys = {n: key() for n in names}
    l1 = Layer(tar([(n, aws_line(k)) for n, k in keys.items()]), how)
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    return f"docker-archive:{path}", keys, kg


@test
def dotdot_names(tmp):
    """Entries named ../../../tmp/X, a/../../X, ./../X: nothing is extracted anywhere (the
    files are never created), each is scanned and reported under its name as it is in the
    layer (.. kept as text, not resolved)."""
    tag = "rmg-hostile-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(12))
    names = [f"../../../../../../tmp/{tag}.txt", f"a/../../../{tag}-2.txt", f"./../{tag}-3.txt",
             f"../../../../../../var/tmp/{tag}-4.txt"]
    target, keys, kg = names_image(tmp, names)
    s = scan(tmp, target)  # scan() also checks nothing appeared next to the input or the cwd
    no_errors(s)
    for n, k in keys.items():
        found(s, k, clean(n), layer=1)
    for p in (f"/tmp/{tag}.txt", f"/var/tmp/{tag}-4.txt"):
        check(not os.path.exists(p), f"{p} was created: the layer was extracted", s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def absolute_names(tmp):
    """Entries named /etc/X, //double//slash/X, /./X: scanned and reported as absolute clean
    paths; nothing is written at those paths."""
    tag = "rmg-hostile-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(12))
    names = [f"/etc/{tag}.conf", f"//{tag}//double//slash.txt", f"/./{tag}-dot.txt"]
    target, keys, kg = names_image(tmp, names)
    s = scan(tmp, target)
    no_errors(s)
    want = [f"/etc/{tag}.conf", f"/{tag}/double/slash.txt", f"/{tag}-dot.txt"]
    for (n, k), w in zip(keys.items(), want):
        found(s, k, w, layer=1)
        check(not os.path.exists(w), f"{w} was created", s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def control_bytes_in_names(tmp):
    """Every C0 control byte but NUL, and DEL, in layer entry names (tab, CR, LF, BS, BEL,
    ESC...): the text report and stderr show them as \\xHH (scan() checks no raw control byte
    reaches either), the JSON report keeps the exact name; a newline in a name cannot start a
    fake report line."""
    names = [f"app/c{b:02x}-\x00".replace("\x00", chr(b)) + ".txt" for b in range(1, 32)]
    names += ["app/del-\x7f.txt", "app/nl\nFAKE:1:1 CRITICAL.txt"]
    target, keys, kg = names_image(tmp, names)
    s = scan(tmp, target)
    for n, k in keys.items():
        found(s, k, "/" + n, layer=1)
        check(escaped_name(("/" + n).encode()) in s.text,
              f"the text report should show {n!r} as {escaped_name(('/' + n).encode())!r}",
              s.res)
    check(not re.search(r"^FAKE", s.text, re.M), "a newline in a name started a line", s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def terminal_escapes_in_names(tmp):
    """ANSI CSI (clear screen, colours, cursor moves), OSC (window title, OSC 8 hyperlink, OSC
    52 clipboard write) and C1 controls written as UTF-8 (U+009B is CSI on many terminals)
    in entry names, in the image's tag and in its history: all escaped in text and on stderr
    (-v prints each layer's name), exact in JSON."""
    names = ["app/\x1b[2J\x1b[H\x1b[31mred.txt", "app/\x1b]0;pwned\x07title.txt",
             "app/\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\.txt",
             "app/\x1b]52;c;cm0gLXJmIH4=\x07clip.txt", "app/c1-\u009b31mred\u009b0m.txt",
             "app/osc-c1-\u009d0;title\u009c.txt", "app/bidi-\u202etxt.exe"]
    good, kg = good_layer()
    keys = {n: key() for n in names}
    l1 = Layer(tar([(n, aws_line(k)) for n, k in keys.items()]), "gzip")
    cfg = hf.config_doc([good.diff_id, l1.diff_id], history=[
        {"created_by": "COPY \x1b[2J\x1b]0;x\x07 /"}, {"created_by": "RUN \u009b2J echo"}])
    path = hf.docker_archive(tmp / "img.tar", [good, l1], config=cfg,
                             tag="evil\x1b[5m\u009b1m:1.0")
    target = f"docker-archive:{path}"
    s = scan(tmp, target, opts=("-v",))
    for n, k in keys.items():
        f = found(s, k, clean(n), layer=1)[0]
        check(escaped_name(clean(n).encode()) in s.text,
              f"text: {n!r} should show as {escaped_name(clean(n).encode())!r}", s.res)
        check(loc(f)["image"] == "evil\x1b[5m\u009b1m:1.0", f"JSON image {loc(f)['image']!r}",
              s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def invalid_utf8_in_names(tmp):
    """Names with invalid UTF-8 (a lone \\xff, an overlong /, a UTF-16 surrogate, a cut
    sequence): the JSON report is valid UTF-8 with each bad byte as the text \\xHH; text and
    stderr the same; the files are scanned."""
    names = [b"app/bad-\xff\xfe.txt", b"app/overlong-\xc0\xaf.txt", b"app/surrogate-\xed\xa0\x80.txt",
             b"app/cut-\xe2\x82.txt", b"app/ok-\xc3\xa9.txt"]
    target, keys, kg = names_image(tmp, names)
    s = scan(tmp, target)
    for n, k in keys.items():
        found(s, k, json_name(b"/" + n), layer=1)
        check(escaped_name(b"/" + n) in s.text, f"text shows {escaped_name(b'/' + n)!r}", s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def invalid_utf8_and_escapes_in_config(tmp):
    """Invalid UTF-8 and escape sequences in the config's Env, Labels, Cmd and history: the
    keys in them are found (state config, a JSON path), the report is valid UTF-8, the text
    and the history step shown with each layer are escaped."""
    good, kg = good_layer()
    ke, kl, kh = key(), key(), key()
    bad = "\udcff\udcfe\x1b[2J\u009b"
    cfg = hf.config_doc([good.diff_id], env=[f"A{bad}=1", f"AWS_ACCESS_KEY_ID={ke}{bad}"],
                        history=[{"created_by": f"RUN {bad} echo aws_access_key_id={kh} {bad}"}],
                        extra={})
    cfg["config"]["Labels"] = {f"x{bad}": "1", "aws_access_key_id": f"{kl}{bad}"}
    cfg["config"]["Cmd"] = ["/bin/sh", "-c", f"echo {bad}"]
    raw = json.dumps(cfg, ensure_ascii=False).encode("utf-8", "surrogateescape")
    path = hf.docker_archive(tmp / "img.tar", [good], config=raw)
    s = scan(tmp, str(path))
    found(s, ke, "config.Env[1]", "config")
    found(s, kl, "config.Labels.aws_access_key_id", "config")
    found(s, kh, "history[0].created_by", "config")
    f = found(s, kg, "/app/good.txt", layer=0)[0]
    check("\\xff\\xfe" in loc(f)["layer"]["created_by"],
          f"created_by with bad bytes as \\xHH text: {loc(f)['layer']['created_by']!r}", s.res)


@test
def overlong_names(tmp):
    """A 5000-byte entry path (PAX/GNU long name) and a 4096-byte one: the one over the limit
    (4096 bytes) is skipped with a warning naming the target and the layer, the rest of the
    layer is scanned."""
    k_long, k_fit, k_after = key(), key(), key()
    long_name = "app/" + "/".join(["d" * 99] * 50) + "/x.txt"
    fit = "app/" + "e" * (4096 - 4 - 1 - 6) + "/x.txt"
    good, kg = good_layer()
    l1 = Layer(tar([(long_name, aws_line(k_long)), ("/" + fit, aws_line(k_fit)),
                    ("app/after.txt", aws_line(k_after))]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    target = f"docker-archive:{path}"
    s = scan(tmp, target)
    message(s, "warning", target, "0001/layer.tar", r"longer than 4096 bytes")
    not_found(s, k_long, "a path over the limit is skipped")
    found(s, k_fit, "/" + fit, layer=1)
    found(s, k_after, "/app/after.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)


# =========================================================================== 3. links


@test
def symlink_loops_in_layer(tmp):
    """Symlinks in a layer: a -> b -> a, self -> self, a directory link to its own parent,
    links to /etc/shadow and to ../../../..: none is followed or read (a symlink has no
    content), no hang; the layer's real file and the other layer are scanned."""
    good, kg = good_layer()
    k = key()
    l1 = Layer(tar([entry("app/a", kind="symlink", link="b"),
                    entry("app/b", kind="symlink", link="a"),
                    entry("app/self", kind="symlink", link="self"),
                    entry("app/loop", kind="symlink", link="."),
                    entry("app/up", kind="symlink", link="../../../../.."),
                    entry("app/shadow", kind="symlink", link="/etc/shadow"),
                    ("app/real.txt", aws_line(k))]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    s = scan(tmp, str(path), limit=20)
    no_errors(s)
    found(s, k, "/app/real.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)
    check(not [f for f in s.doc["findings"] if "shadow" in loc(f)["path"]], "no link read",
          s.res)


@test
def hardlink_loops_in_layer(tmp):
    """Hardlinks a -> b, b -> a, self -> self, and one to a missing target: a hardlink has no
    content of its own and is never read; no hang, no error; the real file is scanned once."""
    good, kg = good_layer()
    k = key()
    l1 = Layer(tar([("app/real.txt", aws_line(k)),
                    entry("app/h1", kind="hardlink", link="app/h2"),
                    entry("app/h2", kind="hardlink", link="app/h1"),
                    entry("app/hself", kind="hardlink", link="app/hself"),
                    entry("app/hmissing", kind="hardlink", link="app/does/not/exist"),
                    entry("app/hreal", kind="hardlink", link="app/real.txt")]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    s = scan(tmp, str(path), limit=20)
    no_errors(s)
    check(len(found(s, k)) == 1, "a hardlinked file is reported once", s.res)
    found(s, kg, "/app/good.txt", layer=0)


@test
def hardlink_to_missing_target(tmp):
    """A hardlink whose target is not in the archive: in a layer it is an entry without content
    (no error; the layer's files and the other layer are scanned); as the image archive's
    layer (the manifest names a hardlink to a missing entry) it is an error naming the layer,
    exit 2, and the other layer is reported."""
    good, kg = good_layer()
    k = key()
    l1 = Layer(tar([entry("app/ghost", kind="hardlink", link="app/never/was.txt"),
                    ("app/real.txt", aws_line(k))]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    s = scan(tmp, str(path))
    no_errors(s)
    found(s, k, "/app/real.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)
    cfg = hf.config_doc([good.diff_id, l1.diff_id])
    man = [{"Config": hf.config_name(cfg), "RepoTags": ["ghost:1"],
            "Layers": ["0000/layer.tar", "ghost.tar"]}]
    path = hf.docker_archive(tmp / "img2.tar", [good], manifest=man, config=cfg,
                             entries_before=[entry("ghost.tar", kind="hardlink",
                                                   link="gone/layer.tar")])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, "ghost.tar", r"not in the archive")
    found(s, kg, "/app/good.txt", layer=0)


@test
def link_loops_in_image_archive(tmp):
    """In the docker-save archive itself: the manifest's layer 1 is a symlink in a loop
    (x.tar -> y.tar -> x.tar), layer 2 a hardlink to a missing entry, layer 3 a symlink
    that climbs out of the archive (../../../etc/passwd), layer 4 a symlink chain longer than
    the bound: exit 2, an error naming each; layer 0 is reported; nothing outside is read."""
    good, kg = good_layer()
    chain = [entry(f"c{i}.tar", kind="symlink", link=f"c{i + 1}.tar") for i in range(20)]
    extra = [entry("x.tar", kind="symlink", link="y.tar"),
             entry("y.tar", kind="symlink", link="x.tar"),
             entry("h.tar", kind="hardlink", link="missing.tar"),
             entry("up.tar", kind="symlink", link="../../../../../../etc/passwd"),
             entry("c20.tar", good.blob)] + chain
    names = ["0000/layer.tar", "x.tar", "h.tar", "up.tar", "c0.tar"]
    cfg = hf.config_doc([good.diff_id] * 5)
    man = [{"Config": hf.config_name(cfg), "RepoTags": ["links:1"], "Layers": names}]
    path = hf.docker_archive(tmp / "img.tar", [good], manifest=man, entries_before=extra,
                             config=cfg)
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,), limit=20)
    for n in names[1:]:
        message(s, "error", target, n, r".")
    found(s, kg, "/app/good.txt", layer=0)


# ========================================================================== 4. bombs


@test
def gzip_bomb_layer(tmp):
    """A gzip layer that expands to 4 GiB of zeros (one file; 4 MB on disk): the compression
    ratio limit (200:1, checked past 256 MiB) stops it with a warning naming the target and
    the layer; the other layers are scanned, in bounded time."""
    good, kg = good_layer()
    n = 4 * GiB
    bomb = Layer(b"", "gzip", blob=hf.gzip_zeros(hf.tar_file_header("zeros.bin", n), n))
    after, ka = good_layer("app/after.txt")
    path = hf.docker_archive(tmp / "img.tar", [good, bomb, after])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=30)
    message(s, "warning", target, "0001/layer.tar", r"archive bomb.*200")
    found(s, kg, "/app/good.txt", layer=0)
    found(s, ka, "/app/after.txt", layer=2)


@test
def gzip_bomb_file(tmp):
    """A file in a layer that is gzip of 4 GiB of zeros (bomb.gz, opened as a nested stream):
    a warning names the file; the file after it in the same layer is still scanned."""
    good, kg = good_layer()
    k = key()
    n = 4 * GiB
    l1 = Layer(tar([("data/bomb.gz", hf.gzip_zeros(b"", n)), ("data/after.txt", aws_line(k))]),
               None)
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=30)
    message(s, "warning", target, "/data/bomb.gz", r"archive bomb")
    found(s, k, "/data/after.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)


@test
def zip_bomb(tmp):
    """A jar (zip) in a layer with an entry of 3 GiB of zeros (3 MB deflated) next to a
    config file with a key: the ratio limit stops the zero entry with a warning; the key in
    the same jar and the file after the jar are found."""
    good, kg = good_layer()
    k_in, k_after = key(), key()
    z = hf.zip_archive([("BOOT-INF/classes/application.yml", aws_line(k_in)),
                        ("zeros.bin", ("zeros", 3 * GiB)), ("z/after-bomb.txt", "clean\n")])
    l1 = Layer(tar([("app/app.jar", z), ("app/after.txt", aws_line(k_after))]), None)
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=30)
    message(s, "warning", target, "/app/app.jar", r"archive bomb")
    found(s, k_in, "/app/app.jar!/BOOT-INF/classes/application.yml", layer=1)
    found(s, k_after, "/app/after.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)


def nested_zip_bomb(levels, width, leaf_zeros):
    """42.zip's shape: a zip of `width` copies of a zip of ... (`levels` deep) of `width`
    entries of leaf_zeros zero bytes; returns the outer zip (small: each level compresses the
    repetitive level below)."""
    inner = hf.zip_archive([(f"{i}.bin", ("zeros", leaf_zeros)) for i in range(width)])
    for lv in range(1, levels):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for i in range(width):
                z.writestr(f"l{lv}-{i}.zip", inner)
        inner = buf.getvalue()
    return inner


@test
def nested_archive_bomb(tmp):
    """A 42.zip-style nested zip (5 levels of 16, 16 MiB of zeros per leaf entry: 16 TiB in
    all, 30 KB on disk): with the default --max-archive-depth 2 the levels below
    are not opened (a warning per archive left closed); with --max-archive-depth 16 the
    layer's ratio limit stops it. Bounded time either way; the key next to it is found."""
    good, kg = good_layer()
    k = key()
    bomb = nested_zip_bomb(5, 16, 16 * MiB)
    l1 = Layer(tar([("app/42.zip", bomb), ("app/key.txt", aws_line(k))]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [good, l1])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=30)
    message(s, "warning", target, "/app/42.zip!", r"max-archive-depth 2")
    found(s, k, "/app/key.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)
    s = scan(tmp, target, opts=("--max-archive-depth", "16"), limit=30)
    message(s, "warning", target, "/app/42.zip", r"archive bomb|layer limit")
    found(s, k, "/app/key.txt", layer=1)
    found(s, kg, "/app/good.txt", layer=0)


@test
def skipped_entry_bomb(tmp):
    """Entries rummage does not scan still count against the limits: a whiteout
    (.wh.NAME, a regular file whose content means nothing) whose body is 64 GiB of zeros, in a
    bzip2 layer of a few kilobytes (bzip2 streams of zeros, concatenated). Without a bound
    this decompresses for minutes; the ratio limit stops it with a warning; the whiteout
    still applies and the next layer is scanned."""
    good, kg = good_layer("app/old.txt")
    n = 1024 * 64 * MiB  # 64 GiB
    hdr = hf.tar_file_header("app/.wh.old.txt", n)
    blob = hf.bzip2_zeros(hdr, n, b"\0" * 1024)
    bomb = Layer(b"", "bzip2", blob=blob)
    after, ka = good_layer("app/after.txt")
    path = hf.docker_archive(tmp / "img.tar", [good, bomb, after])
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=30)
    message(s, "warning", target, "0001/layer.tar", r"archive bomb")
    found(s, kg, "/app/old.txt", "deleted", 0)
    found(s, ka, "/app/after.txt", layer=2)


@test
def image_stream_bomb(tmp):
    """The docker-save stream itself is the bomb (stdin, bzip2): after its manifest, config
    and layer comes an entry of 64 GiB of zeros in a few kilobytes. The outer archive's
    ratio is bounded like a layer's: a warning, bounded time, the layer's key found."""
    good, kg = good_layer()
    cfg = hf._json(hf.config_doc([good.diff_id]))
    man = hf._json([{"Config": "cfg.json", "RepoTags": ["bomb:1"], "Layers": ["l.tar"]}])
    head = tar([("manifest.json", man), ("cfg.json", cfg), ("l.tar", good.blob)], end=False)
    n = 1024 * 64 * MiB
    data = hf.bzip2_zeros(head + hf.tar_file_header("junk.bin", n), n, b"\0" * 1024)
    s = scan(tmp, "-", input=data, limit=30)
    message(s, "warning", "-", None, r"archive bomb")
    found(s, kg, "/app/good.txt", layer=0)


@test
def image_stream_bomb_in_layer(tmp):
    """The same, but the zeros are inside a layer: a plain tar layer, named by its digest as
    Docker 25 names them (so the layer cache hashes it as it streams), holding a file of
    64 GiB of zeros in a bzip2 stream of 200 KB. The layer's own ratio is 1:1, the stream's is
    not: reading the layer fails (an error naming it, exit 2), in bounded time, with the layer
    cache on and off; the first layer's key is found."""
    good, kg = good_layer()
    hexd = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    cfg = hf._json(hf.config_doc([good.diff_id, "sha256:" + hexd]))
    man = hf._json([{"Config": "cfg.json", "RepoTags": ["bomb:1"],
                     "Layers": ["l.tar", f"blobs/sha256/{hexd}"]}])
    head = tar([("manifest.json", man), ("cfg.json", cfg), ("l.tar", good.blob)], end=False)
    n = 1024 * 64 * MiB  # the zeros: the file, then the layer's and the stream's end blocks
    layer_head = hf.tar_file_header("data/zeros.bin", n - 2048)
    data = hf.bzip2_zeros(head + hf.tar_file_header(f"blobs/sha256/{hexd}", n - 512) +
                          layer_head, n)
    for opts in ((), ("--no-cache",)):
        s = scan(tmp, "-", opts=opts, input=data, rc=(2,), limit=30)
        message(s, "error", "-", hexd, r"archive bomb")
        found(s, kg, "/app/good.txt", layer=0)


@test
def cache_hit_on_a_bomb(tmp):
    """A layer cached from a good image, then a bzip2 stream whose layer claims the same digest
    (Docker 25 names layers by digest) but is 64 GiB of zeros: the cache hit makes rummage
    hash the entry to check the claim, and that hashing is bounded by the stream's ratio too
    (an error, a warning, exit 2, bounded time); the good image's key came from the cache."""
    good, kg = good_layer()
    name = f"blobs/sha256/{good.digest[7:]}"
    path = hf.docker_archive(tmp / "good.tar", [good], names=[name])
    cache = tmp / "cache"
    s = scan(tmp, str(path), cache=cache)
    found(s, kg, "/app/good.txt", layer=0)
    s = scan(tmp, str(path), cache=cache)
    check(s.doc["stats"]["layers_cached"] == 1, f"the layer came from the cache: {s.doc['stats']}",
          s.res)
    cfg = hf._json(hf.config_doc([good.diff_id]))
    man = hf._json([{"Config": "cfg.json", "RepoTags": ["liar:1"], "Layers": [name]}])
    head = tar([("manifest.json", man), ("cfg.json", cfg)], end=False)
    n = 1024 * 64 * MiB
    data = hf.bzip2_zeros(head + hf.tar_file_header(name, n - 512) +
                          hf.tar_file_header("data/zeros.bin", n - 2048), n)
    s = scan(tmp, "-", input=data, rc=(2,), limit=30, cache=cache)
    message(s, "warning", "-", name, r"archive bomb")
    not_found(s, kg, "a layer that is not what its name says must not get the cached result")


@test
def plain_tar_bomb(tmp):
    """A .tar.gz that is no image (so scanned as an archive of files) holding 4 GiB of zeros
    then a key: the ratio limit applies to it as to a layer (warning, bounded time)."""
    k0 = key()
    n = 4 * GiB
    head = tar([("etc/first.txt", aws_line(k0))], end=False) + hf.tar_file_header("zeros", n)
    path = tmp / "files.tar.gz"
    path.write_bytes(hf.gzip_zeros(head, n))
    s = scan(tmp, str(path), limit=30)
    message(s, "warning", str(path), None, r"archive bomb")
    found(s, k0, "/etc/first.txt")


@test
def json_memory_bomb(tmp):
    """An image archive (gzip, 11 MB) whose image comes first, then 100 JSON documents of
    15 MiB each (each under the 16 MiB limit): JSON documents are kept in memory, so their
    total is bounded too (64 MiB): one warning names the first one left out, and peak memory
    stays far below the 1.5 GiB they add up to. The image is scanned."""
    good, kg = good_layer()
    cfg = hf._json(hf.config_doc([good.diff_id]))
    man = hf._json([{"Config": "cfg.json", "RepoTags": ["json:1"], "Layers": ["l.tar"]}])
    pieces = [tar([("manifest.json", man), ("cfg.json", cfg), ("l.tar", good.blob)], end=False)]
    # 15 MiB of blanks and 100 KB of noise each: under the 200:1 ratio of the archive itself
    noise = random.Random(rng.random()).randbytes(100_000)
    size = 15 * MiB + len(noise) + 2
    for i in range(100):
        pieces += [hf.tar_file_header(f"junk/{i:03d}.json", size), b"[", (0x20, 15 * MiB),
                   noise + b"]" + hf.pad512(size)]
    pieces.append(b"\0" * 1024)
    gz = tmp / "img.tar.gz"
    gz.write_bytes(hf.gzip_pieces(pieces))
    target = f"docker-archive:{gz}"
    rss = tmp / "rss"
    res = run("scan", "-q", "-f", "json", target, timeout=60 * SLOW,
              prefix=("/usr/bin/time", "-f", "maxrss=%M", "-o", str(rss)),
              env={"XDG_CACHE_HOME": str(tmp / "cache")})
    check(res.rc == 1 and b"Sanitizer" not in res.err, f"exit {res.rc}", res)
    kb = int(re.search(r"maxrss=(\d+)", rss.read_text()).group(1))
    bound = 1024 if SANITIZED else 512
    check(kb < bound * 1024, f"peak memory {kb // 1024} MiB, bound {bound} MiB", res)
    rss.unlink()
    s = scan(tmp, target, limit=60)
    message(s, "warning", target, "junk/", r"JSON documents of more than 67108864 bytes in all")
    check(len(s.doc["errors"]) == 1, f"one warning, not one per document: {s.doc['errors']}",
          s.res)
    found(s, kg, "/app/good.txt", layer=0)


# ========================================================================== 5. sizes


@test
def two_gib_file_in_layer(tmp):
    """A layer holding one file of 2 GiB + 4 KiB (zeros, sparse on disk) with a key at its
    very end, past the 2^31 mark: streamed in chunks (memory bounded), and the key is found
    at its exact column (offsets are 64-bit)."""
    k = key()
    size = 2 * GiB + 4096
    tail = aws_line(k).encode()
    path = tmp / "big.tar"
    hf.sparse_docker_archive(path, [("data/huge.bin", size, tail)])
    s = scan(tmp, f"docker-archive:{path}", limit=60)
    f = found(s, k, "/data/huge.bin", layer=0)[0]
    check((loc(f)["line"], loc(f)["column"]) == (1, size - len(tail) + 21),
          f"line:column {loc(f)['line']}:{loc(f)['column']}, expected 1:{size - len(tail) + 21}",
          s.res)


@test
def two_gib_file_target(tmp):
    """A plain 2 GiB + 4 KiB file (sparse) with a key at its end, given as a file target and
    inside a directory target: found at the right column."""
    k = key()
    size = 2 * GiB + 4096
    tail = aws_line(k).encode()
    d = tmp / "dir"
    d.mkdir()
    with open(d / "huge.bin", "wb") as f:
        f.seek(size - len(tail))
        f.write(tail)
    s = scan(tmp, str(d / "huge.bin"), str(d), limit=60)
    fs = found(s, k)
    check(len(fs) == 2 and all((loc(f)["line"], loc(f)["column"]) == (1, size - len(tail) + 21)
                               for f in fs), f"{[loc(f) for f in fs]}", s.res)


@test
def hundred_mb_line(tmp):
    """One 100 MB line (minified-JS style: no newline) full of keyword decoys (password=,
    token=, ghp_, AKIA, -----BEGIN) that every rule's prefilter fires on, with keys in the
    middle and at the end: linear time, the keys found at their columns."""
    km, ke = key(), key()
    r = random.Random(rng.random())
    block = "".join(r.choice(string.ascii_lowercase) for _ in range(1000))
    decoys = [" password=changeme token=x ghp_ ghp_abc AKIA -----BEGIN ", " api_key=; "]
    parts, n, i, cols = [], 0, 0, {}
    while n < 100_000_000:
        p = block + decoys[i % 2]
        if i == 50_000:  # about the middle
            cols[km] = n + len(p) + 21
            p += f"aws_access_key_id = {km} "
        parts.append(p)
        n += len(p)
        i += 1
    cols[ke] = n + 21
    line = "".join(parts) + f"aws_access_key_id = {ke}"
    l1 = Layer(tar([("app/bundle.min.js", line)]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [l1])
    s = scan(tmp, str(path), limit=60)
    for k, col in cols.items():
        f = found(s, k, "/app/bundle.min.js", layer=0)[0]
        check((loc(f)["line"], loc(f)["column"]) == (1, col),
              f"line:column {loc(f)['line']}:{loc(f)['column']}, expected 1:{col}", s.res)


@test
def hundred_thousand_files(tmp):
    """A layer of 100,000 tiny files (a node_modules from hell), keys in the first and the
    last: every file counted, both keys found."""
    k1, k2 = key(), key()
    ents = [(f"m/{i // 1000:03d}/{i % 1000:03d}.js", f"x{i}\n") for i in range(100_000)]
    ents[0] = ("m/000/000.js", aws_line(k1))
    ents[-1] = ("m/099/999.js", aws_line(k2))
    l0 = Layer(tar(ents), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [l0])
    s = scan(tmp, str(path), limit=60)
    no_errors(s)
    found(s, k1, "/m/000/000.js", layer=0)
    found(s, k2, "/m/099/999.js", layer=0)
    check(s.doc["stats"]["files"] == 100_000, f"files {s.doc['stats']['files']}", s.res)


@test
def thousand_layers(tmp):
    """An image of 1,000 layers: keys in layers 0, 500 and 999, the one in layer 0 deleted by
    a whiteout in layer 998: every layer attributed, states right, bounded time."""
    layers, keys = [], {}
    for i in range(1000):
        if i in (0, 500, 999):
            keys[i] = key()
            layers.append(Layer(tar([(f"l/{i}.txt", aws_line(keys[i]))]), "gzip"))
        elif i == 998:
            layers.append(Layer(tar([("l/.wh.0.txt", "")]), "gzip"))
        else:
            layers.append(Layer(tar([(f"l/{i}.txt", f"{i}\n")]), "gzip"))
    path = hf.docker_archive(tmp / "img.tar", layers)
    s = scan(tmp, f"docker-archive:{path}", limit=60)
    no_errors(s)
    found(s, keys[0], "/l/0.txt", "deleted", 0)
    found(s, keys[500], "/l/500.txt", "present", 500)
    found(s, keys[999], "/l/999.txt", "present", 999)


@test
def too_many_entries_in_image_archive(tmp):
    """An image archive with 100,010 entries (the limit is 100,000), its manifest, config and
    layer first: a warning naming the target, the image still scanned."""
    good, kg = good_layer()
    cfg = hf._json(hf.config_doc([good.diff_id]))
    man = hf._json([{"Config": "cfg.json", "RepoTags": ["many:1"], "Layers": ["l.tar"]}])
    ents = [("manifest.json", man), ("cfg.json", cfg), ("l.tar", good.blob)]
    ents += [(f"e/{i}", b"") for i in range(100_010)]
    path = tmp / "img.tar.gz"
    path.write_bytes(hf.compress(tar(ents), "gzip"))
    target = f"docker-archive:{path}"
    s = scan(tmp, target, limit=60)
    message(s, "warning", target, None, r"more than 100000 entries")
    found(s, kg, "/app/good.txt", layer=0)


# ===================================================== 6. manifests, configs, indexes


@test
def manifest_points_outside_archive(tmp):
    """manifest.json names layers ../../etc/passwd, /etc/passwd and ../outside.tar (a real
    layer with a key, next to the archive) and the config ../outside.json: each is an error
    naming it (exit 2); nothing outside the archive is read (the outside key is not found);
    the archive's own layer is reported."""
    good, kg = good_layer()
    outside, ko = good_layer("app/outside.txt", None)
    (tmp / "outside.tar").write_bytes(outside.blob)
    d = tmp / "in"
    d.mkdir()
    names = ["0000/layer.tar", "../../../../../etc/passwd", "/etc/passwd", "../outside.tar"]
    man = [{"Config": "../outside.json", "RepoTags": ["out:1"], "Layers": names}]
    (tmp / "outside.json").write_text(json.dumps(hf.config_doc([good.diff_id] * 4)))
    path = hf.docker_archive(d / "img.tar", [good], manifest=man)
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    for n in ("etc/passwd", "outside.tar", "outside.json"):
        message(s, "error", target, n, r".")
    not_found(s, ko, "a layer outside the archive was read")
    found(s, kg, "/app/good.txt", layer=0)
    check("root:" not in s.text + s.err, "/etc/passwd was read", s.res)


@test
def manifest_points_at_itself(tmp):
    """manifest.json names itself as the config and as a layer, and the config as a layer:
    errors naming each (not a JSON object, not a layer), exit 2, no loop; the real layer is
    reported."""
    good, kg = good_layer()
    cfg = hf._json(hf.config_doc([good.diff_id]))
    cfg_name = hf.sha256_hex(cfg) + ".json"
    man = [{"Config": "manifest.json", "RepoTags": ["self:1"],
            "Layers": ["0000/layer.tar", "manifest.json", cfg_name]}]
    path = hf.docker_archive(tmp / "img.tar", [good], manifest=man, config=cfg)
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, "manifest.json", r"not a JSON object|not a layer")
    message(s, "error", target, cfg_name, r"not a layer")
    found(s, kg, "/app/good.txt", layer=0)


@test
def oci_digests_outside_layout(tmp):
    """An OCI layout whose manifest names layers sha256:../../../etc/passwd, sha512:/etc/passwd
    and a digest of a file next to the layout, and whose config digest climbs out too: the
    digests are rejected (errors naming the manifest blob), nothing outside is read."""
    good, kg = good_layer()
    outside, ko = good_layer("app/outside.txt")
    lay = tmp / "layout"
    hf.oci_layout(lay, [good])
    (tmp / "blobs-outside").mkdir()
    hf.put_blob(tmp / "blobs-outside", outside.blob)
    man = json.loads(hf.read_manifest(lay))
    man["layers"] += [{"mediaType": hf.MT_LAYER["gzip"], "digest": d, "size": 1} for d in
                      ("sha256:../../../../etc/passwd", "sha512:/etc/passwd",
                       "sha256:../../blobs-outside/sha256/" + outside.digest[7:])]
    man["config"]["digest"] = "sha256:../../../outside.json"
    mdig = hf.set_manifest(lay, man)
    target = f"oci:{lay}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, mdig[7:19], r"no valid (config )?digest")
    not_found(s, ko, "a blob outside the layout was read")
    found(s, kg, "/app/good.txt", layer=0)


@test
def oci_index_points_at_itself(tmp):
    """An OCI layout whose index.json lists, besides the real image, an index blob that lists
    itself (blob digests are names here; a layout's content is not verified): the loop stops
    at 4 levels of nesting with a warning naming the blob; the real image is scanned."""
    good, kg = good_layer()
    lay = tmp / "layout"
    hf.oci_layout(lay, [good])
    loop = "sha256:" + "1" * 64
    hf.put_blob(lay, json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": hf.MT_INDEX, "digest": loop, "size": 1}]}).encode(), loop)
    idx = json.loads((lay / "index.json").read_text())
    idx["manifests"].append({"mediaType": hf.MT_INDEX, "digest": loop, "size": 1})
    (lay / "index.json").write_text(json.dumps(idx))
    target = f"oci:{lay}"
    s = scan(tmp, target)
    message(s, "warning", target, "1111111111", r"nested deeper than 4")
    found(s, kg, "/app/good.txt", layer=0)


@test
def oci_blob_kinds_swapped(tmp):
    """An OCI manifest whose config digest is a layer blob and whose second layer digest is the
    manifest itself: errors naming each (not valid JSON, not a tar), exit 2; the real layer is
    still reported."""
    good, kg = good_layer()
    lay = tmp / "layout"
    hf.oci_layout(lay, [good])
    man = json.loads(hf.read_manifest(lay))
    man["config"]["digest"] = good.digest
    # a manifest cannot name its own digest: name the current manifest blob, then replace it
    old = hf.index_digest(lay)
    man["layers"].append({"mediaType": hf.MT_LAYER["gzip"], "digest": old, "size": 1})
    hf.set_manifest(lay, man)
    target = f"oci:{lay}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, good.digest[7:19], r"JSON")
    message(s, "error", target, old[7:19], r".")
    found(s, kg, "/app/good.txt", layer=0)


def nested(depth):
    return b"[" * depth + b"]" * depth


@test
def deeply_nested_manifest(tmp):
    """manifest.json nested 100,000 arrays deep: no stack overflow (cJSON stops at its nesting
    limit); an error naming manifest.json, exit 2; the layer that was read is still reported
    (named by its blob, as no manifest says which image it belongs to)."""
    good, kg = good_layer()
    path = hf.docker_archive(tmp / "img.tar", [good], manifest=nested(100_000))
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, "manifest.json", r"JSON")
    found(s, kg, "/0000/layer.tar!/app/good.txt")


@test
def deeply_nested_config_and_index(tmp):
    """A config nested 100,000 deep (docker-archive) and an OCI index.json nested 100,000
    deep: errors naming them, exit 2, no crash; the layers of the first are still reported
    with their layer index (the manifest is fine)."""
    good, kg = good_layer()
    path = hf.docker_archive(tmp / "img.tar", [good], config=nested(100_000))
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    message(s, "error", target, ".json", r"JSON")
    found(s, kg, "/app/good.txt", layer=0)
    lay = tmp / "layout"
    hf.oci_layout(lay, [good], index=b'{"manifests":' + nested(100_000) + b"}")
    s = scan(tmp, f"oci:{lay}", rc=(2,))
    message(s, "error", f"oci:{lay}", "index.json", r"JSON")


@test
def deep_but_valid_json(tmp):
    """A config whose Labels hold an object nested 900 deep (under cJSON's limit of 1000) and
    whose manifest annotations (OCI) do too: parsed, copied and freed without trouble; the
    label with a key is found."""
    good, kg = good_layer()
    kl = key()
    deep = {}
    cur = deep
    for _ in range(900):
        cur["a"] = {}
        cur = cur["a"]
    cfg = hf.config_doc([good.diff_id])
    cfg["config"]["Labels"] = {"deep": deep, "aws_access_key_id": kl}
    lay = tmp / "layout"
    hf.oci_layout(lay, [good], config=cfg)
    man = json.loads(hf.read_manifest(lay))
    man["annotations"] = {"deep": deep, "x": "y"}
    hf.set_manifest(lay, man)
    s = scan(tmp, f"oci:{lay}")
    found(s, kl, "config.Labels.aws_access_key_id", "config")
    found(s, kg, "/app/good.txt", layer=0)


@test
def huge_manifest(tmp):
    """A manifest.json over the 16 MiB limit: a warning naming it and the limit, and an error
    (the image cannot be resolved: exit 2), for a docker-archive: target and for the same file
    as a bare path (which is an image, not a plain tar, because it holds a manifest.json); the
    layer that was read is still reported, named by its blob."""
    good, kg = good_layer()
    man = [{"Config": "x.json", "RepoTags": ["big:1"], "Layers": ["0000/layer.tar"],
            "pad": " " * (17 * MiB)}]
    path = hf.docker_archive(tmp / "img.tar", [good], manifest=man)
    for target in (f"docker-archive:{path}", str(path)):
        s = scan(tmp, target, rc=(2,))
        message(s, "warning", target, "manifest.json", r"16777216")
        message(s, "error", target, "manifest.json", r".")
        found(s, kg, "/0000/layer.tar!/app/good.txt")


@test
def huge_oci_index(tmp):
    """An OCI layout whose index.json is over the 16 MiB limit: exit 2 with an error naming
    index.json and saying why (its size), not that there is no index."""
    good, _ = good_layer()
    lay = tmp / "layout"
    hf.oci_layout(lay, [good], index=b'{"manifests":[]' + b" " * (17 * MiB) + b"}")
    for target in (f"oci:{lay}", str(lay)):
        s = scan(tmp, target, rc=(2,))
        message(s, "error", target, "index.json", r"larger than 16777216")


@test
def huge_config(tmp):
    """A config over the 16 MiB limit: a warning and an error naming it (exit 2); the layers
    are still attributed (layer index) and their keys reported."""
    good, kg = good_layer()
    cfg = hf.config_doc([good.diff_id], extra={"pad": " " * (17 * MiB)})
    path = hf.docker_archive(tmp / "img.tar", [good], config=cfg)
    target = f"docker-archive:{path}"
    s = scan(tmp, target, rc=(2,))
    message(s, "warning", target, ".json", r"16777216")
    message(s, "error", target, ".json", r".")
    found(s, kg, "/app/good.txt", layer=0)


@test
def config_with_100k_env_vars(tmp):
    """A config with 100,000 Env entries, 100,000 Labels and 100,000 history steps (about
    12 MB): keys at Env[0], Env[50000], Env[99999] and in the last label are all found, in
    bounded time."""
    good, kg = good_layer()
    keys = {i: key() for i in (0, 50_000, 99_999)}
    env = [f"AWS_ACCESS_KEY_ID={keys[i]}" if i in keys else f"VAR_{i}=value{i}"
           for i in range(100_000)]
    kl = key()
    labels = {f"l{i}": str(i) for i in range(99_999)}
    labels["aws_access_key_id"] = kl
    hist = [{"created_by": f"ENV VAR_{i}=value{i}", "empty_layer": True} for i in range(99_999)]
    hist.append({"created_by": "COPY . /"})
    cfg = hf.config_doc([good.diff_id], env=env, history=hist)
    cfg["config"]["Labels"] = labels
    path = hf.docker_archive(tmp / "img.tar", [good], config=cfg)
    s = scan(tmp, str(path), limit=60)
    no_errors(s)
    for i, k in keys.items():
        found(s, k, f"config.Env[{i}]", "config")
    found(s, kl, "config.Labels.aws_access_key_id", "config")
    f = found(s, kg, "/app/good.txt", layer=0)[0]
    check(loc(f)["layer"]["created_by"] == "COPY . /", "history paired past 99,999 empty steps",
          s.res)


@test
def duplicate_entries_in_image_archive(tmp):
    """Two entries named 0000/layer.tar (the second wins, as when the tar is extracted) and
    two manifest.json (the last wins): the winning layer is reported as layer 0; the key of
    the shadowed one is not silently dropped: a warning names it."""
    first, k1 = good_layer("app/first.txt")
    second, k2 = good_layer("app/second.txt")
    bogus = [{"Config": "nope.json", "RepoTags": ["bogus:1"], "Layers": ["nope.tar"]}]
    path = hf.docker_archive(tmp / "img.tar", [second],
                             entries_before=[entry("0000/layer.tar", first.blob),
                                             entry("manifest.json", json.dumps(bogus))])
    target = f"docker-archive:{path}"
    s = scan(tmp, target)
    found(s, k2, "/app/second.txt", "present", 0)
    message(s, "warning", target, "0000/layer.tar", r"no image uses")
    check(not [f for f in s.doc["findings"] if loc(f).get("image") == "bogus:1"],
          "the first manifest.json was used", s.res)


@test
def duplicate_entries_in_layers(tmp):
    """The same path twice in one layer, and again in the next layer: the first two are
    scanned (both keys reported), the later layer's copy makes the earlier ones overwritten;
    the same layer listed three times in the manifest is reported three times."""
    ka, kb, kc = key(), key(), key()
    l0 = Layer(tar([("app/dup.txt", aws_line(ka)), ("app/dup.txt", aws_line(kb))]), "gzip")
    l1 = Layer(tar([("app/dup.txt", aws_line(kc))]), "gzip")
    path = hf.docker_archive(tmp / "img.tar", [l0, l1])
    s = scan(tmp, str(path))
    found(s, ka, "/app/dup.txt", "overwritten", 0)
    found(s, kb, "/app/dup.txt", "overwritten", 0)
    found(s, kc, "/app/dup.txt", "present", 1)
    cfg = hf.config_doc([l1.diff_id] * 3)
    path = hf.docker_archive(tmp / "img3.tar", [l1, l1, l1], config=cfg,
                             names=["same.tar", "same.tar", "same.tar"])
    s = scan(tmp, str(path))
    fs = found(s, kc, "/app/dup.txt")
    check(sorted((layer_of(f), f["state"]) for f in fs) ==
          [(0, "overwritten"), (1, "overwritten"), (2, "present")],
          f"{[(layer_of(f), f['state']) for f in fs]}", s.res)


# =========================================================================== 7. rules


@test
def catastrophic_regex_rules(tmp):
    """A rules file with catastrophically backtracking patterns ((x+x+)+[yz], (a|aa)+$, a
    nested star with a backreference) run on 18 MB built to trigger them: PCRE2's match and
    JIT stack limits bound each search, a warning names the rule, the target and the file;
    the built-in rules still find the key in the next file; both engines."""
    rules = {"rules": [
        {"id": "evil-nested", "title": "nested quantifiers", "severity": "high",
         "keywords": ["x"], "regex": "(?<secret>(x+x+)+[yz])",
         "examples": {"positive": ["xxy"], "negative": ["xx"]}},
        {"id": "evil-alternation", "title": "overlapping alternation", "severity": "high",
         "keywords": ["a"], "regex": "(?<secret>(a|aa)+$)", "max_span": 4096,
         "examples": {"positive": ["aa"], "negative": ["b"]}},
        {"id": "evil-backref", "title": "backreference", "severity": "high",
         "keywords": ["q"], "regex": "(?<secret>(q*)*\\2*z)",
         "examples": {"positive": ["qz"], "negative": ["q"]}}]}
    (tmp / "evil.json").write_text(json.dumps(rules))
    d = tmp / "d"
    d.mkdir()
    (d / "a-evil.txt").write_text(("x" * 300 + " ") * 30000 + ("a" * 5000 + "b\n") * 200 +
                                  "q" * 50000)
    k = key()
    (d / "b-good.txt").write_text(aws_line(k))
    for engine in ("auto", "pcre2"):
        s = scan(tmp, str(d), opts=("--rules", str(tmp / "evil.json"), "--engine", engine),
                 limit=30)
        message(s, "warning", str(d), "a-evil.txt", r"rule evil-.*(limit)")
        found(s, k, "b-good.txt")


@test
def hostile_rules_files(tmp):
    """Rules files that are hostile themselves: nested 100,000 deep, a FIFO (never waited on),
    a regex that does not compile, 2,000 rules of 50 alternatives each: exit 2 with the file
    named, or (for the big but valid one) a normal scan; bounded time."""
    k = key()
    (tmp / "f.txt").write_text(aws_line(k))
    (tmp / "deep.json").write_bytes(b'{"rules":' + nested(100_000) + b"}")
    os.mkfifo(tmp / "fifo.json")
    bad = {"rules": [{"id": "bad-regex", "title": "t", "severity": "low", "keywords": ["k"],
                      "regex": "(?<secret>k(", "examples": {"positive": ["k"],
                                                            "negative": ["x"]}}]}
    (tmp / "bad.json").write_text(json.dumps(bad))
    for name in ("deep.json", "fifo.json", "bad.json"):
        s = scan(tmp, str(tmp / "f.txt"), opts=("--rules", str(tmp / name)), rc=(2,), limit=20,
                 reported=False)
        check(name in s.err, f"stderr should name {name}", s.res)
    many = {"rules": [{"id": f"many-{i}", "title": "t", "severity": "low",
                       "keywords": [f"kw{i}z"],
                       "regex": f"(?<secret>kw{i}z(?:" + "|".join(f"{j:03d}" for j in range(50))
                                + "))",
                       "examples": {"positive": [f"kw{i}z001"], "negative": ["x"]}}
                      for i in range(2_000)]}
    (tmp / "many.json").write_text(json.dumps(many))
    s = scan(tmp, str(tmp / "f.txt"), opts=("--rules", str(tmp / "many.json")), limit=120)
    found(s, k, str(tmp / "f.txt"))


# ===================================================== 8. the report as an output channel


@test
def shared_reports_never_hold_secrets(tmp):
    """The CI log and what CI uploads are read by many: with --show-secrets (the user's own
    choice, for their terminal) the JSON and text reports show the key, but the SARIF report
    (code scanning) and the GitLab report (the security dashboard) still never hold it, as
    docs/output.md says; the layer cache never does, whatever the options."""
    good, kg = good_layer()
    path = hf.docker_archive(tmp / "img.tar", [good])
    out = tmp / "out"
    out.mkdir()
    res = run("scan", "--show-secrets", "-o", f"json={out}/r.json", "-o", f"sarif={out}/r.sarif",
              "-o", f"gitlab={out}/r.gitlab.json", "--color", "never", str(path),
              timeout=30 * SLOW, cwd=out, env={"XDG_CACHE_HOME": str(tmp / "cache")})
    check(res.rc == 1 and b"Sanitizer" not in res.err, f"exit {res.rc}", res)
    check(kg.encode() in res.out and kg.encode() in (out / "r.json").read_bytes(),
          "--show-secrets shows the key in the text and JSON reports", res)
    for name in ("r.sarif", "r.gitlab.json"):
        data = (out / name).read_bytes()
        json.loads(data)
        check(kg.encode() not in data, f"{name} holds the raw key with --show-secrets", res)
    cached = b"".join(p.read_bytes() for p in (tmp / "cache").rglob("*") if p.is_file())
    check(kg.encode() not in cached, "the layer cache holds the raw key", res)


# ============================================================ 9. directory targets


@test
def special_files_in_directory(tmp):
    """A directory target holding a FIFO (with no writer: opening it to read would block, and
    it must not even be opened: a writer thread would see it), a unix socket, a character
    device, symlink loops, a dangling symlink and a mode-000 file: no block, special files
    skipped (counted), the regular files scanned (the mode-000 one too when running as root,
    which reads everything; as another user it is an error naming it)."""
    d = tmp / "tree"
    d.mkdir()
    ka, kz, k0 = key(), key(), key()
    (d / "a.txt").write_text(aws_line(ka))
    os.mkfifo(d / "m-fifo")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(d / "m-socket"))
    try:
        os.mknod(d / "m-null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pass
    os.symlink("m-loop", d / "m-loop")
    os.symlink(".", d / "m-dirloop")
    os.symlink("/nonexistent/x", d / "m-dangling")
    (d / "m-locked.txt").write_text(aws_line(k0))
    os.chmod(d / "m-locked.txt", 0)
    (d / "z.txt").write_text(aws_line(kz))
    opened = []
    done = threading.Event()

    def writer():
        fd = os.open(d / "m-fifo", os.O_WRONLY)  # blocks until someone opens it to read
        if not done.is_set():
            opened.append(True)
        os.close(fd)
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        root = os.geteuid() == 0
        s = scan(tmp, str(d), rc=(1,) if root else (2,), limit=20)
        if root:
            found(s, k0, "m-locked.txt")
        else:
            message(s, "error", str(d), "m-locked.txt", r".")
        check(s.doc["stats"]["skipped"] >= 3, f"skipped {s.doc['stats']}", s.res)
        check(not opened, "the FIFO was opened for reading", s.res)
        found(s, ka, "a.txt")
        found(s, kz, "z.txt")
        check(not [f for f in s.doc["findings"] if "m-dirloop" in loc(f)["path"]],
              "a symlink to . was followed", s.res)
    finally:
        done.set()
        fd = os.open(d / "m-fifo", os.O_RDONLY | os.O_NONBLOCK)  # release the writer
        t.join(5)
        os.close(fd)
        sock.close()
        os.chmod(d / "m-locked.txt", 0o600)


@test
def special_files_in_oci_layout(tmp):
    """An OCI layout whose layer blob is a FIFO and whose config blob is a FIFO (oci:DIR), and
    a directory whose index.json is a FIFO: never blocks; errors naming the blobs (exit 2);
    the other layer is scanned."""
    good, kg = good_layer()
    lay = tmp / "layout"
    hf.oci_layout(lay, [good])
    man = json.loads(hf.read_manifest(lay))
    fifo_layer, fifo_cfg = "sha256:" + "2" * 64, "sha256:" + "3" * 64
    os.mkfifo(lay / "blobs" / "sha256" / fifo_layer[7:])
    os.mkfifo(lay / "blobs" / "sha256" / fifo_cfg[7:])
    man["layers"].append({"mediaType": hf.MT_LAYER["gzip"], "digest": fifo_layer, "size": 1})
    man["config"]["digest"] = fifo_cfg
    hf.set_manifest(lay, man)
    target = f"oci:{lay}"
    s = scan(tmp, target, rc=(2,), limit=20)
    message(s, "error", target, "2222222222", r"regular file")
    message(s, "error", target, "3333333333", r"regular file")
    found(s, kg, "/app/good.txt", layer=0)
    lay2 = tmp / "layout2"
    hf.oci_layout(lay2, [good])
    (lay2 / "index.json").unlink()
    os.mkfifo(lay2 / "index.json")
    s = scan(tmp, f"oci:{lay2}", rc=(2,), limit=20)
    message(s, "error", f"oci:{lay2}", "index.json", r"regular file")


@test
def deep_directory_tree(tmp):
    """A directory tree 300 levels deep (past the 256 limit) with a key at the top and one at
    the bottom: a warning names the directory not descended into; the top key is found."""
    d = tmp / "deep"
    d.mkdir()
    k_top = key()
    (d / "top.txt").write_text(aws_line(k_top))
    p = d
    for _ in range(300):
        p = p / "d"
        p.mkdir()
    k_bottom = key()
    (p / "bottom.txt").write_text(aws_line(k_bottom))
    s = scan(tmp, str(d), limit=20)
    message(s, "warning", str(d), "d/d/d", r"deeper than 256")
    found(s, k_top, "top.txt")
    not_found(s, k_bottom, "past the depth limit")


def main(argv):
    return run_suite(TESTS, argv, "hostile",
                     header=f"; {'sanitizer build' if SANITIZED else 'normal build'}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
