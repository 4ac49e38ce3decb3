#!/usr/bin/env python3
"""test_context.py: black-box tests of `rummage context` (docs/context.md) on build contexts.

The contexts are small real directories in tests/contexts/ (text files only; each Dockerfile
says in a comment what its context tests). Secrets are never stored there: files hold markers
`{{KIND_NAME}}` that each test renders, into its own temp dir, with values generated for this run
(KIND: GH a GitHub token with a valid checksum, AWS an access key id, NPM an npm token, PW an
18-character password, PEM a fresh `openssl genrsa` key, WEAK 10 lowercase letters that no rule
matches: only a secret-looking name gives it away). The same marker twice is the same value.

Before a context is checked it is scanned as a plain directory (`rummage scan DIR`,
"calibration"): the rule, fingerprint and line of each secret in the context report are what the
binary finds in the same bytes as plain files; the test says, per file and per Dockerfile line,
which instruction copies it, where it lands, in which stage, what the note says and whether
.dockerignore keeps it out. Each context test compares the exact multiset of
(rule, path, line, ignored) and then, per finding, severity, note, `dockerfile` entries
(file, line, stage, stage_index, final, dest), fingerprint and state.

The last tests build three of the contexts for real (buildah bud --layers --isolation chroot,
FROM a busybox base made FROM scratch as tests/images/fixtures.py build_config does, no
registry) and scan the images: what the context report says lands in the final image is there,
with the same fingerprint, at its `dest`; what it says stays in a build stage or is kept out by
.dockerignore is not.

Same harness as test_cli.py: TAP output, exit 1 if a test failed, `python3
tests/cli/test_context.py NAME...` runs some, RUMMAGE is the binary.
"""
import hashlib
import json
import os
import re
import shutil
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import (RUMMAGE, ALNUM, aws_key_id, check, checksummed, expect_rc,  # noqa: E402
                      github_token, parse_json, private_key, rand, rng, run)
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py: sh, need, FixtureError)

CONTEXTS = HERE.parent / "contexts"
SEVERITIES = ["low", "medium", "high", "critical"]

# ---------------------------------------------------------------------------- harness

TESTS = []
SESSION_DIR = None  # made in main: the buildah store and base image shared by the build tests
MARKS = set()       # every raw secret rendered in this run: never to be printed


def test(fn):
    TESTS.append(fn)
    return fn


def sha(rule, secret):
    return hashlib.sha256(rule.encode() + b"\0" + secret.encode()).hexdigest()


def password():
    """18 alphanumerics with at least one digit (the generic password rules want one)."""
    pw = list(rand(ALNUM, 17))
    pw.insert(rng.randrange(18), rng.choice(string.digits))
    return "".join(pw)


KINDS = {
    "GH": github_token,
    "AWS": aws_key_id,
    "NPM": lambda: checksummed(rng, "npm_"),
    "PW": password,
    "WEAK": lambda: rand(string.ascii_lowercase, 10),
    "PEM": lambda: private_key() + "\n",
}
# {{KIND_NAME}}: a template marker, which rummage's placeholder test drops, so the unrendered
# contexts scan clean (test_ecosystem.py, self_scan_finds_nothing).
MARKER = re.compile(r"\{\{(" + "|".join(KINDS) + r")_[A-Z0-9_]+\}\}")
ANY_MARKER = re.compile(r"\{\{[A-Z]+_[A-Z0-9_]+\}\}")


def remember(value):
    if "-----BEGIN" in value:
        MARKS.update(ln for ln in value.splitlines() if ln and not ln.startswith("-----"))
    else:
        MARKS.add(value)


class Ctx:
    """A context of tests/contexts/ rendered into dest: values[marker] is each secret,
    marks[(path, line)] the markers on each line (for a PEM, its first line)."""

    def __init__(self, name, dest):
        self.name, self.root = name, Path(dest)
        src = CONTEXTS / name
        if not src.is_dir():
            raise AssertionError(f"fixture: no context {src}")
        self.values, self.marks = {}, {}
        for p in sorted(src.rglob("*")):
            if p.is_dir():
                continue
            rel = p.relative_to(src).as_posix()
            text = p.read_text()
            unknown = [m for m in ANY_MARKER.findall(text) if not MARKER.fullmatch(m)]
            if unknown:
                raise AssertionError(f"fixture: {name}/{rel}: unknown marker kind {unknown}")
            out, pos = [], 0
            for m in MARKER.finditer(text):
                key = m.group(0)
                if key not in self.values:
                    self.values[key] = KINDS[m.group(1)]()
                    remember(self.values[key])
                line = text.count("\n", 0, m.start()) + 1
                self.marks.setdefault((rel, line), []).append(key)
                out.append(text[pos:m.start()])
                out.append(self.values[key])
                pos = m.end()
            out.append(text[pos:])
            dst = self.root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text("".join(out))

    def value(self, marker):
        return self.values["{{" + marker + "}}"]

    def text(self, rel="Dockerfile"):
        return (self.root / rel).read_text()

    def line(self, text, rel="Dockerfile", prefix=False):
        """The 1-based line of rel whose text (trailing blanks removed) is `text` (or starts
        with it): exactly one must."""
        lines = self.text(rel).split("\n")
        hits = [i + 1 for i, ln in enumerate(lines)
                if (ln.rstrip().startswith(text) if prefix else ln.rstrip() == text)]
        if len(hits) != 1:
            raise AssertionError(f"fixture: {self.name}/{rel}: {len(hits)} lines are {text!r}")
        return hits[0]


def calibrate(ctx):
    """Scans the rendered context as a plain directory: {path: [finding...]}. Checks that each
    planted secret is found where it was put, and that no WEAK value is."""
    res = run("scan", "--no-config", "--format", "json", str(ctx.root))
    check(res.rc in (0, 1), "calibration scan failed", res)
    out = {}
    for f in parse_json(res).get("findings", []):
        lo = f["location"]
        out.setdefault(lo["path"], []).append(
            {"rule": f["rule"], "fingerprint": f["fingerprint"], "line": lo["line"],
             "column": lo["column"], "severity": f["severity"]})
    for (path, line), keys in ctx.marks.items():
        here = [c for c in out.get(path, []) if c["line"] == line]
        strong = [k for k in keys if not k.startswith("{{WEAK_")]
        if strong and not here:
            raise AssertionError(f"fixture: calibration: the binary finds nothing at {ctx.name}/"
                                 f"{path}:{line} ({strong}): the planted shape is wrong")
        if not strong and here:
            raise AssertionError(f"fixture: calibration: {ctx.name}/{path}:{line} holds only a "
                                 f"WEAK value, but {[c['rule'] for c in here]} matched it")
    return out


