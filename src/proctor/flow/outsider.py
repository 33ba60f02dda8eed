"""The parts of a trusted record that someone outside wrote: a customer's portal message in a
claim, the notes a speaker typed into a CFP form, an applicant's comment on a permit.

The registry says a tool is trusted because the system behind it is the organisation's own; a
field of one of its records may still hold text an outsider typed in (docs/adr/0025, amendment
"Outsider fields", 2026-12-06). A value found only there (an address "to add to every visit
invitation", a travel agent's mailbox) was chosen by that outsider, not by the system, so
:class:`proctor.flow.provenance.SourceIndex` indexes such a part as an untrusted source of its
own and the rest of the output as trusted. A value the trusted part holds too (the customer's
address in the record's ``Contact:`` line) stays trusted.

What counts as such a part (:func:`split_outsider`):

- a labelled field of text whose label names both a kind of free text (note, comment, message,
  remark, request, instructions, feedback, review, reply, question) and an outside author or
  channel (customer, client, guest, applicant, requester, patient, tenant, vendor, contractor,
  claimant, policyholder, candidate, public, portal, web form, CFP form, "submitted"): ``Portal
  messages:``, ``Notes submitted with the CFP form:``, ``Applicant notes:``, ``Customer wrote:``;
  or a line whose label carries an outside author in parentheses (``12/01 21:14 (customer):``);
  the field runs on over the lines indented under it (or, at the label's own indent, lines that
  are no new ``Label:``), to a blank line followed by less indented text, or 60 lines;
- in a JSON output, the string values under such a key (``customer_note``, ``portal_messages``)
  and the other strings of an object whose ``author``/``from``/``role`` is an outside author.

Nothing else changes: the task's labels (what it has read) are the output's labels as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["split_outsider"]

#: kinds of free text a field holds
_TEXT_WORDS = frozenset(
    {
        "note",
        "notes",
        "comment",
        "comments",
        "message",
        "messages",
        "remark",
        "remarks",
        "request",
        "requests",
        "instruction",
        "instructions",
        "feedback",
        "review",
        "reviews",
        "reply",
        "replies",
        "question",
        "questions",
        "correspondence",
        "wrote",
        "writes",
        "says",
        "said",
        "asked",
        "asks",
    }
)

#: who wrote it, or where it came in from
_OUTSIDE_WORDS = frozenset(
    {
        "customer",
        "customers",
        "client",
        "clients",
        "guest",
        "guests",
        "applicant",
        "applicants",
        "requester",
        "requestor",
        "submitter",
        "submitted",
        "patient",
        "caller",
        "tenant",
        "tenants",
        "resident",
        "vendor",
        "supplier",
        "contractor",
        "public",
        "portal",
        "web",
        "webform",
        "form",
        "cfp",
        "external",
        "policyholder",
        "claimant",
        "insured",
        "candidate",
        "buyer",
        "seller",
        "passenger",
        "traveller",
        "traveler",
        "donor",
        "citizen",
        "visitor",
        "speaker",
        "attendee",
        "reporter",
        "complainant",
        "homeowner",
        "user",
        "member",
        "student",
        "parent",
    }
)

#: the label of a line (``  Portal messages:``, ``- Customer note: …``, ``12/01 21:14 (customer):``: a
#: time's colons are part of it)
_LABEL = re.compile(
    r"[ \t]*(?:[-*\u2022][ \t]*)?((?:[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?|[^\n:]){1,80}?)[ \t]*:(?=[ \t]|$)"
)
#: a new field at the start of a line (``Handler: Priya``), which ends a field's text
#: where a label that could be an outsider's field can be: a kind of text, or a ``(who):``
_HINT = re.compile(
    r"note|comment|messag|remark|request|instruct|feedback|review|repl|question|correspond"
    r"|wrote|writes|says|said|asked|asks|\):"
)
_NEW_FIELD = re.compile(r"[ \t]*(?:[-*\u2022][ \t]*)?[A-Za-z][A-Za-z0-9 /()'_.-]{0,40}:(?:[ \t]|$)")
_WORD = re.compile(r"[a-z]+")
_PAREN_WHO = re.compile(r"\(([a-z][a-z -]{0,30})\)")
_DIGIT = re.compile(r"[0-9]")
#: keys of a JSON object that say who wrote it
_AUTHOR_KEYS = frozenset({"author", "from", "sender", "role", "by", "source", "author_role", "from_role"})
_MAX_FIELD_LINES = 60
#: outputs longer than this are not split (their whole text stays as the registry labels it)
_MAX_TEXT = 1 << 20


def _is_outside_label(label: str) -> bool:
    low = label.lower()
    words = set(_WORD.findall(low.replace("_", " ")))
    m = _PAREN_WHO.search(low)
    if (
        m is not None
        and _OUTSIDE_WORDS.intersection(_WORD.findall(m.group(1)))
        and (_DIGIT.search(low, 0, m.start()) is not None or words & _TEXT_WORDS)
    ):
        # a message's header: when, and who wrote it (``12/01 21:14 (customer):``); not a
        # field's note on itself (``Applicant (entered by applicant):``, ``Contacts (may
        # receive candidate data):``)
        return True
    return bool(words & _TEXT_WORDS) and bool(words & _OUTSIDE_WORDS)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _split_lines(text: str) -> tuple[str, str]:
    # the lines whose label could be an outsider's: found from the hints in the text (most
    # outputs have none), not by looking at every line
    low = text.lower()
    starts: set[int] = set()
    h = _HINT.search(low)
    while h is not None:
        at = h.start()
        ls = low.rfind("\n", 0, at) + 1
        le = low.find("\n", at)
        if le < 0:
            le = len(low)
        colon = low.find(":", at, le)
        # a label is what comes before a line's first colon, at most 80 characters in
        if colon >= 0 and colon - ls <= 90:
            m = _LABEL.match(text, ls, le)
            if m is not None and m.end() > at and _is_outside_label(m.group(1)):
                starts.add(ls)
        h = _HINT.search(low, le)
    if not starts:
        return text, ""
    lines = text.split("\n")
    keep: list[str] = []
    out: list[str] = []
    i = 0
    n = len(lines)
    at = 0  # offset of lines[i] in text
    offsets: list[int] = []
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    while i < n:
        line = lines[i]
        m = _LABEL.match(line) if offsets[i] in starts else None
        if m is None or not _is_outside_label(m.group(1)):
            keep.append(line)
            i += 1
            continue
        # the label stays with the record (it names the field); its text goes to the outsider part
        keep.append(line[: m.end()])
        out.append(line[m.end() :])
        base = _indent(line)
        i += 1
        taken = 0
        while i < n and taken < _MAX_FIELD_LINES:
            nxt = lines[i]
            if not nxt.strip():
                j = i + 1
                while j < n and not lines[j].strip():
                    j += 1
                if j < n and _indent(lines[j]) > base:
                    out.append(nxt)
                    i += 1
                    continue
                break
            ind = _indent(nxt)
            if ind < base or (ind == base and _NEW_FIELD.match(nxt) is not None):
                break
            out.append(nxt)
            i += 1
            taken += 1
    if not out:
        return text, ""
    return "\n".join(keep), "\n".join(out)


def _is_outside_key(key: str) -> bool:
    words = set(_WORD.findall(re.sub(r"([a-z])([A-Z])", r"\1 \2", key).lower().replace("_", " ")))
    return bool(words & _TEXT_WORDS) and bool(words & _OUTSIDE_WORDS)


def _strings(value: Any, out: list[str]) -> Any:
    """Move every string under ``value`` to ``out``; what is left (the same shape, strings empty)."""
    if isinstance(value, str):
        out.append(value)
        return ""
    if isinstance(value, dict):
        return {k: _strings(v, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, out) for v in value]
    return value


def _split_json(value: Any, out: list[str], depth: int = 0) -> Any:
    if depth > 64:
        return value
    if isinstance(value, dict):
        author = next(
            (
                v
                for k, v in value.items()
                if isinstance(k, str) and k.lower() in _AUTHOR_KEYS and isinstance(v, str)
            ),
            None,
        )
        if author is not None and _OUTSIDE_WORDS.intersection(_WORD.findall(author.lower())):
            return {
                k: (v if k.lower() in _AUTHOR_KEYS else _strings(v, out))
                for k, v in value.items()
                if isinstance(k, str)
            }
        return {
            k: (
                _strings(v, out)
                if isinstance(k, str) and _is_outside_key(k)
                else _split_json(v, out, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_split_json(v, out, depth + 1) for v in value]
    return value


def split_outsider(text: str) -> tuple[str, str]:
    """``(the record, what outsiders wrote in it)`` (see the module docstring); ``(text, "")``
    when no part of ``text`` is an outsider's."""
    if not text or len(text) > _MAX_TEXT:
        return text, ""
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict | list):
            out: list[str] = []
            rest = _split_json(doc, out)
            if not out:
                return text, ""
            return json.dumps(rest, ensure_ascii=False), "\n".join(out)
    if ":" not in text:
        return text, ""
    return _split_lines(text)
