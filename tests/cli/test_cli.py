#!/usr/bin/env python3
"""test_cli.py: black-box tests of the rummage binary.

Each test runs the binary ($RUMMAGE, default build/rummage) in its own temporary directory on
inputs it builds itself: every secret is generated at test time (random tokens with valid
checksums, a fresh `openssl genrsa` key), never stored in the repository. Output is TAP:
`ok N - name` / `not ok N - name` with `# ` detail lines; the exit status is 1 if any test
failed. Run one test with `python3 tests/cli/test_cli.py NAME...`. Standard library only.
"""
import json
import os
import random
import re
import shutil
import stat
import string
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "samples"))
from generate import checksummed  # noqa: E402  (samples/generate.py)

ROOT = Path(__file__).resolve().parents[2]
RUMMAGE = os.path.abspath(os.environ.get("RUMMAGE") or str(ROOT / "build" / "rummage"))
SEED = int(os.environ.get("RUMMAGE_TEST_SEED") or int.from_bytes(os.urandom(4), "big"))
rng = random.Random(SEED)

# ---------------------------------------------------------------------------- harness

TESTS = []


def test(fn):
    """Registers a test: a function taking its temporary directory (also the cwd)."""
    TESTS.append(fn)
    return fn


class Skip(Exception):
    pass


class Result:
    def __init__(self, cmd, rc, out, err):
        self.cmd, self.rc, self.out, self.err = cmd, rc, out, err

    @property
    def both(self):
        return self.out + self.err

    def describe(self):
        def cut(b):
            s = b.decode("utf-8", "backslashreplace")
            return s if len(s) < 1500 else s[:1500] + "...(cut)"
        cmd = " ".join(c.decode("utf-8", "backslashreplace") if isinstance(c, bytes) else str(c)
                       for c in self.cmd)
        return f"command: {cmd}\nexit: {self.rc}\nstdout: {cut(self.out)}\nstderr: {cut(self.err)}"


def run(*args, input=None, timeout=180, cwd=None, prefix=(), env=None):
    cmd = [*prefix, RUMMAGE, *[a if isinstance(a, bytes) else str(a) for a in args]]
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd, env=e)
    except subprocess.TimeoutExpired as ex:
        raise AssertionError(f"timed out after {timeout}s: {cmd}") from ex
    return Result(cmd, p.returncode, p.stdout, p.stderr)


def check(cond, msg, res=None):
    if not cond:
        raise AssertionError(msg + ("\n" + res.describe() if res is not None else ""))


def expect_rc(res, rc, what=""):
    check(res.rc == rc, f"expected exit {rc}{' (' + what + ')' if what else ''}, got {res.rc}",
          res)
    check(b"AddressSanitizer" not in res.err and b"runtime error:" not in res.err,
          "sanitizer report on stderr", res)


def parse_json(res):
    try:
        text = res.out.decode("utf-8")  # strict: JSON output must be UTF-8
    except UnicodeDecodeError as ex:
        raise AssertionError(f"output is not UTF-8: {ex}\n{res.describe()}")
    try:
        return json.loads(text)
    except ValueError as ex:
        raise AssertionError(f"output is not JSON: {ex}\n{res.describe()}")


def scan_json(*args, rc=None, **kw):
    res = run("scan", "--format", "json", *args, **kw)
    if rc is not None:
        expect_rc(res, rc)
    return res, parse_json(res)


def strip_seconds(doc):
    doc = json.loads(json.dumps(doc))
    doc.get("stats", {}).pop("seconds", None)
    return doc


