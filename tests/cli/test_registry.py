#!/usr/bin/env python3
"""test_registry.py: black-box tests of `rummage scan docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`.

Every registry is a real `docker-registry` (the CNCF distribution registry) started here on
127.0.0.1 with a free port, a config of our own and storage in a temp dir, stopped by its PID
(tests/images/registry.py); images are the fixtures of tests/images/fixtures.py (real umoci
images around secrets generated for this run) pushed with `skopeo copy`. Nothing leaves
127.0.0.1: the binary runs with HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE and XDG_RUNTIME_DIR
pointing at the test's own (empty) places and no proxy.

Same harness as test_images.py: TAP output, exit 1 if a test failed, `python3
tests/cli/test_registry.py NAME...` runs some, RUMMAGE is the binary, RUMMAGE_IMAGE_FIXTURES=DIR
keeps the fixtures.

The contract tested: a registry image gives the same findings (rule, path, state, layer,
fingerprint) as the same image in an OCI layout, by tag or digest, with the platform options;
anonymous, basic and bearer-token access with credentials from --creds, --creds-file,
REGISTRY_AUTH_FILE, a Docker config.json and a credential helper; no credential in any output;
a tampered blob is an error naming it (exit 2) while the other layers are still reported; the
registry's own message for a missing tag; 429 and 5xx retried, a bounded number of times;
credentials not sent along a redirect to another host:port; TLS verified unless
--tls-verify=false; --all-tags and --all-repos list the registry (paged, with the same
credentials) before --shard splits the images; a layer in the layer cache is not downloaded
again, and its cached findings and paths give the same report as a full scan.
"""
import base64
import gzip
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import RUMMAGE, check, expect_rc, parse_json, rng, run  # noqa: E402
from image_checks import (ekey, err_text, errors_of, fkey, host_arch, loc,  # noqa: E402
                          same_findings, show)
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py)
import registry as rg  # noqa: E402  (tests/images/registry.py)

# ---------------------------------------------------------------------------- harness

TESTS = []
SESSION = None   # fx.Session, made in main
SHARED = {}      # registries started once, on first use, stopped at the end of the run
STOP = []
HOME = None      # an empty home for the binary: no credentials of the user's are ever read
INSECURE = "--tls-verify=false"


def test(fn):
    TESTS.append(fn)
    return fn


def fixture(name):
    return SESSION.get(name)


def clean_env(**extra):
    env = {"HOME": str(HOME), "DOCKER_CONFIG": "", "REGISTRY_AUTH_FILE": "",
           "XDG_RUNTIME_DIR": "", "http_proxy": "", "https_proxy": "", "HTTP_PROXY": "",
           "HTTPS_PROXY": "", "ALL_PROXY": "", "all_proxy": "", "NO_PROXY": "*",
           "no_proxy": "*"}
    env.update(extra)
    return env


def scan(target, *opts, rc=None, env=None, fmt="json", never=()):
    """rummage scan -f FMT OPTS TARGET; checks the exit code, that no planted secret and none
    of the strings in `never` (passwords) is in stdout or stderr."""
    res = run("scan", "-f", fmt, *opts, target, env=clean_env(**(env or {})), timeout=120)
    if rc is not None:
        expect_rc(res, rc)
    for mark in list(SESSION.secrets) + list(never):
        m = mark.encode()
        check(m not in res.out and m not in res.err,
              f"a secret or password ({mark[:3]}...) is in the output", res)
    return res, (parse_json(res) if fmt == "json" else None)


def same_as(doc, other, res, what):
    got = Counter(fkey(f) for f in doc.get("findings", []))
    want = Counter(fkey(f) for f in other.get("findings", []))
    check(got == want, f"{what}: findings differ\n  only in the registry scan:\n"
                       f"{show(got - want)}\n  only in the OCI layout scan:\n{show(want - got)}",
          res)


def started(thing):
    STOP.append(thing)
    return thing


def anon():
    """The anonymous plain-HTTP registry, with the fixtures "layered" (layered:app) and
    "multiarch" (multi:1, pushed with --all) in it as OCI manifests and an OCI index, and
    converted by skopeo to Docker schema 2 (layered-v2s2:app) and a Docker manifest list
    (multi-v2s2:1)."""
    if "anon" not in SHARED:
        r = started(rg.Registry(Path(SESSION.root) / "_reg-anon"))
        lay = fixture("layered")
        r.push(f"oci:{lay['layout']}:app", "layered:app")
        r.push(f"oci:{lay['layout']}:app", "layered-v2s2:app", "--format", "v2s2")
        ma = fixture("multiarch")
        r.push(f"oci:{ma['layout']}:multi", "multi:1", "--all")
        r.push(f"oci:{ma['layout']}:multi", "multi-v2s2:1", "--all", "--format", "v2s2")
        SHARED["anon"] = r
    return SHARED["anon"]


def manifest_of(reg, repo, ref, content_type=False):
    """(status, Docker-Content-Digest, manifest JSON[, Content-Type]) as the registry serves
    it."""
    st, hdrs, body = reg.get(f"/v2/{repo}/manifests/{ref}", {
        "Accept": "application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.oci.image.index.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.docker.distribution.manifest.list.v2+json"})
    out = (st, hdrs.get("Docker-Content-Digest"), json.loads(body) if st == 200 else None)
    return out + (hdrs.get("Content-Type"),) if content_type else out


def layered_oci_doc():
    if "layered_oci" not in SHARED:
        info = fixture("layered")
        res, doc = scan(f"oci:{info['layout']}:app", rc=1)
        SHARED["layered_oci"] = doc
    return SHARED["layered_oci"]


# ======================================================================= 1. anonymous pulls


