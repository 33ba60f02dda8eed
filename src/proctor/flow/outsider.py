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
  not a label that names staff (``internal``, ``staff``, ``(by account manager)``), nor a
  party's *notes* with no channel or sender (``Customer notes:``, ``Patient notes:``: what staff
  wrote about them; ``Applicant notes``, ``Notes from the customer``, ``Customer note`` are the
  party's), nor an account *statement* (``Vendor statement balance:``); a label may
  be in markup (``**Customer note:**``, ``<b>…</b>``, ``| Customer note | … |``), camelCase,
  German, French, Spanish, Portuguese, Italian or Dutch. Lines end as ``str.splitlines`` ends
  them (CRLF, CR, U+2028, U+0085). The field runs on over the lines indented under it (or, at
  the label's own indent, lines that are no new ``Label:``), to a blank line followed by less
  indented text. An output with more than 500 hinted lines, or fields of more than 2,000 lines,
  is the outsiders' from there on (all of it past 3,000 hints): the cost stays bounded;
- in a JSON output, the string values under such a key (``customer_note``, ``portal_messages``,
  ``{"customer": {"note": …}}``), the other strings of an object whose ``author``/``from``/
  ``created_by``/``role``… (a string or an object) is an outside author or whose ``label``/
  ``name`` is such a label, and the outsider fields of a record's text in a string value.

Red team 11 (2026-12-06) added CR/U+2028 line ends, markup, other languages, staff labels, nested
JSON shapes, text in JSON strings, the bounds in place of the 60-line cap (which let line 61 on be
trusted) and the read of a JSON output nested past the parser's depth (it raised).

Quotations in a trusted record's text are the outsider's words too (:func:`_split_quotes`;
blind set 6); red team 12 (2026-12-06) made nothing typed inside a quotation end it early (a
closing mark after a digit, a lone mark on a typed line, a ``"key":`` shape, a whole line read as
a CSV cell) and read each line's marks once.

Nothing else changes: the task's labels (what it has read) are the output's labels as before.
"""

from __future__ import annotations

import bisect
import csv
import functools
import json
import re
from typing import Any

__all__ = ["split_outsider"]

#: kinds of free text a field holds (a few other languages' words too: ``Nota del cliente``).
#: Not "statement": a vendor's or a patient's statement is most often an account statement
#: (``Vendor statement balance: 42,318.07``), which the record itself issues
_TEXT_WORDS = frozenset(
    {
        "note", "notes", "comment", "comments", "message", "messages", "remark", "remarks",
        "request", "requests", "instruction", "instructions", "feedback", "review", "reviews",
        "reply", "replies", "question", "questions", "correspondence", "wrote", "writes", "says",
        "said", "asked", "asks", "complaint", "complaints", "enquiry",
        "enquiries", "inquiry", "inquiries", "query", "queries", "submission", "submissions",
        "response", "responses", "answer", "answers", "explanation", "chat", "text",
        # de, fr, es, pt, it, nl
        "nachricht", "nachrichten", "notiz", "notizen", "anmerkung", "anmerkungen", "kommentar",
        "kommentare", "bemerkung", "bemerkungen", "mitteilung", "anfrage", "anliegen", "remarque",
        "remarques", "commentaire", "commentaires", "demande", "nota", "notas", "mensaje",
        "mensajes", "comentario", "comentarios", "observaciones", "solicitud", "mensagem",
        "mensagens", "comentário", "comentários", "pedido", "messaggio", "messaggi", "commento",
        "commenti", "richiesta", "opmerking", "opmerkingen", "bericht", "berichten", "vraag",
    }
)  # fmt: skip

#: who wrote it, or where it came in from
_OUTSIDE_WORDS = frozenset(
    {
        "customer", "customers", "client", "clients", "guest", "guests", "applicant",
        "applicants", "requester", "requestor", "submitter", "submitted", "patient", "caller",
        "tenant", "tenants", "resident", "vendor", "supplier", "contractor", "public", "portal",
        "web", "webform", "form", "cfp", "external", "policyholder", "claimant", "insured",
        "candidate", "buyer", "seller", "passenger", "traveller", "traveler", "donor", "citizen",
        "visitor", "speaker", "attendee", "reporter", "complainant", "homeowner", "user",
        "member", "student", "parent", "referring", "referrer", "sender",
        # de, fr, es, pt, it, nl
        "kunde", "kunden", "kundin", "mieter", "gast", "antragsteller", "bewerber", "patienten",
        "lieferant", "lieferanten", "besucher", "cliente", "clientes", "clienti",
        "locataire", "fournisseur", "demandeur", "candidat", "huésped", "inquilino", "paciente",
        "proveedor", "solicitante", "hóspede", "ospite", "fornitore", "klant", "klanten",
        "huurder", "leverancier", "aanvrager",
    }
)  # fmt: skip

#: the organisation's own people or a field kept for them: a label that says so is the
#: record's, even when it names a customer (``Customer notes (internal, by account manager):``)
_INSIDE_WORDS = frozenset(
    {"internal", "staff", "employee", "employees", "intern", "interne", "interner", "internes", "interno"}
)
#: who wrote it, named in a label's parentheses: staff (``(by account manager)``)
_INSIDE_AUTHORS = frozenset(
    {"manager", "agent", "handler", "adjuster", "officer", "advisor", "adviser", "underwriter", "team", "us"}
)
#: words that say a party's *notes* came in from the party (a channel, a submitter, "from")
_SUBMITTED_WORDS = frozenset(
    {
        "portal", "web", "webform", "form", "cfp", "submitted", "submitter", "external", "public",
        "applicant", "applicants", "requester", "requestor", "caller", "complainant", "reporter",
        "claimant", "from",
    }
)  # fmt: skip
#: the heads of German compounds (``Kundennachricht``, ``Mieteranfrage``)
_OUTSIDE_STEMS = (
    "kunden",
    "kundin",
    "mieter",
    "gast",
    "antragsteller",
    "bewerber",
    "patienten",
    "lieferanten",
)

#: markup around a label: a bullet, a quote, a heading, a table's bar, bold, an HTML tag
_MARK_OPEN = r"(?:(?:[-*+\u2022>#|]|\*\*|__|<[A-Za-z][^<>\n]{0,40}>)[ \t]*){0,6}"
_MARK_CLOSE = r"(?:\*\*|__|\*|</[A-Za-z][^<>\n]{0,20}>){0,4}"
#: the label of a line (``  Portal messages:``, ``- Customer note: …``, ``12/01 21:14 (customer):``: a
#: time's colons are part of it; ``**Customer note:**``, ``<b>Customer note:</b>``, ``| Customer
#: note | …``)
_LABEL = re.compile(
    r"[ \t]*" + _MARK_OPEN + r"((?:[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?|[^\n:\uff1a|<>*]){1,80}?)"
    r"[ \t]*" + _MARK_CLOSE + r"[ \t]*[:\uff1a|]" + _MARK_CLOSE
)
#: where a label that could be an outsider's can be: a kind of text, or a ``(who):`` (looked up
#: with ``str.find``, one word at a time: faster than one pattern of them all)
_HINTS = (
    "note", "nota", "omment", "coment", "messag", "mensa", "nachricht", "remar", "merk", "reques",
    "anfrage", "demande", "instruct", "feedback", "review", "repl", "question", "wrote", "writes",
    "says", "said", "asked", "asks", "complain", "enquir", "inquir", "quer",
    "respon", "answer", "chat", "text", "):", ")|", ")\uff1a",
)  # fmt: skip
#: a new field at the start of a line (``Handler: Priya``, ``| Status | open |``), which ends a
#: field's text
_NEW_FIELD = re.compile(
    r"[ \t]*" + _MARK_OPEN + r"[^\W\d_][\w /()'.-]{0,40}?[ \t]*" + _MARK_CLOSE + r"[ \t]*[:\uff1a|]"
)
_WORD = re.compile(r"[^\W\d_]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_PAREN_WHO = re.compile(r"\(([^\W\d_][^()\n]{0,40})\)")
_DIGIT = re.compile(r"[0-9]")
#: keys of a JSON object that say who wrote it (``author``, ``created_by``, ``authorRole``)
_AUTHOR_WORDS = frozenset(
    {"author", "from", "sender", "role", "by", "source", "origin", "channel", "poster", "writer", "creator"}
)
#: keys of a JSON object that name a field (``{"label": "Customer note", "value": …}``)
_NAME_KEYS = frozenset({"name", "label", "key", "field", "title", "question", "type"})
#: line ends (``str.splitlines``: CRLF, CR, U+2028, U+0085…)
_ENDS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
#: outputs longer than this are not split (their whole text stays as the registry labels it)
_MAX_TEXT = 1 << 20
#: at most this many lines with a hint are read in one output, and this many lines of its fields:
#: the text after is the outsiders' (an output crafted with a label on every line, or one field
#: of 100,000 lines, costs no more than this)
_MAX_CHECKS = 500
_MAX_HINTS = 3000
_MAX_FIELD_LINES = 2000


@functools.lru_cache(maxsize=8192)
def _words(label: str) -> frozenset[str]:
    words = set(_WORD.findall(_CAMEL.sub(r"\1 \2", label).lower().replace("_", " ")))
    for w in tuple(words):
        for stem in _OUTSIDE_STEMS:
            if w.startswith(stem) and len(w) > len(stem) + 2:
                words.update((stem, w[len(stem) :]))
    return frozenset(words)


@functools.lru_cache(maxsize=4096)
def _is_outside_label(label: str) -> bool:
    words = _words(label)
    if words & _INSIDE_WORDS:
        return False
    m = _PAREN_WHO.search(label.lower())
    if m is not None:
        who = _words(m.group(1))
        if who & _INSIDE_AUTHORS and not who & _OUTSIDE_WORDS:
            return False  # ``(by account manager)``: staff wrote it
        if _OUTSIDE_WORDS.intersection(who) and (
            _DIGIT.search(label, 0, m.start()) is not None or words & _TEXT_WORDS
        ):
            # a message's header: when, and who wrote it (``12/01 21:14 (customer):``); not a
            # field's note on itself (``Applicant (entered by applicant):``, ``Contacts (may
            # receive candidate data):``)
            return True
    return _names_outsider_text(words)


def _names_outsider_text(words: frozenset[str]) -> bool:
    """The words of a label or of a JSON key path name a kind of free text an outside party
    wrote: no staff word, a text word and an outside word."""
    if words & _INSIDE_WORDS:
        return False
    text = words & _TEXT_WORDS
    if not text or not words & _OUTSIDE_WORDS:
        return False
    # ``Customer notes:``, ``Patient notes:``: how a CRM or a chart titles what its staff wrote
    # about someone; a note the party itself wrote says where it came in or who sent it
    # (``Applicant notes``, ``Notes from the customer``, ``Web order notes``) or is singular
    # (``Customer note``, the checkout note)
    return not (text == {"notes"} and not words & _SUBMITTED_WORDS)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _split_lines(text: str) -> tuple[str, str]:
    low = text.lower()
    ends = text.splitlines(keepends=True)
    offsets: list[int] = []
    at = 0
    for x in ends:
        offsets.append(at)
        at += len(x)
    # the lines with a hint in their first 100 characters (most outputs have none), not every
    # line; past a budget of them, all of the output is the outsiders' (a hint not looked for
    # yet may be in any line)
    hinted: set[int] = set()
    steps = 0
    for word in _HINTS:
        at = low.find(word)
        while at >= 0:
            i = bisect.bisect_right(offsets, at) - 1
            if at - offsets[i] <= 100:
                hinted.add(i)
            at = low.find(word, offsets[i] + len(ends[i]))
            steps += 1
            if steps > _MAX_HINTS:
                return "", text
    if not hinted:
        return text, ""
    lines = [x.rstrip(_ENDS) for x in ends]
    n = len(lines)
    order = sorted(hinted)
    cutoff = n  # the lines from here on are the outsiders' (past the budget)
    if len(order) > _MAX_CHECKS:
        cutoff = order[_MAX_CHECKS]
        order = order[:_MAX_CHECKS]
    starts: list[tuple[int, int]] = []  # (line, end of its label) of each outsider's field
    for i in order:
        m = _LABEL.match(lines[i])
        if m is not None and _is_outside_label(m.group(1)):
            starts.append((i, m.end()))
    if not starts and cutoff >= n:
        return text, ""
    keep: list[str] = []
    out: list[str] = []
    pos = 0  # the first line not yet placed
    budget = _MAX_FIELD_LINES
    for s, end in starts:
        if s < pos:
            continue  # inside the field before
        keep.extend(lines[pos:s])
        line = lines[s]
        # the label stays with the record (it names the field); its text goes to the outsider part
        keep.append(line[:end])
        out.append(line[end:])
        base = _indent(line)
        i = s + 1
        while i < n and budget > 0:
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
            budget -= 1
        pos = i
        if budget <= 0:
            cutoff = min(cutoff, pos)
            break
    if pos < cutoff:
        keep.extend(lines[pos:cutoff])
    out.extend(lines[max(pos, cutoff) :])
    if not any(out):
        return text, ""
    return "\n".join(keep), "\n".join(out)


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


def _author_words(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return _words(value[:200])
    if isinstance(value, dict):  # ``"author": {"type": "customer", "name": "Ada"}``
        return frozenset().union(*(_words(v[:200]) for v in value.values() if isinstance(v, str)))
    return frozenset()


def _split_json(value: Any, out: list[str], depth: int = 0, path: frozenset[str] = frozenset()) -> Any:
    """``path``: the words of the keys above ``value`` (``{"customer": {"note": …}}``)."""
    if depth > 64:
        return _strings(value, out) if path else value
    if isinstance(value, str):
        # a record's text in a string (``{"text": "Ref: …"}``), and its quotations
        split = _split_lines(value) if ":" in value or "|" in value else (value, "")
        rest, outside = _with_quotes(split)
        if outside:
            out.append(outside)
            return rest
        return value
    if isinstance(value, dict):
        keys = {k: _words(k[:200]) for k in value if isinstance(k, str)}
        by = [k for k, w in keys.items() if w & _AUTHOR_WORDS and not w & _TEXT_WORDS]
        named = [
            k
            for k in keys
            if k.lower() in _NAME_KEYS and isinstance(value[k], str) and _is_outside_label(value[k][:200])
        ]
        outsider = any(
            _OUTSIDE_WORDS.intersection(_author_words(value[k]))
            and not _INSIDE_WORDS.intersection(_author_words(value[k]))
            for k in by
        )
        if outsider or named:
            kept = set(by) | set(named)
            return {k: (v if k in kept else _strings(v, out)) for k, v in value.items()}
        result: dict[Any, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                result[k] = _split_json(v, out, depth + 1, path)
                continue
            words = path | keys[k]
            if _names_outsider_text(words):
                result[k] = _strings(v, out)
            else:
                result[k] = _split_json(v, out, depth + 1, words)
        return result
    if isinstance(value, list):
        return [_split_json(v, out, depth + 1, path) for v in value]
    return value


#: a line that opens a block of JSON or code (``{"id": 7, …}``, ``[``): its quotes are syntax
_CODE_OPEN = re.compile(r"[ \t]*[{\[]")
#: a JSON member's line (``  "note": "…",``): code only inside a block (see :func:`_is_code`)
_CODE_KEY = re.compile(r'[ \t]*"[^"\n]{0,80}"[ \t]*:')
#: what sits around a field of a CSV or TSV row (``,"Industrieweg 21, Waalwijk",``)
_CELL_EDGE = ",;\t"
#: two cells of a row, side by side (``"7","Lakeshore Cycles"``)
_CELLS = re.compile('"[ \t]*[,;\t][ \t]*"')
#: a quotation holds this many words at least (``"Annual Flex"``, a product's name, is none)
_QUOTE_WORDS = 4
#: ... unless it holds what a destination is written with: a number, an ``@``, a URL
_PLACE_SIGN = re.compile(r"[0-9@]|://")
#: a quotation runs over this many lines at most, looking for its closing mark
_QUOTE_LINES = 50
_MAX_QUOTES = 500


#: a quotation mark that opens, not an inch mark (``3/4" agg``, ``5'10"``: a straight quote after
#: a digit or an apostrophe opens nothing)
_OPEN_MARK = re.compile("(?<![0-9'])\"|[\u201c\u201e\u00ab]")
#: a mark that closes an open quotation: any straight quote (red team 12: ``… is 555-0191"``, the
#: record's own closing mark after the number's last digit, is no inch mark), ``”``, ``»`` and
#: the ``“`` that closes a German ``„…“``
_CLOSE_MARK = re.compile('["\u201c\u201d\u00bb]')


#: the marks each pattern matches, for the ``str.find`` searches of :func:`_first` and :func:`_last`
#: (sre tries ``_OPEN_MARK``'s look-behind at every position: ~60 ns a character, 0.1 ms for a
#: 2 KB output with no quotation mark at all)
_OPENERS = ("\u201c", "\u201e", "\u00ab")
_CLOSERS = ('"', "\u201c", "\u201d", "\u00bb")
#: a straight quote right after one of these opens nothing (the look-behind of ``_OPEN_MARK``)
_INCH_BEFORE = "0123456789'"


def _first(line: str, marks: re.Pattern[str]) -> int:
    """The start of the first match of ``marks`` in ``line`` (-1: none); ``_OPEN_MARK`` and
    ``_CLOSE_MARK`` are found with ``str.find`` (the same positions)."""
    if marks is _OPEN_MARK:
        best = len(line)
        for mark in _OPENERS:
            at = line.find(mark, 0, best)
            if at >= 0:
                best = at
        at = line.find('"', 0, best)
        while at >= 0:
            if at == 0 or line[at - 1] not in _INCH_BEFORE:
                return at
            at = line.find('"', at + 1, best)
        return -1 if best == len(line) else best
    if marks is _CLOSE_MARK:
        found = [at for mark in _CLOSERS if (at := line.find(mark)) >= 0]
        return min(found) if found else -1
    m = marks.search(line)
    return -1 if m is None else m.start()


def _last(line: str, marks: re.Pattern[str]) -> int:
    """The start of the last match of ``marks`` in ``line`` (-1: none); ``_CLOSE_MARK`` (single
    characters, so matches never overlap) with ``str.rfind``."""
    if marks is _CLOSE_MARK:
        return max(line.rfind(mark) for mark in _CLOSERS)
    at = -1
    for m in marks.finditer(line):
        at = m.start()
    return at


def _is_code(lines: list[str], i: int, first: int) -> bool:
    """Line ``i`` is JSON or code: it opens a block (``{``, ``[``, also after a label: ``config
    {"ship_to": …}``), or it is a ``"key": …`` member right after a line that opens a block or
    ends a member (``{``, ``[``, ``,``). A lone ``"Hi": "…"`` line, as a customer can type it at
    the start of a quotation, is no code (red team 12)."""
    line = lines[i]
    if _CODE_OPEN.match(line) is not None or line[:first].rstrip()[-1:] in ("{", "["):
        return True
    if _CODE_KEY.match(line) is None:
        return False
    for k in range(i - 1, max(-1, i - 4), -1):
        prev = lines[k].rstrip()
        if prev:
            return prev[-1] in "{[,"
    return False


def _csv_cells(line: str) -> int:
    try:
        return len(next(csv.reader([line]), []))
    except csv.Error:  # a NUL, a cell past the module's size limit: no row
        return 0


def _is_row(lines: list[str], i: int) -> bool:
    """Line ``i``, quoted from its start to its end, is a CSV row: it holds cells side by side
    (``"7","Lakeshore Cycles","…"``) and a line next to it has as many cells (its header, another
    row). A whole line in quotes alone is a quotation (red team 12: it was read as a cell)."""
    line = lines[i]
    if _CELLS.search(line) is None:
        return False
    cells = _csv_cells(line)
    return cells > 1 and any(0 <= k < len(lines) and _csv_cells(lines[k]) == cells for k in (i - 1, i + 1))


def _split_quotes(text: str) -> tuple[str, str]:
    """[blind-6] The quotations in a trusted record's text (what a customer wrote in an online
    check-in, what a caller said, as the record reports it): the record vouches that they were
    said, not for what they say, so a value found only inside one (a "new cell number", an
    address) is an outsider's. A quotation runs from the first opening mark of a line to the last
    closing mark of that line (quote marks the outsider typed inside it do not end it), or, open
    at the end of its line, to the last closing mark of the next 50 lines (never closed: no
    quotation). A straight quote after a digit opens nothing: it is an inch mark (``3/4" agg``);
    it does close a quotation open before it. Not a quotation: the quotes of a line of JSON or
    code (:func:`_is_code`), a CSV row's cells (quotes between separators, :func:`_is_row`), a
    few words with no number, ``@`` or URL in them (a product's or a document's name), a quoted
    value right after ``=`` (an HTML attribute, logfmt, a keyword argument). Past 500
    quotations, the rest of the text is the outsiders'.

    Red team 12: the outsider writes the words inside the quotation, its marks included, so
    nothing they type may end it: the record's own closing mark after a digit (``… 555-0191"``)
    or an apostrophe closes it; a quotation over lines ends at the *last* closing mark of its
    window, not at a lone ``"`` the outsider typed on a line of its own; a short quotation with a
    number in it (``"New cell +1 773 555 0191"``) is no name. The closing marks of each line are
    looked for once (a line opening a quotation never closed made each look over the next 50)."""
    if _first(text, _OPEN_MARK) < 0:
        return text, ""
    lines = text.split("\n")
    n = len(lines)
    # the lines with a closing mark, in order (each line read once)
    closing = [k for k, x in enumerate(lines) if _first(x, _CLOSE_MARK) >= 0]
    keep: list[str] = []
    out: list[str] = []
    seen = 0
    i = 0
    while i < n:
        line = lines[i]
        first = _first(line, _OPEN_MARK)
        if first < 0 or _is_code(lines, i, first):
            keep.append(line)
            i += 1
            continue
        last = _last(line, _CLOSE_MARK)
        if last > first:
            j, body, tail = i, line[first + 1 : last], line[last:]
        else:
            # the last line with a closing mark in the window
            at = bisect.bisect_right(closing, min(n - 1, i + _QUOTE_LINES)) - 1
            j = closing[at] if at >= 0 and closing[at] > i else -1
            if j < 0:  # never closed: a stray mark, no quotation
                keep.append(line)
                i += 1
                continue
            close = _last(lines[j], _CLOSE_MARK)
            body = "\n".join([line[first + 1 :], *lines[i + 1 : j], lines[j][:close]])
            tail = lines[j][close:]
        before = line[first - 1] if first > 0 else ""
        after = tail[1:2]
        if before == "=":  # a value's syntax (``href="…"``, ``to="…"``), as a JSON member's is
            syntax = True
        elif before or after:
            syntax = (not before or before in _CELL_EDGE) and (not after or after in _CELL_EDGE)
        else:
            syntax = j == i and _is_row(lines, i)
        if syntax or (len(_WORD.findall(body)) < _QUOTE_WORDS and _PLACE_SIGN.search(body) is None):
            keep.append(line)
            i += 1
            continue
        seen += 1
        if seen > _MAX_QUOTES:
            out.append("\n".join(lines[i:]))
            break
        keep.append(line[: first + 1] + tail)
        out.append(body)
        i = j + 1
    if not out:
        return text, ""
    return "\n".join(keep), "\n".join(out)


def _with_quotes(split: tuple[str, str]) -> tuple[str, str]:
    """``split`` (record, outsiders' fields) with the record's quotations moved to the second."""
    record, outside = split
    rest, quoted = _split_quotes(record)
    if not quoted:
        return split
    return rest, f"{outside}\n{quoted}" if outside else quoted


def split_outsider(text: str) -> tuple[str, str]:
    """``(the record, what outsiders wrote in it)`` (see the module docstring); ``(text, "")``
    when no part of ``text`` is an outsider's."""
    if not text or len(text) > _MAX_TEXT:
        return text, ""
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            doc = None
        if isinstance(doc, dict | list):
            out: list[str] = []
            try:
                rest = _split_json(doc, out)
            except RecursionError:
                return _with_quotes(_split_lines(text))
            if not out:
                return text, ""
            return json.dumps(rest, ensure_ascii=False), "\n".join(out)
    if ":" not in text and "|" not in text and "\uff1a" not in text:
        return _with_quotes((text, ""))
    return _with_quotes(_split_lines(text))
