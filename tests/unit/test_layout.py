"""The layout of issue 13: one package per stage, and the pipeline handed its stages.

Import loops are checked for every module by ``test_import_cycles``; this checks the direction:
the pipeline and the stage services never import the app that wires them (under
``TYPE_CHECKING`` and inside functions included).
"""

from __future__ import annotations

from tests.unit.test_import_cycles import import_graph

STAGES = (
    "proctor.pipeline",
    "proctor.snapshot",
    "proctor.identity.agents",
    "proctor.tasks.service",
    "proctor.tools.registry",
    "proctor.credentials.broker",
    "proctor.policy.active",
    "proctor.audit.decisions",
)


def test_the_pipeline_and_the_stages_never_import_the_app() -> None:
    """``pipeline.py`` is handed its stages by ``Proctor``; no stage reaches back into the app."""
    graph = import_graph()

    def reaches_app(start: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for w in graph[todo.pop()]:
                if w == "proctor.app":
                    return True
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return False

    for name in STAGES:
        assert name in graph, name
        assert not reaches_app(name), f"{name} imports proctor.app (directly or through others)"
