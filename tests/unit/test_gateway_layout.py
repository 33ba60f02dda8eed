"""The gateway's modules import each other without a loop, and the parts below the runtime
(sessions, catalog, the call path, the relays) never import it: the runtime wires them, not the
other way round. Every import counts, including those only for type checking or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import proctor.gateway

PACKAGE = "proctor.gateway"
GATEWAY = Path(proctor.gateway.__file__).parent
#: what the runtime wires together: none may reach it
BELOW_RUNTIME = ("sessions", "catalog", "calls", "relays")


def _imports() -> dict[str, set[str]]:
    """Module name -> the gateway modules it imports (any import, anywhere in the file)."""
    modules = {p.stem for p in GATEWAY.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        found: set[str] = set()
        for node in ast.walk(ast.parse((GATEWAY / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
                if node.module == PACKAGE:
                    found |= {a.name for a in node.names if a.name in modules}
                elif node.module.startswith(PACKAGE + "."):
                    found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[2] for a in node.names if a.name.startswith(PACKAGE + ".")}
        graph[name] = found - {name}
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(graph.get(m, ()))
    return seen


def test_no_gateway_module_imports_itself_through_another() -> None:
    graph = _imports()
    assert set(BELOW_RUNTIME) <= set(graph)
    loops = sorted(m for m in graph if m in _reach(graph, m))
    assert loops == []


def test_the_parts_the_runtime_wires_never_import_it() -> None:
    graph = _imports()
    assert {m: "runtime" in _reach(graph, m) for m in BELOW_RUNTIME} == dict.fromkeys(BELOW_RUNTIME, False)
