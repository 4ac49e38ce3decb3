#!/usr/bin/env python3
"""fixtures.py: container images built at test time by real tools, for tests/cli/test_images.py.

Nothing binary lives in the repository: every image below is made fresh by umoci, skopeo,
buildah, dockerd + the docker CLI, GNU tar, gzip and Python's zipfile, around secrets generated
for this run (GitHub tokens with a valid CRC32 checksum, AWS key ids, passwords, npm tokens, a
fresh `openssl genrsa` key). Each builder documents what it plants where. A builder whose tool
is missing raises FixtureError: the tests that need it fail (the Makefile installs the tools).

Before an image is built, each planted file is scanned as a plain file by the rummage binary
under test ("calibration"): that proves the secret shape is found at all and gives the rule,
fingerprint, line and column a finding inside the image must repeat. So an expectation is
"what rummage finds in this file, now found at this image path, layer and state".

Usage as a program (to look at the fixtures): fixtures.py OUT_DIR [NAME...]
Environment: RUMMAGE (the binary), RUMMAGE_IMAGE_FIXTURES=DIR keeps the fixtures in DIR and
reuses them on the next run (their secrets are kept in DIR/NAME/info.json; test use only).
"""
import contextlib
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "samples"))
from generate import checksummed  # noqa: E402  (samples/generate.py)

ALNUM = string.ascii_letters + string.digits
REF_NAME = "org.opencontainers.image.ref.name"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
BUSYBOX = "/usr/bin/busybox"

# Debian packages the fixtures use (the Makefile installs them).
PACKAGES = ["umoci", "skopeo", "buildah", "busybox-static", "docker.io", "zstd", "gzip", "tar",
            "openssl", "python3"]


class FixtureError(Exception):
    """A fixture could not be built (missing tool, tool failure, secret shape not found)."""


# ------------------------------------------------------------------------------ helpers


def need(tool):
    """The path of a tool (dockerd lives in /usr/sbin, not always on a user's PATH)."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/local/sbin:/usr/sbin:/sbin") or (
        tool if os.path.isabs(tool) and os.path.exists(tool) else None)
    if not path:
        raise FixtureError(f"fixture tool '{tool}' is not installed (Debian: apt-get install "
                           f"{' '.join(PACKAGES)}; `make deps` does it)")
    return path


def sh(*cmd, cwd=None, env=None, input=None, timeout=120):
    cmd = [str(c) for c in cmd]
    cmd[0] = need(cmd[0])
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        p = subprocess.run(cmd, cwd=cwd, env=e, input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        raise FixtureError(f"timed out after {timeout}s: {' '.join(cmd)}") from ex
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace")[-2000:]
        raise FixtureError(f"fixture command failed (exit {p.returncode}): {' '.join(cmd)}\n{err}")
    return p.stdout


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def write(path, data, mode=0o644):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
    return path


def gnu_tar(stage, out, *members, gz=False):
    """A layer or archive made by GNU tar from a staging dir: POSIX (PAX) format, as Go's
    archive/tar and buildkit write layers, root-owned, sorted, hardlinks kept as hardlinks."""
    args = ["tar", "--format=posix", "--numeric-owner", "--owner=0", "--group=0", "--sort=name",
            "-C", stage]
    args += ["-czf" if gz else "-cf", out, *members]
    sh(*args)
    return Path(out)


# ------------------------------------------------------------------- OCI layout access


def read_json(path):
    with open(path, "rb") as f:
        return json.load(f)


def blob_path(layout, digest):
    algo, hexd = digest.split(":", 1)
    return Path(layout) / "blobs" / algo / hexd


def read_blob(layout, digest):
    return blob_path(layout, digest).read_bytes()


def write_blob(layout, data):
    """Stores data as a blob; returns its digest."""
    d = "sha256:" + sha256_hex(data)
    p = blob_path(layout, d)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return d


def index_entry(layout, ref):
    for m in read_json(Path(layout) / "index.json")["manifests"]:
        if m.get("annotations", {}).get(REF_NAME) == ref:
            return m
    raise FixtureError(f"{layout}: no image named {ref!r} in index.json")


def image_parts(layout, ref):
    """(index entry, manifest, config) of the image named ref in an OCI layout."""
    ent = index_entry(layout, ref)
    man = json.loads(read_blob(layout, ent["digest"]))
    cfg = json.loads(read_blob(layout, man["config"]["digest"]))
    return ent, man, cfg


def replace_manifest(layout, ref, man):
    """Writes manifest man as a blob and points index.json's entry ref at it."""
    data = json.dumps(man, separators=(",", ":")).encode()
    digest = write_blob(layout, data)
    idx_path = Path(layout) / "index.json"
    idx = read_json(idx_path)
    for m in idx["manifests"]:
        if m.get("annotations", {}).get(REF_NAME) == ref:
            m["digest"], m["size"] = digest, len(data)
    idx_path.write_text(json.dumps(idx, separators=(",", ":")))
    return digest


def layer_history(cfg):
    """created_by of each layer: the config history without empty_layer entries."""
    return [h.get("created_by", "") for h in cfg.get("history", []) if not h.get("empty_layer")]


# ---------------------------------------------------------------------------- session


