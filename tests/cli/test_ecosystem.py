#!/usr/bin/env python3
"""test_ecosystem.py: where users meet rummage outside its own binary.

  docs/rummage.1                   generated from `rummage --help` by tools/gen_man.py: it is
                                   current, renders without a warning, holds every line of
                                   the help; the generator follows the help and refuses prose
                                   about an option the help lacks
  contrib/completion/rummage.bash  loaded by bash; commands, options per command (compared
  contrib/completion/_rummage      with the help), option values (compared with what the
                                   binary accepts), target prefixes and paths; both shells are
                                   also driven for real, in a pseudo-terminal
  contrib/docker-rummage           the Docker CLI plugin: the metadata handshake, argument
                                   rewriting (a fake rummage logs what it is given), Docker's
                                   global options and contexts, discovery by the real docker
                                   CLI, and a real scan of images in a private dockerd
  contrib/rummage-push-guard       pushes only after a clean scan (fake rummage and docker;
                                   then the real ones against a private dockerd)
  contrib/hooks/pre-commit, pre-push   in temporary git repositories, with a fake rummage
                                   (what is scanned) and the real one (what is refused)
  docs/ci.md                       every rummage command line of the recipes runs, on an image
                                   built here with umoci and skopeo, and its reports parse
  the repository itself            scanning the binary, the man page, patterns/ and every
                                   tracked file finds nothing, nor does `rummage context` on the
                                   tree with the built binaries and .pyc files; patterns/*.json
                                   hold their examples as fragments (tools/examples.py check,
                                   round trip), and the binary holds no example whole

Secrets are generated at test time (a GitHub token with a valid checksum). Same harness as
test_cli.py: TAP output, exit 1 if a test failed, `python3 tests/cli/test_ecosystem.py
NAME...` runs some, RUMMAGE is the binary. Tools: bash, zsh, man, groff, git, docker (CLI and
dockerd), umoci, skopeo; a missing one fails the tests that need it.
"""
import io
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "images"))
from test_cli import run_suite  # noqa: E402  (the shared TAP runner)
from test_cli import RUMMAGE, Result, check, github_token, write  # noqa: E402
import fixtures as fx  # noqa: E402  (tests/images/fixtures.py: running_dockerd, Umoci, sh)

ROOT = HERE.parents[1]
GEN = ROOT / "tools" / "gen_man.py"
MAN = ROOT / "docs" / "rummage.1"
BASH_COMP = ROOT / "contrib" / "completion" / "rummage.bash"
ZSH_COMP = ROOT / "contrib" / "completion" / "_rummage"
PLUGIN = ROOT / "contrib" / "docker-rummage"
GUARD = ROOT / "contrib" / "rummage-push-guard"
HOOKS = ROOT / "contrib" / "hooks"
CI_DOC = ROOT / "docs" / "ci.md"

# ---------------------------------------------------------------------------- harness

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    check(path is not None, f"'{name}' is not installed (the Makefile's deps install it)")
    return path


def proc(cmd, env=None, cwd=None, input=None, timeout=120, clean_env=False):
    e = {} if clean_env else dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}  # None: unset
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=cwd, env=e, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        raise AssertionError(f"timed out after {timeout}s: {cmd}") from ex
    return Result(cmd, p.returncode, p.stdout, p.stderr)


def expect(res, rc, what=""):
    check(res.rc == rc, f"expected exit {rc}{' (' + what + ')' if what else ''}, got {res.rc}",
          res)


def rummage_help():
    res = proc([RUMMAGE, "--help"])
    expect(res, 0, "rummage --help")
    return res.out.decode()


def rummage_version():
    res = proc([RUMMAGE, "--version"])
    expect(res, 0, "rummage --version")
    return res.out.decode().split()[1]


# ------------------------------------------------------------------ the help, parsed here
#
# Deliberately not tools/gen_man.py's parser: what the generated files hold is compared with
# this independent reading of the same text.


def help_sections(text):
    """{section title: [lines]} of the help."""
    out, cur = {}, None
    for line in text.split("\n"):
        if line and line[0] != " " and line.endswith(":"):
            cur = out.setdefault(line[:-1], [])
        elif line.startswith(" ") and cur is not None:
            cur.append(line)
        elif line and line[0] != " ":
            cur = None
    return out


def option_names(lines):
    names = []
    for line in lines:
        m = re.match(r"^\s{1,7}(-\S.*?)(?:\s{2,}|$)", line)
        if m:
            names += re.findall(r"(?:^|, )(--?[A-Za-z0-9][\w-]*)", m[1])
    return list(dict.fromkeys(names))


def help_commands(text):
    """{command: option names} from the usage lines, as the help describes them."""
    secs = help_sections(text)
    general = option_names(secs["Options"])
    out = {}
    for line in secs["Usage"]:
        m = re.match(r"^\s+rummage ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)\b(.*)$", line)
        if not m:
            continue
        words = m[1].split()
        if len(words) == 2 and not re.fullmatch(r"[a-z]+", words[1]):
            words = words[:1]
        rest = line.split(" ".join(words), 1)[1]
        if len(words) == 2 and words[1].upper() == words[1]:
            words = words[:1]
        name = " ".join(words)
        own = option_names(secs.get(f"{words[0].capitalize()} options", []))
        if "[OPTIONS]" in rest:
            opts = own + [o for o in general if o not in own]
        else:
            opts = own + re.findall(r"\[(--?[a-z][\w-]*)", rest.split("  ")[0])
        out[name] = opts
    return out


def help_transports(text):
    return [m[1] for line in help_sections(text)["Targets"]
            if (m := re.match(r"^\s+([a-z][a-z0-9-]*:(?://)?)", line))]


def accepted(cmd, option, value, cwd):
    """Does the binary take `option value` (no usage error)?"""
    empty = Path(cwd) / "empty.txt"
    empty.write_bytes(b"")
    args = [RUMMAGE, *cmd.split(), "--no-config", option, value]
    if cmd in ("scan", "baseline"):
        args.append(empty)
    elif cmd == "context":
        args.append(cwd)
    res = proc(args, cwd=cwd)
    return res.rc in (0, 1) and b"Try 'rummage --help'" not in res.err, res


def binary_values(cmd, option, cwd):
    """The values the binary takes for an option: the words of its error for a bad value
    that it then accepts."""
    ok, res = accepted(cmd, option, "zz-not-a-value", cwd)
    check(not ok, f"{cmd} {option} takes any value?", res)
    words = set(re.findall(r"[a-z][a-z0-9-]*", res.err.decode())) - {"zz", "not", "a", "value"}
    return {w for w in words if accepted(cmd, option, w, cwd)[0]}


# ---------------------------------------------------------------------------- fakes

FAKE_RUMMAGE = r'''#!/usr/bin/env python3
# A stand-in for rummage: logs its arguments, DOCKER_HOST and the files of every directory
# target to $FAKE_LOG (one JSON line per run); exits $FAKE_RC, or with FAKE_RC=secret 1 when
# a scanned file holds FAKE-SECRET.
import json, os, sys
args = sys.argv[1:]
rec = {"argv": args, "DOCKER_HOST": os.environ.get("DOCKER_HOST"), "cwd": os.getcwd(),
       "trees": {}}
for a in args:
    p = a[4:] if a.startswith("dir:") else a
    if os.path.isdir(p):
        files = {}
        for d, _, fs in os.walk(p):
            for f in fs:
                full = os.path.join(d, f)
                if not os.path.islink(full):
                    with open(full, "rb") as fh:
                        files[os.path.relpath(full, p)] = fh.read().decode("utf-8", "replace")
        rec["trees"][a] = files
if os.environ.get("FAKE_LOG"):
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps(rec) + "\n")
if "--version" in args[:2] or args[:1] == ["version"]:
    print("rummage 9.8.7-test (1 rules, rule set 0123456789abcdef, pcre2)")
    sys.exit(0)
if "--help" in args:
    print("FAKE RUMMAGE HELP")
    sys.exit(0)
rc = os.environ.get("FAKE_RC", "0")
if rc == "secret":
    sys.exit(1 if any("FAKE-SECRET" in c for t in rec["trees"].values() for c in t.values())
             else 0)
sys.exit(int(rc))
'''

