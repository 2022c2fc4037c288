"""Prints the import cycles among the modules of a Rust crate's source
directory and exits 1 if there is one.

A module is a file (`a/b.rs` or `a/b/mod.rs` is `a::b`). Module `m`
depends on module `t` when `m` names an item of `t` in a `use` (with
`crate::`, `super::`, `self::` or a child module's name) or in a path
written inline (`crate::t::item`, `super::item`). Items of a test module
(`#[cfg(test)] mod tests`) are not counted. A parent that only declares
its children and re-exports their items depends on them; a child that
uses an item defined in its parent's file depends on the parent: both
ways is a cycle.

usage: python3 tests/py/import_cycles.py SRC_DIR
"""
import os
import re
import sys


def modules(root):
    """Module path -> file."""
    found = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".rs"):
                parts = os.path.relpath(os.path.join(dirpath, f), root)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                found["::".join(parts)] = os.path.join(dirpath, f)
    return found


def resolve(mods, cur, path):
    """The module a path names an item of (or is), or None for outside
    paths (std, other crates)."""
    segs = path.split("::")
    here = cur.split("::") if cur else []
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] == "super":
        base, segs = here[:-1], segs[1:]
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
    elif segs[0] == "self":
        base, segs = here, segs[1:]
    elif "::".join(here + segs[:1]) in mods:
        base = here
    else:
        return None
    for i in range(len(segs), -1, -1):
        m = "::".join(base + segs[:i])
        if m in mods:
            return m
    return None


def use_paths(text):
    """Every path of every `use` item, braces expanded."""
    for body in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text, re.M):
        yield from expand(re.sub(r"\s+", "", body))


def expand(path):
    m = re.match(r"^(.*?)::\{(.*)\}$", path)
    if not m:
        yield path.split(" as ")[0]
        return
    prefix, inner, depth, item = m.group(1), m.group(2), 0, ""
    items = []
    for ch in inner:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += ch
    items.append(item)
    for it in filter(None, items):
        yield from expand(prefix if it == "self" else f"{prefix}::{it}")


def edges(mods):
    out = {m: set() for m in mods}
    for m, path in mods.items():
        with open(path) as f:
            text = re.sub(r"#\[cfg\(test\)\]\s*mod tests \{.*", "", f.read(), flags=re.S)
        paths = list(use_paths(text)) + re.findall(r"\b((?:crate|super)(?:::\w+)+)", text)
        for p in paths:
            t = resolve(mods, m, p)
            if t is not None and t not in (m, ""):
                out[m].add(t)
    return out


def cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    mods = modules(sys.argv[1])
    graph = edges(mods)
    found = cycles(graph)
    for comp in found:
        print("cycle:", ", ".join(comp))
        for m in comp:
            print(f"  {m or 'crate'} -> {', '.join(sorted(t for t in graph[m] if t in comp))}")
    if found:
        sys.exit(1)
    print(f"ok: {len(mods)} modules, no import cycle")


main()