class Umoci:
    """One umoci image being built: edit self.rootfs, then commit() writes a layer."""

    def __init__(self, layout, tag, bundle):
        self.layout, self.tag, self.bundle = Path(layout), tag, Path(bundle)
        if not (self.layout / "index.json").exists():
            sh("umoci", "init", "--layout", self.layout)
        sh("umoci", "new", "--image", f"{self.layout}:{tag}")
        rootless = [] if os.geteuid() == 0 else ["--rootless"]
        sh("umoci", "unpack", *rootless, "--image", f"{self.layout}:{tag}", self.bundle)
        self.rootfs = self.bundle / "rootfs"
        self.created_by = []

    def put(self, path, data, mode=0o644):
        return write(self.rootfs / path.lstrip("/"), data, mode)

    def commit(self, created_by):
        sh("umoci", "repack", "--refresh-bundle", "--history.created_by", created_by,
           "--image", f"{self.layout}:{self.tag}", self.bundle)
        self.created_by.append(created_by)

    def raw_layer(self, tar_path, created_by):
        """Appends a hand-made (uncompressed) layer tar verbatim, e.g. one with an opaque
        marker, which `umoci repack` never writes. Nothing is repacked after this."""
        sh("umoci", "raw", "add-layer", "--history.created_by", created_by,
           "--image", f"{self.layout}:{self.tag}", tar_path)
        self.created_by.append(created_by)