FAKE_DOCKER = r'''#!/usr/bin/env python3
# A stand-in for the docker CLI: logs to $FAKE_DOCKER_LOG; `context inspect [NAME]` prints
# $FAKE_CONTEXTS[NAME or ""] (JSON), `image inspect` the next id of $FAKE_IDS (comma list;
# empty: no such image), `image ls` $FAKE_IMAGES, `push` exits $FAKE_PUSH_RC. With
# $REAL_DOCKER, `image inspect` is the real one.
import json, os, sys
a = sys.argv[1:]
if os.environ.get("FAKE_DOCKER_LOG"):
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as f:
        f.write(json.dumps({"argv": a, "DOCKER_HOST": os.environ.get("DOCKER_HOST")}) + "\n")
if a[:2] == ["context", "inspect"]:
    rest, skip = [], False
    for x in a[2:]:
        if skip:
            skip = False
        elif x in ("--format", "-f"):
            skip = True
        else:
            rest.append(x)
    ctx = json.loads(os.environ.get("FAKE_CONTEXTS", "{}"))
    name = rest[0] if rest else ""
    if name not in ctx:
        print(f"context {name!r} not found", file=sys.stderr)
        sys.exit(1)
    print(ctx[name])
elif a[:2] == ["image", "inspect"]:
    if os.environ.get("REAL_DOCKER"):
        os.execv(os.environ["REAL_DOCKER"], [os.environ["REAL_DOCKER"], *a])
    ids = [i for i in os.environ.get("FAKE_IDS", "").split(",") if i]
    state = os.environ["FAKE_STATE"]
    n = int(open(state).read()) if os.path.exists(state) else 0
    open(state, "w").write(str(n + 1))
    if not ids:
        print("Error: No such image", file=sys.stderr)
        sys.exit(1)
    print(ids[min(n, len(ids) - 1)])
elif a[:2] == ["image", "ls"]:
    print(os.environ.get("FAKE_IMAGES", ""))
elif a[:1] == ["push"]:
    sys.exit(int(os.environ.get("FAKE_PUSH_RC", "0")))
'''


def fakes(tmp):
    """bin/ with a fake rummage and docker; returns (bin dir, env for them)."""
    b = tmp / "fakebin"
    write(b / "rummage", FAKE_RUMMAGE, mode=0o755)
    write(b / "docker", FAKE_DOCKER, mode=0o755)
    env = {"PATH": f"{b}:{os.environ['PATH']}", "FAKE_LOG": str(tmp / "rummage.log"),
           "FAKE_DOCKER_LOG": str(tmp / "docker.log"), "FAKE_STATE": str(tmp / "docker.state"),
           "RUMMAGE": str(b / "rummage")}
    return b, env


def calls(tmp, which="rummage"):
    p = tmp / f"{which}.log"
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines()]


def reset_logs(tmp):
    for n in ("rummage.log", "docker.log", "docker.state"):
        (tmp / n).unlink(missing_ok=True)


# ------------------------------------------------------------------------ man page


@test
def generated_files_are_current(tmp):
    """docs/rummage.1 and the generated blocks of the completions and the plugin are what
    tools/gen_man.py makes of today's --help (run it after changing the help)."""
    res = proc([sys.executable, GEN, "--check", "--rummage", RUMMAGE])
    if res.rc != 0:
        proc([sys.executable, GEN, "--out", tmp / "fresh", "--rummage", RUMMAGE])
        diffs = []
        for rel in ("docs/rummage.1", "contrib/completion/rummage.bash",
                    "contrib/completion/_rummage", "contrib/docker-rummage"):
            d = proc(["diff", "-u", ROOT / rel, tmp / "fresh" / rel])
            if d.rc:
                diffs.append(d.out.decode()[:1500])
        raise AssertionError("stale generated files: run tools/gen_man.py\n"
                             + res.err.decode() + "\n".join(diffs))


def render(page, width=80):
    man = tool("man")
    res = proc([man, "--warnings", "-l", page],
               env={"MANWIDTH": str(width), "MANPAGER": "cat", "PAGER": "cat",
                    "LC_ALL": "C.UTF-8", "MAN_KEEP_FORMATTING": ""})
    expect(res, 0, "man -l")
    check(not res.err.strip(), "man --warnings reports problems", res)
    return re.sub(r".\x08", "", res.out.decode())


@test
def man_page_renders_cleanly(tmp):
    proc([sys.executable, GEN, "--out", tmp, "--rummage", RUMMAGE])
    for page in (MAN, tmp / "docs" / "rummage.1"):
        text = render(page)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "TARGETS", "OPTIONS",
                        "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
            check(re.search(rf"^{section}$", text, re.M), f"{page}: no {section} section")
        res = proc([tool("groff"), "-man", "-ww", "-z", page])
        expect(res, 0, "groff")
        check(not res.err.strip(), f"groff -ww warns about {page}", res)
        res = proc([tool("groff"), "-man", "-Tascii", page])
        check(not re.search(rb"[^\x00-\x7f]", res.out), "non-ASCII in -Tascii output")


def norm(s):
    s = s.replace("`", "")
    return re.sub(r"\s+", " ", s).strip()


@test
def man_page_holds_every_help_line(tmp):
    """Every entry of --help (term and description), the summary and every note are in the
    rendered page, word for word; ENVIRONMENT names NO_COLOR and, with the docker-daemon:
    transport, DOCKER_HOST."""
    page = norm(render(MAN, width=250))
    text = rummage_help()
    summary = text.split("\n")[0].split(": ", 1)[1].rstrip(".")
    check(norm(summary) in page, f"summary missing: {summary!r}")
    entry, note = None, False
    entries = []
    for line in text.split("\n")[1:]:
        if not line.strip() or (line[0] != " " and line.endswith(":")):
            entry, note = None, False
            continue
        indent = len(line) - len(line.lstrip())
        if line[0] != " " and note:
            entry[0] += " " + line.strip()
        elif line[0] != " ":  # a note: "Label: text" (EXIT STATUS holds only the text)
            check(": " in line, f"a note without a label: {line!r}")
            entries.append([line.split(": ", 1)[1].strip(), ""])
            entry, note = entries[-1], True
        elif indent < 8:
            parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            if len(parts) == 1 and " " in parts[0] and not parts[0].startswith(("-", "rummage")):
                parts = parts[0].split(None, 1)
            entries.append([parts[0], parts[1] if len(parts) > 1 else ""])
            entry = entries[-1]
        elif entry is not None:
            entry[1] += " " + line.strip()
    check(len(entries) > 30, f"only {len(entries)} help entries parsed")
    missing = [e for e in entries
               if norm(e[0]) not in page or (e[1] and norm(e[1]) not in page)]
    check(not missing, "help entries not in the man page:\n" +
          "\n".join(f"  {t!r}: {d!r}" for t, d in missing[:10]))
    env = page.split(" ENVIRONMENT ", 1)[1].split(" FILES ", 1)[0]
    check("NO_COLOR" in env, "ENVIRONMENT lacks NO_COLOR")
    if "docker-daemon:" in text:
        check("DOCKER_HOST" in env, "ENVIRONMENT lacks DOCKER_HOST")
    check(".rummage.json" in page.split(" FILES ", 1)[1], "FILES lacks .rummage.json")


def fake_help_binary(tmp, help_text):
    write(tmp / "help.txt", help_text)
    write(tmp / "fake-rummage",
          "#!/bin/sh\ncase $1 in --help) cat \"$(dirname \"$0\")/help.txt\" ;;\n"
          "--version) echo 'rummage 0.0.1 (1 rules, rule set 0, pcre2)' ;; *) exit 2 ;; esac\n",
          mode=0o755)
    return tmp / "fake-rummage"


