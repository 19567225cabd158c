#!/usr/bin/python3
"""The layering rule, checked: each source folder's README.md says in one
line what it holds and, after "May include:", which folders its files may
include.  This script derives the graph the code really has and fails on

  - an include of a folder the README does not allow;
  - a cycle between folders;
  - a cycle between files: a file and its header are one unit, and unit A
    depends on unit B when A includes B's header or, from the built
    objects (nm), calls or uses something B defines.

    scripts/check_layers.py [--root DIR] [--objects build/obj]

Exit status 0 when the tree is clean, 1 with one line per problem."""
import argparse
import collections
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAY_INCLUDE = re.compile(r"May include:\s*(.*?)\.?\s*$", re.M)


def layer_folders():
    """{folder: allowed folders} for every folder whose README says."""
    layers = {}
    for readme in sorted(REPO.glob("*/README.md")):
        m = MAY_INCLUDE.search(readme.read_text())
        if m:
            words = re.split(r"[,\s]+", m.group(1).strip())
            layers[readme.parent.name] = {w for w in words if w and w != "nothing"}
    return layers


def unit_of(path):
    """folder/stem: a .c and its .h are one unit."""
    rel = path.relative_to(REPO) if path.is_absolute() else path
    return str(rel.with_suffix(""))


def source_files(layers):
    for folder in layers:
        for p in sorted((REPO / folder).iterdir()):
            if p.suffix in (".c", ".h"):
                yield p


def include_edges(layers):
    """[(unit, included unit, file)] for the quoted includes."""
    edges = []
    for p in source_files(layers):
        for inc in INCLUDE.findall(p.read_text()):
            edges.append((unit_of(p), str(pathlib.PurePath(inc).with_suffix("")), p))
    return edges


def nm_symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", str(obj)], capture_output=True,
                         text=True, check=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    out = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.split()}
    return defined, used


def symbol_edges(layers, objdir):
    """[(unit, unit that defines a symbol it uses, symbol)] from the objects."""
    owner, uses = {}, {}
    for folder in layers:
        for obj in sorted((objdir / folder).glob("*.o")):
            if not (REPO / folder / f"{obj.stem}.c").exists():
                continue  # left over from a source that is gone
            unit = f"{folder}/{obj.stem}"
            defined, used = nm_symbols(obj)
            for sym in defined:
                owner[sym] = unit
            uses[unit] = used
    return [(u, owner[s], s) for u, used in uses.items() for s in used
            if s in owner and owner[s] != u]


def cycles(graph):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    global REPO
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=pathlib.Path,
                    help="the build's object folder (build/obj): also check calls")
    ap.add_argument("--root", type=pathlib.Path, default=pathlib.Path(REPO),
                    help="the tree to check (default: this repository)")
    args = ap.parse_args()
    REPO = args.root.resolve()
    layers = layer_folders()
    if not layers:
        print("check_layers: no folder README.md says 'May include:'", file=sys.stderr)
        return 1
    problems = []
    folder_graph = collections.defaultdict(set)
    unit_graph = collections.defaultdict(set)
    for unit, target, path in include_edges(layers):
        src, dst = unit.split("/")[0], target.split("/")[0]
        unit_graph[unit].add(target)
        if src == dst:
            continue
        folder_graph[src].add(dst)
        if dst not in layers[src]:
            problems.append(f"{path.relative_to(REPO)}: includes {target}.h, but "
                            f"{src}/README.md allows only: "
                            f"{', '.join(sorted(layers[src])) or 'nothing'}")
    if args.objects:
        if not args.objects.is_dir():
            print(f"check_layers: {args.objects}: no such folder (build first)",
                  file=sys.stderr)
            return 1
        for unit, target, sym in symbol_edges(layers, args.objects):
            unit_graph[unit].add(target)
            src, dst = unit.split("/")[0], target.split("/")[0]
            if src != dst:
                folder_graph[src].add(dst)
                if dst not in layers[src]:
                    problems.append(f"{unit}.c: uses {sym} from {target}.c, but "
                                    f"{src}/README.md does not allow {dst}")
    for comp in cycles(folder_graph):
        problems.append("cycle between folders: " + " <-> ".join(comp))
    for comp in cycles(unit_graph):
        problems.append("cycle between files: " + " <-> ".join(comp))
    for p in problems:
        print(p)
    if not problems:
        print(f"check_layers: {len(layers)} folders, {len(unit_graph)} files: "
              "no forbidden include, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