class Session:
    """Builds each fixture once, on first use, under root; remembers failures too."""

    def __init__(self, root, rng, rummage, keep=False):
        self.root = Path(root)
        self.rng = rng
        self.rummage = rummage
        self.keep = keep
        self._built = {}
        self._failed = {}
        self.times = {}  # each fixture's own build time (not counting those it builds first)
        self._stack = []  # per build in progress: seconds spent building its dependencies
        self._ncal = 0
        self.secrets = set()  # every raw secret planted anywhere: never to be printed

    # secret makers -----------------------------------------------------------------
    def rand(self, alphabet, n):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def github(self):
        return checksummed(self.rng, "ghp_")

    def npm(self):
        return checksummed(self.rng, "npm_")

    def aws_id(self):
        return "AKIA" + self.rand(string.ascii_uppercase + "234567", 16)

    def password(self):
        """18 alphanumerics with at least one digit (the generic password rules want one)."""
        pw = list(self.rand(ALNUM, 17))
        pw.insert(self.rng.randrange(18), self.rng.choice(string.digits))
        return "".join(pw)

    def pem(self):
        p = subprocess.run([need("openssl"), "genrsa", "1024"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        key = p.stdout.decode().strip()
        if p.returncode != 0 or "PRIVATE KEY-----" not in key:
            raise FixtureError("openssl genrsa gave no PEM key")
        return key + "\n"

    def secret_marks(self, value):
        """The strings that must never appear in output for a planted secret (for a PEM
        key its base64 body lines; the armour line may be shown)."""
        if "-----BEGIN" in value:
            return [ln for ln in value.splitlines() if ln and not ln.startswith("-----")]
        return [value]

    # building ------------------------------------------------------------------------
    def get(self, name):
        if name in self._built:
            return self._built[name]
        if name in self._failed:
            raise FixtureError(f"fixture '{name}' failed to build earlier: {self._failed[name]}")
        builder = BUILDERS[name]
        d = self.root / name
        info_path = d / "info.json"
        t0 = time.monotonic()
        self._stack.append(0.0)
        try:
            if self.keep and info_path.exists():
                info = read_json(info_path)
            else:
                if d.exists():
                    shutil.rmtree(d)
                d.mkdir(parents=True)
                info = builder(self, d)
                info_path.write_text(json.dumps(info, indent=1))
        except Exception as ex:  # noqa: BLE001: remembered, re-raised for each test using it
            msg = str(ex) if isinstance(ex, FixtureError) else f"{type(ex).__name__}: {ex}"
            self._failed[name] = msg
            raise FixtureError(f"fixture '{name}' failed to build: {msg}") from ex
        finally:
            spent = time.monotonic() - t0
            inner = self._stack.pop()
            if self._stack:
                self._stack[-1] += spent
        self.times[name] = spent - inner  # this fixture's own build time
        for v in info.get("secrets", {}).values():
            self.secrets.update(self.secret_marks(v))
        self._built[name] = info
        return info

    def close(self):
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # calibration -----------------------------------------------------------------------
    def calibrate(self, files):
        """files: {key: (basename, text)}. Scans each as a plain file with the binary under
        test; returns {key: [{rule, fingerprint, line, column}, ...]} in file order. Raises if
        a file gives no finding: the secret shape would prove nothing inside an image."""
        self._ncal += 1
        d = self.root / "_calibrate" / f"{os.getpid()}-{self._ncal}"
        for i, (key, (base, text)) in enumerate(files.items()):
            write(d / f"{i:03d}" / base, text)
        p = subprocess.run([self.rummage, "scan", "--no-config", "-f", "json", str(d)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        try:
            doc = json.loads(p.stdout)
        except ValueError as ex:
            raise FixtureError(f"calibration scan of {d} gave no JSON (exit {p.returncode}): "
                               f"{p.stderr.decode(errors='replace')[:500]}") from ex
        out = {}
        for i, (key, (base, text)) in enumerate(files.items()):
            rel = f"{i:03d}/{base}"
            found = sorted(({"rule": f["rule"], "fingerprint": f["fingerprint"],
                             "line": f["location"]["line"], "column": f["location"]["column"]}
                            for f in doc["findings"] if f["location"]["path"] == rel),
                           key=lambda x: (x["line"], x["column"], x["rule"]))
            if not found:
                raise FixtureError(f"calibration: the current binary finds nothing in a plain "
                                   f"file '{base}' holding {key!r}; the planted secret shape "
                                   f"is wrong for this rule set")
            out[key] = found
        return out


def expectations(cal, plan):
    """plan: list of dicts {key, path, layer, state, changed_in?, created_by, changed_by?}.
    Each becomes one expectation per calibrated finding of its content."""
    exp = []
    for p in plan:
        for c in cal[p["key"]]:
            e = dict(p)
            e.update(c)
            e.setdefault("changed_in", None)
            e.setdefault("changed_by", None)
            exp.append(e)
    return exp


# ========================================================================== the fixtures


def build_layered(s, d):
    """The main image: an OCI layout made by umoci, tag "app", 6 layers.

    layer 0  "COPY busybox /bin/"         /bin/busybox, /bin/sh -> busybox (umoci repack)
    layer 1  "COPY app/ /app/"            (umoci repack)
             /app/.env              GITHUB_TOKEN=<A>        A: deleted in layer 3 (.wh..env)
             /app/settings.ini      password = <B>          B: overwritten in layer 2
             /app/present/aws.txt   aws_access_key_id = <C> C: present
             /app/olddir/creds.txt  aws_access_key_id = <E> E: deleted in layer 3 by a
                                                              whiteout of its parent dir
             /app/dup/one.txt, /app/dup/two.txt  token: <D>  D: present twice, one fingerprint
             /app/link.txt -> present/aws.txt     symlink: C must not be reported twice
    layer 2  "RUN sed -i ... settings.ini && mkdir /app/cache ..."  (umoci repack)
             /app/settings.ini      rewritten without a secret (B overwritten)
             /app/cache/token.txt   GITHUB_TOKEN=<F>        F: deleted in layer 4 (opaque dir)
    layer 3  "RUN rm -rf /app/.env /app/olddir"  (umoci repack: app/.wh..env, app/.wh.olddir,
             no parent directory entry)
    layer 4  "RUN rm -rf /app/cache && mkdir /app/cache && ..."  (GNU tar + umoci raw add-layer)
             app/cache/.wh..wh..opq (opaque marker), app/cache/README (clean)
    layer 5  "COPY keys/ /app/keys/"  (GNU tar + umoci raw add-layer)
             /app/keys/id_rsa       PEM key <G>             G: present, found once
             /app/keys/id_rsa.bak   hardlink to id_rsa (tar type 1): not a second finding
    """
    S = {"A": s.github(), "B": s.password(), "C": s.aws_id(), "D": s.github(),
         "E": s.aws_id(), "F": s.github(), "G": s.pem()}
    content = {
        "A": (".env", f"APP_ENV=production\nGITHUB_TOKEN={S['A']}\n"),
        "B": ("settings.ini", f"[db]\nhost = db.internal\npassword = {S['B']}\n"),
        "C": ("aws.txt", f"[default]\naws_access_key_id = {S['C']}\n"),
        "D": ("one.txt", f"token: {S['D']}\n"),
        "E": ("creds.txt", f"aws_access_key_id = {S['E']}\n"),
        "F": ("token.txt", f"GITHUB_TOKEN={S['F']}\n"),
        "G": ("id_rsa", S["G"]),
    }
    cal = s.calibrate(content)
    L = d / "oci"
    u = Umoci(L, "app", d / "bundle")
    cb = [
        "COPY busybox /bin/",
        "COPY app/ /app/",
        "RUN sed -i 's/^password.*//' /app/settings.ini && mkdir /app/cache "
        "&& gh auth token > /app/cache/token.txt",
        "RUN rm -rf /app/.env /app/olddir",
        "RUN rm -rf /app/cache && mkdir /app/cache && echo cache > /app/cache/README",
        "COPY keys/ /app/keys/",
    ]
    need(BUSYBOX)
    (u.rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy(BUSYBOX, u.rootfs / "bin" / "busybox")
    os.symlink("busybox", u.rootfs / "bin" / "sh")
    u.commit(cb[0])
    u.put("/app/.env", content["A"][1])
    u.put("/app/settings.ini", content["B"][1])
    u.put("/app/present/aws.txt", content["C"][1])
    u.put("/app/olddir/creds.txt", content["E"][1])
    u.put("/app/dup/one.txt", content["D"][1])
    u.put("/app/dup/two.txt", content["D"][1])
    os.symlink("present/aws.txt", u.rootfs / "app" / "link.txt")
    u.commit(cb[1])
    u.put("/app/settings.ini", "[db]\nhost = db.internal\n\n")
    u.put("/app/cache/token.txt", content["F"][1])
    u.commit(cb[2])
    os.remove(u.rootfs / "app" / ".env")
    shutil.rmtree(u.rootfs / "app" / "olddir")
    u.commit(cb[3])
    st = d / "stage4"
    write(st / "app" / "cache" / ".wh..wh..opq", "")
    write(st / "app" / "cache" / "README", "cache\n")
    u.raw_layer(gnu_tar(st, d / "layer4.tar", "app"), cb[4])
    st = d / "stage5"
    write(st / "app" / "keys" / "id_rsa", content["G"][1], 0o600)
    os.link(st / "app" / "keys" / "id_rsa", st / "app" / "keys" / "id_rsa.bak")
    u.raw_layer(gnu_tar(st, d / "layer5.tar", "app"), cb[5])
    for x in ("bundle", "stage4", "stage5", "layer4.tar", "layer5.tar"):
        p = d / x
        shutil.rmtree(p) if p.is_dir() else p.unlink()

    _, man, cfg = image_parts(L, "app")
    if layer_history(cfg) != cb or len(man["layers"]) != 6:
        raise FixtureError(f"layered: umoci wrote {len(man['layers'])} layers, history "
                           f"{layer_history(cfg)}")
    plan = [
        {"key": "A", "path": "/app/.env", "layer": 1, "state": "deleted", "changed_in": 3},
        {"key": "B", "path": "/app/settings.ini", "layer": 1, "state": "overwritten",
         "changed_in": 2},
        {"key": "C", "path": "/app/present/aws.txt", "layer": 1, "state": "present"},
        {"key": "D", "path": "/app/dup/one.txt", "layer": 1, "state": "present"},
        {"key": "D", "path": "/app/dup/two.txt", "layer": 1, "state": "present"},
        {"key": "E", "path": "/app/olddir/creds.txt", "layer": 1, "state": "deleted",
         "changed_in": 3},
        {"key": "F", "path": "/app/cache/token.txt", "layer": 2, "state": "deleted",
         "changed_in": 4},
        {"key": "G", "path": "/app/keys/id_rsa", "layer": 5, "state": "present"},
    ]
    for p in plan:
        p["created_by"] = cb[p["layer"]]
        if p.get("changed_in") is not None:
            p["changed_by"] = cb[p["changed_in"]]
    return {"layout": str(L), "ref": "app", "created_by": cb, "secrets": S,
            "expect": expectations(cal, plan),
            "diff_ids": cfg["rootfs"]["diff_ids"],
            "digests": [x["digest"] for x in man["layers"]]}


def docker25_archive(layout, ref, repo_tag, out):
    """A docker-archive in the layout Docker 25+ `docker save` writes: an OCI layout (gzip
    blobs here, as umoci made them) plus manifest.json naming blobs/sha256/<hex>, last."""
    _, man, _ = image_parts(layout, ref)
    idx = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [dict(
        index_entry(layout, ref), annotations={"io.containerd.image.name":
                                               "docker.io/library/" + repo_tag,
                                               REF_NAME: repo_tag.split(":")[1]})]}
    legacy = [{"Config": "blobs/sha256/" + man["config"]["digest"].split(":")[1],
               "RepoTags": [repo_tag],
               "Layers": ["blobs/sha256/" + x["digest"].split(":")[1] for x in man["layers"]]}]
    repo, tag = repo_tag.split(":")
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            t.addfile(ti, io.BytesIO(data))
        for dname in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(dname)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti)
        for b in sorted((Path(layout) / "blobs" / "sha256").iterdir()):
            add(f"blobs/sha256/{b.name}", b.read_bytes())
        add("index.json", json.dumps(idx).encode())
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("repositories", json.dumps({repo: {tag: man["layers"][-1]["digest"]
                                               .split(":")[1]}}).encode())
        add("manifest.json", json.dumps(legacy).encode())
    return out


def build_transports(s, d):
    """The layered image in every transport (same files, same layers, same history):
      docker.tar        skopeo docker-archive (app:1.0): uncompressed <diff_id>.tar layers and
                        <id>/layer.tar symlinks; RepoTags docker.io/library/app:1.0
      docker25.tar      Docker 25+ style docker-archive: OCI layout with gzip blobs + manifest.json
                        (skopeo cannot write gzip layers into a docker-archive)
      oci.tar           skopeo oci-archive (ref app), gzip layers
      zstd/             skopeo oci layout with --dest-compress-format zstd (ref app)
      docker.tar.gz, oci.tar.gz   gzip -c of the two archives, for stdin
    """
    lay = s.get("layered")
    src = f"oci:{lay['layout']}:app"
    sh("skopeo", "copy", "-q", src, f"docker-archive:{d / 'docker.tar'}:app:1.0")
    sh("skopeo", "copy", "-q", src, f"oci-archive:{d / 'oci.tar'}:app")
    sh("skopeo", "copy", "-q", "--dest-compress-format", "zstd", src, f"oci:{d / 'zstd'}:app")
    docker25_archive(lay["layout"], "app", "app:1.0", d / "docker25.tar")
    for n in ("docker.tar", "oci.tar"):
        (d / (n + ".gz")).write_bytes(sh("gzip", "-c", d / n))
    # sanity: the formats are what the tests claim
    _, man, _ = image_parts(d / "zstd", "app")
    for x in man["layers"]:
        if not x["mediaType"].endswith("+zstd") or \
                read_blob(d / "zstd", x["digest"])[:4] != b"\x28\xb5\x2f\xfd":
            raise FixtureError(f"skopeo zstd layer is not zstd: {x}")
    with tarfile.open(d / "docker.tar") as t:
        names = t.getnames()
    if names[-2:] != ["manifest.json", "repositories"] and "manifest.json" not in names:
        raise FixtureError(f"skopeo docker-archive has no manifest.json: {names}")
    return {"docker": str(d / "docker.tar"), "docker25": str(d / "docker25.tar"),
            "oci_archive": str(d / "oci.tar"), "zstd": str(d / "zstd"),
            "docker_gz": str(d / "docker.tar.gz"), "oci_archive_gz": str(d / "oci.tar.gz"),
            "secrets": {}}


def build_gone(s, d):
    """Only a deleted secret: OCI layout by umoci, tag "gone", 2 layers.
    layer 0  "COPY secret.txt /srv/secret.txt"        /srv/secret.txt  GITHUB_TOKEN=<K>
    layer 1  "RUN rm -f /srv/secret.txt # cleanup"     /srv/.wh.secret.txt
    K: deleted, found in layer 0, changed_in layer 1.
    Also gone.tar: skopeo docker-archive of it as other:2.0 (for the docker-save fixture)."""
    S = {"K": s.github()}
    content = {"K": ("secret.txt", f"# deploy\nGITHUB_TOKEN={S['K']}\n")}
    cal = s.calibrate(content)
    L = d / "oci"
    u = Umoci(L, "gone", d / "bundle")
    cb = ["COPY secret.txt /srv/secret.txt", "RUN rm -f /srv/secret.txt # cleanup"]
    u.put("/srv/secret.txt", content["K"][1])
    u.commit(cb[0])
    os.remove(u.rootfs / "srv" / "secret.txt")
    u.commit(cb[1])
    shutil.rmtree(d / "bundle")
    sh("skopeo", "copy", "-q", f"oci:{L}:gone", f"docker-archive:{d / 'gone.tar'}:other:2.0")
    plan = [{"key": "K", "path": "/srv/secret.txt", "layer": 0, "state": "deleted",
             "changed_in": 1, "created_by": cb[0], "changed_by": cb[1]}]
    return {"layout": str(L), "ref": "gone", "archive": str(d / "gone.tar"), "created_by": cb,
            "secrets": S, "expect": expectations(cal, plan)}


def stop_service(proc, log, base):
    """Stops a service a fixture started (SIGTERM, then SIGKILL after 20 s), closes its log
    and removes its directory."""
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    log.close()
    shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def running_dockerd(base):
    """A private dockerd 20.10 on a unix socket under base (vfs storage, no networking), for
    the duration of the with-block: yields (docker CLI path, env with DOCKER_HOST); stopped by
    its PID after, whatever happens."""
    dockerd, docker = need("dockerd"), need("docker")
    base.mkdir(parents=True, exist_ok=True)
    sock = base / "docker.sock"
    env = {"DOCKER_HOST": f"unix://{sock}", "DOCKER_BUILDKIT": "0"}
    log = open(base / "log", "wb")
    proc = subprocess.Popen(
        [dockerd, "--data-root", base / "data", "--exec-root", base / "exec", "--pidfile",
         base / "pid", "-H", f"unix://{sock}", "--iptables=false", "--ip6tables=false",
         "--bridge=none", "--storage-driver=vfs"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(150):
            if proc.poll() is not None:
                raise FixtureError("dockerd exited at start: " +
                                   (base / "log").read_text(errors="replace")[-1500:])
            if sock.exists() and subprocess.run([docker, "version"], env={**os.environ, **env},
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise FixtureError("dockerd did not answer within 15 s: " +
                               (base / "log").read_text(errors="replace")[-1500:])
        yield docker, env
    finally:
        stop_service(proc, log, base)



@contextlib.contextmanager
def running_podman(base, archive):
    """Podman's Docker-compatible API (`podman system service`) on a unix socket under base,
    with its own storage (vfs) holding the images of `archive` (podman load), for the
    with-block: yields the env with DOCKER_HOST; stopped by its PID after."""
    podman = need("podman")
    base.mkdir(parents=True, exist_ok=True)
    sock = base / "podman.sock"
    common = [podman, "--storage-driver", "vfs", "--root", str(base / "root"), "--runroot",
              str(base / "run"), "--tmpdir", str(base / "tmp")]
    penv = {**os.environ, "CONTAINERS_CONF": str(base / "none.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(base / "none.conf"),
            "XDG_CONFIG_HOME": str(base / "config")}
    (base / "none.conf").write_text("")  # no host configuration: defaults only
    sh(*common, "load", "-q", "-i", archive, env=penv)
    log = open(base / "log", "wb")
    proc = subprocess.Popen([*common, "system", "service", "--time=0", f"unix://{sock}"],
                            stdout=log, stderr=subprocess.STDOUT, env=penv,
                            start_new_session=True)
    try:
        for _ in range(150):
            if proc.poll() is not None:
                raise FixtureError("podman system service exited at start: " +
                                   (base / "log").read_text(errors="replace")[-1500:])
            if sock.exists():
                break
            time.sleep(0.1)
        else:
            raise FixtureError("podman system service did not listen within 15 s")
        yield {"DOCKER_HOST": f"unix://{sock}"}
    finally:
        stop_service(proc, log, base)

def build_docker_save(s, d):
    """Archives written by a real dockerd 20.10 (`docker save`, legacy layout: <id>/layer.tar
    directories sorted by id, manifest.json last). Started here on a unix socket under d,
    stopped by its PID before returning.
      legacy.tar   docker save app:1.0              (the layered image, loaded from docker.tar)
      multi.tar    docker save app:1.0 app:latest other:2.0
                   two images: app (two tags, one manifest entry) and other (the gone image)
    """
    tr = s.get("transports")
    gone = s.get("gone")
    base = d / "dk"
    with running_dockerd(base) as (docker, env):
        sh(docker, "load", "-q", "-i", tr["docker"], env=env)
        sh(docker, "load", "-q", "-i", gone["archive"], env=env)
        sh(docker, "tag", "app:1.0", "app:latest", env=env)
        (d / "legacy.tar").write_bytes(sh(docker, "save", "app:1.0", env=env))
        (d / "multi.tar").write_bytes(sh(docker, "save", "app:1.0", "app:latest", "other:2.0",
                                         env=env))
    shutil.rmtree(base, ignore_errors=True)
    with tarfile.open(d / "legacy.tar") as t:
        names = t.getnames()
        man = json.load(t.extractfile("manifest.json"))
    if not all(x.endswith("/layer.tar") for x in man[0]["Layers"]) or \
            not all(x in names for x in man[0]["Layers"]):
        raise FixtureError(f"docker save did not write the legacy <id>/layer.tar layout: {names}")
    return {"legacy": str(d / "legacy.tar"), "multi": str(d / "multi.tar"), "secrets": {}}


def build_config(s, d):
    """Secrets in the image config and manifest, built by buildah bud from a real Dockerfile
    (FROM scratch + busybox, RUN under chroot isolation), pushed to an OCI layout (ref "cfg"):
      config.Env[1]            GITHUB_TOKEN=<ENV>       (ENV, also in history[3].created_by)
      config.Labels.deploy_token   <LABEL> (an AWS key id; also in history[4].created_by)
      config.Cmd               /app/server ... --password <CMDPW>  (shell-form CMD: Cmd is
                               ["/bin/sh", "-c", "..."], scanned as one line joined by spaces;
                               also in history[5].created_by)
      history[2].created_by    |1 NPM_TOKEN=<NPM> /bin/sh -c ...   (the --build-arg leaks)
      manifest.annotations.com.example.token   <ANNOT>  (buildah bud --annotation)
    The layers hold busybox and an empty RUN layer: no secret in any file."""
    S = {"ENV": s.github(), "LABEL": s.aws_id(), "CMDPW": s.password(), "NPM": s.npm(),
         "ANNOT": s.github()}
    ctx = d / "ctx"
    need(BUSYBOX)
    (ctx / "rootfs" / "bin").mkdir(parents=True)
    (ctx / "rootfs" / "tmp").mkdir()
    shutil.copy(BUSYBOX, ctx / "rootfs" / "bin" / "busybox")
    os.symlink("busybox", ctx / "rootfs" / "bin" / "sh")
    write(ctx / "Dockerfile", f"""FROM scratch
COPY rootfs/ /
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=${{NPM_TOKEN}}" > /tmp/npmrc && rm /tmp/npmrc
ENV GITHUB_TOKEN={S['ENV']} PATH=/bin
LABEL deploy_token="{S['LABEL']}"
CMD /app/server --listen :8080 --password {S['CMDPW']}
""")
    store = ["--root", d / "store", "--runroot", d / "run", "--storage-driver", "vfs"]
    sh("buildah", *store, "bud", "-q", "--layers", "--isolation", "chroot",
       "--build-arg", f"NPM_TOKEN={S['NPM']}", "--annotation", f"com.example.token={S['ANNOT']}",
       "-t", "cfg:1.0", ctx, timeout=300)
    L = d / "oci"
    sh("buildah", *store, "push", "-q", "cfg:1.0", f"oci:{L}:cfg")
    sh("buildah", *store, "rmi", "-a", "-f")
    shutil.rmtree(d / "store", ignore_errors=True)
    shutil.rmtree(d / "run", ignore_errors=True)
    shutil.rmtree(ctx)
    _, man, cfg = image_parts(L, "cfg")
    values = {
        "config.Env[1]": cfg["config"]["Env"][1],
        "config.Labels.deploy_token": cfg["config"]["Labels"]["deploy_token"],
        "config.Cmd": " ".join(cfg["config"]["Cmd"]),
        "history[2].created_by": cfg["history"][2]["created_by"],
        "manifest.annotations.com.example.token": man["annotations"]["com.example.token"],
    }
    want = {"config.Env[1]": "ENV", "config.Labels.deploy_token": "LABEL",
            "config.Cmd": "CMDPW", "history[2].created_by": "NPM",
            "manifest.annotations.com.example.token": "ANNOT"}
    for path, key in want.items():
        if S[key] not in values[path]:
            raise FixtureError(f"config: buildah did not put {key} at {path}: {values[path]!r}")
    if not values["history[2].created_by"].startswith("|1 NPM_TOKEN="):
        raise FixtureError(f"config: build arg not in history: {values['history[2].created_by']}")
    cal = s.calibrate({path: ("value.txt", v + "\n") for path, v in values.items()})
    exp = []
    for path, key in want.items():
        # only the finding that is the planted secret (a history line may hold other matches)
        fs = [c for c in cal[path]
              if c["fingerprint"] in {hashlib.sha256(c["rule"].encode() + b"\0" +
                                                     S[key].encode()).hexdigest()}]
        if not fs:
            fs = cal[path]
        for c in fs:
            exp.append({"key": key, "path": path, "state": "config", "rule": c["rule"],
                        "fingerprint": c["fingerprint"]})
    return {"layout": str(L), "ref": "cfg", "secrets": S, "values": values, "expect": exp,
            "history": cfg["history"]}


def jar(entries):
    """A zip (jar) in memory: entries {name: bytes}, deflated, with a manifest first."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nCreated-By: test\n")
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def build_nested(s, d):
    """Secrets inside archives inside layers: OCI layout by umoci, tag "nested", 2 layers.
    layer 0  "COPY lib/ /app/lib/"
      /app/lib/app.jar        (zip) BOOT-INF/classes/application.yml: access-key-id: <N1>
                                    (+ a .class file, META-INF/MANIFEST.MF)     depth 1
      /app/lib/outer.jar      (zip) lib/inner.jar (zip) config.properties: <N2>    depth 2
    layer 1  "COPY backup/ /backup/"
      /backup/files.tar.gz    (GNU tar -z) etc/app/secret.env: GITHUB_TOKEN=<N3>   depth 1
      /backup/db.sql.gz       (gzip -c of db.sql, not a tar) an AWS key id <N4>     depth 1
    Expected paths: /app/lib/app.jar!/BOOT-INF/classes/application.yml,
    /app/lib/outer.jar!/lib/inner.jar!/config.properties, /backup/files.tar.gz!/etc/app/secret.env,
    /backup/db.sql.gz!/db.sql."""
    S = {"N1": s.aws_id(), "N2": s.github(), "N3": s.github(), "N4": s.aws_id()}
    content = {
        "N1": ("application.yml", f"server:\n  port: 8080\naws:\n  access-key-id: {S['N1']}\n"),
        "N2": ("config.properties", f"app.name=inner\ngithub.token={S['N2']}\n"),
        "N3": ("secret.env", f"GITHUB_TOKEN={S['N3']}\n"),
        "N4": ("db.sql", "CREATE TABLE keys (id text);\n"
                         f"INSERT INTO keys VALUES ('{S['N4']}');\n"),
    }
    cal = s.calibrate(content)
    L = d / "oci"
    u = Umoci(L, "nested", d / "bundle")
    cb = ["COPY lib/ /app/lib/", "COPY backup/ /backup/"]
    u.put("/app/lib/app.jar", jar({
        "BOOT-INF/classes/application.yml": content["N1"][1],
        "BOOT-INF/classes/com/example/App.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(64),
    }))
    inner = jar({"config.properties": content["N2"][1]})
    u.put("/app/lib/outer.jar", jar({"lib/inner.jar": inner, "README.txt": "outer\n"}))
    u.commit(cb[0])
    st = d / "stage"
    write(st / "etc" / "app" / "secret.env", content["N3"][1])
    write(st / "etc" / "app" / "motd", "hello\n")
    u.put("/backup/files.tar.gz", gnu_tar(st, d / "files.tar.gz", "etc", gz=True).read_bytes())
    write(d / "db.sql", content["N4"][1])
    u.put("/backup/db.sql.gz", sh("gzip", "-c", d / "db.sql"))
    u.commit(cb[1])
    for x in ("bundle", "stage"):
        shutil.rmtree(d / x)
    plan = [
        {"key": "N1", "path": "/app/lib/app.jar!/BOOT-INF/classes/application.yml", "layer": 0,
         "depth": 1},
        {"key": "N2", "path": "/app/lib/outer.jar!/lib/inner.jar!/config.properties",
         "layer": 0, "depth": 2},
        {"key": "N3", "path": "/backup/files.tar.gz!/etc/app/secret.env", "layer": 1,
         "depth": 1},
        {"key": "N4", "path": "/backup/db.sql.gz!/db.sql", "layer": 1, "depth": 1},
    ]
    for p in plan:
        p["state"], p["created_by"] = "present", cb[p["layer"]]
    return {"layout": str(L), "ref": "nested", "created_by": cb, "secrets": S,
            "expect": expectations(cal, plan)}


PLATFORMS = [("amd64", None, "P_AMD64"), ("arm64", None, "P_ARM64"), ("arm", "v7", "P_ARMV7")]


def build_multiarch(s, d):
    """A multi-platform OCI layout: index.json has one entry (ref "multi", an image index
    blob written here) listing three umoci-built single-layer images:
      linux/amd64     /etc/platform.env  GITHUB_TOKEN=<P_AMD64>
      linux/arm64     /etc/platform.env  GITHUB_TOKEN=<P_ARM64>
      linux/arm/v7    /etc/platform.env  GITHUB_TOKEN=<P_ARMV7>
    Each image's config has its architecture (umoci config --architecture). Layer 0 of each is
    "COPY platform.env /etc/ (<arch>)". Also multi.tar: skopeo copy --all to an oci-archive."""
    S = {key: s.github() for _, _, key in PLATFORMS}
    content = {key: ("platform.env", f"GITHUB_TOKEN={S[key]}\n") for _, _, key in PLATFORMS}
    cal = s.calibrate(content)
    L = d / "oci"
    descs = []
    plan = []
    for arch, variant, key in PLATFORMS:
        u = Umoci(L, arch, d / f"bundle-{arch}")
        cb = f"COPY platform.env /etc/ ({arch})"
        u.put("/etc/platform.env", content[key][1])
        u.commit(cb)
        shutil.rmtree(d / f"bundle-{arch}")
        sh("umoci", "config", "--no-history", "--architecture", arch, "--os", "linux",
           "--image", f"{L}:{arch}")
        ent = index_entry(L, arch)
        plat = {"architecture": arch, "os": "linux"}
        if variant:
            plat["variant"] = variant
        descs.append({"mediaType": MT_MANIFEST, "digest": ent["digest"], "size": ent["size"],
                      "platform": plat})
        plan.append({"key": key, "path": "/etc/platform.env", "layer": 0, "state": "present",
                     "created_by": cb,
                     "platform": "linux/" + arch + (f"/{variant}" if variant else "")})
    nested = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs},
                        separators=(",", ":")).encode()
    digest = write_blob(L, nested)
    (L / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": MT_INDEX, "digest": digest, "size": len(nested),
         "annotations": {REF_NAME: "multi"}}]}))
    sh("skopeo", "copy", "-q", "--all", f"oci:{L}:multi", f"oci-archive:{d / 'multi.tar'}:multi")
    return {"layout": str(L), "ref": "multi", "archive": str(d / "multi.tar"), "secrets": S,
            "expect": expectations(cal, plan)}


def build_corrupt(s, d):
    """Damaged and mislabelled copies of a 3-layer umoci image (tag "c"):
    layer 0  "COPY zero.txt /data/"   /data/zero.txt  GITHUB_TOKEN=<K0>
    layer 1  "COPY one.txt /data/"    /data/a-filler.bin (256 KiB random, first in the tar),
                                       /data/one.txt  GITHUB_TOKEN=<K1>
    layer 2  "COPY two.txt /data/"    /data/two.txt   GITHUB_TOKEN=<K2>
      good/        as umoci wrote it (all gzip)
      truncated/   layer 1's gzip blob cut to half its size (manifest unchanged)
      mislabel/    layer 1 stored uncompressed but labelled tar+gzip; layer 2 stored gzip
                   but labelled plain tar (new manifest blob, index.json updated)
      notes.txt    a text file; plain.tar: a tar that is not an image; random.bin"""
    S = {"K0": s.github(), "K1": s.github(), "K2": s.github()}
    content = {k: (f"{n}.txt", f"GITHUB_TOKEN={S[k]}\n")
               for k, n in (("K0", "zero"), ("K1", "one"), ("K2", "two"))}
    cal = s.calibrate(content)
    good = d / "good"
    u = Umoci(good, "c", d / "bundle")
    cb = ["COPY zero.txt /data/", "COPY one.txt /data/", "COPY two.txt /data/"]
    u.put("/data/zero.txt", content["K0"][1])
    u.commit(cb[0])
    u.put("/data/a-filler.bin", random.Random(s.rng.random()).randbytes(256 * 1024))
    u.put("/data/one.txt", content["K1"][1])
    u.commit(cb[1])
    u.put("/data/two.txt", content["K2"][1])
    u.commit(cb[2])
    shutil.rmtree(d / "bundle")
    _, man, cfg = image_parts(good, "c")
    # truncated
    tr = d / "truncated"
    shutil.copytree(good, tr)
    l1 = man["layers"][1]
    bp = blob_path(tr, l1["digest"])
    data = bp.read_bytes()
    bp.write_bytes(data[:len(data) // 2])
    # mislabelled
    ml = d / "mislabel"
    shutil.copytree(good, ml)
    m2 = json.loads(json.dumps(man))
    raw = gzip.decompress(read_blob(ml, l1["digest"]))
    m2["layers"][1] = {"mediaType": MT_LAYER_GZIP, "digest": write_blob(ml, raw),
                       "size": len(raw)}
    m2["layers"][2]["mediaType"] = MT_LAYER_TAR
    replace_manifest(ml, "c", m2)
    write(d / "notes.txt", "just some notes\nnothing to see\n")
    st = d / "stage"
    write(st / "hello.txt", "hello\n")
    gnu_tar(st, d / "plain.tar", "hello.txt")
    shutil.rmtree(st)
    write(d / "random.bin", random.Random(s.rng.random()).randbytes(4096))
    plan = [{"key": k, "path": f"/data/{n}.txt", "layer": i, "state": "present",
             "created_by": cb[i]}
            for i, (k, n) in enumerate((("K0", "zero"), ("K1", "one"), ("K2", "two")))]
    return {"good": str(good), "truncated": str(tr), "mislabel": str(ml), "ref": "c",
            "truncated_digest": l1["digest"], "notes": str(d / "notes.txt"),
            "plain_tar": str(d / "plain.tar"), "random": str(d / "random.bin"),
            "secrets": S, "expect": expectations(cal, plan), "created_by": cb,
            "diff_ids": cfg["rootfs"]["diff_ids"]}


BUILDERS = {
    "layered": build_layered,
    "transports": build_transports,
    "gone": build_gone,
    "docker_save": build_docker_save,
    "config": build_config,
    "nested": build_nested,
    "multiarch": build_multiarch,
    "corrupt": build_corrupt,
}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = Path(argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rummage = os.path.abspath(os.environ.get("RUMMAGE") or str(ROOT / "build" / "rummage"))
    s = Session(out, random.Random(), rummage, keep=True)
    rc = 0
    for name in argv[2:] or BUILDERS:
        t0 = time.monotonic()
        try:
            s.get(name)
            print(f"{name}: built in {time.monotonic() - t0:.1f} s -> {out / name}")
        except FixtureError as ex:
            print(f"{name}: FAILED: {ex}")
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