@test
def generator_follows_the_help(tmp):
    """A new option and a new --format value in the help reach the man page, both
    completions and the plugin's tables; prose naming an option the help lost stops the
    generator (exit 2, naming it); so does a help line it cannot place."""
    text = rummage_help()
    check("--show-secrets" in text, "the help has --show-secrets (the prose names it)")
    fmt = re.search(r"^  -f, --format FORMAT +(\S.*?) \(default\)", text, re.M)
    check(fmt, "the help's --format line starts 'text (default)'")
    more = text.replace("  -q, --quiet ",
                        "      --dry-run           scan nothing\n  -q, --quiet ", 1)
    more = more.replace(" (default)", " (default), yaml", 1)
    binary = fake_help_binary(tmp / "a", more)
    res = proc([sys.executable, GEN, "--out", tmp / "out", "--rummage", binary])
    expect(res, 0, "gen_man.py on the extended help")
    man = (tmp / "out/docs/rummage.1").read_text()
    check("\\-\\-dry\\-run" in man and "scan nothing" in man,
          "the new option is not in the man page")
    bash = (tmp / "out/contrib/completion/rummage.bash").read_text()
    check(re.search(r"_rummage_opts_scan='[^']*--dry-run", bash), "bash table lacks --dry-run")
    check(re.search(r"--format=text,yaml,", bash), "bash table lacks the value yaml")
    zsh = (tmp / "out/contrib/completion/_rummage").read_text()
    check("'--dry-run[scan nothing]'" in zsh, "zsh table lacks --dry-run")
    plugin = (tmp / "out/contrib/docker-rummage").read_text()
    check(re.search(r"^flag_options='[^']*--dry-run", plugin, re.M), "plugin lacks --dry-run")

    less = re.sub(r"^ +--show-secrets .*\n", "", text, flags=re.M)
    res = proc([sys.executable, GEN, "--out", tmp / "out2",
                "--rummage", fake_help_binary(tmp / "b", less)])
    expect(res, 2, "prose names --show-secrets, which the help lost")
    check(b"--show-secrets" in res.err, "the error names the option", res)
    check(not (tmp / "out2").exists(), "nothing written after an error")

    odd = text.replace("\nOptions:\n", "\n    stray indented line\nOptions:\n", 1)
    res = proc([sys.executable, GEN, "--out", tmp / "out3",
                "--rummage", fake_help_binary(tmp / "c", odd)])
    expect(res, 2, "a help line outside any section")
    check(b"stray indented line" in res.err, "the error quotes the line", res)


# ------------------------------------------------------------------------ completion


def bash_words(line):
    """COMP_WORDS as bash makes them: ':' and '=' are words of their own."""
    words = re.findall(r"[:=]+|[^\s:=]+", line)
    if not line or line[-1].isspace():
        words.append("")
    return words


def bash_complete(line, cwd, env=None):
    words = bash_words(line)
    script = ('source "$1" || exit 9; COMP_LINE=$2; COMP_POINT=${#2}; COMP_CWORD=$3; '
              'shift 3; COMP_WORDS=("$@"); _rummage; printf "%s\\n" "${COMPREPLY[@]}"')
    res = proc([tool("bash"), "-c", script, "bash", BASH_COMP, line, len(words) - 1, *words],
               cwd=cwd, env=env)
    expect(res, 0, f"completing {line!r}")
    check(not res.err.strip(), f"stderr while completing {line!r}", res)
    return [w for w in res.out.decode().split("\n") if w]


def same(got, want, what):
    check(set(got) == set(want), f"{what}: got {sorted(set(got))}, want {sorted(set(want))}")


def completion_dir(tmp):
    """A directory to complete paths in."""
    d = tmp / "w"
    write(d / "app.tar", "x")
    write(d / "apple" / "f", "x")
    write(d / "Dockerfile", "FROM scratch\n")
    write(d / "Dockerfile.prod", "FROM scratch\n")
    write(d / "report.json", "{}")
    return d


@test
def bash_completion_loads(tmp):
    res = proc([tool("bash"), "-c", 'source "$1" && complete -p rummage', "bash", BASH_COMP])
    expect(res, 0, "source rummage.bash")
    check(res.out.decode().strip() == "complete -F _rummage rummage", "complete -p", res)
    check(not res.err.strip(), "sourcing prints nothing", res)


@test
def bash_completion_matches_the_help(tmp):
    """Commands and each command's options are those of --help; option values are those the
    binary accepts; targets are the help's transport prefixes, - and paths."""
    text = rummage_help()
    d = completion_dir(tmp)
    cmds = help_commands(text)
    firsts = list(dict.fromkeys(c.split()[0] for c in cmds)) + ["version", "help"]
    same(bash_complete("rummage ", d), firsts, "commands")
    same(bash_complete("rummage rules ", d), [c.split()[1] for c in cmds if " " in c],
         "rules subcommands")
    for cmd, opts in cmds.items():
        same(bash_complete(f"rummage {cmd} -", d), opts, f"options of {cmd}")
    same(bash_complete("rummage -", d), cmds["scan"], "a leading option means scan")
    check("--fail-on-state" in bash_complete("rummage scan --fail-on-s", d), "--fail-on-s")

    usage = {m[1]: [m[2], *m[3].split("|")] for m in re.finditer(
        r"^  rummage ([a-z]+(?: [a-z]+)?) .*?\[(--[a-z-]+) ([a-z|]+)\]", text, re.M)}
    for cmd in ("scan", "context", "rules list"):
        for opt in ("--format", "--fail-on", "--fail-on-state", "--color", "--engine"):
            if opt not in cmds[cmd]:
                continue
            if cmd in usage and usage[cmd][0] == opt:  # `[--format text|json]`
                want = set(usage[cmd][1:])
                for v in want:
                    ok, res = accepted(cmd, opt, v, tmp)
                    check(ok, f"{cmd} {opt} {v} (from its usage line) is refused", res)
            else:
                want = binary_values(cmd, opt, tmp)
            check(len(want) >= 2, f"{cmd} {opt}: the binary's error lists no values")
            same(bash_complete(f"rummage {cmd} {opt} ", d), want, f"{cmd} {opt} values")
            same(bash_complete(f"rummage {cmd} {opt}=", d), want, f"{cmd} {opt}= values")
    same(bash_complete("rummage scan -f ", d), binary_values("scan", "--format", tmp),
         "-f is --format for scan")
    same(bash_complete("rummage context -f Dock", d), ["Dockerfile", "Dockerfile.prod"],
         "-f is --file for context")
    same(bash_complete("rummage scan --fail-on=h", d), ["high"], "--fail-on=h")

    transports = help_transports(text)
    check("docker-archive:" in transports and "oci:" in transports, f"{transports}")
    same(bash_complete("rummage scan ", d),
         transports + ["-", "app.tar", "apple/", "Dockerfile", "Dockerfile.prod", "report.json"],
         "targets")
    same(bash_complete("rummage scan docker-arc", d), ["docker-archive:"], "prefix")
    # After a prefix: the part after the last ':' is what bash replaces.
    same(bash_complete("rummage scan docker-archive:ap", d), ["app.tar", "apple/"], "files")
    same(bash_complete("rummage scan oci:", d), ["apple/"], "oci: wants a directory")
    same(bash_complete("rummage --fail-on high docker-archive:app.", d), ["app.tar"],
         "targets after leading options")
    same(bash_complete("rummage scan -o rep", d), ["report.json"], "-o FILE")
    same(bash_complete("rummage context ", d), ["apple/"], "context takes a directory")
    same(bash_complete("rummage version ", d), [], "version takes nothing")
    if "docker-daemon:" in transports:
        b, env = fakes(tmp)
        env["FAKE_IMAGES"] = "app:1.0\napp:latest\nother:2\n<none>:<none>"
        same(bash_complete("rummage scan docker-daemon:ap", d, env=env),
             ["app:1.0", "app:latest"], "daemon images")
        same(bash_complete("rummage scan docker-daemon:app:l", d, env=env),
             ["latest"], "daemon images (bash replaces what follows the last ':')")
        same(bash_complete("rummage scan docker-daemon:", d, env=env),
             ["app:1.0", "app:latest", "other:2"], "daemon images")


def zsh_specs_options(text):
    """{command var: [option names]} of the _rummage_opts_* arrays in _rummage."""
    out = {}
    for m in re.finditer(r"^_rummage_opts_(\w+)=\(\n(.*?)^\)", text, re.M | re.S):
        names = re.findall(r"^\s+'(?:\([^)]*\))?\*?(--?[A-Za-z0-9][\w-]*)", m[2], re.M)
        out[m[1]] = names
    return out


