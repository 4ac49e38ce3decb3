#!/usr/bin/env python3
"""test_images.py: black-box tests of `rummage scan` on container images.

The images are built at test time by real tools (umoci, skopeo, buildah, dockerd + docker, GNU
tar, gzip, zipfile) in tests/images/fixtures.py, around secrets generated for this run; each
fixture is built once per run, on first use, in a session temp dir, and its docstring there says
what is planted where. Before a fixture is built its planted files are scanned as plain files
(calibration): the expected rule, fingerprint, line and column of a finding inside an image are
what the binary finds in the same bytes outside one.

Same harness as test_cli.py: TAP output (`ok N - name` / `not ok N - name`, `# ` details), exit
1 if a test failed, `python3 tests/cli/test_images.py NAME...` runs some, RUMMAGE is the binary.
A fixture whose tool is missing fails the tests that need it (the Makefile installs the tools).
RUMMAGE_IMAGE_FIXTURES=DIR keeps the fixtures in DIR and reuses them on the next run.

The contract tested (`rummage scan -f json TARGET`): each finding has state present, deleted,
overwritten or config; location.{target, image, path, line, column, platform, layer{index,
digest, diff_id, created_by}} (no layer for config findings); changed_in{layer, created_by} for
deleted/overwritten; exit 1 on findings, 0 clean, 2 on input errors with partial results.
"""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import RUMMAGE, check, expect_rc, parse_json, rng, run  # noqa: E402
from image_checks import (err_text, errors_of, host_arch, layer_of, loc,  # noqa: E402
                          same_findings)
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py)

# ---------------------------------------------------------------------------- harness

TESTS = []
SESSION = None  # fx.Session, made in main


def test(fn):
    TESTS.append(fn)
    return fn


def fixture(name):
    return SESSION.get(name)


def no_leak(res):
    """No planted secret, raw, in stdout or stderr (the redacted form is fine)."""
    for mark in SESSION.secrets:
        m = mark.encode()
        check(m not in res.out and m not in res.err,
              f"a raw secret ({mark[:6]}...) is in the output without --show-secrets", res)


def scan(target, *opts, rc=None, input=None, fmt="json"):
    """rummage scan -f FMT OPTS TARGET; checks exit code rc and that nothing leaks."""
    try:
        res = run("scan", "-f", fmt, *opts, target, input=input)
    except OSError as ex:
        raise AssertionError(f"cannot run {RUMMAGE}: {ex}") from ex
    if rc is not None:
        expect_rc(res, rc)
    no_leak(res)
    if fmt != "json":
        return res, None
    return res, parse_json(res)


def find(doc, fingerprint, path=None):
    return [f for f in doc.get("findings", []) if f.get("fingerprint") == fingerprint
            and (path is None or loc(f).get("path") == path)]


def expect_by(info, key, path=None):
    es = [e for e in info["expect"] if e["key"] == key and (path is None or e["path"] == path)]
    assert es, f"fixture has no expectation {key} {path}"
    return es


def one(doc, e, res):
    fs = find(doc, e["fingerprint"], e["path"])
    check(len(fs) == 1, f"expected one {e['rule']} finding at {e['path']} (fingerprint "
                        f"{e['fingerprint'][:12]}), got {len(fs)}", res)
    return fs[0]


def check_changed(f, e, res):
    ch = f.get("changed_in")
    if e.get("changed_in") is None:
        check(ch is None, f"{e['path']}: a {e['state']} finding has no changed_in: {ch}", res)
        return
    check(isinstance(ch, dict) and ch.get("layer") == e["changed_in"],
          f"{e['path']}: changed_in.layer should be {e['changed_in']}: {ch}", res)
    check(ch.get("created_by") == e["changed_by"],
          f"{e['path']}: changed_in.created_by should be {e['changed_by']!r}: {ch}", res)


def check_layer_finding(f, e, res, created_by=True):
    """State, layer index, created_by, line/column and changed_in of one image finding."""
    where = e["path"]
    check(f.get("state") == e["state"], f"{where}: state {f.get('state')!r}, expected "
                                        f"{e['state']!r}", res)
    check(layer_of(f) == e["layer"], f"{where}: layer {layer_of(f)}, expected {e['layer']}", res)
    if created_by:
        got = (loc(f).get("layer") or {}).get("created_by")
        check(got == e["created_by"], f"{where}: layer created_by {got!r}, expected "
                                      f"{e['created_by']!r}", res)
    check((loc(f).get("line"), loc(f).get("column")) == (e["line"], e["column"]),
          f"{where}: line:column {loc(f).get('line')}:{loc(f).get('column')}, expected "
          f"{e['line']}:{e['column']} (as in the plain file)", res)
    check_changed(f, e, res)


def norm_image(name):
    """Docker's short form of a reference (skopeo writes docker.io/library/app:1.0)."""
    name = name or ""
    for p in ("docker.io/library/", "docker.io/"):
        if name.startswith(p):
            return name[len(p):]
    return name


# ================================================================ 1. layers and states
# Fixture "layered" (fixtures.build_layered): umoci OCI layout, ref "app", 6 layers, history
# created_by as given to `umoci repack --history.created_by`:
#   0 COPY busybox /bin/     /bin/busybox, /bin/sh -> busybox
#   1 COPY app/ /app/        A /app/.env (ghp_), B /app/settings.ini (password = …),
#                            C /app/present/aws.txt (AKIA…), E /app/olddir/creds.txt (AKIA…),
#                            D /app/dup/one.txt + /app/dup/two.txt (one ghp_), /app/link.txt -> C
#   2 RUN sed … mkdir …      settings.ini rewritten (B overwritten), F /app/cache/token.txt (ghp_)
#   3 RUN rm -rf …           app/.wh..env (A deleted), app/.wh.olddir (E deleted, parent dir)
#   4 RUN rm -rf /app/cache  GNU tar + umoci raw add-layer: app/cache/.wh..wh..opq (F deleted)
#   5 COPY keys/ /app/keys/  GNU tar + raw add-layer: G /app/keys/id_rsa (openssl PEM) and
#                            id_rsa.bak, a hardlink (tar type 1) to it


def layered_scan(target=None, *opts, rc=1):
    info = fixture("layered")
    target = target or f"oci:{info['layout']}:app"
    res, doc = scan(target, *opts, rc=rc)
    return info, res, doc


@test
def oci_layout_exact_findings(tmp):
    info, res, doc = layered_scan()
    same_findings(doc, info["expect"], res, "oci layout")
    check(doc.get("errors") == [], f"no errors expected: {doc.get('errors')}", res)


@test
def oci_layout_location_fields(tmp):
    info = fixture("layered")
    target = f"oci:{info['layout']}:app"
    res, doc = scan(target, rc=1)
    check(doc["findings"], "findings expected", res)
    for f in doc["findings"]:
        lo, lay = loc(f), loc(f).get("layer") or {}
        p = lo.get("path")
        check(lo.get("target") == target, f"{p}: location.target {lo.get('target')!r} should be "
                                          f"the target as typed {target!r}", res)
        check(lo.get("image") == "app", f"{p}: location.image {lo.get('image')!r}, expected the "
                                        f"ref name 'app'", res)
        check(lo.get("platform") == "linux/amd64", f"{p}: platform {lo.get('platform')!r}", res)
        i = lay.get("index")
        check(isinstance(i, int) and 0 <= i < 6, f"{p}: layer index {i!r}", res)
        check(lay.get("digest") == info["digests"][i],
              f"{p}: layer.digest {lay.get('digest')} != manifest layer {i} {info['digests'][i]}",
              res)
        check(lay.get("diff_id") == info["diff_ids"][i],
              f"{p}: layer.diff_id {lay.get('diff_id')} != config diff_ids[{i}]", res)
        check(lay.get("created_by") == info["created_by"][i],
              f"{p}: layer.created_by {lay.get('created_by')!r} != history {info['created_by'][i]!r}",
              res)
        check(isinstance(p, str) and p.startswith("/"), f"paths in layers are absolute: {p!r}", res)
        fp = f.get("fingerprint", "")
        check(len(fp) == 64 and all(c in "0123456789abcdef" for c in fp), f"fingerprint {fp!r}",
              res)


