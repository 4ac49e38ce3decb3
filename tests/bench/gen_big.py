#!/usr/bin/env python3
"""Big inputs for `make bench` (tests/bench/big.sh), generated at bench time, never stored in
the repository: a single large text file, and a multi-GB docker-save image written to stdout
as a stream (never stored whole on disk), both holding a few planted synthetic secrets.

The text comes from TEXT (the bench corpus: real files from this machine), cut into slices at
seeded random offsets and repeated as needed. The planted secrets are AWS access key IDs made
to be obviously synthetic: AKIA + RMGBENCH + 8 random characters of [A-Z2-7] (the shape the
aws-access-key-id rule checks), each on a line of its own that says it is a benchmark token.
Each value is unique; PLANTED (TSV: path, line, secret) lists where they are, so the bench can
check that rummage found every one of them (the case measures real scanning work).

  gen_big.py text OUT SIZE_BYTES --text TEXT --planted PLANTED [--secrets N] [--seed S]
  gen_big.py image --text TEXT --planted PLANTED [--size-gb G] [--layers N] [--seed S]
             [--file-size BYTES] [--stats STATS.json]  > image.tar

The image has Docker 20.10's legacy `docker save` layout (see /work/shared/IMAGES.md): per
layer a directory named by a layer ID with VERSION, json and an uncompressed layer.tar; the
layer directories sorted by ID (not in layer order: only manifest.json gives the order), then
the image config `<sha256 of it>.json` (rootfs.diff_ids: each layer tar's sha256, history: one
step per layer), manifest.json and repositories, last. Docker writes the whole tree sorted by
name, so its config may come before the layers; a stream writer can only write it after them,
since its name is the hash of a document holding the layers' digests. The layers hold text
files of varied sizes (many of a few KB, some of several MB, a few of up to 128 MB, which
rummage streams in chunks instead of queueing whole) in directories of up to 500 files.
"""
import argparse
import hashlib
import io
import json
import os
import random
import sys
import tarfile

BLOCK = 512
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CHUNK = 1 << 20  # rummage's default chunk size: one secret is planted across this boundary


def pad(n):
    return (BLOCK - n % BLOCK) % BLOCK


def secret_line(rng, n):
    key = "AKIARMGBENCHXXXX"
    while "XXXX" in key:  # rummage takes a run of four X for a mask (a placeholder)
        key = "AKIARMGBENCH" + "".join(rng.choice(KEY_ALPHABET) for _ in range(8))
    line = f"aws_access_key_id = {key}  # synthetic rummage benchmark token {n}, not a credential"
    return key, line.encode()