def no_leak(res):
    """No rendered secret, raw, on stdout or stderr; the message shows where (masked)."""
    where = []
    for mark in MARKS:
        m = mark.encode()
        for name, data in (("stdout", res.out), ("stderr", res.err)):
            for ln in data.split(b"\n"):
                if m in ln:
                    text = ln.replace(m, b"<SECRET>").decode("utf-8", "backslashreplace")
                    text = re.sub(r"[\x00-\x1f\x7f]", lambda c: f"\\x{ord(c.group()):02x}", text)
                    where.append(f"    {name}: {text.strip()[:300]}")
    if where:
        raise AssertionError("a raw secret is in the output without --show-secrets (masked "
                             f"here as <SECRET>):\n" + "\n".join(sorted(set(where))) +
                             f"\ncommand: {' '.join(str(c) for c in res.cmd)}")


def summary(res):
    """The command, exit code, stderr and (JSON) a line per finding: shorter than the report."""
    try:
        doc = json.loads(res.out)
    except ValueError:
        return res.describe()
    lines = [f"command: {' '.join(str(c) for c in res.cmd)}", f"exit: {res.rc}",
             f"stderr: {res.err.decode('utf-8', 'replace')[-1500:]}",
             f"errors: {doc.get('errors')}", f"findings ({len(doc.get('findings', []))}):"]
    for f in doc.get("findings", []):
        lo = f.get("location") or {}
        cps = [(c.get("line"), c.get("dest"), c.get("final")) for c in f.get("dockerfile") or []]
        lines.append(f"    {f.get('rule')} {lo.get('path')}:{lo.get('line')} {f.get('severity')}"
                     f"{' ignored' if f.get('ignored') else ''} copies={cps} "
                     f"note={f.get('note')!r}")
    return "\n".join(lines)


def context(*args, rc=None, fmt="json", cwd=None, leak_check=True):
    """rummage context --format FMT ARGS; checks the exit code and that nothing leaks."""
    try:
        res = run("context", "--format", fmt, *args, cwd=cwd)
    except OSError as ex:
        raise AssertionError(f"cannot run {RUMMAGE}: {ex}") from ex
    check(b"AddressSanitizer" not in res.err and b"runtime error:" not in res.err,
          "sanitizer report on stderr", res)
    if rc is not None and res.rc != rc:
        raise AssertionError(f"expected exit {rc}, got {res.rc}\n{summary(res)}")
    if leak_check:
        no_leak(res)
    return res, (parse_json(res) if fmt == "json" else None)


# ----------------------------------------------------------------- expected findings


def cp(line, dest=None, final=True, stage=None, index=0, instr=None):
    """One expected `dockerfile` entry."""
    return {"line": line, "dest": dest, "final": final, "stage": stage, "stage_index": index,
            "instruction": instr}


def lower(sev):
    return SEVERITIES[max(0, SEVERITIES.index(sev) - 1)]


def shown(target, given=None):
    """How the report names the Dockerfile in `dockerfile[].file` and in notes ("… (FILE:LINE)"):
    like location.path, relative to the context when it is inside it ("Dockerfile",
    "other/Dockerfile"), else the -f path as given."""
    if not given:
        return "Dockerfile"
    prefix = target.rstrip("/") + "/"
    return given[len(prefix):] if given.startswith(prefix) else given


class Expect:
    """The expected findings of one context run. dockerfile: the Dockerfile's path as the
    report names it in `dockerfile[].file` and notes; df_path: its location.path."""

    def __init__(self, ctx, cal, target, dockerfile, df_path="Dockerfile"):
        self.ctx, self.cal, self.target = ctx, cal, target
        self.dockerfile, self.df_path = dockerfile, df_path
        self.items = []
        self.used = set()  # (path, line) of calibrated findings accounted for

    def _cal(self, path, line=None):
        fs = [c for c in self.cal.get(path, []) if line is None or c["line"] == line]
        if not fs:
            raise AssertionError(f"fixture: calibration found nothing in {self.ctx.name}/{path}"
                                 + (f" at line {line}" if line else ""))
        self.used.update((path, c["line"]) for c in fs)
        return fs

    def final_note(self, instr, line):
        return f"copied into the final image by {instr} ({self.dockerfile}:{line})"

    def stage_note(self, stage, instr, line):
        return f"copied only into build stage '{stage}' by {instr} ({self.dockerfile}:{line})"

    def file(self, path, copies=(), note=None, lowered=False, ignored=None):
        """Every calibrated finding of a context file. ignored: (ignore file basename, line)."""
        for c in self._cal(path):
            self.items.append({
                "rule": c["rule"], "path": path, "line": c["line"], "ignored": bool(ignored),
                "severity": lower(c["severity"]) if lowered else c["severity"],
                "fingerprint": c["fingerprint"], "copies": list(copies),
                "note": note, "ignore": ignored, "secret": "value"})

    def not_copied(self, path):
        self.file(path, note="not copied by this Dockerfile")

    def in_dockerfile(self, line, instr_line, note=None, final=True, stage=None, index=0):
        """The calibrated findings of the Dockerfile at `line`, held by the instruction that
        starts at instr_line."""
        for c in self._cal(self.df_path, line):
            self.items.append({
                "rule": c["rule"], "path": self.df_path, "line": c["line"], "ignored": False,
                "severity": c["severity"], "fingerprint": c["fingerprint"],
                "copies": [cp(instr_line, None, final, stage, index)], "note": note,
                "ignore": None, "secret": "value"})

    def check_rule(self, rule, line, severity, secret=None, final=True, stage=None, index=0):
        """A Dockerfile check at an instruction's line. secret: the raw value that is the
        secret (its fingerprint is then sha256(rule NUL value)), or None (secret null)."""
        self.items.append({
            "rule": rule, "path": self.df_path, "line": line, "ignored": False,
            "severity": severity, "fingerprint": sha(rule, secret) if secret else None,
            "copies": [cp(line, None, final, stage, index)], "note": None, "ignore": None,
            "secret": "value" if secret else None})

    def all_calibrated_used(self, include_ignored=True):
        """Every calibrated finding is described (a test that forgot one is a fixture bug)."""
        left = [(p, c["line"], c["rule"]) for p, cs in self.cal.items() for c in cs
                if (p, c["line"]) not in self.used]
        if left:
            raise AssertionError(f"fixture: {self.ctx.name}: calibrated findings the test does not "
                                 f"describe: {left}")


def fkey(f):
    lo = f.get("location") or {}
    return (f.get("rule"), lo.get("path"), lo.get("line"), bool(f.get("ignored")))