@test
def oci_deleted_by_whiteout(tmp):
    """A: /app/.env added in layer 1, `.wh..env` in layer 3."""
    info, res, doc = layered_scan()
    e = expect_by(info, "A")[0]
    f = one(doc, e, res)
    check_layer_finding(f, e, res)
    check(f["changed_in"]["layer"] == 3 and
          f["changed_in"]["created_by"] == "RUN rm -rf /app/.env /app/olddir", "changed_in", res)


@test
def oci_overwritten(tmp):
    """B: /app/settings.ini with a password in layer 1, rewritten without it in layer 2."""
    info, res, doc = layered_scan()
    e = expect_by(info, "B")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def oci_parent_dir_whiteout(tmp):
    """E: /app/olddir/creds.txt in layer 1; layer 3 has only app/.wh.olddir."""
    info, res, doc = layered_scan()
    e = expect_by(info, "E")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def oci_opaque_dir(tmp):
    """F: /app/cache/token.txt in layer 2; layer 4 has app/cache/.wh..wh..opq."""
    info, res, doc = layered_scan()
    e = expect_by(info, "F")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def oci_present(tmp):
    """C: present since layer 1; no changed_in."""
    info, res, doc = layered_scan()
    e = expect_by(info, "C")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def oci_hardlink_found_once(tmp):
    """G: /app/keys/id_rsa and its hardlink id_rsa.bak (tar type 1) in layer 5: one finding."""
    info, res, doc = layered_scan()
    e = expect_by(info, "G")[0]
    fs = find(doc, e["fingerprint"])
    check(len(fs) == 1, f"a hardlinked key must be reported once, got {len(fs)} at "
                        f"{[loc(f).get('path') for f in fs]}", res)
    check(loc(fs[0]).get("path") in ("/app/keys/id_rsa", "/app/keys/id_rsa.bak"),
          f"path {loc(fs[0]).get('path')}", res)
    check(layer_of(fs[0]) == 5 and fs[0].get("state") == "present",
          f"layer {layer_of(fs[0])} state {fs[0].get('state')}", res)


@test
def oci_symlink_not_scanned_twice(tmp):
    """/app/link.txt -> present/aws.txt: the target's secret C is reported once, at the file."""
    info, res, doc = layered_scan()
    e = expect_by(info, "C")[0]
    fs = find(doc, e["fingerprint"])
    check([loc(f).get("path") for f in fs] == ["/app/present/aws.txt"],
          f"C must be found once at /app/present/aws.txt: {[loc(f).get('path') for f in fs]}",
          res)
    check(not [f for f in doc["findings"] if loc(f).get("path") == "/app/link.txt"],
          "a symlink is not followed", res)


@test
def oci_same_secret_two_files(tmp):
    """D in /app/dup/one.txt and /app/dup/two.txt: two findings, one fingerprint, which is
    sha256(rule id NUL secret) as docs/output.md says."""
    info, res, doc = layered_scan()
    es = expect_by(info, "D")
    fp = es[0]["fingerprint"]
    fs = find(doc, fp)
    check(sorted(loc(f).get("path") for f in fs) == ["/app/dup/one.txt", "/app/dup/two.txt"],
          f"paths of D: {[loc(f).get('path') for f in fs]}", res)
    want = hashlib.sha256(es[0]["rule"].encode() + b"\0" + info["secrets"]["D"].encode())
    check(fp == want.hexdigest(), "fingerprint is sha256(rule NUL secret)", res)


@test
def oci_layout_without_ref(tmp):
    """oci:DIR with a single image in index.json picks it."""
    info = fixture("layered")
    res, doc = scan(f"oci:{info['layout']}", rc=1)
    same_findings(doc, info["expect"], res, "oci:DIR without a ref")


@test
def oci_layout_unknown_ref(tmp):
    info = fixture("layered")
    scan(f"oci:{info['layout']}:app", rc=1)  # the layout itself is fine
    res, doc = scan(f"oci:{info['layout']}:no-such-ref", rc=2)
    check(b"No such file" not in res.err, "the layout exists: the error is about the ref", res)
    check(b"no-such-ref" in res.err, "stderr should name the missing ref", res)
    check(any("no-such-ref" in err_text(x) for x in errors_of(doc)),
          f"errors should name the ref: {doc.get('errors')}", res)


# ========================================================== 2. the same image, transports
# Fixture "transports" (fixtures.build_transports): "layered" copied by skopeo to a
# docker-archive (uncompressed <diff_id>.tar layers; skopeo never gzips docker-archive layers),
# an oci-archive (gzip), an OCI layout with zstd layers; docker25.tar: Docker 25+ layout (OCI
# blobs with gzip layers + manifest.json) assembled from the umoci blobs; gzip -c of both tars.


def same_as_layered(target, res, doc, what):
    info = fixture("layered")
    same_findings(doc, info["expect"], res, what)
    for f in doc["findings"]:
        lay = loc(f).get("layer") or {}
        i = lay.get("index")
        check(lay.get("diff_id") == info["diff_ids"][i],
              f"{what}: {loc(f).get('path')}: diff_id {lay.get('diff_id')} != {info['diff_ids'][i]}"
              " (the uncompressed digest does not depend on the transport)", res)
        check(lay.get("created_by") == info["created_by"][i], f"{what}: created_by", res)
        check(loc(f).get("target") == target, f"{what}: target {loc(f).get('target')!r}", res)
    changed = {loc(f).get("path"): (f.get("changed_in") or {}).get("layer")
               for f in doc["findings"]}
    for e in info["expect"]:
        if e.get("changed_in") is not None:
            check(changed.get(e["path"]) == e["changed_in"],
                  f"{what}: {e['path']} changed_in {changed.get(e['path'])}", res)


@test
def docker_archive_uncompressed(tmp):
    """skopeo docker-archive: <diff_id>.tar layers, <id>/layer.tar symlinks, manifest.json."""
    t = fixture("transports")
    target = f"docker-archive:{t['docker']}"
    res, doc = scan(target, rc=1)
    same_as_layered(target, res, doc, "docker-archive (skopeo)")
    imgs = {norm_image(loc(f).get("image")) for f in doc["findings"]}
    check(imgs == {"app:1.0"}, f"image should be app:1.0 (RepoTags "
                               f"docker.io/library/app:1.0): {imgs}", res)


@test
def docker_archive_gzip_layers(tmp):
    """Docker 25+ layout: OCI blobs (gzip layers) + manifest.json naming blobs/sha256/…"""
    t = fixture("transports")
    target = f"docker-archive:{t['docker25']}"
    res, doc = scan(target, rc=1)
    same_as_layered(target, res, doc, "docker-archive with gzip layers")


