"""The flow service (``p.flow``) over a real SQLite store: outputs labelled, sealed and kept per
task, rebuilt in another process, counted into history, forgotten at the task's end; the pipeline
hands its facts to the decision and denies when they cannot be computed (docs/adr/0025)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.flow_harness import IBAN, spend_sandbox
from tests.unit.flow_harness import SERVICE_EMAIL as EMAIL
from tests.unit.flow_harness import decision_record as _decision_record
from tests.unit.flow_harness import service_pay as _pay
from tests.unit.flow_harness import service_sandbox as _sandbox
from tests.unit.flow_harness import service_start as _start
from tests.unit.flow_harness import service_tool as _tool

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.flow.model import Origin, Sensitivity, Trust
from proctor.pipeline import CallInput
from proctor.store.base import AuditQuery
from proctor.testing import Sandbox
from proctor.types import TaskId, TaskState, Verdict

#: re-exported for the tests that import them from here
__all__ = ["_pay", "_sandbox", "_start"]


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    yield from _sandbox(tmp_path)


def test_an_output_is_labelled_sealed_and_traced(sb: Sandbox) -> None:
    p = sb.proctor
    task_id, token = _start(p)
    task = p.tasks.get(task_id)
    labels = p.flow.observe(task, _tool(p, "mail.read"), EMAIL)
    assert labels.trust is Trust.UNTRUSTED
    (kept,) = p.store.outputs(TaskId(task_id))
    assert kept.tool == "mail.read"
    assert kept.trust == "untrusted"
    assert b"DE89 3704" not in bytes(kept.sealed)  # sealed: never in clear at rest
    assert b"invoice" not in bytes(kept.sealed)
    facts = p.flow.facts(p.agents.get("bot"), task, _tool(p, "bank.pay"), {"iban": IBAN, "amount": 1250}, 0)
    assert facts.task.read_untrusted
    origins = {a.path: a for a in facts.provenance.args}
    assert origins["iban"].origin is Origin.UNTRUSTED
    assert origins["iban"].sources == ("mail.read",)
    assert origins["amount"].origin is Origin.INTENT  # the purpose says 1250
    d = p.decide(_pay(token))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    # the decision record names the argument and its origin, never its value
    rec = _decision_record(p, d.decision_id)
    assert {a["arg"]: a["origin"] for a in rec["provenance"]["args"]}["iban"] == "untrusted"
    assert IBAN not in json.dumps(rec)
    # the approval shows the origin beside the argument
    view = p.approvals.view(str(d.approval_id), None)
    assert {a.name: a.origin for a in view.args}["iban"] == (
        "ONLY from untrusted content: mail.read (destination)"
    )
    assert view.to_dict()["provenance"]["args"]


def test_a_param_is_the_intent_and_the_call_runs(sb: Sandbox) -> None:
    p = sb.proctor
    task_id, token = _start(p, iban=IBAN)
    assert p.tasks.get(task_id).params == (("iban", IBAN),)
    p.flow.observe(p.tasks.get(task_id), _tool(p, "mail.read"), EMAIL)
    assert p.decide(_pay(token)).verdict is Verdict.ALLOW
    # a value written differently (grouped, lower case) is the same value
    assert p.decide(_pay(token, "de89 3704 0044 0532 0130 00")).verdict is Verdict.ALLOW


def test_another_process_sees_the_outputs_and_rebuilds_from_the_store(sb: Sandbox) -> None:
    p = sb.proctor
    task_id, token = _start(p)
    agent = p.agents.get("bot")
    pay = _tool(p, "bank.pay")
    args = {"iban": IBAN, "amount": 1250}
    # this process has the task in memory, with nothing read yet
    assert p.flow.facts(agent, p.tasks.get(task_id), pay, args, 0).provenance.untrusted_args == ()
    with Proctor.open(sb.workspace, clock=FrozenClock()) as other:  # another process, same store
        other.flow.observe(other.tasks.get(task_id), other.tools.get("mail.read"), EMAIL)
    again = p.flow.facts(agent, p.tasks.get(task_id), pay, args, 0)
    assert again.provenance.untrusted_args == ("iban",)
    assert again.task.read_untrusted
    with Proctor.open(sb.workspace, clock=FrozenClock()) as fresh:  # a restart: rebuilt from the store
        rebuilt = fresh.flow.facts(fresh.agents.get("bot"), fresh.tasks.get(task_id), pay, args, 0)
    assert rebuilt.provenance == again.provenance
    assert rebuilt.task.read_untrusted
    assert p.decide(_pay(token)).verdict is Verdict.APPROVAL_REQUIRED


def test_the_high_water_mark_survives_eviction(tmp_path: Path) -> None:
    for sb in _sandbox(tmp_path, extra="flow: {max_outputs: 1}"):
        p = sb.proctor
        task_id, _ = _start(p)
        task = p.tasks.get(task_id)
        p.flow.observe(task, _tool(p, "crm.lookup"), "ACME Energy: account on file")
        p.flow.observe(task, _tool(p, "mail.read"), "hello")
        assert len(p.store.outputs(TaskId(task_id))) == 1
        with Proctor.open(sb.workspace, clock=FrozenClock()) as fresh:
            facts = fresh.flow.facts(
                fresh.agents.get("bot"), fresh.tasks.get(task_id), fresh.tools.get("bank.pay"), {}, 0
            )
        assert facts.task.max_sensitivity is Sensitivity.CONFIDENTIAL  # read, then evicted
        assert facts.task.read_untrusted


def test_outputs_are_deleted_when_the_task_ends_or_expires(sb: Sandbox) -> None:
    p = sb.proctor
    ended, _ = _start(p)
    expiring = p.tasks.start(
        agent="bot", purpose="x", allow=["mail.*"], requested_by="a@acme.test", ttl_s=60
    ).task
    for t in (ended, expiring.id):
        p.flow.observe(p.tasks.get(str(t)), _tool(p, "mail.read"), EMAIL)
    p.tasks.end(ended)
    assert p.store.outputs(TaskId(ended)) == []
    assert p.store.outputs(expiring.id) != []
    sb.clock.advance(61)
    p.tasks.sweep()
    assert p.store.outputs(expiring.id) == []


def test_retention_keeps_outputs_after_the_end_for_a_while(tmp_path: Path) -> None:
    for sb in _sandbox(tmp_path, extra="flow: {retention: 1h}"):
        p = sb.proctor
        task_id, _ = _start(p)
        p.flow.observe(p.tasks.get(task_id), _tool(p, "mail.read"), EMAIL)
        p.tasks.end(task_id)
        p.tasks.sweep()
        assert len(p.store.outputs(TaskId(task_id))) == 1
        lines = p.flow.export(task_id)
        assert [x["type"] for x in lines] == ["tool", "task", "call"]
        assert lines[2]["output"] == EMAIL
        sb.clock.advance(3601)
        p.tasks.sweep()
        assert p.store.outputs(TaskId(task_id)) == []


def test_export_writes_the_tasks_trace(sb: Sandbox) -> None:
    p = sb.proctor
    task_id, _ = _start(p, iban=IBAN)
    task = p.tasks.get(task_id)
    p.flow.observe(task, _tool(p, "mail.read"), EMAIL, args={"folder": "inbox"}, decision_id="dec-1")
    lines = p.flow.export(task_id)
    tool, task_line, call = lines
    assert tool["type"] == "tool"
    assert tool["name"] == "mail.read"
    assert tool["effect"] == "read"
    assert tool["labels"] == {"trust": "untrusted", "sensitivity": "internal"}
    assert task_line["params"] == {"iban": IBAN}
    assert task_line["purpose"] == task.purpose
    assert task_line["owner"] == "owner@acme.test"
    assert call["args"] == {"folder": "inbox"}
    assert call["output"] == EMAIL
    assert call["id"] == "dec-1"


def test_history_counts_forwarded_calls_and_a_bad_value_is_a_deny(tmp_path: Path) -> None:
    for sb in spend_sandbox(tmp_path):
        p = sb.proctor
        task_id, token = _start(p, iban=IBAN)
        pay = _tool(p, "bank.pay")
        assert p.decide(_pay(token)).verdict is Verdict.ALLOW
        ev = p.flow.record_call("bot", task_id, pay, {"iban": IBAN, "amount": 1250}, sb.clock.now())
        assert ev is not None
        assert ev.values == (("spent", "1250"),)
        # 1250 already spent: another 1250 goes over 2000
        d = p.decide(_pay(token))
        assert d.verdict is Verdict.DENY
        assert "t.spend-cap" in d.policies
        # a value the counter cannot read: the flow stage fails, the call is denied and audited
        bad = p.decide(_pay(token, amount="lots"))
        assert bad.verdict is Verdict.DENY
        assert bad.errors == ("flow_failed",), bad
        rec = _decision_record(p, bad.decision_id)
        assert rec["decision"] == "deny"
        assert rec["outcome"]["errors"] == ["flow_failed"]


def test_a_read_with_no_flow_policy_gets_no_facts(sb: Sandbox) -> None:
    """Reads the active set reads no flow data for cost nothing: no store read, no trace."""
    p = sb.proctor
    assert not p.flow.needed(_tool(p, "mail.read"))
    assert p.flow.needed(_tool(p, "bank.pay"))
    _, token = _start(p)
    d = p.decide(CallInput(tool="mail.read", args={}, agent="bot", task_token=token))
    assert d.verdict is Verdict.ALLOW
    rec = _decision_record(p, d.decision_id)
    assert "provenance" not in rec


def test_the_flow_stage_off(tmp_path: Path) -> None:
    for sb in _sandbox(tmp_path, extra="flow: {enabled: false}"):
        p = sb.proctor
        task_id, token = _start(p)
        p.flow.observe(p.tasks.get(task_id), _tool(p, "mail.read"), EMAIL)
        assert p.store.outputs(TaskId(task_id)) == []
        # nothing traced: all_traced is false, destination_untrusted too: no policy permits
        assert p.decide(_pay(token)).verdict is Verdict.DENY


def test_task_params_are_checked(sb: Sandbox) -> None:
    from proctor.errors import ValidationError

    for bad in ({"1x": "v"}, {"a-b": "v"}, {"x": ""}, {"x": "v" * 2001}, {f"p{i}": "v" for i in range(33)}):
        with pytest.raises(ValidationError):
            _start(sb.proctor, **bad)
    p = sb.proctor
    task_id, _ = _start(p, recipient="ap@acme.example", iban=IBAN)
    assert p.tasks.get(task_id).params == (("iban", IBAN), ("recipient", "ap@acme.example"))
    p.audit.flush()
    (started,) = [
        json.loads(bytes(r.body)) for r in p.store.search_audit(AuditQuery(kind="task.started", limit=10))
    ]
    assert started["params"] == ["iban", "recipient"]  # names only: values are not the log's
    assert IBAN not in json.dumps(started)


def test_a_shadow_policy_is_in_the_decision_record(sb: Sandbox) -> None:
    p = sb.proctor
    (sb.workspace.policies_dir / "50-shadow.cedar").write_text(
        '@id("t.watch-untrusted-pay") @shadow\n'
        'forbid (principal, action == Proctor::Action::"pay", resource)\n'
        "when { context.task.read_untrusted };\n",
        encoding="utf-8",
    )
    assert p.policies.reload()
    task_id, token = _start(p, iban=IBAN)
    p.flow.observe(p.tasks.get(task_id), _tool(p, "mail.read"), EMAIL)
    d = p.decide(_pay(token))
    assert d.verdict is Verdict.ALLOW  # not enforced
    rec = _decision_record(p, d.decision_id)
    assert rec["shadow"] == {"decision": "deny", "policies": ["t.watch-untrusted-pay"]}
    assert "shadow" not in rec["outcome"]


@pytest.mark.parametrize(
    ("flow", "why"),
    [
        ("{enabled: maybe}", "flow.enabled"),
        ("{max_outputs: 0}", "flow.max_outputs"),
        ("{max_output_bytes: 99999999}", "flow.max_output_bytes"),
        ("{retention: forever}", "flow.retention"),
        ("{retain: task}", "flow.retain"),
    ],
)
def test_the_flow_section_is_checked(tmp_path: Path, flow: str, why: str) -> None:
    from proctor.config import load_settings
    from proctor.errors import ConfigError

    path = tmp_path / "proctor.yaml"
    path.write_text(f"trust_domain: acme.test\nflow: {flow}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=why):
        load_settings(path)
    path.write_text("trust_domain: acme.test\nflow: {retention: 7d, max_outputs: 50}\n", encoding="utf-8")
    s = load_settings(path)
    assert (s.flow_retention_s, s.flow_max_outputs, s.flow_enabled) == (7 * 86400, 50, True)


def test_history_read_incrementally_sees_what_another_process_counted(tmp_path: Path) -> None:
    """Counters read the store incrementally (only events since the last read): an event read
    before is not counted twice, and one another process stored after this one's last read counts."""
    from decimal import Decimal

    for sb in spend_sandbox(tmp_path):  # a policy reads the counter: history is computed
        p = sb.proctor
        task_id, _ = _start(p, iban=IBAN)
        task, agent, pay = p.tasks.get(task_id), p.agents.get("bot"), _tool(p, "bank.pay")
        args = {"iban": IBAN, "amount": 400}

        def spent(p: Proctor = p, sb: Sandbox = sb) -> object:
            return p.flow.facts(agent, task, pay, args, sb.clock.now()).history_dict()["spent"]  # noqa: B023

        p.flow.record_call("bot", task_id, pay, {"iban": IBAN, "amount": 1000}, sb.clock.now())
        assert spent() == Decimal("1400")  # 1000 counted, and this call's 400
        assert spent() == Decimal("1400")  # read again: nothing counted twice
        with Proctor.open(sb.workspace, clock=sb.clock) as other:
            other.flow.record_call("bot", task_id, pay, {"iban": IBAN, "amount": 150}, sb.clock.now())
        assert spent() == Decimal("1550")  # the other process's payment counts


