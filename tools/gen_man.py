#!/usr/bin/env python3
"""gen_man.py: render the man page and the completion tables from `rummage --help`.

The help text in src/cli/commands.c is the one description of the command line. This script runs the
built binary (`rummage --help`, `rummage --version`), parses the help into commands, targets,
options and notes, and writes:

  docs/rummage.1                      the man page: the help's text, in roff, plus the prose
                                      sections kept below (DESCRIPTION, ENVIRONMENT, FILES...)
  contrib/completion/rummage.bash     the block between "BEGIN GENERATED" and "END GENERATED":
  contrib/completion/_rummage         commands, options per command, option values, target
  contrib/docker-rummage              prefixes (the hand-written code around it stays)

Usage: tools/gen_man.py [--check] [--out DIR] [--rummage PATH]
  --check    write nothing; exit 1 naming each file that is not what the help gives
  --out DIR  write the results under DIR (same relative paths) instead of the tree
  --rummage  the binary (default: $RUMMAGE, else build/rummage)

Run it after changing the help text (`make man`); tests/cli/test_ecosystem.py fails while a
file is stale. The parser is strict where a mistake would lose text: every help line lands in
exactly one place, and the prose below may only name options, option values, transports and
commands the help has (an unknown one stops the script), so the man page cannot describe an
option that does not exist. Prose that documents a feature only when it exists is written
with a condition (`when=`).
Standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAN = "docs/rummage.1"
BASH = "contrib/completion/rummage.bash"
ZSH = "contrib/completion/_rummage"
PLUGIN = "contrib/docker-rummage"

# Commands the parser accepts that the help's usage lines do not list.
EXTRA_COMMANDS = {
    "version": "print the version and the rule set's hash (as --version)",
    "help": "print the help (as --help)",
}
# Options that may be given more than once (zsh offers them again).
REPEATABLE = {"--rules", "--build-arg", "--verbose", "-v"}


class HelpError(Exception):
    pass


# ------------------------------------------------------------------------- the help model


class Item:
    """One entry of a help section: a term (`-f, --format FORMAT`) and its description."""

    def __init__(self, term, desc):
        self.term, self.desc = term, desc


class Option:
    def __init__(self, names, metavar, desc, section):
        self.names, self.metavar, self.desc, self.section = names, metavar, desc, section
        self.values = parse_values(desc) if metavar else []

    @property
    def long(self):
        return next((n for n in self.names if n.startswith("--")), self.names[0])

    @property
    def kind(self):
        """What a value is: 'list' (self.values), 'file', 'dir', '' (free text), None (flag)."""
        if not self.metavar:
            return None
        if self.values:
            return "list"
        m = self.metavar.upper()
        if m.startswith("DIR"):
            return "dir"
        if m.split("[")[0] in ("FILE", "PATH", "DOCKERFILE"):
            return "file"
        return ""


class Command:
    def __init__(self, words, term, desc):
        self.words, self.term, self.desc = words, term, desc  # words: ["rules", "list"]

    @property
    def name(self):
        return " ".join(self.words)

    @property
    def args(self):
        """What its positional arguments are: 'target', 'dir', 'file' or None."""
        rest = self.term.split(" ", 1 + len(self.words))[-1] if " " in self.term else ""
        for word, kind in (("TARGET", "target"), ("DIR", "dir"), ("FILE", "file")):
            if re.search(r"\b" + word + r"\b", rest):
                return kind
        return None


class Help:
    def __init__(self, text, version):
        self.text, self.version = text, version
        self.sections = []    # (title, [Item]) in help order
        self.paragraphs = []  # (label, text)
        self.parse()
        self.commands = self.parse_commands()
        self.options = self.parse_options()
        self.transports = self.parse_transports()

    def parse(self):
        lines = self.text.rstrip("\n").split("\n")
        m = re.match(r"^(\S+): (.+)$", lines[0])
        if not m:
            raise HelpError(f"first line is not 'NAME: summary': {lines[0]!r}")
        self.name, self.summary = m[1], m[2].rstrip(".")
        i = 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
            elif line[0] != " " and line.endswith(":"):
                title, items = line[:-1], []
                i += 1
                while i < len(lines) and (lines[i].startswith(" ") or (
                        not lines[i].strip() and i + 1 < len(lines)
                        and lines[i + 1].startswith(" "))):
                    line = lines[i]
                    i += 1
                    if not line.strip():
                        continue
                    indent = len(line) - len(line.lstrip(" "))
                    if indent < 8:  # a new entry (options without a short name are at 6)
                        # A term ends at two spaces; a target is one word, so one space will do
                        # when it fills the column (`docker-daemon:NAME[:TAG] an image...`).
                        parts = (line.strip().split(None, 1) if title == "Targets" else
                                 re.split(r"\s{2,}", line.strip(), maxsplit=1))
                        items.append(Item(parts[0], parts[1] if len(parts) > 1 else ""))
                    elif items:     # a continuation of the entry's description
                        d = items[-1].desc
                        items[-1].desc = (d + " " if d else "") + line.strip()
                    else:
                        raise HelpError(f"{title}: continuation line before any entry: {line!r}")
                self.sections.append((title, items))
            elif line[0] != " ":
                para = []
                while i < len(lines) and lines[i].strip():
                    para.append(lines[i].strip())
                    i += 1
                text = " ".join(para)
                m = re.match(r"^([A-Z][A-Za-z ]*?): (.+)$", text)
                if not m:
                    raise HelpError(f"a paragraph without a 'Label: ' start: {text!r}")
                self.paragraphs.append((m[1], m[2]))
            else:
                raise HelpError(f"an indented line outside a section: {line!r}")

    def section(self, title):
        for t, items in self.sections:
            if t == title:
                return items
        raise HelpError(f"the help has no '{title}:' section")

    def parse_commands(self):
        cmds = []
        for it in self.section("Usage"):
            words = it.term.split()
            if words[0] != self.name:
                raise HelpError(f"usage line does not start with {self.name}: {it.term!r}")
            cw = []
            for w in words[1:]:
                if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                    break
                cw.append(w)
            if cw:
                cmds.append(Command(cw, it.term, it.desc))
        return cmds

    def parse_options(self):
        opts = []
        for title, items in self.sections:
            if not title.endswith("ptions"):
                continue
            for it in items:
                names, metavar = [], None
                for part in it.term.split(", "):
                    m = re.fullmatch(r"(--?[A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](\S.*))?", part)
                    if not m:
                        raise HelpError(f"{title}: not an option: {it.term!r}")
                    names.append(m[1])
                    metavar = m[2] or metavar
                opts.append(Option(names, metavar, it.desc, title))
        return opts

    def parse_transports(self):
        """{prefix: value kind} of the targets with a transport prefix (`oci:DIR[:REF]`)."""
        out = {}
        for it in self.section("Targets"):
            m = re.match(r"^([a-z][a-z0-9-]*:(?://)?)(.*)$", it.term)
            if not m:
                continue
            rest = m[2].upper()
            if m[1] == "docker-daemon:":
                kind = "image"
            elif rest.startswith("DIR"):
                kind = "dir"
            elif rest.startswith(("PATH", "FILE")):
                kind = "file"
            else:
                kind = ""
            out[m[1]] = kind
        return out

    # Which options a command takes: its own section ("Context options" for `context`), then
    # the general "Options" if its usage line says [OPTIONS], or the options its usage line
    # names (`rules list [--format text|json] [--rules PATH]`).
    def options_of(self, cmd):
        own = f"{cmd.words[0].capitalize()} options"
        chosen, seen = [], set()

        def add(o):
            fresh = [n for n in o.names if n not in seen]
            if fresh:
                seen.update(fresh)
                chosen.append(Option(fresh, o.metavar, o.desc, o.section) if fresh != o.names
                              else o)
        for o in self.options:
            if o.section == own:
                add(o)
        if "[OPTIONS]" in cmd.term:
            for o in self.options:
                if o.section == "Options":
                    add(o)
        else:
            for m in re.finditer(r"\[(--?[a-z][a-z0-9-]*)(?: ([^\]]+))?\]", cmd.term):
                o = self.option(m[1])
                if o.section == own:
                    continue
                # Only the name the usage line gives, with the values it lists.
                o2 = Option([m[1]], o.metavar, o.desc, o.section)
                o2.values = m[2].split("|") if m[2] and "|" in m[2] else o.values
                add(o2)
        return chosen

    def option(self, name, of=None):
        for o in (of if of is not None else self.options):
            if name in o.names:
                return o
        raise HelpError(f"the help has no option {name}")

    def has_option(self, name):
        return any(name in o.names for o in self.options)

    def has_value(self, name, value):
        return self.has_option(name) and value in self.option(name).values

    def has_command(self, name):
        return any(c.name == name or c.words[0] == name for c in self.commands) \
            or name in EXTRA_COMMANDS


def parse_values(desc):
    """The values an option lists in its help: `a (default...), b, c` or `a (default) or b`.
    At least two, else none (`this deep (default 2...)` is not a list)."""
    m = re.search(r"\b([a-z][a-z0-9-]*) \(default[^)]*\)", desc)
    if not m:
        return []
    vals, pos = [m[1]], m.end()
    item = re.compile(r"(?:,\s*(?:or\s+)?|\s+or\s+)([a-z][a-z0-9-]*)\b(?:\s*\([^)]*\))?")
    while True:
        n = item.match(desc, pos)
        if not n:
            break
        vals.append(n[1])
        pos = n.end()
    return vals if len(vals) >= 2 else []


# ----------------------------------------------------------------------------------- roff


def esc(s):
    """Plain text to roff: backslashes, hyphens (as minus signs, so they copy and paste),
    quotes and backquotes as ASCII characters, anything else outside ASCII by code point."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-":
            out.append("\\-")
        elif ch == "'":
            out.append("\\(aq")
        elif ch == "`":
            out.append("\\(ga")
        elif ord(ch) > 126:
            out.append(f"\\[u{ord(ch):04X}]")
        else:
            out.append(ch)
    return "".join(out)


