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
  them (CRLF, CR, U+2028, U+0085). The field runs to the end of the text: what an outsider types
  after a newline (``Billing contact: ap@…``, indented or not) cannot be told from the record's
  own next field (red team 15; until then the field ended at the next ``Label:`` line). An
  output with more than 500 hinted lines is the outsiders' from the 501st on (all of it past
  3,000 hints): the cost stays bounded;
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

from proctor.flow.model import is_internal

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
        "response", "responses", "answer", "answers", "explanation", "chat", "text", "description",
        "descriptions",
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
        "member", "student", "parent", "referring", "referrer", "sender", "senders", "referral", "lead",
        "referred", "remitter", "shipper", "consignor",
        # de, fr, es, pt, it, nl
        "kunde", "kunden", "kundin", "mieter", "gast", "antragsteller", "bewerber", "patienten",
        "lieferant", "lieferanten", "besucher", "cliente", "clientes", "clienti",
        "locataire", "fournisseur", "demandeur", "candidat", "huésped", "inquilino", "paciente",
        "proveedor", "solicitante", "hóspede", "ospite", "fornitore", "klant", "klanten",
        "huurder", "leverancier", "aanvrager", "absender", "absenders", "exp\u00e9diteur",
        "remitente", "remetente", "mittente", "afzender",
    }
)  # fmt: skip
#: who wrote it, as a label's parentheses say it (``(entered by third party)``, ``(entered by the
#: referral source)``): words too common elsewhere to name an author on their own
_PAREN_OUTSIDE = frozenset({"third", "party", "source", "partner", "outside"})
#: a word before an outside party that makes it the addressee or the subject, not the author
#: (``Reply to sender:``, ``Message to referring office:``, ``Note about sender:``)
_TO_WORDS = frozenset(
    {
        "to", "about", "for", "re", "regarding", "towards", "\u00fcber", "f\u00fcr", "au", "aux",
        "\u00e0", "sur", "pour", "para", "sobre", "aan", "voor",
    }
)  # fmt: skip
#: an article or a possessive between such a word and the party (``to the sender``)
_ARTICLES = frozenset(
    {
        "the",
        "a",
        "our",
        "their",
        "this",
        "that",
        "der",
        "die",
        "den",
        "dem",
        "le",
        "la",
        "les",
        "el",
        "los",
        "het",
        "de",
    }
)
#: an outside word that says how or where the outsider wrote (``to the CFP``, ``regarding tenant
#: portal``): never an addressee (red team 15)
_CHANNEL_WORDS = frozenset(
    {"portal", "web", "webform", "form", "cfp", "public", "external", "submitted", "submitter"}
)
#: a word after an outside word that makes it the service the outsider wrote to (``to customer
#: support``, ``for customer service``, ``to the customer survey``), or a check staff made of the
#: party (``Sender verification note``)
_SERVICE_WORDS = frozenset(
    {
        "support", "service", "services", "care", "team", "survey", "questionnaire", "questions",
        "desk", "success", "relations", "helpdesk", "hotline", "line", "feedback", "inbox", "portal",
        "application", "intake", "registration", "onboarding", "form", "diligence",
        "enrolment", "enrollment", "signup", "booking",
    }
)  # fmt: skip
_CHECK_WORDS = frozenset({"verification", "screening", "vetting", "kyc"})