@test
def zsh_completion_tables_match_the_help(tmp):
    zsh = tool("zsh")
    res = proc([zsh, "-n", ZSH_COMP])
    expect(res, 0, "zsh -n _rummage")
    tables = zsh_specs_options(ZSH_COMP.read_text())
    for cmd, opts in help_commands(rummage_help()).items():
        key = re.sub(r"[^a-z0-9]", "_", cmd)
        check(key in tables, f"_rummage has no options table for {cmd}")
        same(tables[key], opts, f"zsh options of {cmd}")


class Shell:
    """An interactive shell in a pseudo-terminal, to press TAB in."""

    def __init__(self, argv, cwd, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            try:
                os.chdir(cwd)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.buf = self.last = b""

    def send(self, s):
        os.write(self.fd, s.encode())

    def until(self, pattern, timeout=15):
        end = time.monotonic() + timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                self.last, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the shell did not print {pattern!r} within {timeout}s; "
                                     f"it printed:\n{self.buf[-1500:].decode(errors='replace')}")
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                try:
                    self.buf += os.read(self.fd, 65536)
                except OSError:
                    pass

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def drive(shell, setup, cases, cwd, tmp):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp), "TERM": "dumb", "LC_ALL": "C.UTF-8"}
    argv = [tool(shell), "--norc", "--noprofile", "-i"] if shell == "bash" else \
        [tool(shell), "-f", "-i"]
    sh_ = Shell(argv, cwd, env)
    try:
        sh_.send(setup + "\necho READY-$((40+2))\n")
        sh_.until(rb"READY-42")
        for line, want_hits, want_argv in cases:
            sh_.send(line + "\t")
            sh_.send("\n")
            m = sh_.until(rb"ARGV:([^\r\n]*):END")
            hits = {h.decode() for h in re.findall(rb"HIT:([^\r\n]*)", sh_.last)}
            argv_got = m[1].decode().split("|")
            check(hits == set(want_hits),
                  f"{shell}: {line!r} TAB offered {sorted(hits)}, want {sorted(want_hits)}")
            check(argv_got == want_argv,
                  f"{shell}: {line!r} TAB Enter ran rummage {argv_got}, want {want_argv}")
    finally:
        sh_.close()


CASES = [
    ("rummage sc", ["scan"], ["scan"]),
    ("rummage scan --fail-o", ["--fail-on", "--fail-on-origin", "--fail-on-state"],
     ["scan", "--fail-on"]),
    ("rummage scan --fail-on cr", ["critical"], ["scan", "--fail-on", "critical"]),
    ("rummage scan docker-arc", ["docker-archive:"], ["scan", "docker-archive:"]),
    ("rummage scan docker-archive:app.", ["app.tar"], ["scan", "docker-archive:app.tar"]),
    ("rummage scan oci:app", ["apple/"], ["scan", "oci:apple/"]),
    ("rummage rules ch", ["check"], ["rules", "check"]),
    ("rummage context -f Dockerfile.p", ["Dockerfile.prod"],
     ["context", "-f", "Dockerfile.prod"]),
]


@test
def bash_completion_in_a_terminal(tmp):
    """Real bash, real readline: what TAB offers and what it leaves on the line (no space
    after a prefix or a directory, one after a finished word)."""
    d = completion_dir(tmp)
    setup = (f"source '{BASH_COMP}'\n"
             "_rummage_t() { _rummage \"$@\"; printf 'HIT:%s\\n' \"${COMPREPLY[@]}\" >/dev/tty; }\n"
             "complete -F _rummage_t rummage\n"
             "rummage() { local IFS='|'; printf 'ARGV:%s:END\\n' \"$*\"; }")
    drive("bash", setup, CASES, d, tmp)


@test
def zsh_completion_in_a_terminal(tmp):
    """Real zsh, compinit and _rummage from $fpath: the matches offered (compadd is wrapped
    to print them) and what TAB leaves on the line."""
    d = completion_dir(tmp)
    fdir = tmp / "fpath"
    fdir.mkdir()
    shutil.copy(ZSH_COMP, fdir / "_rummage")
    wrap = "\n".join([
        "compadd() {",
        "  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"$@\"; return; fi",
        "  local -a __hits; builtin compadd -A __hits \"$@\"; local ret=$?",
        "  (( $#__hits )) && print -rl -- HIT:${^__hits} >/dev/tty",
        "  builtin compadd \"$@\"; return $ret",
        "}",
        "rummage() { print -r -- \"ARGV:${(j:|:)@}:END\" }",
    ])
    # zsh's matches hold no '/' after a directory: it is a suffix added on insertion, and
    # taken away again by Enter.
    cases = [(line, [h.rstrip("/") for h in hits], [a.rstrip("/") for a in argv])
             for line, hits, argv in CASES]
    autoload = f"PS1='%% '\nfpath=({fdir} $fpath)\nautoload -U compinit && compinit -u -D\n"
    drive("zsh", autoload + wrap, cases, d, tmp)
    # Sourced after compinit instead, it registers itself with compdef.
    sourced = f"PS1='%% '\nautoload -U compinit && compinit -u -D\nsource '{ZSH_COMP}'\n"
    drive("zsh", sourced + wrap, cases[:3], d, tmp)


# ------------------------------------------------------------------- Docker CLI plugin


def plugin(args, env, cwd=None):
    return proc([PLUGIN, *args], env=env, cwd=cwd)


@test
def plugin_metadata_handshake(tmp):
    """`docker-rummage docker-cli-plugin-metadata` prints the JSON Docker expects, with the
    version of the rummage it will run; without rummage it still answers."""
    res = plugin(["docker-cli-plugin-metadata"], {"RUMMAGE": RUMMAGE})
    expect(res, 0, "metadata")
    meta = json.loads(res.out)
    check(meta == {"SchemaVersion": "0.1.0", "Vendor": "rummage", "Version": rummage_version(),
                   "ShortDescription": "Scan an image for secrets"}, f"metadata {meta}", res)
    check(res.out.count(b"\n") == 1, "one line of JSON", res)
    res = plugin(["docker-cli-plugin-metadata"],
                 {"RUMMAGE": str(tmp / "missing"), "PATH": "/usr/bin:/bin"})
    expect(res, 0, "metadata without rummage")
    check(json.loads(res.out)["Version"] == "unknown", "Version unknown", res)


