#!/usr/bin/env python3
"""Renders samples/leaky-app into OUT_DIR with freshly generated, synthetic secrets.

The repository holds no credential, real or fake: every {{NAME}} marker in the sample is
replaced here by a random value in the right format (valid checksums where the format has one),
so the demo and the tests scan realistic secrets that exist only in the build tree. (A template
marker is what rummage's placeholder test drops: the unrendered sample scans clean.)
A directory named *.jar or *.zip in the sample is packed into an archive of that name (a nested
archive for the scanner), and files that start with "#!" are made executable.
Usage: samples/generate.py OUT_DIR [SEED]
"""
import os
import random
import shutil
import string
import subprocess
import sys
import zipfile
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def rand(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def base62(n, width=6):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def checksummed(rng, prefix):
    body = rand(rng, string.ascii_letters + string.digits, 30)
    return prefix + body + base62(zlib.crc32(body.encode()))


def secrets(rng):
    alnum = string.ascii_letters + string.digits
    return {
        "GITHUB_TOKEN": checksummed(rng, "ghp_"),
        "NPM_TOKEN": checksummed(rng, "npm_"),
        "AWS_KEY_ID": "AKIA" + rand(rng, string.ascii_uppercase + "234567", 16),
        "AWS_SECRET": rand(rng, alnum + "+/", 40),
        "STRIPE_KEY": "sk_live_" + rand(rng, alnum, 24),
        "DB_PASSWORD": rand(rng, alnum, 18),
        "SLACK_HOOK": "T" + rand(rng, string.ascii_uppercase + string.digits, 8) + "/B"
        + rand(rng, string.ascii_uppercase + string.digits, 8) + "/" + rand(rng, alnum, 24),
        "OPENAI_KEY": "sk-proj-" + rand(rng, alnum, 74) + "T3BlbkFJ" + rand(rng, alnum, 74),
        "DEPLOY_TOKEN": rand(rng, alnum, 40),
        # last, so that a given SEED keeps giving the values above
        "BILLING_DB_PASSWORD": password(rng, 20),
    }


def password(rng, n):
    """A generated password: letters, digits and a few symbols, with at least one digit and
    one symbol (what a password policy asks for). It starts with a letter: a leading "!", "#"
    or "%" would mean something else in YAML."""
    while True:
        value = rng.choice(string.ascii_letters) + rand(
            rng, string.ascii_letters + string.digits + "!#%+=~", n - 1)
        if any(c.isdigit() for c in value) and any(c in "!#%+=~" for c in value):
            return value


def pack(directory):
    """Replaces DIRECTORY (named x.jar or x.zip) by a zip archive of its files, with a fixed
    timestamp and META-INF/MANIFEST.MF first as in a real jar."""
    names = []
    for root, _, files in os.walk(directory):
        names += [os.path.relpath(os.path.join(root, f), directory) for f in files]
    names.sort(key=lambda n: (n != os.path.join("META-INF", "MANIFEST.MF"), n))
    tmp = directory + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name in names:
            info = zipfile.ZipInfo(name.replace(os.sep, "/"), date_time=(2024, 5, 2, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(directory, name), "rb") as f:
                z.writestr(info, f.read())
    shutil.rmtree(directory)
    os.rename(tmp, directory)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    rng = random.Random(sys.argv[2] if len(sys.argv) > 2 else None)
    values = secrets(rng)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "leaky-app")
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(src, out)
    for root, _, files in os.walk(out):
        for name in files:
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for key, val in values.items():
                text = text.replace("{{" + key + "}}", val)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            if text.startswith("#!"):
                os.chmod(path, 0o755)
    for root, dirs, _ in os.walk(out, topdown=False):
        for name in dirs:
            if name.endswith((".jar", ".zip")):
                pack(os.path.join(root, name))
    # A deploy key, made fresh (throwaway, never used anywhere).
    key = os.path.join(out, "config", "deploy_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy@leaky-app",
                    "-f", key], check=True)
    os.remove(key + ".pub")


if __name__ == "__main__":
    main()