def ekey(e):
    return (e["rule"], e["path"], e["line"], e["ignored"])


def show_keys(keys):
    return "\n".join(f"    {r} {p}:{ln}" + (" (ignored)" if ig else "") +
                     (f" x{n}" if n > 1 else "")
                     for (r, p, ln, ig), n in sorted(keys.items(), key=str)) or "    (none)"


def copy_tuple(c):
    return (c.get("line"), c.get("dest"), c.get("final"), c.get("stage"), c.get("stage_index"))


def compare_copies(f, e, exp):
    got = f.get("dockerfile")
    if got is None:
        got = []
    if not isinstance(got, list):
        return [f"`dockerfile` is not a list: {got!r}"]
    want = sorted((copy_tuple(c) for c in e["copies"]), key=str)
    have = sorted((copy_tuple(c) for c in got), key=str)
    errs = []
    if want != have:
        errs.append(f"dockerfile entries (line, dest, final, stage, stage_index):\n"
                    f"        expected {want}\n        got      {have}")
    for c in got:
        if c.get("file") != exp.dockerfile:
            errs.append(f"dockerfile[].file {c.get('file')!r}, expected {exp.dockerfile!r}")
            break
    for ce in e["copies"]:
        if ce["instruction"] is None:
            continue
        same = [c for c in got if c.get("line") == ce["line"]]
        if same and same[0].get("instruction") != ce["instruction"]:
            errs.append(f"dockerfile[].instruction {same[0].get('instruction')!r}, expected "
                        f"{ce['instruction']!r}")
    return errs


def compare_one(f, e, exp):
    errs = []
    if f.get("state") != "context":
        errs.append(f"state {f.get('state')!r}, expected 'context'")
    lo = f.get("location") or {}
    if lo.get("target") != exp.target:
        errs.append(f"location.target {lo.get('target')!r}, expected {exp.target!r}")
    if f.get("severity") != e["severity"]:
        errs.append(f"severity {f.get('severity')!r}, expected {e['severity']!r}")
    if e["fingerprint"] and f.get("fingerprint") != e["fingerprint"]:
        errs.append(f"fingerprint {str(f.get('fingerprint'))[:12]}, expected "
                    f"{e['fingerprint'][:12]} (as calibrated / sha256(rule NUL value))")
    if e["secret"] is None and f.get("secret") is not None:
        errs.append(f"secret {f.get('secret')!r}, expected null (no value is the secret)")
    if e["secret"] is not None and f.get("secret") is None:
        errs.append("secret is null, expected the (redacted) value")
    note = f.get("note")
    if e["ignore"]:
        base, n = e["ignore"]
        pat = rf"kept out of the build by (?:\S*/)?{re.escape(base)} \(line {n}\)"
        if not isinstance(note, str) or not re.match(pat, note):
            errs.append(f"note {note!r}, expected to start 'kept out of the build by "
                        f"{base} (line {n})'")
        if f.get("ignored") is not True:
            errs.append(f"ignored {f.get('ignored')!r}, expected true")
    elif e["note"] is not None and not (isinstance(note, str) and note.startswith(e["note"])):
        errs.append(f"note {note!r}\n        expected to start with {e['note']!r}")
    if not e["ignore"] and f.get("ignored") not in (None, False):
        errs.append(f"ignored {f.get('ignored')!r} on a finding that is not ignored")
    errs += compare_copies(f, e, exp)
    return errs


def same_findings(doc, exp, res, what):
    """The report's findings are exactly the expected ones, each with the expected details."""
    fs = doc.get("findings", [])
    got, want = Counter(fkey(f) for f in fs), Counter(ekey(e) for e in exp.items)
    missing, extra = want - got, got - want
    problems = []
    if missing or extra:
        problems.append(f"findings differ from the expected ones\n  missing:\n{show_keys(missing)}"
                        f"\n  unexpected:\n{show_keys(extra)}")
    for e in exp.items:
        matches = [f for f in fs if fkey(f) == ekey(e)]
        if e["fingerprint"]:
            matches = [f for f in matches if f.get("fingerprint") == e["fingerprint"]] or matches
        if not matches:
            continue
        errs = compare_one(matches[0], e, exp)
        if errs:
            problems.append(f"{e['rule']} {e['path']}:{e['line']}:\n      " + "\n      ".join(errs))
    if problems:
        raise AssertionError(f"{what}:\n" + "\n".join(problems) + "\n" + summary(res))


def context_as(exp, what, *args, rc=1):
    """rummage context --format json ARGS: the findings are exp's, then the exit code is rc
    (compared second: a wrong finding says more than a wrong exit code)."""
    res, doc = context(*args, leak_check=False)
    same_findings(doc, exp, res, what)
    if res.rc != rc:
        raise AssertionError(f"{what}: expected exit {rc}, got {res.rc}\n{summary(res)}")
    no_leak(res)
    return res, doc


def render(tmp, name, dest="ctx"):
    ctx = Ctx(name, tmp / dest)
    return ctx, calibrate(ctx)


# ======================================================================= 1. multistage
# tests/contexts/multistage: stage "builder" (index 0) WORKDIR /src, COPY src/ . (settings.ini:
# PW_SRC), COPY secrets/build.env /run/build.env (GH_BUILD); final stage (index 1, unnamed)
# WORKDIR /app, COPY --from=builder, COPY config/ /app/config/ (app.ini: AWS_CONFIG,
# db/replica.ini: PW_REPLICA), COPY app.env ./.env (GH_APP); notes/todo.txt (GH_NOTES) copied by
# nothing; no USER in the final stage.


def multistage_expect(ctx, cal, target="ctx"):
    L = ctx.line
    exp = Expect(ctx, cal, target, shown(target))
    src, sec = L("COPY src/ ."), L("COPY secrets/build.env /run/build.env")
    conf, env = L("COPY config/ /app/config/"), L("COPY app.env ./.env")
    exp.file("src/settings.ini", [cp(src, "/src/settings.ini", False, "builder", 0, "COPY src/ .")],
             exp.stage_note("builder", "COPY src/ .", src), lowered=True)
    exp.file("secrets/build.env",
             [cp(sec, "/run/build.env", False, "builder", 0,
                 "COPY secrets/build.env /run/build.env")],
             exp.stage_note("builder", "COPY secrets/build.env /run/build.env", sec), lowered=True)
    exp.file("config/app.ini", [cp(conf, "/app/config/app.ini", True, None, 1,
                                   "COPY config/ /app/config/")],
             exp.final_note("COPY config/ /app/config/", conf))
    exp.file("config/db/replica.ini", [cp(conf, "/app/config/db/replica.ini", True, None, 1,
                                          "COPY config/ /app/config/")],
             exp.final_note("COPY config/ /app/config/", conf))
    exp.file("app.env", [cp(env, "/app/.env", True, None, 1, "COPY app.env ./.env")],
             exp.final_note("COPY app.env ./.env", env))
    exp.not_copied("notes/todo.txt")
    exp.check_rule("dockerfile-runs-as-root", L("FROM busybox"), "low", index=1)
    exp.all_calibrated_used()
    return exp


