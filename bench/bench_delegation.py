"""Issue 17 (docs/adr/0032, 0037): what delegation costs.

- ``task.delegate``: one ``Tasks.delegate`` (scope narrowing, lineage, the Cedar ``delegate``
  decision, the child stored, its token signed with the ``act`` chain, ``task.delegated``
  audited) on an embedded SQLite store, from a parent with no other live child. Target: p50 <= 2
  ms. ``task.delegate.siblings100``: the same from a parent with 100 live children (the flow
  stage reads each live descendant's marks: docs/adr/0032 amendment).
- ``decide.root`` and ``decide.depth3``: the decision stage of the pipeline for a call of a root
  task and of a task three delegations below it (planner -> researcher -> mailer -> sender), same
  policy set and tool, measured interleaved; ``decide.depth3/root`` is their p50 ratio (target
  <= 1.2). ``decide.root.durable`` and ``decide.depth3.durable`` are the same calls through
  ``Proctor.decide`` with the durable audit write.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from proctor.app import Proctor
from proctor.pipeline import CallInput
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path, resource: "/data/*"}
"""
AGENTS = ("planner", "researcher", "mailer", "sender")


def _row(name: str, samples: list[float], total_s: float) -> dict[str, Any]:
    samples = sorted(samples)
    n = len(samples)
    return {
        "name": name,
        "p50_us": round(samples[n // 2], 2),
        "p99_us": round(samples[min(n - 1, int(n * 0.99))], 2),
        "ops_per_s": round(n / total_s, 1),
    }


def _interleaved(names: tuple[str, str], fns: tuple[Any, Any], n: int, warmup: int) -> list[dict[str, Any]]:
    """Two measurements taken turn about, so drift on a shared machine hits both alike."""
    for _ in range(warmup):
        fns[0]()
        fns[1]()
    samples: tuple[list[float], list[float]] = ([], [])
    totals = [0.0, 0.0]
    clock = time.perf_counter_ns
    for i in range(2 * n):
        k = i % 2 if (i // 2) % 2 == 0 else 1 - i % 2  # ABBA: neither always runs first
        s = clock()
        fns[k]()
        dt = clock() - s
        samples[k].append(dt / 1000)
        totals[k] += dt / 1e9
    return [_row(names[0], samples[0], totals[0]), _row(names[1], samples[1], totals[1])]


def bench_delegation(tmp: Path) -> list[dict[str, Any]]:
    ws, _ = Workspace.init(tmp / "ws-delegation", config_text=CONFIG)
    results: list[dict[str, Any]] = []
    with Proctor.open(ws) as p:
        for name in AGENTS:
            p.agents.add(name, "o@acme.test")
        p.agents.add("helper", "o@acme.test")
        root = p.tasks.start(
            agent="planner", purpose="bench", allow=["fs.*"], requested_by="r@acme.test", ttl_s=3600
        )
        root_id = str(root.task.id)

        # task.delegate: a fresh child of one parent (a new task, decision, token, record), ended
        # again untimed: a parent with thousands of live children would measure the flow stage's
        # walk over its live descendants (one store read per descendant), not the delegation
        def delegate() -> str:
            return str(p.tasks.delegate(root_id, agent="helper", allow=["fs.read"], ttl_s=600).task.id)

        for _ in range(100):
            p.tasks.end(delegate())
        n = 2_000
        samples = []
        clock = time.perf_counter_ns
        total = 0
        for _ in range(n):
            s = clock()
            child = delegate()
            dt = clock() - s
            samples.append(dt / 1000)
            total += dt
            p.tasks.end(child)
        results.append(_row("task.delegate", samples, total / 1e9))
        # the same with 100 live siblings: what the walk over live descendants adds
        for _ in range(100):
            delegate()
        samples = []
        total = 0
        for _ in range(300):
            s = clock()
            child = delegate()
            dt = clock() - s
            samples.append(dt / 1000)
            total += dt
            p.tasks.end(child)
        results.append(_row("task.delegate.siblings100", samples, total / 1e9))
        p.audit.flush()

        # a depth-3 chain and its calls
        chain = [root]
        for i, name in enumerate(AGENTS[1:]):
            parent_id = str(chain[-1].task.id)
            chain.append(p.tasks.delegate(parent_id, agent=name, allow=["fs.*"], ttl_s=3000 - 100 * i))
        leaf = chain[-1]
        assert leaf.task.depth == 3
        args = {"path": "/data/report.csv"}
        call_root = CallInput(tool="fs.read", args=args, agent="planner", task_token=root.token)
        call_leaf = CallInput(tool="fs.read", args=args, agent="sender", task_token=leaf.token)
        pipe = p.pipeline
        assert pipe._decide(call_root)[0].allowed
        assert pipe._decide(call_leaf)[0].allowed
        results += _interleaved(
            ("decide.root", "decide.depth3"),
            (lambda: pipe._decide(call_root), lambda: pipe._decide(call_leaf)),
            20_000,
            1_000,
        )
        assert p.decide(call_leaf).allowed
        results += _interleaved(
            ("decide.root.durable", "decide.depth3.durable"),
            (lambda: p.decide(call_root), lambda: p.decide(call_leaf)),
            2_000,
            100,
        )
    by = {r["name"]: r for r in results}
    for suffix in ("", ".durable"):
        r, d = by[f"decide.root{suffix}"], by[f"decide.depth3{suffix}"]
        results.append(
            {
                "name": f"decide.depth3/root{suffix}",
                "p50_us": round(d["p50_us"] / r["p50_us"], 3),  # a ratio, not microseconds
                "p99_us": round(d["p99_us"] / r["p99_us"], 3),
                "ops_per_s": round(d["ops_per_s"] / r["ops_per_s"], 3),
            }
        )
    return results


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for row in bench_delegation(Path(d)):
            print(f"{row['name']:<28}{row['p50_us']:>10}{row['p99_us']:>10}{row['ops_per_s']:>12}")