@test
def anonymous_by_tag(tmp):
    """The umoci "layered" image (6 layers, whiteouts, opaque dir, hardlink) pushed by skopeo:
    the same findings as its OCI layout, each naming the registry target, the image
    HOST/REPO:TAG and the registry's layer digests."""
    reg = anon()
    info = fixture("layered")
    target = f"docker://{reg.host}/layered:app"
    res, doc = scan(target, INSECURE, rc=1)
    same_findings(doc, info["expect"], res, "registry by tag")
    same_as(doc, layered_oci_doc(), res, "registry vs OCI layout")
    check(doc.get("errors") == [], f"no errors expected: {doc.get('errors')}", res)
    _, _, man = manifest_of(reg, "layered", "app")
    digests = [lay["digest"] for lay in man["layers"]]
    for f in doc["findings"]:
        lay = loc(f).get("layer") or {}
        check(loc(f).get("target") == target, f"target {loc(f).get('target')!r}", res)
        check(loc(f).get("image") == f"{reg.host}/layered:app", f"image {loc(f).get('image')!r}",
              res)
        check(lay.get("digest") == digests[lay.get("index")],
              f"layer digest {lay.get('digest')} is not the registry manifest's", res)
        check(lay.get("diff_id") == info["diff_ids"][lay.get("index")], "diff_id", res)
        check(lay.get("created_by") == info["created_by"][lay.get("index")], "created_by", res)


@test
def anonymous_by_digest(tmp):
    """By digest (REPO@sha256:HEX and REPO:TAG@sha256:HEX): the same findings."""
    reg = anon()
    info = fixture("layered")
    st, digest, _ = manifest_of(reg, "layered", "app")
    check(st == 200 and digest and digest.startswith("sha256:"), f"registry digest: {digest}")
    for target in (f"docker://{reg.host}/layered@{digest}",
                   f"docker://{reg.host}/layered:app@{digest}"):
        res, doc = scan(target, INSECURE, rc=1)
        same_findings(doc, info["expect"], res, target)
        check(all(loc(f).get("image") == f"{reg.host}/layered@{digest}" for f in doc["findings"]),
              f"image names the digest: {[loc(f).get('image') for f in doc['findings']][:1]}", res)
    # a digest the registry does not have
    res, doc = scan(f"docker://{reg.host}/layered@sha256:{'0' * 64}", INSECURE, rc=2)
    check(b"MANIFEST_UNKNOWN" in res.err or b"manifest unknown" in res.err,
          "the registry's error for an unknown digest", res)


@test
def docker_schema2_formats(tmp):
    """The same images as Docker schema 2 manifests and a Docker manifest list (the type from
    Content-Type): the same findings."""
    reg = anon()
    info = fixture("layered")
    _, _, _, ct = manifest_of(reg, "layered-v2s2", "app", content_type=True)
    check(ct == "application/vnd.docker.distribution.manifest.v2+json", f"fixture: {ct}")
    res, doc = scan(f"docker://{reg.host}/layered-v2s2:app", INSECURE, rc=1)
    same_findings(doc, info["expect"], res, "Docker schema 2")
    ma = fixture("multiarch")
    _, _, _, ct = manifest_of(reg, "multi-v2s2", "1", content_type=True)
    check(ct == "application/vnd.docker.distribution.manifest.list.v2+json", f"fixture: {ct}")
    res, doc = scan(f"docker://{reg.host}/multi-v2s2:1", INSECURE, "--platform", "linux/arm/v7",
                    rc=1)
    same_findings(doc, [e for e in ma["expect"] if e["platform"] == "linux/arm/v7"], res,
                  "Docker manifest list, --platform linux/arm/v7")
    res, doc = scan(f"docker://{reg.host}/multi-v2s2:1", INSECURE, "--all-platforms", rc=1)
    same_findings(doc, ma["expect"], res, "Docker manifest list, --all-platforms")


@test
def zstd_layers(tmp):
    """The layered image with zstd layers (skopeo --dest-compress-format zstd, media type
    tar+zstd) pushed as is: the same findings, each zstd blob's digest checked."""
    reg = anon()
    info = fixture("layered")
    zstd = fixture("transports")["zstd"]
    reg.push(f"oci:{zstd}:app", "layered-zstd:app")
    _, _, man = manifest_of(reg, "layered-zstd", "app")
    check(all(x["mediaType"].endswith("+zstd") for x in man["layers"]),
          f"the registry holds zstd layers: {[x['mediaType'] for x in man['layers']]}")
    res, doc = scan(f"docker://{reg.host}/layered-zstd:app", INSECURE, "--no-cache", rc=1)
    same_findings(doc, info["expect"], res, "zstd layers")
    check(doc.get("errors") == [], f"no errors: {doc.get('errors')}", res)
    digests = {loc(f)["layer"]["digest"] for f in doc["findings"]}
    check(digests <= {x["digest"] for x in man["layers"]}, "the zstd blobs' digests", res)


@test
def missing_tag_and_repo(tmp):
    """A tag or a repository the registry does not have: exit 2 with the registry's message."""
    reg = anon()
    for target in (f"docker://{reg.host}/layered:nope", f"docker://{reg.host}/nothere/app:1"):
        res, doc = scan(target, INSECURE, rc=2)
        check(b"MANIFEST_UNKNOWN" in res.err and b"HTTP 404" in res.err,
              f"{target}: stderr should carry the registry's MANIFEST_UNKNOWN (HTTP 404)", res)
        check(not doc["findings"], "nothing scanned", res)
        check(any(x.get("level") == "error" and x.get("target") == target
                  for x in errors_of(doc)), f"an error for {target}: {doc.get('errors')}", res)