@test
def docker_archive_select(tmp):
    """docker-archive:PATH:@0 and :app:1.0 (RepoTag docker.io/library/app:1.0) pick the image;
    an index past the end or an unknown name is an error."""
    t = fixture("transports")
    for suffix in (":@0", ":app:1.0", ":docker.io/library/app:1.0"):
        target = f"docker-archive:{t['docker']}{suffix}"
        res, doc = scan(target, rc=1)
        same_as_layered(target, res, doc, f"docker-archive{suffix}")
    res, doc = scan(f"docker-archive:{t['docker']}:@1", rc=2)
    check(b"@1" in res.err, "stderr should name the missing image @1", res)
    res, doc = scan(f"docker-archive:{t['docker']}:nope:9.9", rc=2)
    check(b"nope:9.9" in res.err, "stderr should name the missing image nope:9.9", res)


@test
def oci_archive(tmp):
    t = fixture("transports")
    for target in (f"oci-archive:{t['oci_archive']}", f"oci-archive:{t['oci_archive']}:app"):
        res, doc = scan(target, rc=1)
        same_as_layered(target, res, doc, target.split(":")[0])
        check({loc(f).get("image") for f in doc["findings"]} == {"app"},
              f"image should be the ref name app: {({loc(f).get('image') for f in doc['findings']})}",
              res)


@test
def oci_zstd_layers(tmp):
    """skopeo --dest-compress-format zstd: tar+zstd layers (magic 28 b5 2f fd)."""
    t = fixture("transports")
    target = f"oci:{t['zstd']}:app"
    res, doc = scan(target, rc=1)
    same_as_layered(target, res, doc, "oci zstd")


@test
def stdin_archives(tmp):
    """cat docker.tar | rummage scan -   and   cat oci.tar | rummage scan -"""
    t = fixture("transports")
    for key in ("docker", "oci_archive"):
        data = Path(t[key]).read_bytes()
        res, doc = scan("-", rc=1, input=data)
        same_as_layered("-", res, doc, f"stdin {key}")


@test
def stdin_docker_save(tmp):
    """docker save app:1.0 | rummage scan -   (the legacy layout from a real dockerd)"""
    data = Path(fixture("docker_save")["legacy"]).read_bytes()
    res, doc = scan("-", rc=1, input=data)
    same_as_layered("-", res, doc, "stdin docker save")


@test
def stdin_gzip_archives(tmp):
    """gzip -c docker.tar | rummage scan -   (and the same for the oci-archive)"""
    t = fixture("transports")
    for key in ("docker_gz", "oci_archive_gz"):
        data = Path(t[key]).read_bytes()
        check(data[:2] == b"\x1f\x8b", f"fixture {key} is gzip")
        res, doc = scan("-", rc=1, input=data)
        same_as_layered("-", res, doc, f"stdin {key}")


# ==================================================================== 3. bare paths


@test
def bare_path_docker_archive(tmp):
    t = fixture("transports")
    res, doc = scan(t["docker"], rc=1)
    same_as_layered(t["docker"], res, doc, "bare docker-archive path")


@test
def bare_path_oci_archive(tmp):
    t = fixture("transports")
    res, doc = scan(t["oci_archive"], rc=1)
    same_as_layered(t["oci_archive"], res, doc, "bare oci-archive path")


@test
def bare_path_oci_layout_dir(tmp):
    """A directory holding oci-layout + index.json is an OCI layout, not a plain directory."""
    info = fixture("layered")
    res, doc = scan(info["layout"], rc=1)
    same_findings(doc, info["expect"], res, "bare OCI layout dir")


# =============================================================== 4. real docker save
# Fixture "docker_save" (fixtures.build_docker_save): a private dockerd 20.10 (unix socket in the
# session dir, vfs, stopped by PID) loads the skopeo docker-archive of "layered" (app:1.0, also
# tagged app:latest) and that of "gone" (other:2.0); legacy.tar = docker save app:1.0,
# multi.tar = docker save app:1.0 app:latest other:2.0 (<id>/layer.tar dirs sorted by id,
# manifest.json last, two entries: app with two RepoTags, other).


def split_by_image(doc):
    out = {}
    for f in doc.get("findings", []):
        out.setdefault(norm_image(loc(f).get("image")), []).append(f)
    return out


@test
def docker_save_legacy_layout(tmp):
    ds = fixture("docker_save")
    with tarfile.open(ds["legacy"]) as t:
        names = t.getnames()
    check(names[-2:] == ["manifest.json", "repositories"] or "manifest.json" in names[-3:],
          f"docker save writes manifest.json at the end: {names[-3:]}")
    target = f"docker-archive:{ds['legacy']}"
    res, doc = scan(target, rc=1)
    same_as_layered(target, res, doc, "docker save (legacy)")
    check({loc(f).get("image") for f in doc["findings"]} == {"app:1.0"},
          f"image app:1.0: {({loc(f).get('image') for f in doc['findings']})}", res)
    res, doc = scan(ds["legacy"], rc=1)
    same_as_layered(ds["legacy"], res, doc, "docker save (legacy), bare path")


@test
def docker_daemon_target(tmp):
    """docker-daemon:NAME:TAG streams the image from a real dockerd's Engine API (its unix
    socket from DOCKER_HOST): the same findings as the save file; a missing image and an
    unreachable daemon are input errors (exit 2) with the daemon's message."""
    tr = fixture("transports")
    with fx.running_dockerd(tmp / "dk") as (docker, env):
        fx.sh(docker, "load", "-q", "-i", tr["docker"], env=env)
        target = "docker-daemon:app:1.0"
        res = run("scan", "-f", "json", target, env=env)
        expect_rc(res, 1)
        no_leak(res)
        same_as_layered(target, res, parse_json(res), "docker-daemon:")
        res = run("scan", "-f", "json", "docker-daemon:nope:9", env=env)
        expect_rc(res, 2)
        check(b"nope:9" in res.err and b"daemon" in res.err, "names the image and the daemon",
              res)
    res = run("scan", "docker-daemon:app:1.0", env={"DOCKER_HOST": f"unix://{tmp}/none.sock"})
    expect_rc(res, 2)
    check(b"none.sock" in res.err, "an unreachable daemon is named", res)


@test
def docker_save_multi_image_all(tmp):
    """docker save app:1.0 app:latest other:2.0: two manifest.json entries, both scanned."""
    ds = fixture("docker_save")
    lay, gone = fixture("layered"), fixture("gone")
    res, doc = scan(f"docker-archive:{ds['multi']}", rc=1)
    by = split_by_image(doc)
    app_keys = [k for k in by if k in ("app:1.0", "app:latest")]
    check(len(app_keys) == 1 and "other:2.0" in by and len(by) == 2,
          f"findings should come from two images, app:1.0 (or app:latest) and other:2.0: "
          f"{sorted(by)}", res)
    same_findings({"findings": by[app_keys[0]]}, lay["expect"], res, "multi: app")
    same_findings({"findings": by["other:2.0"]}, gone["expect"], res, "multi: other")


@test
def docker_save_select_by_name(tmp):
    ds = fixture("docker_save")
    lay, gone = fixture("layered"), fixture("gone")
    res, doc = scan(f"docker-archive:{ds['multi']}:other:2.0", rc=1)
    same_findings(doc, gone["expect"], res, ":other:2.0")
    check({loc(f).get("image") for f in doc["findings"]} == {"other:2.0"}, "image other:2.0",
          res)
    res, doc = scan(f"docker-archive:{ds['multi']}:app:latest", rc=1)
    same_findings(doc, lay["expect"], res, ":app:latest (second tag of one entry)")