def write(path, data, mode=None):
    path = Path(path) if not isinstance(path, bytes) else path
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def run_suite(tests, argv, label, quiet=(AssertionError,), header=""):
    """The TAP runner every CLI test file shares: runs the tests named in argv[1:] (all when
    none; an unknown name is exit 2), each in its own temporary directory (also the cwd),
    prints `ok N - name` / `not ok N - name` with `#   ` detail lines (just the message for
    the exception types in `quiet`, a traceback for anything else), and `# N passed, N failed`
    last. Returns the exit status: 1 if a test failed."""
    only = set(argv[1:])
    selected = [t for t in tests if not only or t.__name__ in only]
    unknown = only - {t.__name__ for t in tests}
    if unknown:
        print(f"unknown test(s): {' '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    print(f"1..{len(selected)}")
    print(f"# rummage: {RUMMAGE}; seed {SEED} (RUMMAGE_TEST_SEED to repeat){header}")
    failed = 0
    home = os.getcwd()
    for n, fn in enumerate(selected, 1):
        tmp = tempfile.mkdtemp(prefix=f"rmg-{label}-{fn.__name__}-")
        t0 = time.monotonic()
        os.chdir(tmp)
        try:
            fn(Path(tmp))
            print(f"ok {n} - {fn.__name__}")
        except Skip as ex:
            print(f"ok {n} - {fn.__name__} # SKIP {ex}")
        except Exception as ex:  # noqa: BLE001: every failure is reported, the run goes on
            failed += 1
            print(f"not ok {n} - {fn.__name__}")
            detail = str(ex) if isinstance(ex, quiet) else traceback.format_exc()
            for line in detail.splitlines():
                print(f"#   {line}")
        finally:
            os.chdir(home)
            # Tests make unreadable directories on purpose: make them removable.
            for dirpath, dirnames, _ in os.walk(tmp):
                for d in dirnames:
                    full = os.path.join(dirpath, d)
                    if not os.path.islink(full):
                        try:
                            os.chmod(full, stat.S_IRWXU)
                        except OSError:
                            pass
            shutil.rmtree(tmp, ignore_errors=True)
        if os.environ.get("RUMMAGE_TEST_TIMES"):
            print(f"# {time.monotonic() - t0:.1f} s")
        sys.stdout.flush()
    print(f"# {len(selected) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv):
    return run_suite(TESTS, argv, "cli")


# ---------------------------------------------------------------------- secret makers

ALNUM = string.ascii_letters + string.digits


def rand(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def github_token():
    """ghp_ + 30 random base62 + the 6-char base62 CRC32 of those 30 (GitHub's scheme: the
    prefix is not checksummed); the one generator the demo sample uses too."""
    return checksummed(rng, "ghp_")


def aws_key_id():
    return "AKIA" + rand(string.ascii_uppercase + "234567", 16)


def stripe_live():
    return "sk_live_" + rand(ALNUM, 24)


def stripe_test():
    return "sk_test_" + rand(ALNUM, 24)


def private_key():
    p = subprocess.run(["openssl", "genrsa", "1024"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=True)
    pem = p.stdout.decode().strip()
    check("PRIVATE KEY-----" in pem, "openssl genrsa gave no PEM key")
    return pem


def filler_line(i):
    return f"line {i}: the quick brown fox jumps over the lazy dog\n"


def findings_of(doc, rule=None):
    return [f for f in doc["findings"] if rule is None or f["rule"] == rule]


def secret_locs(doc):
    """(path, line, column, rule) of each finding, sorted."""
    return sorted((f["location"]["path"], f["location"]["line"], f["location"]["column"],
                   f["rule"]) for f in doc["findings"])


def line_col(data, off):
    """1-based line and byte column of offset off in bytes data."""
    line = data.count(b"\n", 0, off) + 1
    col = off - (data.rfind(b"\n", 0, off) + 1) + 1
    return line, col


_rules_cache = {}


def builtin_rules():
    if "list" not in _rules_cache:
        res = run("rules", "list", "--format", "json")
        expect_rc(res, 0)
        _rules_cache["list"] = parse_json(res)
    return _rules_cache["list"]


def have_vectorscan():
    res = run("--version")
    return b"pcre2 only" not in res.out


def joined(pieces):
    """A test secret written in pieces, '|' between them, as the test uses it: the pieces joined.
    The sources (and their .pyc) so never spell a whole secret, and rummage finds none when it
    scans its own tree (test_ecosystem.py, self_scan_finds_nothing); tests/unit/support.h does
    the same for the C tests."""
    return pieces.replace("|", "")


# Made-up tokens of the custom rule below (acme_ and 20 of [a-z0-9]).
ACME_TOKEN = joined("acme_q8w3|e7r1t5y9u2i4o6p0")
ACME_TOKEN_2 = joined("acme_m3n8|b1v6c4x9z2l7k5j0")

CUSTOM_RULES = {
    "rules": [{
        "id": "test-acme-token",
        "title": "ACME test token",
        "severity": "high",
        "keywords": ["acme_"],
        "regex": "(?<![a-z0-9_])(?<secret>acme_[a-z0-9]{20})(?![a-z0-9])",
        "examples": {
            "positive": ["key = " + ACME_TOKEN,
                         {"text": f"t:{ACME_TOKEN_2} ", "secret": ACME_TOKEN_2}],
            "negative": ["acme_short", "x" + ACME_TOKEN],
        },
    }]
}


def acme_token():
    return "acme_" + rand(string.ascii_lowercase + string.digits, 20)


# ------------------------------------------------------------------------ exit codes


@test
def exit_0_on_clean_directory(tmp):
    d = tmp / "clean"
    for i in range(5):
        write(d / f"f{i}.txt", "".join(filler_line(k) for k in range(50)))
    res = run("scan", d)
    expect_rc(res, 0)
    check(b"No secrets found" in res.out, "text report should say nothing was found", res)
    res, doc = scan_json(d, rc=0)
    check(doc["findings"] == [] and doc["errors"] == [], "no findings, no errors", res)
    check(doc["stats"]["files"] == 5, f"stats.files should be 5: {doc['stats']}", res)


@test
def exit_1_on_finding(tmp):
    write(tmp / "d" / "app.env", f"GITHUB_TOKEN={github_token()}\n")
    expect_rc(run("scan", tmp / "d"), 1)
    expect_rc(run("scan", tmp / "d" / "app.env"), 1)


@test
def exit_2_on_missing_target(tmp):
    res = run("scan", tmp / "does-not-exist")
    expect_rc(res, 2)
    check(b"does-not-exist" in res.err, "stderr should name the missing target", res)


@test
def exit_2_on_usage_errors(tmp):
    write(tmp / "f.txt", "hello\n")
    cases = [
        ["scan", "--no-such-option", "f.txt"],
        ["scan", "--format", "xml", "f.txt"],
        ["scan", "--fail-on", "urgent", "f.txt"],
        ["scan", "--jobs", "0", "f.txt"],
        ["scan", "--jobs", "many", "f.txt"],
        ["scan", "--engine", "regex", "f.txt"],
        ["scan", "--chunk-size", "0", "f.txt"],
        ["scan", "--color", "sometimes", "f.txt"],
        ["scan"],
        ["frobnicate"],
        ["rules", "remove"],
        [],
    ]
    for args in cases:
        res = run(*args)
        expect_rc(res, 2, " ".join(args))
        check(res.err.strip() != b"", f"a usage error must be explained on stderr: {args}", res)
        check(b"ghp_" not in res.out, "no report for a usage error", res)


@test
def exit_2_on_bad_rules_file(tmp):
    write(tmp / "f.txt", "hello\n")
    write(tmp / "broken.json", '{"rules": [ {"id": "x", ')
    res = run("scan", "--rules", "broken.json", "f.txt")
    expect_rc(res, 2, "invalid JSON rules file")
    check(b"broken.json" in res.err, "stderr should name the rules file", res)
    bad = json.loads(json.dumps(CUSTOM_RULES))
    del bad["rules"][0]["regex"]
    write(tmp / "noregex.json", json.dumps(bad))
    res = run("scan", "--rules", "noregex.json", "f.txt")
    expect_rc(res, 2, "rule without regex")
    check(b"noregex.json" in res.err and b"test-acme-token" in res.err and b"regex" in res.err,
          "stderr should name the file, the rule and the key", res)
    res = run("scan", "--rules", "nowhere.json", "f.txt")
    expect_rc(res, 2, "missing rules file")
    check(b"nowhere.json" in res.err, "stderr should name the missing rules file", res)


@test
def exit_2_on_bad_config(tmp):
    write(tmp / "f.txt", f"t={github_token()}\n")
    write(tmp / ".rummage.json", "{ not json")
    res = run("scan", "f.txt")
    expect_rc(res, 2, "invalid ./.rummage.json")
    check(b".rummage.json" in res.err, "stderr should name the config file", res)
    expect_rc(run("scan", "--no-config", "f.txt"), 1, "--no-config ignores ./.rummage.json")
    write(tmp / "other.json", '["allow"]')
    res = run("scan", "--no-config", "--config", "other.json", "f.txt")
    expect_rc(res, 2, "config that is not an object")
    check(b"other.json" in res.err, "stderr should name the config file", res)
    res = run("scan", "--no-config", "--config", "absent.json", "f.txt")
    expect_rc(res, 2, "missing --config file")
    check(b"absent.json" in res.err, "stderr should name the missing config", res)


@test
def partial_results_reported_with_exit_2(tmp):
    tok = github_token()
    write(tmp / "good.txt", f"token={tok}\n")
    res, doc = scan_json("good.txt", "missing.txt", rc=2)
    check(len(findings_of(doc, "github-pat-classic")) == 1,
          "the finding in the good target must still be reported", res)
    errs = [e for e in doc["errors"] if e["target"] == "missing.txt"]
    check(len(errs) == 1 and errs[0]["message"], f"one error for missing.txt: {doc['errors']}", res)
    check(b"missing.txt" in res.err, "the error must be on stderr", res)
    res = run("scan", "missing.txt", "good.txt")
    expect_rc(res, 2)
    check(b"github-pat-classic" in res.out, "text report still lists the finding", res)
    res = run("scan", "--fail-on", "critical", "good.txt", "missing.txt")
    expect_rc(res, 2, "an input error wins over --fail-on")


@test
def fail_on_threshold(tmp):
    write(tmp / "t.env", f"STRIPE_KEY={stripe_test()}\n")
    res, doc = scan_json("t.env", rc=1)
    sev = {f["severity"] for f in doc["findings"]}
    check(sev == {"medium"}, f"precondition: medium-only findings, got {sev}", res)
    expect_rc(run("scan", "--fail-on", "high", "t.env"), 0, "medium < high")
    expect_rc(run("scan", "--fail-on", "critical", "t.env"), 0, "medium < critical")
    expect_rc(run("scan", "--fail-on", "medium", "t.env"), 1, "medium >= medium")
    expect_rc(run("scan", "--fail-on", "low", "t.env"), 1, "medium >= low")
    expect_rc(run("scan", "--fail-on", "HIGH", "t.env"), 0, "severity is case-insensitive")
    res, doc = scan_json("--fail-on", "high", "t.env", rc=0)
    check(len(doc["findings"]) == 1, "findings below --fail-on are still reported", res)


# --------------------------------------------------------------------- JSON and text


@test
def json_report_shape(tmp):
    tok = github_token()
    write(tmp / "d" / "a.txt", f"x={tok}\n")
    write(tmp / "d" / "b.txt", "nothing here\n")
    write(tmp / "d" / "c.txt", "")
    sizes = sum(os.path.getsize(tmp / "d" / n) for n in ("a.txt", "b.txt", "c.txt"))
    version = re.search(rb"rummage (\S+)", run("--version").out)
    res, doc = scan_json("d", "gone", rc=2)
    check(isinstance(doc, dict), "top level is an object", res)
    for key in ("tool", "findings", "errors", "stats"):
        check(key in doc, f"missing top-level key {key!r}", res)
    check(doc["tool"].get("name") == "rummage", f"tool.name: {doc['tool']}", res)
    check(version and doc["tool"].get("version") == version.group(1).decode(),
          f"tool.version should match --version: {doc['tool']}", res)
    check(isinstance(doc["findings"], list) and len(doc["findings"]) == 1,
          "one finding", res)
    f = doc["findings"][0]
    for key in ("rule", "title", "severity", "confidence", "secret", "fingerprint", "state",
                "location"):
        check(key in f, f"finding lacks {key!r}: {sorted(f)}", res)
    for key in ("rule", "title", "severity", "confidence", "secret", "fingerprint", "state"):
        check(isinstance(f[key], str) and f[key], f"finding.{key} must be a non-empty string",
              res)
    check(f["rule"] == "github-pat-classic", f"rule id: {f['rule']}", res)
    check(f["severity"] in ("low", "medium", "high", "critical"), "severity name", res)
    check(f["confidence"] in ("validated", "pattern", "entropy"), "confidence name", res)
    check(f["confidence"] == "validated", "a checksummed GitHub token is validated", res)
    check(f["state"] == "present", "state of a file finding", res)
    check(re.fullmatch(r"[0-9a-f]{64}", f["fingerprint"]), "fingerprint: 64 hex chars", res)
    loc = f["location"]
    for key in ("target", "path", "line", "column"):
        check(key in loc, f"location lacks {key!r}: {loc}", res)
    check(loc["target"] == "d" and loc["path"] == "a.txt", f"location: {loc}", res)
    check(type(loc["line"]) is int and type(loc["column"]) is int,
          "line and column are integers", res)
    check((loc["line"], loc["column"]) == (1, 3), f"line/column: {loc}", res)
    check(isinstance(doc["errors"], list) and len(doc["errors"]) == 1, "one error", res)
    e = doc["errors"][0]
    for key in ("target", "path", "message"):
        check(key in e, f"error lacks {key!r}: {e}", res)
    check(e["target"] == "gone" and e["path"] is None and isinstance(e["message"], str),
          f"error: {e}", res)
    st = doc["stats"]
    for key in ("files", "bytes", "seconds"):
        check(key in st, f"stats lacks {key!r}: {st}", res)
    check(st["files"] == 3 and st["bytes"] == sizes, f"stats: {st}, want 3 files {sizes} B",
          res)
    check(isinstance(st["seconds"], (int, float)) and st["seconds"] >= 0, "stats.seconds", res)


@test
def paths_relative_to_directory_target(tmp):
    tok = github_token()
    write(tmp / "tree" / "sub" / "deep" / "x.cfg", f"k={tok}\n")
    write(tmp / "tree" / "top.cfg", f"k={tok}\n")
    for target in ("tree", "tree/", "./tree", "./tree/", str(tmp / "tree")):
        res, doc = scan_json(target, rc=1)
        paths = sorted(f["location"]["path"] for f in doc["findings"])
        check(paths == ["sub/deep/x.cfg", "top.cfg"], f"paths for target {target!r}: {paths}",
              res)
        check(all(f["location"]["target"] == target for f in doc["findings"]),
              f"location.target should be the target as given ({target!r})", res)
    os.chdir(tmp / "tree")
    res, doc = scan_json(".", rc=1)
    paths = sorted(f["location"]["path"] for f in doc["findings"])
    check(paths == ["sub/deep/x.cfg", "top.cfg"], f"paths for target '.': {paths}", res)
    res, doc = scan_json("sub/deep/x.cfg", rc=1)
    check(doc["findings"][0]["location"]["path"] == "sub/deep/x.cfg",
          "a file target's path is the file as named", res)


@test
def line_and_column_are_exact(tmp):
    gh, aws, stripe = github_token(), aws_key_id(), stripe_live()
    data = (f"{gh}\n"                                   # line 1, column 1
            "\n"
            "# config\r\n"
            f"\t  export AWS_ACCESS_KEY_ID={aws}  # ok\n"  # line 4, after 2 bytes + ...
            f"caf\u00e9 = \u00ab{stripe}\u00bb\n"           # multi-byte chars before it
            + "".join(filler_line(i) for i in range(100))
            + f"last={gh}").encode()                    # no final newline
    write(tmp / "pos.txt", data)
    expected = []
    for secret, rule in ((gh, "github-pat-classic"), (aws, "aws-access-key-id"),
                         (stripe, "stripe-secret-key")):
        start = 0
        while (off := data.find(secret.encode(), start)) >= 0:
            expected.append(("pos.txt",) + line_col(data, off) + (rule,))
            start = off + 1
    expected.sort()
    check(("pos.txt", 1, 1, "github-pat-classic") in expected, "self-check of line_col")
    check(("pos.txt", 4, 29, "aws-access-key-id") in expected, "self-check of line_col")
    check(("pos.txt", 5, 11, "stripe-secret-key") in expected, "self-check (columns in bytes)")
    res, doc = scan_json(".", rc=1)
    check(secret_locs(doc) == expected, f"got {secret_locs(doc)}\nwant {expected}", res)
    res = run("scan", "pos.txt")
    check(b"pos.txt:4:29" in res.out, "text report shows path:line:column", res)


@test
def secrets_redacted_unless_show_secrets(tmp):
    gh, aws, stripe, pem = github_token(), aws_key_id(), stripe_live(), private_key()
    write(tmp / "d" / "env", f"GH={gh}\nAWS={aws}\nSTRIPE={stripe}\n")
    write(tmp / "d" / "id_rsa", pem + "\n")
    body_lines = [ln for ln in pem.splitlines() if "-----" not in ln and len(ln) > 16]
    raw = [gh, aws, stripe] + body_lines
    for fmt in ("text", "json"):
        res = run("scan", "--format", fmt, "d")
        expect_rc(res, 1)
        for s in raw:
            check(s.encode() not in res.both, f"raw secret {s[:6]}... printed in {fmt}", res)
        # The redacted form still tells the user what kind of thing it is.
        check(b"ghp_" in res.out, f"{fmt}: the redacted GitHub token keeps its prefix", res)
    res, doc = scan_json("--show-secrets", "d", rc=1)
    secrets = {f["secret"] for f in doc["findings"]}
    for s in (gh, aws, stripe):
        check(s in secrets, f"--show-secrets: {s[:6]}... not in JSON secrets", res)
    check(any(pem.splitlines()[1] in s for s in secrets), "--show-secrets: PEM body", res)
    res = run("scan", "--show-secrets", "d")
    expect_rc(res, 1)
    for s in (gh, aws, stripe):
        check(s.encode() in res.out, f"--show-secrets text: {s[:6]}... missing", res)
    write(tmp / "out", "")
    res = run("scan", "--format", "json", "--output", "out", "d")
    data = (tmp / "out").read_bytes()
    check(data and not any(s.encode() in data for s in raw), "--output file redacted too", res)


@test
def fingerprints_stable_and_secret_free(tmp):
    gh, gh2 = github_token(), github_token()
    write(tmp / "d" / "one.txt", f"a={gh}\n")
    write(tmp / "d" / "two" / "two.txt", "\n\n   b = " + gh + "\n")
    write(tmp / "d" / "three.txt", f"c={gh2}\n")
    _, doc1 = scan_json("d", rc=1)
    _, doc2 = scan_json("--jobs", "1", "d", rc=1)
    fp1 = {f["location"]["path"]: f["fingerprint"] for f in doc1["findings"]}
    fp2 = {f["location"]["path"]: f["fingerprint"] for f in doc2["findings"]}
    check(fp1 == fp2, f"fingerprints differ between runs: {fp1} {fp2}")
    check(set(fp1) == {"one.txt", "two/two.txt", "three.txt"}, f"findings: {sorted(fp1)}")
    check(fp1["one.txt"] == fp1["two/two.txt"], "same secret, two files: same fingerprint")
    check(fp1["one.txt"] != fp1["three.txt"], "different secrets: different fingerprints")
    for fp in fp1.values():
        for s in (gh, gh2):
            check(s not in fp and s[4:20] not in fp and s.encode().hex()[:16] not in fp,
                  "the fingerprint must not contain the secret")
    res = run("scan", "d")
    check(fp1["one.txt"][:12].encode() in res.out, "text report shows the fingerprint", res)


@test
def stdin_target(tmp):
    aws = aws_key_id()
    data = f"first\n    aws={aws}\n".encode()
    res, doc = scan_json("-", input=data, rc=1)
    check(secret_locs(doc) == [("-", 2, 9, "aws-access-key-id")], f"{secret_locs(doc)}", res)
    check(doc["findings"][0]["location"]["target"] == "-", "target of stdin is -", res)
    res = run("scan", "-", input=b"nothing to see\n" * 100)
    expect_rc(res, 0)
    res = run("scan", "-", input=b"")
    expect_rc(res, 0, "empty stdin")


# ----------------------------------------------------------------------- directories


@test
def symlinks_not_followed(tmp):
    gh = github_token()
    write(tmp / "outside" / "secret.txt", f"token={gh}\n")
    write(tmp / "tree" / "clean.txt", "hello\n")
    os.symlink(tmp / "outside" / "secret.txt", tmp / "tree" / "link.txt")
    os.symlink("../outside", tmp / "tree" / "dirlink")
    os.symlink("/nonexistent/dangling", tmp / "tree" / "dangling")
    expect_rc(run("scan", "outside"), 1, "control: the secret is found when scanned directly")
    res, doc = scan_json("tree", rc=0)
    check(doc["findings"] == [], "a symlink in a tree must not be followed", res)
    check(doc["stats"]["files"] == 1, f"only clean.txt is scanned: {doc['stats']}", res)


@test
def fifo_does_not_block(tmp):
    gh = github_token()
    write(tmp / "tree" / "a.txt", f"t={gh}\n")
    os.mkfifo(tmp / "tree" / "pipe")
    write(tmp / "tree" / "z.txt", f"t={gh}\n")
    res, doc = scan_json("tree", rc=1, timeout=30)
    check(sorted(f["location"]["path"] for f in doc["findings"]) == ["a.txt", "z.txt"],
          "files around the FIFO are scanned", res)
    res = run("scan", "tree/pipe", timeout=30)
    check(res.rc == 2 and b"pipe" in res.err, "a FIFO named as target is an input error", res)


@test
def unreadable_file_is_an_error(tmp):
    prefix = ()
    if os.geteuid() == 0:
        # Root reads mode-000 files; run the scan as nobody if we can, else skip.
        setpriv = shutil.which("setpriv")
        if not setpriv or subprocess.run([setpriv, "--reuid=65534", "--regid=65534",
                                          "--clear-groups", "true"]).returncode != 0:
            raise Skip("running as root")
        prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
        os.chmod(tmp, 0o755)
    gh, aws = github_token(), aws_key_id()
    write(tmp / "tree" / "locked.txt", f"t={gh}\n", mode=0o000)
    write(tmp / "tree" / "open.txt", f"k={aws}\n", mode=0o644)
    os.chmod(tmp / "tree", 0o755)
    res, doc = scan_json("tree", rc=2, prefix=prefix)
    check([f["location"]["path"] for f in doc["findings"]] == ["open.txt"],
          "the readable file is still reported", res)
    errs = [e for e in doc["errors"] if e["path"] == "locked.txt"]
    check(len(errs) == 1 and errs[0]["target"] == "tree", f"errors: {doc['errors']}", res)
    check(b"locked.txt" in res.err, "stderr names the unreadable file", res)


@test
def inline_allow_suppresses_line(tmp):
    a, b = github_token(), github_token()
    write(tmp / "f.py", f"A = '{a}'  # rummage:allow\nB = '{b}'\n# rummage:allow below?\n")
    res, doc = scan_json("--show-secrets", "f.py", rc=1)
    check([f["secret"] for f in doc["findings"]] == [b], "only the unmarked line", res)
    write(tmp / "g.py", f"A = '{a}'  # rummage:allow\n")
    expect_rc(run("scan", "g.py"), 0, "every finding allowed inline")


# --------------------------------------------------------------------------- config


def config_tree(tmp):
    gh, aws = github_token(), aws_key_id()
    write(tmp / "tree" / "app" / "main.env", f"GH={gh}\nAWS={aws}\n")
    write(tmp / "tree" / "vendor" / "lib" / "x.env", f"GH={github_token()}\n")
    write(tmp / "tree" / "sample.example", f"GH={github_token()}\n")
    return gh, aws


@test
def config_allow_paths(tmp):
    config_tree(tmp)
    write(tmp / ".rummage.json", json.dumps({"allow": {"paths": ["vendor/*", "*.example"]}}))
    res, doc = scan_json("tree", rc=1)
    paths = {f["location"]["path"] for f in doc["findings"]}
    check(paths == {"app/main.env"}, f"paths left: {paths}", res)
    res, doc = scan_json("--no-config", "tree", rc=1)
    paths = {f["location"]["path"] for f in doc["findings"]}
    check(paths == {"app/main.env", "vendor/lib/x.env", "sample.example"},
          f"--no-config: {paths}", res)


@test
def config_allow_rules(tmp):
    config_tree(tmp)
    write(tmp / ".rummage.json", json.dumps({"allow": {"rules": ["github-pat-classic"]}}))
    res, doc = scan_json("tree", rc=1)
    rules = {f["rule"] for f in doc["findings"]}
    check(rules == {"aws-access-key-id"}, f"rules left: {rules}", res)
    write(tmp / ".rummage.json",
          json.dumps({"allow": {"rules": ["github-pat-classic", "aws-access-key-id"]}}))
    expect_rc(run("scan", "tree"), 0, "everything allowed")


@test
def config_allow_fingerprints(tmp):
    gh, aws = config_tree(tmp)
    _, doc = scan_json("--show-secrets", "tree", rc=1)
    fp = [f["fingerprint"] for f in doc["findings"] if f["secret"] == gh]
    check(len(fp) == 1, "one finding for the GitHub token in app/main.env")
    write(tmp / "cfg.json", json.dumps({"allow": {"fingerprints": fp}}))
    res, doc = scan_json("--config", "cfg.json", "--show-secrets", "tree", rc=1)
    secrets = {f["secret"] for f in doc["findings"]}
    check(gh not in secrets and aws in secrets and len(secrets) == 3,
          f"only the allowed fingerprint goes: {len(secrets)} left", res)


@test
def config_allow_regexes(tmp):
    gh, aws = config_tree(tmp)
    write(tmp / ".rummage.json", json.dumps({"allow": {"regexes": ["^AKIA[A-Z2-7]{16}$"]}}))
    res, doc = scan_json("tree", rc=1)
    rules = {f["rule"] for f in doc["findings"]}
    check(rules == {"github-pat-classic"}, f"rules left: {rules}", res)
    write(tmp / ".rummage.json", json.dumps({"allow": {"regexes": ["(unclosed"]}}))
    res = run("scan", "tree")
    expect_rc(res, 2, "a bad allow regex")
    check(b"allow.regexes" in res.err, "stderr names the key", res)


@test
def config_explicit_file_and_rules(tmp):
    config_tree(tmp)
    tok = acme_token()
    write(tmp / "tree" / "acme.txt", f"key={tok}\n")
    write(tmp / "conf" / "custom.json", json.dumps(CUSTOM_RULES))
    write(tmp / "conf" / "scan.json",
          json.dumps({"rules": [str(tmp / "conf" / "custom.json")],
                      "allow": {"rules": ["aws-access-key-id"]}}))
    write(tmp / ".rummage.json", json.dumps({"allow": {"rules": ["github-pat-classic"]}}))
    res, doc = scan_json("--config", "conf/scan.json", "tree", rc=1)
    rules = {f["rule"] for f in doc["findings"]}
    check(rules == {"github-pat-classic", "test-acme-token"},
          f"--config replaces ./.rummage.json and adds its rules: {rules}", res)


@test
def config_bad_key_named(tmp):
    write(tmp / "f.txt", "hello\n")
    cases = [({"allowed": {"paths": []}}, b"allowed"),
             ({"allow": {"path": ["x"]}}, b"path"),
             ({"allow": {"rules": "github-pat-classic"}}, b"allow.rules"),
             ({"allow": {"paths": [""]}}, b"allow.paths"),
             ({"severity": {"github-pat-classic": "urgent"}}, b"severity.github-pat-classic"),
             ({"severity": ["low"]}, b"severity"),
             ({"options": {"fail_on": "severe"}}, b"options.fail_on"),
             ({"options": {"fail-on": "high"}}, b"options.fail-on"),
             ({"options": {"max_archive_depth": 2.5}}, b"options.max_archive_depth")]
    for cfg, key in cases:
        write(tmp / ".rummage.json", json.dumps(cfg))
        res = run("scan", "f.txt")
        expect_rc(res, 2, json.dumps(cfg))
        check(key in res.err and b".rummage.json" in res.err,
              f"stderr should name the file and {key!r}", res)


@test
def config_severity_and_options(tmp):
    """"severity" overrides a rule's severity; "options" sets defaults that the command line
    overrides."""
    config_tree(tmp)
    write(tmp / ".rummage.json", json.dumps({"severity": {"github-pat-classic": "low"},
                                             "options": {"fail_on": "high"}}))
    _, doc = scan_json("tree", rc=1)  # the AWS key id (critical) still fails at high
    sev = {f["rule"]: f["severity"] for f in doc["findings"]}
    check(sev.get("github-pat-classic") == "low", f"override applied: {sev}")
    check(sev.get("aws-access-key-id") == "critical", f"others unchanged: {sev}")
    write(tmp / ".rummage.json", json.dumps({"severity": {"aws-access-key-id": "low",
                                                          "github-pat-classic": "low"},
                                             "options": {"fail_on": "high"}}))
    res = run("scan", "tree")
    expect_rc(res, 0, "every finding low, fail_on high from the config")
    res = run("scan", "--fail-on", "low", "tree")
    expect_rc(res, 1, "--fail-on on the command line wins over options.fail_on")


@test
def images_from_and_shard(tmp):
    """--images-from FILE adds targets (comments and blank lines skipped, - is stdin); --shard
    I/N keeps targets I, I+N...: the shards of a list are disjoint and cover it; an empty shard
    is a clean run; a bad --shard is a usage error."""
    names = []
    for i in range(7):
        write(tmp / f"t{i}" / "f.env", f"GH={github_token()}\n")
        names.append(str(tmp / f"t{i}"))
    write(tmp / "list.txt", "# the fleet\n\n" + "\n".join(names[1:]) + "\n")
    seen = []
    for i in range(3):
        _, doc = scan_json(names[0], "--images-from", "list.txt", "--shard", f"{i}/3", rc=1)
        got = sorted({f["location"]["target"] for f in doc["findings"]})
        want = [n for k, n in enumerate(names) if k % 3 == i]
        check(got == want, f"shard {i}/3: {got}, want {want}")
        seen += got
    check(sorted(seen) == sorted(names), "the shards cover the list exactly once")
    _, doc = scan_json("--images-from", "-", input="\n".join(names[:2]).encode(), rc=1)
    check(len({f["location"]["target"] for f in doc["findings"]}) == 2, "--images-from -")
    res = run("scan", "--images-from", "list.txt", "--shard", "9/10")
    expect_rc(res, 0, "an empty shard")
    for bad in ("3/3", "1", "a/b", "1/0", "-1/2"):
        expect_rc(run("scan", "--shard", bad, names[0]), 2, f"--shard {bad}")
    expect_rc(run("scan", "--images-from", "missing.txt"), 2, "a missing list")


@test
def secret_hygiene_every_command_and_format(tmp):
    """Known secrets planted in a directory, a tar of it, a build context and its Dockerfile:
    every command (scan, context, baseline) in every format, with -v, through -o files, never
    prints or writes a raw secret without --show-secrets; report files are 0600; nothing is
    left in TMPDIR."""
    gh, aws, stripe, pem = github_token(), aws_key_id(), stripe_live(), private_key()
    body_lines = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
    write(tmp / "ctx" / ".env", f"GH={gh}\nAWS={aws}\n")
    write(tmp / "ctx" / "id_rsa", pem + "\n")
    write(tmp / "ctx" / "Dockerfile", f"FROM busybox\nENV STRIPE_KEY={stripe}\n"
                                       f"RUN echo {gh} > /tmp/t && rm /tmp/t\nCOPY . /app\n")
    subprocess.run(["tar", "-C", str(tmp), "-czf", str(tmp / "ctx.tgz"), "ctx"], check=True)
    raw = [gh, aws, stripe] + body_lines
    tmpdir = tmp / "tmpdir"
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir)}
    runs = []
    for fmt in ("text", "json", "sarif", "gitlab", "junit", "jsonl"):
        runs.append(("scan", "-v", "--format", fmt, "ctx", "ctx.tgz"))
        runs.append(("context", "-v", "--format", fmt, "--show-ignored", "ctx"))
    runs.append(("baseline", "ctx", "ctx.tgz"))
    for i, args in enumerate(runs):
        out_file = tmp / f"report{i}"
        res = run(*args, "-o", f"json={out_file}.json", "-o", f"sarif={out_file}.sarif",
                  env=env)
        check(res.rc in (0, 1), f"{args}: exit {res.rc}", res)
        files = [Path(f"{out_file}.json"), Path(f"{out_file}.sarif")]
        for f in files:
            check(stat.S_IMODE(os.stat(f).st_mode) == 0o600, f"{f.name} is 0600", res)
        blobs = [res.out, res.err] + [f.read_bytes() for f in files]
        for secret in raw:
            for b in blobs:
                check(secret.encode() not in b,
                      f"{args}: a raw secret ({secret[:4]}...) in an output", res)
    check(not any(tmpdir.iterdir()), f"nothing left in TMPDIR: {list(tmpdir.iterdir())}")
    # And --show-secrets does show them (the check above can fail).
    res = run("scan", "--show-secrets", "--format", "json", "ctx")
    check(gh.encode() in res.out, "--show-secrets shows the secret", res)


# ---------------------------------------------------------------------------- rules


@test
def custom_rules_file_reports(tmp):
    tok = acme_token()
    write(tmp / "d" / "a.txt", f"\n  acme: {tok}\n")
    write(tmp / "rules.json", json.dumps(CUSTOM_RULES))
    expect_rc(run("scan", "d"), 0, "the built-in rules do not know acme tokens")
    res, doc = scan_json("--rules", "rules.json", "d", rc=1)
    check(secret_locs(doc) == [("a.txt", 2, 9, "test-acme-token")], f"{secret_locs(doc)}", res)
    f = doc["findings"][0]
    check(f["title"] == "ACME test token" and f["severity"] == "high", f"{f}", res)
    write(tmp / "rdir" / "a.json", json.dumps(CUSTOM_RULES))
    write(tmp / "rdir" / "notes.txt", "not a rules file")
    res, doc = scan_json("--rules", "rdir", "d", rc=1)
    check({f["rule"] for f in doc["findings"]} == {"test-acme-token"}, "--rules DIR", res)
    res = run("rules", "list", "--rules", "rules.json")
    expect_rc(res, 0)
    check(b"test-acme-token" in res.out, "rules list shows the added rule", res)
    res = run("scan", "--rules", "rules.json", "--rules", "rules.json", "d")
    expect_rc(res, 2, "the same rule twice is a duplicate id")
    check(b"test-acme-token" in res.err, "stderr names the duplicate", res)


@test
def rules_list_text_and_json(tmp):
    res = run("rules", "list")
    expect_rc(res, 0)
    m = re.search(rb"^(\d+) rules and (\d+) Dockerfile checks, rule set ([0-9a-f]{8,})",
                  res.out, re.M)
    check(m, "text list ends with a summary", res)
    check(re.search(rb"^dockerfile-runs-as-root\s", res.out, re.M), "checks listed", res)
    for rid in (b"github-pat-classic", b"aws-access-key-id", b"stripe-secret-key"):
        check(re.search(rb"^" + rid + rb"\s", res.out, re.M), f"{rid!r} listed", res)
    res = run("rules", "list", "--format", "json")
    expect_rc(res, 0)
    doc = parse_json(res)
    check(isinstance(doc, list) and all(isinstance(r, dict) and r.get("id") for r in doc),
          "JSON list of objects with ids", res)
    ids = [r["id"] for r in doc]
    n_text = int(m.group(1)) + int(m.group(2))
    check(len(ids) == n_text, f"{len(ids)} rules in JSON, {n_text} in text", res)
    check("dockerfile-secret-removed-later" in ids, "checks in the JSON list", res)
    check(len(set(ids)) == len(ids), "ids are unique", res)
    check({"github-pat-classic", "aws-access-key-id"} <= set(ids), "known ids present", res)
    expect_rc(run("rules", "list", "extra"), 2, "rules list takes no arguments")


def rules_check_summary(res):
    m = re.search(rb"^rules check: .*: (\d+) passed, (\d+) failed$", res.out, re.M)
    check(m, "rules check prints its summary line", res)
    return int(m.group(1)), int(m.group(2))


@test
def rules_check_good_and_bad(tmp):
    write(tmp / "good.json", json.dumps(CUSTOM_RULES))
    res = run("rules", "check", "good.json")
    expect_rc(res, 0)
    passed, failed = rules_check_summary(res)
    check(passed == 4 and failed == 0, f"4 examples pass: {passed}/{failed}", res)
    bad = json.loads(json.dumps(CUSTOM_RULES))
    bad["rules"][0]["id"] = "test-acme-broken"
    bad["rules"][0]["examples"]["positive"] = ["key = acme_TOOSHORT"]
    write(tmp / "bad.json", json.dumps(bad))
    res = run("rules", "check", "bad.json")
    expect_rc(res, 1)
    check(re.search(rb"^FAIL test-acme-broken\b.*positive example 0", res.out, re.M),
          "a FAIL line names the rule and the example", res)
    _, failed = rules_check_summary(res)
    check(failed == 1, "one failure", res)
    bad["rules"][0]["examples"] = {"positive": ["key = " + ACME_TOKEN],
                                   "negative": [ACME_TOKEN_2]}
    write(tmp / "bad2.json", json.dumps(bad))
    res = run("rules", "check", "bad2.json")
    expect_rc(res, 1, "a negative example that is reported")
    check(re.search(rb"^FAIL test-acme-broken\b.*negative example 0", res.out, re.M),
          "FAIL line for the negative example", res)
    res = run("rules", "check", "nowhere.json")
    expect_rc(res, 2, "a missing rules file")


@test
def rules_check_fragmented_examples(tmp):
    """Examples stored as fragment arrays (docs/rules.md, tools/examples.py) are their joined
    text: they pass as the plain ones do, may be mixed with plain ones, and a malformed one is
    named. The fragmented file itself is no finding, for this rule or a built-in one."""
    plain = tmp / "plain.json"
    write(plain, json.dumps(CUSTOM_RULES, indent=2))
    frag = tmp / "frag.json"
    shutil.copy(plain, frag)
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "examples.py"), "defang", str(frag)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"tools/examples.py defang: {p.stderr}")
    doc = json.loads(frag.read_text())
    ex = doc["rules"][0]["examples"]
    check(all(isinstance(e, list) for e in ex["negative"]) and
          isinstance(ex["positive"][1]["text"], list), f"fragmented: {ex}")
    check(all(len(f) <= 8 for e in ex["negative"] for f in e), f"fragments of <= 8: {ex}")
    res = run("rules", "check", "frag.json")
    expect_rc(res, 0)
    check(rules_check_summary(res) == (4, 0), "4 fragmented examples pass", res)
    mixed = json.loads(frag.read_text())
    mixed["rules"][0]["examples"]["negative"][0] = "acme_short"
    write(tmp / "mixed.json", json.dumps(mixed))
    res = run("rules", "check", "mixed.json")
    expect_rc(res, 0)
    check(rules_check_summary(res) == (4, 0), "plain and fragmented mixed", res)
    # A joined fragment array is the example: one whose text differs is reported as such.
    mixed["rules"][0]["examples"]["positive"][1]["secret"] = ["acme_m3n8", "b1v6c4x9z2l7k5j1"]
    mixed["rules"][0]["examples"]["negative"][1] = ["acme_q8w3e7r1", "t5y9u2i4o6p0"]
    mixed["rules"][0]["examples"]["positive"][0] = ["key = ", 7]
    write(tmp / "bad.json", json.dumps(mixed))
    res = run("rules", "check", "bad.json")
    expect_rc(res, 1)
    check(re.search(rb"^FAIL test-acme-token\b.*positive example 0 is neither a string, a "
                    rb"fragment array nor", res.out, re.M), "a malformed fragment array", res)
    check(re.search(rb"^FAIL test-acme-token\b.*positive example 1: the secret extracted "
                    rb"differs", res.out, re.M), "the joined secret is compared", res)
    check(re.search(rb"^FAIL test-acme-token\b.*negative example 1 was reported", res.out, re.M),
          "the joined negative example is scanned", res)
    check(rules_check_summary(res)[1] == 3, "three failures", res)
    res = run("scan", "--no-config", "--no-cache", "--rules", "plain.json", "frag.json")
    expect_rc(res, 0, "the fragmented file holds no whole example")
    res = run("scan", "--no-config", "--no-cache", "--rules", "plain.json", "plain.json")
    expect_rc(res, 1, "(the plain one does)")