@test
def plugin_rewrites_image_arguments(tmp):
    """Docker runs `docker-rummage [GLOBAL OPTIONS] rummage ARGS`: bare names become
    docker-daemon: targets; option values, prefixed targets, paths and - stay; a rummage
    command goes through as it is; rummage's exit status is the plugin's."""
    b, env = fakes(tmp)
    env["DOCKER_HOST"] = "unix:///env.sock"
    cases = [
        (["app:1.0"], ["scan", "docker-daemon:app:1.0"]),
        (["--fail-on", "high", "app:1.0", "team/api@sha256:" + "a" * 64],
         ["scan", "--fail-on", "high", "docker-daemon:app:1.0",
          "docker-daemon:team/api@sha256:" + "a" * 64]),
        (["--format", "json", "-o", "out.json", "app"],
         ["scan", "--format", "json", "-o", "out.json", "docker-daemon:app"]),
        (["-f", "sarif", "app"], ["scan", "-f", "sarif", "docker-daemon:app"]),
        (["-fjson", "app"], ["scan", "-fjson", "docker-daemon:app"]),
        (["-qj", "2", "app"], ["scan", "-qj", "2", "docker-daemon:app"]),
        (["-j2", "app"], ["scan", "-j2", "docker-daemon:app"]),
        (["--form", "json", "app"], ["scan", "--form", "json", "docker-daemon:app"]),
        (["--format=json", "--show-secrets", "app"],
         ["scan", "--format=json", "--show-secrets", "docker-daemon:app"]),
        (["docker-archive:x.tar", "oci:dir", "./app.tar", "/abs/img", ".", "-", "app"],
         ["scan", "docker-archive:x.tar", "oci:dir", "./app.tar", "/abs/img", ".", "-",
          "docker-daemon:app"]),
        (["docker-daemon:app:1", "app"], ["scan", "docker-daemon:app:1", "docker-daemon:app"]),
        (["scan", "app"], ["scan", "docker-daemon:app"]),
        (["--", "app"], ["scan", "--", "docker-daemon:app"]),
        (["context", "."], ["context", "."]),
        (["rules", "list", "--format", "json"], ["rules", "list", "--format", "json"]),
    ]
    for args, want in cases:
        reset_logs(tmp)
        res = plugin(["rummage", *args], env)
        expect(res, 0, f"docker rummage {' '.join(args)}")
        got = calls(tmp)
        check(len(got) == 1 and got[0]["argv"] == want,
              f"docker rummage {args}: rummage got {[c['argv'] for c in got]}, want {want}", res)
        check(got[0]["DOCKER_HOST"] == "unix:///env.sock", "DOCKER_HOST passed through", res)
    for rc in (1, 2):
        res = plugin(["rummage", "app"], {**env, "FAKE_RC": str(rc)})
        expect(res, rc, "rummage's exit status")
    res = plugin(["rummage"], env)
    expect(res, 2, "no image")
    check(b"Usage:" in res.err, "usage on stderr", res)
    for args in (["rummage", "--help"], ["help", "rummage"]):  # the second: docker help rummage
        reset_logs(tmp)
        res = plugin(args, env)
        expect(res, 0, " ".join(args))
        check(b"docker rummage" in res.out and b"FAKE RUMMAGE HELP" in res.out,
              "the plugin's usage, then rummage's help", res)
        check([c["argv"] for c in calls(tmp)] == [["--help"]], "rummage --help ran", res)


@test
def plugin_finds_the_daemon_like_docker(tmp):
    """-H before the plugin name sets DOCKER_HOST; --context NAME takes that context's
    endpoint; with neither and no DOCKER_HOST, the current context's; DOCKER_HOST wins over
    the current context."""
    b, env = fakes(tmp)
    env["FAKE_CONTEXTS"] = json.dumps({"": "unix:///current.sock", "remote": "unix:///remote.sock"})
    env["DOCKER_HOST"] = None
    cases = [
        (["-H", "unix:///flag.sock", "rummage", "app"], {}, "unix:///flag.sock"),
        (["--host=unix:///flag2.sock", "--debug", "rummage", "app"], {}, "unix:///flag2.sock"),
        (["--context", "remote", "rummage", "app"], {}, "unix:///remote.sock"),
        (["-c", "remote", "rummage", "app"], {"DOCKER_HOST": "unix:///env.sock"},
         "unix:///remote.sock"),
        (["rummage", "app"], {}, "unix:///current.sock"),
        (["rummage", "app"], {"DOCKER_HOST": "unix:///env.sock"}, "unix:///env.sock"),
        (["--log-level", "debug", "--config", str(tmp / "cfg"), "rummage", "app"], {},
         "unix:///current.sock"),
    ]
    for args, extra, want in cases:
        reset_logs(tmp)
        res = proc([PLUGIN, *args], env={**env, **extra}, clean_env=False)
        expect(res, 0, " ".join(args))
        got = calls(tmp)
        check(got and got[0]["argv"] == ["scan", "docker-daemon:app"], f"{args}: {got}", res)
        check(got[0]["DOCKER_HOST"] == want,
              f"{args} {extra}: DOCKER_HOST {got[0]['DOCKER_HOST']!r}, want {want!r}", res)


def plugin_dir(tmp):
    cfg = tmp / "docker-config"
    (cfg / "cli-plugins").mkdir(parents=True)
    shutil.copy(PLUGIN, cfg / "cli-plugins" / "docker-rummage")
    return cfg


@test
def plugin_discovered_by_docker(tmp):
    """The real docker CLI lists the plugin (no daemon needed) and runs it with its global
    options before the plugin name."""
    docker = tool("docker")
    cfg = plugin_dir(tmp)
    b, env = fakes(tmp)
    env = {"DOCKER_CONFIG": str(cfg), "RUMMAGE": env["RUMMAGE"], "FAKE_LOG": env["FAKE_LOG"]}
    res = proc([docker, "--help"], env=env)
    expect(res, 0, "docker --help")
    check(re.search(rb"^\s+rummage\*\s+Scan an image for secrets", res.out, re.M),
          "docker --help lists rummage* with its description", res)
    res = proc([docker, "-H", "unix:///nowhere.sock", "rummage", "--fail-on", "high", "app:1.0"],
               env=env)
    expect(res, 0, "docker rummage")
    got = [c for c in calls(tmp) if c["argv"][:1] != ["--version"]]  # the metadata calls
    check(len(got) == 1 and got[0]["argv"] == ["scan", "--fail-on", "high", "docker-daemon:app:1.0"]
          and got[0]["DOCKER_HOST"] == "unix:///nowhere.sock", f"{got}", res)
    res = proc([docker, "help", "rummage"], env={**env, "RUMMAGE": RUMMAGE})
    expect(res, 0, "docker help rummage")
    check(b"Usage:  docker rummage" in res.out and b"rummage scan [OPTIONS]" in res.out,
          "docker help rummage: the plugin's usage and rummage's help", res)
    res = proc([docker, "rummage", "--version"], env={**env, "RUMMAGE": RUMMAGE})
    expect(res, 0, "docker rummage --version")
    check(res.out.startswith(b"rummage " + rummage_version().encode()), "version", res)


def rootfs_tar(path, files):
    """A root filesystem tar for `docker import`."""
    with tarfile.open(path, "w") as t:
        for name, data in files.items():
            data = data.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
    return path


@test
def plugin_and_guard_on_a_real_daemon(tmp):
    """A private dockerd holds app:leaky (a GitHub token in /app/.env) and app:clean. `docker
    rummage` through the real CLI scans them (exit 1 with the token's rule, redacted; exit 0);
    the push guard refuses the leaky one and pushes the clean one (the push itself is faked:
    no registry), with the real docker for everything else."""
    if "docker-daemon:" not in rummage_help():
        raise AssertionError("the help has no docker-daemon: target")
    tok = github_token()
    leaky = rootfs_tar(tmp / "leaky.tar", {"app/.env": f"GITHUB_TOKEN={tok}\n",
                                           "app/main.py": "print('hi')\n"})
    clean = rootfs_tar(tmp / "clean.tar", {"app/main.py": "print('hi')\n"})
    cfg = plugin_dir(tmp)
    with fx.running_dockerd(Path(tempfile.mkdtemp(prefix="rmg-eco-dockerd-"))) as (docker, denv):
        fx.sh(docker, "import", leaky, "app:leaky", env=denv)
        fx.sh(docker, "import", clean, "app:clean", env=denv)
        env = {**denv, "DOCKER_CONFIG": str(cfg), "RUMMAGE": RUMMAGE}
        res = proc([docker, "rummage", "--format", "json", "app:leaky"], env=env)
        expect(res, 1, "docker rummage app:leaky")
        check(tok.encode() not in res.out + res.err, "the token is redacted", res)
        doc = json.loads(res.out)
        rules = {f["rule"] for f in doc["findings"]}
        check(any(r.startswith("github") for r in rules), f"a GitHub rule fired: {rules}", res)
        check(all(f["location"]["path"] == "/app/.env" for f in doc["findings"]
                  if f["rule"].startswith("github")), "found in /app/.env", res)
        res = proc([docker, "rummage", "app:clean"], env=env)
        expect(res, 0, "docker rummage app:clean")
        res = proc([docker, "rummage", "app:missing"], env=env)
        expect(res, 2, "docker rummage app:missing")

        b, fenv = fakes(tmp)
        genv = {**denv, "DOCKER": str(b / "docker"), "REAL_DOCKER": docker, "RUMMAGE": RUMMAGE,
                "FAKE_DOCKER_LOG": fenv["FAKE_DOCKER_LOG"]}
        res = proc([GUARD, "app:leaky"], env=genv)
        expect(res, 1, "guard on app:leaky")
        check(not [c for c in calls(tmp, "docker") if c["argv"][:1] == ["push"]],
              "app:leaky was not pushed", res)
        res = proc([GUARD, "app:clean", "--quiet"], env=genv)
        expect(res, 0, "guard on app:clean")
        pushes = [c["argv"] for c in calls(tmp, "docker") if c["argv"][:1] == ["push"]]
        check(pushes == [["push", "--quiet", "app:clean"]], f"pushes {pushes}", res)