MADE_UP = "GB82WEST12345698765432"  # in no output and not in the intent: a payment to it is denied


def _calls(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for x in lines if x["type"] == "call"]


def test_a_denied_calls_arguments_are_kept_sealed_and_exported(sb: Sandbox) -> None:
    """A call the policy set denies keeps its arguments (sealed like an output, never in the audit
    log) until the task ends: the export writes it as a call without an output."""
    p = sb.proctor
    task_id, token = _start(p)
    d = p.decide(_pay(token, MADE_UP, 40))
    assert d.verdict is Verdict.DENY
    assert p.flow.settle()
    (kept,) = p.store.outputs(TaskId(task_id))
    assert kept.tool == "bank.pay"
    assert (kept.trust, kept.sensitivity, kept.reasons) == ("trusted", "public", ())
    assert b"GB82" not in bytes(kept.sealed)  # sealed: never in clear at rest
    assert MADE_UP not in json.dumps(_decision_record(p, d.decision_id))
    lines = p.flow.export(task_id)
    assert [x["type"] for x in lines] == ["tool", "task", "call"]
    assert lines[0]["name"] == "bank.pay"
    call = lines[2]
    assert call == {
        "type": "call",
        "id": str(d.decision_id),
        "tool": "bank.pay",
        "args": {"iban": MADE_UP, "amount": 40},
        "at": 0.0,
        "meta": {"decision": "deny"},
    }
    # a dry run decides nothing that happened: nothing kept
    assert p.decide(dataclasses.replace(_pay(token, MADE_UP, 41), dry_run=True)).verdict is Verdict.DENY
    assert p.flow.settle()
    assert len(p.store.outputs(TaskId(task_id))) == 1
    p.tasks.end(task_id)
    assert p.store.outputs(TaskId(task_id)) == []
    assert _calls(p.flow.export(task_id)) == []


