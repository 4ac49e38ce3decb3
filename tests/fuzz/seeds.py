#!/usr/bin/env python3
"""Writes the generated seed inputs of the fuzz targets into CORPUS_DIR/TARGET/seed-*.

The seeds are small, synthetic and deterministic (a fixed random seed): layers with whiteouts,
links and archives inside archives, image metadata documents, registry headers and references,
config and baseline files, text with secrets for the engine. Their secrets are made up here,
and they are made at fuzz time, never committed: `make fuzz-smoke` and `make valgrind` run
this script (into build-fuzz/seeds/ and build-valgrind/seeds/) next to the stored inputs of
tests/fuzz/corpus/ (regression inputs and hand-made seeds), so the repository holds no file in
which a scanner finds a secret (tests/cli/test_ecosystem.py, self_scan_finds_nothing).
Usage: tests/fuzz/seeds.py [CORPUS_DIR]   (default: build-fuzz/seeds)
"""
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import sqlite3
import struct
import sys
import tarfile
import tempfile
import zipfile

RNG = random.Random(8)
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def rand(alphabet, n):
    return "".join(RNG.choice(alphabet) for _ in range(n))


def aws_id():
    return "AKIA" + rand(B32, 16)


def password():
    return rand(ALNUM, 18)


def gz(data):
    return gzip.compress(data, mtime=0)


def tar(entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, kind, data) with kind f(ile), d(ir), l (symlink to data), h (hardlink)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind in "lh":
                ti.type = tarfile.SYMTYPE if kind == "l" else tarfile.LNKTYPE
                ti.linkname = data
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return out.getvalue()


def zipped(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def env_file():
    return f"AWS_ACCESS_KEY_ID={aws_id()}\nDB_PASSWORD={password()}\n".encode()


def sql_dump():
    return f"INSERT INTO users VALUES ('admin', '{password()}');\n".encode()


def aws_credentials():
    return f"[default]\naws_access_key_id = {aws_id()}\n".encode()


def layers():
    jar = zipped([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                  ("BOOT-INF/classes/application.yml",
                   f"spring:\n  datasource:\n    password: {password()}\n".encode())])
    npmrc = f"//registry.npmjs.org/:_authToken={password()}\n".encode()
    inner_tgz = gz(tar([("conf/", "d", b""), ("conf/.npmrc", "f", npmrc)]))
    deep = tar([("lib/app.jar", "f", jar), ("lib/vendor.tar.gz", "f", inner_tgz)])
    return {
        "plain": tar([("app/", "d", b""), ("app/.env", "f", env_file()),
                      ("app/readme.txt", "f", b"nothing here\n"), ("app/env-link", "l", ".env"),
                      ("app/hard", "h", "app/.env"), ("./app//./x/../y", "f", b"y\n")]),
        "whiteouts": tar([("app/.wh..env", "f", b""), ("etc/.wh..wh..opq", "f", b""),
                          ("etc/hosts", "f", b"127.0.0.1 localhost\n"), (".wh.tmp", "f", b"")]),
        "nested": tar([("app/app.jar", "f", jar), ("app/vendor.tgz", "f", inner_tgz),
                       ("app/dump.sql.gz", "f", gz(sql_dump())), ("app/deep.tar", "f", deep)]),
        "gnu-longname": tar([("d/" + "n" * 150 + "/.env", "f", env_file())], tarfile.GNU_FORMAT),
        "layer.tar.gz": gz(tar([("app/.env", "f", env_file())])),
        "layer.tar.xz": lzma.compress(tar([("root/.aws/credentials", "f", aws_credentials())])),
        "layer.tar.bz2": bz2.compress(tar([("app/id_rsa.pub", "f", b"ssh-ed25519 AAAA x\n")])),
        "bomb.tar.gz": gz(tar([("zeros", "f", b"\0" * (1 << 20))])),
        "zip-bomb": tar([("z.zip", "f", zipped([("big.txt", b"A" * (1 << 20))]))]),
    }


def docker_save(layer_map, tag="app:1.0"):
    """A docker-save archive: each layer as HEX/layer.tar, a config, manifest.json last."""
    names, diff_ids, files = [], [], []
    for data in layer_map:
        h = hashlib.sha256(data).hexdigest()
        names.append(f"{h}/layer.tar")
        diff_ids.append(f"sha256:{h}")
        files.append((f"{h}/layer.tar", data))
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {"Env": [f"API_PASSWORD={password()}"], "Labels": {"a": "b"},
                                 "Cmd": ["sh", "-c", "run --token", password()]},
                      "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created_by": "COPY . /app"},
                                  {"created_by": "RUN rm /app/.env"},
                                  {"created_by": "ENV X=1", "empty_layer": True}]}).encode()
    ch = hashlib.sha256(cfg).hexdigest()
    files.append((f"{ch}.json", cfg))
    files.append(("manifest.json", json.dumps([{"Config": f"{ch}.json", "RepoTags": [tag],
                                                 "Layers": names}]).encode()))
    return tar([(n, "f", d) for n, d in files], tarfile.USTAR_FORMAT)