@test
def multistage_findings(tmp):
    ctx, cal = render(tmp, "multistage")
    res, doc = context_as(multistage_expect(ctx, cal), "multistage", "ctx")
    check(doc.get("errors") == [], f"no errors expected: {doc.get('errors')}", res)


@test
def multistage_text_report(tmp):
    """Groups: each copying instruction in line order with its stage, then "Not copied by the
    Dockerfile", then "How to fix"; each file under its group; no raw secret."""
    ctx, cal = render(tmp, "multistage")
    L = ctx.line
    res, _ = context("ctx", "--color", "never", rc=1, fmt="text")
    lines = res.out.decode("utf-8", "replace").split("\n")

    def header(instr, line, where):
        hits = [i for i, ln in enumerate(lines) if ln.startswith(instr + "  (")
                and re.search(rf"Dockerfile:{line}, {re.escape(where)}\)\s*$", ln)]
        check(len(hits) == 1, f"expected one group header '{instr}  (…Dockerfile:{line}, "
                              f"{where})', found {len(hits)}", res)
        return hits[0]

    def exact(text):
        hits = [i for i, ln in enumerate(lines) if ln.startswith(text)]
        check(len(hits) == 1, f"expected one line starting {text!r}, found {len(hits)}", res)
        return hits[0]

    h_src = header("COPY src/ .", L("COPY src/ ."), "build stage 'builder'")
    h_sec = header("COPY secrets/build.env /run/build.env",
                   L("COPY secrets/build.env /run/build.env"), "build stage 'builder'")
    h_conf = header("COPY config/ /app/config/", L("COPY config/ /app/config/"), "final image")
    h_env = header("COPY app.env ./.env", L("COPY app.env ./.env"), "final image")
    h_not = exact("Not copied by the Dockerfile")
    h_fix = exact("How to fix")
    order = [h_src, h_sec, h_conf, h_env, h_not, h_fix]
    check(order == sorted(order), f"sections out of order (COPY src/, COPY secrets/, COPY config/, "
                                  f"COPY app.env, Not copied, How to fix): lines {order}", res)
    check(not [ln for ln in lines if ln.startswith("Kept out by")],
          "no 'Kept out by .dockerignore' section without --show-ignored", res)
    headers = sorted(i for i, ln in enumerate(lines) if ln and not ln.startswith(" ") and i > 0)

    def under(path, h):
        end = min([x for x in headers if x > h] + [len(lines)])
        check(any(path in ln for ln in lines[h + 1:end]),
              f"{path} should be listed under the header on line {h + 1}", res)

    under("src/settings.ini", h_src)
    under("secrets/build.env", h_sec)
    under("config/app.ini", h_conf)
    under("config/db/replica.ini", h_conf)
    under("app.env", h_env)
    under("notes/todo.txt", h_not)
    check(any("/app/config/db/replica.ini" in ln for ln in lines),
          "the text report should say where a file lands (/app/config/db/replica.ini)", res)


# tests/contexts/stage-chain: "base" (0) ENV BASE_TOKEN=<WEAK>, COPY base.env (GH_BASE);
# "Deps" (1) FROM base, WORKDIR /deps, COPY deps.txt . (PW_DEPS); "unused" (2) ARG
# UNUSED_PASSWORD=<WEAK>, COPY unused.txt (AWS_UNUSED); final (3) FROM Deps, COPY app.txt /app/
# (GH_APP), USER 1000. base and deps reach the final image; unused does not.


def stage_chain_expect(ctx, cal, target="ctx"):
    L = ctx.line
    exp = Expect(ctx, cal, target, shown(target))
    b, d = L("COPY base.env /etc/base.env"), L("COPY deps.txt .")
    u, a = L("COPY unused.txt /unused.txt"), L("COPY app.txt /app/")
    exp.file("base.env", [cp(b, "/etc/base.env", True, "base", 0, "COPY base.env /etc/base.env")],
             exp.final_note("COPY base.env /etc/base.env", b))
    exp.file("deps.txt", [cp(d, "/deps/deps.txt", True, "deps", 1, "COPY deps.txt .")],
             exp.final_note("COPY deps.txt .", d))
    exp.file("unused.txt",
             [cp(u, "/unused.txt", False, "unused", 2, "COPY unused.txt /unused.txt")],
             exp.stage_note("unused", "COPY unused.txt /unused.txt", u), lowered=True)
    exp.file("app.txt", [cp(a, "/app/app.txt", True, None, 3, "COPY app.txt /app/")],
             exp.final_note("COPY app.txt /app/", a))
    exp.check_rule("dockerfile-env-secret", L("ENV BASE_TOKEN=", prefix=True), "high",
                   ctx.value("WEAK_BASE"), True, "base", 0)
    exp.check_rule("dockerfile-arg-secret", L("ARG UNUSED_PASSWORD=", prefix=True), "medium",
                   ctx.value("WEAK_UNUSED"), False, "unused", 2)
    exp.all_calibrated_used()
    return exp


@test
def stage_chain_findings(tmp):
    """A stage the final stage is built FROM (directly or through another) is final: its copies
    keep their severity, its checks are not lowered. `AS Deps` draws a BuildKit casing warning:
    a warning, not an input error (the Dockerfile is still read)."""
    ctx, cal = render(tmp, "stage-chain")
    res, doc = context_as(stage_chain_expect(ctx, cal), "stage-chain", "ctx")
    bad = [x for x in doc.get("errors", []) if x.get("level") != "warning"]
    check(not bad, f"a Dockerfile BuildKit only warns about is no input error: {bad}", res)


# ===================================================================== 2. .dockerignore
# tests/contexts/dockerignore: .dockerignore (comments, blank) *.pem, **/.env, !keep/.env,
# secrets/, !secrets/public.txt. Dockerfile: WORKDIR /app, COPY . ., USER 65534.
#   server.pem (PEM_SERVER)        ignored by *.pem
#   certs/deep.pem (PEM_DEEP)      sent: `*` does not cross '/'
#   .env (GH_ROOT_ENV), app/.env (PW_APP_ENV)  ignored by **/.env
#   keep/.env (NPM_KEEP)           sent: !keep/.env
#   secrets/db.txt (PW_SECRETS_DB) ignored by secrets/
#   secrets/public.txt (AWS_PUBLIC) sent: !secrets/public.txt
#   app/main.py (AWS_APP)          sent
# other/Dockerfile (COPY . /srv/) has other/Dockerfile.dockerignore (*.pem, secrets/), which
# replaces the root one; other/plain.Dockerfile (COPY . /opt/) has none: the root one applies.