OPT_RE = re.compile(r"(?<![\w/.-])(--?[a-z][a-z0-9-]*)")


def inline(s):
    """Help text to roff: `code` and option names in bold."""
    parts = s.split("`") if s.count("`") % 2 == 0 else [s]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(r"\fB" + esc(part) + r"\fR")
            continue
        pos = 0
        for m in OPT_RE.finditer(part):
            out.append(esc(part[pos:m.start()]) + r"\fB" + esc(m[1]) + r"\fR")
            pos = m.end()
        out.append(esc(part[pos:]))
    return "".join(out)


def syntax(s):
    """A usage or option term: literal words bold, METAVARS italic, [ ] | ... roman."""
    out = []
    for tok in re.split(r"(\s+|[\[\]|,]|\.\.\.)", s):
        if not tok:
            continue
        if re.fullmatch(r"\s+", tok):
            out.append(" ")
        elif tok in ("[", "]", "|", ",", "..."):
            out.append(esc(tok))
        elif re.search(r"[A-Z]", tok) and tok.upper() == tok:
            out.append(r"\fI" + esc(tok) + r"\fR")
        else:
            out.append(r"\fB" + esc(tok) + r"\fR")
    return "".join(out)


def lines_ok(text):
    """A roff text line must not start with a control character."""
    return "\n".join(("\\&" + ln if ln[:1] in (".", "'") else ln) for ln in text.split("\n"))


