"""The layout of issue 13: one package per stage, the pipeline handed its stages, no import loops.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING``: a loop hidden
in a function is still a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import proctor.app

SRC = Path(proctor.app.__file__).resolve().parent
#: split by their own changes (issue 13): their loops are checked once those land
PENDING = ("proctor.gateway", "proctor.cli")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for f in SRC.rglob("*.py"):
        parts = f.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = f
    return mods


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, f in mods.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
        graph[name] = {m for m in found if m in mods and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, edges in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(edges)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
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
    return found


def test_the_pipeline_and_the_stages_never_import_the_app() -> None:
    """``pipeline.py`` is handed its stages by ``Proctor``; no stage reaches back into the app."""
    graph = _graph()
    stages = [
        "proctor.pipeline",
        "proctor.snapshot",
        "proctor.identity.agents",
        "proctor.tasks.service",
        "proctor.tools.registry",
        "proctor.credentials.broker",
        "proctor.policy.active",
        "proctor.audit.decisions",
    ]
    for name in stages:
        assert name in graph, name
        assert "proctor.app" not in graph[name], f"{name} imports proctor.app"


def test_no_import_loops() -> None:
    """No two modules import each other, directly or through others (``app`` and ``pipeline``
    used to)."""
    loops = [c for c in _cycles(_graph()) if not all(m.startswith(PENDING) for m in c)]
    assert loops == [], loops
