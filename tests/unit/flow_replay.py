"""Replay one task under a policy set and return its calls' verdicts (or its last call's): the
helpers the flow guard tests share (``test_flow_codes_refs``, ``_requested``, ``_secret_out``, ``_redteam7``…).

A task is written as a trace (docs/trace-format.md): the tools, one task line, then the calls in
order, each with its arguments and, for a read, its output; it is replayed with
:func:`proctor.flow.replay.replay`, exactly as ``proctor replay`` does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from proctor.flow.replay import policies_for, replay
from proctor.flow.trace import parse_trace

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "src" / "proctor" / "starter"


def decide_calls(
    tools: Sequence[Mapping[str, Any]],
    purpose: str,
    calls: Sequence[Mapping[str, Any]],
    *,
    params: Mapping[str, str] | None = None,
    owner: str,
    requester: str | None = None,
    name: str = "case.jsonl",
    policies: Path = STARTER,
) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each of ``calls`` (``{"tool", "args"?, "output"?}``; no ``args``, none), replayed as one
    task of ``owner`` requested by ``requester`` (the owner unless given) under ``policies``: its
    id (``c0``, ``c1``…), decision and deciding policies."""
    task = {
        "type": "task",
        "id": "t-1",
        "agent": "bot",
        "owner": owner,
        "purpose": purpose,
        "params": dict(params or {}),
        "allow": ["*"],
        "requested_by": owner if requester is None else requester,
        "meta": {},
    }
    lines: list[Mapping[str, Any]] = [*tools, task]
    for i, c in enumerate(calls):
        line = {"type": "call", "id": f"c{i}", "tool": c["tool"], "args": c.get("args", {}), "at": float(i)}
        if "output" in c:
            line["output"] = c["output"]
        lines.append(line)
    trace = parse_trace("".join(json.dumps(x) + "\n" for x in lines), name)
    report = replay([trace], policies_for(policies, [trace]))
    return [(c.call, c.decision, c.policies) for c in report.calls]


def decide_last(
    tools: Sequence[Mapping[str, Any]],
    purpose: str,
    calls: Sequence[Mapping[str, Any]],
    *,
    params: Mapping[str, str] | None = None,
    owner: str,
    name: str = "case.jsonl",
    policies: Path = STARTER,
) -> tuple[str, tuple[str, ...]]:
    """The decision and deciding policies of the last of ``calls`` (:func:`decide_calls`), replayed
    as one task of ``owner`` (also its requester) under ``policies``."""
    _, decision, deciding = decide_calls(
        tools, purpose, calls, params=params, owner=owner, name=name, policies=policies
    )[-1]
    return decision, deciding


def by_call(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A replay report's (``proctor replay --json``) calls by their id."""
    return {c["call"]: c for c in report["calls"]}
