#!/usr/bin/env python3
"""test_formats.py: black-box tests of the machine report formats gitlab, junit and jsonl.

`rummage scan --format gitlab` writes GitLab's secret-detection report
(gl-secret-detection-report.json), `--format junit` JUnit XML (a suite per target, a failing
test case per finding), `--format jsonl` JSON Lines (a line per finding, then per error, then
one summary line). What is tested:

- golden files: each format on a fixed input (secrets from a fixed seed, relative paths,
  SOURCE_DATE_EPOCH set) is byte-for-byte tests/golden/{gitlab.json,junit.xml,jsonl.jsonl},
  with the tool version and the rule-set hash masked. UPDATE_GOLDEN=1 rewrites them: read the
  diff before committing it;
- the GitLab report validates against GitLab's own schema, vendored in tests/schemas/ (never
  downloaded), with python3-jsonschema; its ids, times, commit and status;
- hostile file names (control bytes, invalid UTF-8, U+FFFE, `]]>`, `<`, `&`, quotes, tab, LF,
  CR) give well-formed XML (xml.etree), valid JSON and valid JSON Lines, with the names
  escaped, not dropped;
- no raw secret in any format without --show-secrets, and never a raw_source_code_extract;
- an image (an OCI layout built by umoci, tests/images/fixtures.py) shows layer and state;
- JSON Lines: one parseable line per finding, the same objects as the JSON report's.

Same harness as test_cli.py (TAP, `python3 tests/cli/test_formats.py NAME...` runs some,
RUMMAGE is the binary). Needs python3-jsonschema and umoci (the Makefile installs them).
"""
import datetime
import difflib
import json
import os
import random
import re
import string
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
import test_cli as harness  # noqa: E402  (the TAP harness, run() and the secret makers)
from test_cli import ROOT, check, checksummed, expect_rc, parse_json, run, write  # noqa: E402
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py: Umoci, FixtureError)

GOLDEN = ROOT / "tests" / "golden"
SCHEMA = ROOT / "tests" / "schemas" / "secret-detection-report-format.json"
EPOCH = 1700000000  # SOURCE_DATE_EPOCH of the golden runs
EPOCH_TEXT = "2023-11-14T22:13:20"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GITLAB_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
FORMATS = ("gitlab", "junit", "jsonl")

# The reports read these; each test sets them itself.
for _var in ("SOURCE_DATE_EPOCH", "CI_COMMIT_SHA"):
    os.environ.pop(_var, None)

TESTS = []
rng = harness.rng


def test(fn):
    TESTS.append(fn)
    return fn


# --------------------------------------------------------------------------- helpers


def scan(fmt, *args, rc=None, env=None):
    res = run("scan", "--no-config", "--format", fmt, *args, env=env)
    if rc is not None:
        expect_rc(res, rc, f"--format {fmt}")
    return res


def json_doc(*args, rc=None):
    res = scan("json", *args, rc=rc)
    return parse_json(res)


def text_of(res):
    try:
        return res.out.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise AssertionError(f"output is not UTF-8: {ex}\n{res.describe()}")


_schema = {}


def gitlab_validator():
    if "v" not in _schema:
        try:
            import jsonschema
        except ImportError as ex:
            raise AssertionError("python3-jsonschema is not installed (Debian: apt-get install "
                                 "python3-jsonschema; `make deps` does it)") from ex
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator.check_schema(schema)
        _schema["v"] = jsonschema.Draft7Validator(schema)
    return _schema["v"]