@test
def docker_save_select_by_index(tmp):
    ds = fixture("docker_save")
    with tarfile.open(ds["multi"]) as t:
        man = json.load(t.extractfile("manifest.json"))
    which = {i: ("gone" if "other:2.0" in m["RepoTags"] else "layered") for i, m in enumerate(man)}
    for i in (0, 1):
        res, doc = scan(f"docker-archive:{ds['multi']}:@{i}", rc=1)
        same_findings(doc, fixture(which[i])["expect"], res, f":@{i} ({which[i]})")
    res, doc = scan(f"docker-archive:{ds['multi']}:@2", rc=2)
    check(b"@2" in res.err, "stderr should name the missing image @2", res)


# ======================================================================== 5. config
# Fixture "config" (fixtures.build_config): buildah bud of a Dockerfile FROM scratch + busybox,
# --build-arg NPM_TOKEN=npm_… used by a RUN, ENV GITHUB_TOKEN=ghp_…, LABEL deploy_token=AKIA…,
# shell-form CMD … --password …, --annotation com.example.token=ghp_…; pushed to an OCI layout
# (ref "cfg"). No secret in any layer file.


def config_scan():
    info = fixture("config")
    res, doc = scan(f"oci:{info['layout']}:cfg", rc=1)
    return info, res, doc


def check_config_finding(key, path):
    info, res, doc = config_scan()
    e = expect_by(info, key, path)[0]
    fs = find(doc, e["fingerprint"], path)
    check(len(fs) == 1, f"expected one {e['rule']} finding at {path}, got "
                        f"{[(loc(f).get('path'), f.get('rule')) for f in find(doc, e['fingerprint'])]}"
                        f" (all paths: {sorted({loc(f).get('path') for f in doc['findings']})})",
          res)
    f = fs[0]
    check(f.get("state") == "config", f"{path}: state {f.get('state')!r}, expected 'config'", res)
    check("layer" not in loc(f) or loc(f)["layer"] is None,
          f"{path}: a config finding has no layer: {loc(f).get('layer')}", res)
    check(f.get("changed_in") is None, f"{path}: no changed_in: {f.get('changed_in')}", res)
    check(loc(f).get("image") == "cfg", f"{path}: image {loc(f).get('image')!r}", res)


@test
def config_env(tmp):
    """ENV GITHUB_TOKEN=… → config.Env[1]"""
    check_config_finding("ENV", "config.Env[1]")


@test
def config_label(tmp):
    """LABEL deploy_token="AKIA…" → config.Labels.deploy_token"""
    check_config_finding("LABEL", "config.Labels.deploy_token")


@test
def config_cmd(tmp):
    """CMD /app/server --listen :8080 --password … → config.Cmd: the command is scanned as one
    line (["/bin/sh","-c","…"] joined with spaces), so a flag and its value in two elements of
    an exec-form CMD are still seen together."""
    check_config_finding("CMDPW", "config.Cmd")


@test
def config_history_build_arg(tmp):
    """buildah bud --build-arg NPM_TOKEN=npm_… → history[2].created_by '|1 NPM_TOKEN=…'"""
    check_config_finding("NPM", "history[2].created_by")


@test
def config_manifest_annotation(tmp):
    """buildah bud --annotation com.example.token=ghp_… → manifest.annotations.com.example.token"""
    check_config_finding("ANNOT", "manifest.annotations.com.example.token")


@test
def config_history_repeats_instructions(tmp):
    """ENV, LABEL and CMD also land in history created_by (#(nop) lines): the same secret,
    reported there too, with the same fingerprint."""
    info, res, doc = config_scan()
    for key, i in (("ENV", 3), ("LABEL", 4), ("CMDPW", 5)):
        fp = expect_by(info, key)[0]["fingerprint"]
        check(info["secrets"][key] in info["history"][i]["created_by"],
              f"fixture: {key} in history[{i}]")
        paths = sorted(loc(f).get("path") for f in find(doc, fp))
        check(f"history[{i}].created_by" in paths,
              f"{key}: expected a finding at history[{i}].created_by, got {paths}", res)


@test
def config_only_config_findings(tmp):
    """The layers hold busybox and an empty RUN layer: every finding is a config finding."""
    info, res, doc = config_scan()
    bad = [(loc(f).get("path"), f.get("state")) for f in doc["findings"]
           if f.get("state") != "config"]
    check(not bad, f"only config findings expected: {bad}", res)
    check(doc.get("errors") == [], f"no errors: {doc.get('errors')}", res)


# ================================================================ 6. nested archives
# Fixture "nested" (fixtures.build_nested): umoci, ref "nested", 2 layers:
#   0 /app/lib/app.jar (zipfile) BOOT-INF/classes/application.yml: AKIA…          (depth 1)
#     /app/lib/outer.jar (zip) lib/inner.jar (zip) config.properties: ghp_…      (depth 2)
#   1 /backup/files.tar.gz (GNU tar -z) etc/app/secret.env: ghp_…              (depth 1)
#     /backup/db.sql.gz (gzip -c of db.sql, not a tar): AKIA…                    (depth 1)


def nested_scan(*opts):
    info = fixture("nested")
    res, doc = scan(f"oci:{info['layout']}:nested", *opts, rc=1)
    return info, res, doc


@test
def nested_exact_findings(tmp):
    info, res, doc = nested_scan()
    same_findings(doc, info["expect"], res, "nested archives")


@test
def nested_jar(tmp):
    info, res, doc = nested_scan()
    e = expect_by(info, "N1")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def nested_jar_in_jar(tmp):
    info, res, doc = nested_scan()
    e = expect_by(info, "N2")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def nested_max_archive_depth(tmp):
    """--max-archive-depth 1: app.jar (depth 1) is opened, outer.jar!/lib/inner.jar (depth 2)
    is not, and that is said in errors as a warning (not an input error: exit 1)."""
    info, res, doc = nested_scan("--max-archive-depth", "1")
    inner = expect_by(info, "N2")[0]
    check(not find(doc, inner["fingerprint"]), "inner.jar must not be opened at depth 1", res)
    for k in ("N1", "N3", "N4"):
        e = expect_by(info, k)[0]
        check(find(doc, e["fingerprint"], e["path"]), f"{e['path']} is depth 1: still found", res)
    warns = [x for x in errors_of(doc) if "inner.jar" in err_text(x)]
    check(warns, f"an error entry should name inner.jar: {doc.get('errors')}", res)
    check(all(x.get("level") == "warning" for x in warns),
          f"the depth limit is a warning: {warns}", res)
    res, doc = scan(f"oci:{info['layout']}:nested", "--max-archive-depth", "2", rc=1)
    check(find(doc, inner["fingerprint"], inner["path"]), "depth 2 opens inner.jar", res)
    res, doc = scan(f"oci:{info['layout']}:nested", "--max-archive-depth", "0")
    for k in ("N1", "N2", "N3"):
        e = expect_by(info, k)[0]
        check(not find(doc, e["fingerprint"]), f"--max-archive-depth 0 opens no archive, but "
                                               f"{e['path']} was found", res)


@test
def nested_tar_gz(tmp):
    info, res, doc = nested_scan()
    e = expect_by(info, "N3")[0]
    check_layer_finding(one(doc, e, res), e, res)


@test
def nested_plain_gz(tmp):
    """/backup/db.sql.gz is gzip of a text file (no tar): path /backup/db.sql.gz!/db.sql"""
    info, res, doc = nested_scan()
    e = expect_by(info, "N4")[0]
    check_layer_finding(one(doc, e, res), e, res)


