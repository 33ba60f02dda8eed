"""Red team of the delegation tree as one flow (docs/adr/0032, amendments): a parent's flow
decisions join the marks of at most ``_MAX_DESCENDANTS`` live tasks below it, and a task may have
any number of children (a budget bounds their calls, not their count). Before, the tasks past the
bound were silently not read, so a parent could launder a read by delegating it to its 1,025th
child: its payment went through with a clean mark. Now a tree larger than the bound is a mark of
unknown reads (untrusted, secret: fail closed). The bound is lowered here to keep the test small;
which tasks a store leaves out is its choice, so each child in turn is the one that reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.test_delegation import EMAIL, IBAN, _call, _root, _sandbox

import proctor.flow.service as flow_service
from proctor.flow.model import Sensitivity
from proctor.testing import Sandbox
from proctor.types import Verdict

CHILDREN = 3


@pytest.fixture
def sb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setattr(flow_service, "_MAX_DESCENDANTS", CHILDREN - 1)
    yield from _sandbox(tmp_path)


def test_rt_treeflow_a_read_by_a_child_past_the_bound_still_labels_the_parent(sb: Sandbox) -> None:
    p = sb.proctor
    verdicts, marks = [], []
    for reader in range(CHILDREN):
        root, token = _root(p)
        kids = [p.tasks.delegate(root, agent="researcher", allow=["mail.read"]) for _ in range(CHILDREN)]
        p.flow.observe(kids[reader].task, p.tools.get("mail.read"), EMAIL)
        verdicts.append(p.decide(_call("planner", token, "bank.pay", iban=IBAN, amount=1)).verdict)
        marks.append(p.flow.labels(p.tasks.get(root)))
    # before: the child the store left out read the attacker's mail, and the payment went through
    assert verdicts == [Verdict.APPROVAL_REQUIRED] * CHILDREN
    assert all(m.read_untrusted for m in marks)
    # what the unread tasks read is unknown: the worst
    assert {m.max_sensitivity for m in marks} == {Sensitivity.SECRET}


def test_rt_treeflow_a_tree_within_the_bound_is_read_as_it_is(sb: Sandbox) -> None:
    p = sb.proctor
    root, token = _root(p)
    for _ in range(CHILDREN - 1):
        p.tasks.delegate(root, agent="researcher", allow=["mail.read"])
    d = p.decide(_call("planner", token, "bank.pay", iban=IBAN, amount=1))
    assert d.verdict is Verdict.ALLOW, d.reasons
    assert not p.flow.labels(p.tasks.get(root)).read_untrusted
