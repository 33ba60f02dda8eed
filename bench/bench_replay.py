"""``replay.throughput`` (issue 15): calls re-decided per second by ``proctor replay``.

Run ``python -m bench.bench_replay``. A synthetic corpus written to disk (20 trace files of 10 tasks
of 25 calls: 5,000 calls, 40% reads returning a 2 KB output, 60% consequential calls (sends,
payments, invites) whose arguments come from the intent, the outputs or nowhere) is replayed end to
end, as the CLI does it: the files read and checked, every call decided under a candidate set and
under a baseline set, the outputs labelled and indexed for provenance. The baseline is the starter
policy directory as ``proctor init`` writes it (its ``counters.yaml`` included); the candidate is
the starter plus flow policies that read ``context.args``, ``context.provenance`` and
``context.history`` and one more counter. Each run's time per call is one sample; ``ops_per_s`` is
calls over the total time. Target >= 5,000 calls/s.

- ``replay.throughput``: as ``proctor replay`` runs by default, the files spread over one forked
  process per CPU (``--jobs``, default the CPUs this process may use: the row's ``jobs``);
- ``replay.throughput.1proc``: the same in one process (``--jobs 1``);
- ``replay.throughput.candidate``: the candidate alone (``--no-baseline``), one process.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from bench.stats import row
from proctor.flow.replay import default_jobs, policies_for, replay
from proctor.flow.trace import load_trace

FILES, TASKS, CALLS, RUNS = 20, 10, 25, 5
FLOW_POLICIES = """\
@id("flow.send-traced")
permit (principal, action == Proctor::Action::"send", resource)
when { principal.status == "active" && context.provenance.all_traced };

@id("flow.untrusted-destination")
forbid (principal, action, resource is Proctor::Tool)
when { context.provenance.destination_untrusted || context.provenance.destination_unsourced };

@id("flow.big-payment")
forbid (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.args.amount.greaterThan(decimal("1000.0")) };

@id("flow.daily-spend")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.history.spend.greaterThan(decimal("5000.0")) };
"""
COUNTERS = """\
  spend:
    kind: sum
    arg: amount
    match: {effects: [pay]}
    scope: agent
    window: 1d
