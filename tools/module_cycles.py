#!/usr/bin/env python3
"""Fails on import cycles between the modules of src/ (docs/architecture.md, "Structure rules").

A module is a file: `src/orders/service.rs` is `orders::service`, `src/orders/mod.rs` is
`orders`. Module A depends on B when A's code (outside its trailing `#[cfg(test)] mod tests`,
since a test may build the whole application) names an item of B: `crate::orders::service::X`,
`super::store::Y`, or `crate::orders::X` where `orders` re-exports `X` from `orders::service`
(the re-export is followed to the file that defines it). A module and the modules inside it
are one unit: a parent re-exporting its children, and children using what their parent
declares, is how a Rust module is built, not a cycle.

A room (a top-level module such as `orders/`) holds its handlers beside its services, and
handlers import the extractors and state that themselves import services of other rooms, so
rooms as wholes are not layered; files are, and that is what is checked.

It also fails when a migration (`db::migrations::*`) imports anything outside the
migrations: migrations are frozen history and carry their own table definitions.

Usage: tools/module_cycles.py [--graph] [--top] [--self-test]
  --graph      print every import edge (with `--top`: between rooms, for reading only)
  --self-test  check the checker on a small tree with and without a cycle
"""

import re
import sys
from collections import defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
# Migrations may import each other's helpers and nothing else of the application.
MIGRATIONS = "db::migrations"
# The crate root and the binary name every module by construction.
SKIP = {"main", "lib"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text: str) -> str:
    """Code without comments, string literals or a trailing test module."""
    test = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod tests\b", text, re.M)
    if test:
        text = text[: test.start()]
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r(#+)"(?:.|\n)*?"\1', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\\n])'", "' '", text)
    return text


def module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return "::".join(parts)


def squeeze(tree: str) -> str:
    """A use tree without whitespace; a rename `X as Y` becomes `X@Y`."""
    return re.sub(r"\s+", "", re.sub(r"\s+as\s+(\w+)", r"@\1", tree))


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (whitespace already removed)."""
    brace = tree.find("{")
    if brace < 0:
        return [tree]
    prefix, body = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    items, depth, current = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current += ch
    items.append(current)
    return [p for item in items if item for p in expand(prefix + item)]


class Crate:
    def __init__(self, src: Path = SRC):
        self.files = {module_name(src, p): p for p in sorted(src.rglob("*.rs"))}
        self.code = {m: strip(p.read_text()) for m, p in self.files.items()}
        self.reexports = {m: self._reexports(m) for m in self.files}

    def _absolute(self, here: str, path: str) -> list:
        """Segments of `path` as seen from module `here`, from the crate root; None if the
        path leaves the crate."""
        segs = [s for s in path.split("::") if s]
        if not segs:
            return None
        base = here.split("::") if here else []
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] in ("self", "super"):
            while segs and segs[0] in ("self", "super"):
                if segs.pop(0) == "super":
                    base = base[:-1]
            return base + segs
        # A bare path in a `use` of a child module (`use service::X;` in a mod.rs).
        if "::".join(base + segs[:1]) in self.files:
            return base + segs
        return None

    def _reexports(self, module: str) -> dict:
        names = {}
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", self.code[module]):
            for path in expand(squeeze(m.group(1))):
                path, _, alias = path.partition("@")
                segs = self._absolute(module, path)
                if segs:
                    names[alias or segs[-1]] = segs
        return names

    def resolve(self, segs: list, depth: int = 0) -> str:
        """The file that defines the item `segs` names (following re-exports)."""
        longest = ""
        for i in range(1, len(segs) + 1):
            candidate = "::".join(segs[:i])
            if candidate in self.files:
                longest = candidate
            else:
                break
        if not longest:
            return None
        rest = segs[len(longest.split("::")) :]
        if rest and depth < 8 and rest[0] in self.reexports.get(longest, {}):
            target = self.reexports[longest][rest[0]]
            return self.resolve(target + rest[1:], depth + 1) or longest
        return longest

    def edges(self) -> dict:
        found = defaultdict(lambda: defaultdict(set))
        path_re = re.compile(rf"\b(?:crate|super|self)(?:::(?:{IDENT}|\{{[^;]*?\}}))+")
        use_re = re.compile(r"\buse\s+([^;]+);")
        for here, code in self.code.items():
            if here in SKIP:
                continue
            paths = [
                p.partition("@")[0] for m in use_re.finditer(code) for p in expand(squeeze(m.group(1)))
            ]
            paths += [m.group(0) for m in path_re.finditer(use_re.sub("", code))]
            for p in paths:
                segs = self._absolute(here, p)
                if not segs:
                    continue
                target = self.resolve(segs)
                if not target or target in SKIP or related(here, target):
                    continue
                found[here][target].add(p)
        return found


def related(a: str, b: str) -> bool:
    """One module contains the other."""
    return a == b or a.startswith(b + "::") or b.startswith(a + "::")


def components(graph: dict) -> list:
    """Strongly connected components with more than one member (iterative Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    nodes = sorted(set(graph) | {t for ts in graph.values() for t in ts})
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            advanced = False
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                members = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    members.append(w)
                    if w == v:
                        break
                if len(members) > 1:
                    out.append(sorted(members))
    return out


def shortest_loop(graph: dict, members: list) -> list:
    start, allowed = members[0], set(members)
    previous = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph.get(v, {})):
            if w not in allowed:
                continue
            if w == start:
                path = [v]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return members


def top(graph: dict) -> dict:
    coarse = defaultdict(lambda: defaultdict(set))
    for a, targets in graph.items():
        for b, why in targets.items():
            ta, tb = a.split("::")[0], b.split("::")[0]
            if ta != tb:
                coarse[ta][tb] |= {f"{a} -> {b}"}
    return coarse


def report(graph: dict, cycles: list) -> None:
    for members in cycles:
        loop = shortest_loop(graph, members)
        print(f"cycle among {len(members)} modules, e.g. {' -> '.join(loop)}")
        for a, b in zip(loop, loop[1:]):
            print(f"    {a} -> {b}: {', '.join(sorted(graph[a][b])[:2])}")


def self_test() -> int:
    """The check finds a cycle made through a re-export and `super::`, and none in a tree
    whose only loops are a parent and its children."""
    import tempfile

    files = {
        "lib.rs": "pub mod a;\npub mod b;\n",
        "a/mod.rs": "mod inner;\npub use inner::Thing;\n",
        "a/inner.rs": "use super::Thing as Same; // parent and child: fine\n"
        "pub struct Thing;\nfn f() { crate::b::work(); }\n",
        "b.rs": "pub fn work() {}\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp)
        for name, text in files.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text)
        clean = components(Crate(src).edges())
        (src / "b.rs").write_text("pub fn work() { let _ = crate::a::Thing; }\n")
        graph = Crate(src).edges()
        looped = components(graph)
    if clean or looped != [["a::inner", "b"]]:
        print(f"self-test failed: clean tree {clean}, looped tree {looped}")
        return 1
    print("self-test: a cycle through a re-export is found; parent and child are not one")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    crate = Crate()
    graph = crate.edges()
    if "--top" in sys.argv:
        graph = top(graph)
    if "--graph" in sys.argv:
        for a in sorted(graph):
            for b in sorted(graph[a]):
                print(f"{a} -> {b}  ({', '.join(sorted(graph[a][b])[:2])})")
        return 0
    failed = False
    cycles = components(graph)
    if cycles:
        print("module import cycles (docs/architecture.md, \"Structure rules\"):")
        report(graph, cycles)
        failed = True
    # Migrations are frozen history: they carry what they need.
    thawed = sorted(
        f"{a} -> {b}"
        for a, targets in graph.items()
        if a.startswith(MIGRATIONS + "::")
        for b in targets
        if not b.startswith(MIGRATIONS)
    )
    if thawed:
        print("migrations that import application code (copy what they need instead):")
        for edge in thawed:
            print(f"    {edge}")
        failed = True
    if failed:
        return 1
    modules = len(set(graph) | {t for ts in graph.values() for t in ts})
    edges = sum(len(ts) for ts in graph.values())
    print(f"no module cycles, no migration importing the application: {modules} modules, {edges} imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
