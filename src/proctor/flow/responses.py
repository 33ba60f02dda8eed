"""A 2026-07-28 retry's ``inputResponses`` traced as a call's arguments are (docs/adr/0025,
amendment of 2026-12-06; ADR 0031).

A client answers an upstream's input requests (elicitation, sampling, roots) on the retry of a
``tools/call``; the gateway sends the answers upstream with the call. They are input to the
upstream as the arguments are: an agent that read an attacker's page can answer "which account
should receive the refund?" with the attacker's IBAN. So, for a call whose effect is not ``read``,
the values the answers carry are traced by the same index, with the same rules, as argument values,
under the path ``inputResponses.<key>.<field>…``:

- an elicitation answer (``action``): its ``content`` (``inputResponses.refund.content.iban``);
- a sampling answer (``role``/``model``/``stopReason``): its content blocks without their
  scaffolding (``type``, ``mimeType``, ``annotations``, binary ``data``), so the model's text is read
  as free text (IBANs, addresses and links inside it traced as embedded values);
- a roots answer: its ``roots`` (URIs and names);
- anything else: the whole entry (the safe side), ``_meta`` aside everywhere;
- an elicitation or sampling answer's other fields too (only ``action``, ``role``, ``model``,
  ``stopReason`` are protocol): the kind is read from fields the client chose, and an upstream
  reads an entry as the answer to what it asked (red team: ``action`` beside ``roots`` hid them).

A leaf is a destination when its field is named like one (:data:`DESTINATION_NAMES`, as arguments
are read without a declaration) or when its value is one whole: an IBAN (checksum right), e-mail
addresses, or a URL or host with a scheme; its origin then counts in ``destination_untrusted``,
``external_destination_*`` and the rest of ``context.provenance``, exactly as an argument's would.
The merged :class:`~proctor.flow.model.Provenance` names these paths in the decision record and on
the approval page (names and origins, never values); their domains join ``context.destinations``.

Malformed answers (not an object of objects, keys that are not strings, too deep, too many leaves,
NaN, too large) raise :class:`~proctor.errors.ValidationError`: the pipeline denies the call.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from proctor.errors import ValidationError
from proctor.flow.model import Provenance
from proctor.flow.provenance import (
    DESTINATION_NAMES,
    LONG_TEXT,
    SourceIndex,
    _all_addresses,
    _domains_of,
    _name_matches,
    _not_a_place,
    destination_domains,
    ibans,
    leaf_values,
)
from proctor.store.base import ToolRecord

__all__ = [
    "MAX_RESPONSE_LEAVES",
    "PREFIX",
    "merge_provenance",
    "response_destinations",
    "response_values",
    "trace_responses",
    "with_answers",
]

#: the top of every traced path: ``inputResponses.<key>.content.<field>``
PREFIX = "inputResponses"
#: the most entries, bytes (compact JSON), nesting levels and leaves an ``inputResponses`` may have
#: to be traced; beyond any, the call is denied (the gateway refuses more before, mrtr.py)
MAX_RESPONSES = 32
MAX_RESPONSE_BYTES = 256 * 1024
MAX_RESPONSE_DEPTH = 32
MAX_RESPONSE_LEAVES = 4096
#: the keys of a sampling answer's content block that are protocol, not the model's words
_BLOCK_SCAFFOLD = frozenset({"type", "mimeType", "annotations", "_meta", "data"})
#: the fields of an elicitation or sampling answer that are protocol, not values (never traced)
_PROTOCOL = frozenset({"action", "role", "model", "stopReason", "_meta"})
_SQUASH = re.compile(r"[\s-]+")


def _check(responses: Any) -> Mapping[str, Any]:
    if not isinstance(responses, Mapping):
        raise ValidationError("inputResponses must be an object")
    if len(responses) > MAX_RESPONSES:
        raise ValidationError(f"inputResponses has more than {MAX_RESPONSES} entries")
    for key, entry in responses.items():
        if not isinstance(key, str):
            raise ValidationError("inputResponses keys must be strings")
        if not isinstance(entry, Mapping):
            raise ValidationError("each inputResponses entry must be an object")
    try:
        text = json.dumps(responses, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        raise ValidationError("inputResponses is not JSON that can be traced") from None
    if size > MAX_RESPONSE_BYTES:
        raise ValidationError(f"inputResponses is {size} bytes; the limit is {MAX_RESPONSE_BYTES}")
    leaves = 0
    stack: list[tuple[Any, int]] = [(responses, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_RESPONSE_DEPTH:
            raise ValidationError(f"inputResponses is nested deeper than {MAX_RESPONSE_DEPTH} levels")
        if isinstance(value, Mapping):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1) for v in value)
        else:
            leaves += 1
            if leaves > MAX_RESPONSE_LEAVES:
                raise ValidationError(f"inputResponses has more than {MAX_RESPONSE_LEAVES} values")
    return responses


def with_answers(args: Mapping[str, Any], responses: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The arguments an approval of a retry is filed and redeemed for: the call's arguments and a
    digest of its answers (``inputResponses: "sha256:…"``; ``inputResponses#answers`` when an
    argument has that name), so a grant given for a retry that answered one thing never runs a
    retry that answers another. ``args`` itself when there are no answers."""
    if not responses:
        return args
    raw = json.dumps(responses, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    key = PREFIX if PREFIX not in args else PREFIX + "#answers"
    return {**args, key: digest}


def _block(block: Any) -> Any:
    if isinstance(block, Mapping):
        return {k: v for k, v in block.items() if k not in _BLOCK_SCAFFOLD}
    return block


def _entry_values(entry: Mapping[str, Any]) -> Any:
    """What of one answer is traced (see the module's docstring). Which kind an answer is comes
    from its fields, which the client chose: every field but the protocol's own is traced, so that
    an ``action`` or ``role`` added to another answer (the lean path sends the entry upstream as
    written, and the upstream reads it as the answer to what it asked) hides none of its fields."""
    elicited = "action" in entry
    sampled = "role" in entry or "model" in entry or "stopReason" in entry
    if elicited or sampled:
        out: dict[str, Any] = {}
        for k, v in entry.items():
            if k in _PROTOCOL or v is None:
                continue
            if k == "content" and sampled and not elicited:
                # a sampling answer's blocks, without their scaffolding (an elicitation's content
                # is the person's fields: none of it is scaffolding)
                out[k] = [_block(b) for b in v] if isinstance(v, list | tuple) else _block(v)
            else:
                out[k] = v
        return out or None
    if "roots" in entry and len(entry) <= 2 and set(entry) <= {"roots", "_meta"}:
        return {"roots": entry["roots"]}
    return {k: v for k, v in entry.items() if k != "_meta"}


def response_values(responses: Any) -> dict[str, Any]:
    """``{"inputResponses": {key: traced values}}``: the values of a retry's answers that are
    traced, as an argument mapping (empty when there are none). Raises ValidationError for
    malformed answers."""
    checked = _check(responses)
    out: dict[str, Any] = {}
    for key in sorted(checked):
        got = _entry_values(checked[key])
        if got:
            out[key] = got
    return {PREFIX: out} if out else {}


def _whole_destination(value: str) -> bool:
    """``value`` is one destination whole: an IBAN, e-mail addresses, a URL or a host with a scheme."""
    stripped = value.strip()
    if not stripped or len(stripped) > LONG_TEXT:
        return False
    squashed = _SQUASH.sub("", stripped).upper()
    if 15 <= len(squashed) <= 34 and squashed in ibans(stripped):
        return True
    if "@" in stripped and _all_addresses(stripped):
        return True
    return (":" in stripped or stripped.startswith("//")) and bool(_domains_of(stripped, bare=False))


def response_destinations(values: Mapping[str, Any]) -> frozenset[str]:
    """The paths of :func:`response_values` that decide where data or money goes: a field named
    like a destination, or a value that is one whole (see :func:`_whole_destination`)."""
    found: set[str] = set()
    for path, value in leaf_values(values):
        field = path.rsplit(".", 1)[-1]
        while field.endswith("[]"):
            field = field[:-2]
        if _not_a_place(value):
            continue
        if (field and _name_matches(field, DESTINATION_NAMES)) or (
            isinstance(value, str) and _whole_destination(value)
        ):
            found.add(path)
    return frozenset(found)


def trace_responses(
    index: SourceIndex, tool: ToolRecord, responses: Any
) -> tuple[Provenance, tuple[str, ...]]:
    """The provenance of a retry's answers (paths under :data:`PREFIX`) and their destinations'
    domains, for a call of ``tool`` whose effect is not ``read`` (else nothing is traced, as for
    arguments). Raises ValidationError for malformed answers (fail closed)."""
    values = response_values(responses)
    if tool.effect == "read" or not values:
        return Provenance(), ()
    dests = response_destinations(values)
    # the answers are traced as a tool without declared destinations reads its arguments: the
    # tool's declaration names its arguments, not the fields an upstream asks for
    plain = _undeclared(tool)
    return index.trace(plain, values, dests), destination_domains(plain, values, dests)


def _undeclared(tool: ToolRecord) -> ToolRecord:
    import dataclasses

    if not tool.destinations and not tool.input_schema:
        return tool
    return dataclasses.replace(tool, destinations=(), input_schema=None)


def _named(p: Provenance) -> tuple[str, ...]:
    """The destination paths ``destinations_from_intent`` reads of one side (``Provenance.parties``
    empty: every destination), so that merging never narrows what either side counts."""
    return p.parties or tuple(x.path for x in p.args if x.destination)


def merge_provenance(a: Provenance, b: Provenance) -> Provenance:
    """One call's provenance over its arguments (``a``) and its retry's answers (``b``)."""
    if not b.checked:
        return a
    return Provenance(
        checked=True,
        args=tuple(sorted((*a.args, *b.args), key=lambda x: x.path)),
        embedded_domains=tuple(sorted({*a.embedded_domains, *b.embedded_domains})),
        linked_domains=tuple(sorted({*a.linked_domains, *b.linked_domains})),
        off_param=tuple(sorted({*a.off_param, *b.off_param})),
        parties=tuple(sorted({*_named(a), *_named(b)})),
        carries_confidential=a.carries_confidential or b.carries_confidential,
        carries_secret=a.carries_secret or b.carries_secret,
        payment_requested=a.payment_requested,
        unrequested_trivial=a.unrequested_trivial or b.unrequested_trivial,
        objects=tuple(sorted({*a.objects, *b.objects})),
        steered=tuple(sorted({*a.steered, *b.steered})),
        by_reference=a.by_reference,
        # an answer's destinations are not read as replies to a sender
        to_sender=a.to_sender if not b.args else (),
        sender_carries_confidential=a.sender_carries_confidential,
        known_lookalikes=tuple(sorted({*a.known_lookalikes, *b.known_lookalikes})),
        named_domains=tuple(sorted({*a.named_domains, *b.named_domains})),
        amounts=tuple(sorted({*a.amounts, *b.amounts})),
        amounts_stated=tuple(sorted({*a.amounts_stated, *b.amounts_stated})),
        amount_off_record=a.amount_off_record or b.amount_off_record,
    )