@test
def version_names_rule_set(tmp):
    res = run("--version")
    expect_rc(res, 0)
    m = re.search(rb"rummage \d+\.\d+\.\d+.*rule set ([0-9a-f]{8,})", res.out)
    check(m, "--version gives the version and the rule set's hash", res)
    lst = run("rules", "list")
    check(b"rule set " + m.group(1) in lst.out, "same rule set as `rules list`", lst)
    res2 = run("version")
    expect_rc(res2, 0)
    check(res2.out == res.out, "`rummage version` == `rummage --version`", res2)
    write(tmp / "r.json", json.dumps(CUSTOM_RULES))
    res3 = run("--rules", "r.json", "--version")
    expect_rc(res3, 0)
    m3 = re.search(rb"rule set ([0-9a-f]{8,})", res3.out)
    check(m3 and m3.group(1) != m.group(1), "an added rule changes the rule set hash", res3)


@test
def help_mentions_every_option(tmp):
    src = (ROOT / "src" / "cli" / "commands.c").read_text()
    table = re.search(r"static const struct option \w+\[\]\s*=\s*\{(.*?)\{\s*NULL", src, re.S)
    check(table, "cannot find the option table in src/cli/commands.c")
    parsed = set(re.findall(r'\{\s*"([a-z][a-z0-9-]*)"\s*,\s*(?:no|required|optional)_argument',
                            table.group(1)))
    check(len(parsed) >= 10, f"too few options parsed from src/cli/commands.c: {parsed}")
    for args in (["--help"], ["-h"], ["help"], ["scan", "--help"]):
        res = run(*args)
        expect_rc(res, 0, " ".join(args))
        text = res.out.decode()
        missing = sorted(o for o in parsed if not re.search(r"--" + re.escape(o) + r"\b", text))
        check(not missing, f"--help does not mention: {missing}", res)
        documented = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)", text))
        unknown = sorted(documented - parsed)
        check(not unknown, f"--help mentions options the parser lacks: {unknown}", res)