DI_SENT = ["certs/deep.pem", "keep/.env", "secrets/public.txt", "app/main.py"]
DI_KEPT = {"server.pem": "*.pem", ".env": "**/.env", "app/.env": "**/.env",
           "secrets/db.txt": "secrets/"}


def dockerignore_expect(ctx, cal, show_ignored, dockerfile="Dockerfile", ignore=".dockerignore",
                        sent=DI_SENT, kept=DI_KEPT, target="ctx"):
    """dockerfile: relative to the context; the Dockerfile's one `COPY . DEST` copies `sent`."""
    exp = Expect(ctx, cal, target, shown(target, f"{target}/{dockerfile}"), df_path=dockerfile)
    instr = [ln for ln in ctx.text(dockerfile).split("\n") if ln.startswith("COPY . ")][0]
    line = ctx.line(instr, dockerfile)
    base = {"COPY . .": "/app/", "COPY . /srv/": "/srv/", "COPY . /opt/": "/opt/"}[instr]
    for path in sent:
        exp.file(path, [cp(line, base + path, True, None, 0, instr)], exp.final_note(instr, line))
    for path, pattern in kept.items():
        if show_ignored:
            exp.file(path, ignored=(Path(ignore).name, ctx.line(pattern, ignore)))
        else:
            exp._cal(path)  # accounted for: not reported
    exp.check_rule("dockerfile-copy-context-secrets", line, "high")
    exp.all_calibrated_used()
    return exp


@test
def dockerignore_default(tmp):
    """Without --show-ignored what .dockerignore keeps out is not reported at all."""
    ctx, cal = render(tmp, "dockerignore")
    res, doc = context_as(dockerignore_expect(ctx, cal, False), "dockerignore", "ctx")
    check(not [f for f in doc["findings"] if f.get("ignored")], "no ignored findings", res)


@test
def dockerignore_show_ignored(tmp):
    """--show-ignored: the kept-out files are scanned too, flagged ignored, with the line of
    the pattern that decided; the rest is unchanged."""
    ctx, cal = render(tmp, "dockerignore")
    context_as(dockerignore_expect(ctx, cal, True), "dockerignore --show-ignored", "ctx",
               "--show-ignored")


@test
def dockerignore_text_sections(tmp):
    """Text with --show-ignored: COPY . . group, then "Kept out by .dockerignore" (with the
    ignored paths), then "How to fix"; no raw secret."""
    ctx, cal = render(tmp, "dockerignore")
    res, _ = context("ctx", "--show-ignored", "--color", "never", rc=1, fmt="text")
    lines = res.out.decode("utf-8", "replace").split("\n")
    line = ctx.line("COPY . .")
    h_copy = [i for i, ln in enumerate(lines) if ln.startswith("COPY . .  (")
              and f"Dockerfile:{line}, final image)" in ln]
    h_kept = [i for i, ln in enumerate(lines) if ln.startswith("Kept out by .dockerignore")]
    h_fix = [i for i, ln in enumerate(lines) if ln.startswith("How to fix")]
    check(len(h_copy) == 1 and len(h_kept) == 1 and len(h_fix) == 1,
          f"expected one 'COPY . .  (…Dockerfile:{line}, final image)', one 'Kept out by "
          f".dockerignore' and one 'How to fix' line: {len(h_copy)}, {len(h_kept)}, {len(h_fix)}",
          res)
    check(h_copy[0] < h_kept[0] < h_fix[0], "sections out of order", res)
    kept_part = "\n".join(lines[h_kept[0]:h_fix[0]])
    for path in DI_KEPT:
        check(path in kept_part, f"{path} should be listed under 'Kept out by .dockerignore'", res)
    copy_part = "\n".join(lines[h_copy[0]:h_kept[0]])
    for path in DI_SENT:
        check(path in copy_part, f"{path} should be listed under 'COPY . .'", res)


@test
def dockerignore_next_to_dockerfile_wins(tmp):
    """-f ctx/other/Dockerfile: other/Dockerfile.dockerignore (*.pem, secrets/) is used and the
    root .dockerignore is not: the .env files are sent, secrets/public.txt is kept out."""
    ctx, cal = render(tmp, "dockerignore")
    sent = ["certs/deep.pem", "keep/.env", ".env", "app/.env", "app/main.py"]
    kept = {"server.pem": "*.pem", "secrets/db.txt": "secrets/", "secrets/public.txt": "secrets/"}
    for show in (False, True):
        exp = dockerignore_expect(ctx, cal, show, "other/Dockerfile",
                                  "other/Dockerfile.dockerignore", sent, kept)
        context_as(exp, f"-f other/Dockerfile{' --show-ignored' if show else ''}",
                   "-f", "ctx/other/Dockerfile", "ctx", *(["--show-ignored"] if show else []))


@test
def dockerignore_root_file_without_own(tmp):
    """-f ctx/other/plain.Dockerfile: no plain.Dockerfile.dockerignore next to it, so the root
    .dockerignore applies (other/Dockerfile.dockerignore belongs to other/Dockerfile only)."""
    ctx, cal = render(tmp, "dockerignore")
    exp = dockerignore_expect(ctx, cal, True, "other/plain.Dockerfile")
    context_as(exp, "--file other/plain.Dockerfile --show-ignored",
               "--file", "ctx/other/plain.Dockerfile", "--show-ignored", "ctx")


@test
def ignored_findings_never_fail(tmp):
    """Only an ignored file holds a secret: --show-ignored reports it (ignored: true) but with
    --fail-on medium the exit code is 0; the low runs-as-root finding still fails by default."""
    ctx, cal = render(tmp, "no-ignore")
    tok = github_token()
    remember(tok)
    (ctx.root / ".env").write_text(f"GITHUB_TOKEN={tok}\n")
    (ctx.root / ".dockerignore").write_text("# local only\n.env\n")
    res, doc = context("ctx", "--show-ignored", "--fail-on", "medium", rc=0)
    ign = [f for f in doc["findings"] if f.get("ignored")]
    check([(fkey(f), f.get("fingerprint")) for f in ign] ==
          [(("github-pat-classic", ".env", 1, True), sha("github-pat-classic", tok))],
          f"one ignored finding expected, .env:1: {[fkey(f) for f in ign]}", res)
    note = ign[0].get("note") or ""
    check(note.startswith("kept out of the build by") and "(line 2)" in note,
          f"note {note!r}: expected 'kept out of the build by …dockerignore (line 2)'", res)
    rest = sorted(fkey(f) for f in doc["findings"] if not f.get("ignored"))
    check(rest == [("dockerfile-runs-as-root", "Dockerfile", ctx.line("FROM busybox"), False)],
          f"a .dockerignore exists and no secret is copied: only runs-as-root: {rest}", res)
    context("ctx", "--show-ignored", rc=1)  # runs-as-root is low: still a failure by default
    res, doc = context("ctx", "--fail-on", "medium", rc=0)
    check(not [f for f in doc["findings"] if f.get("ignored")],
          "without --show-ignored an ignored file is not reported", res)