# -------------------------------------------------------------------- prose around the help
#
# Each paragraph may name only options, values, commands and transports the help has: see
# check_prose. Paragraphs with a `when` condition appear only when it holds.


def prose_sections(h):
    daemon = "docker-daemon:" in h.transports
    registry = "docker://" in h.transports
    P = []  # (section, paragraph or ("TP", term, text), condition)

    def par(section, text, when=True):
        P.append((section, text, when))

    par("DESCRIPTION",
        "rummage finds the keys, tokens and passwords baked into container images, build "
        "contexts, files and directories, and tells where each came from and how to fix it.")
    par("DESCRIPTION",
        "An image is read in one pass, never extracted to disk: every file of every layer "
        "(archives inside it, such as jar, zip, whl and tar.gz, are opened too), the image "
        "config and its history. Each finding names its layer and the Dockerfile step that "
        "made it, and its state: `present` in the final filesystem, `deleted` or "
        "`overwritten` by a later layer (its bytes still ship in the image), or `config` "
        "(environment, labels, history).")
    par("DESCRIPTION",
        "`rummage context` reads a build context before anything is built: `.dockerignore` "
        "with Docker's own matching rules, the Dockerfile as BuildKit parses it, and for each "
        "secret the COPY or ADD that would put it into the image; it also checks the "
        "Dockerfile itself (secrets in ARG, ENV and LABEL, files removed in a later step).")
    par("DESCRIPTION",
        "Secrets are redacted in every report unless --show-secrets is given; the fingerprint "
        "(a SHA-256 of the rule and the secret) identifies one without showing it. Rules are "
        "PCRE2 expressions compiled into the binary (`rummage rules list`); --rules adds more.")

    par("COMMANDS:baseline",
        "Keep the output as `.rummage-baseline.json` and scan with --baseline "
        "`.rummage-baseline.json` later: only new findings are reported and fail the scan.",
        when=h.has_command("baseline") and h.has_option("--baseline"))

    par("EXIT STATUS",
        "An input error wins over findings: a scan that could not read everything exits 2 "
        "even if it found secrets, so a CI gate never passes on an incomplete scan. "
        "Warnings do not change the exit status.")
    par("EXIT STATUS",
        "With --fail-on-state present, only findings in an image's final filesystem and its "
        "config count for exit status 1; deleted and overwritten ones are still reported.",
        when=h.has_value("--fail-on-state", "present"))
    par("EXIT STATUS",
        "By default (--fail-on-origin own) what the image's builder put there counts: files no "
        "package owns, package files whose bytes differ from what the package recorded, the "
        "layers inherited from the --base image, and a token of a live format proved by its "
        "checksum (GitHub, npm, PyPI) anywhere. A file byte-identical to what a dpkg, apk or "
        "Python package installed, or a file of an npm, gem or Maven package by its manifest, "
        "is upstream content: reported, not counted (docs/provenance.md). --fail-on-origin any "
        "counts everything.",
        when=h.has_value("--fail-on-origin", "any"))

    par("ENVIRONMENT", ("TP", "NO_COLOR",
                        "When set (to any value), --color auto prints no colours."),
        when="NO_COLOR" in h.text)
    par("ENVIRONMENT", ("TP", "DOCKER_HOST",
                        "The Docker (or Podman) daemon that `docker-daemon:` targets are read "
                        "from: `unix:///PATH` (default `unix:///var/run/docker.sock`) or "
                        "`tcp://HOST:PORT`."),
        when=daemon)

    par("FILES", ("TP", ".rummage.json",
                  "Allow-lists (paths, rules, fingerprints, regexes), severity overrides, "
                  "defaults for some options and extra rules files, read from the working "
                  "directory unless --config or --no-config is given; "
                  "a line containing `rummage:allow` is never reported "
                  "(docs/config.md)."),
        when=h.has_option("--config"))
    par("FILES", ("TP", ".dockerignore, Dockerfile",
                  "Read by `rummage context` from the context directory; a "
                  "`Dockerfile.dockerignore` next to the Dockerfile named with --file "
                  "takes precedence, as in BuildKit."),
        when=h.has_command("context") and h.has_option("--file"))
    par("FILES", ("TP", ".rummage-baseline.json",
                  "The usual name of a baseline written by `rummage baseline` and read "
                  "with --baseline."),
        when=h.has_command("baseline") and h.has_option("--baseline"))

    examples = [
        ("Every layer, the config and the history of an image saved by docker save:",
         "docker save app:1.0 | rummage scan -"),
        ("An image in the local Docker daemon:", "rummage scan docker-daemon:app:1.0"),
        ("One image of a multi-image save file, as a CI gate on high and critical findings:",
         "rummage scan --fail-on high docker-archive:all.tar:app:1.0"),
        ("Fail only on secrets in the final filesystem of every platform of an OCI layout:",
         "rummage scan --fail-on-state present --all-platforms oci:./layout"),
        ("A build context and its Dockerfile, before docker build:",
         "rummage context -f docker/Dockerfile.prod --build-arg ENV=prod ."),
        ("A SARIF report for code scanning:",
         "rummage scan --format sarif -o rummage.sarif docker-archive:image.tar"),
        ("Accept today's findings, then fail only on new ones:",
         "rummage baseline docker-archive:image.tar > .rummage-baseline.json\n"
         "rummage scan --baseline .rummage-baseline.json docker-archive:image.tar"),
        ("One scan, the text report on the terminal and two more for CI:",
         "rummage scan -o sarif=rummage.sarif -o junit=rummage.xml docker-archive:image.tar",
         "FORMAT=FILE" in h.text),
        ("The built-in rules, as JSON:", "rummage rules list --format json"),
    ]
    for text, cmd, *when in examples:
        if all(when) and example_ok(h, cmd):
            par("EXAMPLES", ("EX", text, cmd))

    see = [("README.md", "a tour"), ("docs/images.md", "image targets, layer states, limits"),
           ("docs/context.md", "build contexts"), ("docs/output.md", "report formats, exit codes"),
           ("docs/config.md", "allow-lists"), ("docs/rules.md", "the rule format"),
           ("docs/ci.md", "CI jobs, the docker plugin, the push guard and git hooks")]
    missing = [d for d, _ in see if not (ROOT / d).exists()]
    if missing:
        raise HelpError(f"SEE ALSO names files that do not exist: {missing}")
    par("SEE ALSO", ("SEEALSO", see))
    return [(s, t) for s, t, when in P if when]


