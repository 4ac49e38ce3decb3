#!/usr/bin/env python3
"""test_provenance.py: black-box tests of findings' origin (docs/provenance.md) on real images.

Each image is an OCI layout made by umoci around a REAL dpkg database: a .deb is built with
dpkg-deb (control, md5sums, conffiles) and installed into the image's rootfs with
`dpkg --root`, which writes var/lib/dpkg/status and info/NAME.md5sums as on any Debian system.
An rpm is built with rpmbuild (offline, noarch) and installed with `rpm --root -i`, which
writes a real SQLite var/lib/rpm/rpmdb.sqlite.
A Python package gets a RECORD as pip writes it (sha256, urlsafe base64, no padding), an npm
package a node_modules/NAME/package.json. Every secret is generated for this run.

The contract: each finding of an image carries origin.kind own | modified | package |
attributed; the default gate (--fail-on-origin own) counts own and modified findings and
validated credentials anywhere, and not a package's unmodified file nor a package's files by
manifest; --fail-on-origin any counts everything; every format says so (SARIF: level note
with an external suppression; JUnit: skipped; GitLab: severity Info; text: folded per package).

Same harness as test_cli.py (TAP). RUMMAGE is the binary under test.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import RUMMAGE, check, expect_rc, parse_json, rng, run  # noqa: E402
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py)

TESTS = []
SESSION = None  # fx.Session
BUILT = {}


def test(fn):
    TESTS.append(fn)
    return fn


PKG = "rmg-fixture-doc"
PKG_VERSION = "1.2-3"
PKG_V2 = "1.3-1"


def md5(data):
    return hashlib.md5(data).hexdigest()


def build_deb(work, name, version, files, conffiles=()):
    """A real .deb (dpkg-deb --build) holding files {abs path: bytes}; md5sums of the files
    that are not conffiles, as dh_md5sums writes it."""
    pkg = work / f"{name}-{version}"
    if pkg.exists():
        shutil.rmtree(pkg)
    (pkg / "DEBIAN").mkdir(parents=True)
    sums = []
    for path, data in sorted(files.items()):
        fx.write(pkg / path.lstrip("/"), data)
        if path not in conffiles:
            sums.append(f"{md5(data)}  {path.lstrip('/')}\n")
    (pkg / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        f"Maintainer: rummage tests <tests@example.invalid>\nDescription: test fixture\n")
    (pkg / "DEBIAN" / "md5sums").write_text("".join(sums))
    if conffiles:
        (pkg / "DEBIAN" / "conffiles").write_text("".join(c + "\n" for c in conffiles))
    deb = work / f"{name}_{version}_all.deb"
    fx.sh("dpkg-deb", "--build", "--root-owner-group", pkg, deb)
    return deb


def dpkg_install(rootfs, deb):
    """dpkg -i into the image's rootfs: a real status file and info/*.md5sums."""
    db = rootfs / "var/lib/dpkg"
    (db / "info").mkdir(parents=True, exist_ok=True)
    (db / "updates").mkdir(exist_ok=True)
    (db / "status").touch()
    fx.sh("dpkg", f"--root={rootfs}", "--force-script-chrootless", "--force-not-root",
          "--log=/dev/null", "-i", deb)
    for junk in ("lock", "lock-frontend", "triggers/Lock"):
        p = db / junk
        if p.exists():
            p.unlink()