@test
def output_file_atomic_0600(tmp):
    gh = github_token()
    write(tmp / "d" / "a.txt", f"t={gh}\n")
    write(tmp / "out" / "report.json", "old report\n", mode=0o644)
    before = os.stat(tmp / "out" / "report.json").st_ino
    res = run("scan", "--format", "json", "--output", "out/report.json", "d")
    expect_rc(res, 1)
    check(b"ghp_" not in res.out, "the report goes to the file, not stdout", res)
    st = os.stat(tmp / "out" / "report.json")
    check(stat.S_IMODE(st.st_mode) == 0o600, f"mode {oct(stat.S_IMODE(st.st_mode))}", res)
    check(st.st_ino != before, "the file is replaced by rename, not rewritten in place", res)
    doc = json.loads((tmp / "out" / "report.json").read_text())
    check(len(doc["findings"]) == 1, "the report is complete", res)
    check(os.listdir(tmp / "out") == ["report.json"], f"leftovers: {os.listdir(tmp / 'out')}",
          res)
    res = run("scan", "-o", "new.txt", "d")
    expect_rc(res, 1)
    check(stat.S_IMODE(os.stat(tmp / "new.txt").st_mode) == 0o600, "new file mode 0600", res)
    check(b"github-pat-classic" in (tmp / "new.txt").read_bytes(), "text report in file", res)
    res = run("scan", "-o", "no/such/dir/r.txt", "d")
    expect_rc(res, 2, "an unwritable output")
    check(b"no/such/dir/r.txt" in res.err, "stderr names the output", res)