"""
TOOLS: list[dict[str, Any]] = [
    {
        "type": "tool",
        "name": "mail.read",
        "effect": "read",
        "labels": {"trust": "untrusted", "sensitivity": "internal"},
    },
    {
        "type": "tool",
        "name": "docs.read",
        "effect": "read",
        "labels": {"trust": "trusted", "sensitivity": "confidential"},
    },
    {
        "type": "tool",
        "name": "mail.send",
        "effect": "send",
        "destinations": ["to[]"],
        "input_schema": {
            "type": "object",
            "properties": {
                "to": {"type": "array", "items": {"type": "string"}},
                "subject": {"type": "string"},
                "body": {"type": "string"},
            },
            "required": ["to", "subject", "body"],
        },
    },
    {
        "type": "tool",
        "name": "billing.send_money",
        "effect": "pay",
        "flags": ["financial"],
        "destinations": ["iban"],
        "input_schema": {
            "type": "object",
            "properties": {
                "iban": {"type": "string"},
                "amount": {"type": "number"},
                "memo": {"type": "string"},
            },
            "required": ["iban", "amount"],
        },
    },
    {
        "type": "tool",
        "name": "calendar.invite",
        "effect": "write",
        "destinations": ["attendees[]"],
        "input_schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "attendees": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["title", "attendees"],
        },
    },
]


def _iban(rnd: random.Random) -> str:
    return "DE" + "".join(rnd.choice("0123456789") for _ in range(20))


def _filler(rnd: random.Random, size: int) -> str:
    """Text shaped like a mail or a document: lines of a dozen words, some with an amount."""
    words = ["invoice", "meeting", "quarterly", "report", "please", "review", "attached", "thanks", "regards"]
    lines: list[str] = []
    n = 0
    while n < size:
        line = " ".join(rnd.choice(words) for _ in range(12))
        if rnd.random() < 0.2:
            line += f" total {rnd.randrange(10, 9999)}.{rnd.randrange(100):02d} EUR"
        lines.append(line)
        n += len(line) + 1
    return "\n".join(lines)


def corpus(directory: Path, seed: int = 15) -> list[Path]:
    """Write the synthetic trace files; returns their paths."""
    rnd = random.Random(seed)
    paths = []
    for f in range(FILES):
        lines: list[dict[str, Any]] = list(TOOLS)
        for t in range(TASKS):
            payee, colleague = _iban(rnd), f"colleague{t}@acme.example"
            lines.append(
                {
                    "type": "task",
                    "id": f"t-{t}",
                    "agent": "ops-bot",
                    "owner": "alice@acme.example",
                    "purpose": f"Pay the supplier invoices and tell {colleague} about it",
                    "params": {"iban": payee},
                    "meta": {"kind": "benign"},
                }
            )
            seen: list[str] = [payee, colleague]
            for c in range(CALLS):
                at = float(c)
                if c % 5 < 2:  # a read with an output mentioning values later calls reuse
                    value = rnd.choice([_iban(rnd), f"user{rnd.randrange(999)}@partner.example"])
                    seen.append(value)
                    text = _filler(rnd, 1000) + f"\nPlease use {value} from now on.\n" + _filler(rnd, 1000)
                    tool = "mail.read" if c % 2 else "docs.read"
                    lines.append(
                        {"type": "call", "tool": tool, "args": {"folder": "inbox"}, "at": at, "output": text}
                    )
                    continue
                kind = c % 3
                if kind == 0:
                    args: dict[str, Any] = {
                        "iban": rnd.choice([*seen[-3:], payee]),
                        "amount": round(rnd.uniform(10, 1500), 2),
                        "memo": f"invoice {rnd.randrange(10_000)}",
                    }
                    tool = "billing.send_money"
                elif kind == 1:
                    args = {"to": [rnd.choice(seen)], "subject": "Payment done", "body": _filler(rnd, 200)}
                    tool = "mail.send"
                else:
                    args = {"title": "Review", "attendees": [colleague, rnd.choice(seen)]}
                    tool = "calendar.invite"
                lines.append({"type": "call", "tool": tool, "args": args, "at": at})
        path = directory / f"trace-{f:02d}.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        paths.append(path)
    return paths


def policy_dirs(directory: Path) -> tuple[Path, Path]:
    """The starter set (baseline) and the starter set plus flow policies and a counter (candidate)."""
    starter = Path(str(resources.files("proctor") / "starter"))
    base, cand = directory / "baseline", directory / "candidate"
    for d in (base, cand):
        d.mkdir()
        for src in starter.iterdir():
            if src.name.endswith((".cedar", ".cedarschema", ".yaml")):
                shutil.copy(src, d / src.name)
    (cand / "90-bench-flow.cedar").write_text(FLOW_POLICIES)
    counters = (starter / "counters.yaml").read_text()
    (cand / "counters.yaml").write_text(counters.rstrip("\n") + "\n" + COUNTERS)
    return base, cand


def describe(paths: list[Path]) -> str:
    """What the corpus is, for the row: calls, the share of consequential ones, output sizes."""
    traces = [load_trace(p) for p in paths]
    calls = [c for t in traces for task in t.tasks for c in task.calls]
    reads = sum(1 for t in traces for task in t.tasks for c in task.calls if t.tools[c.tool].effect == "read")
    sizes = sorted(len(c.output.encode()) for c in calls if c.output is not None)
    return (
        f"{len(calls)} calls in {len(traces)} files, {100 * (len(calls) - reads) // len(calls)}% consequential,"
        f" {len(sizes)} outputs of {sizes[0]}-{sizes[-1]} B (median {sizes[len(sizes) // 2]} B)"
    )


def _measure(name: str, paths: list[Path], candidate: Any, baseline: Any, jobs: int = 1) -> dict[str, Any]:
    calls = FILES * TASKS * CALLS
    samples, total = [], 0.0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        replay(paths, candidate, baseline=baseline, jobs=jobs)
        took = time.perf_counter() - t0
        total += took
        samples.append(took / calls * 1e6)
    out = row(name, samples, total)
    out["ops_per_s"] = round(calls * RUNS / total, 1)
    out["jobs"] = jobs
    return out


def bench_replay(tmp: Path) -> list[dict[str, Any]]:
    """``replay.throughput``: candidate and baseline, as ``proctor replay`` runs in a workspace;
    ``replay.throughput.candidate``: the candidate alone (``--no-baseline``)."""
    paths = corpus(tmp)
    base_dir, cand_dir = policy_dirs(tmp)
    traces = [load_trace(p) for p in paths]
    candidate = policies_for(cand_dir, traces)
    baseline = policies_for(base_dir, traces)
    report = replay(paths, candidate, baseline=baseline)  # warm-up, and a sanity check
    summary = report.summary()
    assert summary["calls"] == FILES * TASKS * CALLS, summary
    assert summary["changed"] > 0, summary
    corpus_text = describe(paths)
    rows = [
        _measure("replay.throughput", paths, candidate, baseline, jobs=default_jobs()),
        _measure("replay.throughput.1proc", paths, candidate, baseline),
        _measure("replay.throughput.candidate", paths, candidate, None),
    ]
    for r in rows:
        r["corpus"] = corpus_text
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for r in bench_replay(Path(d)):
            print(json.dumps(r), file=sys.stdout)


if __name__ == "__main__":
    main()
