"""A second payment of an amount the task already paid waits for a person (counters.yaml
`new_amount_task`, approval.payments; red team 10 found the injected repeat went through)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.flow_harness import AP as OWNER
from tests.unit.flow_harness import REPEAT_MAIL as MAIL
from tests.unit.flow_harness import REPEAT_PURPOSE as PURPOSE
from tests.unit.flow_harness import REPEAT_TOOLS as TOOLS
from tests.unit.flow_harness import REPEAT_VENDORS as VENDORS
from tests.unit.flow_harness import repeat_pay as _pay
from tests.unit.flow_replay import decide_last

from proctor.flow.counters import CounterSpec, _first_time_values


def test_the_payment_asked_for_goes_through() -> None:
    assert decide_last(TOOLS, PURPOSE, [VENDORS, MAIL, _pay(1200)], owner=OWNER)[0] == "allow"


@pytest.mark.parametrize("again", [1200, 1200.0, "1,200.00", "EUR 1200", "1200"])
def test_paying_the_same_amount_again_waits(again: Any) -> None:
    decision, policies = decide_last(TOOLS, PURPOSE, [VENDORS, MAIL, _pay(1200), _pay(again)], owner=OWNER)
    assert decision == "approval_required"
    assert "approval.payments" in policies


def test_a_second_payment_of_another_amount_is_not_a_repeat() -> None:
    purpose = (
        "Pay Acme GmbH's invoices INV-5531 (EUR 1,200) and INV-5540 (EUR 300) to the vendor master account."
    )
    calls = [VENDORS, _pay(1200), _pay(300, "INV-5540")]
    assert decide_last(TOOLS, purpose, calls, owner=OWNER)[0] == "allow"


def test_an_amount_written_as_text_is_fingerprinted_as_its_number() -> None:
    spec = CounterSpec(name="n", kind="first_time", arg="amount", tools=(), effects=("pay",))
    key = b"k" * 32
    one = _first_time_values(spec, (("amount", 1200),), key)
    for text in ("1,200.00", "EUR 1200", "1200", " 1200.0 "):
        assert _first_time_values(spec, (("amount", text),), key) == one, text
    # a text that is no amount is kept as text (a recipient, a name)
    assert _first_time_values(spec, (("amount", "twelve hundred"),), key) != one