@test
def output_to_links_fifos_and_devices(tmp):
    """-o onto a symlink, a FIFO or a character device writes through it in place: the link
    stays a link (its target gets the report), the FIFO stays a FIFO (its reader gets the
    report), and no temporary file is left; renaming over them would replace them (a broken
    /dev/null for every later job on the machine)."""
    import threading
    gh = github_token()
    write(tmp / "d" / "a.txt", f"t={gh}\n")
    write(tmp / "target.json", "old\n")
    os.symlink("target.json", tmp / "link.json")
    res = run("scan", "--format", "json", "-o", "link.json", "d")
    expect_rc(res, 1)
    check(os.path.islink(tmp / "link.json"), "the symlink is still a symlink", res)
    check(len(json.loads((tmp / "target.json").read_text())["findings"]) == 1,
          "its target holds the report", res)
    os.mkfifo(tmp / "pipe")
    got = []
    reader = threading.Thread(target=lambda: got.append((tmp / "pipe").read_bytes()))
    reader.start()
    res = run("scan", "--format", "json", "-o", "pipe", "-o", "sarif=pipe2.sarif", "d",
              timeout=60)
    reader.join(30)
    expect_rc(res, 1)
    check(stat.S_ISFIFO(os.lstat(tmp / "pipe").st_mode), "the FIFO is still a FIFO", res)
    check(got and len(json.loads(got[0])["findings"]) == 1, "the reader got the report", res)
    # A null device of the test's own (root can make one), so that a regression cannot break
    # the machine's /dev/null; the machine's one otherwise.
    dev = tmp / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        dev = Path("/dev/null")
    before = os.lstat(dev)
    res = run("scan", "--format", "json", "-o", str(dev), "d")
    expect_rc(res, 1)
    after = os.lstat(dev)
    check(stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino, f"{dev} untouched", res)
    left = sorted(set(os.listdir(tmp)) - {"null"})
    check(left == ["d", "link.json", "pipe", "pipe2.sarif", "target.json"],
          f"no temporary files left: {left}", res)


