#!/usr/bin/env python3
"""test_sarif.py: black-box tests of `rummage scan --format sarif` (the SARIF 2.1.0 report).

Every report is validated against the OASIS SARIF 2.1.0 JSON schema vendored in tests/schemas/
(never fetched at test time) with python3-jsonschema, and cross-checked against the JSON report
of the same scan: one result per finding, in the same order, with the same rule, fingerprint,
line and column. Inputs are built in each test's temporary directory: directories of generated
secrets, and an OCI image made by umoci (tests/images/fixtures.py) with a deleted file and a
secret in the config.

Golden files: tests/golden/sarif-directory.json and sarif-image.json hold the normalised report
(tool version, rule-set hash and image digests replaced by placeholders) of a fixed input whose
secrets come from a fixed seed. After an intended change to the report, regenerate them with
`UPDATE_GOLDEN=1 python3 tests/cli/test_sarif.py` and review the diff.

Same harness as test_cli.py: TAP output, `python3 tests/cli/test_sarif.py NAME...` runs some,
RUMMAGE is the binary, RUMMAGE_TEST_SEED repeats a run's random secrets.
"""
import difflib
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "images"))
sys.path.insert(0, str(ROOT / "samples"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import ACME_TOKEN, check, expect_rc, parse_json, rng, run  # noqa: E402
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py: umoci helpers)
from generate import checksummed  # noqa: E402  (samples/generate.py)

SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN_SEED = 20240601  # the golden inputs' secrets; changing it changes the golden files

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
ALNUM = string.ascii_letters + string.digits

# ---------------------------------------------------------------------------- harness

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ------------------------------------------------------------------------ validation

_validator = []


def validator():
    """A validator for the vendored schema, of the draft the schema declares (draft-07)."""
    if _validator:
        return _validator[0]
    try:
        import jsonschema
    except ImportError:
        # Debian's python3-jsonschema, when python3 on PATH is another interpreter.
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import jsonschema
        except ImportError as ex:
            raise AssertionError("python3-jsonschema is not installed (Debian: apt-get install "
                                 "python3-jsonschema; `make deps` installs it)") from ex
    from jsonschema import validators
    schema = json.loads(SCHEMA.read_text())
    check(schema.get("$schema", "").startswith("http://json-schema.org/draft-07/"),
          f"vendored schema declares {schema.get('$schema')}, expected draft-07")
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    _validator.append(cls(schema))
    return _validator[0]


# RFC 3986 URI-reference as the report writes it: pchar and "/" only, escapes well formed.
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$")


def check_uris(doc, res):
    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("artifactLocation"), dict):
                yield x["artifactLocation"]
            for v in x.values():
                yield from walk(v)
        elif isinstance(x, list):
            for v in x:
                yield from walk(v)
    for al in walk(doc):
        uri = al.get("uri")
        check(isinstance(uri, str) and uri and URI_CHARS.match(uri),
              f"artifactLocation.uri {uri!r} is not a valid URI reference", res)
        if uri.startswith("file:"):
            check(uri.startswith("file:///") and "uriBaseId" not in al,
                  f"absolute URI {uri!r}: file:/// and no uriBaseId", res)
        else:
            first = uri.split("/", 1)[0]
            check(":" not in first, f"relative URI {uri!r} would read as a scheme", res)


def validate(doc, res):
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    check(not errors, "SARIF does not validate against the 2.1.0 schema:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
        for e in errors[:8]), res)
    check(doc.get("version") == "2.1.0" and len(doc.get("runs", [])) == 1,
          "one run of SARIF 2.1.0", res)
    check_uris(doc, res)


def no_raw(res, secrets):
    for s in secrets:
        for mark in marks(s):
            check(mark.encode() not in res.out and mark.encode() not in res.err,
                  f"a raw secret ({mark[:6]}...) is in the output", res)


def marks(secret):
    """What must never be printed of a secret (a PEM key: its body lines)."""
    if "-----BEGIN" in secret:
        return [ln for ln in secret.splitlines() if ln and "-----" not in ln and len(ln) > 16]
    return [secret]