def test_a_denied_calls_arguments_are_never_a_source_nor_a_read(sb: Sandbox) -> None:
    """The kept arguments of a denied call are not an output the task read: a later call carrying
    the same value finds it nowhere (here, and rebuilt from the store in another process), and the
    denied call's tool labels nothing (a confidential tool outside the task's scope)."""
    p = sb.proctor
    started = p.tasks.start(
        agent="bot",
        purpose="Pay ACME's invoice of 1250 EUR",
        allow=["mail.*", "bank.*"],
        requested_by="alice@acme.test",
        ttl_s=3600,
    )
    task_id, token = str(started.task.id), started.token
    lookup = CallInput(tool="crm.lookup", args={"iban": MADE_UP}, agent="bot", task_token=token)
    assert p.decide(lookup).verdict is Verdict.DENY  # outside the task's tools
    assert p.decide(_pay(token, MADE_UP, 40)).verdict is Verdict.DENY
    assert p.flow.settle()
    assert [(c["tool"], c["meta"]) for c in _calls(p.flow.export(task_id))] == [
        ("crm.lookup", {"decision": "deny"}),
        ("bank.pay", {"decision": "deny"}),
    ]
    args = {"iban": MADE_UP, "amount": 1250}
    pay = _tool(p, "bank.pay")
    here = p.flow.facts(p.agents.get("bot"), p.tasks.get(task_id), pay, args, 0)
    with Proctor.open(sb.workspace, clock=FrozenClock()) as fresh:  # rebuilt from the store
        rebuilt = fresh.flow.facts(fresh.agents.get("bot"), fresh.tasks.get(task_id), pay, args, 0)
        stored = fresh.store.task_labels(TaskId(task_id))
    for facts in (here, rebuilt):
        origin = {a.path: a for a in facts.provenance.args}["iban"]
        assert (origin.origin, origin.sources) == (Origin.NONE, ())
        assert not facts.task.read_untrusted
        assert facts.task.max_sensitivity is Sensitivity.PUBLIC
    assert (stored.read_untrusted, stored.max_sensitivity) == (False, Sensitivity.PUBLIC)
    assert p.decide(_pay(token, MADE_UP, 40)).verdict is Verdict.DENY  # still made up