# ================================================================== 7. multi-platform
# Fixture "multiarch" (fixtures.build_multiarch): three one-layer umoci images, each with its own
# ghp_ token in /etc/platform.env, listed with platforms linux/amd64, linux/arm64, linux/arm/v7
# in an image index blob written by hand; index.json has one entry (ref "multi") pointing at it.
# multi.tar: skopeo copy --all of it to an oci-archive.


def platform_expect(info, plats):
    return [e for e in info["expect"] if e["platform"] in plats]


def check_platforms(doc, info, plats, res, what):
    same_findings(doc, platform_expect(info, plats), res, what)
    for f in doc["findings"]:
        e = [x for x in info["expect"] if x["fingerprint"] == f.get("fingerprint")]
        if e:
            check(loc(f).get("platform") == e[0]["platform"],
                  f"{what}: platform {loc(f).get('platform')!r}, expected {e[0]['platform']!r}",
                  res)


@test
def multiplatform_default_host(tmp):
    info = fixture("multiarch")
    host = f"linux/{host_arch()}"
    for target in (f"oci:{info['layout']}:multi", f"oci:{info['layout']}"):
        res, doc = scan(target, rc=1)
        check_platforms(doc, info, {host}, res, f"{target} (host {host})")


@test
def multiplatform_select(tmp):
    info = fixture("multiarch")
    for plat in ("linux/arm64", "linux/arm/v7", "linux/amd64"):
        res, doc = scan(f"oci:{info['layout']}:multi", "--platform", plat, rc=1)
        check_platforms(doc, info, {plat}, res, f"--platform {plat}")


@test
def multiplatform_all(tmp):
    info = fixture("multiarch")
    plats = {e["platform"] for e in info["expect"]}
    for target in (f"oci:{info['layout']}:multi", f"oci-archive:{info['archive']}"):
        res, doc = scan(target, "--all-platforms", rc=1)
        check_platforms(doc, info, plats, res, f"{target} --all-platforms")


@test
def multiplatform_unknown_platform(tmp):
    info = fixture("multiarch")
    res, doc = scan(f"oci:{info['layout']}:multi", "--platform", "linux/s390x", rc=2)
    check(b"linux/s390x" in res.err, "stderr should name the platform not in the index", res)
    check(not doc.get("findings"), "nothing scanned", res)


# ================================================================== 8. corrupt input
# Fixture "corrupt" (fixtures.build_corrupt): umoci image "c", a ghp_ token per layer in
# /data/zero.txt (0), /data/one.txt after 256 KiB of random bytes (1), /data/two.txt (2).
# truncated/: layer 1's blob cut in half; mislabel/: layer 1 stored uncompressed but labelled
# tar+gzip, layer 2 gzip labelled tar; plus notes.txt, plain.tar (not an image), random.bin.


@test
def corrupt_good_baseline(tmp):
    info = fixture("corrupt")
    res, doc = scan(f"oci:{info['good']}:c", rc=1)
    same_findings(doc, info["expect"], res, "undamaged image")


@test
def corrupt_truncated_layer(tmp):
    """Layer 1's gzip blob cut in half: exit 2, an error naming that layer, layers 0 and 2
    still scanned and reported."""
    info = fixture("corrupt")
    res, doc = scan(f"oci:{info['truncated']}:c", rc=2)
    hexd = info["truncated_digest"].split(":")[1]
    errs = [x for x in errors_of(doc) if hexd[:12] in err_text(x) or "layer 1" in err_text(x)]
    check(errs, f"an error should name layer 1 ({hexd[:12]}…): {doc.get('errors')}", res)
    check(any(x.get("level") == "error" for x in errs), f"level error: {errs}", res)
    check(hexd[:12].encode() in res.err or b"layer 1" in res.err,
          "stderr should name the damaged layer", res)
    for k in ("K0", "K2"):
        e = expect_by(info, k)[0]
        f = one(doc, e, res)
        check_layer_finding(f, e, res)


@test
def corrupt_truncated_stream_keeps_findings(tmp):
    """A docker save stream cut short before manifest.json (a pipe that broke): exit 2 with an
    error, and the secret of the layer that did arrive is still reported, named by its blob
    (no layer order is known without the manifest): "/BLOB!/srv/secret.txt"."""
    info = fixture("gone")
    data = Path(info["archive"]).read_bytes()
    with tarfile.open(info["archive"]) as t:
        members = t.getmembers()
    man = [m for m in members if m.name == "manifest.json"]
    check(man and all(m.offset < man[0].offset for m in members if m.name.endswith(".tar")),
          f"fixture: manifest.json after the layers: {[m.name for m in members]}")
    cut = tmp / "cut.tar"
    cut.write_bytes(data[: man[0].offset_data + 10])  # cut inside manifest.json
    e = expect_by(info, "K")[0]
    for target, inp in ((str(cut), None), ("-", cut.read_bytes())):
        res, doc = scan(target, rc=2, input=inp)
        check(errors_of(doc, "error"), f"{target}: an error for the cut stream", res)
        fs = [f for f in doc["findings"] if f["fingerprint"] == e["fingerprint"]]
        check(len(fs) == 1 and loc(fs[0])["path"].endswith("!/srv/secret.txt")
              and loc(fs[0])["path"].startswith("/"),
              f"{target}: the layer's secret, named by its blob: {[loc(f) for f in fs]}", res)


@test
def podman_service_target(tmp):
    """docker-daemon: against Podman's Docker-compatible API (`podman system service` on a
    unix socket, DOCKER_HOST): the same findings as the save file it loaded."""
    tr = fixture("transports")
    with fx.running_podman(tmp / "pm", tr["docker"]) as env:
        target = "docker-daemon:app:1.0"
        res = run("scan", "-f", "json", "--no-cache", target, env=env)
        expect_rc(res, 1)
        no_leak(res)
        same_as_layered(target, res, parse_json(res), "podman service")


class FakeDaemon:
    """A Docker Engine API on a unix socket that knows one image and, asked for it, sends a
    Content-Length for the whole save stream but only `body` before closing the connection (a
    daemon that died mid-transfer). Runs in a thread; stop() closes it."""

    def __init__(self, path, body, full_len):
        import socket
        import threading
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.body, self.full_len = body, full_len
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                req = b""
                while b"\r\n\r\n" not in req:
                    got = conn.recv(4096)
                    if not got:
                        break
                    req += got
                line = req.split(b"\r\n", 1)[0].decode(errors="replace")
                if "/json" in line:
                    info = json.dumps({"Id": "sha256:" + "0" * 64, "RepoTags": ["other:2.0"]})
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                                 % (len(info), info.encode()))
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                                 % self.full_len + self.body)

    def stop(self):
        self.sock.close()


