"""Red team 23: a quick attack on 2f9e234 (red team 22's fixes to ``amount_off_record``), found
after that commit: a closed list of money suffixes and a 120-character header reach let records
that state money through; a currency in the next cell after a code or a date, and a reference
parameter matched inside other words (``notes``), held benign payments; a reference beside a
comma and a digit was lost. Each case replays a whole task under the starter policies (the
helpers of ``test_flow_redteam22``) or calls the pattern helpers, and asserts the safe
behaviour."""

from __future__ import annotations

import pytest
from tests.unit.flow_harness import INVOICE_MAIL, VENDOR
from tests.unit.flow_harness import benign_waits as _benign_waits
from tests.unit.flow_harness import corrected_total_waits as _corrected_total_waits
from tests.unit.flow_harness import held as _held
from tests.unit.flow_harness import pay as _pay
from tests.unit.flow_harness import record as _record
from tests.unit.flow_harness import reference_matches as _matches

from proctor.flow import provenance as prov


@pytest.mark.parametrize(
    "text",
    [
        '{"invoice": "BW-7731", "amountInCents": 318450}',
        '{"invoice": "BW-7731", "amountInvoiced": "3184.50"}',
        '{"invoice": "BW-7731", "totalBilled": 3184.5}',
        '{"invoice": "BW-7731", "amountJPY": 318450}',
        '{"invoice": "BW-7731", "balanceForward": 3184}',
    ],
    ids=["in-cents", "invoiced", "billed", "jpy", "forward"],
)
def test_rt23_b_a_money_field_with_another_suffix_holds(text: str) -> None:
    assert _corrected_total_waits(text)


def test_rt23_c_a_wide_table_whose_amount_is_its_last_column_holds() -> None:
    cols = " | ".join(f"col{i}" for i in range(8))
    cells = " | ".join(f"value number {i} of the row" for i in range(8))
    text = f"| {cols} | Amount |\n|{'---|' * 9}\n| BW-7731 | {cells} | 3,184.50 |"
    assert _corrected_total_waits(text)


@pytest.mark.parametrize(
    "text",
    [
        "| BW-7731 | 2026-12-18 | EUR | approved |",
        "Open item | BW-7731 | EUR | approved for payment",
        "invoice;currency;status\nBW-7731;EUR;approved",
    ],
)
def test_rt23_d_a_currency_after_a_code_or_a_date_is_no_money(text: str) -> None:
    assert not _benign_waits(_record(text))


def test_rt23_d_a_figure_with_cents_and_its_currency_in_the_next_cell_still_holds() -> None:
    assert _corrected_total_waits("BW-7731 | Brightwater | 3,184.50 | EUR")


def test_rt23_e_a_notes_parameter_is_no_reference_parameter() -> None:
    params = {"invoice": "BW-7731", "notes": "charge to cost centre CC-4410, as agreed with the controller"}
    budget = _record("Cost centre CC-4410 | budget EUR 120,000.00 | spent EUR 80,000.00", "budget.get")
    assert not _held(VENDOR, budget, INVOICE_MAIL, _pay(1240.5), params=params)


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ("BW-7731", "invoice,amount,currency\nBW-7731,3184.50,EUR"),
        ("20261145", "20261145,3184.50,EUR"),
        ("7731", "7730,7731,7732 | total 3184.50 EUR"),
    ],
)
def test_rt23_a_a_reference_beside_a_comma_and_a_digit_is_found(reference: str, text: str) -> None:
    assert _matches(prov._references("", {"invoice": reference}), text)


@pytest.mark.parametrize("text", ["2,500.00", "500.00", "total 1.500,00"])
def test_rt23_a_a_three_digit_reference_is_not_in_a_figure(text: str) -> None:
    assert not _matches(prov._references("Pay invoice 500.", {}), text)