def example_ok(h, cmd):
    """An example is shown only when every option, value, command and transport in it exists."""
    plain = cmd
    words = plain.split()
    for line in plain.split("\n"):
        w = line.split()
        if "rummage" in w:
            rest = w[w.index("rummage") + 1:]
            if rest and not rest[0].startswith("-") and not h.has_command(rest[0]):
                return False
    for i, w in enumerate(words):
        if w.startswith("--"):
            if not h.has_option(w):
                return False
            o = h.option(w)
            if o.values and (i + 1 >= len(words) or words[i + 1] not in o.values):
                return False
        m = TRANSPORT_RE.match(w)
        if m and m[1] not in h.transports:
            return False
    return True


# The transports of the containers/image tools (docs/images.md), as examples may use them.
TRANSPORT_RE = re.compile(r"^(docker-archive:|oci-archive:|oci:|dir:|docker-daemon:|docker://)")


def check_prose(h, paras):
    """Every option named in the prose exists (a renamed option fails loudly here)."""
    def texts(t):
        if isinstance(t, str):
            yield t
        elif t[0] in ("TP", "EX"):
            yield t[1]
            yield t[2]
    for _, t in paras:
        if not isinstance(t, str) and t[0] == "SEEALSO":
            continue
        for s in texts(t):
            for m in OPT_RE.finditer(s):
                if m[1].startswith("--") and not h.has_option(m[1]):
                    raise HelpError(f"the prose names {m[1]}, which --help does not have: {s!r}")