@test
def docker_daemon_truncated_stream(tmp):
    """A daemon whose save stream stops short (inside manifest.json, after the layers): exit 2
    with an error naming the target, and the secret of the layer that did arrive is still
    reported, named by its blob, as for a cut file."""
    info = fixture("gone")
    data = Path(info["archive"]).read_bytes()
    with tarfile.open(info["archive"]) as t:
        man = [m for m in t.getmembers() if m.name == "manifest.json"]
    daemon = FakeDaemon(tmp / "d.sock", data[: man[0].offset_data + 10], len(data))
    try:
        res = run("scan", "-f", "json", "docker-daemon:other:2.0", timeout=60,
                  env={"DOCKER_HOST": f"unix://{tmp}/d.sock"})
    finally:
        daemon.stop()
    expect_rc(res, 2)
    no_leak(res)
    doc = parse_json(res)
    errs = errors_of(doc, "error")
    check(errs and all(x.get("target") == "docker-daemon:other:2.0" for x in errs),
          f"errors name the target: {errs}", res)
    e = expect_by(info, "K")[0]
    fs = [f for f in doc["findings"] if f["fingerprint"] == e["fingerprint"]]
    check(len(fs) == 1 and loc(fs[0])["path"].endswith("!/srv/secret.txt"),
          f"the layer's secret, named by its blob: {[loc(f) for f in fs]}", res)


@test
def corrupt_mislabelled_media_type(tmp):
    """Layer 1 stored uncompressed but labelled tar+gzip, layer 2 gzip labelled tar:
    sniffed by magic bytes, everything scanned, no error."""
    info = fixture("corrupt")
    res, doc = scan(f"oci:{info['mislabel']}:c", rc=1)
    same_findings(doc, info["expect"], res, "mislabelled layers")
    check(not errors_of(doc, "error"), f"no error-level entries: {doc.get('errors')}", res)


@test
def non_image_inputs(tmp):
    info = fixture("corrupt")
    plain_dir = tmp / "notalayout"
    plain_dir.mkdir()
    (plain_dir / "readme.txt").write_text("hello\n")
    cases = [f"oci-archive:{info['notes']}", f"docker-archive:{info['notes']}",
             f"docker-archive:{info['plain_tar']}", f"oci-archive:{info['plain_tar']}",
             f"docker-archive:{info['random']}", f"oci:{plain_dir}"]
    for target in cases:
        res, doc = scan(target, rc=2)
        path = target.split(":", 1)[1]
        check(os.path.basename(path).encode() in res.err,
              f"{target}: stderr should name the file", res)
        check(b"No such file" not in res.err,
              f"{target}: the file exists: the error should say it is not an image", res)
        check(errors_of(doc, "error"), f"{target}: an error entry in the report", res)
        check(not doc.get("findings"), f"{target}: no findings", res)


@test
def missing_image_paths(tmp):
    for target in (f"oci:{tmp}/nope", f"oci-archive:{tmp}/nope.tar",
                   f"docker-archive:{tmp}/nope.tar", f"docker-archive:{tmp}/nope.tar:app:1.0"):
        res, doc = scan(target, rc=2)
        check(b"nope" in res.err, f"{target}: stderr should name the missing path", res)
        check(errors_of(doc), f"{target}: an error entry in the report", res)


# ========================================================== 9. --fail-on-state
# Fixture "gone" (fixtures.build_gone): umoci, ref "gone": layer 0 /srv/secret.txt (ghp_),
# layer 1 "RUN rm -f /srv/secret.txt # cleanup" (whiteout). Only a deleted finding.


@test
def fail_on_state_present(tmp):
    g = fixture("gone")
    target = f"oci:{g['layout']}:gone"
    res, doc = scan(target, rc=1)
    same_findings(doc, g["expect"], res, "default --fail-on-state any")
    res, doc = scan(target, "--fail-on-state", "present", rc=0)
    same_findings(doc, g["expect"], res, "--fail-on-state present still reports the finding")
    scan(target, "--fail-on-state", "any", rc=1)
    lay = fixture("layered")
    scan(f"oci:{lay['layout']}:app", "--fail-on-state", "present", rc=1)
    res = run("scan", "--fail-on-state", "sometimes", target)
    expect_rc(res, 2, "bad --fail-on-state value")


@test
def two_targets_in_one_run(tmp):
    """Two images in one run: each finding's location.target is the one it came from."""
    lay, g = fixture("layered"), fixture("gone")
    ta, tb = f"oci:{lay['layout']}:app", f"oci:{g['layout']}:gone"
    res = run("scan", "-f", "json", ta, tb)
    expect_rc(res, 1)
    no_leak(res)
    doc = parse_json(res)
    same_findings({"findings": [f for f in doc["findings"] if loc(f).get("target") == ta]},
                  lay["expect"], res, ta)
    same_findings({"findings": [f for f in doc["findings"] if loc(f).get("target") == tb]},
                  g["expect"], res, tb)


# ==================================================================== 10. text output


@test
def text_output_deleted(tmp):
    g = fixture("gone")
    e = g["expect"][0]
    res, _ = scan(f"oci:{g['layout']}:gone", "--color", "never", rc=1, fmt="text")
    out = res.out.decode("utf-8", "replace")
    check("\x1b" not in out, "no colour with --color never", res)
    check("deleted in layer 1" in out, "text should say 'deleted in layer 1'", res)
    check(e["changed_by"] in out, f"text should show the deleting layer's created_by "
                                  f"{e['changed_by']!r}", res)
    check("/srv/secret.txt" in out, "text should show the path", res)


@test
def no_raw_secret_in_any_output(tmp):
    """Every fixture, JSON and text: no raw secret (scan() checks each), nor in the layer cache
    the scans filled; --show-secrets is the one way to see one (and it bypasses the cache)."""
    targets = [f"oci:{fixture('layered')['layout']}:app", f"oci:{fixture('config')['layout']}:cfg",
               f"oci:{fixture('nested')['layout']}:nested",
               f"oci:{fixture('multiarch')['layout']}:multi",
               f"docker-archive:{fixture('docker_save')['multi']}"]
    cache = tmp / "cache"
    for t in targets:
        scan(t, "--all-platforms" if "multi" in t else "-q", "--cache-dir", cache, fmt="json")
        scan(t, "--color", "never", "--cache-dir", cache, fmt="text")
        scan(t, "-v", "--cache-dir", cache, fmt="text")
    g = fixture("gone")
    scan(f"oci:{g['layout']}:gone", "--cache-dir", cache, fmt="json")
    res = run("scan", "-f", "json", "--show-secrets", "--cache-dir", cache,
              f"oci:{g['layout']}:gone")
    expect_rc(res, 1)
    check(g["secrets"]["K"].encode() in res.out, "--show-secrets shows the secret", res)
    entries = [p for p in cache.rglob("*") if p.is_file()]
    check(len(entries) >= 10, f"the scans filled the cache: {len(entries)} entries")
    for p in entries:
        data = p.read_bytes()
        for mark in SESSION.secrets:
            check(mark.encode() not in data, f"a raw secret ({mark[:4]}...) in cache entry {p}")