@test
def multiplatform(tmp):
    """An OCI index of three platforms (skopeo copy --all): the host's by default, one with
    --platform, all with --all-platforms, an error naming a platform not in the index."""
    reg = anon()
    info = fixture("multiarch")
    target = f"docker://{reg.host}/multi:1"
    plats = {e["platform"] for e in info["expect"]}

    def check_plats(doc, want, res, what):
        same_findings(doc, [e for e in info["expect"] if e["platform"] in want], res, what)
        for f in doc["findings"]:
            e = [x for x in info["expect"] if x["fingerprint"] == f.get("fingerprint")]
            check(e and loc(f).get("platform") == e[0]["platform"],
                  f"{what}: platform {loc(f).get('platform')!r}", res)

    host = f"linux/{host_arch()}"
    if host in plats:
        res, doc = scan(target, INSECURE, rc=1)
        check_plats(doc, {host}, res, f"default (host {host})")
    for plat in ("linux/arm64", "linux/arm/v7"):
        res, doc = scan(target, INSECURE, "--platform", plat, rc=1)
        check_plats(doc, {plat}, res, f"--platform {plat}")
    res, doc = scan(target, INSECURE, "--all-platforms", rc=1)
    check_plats(doc, plats, res, "--all-platforms")
    res, doc = scan(target, INSECURE, "--platform", "linux/s390x", rc=2)
    check(b"linux/s390x" in res.err and b"linux/arm64" in res.err,
          "the error names the platform asked for and those available", res)


# ========================================================================= 2. transport


@test
def https_by_default(tmp):
    """Without --tls-verify=false a plain-HTTP registry is an error that says what to do."""
    reg = anon()
    res, doc = scan(f"docker://{reg.host}/layered:app", rc=2)
    check(b"--tls-verify=false" in res.err and b"https://" in res.err,
          "the error should say it tried https and suggest --tls-verify=false", res)
    check(not doc["findings"], "nothing scanned", res)


@test
def tls_self_signed(tmp):
    """A TLS registry with a self-signed certificate: refused by default (certificate error),
    read with --tls-verify=false (over TLS, not plain HTTP)."""
    cert, key = rg.self_signed(tmp / "tls")
    reg = started(rg.Registry(tmp / "reg", tls=(cert, key)))
    info = fixture("corrupt")
    reg.push(f"oci:{info['good']}:c", "c:1")
    target = f"docker://{reg.host}/c:1"
    res, doc = scan(target, rc=2)
    check(b"certificate" in res.err.lower(), "a certificate error", res)
    check(not doc["findings"], "nothing scanned", res)
    res, doc = scan(target, INSECURE, rc=1)
    same_findings(doc, info["expect"], res, "TLS without verification")
    reg.stop()


@test
def unreachable_registry(tmp):
    port = rg.free_port()
    t0 = time.monotonic()
    res, doc = scan(f"docker://127.0.0.1:{port}/x:1", INSECURE, rc=2)
    check(b"cannot reach the registry" in res.err, "says it cannot reach the registry", res)
    check(time.monotonic() - t0 < 10, "a refused connection is not retried for long", res)


@test
def bad_references(tmp):
    cases = [("docker://app:1.0", b"--default-registry"),
             ("docker://team/app:1.0", b"--default-registry"),
             ("docker://docker.io/library/alpine:3", b"Docker Hub"),
             ("docker://127.0.0.1:5000/App:1", b"lower case"),
             ("docker://127.0.0.1:5000/app:bad tag", b"not a tag"),
             ("docker://127.0.0.1:5000/app@sha256:abc", b"not a digest"),
             ("docker://127.0.0.1:5000", b"--all-repos"),
             ("docker://localhost/", b"names no repository"),
             ("docker://u:pw@127.0.0.1:5000/app:1", b"--creds")]
    for target, want in cases:
        res, doc = scan(target, INSECURE, rc=2)
        check(want in res.err, f"{target}: stderr should say {want!r}", res)


@test
def docker_hub_names(tmp):
    """Docker Hub names as users type them, read from the registry --default-registry (or
    RUMMAGE_DEFAULT_REGISTRY) names (standing for Docker Hub's API host or a mirror): "alpine"
    is library/alpine:latest, "docker.io/team/app:1" is team/app:1; reported as Docker names
    them. Without a default registry: exit 2 saying how to give one."""
    reg = started(rg.Registry(tmp / "reg"))
    lay = fixture("layered")
    reg.push(f"oci:{lay['layout']}:app", "library/alpine:latest")
    reg.push(f"oci:{lay['layout']}:app", "team/app:1")
    cases = [("docker://alpine", {}, ("--default-registry", reg.host), "alpine:latest"),
             ("docker://docker.io/library/alpine", {}, ("--default-registry", reg.host),
              "alpine:latest"),
             ("docker://team/app:1", {"RUMMAGE_DEFAULT_REGISTRY": reg.host}, (), "team/app:1"),
             ("docker://docker.io/team/app:1", {"RUMMAGE_DEFAULT_REGISTRY": reg.host}, (),
              "team/app:1")]
    for target, env, opts, image in cases:
        res, doc = scan(target, INSECURE, *opts, env=env, rc=1)
        same_findings(doc, lay["expect"], res, target)
        names = {loc(f).get("image") for f in doc["findings"]}
        check(names == {image}, f"{target}: reported as {names}, not {image}", res)
    res, _ = scan("docker://alpine", INSECURE, rc=2)
    check(b"--default-registry" in res.err and b"RUMMAGE_DEFAULT_REGISTRY" in res.err,
          "without a default registry: how to give one", res)


# ================================================================ 3. retries and redirects


def forward_after(fail):
    """A proxy hook: answers with fail[path kind] (a list of answers, used up in order) for
    manifests / blobs requests, then forwards."""
    def hook(h):
        kind = "manifests" if "/manifests/" in h.path else "blobs" if "/blobs/" in h.path else None
        if kind and fail.get(kind):
            return fail[kind].pop(0)
        return None
    return hook


@test
def retry_429_and_503(tmp):
    """The manifest request answered 429 (Retry-After: 1) once and the first blob request 503
    once: both retried, the scan succeeds with every finding."""
    reg = anon()
    info = fixture("layered")
    slow = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}).encode()
    proxy = started(rg.Proxy(reg, forward_after({
        "manifests": [(429, {"Retry-After": "1", "Content-Type": "application/json"}, slow)],
        "blobs": [(503, {}, b"busy")]})))
    t0 = time.monotonic()
    res, doc = scan(f"docker://{proxy.host}/layered:app", INSECURE, rc=1)
    same_findings(doc, info["expect"], res, "after 429 and 503")
    check(doc.get("errors") == [], f"no errors: {doc.get('errors')}", res)
    gets = [p for m, p, _ in proxy.log if "/manifests/app" in p]
    check(len(gets) == 2, f"the tag's manifest asked twice (429, then 200): {gets}", res)
    check(time.monotonic() - t0 >= 1.0, "Retry-After: 1 was honoured", res)
    proxy.stop()