# ========================================================================= 3. heredocs
# tests/contexts/heredocs: `# escape=`` directive; RUN <<EOF with `mysql -p<PW_HEREDOC_RUN>` in
# its body; RUN redis-cli -a <PW_PLAIN_RUN>; COPY <<EOF /etc/app.conf with a password
# (PW_HEREDOC_COPY) in its body; COPY a.txt `  b.txt `  /data/ over three lines; COPY a.txt
# /backup/a.txt; USER nobody. a.txt GH_A, b.txt AWS_B, c.txt GH_C (copied by nothing).


@test
def heredocs_findings(tmp):
    ctx, cal = render(tmp, "heredocs")
    L = ctx.line
    exp = Expect(ctx, cal, "ctx", shown("ctx"))
    run_l, copy_l = L("RUN <<EOF"), L("COPY <<EOF /etc/app.conf")
    exp.in_dockerfile(L("mysql -u root -p", prefix=True), run_l, note="on a RUN command line (")
    plain = L("RUN redis-cli -a", prefix=True)
    exp.in_dockerfile(plain, plain, note="on a RUN command line (")
    exp.in_dockerfile(L("password = ", prefix=True), copy_l)  # note: not fixed by the contract
    lst, bak = L("COPY a.txt `"), L("COPY a.txt /backup/a.txt")
    exp.file("a.txt", [cp(lst, "/data/a.txt"),
                       cp(bak, "/backup/a.txt", instr="COPY a.txt /backup/a.txt")],
             "copied into the final image by COPY a.txt ")
    exp.file("b.txt", [cp(lst, "/data/b.txt")], "copied into the final image by COPY a.txt ")
    exp.not_copied("c.txt")
    exp.all_calibrated_used()
    context_as(exp, "heredocs", "ctx")


# ========================================================================= 4. args-env
# tests/contexts/args-env: stage "tools" (index 0, not final) ENV HELPER_PASSWORD=<WEAK>; final
# stage (index 1): ARG NPM_TOKEN=<npm> (rule), ARG DB_PASSWORD=<WEAK> (name only), ENV
# API_KEY=<ghp> (rule), ENV SESSION_SECRET=<WEAK>, LABEL ... deploy-token="<AKIA>" (rule), LABEL
# com.example.api-token="<WEAK>", ARG SRC=conf + COPY ${SRC}/ /etc/app/ (conf/app.ini GH_CONF;
# other/app.ini PW_OTHER), ADD https://deploy:<PW_URL>@artifacts.acme-corp.io/... /opt/app.tgz,
# COPY id_rsa /root/.ssh/id_rsa + RUN printf ... > /root/.netrc, both rm'd by a later RUN (the
# .npmrc written and removed in one RUN is fine), USER 1000 then USER root last.


def args_env_expect(ctx, cal, src="conf"):
    L = ctx.line
    exp = Expect(ctx, cal, "ctx", shown("ctx"))
    for text, note in (("ARG NPM_TOKEN=", "in an ARG default ("), ("ENV API_KEY=", "in ENV ("),
                       ("LABEL org.opencontainers.image.title=", "in a LABEL (")):
        n = L(text, prefix=True)
        exp.in_dockerfile(n, n, note=note, index=1)
    add = L("ADD https://deploy:", prefix=True)
    exp.in_dockerfile(add, add, index=1)  # the URL rule; its note is not fixed by the contract
    exp.check_rule("dockerfile-add-url-credentials", add, "high", ctx.value("PW_URL"), index=1)
    exp.check_rule("dockerfile-arg-secret", L("ARG DB_PASSWORD=", prefix=True), "high",
                   ctx.value("WEAK_ARG"), index=1)
    exp.check_rule("dockerfile-env-secret", L("ENV SESSION_SECRET=", prefix=True), "high",
                   ctx.value("WEAK_ENV"), index=1)
    exp.check_rule("dockerfile-label-secret", L("LABEL com.example.api-token=", prefix=True),
                   "medium", ctx.value("WEAK_LABEL"), index=1)
    exp.check_rule("dockerfile-env-secret", L("ENV HELPER_PASSWORD=", prefix=True), "medium",
                   ctx.value("WEAK_TOOLS"), final=False, stage="tools", index=0)
    key = L("COPY id_rsa /root/.ssh/id_rsa")
    exp.check_rule("dockerfile-secret-removed-later", key, "high", index=1)
    exp.check_rule("dockerfile-secret-removed-later", L("RUN printf ", prefix=True), "high",
                   index=1)
    exp.check_rule("dockerfile-runs-as-root", L("USER root"), "low", index=1)
    exp.file("id_rsa",
             [cp(key, "/root/.ssh/id_rsa", True, None, 1, "COPY id_rsa /root/.ssh/id_rsa")],
             exp.final_note("COPY id_rsa /root/.ssh/id_rsa", key))
    c = L("COPY ${SRC}/ /etc/app/")
    exp.file(f"{src}/app.ini", [cp(c, "/etc/app/app.ini", True, None, 1, "COPY ${SRC}/ /etc/app/")],
             exp.final_note("COPY ${SRC}/ /etc/app/", c))
    exp.not_copied({"conf": "other", "other": "conf"}[src] + "/app.ini")
    exp.all_calibrated_used()
    return exp


@test
def args_env_findings(tmp):
    ctx, cal = render(tmp, "args-env")
    context_as(args_env_expect(ctx, cal), "args-env", "ctx")


@test
def args_env_build_arg(tmp):
    """--build-arg SRC=other: COPY ${SRC}/ now copies other/ and not conf/."""
    ctx, cal = render(tmp, "args-env")
    context_as(args_env_expect(ctx, cal, "other"), "args-env --build-arg SRC=other", "ctx",
               "--build-arg", "SRC=other")
    context_as(args_env_expect(ctx, cal, "conf"), "args-env --build-arg SRC=conf", "ctx",
               "--build-arg", "UNUSED=1", "--build-arg", "SRC=conf")