# ------------------------------------------------------------- engine determinism


def secrets_tree(root, n_files, pem=None):
    """n_files files in nested directories, each with one to three secrets."""
    for i in range(n_files):
        lines = [filler_line(k) for k in range(rng.randint(0, 30))]
        for _ in range(rng.randint(1, 3)):
            s = rng.choice([github_token, aws_key_id, stripe_live, stripe_test])()
            lines.insert(rng.randint(0, len(lines)), f"{' ' * rng.randint(0, 8)}X_{i}={s}\n")
        if pem and i % 50 == 0:
            lines.append(pem + "\n")
        write(Path(root) / f"d{i % 7}" / f"s{i % 3}" / f"f{i:03d}.txt", "".join(lines))


@test
def jobs_give_identical_output(tmp):
    secrets_tree(tmp / "tree", 200, pem=private_key())
    res1, doc1 = scan_json("--jobs", "1", "tree", rc=1)
    check(len(doc1["findings"]) >= 200, f"{len(doc1['findings'])} findings", res1)
    check(doc1["stats"]["files"] == 200, f"stats {doc1['stats']}", res1)
    for jobs in ("2", "8"):
        res2, doc2 = scan_json("--jobs", jobs, "tree", rc=1)
        check(strip_seconds(doc1) == strip_seconds(doc2),
              f"--jobs 1 and --jobs {jobs} differ", res2)
    r1 = run("scan", "--jobs", "1", "tree")
    r2 = run("scan", "--jobs", "2", "tree")
    strip = lambda b: re.sub(rb"scanned in [0-9.]+ s", b"", b)  # noqa: E731
    check(strip(r1.out) == strip(r2.out), "text reports differ between --jobs 1 and 2", r2)