@test
def retry_bounded(tmp):
    """A registry that always answers 503: three tries, then exit 2 with the status."""
    reg = anon()
    proxy = started(rg.Proxy(reg, lambda h: (503, {"Retry-After": "0"}, b"down")))
    res, doc = scan(f"docker://{proxy.host}/layered:app", INSECURE, rc=2)
    check(b"HTTP 503" in res.err, "the error names HTTP 503", res)
    tries = [p for m, p, _ in proxy.log if "/manifests/" in p]
    check(len(tries) == 3, f"three tries, got {len(tries)}", res)
    proxy.stop()


@test
def credentials_only_when_asked(tmp):
    """An anonymous registry never gets the credentials given (--creds): they are sent only
    in answer to a 401."""
    reg = anon()
    info = fixture("layered")
    pw = SESSION.password()
    proxy = started(rg.Proxy(reg))
    res, doc = scan(f"docker://{proxy.host}/layered:app", INSECURE, "--creds", f"u:{pw}", rc=1,
                    never=[pw])
    same_findings(doc, info["expect"], res, "anonymous registry, --creds given")
    sent = [p for m, p, hdrs in proxy.log if any(k.lower() == "authorization" for k in hdrs)]
    check(proxy.log and not sent, f"credentials sent unasked: {sent}", res)
    proxy.stop()