def sarif(*args, rc=None, secrets=(), cmd="scan"):
    """rummage CMD --format sarif ARGS: exit code rc, valid SARIF, no raw secret."""
    res = run(cmd, "--format", "sarif", *args)
    if rc is not None:
        expect_rc(res, rc)
    check(b"unknown format" not in res.err, "this rummage has no --format sarif", res)
    doc = parse_json(res)
    validate(doc, res)
    no_raw(res, secrets)
    return res, doc


def scan_json(*args, cmd="scan"):
    res = run(cmd, "--format", "json", *args)
    return res, parse_json(res)


def the_run(doc):
    return doc["runs"][0]


def uri_of(path):
    """The percent-encoding the report uses (RFC 3986 pchar kept, ':' encoded)."""
    return urllib.parse.quote(path, safe="!$&'()*+,;=@/-._~")


def agree_with_json(sdoc, jdoc, res, uri=None):
    """One result per JSON finding, same order, same rule, fingerprint, place and fields;
    rules listed once each, sorted, with level and security-severity from the severity."""
    r = the_run(sdoc)
    results, findings = r["results"], jdoc["findings"]
    check(len(results) == len(findings),
          f"{len(results)} SARIF results for {len(findings)} JSON findings", res)
    rules = r["tool"]["driver"]["rules"]
    ids = [x["id"] for x in rules]
    check(ids == sorted(set(f["rule"] for f in findings)),
          f"driver.rules {ids} are not the sorted rule ids of the findings", res)
    by_id = {x["id"]: x for x in rules}
    for f in findings:
        rule = by_id[f["rule"]]
        check(rule["shortDescription"]["text"] == f["title"], f"{f['rule']}: title", res)
        check(rule["help"]["text"] == f["remedy"], f"{f['rule']}: help.text is the remedy", res)
        check("markdown" in rule["help"], f"{f['rule']}: help.markdown", res)
        props = rule["properties"]
        check(props["tags"][:2] == ["security", "secret"], f"{f['rule']}: tags", res)
    for x, f in zip(results, findings):
        loc = f["location"]
        where = f"{f['rule']} at {loc['path']}"
        check(x["ruleId"] == f["rule"] and rules[x["ruleIndex"]]["id"] == f["rule"],
              f"{where}: ruleId/ruleIndex", res)
        check(x["level"] == LEVEL[f["severity"]], f"{where}: level for {f['severity']}", res)
        check(x["partialFingerprints"]["rummage/v1"] == f["fingerprint"],
              f"{where}: partialFingerprints differ from the JSON fingerprint", res)
        p = x["properties"]
        for k in ("severity", "confidence", "state", "secret", "changed_in", "note",
                  "dockerfile", "remedy_context", "ignored"):
            check(p.get(k) == f.get(k), f"{where}: properties.{k} {p.get(k)!r} != {f.get(k)!r}",
                  res)
        for k in ("target", "image", "path", "platform", "layer"):
            check(p.get(k) == loc.get(k), f"{where}: properties.{k} differs", res)
        pl = x["locations"][0]["physicalLocation"]
        if f["state"] != "config":
            reg = pl["region"]
            check((reg["startLine"], reg["startColumn"]) == (loc["line"], loc["column"]),
                  f"{where}: region {reg} is not line {loc['line']} column {loc['column']}", res)
            if f["secret"] is not None:
                n = int(re.search(r"\((\d+)\)$", f["secret"]).group(1))
                check(reg["byteLength"] == n, f"{where}: byteLength {reg['byteLength']} != {n}",
                      res)
        if uri is not None:
            want_uri, want_base = uri(f)
            al = pl["artifactLocation"]
            check(al["uri"] == want_uri and al.get("uriBaseId") == want_base,
                  f"{where}: artifactLocation {al}, expected {want_uri!r} ({want_base})", res)
        if f["secret"] is not None:
            check(f["secret"] in x["message"]["text"],
                  f"{where}: message lacks the redacted secret: {x['message']['text']}", res)
        text = x["message"]["text"]
        check(text.startswith(f["title"].replace("[", "\\[").replace("]", "\\]")),
              f"{where}: message starts with the title: {text}", res)


def dir_uri(target):
    return lambda f: (uri_of(f"{target}/{f['location']['path']}"), "SRCROOT")


# ------------------------------------------------------------------------ secret makers


def github(r=rng):
    return checksummed(r, "ghp_")


def aws_key_id(r=rng):
    return "AKIA" + "".join(r.choice(string.ascii_uppercase + "234567") for _ in range(16))


