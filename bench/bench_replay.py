"""``replay.throughput`` (issue 15): calls re-decided per second by ``proctor replay``.

Run ``python -m bench.bench_replay``. A synthetic corpus written to disk (20 trace files of 10 tasks
of 25 calls: 5,000 calls, 40% reads returning a 2 KB output, the rest sends, payments and invites
whose arguments come from the intent, the outputs or nowhere) is replayed end to end, as the CLI
does it: the files read and checked, every call decided under a candidate set (the starter policies
plus flow policies that read ``context.args``, ``context.provenance`` and ``context.history``) and
under the starter set as the baseline, the outputs labelled and indexed for provenance. Each run's
time per call is one sample; ``ops_per_s`` is calls over the total time. Target >= 5,000 calls/s.
``replay.throughput.candidate`` is the same corpus under the candidate alone (``--no-baseline``).
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
from proctor.flow.replay import policies_for, replay
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
counters:
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
    """The starter set (baseline) and the starter set plus flow policies and counters (candidate)."""
    starter = Path(str(resources.files("proctor") / "starter"))
    base, cand = directory / "baseline", directory / "candidate"
    for d in (base, cand):
        d.mkdir()
        for src in starter.iterdir():
            if src.name.endswith((".cedar", ".cedarschema")):
                shutil.copy(src, d / src.name)
    (cand / "40-flow.cedar").write_text(FLOW_POLICIES)
    (cand / "counters.yaml").write_text(COUNTERS)
    return base, cand


def _measure(name: str, paths: list[Path], candidate: Any, baseline: Any) -> dict[str, Any]:
    calls = FILES * TASKS * CALLS
    samples, total = [], 0.0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        replay(paths, candidate, baseline=baseline)
        took = time.perf_counter() - t0
        total += took
        samples.append(took / calls * 1e6)
    out = row(name, samples, total)
    out["ops_per_s"] = round(calls * RUNS / total, 1)
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
    return [
        _measure("replay.throughput", paths, candidate, baseline),
        _measure("replay.throughput.candidate", paths, candidate, None),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for r in bench_replay(Path(d)):
            print(json.dumps(r), file=sys.stdout)


if __name__ == "__main__":
    main()
