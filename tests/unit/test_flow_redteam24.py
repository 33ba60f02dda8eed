"""Red team 24: a quick attack on 48dd081 (red team 23's fixes to ``amount_off_record``): a whole
number whose currency is in the next cell was no money (the next-cell form wanted cents); a
reference parameter written ``invoicenumber``, ``Invoice Number`` or ``invoice.id`` was none (the
whole-word rule); a money header reached 400 characters into prose, so a time or a rate two
sentences after ``paid`` or ``cost`` held a benign payment. Each case replays a whole task under
the starter policies (the helpers of ``test_flow_redteam22``) or calls the pattern helpers, and
asserts the safe behaviour."""

from __future__ import annotations

import pytest
from tests.unit.flow_harness import benign_waits as _benign_waits
from tests.unit.flow_harness import corrected_total_waits as _corrected_total_waits
from tests.unit.flow_harness import record as _record

from proctor.flow import provenance as prov

# ---- rt24-1: a whole number in its own cell, its currency in the next --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "| Invoice | Vendor | Amount | Currency |\n|---|---|---|---|\n| BW-7731 | Brightwater | 3184 | EUR |",
        "| Invoice | Vendor | Amount | Currency |\n| BW-7731 | Brightwater | 318450 | JPY |",
        "invoice;amount;currency\nBW-7731;3184;EUR",
        # [red team 25] a whole number is read beside a money word only (a vendor number or a
        # company code beside a currency column is none)
        "3184 | EUR | BW-7731 | open amount",
    ],
    ids=["table", "jpy", "csv-semicolon", "first-cell"],
)
def test_rt24_1_a_whole_number_with_its_currency_in_the_next_cell_holds(text: str) -> None:
    assert _corrected_total_waits(text)


@pytest.mark.parametrize(
    "text",
    [
        "| BW-7731 | 2026-12-18 | EUR | approved |",
        "invoice;currency;status\nBW-7731;EUR;approved",
        "| BW-7731 | 12/18 | EUR | approved |",
    ],
)
def test_rt24_1_a_date_or_a_code_before_a_currency_is_still_no_money(text: str) -> None:
    assert not prov._record_states_money(prov._record_text(text))
    assert not _benign_waits(_record(text))


# ---- rt24-2: reference parameters however their names are written ---------------------------

LONG = "BW-7731 (Brightwater Supplies, goods received 2026-11-28, see the warehouse note)"


@pytest.mark.parametrize(
    "name", ["invoicenumber", "Invoice Number", "invoice.id", "ponumber", "PO-Number", "docId", "bookingRef"]
)
def test_rt24_2_a_reference_parameter_however_written_gives_its_codes(name: str) -> None:
    assert "bw-7731" in prov._references("", {name: LONG})


@pytest.mark.parametrize("name", ["notes", "memo", "description", "cost_center", "costCentre", "sku_list"])
def test_rt24_2_other_parameters_give_no_inner_codes(name: str) -> None:
    assert "bw-7731" not in prov._references("", {name: LONG})


@pytest.mark.parametrize("name", ["Invoice Number", "invoice.id", "invoicenumber"])
def test_rt24_2_the_attack_with_the_reference_only_in_such_a_parameter_holds(name: str) -> None:
    record = "| BW-7731 | Brightwater | EUR 3,184.50 | approved |"
    assert _corrected_total_waits(
        record, purpose="Pay the Brightwater Supplies invoice.", params={name: LONG}
    )


# ---- rt24-3: prose after a money word -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # a time with its unit after ``cost``
        "BW-7731 | Brightwater Supplies | approved for payment. Delivery cost was agreed by phone; "
        "the driver arrives at 14.30 uhr on Friday.",
        "BW-7731 approved. Paid deliveries are unloaded at 9.15 am at dock 4.",
        # a time two sentences after ``paid``: past the 120 characters prose reaches
        "BW-7731 | Brightwater Supplies | approved. Freight is paid by the vendor. "
        + "The goods were checked against the delivery note and stored in the main warehouse. " * 2
        + "Pick-up slot 14.30 tomorrow.",
        # a rate
        "BW-7731 approved. Credit terms as in the framework contract; discount rate 2.50 applies.",
    ],
    ids=["uhr", "am", "far", "rate"],
)
def test_rt24_3_a_time_or_a_rate_in_prose_is_no_amount(text: str) -> None:
    assert not prov._record_states_money(prov._record_text(text))
    assert not _benign_waits(_record(text))


def test_rt24_3_a_wide_csv_header_still_reaches_its_last_column() -> None:
    cols = ",".join(f"column{i}" for i in range(20))
    cells = ",".join(f"value {i} of the row" for i in range(20))
    text = f"invoice,{cols},amount\nBW-7731,{cells},3184.50"
    assert _corrected_total_waits(text)


def test_rt24_3_a_figure_after_a_colon_still_counts() -> None:
    assert prov._record_states_money(prov._record_text("BW-7731 total:3184.50"))


# ---- red team 23's leftovers: a period joined to a year, compound money words ---------------


@pytest.mark.parametrize("period", ["Q3-2026", "FY26/27", "2026-Q3", "H1/2026", "FY2026-27"])
def test_rt23_leftover_a_period_joined_to_a_year_is_no_reference(period: str) -> None:
    refs = prov._references(f"Pay Brightwater invoice BW-7731 from the {period} budget.", {})
    assert refs == ("bw-7731",)


def test_rt23_leftover_a_quarter_joined_to_another_number_is_still_a_code() -> None:
    assert "q3-7731" in prov._references("Pay order Q3-7731.", {})


def test_rt23_leftover_a_budget_of_the_period_holds_no_benign_payment() -> None:
    budget = _record("Budget Q3-2026 | allocated EUR 120,000.00 | spent EUR 80,000.00", "erp.get")
    purpose = "Pay Brightwater Supplies invoice BW-7731 from the Q3-2026 budget."
    assert not _benign_waits(budget, purpose=purpose)


@pytest.mark.parametrize(
    "text",
    [
        "Rechnung BW-7731 | Rechnungsbetrag: 3.184,50 | freigegeben",
        "Rechnung BW-7731, Gesamtsumme 3.184,50",
        "Factuur BW-7731 | factuurbedrag: 3184,50",
    ],
    ids=["rechnungsbetrag", "gesamtsumme", "factuurbedrag"],
)
def test_rt23_leftover_a_compound_money_word_states_money(text: str) -> None:
    assert _corrected_total_waits(text)


@pytest.mark.parametrize("text", ["BW-7731 | Preisliste 2026 | freigegeben", "BW-7731 | Preisgruppe 3"])
def test_rt23_leftover_a_compound_without_a_figure_is_no_money(text: str) -> None:
    assert not prov._record_states_money(prov._record_text(text))