def oci_archive(layer_map):
    files, descs = [], []
    for data in layer_map:
        h = hashlib.sha256(data).hexdigest()
        files.append((f"blobs/sha256/{h}", data))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                      "digest": f"sha256:{h}", "size": len(data)})
    cfg = json.dumps({"architecture": "arm64", "os": "linux",
                      "rootfs": {"diff_ids": [d["digest"] for d in descs]},
                      "history": [{"created_by": f"RUN echo {aws_id()}"}]}).encode()
    ch = hashlib.sha256(cfg).hexdigest()
    files.append((f"blobs/sha256/{ch}", cfg))
    man = json.dumps({"schemaVersion": 2, "config": {"digest": f"sha256:{ch}"}, "layers": descs,
                      "annotations": {"org.opencontainers.image.source": "x"}}).encode()
    mh = hashlib.sha256(man).hexdigest()
    files.append((f"blobs/sha256/{mh}", man))
    idx = json.dumps({"schemaVersion": 2, "manifests": [
        {"digest": f"sha256:{mh}",
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
         "annotations": {"org.opencontainers.image.ref.name": "1.0"}}]}).encode()
    ih = hashlib.sha256(idx).hexdigest()
    files.append((f"blobs/sha256/{ih}", idx))
    files.append(("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
    top = {"digest": f"sha256:{ih}", "mediaType": "application/vnd.oci.image.index.v1+json"}
    files.append(("index.json", json.dumps({"schemaVersion": 2, "manifests": [top]}).encode()))
    return tar([(n, "f", d) for n, d in files], tarfile.USTAR_FORMAT)


def manifest_docs():
    """fuzz_manifest inputs: an option byte, then NUL-separated JSON documents."""
    d = lambda o: json.dumps(o).encode()
    hexes = ["1" * 64, "2" * 64, "3" * 64, "4" * 64, "5" * 64, "6" * 64]
    cfg = {"architecture": "amd64", "os": "linux",
           "config": {"Env": [f"TOKEN={password()}"], "Labels": {"k": "v"},
                      "Entrypoint": ["/bin/app"], "OnBuild": ["RUN x"],
                      "Healthcheck": {"Test": ["CMD", "curl", "-u", f"admin:{password()}"]}},
           "rootfs": {"diff_ids": ["sha256:" + h for h in hexes[:4]]},
           "history": [{"created_by": f"RUN export AWS_ACCESS_KEY_ID={aws_id()}"},
                       {"created_by": "RUN rm .env"},
                       {"empty_layer": True, "created_by": "ENV A=1"},
                       {"created_by": "COPY x /app"}, {"created_by": "RUN true"}]}
    docker = [{"Config": "c.json", "RepoTags": ["app:1.0", "docker.io/library/app:latest"],
               "Layers": ["0" * 64 + "/layer.tar", "1" * 64 + "/layer.tar", "2/layer.tar",
                          "3/layer.tar", "../escape.tar"]},
              {"Config": "d.json", "RepoTags": None, "Layers": ["4/layer.tar"]}]
    oci_man = {"schemaVersion": 2, "config": {"digest": "sha256:" + "1" * 64},
               "layers": [{"digest": "sha256:" + h, "size": 10} for h in hexes],
               "annotations": {"org.opencontainers.image.description": f"pw={password()}"}}
    index = {"schemaVersion": 2, "manifests": [
        {"digest": "sha256:" + "2" * 64, "platform": {"os": "linux", "architecture": "amd64"},
         "annotations": {"org.opencontainers.image.ref.name": "1.0",
                         "io.containerd.image.name": "docker.io/library/app:1.0"}},
        {"digest": "sha256:" + "3" * 64, "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": "sha256:" + "4" * 64, "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        {"digest": "sha256:" + "5" * 64}, {"digest": "bad"}]}
    nested = {"schemaVersion": 2, "manifests": [{"digest": "sha256:" + "1" * 64}]}
    docker25 = [{"Config": "blobs/sha256/" + "1" * 64, "RepoTags": ["a:b"],
                 "Layers": ["blobs/sha256/" + h for h in hexes] +
                           [hexes[0] + ".tar", hexes[1] + ".tar.gz"]}]
    return {
        "docker": b"\0" + b"\0".join([d(docker), d(cfg), d(cfg), d({"os": "linux"})]),
        "docker-ref": b"\x18" + b"\0".join([d(docker), d(cfg)]),
        "oci": b"\x01" + b"\0".join([d(index), d(cfg), d(oci_man), d(oci_man), d(nested), d(cfg)]),
        "oci-nested": b"\x02" + b"\0".join([d(nested), d(nested), d(oci_man)]),
        "oci-ref": b"\x08" + b"\0".join([d(index), d(oci_man), d(cfg)]),
        "broken": b"\x00" + b"\0".join([b"[{\"Config\": 1}]", b"{", b"[]"]),
        "docker25": b"\x40" + b"\0".join([d(docker25), d(cfg)]),
        "neither": b"\xc0" + d(index),
    }


def registry_inputs():
    s = lambda sel, text: bytes([sel]) + (text if isinstance(text, bytes) else text.encode())
    idx = json.dumps({"manifests": [{"digest": "sha256:" + "a" * 64},
                                    {"digest": "sha512:" + "b" * 128}],
                      "layers": [{"digest": "sha256:" + "c" * 64, "size": 123}]})
    auth = json.dumps({"auths": {"https://reg.example:5000/v1/": {"auth": "dXNlcjpwYXNz"},
                                 "reg.example:5000/team": {"username": "u", "password": "p"},
                                 "localhost": {"auth": "Og=="}},
                       "credHelpers": {"x": "y"}, "credsStore": "desktop"})
    return {
        "ref-tag": s(0, "reg.example:5000/team/app:1.0"),
        "ref-digest": s(0, "localhost/a/b@sha256:" + "0" * 64),
        "ref-v6": s(0, "[::1]:5000/x__y.z-w:v1.2"),
        "ref-bad": s(0, "docker.io/library/app"),
        "challenge": s(1, 'realm="https://auth.example/token",service="reg",'
                          'scope="repository:a:pull",error="x\\"y"'),
        "headers": s(2, "HTTP/1.1 401 Unauthorized\r\n"
                        "Content-Type: application/json; charset=utf-8\r\n"
                        "WWW-Authenticate: Bearer realm=\"https://a/t\",service=s\r\n"
                        "Link: </v2/_catalog?last=a&n=1>; rel=\"next\"\r\nRetry-After: 3\r\n"
                        "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                        "Docker-Content-Digest: sha256:00\r\n\r\n"),
        "link": s(3, '<https://reg.example:5000/v2/team/app/tags/list?n=1000&last=b>; '
                     'rel="next", <x>; rel=prev'),
        "link-away": s(3, '<https://evil.example/v2/x>; rel=next'),
        "error": s(4, '{"errors":[{"code":"UNAUTHORIZED",'
                      '"message":"authentication required","detail":null}]}'),
        "auth": s(5, auth),
        "creds": s(6, "dXNlcjpwYXNz"),
        "index": s(7, idx),
    }


def config_inputs():
    fp = "a" * 64
    return {
        "config": json.dumps({"allow": {"paths": ["*.md", "/app/*"],
                                        "rules": ["generic-password"], "fingerprints": [fp],
                                        "regexes": ["^tok_[a-z]+$", "(a+)+$"]},
                              "rules": ["extra.json"], "severity": {"aws-access-key-id": "low"},
                              "options": {"fail_on": "high", "fail_on_state": "present",
                                          "baseline": "b.json", "max_archive_depth": 3}}).encode(),
        "config-bad": b'{"allow": {"regexes": ["("]}}',
        "baseline": json.dumps({"rummage_baseline": 1, "version": "0.1.0", "findings": [
            {"fingerprint": fp, "path": "/app/.env", "rule": "x", "line": 1},
            {"fingerprint": "b" * 64, "path": "config.yml"}]}).encode(),
    }


def cache_inputs():
    """fuzz_cache inputs: layer cache entries, @KEY@ and @DIGEST@ filled in by the target."""
    finding = {"rule": "aws-access-key-id", "fingerprint": "ab" * 32, "secret": "AKIA\u2026(20)",
               "length": 20, "lines": 1, "last_newline": 0, "severity": 3, "confidence": 2,
               "path": "/app/.env", "line": 4, "column": 19, "offset": 60}
    pem = dict(finding, rule="pem-pkcs8-private-key",
               secret="-----BEGIN PRIVATE KEY-----\u2026(915)", length=915, lines=14,
               last_newline=880, path="/root/.ssh/id_rsa", line=1, column=1)
    doc = {"rummage_layer_cache": 1, "key": "@KEY@", "digest": "@DIGEST@",
           "findings": [finding, pem], "paths": ["2/app", "1/app/.env", "4/app/x", "8/etc"]}
    return {"entry": json.dumps(doc).encode(),
            "empty": b'{"key":"@KEY@","digest":"@DIGEST@","findings":[],"paths":[]}'}


def engine_inputs():
    """fuzz_engine inputs: a chunk-size byte, then text; '|' splits the secrets in this source."""
    return {"secrets": "\x05pass|word = \"Zq81LmNb|47Xc9\"\nAKIAQWER|TYUIOPASDFGH\n"
                       .replace("|", "").encode()}


def rpm_header(tags):
    """An rpm header blob as rpm's database stores it (headerExport): il, dl, the index, the
    data, everything inside an immutable region whose trailer ends the data. tags: (tag,
    type, value) sorted by tag; types 3 int16[], 4 int32[], 6 string, 8 string[]."""
    index, data = [], b""
    for tag, typ, val in tags:
        align = {3: 2, 4: 4}.get(typ, 1)
        data += b"\0" * (-len(data) % align)
        if typ == 6:
            blob, count = val.encode() + b"\0", 1
        elif typ == 8:
            blob, count = b"".join(v.encode() + b"\0" for v in val), len(val)
        else:
            fmt = ">H" if typ == 3 else ">I"
            blob, count = b"".join(struct.pack(fmt, v) for v in val), len(val)
        index.append(struct.pack(">iiii", tag, typ, len(data), count))
        data += blob
    il = len(index) + 1
    region = struct.pack(">iiii", 63, 7, len(data), 16)  # RPMTAG_HEADERIMMUTABLE
    data += struct.pack(">iiii", 63, 7, -il * 16, 16)    # its trailer
    return struct.pack(">II", il, len(data)) + region + b"".join(index) + data


def pkgdb_inputs():
    """fuzz_pkgdb inputs: first byte 0x40 picks /var/lib/rpm/rpmdb.sqlite; a real SQLite file
    (Python's sqlite3) with rpm's Packages table and one header claiming two files by sha256,
    one of them %config. No secrets: the files are ordinary text."""
    body = b"plain text\n"
    header = rpm_header([
        (1000, 6, "rmg-seed"), (1001, 6, "1.0"), (1002, 6, "1"),
        (1030, 3, [0o100644, 0o100644]),
        (1035, 8, [hashlib.sha256(b"key = 1\n").hexdigest(),
                   hashlib.sha256(body).hexdigest()]),
        (1037, 4, [1, 0]),
        (1116, 4, [0, 1]),
        (1117, 8, ["rmg.conf", "example.txt"]),
        (1118, 8, ["/etc/", "/opt/rmg/"]),
        (5011, 4, [8]),
    ])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rpmdb.sqlite")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,"
                   "blob BLOB NOT NULL)")
        db.execute("INSERT INTO Packages (blob) VALUES (?)", (header,))
        db.commit()
        db.close()
        with open(path, "rb") as f:
            return {"rpmdb.sqlite": b"\x40" + f.read()}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build-fuzz", "seeds")
    out = {}
    lay = layers()
    for name, data in lay.items():
        out[("fuzz_layer", name)] = data
    out[("fuzz_image", "docker-save-whiteouts.tar")] = docker_save([lay["plain"], lay["whiteouts"]])
    out[("fuzz_image", "docker-save-nested.tar.gz")] = gz(docker_save([lay["nested"]], "team/app"))
    out[("fuzz_image", "oci-nested-index.tar")] = oci_archive([lay["layer.tar.gz"],
                                                              lay["whiteouts"]])
    for name, data in manifest_docs().items():
        out[("fuzz_manifest", name)] = data
    for name, data in registry_inputs().items():
        out[("fuzz_registry", name)] = data
    for name, data in config_inputs().items():
        out[("fuzz_config", name)] = data
    for name, data in cache_inputs().items():
        out[("fuzz_cache", name)] = data
    for name, data in engine_inputs().items():
        out[("fuzz_engine", name)] = data
    for name, data in pkgdb_inputs().items():
        out[("fuzz_pkgdb", name)] = data
    for (target, name), data in sorted(out.items()):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{len(out)} seeds written under {root}")


if __name__ == "__main__":
    main()