#: the organisation's own people or a field kept for them: a label that says so is the
#: record's, even when it names a customer (``Customer notes (internal, by account manager):``)
_INSIDE_WORDS = frozenset(
    {
        "internal", "staff", "employee", "employees", "intern", "interne", "interner", "internes", "interno",
    }
)  # fmt: skip
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
_MARK_OPEN = r"(?:(?:[-*+\u2022>#|]|\*\*|__|<[A-Za-z][^<>\n]{0,40}>)[ \t]{0,40}+){0,6}"
_MARK_CLOSE = r"(?:\*\*|__|\*|</[A-Za-z][^<>\n]{0,20}>){0,4}"
#: the label of a line (``  Portal messages:``, ``- Customer note: …``, ``12/01 21:14 (customer):``: a
#: time's colons are part of it; ``**Customer note:**``, ``<b>Customer note:</b>``, ``| Customer
#: note | …``)
_LABEL = re.compile(
    r"[ \t]*+" + _MARK_OPEN + r"((?:[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?|[^\n:\uff1a|<>*]){1,80}?)"
    r"[ \t]{0,40}+" + _MARK_CLOSE + r"[ \t]{0,40}+[:\uff1a|]" + _MARK_CLOSE
)
#: where a label that could be an outsider's can be: a kind of text, or a ``(who):`` (looked up
#: with ``str.find``, one word at a time: faster than one pattern of them all)
_HINTS = (
    "note", "nota", "omment", "coment", "messag", "mensa", "nachricht", "remar", "merk", "reques",
    "anfrage", "demande", "instruct", "feedback", "review", "repl", "question", "wrote", "writes",
    "says", "said", "asked", "asks", "complain", "enquir", "inquir", "quer",
    "respon", "answer", "chat", "text", "submi", "descri", "help", "special", "especia", "spécial", "speciaal", "sonderw", "besondere", "):", ")|", ")\uff1a",
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_PAREN_WHO = re.compile(r"\(([^\W\d_][^()\n]{0,40})\)")
_DIGIT = re.compile(r"[0-9]")
#: keys of a JSON object that say who wrote it (``author``, ``created_by``, ``authorRole``)
_AUTHOR_WORDS = frozenset(
    {
        "author", "from", "sender", "role", "by", "source", "origin", "channel", "poster", "writer", "creator",
        "via", "requester", "submitter", "reporter", "supplied", "organizer", "organiser",
    }
)  # fmt: skip
#: [red team 34] keys of a calendar event that name its organiser (Microsoft Graph's
#: ``organizer``, iCalendar's ``ORGANIZER``)
_ORGANIZER_WORDS = frozenset({"organizer", "organiser"})
#: [red team 34] keys of a ticket that name who opened it, by an id (``requester_id``)
_REQUESTER_WORDS = frozenset({"requester", "submitter", "reporter"})
#: [red team 34] keys of an event, a ticket or an issue that hold what its author wrote, besides
#: :data:`_TEXT_WORDS`
_EVENT_TEXT_WORDS = frozenset(
    {"subject", "title", "body", "content", "agenda", "details", "summary", "preview"}
)
#: [red team 35] what an outside organiser writes besides text: the location, the names shown
#: beside attendees (Microsoft Graph's ``displayName``, ``emailAddress.name``)
_ORGANIZER_TEXT_WORDS = frozenset({"location", "locations", "name", "display", "where", "room"})
#: a JSON message's direction that says it came in (``"direction": "inbound"``)
_INBOUND = frozenset({"inbound", "incoming", "received", "in"})
_INBOUND_FLAGS = frozenset({"incoming", "is_inbound", "inbound", "is_incoming", "received"})
_INBOUND_TYPES = frozenset(
    {"incoming_email", "inbound_email", "incoming", "inbound", "email_in", "received_email"}
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
        if (_OUTSIDE_WORDS.intersection(who) or _PAREN_OUTSIDE.intersection(who)) and (
            _DIGIT.search(label, 0, m.start()) is not None or words & _TEXT_WORDS
        ):
            # a message's header: when, and who wrote it (``12/01 21:14 (customer):``); not a
            # field's note on itself (``Applicant (entered by applicant):``, ``Contacts (may
            # receive candidate data):``)
            return True
    return _names_outsider_text(words) and not _addressed(label)


def _addressed(label: str) -> bool:
    """Every outside party the label names is its addressee or its subject, not its author: the
    word right before it (or before its article) says so (``Reply to sender:``, ``Message to
    referring office:``, ``Note about the customer:``), or a check staff made of it follows it
    (``Sender verification note:``): staff wrote it (red team 14). Not a channel (``Submission to
    the CFP:``) nor a service the outsider wrote to (``Message to customer support:``,
    ``Replies to the customer survey:``), and not an author the label names anywhere else
    (``Note for file, customer wrote:``, ``Question from an applicant:``: red team 15)."""
    tokens = _WORD.findall(_CAMEL.sub(r"\1 \2", label).lower().replace("_", " "))
    seen = False
    for i, w in enumerate(tokens):
        if w not in _OUTSIDE_WORDS:
            continue
        seen = True
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt in _CHECK_WORDS:
            continue
        # [red team 16] a service or a form anywhere after it: ``Responses to supplier onboarding
        # questionnaire:``, ``Replies to vendor due diligence questionnaire:``
        if w in _CHANNEL_WORDS or not _SERVICE_WORDS.isdisjoint(tokens[i + 1 :]):
            return False
        before = tokens[i - 1] if i > 0 else ""
        if before in _ARTICLES and i > 1:
            before = tokens[i - 2]
        if before not in _TO_WORDS:
            return False
    return seen


#: fields whose very name says the party wrote them, with no author in the name: a booking's
#: ``Special requests``, ``Notes to property``, ``Message to host``; a shop order's ``Gift
#: message``, ``Delivery instructions``, ``Checkout note``; a web form's ``How can we help``
#: (red team 29). Each is a set of words the label or key path must hold (``specialRequests``,
#: ``notes_to_property``); not ``Remarks`` alone (staff write remarks too)
_SELF_AUTHORED: tuple[frozenset[str], ...] = tuple(
    frozenset(w.split())
    for w in (
        "special request", "special requests", "special requirements", "special wishes",
        "gift message", "gift messages", "gift note", "delivery instructions",
        "delivery instruction", "checkout note", "checkout notes", "checkout comment",
        "checkout comments", "how can we help", "additional requests", "additional request",
        # [red team 30] de, fr, it, es, pt, nl
        "sonderwünsche", "sonderwunsch", "besondere wünsche", "demandes spéciales",
        "demande spéciale", "richieste speciali", "richiesta speciale", "peticiones especiales",
        "solicitudes especiales", "pedidos especiais", "pedido especial", "speciale verzoeken",
        "speciaal verzoek",
    )
) + tuple(
    frozenset((kind, to, place))
    for kind in ("note", "notes", "message", "messages", "comment", "comments", "request", "requests")
    for to in ("to", "for")
    for place in ("property", "hotel", "host", "seller", "restaurant", "venue", "driver", "courier")
)  # fmt: skip


def _self_authored(words: frozenset[str]) -> bool:
    """The words of a label or key path name a field the party itself fills in
    (:data:`_SELF_AUTHORED`), and no staff word."""
    return not words & (_INSIDE_WORDS | _COUNT_WORDS) and any(f <= words for f in _SELF_AUTHORED)


def _names_outsider_text(words: frozenset[str]) -> bool:
    """The words of a label or of a JSON key path name a kind of free text an outside party
    wrote: no staff word, and a text word and an outside word, or a field the party fills in
    itself (:func:`_self_authored`)."""
    if words & _INSIDE_WORDS:
        return False
    if _self_authored(words):
        return True
    text = words & _TEXT_WORDS
    if not text or not words & _OUTSIDE_WORDS:
        return False
    # ``Customer notes:``, ``Patient notes:``: how a CRM or a chart titles what its staff wrote
    # about someone; a note the party itself wrote says where it came in or who sent it
    # (``Applicant notes``, ``Notes from the customer``, ``Web order notes``) or is singular
    # (``Customer note``, the checkout note)
    return not (text == {"notes"} and not words & _SUBMITTED_WORDS)


#: how far into a line of ``|`` cells a label is looked for (``Guest: … | Room: 214 | Guest
#: comments: …``), and how many cells at most
_CELL_REACH = 2000
#: [red team 32] a cell's separator: a bar (ASCII, full-width, box-drawing), a tab, a semicolon
_CELL_LABEL = re.compile(r"[|\uff5c\u2502\u2503\t;][ \t]{0,40}+")


def _cell_label(line: str) -> re.Match[str] | None:
    """[s15] The first label of a cell after a ``|`` in the line's first :data:`_CELL_REACH`
    characters (a PMS row ``Guest: Mara | Room: 214 | Guest comments: …``) that names an outside
    party's text, else None: the cell's text and everything after it are the outsiders', as a
    line's label is (:func:`_split_lines`)."""
    if (
        "|" not in line
        and "\t" not in line
        and ";" not in line
        and not any(c in line for c in "\uff5c\u2502\u2503")
    ):
        return None
    for cells, bar in enumerate(_CELL_LABEL.finditer(line, 0, _CELL_REACH)):
        if cells >= 20:
            break
        m = _LABEL.match(line, bar.end())
        if m is not None and line[m.end() - 1 : m.end()] in (":", "\uff1a") and _is_outside_label(m.group(1)):
            return m
    return None


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
            if at - offsets[i] <= 100 or (
                at - offsets[i] <= _CELL_REACH
                and any(c in ends[i][:_CELL_REACH] for c in "|\t;\uff5c\u2502\u2503")
            ):
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
    # the first outsider's field: its label stays with the record (it names the field), its text
    # and every line after it are the outsiders' (red team 15: a line the outsider types after a
    # newline, ``Billing contact: ap@…`` at the label's indent, is not told from the record's own;
    # a record's text past an outsider's field is no longer vouched for)
    for i in order:
        m = _LABEL.match(lines[i])
        if m is None or not _is_outside_label(m.group(1)):
            m = _cell_label(lines[i])
        if m is not None and _is_outside_label(m.group(1)):
            # (every line in ``order`` is before ``cutoff``)
            keep = [*lines[:i], lines[i][: m.end()]]
            out = [lines[i][m.end() :], *lines[i + 1 :]]
            break
    else:
        if cutoff >= n:
            return text, ""
        keep, out = lines[:cutoff], lines[cutoff:]
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


#: [red team 34] GitHub's ``author_association`` values of the repository's own people
_INSIDE_ASSOCIATIONS = frozenset({"owner", "member", "collaborator"})


def _outside_association(value: dict[Any, Any]) -> bool:
    """[red team 34] A GitHub issue, pull request or comment whose author is not the repository's
    (``"author_association"``: ``NONE``, ``CONTRIBUTOR``, ``FIRST_TIMER``…; not ``OWNER``,
    ``MEMBER``, ``COLLABORATOR``)."""
    who = value.get("author_association", value.get("authorAssociation"))
    return isinstance(who, str) and who.strip().lower() not in _INSIDE_ASSOCIATIONS


def _authored(value: Any, out: list[str], key: frozenset[str], words: frozenset[str], depth: int) -> Any:
    """[red team 35] ``value``, under a key of ``key``'s words, of an object an outsider wrote
    (see :func:`_split_json`): the strings under a key holding one of ``words``, at any depth,
    are the outsider's (added to ``out``); the rest stays."""
    if key & words:
        return _strings(value, out)
    if depth > 64:
        return value
    if isinstance(value, dict):
        return {
            k: _authored(v, out, _words(k[:200]) if isinstance(k, str) else frozenset(), words, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_authored(v, out, frozenset(), words, depth + 1) for v in value]
    return value


def _an_id(value: Any) -> bool:
    """[red team 34] A JSON value that is an id: a number, a string with no space and no ``@``
    (``90211``, ``"usr_8f2k"``), or an object holding one under an id key (Jira's ``{"accountId":
    …}``, ``{"id": …}``) [red team 35]."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, str):
        return 0 < len(value) <= 64 and not any(c.isspace() or c == "@" for c in value)
    if isinstance(value, dict):
        return any(
            isinstance(k, str)
            and k.lower().replace("_", "") in ("id", "accountid", "userid", "key")
            and _an_id(v)
            for k, v in list(value.items())[:20]
        )
    return False


def _inside_author(key: str, value: Any, internal: tuple[str, ...]) -> bool:
    """[red team 37] A ticket's author given by the system as one address inside the
    organisation: an e-mail key (``requester_email``, ``email``) or the author key itself
    (``"submitter": "Sam Lee <sam.lee@ourco.example>"``, ``"reporter": {"id": 7, "email": …}``)
    holding exactly one address; not a field the requester fills in (``requester_address``,
    ``requester_name``, an alias)."""
    words = _words(key[:200])
    if not words & _REQUESTER_WORDS or not words - _REQUESTER_WORDS <= {"email", "mail"}:
        return False
    if isinstance(value, dict):
        value = value.get("email", value.get("emailAddress"))
    return isinstance(value, str) and _one_address(value) and _inside_address(value, internal)


#: [red team 37] one address, with at most a display name before it in ``<>``
_ONE_ADDRESS = re.compile(r"(?:[^<>@,;\n]{0,80}<)?[^\s<>@,;]{1,64}@[^\s<>@,;]{1,253}>?")


def _one_address(value: str) -> bool:
    return _ONE_ADDRESS.fullmatch(value.strip()) is not None


def _inside_address(value: Any, internal: tuple[str, ...]) -> bool:
    """[red team 35] An author written as an address inside the organisation (an internal
    ticket's ``requester_email``)."""
    return (
        isinstance(value, str)
        and "@" in value
        and bool(_domains(value[:400]))
        and all(is_internal(d, internal) for d in _domains(value[:400]))
    )


def _outside_address(value: Any, internal: tuple[str, ...], depth: int = 0) -> bool:
    """[red team 15, 16] An author written as an address outside the organisation (``"from":
    "Finance <ap@…>"``, ``"from": {"emailAddress": {"address": …}}``, Zendesk's ``"via":
    {"source": {"from": {"address": …}}}``, ``"requester_email"``): the message is the sender's,
    whoever they say they are."""
    if isinstance(value, str):
        return "@" in value and any(not is_internal(d, internal) for d in _domains(value[:400]))
    if depth >= 4:
        return False
    if isinstance(value, dict):
        return any(_outside_address(v, internal, depth + 1) for v in list(value.values())[:20])
    if isinstance(value, list):
        return any(_outside_address(v, internal, depth + 1) for v in value[:20])
    return False


def _inbound(value: dict[Any, Any]) -> bool:
    """A JSON message marked as one that came in (``"direction": "inbound"``, ``"incoming":
    true``, ``"is_inbound": true``, ``"type": "INCOMING_EMAIL"``; keys in any case): its sender
    wrote it (red teams 16, 17)."""
    for k, v in list(value.items())[:64]:
        if not isinstance(k, str):
            continue
        key = k.lower().replace("-", "_")
        if v is True and key in _INBOUND_FLAGS:
            return True
        if isinstance(v, str) and len(v) <= 40:
            low = v.strip().lower()
            if (key in ("direction", "dir") or key.endswith("_direction")) and (
                low in _INBOUND or low in _INBOUND_TYPES
            ):
                return True
            if key == "type" and low in _INBOUND_TYPES:
                return True
    return False


def _headers_from_outside(value: dict[Any, Any], internal: tuple[str, ...]) -> bool:
    """[red team 18] A message whose header list (the Gmail API's ``payload.headers``: ``[{"name":
    "From", "value": "Finance <ap@…>"}]``) names a sender outside the organisation."""
    for holder in (value, value.get("payload")):
        headers = holder.get("headers") if isinstance(holder, dict) else None
        if not isinstance(headers, list):
            continue
        for h in headers[:64]:
            if (
                isinstance(h, dict)
                and str(h.get("name", "")).strip().lower() in ("from", "sender", "reply-to")
                and _outside_address(h.get("value"), internal)
            ):
                return True
    return False


def _split_json(
    value: Any,
    out: list[str],
    depth: int = 0,
    path: frozenset[str] = frozenset(),
    *,
    internal: tuple[str, ...] = (),
) -> Any:
    """``path``: the words of the keys above ``value`` (``{"customer": {"note": …}}``)."""
    if depth > 64:
        return _strings(value, out) if path else value
    if isinstance(value, str):
        # a record's text in a string (``{"text": "Ref: …"}``), and its quotations
        rest, outside = _split_text(value, internal)
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
        # an author at an outside address: the address is what the sender wrote too (a reply
        # there goes back to who wrote in), so it is not kept with the record
        addressed = {k for k in by if _outside_address(value[k], internal)}
        organised = bool(addressed) and all(keys[k] & _ORGANIZER_WORDS for k in addressed)
        if (
            organised
            or (
                not addressed
                and any(keys[k] & _REQUESTER_WORDS and _an_id(value[k]) for k in by)
                and not any(_inside_author(k, value[k], internal) for k in by)
            )
            or _outside_association(value)
        ):
            # [red team 34] an event an outside organiser sent, a ticket its requester opened
            # (Zendesk's ``"requester_id": 90211``), an issue or a comment by someone outside the
            # repository (GitHub's ``"author_association": "NONE"``): what they wrote (the
            # subject, title, body, description) is theirs; the structured fields (attendees'
            # addresses, times, status, labels, the organiser's own address) stay the record's.
            # [red team 35] An organiser also writes the event's location and the names shown
            # beside its attendees, at any depth
            words = _TEXT_WORDS | _EVENT_TEXT_WORDS | (_ORGANIZER_TEXT_WORDS if organised else frozenset())
            return {
                k: (v if k in addressed else _authored(v, out, keys.get(k, frozenset()), words, depth + 1))
                for k, v in value.items()
            }
        outsider = (
            bool(addressed)
            or _inbound(value)
            or _headers_from_outside(value, internal)
            or any(
                (_OUTSIDE_WORDS.intersection(_author_words(value[k])) or "contact" in _author_words(value[k]))
                and not _INSIDE_WORDS.intersection(_author_words(value[k]))
                for k in by
            )
        )
        if outsider or named:
            kept = (set(by) - addressed) | set(named)
            return {k: (v if k in kept else _strings(v, out)) for k, v in value.items()}
        result: dict[Any, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                result[k] = _split_json(v, out, depth + 1, path, internal=internal)
                continue
            words = path | keys[k]
            if _names_outsider_text(words):
                result[k] = _strings(v, out)
            else:
                result[k] = _split_json(v, out, depth + 1, words, internal=internal)
        return result
    if isinstance(value, list):
        if sum(1 for v in value if isinstance(v, str)) > 1:
            # [red team 16] a message as a list of its lines (``"body_lines": ["Hi", "On … wrote:",
            # …]``; a null among them too, red team 17): read together, a thread in it makes every
            # line the outsiders'
            joined = "\n".join(v for v in value if isinstance(v, str))
            if _split_thread(joined, internal)[1]:
                out.append(joined)
                return [
                    "" if isinstance(v, str) else _split_json(v, out, depth + 1, path, internal=internal)
                    for v in value
                ]
        return [_split_json(v, out, depth + 1, path, internal=internal) for v in value]
    return value


#: a line that opens a block of JSON or code (``{"id": 7, …}``, ``[``): its quotes are syntax
_CODE_OPEN = re.compile(r"[ \t]*[{\[]")
#: a JSON member's line (``  "note": "…",``): code only inside a block (see :func:`_is_code`)
_CODE_KEY = re.compile(r'[ \t]*"[^"\n]{0,80}"[ \t]*:')
#: what sits around a field of a CSV or TSV row (``,"Industrieweg 21, Waalwijk",``)
_CELL_EDGE = ",;\t"
#: two cells of a row, side by side (``"7","Lakeshore Cycles"``)
_CELLS = re.compile('"(?:[ \t]*+[,;][ \t]*+|[ ]*+\t[ \t]*+)"')
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


#: what may come before a line's first word in a mail client's text or HTML: spaces, quote marks,
#: markdown, a table's bar, tags (``<div class="gmail_attr">``, ``<b>``), ``&gt;`` and ``&nbsp;``
_PRE = r"(?:[ \t\u00a0]|&nbsp;)*+(?:(?:<[^<>\n]{0,200}>|&gt;|[>*_|\uff1e])(?:[ \t\u00a0]|&nbsp;)*+){0,24}+"
#: a header's colon: after spaces, markup or a closing tag (``From :``, ``<b>From:</b>``,
#: ``De\u00a0:``, ``From\uff1a``)
_COLON = r"(?:</?[A-Za-z][^<>\n]{0,40}>|[ \t*\u00a0])*+[:\uff1a]"
_RULE = r"(?:-{2,}+|_{2,}+|={2,}+)"
#: a rule that ends its line: tried only where a run of its marks starts (the look-behind), so a
#: long run costs one pass, not one per position (red team 16)
_RULE_END = r"(?<![-_=])" + _RULE + r"[ \t]*+$"
#: the line a mail client writes above a message it quotes or forwards (``-----Original
#: Message-----``, ``---------- Forwarded message ---------``, ``Begin forwarded message:``,
#: Lotus Notes' ``----- Forwarded by … -----``, and the same in other languages), alone on its
#: line or with the quoted headers run on after its rule
_THREAD_MARK = re.compile(
    _PRE + _RULE + r"?[ \t]*+(?:original message|forwarded message|begin forwarded message|forwarded by"
    r"|urspr\u00fcngliche nachricht|weitergeleitete nachricht|message d'origine|message transf\u00e9r\u00e9"
    r"|mensaje original|mensaje reenviado|mensagem original|mensagem encaminhada|messaggio originale"
    r"|messaggio inoltrato|oorspronkelijk bericht|doorgestuurd bericht|ursprungligt meddelande"
    r"|vidarebefordrat meddelande|wiadomo\u015b\u0107 oryginalna|przekazana wiadomo\u015b\u0107"
    r"|\u5143\u306e\u30e1\u30c3\u30bb\u30fc\u30b8|\u8ee2\u9001\u30e1\u30c3\u30bb\u30fc\u30b8)"
    r"(?:[ \t]*+:?[ \t]*+" + _RULE + r"?[ \t]*+$|[ \t]*+" + _RULE + r"|\b[^\n]{0,300}?" + _RULE_END + ")",
    re.IGNORECASE,
)
#: the start of a reply's attribution (``On Mon, 3 Mar 2026, Finance <ap@…> wrote:``, ``Am …
#: schrieb …:``, ``Le … a écrit :``, ``El … escribió:``, ``Den … skrev …:``, ``W dniu …
#: napisał(a):``, Zoho's ``---- On … wrote ----``) …
_ATTRIBUTION_HEAD = re.compile(
    _PRE + _RULE + r"?[ \t]*+(?:on|am|le|el|em|il|op|den|w dniu)(?=[ \t\u00a0,])", re.IGNORECASE
)
#: … its verb, near the end of the line …
_ATTRIBUTION_VERB = re.compile(
    r"\b(?:wrote|schrieb|a \u00e9crit|escribi\u00f3|escreveu|ha scritto|schreef|skrev|napisa\u0142"
    r"|kirjoitti)",
    re.IGNORECASE,
)
_VERBS = (
    "wrote",
    "schrieb",
    "crit",
    "escribi",
    "escreveu",
    "scritto",
    "schreef",
    "skrev",
    "napisa",
    "kirjoitti",
)
#: ... right before the line's colon (``ap@… wrote:``)
_VERB_AT_END = re.compile(_ATTRIBUTION_VERB.pattern + r"(?:\(a\))?[ \t]{0,8}+[:\uff1a]\Z", re.IGNORECASE)
#: … or, with an address on the line, its verb and then a colon or the end of the line
_VERB_ENDS = re.compile(_ATTRIBUTION_VERB.pattern + r"\b[ \t]*+(?::|$)", re.IGNORECASE)
#: an attribution in any language: a line that ends with the sender's address and a colon
#: (Gmail in Russian writes no verb: the date, the time, ``Finance <ap@…>:``)
_ADDRESS_COLON = re.compile(
    r"(?:<|&lt;)[^<>\n@ ]{1,200}@([^<>\n ]{1,200})(?:>|&gt;)[^\n<]{0,40}:(?:[ \t]|<[^<>\n]{0,40}>){0,40}+\Z"
)
#: a line that ends with a colon (spaces or tags after it), or holds a rule
#: (each pattern starts with one literal character: the regular expression engine looks for it
#: fast; a character class or an alternation it tries at every position)
_LINE_MARKS = tuple(re.compile(x) for x in (r":(?:[ \t\u00a0]|<[^<>\n]{0,40}>)*+(?=\n|\Z)", "--", "__", "=="))
_WIDE_COLON = re.compile(r"\uff1a(?:[ \t\u00a0]|<[^<>\n]{0,40}>)*+(?=\n|\Z)")
#: the HTML a mail client wraps a quoted message in (Gmail, Outlook, Thunderbird, Yahoo, Proton)
_HTML_QUOTES = (
    "<blockquote", "gmail_quote", "gmail_attr", "divrplyfwdmsg", "moz-cite-prefix", "yahoo_quoted",
    "protonmail_quote", "appendonsend",
)  # fmt: skip
#: where a new line starts in HTML (a break, a paragraph, a block)
_HTML_BREAK = re.compile(r"<(?=(?:br|p|div|hr|blockquote|tr|li|h[1-6]|table)\b)", re.IGNORECASE)
_BLOCK_TAGS = (
    "<br",
    "<p",
    "<div",
    "<hr",
    "<blockquote",
    "<tr",
    "<li",
    "<h1",
    "<h2",
    "<h3",
    "<h4",
    "<h5",
    "<h6",
    "<table",
)
#: at most this many lines are tried as the start of a quoted message: past it, the rest of the
#: text is the outsiders' (a crafted output with a thread word on every line costs no more)
_MAX_PROBES = 500
#: a header of a quoted message (``From: …``, ``Von: …``, ``De : …``, ``Från:``, ``Od:``, ``差出人:``) …
_FROMS = r"(?:from|von|de|van|da|fr\u00e5n|od|sender|absender|\u5dee\u51fa\u4eba|\u9001\u4fe1\u8005|exp\u00e9diteur)"
_HEADER_FROM = re.compile(r"\n" + _PRE + _FROMS + _COLON + r"[^\n]*", re.IGNORECASE)
#: … and the headers that follow it (``Sent:``, ``To:``, ``Subject:``, …, in other languages)
_HEADER_NEXT = re.compile(
    _PRE + r"(sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|envoy\u00e9|\u00e0|objet|enviado"
    r"|fecha|para|asunto|assunto|inviato|oggetto|a|verzonden|aan|onderwerp|skickat|till|\u00e4mne|kopia"
    r"|wys\u0142ano|do|temat|data|dw|\u9001\u4fe1\u65e5\u6642|\u5b9b\u5148|\u4ef6\u540d|\u65e5\u4ed8)"
    + _COLON,
    re.IGNORECASE,
)
_SUBJECTS = frozenset(
    {
        "subject",
        "betreff",
        "objet",
        "asunto",
        "assunto",
        "oggetto",
        "onderwerp",
        "\u00e4mne",
        "temat",
        "\u4ef6\u540d",
    }
)
#: the headers that, with a sender's address, make a message's head (not ``To:`` alone: a
#: shipment's ``From: … / To: …``)
_SENT_OR_SUBJECT = _SUBJECTS | {
    "sent", "date", "gesendet", "datum", "envoy\u00e9", "enviado", "fecha", "inviato", "verzonden", "skickat",
    "wys\u0142ano", "data", "\u9001\u4fe1\u65e5\u6642", "\u65e5\u4ed8",
}  # fmt: skip
#: a letter's salutation (``Dear Sir or Madam:``), no field of a record
_SALUTATION = re.compile(
    r"[ \t]*(?:dear|hi|hello|hey|good (?:morning|afternoon|evening)|greetings|to whom|sehr geehrte|liebe|hallo"
    r"|bonjour|madame|monsieur|hola|estimad[oa]s?|caro|cara|gentile|beste|geachte)\b",
    re.IGNORECASE,
)
#: a line of a record's own field (``Status: delivered``), after a message's headers
_FIELD = re.compile(r"[ \t]*+[^\W\d_][\w /()'.-]{0,40}?[ \t]{0,40}+[:\uff1a]")
#: a line of a quoted reply (``> please send the statement``, ``&gt; …``, a full-width mark), not an arrow,
#: a comparison or an aging bucket (``>= 5``, ``> 90 days``)
_QUOTED_LINE = re.compile(r"[ \t\u00a0|]*(?:>|\uff1e|&gt;|\u00bb|\u203a)(?!=)(?![ \t]*[0-9])")
#: ... anywhere in a text whose lines end with ``\n``
_QUOTED_LINES = re.compile(r"\n[ \t\u00a0|]*(?:>|\uff1e|&gt;|\u00bb|\u203a)(?!=)(?![ \t]*[0-9])")
#: past this many ``From:`` lines that head no message, the rest of the text is the outsiders'
_MAX_FROM = 500
#: an address's domain, matched right after its ``@`` (see :func:`_domains`)
_DOMAIN_AT = re.compile(r"@([\w-]{1,63}+(?:\.[\w-]{1,63}+)+)")
_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")


def _domains(text: str) -> list[str]:
    r"""The domains of the e-mail addresses in ``text``: found from each ``@`` (a pattern with a
    local part first, ``[\w.+-]+@``, was tried from every position of a long run ending at a bare
    ``@``: 32 s for 100 KB, red team 17). At most 1,000 ``@`` are read."""
    out: list[str] = []
    at = text.find("@")
    for _ in range(1000):
        if at < 0:
            break
        if at > 0 and (text[at - 1] in _LOCAL or text[at - 1].isalnum()):
            m = _DOMAIN_AT.match(text, at, at + 300)
            if m is not None:
                out.append(m.group(1))
        at = text.find("@", at + 1)
    return out


def _own_metadata(flat: str, h: re.Match[str], internal: tuple[str, ...]) -> bool:
    """The header block at ``h`` is the record's log of a message the organisation sent (a CRM's
    activity): its ``From:`` is an address of ``internal``, and a field of the record or the end
    of the text follows its headers, not a message's body. Anyone can write an internal ``From:``
    into a message they send, so a block with a body below is the sender's all the same."""
    domains = _domains(h.group(0))
    if not internal or not domains or not all(is_internal(d, internal) for d in domains):
        return False
    for line in _next_lines(flat, h.end(), 12):
        if _HEADER_NEXT.match(line) is not None:
            continue
        return line.strip() != "" and _FIELD.match(line) is not None
    return True


def _next_lines(flat: str, at: int, k: int) -> list[str]:
    """The ``k`` lines of ``flat`` after offset ``at`` (a ``\n``), without copying the rest."""
    end = at
    for _ in range(k):
        end = flat.find("\n", end + 1)
        if end < 0:
            end = len(flat)
            break
    return flat[at + 1 : end].split("\n")


def _starts_thread(line: str, internal: tuple[str, ...]) -> bool | None:
    """``line`` starts a quoted message: a separator, an attribution or a line ending with an
    address and a colon. None if it does not; else whether the quoted message is the
    organisation's own (every address on the line is ``internal``: a customer's reply above it
    is then the customer's). Each pattern is anchored at the line's start or end, or bounded."""
    if _THREAD_MARK.match(line) is not None:
        return False
    tail = _strip_end(line[-240:])
    colon = tail[-1:] in (":", "\uff1a")
    end = colon or tail[-2:] in ("--", "__", "==")
    if _ATTRIBUTION_HEAD.match(line) is not None and (
        (end and _ATTRIBUTION_VERB.search(tail, max(0, len(tail) - 200)) is not None)
        # [red team 16] ``On …, Finance <ap@…> wrote`` with no colon, or the body run on after
        # ``wrote:``: the sender's address on the line says it is a mail client's
        or (("@" in line or "&lt;" in line) and _VERB_ENDS.search(line, 0, 3000) is not None)
    ):
        return _own_line(line, internal)
    if colon and "@" in tail and _VERB_AT_END.search(tail[-40:]) is not None and _domains(tail):
        # [red team 17] ``ap@… wrote:``, Eudora's ``At 10:02 3/3/2026, ap@… wrote:``: no "On"
        return _own_line(line, internal)
    if colon and "@" in tail and (m := _ADDRESS_COLON.search(line[-500:])) is not None:
        if internal and all(is_internal(d, internal) for d in _domains(m.group(0))):
            return None  # ``Approval from Dana Lee <dana@ourco…>:``: the record's own line
        return False
    return None


def _strip_end(line: str) -> str:
    """``line`` without the spaces and tags at its end (``wrote:</div> ``)."""
    line = line.rstrip(" \t\u00a0")
    for _ in range(40):
        if not line.endswith(">") or "<" not in line:
            break
        line = line[: line.rfind("<")].rstrip(" \t\u00a0")
    return line


def _own_line(line: str, internal: tuple[str, ...]) -> bool:
    domains = _domains(line)
    return bool(internal and domains and all(is_internal(d, internal) for d in domains))


def _wrapped_attribution(flat: str, head: int, internal: tuple[str, ...]) -> tuple[int, bool] | None:
    """[red team 15] An attribution a mail client wrapped over two or three lines (``On Mon, …
    Finance <`` / ``ap@…> wrote:``): the line after ``head`` joined to the one or two before it,
    one of which starts as an attribution; the offset of the ``\n`` before the first of them and
    whether it quotes the organisation's own message, or None."""
    end = flat.find("\n", head + 1)
    end = len(flat) if end < 0 else end
    back = head
    for _ in range(2):
        if back <= 0:
            return None
        back = flat.rfind("\n", 0, back)
        if _ATTRIBUTION_HEAD.match(flat, back + 1) is not None:
            own = _starts_thread(flat[back + 1 : end].replace("\n", " "), internal)
            return None if own is None else (back, own)
    return None


def _candidate_lines(flat: str, low: str, start: int) -> tuple[list[int], int]:
    """The lines a quoted message can start at before ``start`` (the offsets of the ``\n`` before
    them, in order): every such line ends with a colon, holds a rule (``-----Original
    Message-----``, Zoho's ``---- On … wrote ----``) or names an original or a forwarded message;
    each looked up with one scan that jumps to the next line after a hit. Past
    :data:`_MAX_PROBES` such lines the whole text is the outsiders' (``start`` 0): a quote of the
    organisation's own message past the budget would make it so, and a cut at the budget left the
    lines before it trusted (red teams 16, 17)."""
    lines: set[int] = set()
    scans: list[re.Pattern[str]] = [*_LINE_MARKS] if low.isascii() else [*_LINE_MARKS, _WIDE_COLON]
    for rx in scans:
        pos = 0
        while True:
            m = rx.search(flat, pos, start)
            if m is None:
                break
            lines.add(flat.rfind("\n", 0, m.start()))
            nxt = flat.find("\n", m.end())
            if nxt < 0:
                break
            pos = nxt
            if len(lines) > _MAX_PROBES:
                return [], 0
    words: tuple[str, ...] = ("original message", "forwarded message")
    if "@" in low or "&lt;" in low:
        words += _VERBS  # an attribution with no colon at its end names its sender's address
    for word in words:
        at = low.find(word, 0, start)
        while at >= 0:
            lines.add(flat.rfind("\n", 0, at))
            if len(lines) > _MAX_PROBES:
                return [], 0
            nxt = flat.find("\n", at)
            at = -1 if nxt < 0 else low.find(word, nxt, start)
    return sorted(x for x in lines if x < start), start


def _body_follows(flat: str, at: int, line: str, heads: set[str], internal: tuple[str, ...]) -> bool:
    """After the ``From:`` line ending at ``at``: its headers, a blank line, then a body (a
    message logged with its ``From:`` alone: ``From: Finance <ap@…>`` / blank / ``Please send
    …``). With an address outside the organisation any body will do; with none, another header
    and a body that is no ``Field:`` line (not a shipment's ``From: … / To: … / (blank) / Notes:``)."""
    rest = _next_lines(flat, at, 8)
    k = 0
    while k < len(rest) and _HEADER_NEXT.match(rest[k]) is not None:
        k += 1
    if k >= len(rest) - 1 or rest[k].strip():
        return False
    body = next((x for x in rest[k + 1 :] if x.strip()), "")
    if not body:
        return False
    domains = _domains(line)
    if domains and not all(is_internal(d, internal) for d in domains):
        return True
    return bool(heads) and (_FIELD.match(body) is None or _SALUTATION.match(body) is not None)


def _own_header_below(flat: str, at: int, internal: tuple[str, ...]) -> bool:
    """A ``From:`` line of the organisation's own among the four lines after offset ``at``
    (under a separator: Outlook's ``-----Original Message-----``, red team 17)."""
    for line in [x for x in _next_lines(flat, at, 6) if x.strip()][:4]:
        m = _HEADER_FROM.match("\n" + line)
        if m is not None:
            return _own_line(line, internal)
    return False


def _thread_start(flat: str, low: str, internal: tuple[str, ...]) -> int:
    """The offset of the ``\n`` before the first line of a quoted message in ``flat`` (every line
    after a ``\n``), or ``len(flat)``; 0 when a quoted message anywhere in it is the
    organisation's own (red team 16: a customer's reply above it; red team 17: not only the first
    one, as an outside attribution made up above it hid it): the whole text is the customer's."""
    start = len(flat)
    for word in _HTML_QUOTES if "<" in low else ():
        at = low.find(word, 0, start)
        if at >= 0:
            start = flat.rfind("\n", 0, at)
    lines, start = _candidate_lines(flat, low, start)
    own = False
    first = start
    # every candidate line is read, not only up to the first start: a quote of the organisation's
    # own message anywhere below makes the whole text the outsiders' (red team 17: a made-up
    # outside attribution above it hid it)
    for line_at in lines:
        head = line_at
        end = flat.find("\n", head + 1)
        got = _starts_thread(flat[head + 1 : end if end >= 0 else len(flat)], internal)
        if got is None and (wrapped := _wrapped_attribution(flat, line_at, internal)) is not None:
            head, got = wrapped
        if got is None:
            continue
        if got is False and end >= 0:
            # a separator (``-----Original Message-----``) above the organisation's own ``From:``
            got = _own_header_below(flat, end, internal)
        first = min(first, head)
        own = own or got
        if own:
            break
    for seen, h in enumerate(_HEADER_FROM.finditer(flat)):
        if seen >= _MAX_FROM:
            first = min(first, h.start())
            break
        if own or (h.start() >= first and not internal):
            break
        line = h.group(0)
        after = [x for x in _next_lines(flat, h.end(), 8) if x.strip()][:4]
        heads = {g.group(1).lower() for x in after if (g := _HEADER_NEXT.match(x)) is not None}
        address = "@" in line
        # a message's headers: two, with a subject or a sender's address; or a sender's address
        # and when it was sent or what about; or [red team 16] headers a blank line and a body
        # follow (a sender's address alone will do, or a header and a body that is no field)
        if (
            (len(heads) >= 2 and (address or not _SUBJECTS.isdisjoint(heads)))
            or (address and not _SENT_OR_SUBJECT.isdisjoint(heads))
            or _body_follows(flat, h.end(), line, heads, internal)
        ):
            if _own_metadata(flat, h, internal):
                continue
            first = min(first, h.start())
            own = own or _own_line(line, internal)
    start = first
    # [red team 16] the first quoted message is the organisation's own (``On …, Support
    # <desk@ourco…> wrote:``): what is above it is someone's reply to it, a customer's words as
    # likely as not, with nothing that says where the record's own text ends
    return 0 if own else start


def _has_block_tag(text: str) -> bool:
    """``text`` holds a tag :data:`_HTML_BREAK` breaks a line before (looked up with ``str.find``:
    the pattern tries every ``<``)."""
    low = text.lower()
    return any(low.find(t) >= 0 for t in _BLOCK_TAGS)


def _split_thread(text: str, internal: tuple[str, ...] = ()) -> tuple[str, str]:
    """[red team 14, 15] The e-mail a trusted record quotes or has forwarded into it (a ticket's
    thread, a case's history): its headers and its words are the sender's, who may be anyone
    (``From: Finance <billing@…>`` is what the sender's own client wrote). From the first line a
    mail client writes above a quoted message (``-----Original Message-----``, ``On … wrote:``
    also wrapped over three lines, ``Begin forwarded message:``, a line ending with ``<address>:``,
    Gmail's, Outlook's, Thunderbird's HTML quote), or the first header block (a ``From:`` line
    with two of ``Sent:``/``Date:``/``To:``/``Subject:`` in the four lines after it, and a
    subject or an ``@`` in the ``From:`` line; or a ``From:`` address with a date or a subject:
    not a shipment's ``From: Rotterdam / To: Hamburg``), to the end of the text, all is the
    outsiders'; so is every ``>`` line of a quoted reply. A header block whose ``From:`` is the
    organisation's own (``internal``) with no body below is the record's log of a message it
    sent. HTML is read with a line break before each block tag. Each pattern is tried only at
    the lines that hold one of its words."""
    if ">" not in text and ":" not in text and "\uff1a" not in text and "\uff1e" not in text:
        return text, ""
    view = _HTML_BREAK.sub("\n<", text) if "<" in text and _has_block_tag(text) else text
    # every line end as ``\n``, and one before the first line: the patterns start with it (the
    # regular expression engine looks for a literal first character fast; ``^`` it tries at
    # every position)
    flat = "\n" + "\n".join(view.splitlines())
    start = _thread_start(flat, flat.lower(), internal)
    record = flat[1:start]
    thread = flat[start + 1 :]
    if _QUOTED_LINES.search(flat, 0, start) is not None:
        keep: list[str] = []
        quoted: list[str] = []
        for line in record.split("\n"):
            (quoted if _QUOTED_LINE.match(line) is not None else keep).append(line)
        record = "\n".join(keep)
        thread = "\n".join([*quoted, thread]) if thread else "\n".join(quoted)
    if not thread.strip():
        return text, ""
    return record, thread


#: rows of one output's tables read at most (the rest of the text is then the outsiders')
_TABLE_ROWS = 20_000
#: a Markdown table's separator row (``|---|:--:|``)
_MD_RULE = re.compile(r"[ \t]*+\|?[ \t]*+:?-{2,}+:?[ \t]*+(?:\|[ \t]*+:?-{2,}+:?[ \t]*+){0,200}+\|?[ \t]*+")
#: words of a column that counts or dates what the party wrote, not their text
#: (``special_requests_count``) [red team 30]
_COUNT_WORDS = frozenset(
    {
        "count", "counts", "number", "num", "total", "totals", "qty", "quantity", "id", "ids",
        "date", "dates", "flag", "flags", "status", "type", "length", "len", "has", "received",
    }
)  # fmt: skip


def _table_delim(line: str) -> str | None:
    """The delimiter of a line that can head a table of three columns or more: a Markdown bar,
    else the most frequent of a tab, a semicolon and a comma (in that order on a tie: a header
    ``Phone, mobile;Check-in, time;…`` is a semicolon's)."""
    if line.lstrip().startswith("|") and line.count("|") >= 3:
        return "|"
    best, n = None, 1
    for d in ("\t", ";", ","):
        c = line.count(d)
        if c > n:
            best, n = d, c
    return best


def _md_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def _table_cells(line: str, delim: str) -> list[str]:
    if delim == "|":
        return _md_cells(line)
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:
        return []


def _row_width(line: str, delim: str) -> int:
    """How many cells ``line`` holds; a row ``csv`` cannot read (a cell past its size limit, a
    NUL) counts as wide enough to be one (its table is then the outsiders' from there)."""
    if delim == "|":
        return len(_md_cells(line))
    try:
        return len(next(csv.reader([line], delimiter=delim), []))
    except csv.Error:
        return 1 << 30


def _outsider_columns(cells: list[str]) -> list[int]:
    """The columns of a table's header that hold what an outside party wrote (``guest_comments``,
    ``Special requests``): none when the line is no header (fewer than three cells, a cell over 60
    characters or written ``label: value``). A column that counts or dates it is no such column."""
    if len(cells) < 3 or any(len(c) > 60 or ": " in c or c.rstrip().endswith(":") for c in cells):
        return []
    return [
        k
        for k, c in enumerate(cells)
        if c.strip() and not _words(c) & _COUNT_WORDS and _is_outside_label(c.strip())
    ]


def _split_table(text: str) -> tuple[str, str]:
    """[red teams 29, 30] The tables (CSV, TSV, semicolons, Markdown) whose header names a column
    the party fills in (``guest_comments``, ``Special requests``, :func:`_outsider_columns`): that
    column's cells are the outsiders', the other cells stay the record's (the guest's phone in the
    contact column). A header is a line of three short cells or more with, right below it, a row
    of at least as many cells less one (an exporter leaves an empty last cell out) or a Markdown
    rule. Rows are read as ``csv`` reads them (a quoted cell may hold a line break) and only a
    newline ends one (a U+2028 an outsider typed stays in their cell); a row with more cells than
    the header (a comma typed into an unquoted cell) gives the surplus too, from the first
    outsider column on; a header again (a second table, a repeated header) sets the columns anew.
    A table ends at a blank line or a line without its delimiter: the record's again from there.
    Each hinted line is a candidate header, however far down (found with ``str.find``)."""
    if "," not in text and "\t" not in text and ";" not in text and "|" not in text:
        return text, ""
    lines = text.split("\n")
    offsets: list[int] = []
    at = 0
    for x in lines:
        offsets.append(at)
        at += len(x) + 1
    low = text.lower()
    hinted: set[int] = set()
    steps = 0
    for word in _HINTS:
        at = low.find(word)
        while at >= 0 and steps <= _MAX_HINTS:
            i = bisect.bisect_right(offsets, at) - 1
            hinted.add(i)
            at = low.find(word, offsets[i] + len(lines[i]) + 1)
            steps += 1
    keep: list[str] = []
    out: list[str] = []
    pos = 0
    rows_left = _TABLE_ROWS
    for h in sorted(hinted):
        if h < pos or h + 1 >= len(lines):
            continue
        line = lines[h].rstrip("\r")
        delim = _table_delim(line)
        if delim is None:
            continue
        head = _table_cells(line.lstrip("\ufeff"), delim)
        cols = _outsider_columns(head)
        if not cols:
            continue
        # the first line below that holds the delimiter ([red team 31] past a blank line or a
        # group's heading, ``Floor 2``), within three lines
        # [red team 32] not for a line of prose (``Guest requests, housekeeping, maintenance``:
        # a comma and a space): its row must be right below
        reach = h + 2 if delim == "," and ", " in line else h + 4
        below = next((x for x in lines[h + 1 : reach] if delim in x), "").rstrip("\r")
        wide = max(3, len(head) - 1)
        if not (delim == "|" and _MD_RULE.fullmatch(below)) and _row_width(below, delim) < wide:
            continue
        keep.extend(lines[pos : h + 1])
        end, rows_left = _split_rows(lines, h + 1, delim, len(head), cols, keep, out, rows_left)
        pos = end
        if rows_left <= 0:
            out.extend(lines[pos:])
            pos = len(lines)
            break
    if not out:
        return text, ""
    keep.extend(lines[pos:])
    return "\n".join(keep), "\n".join(out)


def _split_rows(
    lines: list[str],
    start: int,
    delim: str,
    width: int,
    cols: list[int],
    keep: list[str],
    out: list[str],
    budget: int,
) -> tuple[int, int]:
    """Read the rows of the table whose first row is line ``start`` into ``keep`` (the record's
    cells) and ``out`` (the outsiders'): see :func:`_split_table`. Returns the line after the
    table and the rows still to be read."""
    n = start
    broke = False  # the line before was blank or a heading: a header there begins another table
    if delim == "|":
        while n < len(lines) and budget > 0:
            md = lines[n].rstrip("\r")
            n += 1
            budget -= 1
            if not md.strip() or "|" not in md:
                keep.append(md)  # [red team 31] a blank line or a group's heading: the table goes on
                broke = True
                continue
            if _MD_RULE.fullmatch(md) is not None:
                keep.append(md)
                continue
            cells = _md_cells(md)
            if broke and _new_table(cells):
                return n - 1, budget
            broke = False
            cols, width = _take_row(cells, "|", width, cols, keep, out)
        return n, budget
    reader = csv.reader((x.rstrip("\r") + "\n" for x in lines[start:]), delimiter=delim)
    read = 0
    try:
        for row in reader:
            took = reader.line_num - read
            first = lines[start + read]
            if not row or (len(row) == 1 and delim not in first):
                # [red team 31] a blank line, a floor's or a group's heading, the record's own line
                # (``Refund account: …``): the record's, and the table goes on (its rows below are
                # still read by the header's columns)
                keep.append(first.rstrip("\r"))
                read = reader.line_num
                broke = True
                continue
            if broke and _new_table(row):
                return start + read, budget  # another table begins: read on by its own header
            broke = False
            read = reader.line_num
            budget -= 1
            cols, width = _take_row(row, delim, width, cols, keep, out)
            if budget <= 0 or took <= 0:
                break
    except csv.Error:  # a NUL, a cell past the module's size limit: no row past here is vouched for
        out.extend(lines[start + read :])
        return len(lines), budget
    return start + read, budget


def _new_table(cells: list[str]) -> bool:
    """[red team 32] After a blank line or a heading, a row of column names with no outsider
    column (short cells of words only: no digit, no ``@``, no link, none empty) begins another
    table: the one before ends there (``Late arrivals`` / ``ref,eta,room,name,mobile``)."""
    return (
        len(cells) >= 3
        and all(
            c.strip() and len(c) <= 40 and not _DIGIT.search(c) and "@" not in c and "/" not in c
            for c in cells
        )
        and not _outsider_columns(cells)
    )


def _take_row(
    cells: list[str], delim: str, width: int, cols: list[int], keep: list[str], out: list[str]
) -> tuple[list[int], int]:
    """One row: a header again sets the columns anew, another table's header ends the table (no
    columns); else the outsider columns' cells (with a surplus, every cell from the first one on)
    go to ``out``, the rest to ``keep``."""
    # a header again (a second table, a repeated header) sets the columns anew; [red team 31] not a
    # row with more cells than the header (a guest who types ``| Special requests`` into their cell)
    again = _outsider_columns(cells) if len(cells) <= width else []
    if again:
        keep.append(delim.join(cells))
        return again, len(cells)
    extra = len(cells) - width
    first, last = min(cols), max(cols)
    theirs = set(cols) | set(range(first, last + extra + 1)) if extra > 0 else set(cols)
    out.extend(cells[k] for k in sorted(theirs) if k < len(cells) and cells[k].strip())
    keep.append(delim.join("" if k in theirs else c for k, c in enumerate(cells)))
    return cols, width


def _split_text(text: str, internal: tuple[str, ...] = ()) -> tuple[str, str]:
    """A record's text: the thread it quotes, then its tables' outsider columns, its outsiders'
    fields and its quotations."""
    record, thread = _split_thread(text, internal)
    record, table = _split_table(record)
    fields = _split_lines(record) if ":" in record or "|" in record or "\uff1a" in record else (record, "")
    rest, outside = _with_quotes(fields)
    if table:
        outside = f"{table}\n{outside}" if outside else table
    if not thread:
        return rest, outside
    return rest, f"{thread}\n{outside}" if outside else thread


def split_outsider(text: str, internal: tuple[str, ...] = ()) -> tuple[str, str]:
    """``(the record, what outsiders wrote in it)`` (see the module docstring); ``(text, "")``
    when no part of ``text`` is an outsider's. ``internal``: the organisation's domains (a
    message logged ``From:`` one of them, a JSON message ``from`` one, is its own)."""
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
                rest = _split_json(doc, out, internal=internal)
            except RecursionError:
                return _split_text(text, internal)
            if not out:
                return text, ""
            return json.dumps(rest, ensure_ascii=False), "\n".join(out)
    return _split_text(text, internal)