def render_para(t):
    if isinstance(t, str):
        return [".PP", lines_ok(inline(t))]
    if t[0] == "TP":
        return [".TP", r"\fB" + esc(t[1]) + r"\fR", lines_ok(inline(t[2]))]
    if t[0] == "EX":
        return [".PP", lines_ok(inline(t[1])), ".PP", ".RS 4", ".nf",
                "\n".join(lines_ok(r"\fB" + esc(ln) + r"\fR") for ln in t[2].split("\n")),
                ".fi", ".RE"]
    if t[0] == "SEEALSO":
        out = [".PP", r"\fBdocker\fR(1), \fBdocker-save\fR(1)".replace("-", "\\-"), ".PP",
               "In the source tree:"]
        for doc, what in t[1]:
            out += [".TP", r"\fI" + esc(doc) + r"\fR", esc(what)]
        return out
    raise HelpError(f"unknown paragraph kind {t[0]}")


def render_man(h):
    paras = prose_sections(h)
    check_prose(h, paras)

    def prose(section):
        out = []
        for s, t in paras:
            if s == section:
                out += render_para(t)
        return out

    version = h.version
    out = [
        '.\\" Generated by tools/gen_man.py from `rummage --help`: edit src/cli/commands.c or the',
        '.\\" generator, then run tools/gen_man.py (make man), never this file.',
        f'.TH RUMMAGE 1 "" "rummage {esc(version)}" "User Commands"',
        ".nh", ".ad l",
        ".SH NAME", f"{esc(h.name)} \\- {esc(h.summary)}",
        ".SH SYNOPSIS",
    ]
    usage = h.section("Usage")
    for n, it in enumerate(usage):
        if n:
            out.append(".br")
        out.append(syntax(it.term))
    out.append(".SH DESCRIPTION")
    out += prose("DESCRIPTION")[1:] if prose("DESCRIPTION")[:1] == [".PP"] else prose("DESCRIPTION")

    out.append(".SH COMMANDS")
    for cmd in h.commands:
        out += [".TP", syntax(cmd.term)]
        out.append(lines_ok(inline(cmd.desc)) if cmd.desc else
                   lines_ok(inline(EXTRA_DESC.get(cmd.name, ""))) or r"\&")
        extra = prose("COMMANDS:" + cmd.name)
        if extra:
            out += [".IP"] + extra[1:]
    for name, desc in EXTRA_COMMANDS.items():
        out += [".TP", syntax(f"{h.name} {name}"), lines_ok(inline(desc))]

    out.append(".SH TARGETS")
    for it in h.section("Targets"):
        out += [".TP", syntax_target(it.term), lines_ok(inline(it.desc))]

    out.append(".SH OPTIONS")
    opt_sections = [(t, items) for t, items in h.sections if t.endswith("ptions")]
    # The general options first, then those of one command.
    opt_sections.sort(key=lambda s: s[0] != "Options")
    for title, items in opt_sections:
        if title != "Options" or len(opt_sections) > 1:
            out.append(f".SS {esc(title)}")
        for it in items:
            out += [".TP", syntax(it.term), lines_ok(inline(it.desc))]

    for title, items in h.sections:
        if title in ("Usage", "Targets") or title.endswith("ptions"):
            continue
        out.append(f".SH {esc(title.upper())}")
        for it in items:
            out += [".TP", syntax(it.term), lines_ok(inline(it.desc))]

    exit_text = None
    for label, text in h.paragraphs:
        if label == "Exit status":
            exit_text = text
            continue
        out += [f".SH {esc(PARAGRAPH_SECTIONS.get(label, label).upper())}",
                lines_ok(inline(text if label not in PARAGRAPH_SECTIONS
                                else f"{label}: {text}"))]
    if exit_text is None:
        raise HelpError("the help has no 'Exit status:' paragraph")
    out += [".SH EXIT STATUS", lines_ok(inline(exit_text))] + prose("EXIT STATUS")
    for section in ("ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"):
        body = prose(section)
        if body:
            out += [f".SH {section}"] + body
    return "\n".join(out) + "\n"


