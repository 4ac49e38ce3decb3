#!/usr/bin/env python3
"""The source tree's layout rules (src/README.md, STYLE.md), checked on every `make check`.

- src/ holds one folder per pipeline stage; a file includes only headers of its own folder, of
  the stages below it, and include/rummage.h. The stages, lowest first, are STAGES below.
- No two files form a circle of includes: a module is a .c with the .h of the same name, and
  the graph of modules by their #include "..." lines has no cycle. Calls across files go
  through headers (-Wmissing-prototypes), so this is also the call graph between files.
- No .c or .h file under src/ is longer than MAX_LINES.
- The library's stages are exactly the Makefile's STAGES.
Prints TAP. Standard library only.
"""
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(TOP, "src")
# Lowest first: a stage may include its own folder and any folder before it.
STAGES = ["common", "engine", "provenance", "image", "source", "context", "report", "cli"]
TOOLS = "tools"  # build-time tools (src/tools/embed.c) may include any stage
MAX_LINES = 1200
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

results = []


def check(ok, name, detail=""):
    results.append((bool(ok), name, detail))


def sources():
    for d, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), SRC)


def includes(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as fh:
        return INCLUDE.findall(fh.read())


files = sorted(sources())
check(files, "src/ has sources")

# 1. every file sits in a stage folder and includes only down the stages
for rel in files:
    stage = rel.split(os.sep)[0]
    if stage == TOOLS:
        continue
    check(stage in STAGES and os.sep in rel, f"{rel} is in a stage folder",
          f"{rel}: not under src/{{{','.join(STAGES)}}}/")
    if stage not in STAGES:
        continue
    level = STAGES.index(stage)
    bad = []
    for inc in includes(rel):
        if inc == "rummage.h":
            continue
        top = inc.split("/")[0]
        if top not in STAGES or "/" not in inc:
            bad.append(f"{inc} (not a stage header)")
        elif STAGES.index(top) > level:
            bad.append(f"{inc} (stage {top} is above {stage})")
        elif not os.path.exists(os.path.join(SRC, inc)):
            bad.append(f"{inc} (no such file)")
    check(not bad, f"{rel} includes only its own and lower stages", "; ".join(bad))

# 2. no circle of includes between modules (x.c + x.h)
def module(rel):
    return os.path.splitext(rel)[0]


graph = {}
for rel in files:
    m = module(rel)
    graph.setdefault(m, set())
    for inc in includes(rel):
        if inc != "rummage.h" and module(inc) != m:
            graph[m].add(module(inc))

WHITE, GREY, BLACK = 0, 1, 2
colour = {m: WHITE for m in graph}
cycles = []


def visit(m, path):
    colour[m] = GREY
    path.append(m)
    for n in sorted(graph.get(m, ())):
        if colour.get(n, BLACK) == GREY:
            cycles.append(path[path.index(n):] + [n])
        elif colour.get(n) == WHITE:
            visit(n, path)
    path.pop()
    colour[m] = BLACK


sys.setrecursionlimit(10000)
for m in sorted(graph):
    if colour[m] == WHITE:
        visit(m, [])
check(not cycles, "no circle of includes between files",
      "; ".join(" -> ".join(c) for c in cycles))

# 3. no file over MAX_LINES
for rel in files:
    with open(os.path.join(SRC, rel), encoding="utf-8") as fh:
        n = sum(1 for _ in fh)
    check(n <= MAX_LINES, f"{rel} has at most {MAX_LINES} lines", f"{rel}: {n} lines")

# 4. the Makefile builds the stages named here
with open(os.path.join(TOP, "Makefile"), encoding="utf-8") as fh:
    mk = re.search(r"^STAGES\s*:=\s*(.*)$", fh.read(), re.M)
check(mk and mk.group(1).split() == STAGES, "the Makefile's STAGES are the layout's stages",
      f"Makefile: {mk.group(1) if mk else 'no STAGES'}")
# and every stage folder has a design comment on top of each file
for rel in files:
    with open(os.path.join(SRC, rel), encoding="utf-8") as fh:
        first = fh.readline()
    name = os.path.basename(rel)
    check(first.startswith("/* " + name + ":"), f"{rel} opens with its purpose",
          f"{rel}: first line {first.strip()[:60]!r} does not start with '/* {name}:'")

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print(f"# {detail}")
sys.exit(0 if all(r[0] for r in results) else 1)