@test
def redirect_drops_credentials(tmp):
    """A registry (a proxy requiring basic auth) that redirects every blob to another
    host:port: the blobs are read there, and the Authorization header never goes along."""
    reg = anon()
    info = fixture("layered")
    user, pw = "rdr", SESSION.password()
    blobs = started(rg.BlobServer(reg, "layered"))

    def hook(h):
        if rg.basic_user(h.headers, {user: pw}) != user:
            return (401, {"WWW-Authenticate": 'Basic realm="proxy"',
                          "Content-Type": "application/json"},
                    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
        if "/blobs/" in h.path:
            return (307, {"Location": f"{blobs.url}/blob/{h.path.rsplit('/', 1)[-1]}"}, b"")
        return None
    proxy = started(rg.Proxy(reg, hook))
    res, doc = scan(f"docker://{proxy.host}/layered:app", INSECURE, "--creds", f"{user}:{pw}",
                    rc=1, never=[pw])
    same_findings(doc, info["expect"], res, "blobs behind a redirect")
    check(blobs.log, "the blobs were fetched from the redirect target", res)
    leaked = [p for p, hdrs in blobs.log if any(k.lower() == "authorization" for k in hdrs)]
    check(not leaked, f"Authorization sent along a redirect to another host:port: {leaked}", res)
    authed = [p for m, p, hdrs in proxy.log if "/blobs/" in p and "Authorization" in hdrs]
    check(authed, "the registry itself got the credentials for the blob requests", res)
    proxy.stop()
    blobs.stop()


# ======================================================================= 4. authentication


def basic_registry():
    """A registry with htpasswd basic auth holding the "corrupt" fixture's good image as c:1;
    (registry, user, password)."""
    if "basic" not in SHARED:
        root = Path(SESSION.root) / "_reg-basic"
        root.mkdir(parents=True, exist_ok=True)
        user, pw = "alice", SESSION.password()
        ht = rg.htpasswd_file(root / "htpasswd", {user: pw})
        reg = started(rg.Registry(root, auth=("htpasswd", ht)))
        reg.push(f"oci:{fixture('corrupt')['good']}:c", "team/c:1", creds=(user, pw))
        SHARED["basic"] = (reg, user, pw)
    return SHARED["basic"]


def auth_json(path, host, user, pw, key=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{pw}".encode()).decode()
    path.write_text(json.dumps({"auths": {key or host: {"auth": token}}}))
    return path


@test
def basic_auth(tmp):
    """htpasswd basic auth: no credentials -> exit 2 saying so; --creds, --creds-file
    (USER:PASS and an auth.json), REGISTRY_AUTH_FILE (an http:// key), and a namespaced
    auth.json key -> the findings; a wrong password -> exit 2, the message names where the
    credentials came from, and no password is printed (not with -v either)."""
    reg, user, pw = basic_registry()
    info = fixture("corrupt")
    target = f"docker://{reg.host}/team/c:1"
    wrong = SESSION.password()
    never = [pw, wrong, base64.b64encode(f"{user}:{pw}".encode()).decode()]
    res, doc = scan(target, INSECURE, rc=2, never=never)
    check(b"wants credentials" in res.err and b"--creds" in res.err,
          "without credentials: says they are needed and how to give them", res)
    cf = tmp / "creds.txt"
    cf.write_text(f"{user}:{pw}\n")
    aj = auth_json(tmp / "auth.json", reg.host, user, pw)
    aj_http = auth_json(tmp / "auth-http.json", reg.host, user, pw, key=f"http://{reg.host}/v2/")
    aj_ns = auth_json(tmp / "auth-ns.json", reg.host, user, pw, key=f"{reg.host}/team")
    for what, opts, env in (
            ("--creds", ["--creds", f"{user}:{pw}"], None),
            ("--creds-file USER:PASS", ["--creds-file", str(cf)], None),
            ("--creds-file auth.json", ["--creds-file", str(aj)], None),
            ("REGISTRY_AUTH_FILE", [], {"REGISTRY_AUTH_FILE": str(aj_http)}),
            ("namespaced auth.json key", [], {"REGISTRY_AUTH_FILE": str(aj_ns)}),
            ("XDG_RUNTIME_DIR", [], {"XDG_RUNTIME_DIR": str(tmp / "xdg")}),
            ("~/.config/containers/auth.json", [], {"HOME": str(tmp / "home2")})):
        if what == "XDG_RUNTIME_DIR":
            auth_json(tmp / "xdg" / "containers" / "auth.json", reg.host, user, pw)
        if what.startswith("~"):
            auth_json(tmp / "home2" / ".config" / "containers" / "auth.json", reg.host, user, pw)
        res, doc = scan(target, INSECURE, *opts, rc=1, env=env, never=never)
        same_findings(doc, info["expect"], res, what)
    # wrong password, from --creds and from an auth file, also verbose
    bad = auth_json(tmp / "bad.json", reg.host, user, wrong)
    for opts, env, source in ((["--creds", f"{user}:{wrong}"], None, b"--creds"),
                              (["-v"], {"REGISTRY_AUTH_FILE": str(bad)}, str(bad).encode())):
        res, doc = scan(target, INSECURE, *opts, rc=2, env=env, never=never)
        check(b"refused the credentials" in res.err and source in res.err,
              f"a wrong password: says the credentials from {source!r} were refused", res)
        check(not doc["findings"], "nothing scanned", res)


@test
def docker_config_and_helper(tmp):
    """~/.docker/config.json (via DOCKER_CONFIG): an "auths" entry; then credHelpers naming a
    docker-credential-* program on PATH, which gets the registry host on stdin."""
    reg, user, pw = basic_registry()
    info = fixture("corrupt")
    target = f"docker://{reg.host}/team/c:1"
    dc = tmp / "docker"
    auth_json(dc / "config.json", reg.host, user, pw, key=f"https://{reg.host}")
    res, doc = scan(target, INSECURE, rc=1, env={"DOCKER_CONFIG": str(dc)}, never=[pw])
    same_findings(doc, info["expect"], res, "config.json auths")
    # a credential helper
    bindir = tmp / "bin"
    bindir.mkdir()
    got = tmp / "helper-stdin"
    helper = bindir / "docker-credential-rmgtest"
    answer = json.dumps({"ServerURL": reg.host, "Username": user, "Secret": pw})
    helper.write_text(f"#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat > '{got}'\n"
                      f"printf '%s' '{answer}'\n")
    helper.chmod(0o755)
    (dc / "config.json").write_text(json.dumps({"auths": {}, "credHelpers": {reg.host: "rmgtest"}}))
    env = {"DOCKER_CONFIG": str(dc), "PATH": f"{bindir}:{os.environ.get('PATH', '')}"}
    res, doc = scan(target, INSECURE, rc=1, env=env, never=[pw])
    same_findings(doc, info["expect"], res, "credential helper")
    check(got.read_text() == reg.host, f"the helper got the host on stdin: {got.read_text()!r}",
          res)
    # credsStore naming a helper that is not installed: a warning, then "wants credentials"
    (dc / "config.json").write_text(json.dumps({"credsStore": "rmgnotthere"}))
    res, doc = scan(target, INSECURE, rc=2, env=env, never=[pw])
    check(b"docker-credential-rmgnotthere" in res.err and b"wants credentials" in res.err,
          "a missing helper is named, and credentials are still wanted", res)


@test
def bearer_token_flow(tmp):
    """The registry's auth.token with our own token server: credentials go to the token
    server (basic), the token to the registry; the scope asked is repository:REPO:pull. No
    credentials or a wrong password: exit 2 naming the token server's refusal."""
    user, pw = "bob", SESSION.password()
    wrong = SESSION.password()
    ts = started(rg.TokenServer(tmp, {user: pw}))
    reg = started(rg.Registry(tmp / "reg", auth=("token", ts)))
    info = fixture("corrupt")
    reg.push(f"oci:{info['good']}:c", "secure/c:1", creds=(user, pw))
    target = f"docker://{reg.host}/secure/c:1"
    ts.requests.clear()
    res, doc = scan(target, INSECURE, "--creds", f"{user}:{pw}", rc=1, never=[pw, wrong])
    same_findings(doc, info["expect"], res, "bearer token")
    check(doc.get("errors") == [], f"no errors: {doc.get('errors')}", res)
    scopes = {s for u, q in ts.requests for s in q.get("scope", [])}
    check(any(u == user for u, _ in ts.requests), f"the token server saw the user: {ts.requests}",
          res)
    check(scopes == {"repository:secure/c:pull"}, f"scope asked: {scopes}", res)
    res, doc = scan(target, INSECURE, "--creds", f"{user}:{wrong}", rc=2, never=[pw, wrong])
    check(b"token server" in res.err and b"refused the credentials from --creds" in res.err,
          "a wrong password: the token server's refusal", res)
    res, doc = scan(target, INSECURE, rc=2, never=[pw, wrong])
    check(b"wants credentials" in res.err, "no credentials: says they are needed", res)
    # Docker Hub's pattern: anonymous tokens for public images
    ts.anonymous = True
    ts.requests.clear()
    res, doc = scan(target, INSECURE, rc=1)
    same_findings(doc, info["expect"], res, "anonymous bearer token")
    check(ts.requests and all(u is None for u, _ in ts.requests),
          f"the token requests carried no credentials: {ts.requests}", res)
    reg.stop()
    ts.stop()


# ======================================================================= 5. tampered blobs


def tamper_registry():
    """A registry of its own (blobs are shared between repositories, and these get damaged):
    "corrupt"'s good image as c:1 (layer 1's blob gets a changed gzip header), "nested" as
    n:1 (its config gets one byte changed)."""
    if "tamper" not in SHARED:
        reg = started(rg.Registry(Path(SESSION.root) / "_reg-tamper"))
        reg.push(f"oci:{fixture('corrupt')['good']}:c", "c:1")
        reg.push(f"oci:{fixture('nested')['layout']}:nested", "n:1")
        SHARED["tamper"] = reg
    return SHARED["tamper"]


def tampered_c1():
    """(registry, digest): c:1 of tamper_registry() with layer 1's blob changed in the
    registry's storage (once)."""
    reg = tamper_registry()
    if "tampered_c1" not in SHARED:
        _, _, man = manifest_of(reg, "c", "1")
        digest = man["layers"][1]["digest"]
        blob = reg.blob_file(digest)
        data = bytearray(blob.read_bytes())
        check(data[:2] == b"\x1f\x8b", "layer 1 is gzip")
        data[4:8] = (0x5EADBEEF ^ int.from_bytes(data[4:8], "little")).to_bytes(4, "little")
        blob.write_bytes(bytes(data))
        check(gzip.decompress(bytes(data)), "still a valid gzip")
        SHARED["tampered_c1"] = digest
    return reg, SHARED["tampered_c1"]


@test
def tampered_layer_blob(tmp):
    """Layer 1's blob changed in the registry's storage (the gzip header's MTIME: same size,
    same content once decompressed, another digest): exit 2, an error naming layer 1 and its
    digest, "digest mismatch"; layers 0 and 2 still reported. (--no-cache: other tests scanned
    this image before, and a layer in the layer cache is not downloaded at all.)"""
    reg, digest = tampered_c1()
    info = fixture("corrupt")
    res, doc = scan(f"docker://{reg.host}/c:1", INSECURE, "--no-cache", rc=2)
    hexd = digest.split(":")[1]
    errs = [x for x in errors_of(doc, "error") if hexd in err_text(x)]
    check(errs and "digest mismatch" in err_text(errs[0]) and "layer 1" in err_text(errs[0]),
          f"an error naming layer 1 ({hexd[:12]}...) and the mismatch: {doc.get('errors')}", res)
    check(b"digest mismatch" in res.err, "on stderr too", res)
    got = Counter(fkey(f) for f in doc["findings"])
    for e in info["expect"]:
        if e["layer"] in (0, 2):
            check(got[ekey(e)] == 1, f"layer {e['layer']}'s finding still reported", res)


@test
def tampered_config_blob(tmp):
    """The image config changed by one byte in storage: its digest does not match, so it is
    not used: exit 2 with "digest mismatch" naming the config blob."""
    reg = tamper_registry()
    _, _, man = manifest_of(reg, "n", "1")
    digest = man["config"]["digest"]
    blob = reg.blob_file(digest)
    text = blob.read_bytes()
    i = text.index(b"COPY")
    blob.write_bytes(text[:i] + b"copy" + text[i + 4:])
    res, doc = scan(f"docker://{reg.host}/n:1", INSECURE, rc=2)
    hexd = digest.split(":")[1]
    errs = [x for x in errors_of(doc, "error") if hexd in err_text(x)]
    check(errs and "digest mismatch" in err_text(errs[0]),
          f"an error naming the config blob and the mismatch: {doc.get('errors')}", res)
    check(not any(f.get("state") == "config" for f in doc["findings"]),
          "nothing from the tampered config is reported", res)


@test
def layers_in_parallel(tmp):
    """With more than one job, a registry image's layers are downloaded and walked at once, each
    transfer with a curl handle of its own (the same authorization: a bearer token too). The
    report is the same with --jobs 1 and 4: the anonymous 6-layer image, an image behind a
    token server, and the image with a tampered layer (its mismatch error, the other layers'
    findings); and a cache filled with 4 jobs serves a scan with 1 (nothing downloaded)."""
    user, pw = "carol", SESSION.password()
    ts = started(rg.TokenServer(tmp, {user: pw}))
    sec = started(rg.Registry(tmp / "reg", auth=("token", ts)))
    sec.push(f"oci:{fixture('corrupt')['good']}:c", "secure/c:1", creds=(user, pw))
    cases = [(f"docker://{anon().host}/layered:app", (), 1),
             (f"docker://{sec.host}/secure/c:1", ("--creds", f"{user}:{pw}"), 1),
             (f"docker://{tampered_c1()[0].host}/c:1", (), 2)]
    for target, opts, rc in cases:
        docs = []
        for jobs in ("1", "4"):
            res, doc = scan(target, INSECURE, "--no-cache", "-j", jobs, *opts, rc=rc, never=[pw])
            doc.get("stats", {}).pop("seconds", None)
            docs.append((res.rc, doc))
        check(docs[0] == docs[1], f"{target}: -j1 and -j4 reports differ", res)
        check(docs[0][1]["findings"], f"{target}: findings", res)
        if rc == 2:
            check("digest mismatch" in json.dumps(docs[1][1].get("errors")),
                  f"{target}: the tampered layer's error: {docs[1][1].get('errors')}", res)
    target = f"docker://{anon().host}/layered:app"
    cache = tmp / "cache"
    res, cold = scan(target, INSECURE, "--cache-dir", cache, "-j", "4", rc=1)
    res, warm = scan(target, INSECURE, "--cache-dir", cache, "-j", "1", rc=1)
    st = warm.get("stats", {})
    check((st.get("layers"), st.get("layers_cached")) == (6, 6),
          f"filled by -j4, read by -j1: {st}", res)
    check(warm["findings"] == cold["findings"], "the same findings from the cache", res)
    sec.stop()
    ts.stop()


# ======================================================================= 6. listings


def images_of(doc):
    """{image name: Counter of finding keys} of a scan."""
    out = {}
    for f in doc.get("findings", []):
        out.setdefault(loc(f).get("image"), Counter())[fkey(f)] += 1
    return out


def each_image_complete(doc, names, res, what):
    """The findings name exactly these images, each with the "corrupt" fixture's findings."""
    want = Counter(ekey(e) for e in fixture("corrupt")["expect"])
    got = images_of(doc)
    check(set(got) == set(names), f"{what}: images scanned {sorted(got)}, not {sorted(names)}",
          res)
    for name, keys in got.items():
        check(keys == want, f"{what}: {name}: findings differ\n  missing:\n{show(want - keys)}"
                            f"\n  unexpected:\n{show(keys - want)}", res)


def push_listing(reg, creds=None):
    """The "corrupt" fixture's good image as app:1, app:2, app:3 and other:1."""
    good = fixture("corrupt")["good"]
    for dest in ("app:1", "app:2", "app:3", "other:1"):
        reg.push(f"oci:{good}:c", dest, creds=creds)


@test
def all_tags_and_all_repos(tmp):
    """Basic auth: --all-tags docker://HOST/app scans app:1..3, --all-repos docker://HOST all 4
    images; --shard 0/2 and 1/2 split the expanded list disjointly; a missing repository, a tag
    with --all-tags, a host without --all-repos, no credentials: exit 2 naming the target, and
    no password in any output."""
    user, pw = "carol", SESSION.password()
    ht = rg.htpasswd_file(tmp / "htpasswd", {user: pw})
    reg = started(rg.Registry(tmp / "reg", auth=("htpasswd", ht)))
    push_listing(reg, creds=(user, pw))
    h = reg.host
    creds = ["--creds", f"{user}:{pw}"]
    app = [f"{h}/app:{t}" for t in (1, 2, 3)]
    res, doc = scan(f"docker://{h}/app", INSECURE, "--all-tags", *creds, rc=1, never=[pw])
    each_image_complete(doc, app, res, "--all-tags")
    check(doc.get("errors") == [], f"no errors: {doc.get('errors')}", res)
    check({loc(f).get("target") for f in doc["findings"]} == {f"docker://{n}" for n in app},
          "the targets are docker://HOST/REPO:TAG", res)
    res, doc = scan(f"docker://{h}", INSECURE, "--all-repos", *creds, rc=1, never=[pw])
    each_image_complete(doc, app + [f"{h}/other:1"], res, "--all-repos")
    shards = []
    for i in (0, 1):
        res, doc = scan(f"docker://{h}/", INSECURE, "--all-repos", "--shard", f"{i}/2", *creds,
                        never=[pw])
        check(res.rc in (0, 1), f"--shard {i}/2: exit {res.rc}", res)
        shards.append(set(images_of(doc)))
    check(not shards[0] & shards[1] and shards[0] | shards[1] == set(app + [f"{h}/other:1"]) and
          len(shards[0]) == len(shards[1]) == 2,
          f"--shard 0/2 and 1/2 split the 4 images: {shards}")
    # errors: exit 2 at the start, the target named, nothing scanned
    for target, opts, says in (
            (f"docker://{h}/missing", ["--all-tags"] + creds, b"NAME_UNKNOWN"),
            (f"docker://{h}/app:1", ["--all-tags"] + creds, b"without a tag"),
            (f"docker://{h}", creds, b"--all-repos"),
            (f"docker://{h}/app", ["--all-tags"], b"wants credentials"),
            (f"docker://{h}", ["--all-repos", "--creds", f"{user}:x{pw}"],
             b"refused the credentials")):
        res = run("scan", "-f", "json", INSECURE, *opts, target, env=clean_env(), timeout=120)
        expect_rc(res, 2)
        check(target.encode() in res.err and says in res.err,
              f"{target} {opts[:1]}: stderr names the target and says {says!r}", res)
        check(pw.encode() not in res.out + res.err, "no password in the output", res)
        if "--all-tags" in opts or "--all-repos" in opts:
            check(not res.out.strip(), "no report: a usage-time error", res)
    reg.stop()


@test
def listing_pages_and_bearer_scope(tmp):
    """Link: <...>; rel="next" pages are followed (a proxy serves the tag list and the catalog
    one name a page); a next page on another host is refused. Bearer tokens: the catalog is
    asked for with the scope registry:catalog:*, each tag list with repository:REPO:pull."""
    reg = started(rg.Registry(tmp / "reg"))
    push_listing(reg)
    names = {"/v2/_catalog": ["app", "other"], "/v2/app/tags/list": ["1", "2", "3"],
             "/v2/other/tags/list": ["1"]}
    elsewhere = {"on": False}

    def hook(hd):
        path, _, query = hd.path.partition("?")
        if path not in names:
            return None
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        items = names[path]
        start = items.index(q["last"]) + 1 if "last" in q else 0
        key = "repositories" if path == "/v2/_catalog" else "tags"
        body = {key: items[start:start + 1]}
        if key == "tags":
            body["name"] = path.split("/")[2]
        hdrs = {"Content-Type": "application/json"}
        if start + 1 < len(items):
            base = "http://127.0.0.2:1" if elsewhere["on"] else ""
            hdrs["Link"] = f'<{base}{path}?last={items[start]}&n=1>; rel="next"'
        return 200, hdrs, json.dumps(body).encode()

    px = started(rg.Proxy(reg, hook))
    res, doc = scan(f"docker://{px.host}", INSECURE, "--all-repos", rc=1)
    each_image_complete(doc, [f"{px.host}/{n}" for n in ("app:1", "app:2", "app:3", "other:1")],
                        res, "paged --all-repos")
    lists = [p for m, p, _ in px.log if "/tags/list" in p or "_catalog" in p]
    check(len(lists) == 6 and any("last=2" in p for p in lists),
          f"6 pages fetched (2 of the catalog, 3 + 1 of tags): {lists}", res)
    elsewhere["on"] = True
    res = run("scan", "-f", "json", INSECURE, "--all-tags", f"docker://{px.host}/app",
              env=clean_env(), timeout=120)
    expect_rc(res, 2)
    check(b"another host" in res.err, "a next page elsewhere is not followed", res)
    # bearer: the catalog's scope
    user, pw = "dave", SESSION.password()
    ts = started(rg.TokenServer(tmp / "ts", {user: pw}))
    treg = started(rg.Registry(tmp / "treg", auth=("token", ts)))
    push_listing(treg, creds=(user, pw))
    ts.requests.clear()
    res, doc = scan(f"docker://{treg.host}", INSECURE, "--all-repos", "--creds", f"{user}:{pw}",
                    rc=1, never=[pw])
    each_image_complete(doc, [f"{treg.host}/{n}" for n in ("app:1", "app:2", "app:3", "other:1")],
                        res, "bearer --all-repos")
    scopes = {sc for _, q in ts.requests for sc in q.get("scope", [])}
    check({"registry:catalog:*", "repository:app:pull", "repository:other:pull"} <= scopes,
          f"scopes asked: {scopes}", res)
    for thing in (treg, ts, px, reg):
        thing.stop()


# ============================================================================== main


# ======================================================================= 6. the layer cache


def blob_gets(proxy, since, digests):
    """The layer digests of `digests` fetched through proxy since log entry `since`."""
    return [d for m, path, _ in proxy.log[since:] if m == "GET" and "/blobs/" in path
            for d in digests if path.endswith(d)]


@test
def layer_cache_shared_layers(tmp):
    """Image B is the "layered" image A plus one layer (a whiteout deleting A's present AWS key,
    and a new key). With one --cache-dir: scanning A downloads its 6 layers; then B downloads
    and scans only its new layer (6 of 7 from the cache) and its findings are those of a
    --no-cache scan of B (the cached path sets still give the states: the key deleted by B's
    layer); A again downloads nothing. The cache holds no planted secret, files 0600."""
    info = fixture("layered")
    plus = tmp / "plus"
    shutil.copytree(info["layout"], plus)
    new_key = SESSION.aws_id()
    SESSION.secrets.add(new_key)
    layer = tmp / "layer.tar"
    with tarfile.open(layer, "w") as t:
        for name, data in (("app/present/.wh.aws.txt", b""),
                           ("app/new.txt", f"aws_access_key_id = {new_key}\n".encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    fx.sh("umoci", "raw", "add-layer", "--history.created_by", "RUN rm present/aws.txt",
          "--image", f"{plus}:app", str(layer))
    reg = started(rg.Registry(tmp / "reg"))
    reg.push(f"oci:{info['layout']}:app", "a:1")
    reg.push(f"oci:{plus}:app", "b:1")
    proxy = started(rg.Proxy(reg))
    _, _, man_a = manifest_of(reg, "a", "1")
    _, _, man_b = manifest_of(reg, "b", "1")
    da = [x["digest"] for x in man_a["layers"]]
    db = [x["digest"] for x in man_b["layers"]]
    check(len(da) == 6 and db[:6] == da and len(db) == 7, "B is A plus one layer, same blobs")
    cache = tmp / "cache"
    opts = (INSECURE, "--cache-dir", str(cache))

    def stats(doc):
        st = doc.get("stats", {})
        return st.get("layers"), st.get("layers_cached")

    n = len(proxy.log)
    res, a1 = scan(f"docker://{proxy.host}/a:1", *opts, rc=1)
    same_findings(a1, info["expect"], res, "A, cold cache")
    check(stats(a1) == (6, 0), f"A: 6 layers read, none cached: {stats(a1)}", res)
    check(sorted(blob_gets(proxy, n, da)) == sorted(da), "A: each layer downloaded once", res)

    n = len(proxy.log)
    res, b1 = scan(f"docker://{proxy.host}/b:1", *opts, rc=1)
    check(stats(b1) == (7, 6), f"B: 7 layers, 6 from the cache: {stats(b1)}", res)
    check(blob_gets(proxy, n, db) == [db[6]], "B: only the new layer downloaded: "
          f"{blob_gets(proxy, n, db)}", res)
    res, _ = scan(f"docker://{proxy.host}/b:1", *opts, rc=1, fmt="text")
    check(b"7 layers from the cache" in res.out, "the text summary says how many layers came "
          "from the cache", res)
    res, b0 = scan(f"docker://{proxy.host}/b:1", INSECURE, "--no-cache", rc=1)
    check(b0["findings"] == b1["findings"], "B from the cache == B scanned in full", res)
    states = {(loc(f)["path"], f["state"]) for f in b1["findings"]}
    check(("/app/present/aws.txt", "deleted") in states and ("/app/new.txt", "present") in states,
          f"states of B: the key deleted by the new layer, the new key present: {states}", res)

    n = len(proxy.log)
    res, a2 = scan(f"docker://{proxy.host}/a:1", *opts, rc=1)
    check(stats(a2) == (6, 6) and blob_gets(proxy, n, da) == [], "A again: nothing downloaded",
          res)
    check(a2["findings"] == a1["findings"], "A again: the same findings", res)

    files = [p for p in cache.rglob("*") if p.is_file()]
    check(len(files) == 7, f"one entry per layer: {len(files)}")
    for p in files:
        check(p.stat().st_mode & 0o777 == 0o600, f"{p.name} is mode 0600")
        data = p.read_bytes()
        for mark in SESSION.secrets:
            for m in SESSION.secret_marks(mark):
                check(m.encode() not in data, f"a planted secret ({m[:4]}...) is in the cache")
    proxy.stop()


def main(argv):
    global SESSION, HOME
    keep_dir = os.environ.get("RUMMAGE_IMAGE_FIXTURES")
    root = Path(keep_dir) if keep_dir else Path(tempfile.mkdtemp(prefix="rmg-registry-"))
    root.mkdir(parents=True, exist_ok=True)
    SESSION = fx.Session(root, rng, RUMMAGE, keep=bool(keep_dir))
    HOME = Path(tempfile.mkdtemp(prefix="rmg-registry-home-"))
    t_all = time.monotonic()
    try:
        return run_suite(TESTS, argv, "reg", quiet=(AssertionError, fx.FixtureError),
                         header=f"; fixtures in {root}")
    finally:
        for thing in reversed(STOP):
            try:
                thing.stop()
            except Exception:  # noqa: BLE001: stopping is best effort (already stopped)
                pass
        built = ", ".join(f"{k} {v:.1f} s" for k, v in SESSION.times.items())
        print(f"# fixtures built in {sum(SESSION.times.values()):.1f} s ({built or 'none'}); "
              f"whole run {time.monotonic() - t_all:.1f} s")
        SESSION.close()
        shutil.rmtree(HOME, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
