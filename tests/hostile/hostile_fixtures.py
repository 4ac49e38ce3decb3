#!/usr/bin/env python3
"""hostile_fixtures.py: hostile inputs for tests/hostile/test_hostile.py, made at test time.

Nothing here is stored in the repository: every tar, layer, image, bomb and rules file is
written by the functions below, in the test's own temporary directory, around secrets the test
generates for the run. Hostile images are assembled by hand (Python's tarfile, gzip, lzma,
bz2, zlib; the zstd CLI for zstd) because the real tools refuse to write them: `../` and
absolute names, link loops, escape sequences in names, a manifest pointing outside the archive.

Bombs cost what their compressed size costs, not what they expand to: a deflate stream of
zeros is made of one 1 MiB block compressed once (after a full flush the compressor's output
for the same input repeats byte for byte) and repeated, and its CRC-32 is computed with zlib's
crc32_combine algorithm (GF(2) matrices), never over the expanded bytes; bzip2 bombs are
concatenated bzip2 streams of zeros. Files of gigabytes are
sparse on disk (a hole instead of written zeros).

Usage as a program (to look at them): hostile_fixtures.py OUT_DIR  writes a few samples.
"""
import bz2
import copy
import functools
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "images"))
from fixtures import MT_INDEX, MT_LAYER_TAR, MT_MANIFEST, REF_NAME, sha256_hex  # noqa: E402

MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {None: MT_LAYER_TAR, "gzip": MT_LAYER_TAR + "+gzip", "zstd": MT_LAYER_TAR + "+zstd",
            "xz": MT_LAYER_TAR + "+xz", "bzip2": MT_LAYER_TAR + "+bzip2"}
MiB, GiB = 1 << 20, 1 << 30


# ------------------------------------------------------------------------------- tar


def _name(n):
    """A tar name from str or bytes (bytes may be any, invalid UTF-8 included)."""
    return n.decode("utf-8", "surrogateescape") if isinstance(n, bytes) else n


def entry(name, data=b"", kind="file", link="", mode=None, size=None):
    """One tar entry: kind file, dir, symlink, hardlink, fifo, char, block. `size` overrides
    the header's size (a lie: the data written is still `data`)."""
    ti = tarfile.TarInfo(_name(name))
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
               "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
               "block": tarfile.BLKTYPE}[kind]
    ti.linkname = _name(link)
    ti.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
    ti.mtime = 0
    data = data.encode() if isinstance(data, str) else data
    ti.size = len(data) if kind == "file" else 0
    return ti, data, size


def tar(entries, fmt=tarfile.GNU_FORMAT, end=True):
    """A tar archive in memory from entry() tuples (or (name, data) pairs for files); without
    `end`, no end-of-archive blocks (more members may be appended)."""
    out = []
    for e in entries:
        if not isinstance(e[0], tarfile.TarInfo):
            data = e[1].encode() if isinstance(e[1], str) else e[1]
            if isinstance(e[0], str) and len(e[0]) < 100 and e[0].isascii():
                out.append(_plain_header(e[0], len(data)))  # the common case, fast
                out.append(data + pad512(len(data)))
                continue
            e = entry(*e)
        ti, data, size = e
        if size is None:
            out.append(ti.tobuf(fmt, "utf-8", "surrogateescape"))
        else:  # a header that lies about the size
            out.append(_header(ti, size))
        out.append(data + pad512(len(data)))
    if end:
        out.append(b"\0" * 1024)
    return b"".join(out)