@test
def progress_line_on_a_terminal(tmp):
    """stderr a terminal: a status line rewritten in place per layer, with the image's number
    among the targets, the layers, MiB and rate; cleared when done (the report is not mixed
    with it); -q: none. stderr not a terminal: none (the other tests)."""
    import pty
    lay = fixture("layered")
    t = fixture("transports")
    targets = [f"oci:{lay['layout']}:app", f"oci-archive:{t['oci_archive']}"]
    for quiet in (False, True):
        master, slave = pty.openpty()
        p = subprocess.run([RUMMAGE, "scan", "--no-cache", "-f", "json", *(["-q"] if quiet else []),
                            *targets], stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        err = b""
        while True:
            try:
                got = os.read(master, 65536)
            except OSError:
                break
            if not got:
                break
            err += got
        os.close(master)
        check(p.returncode == 1, f"exit {p.returncode}: {err[-500:]!r}")
        json.loads(p.stdout)
        lines = re.findall(rb"\r\x1b\[Krummage: image (\d) of 2, layer (\d+), \d+ MiB of layers "
                           rb"in \d+ s \(\d+ MiB/s\)", err)
        if quiet:
            check(not lines and b"rummage: image" not in err, f"-q: no status line: {err!r}")
            continue
        check({n for n, _ in lines} == {b"1", b"2"}, f"both images counted: {lines}")
        check(max(int(k) for _, k in lines) == 12, f"12 layers in all: {lines}")
        check(err.rstrip(b"\r\n").endswith(b"\r\x1b[K"), f"the line is cleared at the end: "
              f"{err[-120:]!r}")


@test
def oci_layout_symlinks_not_followed(tmp):
    """An OCI layout whose layer blob, or whose blobs/sha256 directory, is a symbolic link to
    a file outside it (a layout from elsewhere pointing at the host's files): never followed.
    The layer is an error naming the link (exit 2), what it points at is not read, the other
    layers are still reported."""
    lay = fixture("layered")
    for kind in ("blob", "dir", "index"):
        layout = tmp / kind / "layout"
        shutil.copytree(lay["layout"], layout)
        outside = tmp / kind / "outside"
        outside.mkdir()
        _, man, _ = fx.image_parts(layout, "app")
        digest = man["layers"][1]["digest"]
        hexd = digest.split(":")[1]
        if kind == "blob":
            blob = fx.blob_path(layout, digest)
            blob.rename(outside / hexd)
            blob.symlink_to(outside / hexd)
        elif kind == "dir":
            d = layout / "blobs" / "sha256"
            d.rename(outside / "sha256")
            d.symlink_to(outside / "sha256")
        else:
            (layout / "index.json").rename(outside / "index.json")
            (layout / "index.json").symlink_to(outside / "index.json")
        res, doc = scan(f"oci:{layout}:app", "--no-cache", rc=2)
        check(b"symbolic link" in res.err, f"{kind}: the error says why", res)
        layers = {layer_of(f) for f in doc["findings"]}
        check(1 not in layers, f"{kind}: nothing from the linked layer: {sorted(layers)}", res)
        if kind == "blob":
            check(hexd[:12] in res.err.decode(), "the error names the blob", res)
            check(layers == {2, 5}, f"the other layers' findings still reported: {layers}", res)


# ================================================================== 11. the layer cache


def cache_stats(doc):
    st = doc.get("stats", {})
    return st.get("layers"), st.get("layers_cached")


def gzip_mtime_changed(data):
    """The same gzip stream with another MTIME in its header: same content, another digest."""
    check(data[:2] == b"\x1f\x8b", "a gzip blob")
    return data[:4] + bytes(b ^ 0x5A for b in data[4:8]) + data[8:]


@test
def layer_cache_every_transport(tmp):
    """With a fresh --cache-dir, each transport whose layer blobs are named by digest (skopeo
    docker-archive <diff_id>.tar, Docker 25+ save, oci-archive, OCI layouts gzip and zstd, a
    gzip stream on stdin) scans its 6 layers, then takes all 6 from the cache with the same
    findings. The OCI layout and the Docker 25 save share their gzip blobs, so one cache serves
    both. A legacy docker save (<id>/layer.tar names: no digest) is never cached."""
    t = fixture("transports")
    lay = fixture("layered")
    oci = f"oci:{lay['layout']}:app"
    for target, inp in ((f"docker-archive:{t['docker']}", None),
                        (f"docker-archive:{t['docker25']}", None),
                        (f"oci-archive:{t['oci_archive']}", None), (oci, None),
                        (f"oci:{t['zstd']}:app", None),
                        ("-", Path(t["oci_archive_gz"]).read_bytes())):
        cache = tmp / f"cache-{len(list(tmp.iterdir()))}"
        res, cold = scan(target, "--cache-dir", cache, rc=1, input=inp)
        check(cache_stats(cold) == (6, 0), f"{target}: cold: {cache_stats(cold)}", res)
        res, warm = scan(target, "--cache-dir", cache, rc=1, input=inp)
        check(cache_stats(warm) == (6, 6), f"{target}: warm: {cache_stats(warm)}", res)
        check(warm["findings"] == cold["findings"], f"{target}: the same findings", res)
        check(warm["stats"]["files"] == 0, f"{target}: nothing scanned again", res)
        same_as_layered("-" if inp else target, res, warm, f"{target} from the cache")
    shared = tmp / "shared"
    scan(oci, "--cache-dir", shared, rc=1)
    res, doc = scan(f"docker-archive:{t['docker25']}", "--cache-dir", shared, rc=1)
    check(cache_stats(doc) == (6, 6), f"docker25 after the OCI layout: {cache_stats(doc)}", res)
    legacy = fixture("docker_save")
    for _ in range(2):
        res, doc = scan(legacy["legacy"], "--cache-dir", tmp / "legacy", rc=1)
        check(doc.get("stats", {}).get("layers_cached") == 0,
              f"legacy docker save: nothing from the cache: {cache_stats(doc)}", res)
    res, doc = scan(oci, "--no-cache", "--cache-dir", shared, rc=1)
    check(cache_stats(doc) == (6, 0), f"--no-cache: {cache_stats(doc)}", res)


@test
def layer_cache_checks_the_bytes(tmp):
    """A cached layer's blob replaced by other bytes under the same name (the gzip MTIME
    changed: same files, another digest). OCI layout: the blob is hashed before its cached
    result is used; it does not match, so it is scanned and reported as not the layer it
    claims to be (exit 2, its findings still there). A stream (Docker 25 save): its bytes are
    hashed instead of scanned; the mismatch is an error (exit 2) naming the blob, and the
    other layers come from the cache. A fresh cache never stores the tampered layer."""
    lay = fixture("layered")
    t = fixture("transports")
    cache = tmp / "cache"
    scan(f"oci:{lay['layout']}:app", "--cache-dir", cache, rc=1)
    layout = tmp / "layout"
    shutil.copytree(lay["layout"], layout)
    _, man, _ = fx.image_parts(layout, "app")
    digest = man["layers"][1]["digest"]
    blob = fx.blob_path(layout, digest)
    blob.write_bytes(gzip_mtime_changed(blob.read_bytes()))
    hexd = digest.split(":")[1]
    for c in (cache, tmp / "fresh"):
        res, doc = scan(f"oci:{layout}:app", "--cache-dir", c, rc=2)
        errs = [x for x in errors_of(doc, "error") if hexd in err_text(x)]
        check(errs and "do not have the digest" in err_text(errs[0]),
              f"{c.name}: an error naming the layer: {doc.get('errors')}", res)
        same_findings(doc, lay["expect"], res, f"{c.name}: every finding still reported")
    res, doc = scan(f"oci:{layout}:app", "--cache-dir", tmp / "fresh", rc=2)
    check(cache_stats(doc) == (6, 5), f"the tampered layer was not cached: {cache_stats(doc)}",
          res)
    # The same blob inside a Docker 25 save, read as a stream.
    src = Path(t["docker25"])
    bad = tmp / "docker25-bad.tar"
    with tarfile.open(src) as tin, tarfile.open(bad, "w") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else None
            if m.name == f"blobs/sha256/{hexd}":
                data = gzip_mtime_changed(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)
    res, doc = scan(f"docker-archive:{bad}", "--cache-dir", cache, rc=2)
    errs = [x for x in errors_of(doc, "error") if hexd in err_text(x)]
    check(errs and "not scanned" in err_text(errs[0]),
          f"stream: an error naming the blob: {doc.get('errors')}", res)
    check(cache_stats(doc) == (5, 5), f"stream: the 5 others from the cache: {cache_stats(doc)}",
          res)


def report_of(target, *opts, rc, input=None):
    """The report of a scan without its timing (the only part that may differ between runs)."""
    res, doc = scan(target, *opts, rc=rc, input=input)
    doc.get("stats", {}).pop("seconds", None)
    return res, doc


@test
def layers_in_parallel(tmp):
    """With more than one job, the layers of an image whose bytes can be read on their own (the
    blob files of an OCI layout, the entries of a docker-save file by their offset) are walked
    at the same time, each by a thread of its own. The report does not depend on it: with
    --jobs 1 and 4 it is the same, whole or damaged (a truncated layer: exit 2, its error, the
    other layers' secrets), with the cache filled in parallel and read one at a time; and the
    same archive from a pipe (read in one pass) or gzip-compressed (not seekable) gives the same
    findings."""
    lay = fixture("layered")
    t = fixture("transports")
    bad = fixture("corrupt")
    cases = [(f"oci:{lay['layout']}:app", 1), (f"docker-archive:{t['docker']}", 1),
             (f"docker-archive:{t['docker25']}", 1), (f"oci-archive:{t['oci_archive']}", 1),
             (t["docker_gz"], 1), (f"oci:{bad['truncated']}:c", 2)]
    for target, rc in cases:
        res1, one_job = report_of(target, "-j1", "--no-cache", rc=rc)
        res4, four = report_of(target, "-j4", "--no-cache", rc=rc)
        check(one_job == four, f"{target}: -j1 and -j4 reports differ", res4)
        if rc == 1:
            same_as_layered(target, res4, four, f"{target} -j4")
    for name in ("docker", "docker25"):
        res, doc = report_of("-", "-j4", "--no-cache", rc=1,
                             input=Path(t[name]).read_bytes())
        same_as_layered("-", res, doc, f"{name} from a pipe, -j4")
    # A docker-save file cut inside its largest layer blob: the layers before it are read at
    # their offsets, the cut one in one pass; the same report either way.
    with tarfile.open(t["docker25"]) as tf:
        big = max(tf.getmembers(), key=lambda m: m.size)
    check(big.name.startswith("blobs/") and big.size > 100000, f"fixture: {big.name}")
    cut = tmp / "cut.tar"
    cut.write_bytes(Path(t["docker25"]).read_bytes()[:big.offset_data + big.size // 2])
    res1, one_job = report_of(str(cut), "-j1", "--no-cache", rc=2)
    res4, four = report_of(str(cut), "-j4", "--no-cache", rc=2)
    check(one_job == four, f"a cut file: -j1 and -j4 reports differ", res4)
    check(errors_of(four, "error"), "a cut file: its error", res4)
    cache = tmp / "cache"
    for target in (f"oci:{lay['layout']}:app", f"docker-archive:{t['docker25']}"):
        res, cold = report_of(target, "-j4", "--cache-dir", cache, rc=1)
        res, warm = report_of(target, "-j1", "--cache-dir", cache, rc=1)
        check(cache_stats(warm) == (6, 6), f"{target}: filled by -j4: {cache_stats(warm)}", res)
        check(warm["findings"] == cold["findings"], f"{target}: the same findings", res)


# ---------------------------------------------------------------------------- main


SEV = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@test
def exit_code_contract(tmp):
    """Every combination of --fail-on, --fail-on-state and --baseline on one image with present,
    deleted and overwritten findings of several severities: the exit code is 1 exactly when a
    finding is left (not in the baseline) at or above --fail-on in a counted state (any; or
    present/config with --fail-on-state present), else 0; an input error is 2 whatever else."""
    info = fixture("layered")
    target = f"oci:{info['layout']}:{info['ref']}"
    res, doc = scan(target, rc=1)
    fs = doc["findings"]
    check({f["state"] for f in fs} >= {"present", "deleted", "overwritten"},
          f"fixture: states {sorted({f['state'] for f in fs})}", res)
    check(len({f["severity"] for f in fs}) >= 2, "fixture: several severities", res)
    # Baselines: none; one holding the most severe present finding(s); all of them.
    res_b, _ = run("baseline", target), None
    expect_rc(res_b, 0, "rummage baseline")
    full = json.loads(res_b.out)
    check(len(full["findings"]) == len(fs), "baseline lists every finding", res_b)
    check(all(set(e) >= {"fingerprint", "rule", "path", "state"} for e in full["findings"]),
          "baseline entries", res_b)
    for mark in SESSION.secrets:
        check(mark.encode() not in res_b.out, "no secret in a baseline", res_b)
    top = max(SEV[f["severity"]] for f in fs if f["state"] == "present")
    part = dict(full)
    part["findings"] = [e for e in full["findings"]
                        if not any(f["fingerprint"] == e["fingerprint"] and f["location"]["path"]
                                   == e["path"] and SEV[f["severity"]] == top
                                   and f["state"] == "present" for f in fs)]
    check(0 < len(part["findings"]) < len(full["findings"]), "fixture: a partial baseline")
    (tmp / "full.json").write_text(json.dumps(full))
    (tmp / "part.json").write_text(json.dumps(part))
    baselines = {None: set(), "part.json": {(e["fingerprint"], e["path"]) for e in part["findings"]},
                 "full.json": {(e["fingerprint"], e["path"]) for e in full["findings"]}}
    for bname, known in baselines.items():
        left = [f for f in fs if (f["fingerprint"], f["location"]["path"]) not in known]
        for fail_on in SEV:
            for state in ("any", "present"):
                counted = [f for f in left if SEV[f["severity"]] >= SEV[fail_on] and
                           (state == "any" or f["state"] in ("present", "config"))]
                args = ["--fail-on", fail_on, "--fail-on-state", state]
                if bname:
                    args += ["--baseline", str(tmp / bname)]
                r, d = scan(target, *args)
                want = 1 if counted else 0
                check(r.rc == want, f"{args}: exit {r.rc}, want {want} ({len(counted)} counted "
                                    f"of {len(left)} left)", r)
                check(len(d["findings"]) == len(left) and d["stats"]["baselined"] ==
                      len(fs) - len(left), f"{args}: {len(d['findings'])} reported, "
                                           f"{d['stats']['baselined']} baselined", r)
                # An input error (a missing second target) wins: 2.
                if fail_on == "low" and state == "any":
                    r2, _ = scan(target, str(tmp / "missing.tar"), *args)
                    check(r2.rc == 2, f"{args} + a missing target: exit {r2.rc}, want 2", r2)


def main(argv):
    global SESSION
    keep_dir = os.environ.get("RUMMAGE_IMAGE_FIXTURES")
    root = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="rmg-images-"))
    root.mkdir(parents=True, exist_ok=True)
    SESSION = fx.Session(root, rng, RUMMAGE, keep=bool(keep_dir))
    t_all = time.monotonic()
    try:
        return run_suite(TESTS, argv, "img", quiet=(AssertionError, fx.FixtureError),
                         header=f"; fixtures in {root}")
    finally:
        built = ", ".join(f"{k} {v:.1f} s" for k, v in SESSION.times.items())
        print(f"# fixtures built in {sum(SESSION.times.values()):.1f} s ({built or 'none'}); "
              f"whole run {time.monotonic() - t_all:.1f} s")
        SESSION.close()

if __name__ == "__main__":
    sys.exit(main(sys.argv))