def test_a_held_call_is_exported_once(sb: Sandbox) -> None:
    """A held call is exported with its decision; asked again while pending, once; approved and
    forwarded, only as the forwarded call (with its output)."""
    from proctor.approvals.model import Approver
    from proctor.types import Email

    p = sb.proctor
    task_id, token = _start(p)
    task = p.tasks.get(task_id)
    p.flow.observe(task, _tool(p, "mail.read"), EMAIL, args={"folder": "inbox"}, decision_id="dec-1")
    held = p.decide(_pay(token))
    assert held.verdict is Verdict.APPROVAL_REQUIRED
    assert p.flow.settle()
    calls = _calls(p.flow.export(task_id))
    assert [(c["id"], c["meta"]) for c in calls] == [
        ("dec-1", {}),
        (str(held.decision_id), {"decision": "approval_required"}),
    ]
    assert calls[1]["args"] == {"iban": IBAN, "amount": 1250}
    again = p.decide(_pay(token))
    assert again.verdict is Verdict.APPROVAL_REQUIRED
    assert p.flow.settle()
    assert [c["id"] for c in _calls(p.flow.export(task_id))] == ["dec-1", str(again.decision_id)]
    p.approvals.approve(str(held.approval_id), Approver(Email("owner@acme.test")), "known supplier")
    ran = p.decide(_pay(token))
    assert ran.verdict is Verdict.ALLOW
    p.flow.observe(
        task,
        _tool(p, "bank.pay"),
        "paid",
        args={"iban": IBAN, "amount": 1250},
        decision_id=str(ran.decision_id),
    )
    calls = _calls(p.flow.export(task_id))
    assert [(c["id"], c.get("output"), c["meta"]) for c in calls] == [
        ("dec-1", EMAIL, {}),
        (str(ran.decision_id), "paid", {}),
    ]


