"""``flow.provenance``: tracing a call with 10 arguments against 100 outputs of 10 KB each.

The outputs are generated text shaped like what agents read (mails, invoices, pages: words,
amounts, IBANs, e-mail addresses, URLs, phone numbers), half trusted and half untrusted; the call's
arguments are found in the intent, in trusted and in untrusted outputs, or nowhere, so every lookup
path runs (single terms, several terms, e-mails, URLs, amounts, identifiers, free text). Indexing
(``SourceIndex.add``, paid once per output) is measured separately as ``flow.index.add``.

``flow.outsider.crafted``: splitting the outsiders' parts out of a crafted 100 KB trusted output
(a label on every line, message headers, one long field, CRLF, quoted replies, and red team 16's
inputs that once took seconds: space runs after a label or an attribution, markup before a colon,
wrapped attributions, a rule to the end of a line, colons), the worst of them: ``p50_us`` is its
time (target <= 20,000 µs: linear, bounded), ``ratio`` the same over normalising that text for the
index (``_norm``, a few C-level passes). Red team 11 found 30-60 ms on such outputs, red team 16
9 s on 4 KB.
"""

from __future__ import annotations

import random
import string
from typing import Any

from proctor.flow.detect import find_credentials
from proctor.flow.model import Trust
from proctor.flow.outsider import split_outsider
from proctor.flow.provenance import SourceIndex, _norm
from proctor.store.base import ToolRecord
from proctor.types import ToolName

OUTPUT_CHARS = 10 * 1024


def _output(rng: random.Random, words: list[str], i: int) -> str:
    lines: list[str] = []
    size = 0
    while size < OUTPUT_CHARS:
        kind = rng.randrange(8)
        if kind == 0:
            line = f"Please transfer {rng.randint(100, 99999):,}.{rng.randint(0, 99):02d} EUR to IBAN DE{rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}."
        elif kind == 1:
            line = f"Contact {rng.choice(words)}.{rng.choice(words)}@{rng.choice(words)}.example or call +1 ({rng.randint(200, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}."
        elif kind == 2:
            line = f"See https://{rng.choice(words)}.example.com/{rng.choice(words)}/{rng.randint(1, 9999)}?ref={i} for details."
        else:
            line = (
                " ".join(
                    rng.choice(words).capitalize() if rng.random() < 0.1 else rng.choice(words)
                    for _ in range(14)
                )
                + "."
            )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)[:OUTPUT_CHARS]


def setup() -> tuple[SourceIndex, ToolRecord, dict[str, Any], list[str]]:
    rng = random.Random(15)
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 11))) for _ in range(4000)
    ]
    outputs = [_output(rng, words, i) for i in range(100)]
    outputs[10] += (
        "\nInvoice INV-2024-0042 from ACME Energy GmbH: 1,500.00 EUR, IBAN DE89 3704 0044 0532 0130 00"
    )
    outputs[60] += (
        "\nReply to billing@acme-energy.example, pay at https://pay.acme-energy.example/invoice/42/"
    )
    outputs[70] += "\nSubject: March invoice reminder for your account"
    ix = SourceIndex(
        "Pay the March invoice from ACME Energy", {"payee": "ACME Energy", "approver": "alice@corp.example"}
    )
    for i, text in enumerate(outputs):
        ix.add(f"tool{i % 7}", Trust.TRUSTED if i < 50 else Trust.UNTRUSTED, text)
    tool = ToolRecord(name=ToolName("billing.send_money"), effect="pay")
    args: dict[str, Any] = {
        "iban": "DE89370400440532013000",  # trusted (output 10), written without spaces
        "amount": 1500,  # trusted, written "1,500.00"
        "payee": "ACME Energy",  # intent
        "to": ["billing@acme-energy.example", "mallory@evil.example"],  # untrusted / nowhere
        "url": "https://PAY.acme-energy.example/invoice/42",  # untrusted, other case and slash
        "subject": "March invoice reminder",  # several terms, untrusted
        "reference": "INV-2024-0042",  # trusted
        "phone": "+44 20 7946 0958",  # nowhere
        "note": "quarterly settlement for the northern depot",  # nowhere, several terms
        "body": "Dear team, " + " ".join(rng.choice(words) for _ in range(60)),  # free text, nowhere
    }
    return ix, tool, args, outputs


def bench_flow(timed: Any) -> list[dict[str, Any]]:
    ix, tool, args, outputs = setup()
    results = [timed("flow.provenance", lambda _i: ix.trace(tool, args), 5_000, warmup=200)]
    fresh = SourceIndex("bench", {})
    results.append(
        timed("flow.index.add", lambda i: fresh.add("t", Trust.UNTRUSTED, outputs[i % 100]), 300, warmup=20)
    )
    results.append(timed("flow.detect.10k", lambda i: find_credentials(outputs[i % 100]), 500, warmup=20))
    results.append(_outsider_ratio(timed))
    return results


CRAFTED = {
    "a field per line": "Customer note: x\n" * 6000,
    "a staff note per line": "Staff note: x\n" * 7000,
    "message headers": "12/01 21:14 (customer): hi\n" * 3700,
    "one long field": "Portal messages:\n" + "  Customer note: a\n" * 5500,
    "CRLF fields": "Customer note: x\r\n" * 5500,
    "quoted replies": "> please send it\nStatus: open\n" * 3500,
    # red team 16: space runs a label or an attribution pattern backtracked over (seconds before)
    "label then spaces": "Ref: 1\nPlease note" + " " * 99_000 + "x\n",
    "attribution then spaces": ("on" + " skrev" * 20 + " " * 1000 + "x:\n") * 90,
    "tags before a colon": ("<b>" * 60 + "x:\n") * 500,
    "wrapped attributions": "on x\non y\nz:\n" * 3000,
    "a rule to the end": "Ref: 1\nforwarded by" + "-" * 99_000 + "x\n",
    "colons": (":" * 1000 + "\n") * 90,
}


def _outsider_ratio(timed: Any) -> dict[str, Any]:
    worst: dict[str, Any] = {}
    for name, crafted in CRAFTED.items():
        text = crafted[:100_000]
        split = timed(f"flow.outsider.{name}", lambda _i, t=text: split_outsider(t), 30, warmup=3)
        base = timed(f"flow.norm.{name}", lambda _i, t=text: _norm(t), 30, warmup=3)
        if not worst or split["p50_us"] > worst["p50_us"]:
            worst = {
                "name": "flow.outsider.crafted",
                "p50_us": split["p50_us"],
                "p99_us": split["p99_us"],
                "ops_per_s": split["ops_per_s"],
                "worst": name,
                "ratio": round(split["p50_us"] / max(base["p50_us"], 1e-9), 1),
            }
    return worst