@test
def engines_give_identical_findings(tmp):
    if not have_vectorscan():
        raise Skip("this build has no Vectorscan")
    secrets_tree(tmp / "tree", 40, pem=private_key())
    gh, aws = github_token(), aws_key_id()
    write(tmp / "tree" / "edge.txt", f"{gh}{aws} {aws}\n{gh}")  # adjacent, and at EOF
    write(tmp / "tree" / "bin.dat", b"\x00\x01" + aws.encode() + b"\x00" + gh.encode())
    res1, doc1 = scan_json("--engine", "pcre2", "tree", rc=1)
    res2, doc2 = scan_json("--engine", "vectorscan", "tree", rc=1)
    check(len(doc1["findings"]) >= 40, f"{len(doc1['findings'])} findings", res1)
    only1 = set(secret_locs(doc1)) - set(secret_locs(doc2))
    only2 = set(secret_locs(doc2)) - set(secret_locs(doc1))
    check(strip_seconds(doc1) == strip_seconds(doc2),
          f"engines differ: pcre2 only {sorted(only1)[:5]}, vectorscan only {sorted(only2)[:5]}",
          res2)


@test
def chunk_boundaries_do_not_change_findings(tmp):
    pem = private_key()
    makers = [(github_token, "github-pat-classic"), (aws_key_id, "aws-access-key-id"),
              (stripe_live, "stripe-secret-key")]
    data = bytearray("".join(filler_line(i) for i in range(26000)).encode())  # ~1.3 MB
    placed = []  # (offset, secret bytes, rule or None for the PEM)
    # Secrets straddling, starting at and ending at chunk-like boundaries, plus a dense run
    # where consecutive secrets are closer than any overlap, and random places.
    spots = set()
    for b in [k * 1000 for k in range(1, 40)] + [k * 4096 for k in range(1, 20)] + \
             [1048576, 1048576 + 4096, 1048576 + 1000]:
        spots.update({b - 20, b, b - 40})
    spots.update(600000 + 90 * k for k in range(60))
    spots.update(rng.randrange(100, len(data) - 3000) for _ in range(60))
    pem_b = pem.encode()
    pem_spots = [4096 * 30 - 450, 1048576 - 300]  # private keys across boundaries
    busy = [(o - 2, o + len(pem_b) + 2) for o in pem_spots]
    last_end = -1
    for off in sorted(spots):
        maker, rule = rng.choice(makers)
        s = maker().encode()
        if off <= last_end + 2 or any(off - 2 < e and off + len(s) + 2 > a for a, e in busy):
            continue
        data[off - 1:off + len(s) + 1] = b"\n" + s + b"\n"
        placed.append((off, s, rule))
        last_end = off + len(s)
    for off in pem_spots:
        data[off - 1:off + len(pem_b) + 1] = b"\n" + pem_b + b"\n"
        placed.append((off, pem_b, None))
    data = bytes(data)
    check(all(data[o:o + len(x)] == x for o, x, _ in placed), "self-check of placements")
    check(len(data) > 1048576 + 8192, "the file is bigger than the largest chunk")
    write(tmp / "big" / "big.txt", data)
    want = sorted(("big.txt",) + line_col(data, off) for off, _, _ in placed)
    results = {}
    for cs in ("1048576", "4096", "1000"):
        res, doc = scan_json("--chunk-size", cs, "big", rc=1, timeout=600)
        results[cs] = (res, doc)
        got = sorted((f["location"]["path"], f["location"]["line"], f["location"]["column"])
                     for f in doc["findings"])
        check(got == want, f"--chunk-size {cs}: {len(got)} findings, want {len(want)}; "
                           f"missing {sorted(set(want) - set(got))[:5]}, "
                           f"extra {sorted(set(got) - set(want))[:5]}", res)
    base = strip_seconds(results["1048576"][1])
    for cs in ("4096", "1000"):
        check(strip_seconds(results[cs][1]) == base,
              f"--chunk-size {cs} differs from 1048576", results[cs][0])


