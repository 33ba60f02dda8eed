"""No import cycles between Proctor's modules, except the known ones that later work removes.

Every ``import`` in ``src/proctor`` is read with :mod:`ast`, at module level and inside functions
(a lazy import hides a cycle from the interpreter, not from a reader), relative imports resolved.
``from package import name`` counts as an import of ``package.name`` when that is a module, else of
``package``. Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``: each counts, unless the
importer is inside that package (the ``__init__`` is then already running). The root package
``proctor/__init__`` is the public API and imports lazily, so it is not counted as a parent. A package's ``__init__`` is a module like any other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "proctor"

#: cycles that exist today and that later work removes; each is its modules in sorted order.
#: The test fails on any other cycle, and on an entry here that is no longer a cycle, so this set
#: only shrinks.
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset({})


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Every module under ``src/proctor`` by dotted name (a package by its ``__init__``)."""
    out: dict[str, Path] = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(module: str, path: Path, known: set[str]) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names_target = False
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    yield sub
                else:
                    names_target = True
            if names_target:
                yield target


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Module → the Proctor modules it imports (their nearest existing module or package)."""
    files = module_files(src)
    known = set(files)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        for imported in _imported(module, path, known):
            name = imported
            while name and name not in known:
                name = name.rpartition(".")[0]
            if not name.startswith(ROOT) or name == module:
                continue
            graph[module].add(name)
            # importing a module first runs its packages' __init__: an edge to each, except the
            # importer's own packages (already running when a module inside them imports)
            parent = name.rpartition(".")[0]
            while parent and parent != ROOT:
                if not (module == parent or module.startswith(parent + ".")):
                    graph[module].add(parent)
                parent = parent.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path(graph: dict[str, set[str]], component: tuple[str, ...]) -> str:
    """One cycle through ``component``'s first module, for the failure message."""
    members = set(component)
    start = component[0]
    trail = [start]
    seen = {start}
    while True:
        nxt = sorted(w for w in graph[trail[-1]] if w in members)
        back = [w for w in nxt if w == start]
        if back and len(trail) > 1:
            return " -> ".join([*trail, start])
        fresh = [w for w in nxt if w not in seen]
        if not fresh:
            return " -> ".join([*trail, nxt[0] if nxt else "?"])
        trail.append(fresh[0])
        seen.add(fresh[0])


def test_no_import_cycle_but_the_known_ones() -> None:
    """A new cycle fails, naming its modules and one path around it."""
    graph = import_graph()
    new = cycles(graph) - KNOWN_CYCLES
    assert not new, "import cycles: " + "; ".join(_path(graph, c) for c in sorted(new))


def test_every_known_cycle_still_exists() -> None:
    """An entry of KNOWN_CYCLES that is gone (or changed) must be taken out, so the list only shrinks."""
    gone = KNOWN_CYCLES - cycles(import_graph())
    assert not gone, f"no longer cycles, remove them from KNOWN_CYCLES: {sorted(gone)}"


def test_the_walk_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """A cycle closed by a relative import inside a function is found; a chain without one is not."""
    pkg = tmp_path / ROOT / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / ROOT / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from proctor.sub import b\n")
    (pkg / "b.py").write_text("def f():\n    from .c import g\n")
    (pkg / "c.py").write_text("import os\n")
    graph = import_graph(tmp_path)
    assert graph["proctor.sub.a"] == {"proctor.sub.b"}
    assert graph["proctor.sub.b"] == {"proctor.sub.c"}
    assert cycles(graph) == set()
    (pkg / "c.py").write_text("from .. import sub\nfrom ..sub.a import x\n")
    graph = import_graph(tmp_path)
    assert cycles(graph) == {("proctor.sub.a", "proctor.sub.b", "proctor.sub.c")}
    assert _path(graph, ("proctor.sub.a", "proctor.sub.b", "proctor.sub.c")) == (
        "proctor.sub.a -> proctor.sub.b -> proctor.sub.c -> proctor.sub.a"
    )


def test_a_package_init_counts_for_imports_from_outside_it(tmp_path: Path) -> None:
    """`store` importing `audit.canonical` runs `audit/__init__`, which imports the store back: the
    cycle that `store/_sql.py` hid behind a lazy import. Siblings inside one package do not count."""
    root = tmp_path / ROOT
    for pkg in ("audit", "store"):
        (root / pkg).mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "audit" / "__init__.py").write_text("from proctor.audit.log import Log\n")
    (root / "audit" / "canonical.py").write_text("")
    (root / "audit" / "log.py").write_text(
        "from proctor.audit import canonical\nfrom proctor.store.base import S\n"
    )
    (root / "store" / "__init__.py").write_text("")
    (root / "store" / "base.py").write_text("")
    (root / "store" / "sql.py").write_text("def f():\n    from proctor.audit.canonical import c\n")
    assert cycles(import_graph(tmp_path)) == set()
    (root / "store" / "base.py").write_text("from proctor.store.sql import f\n")
    assert cycles(import_graph(tmp_path)) == {
        ("proctor.audit", "proctor.audit.log", "proctor.store.base", "proctor.store.sql")
    }