_PLAIN = bytearray(entry("x")[0].tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
_PLAIN[0:100] = bytes(100)
_PLAIN[124:136] = bytes(12)
_PLAIN[148:156] = b"        "
_PLAIN_SUM = sum(_PLAIN)


def _plain_header(name, size):
    """What entry(name, data) gives for a short ASCII name, without tarfile's overhead."""
    h = bytearray(_PLAIN)
    nb, sb = name.encode(), b"%011o\0" % size
    h[0:len(nb)] = nb
    h[124:136] = sb
    h[148:156] = b"%06o\0 " % (_PLAIN_SUM + sum(nb) + sum(sb))
    return bytes(h)


def _header(ti, size):
    ti = copy.copy(ti)
    ti.size = 0
    hdr = bytearray(ti.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
    h = hdr[-512:]
    if size < 8 ** 11:
        h[124:136] = b"%011o\0" % size
    else:  # GNU base-256
        h[124:136] = b"\x80" + size.to_bytes(11, "big")
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    hdr[-512:] = h
    return bytes(hdr)


def tar_file_header(name, size):
    """The 512-byte (or longer, GNU long name) header of a regular file of `size` bytes."""
    return _header(entry(name)[0], size)


def pad512(n):
    return b"\0" * (-n % 512)


def compress(data, how):
    if how is None:
        return data
    if how == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if how == "xz":
        return lzma.compress(data)
    if how == "bzip2":
        return bz2.compress(data)
    if how == "zstd":
        return subprocess.run([_tool("zstd"), "-q", "-c", "-3"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    raise ValueError(how)


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"'{name}' is not installed (Debian: apt-get install {name})")
    return path


# -------------------------------------------------------------------- zeros, cheaply

_ZCHUNK = 16 * MiB


def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """zlib's crc32_combine: the CRC-32 of A+B from crc(A), crc(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


@functools.lru_cache(maxsize=None)
def crc32_fill(n, byte=0):
    """CRC-32 of n copies of one byte, without making them."""
    crc, block, blen = 0, zlib.crc32(bytes([byte]) * 4096), 4096
    whole, rest = divmod(n, 4096)
    while whole:  # binary doubling of the 4 KiB block
        if whole & 1:
            crc = crc32_combine(crc, block, blen)
        block, blen = crc32_combine(block, block, blen), blen * 2
        whole >>= 1
    return crc32_combine(crc, zlib.crc32(bytes([byte]) * rest), rest)


@functools.lru_cache(maxsize=None)
def _deflated_mib(byte):
    """1 MiB of one byte as deflate blocks that stand alone (no back-reference before them,
    ending on a byte boundary): repeating them inflates to that many MiB."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    co.compress(bytes([byte]) * MiB)
    co.flush(zlib.Z_FULL_FLUSH)
    return co.compress(bytes([byte]) * MiB) + co.flush(zlib.Z_FULL_FLUSH)


def deflate_pieces(pieces):
    """A raw deflate stream of the concatenation of pieces: bytes as they are, or (byte, n),
    a run of n copies of one byte (n a multiple of 1 MiB) made of one compressed 1 MiB block
    repeated. Returns (stream, crc32, length) of what it inflates to."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    out, crc, total = [], 0, 0
    for p in pieces:
        if isinstance(p, tuple):
            byte, n = p
            assert n % MiB == 0
            out.append(co.flush(zlib.Z_FULL_FLUSH))  # byte-aligned, no history: splice here
            out.append(_deflated_mib(byte) * (n // MiB))
            crc = crc32_combine(crc, crc32_fill(n, byte), n)
        else:
            out.append(co.compress(p))
            crc, n = zlib.crc32(p, crc), len(p)
        total += n
    out.append(co.flush(zlib.Z_FINISH))
    return b"".join(out), crc, total


def gzip_pieces(pieces):
    """gzip of the concatenation of pieces (see deflate_pieces): a bomb costs its compressed
    size, not what it expands to."""
    body, crc, total = deflate_pieces(pieces)
    hdr = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return hdr + body + struct.pack("<II", crc, total & 0xFFFFFFFF)


def gzip_zeros(prefix, n_zeros):
    """gzip of prefix + n_zeros zero bytes (a gzip bomb when n_zeros is large)."""
    return gzip_pieces([prefix, (0, n_zeros)])


def bzip2_zeros(prefix, n_zeros, suffix=b""):
    """bzip2 of prefix + n_zeros zero bytes + suffix, as concatenated bzip2 streams (which
    bzip2 and libarchive read as one): one stream of 16 MiB of zeros is made once and repeated,
    so 64 GiB of zeros cost about 200 KB and a fraction of a second. n_zeros: a multiple of
    16 MiB, at least 16 MiB + len(prefix)."""
    assert n_zeros % _ZCHUNK == 0 and n_zeros >= _ZCHUNK
    first = bz2.compress(prefix + bytes(_ZCHUNK - len(prefix)))
    block = bz2.compress(bytes(_ZCHUNK))
    last = bz2.compress(bytes(len(prefix)) + suffix)
    return first + block * (n_zeros // _ZCHUNK - 1) + last


def zip_archive(members):
    """A zip in memory from [(name, data) | (name, ("zeros", N))]: deflated entries; an entry
    of ("zeros", N) is N zero bytes deflated cheaply (N a multiple of 1 MiB, < 4 GiB)."""
    out, central = io.BytesIO(), []
    for name, data in members:
        nb = name.encode() if isinstance(name, str) else name
        if isinstance(data, tuple):
            comp, crc, usize = deflate_pieces([(0, data[1])])
        else:
            data = data.encode() if isinstance(data, str) else data
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            comp = co.compress(data) + co.flush()
            crc, usize = zlib.crc32(data), len(data)
        off = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(comp),
                              usize, len(nb), 0) + nb)
        out.write(comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                                   len(comp), usize, len(nb), 0, 0, 0, 0, 0o644 << 16, off) + nb)
    cd = out.tell()
    for c in central:
        out.write(c)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - cd, cd, 0))
    return out.getvalue()


# ------------------------------------------------------------------------------ images


def config_doc(diff_ids, history=None, env=None, extra=None):
    """An image config: linux/amd64, rootfs.diff_ids, a history step per layer."""
    cfg = {"architecture": "amd64", "os": "linux",
           "config": {"Env": env or ["PATH=/usr/bin:/bin"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids},
           "history": history if history is not None else
           [{"created_by": f"COPY layer{i} /"} for i in range(len(diff_ids))]}
    if extra:
        cfg.update(extra)
    return cfg


def _json(doc):
    return doc if isinstance(doc, bytes) else json.dumps(doc, separators=(",", ":")).encode()


class Layer:
    """A layer: its tar (uncompressed) and how it is stored. `blob` overrides the stored
    bytes (damaged, not a tar...); `diff_id` defaults to the tar's digest."""

    def __init__(self, tar_bytes, how=None, blob=None):
        self.tar, self.how = tar_bytes, how
        self.blob = blob if blob is not None else compress(tar_bytes, how)
        self.diff_id = "sha256:" + sha256_hex(tar_bytes)
        self.digest = "sha256:" + sha256_hex(self.blob)


def docker_archive(out, layers, config=None, manifest=None, entries_before=(),
                   entries_after=(), tag="hostile:1.0", fmt=tarfile.GNU_FORMAT,
                   names=None):
    """A docker-save file (legacy layout: <n>.tar layers, a config JSON, manifest.json last).
    `config` (a doc or bytes) defaults to config_doc; `manifest` (a doc or bytes) defaults to
    the one naming the layers; `names` overrides the layer entry names; extra entries (tar
    entry tuples) go before the layers or after manifest.json."""
    names = names or [f"{i:04d}/layer.tar" for i in range(len(layers))]
    cfg = _json(config if config is not None else
                config_doc([layer.diff_id for layer in layers]))
    cfg_name = sha256_hex(cfg) + ".json"
    man = _json(manifest if manifest is not None else
                [{"Config": cfg_name, "RepoTags": [tag], "Layers": names}])
    ents = list(entries_before)
    ents += [entry(n, layer.blob) for n, layer in zip(names, layers)]
    ents += [entry(cfg_name, cfg), entry("manifest.json", man)]
    ents += list(entries_after)
    Path(out).write_bytes(tar(ents, fmt))
    return Path(out)


def oci_layout(d, layers, config=None, manifest=None, index=None, ref="hostile"):
    """An OCI image layout directory: blobs for each layer, the config and the manifest;
    index.json naming the manifest as `ref`. Docs or bytes override each."""
    d = Path(d)
    (d / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (d / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    for layer in layers:
        put_blob(d, layer.blob)
    cfg = _json(config if config is not None else
                config_doc([layer.diff_id for layer in layers]))
    cdig = put_blob(d, cfg)
    man = _json(manifest if manifest is not None else {
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cdig, "size": len(cfg)},
        "layers": [{"mediaType": MT_LAYER[layer.how], "digest": layer.digest,
                    "size": len(layer.blob)} for layer in layers]})
    mdig = put_blob(d, man)
    idx = _json(index if index is not None else {
        "schemaVersion": 2, "mediaType": MT_INDEX,
        "manifests": [{"mediaType": MT_MANIFEST, "digest": mdig, "size": len(man),
                       "annotations": {REF_NAME: ref}}]})
    (d / "index.json").write_bytes(idx)
    return d


def put_blob(d, data, digest=None):
    """Writes a blob into layout d (under its own digest unless told another); its digest."""
    digest = digest or "sha256:" + hashlib.sha256(data).hexdigest()
    p = Path(d) / "blobs" / "sha256" / digest.split(":", 1)[1]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return digest


def config_name(config):
    """The entry name docker_archive gives a config (its digest + .json)."""
    return sha256_hex(_json(config)) + ".json"


def read_manifest(d):
    """The bytes of the manifest index.json's first entry names, in layout d."""
    return blob_bytes(d, index_digest(d))


def index_digest(d):
    return json.loads((Path(d) / "index.json").read_text())["manifests"][0]["digest"]


def blob_bytes(d, digest):
    return (Path(d) / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()


def set_manifest(d, man):
    """Writes manifest man as a blob of layout d and points index.json's first entry at it;
    returns its digest."""
    data = _json(man)
    digest = put_blob(d, data)
    idx = json.loads((Path(d) / "index.json").read_text())
    idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = digest, len(data)
    (Path(d) / "index.json").write_text(json.dumps(idx))
    return digest


def sparse_docker_archive(path, files, tag="big:1.0"):
    """A docker-save file whose one layer (uncompressed) holds [(name, size, tail)] files of
    `size` bytes, zeros then `tail`; the zeros are holes on disk, so a 2 GiB file costs
    nothing. The config's diff_id is a placeholder (hashing gigabytes would cost seconds;
    rummage does not check it)."""
    layer_size = sum(len(tar_file_header(n, sz)) + sz + len(pad512(sz)) for n, sz, _ in files)
    layer_size += 1024
    cfg = _json(config_doc(["sha256:" + "0" * 64]))
    man = _json([{"Config": "config.json", "RepoTags": [tag], "Layers": ["0000/layer.tar"]}])
    with open(path, "wb") as f:
        f.write(tar_file_header("0000/layer.tar", layer_size))
        for name, size, tail in files:
            f.write(tar_file_header(name, size))
            f.seek(size - len(tail), os.SEEK_CUR)
            f.write(tail)
            f.write(pad512(size))
        f.write(b"\0" * 1024)
        f.write(pad512(layer_size))
        f.write(tar([entry("config.json", cfg), entry("manifest.json", man)]))
    return Path(path)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    good = Layer(tar([("etc/motd", "hello\n")]), "gzip")
    evil = Layer(tar([("../../etc/x", "x\n"), ("/abs", "y\n"),
                      ("esc\x1b[31m", "z\n")]), "gzip")
    print(docker_archive(out / "names.tar", [good, evil]))
    (out / "bomb.gz").write_bytes(gzip_zeros(b"", GiB))
    print(out / "bomb.gz", "(1 GiB of zeros)")
    (out / "bomb.zip").write_bytes(zip_archive([("zeros.bin", ("zeros", GiB))]))
    print(out / "bomb.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