def record_line(rel, data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{rel},sha256={h},{len(data)}\n"


def build_prov(s, d):
    """OCI layout d/oci, tag "prov":
    layer 0 "RUN apt-get install rmg-fixture-doc" (dpkg 1.2-3):
        /usr/share/doc/rmg-fixture-doc/example.conf   doc example token     package
        /usr/share/doc/rmg-fixture-doc/appended.txt   no secret (yet)
        /etc/rmg-fixture.conf                         conffile with a password
        /usr/lib/python3/dist-packages/rmgfix/__init__.py + RECORD   aws key  package (RECORD)
        /usr/lib/python3/dist-packages/rmgfix/__pycache__/__init__.cpython-311.pyc: same secret,
                                                      not in RECORD: package (compiled)
        /app/node_modules/leftpad-fix/index.js        password              attributed
        /app/node_modules/leftpad-fix/lib/t.js        checksummed ghp_      attributed, counted
    layer 1 "COPY app/ /":  the builder's own
        /usr/share/myapp/config.yml                   own
        /usr/local/lib/python3.11/site-packages/myapp_settings.py  own (no RECORD)
        /app/docs/deploy.md                           own
        /usr/share/doc/rmg-fixture-doc/appended.txt   secret appended: modified
        /etc/rmg-fixture.conf                         changed conffile: modified
    Tag "clean": layer 0 only (no own finding: the default gate passes but for the validated
    token in node_modules, so the clean tag leaves that file out).
    Tag "upgrade": layer 0, then layer 1 "RUN apt-get upgrade" installing 1.3-1, whose
        example.conf holds a new token: the old one is overwritten, both are package."""
    sec = {"doc_token": s.aws_id(), "conf_pw": s.password(), "rec_aws": s.aws_id(),
           "npm_pw": s.password(), "npm_ghp": s.github(), "own_yml": s.github(),
           "own_py": s.password(), "own_md": s.github(), "appended": s.github(),
           "conf_pw2": s.password(), "doc_token2": s.aws_id()}
    txt = {
        "doc": f"# example\naws_access_key_id = {sec['doc_token']}\n".encode(),
        "conf": f"[db]\npassword = {sec['conf_pw']}\n".encode(),
        "rec": f'AWS_ACCESS_KEY_ID = "{sec["rec_aws"]}"\n'.encode(),
        "npm": f'const password = "{sec["npm_pw"]}";\n'.encode(),
        "npm_ghp": f'const token = "{sec["npm_ghp"]}";\n'.encode(),
        "own_yml": f"github_token: {sec['own_yml']}\n".encode(),
        "own_py": f'DB_PASSWORD = "{sec["own_py"]}"\n'.encode(),
        "own_md": f"Deploy with GITHUB_TOKEN={sec['own_md']}\n".encode(),
        "appended_before": b"plain text shipped by the package\n",
        "conf2": f"[db]\npassword = {sec['conf_pw2']}\n".encode(),
        "doc2": f"# example\naws_access_key_id = {sec['doc_token2']}\n".encode(),
    }
    work = d / "work"
    work.mkdir()
    doc_dir = f"/usr/share/doc/{PKG}"
    deb1 = build_deb(work, PKG, PKG_VERSION,
                     {f"{doc_dir}/example.conf": txt["doc"],
                      f"{doc_dir}/appended.txt": txt["appended_before"],
                      "/etc/rmg-fixture.conf": txt["conf"]},
                     conffiles=("/etc/rmg-fixture.conf",))
    deb2 = build_deb(work, PKG, PKG_V2,
                     {f"{doc_dir}/example.conf": txt["doc2"],
                      f"{doc_dir}/appended.txt": txt["appended_before"],
                      "/etc/rmg-fixture.conf": txt["conf"]},
                     conffiles=("/etc/rmg-fixture.conf",))
    site = "/usr/lib/python3/dist-packages"
    pyc = b"\x6f\x0d\x0d\x0a" + b"\0" * 12 + b"\xe3" + txt["rec"]  # a pyc's header, then text

    def base_layer(img, with_ghp):
        dpkg_install(img.rootfs, deb1)
        img.put(f"{site}/rmgfix/__init__.py", txt["rec"])
        img.put(f"{site}/rmgfix/__pycache__/__init__.cpython-311.pyc", pyc)
        img.put(f"{site}/rmgfix-0.1.dist-info/METADATA", b"Name: rmgfix\nVersion: 0.1\n")
        img.put(f"{site}/rmgfix-0.1.dist-info/RECORD",
                (record_line("rmgfix/__init__.py", txt["rec"]) +
                 "rmgfix/__pycache__/__init__.cpython-311.pyc,,\n" +
                 record_line("rmgfix-0.1.dist-info/METADATA", b"Name: rmgfix\nVersion: 0.1\n") +
                 "rmgfix-0.1.dist-info/RECORD,,\n").encode())
        img.put("/app/node_modules/leftpad-fix/package.json",
                json.dumps({"name": "leftpad-fix", "version": "2.0.1"}).encode())
        img.put("/app/node_modules/leftpad-fix/index.js", txt["npm"])
        if with_ghp:
            img.put("/app/node_modules/leftpad-fix/lib/t.js", txt["npm_ghp"])
        img.commit(f"RUN apt-get install {PKG}")

    layout = d / "oci"
    img = fx.Umoci(layout, "prov", d / "b-prov")
    base_layer(img, True)
    img.put("/usr/share/myapp/config.yml", txt["own_yml"])
    img.put("/usr/local/lib/python3.11/site-packages/myapp_settings.py", txt["own_py"])
    img.put("/app/docs/deploy.md", txt["own_md"])
    with open(img.rootfs / doc_dir.lstrip("/") / "appended.txt", "a") as fh:
        fh.write(f"token = {sec['appended']}\n")
    img.put("/etc/rmg-fixture.conf", txt["conf2"])
    img.commit("COPY app/ /")

    clean = fx.Umoci(layout, "clean", d / "b-clean")
    base_layer(clean, False)

    up = fx.Umoci(layout, "upgrade", d / "b-upgrade")
    base_layer(up, False)
    dpkg_install(up.rootfs, deb2)
    up.commit("RUN apt-get upgrade")
    return {"layout": str(layout), "secrets": sec}


def prov_fixture():
    if "prov" not in BUILT:
        d = SESSION.root / "prov"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        BUILT["prov"] = build_prov(SESSION, d)
        for v in BUILT["prov"]["secrets"].values():
            SESSION.secrets.update(SESSION.secret_marks(v))
    return BUILT["prov"]


def no_leak(res):
    for mark in SESSION.secrets:
        m = mark.encode()
        check(m not in res.out and m not in res.err,
              f"a raw secret ({mark[:6]}...) is in the output without --show-secrets", res)


def scan(tag, *opts, fmt="json", rc=None, cache=False):
    info = prov_fixture()
    args = ["scan", "--no-config", "-f", fmt, *opts]
    if not cache:
        args.append("--no-cache")
    res = run(*args, f"oci:{info['layout']}:{tag}")
    if rc is not None:
        expect_rc(res, rc)
    no_leak(res)
    return res, (parse_json(res) if fmt == "json" else None)


def by_path(doc):
    out = {}
    for f in doc["findings"]:
        out.setdefault(f["location"]["path"], []).append(f)
    return out


def origin_of(doc, path, res, layer=None):
    fs = [f for f in by_path(doc).get(path, [])
          if layer is None or f["location"]["layer"]["index"] == layer]
    check(fs, f"no finding at {path}" + (f" in layer {layer}" if layer is not None else ""), res)
    kinds = {f["origin"]["kind"] for f in fs}
    check(len(kinds) == 1, f"{path}: findings disagree on the origin: {kinds}", res)
    return fs[0]


DOC = f"/usr/share/doc/{PKG}"
SITE = "/usr/lib/python3/dist-packages"


@test
def origins_of_each_file(tmp):
    res, doc = scan("prov", rc=1)
    want = {
        f"{DOC}/example.conf": ("package", "dpkg", PKG, PKG_VERSION, False),
        f"{SITE}/rmgfix/__init__.py": ("package", "python", "rmgfix", "0.1", False),
        f"{SITE}/rmgfix/__pycache__/__init__.cpython-311.pyc": ("package", "python", "rmgfix",
                                                                 "0.1", False),
        "/app/node_modules/leftpad-fix/index.js": ("attributed", "npm", "leftpad-fix", "2.0.1",
                                                   False),
        "/app/node_modules/leftpad-fix/lib/t.js": ("attributed", "npm", "leftpad-fix", "2.0.1",
                                                   True),
        "/usr/share/myapp/config.yml": ("own", None, None, None, True),
        "/usr/local/lib/python3.11/site-packages/myapp_settings.py": ("own", None, None, None,
                                                                       True),
        "/app/docs/deploy.md": ("own", None, None, None, True),
    }
    for path, (kind, mgr, name, version, counted) in want.items():
        f = origin_of(doc, path, res)
        o = f["origin"]
        check(o["kind"] == kind, f"{path}: origin {o}, expected {kind}", res)
        if mgr:
            check((o.get("manager"), o.get("package"), o.get("version")) == (mgr, name, version),
                  f"{path}: origin {o}, expected {mgr} {name} {version}", res)
            check(o.get("verified") is (kind == "package"), f"{path}: verified {o}", res)
            check(o.get("why"), f"{path}: origin says nothing of why: {o}", res)
        check(f["counted"] is counted, f"{path}: counted {f['counted']}, expected {counted}",
              res)


@test
def changed_package_files_are_the_builders(tmp):
    """A secret appended to a dpkg-owned file, and a changed conffile: modified, counted."""
    res, doc = scan("prov", rc=1)
    f = origin_of(doc, f"{DOC}/appended.txt", res)
    check(f["origin"]["kind"] == "modified" and f["counted"] and
          f["origin"]["package"] == PKG, f"appended.txt: {f['origin']}", res)
    conf = [x for x in by_path(doc)["/etc/rmg-fixture.conf"]]
    layers = {x["location"]["layer"]["index"]: x for x in conf}
    check(set(layers) == {0, 1}, f"the conffile: findings in layers {sorted(layers)}", res)
    check(layers[0]["origin"]["kind"] == "package" and not layers[0]["counted"],
          f"the conffile as installed (layer 0, overwritten): {layers[0]['origin']}", res)
    check(layers[1]["origin"]["kind"] == "modified" and layers[1]["counted"] and
          "conffile" in layers[1]["origin"]["why"], f"the changed conffile: "
                                                     f"{layers[1]['origin']}", res)


@test
def clean_image_passes_the_default_gate(tmp):
    res, doc = scan("clean", rc=0)
    check(doc["findings"] and all(not f["counted"] for f in doc["findings"]),
          "the clean image's findings should all be upstream, not counted", res)
    check(doc["stats"]["upstream"] == len(doc["findings"]),
          f"stats.upstream {doc['stats']['upstream']} of {len(doc['findings'])}", res)
    res2, doc2 = scan("clean", "--fail-on-origin", "any", rc=1)
    check(all(f["counted"] for f in doc2["findings"]), "--fail-on-origin any counts all", res2)


@test
def upgrade_checks_each_layer_against_its_own_database(tmp):
    """1.2-3 in layer 0, upgraded to 1.3-1 in layer 1: the old example.conf (overwritten, still
    shipped) verifies against layer 0's md5sums, the new one against layer 1's."""
    res, doc = scan("upgrade", rc=0)
    fs = by_path(doc)[f"{DOC}/example.conf"]
    got = sorted((f["location"]["layer"]["index"], f["state"], f["origin"]["kind"],
                  f["origin"].get("version")) for f in fs)
    check(got == [(0, "overwritten", "package", PKG_VERSION), (1, "present", "package", PKG_V2)],
          f"example.conf across the upgrade: {got}", res)


@test
def text_report_folds_upstream_per_package(tmp):
    res, _ = scan("clean", fmt="text", rc=0)
    out = res.out.decode()
    check("No secrets found outside upstream packages" in out, "summary line", res)
    check(f"in {PKG} {PKG_VERSION} (dpkg package, unmodified)" in out and
          "in leftpad-fix 2.0.1 (npm package, by its manifest)" in out and
          "in rmgfix 0.1 (python package, unmodified)" in out, "one line per package", res)
    check("example.conf" not in out, "folded findings are not listed one by one", res)
    res2, _ = scan("clean", "--show-upstream", fmt="text", rc=0)
    out2 = res2.out.decode()
    check("example.conf" in out2 and "not counted" in out2, "--show-upstream lists them", res2)


@test
def sarif_gitlab_junit_mark_upstream(tmp):
    res, _ = scan("prov", fmt="sarif", rc=1)
    log = json.loads(res.out)
    results = log["runs"][0]["results"]
    up = [r for r in results if r["properties"]["counted"] is False]
    own = [r for r in results if r["properties"]["counted"] is True]
    check(up and own, "SARIF has both upstream and counted results", res)
    for r in up:
        check(r["level"] == "note" and r["suppressions"][0]["kind"] == "external" and
              "upstream content" in r["suppressions"][0]["justification"], f"{r}", res)
    for r in own:
        check(r["level"] != "note" and "suppressions" not in r, f"{r}", res)
    res, _ = scan("prov", fmt="gitlab", rc=1)
    vs = json.loads(res.out)["vulnerabilities"]
    info = [v for v in vs if v["severity"] == "Info"]
    check(info and all("Upstream content, not counted" in v["description"] for v in info),
          "GitLab: upstream findings are Info", res)
    res, _ = scan("prov", fmt="junit", rc=1)
    xml = res.out.decode()
    check("upstream content, not counted" in xml and "<skipped" in xml and "<failure" in xml,
          "JUnit: upstream findings are skipped test cases", res)


@test
def cache_keeps_provenance(tmp):
    """A second scan from the layer cache gives the same origins."""
    cdir = tmp / "cache"
    res1, d1 = scan("prov", "--cache-dir", str(cdir), rc=1, cache=True)
    res2, d2 = scan("prov", "--cache-dir", str(cdir), rc=1, cache=True)
    check(d2["stats"]["layers_cached"] == d2["stats"]["layers"] > 0, "second scan from cache",
          res2)

    def key(d):
        return sorted((f["location"]["path"], f["location"]["layer"]["index"],
                       json.dumps(f["origin"], sort_keys=True), f["counted"])
                      for f in d["findings"])
    check(key(d1) == key(d2), "origins differ between a fresh and a cached scan", res2)


@test
def hostile_database_changes_no_origin(tmp):
    """A broken status and md5sums file in a layer of the builder's own: a warning, the findings
    stay own and counted, and the exit code is still 1 (never 2: the image was read)."""
    d = tmp / "img"
    img = fx.Umoci(d, "bad", tmp / "b")
    g = SESSION.github()
    SESSION.secrets.add(g)
    img.put("/srv/app/token.txt", f"token = {g}\n".encode())
    img.put("/var/lib/dpkg/status", b"Package: x\nVersion: \xff\xfe\n Conffiles:\n" * 3 +
            b"\0" * 100)
    img.put("/var/lib/dpkg/info/x.md5sums", b"nothex  srv/app/token.txt\n" + b"A" * 70000)
    img.commit("RUN hostile")
    res = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{d}:bad")
    expect_rc(res, 1)
    no_leak(res)
    doc = parse_json(res)
    f = [x for x in doc["findings"] if x["location"]["path"] == "/srv/app/token.txt"]
    check(f and f[0]["origin"]["kind"] == "own" and f[0]["counted"], "the token stays own", res)


@test
def base_image_layers_are_inherited(tmp):
    """--base IMAGE: a key in a layer the image inherits from its base reads "inherited from
    IMAGE (layer 0)" and still counts (it ships); the image's own layer stays own."""
    lay = tmp / "oci"
    img = fx.Umoci(lay, "app", tmp / "b")
    k_base, k_own = SESSION.github(), SESSION.github()
    SESSION.secrets.update([k_base, k_own])
    img.put("/opt/base/token.txt", f"token = {k_base}\n".encode())
    img.commit("ADD rootfs.tar /")
    fx.sh("umoci", "tag", "--image", f"{lay}:app", "base")
    img.put("/srv/app/token.txt", f"token = {k_own}\n".encode())
    img.commit("COPY app /srv/app")
    res = run("scan", "--no-config", "--no-cache", "-f", "json", "--base", f"oci:{lay}:base",
              f"oci:{lay}:app")
    expect_rc(res, 1)
    no_leak(res)
    doc = parse_json(res)
    got = {f["location"]["path"]: f for f in doc["findings"]}
    b, o = got.get("/opt/base/token.txt"), got.get("/srv/app/token.txt")
    check(b and b["origin"]["kind"] == "base" and b["origin"]["package"] == f"oci:{lay}:base"
          and b["counted"], f"the base layer's key: {b and b['origin']}", res)
    check(o and o["origin"]["kind"] == "own", f"the image's own key: {o and o['origin']}", res)
    txt = run("scan", "--no-config", "--no-cache", "--base", f"oci:{lay}:base", f"oci:{lay}:app")
    check(f"inherited from oci:{lay}:base (layer 0)".encode() in txt.out, "text says inherited",
          txt)
    # Without --base the same key is the image's own; a base that cannot be read is exit 2.
    res2 = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:app")
    check(all(f["origin"]["kind"] == "own" for f in parse_json(res2)["findings"]),
          "no --base: everything own", res2)
    res3 = run("scan", "--no-config", "--no-cache", "--base", str(tmp / "missing.tar"),
               f"oci:{lay}:app")
    expect_rc(res3, 2)
    check(b"--base" in res3.err, "the error names --base", res3)
    # The base the image's own annotations name (as BuildKit writes them), held by the same
    # layout: found without --base, named as the annotation names it.
    ent, man, _ = fx.image_parts(lay, "app")
    man.setdefault("annotations", {}).update({
        "org.opencontainers.image.base.name": "example.invalid/base:1",
        "org.opencontainers.image.base.digest": fx.index_entry(lay, "base")["digest"]})
    fx.replace_manifest(lay, "app", man)
    res4 = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:app")
    expect_rc(res4, 1)
    got4 = {f["location"]["path"]: f for f in parse_json(res4)["findings"]}
    b4 = got4.get("/opt/base/token.txt")
    check(b4 and b4["origin"]["kind"] == "base" and b4["origin"]["package"] ==
          "example.invalid/base:1" and b4["counted"], f"annotated base: {b4 and b4['origin']}",
          res4)
    check(got4["/srv/app/token.txt"]["origin"]["kind"] == "own", "the app's own stays own", res4)
    # An annotation naming a manifest the source does not hold changes nothing, and is no error.
    man["annotations"]["org.opencontainers.image.base.digest"] = "sha256:" + "0" * 64
    fx.replace_manifest(lay, "app", man)
    res5 = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:app")
    expect_rc(res5, 1)
    d5 = parse_json(res5)
    check(not d5["errors"] and all(f["origin"]["kind"] == "own" for f in d5["findings"]),
          f"unknown annotated base: {d5['errors']}", res5)


@test
def baseline_and_allow_lists_apply_to_every_origin(tmp):
    """A baseline of the image drops every finding, own and upstream alike, and exits 0; an
    allow-list by path drops an own finding, leaving the gate to the rest."""
    info = prov_fixture()
    target = f"oci:{info['layout']}:prov"
    base = tmp / "base.json"
    r = run("baseline", "--no-config", "--no-cache", "-o", str(base), target)
    expect_rc(r, 0)
    res, doc = scan("prov", "--baseline", str(base), rc=0)
    check(not doc["findings"] and doc["stats"]["baselined"] > 0, "all baselined", res)
    cfg = tmp / "rummage.json"
    cfg.write_text(json.dumps({"allow": {"paths": ["/usr/share/myapp/*", "/app/docs/*",
                                                   "/usr/local/lib/python3.11/*",
                                                   "/etc/rmg-fixture.conf",
                                                   f"{DOC}/appended.txt",
                                                   "/app/node_modules/leftpad-fix/lib/*"]}}))
    r = run("scan", "--config", str(cfg), "--no-cache", "-f", "json", target)
    expect_rc(r, 0)
    no_leak(r)
    d = parse_json(r)
    check(d["findings"] and not any(f["counted"] for f in d["findings"]) and
          d["stats"]["suppressed"] > 0, "what is left is upstream, not counted", r)


@test
def utf8_names_in_the_c_locale(tmp):
    """A package file with a UTF-8 name (Debian's CA bundle has them), scanned with LC_ALL=C:
    no conversion warning, the name reported as it is, and verified against md5sums."""
    name = "/usr/share/doc/rmg-utf8/F\u0151tan\u00fas\u00edtv\u00e1ny.txt"
    key = SESSION.aws_id()
    SESSION.secrets.add(key)
    text = f"aws_access_key_id = {key}\n".encode()
    deb = build_deb(tmp, "rmg-utf8", "1.0", {name: text})
    lay = tmp / "oci"
    img = fx.Umoci(lay, "u", tmp / "b")
    dpkg_install(img.rootfs, deb)
    img.commit("RUN apt-get install rmg-utf8")
    env = {"LC_ALL": "C", "LANG": "C"}
    res = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:u", env=env)
    expect_rc(res, 0)
    doc = parse_json(res)
    check(not doc["errors"], f"warnings: {doc['errors']}", res)
    fs = [f for f in doc["findings"] if f["location"]["path"] == name]
    check(fs and fs[0]["origin"]["kind"] == "package", f"the UTF-8 named file: "
          f"{[(f['location']['path'], f['origin']) for f in doc['findings']]}", res)


@test
def names_with_an_exclamation_mark(tmp):
    """The Go module cache writes upper-case letters as "!x" (github.com/!burnt!sushi): such a
    file is attributed to its module, and deleting it in a later layer reads deleted (the "!"
    is part of its name, not rummage's archive separator); a key in a jar inside the same
    image still reads as inside the jar."""
    lay = tmp / "oci"
    img = fx.Umoci(lay, "go", tmp / "b")
    mod = "/root/go/pkg/mod/github.com/!burnt!sushi/toml@v1.2.0"
    key = SESSION.aws_id()
    SESSION.secrets.add(key)
    img.put(f"{mod}/testdata/creds.txt", f"aws_access_key_id = {key}\n".encode())
    img.put("/srv/app/ke!y.txt", f"aws_access_key_id = {key}\n".encode())
    img.commit("RUN go mod download")
    os.remove(img.rootfs / mod.lstrip("/") / "testdata/creds.txt")
    img.commit("RUN go clean -modcache")
    res = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:go")
    no_leak(res)
    doc = parse_json(res)
    got = {f["location"]["path"]: f for f in doc["findings"]}
    g = got.get(f"{mod}/testdata/creds.txt")
    check(g and g["state"] == "deleted" and g["origin"]["kind"] == "attributed" and
          g["origin"]["manager"] == "go" and g["origin"]["package"] == "github.com/!burnt!sushi/toml"
          and g["origin"]["version"] == "v1.2.0", f"the module file: {g}", res)
    o = got.get("/srv/app/ke!y.txt")
    check(o and o["state"] == "present" and o["origin"]["kind"] == "own", f"ke!y.txt: {o}", res)
    expect_rc(res, 1)


RPM = "rmg-fixture-rpm"
RPM_VERSION, RPM_RELEASE = "2.4", "7"


def build_rpm(work, name, version, release, files, config=()):
    """A real binary .rpm (rpmbuild -bb, offline, noarch) holding files {abs path: bytes};
    paths in config are %config(noreplace). rpmbuild records each file's sha256 (rpm 4.18's
    default digest) in the header."""
    top, stage = work / f"rpmbuild-{name}", work / f"stage-{name}"
    for d in (top, stage):
        if d.exists():
            shutil.rmtree(d)
    for path, data in files.items():
        fx.write(stage / path.lstrip("/"), data)
    listed = "".join(("%config(noreplace) " if p in config else "") + p + "\n"
                     for p in sorted(files))
    spec = work / f"{name}.spec"
    spec.write_text(
        f"Name: {name}\nVersion: {version}\nRelease: {release}\nSummary: test fixture\n"
        f"License: MIT\nBuildArch: noarch\n%description\ntest fixture\n"
        f"%install\nmkdir -p %{{buildroot}}\ncp -a {stage}/. %{{buildroot}}/\n"
        f"%files\n{listed}")
    fx.sh("rpmbuild", "-bb", "--quiet", "--define", f"_topdir {top}",
          "--define", "debug_package %{nil}", "--define", "__os_install_post %{nil}",
          "--define", "_build_id_links none", spec)
    out = list((top / "RPMS").glob("*/*.rpm"))
    if len(out) != 1:
        raise fx.FixtureError(f"rpmbuild made {out}")
    return out[0]


def rpm_install(rootfs, rpm):
    """rpm -i into the image's rootfs: a real SQLite rpmdb at var/lib/rpm/rpmdb.sqlite."""
    fx.sh("rpm", "--root", rootfs, "--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite",
          "-i", "--nodeps", "--noscripts", "--ignorearch", rpm)
    if not (rootfs / "var/lib/rpm/rpmdb.sqlite").exists():
        raise fx.FixtureError("rpm -i wrote no var/lib/rpm/rpmdb.sqlite")


def build_rpm_image(tmp):
    """OCI layout, tag "r": layer 0 "RUN dnf install" (an rpm-installed package: a doc with
    an AWS key id, a %config file with a password), layer 1 the builder's: the doc with a key
    appended, the conffile changed, and a file no package owns."""
    sec = {k: SESSION.aws_id() if k.startswith("aws") else SESSION.password()
           for k in ("aws_doc", "pw_conf", "aws_append", "pw_conf2", "aws_own")}
    SESSION.secrets.update(sec.values())
    doc, conf = "/usr/share/doc/rmg-rpm/example.txt", "/etc/rmg-rpm.conf"
    txt = {"doc": f"# example\naws_access_key_id = {sec['aws_doc']}\n".encode(),
           "conf": f"[db]\npassword = {sec['pw_conf']}\n".encode()}
    rpm = build_rpm(tmp, RPM, RPM_VERSION, RPM_RELEASE, {doc: txt["doc"], conf: txt["conf"]},
                    config=(conf,))
    lay = tmp / "oci"
    img = fx.Umoci(lay, "r", tmp / "b")
    rpm_install(img.rootfs, rpm)
    img.commit(f"RUN dnf install {RPM}")
    with open(img.rootfs / doc.lstrip("/"), "a") as fh:
        fh.write(f"aws_access_key_id = {sec['aws_append']}\n")
    img.put(conf, f"[db]\npassword = {sec['pw_conf2']}\n".encode())
    img.put("/opt/app/settings.ini", f"aws_access_key_id = {sec['aws_own']}\n".encode())
    img.commit("COPY app/ /")
    return lay, doc, conf


@test
def rpm_database_gives_origins(tmp):
    """A real rpmdb.sqlite (rpmbuild + rpm -i): the rpm's file is package (rpm, name,
    version-release, verified by its sha256); changed in a later layer, modified; a changed
    %config file is modified as a conffile; a file no package owns is own."""
    lay, doc, conf = build_rpm_image(tmp)
    res = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:r")
    expect_rc(res, 1)
    no_leak(res)
    d = parse_json(res)
    check(not d["errors"], f"warnings: {d['errors']}", res)
    at = {}
    for f in d["findings"]:
        at.setdefault((f["location"]["path"], f["location"]["layer"]["index"]), []).append(f)

    def one(path, layer):
        fs = at.get((path, layer), [])
        check(fs, f"no finding at {path} in layer {layer}: {sorted(at)}", res)
        check(len({f["origin"]["kind"] for f in fs}) == 1, f"{path}: origins disagree", res)
        return fs[0]

    want_v = f"{RPM_VERSION}-{RPM_RELEASE}"
    o = one(doc, 0)["origin"]
    check((o["kind"], o.get("manager"), o.get("package"), o.get("version"), o.get("verified"))
          == ("package", "rpm", RPM, want_v, True), f"the rpm's doc as installed: {o}", res)
    check("sha256 matches what rpm recorded" in o.get("why", ""), f"why: {o}", res)
    check(not one(doc, 0)["counted"], "the package's doc is not counted", res)
    o = one(conf, 0)["origin"]
    check(o["kind"] == "package" and o.get("manager") == "rpm", f"the conffile: {o}", res)
    f = one(doc, 1)
    check(f["origin"]["kind"] == "modified" and f["counted"] and
          f["origin"].get("package") == RPM, f"the doc with a key appended: {f['origin']}", res)
    f = one(conf, 1)
    check(f["origin"]["kind"] == "modified" and f["counted"] and
          "conffile" in f["origin"].get("why", ""), f"the changed %config: {f['origin']}", res)
    f = one("/opt/app/settings.ini", 1)
    check(f["origin"]["kind"] == "own" and f["counted"], f"the builder's file: {f['origin']}",
          res)


@test
def rpm_database_hostile_and_old_formats(tmp):
    """A corrupt rpmdb.sqlite and a Berkeley DB Packages file: a warning each (no raw bytes
    echoed), the findings stay own and counted, exit 1 (never 2)."""
    lay = tmp / "oci"
    img = fx.Umoci(lay, "bad", tmp / "b")
    key = SESSION.aws_id()
    SESSION.secrets.add(key)
    img.put("/usr/share/doc/x/key.txt", f"aws_access_key_id = {key}\n".encode())
    img.put("/usr/lib/sysimage/rpm/rpmdb.sqlite",
            b"SQLite format 3\0" + b"\x10\x00\x02\x02" + b"\xfe\xc0BADBYTES" * 800)
    img.put("/var/lib/rpm/Packages", b"\0\0\0\0\x61\x15\x06\0" + b"\xee" * 4096)
    img.commit("RUN hostile")
    res = run("scan", "--no-config", "--no-cache", "-f", "json", f"oci:{lay}:bad")
    expect_rc(res, 1)
    no_leak(res)
    d = parse_json(res)
    errs = " ".join(e.get("message", "") for e in d["errors"])
    check("Berkeley DB/NDB format: not read" in errs, f"BDB warning: {d['errors']}", res)
    check("rpmdb" in errs and "BADBYTES" not in errs, f"sqlite warning: {d['errors']}", res)
    f = [x for x in d["findings"] if x["location"]["path"] == "/usr/share/doc/x/key.txt"]
    check(f and f[0]["origin"]["kind"] == "own" and f[0]["counted"], "the key stays own", res)


def main(argv):
    global SESSION
    root = Path(tempfile.mkdtemp(prefix="rmg-prov-"))
    SESSION = fx.Session(root, rng, RUMMAGE, keep=False)
    t0 = time.monotonic()
    try:
        return run_suite(TESTS, argv, "prov", quiet=(AssertionError, fx.FixtureError))
    finally:
        print(f"# whole run {time.monotonic() - t0:.1f} s")
        SESSION.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