def gitlab_doc(res):
    """The report, parsed and checked against GitLab's schema and the rules the schema cannot
    say (unique UUIDs, no source extract, the primary identifier)."""
    doc = parse_json(res)
    errs = sorted(gitlab_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    check(not errs, "the GitLab report does not match GitLab's schema:\n" + "\n".join(
        f"  {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errs[:10]), res)
    ids = [v["id"] for v in doc["vulnerabilities"]]
    check(all(UUID.match(i) for i in ids), f"ids should be UUIDs: {ids[:3]}", res)
    check(len(set(ids)) == len(ids), "vulnerability ids must be unique", res)
    for v in doc["vulnerabilities"]:
        check("raw_source_code_extract" not in v, "raw_source_code_extract would hold the secret",
              res)
        check(v["identifiers"][0]["type"] == "rummage_rule_id", "primary identifier", res)
        for key in ("name", "description", "severity", "solution"):
            check(isinstance(v.get(key), str) and v[key], f"vulnerability.{key} is set", res)
    check(doc["scan"]["type"] == "secret_detection", "scan.type", res)
    return doc


def junit_root(res):
    """The report as XML: UTF-8, no byte XML 1.0 cannot carry, well-formed, counts that add
    up, every test case named."""
    text = text_of(res)
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\t\n\r") or c in "\x7f\ufffe\uffff"]
    check(not bad, f"characters XML 1.0 cannot carry: {bad[:5]!r}", res)
    try:
        root = ET.fromstring(res.out)
    except ET.ParseError as ex:
        raise AssertionError(f"JUnit output is not well-formed XML: {ex}\n{res.describe()}")
    check(root.tag == "testsuites", f"root element {root.tag}", res)
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        check(suite.tag == "testsuite", f"child of testsuites: {suite.tag}", res)
        cases = [c for c in suite if c.tag == "testcase"]
        got = {"tests": len(cases),
               "failures": sum(c.find("failure") is not None for c in cases),
               "errors": sum(c.find("error") is not None for c in cases),
               "skipped": sum(c.find("skipped") is not None for c in cases)}
        for k, n in got.items():
            check(suite.get(k) == str(n), f"suite {suite.get('name')!r}: {k}={suite.get(k)}, "
                                          f"but {n} test cases say so", res)
            total[k] += n
        for c in cases:
            check(c.get("name") and c.get("classname") == suite.get("name"),
                  f"test case name and classname: {c.attrib}", res)
    for k, n in total.items():
        check(root.get(k) == str(n), f"testsuites {k}={root.get(k)}, suites add up to {n}", res)
    return root


def jsonl_lines(res):
    """The lines, each a JSON object with a type; findings, then errors, then one summary."""
    text = text_of(res)
    check(text.endswith("\n"), "JSON Lines output ends with a newline", res)
    lines = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            obj = json.loads(line)
        except ValueError as ex:
            raise AssertionError(f"line {n} is not JSON: {ex}: {line[:200]!r}\n{res.describe()}")
        check(isinstance(obj, dict) and list(obj)[0] == "type", f"line {n}: type first", res)
        lines.append(obj)
    kinds = [x["type"] for x in lines]
    check(kinds and kinds[-1] == "summary" and kinds.count("summary") == 1,
          f"one summary line, last: {kinds}", res)
    check(kinds == sorted(kinds, key=["finding", "error", "summary"].index),
          f"findings, then errors, then the summary: {kinds}", res)
    return lines


def tool_ids():
    """(version, rule-set hash) the binary reports, to mask them in golden files."""
    if "ids" not in _schema:
        d = Path(os.getcwd()) / "_ids"
        d.mkdir(exist_ok=True)
        doc = json_doc(d, rc=0)
        _schema["ids"] = (doc["tool"]["version"], doc["tool"]["rules"])
    return _schema["ids"]


def mask(data, fmt):
    version, rules = (x.encode() for x in tool_ids())
    data = data.replace(b'"' + version + b'"', b'"@VERSION@"').replace(rules, b"@RULES@")
    if fmt == "jsonl":
        data = re.sub(rb'"seconds":[0-9.e+-]+', b'"seconds":0', data)
    if fmt == "json":
        data = re.sub(rb'"seconds":\t[0-9.e+-]+', b'"seconds":\t0', data)
        data = data.replace(b'"rules":\t"@RULES@"', b'"rules":\t"@RULES@"')
    if fmt == "text":
        data = re.sub(rb"scanned in [0-9.]+ s", b"scanned in 0.00 s", data)
    return data


def compare_golden(name, data, res):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    check(path.exists(), f"{path} is missing: UPDATE_GOLDEN=1 makes it", res)
    want = path.read_bytes()
    if data != want:
        diff = list(difflib.unified_diff(
            want.decode("utf-8", "backslashreplace").splitlines(),
            data.decode("utf-8", "backslashreplace").splitlines(),
            f"golden/{name}", "output", lineterm="", n=2))
        raise AssertionError(f"output differs from tests/golden/{name} (UPDATE_GOLDEN=1 rewrites "
                             f"it; read the diff first):\n" + "\n".join(diff[:80]))


def golden_input(tmp):
    """The fixed input: secrets from a fixed seed, so the golden files can hold the redacted
    forms and fingerprints. proj (findings, one secret twice, a name with markup), clean (no
    finding), missing.txt (an input error)."""
    r = random.Random(20240501)
    ghp = checksummed(r, "ghp_")
    aws = "AKIA" + "".join(r.choice(string.ascii_uppercase + "234567") for _ in range(16))
    stripe = "sk_live_" + "".join(r.choice(string.ascii_letters + string.digits)
                                  for _ in range(24))
    write(tmp / "proj" / "config" / "settings.yml", f"github:\n  token: {ghp}\n")
    write(tmp / "proj" / ".env", f"AWS_ACCESS_KEY_ID={aws}\nPAYMENTS={stripe}\n")
    write(tmp / "proj" / "docs" / "a<b>&c.md", f"# Setup\n\nexport GH={ghp}\n")
    write(tmp / "clean" / "readme.txt", "nothing to see here\n")
    return ["proj", "clean", "missing.txt"], [ghp, aws, stripe]


def no_raw(res, secrets, what):
    for s in secrets:
        for part in ([ln for ln in s.splitlines() if ln and not ln.startswith("-----")]
                     if "-----BEGIN" in s else [s]):
            check(part.encode() not in res.out and part.encode() not in res.err,
                  f"{what}: a raw secret ({part[:6]}...) is in the output", res)


# ------------------------------------------------------------------------------ golden


def golden(tmp, fmt, name):
    targets, secrets = golden_input(tmp)
    res = scan(fmt, *targets, rc=2, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    no_raw(res, secrets, fmt)
    again = scan(fmt, "--jobs", "1", *targets, rc=2, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    check(mask(again.out, fmt) == mask(res.out, fmt),
          "the report must not depend on the number of threads", again)
    compare_golden(name, mask(res.out, fmt), res)
    return res


@test
def golden_gitlab(tmp):
    res = golden(tmp, "gitlab", "gitlab.json")
    doc = gitlab_doc(res)
    check(doc["scan"]["start_time"] == EPOCH_TEXT == doc["scan"]["end_time"],
          "with SOURCE_DATE_EPOCH, start and end time are that instant", res)


@test
def golden_junit(tmp):
    res = golden(tmp, "junit", "junit.xml")
    junit_root(res)


@test
def golden_json(tmp):
    """The JSON report: the contract other tools build on (docs/output.md)."""
    golden(tmp, "json", "report.json")


@test
def golden_text(tmp):
    """The text report, as a person reads it (no colour, no terminal: no wrapping)."""
    golden(tmp, "text", "report.txt")


@test
def jsonl_streams_per_target(tmp):
    """--format jsonl writes a target's lines as soon as that target is done: the first
    target's finding arrives while the second (stdin) is still waiting for its input."""
    import select
    import subprocess
    gh = checksummed(random.Random(7), "ghp_")
    write(tmp / "first" / "a.env", f"GH={gh}\n")
    p = subprocess.Popen([harness.RUMMAGE, "scan", "--no-config", "--format", "jsonl",
                          str(tmp / "first"), "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 60)
        check(ready, "no line within 60 s while the second target waits: not streamed")
        first = json.loads(p.stdout.readline())
        check(first["type"] == "finding" and first["location"]["target"] == str(tmp / "first"),
              f"the first line is the first target's finding: {first}")
        # joined at run time: a constant "AKIA" + "..." would be folded whole into the .pyc
        out, err = p.communicate(harness.joined("AWS=AKIA|QWERTYUIOPASDFGH\n").encode(),
                                 timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    lines = [json.loads(x) for x in out.splitlines()]
    check(lines and lines[-1]["type"] == "summary", f"a summary line ends the stream: {lines}")
    check(lines[-1]["findings"] == 1 + sum(x["type"] == "finding" for x in lines[:-1]),
          f"the summary counts every finding line: {lines[-1]}")
    check(gh.encode() not in out, "no raw secret in the stream")


@test
def golden_jsonl(tmp):
    res = golden(tmp, "jsonl", "jsonl.jsonl")
    jsonl_lines(res)


# ------------------------------------------------------------------------------ gitlab


@test
def gitlab_matches_json_report(tmp):
    """One vulnerability per finding, in order, with the rule, severity, line and file the JSON
    report gives; the same input twice gives the same ids; the commit is CI_COMMIT_SHA when set
    (GitLab CI), else the placeholder "0000000"; status and messages follow the errors."""
    targets, _ = golden_input(tmp)
    jdoc = json_doc(*targets, rc=2)
    res = scan("gitlab", *targets, rc=2)
    doc = gitlab_doc(res)
    vs = doc["vulnerabilities"]
    check(len(vs) == len(jdoc["findings"]) > 0, f"{len(vs)} vulnerabilities for "
                                                f"{len(jdoc['findings'])} findings", res)
    for v, f in zip(vs, jdoc["findings"]):
        check(v["identifiers"][0]["value"] == f["rule"] and v["name"] == f["title"],
              f"rule of {v['id']}", res)
        check(v["severity"] == GITLAB_SEVERITY[f["severity"]], "severity", res)
        want_file = f["location"]["target"] + "/" + f["location"]["path"]
        check(v["location"]["file"] == want_file, f"file {v['location']['file']!r}, want "
                                                  f"{want_file!r}", res)
        check(v["location"]["start_line"] == f["location"]["line"] == v["location"]["end_line"],
              "start and end line", res)
        check(v["location"]["commit"]["sha"] == "0000000", "no CI: placeholder commit", res)
        check(f["fingerprint"] in v["description"] and f["secret"] in v["description"],
              "the description names the fingerprint and the redacted secret", res)
        check(v["details"]["state"]["value"] == "present", "details: state", res)
    check(doc["scan"]["status"] == "failure", "an input error makes the scan a failure", res)
    msgs = doc["scan"].get("messages", [])
    check(len(msgs) == 1 and msgs[0]["level"] == "fatal" and "missing.txt" in msgs[0]["value"],
          f"the input error is a message: {msgs}", res)
    # Time: now, in UTC, without SOURCE_DATE_EPOCH.
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    end = datetime.datetime.strptime(doc["scan"]["end_time"], "%Y-%m-%dT%H:%M:%S")
    start = datetime.datetime.strptime(doc["scan"]["start_time"], "%Y-%m-%dT%H:%M:%S")
    check(abs((now - end).total_seconds()) < 120 and start <= end, f"scan times {start} "
                                                                   f"{end}, now {now}", res)
    # Stable ids, CI's commit, a clean scan.
    res2 = scan("gitlab", *targets, rc=2, env={"CI_COMMIT_SHA": "4f0c3e1b2a"})
    doc2 = gitlab_doc(res2)
    check([v["id"] for v in doc2["vulnerabilities"]] == [v["id"] for v in vs],
          "ids are stable across runs", res2)
    check(all(v["location"]["commit"]["sha"] == "4f0c3e1b2a" for v in doc2["vulnerabilities"]),
          "location.commit.sha is CI_COMMIT_SHA", res2)
    res3 = scan("gitlab", "clean", rc=0)
    doc3 = gitlab_doc(res3)
    check(doc3["vulnerabilities"] == [] and doc3["scan"]["status"] == "success" and
          "messages" not in doc3["scan"], "a clean scan: no vulnerability, success", res3)


# ------------------------------------------------------------------------------- junit


@test
def junit_suites_per_target(tmp):
    """A suite per target in the order given; a failing case per finding, with the rule as
    failure type and the details as text; a passing "no secrets" case for a clean target; an
    <error> case for a target that could not be read; no timestamp without
    SOURCE_DATE_EPOCH."""
    targets, _ = golden_input(tmp)
    jdoc = json_doc(*targets, rc=2)
    res = scan("junit", *targets, rc=2)
    root = junit_root(res)
    suites = root.findall("testsuite")
    check([s.get("name") for s in suites] == targets, f"suites {[s.get('name') for s in suites]}",
          res)
    proj, clean, missing = suites
    fails = [c for c in proj.findall("testcase") if c.find("failure") is not None]
    check(len(fails) == len(jdoc["findings"]), "a failing test case per finding", res)
    for c, f in zip(fails, jdoc["findings"]):
        fl = c.find("failure")
        check(fl.get("type") == f["rule"], f"failure type {fl.get('type')}", res)
        check(f["secret"] in fl.get("message") and f["fingerprint"] in fl.text,
              "message with the redacted secret; text with the fingerprint", res)
        check(c.get("file") == f"proj/{f['location']['path']}", f"file {c.get('file')}", res)
    ok = clean.findall("testcase")
    check([c.get("name") for c in ok] == ["no secrets"] and len(ok[0]) == 0,
          "a clean target passes one test case", res)
    errs = missing.findall("testcase/error")
    check(len(errs) == 1 and "missing.txt" in errs[0].text, "the missing target is an error", res)
    check(b"timestamp" not in res.out, "no timestamp without SOURCE_DATE_EPOCH", res)
    res2 = scan("junit", *targets, rc=2)
    check(res2.out == res.out, "the same input gives the same JUnit report", res2)
    res3 = scan("junit", *targets, rc=2, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    check(all(s.get("timestamp") == EPOCH_TEXT for s in junit_root(res3)),
          "each suite has the SOURCE_DATE_EPOCH timestamp", res3)


# ------------------------------------------------------------------------------- jsonl


@test
def jsonl_line_per_finding(tmp):
    """Each finding line is the JSON report's finding object plus "type": "finding"; each
    error line its error object; the summary has the counts and the stats. A clean scan is
    the summary line alone."""
    targets, _ = golden_input(tmp)
    write(tmp / "proj" / "more.env", "".join(f"T{i}={checksummed(rng, 'ghp_')}\n"
                                             for i in range(20)))
    jdoc = json_doc(*targets, rc=2)
    res = scan("jsonl", *targets, rc=2)
    lines = jsonl_lines(res)
    check(len(res.out.splitlines()) == len(lines), "one object per line", res)
    found = [x for x in lines if x["type"] == "finding"]
    errors = [x for x in lines if x["type"] == "error"]
    check(len(found) == len(jdoc["findings"]) >= 23, f"{len(found)} finding lines for "
                                                     f"{len(jdoc['findings'])} findings", res)
    for x, f in zip(found, jdoc["findings"]):
        x = dict(x)
        del x["type"]
        check(x == f, f"the finding line differs from the JSON report's finding:\n{x}\n{f}", res)
    check([{k: v for k, v in e.items() if k != "type"} for e in errors] == jdoc["errors"],
          "error lines are the JSON report's errors", res)
    s = lines[-1]
    check(s["findings"] == len(found) and s["errors"] == 1 and s["warnings"] == 0,
          f"summary counts {s}", res)
    st, want = dict(s["stats"]), dict(jdoc["stats"])
    st.pop("seconds")
    want.pop("seconds")
    check(st == want, f"summary stats {s['stats']} vs {jdoc['stats']}", res)
    check(s["tool"]["name"] == "rummage" and s["tool"]["version"] == jdoc["tool"]["version"],
          "summary names the tool", res)
    res2 = scan("jsonl", "clean", rc=0)
    lines2 = jsonl_lines(res2)
    check(len(lines2) == 1 and lines2[0]["findings"] == 0, "a clean scan: the summary only",
          res2)


# ------------------------------------------------------------------- --output, context


@test
def output_option_writes_each_format(tmp):
    """One scan, the text report on stdout and `--output FORMAT=FILE` for each format: each
    file (mode 0600) is the report --format FORMAT writes."""
    targets, secrets = golden_input(tmp)
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    files = {fmt: tmp / f"report.{fmt}" for fmt in FORMATS}
    outs = [a for fmt in FORMATS for a in ("--output", f"{fmt}={files[fmt]}")]
    res = run("scan", "--no-config", "--color", "never", *outs, *targets, env=env)
    expect_rc(res, 2)
    check(b"GitHub personal access token" in res.out, "the text report on stdout", res)
    for fmt, path in files.items():
        check(path.exists(), f"--output {fmt}=FILE wrote no file", res)
        check(path.stat().st_mode & 0o777 == 0o600, f"{path.name}: mode "
                                                    f"{oct(path.stat().st_mode & 0o777)}", res)
        alone = scan(fmt, *targets, rc=2, env=env)
        check(mask(path.read_bytes(), fmt) == mask(alone.out, fmt),
              f"--output {fmt}=FILE differs from --format {fmt}", alone)
        check(not any(x.encode() in path.read_bytes() for x in secrets), "no raw secret", res)


@test
def context_formats(tmp):
    """`rummage context` in each format: a Dockerfile whose COPY . takes a .env with a token,
    and a file .dockerignore keeps out (--show-ignored): that one is a skipped JUnit case,
    never a failure; the GitLab report validates; JSON Lines carries the notes."""
    gh, kept = checksummed(rng, "ghp_"), checksummed(rng, "ghp_")
    write(tmp / "ctx" / "Dockerfile", "FROM scratch\nCOPY . /app\nUSER 1000\n")
    write(tmp / "ctx" / ".env", f"GITHUB_TOKEN={gh}\n")
    write(tmp / "ctx" / "secret.txt", f"GITHUB_TOKEN={kept}\n")
    write(tmp / "ctx" / ".dockerignore", "secret.txt\n")
    args = ("context", "--no-config", "--show-ignored")
    res = run(*args, "--format", "junit", "ctx")
    expect_rc(res, 1)
    no_raw(res, [gh, kept], "context junit")
    root = junit_root(res)
    check(root.get("name") == "rummage context", f"testsuites name {root.get('name')}", res)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    env = [c for n, c in cases.items() if ".env:1:" in n]
    ign = [c for n, c in cases.items() if "secret.txt:1:" in n]
    check(len(env) == 1 and env[0].find("failure") is not None and
          "copied into the final image" in env[0].find("failure").text,
          f"the .env finding fails, with its note: {sorted(cases)}", res)
    check(len(ign) == 1 and ign[0].find("skipped") is not None and ign[0].find("failure") is None,
          "what .dockerignore keeps out is skipped, not failed", res)
    res = run(*args, "--format", "gitlab", "ctx")
    expect_rc(res, 1)
    no_raw(res, [gh, kept], "context gitlab")
    files = {v["location"]["file"] for v in gitlab_doc(res)["vulnerabilities"]}
    check({"ctx/.env", "ctx/secret.txt"} <= files, f"files {sorted(files)}", res)
    res = run(*args, "--format", "jsonl", "ctx")
    expect_rc(res, 1)
    no_raw(res, [gh, kept], "context jsonl")
    found = [x for x in jsonl_lines(res) if x["type"] == "finding"]
    check(any(x.get("ignored") for x in found) and all("note" in x for x in found),
          "context findings keep note and ignored", res)


# ----------------------------------------------------------------------------- hostile


HOSTILE = [
    b"ctl\x01\x02\x1b[31mred.env",   # control bytes, a terminal escape
    b"bad\xff\xfe-utf8.env",          # invalid UTF-8
    b"cdata]]>end.env",               # ends a CDATA section
    b"mark<up>&amp;\"q'.env",         # markup, an entity, both quotes
    b"tab\tin.env",
    b"nl\nin.env",
    b"cr\rin.env",
    b"nonchar\xef\xbf\xbe.env",       # U+FFFE: valid UTF-8, not an XML character
    b"c1\xc2\x9b31m.env",             # U+009B: a C1 control (CSI)
    b"del\x7f.env",
]


@test
def hostile_file_names(tmp):
    """Files named with bytes XML and JSON cannot carry as they are, in a target whose own
    name is hostile: every format stays well-formed and parseable, each file is still
    reported, and the names survive escaped: markup and whitespace round-trip through the XML
    parser, other bytes become the text \\xHH."""
    top = os.path.join(bytes(tmp), b"tgt<&>]]>\x05\xfe")
    os.mkdir(top)
    secrets = []
    for name in HOSTILE:
        secrets.append(checksummed(rng, "ghp_"))
        with open(os.path.join(top, name), "wb") as f:
            f.write(f"token: {secrets[-1]}\n".encode())
    jdoc = json_doc(top, rc=1)
    check(len(jdoc["findings"]) == len(HOSTILE), f"{len(jdoc['findings'])} findings for "
                                                 f"{len(HOSTILE)} files", None)

    res = scan("junit", top, rc=1)
    no_raw(res, secrets, "junit")
    root = junit_root(res)
    suite = root.find("testsuite")
    check(suite.get("name").endswith("tgt<&>]]>\\x05\\xfe"), f"suite name {suite.get('name')!r}",
          res)
    names = " | ".join(c.get("name") for c in suite.iter("testcase"))
    for want in ("ctl\\x01\\x02\\x1b[31mred.env", "bad\\xff\\xfe-utf8.env", "cdata]]>end.env",
                 "mark<up>&amp;\"q'.env", "tab\tin.env", "nl\nin.env", "cr\rin.env",
                 "nonchar\\xef\\xbf\\xbe.env", "c1\\xc2\\x9b31m.env", "del\\x7f.env"):
        check(want in names, f"test case names should hold {want!r}: {names!r}", res)
    fails = suite.findall("testcase/failure")
    check(len(fails) == len(HOSTILE), f"{len(fails)} failures for {len(HOSTILE)} files", res)

    res = scan("gitlab", top, rc=1)
    no_raw(res, secrets, "gitlab")
    doc = gitlab_doc(res)
    check(len(doc["vulnerabilities"]) == len(HOSTILE), "a vulnerability per file", res)
    for v in doc["vulnerabilities"]:
        bad = [c for c in v["description"] + v["name"] + v["solution"]
               if ord(c) < 0x20 and c != "\n"]
        check(not bad, f"description holds control characters {bad!r}", res)

    res = scan("jsonl", top, rc=1)
    no_raw(res, secrets, "jsonl")
    lines = jsonl_lines(res)
    paths = sorted(x["location"]["path"] for x in lines if x["type"] == "finding")
    check(paths == sorted(f["location"]["path"] for f in jdoc["findings"]),
          "the same (escaped) paths as the JSON report", res)


# ------------------------------------------------------------------------------ secrets


@test
def no_raw_secret_in_any_format(tmp):
    """Several kinds of secret (a token, a key id, a password, a PEM private key) in each
    format: only redacted forms without --show-secrets. With it, JUnit and JSON Lines show the
    raw value (the user asked), GitLab's report still has no source extract."""
    gh, aws = checksummed(rng, "ghp_"), harness.aws_key_id()
    pw = "Pw" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16)) + "7"
    pem = harness.private_key()
    write(tmp / "d" / "app.env", f"GITHUB_TOKEN={gh}\nAWS_ACCESS_KEY_ID={aws}\n")
    write(tmp / "d" / "db.yml", f"database:\n  password: {pw}\n")
    write(tmp / "d" / "id_rsa", pem + "\n")
    jdoc = json_doc("d", rc=1)
    rules = {f["rule"] for f in jdoc["findings"]}
    check(len(jdoc["findings"]) >= 4 and any("private-key" in r for r in rules),
          f"the input should give 4 findings: {sorted(rules)}", None)
    for fmt in FORMATS:
        res = scan(fmt, "d", rc=1)
        no_raw(res, [gh, aws, pw, pem], fmt)
        res = scan(fmt, "--show-secrets", "d", rc=1)
        if fmt == "gitlab":
            check(b"raw_source_code_extract" not in res.out, "never a source extract", res)
            gitlab_doc(res)
        else:
            check(gh.encode() in res.out, f"{fmt} --show-secrets shows the secret", res)


# -------------------------------------------------------------------------------- image


@test
def image_layer_and_state(tmp):
    """An OCI image made by umoci: layer 0 "COPY app/ /app/" adds /app/.env (a GitHub token)
    and /app/conf.ini (an AWS key id); layer 1 "RUN rm /app/.env && ..." deletes .env and
    writes conf.ini again. So: the token deleted in layer 1 (still in layer 0), the key id
    overwritten (layer 0) and present (layer 1) at the same path and line. Each format says
    the layer and the state; GitLab keeps the two conf.ini findings apart."""
    gh, aws = checksummed(rng, "ghp_"), harness.aws_key_id()
    cb = ["COPY app/ /app/", "RUN rm /app/.env && echo again > /dev/null"]
    try:
        u = fx.Umoci(tmp / "oci", "app", tmp / "bundle")
        u.put("/app/.env", f"GITHUB_TOKEN={gh}\n")
        u.put("/app/conf.ini", f"aws_access_key_id = {aws}\n")
        u.commit(cb[0])
        os.remove(u.rootfs / "app" / ".env")
        u.put("/app/conf.ini", f"aws_access_key_id = {aws}\n# region = eu-west-1\n")
        u.commit(cb[1])
    except fx.FixtureError as ex:
        raise AssertionError(f"cannot build the image: {ex}") from ex
    target = f"oci:{tmp / 'oci'}:app"
    jdoc = json_doc(target, rc=1)
    got = sorted((f["location"]["path"], f["state"], f["location"]["layer"]["index"])
                 for f in jdoc["findings"])
    want = [("/app/.env", "deleted", 0), ("/app/conf.ini", "overwritten", 0),
            ("/app/conf.ini", "present", 1)]
    check(got == want, f"fixture: findings {got}, want {want}", None)

    res = scan("gitlab", target, rc=1)
    no_raw(res, [gh, aws], "gitlab")
    vs = gitlab_doc(res)["vulnerabilities"]
    by_file = {v["location"]["file"]: v for v in vs}
    check(len(by_file) == 3, f"three distinct files: {sorted(by_file)}", res)
    env = [v for f, v in by_file.items() if f.endswith("layer 0 /app/.env")]
    check(len(env) == 1 and all(f.startswith(target) for f in by_file),
          f"file names the target, the layer and the path: {sorted(by_file)}", res)
    d = env[0]["description"]
    check("**deleted** in layer 1" in d and "still extractable from layer 0" in d
          and cb[1] in d and cb[0] in d, f"the description tells the layer story: {d}", res)
    items = env[0]["details"]
    check(items["state"]["value"] == "deleted" and items["layer"]["value"] == 0 and
          items["changed_in_layer"]["value"] == 1, f"details: {items}", res)

    res = scan("junit", target, rc=1)
    no_raw(res, [gh, aws], "junit")
    root = junit_root(res)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    name = next((n for n in cases if "layer 0 /app/.env" in n), None)
    check(name and name.endswith("(deleted)"), f"test case names: {sorted(cases)}", res)
    text = cases[name].find("failure").text
    check("deleted in layer 1" in text and cb[1] in text and "state:       deleted" in text,
          f"failure text: {text}", res)
    check(sum("/app/conf.ini" in n for n in cases) == 2, "conf.ini in two layers", res)

    res = scan("jsonl", target, rc=1)
    no_raw(res, [gh, aws], "jsonl")
    f = [x for x in jsonl_lines(res) if x["type"] == "finding" and x["state"] == "deleted"]
    check(len(f) == 1 and f[0]["location"]["layer"]["index"] == 0 and
          f[0]["changed_in"]["layer"] == 1, f"jsonl deleted finding: {f}", res)


if __name__ == "__main__":
    harness.TESTS[:] = TESTS
    sys.exit(harness.main(sys.argv))