# ======================================================================== 5. no-ignore
# tests/contexts/no-ignore: WORKDIR /app, COPY . /app, no .dockerignore, no USER, no secret.


@test
def no_ignore_checks_and_exit_codes(tmp):
    ctx, cal = render(tmp, "no-ignore")
    check(cal == {}, f"fixture: the no-ignore context holds no secret: {cal}")
    exp = Expect(ctx, cal, "ctx", shown("ctx"))
    exp.check_rule("dockerfile-no-dockerignore", ctx.line("COPY . /app"), "low")
    exp.check_rule("dockerfile-runs-as-root", ctx.line("FROM busybox"), "low")
    context_as(exp, "no-ignore", "ctx")
    for opt, rc in (("low", 1), ("medium", 0), ("high", 0), ("critical", 0)):
        context_as(exp, f"no-ignore --fail-on {opt} (reported all the same)", "ctx",
                   "--fail-on", opt, rc=rc)
    (ctx.root / ".dockerignore").write_text("*.md\n")
    res, doc = context("ctx", rc=1)
    check(sorted(fkey(f) for f in doc["findings"]) ==
          [("dockerfile-runs-as-root", "Dockerfile", ctx.line("FROM busybox"), False)],
          f"with a .dockerignore, no-dockerignore goes: {[fkey(f) for f in doc['findings']]}", res)


@test
def dockerfile_outside_context(tmp):
    """-f elsewhere/Dockerfile (outside DIR): Dockerfile findings have location.path and
    dockerfile[].file = the path as given; DIR/Dockerfile is then only a context file."""
    ctx, cal = render(tmp, "no-ignore")
    (tmp / "elsewhere").mkdir()
    shutil.copy(ctx.root / "Dockerfile", tmp / "elsewhere" / "Dockerfile")
    exp = Expect(ctx, cal, "ctx", shown("ctx", "elsewhere/Dockerfile"),
                 df_path="elsewhere/Dockerfile")
    exp.check_rule("dockerfile-no-dockerignore", ctx.line("COPY . /app"), "low")
    exp.check_rule("dockerfile-runs-as-root", ctx.line("FROM busybox"), "low")
    context_as(exp, "-f elsewhere/Dockerfile", "-f", "elsewhere/Dockerfile", "ctx")


@test
def default_dir_is_cwd(tmp):
    """`rummage context` with no DIR scans . and ./Dockerfile: the same findings."""
    ctx, cal = render(tmp, "multistage")
    _, a = context("ctx", rc=1)
    res, b = context(rc=1, cwd=ctx.root)
    check(sorted(fkey(f) for f in a["findings"]) == sorted(fkey(f) for f in b["findings"]),
          "`context` in the directory and `context ctx` differ", res)


# ======================================================================= error cases


@test
def error_missing_dir(tmp):
    res, _ = context("no-such-dir", fmt="text", rc=2)
    check(b"no-such-dir" in res.err, "stderr should name the missing directory", res)


@test
def error_missing_dockerfile_flag(tmp):
    ctx, cal = render(tmp, "no-ignore")
    res, doc = context("-f", "ctx/Dockerfile.missing", "ctx", rc=2)
    check(b"Dockerfile.missing" in res.err, "stderr should name the missing -f file", res)
    check(any("Dockerfile.missing" in json.dumps(x) for x in doc.get("errors", [])),
          f"errors should name it: {doc.get('errors')}", res)


@test
def error_bad_dockerignore(tmp):
    """An unclosed '[' (Docker fails the build on it): exit 2, the ignore file and its line
    named on stderr; with -f other/Dockerfile the file named is other/Dockerfile.dockerignore."""
    ctx, cal = render(tmp, "no-ignore")
    (ctx.root / ".dockerignore").write_text("# cache\n*.log\nbuild[\n")
    res, doc = context("ctx", rc=2)
    err = res.err.decode("utf-8", "replace")
    check(".dockerignore" in err, "stderr should name the ignore file", res)
    check(re.search(r"\.dockerignore:3\b|line 3\b", err), "stderr should give line 3", res)
    check(doc.get("errors"), "the report should list the error", res)
    (ctx.root / "other").mkdir()
    shutil.copy(ctx.root / "Dockerfile", ctx.root / "other" / "Dockerfile")
    (ctx.root / ".dockerignore").write_text("*.log\n")
    (ctx.root / "other" / "Dockerfile.dockerignore").write_text("secret[\n")
    res, doc = context("-f", "ctx/other/Dockerfile", "ctx", rc=2)
    check(b"Dockerfile.dockerignore" in res.err,
          "stderr should name other/Dockerfile.dockerignore", res)
    context("-f", "ctx/Dockerfile", "ctx", rc=1)  # the root one is fine


@test
def error_usage(tmp):
    ctx, cal = render(tmp, "no-ignore")
    shutil.copytree(ctx.root, tmp / "ctx2")
    res, _ = context("ctx", "ctx2", fmt="text", rc=2)
    check(b"ctx2" in res.err, "a usage error should name the second directory", res)
    context("ctx", "--build-arg", "NOEQUALS", fmt="text", rc=2)
    context("ctx", "--format", "yaml", fmt="text", rc=2)


@test
def missing_dockerfile_is_a_warning(tmp):
    """No DIR/Dockerfile and no -f: a warning; the context is still scanned (exit 1 on its
    secret), the secret not tied to any instruction."""
    ctx, cal = render(tmp, "heredocs")
    (ctx.root / "Dockerfile").unlink()
    res, doc = context("ctx", rc=1)
    check(b"Dockerfile" in res.err, "stderr should warn about the missing Dockerfile", res)
    warns = [x for x in doc.get("errors", []) if "Dockerfile" in json.dumps(x)]
    check(warns and all(x.get("level") == "warning" for x in warns),
          f"a warning (not an error) should name the Dockerfile: {doc.get('errors')}", res)
    got = sorted((f["rule"], f["location"]["path"], f["location"]["line"]) for f in doc["findings"])
    want = sorted((c["rule"], p, c["line"]) for p in ("a.txt", "b.txt", "c.txt")
                  for c in cal[p])
    check(got == want, f"the three files' findings, nothing else: {got}", res)
    for f in doc["findings"]:
        check(f.get("state") == "context" and not f.get("dockerfile"),
              f"{f['location']['path']}: state context and no dockerfile entries", res)


# ================================================================ output never leaks