def test_kept_arguments_share_the_outputs_bounds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A denied call's arguments count in `flow.max_outputs` (the oldest go first) and are not
    kept beyond `flow.max_output_bytes` (never cut): said in the log, and the call is denied all
    the same."""
    for sb in _sandbox(tmp_path, extra="flow: {max_outputs: 2, max_output_bytes: 1024}"):
        p = sb.proctor
        task_id, token = _start(p)
        big = CallInput(
            tool="bank.pay",
            args={"iban": MADE_UP, "amount": 1, "memo": "x" * 2000},
            agent="bot",
            task_token=token,
        )
        with caplog.at_level("ERROR", logger="proctor.flow.service"):
            assert p.decide(big).verdict is Verdict.DENY
            assert p.flow.settle()
        assert "not kept" in caplog.text
        assert p.store.outputs(TaskId(task_id)) == []
        for amount in (1, 2, 3):
            assert p.decide(_pay(token, MADE_UP, amount)).verdict is Verdict.DENY
        assert p.flow.settle()
        calls = _calls(p.flow.export(task_id))
        assert [c["args"]["amount"] for c in calls] == [2, 3]


def test_refused_calls_never_crowd_out_outputs(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """While the flow's writer falls behind (half its queue waits), a denied call's arguments are
    not queued (said in the log): an output the task read is, and reaches the store."""
    import threading

    from proctor.flow import service

    monkeypatch.setattr(service, "MAX_PENDING", 8)
    p = sb.proctor
    task_id, token = _start(p)
    task = p.tasks.get(task_id)
    assert p.decide(_pay(token, MADE_UP, 1)).verdict is Verdict.DENY  # the writer thread exists
    assert p.flow.settle()
    gate = threading.Event()
    assert p.flow._writer is not None
    p.flow._writer.submit(gate.wait, 10)  # the writer is busy
    try:
        for i in range(4):
            _, item = p.flow.observe_local(task, _tool(p, "mail.read"), f"mail {i}")
            assert item is not None
            p.flow.persist_soon(item)
        with caplog.at_level("ERROR", logger="proctor.flow.service"):
            assert p.decide(_pay(token, MADE_UP, 2)).verdict is Verdict.DENY
        assert "not kept" in caplog.text
        _, item = p.flow.observe_local(task, _tool(p, "mail.read"), "mail 4")
        assert item is not None
        p.flow.persist_soon(item)
    finally:
        gate.set()
    assert p.flow.settle()
    kept = p.store.outputs(TaskId(task_id))
    assert [o.tool for o in kept] == ["bank.pay"] + ["mail.read"] * 5
    assert [c["args"]["amount"] for c in _calls(p.flow.export(task_id)) if c["tool"] == "bank.pay"] == [1]


def test_close_writes_what_is_queued_before_the_store_closes(tmp_path: Path) -> None:
    """Outputs (here: refused calls' arguments) queued for the writer thread are in the store after
    ``Proctor.close``: the writer is drained and stopped before the store closes (a flush running
    on a closed SQLite connection lost them, or crashed the process)."""
    for box in _sandbox(tmp_path, extra="flow: {max_outputs: 500}"):
        task_id, _ = _start(box.proctor)
        other = Proctor.open(box.workspace)
        task = other.tasks.get(task_id)
        tool = other.tools.get("bank.pay")
        for i in range(300):
            other.flow.keep_decided(task, tool, {"iban": f"x{i}"}, verdict="deny", decision_id=f"d{i}", now=0)
        other.close()
        assert len(box.proctor.store.outputs(TaskId(task_id))) == 300


def test_a_relaunch_right_after_an_end_keeps_a_read_the_writer_had_not_stored(sb: Sandbox) -> None:
    """Red team (template memory, docs/adr/0029 amendment): a stdio session reads untrusted mail,
    its output is still queued for the flow's writer (or dropped when the queue overflows: this
    process keeps it in memory only) when the session ends; a relaunch of the same template at
    once must start with that read, not with what the store happened to hold."""
    import threading

    p = sb.proctor
    p.templates.add(
        "inbox",
        agents=["bot"],
        purpose="triage the inbox",
        allow=["mail.*", "bank.*"],
        requested_by="alice@acme.test",
        ttl_s=3600,
    )
    first = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
    _, item = p.flow.observe_local(first, _tool(p, "crm.lookup"), "ACME: customer since 2019")
    assert item is not None
    p.flow.persist_soon(item)  # (the writer thread exists)
    assert p.flow.settle()
    gate = threading.Event()
    assert p.flow._writer is not None
    p.flow._writer.submit(gate.wait, 10)  # the writer is busy
    try:
        _, item = p.flow.observe_local(first, _tool(p, "mail.read"), EMAIL)
        assert item is not None
        p.flow.persist_soon(item)
        assert p.flow.labels(first).read_untrusted  # this process knows
        p.tasks.end(str(first.id), by="gateway", reason="stdio session ended")
        second = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
        assert p.store.task_labels(second.id).read_untrusted
        assert p.flow.labels(second).read_untrusted
    finally:
        gate.set()
    assert p.flow.settle()


@pytest.mark.parametrize("depth", [1, 2])
def test_a_relaunch_keeps_what_the_ended_sessions_delegated_tasks_read(sb: Sandbox, depth: int) -> None:
    """Red team (template memory, docs/adr/0029 amendment; ADR 0032): a stdio session delegates
    the reading of untrusted mail to a helper (and the helper to another); the session ends, which
    ends them by cascade. What they read must be in the ended session's mark, which the next
    launch of the template starts with: the parent ends first, so a child's end no longer found it
    active to report to, and a grandchild reported only to its (ended) parent."""
    p = sb.proctor
    for name in ("helper", "reader"):
        p.agents.add(name, "owner@acme.test")
    p.templates.add(
        "inbox",
        agents=["bot"],
        purpose="triage the inbox",
        allow=["mail.*", "bank.*"],
        requested_by="alice@acme.test",
        ttl_s=3600,
    )
    first = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
    child = p.tasks.delegate(str(first.id), agent="helper", allow=["mail.read"]).task
    if depth == 2:
        child = p.tasks.delegate(str(child.id), agent="reader", allow=["mail.read"]).task
    p.flow.observe(child, _tool(p, "mail.read"), EMAIL)
    # (the session makes no call after it: its memory never merged the read)
    p.tasks.end(str(first.id), by="gateway", reason="stdio session ended")
    assert p.tasks.get(str(child.id)).state is not TaskState.ACTIVE
    second = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
    assert p.store.task_labels(second.id).read_untrusted


@pytest.mark.parametrize("how", ["deadline", "kill_file"])
def test_a_relaunch_keeps_an_unstored_read_of_a_task_not_yet_recorded_ended(sb: Sandbox, how: str) -> None:
    """Red team (template memory): a session past its deadline that no sweep has expired yet, or
    ended only in the kill file, still has its reads in this process's memory (the writer had not
    stored the last one); a relaunch must start with them, not with the store's mark alone."""
    import threading

    from proctor.killswitch import PendingKill

    p = sb.proctor
    p.templates.add(
        "inbox",
        agents=["bot"],
        purpose="triage the inbox",
        allow=["mail.*"],
        requested_by="alice@acme.test",
        ttl_s=60,
    )
    first = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
    _, item = p.flow.observe_local(first, _tool(p, "crm.lookup"), "ACME: customer since 2019")
    assert item is not None
    p.flow.persist_soon(item)  # (the writer thread exists)
    assert p.flow.settle()
    gate = threading.Event()
    assert p.flow._writer is not None
    p.flow._writer.submit(gate.wait, 10)  # the writer is busy
    try:
        _, item = p.flow.observe_local(first, _tool(p, "mail.read"), EMAIL)
        assert item is not None
        p.flow.persist_soon(item)
        if how == "deadline":
            sb.clock.advance(61)
        else:
            p.kills.add(PendingKill("task", str(first.id), sb.clock.now(), "cli", "", "store_locked"))
        second = p.tasks.start_from_template("inbox", agent="bot", via="stdio").task
        assert p.store.task_labels(second.id).read_untrusted
    finally:
        gate.set()
    assert p.flow.settle()