# ------------------------------------------------------------------------ push guard


@test
def push_guard_pushes_only_clean_images(tmp):
    b, env = fakes(tmp)
    env.update({"FAKE_IDS": "sha256:aaa", "DOCKER": str(b / "docker"),
                "DOCKER_HOST": "unix:///guard.sock"})

    def run_guard(args, rc, **extra):
        reset_logs(tmp)
        res = proc([GUARD, *args], env={**env, **extra})
        expect(res, rc, f"rummage-push-guard {' '.join(args)} {extra}")
        return res, calls(tmp), [c["argv"] for c in calls(tmp, "docker")]

    res, r, d = run_guard(["app:1.0"], 0)
    check([c["argv"] for c in r] == [["scan", "--fail-on", "high", "docker-daemon:app:1.0"]],
          f"scan {r}", res)
    check(r[0]["DOCKER_HOST"] == "unix:///guard.sock", "DOCKER_HOST to rummage", res)
    check(d[-1] == ["push", "app:1.0"], f"docker calls {d}", res)

    res, r, d = run_guard(["app:1.0", "--quiet", "--platform", "linux/arm64"], 0,
                          RUMMAGE_FAIL_ON="critical", RUMMAGE_OPTS="--fail-on-state present")
    check(r[0]["argv"] == ["scan", "--fail-on", "critical", "--platform", "linux/arm64",
                           "--fail-on-state", "present", "docker-daemon:app:1.0"],
          f"scan {r[0]['argv']}", res)
    check(d[-1] == ["push", "--quiet", "--platform", "linux/arm64", "app:1.0"], f"{d}", res)

    for rc, want in (("1", 1), ("2", 2), ("139", 2)):
        res, r, d = run_guard(["app:1.0"], want, FAKE_RC=rc)
        check(not [x for x in d if x[:1] == ["push"]], f"pushed after scan exit {rc}", res)
        check(b"not pushed" in res.err, "says so", res)

    res, r, d = run_guard(["app:1.0"], 3, FAKE_PUSH_RC="1")
    check(b"docker push failed" in res.err, "push failure", res)
    res, r, d = run_guard(["app:1.0"], 2, FAKE_IDS="sha256:aaa,sha256:bbb")
    check(not [x for x in d if x[:1] == ["push"]], "retagged during the scan: not pushed", res)
    res, r, d = run_guard(["app:1.0"], 2, FAKE_IDS="")
    check(not r and b"no image" in res.err, "missing image: no scan", res)
    res, r, d = run_guard(["app", "--all-tags"], 2)
    check(not r and not d, "--all-tags refused before anything runs", res)
    res, r, d = run_guard([], 2)
    check(b"usage" in res.err, "usage", res)
    res, r, d = run_guard(["--help"], 0)
    check(b"Exit status" in res.out, "--help prints the header", res)
    res, r, d = run_guard(["app"], 2, RUMMAGE=str(tmp / "missing"))
    check(b"rummage not found" in res.err and not d, "no rummage", res)


# ------------------------------------------------------------------------ git hooks


def git_env(tmp):
    return {"HOME": str(tmp), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "T",
            "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "T",
            "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_TERMINAL_PROMPT": "0"}


def git(repo, *args, env=None, rc=0):
    res = proc([tool("git"), "-C", repo, *args], env=env)
    if rc is not None:
        expect(res, rc, "git " + " ".join(map(str, args)))
    return res


def new_repo(tmp, env, hooks=("pre-commit", "pre-push")):
    repo = tmp / "repo"
    git(tmp, "init", "-q", "-b", "main", repo, env=env)
    for h in hooks:
        shutil.copy(HOOKS / h, repo / ".git" / "hooks" / h)
        os.chmod(repo / ".git" / "hooks" / h, 0o755)
    return repo


def head(repo, env):
    res = git(repo, "rev-parse", "-q", "--verify", "HEAD", env=env, rc=None)
    return res.out.decode().strip() or None


@test
def pre_commit_checks_the_staged_tree(tmp):
    """The hook scans what is staged (not the working tree): the changed files with `rummage
    scan`, the whole tree as a build context with `rummage context` (`scan` without a
    Dockerfile); settings from the environment or git config; findings refuse the commit."""
    b, env = fakes(tmp)
    env.update(git_env(tmp))
    repo = new_repo(tmp, env, hooks=("pre-commit",))
    write(repo / "Dockerfile", "FROM scratch\nCOPY . /app\n")
    write(repo / "app.py", "print('staged')\n")
    write(repo / "old.txt", "old\n")
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-q", "--no-verify", "-m", "base", env=env)
    write(repo / "app.py", "print('staged 2')\n")
    git(repo, "add", "app.py", env=env)
    write(repo / "app.py", "print('working tree only') # FAKE-SECRET\n")
    write(repo / "untracked.txt", "FAKE-SECRET\n")

    reset_logs(tmp)
    res = git(repo, "commit", "-q", "-m", "two", env={**env, "FAKE_RC": "secret"})
    c = calls(tmp)
    check([x["argv"][:3] for x in c] == [["scan", "--fail-on", "high"],
                                         ["context", "--fail-on", "high"]],
          f"rummage runs {[x['argv'] for x in c]}", res)
    changed = list(c[0]["trees"].values())[0]
    check(changed == {"app.py": "print('staged 2')\n"}, f"scan of the staged changes: {changed}",
          res)
    tree = list(c[1]["trees"].values())[0]
    check(tree == {"Dockerfile": "FROM scratch\nCOPY . /app\n", "app.py": "print('staged 2')\n",
                   "old.txt": "old\n"}, f"the staged tree, not the working tree: {tree}", res)
    check(c[1]["cwd"] == str(repo), "runs at the top (./.rummage.json applies)", res)

    write(repo / "notes.txt", "FAKE-SECRET\n")
    git(repo, "add", "notes.txt", env=env)
    before = head(repo, env)
    res = git(repo, "commit", "-q", "-m", "three", env={**env, "FAKE_RC": "secret"}, rc=1)
    check(head(repo, env) == before, "the commit was refused", res)
    check(b"commit refused" in res.err, "says why", res)
    res = git(repo, "commit", "-q", "-m", "three", env={**env, "FAKE_RC": "2"}, rc=1)
    check(b"did not complete" in res.err, "an error refuses too", res)

    git(repo, "rm", "-q", "--cached", "notes.txt", env=env)
    git(repo, "config", "rummage.failOn", "critical", env=env)
    git(repo, "config", "rummage.context", "sub", env=env)
    write(repo / "sub" / "x.txt", "x\n")
    git(repo, "add", "sub", env=env)
    reset_logs(tmp)
    git(repo, "commit", "-q", "-m", "four", env=env)
    c = calls(tmp)
    check(c[-1]["argv"][:3] == ["scan", "--fail-on", "critical"]
          and c[-1]["argv"][3].startswith("dir:") and c[-1]["argv"][3].endswith("/sub"),
          f"git config: failOn, context without a Dockerfile: {c[-1]['argv']}")
    reset_logs(tmp)
    write(repo / "y.txt", "y\n")
    git(repo, "add", "y.txt", env=env)
    git(repo, "commit", "-q", "-m", "five", env={**env, "RUMMAGE_FAIL_ON": "medium",
                                                 "RUMMAGE_CONTEXT": ".",
                                                 "RUMMAGE_DOCKERFILE": "Dockerfile"})
    c = calls(tmp)
    check(c[-1]["argv"][:5] == ["context", "--fail-on", "medium", "-f", c[-1]["argv"][4]]
          and c[-1]["argv"][4].endswith("/Dockerfile"), f"environment wins: {c[-1]['argv']}")
    res = git(repo, "commit", "--allow-empty", "-q", "-m", "six",
              env={**env, "RUMMAGE": str(tmp / "nope")}, rc=1)
    check(b"rummage not found" in res.err, "no rummage: refused, said", res)