@test
def no_raw_secret_in_any_output(tmp):
    """Every context, JSON and text, with --show-ignored and -v: no raw secret (context()
    checks each run); --show-secrets is the one way to see one."""
    leaks = []
    for name in ("multistage", "dockerignore", "heredocs", "args-env"):
        Ctx(name, tmp / name)
        for opts in ((), ("--show-ignored",), ("-v",)):
            for fmt, more in (("json", ()), ("text", ("--color", "always"))):
                try:
                    context(name, *opts, *more, fmt=fmt, rc=1)
                except AssertionError as ex:
                    leaks.append(str(ex))
    check(not leaks, "\n".join(leaks))
    ctx = Ctx("multistage", tmp / "shown")
    res = run("context", "--format", "json", "--show-secrets", "shown")
    expect_rc(res, 1)
    check(ctx.value("GH_NOTES").encode() in res.out, "--show-secrets shows the secret", res)


# ======================================================== 6. a real build agrees
# The busybox base (FROM scratch, COPY rootfs/ with /usr/bin/busybox and /bin/sh) is built once
# per run, tagged `busybox` in a private buildah store; each context is built with
# `buildah bud --layers --isolation chroot --pull=never`, pushed to an OCI layout, scanned.


class Builder:
    def __init__(self, root):
        self.root = Path(root)
        self.store = ["--root", self.root / "store", "--runroot", self.root / "run",
                      "--storage-driver", "vfs"]
        base = self.root / "base"
        fx.need(fx.BUSYBOX)
        (base / "rootfs" / "bin").mkdir(parents=True)
        (base / "rootfs" / "tmp").mkdir()
        shutil.copy(fx.BUSYBOX, base / "rootfs" / "bin" / "busybox")
        os.symlink("busybox", base / "rootfs" / "bin" / "sh")
        (base / "Dockerfile").write_text("FROM scratch\nCOPY rootfs/ /\n")
        fx.sh("buildah", *self.store, "bud", "-q", "--layers", "--isolation", "chroot",
              "-t", "busybox", base, timeout=300)

    def build(self, ctx_dir, name):
        """Builds ctx_dir, pushes it to an OCI layout; returns the scan target."""
        fx.sh("buildah", *self.store, "bud", "-q", "--layers", "--isolation", "chroot",
              "--pull=never", "-t", f"{name}:1", ctx_dir, timeout=300)
        layout = self.root / "oci"
        fx.sh("buildah", *self.store, "push", "-q", f"{name}:1", f"oci:{layout}:{name}")
        return f"oci:{layout}:{name}"

    def close(self):
        try:
            fx.sh("buildah", *self.store, "rmi", "-a", "-f")
        except fx.FixtureError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


BUILDER = {}


def builder():
    if "error" in BUILDER:
        raise fx.FixtureError(f"the busybox base failed to build earlier: {BUILDER['error']}")
    if "b" not in BUILDER:
        try:
            BUILDER["b"] = Builder(Path(SESSION_DIR) / "buildah")
        except Exception as ex:
            BUILDER["error"] = str(ex)
            raise
    return BUILDER["b"]


def cross_check(tmp, name, *opts):
    """The context report of `name` against a real build of it."""
    ctx, cal = render(tmp, name)
    res, doc = context("ctx", "--show-ignored", *opts, rc=1)
    target = builder().build(ctx.root, name)
    ires = run("scan", "--format", "json", target)
    expect_rc(ires, 1, "the image holds what the context says lands in it")
    no_leak(ires)
    idoc = parse_json(ires)
    image = Counter((loc["path"], f["fingerprint"]) for f in idoc["findings"]
                    for loc in [f["location"]] if f.get("state") == "present")
    files = [f for f in doc["findings"] if f["location"]["path"] != "Dockerfile"]
    landed = [f for f in files if (f.get("note") or "").startswith("copied into the final image")]
    want = Counter((c.get("dest"), f["fingerprint"]) for f in landed
                   for c in f.get("dockerfile", []) if c.get("final"))
    check(landed, "the context report should say something lands in the final image", res)
    missing, extra = want - image, image - want
    check(not missing and not extra,
          f"{name}: the image and the context report disagree\n"
          f"  said to land in the final image, not in it (dest, fingerprint): "
          f"{sorted((d, fp[:12]) for d, fp in missing)}\n"
          f"  in the image, not said to land there: {sorted((p, fp[:12]) for p, fp in extra)}\n"
          f"image findings: {sorted(image)}", res)
    absent = [f for f in files if f not in landed]
    check(absent, "the context has secrets that should not reach the final image", res)
    inimg = {fp for _, fp in image}
    for f in absent:
        check(f["fingerprint"] not in inimg,
              f"{f['location']['path']} ({f.get('note')!r}) is in the final image after all", res)
    others = [f for f in idoc["findings"] if f.get("state") != "present"]
    check(not others, f"no deleted/overwritten/config findings expected: {others}", ires)
    return ctx, doc, idoc


@test
def real_build_multistage(tmp):
    """config/ and app.env land at their dest; src/settings.ini and secrets/build.env (stage
    builder only) and notes/todo.txt (not copied) are not in the final image."""
    ctx, doc, idoc = cross_check(tmp, "multistage")
    paths = sorted(f["location"]["path"] for f in idoc["findings"])
    check(paths == ["/app/.env", "/app/config/app.ini", "/app/config/db/replica.ini"],
          f"image findings at {paths}")


@test
def real_build_stage_chain(tmp):
    """base.env and deps.txt (stages the final one is built FROM) and app.txt land; unused.txt
    (stage unused) does not."""
    ctx, doc, idoc = cross_check(tmp, "stage-chain")
    paths = sorted(f["location"]["path"] for f in idoc["findings"])
    check(paths == ["/app/app.txt", "/deps/deps.txt", "/etc/base.env"],
          f"image findings at {paths}")


@test
def real_build_dockerignore(tmp):
    """buildah applies the .dockerignore as Docker does: what the context report sends is in
    the image at its dest, what it keeps out (ignored) is not."""
    ctx, doc, idoc = cross_check(tmp, "dockerignore")
    paths = sorted(f["location"]["path"] for f in idoc["findings"])
    check(paths == sorted("/app/" + p for p in DI_SENT), f"image findings at {paths}")


# ---------------------------------------------------------------------------- main


def main(argv):
    global SESSION_DIR
    SESSION_DIR = tempfile.mkdtemp(prefix="rmg-contexts-")
    t_all = time.monotonic()
    try:
        return run_suite(TESTS, argv, "ctx", quiet=(AssertionError, fx.FixtureError))
    finally:
        if "b" in BUILDER:
            BUILDER["b"].close()
        shutil.rmtree(SESSION_DIR, ignore_errors=True)
        print(f"# whole run {time.monotonic() - t_all:.1f} s")

if __name__ == "__main__":
    sys.exit(main(sys.argv))
