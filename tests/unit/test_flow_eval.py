"""The starter policies that see the data and the evaluation corpus behind ``make eval`` (issue 15)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from tests.scenarios.eval import run as eval_run
from tests.scenarios.eval.build import DOMAINS, OUT, build

from proctor.policy.cases import case_tools, load_cases, run_cases
from proctor.policy.engine import PolicyEngine
from proctor.policy.loader import load_policy_dir

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "src" / "proctor" / "starter"
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_starter_scenarios_pass(path: Path) -> None:
    """Every case of tests/scenarios/*.yaml gets its expected decision from the starter library."""
    data = load_cases(path)
    ps = load_policy_dir(STARTER, tools=case_tools(data, path.name))
    results = run_cases(data, PolicyEngine(ps, cache=False), where=path.name)
    failed = [f"{r.name}: {r.problem}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)


def test_every_flow_policy_has_a_scenario() -> None:
    """Each policy of 40-flow.cedar (and each routine exception of 20-approvals.cedar) is named by
    at least one case of tests/scenarios/flow.yaml."""
    ps = load_policy_dir(STARTER)
    flow_ids = {p for p in ps.sources if p.startswith("flow.") or p.startswith("approval.")}
    named = {
        p
        for c in load_cases(ROOT / "tests" / "scenarios" / "flow.yaml")["cases"]
        for p in c.get("policies", [])
    }
    assert flow_ids <= named, flow_ids - named


def test_corpus_files_match_their_definitions() -> None:
    """The committed traces are exactly what build.py writes (deterministic, not edited by hand)."""
    files = build()
    assert files == build()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in OUT.glob("*.jsonl")}
    assert on_disk == files


def test_corpus_shape() -> None:
    """At least 60 benign tasks over seven domains, each with an attack twin that makes at least one
    injected consequential call; attacker text arrives by several vectors."""
    assert len(DOMAINS) == 7
    benign = attack = 0
    vectors: Counter[str] = Counter()
    for name in build():
        for raw in (OUT / name).read_text(encoding="utf-8").splitlines():
            line = json.loads(raw)
            if line["type"] == "task":
                kind = line["meta"]["kind"]
                benign += kind == "benign"
                attack += kind == "attack"
                if kind == "attack":
                    assert line["id"] == f"{line['meta']['pair']}-x"
                    vectors[line["meta"]["vector"]] += 1
    assert benign >= 60
    assert attack == benign
    assert {"e-mail", "document", "web page", "ticket", "transaction note", "tool description"} <= set(
        vectors
    )


def test_eval_runner_blocks_a_known_attack_and_keeps_its_twin(tmp_path: Path) -> None:
    """The runner replays the finance traces: the invoice paid to the registry's IBAN goes through with
    no person; its twin, paying the IBAN an e-mail planted, is held for approval; the figures and the
    JSON file have their documented shape."""
    out = tmp_path / "eval.json"
    code = eval_run.main(["--only", "finance-*.jsonl", "--json", str(out)])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    s = result["summary"]
    assert s["benign_tasks"] == s["attack_tasks"] == 11
    assert set(s["sets"]) == {"main", "late"}
    for key in ("benign_no_approval", "benign_with_approval", "attack_block", "benign_approvals_total"):
        assert 0 <= s[key] <= (1 if key != "benign_approvals_total" else 100)
    benign = {b["task"]: b for b in result["benign"]}
    attacks = {a["task"]: a for a in result["attacks"]}
    assert benign["finance-01"]["no_approval"]
    assert benign["finance-01"]["approvals"] == 0
    twin = attacks["finance-01-x"]
    assert twin["blocked"]
    (held,) = [c for c in twin["calls"] if c["injected"]]
    assert held["decision"] == "approval_required"
    assert "flow.hold-untrusted-destination" in held["policies"]
    assert twin["approvals"] == 1


def test_eval_runner_counts_an_allowed_injected_call_as_not_blocked(tmp_path: Path) -> None:
    """An attack whose injected consequential call is allowed counts against the block rate (the
    runner cannot be satisfied by calls it fails to score): replayed under the baseline and
    guardrails alone, with everything written permitted, the finance-06 twin goes through."""
    policies = tmp_path / "pol"
    policies.mkdir()
    for name in ("00-baseline.cedar", "10-guardrails.cedar", "schema.cedarschema"):
        (policies / name).write_text((STARTER / name).read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "eval.json"
    eval_run.main(["--only", "finance-attack.jsonl", "--json", str(out), "--policies", str(policies)])
    result = json.loads(out.read_text(encoding="utf-8"))
    through = {a["task"] for a in result["residual"]["attacks_through"]}
    assert "finance-06-x" in through
    assert result["summary"]["attack_block"] < 1


def test_a_new_workspace_gets_the_starter_counters(tmp_path: Path) -> None:
    """`proctor init` copies counters.yaml with the starter policies: without it the payment limits
    read no history and every payment waits for a person; with it the loaded set has the counters."""
    from proctor.workspace import Workspace

    ws, _ = Workspace.init(tmp_path / "ws")
    assert (ws.policies_dir / "counters.yaml").read_text(encoding="utf-8") == (
        STARTER / "counters.yaml"
    ).read_text(encoding="utf-8")
    ps = load_policy_dir(ws.policies_dir)
    assert {c.name for c in ps.counters} == {"spend_task", "spend_today", "payments_today", "new_amount_task"}