@test
def pre_commit_refuses_a_real_secret(tmp):
    """With the real rummage: a staged GitHub token refuses the commit (redacted in the
    output); unstaged again, the commit goes through."""
    env = {**git_env(tmp), "RUMMAGE": RUMMAGE}
    repo = new_repo(tmp, env, hooks=("pre-commit",))
    tok = github_token()
    write(repo / "Dockerfile", "FROM scratch\nCOPY . /app\n")
    write(repo / "app.py", "print('hi')\n")
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-q", "-m", "clean", env=env)
    write(repo / "deploy.env", f"GITHUB_TOKEN={tok}\n")
    git(repo, "add", "deploy.env", env=env)
    before = head(repo, env)
    res = git(repo, "commit", "-q", "-m", "leak", env=env, rc=1)
    check(head(repo, env) == before, "refused", res)
    check(b"deploy.env" in res.out + res.err, "names the file", res)
    check(tok.encode() not in res.out + res.err, "the token is redacted", res)
    write(repo / ".dockerignore", "deploy.env\n")
    git(repo, "add", ".dockerignore", env=env)
    res = git(repo, "commit", "-q", "-m", "leak", env=env, rc=1)
    check(b"deploy.env" in res.out + res.err,
          "still refused when .dockerignore keeps it out of the image: git would publish it",
          res)
    git(repo, "rm", "-q", "--cached", "deploy.env", env=env)
    write(repo / ".gitignore", "deploy.env\n")
    git(repo, "add", ".gitignore", env=env)
    git(repo, "commit", "-q", "-m", "ignore it", env=env)


@test
def pre_push_checks_what_the_push_publishes(tmp):
    """A secret committed and deleted in a later commit refuses the push (the history ships
    it); the remote is left as it was. With the real rummage. With a fake: one directory per
    new commit holding the files it changed, and the pushed tree as a build context; commits
    the remote has are not scanned again."""
    env = {**git_env(tmp), "RUMMAGE": RUMMAGE}
    remote = tmp / "remote.git"
    git(tmp, "init", "-q", "--bare", remote, env=env)
    repo = new_repo(tmp, env, hooks=("pre-push",))
    git(repo, "remote", "add", "origin", remote, env=env)
    write(repo / "Dockerfile", "FROM scratch\nCOPY app.py /app/\n")
    write(repo / "app.py", "print('hi')\n")
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-q", "-m", "one", env=env)
    git(repo, "push", "-q", "origin", "main", env=env)
    pushed = head(repo, env)

    tok = github_token()
    write(repo / "creds.txt", f"token: {tok}\n")
    git(repo, "add", "creds.txt", env=env)
    git(repo, "commit", "-q", "-m", "two", env=env)
    git(repo, "rm", "-q", "creds.txt", env=env)
    git(repo, "commit", "-q", "-m", "three", env=env)
    res = git(repo, "push", "-q", "origin", "main", env=env, rc=None)
    check(res.rc != 0, "the push was refused", res)
    check(b"creds.txt" in res.out + res.err and b"push refused" in res.err, "says why", res)
    check(tok.encode() not in res.out + res.err, "redacted", res)
    check(git(remote, "rev-parse", "main", env=env).out.decode().strip() == pushed,
          "the remote is unchanged", res)
    res = git(repo, "push", "-q", "origin", "main", env={**env, "RUMMAGE_HISTORY": "0"})

    b, fenv = fakes(tmp)
    env2 = {**env, **fenv}
    write(repo / "lib.py", "x = 1\n")
    git(repo, "add", "lib.py", env=env)
    git(repo, "commit", "-q", "-m", "four", env=env)
    write(repo / "lib.py", "x = 2\n")
    write(repo / "more.py", "y = 1\n")
    git(repo, "add", ".", env=env)
    git(repo, "commit", "-q", "-m", "five", env=env)
    reset_logs(tmp)
    git(repo, "push", "-q", "origin", "main", env=env2)
    c = calls(tmp)
    check(len(c) == 2, f"two runs: history and context, got {[x['argv'] for x in c]}")
    hist, ctx = c
    check(hist["argv"][:3] == ["scan", "--fail-on", "high"] and len(hist["trees"]) == 2,
          f"one directory per new commit: {hist['argv']}")
    trees = sorted(hist["trees"].values(), key=len)
    check(trees == [{"lib.py": "x = 1\n"}, {"lib.py": "x = 2\n", "more.py": "y = 1\n"}],
          f"each commit's changed files: {trees}")
    check(ctx["argv"][:3] == ["context", "--fail-on", "high"], f"{ctx['argv']}")
    tree = list(ctx["trees"].values())[0]
    check(set(tree) == {"Dockerfile", "app.py", "lib.py", "more.py"}, f"pushed tree {tree}")
    reset_logs(tmp)
    git(repo, "push", "-q", "origin", "main", env=env2)  # nothing new: git runs no hook
    git(repo, "tag", "v1", env=env)
    git(repo, "push", "-q", "origin", "v1", env=env2)
    c = calls(tmp)
    check([x["argv"][0] for x in c] == ["context"],
          f"a tag of pushed commits: no history to scan, {[x['argv'] for x in c]}")
    write(repo / "n.txt", "FAKE-SECRET\n")
    git(repo, "add", "n.txt", env=env)
    git(repo, "commit", "-q", "-m", "six", env=env)
    res = git(repo, "push", "-q", "origin", "main", env={**env2, "FAKE_RC": "secret"}, rc=None)
    check(res.rc != 0, "fake finding refuses", res)


# ------------------------------------------------------------------------ docs/ci.md

RUMMAGE_LINE = re.compile(r"(?<![\w-])(?<!docker )(rummage (?:scan|context|baseline|rules)\b"
                          r"[^'\"\n#]*)")


def ci_commands():
    text = CI_DOC.read_text()
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
    cmds = []
    for b in blocks:
        for line in b.split("\n"):
            line = re.split(r"\s#\s", line)[0]  # a shell comment
            for m in RUMMAGE_LINE.finditer(line):
                cmd = m[1].strip().rstrip(")").strip()
                if cmd not in cmds:
                    cmds.append(cmd)
    return cmds


def small_image(tmp, tok):
    """image.tar: a docker-archive (app:ci) made with umoci and skopeo, a token in a layer."""
    u = fx.Umoci(tmp / "layout", "ci", tmp / "bundle")
    u.put("/app/main.py", "print('hi')\n")
    u.commit("COPY main.py /app/")
    u.put("/app/.env", f"GITHUB_TOKEN={tok}\n")
    u.commit("COPY .env /app/")
    fx.sh("skopeo", "copy", "-q", f"oci:{tmp / 'layout'}:ci",
          f"docker-archive:{tmp / 'image.tar'}:app:ci")


def outputs(cmd):
    """The report files a command line writes (-o FILE, -o FORMAT=FILE, --output, > FILE)."""
    words = cmd.split()
    out = []
    for i, w in enumerate(words):
        if w in ("-o", "--output", ">") and i + 1 < len(words):
            out.append(words[i + 1].split("=", 1)[-1])
        elif w.startswith("--output="):
            out.append(w.split("=", 1)[1].split("=", 1)[-1])
    return out


def check_report(path, res):
    check(path.exists() and path.stat().st_size > 0, f"{path.name} was not written", res)
    data = path.read_bytes()
    if path.suffix == ".xml":
        ET.fromstring(data)
    elif path.suffix == ".jsonl":
        for line in data.decode().splitlines():
            json.loads(line)
    elif path.suffix in (".json", ".sarif"):
        doc = json.loads(data)
        if path.suffix == ".sarif":
            check(doc.get("version") == "2.1.0", "SARIF 2.1.0", res)