def test_a_record_that_states_money_still_counts_after_a_restart_that_lost_it(tmp_path: Path) -> None:
    """``amount_off_record``: the trusted record of the invoice the request names was evicted
    before another process loaded the task; whether it stated money is unknown there, so it is
    assumed (fail closed), as the process that read it knows."""
    for sb in _sandbox(tmp_path, extra="flow: {max_outputs: 1}"):
        p = sb.proctor
        task_id, _ = _start(p, invoice="INV-4410")
        task = p.tasks.get(task_id)
        p.flow.observe(task, _tool(p, "crm.lookup"), "INV-4410 | ACME Energy | EUR 1,250.00 | open")
        p.flow.observe(task, _tool(p, "mail.read"), "Invoice INV-4410: corrected total EUR 1,980.00")
        assert len(p.store.outputs(TaskId(task_id))) == 1  # the record is evicted
        args = {"iban": IBAN, "amount": 1980}
        here = p.flow.facts(p.agents.get("bot"), task, _tool(p, "bank.pay"), args, 0)
        assert here.provenance.amount_off_record
        with Proctor.open(sb.workspace, clock=FrozenClock()) as fresh:
            again = fresh.flow.facts(
                fresh.agents.get("bot"), fresh.tasks.get(task_id), fresh.tools.get("bank.pay"), args, 0
            )
        assert again.provenance.amount_off_record


def test_a_restart_that_lost_outputs_assumes_no_record_when_the_request_names_none(tmp_path: Path) -> None:
    for sb in _sandbox(tmp_path, extra="flow: {max_outputs: 1}"):
        p = sb.proctor
        task_id, _ = _start(p)
        task = p.tasks.get(task_id)
        p.flow.observe(task, _tool(p, "crm.lookup"), "ACME Energy | EUR 1,250.00 | open")
        p.flow.observe(task, _tool(p, "mail.read"), "Invoice corrected total EUR 1,980.00")
        args = {"iban": IBAN, "amount": 1980}
        with Proctor.open(sb.workspace, clock=FrozenClock()) as fresh:
            again = fresh.flow.facts(
                fresh.agents.get("bot"), fresh.tasks.get(task_id), fresh.tools.get("bank.pay"), args, 0
            )
        assert not again.provenance.amount_off_record