# Help paragraphs other than "Exit status" become sections of their own, under these names
# (the label stays in the text).
PARAGRAPH_SECTIONS = {"Inline allow": "Suppressing findings"}
# Descriptions for usage lines that have none in the help.
EXTRA_DESC = {"rules list": "list the rules: the built-in ones and those added with --rules"}


def syntax_target(term):
    """`docker-archive:PATH[:NAME:TAG|:@N]`: the prefix bold, the rest as syntax."""
    m = re.match(r"^([a-z][a-z0-9-]*:(?://)?)(.*)$", term)
    if m:
        return r"\fB" + esc(m[1]) + r"\fR" + syntax(m[2])
    return syntax(term)


# ------------------------------------------------------------------------ completion tables


def bash_table(h, cmd):
    """`NAME` for a flag, `NAME=SPEC` for an option with a value (SPEC: v1,v2 | @file | @dir |
    empty)."""
    words = []
    for o in h.options_of(cmd):
        for n in o.names:
            if o.kind is None:
                words.append(n)
            elif o.kind == "list":
                words.append(f"{n}={','.join(o.values)}")
            elif o.kind in ("file", "dir"):
                words.append(f"{n}=@{o.kind}")
            else:
                words.append(f"{n}=")
    return " ".join(words)


def var(name):
    return re.sub(r"[^a-z0-9]", "_", name)


