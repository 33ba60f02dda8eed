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


#: what the gateway may call on the pipeline: the whole sequence of a call (``run``, handed the
#: gateway's stages after the decision), the credential stage, and the record of a deny it decides
#: itself before the pipeline runs (a tool no pin or store lets it resolve)
PIPELINE_CALLS = {"run", "credential", "decision_entry"}


def test_the_gateway_runs_its_calls_through_the_pipelines_sequence() -> None:
    """``pipeline.py`` is the one place that orders a call's stages: the gateway hands its
    credential and upstream stages to ``Pipeline.run`` (as a ``Handoff``) instead of deciding a
    call itself and then running them (``decide_call_async`` and ``decide_and_record_async``)."""
    used: dict[str, set[str]] = {}
    for path in GATEWAY.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "pipeline":
                used.setdefault(path.stem, set()).add(node.func.attr)
    stray = {m: sorted(names - PIPELINE_CALLS) for m, names in used.items() if names - PIPELINE_CALLS}
    assert stray == {}
    assert "run" in used.get("calls", set())
    assert "run" in used.get("relays", set())
