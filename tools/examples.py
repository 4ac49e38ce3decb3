#!/usr/bin/env python3
"""examples.py: convert a rules file's examples between plain and fragmented ("defanged") form.

A rule's examples are real-looking secrets. Stored whole in patterns/*.json (and so in the
binary, which embeds those files), they make every secret scanner, rummage included, flag
rummage itself. So patterns/*.json hold each example as a JSON array of fragments of at most
8 characters; the example is their concatenation (docs/rules.md, "Examples: plain and
fragmented"):

    "text": ["OPENAI_A", "PI_KEY", "=sk-proj", "-RHtUVQc", ...]

A fragment is too short to match a token rule (every prefix, keyword and body is split) and
has too little entropy to pass an entropy scanner's threshold (8 characters: at most 3 bits
each); where fragments start, see split(). The rule loader (src/engine/rules.c) joins the
fragments; plain strings stay accepted, so a user's rules file needs no conversion.

Authors edit the plain form and store the fragmented one:

  tools/examples.py plain patterns/x.json     examples as plain strings, to read and edit
  tools/examples.py defang patterns/x.json    examples as fragment arrays, as stored
  tools/examples.py check patterns/*.json     write nothing; exit 1 naming each file that is
                                              not in fragmented form or does not round-trip

plain and defang rewrite each FILE in place (--stdout: print instead), accept either form,
and write the layout of patterns/*.json: JSON indented by 2, non-ASCII kept, a fragment array
on as few lines of at most 100 columns as it takes. Only examples change: examples.positive[i]
(a string, or the "text" and "secret" of {text, secret}) and examples.negative[i].
Standard library only.
"""
import argparse
import json
import sys

FRAGMENT = 8  # characters (code points) per fragment
WIDTH = 100   # columns a line of fragments may take
SEPARATORS = set(" \t\r\n\f\v=:,;\"'`@&|<>()[]{}")  # a fragment starts at each of these
MARK = "\u0000examples.py:%d\u0000"  # placeholder for a fragment array while dumping


def join(value):
    """An example as a string: a fragment array joined, a string as is, anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(f, str) for f in value):
        return "".join(value)
    return None


def split(text):
    """A string as its fragments (one empty fragment for the empty string): a fragment starts
    at every separator (SEPARATORS), and a longer run is cut every FRAGMENT characters. So a
    name and its value, a flag and its argument, a scheme and its userinfo are never in one
    fragment, and no fragment holds a word followed by a space: a rule that needs "NAME=value"
    or "cmd -p value" on one line cannot match across the '", "' between fragments either."""
    runs = []
    for c in text:
        if not runs or c in SEPARATORS or len(runs[-1]) == FRAGMENT:
            runs.append(c)
        else:
            runs[-1] += c
    return runs or [""]


def map_examples(doc, fn):
    """Applies fn to every example string of every rule of doc (in place); fn gets the joined
    string. Values that are not examples, or not well-formed ones, are left as they are (the
    loader and `rummage rules check` report those)."""
    rules = doc.get("rules") if isinstance(doc, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        ex = rule.get("examples") if isinstance(rule, dict) else None
        if not isinstance(ex, dict):
            continue
        for kind in ("positive", "negative"):
            items = ex.get(kind)
            if not isinstance(items, list):
                continue
            for i, item in enumerate(items):
                if kind == "positive" and isinstance(item, dict):
                    for key in ("text", "secret"):
                        if key in item and join(item[key]) is not None:
                            item[key] = fn(join(item[key]))
                elif join(item) is not None:
                    items[i] = fn(join(item))


def dump_plain(doc):
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def dump_defanged(doc):
    arrays = []

    def mark(text):
        arrays.append(split(text))
        return MARK % (len(arrays) - 1)

    map_examples(doc, mark)
    out = []
    for line in dump_plain(doc).split("\n"):
        start = line.find('"\\u0000examples.py:')
        if start < 0:
            out.append(line)
            continue
        end = line.index('\\u0000"', start) + len('\\u0000"')
        n = int(line[start:end].split(":")[1].split("\\")[0])
        indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
        cur = line[:start] + "["
        items = [json.dumps(f, ensure_ascii=False) for f in arrays[n]]
        for k, item in enumerate(items):
            tail = "]" + line[end:] if k == len(items) - 1 else ","
            if k > 0 and len(cur) + 1 + len(item) + len(tail) > WIDTH:
                out.append(cur)
                cur = indent + item + tail
            else:
                cur += (" " if k > 0 else "") + item + tail
        out.append(cur)
    return "\n".join(out)


def plain(text):
    doc = json.loads(text)
    map_examples(doc, lambda s: s)
    return dump_plain(doc)


def defang(text):
    return dump_defanged(json.loads(text))


def check(text):
    """What is wrong with a stored file (None: it is in fragmented form and round-trips)."""
    try:
        want = defang(text)
    except ValueError as e:
        return f"not JSON: {e}"
    if text != want:
        return "not in fragmented form (run tools/examples.py defang)"
    if defang(plain(text)) != text:
        return "does not round-trip through the plain form"
    doc = json.loads(text)
    # Every example is stored as fragments of at most FRAGMENT characters ("secret": null,
    # no assertion on the secret, stays).
    stored = []
    rules = doc.get("rules") if isinstance(doc, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        ex = rule.get("examples", {}) if isinstance(rule, dict) else {}
        for item in ex.get("positive", []) + ex.get("negative", []):
            if isinstance(item, dict):
                stored += [item[k] for k in ("text", "secret") if k in item]
            else:
                stored.append(item)
    for value in stored:
        if isinstance(value, str) or join(value) and any(len(f) > FRAGMENT for f in value):
            return f"an example is not split into fragments of at most {FRAGMENT}: {value!r:.40}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["plain", "defang", "check"])
    ap.add_argument("files", nargs="+", metavar="FILE")
    ap.add_argument("--stdout", action="store_true", help="print the result, write nothing")
    args = ap.parse_args()
    bad = 0
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if args.command == "check":
            why = check(text)
            if why:
                print(f"{path}: {why}", file=sys.stderr)
                bad += 1
            continue
        try:
            out = plain(text) if args.command == "plain" else defang(text)
        except ValueError as e:
            print(f"{path}: not JSON: {e}", file=sys.stderr)
            bad += 1
            continue
        if args.stdout:
            sys.stdout.write(out)
        elif out != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