class Text:
    """Slices of the source text, cyclic, read from offsets chosen by the caller."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < 1 << 20:
            sys.exit(f"{path}: want at least 1 MiB of text, got {len(data)} bytes")
        self.data = data
        self.view = memoryview(data)
        self.n = len(data)

    def pieces(self, off, size):
        """Yields memoryviews making up `size` bytes from `off`, wrapping around."""
        off %= self.n
        while size:
            k = min(size, self.n - off)
            yield self.view[off:off + k]
            size -= k
            off = 0

    def bytes(self, off, size):
        return b"".join(self.pieces(off, size))


def plant(content, pos, line):
    """Overwrites content (bytearray) at pos with "\\n" + line + "\\n" (the secret on a line of
    its own); returns the 1-based line number of the secret and its offset in content."""
    blob = b"\n" + line + b"\n"
    pos = max(0, min(pos, len(content) - len(blob)))
    content[pos:pos + len(blob)] = blob
    return content.count(b"\n", 0, pos + 1) + 1, pos + 1


# ---- a single big text file ---------------------------------------------------------------

def gen_text(args):
    text = Text(args.text)
    rng = random.Random(args.seed)
    size = args.size
    # Secret positions: spread over the file, one across the first 1 MiB chunk boundary, one
    # at the very end.
    n = max(args.secrets, 2)
    positions = sorted({CHUNK - 30} | {size - 120}
                       | {rng.randrange(CHUNK, size - 200) for _ in range(n - 2)})
    planted = []
    tmp = args.out + ".tmp"
    step = 8 << 20
    line_base = 1  # line number at the start of the current piece
    with open(tmp, "wb") as out:
        at = 0
        off = rng.randrange(text.n)
        while at < size:
            k = min(step, size - at)
            piece = text.bytes(off + at, k)
            hits = [p for p in positions if at <= p < at + k]
            if hits:
                piece = bytearray(piece)
                for p in hits:
                    key, line = secret_line(rng, len(planted) + 1)
                    lineno, _ = plant(piece, p - at, line)
                    planted.append((args.out, line_base + lineno - 1, key))
            line_base += piece.count(b"\n")
            out.write(piece)
            at += k
    with open(args.planted, "w") as f:
        for path, line, key in planted:
            f.write(f"{path}\t{line}\t{key}\n")
    os.rename(tmp, args.out)


# ---- a docker-save image stream -----------------------------------------------------------

SIZE_CLASSES = [  # (weight, min, max bytes): log-uniform within each class
    (70, 1 << 10, 32 << 10),
    (25, 32 << 10, 1 << 20),
    (4.5, 1 << 20, 8 << 20),
    (0.5, 8 << 20, 128 << 20),
]


def file_size(rng):
    r = rng.random() * sum(w for w, _, _ in SIZE_CLASSES)
    for w, lo, hi in SIZE_CLASSES:
        if r < w:
            break
        r -= w
    return int(lo * (hi / lo) ** rng.random())


def tar_header(name, size, mode=0o644, kind=tarfile.REGTYPE, mtime=1700000000):
    ti = tarfile.TarInfo(name)
    ti.size = size if kind == tarfile.REGTYPE else 0
    ti.mode = mode
    ti.type = kind
    ti.mtime = mtime
    ti.uname = ti.gname = "root"
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class Out:
    """stdout in writes of about 256 KiB (small pieces gathered); counts bytes; hashes the
    bytes while `md` is set."""

    def __init__(self, f):
        self.f = f
        self.buf = bytearray()
        self.total = 0
        self.md = None

    def write(self, b):
        self.total += len(b)
        if len(b) >= 256 << 10:
            self.flush()
            # Hashed and written 256 KiB at a time, so that the reader is not left waiting
            # while a whole large piece is hashed.
            view = memoryview(b)
            for at in range(0, len(b), 256 << 10):
                piece = view[at:at + (256 << 10)]
                if self.md is not None:
                    self.md.update(piece)
                self.f.write(piece)
            return
        if self.md is not None:
            self.md.update(b)
        self.buf += b
        if len(self.buf) >= 256 << 10:
            self.flush()

    def flush(self):
        if self.buf:
            self.f.write(self.buf)
            self.buf = bytearray()


def plan_layer(rng, index, target, fixed=0):
    """Files (path, size) of layer `index` adding up to about `target` bytes (each `fixed` bytes
    if given, else of sizes drawn from SIZE_CLASSES)."""
    files, total, d = [], 0, 0
    while total < target:
        size = fixed or min(file_size(rng), max(target - total, 1 << 10))
        n = len(files)
        if n % 500 == 0:
            d = n // 500
        files.append((f"srv/gen/layer{index}/d{d:03d}/f{n:06d}.txt", size))
        total += size
    return files


def layer_dirs(files):
    dirs = []
    seen = set()
    for path, _ in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i]) + "/"
            if d not in seen:
                seen.add(d)
                dirs.append(d)
    return dirs


def layer_tar_size(files):
    return (len(layer_dirs(files)) * BLOCK
            + sum(len(tar_header(p, s)) + s + pad(s) for p, s in files) + 2 * BLOCK)


def write_layer(out, text, rng, files, secrets, planted, counter):
    """Writes the layer tar (its size must equal layer_tar_size(files)); `secrets` maps file
    index -> where in the file to plant ("start", "chunk", "end", "middle")."""
    for d in layer_dirs(files):
        out.write(tar_header(d, 0, 0o755, tarfile.DIRTYPE))
    for i, (path, size) in enumerate(files):
        out.write(tar_header(path, size))
        off = rng.randrange(text.n)
        if i in secrets:
            content = bytearray(text.bytes(off, size))
            where = secrets[i]
            pos = {"start": 0, "chunk": CHUNK - 30, "end": size, "middle": size // 2}[where]
            counter[0] += 1
            key, line = secret_line(rng, counter[0])
            lineno, _ = plant(content, pos, line)
            planted.append(("/" + path, lineno, key))
            out.write(bytes(content))
        else:
            for piece in text.pieces(off, size):
                out.write(piece)
        out.write(b"\0" * pad(size))
    out.write(b"\0" * (2 * BLOCK))


def widen_pipe(f, size):
    """Makes the pipe on f hold `size` bytes (Linux F_SETPIPE_SZ) if it is a pipe: with the
    default 64 KiB, a writer of 1 MiB pieces and its reader take turns instead of overlapping."""
    try:
        import fcntl
        fcntl.fcntl(f.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ValueError, AttributeError):
        pass


def gen_image(args):
    text = Text(args.text)
    if args.pipe_size:
        widen_pipe(sys.stdout.buffer, args.pipe_size)
    rng = random.Random(args.seed)
    out = Out(sys.stdout.buffer)
    total_target = int(args.size_gb * 1e9)
    per_layer = total_target // args.layers
    created = "2026-01-01T00:00:00Z"
    layers = []  # (v1 id, files, tar size, secrets)
    for i in range(args.layers):
        files = plan_layer(rng, i + 1, per_layer, args.file_size)
        # Secrets: a small file's start, a middle of a medium one, across the first chunk
        # boundary of a streamed one (> 4 MiB) where there is one, the end of the last file.
        secrets = {}
        small = [k for k, (_, s) in enumerate(files) if s < 32 << 10 and s > 300]
        medium = [k for k, (_, s) in enumerate(files) if (64 << 10) < s <= (4 << 20)]
        big = [k for k, (_, s) in enumerate(files) if s > (4 << 20)]
        if small:
            secrets[rng.choice(small)] = "start"
        if medium:
            secrets[rng.choice(medium)] = "middle"
        if big:
            secrets[rng.choice(big)] = "chunk"
        if files[-1][1] > 300:
            secrets[len(files) - 1] = "end"
        v1 = hashlib.sha256(f"rummage-bench-{args.seed}-layer-{i}".encode()).hexdigest()
        layers.append((v1, files, layer_tar_size(files), secrets))
    planted, counter = [], [0]
    diff_ids = [None] * len(layers)
    # Layer directories in the order of their IDs, as docker save writes them.
    for i in sorted(range(len(layers)), key=lambda k: layers[k][0]):
        v1, files, size, secrets = layers[i]
        out.write(tar_header(f"{v1}/", 0, 0o755, tarfile.DIRTYPE))
        out.write(tar_header(f"{v1}/VERSION", 3))
        out.write(b"1.0" + b"\0" * pad(3))
        meta = {"id": v1, "created": created, "os": "linux",
                "container_config": {"Cmd": [f"/bin/sh -c #(nop) ADD generated text layer {i + 1}"]}}
        if i:
            meta["parent"] = layers[i - 1][0]
        add_bytes(out, f"{v1}/json", json.dumps(meta).encode())
        out.write(tar_header(f"{v1}/layer.tar", size))
        start = out.total
        out.md = hashlib.sha256()
        write_layer(out, text, rng, files, secrets, planted, counter)
        diff_ids[i] = "sha256:" + out.md.hexdigest()
        out.md = None
        if out.total - start != size:
            sys.exit(f"layer {i + 1}: wrote {out.total - start} bytes, planned {size}")
        out.write(b"\0" * pad(size))
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"], "WorkingDir": "/srv/gen"},
        "history": [{"created": created,
                     "created_by": f"/bin/sh -c #(nop) ADD generated text layer {i + 1}"}
                    for i in range(len(layers))],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    cfg = json.dumps(config).encode()
    cfg_hex = hashlib.sha256(cfg).hexdigest()
    add_bytes(out, f"{cfg_hex}.json", cfg)
    tag = "rummage-bench/generated:big"
    add_bytes(out, "manifest.json", json.dumps([{
        "Config": f"{cfg_hex}.json", "RepoTags": [tag],
        "Layers": [f"{v1}/layer.tar" for v1, _, _, _ in layers]}]).encode())
    add_bytes(out, "repositories", json.dumps(
        {"rummage-bench/generated": {"big": layers[-1][0]}}).encode())
    out.write(b"\0" * (2 * BLOCK))
    out.flush()
    sys.stdout.buffer.flush()
    with open(args.planted, "w") as f:
        for path, line, key in planted:
            f.write(f"{path}\t{line}\t{key}\n")
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump({"layers": len(layers), "files": sum(len(l[1]) for l in layers),
                       "layer_bytes": sum(s for _, files, _, _ in layers for _, s in files),
                       "layer_tar_bytes": sum(l[2] for l in layers), "stream_bytes": out.total,
                       "largest_file": max(s for _, files, _, _ in layers for _, s in files),
                       "secrets": len(planted)}, f, indent=1)


def add_bytes(out, name, data):
    out.write(tar_header(name, len(data)))
    out.write(data + b"\0" * pad(len(data)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("text", help="a single big text file")
    t.add_argument("out")
    t.add_argument("size", type=int, help="bytes")
    t.add_argument("--secrets", type=int, default=8)
    i = sub.add_parser("image", help="a docker-save image stream on stdout")
    i.add_argument("--size-gb", type=float, default=10.0, help="layer file bytes, in 1e9")
    i.add_argument("--layers", type=int, default=6)
    i.add_argument("--file-size", type=int, default=0,
                   help="every file this many bytes (e.g. 512 for a million paths per 0.5 GB: "
                        "the memory rummage keeps per path); default: varied sizes")
    i.add_argument("--pipe-size", type=int, default=0,
                   help="make a stdout pipe hold this many bytes (e.g. 1048576: see widen_pipe)")
    i.add_argument("--stats", help="write sizes and counts here (JSON)")
    for s in (t, i):
        s.add_argument("--text", required=True, help="source text (the bench corpus)")
        s.add_argument("--planted", required=True, help="write path, line, secret here (TSV)")
        s.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.cmd == "text":
        gen_text(args)
    else:
        if sys.stdout.isatty():
            sys.exit("gen_big.py image writes a tar stream: redirect or pipe stdout")
        gen_image(args)


if __name__ == "__main__":
    main()
