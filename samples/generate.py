#!/usr/bin/env python3
"""Renders samples/leaky-app into OUT_DIR with freshly generated, synthetic secrets.

The repository holds no credential, real or fake: every @NAME@ marker in the sample is replaced
here by a random value in the right format (valid checksums where the format has one), so the
demo and the tests scan realistic secrets that exist only in the build tree.
Usage: samples/generate.py OUT_DIR [SEED]
"""
import os
import random
import shutil
import string
import subprocess
import sys
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
    }


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
                text = text.replace("@" + key + "@", val)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    # A deploy key, made fresh (throwaway, never used anywhere).
    key = os.path.join(out, "config", "deploy_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploy@leaky-app",
                    "-f", key], check=True)
    os.remove(key + ".pub")


if __name__ == "__main__":
    main()
