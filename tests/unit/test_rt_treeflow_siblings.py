"""Red team of the delegation tree as one flow (docs/adr/0032, amendments): a sibling's reads.

A parent hears back from its running child A and instructs its other child B: B's payment must
see what A read. Before, B joined its ancestors' own marks only: A's read reached B through the
parent's flow in this process's memory (when the parent had been decided here since), never when
A's read was recorded by another process or the parent's flow was not loaded here. So a tree could
launder a read by having one child read the attacker's mail and another pay: the same payment was
held in one gateway process and allowed in another. Now every live task of the tree is joined."""

from __future__ import annotations

from tests.unit.test_delegation import EMAIL, IBAN, _call, _root, sb

from proctor.flow.model import TaskLabels
from proctor.testing import Sandbox
from proctor.types import Verdict

__all__ = ["sb"]


def test_rt_treeflow_a_sibling_s_read_labels_a_payment_whatever_process_holds_it(sb: Sandbox) -> None:
    p = sb.proctor
    # another process's reader: its read is only in the store
    root, _token = _root(p)
    reader = p.tasks.delegate(root, agent="mailer", allow=["mail.read"])
    payer = p.tasks.delegate(root, agent="researcher", allow=["bank.pay"])
    assert (
        p.decide(_call("researcher", payer.token, "bank.pay", iban=IBAN, amount=1)).verdict is Verdict.ALLOW
    )
    p.store.raise_task_labels(
        reader.task.id, TaskLabels(read_untrusted=True, untrusted_sources=("mail.read",))
    )
    d = p.decide(_call("researcher", payer.token, "bank.pay", iban=IBAN, amount=1))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    # this process's reader, the parent never decided here: a cousin two levels down reads
    root2, _token2 = _root(p)
    mid = p.tasks.delegate(root2, agent="mailer", allow=["mail.read", "bank.pay"])
    payer2 = p.tasks.delegate(root2, agent="researcher", allow=["bank.pay"])
    cousin = p.tasks.delegate(str(mid.task.id), agent="researcher", allow=["mail.read"])
    p.flow.observe(cousin.task, p.tools.get("mail.read"), EMAIL)
    d = p.decide(_call("researcher", payer2.token, "bank.pay", iban=IBAN, amount=1))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert "mail.read" in p.flow.labels(p.tasks.get(str(payer2.task.id))).untrusted_sources


def test_rt_treeflow_an_unrelated_tree_s_read_labels_nothing(sb: Sandbox) -> None:
    p = sb.proctor
    root, _ = _root(p)
    other, _ = _root(p)
    reader = p.tasks.delegate(other, agent="mailer", allow=["mail.read"])
    payer = p.tasks.delegate(root, agent="researcher", allow=["bank.pay"])
    p.flow.observe(reader.task, p.tools.get("mail.read"), EMAIL)
    d = p.decide(_call("researcher", payer.token, "bank.pay", iban=IBAN, amount=1))
    assert d.verdict is Verdict.ALLOW