def stripe_live(r=rng):
    return "sk_live_" + "".join(r.choice(ALNUM) for _ in range(24))


def npm(r=rng):
    return checksummed(r, "npm_")


def private_key():
    p = subprocess.run(["openssl", "genrsa", "1024"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, check=True)
    return p.stdout.decode().strip() + "\n"


def write(path, data):
    path = Path(path) if not isinstance(path, bytes) else path
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def secrets_dir(root, r=rng, pem=True):
    """A small repository with several kinds of secret; returns the raw secrets."""
    s = {"gh": github(r), "aws": aws_key_id(r), "stripe": stripe_live(r), "npm": npm(r)}
    write(root / ".env", f"APP_ENV=production\nGITHUB_TOKEN={s['gh']}\n")
    write(root / "config" / "settings.yml", f"aws:\n  region: eu-west-1\n  access_key_id: "
                                           f"{s['aws']}\n")
    write(root / "src" / "billing.py", f'import stripe\n\nstripe.api_key = "{s["stripe"]}"\n')
    write(root / ".npmrc", f"//registry.npmjs.org/:_authToken={s['npm']}\n")
    write(root / "docs" / "README.md", "Nothing secret here.\n")
    if pem:
        s["pem"] = private_key()
        write(root / "deploy" / "id_rsa", s["pem"])
    return s


# ------------------------------------------------------------------------ image builder


def build_image(d, r=rng):
    """An OCI layout at d/img (tag "app") built by umoci, linux/amd64, 2 layers:
      layer 0 "COPY app/ /app/":  /app/.env GITHUB_TOKEN=<gh> (deleted in layer 1),
                                  /app/config/settings.yml access_key_id: <aws> (present)
      layer 1 "RUN rm /app/.env": the whiteout
      config  Env GITHUB_TOKEN=<cfg> (umoci config --no-history)."""
    s = {"gh": github(r), "aws": aws_key_id(r), "cfg": github(r)}
    L = d / "img"
    u = fx.Umoci(L, "app", d / "bundle")
    u.put("/app/.env", f"GITHUB_TOKEN={s['gh']}\n")
    u.put("/app/config/settings.yml", f"aws:\n  access_key_id: {s['aws']}\n")
    u.commit("COPY app/ /app/")
    os.remove(u.rootfs / "app" / ".env")
    u.commit("RUN rm /app/.env")
    fx.sh("umoci", "config", "--no-history", "--architecture", "amd64", "--os", "linux",
          "--config.env", f"GITHUB_TOKEN={s['cfg']}", "--image", f"{L}:app")
    shutil.rmtree(d / "bundle")
    return s


# ---------------------------------------------------------------------------- golden

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def normalise(doc):
    """The report without what changes across builds and runs of the same input: the tool
    version, the rule set's hash, and image digests (umoci writes timestamps into layers)."""
    doc = json.loads(json.dumps(doc))
    drv = the_run(doc)["tool"]["driver"]
    drv["version"] = drv["semanticVersion"] = "VERSION"
    if "rules" in drv.get("properties", {}):
        drv["properties"]["rules"] = "RULES-HASH"
    seen = {}
    text = json.dumps(doc, ensure_ascii=False)
    text = DIGEST.sub(lambda m: seen.setdefault(m.group(0), f"sha256:DIGEST-{len(seen)}"), text)
    return json.loads(text)


def golden_compare(name, doc, res):
    path = GOLDEN / name
    got = json.dumps(normalise(doc), indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
        print(f"# updated {path.relative_to(ROOT)}")
        return
    check(path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it")
    want = path.read_text()
    diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                        f"{name} (golden)", f"{name} (now)", n=2))
    check(got == want, f"the report differs from {path.relative_to(ROOT)} (UPDATE_GOLDEN=1 "
                       f"regenerates it after an intended change):\n{diff[:6000]}", res)


# ----------------------------------------------------------------------------- tests


@test
def directory_report_is_valid_sarif(tmp):
    s = secrets_dir(tmp / "repo")
    res, doc = sarif("repo", rc=1, secrets=s.values())
    _, jdoc = scan_json("repo")
    check(len(jdoc["findings"]) >= 5, f"expected at least 5 findings: {jdoc['findings']}")
    agree_with_json(doc, jdoc, res, uri=dir_uri("repo"))
    r = the_run(doc)
    drv = r["tool"]["driver"]
    check(drv["name"] == "rummage" and drv["version"] == drv["semanticVersion"],
          "driver name and version", res)
    check("informationUri" not in drv, "no informationUri (no host names)", res)
    for rule in drv["rules"]:
        sev = rule["properties"]["severity"]
        check(rule["defaultConfiguration"]["level"] == LEVEL[sev] and
              rule["properties"]["security-severity"] == SECURITY_SEVERITY[sev],
              f"{rule['id']}: level/security-severity for {sev}", res)
    check(r["invocations"][0]["executionSuccessful"] is True, "executionSuccessful", res)
    check(set(r["originalUriBaseIds"]) == {"SRCROOT"}, "only SRCROOT is used", res)
    # every result is in a file of the repository, where a code-scanning service looks
    uris = {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for x in r["results"]}
    for want in ("repo/.env", "repo/config/settings.yml", "repo/src/billing.py", "repo/.npmrc",
                 "repo/deploy/id_rsa"):
        check(want in uris, f"no result in {want}: {sorted(uris)}", res)
    # a PEM key spans lines: the region ends on a later line
    pem = [x for x in r["results"]
           if x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("id_rsa")]
    reg = pem[0]["locations"][0]["physicalLocation"]["region"]
    check(reg["endLine"] > reg["startLine"] and reg["byteLength"] == len(s["pem"].rstrip("\n")),
          f"PEM region {reg}", res)
    # target spellings give the same URIs: ./repo/ and an absolute path
    _, doc2 = sarif("./repo/", rc=1)
    uris2 = [x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
             for x in the_run(doc2)["results"]]
    check(set(uris2) == uris, f"./repo/ gives other URIs: {uris2}")
    _, doc3 = sarif(str(tmp / "repo"), rc=1)
    for x in the_run(doc3)["results"]:
        al = x["locations"][0]["physicalLocation"]["artifactLocation"]
        check(al["uri"].startswith("file://" + uri_of(str(tmp))) and "uriBaseId" not in al,
              f"absolute target: {al}")


@test
def file_and_stdin_targets(tmp):
    gh = github()
    write(tmp / "a" / "one.env", f"TOKEN={gh}\n")
    res, doc = sarif("a/one.env", rc=1, secrets=[gh])
    al = the_run(doc)["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    check(al == {"uri": "a/one.env", "uriBaseId": "SRCROOT"}, f"file target: {al}", res)
    res = run("scan", "--format", "sarif", "-", input=f"x\nTOKEN={gh}\n".encode())
    expect_rc(res, 1)
    doc = parse_json(res)
    validate(doc, res)
    no_raw(res, [gh])
    x = the_run(doc)["results"][0]
    al = x["locations"][0]["physicalLocation"]["artifactLocation"]
    check(al["uri"] == "stdin" and "uriBaseId" not in al, f"stdin: {al}", res)
    check(x["locations"][0]["physicalLocation"]["region"]["startLine"] == 2, "stdin line", res)


@test
def image_report_is_valid_sarif(tmp):
    s = build_image(tmp)
    res, doc = sarif("oci:img:app", rc=1, secrets=s.values())
    _, jdoc = scan_json("oci:img:app")

    def image_uri(f):
        if f["state"] == "config":
            return "config.json", "IMAGEMETADATA"
        return uri_of(f["location"]["path"].lstrip("/")), "IMAGEROOT"
    agree_with_json(doc, jdoc, res, uri=image_uri)
    r = the_run(doc)
    states = sorted(x["properties"]["state"] for x in r["results"])
    check(states == ["config", "deleted", "present"], f"states {states}", res)
    by_state = {x["properties"]["state"]: x for x in r["results"]}

    d = by_state["deleted"]
    loc = d["locations"][0]
    check(loc["physicalLocation"]["artifactLocation"]["uri"] == "app/.env", "deleted: uri", res)
    check(loc["logicalLocations"] == [{"name": "layer 0", "fullyQualifiedName":
                                       "manifest.layers[0]", "kind": "module"}],
          f"deleted: logical location {loc.get('logicalLocations')}", res)
    p = d["properties"]
    check(p["layer"]["index"] == 0 and p["layer"]["created_by"] == "COPY app/ /app/" and
          p["layer"]["digest"].startswith("sha256:") and p["layer"]["diff_id"].startswith("sha256:"),
          f"deleted: layer {p['layer']}", res)
    check(p["changed_in"] == {"layer": 1, "created_by": "RUN rm /app/.env"},
          f"deleted: changed_in {p.get('changed_in')}", res)
    check(p["image"] == "app" and p["platform"] == "linux/amd64", f"image/platform {p}", res)
    msg = d["message"]["text"]
    for part in ("/app/.env:1:14", "layer 0 (COPY app/ /app/)", "deleted in layer 1",
                 "still extractable from layer 0"):
        check(part in msg, f"deleted: message lacks {part!r}: {msg}", res)

    c = by_state["config"]
    loc = c["locations"][0]
    check(loc["physicalLocation"] == {"artifactLocation": {"uri": "config.json", "uriBaseId":
                                                           "IMAGEMETADATA"},
                                      "region": {"startLine": 1}},
          f"config: physical location {loc['physicalLocation']}", res)
    ll = loc["logicalLocations"][0]
    check(re.fullmatch(r"config\.Env\[\d+\]", ll["fullyQualifiedName"]) and
          ll["fullyQualifiedName"] == c["properties"]["path"] and ll["kind"] == "value",
          f"config: logical location {ll}", res)
    check("layer" not in c["properties"], "config: no layer", res)
    check(set(r["originalUriBaseIds"]) == {"IMAGEROOT", "IMAGEMETADATA"},
          f"uriBaseIds {sorted(r['originalUriBaseIds'])}", res)


@test
def no_findings_is_valid_sarif(tmp):
    write(tmp / "clean" / "README.md", "hello\n")
    write(tmp / "clean" / "src" / "main.c", "int main(void) { return 0; }\n")
    res, doc = sarif("clean", rc=0)
    r = the_run(doc)
    check(r["results"] == [] and r["tool"]["driver"]["rules"] == [],
          "no results and no rules", res)
    check(r["invocations"][0]["executionSuccessful"] is True, "executionSuccessful", res)
    check("originalUriBaseIds" not in r, "no uriBaseIds without results", res)
    check(r["invocations"][0]["properties"]["files"] == 2, "2 files scanned", res)


@test
def fingerprints_stable_and_equal_to_json(tmp):
    s = secrets_dir(tmp / "repo", pem=False)
    gh = s["gh"]
    write(tmp / "repo" / "copy" / "again.env", f"GITHUB_TOKEN={gh}\n")  # same secret twice
    res1, doc1 = sarif("repo", rc=1, secrets=s.values())
    res2, doc2 = sarif("--jobs", "1", "repo", rc=1)
    check(res1.out == res2.out, "two runs give different SARIF bytes", res2)
    _, jdoc = scan_json("repo")
    got = [x["partialFingerprints"]["rummage/v1"] for x in the_run(doc1)["results"]]
    want = [f["fingerprint"] for f in jdoc["findings"]]
    check(got == want, f"fingerprints differ from the JSON report:\n{got}\n{want}", res1)
    same = [x for x in the_run(doc1)["results"]
            if x["partialFingerprints"]["rummage/v1"] == jdoc["findings"][0]["fingerprint"]]
    gh_results = [x for x in the_run(doc1)["results"] if x["ruleId"].startswith("github")]
    check(len(gh_results) == 2 and
          gh_results[0]["partialFingerprints"]["rummage/v1"] ==
          gh_results[1]["partialFingerprints"]["rummage/v1"] and
          gh_results[0]["partialFingerprints"]["rummage/location/v1"] !=
          gh_results[1]["partialFingerprints"]["rummage/location/v1"],
          "one secret in two files: one rummage/v1, two rummage/location/v1", res1)
    check(same, "a result per fingerprint", res1)


@test
def secrets_never_in_sarif_even_with_show_secrets(tmp):
    s = secrets_dir(tmp / "repo")
    res, doc = sarif("--show-secrets", "repo", rc=1, secrets=s.values())
    # the option works (the JSON report does show them), SARIF ignores it
    jres, jdoc = scan_json("--show-secrets", "repo")
    check(s["gh"].encode() in jres.out, "--show-secrets shows nothing in JSON either", jres)
    for x in the_run(doc)["results"]:
        sec = x["properties"].get("secret")
        check(sec is None or "…(" in sec, f"secret property not redacted: {sec[:8]}...", res)
    res = run("scan", "--format", "sarif", "--output", "out.sarif", "repo")
    expect_rc(res, 1)
    data = (tmp / "out.sarif").read_bytes()
    check(data and not any(m.encode() in data for v in s.values() for m in marks(v)),
          "--output file holds a raw secret", res)


@test
def errors_are_tool_notifications(tmp):
    gh = github()
    write(tmp / "repo" / "a.env", f"GITHUB_TOKEN={gh}\n")
    bad = "missing\x1b[31m[x](1)"
    res, doc = sarif("repo", bad, rc=2, secrets=[gh])
    inv = the_run(doc)["invocations"][0]
    check(inv["executionSuccessful"] is False, "an input error: executionSuccessful false", res)
    notes = inv["toolExecutionNotifications"]
    check(len(notes) == 1 and notes[0]["level"] == "error", f"notifications {notes}", res)
    text = notes[0]["message"]["text"]
    check("\x1b" not in text and "\\x1b" in text, f"control byte not escaped: {text!r}", res)
    check("\\[x\\](1)" in text, f"brackets not escaped (a SARIF link): {text!r}", res)
    check(notes[0]["properties"]["target"] == bad, "notification target", res)
    check(len(the_run(doc)["results"]) == 1, "the readable target is still reported", res)


@test
def untrusted_paths_escaped(tmp):
    gh = github()
    names = [b"odd name [1](2) \xc3\xbc#?.txt", b"bad\xffbyte.txt", b"esc\x1b[31mred.txt",
             b"c:colon.txt"]
    (tmp / "repo").mkdir()
    for n in names:
        write(os.path.join(bytes(tmp), b"repo", n), f"GITHUB_TOKEN={gh}\n")
    res, doc = sarif("repo", rc=1, secrets=[gh])
    results = the_run(doc)["results"]
    check(len(results) == len(names), f"{len(results)} results for {len(names)} files", res)
    uris = sorted(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                  for x in results)
    want = sorted("repo/" + urllib.parse.quote(n, safe="!$&'()*+,;=@/-._~") for n in names)
    check(uris == want, f"URIs {uris}, expected {want}", res)
    for x in results:
        text = x["message"]["text"]
        check("\x1b" not in text, f"raw ESC in message {text!r}", res)
        if "odd name" in text:
            check("\\[1\\](2)" in text and "ü" in text, f"message {text!r}", res)
        if "bad" in text:
            check("\\xff" in text, f"invalid byte not shown as \\xff: {text!r}", res)


@test
def build_context_ignored_is_suppressed(tmp):
    gh, gh2 = github(), github()
    write(tmp / "ctx" / "Dockerfile", "FROM scratch\nCOPY . /app\nUSER 1000\n")
    write(tmp / "ctx" / ".dockerignore", "secret/\n")
    write(tmp / "ctx" / "app.env", f"GITHUB_TOKEN={gh}\n")
    write(tmp / "ctx" / "secret" / "kept.env", f"GITHUB_TOKEN={gh2}\n")
    res, doc = sarif("--show-ignored", "ctx", cmd="context", secrets=[gh, gh2])
    _, jdoc = scan_json("--show-ignored", "ctx", cmd="context")
    agree_with_json(doc, jdoc, res)
    by_uri = {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: x
              for x in the_run(doc)["results"]}
    check("ctx/app.env" in by_uri and "ctx/secret/kept.env" in by_uri,
          f"context URIs {sorted(by_uri)}", res)
    kept = by_uri["ctx/secret/kept.env"]
    check(kept.get("suppressions") == [{"kind": "external", "justification":
                                        "kept out of the build context by .dockerignore"}] and
          kept["properties"]["ignored"] is True, f"ignored finding: {kept}", res)
    copied = by_uri["ctx/app.env"]
    check("suppressions" not in copied, "a copied secret is not suppressed", res)
    check("COPY . /app" in copied["message"]["text"],
          f"the note is in the message: {copied['message']['text']}", res)


@test
def rule_text_escaped(tmp):
    """Rule titles and remedies may come from a user's rules file: plain in text fields,
    escaped in Markdown and in messages (where "[text](n)" would be a link)."""
    rules = {"rules": [{
        "id": "test-acme-token",
        "title": "ACME <b>token</b> [x](1)",
        "severity": "medium",
        "keywords": ["acme_"],
        "regex": "(?<![a-z0-9_])(?<secret>acme_[a-z0-9]{20})(?![a-z0-9])",
        "tags": ["test", "security"],
        "remedy": "1. Rotate it *now* <script>alert(1)</script> & see [docs](x).",
        "examples": {"positive": ["key = " + ACME_TOKEN], "negative": ["acme_x"]},
    }]}
    write(tmp / "rules.json", json.dumps(rules))
    tok = "acme_" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(20))
    write(tmp / "d" / "a.txt", f"key = {tok}\n")
    res, doc = sarif("--rules", "rules.json", "d", rc=1, secrets=[tok])
    rule = [x for x in the_run(doc)["tool"]["driver"]["rules"] if x["id"] == "test-acme-token"]
    check(len(rule) == 1, "the custom rule is listed", res)
    rule = rule[0]
    check(rule["name"] == "TestAcmeToken", f"name {rule['name']}", res)
    check(rule["shortDescription"]["text"] == rules["rules"][0]["title"] and
          rule["help"]["text"] == rules["rules"][0]["remedy"], "plain texts kept as they are", res)
    check(rule["defaultConfiguration"]["level"] == "warning" and
          rule["properties"]["security-severity"] == "5.5", "medium: warning, 5.5", res)
    check(rule["properties"]["tags"] == ["security", "secret", "test"], f"tags "
          f"{rule['properties']['tags']}", res)
    md = rule["help"]["markdown"]
    for want in ("\\<b>token\\</b> \\[x\\](1)", "1\\. Rotate it \\*now\\*",
                 "\\<script>", "\\& see \\[docs\\](x)"):
        check(want in md, f"markdown lacks {want!r}: {md!r}", res)
    text = the_run(doc)["results"][0]["message"]["text"]
    check(text.startswith("ACME <b>token</b> \\[x\\](1): acme\u2026(25) at d/a.txt:1:7"),
          f"message {text!r}", res)


@test
def validation_catches_broken_sarif(tmp):
    """The checks above can fail: a valid report, broken in ways a reporter could break it,
    is rejected by the schema or the URI check."""
    gh = github()
    write(tmp / "d" / "a.env", f"GITHUB_TOKEN={gh}\n")
    res, doc = sarif("d", rc=1, secrets=[gh])

    def broken(edit):
        d = json.loads(json.dumps(doc))
        edit(the_run(d)["results"][0])
        try:
            validate(d, res)
        except AssertionError:
            return True
        return False
    loc = lambda x: x["locations"][0]["physicalLocation"]  # noqa: E731
    cases = {
        "level critical": lambda x: x.update(level="critical"),
        "no message": lambda x: x.pop("message"),
        "line 0": lambda x: loc(x)["region"].update(startLine=0),
        "fingerprint not a string": lambda x: x["partialFingerprints"].update({"rummage/v1": 1}),
        "unknown property": lambda x: x.update(secretValue="x"),
        "space in uri": lambda x: loc(x)["artifactLocation"].update(uri="d/a b.env"),
        "scheme-like relative uri": lambda x: loc(x)["artifactLocation"].update(uri="c:a.env"),
    }
    missed = [name for name, edit in cases.items() if not broken(edit)]
    check(not missed, f"not rejected: {missed}", res)


@test
def golden_directory_report(tmp):
    r = random.Random(GOLDEN_SEED)
    secrets_dir(tmp / "repo", r=r, pem=False)
    write(tmp / "repo" / "nested" / "deeper" / "copy.env",
          f"# the same token again\nTOKEN={checksummed(random.Random(GOLDEN_SEED), 'ghp_')}\n")
    res, doc = sarif("repo", rc=1)
    golden_compare("sarif-directory.json", doc, res)


@test
def golden_image_report(tmp):
    build_image(tmp, r=random.Random(GOLDEN_SEED + 1))
    res, doc = sarif("--no-cache", "oci:img:app", rc=1)  # a full scan, whatever ran before
    golden_compare("sarif-image.json", doc, res)


# ------------------------------------------------------------------------------ main


def main(argv):
    return run_suite(TESTS, argv, "sarif", quiet=(AssertionError, fx.FixtureError))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