# ------------------------------------------------------------------ file contents


GENERIC_RULES = {
    "rules": [{
        "id": "test-generic-password",
        "title": "Password assignment (test)",
        "severity": "medium",
        "generic": True,
        "keywords": ["rmgtest-pw"],
        "regex": "rmgtest-pw<(?<secret>[A-Za-z0-9]{12,40})>",
        "examples": {"positive": ["rmgtest-pw<Zq8rT2mVx9Lp4Kw7>"],
                     "negative": ["rmgtest-pw<short>"]},
    }]
}


@test
def binary_files_specific_yes_generic_no(tmp):
    aws = aws_key_id()
    pw = rand(ALNUM, 18)
    blob = bytes(rng.randrange(256) for _ in range(3000)).replace(b"password", b"pa55word")
    write(tmp / "d" / "app.bin", b"\x7fELF\x00\x00" + blob + b"\x00" + aws.encode() + b"\x00"
          + blob + f"\x00rmgtest-pw<{pw}>\x00".encode())
    write(tmp / "d" / "app.conf", f"rmgtest-pw<{pw}>\n")
    write(tmp / "rules.json", json.dumps(GENERIC_RULES))
    res, doc = scan_json("--rules", "rules.json", "--show-secrets", "d", rc=1)
    got = sorted((f["location"]["path"], f["rule"]) for f in doc["findings"]
                 if f["secret"] in (aws, pw))
    check(("app.bin", "aws-access-key-id") in got, f"AWS key in a binary file: {got}", res)
    check(("app.conf", "test-generic-password") in got, f"control, text file: {got}", res)
    check(("app.bin", "test-generic-password") not in got,
          f"a generic rule must not report in a binary file: {got}", res)


@test
def binary_files_builtin_password_rule(tmp):
    generic = {r["id"] for r in builtin_rules() if r.get("generic")}
    pw = rand(ALNUM, 10) + "7!x" + rand(ALNUM, 6)
    write(tmp / "d" / "db.conf", f'DB_PASSWORD = "{pw}"\npassword: {pw}\n')
    write(tmp / "d" / "db.bin", b"\x00\x01\x02\x03" + f'DB_PASSWORD = "{pw}"\npassword: {pw}\n'
          .encode() + b"\x00" * 16)
    res, doc = scan_json("--show-secrets", "d")
    text = [f["rule"] for f in doc["findings"] if f["location"]["path"] == "db.conf"]
    check(any(r in generic for r in text),
          f"control: a built-in generic rule reports a password assignment in a text file "
          f"(got {text})", res)
    binr = [f["rule"] for f in doc["findings"] if f["location"]["path"] == "db.bin"]
    check(not any(r in generic for r in binr), f"generic rules in a binary file: {binr}", res)


@test
def control_chars_in_names_escaped(tmp):
    gh = github_token()
    evil = "evil\x1b[31mred\x1b]0;title\x07\x08\r\nFAKE:1:1.txt"
    write(tmp / "d" / evil, f"t={gh}\n")
    for args in ([], ["--color", "never"], ["--color", "always"]):
        res = run("scan", *args, "d")
        expect_rc(res, 1)
        body = res.out if "always" not in args else re.sub(rb"\x1b\[[0-9;]*m", b"", res.out)
        for bad in (b"\x1b", b"\x07", b"\x08", b"\r"):
            check(bad not in body, f"raw control byte {bad!r} in text output {args}", res)
        check(not re.search(rb"^FAKE:1:1", res.out, re.M),
              "a newline in a file name must not start a new output line", res)
    res, doc = scan_json("d", rc=1)
    check(doc["findings"][0]["location"]["path"] == evil, "JSON keeps the exact name", res)
    # An error about such a name is escaped on stderr too.
    res = run("scan", f"missing\x1b[2J{evil}")
    expect_rc(res, 2)
    check(b"\x1b" not in res.err and b"\x07" not in res.err, "stderr escaped", res)


@test
def non_utf8_names_give_valid_json(tmp):
    gh = github_token()
    d = os.fsencode(tmp / "d")
    os.mkdir(d)
    names = [b"caf\xe9.txt", b"bad\xff\xfe.txt", b"trunc\xe2\x82.txt", b"ok-\xc3\xa9.txt"]
    for n in names:
        write(d + b"/" + n, f"t={gh}\n")
    os.mkdir(d + b"/dir\xc0\xaf")
    write(d + b"/dir\xc0\xaf/x.txt", f"t={gh}\n")
    res, doc = scan_json(d, rc=1)  # parse_json decodes strictly as UTF-8
    paths = sorted(f["location"]["path"] for f in doc["findings"])
    check(len(paths) == 5 and len(set(paths)) == 5, f"five distinct paths: {paths}", res)
    check("ok-\u00e9.txt" in paths, f"valid UTF-8 names pass through: {paths}", res)
    check(any(p.startswith("caf") for p in paths), f"{paths}", res)
    res, doc = scan_json(d + b"/" + names[1], rc=1)
    target = doc["findings"][0]["location"]["target"]
    check("/bad" in target and target.endswith(".txt"), f"file target name: {target!r}", res)
    res, doc = scan_json(d + b"/missing\xff", rc=2)
    check(doc["errors"] and doc["errors"][0]["target"].startswith(os.fsdecode(d)[:5]),
          "error target", res)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