def gen_bash(h):
    cmds = [c.words[0] for c in h.commands]
    cmds = list(dict.fromkeys(cmds)) + [c for c in EXTRA_COMMANDS if c not in cmds]
    out = [f"_rummage_commands='{' '.join(cmds)}'"]
    groups = {}
    for c in h.commands:
        if len(c.words) > 1:
            groups.setdefault(c.words[0], []).append(c.words[1])
    for g, subs in groups.items():
        out.append(f"_rummage_sub_{var(g)}='{' '.join(subs)}'")
    for c in h.commands:
        out.append(f"_rummage_opts_{var(c.name)}='{bash_table(h, c)}'")
        out.append(f"_rummage_args_{var(c.name)}='{c.args or ''}'")
    out.append("_rummage_targets='" + " ".join(
        f"{p}=@{k}" if k else f"{p}=" for p, k in h.transports.items()) + "'")
    return out


def zq(s):
    """A word in single quotes for zsh."""
    return "'" + s.replace("'", "'\\''") + "'"


def zplain(s):
    """A description for a zsh menu: one line, no backquotes, at most about 70 characters."""
    s = re.sub(r"`([^`]*)`", r"\1", s)
    s = re.sub(r"\s+", " ", s).strip()
    if len(s) > 70:
        s = s[:70].rsplit(" ", 1)[0] + "..."
    return s


def zdesc(s):
    """The same, escaped for the [...] of an _arguments spec."""
    return re.sub(r"([\\\[\]:])", r"\\\1", zplain(s))


def zsh_specs(h, cmd):
    specs = []
    for o in h.options_of(cmd):
        excl = "(" + " ".join(o.names) + ")" if len(o.names) > 1 else ""
        star = "*" if any(n in REPEATABLE for n in o.names) else ""
        if star:
            excl = ""
        d = zdesc(o.desc)
        for n in o.names:
            if o.kind is None:
                specs.append(f"{excl}{star}{n}[{d}]")
                continue
            form = "+" if not n.startswith("--") else "="
            msg = re.sub(r"[^a-z0-9/=_.-]", "", o.metavar.split()[0].lower()) or "value"
            action = {"list": "(" + " ".join(o.values) + ")", "file": "_files",
                      "dir": "_files -/"}.get(o.kind, " ")
            specs.append(f"{excl}{star}{n}{form}[{d}]:{msg}:{action}")
    return specs


def gen_zsh(h):
    cmds, seen = [], set()
    for c in h.commands:
        w = c.words[0]
        if w in seen:
            continue
        seen.add(w)
        if len(c.words) > 1:
            subs = [x.words[1] for x in h.commands if x.words[0] == w]
            cmds.append(f"{w}:{' or '.join(subs)}")
        else:
            cmds.append(f"{w}:{zplain(c.desc)}")
    for name, desc in EXTRA_COMMANDS.items():
        if name not in seen:
            cmds.append(f"{name}:{zplain(desc)}")
    out = ["_rummage_commands=("] + ["  " + zq(c) for c in cmds] + [")"]
    groups = {}
    for c in h.commands:
        if len(c.words) > 1:
            groups.setdefault(c.words[0], []).append(
                f"{c.words[1]}:{zplain(c.desc or EXTRA_DESC.get(c.name, c.name))}")
    for g, subs in groups.items():
        out += [f"_rummage_sub_{var(g)}=("] + ["  " + zq(x) for x in subs] + [")"]
    for c in h.commands:
        out += [f"_rummage_opts_{var(c.name)}=("] + ["  " + zq(x) for x in zsh_specs(h, c)]
        out += [")", f"_rummage_args_{var(c.name)}={c.args or ''}"]
    out.append("_rummage_targets=(" + " ".join(
        zq(f"{p}=@{k}" if k else f"{p}=") for p, k in h.transports.items()) + ")")
    return out