@test
def ci_recipes_run(tmp):
    """Every rummage command line of docs/ci.md runs, in document order, in a directory with
    image.tar (a token in one layer), a Dockerfile and the image's build context: none is a
    usage error (exit 0 or 1), every report it writes parses, and a scan against a baseline
    of the same image is clean."""
    cmds = ci_commands()
    check(len(cmds) >= 6, f"docs/ci.md has only {len(cmds)} rummage command lines: {cmds}")
    tok = github_token()
    small_image(tmp, tok)
    write(tmp / "Dockerfile", "FROM scratch\nCOPY main.py /app/\n")
    write(tmp / "main.py", "print('hi')\n")
    env = {"PATH": f"{Path(RUMMAGE).parent}:{os.environ['PATH']}"}
    ran = []
    for cmd in cmds:
        res = proc(["sh", "-c", cmd], cwd=tmp, env=env)
        check(res.rc in (0, 1) and b"Try 'rummage --help'" not in res.err,
              f"docs/ci.md: `{cmd}` is not a valid command line", res)
        check(tok.encode() not in res.out + res.err, f"`{cmd}` printed the token", res)
        for o in outputs(cmd):
            check_report(tmp / o, res)
        if "--baseline" in cmd:
            expect(res, 0, f"`{cmd}`: everything is in the baseline")
        elif cmd.startswith("rummage scan") and "image.tar" in cmd:
            expect(res, 1, f"`{cmd}`: the image holds a token")
        ran.append(cmd)
    print("# ran from docs/ci.md:\n" + "\n".join(f"#   {c}" for c in ran))


# ------------------------------------------------------------------------- self-scan
#
# rummage ships inside images and repositories that run it as their gate: it must not flag
# itself. The rules' examples are stored as fragments (docs/rules.md, tools/examples.py), the
# tests' secrets are written in pieces joined at run time (tests/unit/support.h, test_cli.py's
# joined()) or generated, the fixtures' secrets are template markers rendered at test time.

EXAMPLES = ROOT / "tools" / "examples.py"
PATTERNS = sorted((ROOT / "patterns").glob("*.json"))


def tracked_files():
    """Every file of the repository (git ls-files; without git, the tree less build dirs)."""
    res = proc(["git", "-C", ROOT, "ls-files", "-z"])
    if res.rc == 0 and res.out:
        names = [n for n in res.out.decode().split("\0") if n]
    else:
        names = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
                 if p.is_file() and not p.relative_to(ROOT).parts[0].startswith((".git", "build"))]
    return [n for n in names if (ROOT / n).is_file()]  # a deletion not yet committed


def built_binaries():
    """The binary, the library and the unit test binaries of this build."""
    build = Path(RUMMAGE).resolve().parent
    return [p for p in [build / "rummage", build / "librummage.a",
                        *sorted((build / "tests").glob("test_*"))] if p.is_file()]


def findings_of(res, what):
    """No finding in a jsonl report; an error only for the fuzz corpus's damaged inputs
    (tests/fuzz/corpus/fuzz_layer/crash-*: not an image archive, by design)."""
    lines = [json.loads(ln) for ln in res.out.decode().splitlines() if ln.strip()]
    check(res.rc in (0, 1, 2) and lines and lines[-1].get("type") == "summary",
          f"{what}: the scan failed", res)
    found = [f for f in lines if f.get("type") == "finding"]
    where = [f"{f['rule']} {f['location'].get('path')}:{f['location'].get('line')} "
             f"{f['secret']}" for f in found]
    check(not found, f"{what}: {len(found)} findings:\n  " + "\n  ".join(where[:40]))
    errors = [e for e in lines if e.get("type") == "error" and e.get("level") != "warning" and
              not (e.get("target") or "").startswith("tests/fuzz/corpus/")]
    check(not errors and res.rc in (0, 2), f"{what}: errors {errors[:5]}", res)


@test
def self_scan_finds_nothing(tmp):
    """The binary, the man page, patterns/ and every tracked file: no finding. Then the same
    as a build context (`rummage context`) holding the source tree, the built binaries and the
    tests' compiled Python (.pyc: constants folded at compile time must not join a secret)."""
    base = [RUMMAGE, "scan", "--no-config", "--no-cache", "--format", "jsonl"]
    findings_of(proc(base + [RUMMAGE], cwd=ROOT), "build/rummage")
    findings_of(proc(base + ["docs/rummage.1", "patterns"], cwd=ROOT), "docs/rummage.1, patterns/")
    files = tracked_files()
    check(len(files) > 100 and "patterns/tokens.json" in files, f"tracked files: {len(files)}")
    findings_of(proc(base + ["--", *files], cwd=ROOT), f"{len(files)} tracked files")
    ctx = tmp / "ctx"
    for name in files:
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, ctx / name)
    for b in built_binaries():
        (ctx / "build" / b.name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(b, ctx / "build" / b.name)
    check(len(built_binaries()) >= 2, "the binaries are built")
    p = subprocess.run([sys.executable, "-m", "compileall", "-q", str(ctx)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"compileall: {p.stdout}{p.stderr}")
    check(any(ctx.rglob("test_cli*.pyc")), "the tests' .pyc are there")
    # An image that ships the tree: every file lands in it.
    write(ctx / "Dockerfile", "FROM scratch\nCOPY . /src/rummage\nUSER 10001\n")
    write(ctx / ".dockerignore", ".git\n")
    res = proc([RUMMAGE, "context", "--no-config", "--no-cache", "--format", "jsonl", ctx])
    findings_of(res, "the tree as a build context")
    check(b'"warnings":0' in res.out, "no warning either", res)


def plain_examples(path):
    """(rule id, example text) of every example of a patterns file, as the loader joins them."""
    p = proc([sys.executable, EXAMPLES, "plain", "--stdout", path])
    expect(p, 0, f"examples.py plain {path}")
    out = []
    for rule in json.loads(p.out)["rules"]:
        ex = rule["examples"]
        for e in ex["positive"] + ex["negative"]:
            for v in (e.values() if isinstance(e, dict) else [e]):
                if isinstance(v, str):
                    out.append((rule["id"], v))
    return out


@test
def rule_examples_stored_fragmented(tmp):
    """Every patterns/*.json is in fragmented form and round-trips through the plain one
    (tools/examples.py check), plain then defang gives the file back byte for byte, and the
    binary holds no example whole (it embeds the files as they are)."""
    check(len(PATTERNS) >= 10, f"patterns: {PATTERNS}")
    res = proc([sys.executable, EXAMPLES, "check", *PATTERNS])
    expect(res, 0, "tools/examples.py check patterns/*.json")
    for path in PATTERNS:
        copy = tmp / path.name
        shutil.copy(path, copy)
        for cmd in ("plain", "defang"):
            expect(proc([sys.executable, EXAMPLES, cmd, copy]), 0, f"examples.py {cmd}")
            if cmd == "plain":
                check(b'"text": [' not in copy.read_bytes(), f"{path.name}: plain form")
                expect(proc([sys.executable, EXAMPLES, "check", copy]), 1, "check on plain")
        check(copy.read_bytes() == path.read_bytes(), f"{path.name}: plain, defang round trip")
    # An example that is the rule's own keyword or regex text is there anyway.
    binary = Path(RUMMAGE).read_bytes()
    whole, n = [], 0
    for path in PATTERNS:
        rules_text = json.dumps([{k: v for k, v in r.items() if k != "examples"}
                                 for r in json.loads(path.read_text())["rules"]])
        for rid, text in plain_examples(path):
            n += 1
            if len(text) >= 12 and text.encode() in binary and text not in rules_text:
                whole.append(f"{rid}: {text[:30]}…")
    check(n > 1500, f"{n} examples read")
    check(not whole, f"{len(whole)} examples whole in the binary: {whole[:10]}")
    # A plain rules file (a user's --rules) still loads and passes: plain strings are accepted.
    plain = tmp / "tokens-plain.json"
    shutil.copy(ROOT / "patterns" / "tokens.json", plain)
    expect(proc([sys.executable, EXAMPLES, "plain", plain]), 0, "examples.py plain")
    res = proc([RUMMAGE, "rules", "check", plain])
    expect(res, 0, "rules check on the plain form")
    check(re.search(rb": [1-9][0-9]* passed, 0 failed", res.out), "its examples pass", res)


# ----------------------------------------------------------------------------------- main


def main(argv):
    return run_suite(TESTS, argv, "eco", quiet=(AssertionError, fx.FixtureError))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
