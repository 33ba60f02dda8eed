"""``proctor replay`` decides the same whatever the caches and processes (issue 15): the evaluation
corpus replayed with the engines' caches on and off, in one process and in forked workers
(``--jobs``), gives identical reports, call by call."""

from __future__ import annotations

import dataclasses
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from proctor.cli.main import app as cli
from proctor.flow.replay import policies_for, replay
from proctor.flow.trace import load_trace

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "tests" / "scenarios" / "eval" / "traces").glob("*.jsonl"))
STARTER = Path(str(resources.files("proctor") / "starter"))
#: a candidate that reads arguments, provenance, destinations, history and the task's labels
EXTRA = """\
@id("x.big-payment")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context has args && context.args has amount && context.args.amount.greaterThan(decimal("500.0")) };

@id("x.untrusted-anything")
@approval("owner")
forbid (principal, action, resource is Proctor::Tool)
when { context.task.read_untrusted && !context.provenance.untrusted_args.isEmpty() };

@id("x.shadow-outside")
@shadow
forbid (principal, action in Proctor::Action::"send", resource)
when { !(["example.com"].containsAll(context.destinations.domains)) };
"""


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sets")
    base, cand = root / "baseline", root / "candidate"
    shutil.copytree(STARTER, base, ignore=shutil.ignore_patterns("40-*"))
    shutil.copytree(STARTER, cand)
    (cand / "50-extra.cedar").write_text(EXTRA)
    return {"baseline": base, "candidate": cand}


def _report(dirs: dict[str, Path], *, whole: bool = False, **kw: Any) -> dict[str, Any]:
    """``whole``: every request evaluated with the whole policy set, not the policies whose action
    scope can match it (``PolicySet.for_action`` falls back to the whole set without bodies)."""
    traces = [load_trace(p) for p in CORPUS]
    cand = policies_for(dirs["candidate"], traces)
    base = policies_for(dirs["baseline"], traces)
    if whole:
        cand = dataclasses.replace(cand, bodies={}, _memo={})
        base = dataclasses.replace(base, bodies={}, _memo={})
    return replay(traces, cand, baseline=base, **kw).to_dict()


def test_caches_and_processes_never_change_a_decision(dirs: dict[str, Path]) -> None:
    assert len(CORPUS) >= 10
    one = _report(dirs)
    assert one["summary"]["calls"] > 100
    assert one["summary"]["changed"] > 0  # the sets do differ on this corpus
    assert one["summary"]["shadow"] > 0
    assert _report(dirs, cache=False) == one
    assert _report(dirs, cache=False, whole=True) == one
    assert _report(dirs, jobs=2) == one
    assert _report(dirs, jobs=3, cache=False) == one


def test_the_cli_takes_jobs(dirs: dict[str, Path]) -> None:
    args = ["replay", *map(str, CORPUS), "--policies", str(dirs["candidate"])]
    one = CliRunner().invoke(cli, [*args, "--baseline", str(dirs["baseline"]), "--json", "--jobs", "1"])
    two = CliRunner().invoke(cli, [*args, "--baseline", str(dirs["baseline"]), "--json", "--jobs", "2"])
    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    assert json.loads(one.output) == json.loads(two.output)
    bad = CliRunner().invoke(cli, [*args, "--no-baseline", "--jobs", "0"])
    assert bad.exit_code == 2