def gen_plugin(h):
    scan = next((c for c in h.commands if c.name == "scan"), None)
    if scan is None:
        raise HelpError("the help has no 'rummage scan' usage line")
    opts = h.options_of(scan)
    value_long = [n for o in opts if o.metavar for n in o.names if n.startswith("--")]
    flag_long = [n for o in opts if not o.metavar for n in o.names if n.startswith("--")]
    value_short = "".join(n[1] for o in opts if o.metavar for n in o.names
                          if not n.startswith("--"))
    cmds = list(dict.fromkeys([c.words[0] for c in h.commands] + list(EXTRA_COMMANDS)))
    return [
        f"commands='{' '.join(cmds)}'",
        f"transports='{' '.join(h.transports)}'",
        f"value_options='{' '.join(value_long)}'",
        f"flag_options='{' '.join(flag_long)}'",
        f"value_short='{value_short}'",
    ]


BEGIN = "BEGIN GENERATED by tools/gen_man.py from `rummage --help`: do not edit"
END = "END GENERATED"


def splice(text, block, path):
    lines = text.split("\n")
    try:
        b = next(i for i, ln in enumerate(lines) if BEGIN in ln)
        e = next(i for i, ln in enumerate(lines) if i > b and END in ln)
    except StopIteration:
        raise HelpError(f"{path}: no '# {BEGIN}' ... '# {END}' block") from None
    return "\n".join(lines[:b + 1] + block + lines[e:])


# ----------------------------------------------------------------------------------- main


def load_help(rummage):
    def out(*args):
        p = subprocess.run([rummage, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env={**os.environ, "NO_COLOR": "1"})
        if p.returncode != 0:
            raise HelpError(f"{rummage} {' '.join(args)} exited {p.returncode}: "
                            f"{p.stderr.decode(errors='replace').strip()}")
        return p.stdout.decode()
    text = out("--help")
    m = re.match(r"^rummage (\S+)", out("--version"))
    if not m:
        raise HelpError("rummage --version does not start with 'rummage VERSION'")
    return Help(text, m[1])


def render_all(h):
    """{relative path: new text}."""
    files = {MAN: render_man(h)}
    for path, block in ((BASH, gen_bash(h)), (ZSH, gen_zsh(h)), (PLUGIN, gen_plugin(h))):
        files[path] = splice((ROOT / path).read_text(), block, path)
    return files


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--rummage", default=os.environ.get("RUMMAGE") or str(ROOT / "build/rummage"))
    a = ap.parse_args(argv[1:])
    try:
        files = render_all(load_help(a.rummage))
    except (HelpError, OSError) as ex:
        print(f"gen_man.py: {ex}", file=sys.stderr)
        return 2
    stale = []
    for rel, text in files.items():
        cur = (ROOT / rel).read_text() if (ROOT / rel).exists() else None
        if a.check:
            if cur != text:
                stale.append(rel)
            continue
        dest = Path(a.out) / rel if a.out else ROOT / rel
        if a.out or cur != text:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.write_text(text)
            if (ROOT / rel).exists():
                os.chmod(tmp, os.stat(ROOT / rel).st_mode & 0o777)
            os.replace(tmp, dest)
            print(f"wrote {dest}")
    if stale:
        print("gen_man.py: not what `rummage --help` gives (run tools/gen_man.py): "
              + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
