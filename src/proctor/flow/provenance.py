"""Where a call's argument values came from (issue 15, ADR 0025 §3).

A :class:`SourceIndex` holds a task's sources — the intent (purpose text, ``--param`` values) and
the outputs it has read, each trusted or untrusted — normalised **once**, when added, into
inverted indexes (key → the sources holding it):

- **terms**: maximal runs of letters, digits, ``-``, ``_`` and ``.`` (casefolded, edge ``-_.``
  stripped): ``evil-example.com`` is one term, so the value ``example.com`` is *not* found in it;
  ``alice@example.com`` holds the terms ``alice`` and ``example.com``;
- **e-mail addresses** (lower case);
- **URLs**, normalised: scheme and host lower case, default port dropped, trailing ``/`` of the
  path dropped, fragment dropped;
- **numbers** as :class:`~decimal.Decimal` (``1,500.00``, ``1.500,00``, ``$1500``, ``1500 EUR``,
  ``1 500`` are all 1500; an ambiguous ``1,500`` is indexed as both 1500 and 1.5);
- **identifiers**: runs of groups (holding a digit, or of at most 4 letters) separated by spaces,
  ``-``, ``.``, ``/``, ``(``, ``)``, ``+``, near 6+ digits, squashed to their casefolded letters
  and digits: every window of consecutive groups of up to 40 characters with 6+ digits, at least
  half of them digits, starting with a digit group or a prefix of up to 3 letters and ending with
  a digit group (an IBAN, phone, card or account number written with or without
  separators; a window starts and ends at group boundaries, so ``12345678`` is not found inside
  ``9912345678``).

:meth:`SourceIndex.trace` looks each argument value up in those indexes — O(1) per key; a value of
several terms (``ACME Energy GmbH``) takes the sources holding all its terms (an intersection of
postings) and confirms it with one substring search in each of them, at term boundaries. The best
origin wins: ``intent`` > ``trusted`` > ``untrusted`` > ``none``.

Decisions:

- booleans and ``null`` are not traced; a call whose effect is ``read`` is not traced at all;
- **trivial values** — strings shorter than 3 characters and integers from -31 to 31 — appear in
  every text, so tracing them says nothing; when they are *not* a destination they are recorded as
  ``intent`` with the source ``trivial`` (they must not make a call look made-up or untrusted).
  A trivial *destination* value is traced like any other;
- **free text** longer than 200 characters (a mail body) is never a destination; it is traced as a
  whole (found when a source holds it verbatim up to case and whitespace, as when a document is
  forwarded) and is otherwise ``none`` — a model-written body is, truthfully, from nowhere;
- a list path (``to[]``) gets the *worst* origin of its elements, with that element's sources;
- a path is a destination when it, or a containing path, is one of :func:`destination_paths`.

What counts as intent and as content (issue 15 follow-up):

- **the requester** (``requester=``, the task's ``requested_by``) is intent, as an e-mail address
  only (source ``requester``): "send me the summary" goes to them; its terms (``example.com``)
  are not indexed, so they do not make other values look requested;
- **tool descriptions** (:meth:`SourceIndex.set_descriptions`, the tools the task can see) are
  untrusted sources named ``description:<tool>``: the model reads them and the tool server's
  author wrote them. They are not outputs (no eviction, no size, no labels raised);
- **values embedded in free text**: every string argument that is not a destination is searched
  for URLs, e-mail addresses and IBANs (check digits verified, so dates and order numbers are not
  read as IBANs); each is traced on its own under the path ``<arg>#url``, ``<arg>#email`` or
  ``<arg>#iban`` (one per argument and kind, the worst origin). A URL not found whole is traced
  by its host (a link the model built on a host it read). A value that *is* one URL or address
  whole is traced as itself, not again as embedded. The registrable domains of the untrusted
  ones are ``Provenance.embedded_domains`` (:func:`registrable_domain`);
- **off-param arguments**: an argument whose name (its last field, snake case) is an explicit
  parameter's (``--param amount=20``) but whose value is neither that parameter's nor anywhere
  else in the intent (purpose, other parameters, requester) is listed in ``Provenance.off_param``
  (trivial values are compared too): the requester fixed that value.
"""

from __future__ import annotations

import functools
import html
import json
import re
import string
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit, urlunsplit

from proctor.flow.detect import scan_credentials
from proctor.flow.labels import injection_markers
from proctor.flow.model import (
    ArgOrigin,
    Origin,
    Provenance,
    Trust,
    lookalike_name,
    lookalike_of,
    lookalike_skeleton,
    mail_provider,
)
from proctor.flow.outsider import split_outsider
from proctor.store.base import ToolRecord

__all__ = [
    "DESTINATION_NAMES",
    "LONG_TEXT",
    "UNKNOWN_HOST",
    "SourceIndex",
    "destination_domains",
    "destination_paths",
    "embedded_values",
    "forget_values",
    "ibans",
    "leaf_values",
    "normalise_url",
    "normalise_value",
    "parse_amounts",
    "registrable_domain",
    "reply_targets",
    "url_host",
    "utf8_size",
]

#: argument names (the last field of a path, or its last ``_``-separated word) that decide where
#: data or money goes
DESTINATION_NAMES = frozenset(
    {
        "to",
        "cc",
        "bcc",
        "recipient",
        "recipients",
        "email",
        "emails",
        "address",
        "addresses",
        "iban",
        "account",
        "account_number",
        "payee",
        "beneficiary",
        "url",
        "uri",
        "link",
        "endpoint",
        "webhook",
        "host",
        "hostname",
        "domain",
        "participants",
        "attendees",
        "invitees",
        "members",
        "share_with",
        "grantee",
        "grantees",
        "user",
        "users",
        "phone",
        "phone_number",
        # where data goes, by other common names
        "destination",
        "destinations",
        "dest",
        "send_to",
        "forward_to",
        "reply_to",
        "to_list",
        "cc_list",
        "bcc_list",
        "recipient_list",
        "email_list",
        "channel",
        "owner",
        "collaborator",
        "collaborators",
    }
)
#: for tools flagged ``destructive`` or ``access_control``: the file to delete or share
_FILE_NAMES = frozenset(
    {
        "path",
        "paths",
        "file",
        "files",
        "file_id",
        "file_path",
        "filename",
        "document",
        "documents",
        "document_id",
        "doc_id",
    }
)
#: for tools flagged ``access_control``: who gets in, by the names identity systems use
_PRINCIPAL_NAMES = frozenset(
    {
        "username",
        "user_name",
        "user_id",
        "login",
        "handle",
        "principal",
        "principal_id",
        "member",
        "member_id",
        "assignee",
        "invitee",
        "group_member",
    }
)
#: destination arguments whose bare value is a host name
_HOST_NAMES = frozenset(
    {"host", "hostname", "domain", "domains", "url", "uri", "link", "endpoint", "webhook", "website", "site"}
)
_DEST_FORMATS = frozenset({"email", "idn-email", "uri", "url", "iri", "uri-reference", "hostname"})

#: free text longer than this (normalised) is never a destination
LONG_TEXT = 200
_TRIVIAL_INT = 31
#: the longest identifier indexed, in letters and digits (an IBAN has at most 34)
_IDENT_MAX = 40
_IDENT_DIGITS = 6

_TERM = re.compile(r"[^\W_]+(?:[-_.]+[^\W_]+)*")
_TERM_ASCII = re.compile(r"[a-z0-9]+(?:[-_.]+[a-z0-9]+)*")  # the same on lower-case ASCII, faster
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+",
    re.IGNORECASE,
)
#: the run of local-part characters that ends where the search ends (starting only where such a
#: run starts: a search over a window is linear in it)
_LOCAL_TAIL = re.compile(r"(?<![a-z0-9!#$%&'*+/=?^_`{|}~.-])[a-z0-9!#$%&'*+/=?^_`{|}~.-]+$", re.IGNORECASE)
#: an ``@`` that may be an address's: after a character a local part ends with, before a
#: domain's first label and dot (found by the regex engine, not tried one by one)
_AT = re.compile(r"(?<=[a-z0-9!#$%&'*+/=?^_`{|}~-])@(?=[a-z0-9][a-z0-9-]*\.[a-z0-9])", re.IGNORECASE)
#: the ``@`` of addresses read per text at most (the distinct addresses: ``_MAX_KEYS``, as URLs)
_MAX_AT = 100_000
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~.-")
_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAIL = ".,;:!?)]}>'\""
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]", re.IGNORECASE)
# a number as written: digits with separators (a sign or currency around it does not matter:
# values are compared as absolute amounts); one pass finds both numbers and digit clusters
_NUMBER = re.compile(r"\d(?:[\d,.'\u00a0\u202f ]*\d)?")
# a whole value that is an amount: a number with at most a currency code or symbol around it
_AMOUNT = re.compile(r"([A-Za-z]{3}\s?)?([-+]?[$€£¥]?\s?\d[\d,.'\u00a0\u202f ]*)(\s?[A-Za-z]{3}|\s?[$€£¥])?")
_LEADING_GROUP = re.compile(r"\d+[,.'\u00a0\u202f ]*")
# a run of groups that could form an identifier: groups holding a digit, or short letter groups
# (an IBAN's country and bank codes), separated by spaces, ``-``, ``.``, ``/``, ``(``, ``)``, ``+``
_IDENT_GROUP = r"(?:[^\W_]*\d[^\W_]*|[^\W\d_]{1,4})(?![^\W_])"
#: the same groups as :data:`_IDENT_GROUP` where a group starts (after no letter or digit): a
#: whole word that holds a digit or is at most four letters, read without backtracking (the
#: greedy form tries every shorter prefix of each word first, the most of the pattern's cost)
_IDENT_WORD = r"(?=[^\W\d_]{0,4}+(?![^\W_])|[^\W\d_]*+\d)[^\W_]++"
_IDENT_RUN = re.compile(rf"(?<![^\W_]){_IDENT_WORD}(?:[ \-./()+]{{1,3}}{_IDENT_WORD})*")
#: :data:`_IDENT_RUN` for ASCII text (where ``[^\W_]`` is ``[a-zA-Z0-9]`` and ``\d`` is ``[0-9]``;
#: character ranges are tested faster than Unicode categories)
_IDENT_WORD_ASCII = r"(?=[a-zA-Z]{0,4}+(?![a-zA-Z0-9])|[a-zA-Z]*+[0-9])[a-zA-Z0-9]++"
_IDENT_RUN_ASCII = re.compile(
    rf"(?<![a-zA-Z0-9]){_IDENT_WORD_ASCII}(?:[ \-./()+]{{1,3}}{_IDENT_WORD_ASCII})*"
)
_NON_DIGIT = re.compile(r"\D+")
#: digits closer than this belong to one cluster; the region around it extends this far
_CLUSTER_GAP = 24
#: numbers, identifiers and URLs indexed per source at most (bounds the work a crafted output
#: can cost; values past it are not found: ``none``, never a better origin)
_MAX_KEYS = 20_000
#: identifier windows tried per source at most (~0.1 s of work)
_MAX_WORK = 200_000
#: a number written longer than this is read only as its space-separated pieces
_MAX_NUMBER = 48
_CLUSTER_MARGIN = 24
_GROUP = re.compile(r"[^\W_]+")
_SQUASH = re.compile(r"[\W_]+")
#: an argument value longer than this (normalised) is free text, never compared with a parameter
_OFF_PARAM_MAX = 64
#: tool descriptions indexed per task at most, and the characters of each
_MAX_DESCRIPTIONS = 500
_MAX_DESCRIPTION = 16_384
_SCHEMES = ("https", "http", "ftp", "wss", "ws")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_ORDER = {Origin.INTENT: 0, Origin.TRUSTED: 1, Origin.UNTRUSTED: 2, Origin.NONE: 3}


# ---- normalisation -------------------------------------------------------------------------------


#: the ASCII whitespace ``str.split`` splits at, but for the space and the newline
_ASCII_ODD_SPACE = "\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _norm(text: str) -> str:
    """Casefolded, whitespace collapsed (NFKC first: full-width digits, non-breaking spaces)."""
    if text.isascii():  # NFKC leaves ASCII alone and casefold is lower
        low = text.lower()
        # (printable text holds none of them: one C pass for a short value, not eight)
        if low.isprintable() or not any(c in low for c in _ASCII_ODD_SPACE):
            # only spaces and newlines: one space each, unless two are adjacent (``str.split``
            # and a join, ~10 ns per character, are needed only then)
            flat = low.replace("\n", " ") if "\n" in low else low
            if "  " not in flat:
                return flat.strip(" ")
        return " ".join(low.split())
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _terms(norm: str) -> list[str]:
    return (_TERM_ASCII if norm.isascii() else _TERM).findall(norm)


#: every ASCII character but ``a-z``, ``0-9``, ``-``, ``_`` and ``.`` made a space (bytes)
_NOT_TERM_ASCII = bytes(
    i if chr(i) in string.ascii_lowercase + string.digits + "-_." else 0x20 for i in range(256)
)


def _term_keys(norm: str) -> set[str]:
    """The keys of the distinct terms of ``norm`` (``"t"`` + each of :func:`_terms`). On ASCII
    text without the pattern: a term is a run of ``a-z0-9-_.`` stripped of its edge ``-_.``
    (``_TERM_ASCII`` matches exactly that in each run holding a letter or digit)."""
    if not norm.isascii():
        return {"t" + t for t in set(_terms(norm))}
    runs = set(norm.encode("ascii").translate(_NOT_TERM_ASCII).decode("ascii").split())
    return {"t" + t for t in {r.strip("-_.") for r in runs} if t}


def normalise_url(url: str) -> str | None:
    """``HTTPS://Example.COM:443/a/#x`` → ``https://example.com/a``; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not scheme or not host:
        return None
    netloc = host
    if parts.username is not None:
        netloc = parts.username + (":" + (parts.password or "") if parts.password else "") + "@" + host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


#: the domain reported for a destination that looks like a URL or an address but whose host this
#: parser cannot determine: never internal (no domain ends with it), so it is outside
UNKNOWN_HOST = "(unparseable host)"
#: schemes whose URLs a client resolves to a host as WHATWG's "special" schemes do
_SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_TAB_NL = re.compile(r"[\t\r\n]")
_C0_SPACE = "".join(chr(i) for i in range(0x21))
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def _parse_url_host(text: str) -> str | None:
    """The host an HTTP client reaches for ``text``, parsed as the WHATWG URL standard does
    (browsers, httpx): leading and trailing spaces and controls dropped, tab/CR/LF removed
    anywhere, ``\\`` read as ``/``, any number of slashes after a special scheme (``https:host``
    too), a scheme-relative ``//host``, the user info up to the *last* ``@`` of the authority, the
    port dropped, percent-escapes decoded, lower case, IDNs as punycode. None when ``text`` is not
    a URL of a special scheme (nor scheme-relative); :data:`UNKNOWN_HOST` when it is one but its
    host cannot be determined."""
    s = _TAB_NL.sub("", text.strip(_C0_SPACE))
    m = _SCHEME.match(s)
    if m is not None:
        if m.group(1).lower() not in _SPECIAL:
            return None
        rest = s[m.end() :].replace("\\", "/")
    elif s[:2] in ("//", "\\\\", "/\\", "\\/"):
        rest = s.replace("\\", "/")
    else:
        return None
    rest = rest.lstrip("/")
    end = len(rest)
    for c in "/?#":
        at = rest.find(c)
        if 0 <= at < end:
            end = at
    authority = rest[:end]
    host = authority.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 literal
        close = host.find("]")
        if close < 0 or not re.fullmatch(r"[0-9a-fA-F:.]+", host[1:close]):
            return UNKNOWN_HOST
        return host[: close + 1].lower()
    host = host.rpartition(":")[0] if re.search(r":\d*$", host) else host
    if "%" in host:
        try:
            host = _PERCENT.sub(lambda x: chr(int(x.group(0)[1:], 16)), host)
        except ValueError:
            return UNKNOWN_HOST
    host = unicodedata.normalize("NFKC", host).lower().rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return UNKNOWN_HOST
    if _HOST.fullmatch(host) or _IPV4.fullmatch(host):
        return host
    return UNKNOWN_HOST


#: what :func:`url_host`, :func:`_domains_of` and :func:`_redirect_hosts` gave for a plain string
#: of at most :data:`_VALUE_MEMO_CHARS` characters: pure functions of it, read again and again for
#: one call (each destination value by the destination rules, :meth:`SourceIndex.trace` and
#: :func:`destination_domains`). Forgotten after each call's facts (:func:`forget_values`, from
#: ``TaskFlow.facts``): argument values (a link may carry a token) are not kept past the call that
#: read them; cleared whole past :data:`_VALUE_MEMO_MAX` entries too
_VALUE_MEMO: dict[tuple[str, str, bool], Any] = {}
_VALUE_MEMO_CHARS = 256
_VALUE_MEMO_MAX = 8192
_MISSING = object()


def forget_values() -> None:
    """Forget what :data:`_VALUE_MEMO` holds (the values of the call whose facts were read)."""
    _VALUE_MEMO.clear()


def _remember(key: tuple[str, str, bool], value: Any) -> Any:
    if len(_VALUE_MEMO) >= _VALUE_MEMO_MAX:
        _VALUE_MEMO.clear()  # bounded; cleared whole (no order to keep between threads)
    _VALUE_MEMO[key] = value
    return value


def url_host(text: str) -> str | None:
    """See :func:`_parse_url_host` (remembered for a short plain string: :data:`_VALUE_MEMO`)."""
    if type(text) is not str or len(text) > _VALUE_MEMO_CHARS:
        return _parse_url_host(text)
    key = ("h", text, False)
    got = _VALUE_MEMO.get(key, _MISSING)
    if got is _MISSING:
        got = _remember(key, _parse_url_host(text))
    return got  # type: ignore[no-any-return]


def _url_host(url: str) -> str | None:
    return url_host(url)


def _parse_number(raw: str) -> set[Decimal]:
    """Every reading of one written number (``1,500`` → {1500, 1.5})."""
    s = raw.strip()
    if len(s) > _MAX_NUMBER:
        return set()
    s = s.lstrip("+-").lstrip("$€£¥").strip()
    s = s.replace("\u00a0", " ").replace("\u202f", " ").replace("'", "")
    out: set[Decimal] = set()
    candidates: list[str] = []
    if " " in s:
        groups = s.split(" ")
        if all(len(g) == 3 and g.isdigit() for g in groups[1:-1]) and 1 <= len(groups[0]) <= 3:
            candidates.append("".join(groups))
        s = s.replace(" ", "")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):  # 1.500,00
            candidates.append(s.replace(".", "").replace(",", "."))
        else:  # 1,500.00
            candidates.append(s.replace(",", ""))
    elif "," in s:
        parts = s.split(",")
        if all(len(p) == 3 for p in parts[1:]):
            candidates.append(s.replace(",", ""))  # 1,500 as thousands
        if len(parts) == 2:
            candidates.append(s.replace(",", "."))  # 1,5 as decimals
    elif "." in s:
        parts = s.split(".")
        if len(parts) == 2:
            candidates.append(s)
        if all(len(p) == 3 for p in parts[1:]):
            candidates.append(s.replace(".", ""))  # 1.500 as thousands
    else:
        candidates.append(s)
    for c in candidates:
        try:
            d = Decimal(c)
        except InvalidOperation:
            continue
        if d.is_finite():
            out.add(abs(d))  # signs are not compared: ``INV-1500`` is not minus 1500
    return out


def parse_amounts(text: str) -> set[Decimal]:
    """The numbers a whole value can mean (``"1,500.00"``, ``"$1500"``, ``"1500 EUR"``); empty when
    the value is not a number with at most a currency symbol or code around it."""
    s = text.strip()
    m = re.fullmatch(
        r"([A-Za-z]{3}\s?)?([-+]?[$€£¥]?\s?\d[\d,.'\u00a0\u202f ]*)(\s?[A-Za-z]{3}|\s?[$€£¥])?", s
    )
    if not m or (m.group(1) and m.group(3)):
        return set()
    return _parse_number(m.group(2).strip())


#: ASCII digits made ``1``, every other byte ``.``: where a number can start, found with ``bytes.find``
_DIGIT_MARKS = bytes(0x31 if 0x30 <= i <= 0x39 else 0x2E for i in range(256))


def _number_spans(norm: str) -> list[tuple[int, int, str]]:
    if not norm.isascii():
        return [(m.start(), m.end(), m.group(0)) for m in _NUMBER.finditer(norm)]
    # the matches of ``_NUMBER.finditer``: each starts at the first digit after the last one (and
    # it matches at every digit); the pattern tried at every position costs ~10 ns per character
    out: list[tuple[int, int, str]] = []
    marks = norm.encode("ascii").translate(_DIGIT_MARKS)
    match = _NUMBER.match
    at = marks.find(b"1")
    while at >= 0:
        m = match(norm, at)
        if m is None:  # never: a digit is a number
            break
        end = m.end()
        out.append((at, end, m.group(0)))
        at = marks.find(b"1", end)
    return out


#: what joins the digit groups of a code or a date (``6204-2RS``, ``2026-04-02``, ``V-118``, ``4/12``)
_CODE_JOIN = "-/"


def _in_code(norm: str, start: int, end: int) -> bool:
    """The digits ``norm[start:end]`` are joined to letters or digits by ``-`` or ``/``."""
    before = norm[start - 2 : start] if start >= 2 else ""
    after = norm[end : end + 2]
    return (len(before) == 2 and before[1] in _CODE_JOIN and before[0].isalnum()) or (
        len(after) == 2 and after[0] in _CODE_JOIN and after[1].isalnum()
    )


#: a code of the request's purpose: a run of letters, digits and inner ``-``/``/``/``.`` holding
#: a letter and a digit (``mds-220931``, ``p-19552``, ``inc-2291``)
_PURPOSE_CODE = re.compile(r"(?<![^\W_])[^\W_]{1,40}(?:[-/.][^\W_]{1,40}){0,6}")
#: currency codes a record states money with (those of the starter's ``currency.rates`` and more)
_CODES = "usd|eur|gbp|chf|jpy|cad|aud|nzd|nok|sek|dkk|pln|czk|sgd|hkd|inr|brl|mxn"
#: currency signs (after NFKC: the full-width yen sign is ``¥``), ``円`` written after a figure
_SIGNS = "$€£¥₹₩₺₽₪₫₱₦฿円"
#: words that name an amount of money in a record's field or a table's header
_RECORD_MONEY_WORDS = (
    "amount|total|subtotal|balance|price|cost|fee|charge|credit|refund|paid|gross|outstanding"
    "|payable|owed|owing|amt"
    # [red team 22] records in other languages (``Betrag 3.184,50``)
    "|betrag|summe|preis|montant|prix|importe|precio|importo|bedrag|belopp|beløb|kwota"
    # [red team 25] Portuguese, Russian, Turkish, Czech, Finnish
    "|valor|сумма|tutar|částka|summa"
    # [red team 26] an accounting column, SAP's values
    "|debit|net value|gross value|invoice value|total value|net worth"
)
#: [red team 25] money words of scripts with no spaces between words: found inside a compound
#: (``請求金額``)
_CJK_MONEY_WORDS = "金額|金额|合計|合计|総額|总额|請求額|请求额|금액|합계"
#: [red team 22] what may follow a money word inside a field's name (``amount_due``,
#: ``totalAmount``, ``amount_cents``, ``price_eur``): nothing else (``totalCount``,
#: ``grossWeightKg``, ``costCenter``, ``creditorId`` are no money)
_MONEY_SUFFIXES = (
    "amount|amt|due|value|sum|total|net|gross|paid|payable|outstanding|open|remaining|incl|excl"
    "|vat|tax|cents|minor|local|doc|invoice|before|after"
    # [red team 23] ``amountInCents``, ``amountInvoiced``, ``totalBilled``, ``balanceForward``,
    # ``amountLocalCurrency``, ``amountJPY``
    "|in|billed|invoiced|charged|approved|requested|receivable|forward|currency|" + _CODES
)
#: longest first: the alternation is possessive (``invoiced`` before ``in``)
_MONEY_SUFFIXES = "|".join(sorted(_MONEY_SUFFIXES.split("|"), key=lambda w: (-len(w), w)))
#: [red team 22] money words a field's name may end with after other words (``invoiceGrossAmount``,
#: ``NetAmount``, ``InvoiceTotalValue``): found inside a word too
_MONEY_TAILS = (
    "amount|total|price|balance"
    # [red team 23] compounds of other languages (``Rechnungsbetrag``, ``Gesamtsumme``,
    # ``Endpreis``, ``factuurbedrag``, ``fakturabelopp``)
    "|betrag|summe|preis|bedrag|belopp|beløb"
    # [red team 26] ``Nettowert``, ``Rechnungswert``, ``Warenwert``
    "|wert"
)


def _word_heads(words: str) -> str:
    r"""Alternatives for ``words`` (``a|b``) each found only where a word starts, written so the
    first character is a plain literal (``t(?<![^\W_]t)otal``): the regex engine then skips every
    position whose character starts none of them (linear, and fast on long texts)."""
    return "|".join(
        re.escape(w[0]) + r"(?<![^\W_]" + re.escape(w[0]) + ")" + re.escape(w[1:]) for w in words.split("|")
    )


#: :data:`_MONEY_TAILS` after a letter, each with a plain first character (see :func:`_word_heads`)
_TAIL_HEADS = "|".join(w[0] + "(?<=[a-z]" + w[0] + ")" + w[1:] for w in _MONEY_TAILS.split("|"))
#: [red team 22] not a date written with dots, slashes or dashes (``18.12.2026``, ``12/18/26``)
_NOT_A_DATE = r"(?!\d{1,4}[./-]\d{1,2}[./-]\d)"
#: the units a figure can be written before (``3,184.50 euros``, ``31 845,00 kr``)
_UNITS = f"{_CODES}|euros?|dollars?|pounds?|francs?|kronor|kroner|kr|zł|kč|yen|rupees?"
#: [red team 26] what may qualify a money field's name before its colon (``total (gross):``,
#: ``total incl. vat:``): a short parenthesis, a tax's inclusion
_QUALIFIER = r"(?:\s?\([a-z. ]{1,20}+\)|\s(?:incl|excl|inkl|exkl)\.?\s?(?:of\s)?(?:vat|tax|mwst|ust|gst)\b)?+"
#: an amount of money in a record (searched in :func:`_record_text`: casefolded, whitespace
#: collapsed), each form its own pattern, linear (a run of digits is tried from its start only
#: and at most 30 characters of it, every other repetition is bounded or possessive):
_RECORD_MONEY = (
    # a sign beside a figure (``$3``, ``3,184.50 €``)
    re.compile(rf"[{_SIGNS}]\s?[-+]?\d"),
    re.compile(rf"\d\s?[{_SIGNS}]"),
    # a code before a figure, with a colon, a sign, a closing parenthesis or the end of a tag
    # between them ([red team 21] ``total (eur): 3``, ``currencyid="eur">3184.50``)
    re.compile(rf"(?:{_word_heads(_CODES)})\)?[\s:=\"'>]{{0,4}}[-+]?\d"),
    # [red team 20] a field named like money with a number (``"amount": 3184.5``, ``total
    # 3,184.50``, ``amount_cents=318450``; [red team 21] ``amountdue`` of ``AmountDue``,
    # ``outstanding: 3,184.50``): the record's figure even with no currency beside it; not a date
    # (``amount_due_date: 2026-12-18``)
    # [red team 25] or a money key whose object holds the number (``"amount": {"currency":
    # "eur", "value": 318450}``: a JSON number has no trailing zero, ``3184.5``), tried from the
    # same word (one scan for both)
    re.compile(
        rf"(?:{_word_heads(_RECORD_MONEY_WORDS)})(?:(?:_?+(?:{_MONEY_SUFFIXES})){{0,2}}+{_QUALIFIER}[\"']?[\s:=>]{{0,3}}[\"']?"
        rf"{_NOT_A_DATE}[-+]?\d(?!\d*+[-/]\d)"
        rf"|[a-z_]{{0,20}}+[\"']?\s?[:=]\s?\{{[^{{}}]{{0,80}}?"
        r"(?<![a-z_])(?:value|amount|units|cents|minor[a-z_]{0,10})[\"']?\s?[:=]\s?[\"']?[-+]?\d)"
    ),
    # [red team 22] a field whose name ends with a money word after other words
    # (``invoicegrossamount": "3184.50``, ``invoicetotalvalue>3184.50``)
    re.compile(
        rf"(?:{_TAIL_HEADS})(?:_?+(?:{_MONEY_SUFFIXES})){{0,2}}+[\"']?[\s:=>]{{1,3}}[\"']?{_NOT_A_DATE}[-+]?\d(?!\d*+[-/]\d)"
    ),
    # ``due`` and ``net`` are also dates and terms (``due: 2026-12-18``, ``net 30``): a figure
    # after them has three digits or a separator, and is no date (``due: 18.12.2026``)
    re.compile(
        rf"(?:{_word_heads('due|net')})\b[\"']?[\s:=]{{0,3}}[\"']?{_NOT_A_DATE}[-+]?"
        r"(?:\d{3,}+|\d{1,2}[,.]\d)(?![-/]\d)"
    ),
)
#: a unit anywhere (the figure-before-unit form is searched only then: it tries every digit)
_UNIT = re.compile(_word_heads(_UNITS))
#: [red team 22] the unit may be in the next cell (``3,184.50 | eur``, ``3184.50,eur``)
_FIGURE_UNIT = re.compile(
    rf"\d(?<![\d.]\d)(?<!\d,\d)(?<![-/]\d)[\d,.]{{0,30}}+(?:(?<=[.,]\d\d)\s?[|,;]\s?|\s?)(?:{_UNITS})\b"
)
#: [red team 24/25] a whole number in a cell of its own (``3184``, ``3 184``, ``3'184``,
#: ``318450``): at most 30 characters, so each cell is read once
_CELL_FIGURE = r"(?:\d{1,3}+(?:[,. '\u2019]\d{3}){1,6}+|\d{1,30}+)(?!\d)"
#: [red team 24/25] a figure that fills its own cell, its currency in the next one (``| 3184 |
#: eur``, ``318450;jpy``) or the one before (``| eur | 3184 |``, ``eur;3184``): the cell starts
#: the text or follows ``|``, ``,`` or ``;`` and holds only the figure (not a date or a code:
#: ``| 2026-12-18 | eur``, ``bw-7731;eur``). Read by :func:`_cell_money`, which keeps only a
#: figure with a thousands mark, or one in a record with a money word (a vendor number or a
#: company code beside a currency column is no amount) and never a bare year (``| 2026 | eur``)
_CELL_MONEY = re.compile(
    rf"(?:^|(?<=[|,;]))\s?(?:(?P<a>{_CELL_FIGURE})\s?[|,;]\s?(?:{_UNITS})\b"
    rf"|(?:{_CODES}|[{_SIGNS}])\s?[|,;]\s?[-+]?(?P<b>{_CELL_FIGURE})(?:[.,]\d\d)?\s?(?:[|,;]|$))"
)
#: [red team 25] cell boundaries of an HTML table (``</td><td>``) and of a quoted CSV
#: (``"3184","eur"``), made ``|`` before cells are read
_CELL_MARKS = re.compile(r'(?:\s?</?t[dh](?:\s[^<>]{0,80})?>\s?)++|"\s?[,;]\s?"')
_YEAR = re.compile(r"(?:19|20)\d\d")


def _cell_money(cells: str, money_word: bool) -> bool:
    """A figure in a cell of its own beside its currency (:data:`_CELL_MONEY`) in ``cells``
    (:func:`_record_text` with :data:`_CELL_MARKS` made ``|``); ``money_word``: the record has a
    money word (:data:`_MONEY_HEADER`)."""
    for m in _CELL_MONEY.finditer(cells):
        figure = m.group("a") or m.group("b") or ""
        if figure.isdigit():
            if money_word and not _YEAR.fullmatch(figure):
                return True
        elif money_word or not figure[-4:-3].isspace():
            # a thousands mark; a space alone only beside a money word (``12 2026`` is a date's)
            return True
    return False


#: a figure written with cents (``3,184.50``, ``3184,50``), linear ([red team 22] an unbounded
#: repetition of groups, tried from every group after a separator, cost 26 minutes on 1 MB of
#: serial numbers); not a date (``27.11.2026``), a version (``v1.25``, ``1.25.3``) or a measure
#: (``412.50 kg``), a time ([red team 24] ``14.30 uhr``, ``9.15 am``, ``14:30``) or a rate
#: (``rate 2.50``)
_CENTS = (
    r"\d(?<![\da-z.]\d)(?<!rate \d)(?<!rate: \d)\d{0,9}+(?:[,. ]\d{3}){0,5}+[.,]\d\d(?!\d|[.,:]\d)"
    r"(?!\s?(?:kg|g|lbs?|oz|km|m|cm|mm|l|ml|%|h|hrs?|hours?|days?|min|mins|am|pm|a\.m|p\.m|uhr"
    r"|utc|gmt|cet|cest|est|edt|pst|pdt|o'clock)\b)"
)
#: [red team 21] a money word as a table's or a CSV's header, or a key of a nested object
#: (``| amount |``, ``invoice,vendor,amount``, ``"amount": {"value": "3184.50"}``), with a figure
#: written with cents after it ([red team 22] within 120 characters: a row's cell, the object's
#: value; not a version or a weight anywhere in the record)
_MONEY_HEADER = re.compile(
    # [red team 26] a compound's money tail too (``nettowert``, ``rechnungsbetrag``)
    rf"(?:(?:{_word_heads(_RECORD_MONEY_WORDS)}|{_TAIL_HEADS})(?![a-z])|{_CJK_MONEY_WORDS})"
    # [red team 25] not a column of weights, hours or cost centres (``gross weight (kg)``,
    # ``cost centre``)
    r"(?!\s?(?:weight|centre|center|hours?|days?|rate|units?|count|qty|quantity|type|category)\b)"
)
_CENTS_AT = re.compile(_CENTS)
#: how far after a money header its figure may be: [red team 24] in prose 120 characters (a
#: time or a rate two sentences after ``paid`` is no amount); [red team 25] in a record with
#: any mark of a table (:data:`_TABULAR`) 400 (a wide table's last column)
_HEADER_REACH, _TABLE_HEADER_REACH = 120, 400
#: [red team 25] a record written as a table: a tab, a ``|``, an HTML cell or row, or a ``,``/``;``
#: with no space after it (a CSV; prose puts a space after a comma, a figure a digit)
_TABULAR = re.compile(r"[\t|]|<t[dhr]\b|[,;](?=[^\s\d])", re.I)


#: what ends a cell (a table's, a CSV's, an HTML one's) or a sentence
_CELL_ENDS = '|"<>,;'
#: [red team 26] abbreviations of a header cell or a note, whose dot ends no sentence
_ABBREVIATIONS = "no nr inv doc ref incl excl qty amt curr approx co ltd inc vs etc dept acct vol net st"
_SENTENCE_END = re.compile(
    # [red team 26] not an abbreviation (``doc. no.``, ``inv. no.``, ``incl. vat``, ``e.g.``)
    r"[.!?](?<!\b[^\W\d_][.])" + "".join(rf"(?<!\b{a}[.])" for a in _ABBREVIATIONS.split()) + " "
)


def _in_prose(norm: str, start: int) -> bool:
    """[red team 25] The word at ``start`` follows the end of a sentence in its cell (within 80
    characters): ``| approved. freight is paid by`` is prose inside a table's row, ``|
    invoice amount (net) |`` and a TSV's header (``status amount``) are not."""
    before = norm[max(0, start - 80) : start]
    cut = max(before.rfind(c) for c in _CELL_ENDS)
    return _SENTENCE_END.search(before, cut + 1) is not None


#: [red team 26] a currency named in a money header (``amount (jpy)``, ``金額(円)``): its column's
#: figures need no cents (a yen ledger writes none)
_HEADER_CURRENCY = re.compile(
    # [red team 27] also inside a short bracket, after ``in`` or ``/`` (``amount (jpy, incl.
    # tax)``, ``amount in jpy``, ``amount / jpy``)
    rf"\s?(?:[(\[][^()\[\]]{{0,24}}?(?<![a-z])(?:{_CODES}|[{_SIGNS}])(?![a-z])[^()\[\]]{{0,24}}[)\]]"
    rf"|in\s(?:{_CODES})\b|/\s?(?:{_CODES})\b)"
)
#: [red team 27] ... or before it (``jpy amount``)
_CODE_BEFORE = re.compile(rf"(?<![a-z])(?:{_CODES})\s$")
#: [red team 26] a whole number under such a header (``318450``, ``318,450``): not part of a code,
#: a date or a longer figure (``bw-7731``, ``2026-11-28``, ``3184.50`` is :data:`_CENTS`'s)
_WHOLE_AT = re.compile(r"\d(?<![\w.,/-]\d)(?:\d{0,2}+(?:,\d{3}){1,5}+|\d{2,29}+)(?![\w/-]|[.,]\d)")


def _header_with_cents(norm: str, reach: int = _TABLE_HEADER_REACH, *, prose: bool = True) -> bool:
    """A money header (:data:`_MONEY_HEADER`) with a figure in cents (:data:`_CENTS`) at most
    ``reach`` characters after it, or :data:`_HEADER_REACH` after a header in prose
    (:func:`_in_prose`; ``prose``: whether to look for it: a TSV's cells hold none); [red team
    26] a header that names its currency with a whole number (:data:`_WHOLE_AT`) too. The
    headers' reaches are merged and each merged span searched once, so the cost stays linear
    (one search for a text that is all headers)."""
    prose = prose and reach > _HEADER_REACH and _SENTENCE_END.search(norm) is not None
    spans: dict[re.Pattern[str], list[int]] = {}  # the span being merged, per figure's pattern
    for m in _MONEY_HEADER.finditer(norm):
        at = m.end()
        patterns = [_CENTS_AT]
        if _HEADER_CURRENCY.match(norm, at) or _CODE_BEFORE.search(norm[max(0, m.start() - 5) : m.start()]):
            patterns.append(_WHOLE_AT)
        end = -1
        for pattern in patterns:
            span = spans.setdefault(pattern, [-1, -1])
            if at + reach <= span[1]:
                continue
            if end < 0:
                end = at + (_HEADER_REACH if prose and _in_prose(norm, m.start()) else reach)
            if end <= span[1]:
                continue
            if at > span[1]:
                if span[1] > span[0] and _figure_in(pattern, norm, span[0], span[1]):
                    return True
                span[0] = at
            span[1] = end
    return any(hi > lo and _figure_in(p, norm, lo, hi) for p, (lo, hi) in spans.items())


def _figure_in(pattern: re.Pattern[str], norm: str, lo: int, hi: int) -> bool:
    """A figure (``pattern``) starts in ``norm[lo:hi]`` (its digits and what follows them are
    read whole: up to 16 characters on either side)."""
    got = pattern.search(norm, lo, min(len(norm), hi + 16))
    return got is not None and got.start() < hi


#: [red team 20] a number the purpose gives as a document's (``invoice 20261145``, ``PO 45000``,
#: ``order no. 88120``): a reference though it has no letter; [red team 21] also three digits,
#: plurals, ``number:``, ``nr``, ``n°``, ``ref``, and the numbers of people a refund answers
#: (``patient 48213``, ``member 5521``)
_PURPOSE_NUMBER = re.compile(
    r"\b(?:invoice|inv|po|purchase order|order|bill|claim|case|ticket|account|contract|credit note"
    r"|patient|member|customer|client|policy|booking|reservation|tenant|student)s?"
    r"\.?(?:\s?(?:no\.?|nr\.?|n°|number|#|ref\.?|id))?\s?[:#]?\s?#?\s?(\d{3,20}(?:[-/]\d{1,20}){0,3})\b"
)
#: at most this many references (parameters first, then the purpose's codes, in order): each is
#: an alternative of the pattern every trusted output is searched with
_MAX_REFERENCES = 32
#: a parameter's whole value is a reference only up to this many letter or digit groups and
#: characters (its codes and document numbers are, whatever its length)
_REF_GROUPS, _REF_CHARS = 8, 40
#: dashes written in references (``INV\u20132291``), made ``-``
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))


def _record_text(text: str) -> str:
    """[red team 21] ``text`` as references and money are searched in it: HTML entities decoded
    (``BW&nbsp;7731``, ``&euro;``), :func:`_norm` (NFKC: full-width forms; casefolded; whitespace
    collapsed: columns, tabs, a wrapped line), dashes made ``-`` and every script's digits ASCII (Arabic-Indic ``\u0662\u0662\u0669\u0661``:
    NFKC keeps them)."""
    if "&" in text and ";" in text:
        text = html.unescape(text)
    norm = _norm(text)
    if norm.isascii():
        return norm
    norm = norm.translate(_DASHES)
    # the digits of other scripts the text holds (one pass over its distinct characters), made
    # ASCII in one translation
    other = {ord(c): str(unicodedata.decimal(c)) for c in set(norm) if c.isdecimal() and not c.isascii()}
    return norm.translate(other) if other else norm


def _record_states_money(norm: str, tabular: bool = True, tabs: bool = False) -> bool:
    """A record (:func:`_record_text`) states an amount of money: a figure with its currency, a
    field named like money with a number, or a money word as a header with a figure in cents.
    ``tabular``: the record, as written, has a mark of a table (:data:`_TABULAR`; by default
    assumed: the longer reach holds more); ``tabs``: it has a tab (a TSV, whose cells
    :func:`_in_prose` cannot see once tabs are spaces: none is prose)."""
    if any(p.search(norm) is not None for p in _RECORD_MONEY):
        return True
    money_word = _MONEY_HEADER.search(norm) is not None
    if _UNIT.search(norm) is not None:
        cells = _CELL_MARKS.sub("|", norm) if ("<t" in norm or '"' in norm) else norm
        if _FIGURE_UNIT.search(cells) is not None or _cell_money(cells, money_word):
            return True
    return money_word and _header_with_cents(
        norm, _TABLE_HEADER_REACH if tabular else _HEADER_REACH, prose=not tabs
    )


def _ref_groups(ref: str) -> list[str]:
    """A reference's letter and digit groups (``inv2291`` is ``inv``, ``2291``)."""
    return re.findall(r"[^\W\d_]+|\d+", ref)


#: [red team 22] codes of a period, not of a record (``FY2026``, ``Q3``, ``H1``, ``CY25``)
_PERIOD_CODE = re.compile(
    # [red team 23] also joined to a year (``Q3-2026``, ``FY26/27``, ``2026-Q3``, ``H1/2026``)
    r"(?:fy|cy|q|h)\d{1,4}(?:[-/](?:fy|cy)?(?:\d\d|(?:19|20)\d\d))?|(?:\d\d|(?:19|20)\d\d)[-/](?:fy|cy|q|h)\d{1,4}"
)
#: [red team 22] parameters whose codes inside a longer value are references (``invoice``:
#: ``BW-7731 (Brightwater)``); a memo's cost centre or an order's SKUs are not
_REFERENCE_PARAM = re.compile(
    # [red team 24/25] a long word anywhere in the name (``vendorinvoice``, ``purchaseorder``,
    # ``numero_fattura``), whole or followed only by a number's word (``invoicenumber``,
    # ``bookingref``, ``rechnungsnummer``): not ``billing_note``, ``contractor``, ``ordered_by``
    r"(?:invoice|reference|order|bill|document|claim|case|ticket|contract|patient|member"
    r"|customer|policy|booking|reservation|tenant|credit|refund|number|remittance|rechnung"
    r"|factura|fattura|facture|beleg|nummer|numero)s?"
    r"(?:number|num|nr|no|id|ref|code|nummer|numero)?(?:_|$)"
    # a short word starts the name or a word, whole or followed by a number's word (``ponumber``,
    # ``docId``, ``invno``)
    r"|(?:^|_)(?:inv|po|ref|doc|id|no)s?(?:number|num|nr|no|id)?(?:_|$)"
)


def _reference_param(name: str) -> bool:
    """[red team 24] ``name`` is a reference parameter's (:data:`_REFERENCE_PARAM`), its words
    split at case changes and at every other character (``Invoice Number``, ``invoice.id``,
    ``PO-Number``)."""
    return _REFERENCE_PARAM.search(re.sub(r"[\W_]+", "_", _snake(name))) is not None


def _references(purpose: str, params: Mapping[str, str]) -> tuple[str, ...]:
    """[blind-7] What the request names (:func:`_record_text`): each parameter's value that holds
    a digit (an invoice, a PO, a patient: not a vendor's name, whose record states credit limits)
    of at most :data:`_REF_GROUPS` groups; the codes and document numbers of its purpose (a code
    has a letter and a digit: ``MDS-220931``, ``P-19552``, not a period's: ``FY2026``; a document
    number follows its kind: ``invoice 881``, ``patient 48213``); a code written with ``/`` or
    ``.`` (a list ``BW-7731/7732``, a URL) gives its parts too; last, the codes inside a longer
    value of a parameter named like a reference (:data:`_REFERENCE_PARAM`). A trusted output
    holding one, as a whole word, is a record of what the request is about. At most
    :data:`_MAX_REFERENCES`, in that order ([red team 22] 40 SKUs in a parameter pushed the
    purpose's invoice out)."""
    out: dict[str, None] = {}

    def codes(norm: str) -> None:
        for m in _PURPOSE_CODE.finditer(norm):
            code = m.group(0)
            for part in (code, *re.split(r"[/.]", code)) if re.search(r"[/.]", code) else (code,):
                if (
                    len(part) >= 4
                    and any(c.isdigit() for c in part)
                    and any(c.isalpha() for c in part)
                    and not _PERIOD_CODE.fullmatch(part)
                ):
                    out[part] = None
        for m in _PURPOSE_NUMBER.finditer(norm):
            out[m.group(1)] = None

    inner: list[str] = []
    for name, v in params.items():
        n = _record_text(str(v))
        if not any(c.isdigit() for c in n):
            continue
        if len(n) <= _REF_CHARS and len(_ref_groups(n)) <= _REF_GROUPS:
            out[n] = None
        if _reference_param(str(name)):
            inner.append(n)
    codes(_record_text(purpose))
    for n in inner:
        codes(n)
    return tuple([r for r in out if len(r) >= 3][:_MAX_REFERENCES])


def _reference_pattern(references: Sequence[str]) -> re.Pattern[str] | None:
    """[red team 20] A pattern finding any of ``references`` as a whole word in a
    :func:`_record_text`, written as records write codes: its letter and digit groups joined by
    nothing or by up to three other characters (``-/._#:``, spaces), and its numbers with leading
    zeros (``BW-7731`` is ``BW7731``, ``BW 7731``, ``BW/7731``, ``BW-007731``; ``PO 3317`` is
    ``PO-3317``; [red team 21] ``INV2291`` is ``INV-2291``). One that starts with a digit may
    follow letters (``45000`` in ``PO45000``)."""
    heads: dict[str, set[str]] = {}
    for ref in references:
        groups = _ref_groups(ref)[:_REF_GROUPS]
        if not groups:
            continue
        # a number matches with any leading zeros (``0142`` is ``142`` and ``00142``)
        parts = [
            ("0*+" + g.lstrip("0") if g.lstrip("0") else "0++") if g.isdigit() else re.escape(g)
            for g in groups
        ]
        # the joiner is possessive: it holds no letter or digit, and every group starts with one
        rest = "".join(r"[\W_]{0,3}+" + p for p in parts[1:]) + r"(?![^\W_])"
        if groups[-1].isdigit():
            rest += r"(?![.,]\d\d(?!\d))"  # [red team 22] not the ``500`` of ``500.00``
        # the first character a plain literal, the word's start checked behind it: the engine
        # then tries only the positions holding one of the references' first characters; the
        # references that share a first group share its test ([red team 22] 32 references
        # starting with ``e`` tried each at every ``e``)
        first = groups[0]
        if not first.isdigit():
            head = re.escape(first[0]) + r"(?<![^\W_]" + re.escape(first[0]) + ")" + re.escape(first[1:])
            heads.setdefault(head, set()).add(rest)
            continue
        core = first.lstrip("0")
        # [red team 22] a number that starts a reference follows no digit, and no digit and a
        # decimal mark (``invoice 500`` is not in ``2,500.00``)
        zeros = r"0(?<!\d0)0*+"
        if not core:
            heads.setdefault(zeros, set()).add(rest)
            continue
        # written without its leading zeros, or with some (after letters: ``PO45000``)
        c0 = re.escape(core[0])
        # ([red team 23] only a three-digit number can be a group after a thousands separator)
        after_mark = r"(?<!\d[.,]" + c0 + ")" if len(core) == 3 else ""
        heads.setdefault(c0 + r"(?<!\d" + c0 + ")" + after_mark + core[1:], set()).add(rest)
        heads.setdefault(zeros + core, set()).add(rest)
    if not heads:
        return None
    return re.compile(
        "|".join(
            h + (next(iter(r)) if len(r) == 1 else "(?:" + "|".join(sorted(r)) + ")")
            for h, r in sorted(heads.items())
        )
    )


def _reference_needles(references: Sequence[str]) -> tuple[str, ...] | None:
    """What every match of :func:`_reference_pattern` holds, lower case: the first group of one
    of ``references`` as its pattern writes it (a number without its leading zeros, ``0`` for a
    group of zeros). An ASCII text holding none of them, in any case, holds no reference: the
    pattern is not run over it (a search that tries the pattern at every position). None when
    a needle is not ASCII (a case-insensitive match of it may then be ASCII text that is not
    the needle lower-cased)."""
    out: set[str] = set()
    for ref in references:
        groups = _ref_groups(ref)
        if not groups:
            continue
        g = groups[0]
        needle = (g.lstrip("0") or "0") if g.isdigit() else g
        if not needle.isascii():
            return None
        out.add(needle.lower())
    return tuple(sorted(out))


def _own_numbers(norm: str) -> frozenset[Decimal]:
    """[red team 13] The numbers ``norm`` holds as numbers of their own: a digit group not joined
    to letters or digits by ``-`` or ``/`` (not the ``6204`` of ``6204-2RS``, the ``2026`` of
    ``2026-04-02``, the ``118`` of ``V-118``). A number written with spaces (``3 500``, or two
    numbers side by side: ``96.40 2026-12-18``) is read whole and piece by piece. Read once per
    source (:meth:`SourceIndex._amount_not_in_codes` keeps it), its first :data:`_MAX_KEYS`
    number spans."""
    out: set[Decimal] = set()
    for start, end, written in _number_spans(norm)[:_MAX_KEYS]:
        if not _in_code(norm, start, end):
            out |= _numbers(norm, [(start, end, written)])
        if " " not in written:
            continue
        for m in re.finditer(r"\S+", written):
            if not _in_code(norm, start + m.start(), start + m.end()):
                out |= _parse_number(m.group(0))
    return frozenset(out)


def _value_numbers(value: Any) -> set[Decimal]:
    """The numbers an argument's value says (``30``, ``"30"``, ``"30 %"``, ``"EUR 0.71"``), as
    non-negative finite decimals; none for a number too large to say anything (past
    :data:`_MAX_DIGITS` digits)."""
    if isinstance(value, int | float | Decimal):
        d = _finite_decimal(value)
        return set() if d is None else {d}
    return {d for d in parse_amounts(str(value).strip().rstrip("%").strip()) if d.is_finite()}


#: a number with more digits than this before its point is no amount, id or term to look up
#: (Python's ``int`` refuses to write more than 4,300 digits; a ``Decimal("1e999999999")`` made
#: an ``int`` takes minutes)
_MAX_DIGITS = 4000


def _finite_decimal(value: int | float | Decimal) -> Decimal | None:
    """``abs(value)`` as a Decimal; None when it is not finite or has more than
    :data:`_MAX_DIGITS` digits before its point."""
    try:  # (``copy_abs`` applies no context: ``abs`` overflows past its exponent limit)
        d = (value if isinstance(value, Decimal) else Decimal(str(value))).copy_abs()
    except (ArithmeticError, ValueError):  # ValueError: an int too long to write
        return None
    if not d.is_finite() or d.adjusted() >= _MAX_DIGITS:
        return None
    return d


def _numbers(norm: str, spans: list[tuple[int, int, str]]) -> set[Decimal]:
    raws: set[str] = set()
    for start, _, written in spans:
        raw = written
        if start > 0:
            c = norm[start - 1]
            if c.isalnum() or c in "_.,":
                # glued to a word (``de89``, ``inv2024``): not a number; what follows its first
                # digit group still is (``abc123 1,500.00``)
                lead = _LEADING_GROUP.match(raw)
                raw = raw[lead.end() :] if lead else ""
                if not raw:
                    continue
        raws.add(raw)
    out: set[Decimal] = set()
    for raw in raws:
        if len(out) >= _MAX_KEYS:
            break  # see _identifiers
        out |= _parse_number(raw)
        if " " in raw.strip():  # "pay 3 500 items" is also 3 and 500
            for piece in set(raw.split()):
                out |= _parse_number(piece)
                if len(out) >= _MAX_KEYS:
                    break
    return out


def utf8_size(text: str) -> int:
    """The size of ``text`` in UTF-8 bytes (without encoding ASCII text)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _trivial_number(value: int | float | Decimal) -> bool:
    """An integer from -31 to 31 (a count, a day, a small quantity): found in any text."""
    try:  # the range first: ``int(Decimal("1e999999999"))`` takes minutes
        return -_TRIVIAL_INT <= value <= _TRIVIAL_INT and value == int(value)
    except (ValueError, OverflowError, InvalidOperation):
        return False


def _squash(text: str) -> str:
    return _SQUASH.sub("", text.casefold())


def _is_identifier(squashed: str) -> bool:
    digits = _digits(squashed)
    return digits >= _IDENT_DIGITS and digits * 2 >= len(squashed)


#: the ASCII digits, deleted by ``bytes.translate`` to count them (:func:`_digits`)
_ASCII_DIGITS = b"0123456789"


def _digits(text: str) -> int:
    if text.isascii():  # ``\d`` matches only 0-9 in ASCII text: counted without a pattern
        return len(text) - len(text.encode("ascii").translate(None, _ASCII_DIGITS))
    return len(_NON_DIGIT.sub("", text))


def _digit_regions(norm: str, spans: list[tuple[int, int, str]]) -> Iterator[str]:
    """The parts of ``norm`` around clusters of 6+ digits (where an identifier can be), so the
    identifier pattern runs on a fraction of a text."""
    start = end = -1
    count = 0
    n = len(norm)
    for s, e, raw in spans:
        if start >= 0 and s - end <= _CLUSTER_GAP:
            end = e
            count += _digits(raw)
            continue
        if count >= _IDENT_DIGITS:
            yield _region(norm, start, end, n)
        start, end, count = s, e, _digits(raw)
    if count >= _IDENT_DIGITS:
        yield _region(norm, start, end, n)


def _region(norm: str, start: int, end: int, n: int) -> str:
    a = norm.rfind(" ", 0, max(0, start - _CLUSTER_MARGIN)) + 1
    b = norm.find(" ", min(n, end + _CLUSTER_MARGIN))
    return norm[a : b if b >= 0 else n]


def _identifiers(norm: str, spans: list[tuple[int, int, str]]) -> set[str]:
    out: set[str] = set()
    work = [_MAX_WORK]
    for region in _digit_regions(norm, spans):
        _region_identifiers(region, out, work)
        if len(out) >= _MAX_KEYS or work[0] <= 0:
            break  # a source this dense in numbers is indexed in part (its values read as none)
    return out


#: a phone number as written: an optional ``+``, digits in groups separated by spaces, dots,
#: dashes, slashes or parentheses (``(319) 555-0150``, ``087 555 0148``, ``+44 7700 900388``)
_PHONE = re.compile(r"(?<![\w+.,/-])\+?(?:\(\d{1,5}\)|\d)(?:[ ./-]{0,2}(?:\(\d{1,5}\)|\d)){7,18}(?![\w])")
#: the two-digit country calling codes (``1`` and ``7`` are the one-digit ones, every other is
#: three digits): the codes are a prefix code, so an international number splits one way only
_CC2 = (
    " 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64"
    " 65 66 81 82 84 86 90 91 92 93 94 95 98 "
)


def _phone_parts(written: str) -> tuple[str | None, str, frozenset[str]] | None:
    """A phone number written with 9 to 15 digits: ``(international digits, number, forms)``. An
    international number (``+``, ``00``) is its country code and number (``+353 87 555 0148``:
    ``353875550148``, ``875550148``); a national one is known by its digits with and without its
    trunk prefix (``087 555 0148``: ``0875550148``, ``875550148``; ``1-319-555-0150``:
    ``3195550150``). None for anything else."""
    digits = _NON_DIGIT.sub("", written)
    if not 9 <= len(digits) <= 15:
        return None
    if written.lstrip().startswith("+") or digits.startswith("00"):
        # ``+44 (0)7700 900388``: the trunk prefix in parentheses is not dialled from abroad
        full = _NON_DIGIT.sub("", written.replace("(0)", ""))
        full = full[2:] if full.startswith("00") else full
        cc = 1 if full[0] in "17" else 2 if f" {full[:2]} " in _CC2 else 3
        return full, full[cc:], frozenset()
    forms = {digits}
    if digits[0] == "0" or (digits[0] == "1" and len(digits) == 11):
        forms.add(digits[1:])
    return None, digits, frozenset(forms)


def _phone_keys(written: str, *, lookup: bool = False) -> set[str]:
    """The keys a phone number is indexed under (``lookup``: looked up with). Two numbers match
    when both are international and the same, or when one is national and its digits (with or
    without its trunk prefix) are the other's (the other's number after its country code, when
    it is international). Two international numbers with the same last digits and another
    country code never match (``+44 87 555 0148`` is not ``+353 87 555 0148``), nor two
    national ones that differ in any digit but a trunk prefix (``(319) 555-0150`` is not
    ``(419) 555-0150``)."""
    parts = _phone_parts(written)
    if parts is None:
        return set()
    full, number, forms = parts
    if full is not None:
        # indexed: the international number, and its number for a national one to find;
        # looked up: the same, or a national number written with the same digits
        return {"pi" + full, "pn" + full, "pn" + number} if lookup else {"pi" + full, "px" + number}
    return {"pn" + f for f in forms} | ({"px" + f for f in forms} if lookup else set())


#: what may separate the digit groups of one phone number once ``_NUMBER`` has read them
_PHONE_GAP = re.compile(r"[ ()./+-]{1,3}")


def _phones(norm: str, spans: list[tuple[int, int, str]]) -> set[str]:
    """The phone keys (:func:`_phone_keys`) of the numbers in ``norm``: runs of its number spans
    (``_NUMBER`` already joins digits separated by spaces and dots) separated by at most three of
    ``()./+-`` and spaces (``(319) 555-0150``, ``030/1234-5678``, ``+44 (0)7700 900388``), each
    run of 9 to 15 digits read as written (a ``+`` before it included); at most
    :data:`_MAX_KEYS`. Cheaper than a phone pattern over the whole text: only number spans are
    walked."""
    out: set[str] = set()
    begin = end_prev = -1
    count = 0

    def emit(a: int, b: int) -> None:
        written = norm[a - 1 : b] if a > 0 and norm[a - 1] == "+" else norm[a:b]
        out.update(_phone_keys(written))

    for start, end, written in spans:
        if 9 <= count <= 15:
            # every run of groups long enough is a number: "(319) 555-0150 - 2 pages" holds
            # 319 555 0150 whatever the 2 after it is
            emit(begin, end_prev)
        digits = len(_NON_DIGIT.sub("", written))
        if (
            end_prev >= 0
            and start - end_prev <= 3
            and _PHONE_GAP.fullmatch(norm, end_prev, start) is not None
        ):
            count += digits
        else:
            begin, count = start, digits
        end_prev = end
        if len(out) >= _MAX_KEYS:
            return out
    if 9 <= count <= 15:
        emit(begin, end_prev)
    return out


def _group_digits(group: str) -> int:
    """:func:`_digits` of one group of letters and digits (most are all one or the other)."""
    if group.isdecimal():
        return len(group)
    return 0 if group.isalpha() else _digits(group)


def _region_identifiers(norm: str, out: set[str], work: list[int]) -> None:
    for run in (_IDENT_RUN_ASCII if norm.isascii() else _IDENT_RUN).finditer(norm):
        text = run.group(0)
        if _digits(text) < _IDENT_DIGITS:
            continue
        groups = _GROUP.findall(text)
        digits = [_group_digits(g) for g in groups]
        n = len(groups)
        for i in range(n):
            if not digits[i] and len(groups[i]) > 3:
                continue  # starts with a digit group or a short prefix (``AB 123456``), not ``iban``
            acc, d, length = "", 0, 0
            for j in range(i, n):
                length += len(groups[j])
                if length > _IDENT_MAX:
                    break
                acc += groups[j]
                d += digits[j]
                if digits[j] and d >= _IDENT_DIGITS and d * 2 >= length:
                    out.add(acc)  # ends with a digit group
            work[0] -= j - i + 1
            if work[0] <= 0:
                return


def normalise_value(value: Any) -> str:
    """One value as compared across calls: a number's plain decimal text, a URL normalised, an
    identifier (IBAN, phone, card, account) squashed to letters and digits, other text casefolded
    with whitespace collapsed."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            d = Decimal(str(value))
            if d.is_finite():
                return format(d.normalize(), "f")
        except InvalidOperation:
            pass
        return str(value)
    text = str(value)
    if "://" in text:
        url = normalise_url(text)
        if url:
            return url
    norm = _norm(text)
    squashed = _squash(norm)
    return squashed if _is_identifier(squashed) else norm


def _at_signs(text: str) -> Iterator[int]:
    """Where :data:`_AT` matches in ``text``, in order (its matches are single ``@``: each one
    is tried where ``str.find`` puts it, not at every position as ``finditer`` does)."""
    if text.count("@") > len(text) >> 8:  # dense (crafted ``a@a@…``): one pass of the engine
        for hit in _AT.finditer(text):
            yield hit.start()
        return
    match = _AT.match
    at = text.find("@")
    while at >= 0:
        if match(text, at) is not None:
            yield at
        at = text.find("@", at + 1)


def _emails(text: str) -> set[str]:
    """The e-mail addresses in ``text``, lower case (the pattern is tried only at the start of
    the local part before each ``@``); at most :data:`_MAX_KEYS`, from the first
    :data:`_MAX_AT` ``@`` that may be an address's."""
    out: set[str] = set()
    prev = -1
    for n, at in enumerate(_at_signs(text)):
        if n >= _MAX_AT or len(out) >= _MAX_KEYS:
            break  # a text this dense in addresses is read in part (the rest are found nowhere)
        # the local part ends at the ``@``, holds no ``@`` and no ``..`` and neither starts nor
        # ends with a dot: where it can start is found at once, and matched once (a text of
        # ``a@a@a@…`` or ``a.a.a…@`` cost seconds per MiB tried at every position: red team 7)
        if at > prev + 1 and text[at - 1] in _LOCAL_CHARS and text[at - 1] != ".":
            lo = max(0, at - 64, prev + 1)
            local = _LOCAL_TAIL.search(text, lo, at)
            start = local.start() if local is not None else lo  # a run longer than the window
            double = text.rfind("..", start, at)
            if double >= 0:
                start = double + 2
            if text[start] == ".":
                start += 1
            if start < at:
                m = _EMAIL.match(text, start, min(len(text), at + 256))
                if m is not None:
                    out.add(m.group(0).lower())
        prev = at
    return out


#: the author of a message, matched where ``_senders`` found one of its words: a header line
#: (``from: tom <tom@acme.example>``, ``reply-to:``, ``sender:``), ``reply from tom@…``, a field
#: (``"sender": "tom@acme.example"``), ``tom@acme.example wrote:`` (normalised, lower-case text)
#: (possessive: neither class holds ``@``, nor what may follow a domain, so nothing is given back)
_ADDRESS = r"([a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}+@[a-z0-9.-]{1,253}+)"
#: the author is the address itself, or a display name with the address in brackets
#: (``tom <tom@…>``, ``"smith, john" <john@…>``, ``tom (tom@…)``): never an address later in
#: the text (``a note from our bank, please send the statement to audit@…``; newlines are
#: collapsed by then, so a ``From: Tom`` line does not end at its line: red team 7)
_DISPLAY_NAME = r'(?:(?:"[^"@]{0,80}+"|[^@:<>()"]{0,80}+)\s*[<(])?'
_SENDER_HEADER = re.compile(r"(?:from|reply-to|sender)\s*:\s*" + _DISPLAY_NAME + _ADDRESS)
_SENDER_FROM = re.compile(r"from\s+" + _DISPLAY_NAME + _ADDRESS)
_SENDER_FIELD = re.compile(
    r'(?:from|sender|reply_to|reply-to|author|from_email|sender_email|author_email)"\s*:\s*"' + _ADDRESS
)
_WROTE = re.compile(r"(?<![a-z0-9!#$%&'*+/=?^_`{|}~.-])" + _ADDRESS + r">?\s+wrote\s*:")
#: the words before ``from`` that make what follows an author (``reply from tom@…``)
_FROM_WORDS = ("reply", "message", "mail", "e-mail", "email", "note", "comment", "review", "request")
_SENDER_WORDS = ("from", "reply-to", "sender", "reply_to", "author")


def _senders(norm: str) -> set[str]:
    """The e-mail addresses ``norm`` names as its author or the address to answer (a ``From:``,
    ``Reply-To:`` or ``Sender:`` header, ``Reply from …``, a ``from``/``sender``/``author``
    field, ``… wrote:``); at most :data:`_MAX_KEYS`. The patterns run only where their words
    are (a scan of the whole text with them costs ~0.1 ms per 2 KB)."""
    out: set[str] = set()
    if "@" not in norm:
        return out
    for word in _SENDER_WORDS:
        i = norm.find(word)
        while i >= 0:
            if i == 0 or not norm[i - 1].isalnum() or norm[i - 1] == '"':
                for pattern in (_SENDER_HEADER, _SENDER_FIELD):
                    m = pattern.match(norm, i)
                    if m is not None:
                        out.update(_emails(m.group(1)))
                if word == "from" and norm[max(0, i - 9) : i].rstrip().endswith(_FROM_WORDS):
                    m = _SENDER_FROM.match(norm, i)
                    if m is not None:
                        out.update(_emails(m.group(1)))
            if len(out) >= _MAX_KEYS:
                return out
            i = norm.find(word, i + 1)
    i = norm.find(" wrote")
    while i >= 0:
        # the address ends at the space before ``wrote`` and holds none: search from the last
        # space before it (linear in the text however many ``wrote`` it holds)
        lo = max(0, i - 320)
        m = _WROTE.search(norm, norm.rfind(" ", lo, i) + 1 or lo, i + 8)
        if m is not None:
            out.update(_emails(m.group(1)))
        i = norm.find(" wrote", i + 1)
    return out


def _urls(text: str) -> set[str]:
    """The URLs in ``text``, normalised (see :func:`url_spans`)."""
    out: set[str] = set()
    for start, end in url_spans(text):
        n = normalise_url(text[start:end])
        if n:
            out.add(n)
            if len(out) >= _MAX_KEYS:
                break
    return out


def url_spans(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each URL in ``text``, as written (trailing punctuation left out). The
    pattern is tried only where a scheme and ``://`` occur, and the search goes on after each
    URL, so crafted ``://://…`` costs linear time (a caller stops reading when it has enough)."""
    at = text.find("://")
    while at >= 0:
        nxt = at + 3
        for scheme in _SCHEMES:
            start = at - len(scheme)
            if start < 0 or text[start:at].lower() != scheme:
                continue
            if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
                break
            m = _URL.match(text, start, min(len(text), at + 3 + 4096))
            if m is not None:
                yield start, start + len(m.group(0).rstrip(_URL_TRAIL))
                nxt = max(nxt, m.end())
            break
        at = text.find("://", nxt)


_TERM_CHARS_EDGE = "-_."


def _bounded(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is not part of a longer term: no letter/digit touches it, nor a ``-``,
    ``_`` or ``.`` that joins it to one (``evil-example.com`` does not hold ``example.com``)."""
    if start > 0:
        c = text[start - 1]
        if c.isalnum() or (c in _TERM_CHARS_EDGE and start > 1 and text[start - 2].isalnum()):
            return False
    if end < len(text):
        c = text[end]
        if c.isalnum() or (c in _TERM_CHARS_EDGE and end + 1 < len(text) and text[end + 1].isalnum()):
            return False
    return True


def _contains(text: str, needle: str) -> bool:
    at = text.find(needle)
    while at >= 0:
        if _bounded(text, at, at + len(needle)):
            return True
        at = text.find(needle, at + 1)
    return False


# ---- the arguments -------------------------------------------------------------------------------


#: the exact types that are leaves whatever else (never a Mapping, a list or a tuple)
_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None)})


#: arguments with at most this many leaves, each a top-level scalar or an element of a top-level
#: list of scalars, are read by :func:`leaf_values` in one loop (no generator per level)
_FLAT_LEAVES = 64


def leaf_values(args: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` for every leaf of the arguments: ``a``, ``a.b``, ``a[]``, ``a[].b``."""
    keys = sorted(args, key=str)
    flat: list[tuple[str, Any]] = []
    for k in keys:
        value = args[k]
        kind = type(value)
        if kind in _PLAIN_LEAVES and len(flat) < _FLAT_LEAVES:
            flat.append((str(k), value))
        elif (
            (kind is list or kind is tuple)
            and len(flat) + len(value) <= _FLAT_LEAVES
            and all(type(x) in _PLAIN_LEAVES for x in value)
        ):
            path = str(k) + "[]"
            flat.extend((path, x) for x in value)
        else:
            break
    else:
        # the common shape, in the order the walk below gives it
        return iter(flat)
    return _walk_leaves(args, keys)


def _walk_leaves(args: Mapping[str, Any], keys: list[Any]) -> Iterator[tuple[str, Any]]:
    """:func:`leaf_values` of any arguments (``keys``: theirs, sorted as strings), lazily, with
    an explicit stack (a generator per level cost each leaf its depth: red team 17's arguments
    190 lists deep took seconds)."""
    stack: list[tuple[str, Any]] = [(str(k), args[k]) for k in reversed(keys)]
    while stack:
        path, value = stack.pop()
        if type(value) in _PLAIN_LEAVES:  # a JSON scalar: no Mapping test (an ABC check) needed
            yield path, value
        elif isinstance(value, Mapping):
            stack.extend(
                (f"{path}.{k}" if path else str(k), value[k]) for k in sorted(value, key=str, reverse=True)
            )
        elif isinstance(value, list | tuple):
            item_path = f"{path}[]"
            stack.extend((item_path, item) for item in reversed(value))
        else:
            yield path, value


def _snake(name: str) -> str:
    """``name`` in snake case (``payeeIban`` is ``payee_iban``); remembered for names of up to
    :data:`_CACHED_NAME` characters only (a crafted argument's long keys are not kept)."""
    if len(name) > _CACHED_NAME:
        return _snake_of(name)
    return _snake_cached(name)


#: the longest argument name or path the module-level memos keep
_CACHED_NAME = 128


def _snake_of(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().replace("-", "_")


_snake_cached = functools.lru_cache(maxsize=4096)(_snake_of)


def _name_matches(name: str, names: frozenset[str]) -> bool:
    n = _snake(name)
    if n in names:
        return True
    # the last words: ``recipient_email``, ``webhook_url``, ``payee_iban``, ``to_address``
    words = n.split("_")
    return any("_".join(words[i:]) in names for i in range(1, len(words)))


def _schema_paths(schema: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(path, subschema)`` of every property in a JSON Schema (objects and array items), to a
    depth of 32 (a schema comes from an upstream server)."""
    if not isinstance(schema, Mapping) or depth > _SCHEMA_DEPTH:
        return
    props = schema.get("properties")
    if isinstance(props, Mapping):
        for k, sub in props.items():
            p = f"{path}.{k}" if path else str(k)
            if isinstance(sub, Mapping):
                yield p, sub
                yield from _schema_paths(sub, p, depth + 1)
    items = schema.get("items")
    if isinstance(items, Mapping) and path:
        yield f"{path}[]", items
        yield from _schema_paths(items, f"{path}[]", depth + 1)


_SCHEMA_CACHE: dict[str, frozenset[str]] = {}
_SCHEMA_DEPTH = 32


def _schema_destinations(input_schema: str | None) -> frozenset[str]:
    if not input_schema:
        return frozenset()
    hit = _SCHEMA_CACHE.get(input_schema)
    if hit is not None:
        return hit
    try:
        schema = json.loads(input_schema)
    except ValueError:
        schema = None
    found = frozenset(
        p for p, sub in _schema_paths(schema) if str(sub.get("format", "")).lower() in _DEST_FORMATS
    )
    if len(_SCHEMA_CACHE) > 4096:
        _SCHEMA_CACHE.clear()
    _SCHEMA_CACHE[input_schema] = found
    return found


#: a date, a date and time or a time of day (ISO 8601 and the usual ``14:00``)
_TEMPORAL = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
)


def _not_a_place(value: Any) -> bool:
    """A value no destination can hold, whatever its argument is called: a boolean, or a date or
    time (``valid_to: "2026-12-10T18:00"``, a range's ``to``). The name heuristic alone read
    ``valid_to`` as a recipient and held a door code's expiry "from nowhere". An account number
    written as a number stays a destination."""
    if isinstance(value, bool):
        return True
    return isinstance(value, str) and _TEMPORAL.fullmatch(value.strip()) is not None


def _fetch_urls(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """For a fetch (:func:`_is_fetch`), every argument whose value is one URL whole, whatever its
    name (``proxy``, ``callback``, ``via``): the request may reach it."""
    if not _is_fetch(tool):
        return frozenset()
    return frozenset(
        path
        for path, value in leaf_values(args)
        if isinstance(value, str)
        and len(value) <= LONG_TEXT
        and not any(c.isspace() for c in value.strip())
        and url_host(value) is not None
    )


def _send_addresses(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """For a ``send``, every argument whose value is e-mail addresses whole, whatever its name
    (``notify``, ``watchers``, ``copy``): a message tool delivers to the addresses it is given;
    not the sender's own (``from``, ``sender``, ``from_email``)."""
    if tool.effect != "send":
        return frozenset()
    return frozenset(
        path
        for path, value in leaf_values(args)
        if isinstance(value, str)
        and "@" in value
        and len(value) <= LONG_TEXT
        and not _is_sender(path.rsplit(".", 1)[-1].removesuffix("[]"))
        and _all_addresses(value)
    )


#: a phone number's ``tel:`` (``callto:``) scheme, and an extension after it (``ext. 12``,
#: ``x12``, ``;ext=12``, ``#12``)
_PHONE_URI = re.compile(r"^(?:tel|callto):\s*", re.IGNORECASE)
_PHONE_EXT = re.compile(r"(?:\s*;\s*ext=|\s*#|\s*,\s*|\s+(?:ext\.?|extension|x)\s*)\d{1,6}$", re.IGNORECASE)


def _place_values(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """For a ``write`` or ``execute``, every argument whose value is, whole, e-mail addresses, an
    IBAN or a phone number, whatever its name (``value`` of ``update_candidate(field="email",
    value=…)``, ``details``): a record that says where mail, calls or money go is changed to
    it, so it is a destination (an impostor's "new address" is found as any destination is)."""
    if tool.effect not in ("write", "execute"):
        return frozenset()
    out: set[str] = set()
    for path, value in leaf_values(args):
        if (
            not isinstance(value, str)
            or len(value) > LONG_TEXT
            or _is_sender(path.rsplit(".", 1)[-1].removesuffix("[]"))
        ):
            continue
        # NFKC: a full-width plus sign or at sign (U+FF0B, U+FF20) reads as the ASCII one
        text = (value if value.isascii() else unicodedata.normalize("NFKC", value)).strip()
        if not text or _not_a_place(text):
            continue  # a date or a time (``2026-12-08`` is no phone number)
        # written as a phone number is (``+353 87 555 0148``, ``(360) 555-0142``), also as a
        # ``tel:`` link or with an extension (``… ext. 12``: red team 9); a bare run of digits is
        # as likely an order or a tracking number
        if "@" in text and _all_addresses(text):
            out.add(path)
            continue
        if _A_DIGIT.search(text) is None:
            continue  # no digit: no phone number (``_PHONE``) and no IBAN (``_IBAN``)
        number = _PHONE_EXT.sub("", _PHONE_URI.sub("", text)).strip()
        phone = (
            not number.isdigit() and _PHONE.fullmatch(number) is not None and _phone_parts(number) is not None
        )
        if phone or _whole_iban(text):
            out.add(path)
    return frozenset(out | _named_field_values(args))


#: arguments of a generic update that name the field it sets (``update(field="delivery_address",
#: value=…)``; red team 12: ``name``, JSON Patch's ``path``), and the arguments that hold the
#: new value (red team 12: ``val``, ``data``)
_FIELD_KEYS = frozenset(
    {
        "field",
        "field_name",
        "field_path",
        "target_field",
        "attribute",
        "attr",
        "property",
        "prop",
        "column",
        "setting",
        "key",
        "name",
        "path",
        "param",
        "parameter",
    }
)
_VALUE_KEYS = frozenset(
    {
        "value",
        "new_value",
        "values",
        "to_value",
        "new",
        "val",
        "new_val",
        "data",
        "updated_value",
        "replacement",
    }
)
#: field names that say where goods, calls or money go, besides :data:`DESTINATION_NAMES` (red
#: team 12: a delivery's location; the address, phone and account of a few other languages)
_PLACE_FIELDS = frozenset(
    {
        "mobile",
        "cell",
        "fax",
        "ship_to",
        "deliver_to",
        "remit_to",
        "payout",
        "routing_number",
        "sort_code",
        "swift",
        "bic",
        "bank_details",
        "delivery_location",
        "shipping_location",
        "dropoff_location",
        "pickup_location",
        "drop_off",
        "dropoff",
        # de, fr, es, pt, it, nl
        "adresse",
        "anschrift",
        "telefon",
        "handy",
        "mobilnummer",
        "rufnummer",
        "telefonnummer",
        "kontonummer",
        "bankverbindung",
        "direccion",
        "dirección",
        "telefono",
        "teléfono",
        "móvil",
        "endereço",
        "endereco",
        "indirizzo",
        "cellulare",
        "adres",
        "telefoonnummer",
        "rekeningnummer",
    }
)
#: the ends of compound words that name an address (``Lieferadresse``, ``Rechnungsanschrift``)
_PLACE_ENDS = ("adresse", "anschrift")
_FIELD_SEPARATORS = re.compile(r"[\W_]+")
#: objects looked into for a generic update, and how deep
_MAX_UPDATE_NODES = 1000
_MAX_UPDATE_DEPTH = 8


def _names_a_place(name: str) -> bool:
    """A field's name (``delivery_address``, ``Ship-To Address``, ``shipping.address``, JSON
    Patch's ``/delivery_address``, ``Lieferadresse``) names an address, a phone, an account."""
    field = _FIELD_SEPARATORS.sub("_", _snake(name.strip())).strip("_")
    words = set(field.split("_"))
    return (
        _name_matches(field, DESTINATION_NAMES | _PLACE_FIELDS)
        or bool(words & _PLACE_FIELDS)
        or any(w.endswith(_PLACE_ENDS) for w in words)
    )


def _named_field_values(args: Mapping[str, Any]) -> set[str]:
    """[blind-6] A generic update (``update_customer(field="delivery_address", value=…)``,
    ``set_attribute(attribute="payout_iban", new_value=…)``): when the argument naming the field
    names a place (an address, a phone, an account, a recipient: :data:`DESTINATION_NAMES`,
    :data:`_PLACE_FIELDS`), the value it is set to decides where deliveries, calls or money go,
    whatever it looks like (a street address, ``Havenweg 8, 4782 SL Moerdijk``, is no e-mail, IBAN
    or phone number). Looked for as :func:`_update_values` looks (red team 12: a list of changes,
    ``{"change": {"field": …}}``, a JSON Patch's operations)."""
    return _update_values(args, _names_a_place, lambda v: not _not_a_place(v))


def _no_update(args: Mapping[str, Any]) -> bool:
    """Whether ``args`` holds no generic update :func:`_update_values` could find, told without
    walking it: no object under it (its values are JSON scalars and lists whose first 100
    elements are no objects) and no string of at most 200 characters under a field key
    (:data:`_FIELD_KEYS`) at its top level. False when that is not so, or not plainly so (the
    walk decides)."""
    for k, v in args.items():
        kind = type(v)
        if kind is str:
            if len(v) <= 200 and _snake(str(k)) in _FIELD_KEYS:
                return False
        elif kind in _PLAIN_LEAVES:
            continue
        elif kind is list or kind is tuple:
            for x in v[:100]:
                if type(x) not in _PLAIN_LEAVES and isinstance(x, Mapping):
                    return False
        else:
            return False
    return True


def _update_values(
    args: Mapping[str, Any],
    names: Callable[[str], bool],
    value_ok: Callable[[Any], bool] = lambda v: True,
) -> set[str]:
    """The paths of the values of every generic update in ``args`` whose field argument (a
    string under :data:`_FIELD_KEYS`) ``names`` accepts: its arguments under :data:`_VALUE_KEYS`
    that are not None and that ``value_ok`` accepts (``value``, ``changes[].new_value``,
    ``values[]``). Looked for at the top level and in every object under it, to a depth of 8
    and 1,000 objects (the first 100 elements of each list)."""
    out: set[str] = set()
    if _no_update(args):
        return out
    budget = _MAX_UPDATE_NODES

    def visit(obj: Mapping[str, Any], prefix: str, depth: int) -> None:
        nonlocal budget
        budget -= 1
        if budget < 0 or depth > _MAX_UPDATE_DEPTH:
            return
        named = any(
            isinstance(v, str) and len(v) <= 200 and _snake(str(k)) in _FIELD_KEYS and names(v)
            for k, v in obj.items()
        )
        for k, v in obj.items():
            if named and v is not None and _snake(str(k)) in _VALUE_KEYS and value_ok(v):
                out.add(f"{prefix}{k}[]" if isinstance(v, list | tuple) else f"{prefix}{k}")
            elif isinstance(v, Mapping):
                visit(v, f"{prefix}{k}.", depth + 1)
            elif isinstance(v, list | tuple):
                for x in v[:100]:
                    if isinstance(x, Mapping):
                        visit(x, f"{prefix}{k}[].", depth + 1)

    visit(args, "", 0)
    return out


def _names_payee(tool: ToolRecord, path: str, destination: bool) -> bool:
    """``path`` names who is paid: a destination by the tool's declaration or by its name
    (``iban``, ``account``), not one read from its value alone (a ``memo`` holding digits in
    groups), or an argument named like the payee (``recipient_name``, ``payee``, ``beneficiary``).
    Only such an argument traced to the request asks for the payment."""
    field = _snake(path.rsplit(".", 1)[-1].removesuffix("[]"))
    if _PAYEE_WORDS.intersection(field.split("_")):
        return True
    if not destination:
        return False
    if any(a in tool.destinations for a in _ancestors(path)):
        return True
    return _name_matches(field, DESTINATION_NAMES)


def _is_account_value(value: Any) -> bool:
    """[red team 10] ``value`` is an account money goes to: an IBAN, or six digits or more in one
    group of groups that is no date (``DE89 3704 …``, ``026009593``, ``4123 4567``, a number);
    not a name (``Acme``), an address or an id (``V-20417``). Only such a payee traced to the
    request asks for a payment (:func:`asks_for_money` reads the request's words)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return _whole_number_identifier(value)
    if not isinstance(value, str):
        return False
    head = value[:_EMBED_MAX]
    if _whole_iban(head.strip()):
        return True
    head = _TEMPORAL.sub(" ", head.lower())
    return any(_digits(m.group(0)) >= _IDENT_DIGITS for m in _DIGIT_GROUPS.finditer(head))


#: words of an argument name that says who is paid
_PAYEE_WORDS = frozenset({"recipient", "payee", "beneficiary", "creditor", "vendor", "supplier", "contact"})


def _is_sender(name: str) -> bool:
    n = _snake(name)
    return n in ("from", "sender") or n.startswith(("from_", "sender_"))


def destination_paths(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """See :func:`_destination_paths`; for a fetch also every argument that is a URL whole, for a
    send every argument that is e-mail addresses whole; for a send with none of these, the record
    it answers (:func:`reply_targets`)."""
    tool = _undeclared(tool, args)
    found = (
        _destination_paths(tool, args)
        | _fetch_urls(tool, args)
        | _send_addresses(tool, args)
        | _place_values(tool, args)
    )
    if not found and _by_reference(tool):
        # a reply, a refund: who receives it is whoever the record it answers names
        # (``by_reference``), and any audience it names (a group, a list: then it is no reply by
        # reference)
        return frozenset(_targets(args, thread=True) | _audiences(args) | _payees(tool, args))
    return found


def _undeclared(tool: ToolRecord, args: Mapping[str, Any]) -> ToolRecord:
    """A message or a payment whose call leaves every declared ``destinations`` out (a refund
    ``method: original_card`` of a tool that declares ``iban`` for bank refunds) read as a tool
    with no declaration is: an argument named like a destination (``channel``, ``account``,
    ``phone``) is then where it goes, else the record it answers or refunds
    (:func:`reply_targets`). [red team 8] Only the declared names were looked at before: a
    ``channel`` beside the declared ``to`` made the reply go "by reference"."""
    if tool.effect in ("send", "pay") and tool.destinations and not _declared_given(tool, args):
        return replace(tool, destinations=())
    return tool


#: words of an argument name that holds an amount (never where money goes)
_AMOUNT_WORDS = frozenset({"amount", "total", "price", "fee", "sum", "cost", "value", "quantity", "qty"})


def _payees(tool: ToolRecord, args: Mapping[str, Any]) -> set[str]:
    """For a payment registered without ``destinations``: the arguments that say where the money
    goes whatever they are called (``details``, ``payout_details``, ``notes``): a value that is,
    or holds, an IBAN, an account number (six digits or more, at least half the value), an
    e-mail address or a URL. A refund with one is no refund by reference (the customer's e-mail
    chose the account: red team 7). [red team 8] Also an account written as a number or in groups
    of digits in a text (:func:`_holds_account`); and for a message, an argument other than its
    text (``callback``, ``notify``) that is or holds an address or a link: it is no reply by
    reference either."""
    if tool.effect not in ("pay", "send"):
        return set()
    pay = tool.effect == "pay"
    out: set[str] = set()
    records: list[str] | None = None  # the records' own values, lower case (``lh-558213``)
    for path, value in leaf_values(args):
        field = _snake(path.rsplit(".", 1)[-1].removesuffix("[]"))
        if _AMOUNT_WORDS.intersection(field.split("_")):
            continue  # an amount written as a string (``"1250.00"``) is no account
        if not pay and (_name_matches(field, _PROSE_NAMES) or _is_sender(field)):
            continue  # a message's text may name any link or number; its sender is not who gets it
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            # [red team 8] an account or a card number written as a number (``payout: 41234567``)
            if _whole_number_identifier(value):
                out.add(path)
            continue
        if not isinstance(value, str) or not value.strip() or _not_a_place(value):
            continue
        text = value.strip()
        whole = len(text) <= LONG_TEXT and (
            _is_identifier(_squash(_norm(text))) or "@" in text or url_host(text) is not None
        )
        if whole or any(kind in ("iban", "email", "url") for kind, _, _ in embedded_values(text)):
            out.add(path)
            continue
        if records is None:
            named = _targets(args, thread=True)
            records = [v.strip().lower() for p, v in leaf_values(args) if p in named and isinstance(v, str)]
        if _holds_account(text, records, digits=pay):
            out.add(path)
    return out


def _whole_number_identifier(value: int | float | Decimal) -> bool:
    """A whole number of six digits or more (``41234567``, ``4.1234567e7``), counted without
    writing it out (a number of thousands of digits is one too)."""
    try:
        d = abs(Decimal(value) if isinstance(value, int) else Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return False
    return d.is_finite() and d == d.to_integral_value() and d.adjusted() + 1 >= _IDENT_DIGITS


#: digits written in groups (``20-00-00``, ``4123 4567``, ``+254 712 345 678``): six or more are
#: an account, a sort code, a card or a phone number (mobile money)
_DIGIT_GROUPS = re.compile(r"\d+(?:[ .\-/]\d+)*")
#: a host with a path and no scheme (``paypal.me/someone``, ``wise.com/pay/me/x``)
_BARE_LINK = re.compile(
    r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]/", re.IGNORECASE
)


def _holds_account(text: str, records: list[str], *, digits: bool) -> bool:
    """[red team 8] Whether a payment's free text (``notes``, ``details``) writes where money goes
    other than whole: with ``digits``, six digits or more in one group of groups that is no date or
    time of day and no record the call names (``sort code 20-00-00, account 4123 4567``, a phone
    number for mobile money; not ``refund for LH-558213``); or a link without its scheme
    (``paypal.me/someone``: for a message too)."""
    head = text[:_EMBED_MAX]
    if "/" in head and _BARE_LINK.search(head) is not None:
        return True
    if not digits or _A_DIGIT.search(head) is None:
        return False
    head = _TEMPORAL.sub(" ", head.lower())
    for record in records:
        head = head.replace(record, " ")
    return any(_digits(m.group(0)) >= _IDENT_DIGITS for m in _DIGIT_GROUPS.finditer(head))


def _by_reference(tool: ToolRecord) -> bool:
    """A message or a payment registered without ``destinations`` (or whose call leaves every
    declared destination out: :func:`_undeclared`): when its arguments name no recipient, the
    record it answers or refunds does (:func:`reply_targets`)."""
    return tool.effect in ("send", "pay") and not tool.destinations


def _declared_given(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """The declared ``destinations`` of ``tool`` that the call gives a value (not absent, not
    null, not an empty string or list)."""
    if not tool.destinations:
        return frozenset()
    declared = frozenset(tool.destinations)
    given: set[str] = set()
    for path, value in leaf_values(args):
        if value is None or value == "":
            continue
        if path in declared:  # (most declarations name the leaf itself: no ancestor to read)
            given.add(path)
        if "." in path or "[]" in path:
            given.update(d for d in _ancestors(path) if d in declared)
    return frozenset(given)


def _destination_paths(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """The argument paths that decide where data or money goes: ``tool.destinations`` when the
    tool declares them (plus an undeclared argument named like a destination whose value holds an
    e-mail address or a URL), else argument names (:data:`DESTINATION_NAMES`; for ``destructive`` or
    ``access_control`` tools also the file to delete or share, for ``access_control`` tools also who
    gets in: ``username``, ``member``, …) and JSON-Schema ``format: email |
    uri`` properties. A path names a container (``attendees[]``) or a leaf (``attendees[].email``);
    every leaf under a destination path is a destination."""
    if tool.destinations:
        # the declared ones, and an undeclared argument named like a destination whose value holds
        # an address or a URL (a `bcc` the declaration forgot still sends the data somewhere)
        extra = {
            path
            for path, value in leaf_values(args)
            if isinstance(value, str)
            and ("@" in value or ":" in value)
            and _name_matches(path.rsplit(".", 1)[-1].removesuffix("[]"), DESTINATION_NAMES)
            and len(value) <= LONG_TEXT
            and _domains_of(value, bare=False)
        }
        return frozenset(tool.destinations) | frozenset(extra)
    names = (
        DESTINATION_NAMES | _FILE_NAMES if (tool.destructive or tool.access_control) else DESTINATION_NAMES
    )
    if tool.access_control:
        names = names | _PRINCIPAL_NAMES
    found: set[str] = set(_schema_destinations(tool.input_schema))

    def walk(path: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                p = f"{path}.{k}" if path else str(k)
                leaf = p + "[]" if isinstance(v, list | tuple) else p
                if _name_matches(str(k), names) and not _not_a_place(v):
                    found.add(leaf)
                if isinstance(v, list | tuple):
                    for x in v:
                        walk(leaf, x)
                else:
                    walk(leaf, v)

    walk("", args)
    if tool.destructive:
        found |= _targets(args)
    return frozenset(found)


#: argument names that hold prose about a call, never what it acts on
_PROSE_NAMES = frozenset(
    {
        "reason",
        "comment",
        "comments",
        "note",
        "notes",
        "message",
        "description",
        "memo",
        "text",
        "body",
        "subject",
        "title",
        "summary",
        "explanation",
        "justification",
        "details",
        "remark",
        "remarks",
        "currency",
        "mode",
        "type",
        "scope",
    }
)
#: the longest value (normalised) not named like an object or an id read as what a destructive
#: call acts on
_TARGET_MAX = 64
#: argument names of what a call acts on (a record, an object), beside any ``*_id``/``*_ref``
_OBJECT_NAMES = frozenset(
    {
        "id",
        "ids",
        "name",
        "names",
        "key",
        "keys",
        "ref",
        "branch",
        "branches",
        "tag",
        "tags",
        "record",
        "records",
        "item",
        "items",
        "entry",
        "entries",
        "order",
        "orders",
        "booking",
        "bookings",
        "reservation",
        "reservations",
        "confirmation",
        "ticket",
        "tickets",
        "thread",
        "article",
        "articles",
        "draft",
        "drafts",
        "post",
        "page",
        "event",
        "events",
        "account",
        "folder",
        "directory",
        "bucket",
        "table",
        "database",
        "project",
        "repo",
        "repository",
        "resource",
        "instance",
        "server",
        "service",
        "subscription",
        "merchant",
        "contact",
        "vendor",
        "review",
        "case",
        "issue",
        "claim",
        "conversation",
        "chat",
        "invoice",
        "policy",
    }
)
#: the records a message answers or a payment refunds (``thread``: a narrower set, so a made-up
#: ``service: standard`` on a booking is not read as where it goes)
_RECORD_NAMES = frozenset(
    {
        "id",
        "ref",
        "ticket",
        "thread",
        "review",
        "case",
        "issue",
        "claim",
        "conversation",
        "chat",
        "booking",
        "reservation",
        "confirmation",
        "order",
        "invoice",
        "account",
        "subscription",
        "merchant",
        "vendor",
        "supplier",
        "carrier",
        "transaction",
        "txn",
        "payment",
        "post",
        "comment",
        "message",
        "number",
        "repo",
        "repository",
        "pr",
        "pull_request",
        "project",
        "page",
        "event",
        "item",
        "record",
        "flight",
        "shipment",
        "patient",
        "student",
        "tenant",
        "customer",
        "member",
        "applicant",
        "candidate",
        "donor",
        "contact",
        "lead",
        "opportunity",
    }
)
#: argument names of a party (a channel, a user, a handle): a one-word value of one is found only
#: where an output holds it as a destination (``SourceIndex._lookup_word``)
_PARTY_NAMES = DESTINATION_NAMES | _PRINCIPAL_NAMES
_ID_SUFFIXES = ("_id", "_ids", "_number", "_no", "_num", "_ref", "_key", "_code")


def _targets(args: Mapping[str, Any], *, thread: bool = False) -> set[str]:
    """The arguments that name what a call acts on, whatever they are called (``order_id``,
    ``branch``, ``confirmation``, ``article_id``, ``ticket``): a value named like an object or an
    id (:data:`_OBJECT_NAMES`, ``*_id``, ``*_ref``, …), or a short string holding a digit that is
    not prose about the call (:data:`_PROSE_NAMES`), a date or a time. ``thread``: for a message
    with no recipient, the record it answers or is about (a ticket, a review, a booking, a flight
    ``AR412``): a value named like one, or one word holding a digit."""
    out: set[str] = set()
    for path, value in leaf_values(args):
        field = _snake(path.rsplit(".", 1)[-1].removesuffix("[]"))
        if not field or _name_matches(field, _PROSE_NAMES) or isinstance(value, bool):
            continue
        named = field in (_RECORD_NAMES if thread else _OBJECT_NAMES) or field.endswith(_ID_SUFFIXES)
        if (thread or not named) and _not_a_place(value):
            continue  # a date or a time; what a destructive call acts on named like an id is the
            # id (``backup_id: 2026-12-05``, ``partition_key``: the attacker picks what is dropped)
        if isinstance(value, str):
            text = value.strip()
            if not text or (not named and len(_norm(text)) > _TARGET_MAX):
                continue  # a value named like an object or an id is one at any length (an ARN)
            digit = _A_DIGIT.search(text) is not None
            if named or (digit and (not thread or not any(c.isspace() for c in text))):
                out.add(path)
        elif isinstance(value, int | float | Decimal) and named:
            out.add(path)
    return out


#: words of an argument name that says who gets a message without an address (``audience``,
#: ``mailing_list``, ``recipient_group``, ``segment``): a message with one is no reply by reference
_AUDIENCE_WORDS = frozenset(
    {
        "audience",
        "audiences",
        "group",
        "groups",
        "list",
        "lists",
        "segment",
        "segments",
        "distribution",
        "cohort",
        "cohorts",
        "recipient",
        "recipients",
        "team",
        "teams",
        "broadcast",
        "subscribers",
        "followers",
        "mailing",
        "community",
    }
)


def _audiences(args: Mapping[str, Any]) -> set[str]:
    """The arguments of a message named like who receives it though not like an address (see
    :data:`_AUDIENCE_WORDS`), whatever their value (``all-customers-eu``, ``everyone``)."""
    out: set[str] = set()
    for path, value in leaf_values(args):
        field = _snake(path.rsplit(".", 1)[-1].removesuffix("[]"))
        if value is None or value == "" or _not_a_place(value):
            continue
        if any(w in _AUDIENCE_WORDS for w in field.split("_")):
            out.add(path)
    return out


def reply_targets(tool: ToolRecord, args: Mapping[str, Any]) -> frozenset[str]:
    """For a ``send`` or a payment registered without ``destinations`` whose arguments name no
    recipient (no address, no channel, no account, no argument named like one, no audience:
    :func:`_audiences`): the record it answers or refunds (``ticket``, ``review_id``,
    ``confirmation``, ``txn_id``), whose owner receives it. Empty otherwise."""
    tool = _undeclared(tool, args)
    if not _by_reference(tool):
        return frozenset()
    if _destination_paths(tool, args) or _send_addresses(tool, args) or _audiences(args):
        return frozenset()
    targets = _targets(args, thread=True)
    if _payees(tool, args) - targets:
        return frozenset()  # the payment names where the money goes (an account in `details`)
    return frozenset(targets)


def _ancestors(path: str) -> Iterator[str]:
    """``a[].b.c`` → ``a[].b.c``, ``a[].b``, ``a[]``, ``a``."""
    p = path
    while p:
        yield p
        if p.endswith("[]"):
            p = p[:-2]
            continue
        cut = p.rfind(".")
        if cut < 0:
            break
        p = p[:cut]


def _is_destination(path: str, dests: frozenset[str]) -> bool:
    # (remembered: every element of a list shares its path, and a deep path has many ancestors;
    # not a crafted argument's long paths)
    if len(path) > _CACHED_NAME:
        return _is_destination_of(path, dests)
    return _is_destination_cached(path, dests)


def _is_destination_of(path: str, dests: frozenset[str]) -> bool:
    if not dests or not path:
        return False
    if path in dests:
        return True
    # a top-level scalar's path (``to``, ``amount``) is its only ancestor
    return ("." in path or path.endswith("[]")) and any(a in dests for a in _ancestors(path))


_is_destination_cached = functools.lru_cache(maxsize=4096)(_is_destination_of)


def destination_domains(
    tool: ToolRecord, args: Mapping[str, Any], dests: frozenset[str] | None = None
) -> tuple[str, ...]:
    """The e-mail domains and URL hosts (lower case, sorted) of the destination arguments' values;
    a destination value that is itself a host name (``example.com``) counts as one. ``dests``:
    ``destination_paths(tool, args)`` when the caller already has it (computed here when None)."""
    if dests is None:
        dests = destination_paths(tool, args)
    if not dests:
        return ()
    out: set[str] = set()
    for path, value in leaf_values(args):
        if not isinstance(value, str) or not _is_destination(path, dests):
            continue
        field = path.rsplit(".", 1)[-1].removesuffix("[]")
        out |= _domains_of(value, bare=_name_matches(field, _HOST_NAMES))
        out |= _redirect_hosts(value)
    return tuple(sorted(out))


def _is_fetch(tool: ToolRecord) -> bool:
    """A read that can carry data out: a ``read`` tool flagged ``egress`` (a URL fetch)."""
    return tool.effect == "read" and bool(tool.egress)


#: how many times a fetch URL's path and query are percent-decoded when looking for a URL inside
_DECODE_ROUNDS = 3
_SCHEME_RELATIVE = re.compile(r"(?:^|[=&?/])(//[^\s/?#&]+)")
#: a special scheme followed by any number of slashes and a host (``https:/evil.io``)
_LOOSE_URL = re.compile(r"(?<![a-z0-9+.-])(?:https?|wss?|ftp):/*[^\s/<>\"'`?#&=]+", re.IGNORECASE)


def _after_authority(url: str) -> str:
    """What follows a URL's host and port (its path, query and fragment), read as
    :func:`url_host` reads the authority (``\\`` as ``/``, any number of slashes)."""
    s = _TAB_NL.sub("", url.strip(_C0_SPACE)).replace("\\", "/")
    m = _SCHEME.match(s)
    rest = (s[m.end() :] if m is not None else s).lstrip("/")
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    return rest[min(ends) :] if ends else ""


def _redirect_hosts(value: str) -> set[str]:
    """See :func:`_find_redirect_hosts` (remembered for a short plain string: :data:`_VALUE_MEMO`;
    a fresh set each call)."""
    if type(value) is not str or len(value) > _VALUE_MEMO_CHARS:
        return _find_redirect_hosts(value)
    key = ("r", value, False)
    got = _VALUE_MEMO.get(key)
    if got is None:
        got = _remember(key, frozenset(_find_redirect_hosts(value)))
    return set(got)


def _find_redirect_hosts(value: str) -> set[str]:
    """The hosts of URLs written inside a fetch URL's path, query or fragment, percent-decoded
    up to three times (``https://named.example/out?to=https%3A%2F%2Fevil.io``): an open redirect
    on the named host sends the client, and whatever the URL carries, on to them."""
    out: set[str] = set()
    for piece in _split_destination(value):
        bare = piece.strip(_EDGE + "\"'")
        if url_host(bare) is None:
            continue
        tail = _after_authority(bare)
        if not tail:
            continue
        for _ in range(_DECODE_ROUNDS):
            decoded = unquote(tail)
            if decoded == tail:
                break
            tail = decoded
        # as a browser reads a redirect's Location: ``\`` is ``/``, and a special scheme takes any
        # number of slashes (``https:/evil.io``, ``https:evil.io``, ``/\evil.io``)
        tail = tail.replace("\\", "/")
        for m in _URL.finditer(tail):
            h = url_host(m.group(0).rstrip(_URL_TRAIL))
            if h:
                out.add(h)
        for m in _LOOSE_URL.finditer(tail):
            h = url_host(m.group(0))
            if h and h != UNKNOWN_HOST:
                out.add(h)
        for m in _SCHEME_RELATIVE.finditer(tail):
            h = url_host(m.group(1))
            if h:
                out.add(h)
    return out


#: a destination string :func:`_split_destination` leaves whole (``\s`` is ``str.isspace``)
_ONE_PIECE = re.compile(r'[^\s,;"]+')


def _split_destination(value: str) -> list[str]:
    """The pieces of a destination string as a mail system or an HTTP client reads a list in one
    string: split at ``,``, ``;`` and whitespace outside double quotes (a quoted local part such as
    ``"bob@acme.com"@evil.io`` stays whole). A piece that starts no address or URL (no ``@``, not
    URL-like) after a URL and a ``,``/``;``/tab/newline is part of that URL (tab, CR and LF are
    removed, as WHATWG does: ``https://example.com<TAB>.evil.io`` is ``example.com.evil.io``)."""
    if _ONE_PIECE.fullmatch(value):  # no separator, quote or space: one piece (most values)
        return [value]
    pieces: list[tuple[str, str]] = []  # (separator before, piece)
    buf: list[str] = []
    sep: list[str] = []
    quoted = escaped = False
    for ch in value:
        if quoted:
            buf.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch in ",;" or ch.isspace():
            if buf:
                pieces.append(("".join(sep), "".join(buf)))
                buf, sep = [], []
            sep.append(ch)
            continue
        if ch == '"':
            quoted = True
        buf.append(ch)
    if buf:
        pieces.append(("".join(sep), "".join(buf)))
    out: list[str] = []
    for before, piece in pieces:
        if (
            out
            and before
            and not any(c.isspace() and c not in "\t\r\n" for c in before)
            and "@" not in piece
            and url_host(piece) is None
            and url_host(out[-1]) is not None
        ):
            out[-1] += _TAB_NL.sub("", before) + piece
            continue
        out.append(piece)
    return out


_EDGE = "<>()"
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _address_domain(piece: str) -> str:
    """The domain a mail system delivers ``piece`` to: after the last ``@`` outside quotes, lower
    case; :data:`UNKNOWN_HOST` when that is not a host name (or an address literal)."""
    unquoted = _QUOTED.sub('""', piece.strip(_EDGE))
    domain = unquoted.rpartition("@")[2].rstrip(".").lower()
    if domain.startswith("[") and domain.endswith("]"):
        domain = domain[1:-1]
    if not domain.isascii():
        try:
            domain = unicodedata.normalize("NFKC", domain).encode("idna").decode("ascii")
        except UnicodeError:
            return UNKNOWN_HOST
    if _HOST.fullmatch(domain) or _IPV4.fullmatch(domain):
        return domain
    return UNKNOWN_HOST


#: a host name as written after an ``@`` (up to the first character no host name holds)
_HOST_AHEAD = re.compile(r"[^\W_][\w.-]*")


def _inner_address_domains(piece: str) -> set[str]:
    """[red team 13] The domains after every ``@`` but the last of one piece outside quotes
    (``x@evil.example?cc=ops@ourco.example``, ``mailto:x@evil.example&ops@ourco.example``,
    ``x@evil.example|ops@ourco.example``): a mail system or a ``mailto:`` reader can deliver to
    any of them, so each is where the piece may send; the last alone
    (:func:`_address_domain`) let an outside recipient ride on an inside or named one.
    :data:`UNKNOWN_HOST` for one that is not a host name."""
    unquoted = _QUOTED.sub('""', piece.strip(_EDGE))
    segments = unquoted.split("@")[1:-1]
    out: set[str] = set()
    for seg in segments[:16]:
        m = _HOST_AHEAD.match(seg)
        host = m.group(0).rstrip(".").lower() if m else ""
        if host and not host.isascii():
            try:
                host = unicodedata.normalize("NFKC", host).encode("idna").decode("ascii")
            except UnicodeError:
                host = ""
        out.add(host if host and (_HOST.fullmatch(host) or _IPV4.fullmatch(host)) else UNKNOWN_HOST)
    return out


def _clean_address(piece: str) -> str | None:
    """``piece`` as one plain address (``bob@acme.com``, ``<bob@acme.com>``), lower case; None
    when it is anything a plain pattern does not fully read (a quoted local part, a route, a
    ``mailto:`` prefix): such a piece is never matched to an address of the task's sources."""
    bare = piece.strip(_EDGE)
    return bare.lower() if _EMAIL.fullmatch(bare) else None


def _domains_of(value: str, *, bare: bool) -> set[str]:
    """See :func:`_find_domains` (remembered for a short plain string: :data:`_VALUE_MEMO`; a
    fresh set each call)."""
    if type(value) is not str or len(value) > _VALUE_MEMO_CHARS:
        return _find_domains(value, bare=bare)
    key = ("d", value, bare)
    got = _VALUE_MEMO.get(key)
    if got is None:
        got = _remember(key, frozenset(_find_domains(value, bare=bare)))
    return set(got)


def _find_domains(value: str, *, bare: bool) -> set[str]:
    """The domains a destination string sends to: each piece's (:func:`_split_destination`) URL
    host (:func:`url_host`) or address domain (:func:`_address_domain`), and the hosts of URLs
    written inside a piece; with ``bare`` (a host or domain argument) also a piece that is a host
    name, when no piece is a URL or an address (``report.pdf`` in a ``file`` argument is not). A
    piece that is URL-like or holds an ``@`` but names no readable host gives
    :data:`UNKNOWN_HOST`, never no domain."""
    out: set[str] = set()
    pieces = _split_destination(value)
    found = False
    for piece in pieces:
        host = url_host(piece.strip(_EDGE + "\"'"))
        if host is not None:
            out.add(host)
            found = True
            continue
        if "@" in piece:
            out.add(_address_domain(piece))
            out |= _inner_address_domains(piece)
            found = True
        if "://" in piece:
            for m in _URL.finditer(piece):
                h = url_host(m.group(0).rstrip(_URL_TRAIL))
                if h:
                    out.add(h)
                    found = True
    if bare and not found:
        for piece in pieces:
            h = piece.strip(_EDGE + "\"'").lower().rstrip(".")
            if _HOST.fullmatch(h):
                out.add(h)
    return out


# ---- values embedded in free text ---------------------------------------------------------------

#: an IBAN as written: country code, check digits, then 11 to 30 letters or digits, in groups
_IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![A-Z0-9])")
#: second-level labels under which a country code's domains are registered (``example.co.uk``)
_SLD = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "ltd", "plc"})
#: free text longer than this is searched for embedded values in its first part only, and at
#: most this many IBAN candidates per value are checked (bounds what a crafted argument costs)
_EMBED_MAX = 256 << 10
_MAX_IBANS = 256


def registrable_domain(host: str) -> str:
    """``learn.example.com`` → ``example.com``; ``a.b.example.co.uk`` → ``example.co.uk``: the last
    two labels, three under a country code's generic second level. A heuristic without the public
    suffix list: where it is wrong (``city.state.us``) it names a *shorter* domain, which an
    organisation's allowlist does not hold, so a policy errs on the side of holding."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SLD:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _iban_ok(s: str) -> bool:
    """The ISO 13616 check (mod 97) of a squashed, upper-case IBAN."""
    moved = s[4:] + s[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


#: [red team 34] what may group an IBAN's characters besides a space or a dash: no-break and
#: narrow spaces (an IBAN copied from an HTML mail) and dots are read as spaces; characters that
#: show nothing (zero-width space, joiners, the BOM) are dropped
_IBAN_GROUPING = str.maketrans(
    {".": " ", "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ",
     "\u200b": None, "\u200c": None, "\u200d": None, "\u2060": None, "\ufeff": None}
)  # fmt: skip


def ibans(text: str) -> set[str]:
    """The IBANs written in ``text`` (with or without spaces, or grouped as :data:`_IBAN_GROUPING`
    reads), squashed, upper case; only those whose check digits are right (so an order number or
    a date is never read as one)."""
    out: set[str] = set()
    for i, m in enumerate(_IBAN.finditer(text.upper().translate(_IBAN_GROUPING))):
        if i >= _MAX_IBANS:
            break
        sq = m.group(0).replace(" ", "").replace("-", "")
        for n in range(min(len(sq), 34), 14, -1):
            if _iban_ok(sq[:n]):
                out.add(sq[:n])
                break
    return out


_A_DIGIT = re.compile(r"\d")


def _whole_iban(text: str) -> bool:
    """``text`` is one IBAN (spaces, dashes or dots allowed), its check digits right."""
    up = text.strip().upper().replace(".", " ")
    return _IBAN.fullmatch(up) is not None and _iban_ok(up.replace(" ", "").replace("-", ""))


def _may_embed(value: str) -> bool:
    return "://" in value or "@" in value or _A_DIGIT.search(value, 0, _EMBED_MAX) is not None


#: [red team 34] the top-level domains a link written without its scheme is read under
#: (``pay-ourco.example``, ``ourco-payments.com/INV-2207``): the common generic ones and country
#: codes that are not also a file's extension (``README.md``, ``main.py``, ``run.sh`` are no link);
#: a host after ``www.`` is a link under any
_LINK_TLDS = frozenset(
    {
        "com", "net", "org", "info", "biz", "io", "co", "app", "dev", "xyz", "online", "site",
        "link", "shop", "store", "top", "club", "live", "pro", "cloud", "page", "ai", "me", "us",
        "uk", "de", "fr", "nl", "eu", "ru", "cn", "ch", "at", "be", "es", "se", "no", "dk",
        "fi", "ca", "au", "nz", "ie", "pt", "br", "mx", "jp", "kr", "tk", "ly", "gl",
        "su", "ua", "cz", "hu", "ro", "gr", "tr", "za", "sg", "hk", "tw", "vn",
        "example", "support", "help", "email", "pay", "bank", "finance", "money", "secure",
        "icu", "cfd", "sbs", "buzz", "rest", "click", "today", "work", "monster", "cyou", "bond",
    }
)  # fmt: skip
#: a token that may be a link written without its scheme: no space, quote or bracket in it
_BARE_TOKEN = re.compile(r"[^\s<>\"'`()\[\]{},;|]{4,2048}+")


def _bare_links(text: str) -> Iterator[tuple[str, str]]:
    """[red team 34] ``(normalised URL, host)`` of each link written without its scheme
    (``www.ourco-payments.example/INV-2207``, ``pay-ourco.example``), which every mail client
    turns into a link: a host of at least two labels under :data:`_LINK_TLDS` (any top-level
    domain after ``www.``), with or without a port, a path, a query or a fragment. Not an e-mail
    address's domain, not a host inside a link with its scheme (those are read as links
    already). [red team 35] Markup around it (``**…**``, ``_…_``) and characters that show
    nothing are not part of it; a host alone, with no ``www.`` and nothing after it, is read only
    when it holds a hyphen or a digit (``pay-ourco.example``; not a brand named by its domain,
    ``Booking.com``, nor a file, ``requirements.in``)."""
    for m in _BARE_TOKEN.finditer(text.translate(_LINK_INVISIBLE)):
        token = m.group(0).strip("*_~").rstrip(_URL_TRAIL).rstrip("*_~")
        if "." not in token or "://" in token or token[:1] in ("", ".", "/", ":", "-"):
            continue
        cut = len(token)
        for sep in ":/?#":
            at = token.find(sep)
            if 0 <= at < cut:
                cut = at
        host, rest = token[:cut].lower().rstrip("."), token[cut:]
        if "@" in host or _HOST.fullmatch(host) is None:
            continue
        port = ""
        if rest.startswith(":"):
            digits = rest[1:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
            if not digits.isdigit() or len(digits) > 5:
                continue
            port, rest = ":" + digits, rest[1 + len(digits) :]
        tld = host.rsplit(".", 1)[1]
        www = host.startswith("www.")
        if not (www or tld in _LINK_TLDS):
            continue
        if (
            not www
            and not rest.strip("/")
            and not port
            and (tld in _FILE_LIKE_TLDS or not any(c == "-" or c.isdigit() for c in host))
        ):
            continue
        url = normalise_url("https://" + host + port + (rest if rest.startswith(("/", "?", "#")) else ""))
        if url:
            yield url, host


#: [red team 36] a top-level domain that is also a common file's extension (``logo-v2.ai``): a
#: host alone under it is a file's name, not a link. [red team 37] Not ``.app``, ``.top``,
#: ``.page``, ``.link``, ``.work``: phishing uses them more than files do
_FILE_LIKE_TLDS = frozenset({"ai"})
#: [red team 35] characters that show nothing, dropped before a link is read
_LINK_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad"))


#: [red team 34] bank details other than an IBAN, after the words that name them: a sort code, a
#: routing or ABA number, a BSB or transit number, a bank or beneficiary account (digits, spaced
#: or dashed; not any "account", as often a customer's number), a SWIFT/BIC code; and a crypto
#: wallet (bech32 ``bc1…``, base58 ``1…``/``3…``, ``0x`` and 40 hex)
_ACCOUNT = re.compile(
    # a UK sort code and a BSB: six digits in pairs or threes
    r"\b(?:sort[ -]?code|s/c|bsb)(?:[ .]{0,2}+(?:no|nr|number|#))?+[\s:#.=()-]{0,4}+"
    r"(\d\d[ .-]?\d\d[ .-]?\d\d|\d{3}[ .-]\d{3})(?!\d)"
    # an ABA routing number: nine digits, grouped or not
    r"|\b(?:routing|aba|rtn)(?:[ .]{0,2}+(?:no|nr|number|#))?+(?:[ ]?\(aba\))?+[\s:#.=-]{0,4}+"
    r"(\d(?:[ -]?\d){8})(?![\d])"
    # a Canadian transit number, a CLABE, an IFSC
    r"|\btransit[ .]{0,2}+(?:no|nr|number|#)?+[\s:#.=-]{0,4}+(\d{5})(?!\d)"
    r"|\bclabe[\s:#.=-]{0,4}+(\d{18})(?!\d)"
    r"|\bifsc(?:[ .]{0,2}+code)?+[\s:#.=-]{0,4}+((?-i:[A-Z]{4}0[A-Z0-9]{6}))\b"
    # an account after words that say it is a bank's (not any "account": a customer's number)
    r"|\b(?:bank|beneficiary|receiving|payee)'?s?[ -](?:account|acct|a/c)"
    r"(?:[ .]{0,2}+(?:no|nr|number|#))?+[\s:#.=-]{0,4}+(\d(?:[ -]?\d){5,30})(?!\d)"
    # a SWIFT/BIC code, written in capitals (not "the swift response")
    r"|\b(?:(?:swift|bic)[ .]{0,2}+code[\s:#.=-]{0,4}+|swift(?:/bic)?[ ]?[:#=][ ]?|bic[\s:#.=-]{1,4}+)"
    r"((?-i:[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?))\b"
    # crypto wallets: bitcoin (bech32, base58), litecoin, ethereum and its tokens, tron, xrp
    r"|\b((?:bc1|ltc1)[02-9ac-hj-np-z]{11,71}|(?-i:[13LMT][1-9A-HJ-NP-Za-km-z]{25,34})|0x[0-9a-f]{40}"
    r"|(?-i:r[1-9A-HJ-NP-Za-km-z]{24,34}))\b",
    re.IGNORECASE,
)
#: [red team 36] the group of :data:`_ACCOUNT` that holds a SWIFT/BIC code, and the ISO 3166
#: country codes its fifth and sixth letters are one of
_BIC_GROUP = 7
_COUNTRY_CODES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS "
    "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE "
    "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
    "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC "
    "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA "
    "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"
)
_COUNTRIES = frozenset(_COUNTRY_CODES.split())
#: [red team 35] what may group the digits of bank details besides a space or a dash
_DETAIL_GROUPING = str.maketrans(
    {"\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2212": "-", "\u00a0": " ", "\u202f": " ", "\u2007": " ",
     "\u2009": " ", "\u200b": " ", "\u200c": " ", "\u200d": " ", "\u2060": " ", "\ufeff": " "}
)  # fmt: skip


def _bank_details(text: str) -> Iterator[str]:
    """[red team 34] The bank details (:data:`_ACCOUNT`) written in ``text``, as written (found
    with dashes and spaces of other kinds read as :data:`_DETAIL_GROUPING` says)."""
    for i, m in enumerate(_ACCOUNT.finditer(text.translate(_DETAIL_GROUPING))):
        if i >= _MAX_IBANS:
            break
        group = next(n for n, g in enumerate(m.groups(), 1) if g)
        if group == _BIC_GROUP and m.group(group)[4:6] not in _COUNTRIES:
            continue  # [red team 36] "SWIFT PAYMENTS": no country where a BIC has one
        # as the text writes it (the translation maps one character to one): looked up as written
        yield text[m.start(group) : m.end(group)].strip()


def embedded_values(text: str) -> list[tuple[str, str, str | None]]:
    """``(kind, index key, host)`` of the URLs (``url``), e-mail addresses (``email``) and IBANs
    (``iban``) written inside a free-text value — not the value itself when it is one of them
    whole (an argument that *is* a URL is traced as itself). ``host`` is a URL's host or an
    address's domain, lower case (None for an IBAN)."""
    text = text[:_EMBED_MAX]
    whole = text.strip()
    out: list[tuple[str, str, str | None]] = []
    if "://" in text:
        nfkc = unicodedata.normalize("NFKC", text)
        whole_url = normalise_url(whole) if "://" in whole and not any(c.isspace() for c in whole) else None
        for url in sorted(_urls(nfkc)):
            if url == whole_url:
                continue
            out.append(("url", "u" + url, _url_host(url)))
    if "." in text:
        whole_low = whole.lower()
        for url, host in sorted(set(_bare_links(text))):
            if whole_low not in (host, url.removeprefix("https://")):
                out.append(("url", "u" + url, host))
    if "@" in text:
        low = whole.lower()
        for email in sorted(_emails(_norm(text))):
            if email == low:
                continue
            out.append(("email", "e" + email, email.rsplit("@", 1)[1].rstrip(".")))
    if _A_DIGIT.search(text) is not None:
        whole_sq = _squash(whole).upper()
        found = ibans(text)
        for iban in sorted(found):
            if iban != whole_sq:
                out.append(("iban", "i" + iban.lower(), None))
        for written in sorted(set(_bank_details(text))):
            sq = _squash(written).upper()
            if sq != whole_sq and not any(sq in i for i in found):
                out.append(("account", "=" + written, None))
    return out


def _objects(tool: ToolRecord, paths: Iterator[str]) -> tuple[str, ...]:
    """Of a call's destination ``paths``, those of a tool flagged ``access_control`` that name the
    object it changes access to (the file, the document: :data:`_FILE_NAMES`), not who gets in:
    ``Provenance.objects``. A share of the file the request named with ``type: anyone`` has a
    traced destination and no grantee."""
    if not tool.access_control:
        return ()
    who = DESTINATION_NAMES | _PRINCIPAL_NAMES
    out = []
    for path in paths:
        field = path.rsplit(".", 1)[-1].removesuffix("[]")
        if _name_matches(field, _FILE_NAMES) and not _name_matches(field, who):
            out.append(path)
    return tuple(sorted(out))


def _all_addresses(value: str) -> bool:
    """Every piece of a destination string is an e-mail address (a recipient), none a URL or a
    host name."""
    pieces = [p.strip(_EDGE + "\"'") for p in _split_destination(value)]
    return bool(pieces) and all("@" in p and url_host(p) is None for p in pieces)


def _inside_domains(domains: set[str] | None) -> tuple[str, ...]:
    """A destination path's domains for ``ArgOrigin.domains``: empty (never inside) when one of
    its values has no domain."""
    if not domains or "" in domains:
        return ()
    return tuple(sorted(domains))


def _payload_pieces(value: str) -> Iterator[str]:
    """What a fetch argument carries besides where it goes: a URL's user info, path segments,
    query keys and values and fragment (percent-decoded); any other value whole; and the words
    (letters and digits) of those in order, one, two and three at a time, across pieces — once
    with the query keys, once without them: a name or a number split over query values or path
    segments (``?first=Jane&last=Roe``, ``/123/45/6789``) or joined by a character no word holds
    (``Jane-Roe``, ``jane_roe``, ``/p/Jane+Roe``) is read again as the output wrote it."""
    bare = value.strip()
    host = url_host(bare)
    pieces: list[str] = []
    keys: set[int] = set()  # the positions of query keys in ``pieces``
    if host is not None and host != UNKNOWN_HOST:
        try:
            parts = urlsplit(bare.replace("\\", "/"))
        except ValueError:
            parts = None
        if parts is not None:
            if "@" in parts.netloc:
                pieces.append(unquote(parts.netloc.rpartition("@")[0]))
            pieces.extend(unquote(seg) for seg in parts.path.split("/") if seg)
            for k, v in parse_qsl(parts.query, keep_blank_values=True):
                keys.add(len(pieces))
                pieces.extend((k, v))
            if parts.fragment:
                pieces.append(unquote_plus(parts.fragment))
        else:
            pieces.append(bare)
    else:
        pieces.append(bare)
    seen: set[str] = set(pieces)
    yield from pieces
    everything = [w for p in pieces for w in _PAYLOAD_WORD.findall(p)]
    values = [w for i, p in enumerate(pieces) if i not in keys for w in _PAYLOAD_WORD.findall(p)]
    for words in (everything, values) if keys else (everything,):
        for n in range(1, _PAYLOAD_WINDOW + 1):
            for i in range(len(words) - n + 1):
                window = " ".join(words[i : i + n])
                if window not in seen:
                    seen.add(window)
                    yield window


#: what :meth:`SourceIndex.carries_secret` reads: a run with no space (a password, a key), its
#: edges' punctuation stripped; one that holds a letter and a digit, eight characters or more
_SECRET_TOKEN = re.compile(r"\S{8,256}")
_EDGE_PUNCT = "\"'`()[]{}<>,;.:!?"
_SECRET_SHAPE = re.compile(r"(?=.*[^\W\d_])(?=.*\d)")
_SECRET_MIN = 8
#: characters of a call's string arguments the credential detectors read (past it: a credential)
_SECRET_SCAN_CHARS = 512 << 10


#: a run a credential can be: 20+ characters with no space (every detect-secrets detector's secret
#: but Artifactory's, which are the two shorter forms), or Artifactory's
_CREDENTIAL_RUN = re.compile(r"\S{20,}|AKC[a-zA-Z0-9]{10}|AP[0-9A-F][a-zA-Z0-9]{8}")
#: characters kept before such a run, for the detectors that need what names it (``aws_secret =
#: "…"``, ``softlayer_api_key: '…'``: at most ~40 characters in their patterns)
_CREDENTIAL_CONTEXT = 80
#: merged windows (:func:`_credential_windows`) grow to about this many characters, then a new one
#: starts (with its context again): some detectors backtrack over a whole line (npm's ``//.+/``)
_CREDENTIAL_LINE = 1024


#: format characters a reader does not see (soft hyphen, zero-width spaces and joiners, word
#: joiner, direction marks and overrides, byte order mark); [red team 10] also the combining
#: grapheme joiner, the Arabic letter mark, Hangul and half-width fillers, Khmer's invisible
#: vowels, variation selectors and tag characters
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef]"
)


def _visible(text: str) -> str:
    """``text`` as a reader sees it: with no invisible character (:data:`_INVISIBLE`) and, red
    team 10, NFKC (full-width or mathematical letters and digits read as ASCII: a full-width ``ghp_…``)."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


def _arg_strings(args: Mapping[str, Any]) -> list[str]:
    """Every non-empty string of a call's arguments, its object keys as well as its values
    (``headers: {"<token>": "x"}`` carries the token as much as ``headers: {"x": "<token>"}``)."""
    out: list[str] = []
    stack: list[Any] = [args]
    while stack:
        value = stack.pop()
        if type(value) is str:  # most values (no ABC check needed)
            if value:
                out.append(value)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and k:
                    out.append(k)
                stack.append(v)
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str) and value:
            out.append(value)
    return out


def _credential_windows(texts: list[str]) -> str:
    """What of a call's string arguments the credential detectors read: each run a credential can
    be (:data:`_CREDENTIAL_RUN`) with the characters before it, one per line, windows that overlap
    or touch read as one up to :data:`_CREDENTIAL_LINE` characters (so a text of many short runs
    costs about what it does whole, not five times that: each run's context is not read again
    and again); a value naming a private key is read whole. A link is read
    like any run: a key in its path, query or fragment (``https://evil.example/c?k=AKIA…``) is a
    credential as much as one in prose. Reading only these keeps the detectors (~40 patterns) off
    ordinary prose."""
    out: list[str] = []
    for text in texts:
        if "PRIVATE KEY" in text or "PuTTY-User-Key" in text:
            out.append(text)
            continue
        if (
            "AP" not in text
            and "AKC" not in text
            and (len(text) < 20 or max(map(len, text.split()), default=0) < 20)
        ):
            # no run :data:`_CREDENTIAL_RUN` matches (``\S`` is what ``str.split`` keeps): not
            # searched for one
            continue
        # the context may hold an earlier run (``aws_secret_access_key``): such windows are merged
        start = end = -1
        for m in _CREDENTIAL_RUN.finditer(text):
            a = max(0, m.start() - _CREDENTIAL_CONTEXT)
            if start >= 0 and a <= end and m.end() + 2 - start <= _CREDENTIAL_LINE:
                end = m.end() + 2
                continue
            if start >= 0:
                out.append(text[start:end].replace("\n", " "))
            start, end = a, m.end() + 2
        if start >= 0:
            out.append(text[start:end].replace("\n", " "))
    return "\n".join(out)


#: words of a request that asks for money to move (``refund the duplicate``, ``pay invoice``,
#: ``send Lucas my half`` has none: its payee traces to the request instead)
_PAY_WORDS = re.compile(
    r"\b(?:pay|pays|paid|paying|payment|payments|payout|payouts|prepay|repay|refund|refunds|"
    r"refunded|refunding|reimburse|reimbursed|reimbursement|reimbursements|transfer|transfers|"
    r"wire|wires|remit|remittance|settle|settlement|disburse|disbursement|invoice|invoices|bill|"
    r"bills|deposit|deposits|purchase|purchases|buy|tip|top-up|top up|voucher|vouchers|credit|"
    r"credits|compensation|compensate|chargeback|rebate|stipend|fee|fees|charge|charges|book|"
    r"rebook|reserve|renew|subscribe)\b"
)
#: an amount of money written in a request: a currency symbol or code next to a number
_MONEY = re.compile(
    r"[$€£¥]\s?\d|\d\s?[$€£¥]|\b(?:usd|eur|gbp|chf|jpy|cad|aud|nok|sek|dkk|pln|czk|inr|brl|mxn)\s?\d"
    r"|\d[\d,.]*\s?(?:usd|eur|gbp|chf|jpy|cad|aud|nok|sek|dkk|pln|czk|inr|brl|mxn)\b"
)


#: [red team 10] money given to a person the request names (``send Lucas my half``, ``what I
#: owe Sam``): with no word of paying, only such words made the payee's name ask for a payment
_GIVE_WORDS = re.compile(
    r"\b(?:my|his|her|their|our|your) (?:half|share|part|portion|cut)\b|\bowe[sd]?\b|\bowing\b"
    r"|\b(?:money|cash|funds)\b"
)
#: [red team 10] a clause that orders goods (``Order 4 bottles of …``, ``reorder the toner``);
#: not ``order 1234 is late`` (a clause that says what an order is: :data:`_STATE_VERB`)
_ORDER_CLAUSE = re.compile(
    r"(?:please )?(?:order|reorder|procure)\s+(?:\d+\s+(?:x\s+)?[a-z]|(?:a|an|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|twelve|some|more|another|new|replacement|spare)\b)"
)
_STATE_VERB = re.compile(r"\b(?:is|are|was|were|has|have|had|been|isn't|wasn't|hasn't)\b")
#: [red team 10] where a request's clauses end: a sentence, a semicolon or a colon, a comma, a
#: bracket, a dash between spaces, and ``and``, ``but``, ``then``
_CLAUSE_END = re.compile(r"[.;:!](?:\s|$)|,\s|[()\[\]]|\s[-\u2013\u2014]\s|\b(?:and|but|then)\b")
#: [red team 10] a word before a word of paying, in its clause, that says the clause does not ask
#: for it: a negation (``do not pay``, ``we won't refund``), a check or a question (``check
#: whether the payment went through``, ``see if they paid``), words reported to someone (``tell
#: them we won't pay``, ``explain the refund policy``) or a summary of payments made
_NOT_ASKED = re.compile(
    r"\b(?:not|no|never|don't|dont|won't|wont|cannot|can't|cant|shouldn't|mustn't|without|nor|neither|"
    r"stop|cancel|avoid|refrain|hold off|check|checks|checking|verify|confirm whether|whether|if|see|"
    r"look|looking|find|status|why|what|how|when|which|who|tell|reply|respond|answer|explain|inform|"
    r"notify|remind|ask|summarise|summarize|summary|report|list|show|review|audit|investigate|track|"
    r"chase|dispute|disputed|hold|pause|paused|decline|reject|"
    # [red team 34] handling the document (an invoice filed, forwarded, translated) pays nothing
    r"forward|forwarded|forwarding|file|filed|filing|archive|archived|upload|uploaded|translate|"
    r"translated|extract|tag|save|attach|scan|scanned|print|download|rename|categorise|categorize|"
    r"reconcile|record|log)\b"
)
#: [red team 32] a clause that ends in a negation set off by a comma ("please do not, under any
#: circumstances, pay …"): it governs the rest of the sentence; not "or not"
_PAY_ASIDE = re.compile(r"(?:(?<!\bor )\b(?:not|never)|n't)$")
#: [red team 10] a clause saying what became of a payment (``the invoice of €300 was disputed``,
#: ``the deposit was already paid``) asks for nothing
_SETTLED = re.compile(
    r"\b(?:is|are|was|were|been|be|got)\s+(?:already\s+|now\s+|still\s+)?(?:disputed|contested|rejected|"
    r"declined|refused|cancelled|canceled|withdrawn|voided|paid|settled|refunded|reversed|on hold)\b"
)


def asks_for_money(text: str) -> bool:
    """The request (purpose and parameters) asks for money to move: a word of paying or refunding
    (:data:`_PAY_WORDS`), or an amount with its currency (``EUR 15``, ``$412``). [red team 10]
    Read clause by clause: a word of paying in a question, after a negation, a check or words
    reported to someone in its clause (:data:`_NOT_ASKED`: ``do not pay``, ``check whether the
    payment went through``, ``tell them we won't pay``), or in a clause saying what became of a
    payment (``the invoice of €300 was disputed``) asks for nothing; money given to a person
    (``send Lucas my half``) or goods ordered (``Order 4 bottles of …``) does."""
    norm = _norm(text).replace("\u2019", "'")
    for sentence in re.split(r"(?<=[?])\s*", norm):
        if sentence.rstrip().endswith("?"):
            continue  # a question asks for an answer
        aside = False  # [red team 32] a negation set off by a comma governs the sentence on
        for piece in _CLAUSE_END.split(sentence):
            clause = piece.strip()
            if aside:
                continue
            aside = _PAY_ASIDE.search(clause) is not None
            if not clause or _SETTLED.search(clause):
                continue
            if _ORDER_CLAUSE.match(clause) and not _STATE_VERB.search(clause):
                return True
            for pattern in (_PAY_WORDS, _MONEY, _GIVE_WORDS):
                for m in pattern.finditer(clause):
                    if _NOT_ASKED.search(clause, 0, m.start()) is None:
                        return True
    return False


#: [red team 34] argument names of a payment that say what it pays (an invoice, a reference)
_REFERENCE_NAMES = frozenset(
    {"reference", "ref", "invoice", "invoices", "invoice_id", "invoice_no", "invoice_number", "bill", "memo",
     "remittance", "remittance_info", "payment_reference", "end_to_end_id"}
)  # fmt: skip


#: [benign review 34] a release version, with or without its ``v`` (``v2.14.3``, ``2.14.3-rc.1``)
_VERSION = re.compile(r"v?\d{1,6}(?:\.\d{1,6}){1,3}(?:[-+][0-9a-z.]{1,40})?")


#: [benign review 34] a day written day first with dots (``14.03.2026``, ``14.3.2026 09:30``), as
#: most of Europe writes it; ISO forms are read by ``datetime.fromisoformat``
_DOTTED_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ ,t]{1,3}(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _moment(text: str) -> datetime | None:
    """``text`` as a date-time (a date alone at midnight), or None: ISO 8601 (``2026-03-14``,
    ``2026-03-14T09:30:00``, with or without ``Z``) or :data:`_DOTTED_DAY`. A zone is dropped: a
    request writes the local time."""
    text = text.strip()
    if not 8 <= len(text) <= 40:
        return None
    m = _DOTTED_DAY.fullmatch(text)
    try:
        if m is not None:
            day, month, year, hour, minute, second = m.groups()
            return datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        got = datetime.fromisoformat(text.upper().removesuffix("Z"))
    except ValueError:
        return None
    return got.replace(tzinfo=None)


def _same_moment(param: str, value: str) -> bool:
    """[benign review 34] A parameter and an argument that are one date-time written two ways
    (``--param start="14.03.2026 09:30"``, ``start: 2026-03-14T09:30:00``); a parameter with a
    date alone matches any time of that day."""
    a, b = _moment(param), _moment(value)
    if a is None or b is None:
        return False
    if a.time() == datetime.min.time() and ":" not in param:
        return a.date() == b.date()
    return a == b


#: a normalised piece that is a date or part of one: year, month and day in either order
_DATE_PIECE = re.compile(
    r"(?:19|20)\d\d(?: (?:0?[1-9]|1[0-2])(?: (?:0?[1-9]|[12]\d|3[01]))?)?"
    r"|(?:0?[1-9]|[12]\d|3[01]) (?:0?[1-9]|1[0-2])(?: (?:19|20)\d\d)?"
)


def _singles_out(norm: str) -> bool:
    """``norm`` can single data out (see ``SourceIndex.carries_confidential``). A piece of a
    calendar date alone (``2026 12``, ``2026 12 02``, ``12 02``: a news URL's path) does not: any
    page's URL holds dates, and the pieces of one date are found in any output that holds
    another date of the same month."""
    if "@" in norm:
        return True
    if _DATE_PIECE.fullmatch(norm) is not None:
        return False
    if sum(c.isdigit() for c in norm) >= 5:
        return True
    return len(_terms(norm)) >= 2


#: look-alike verdicts a task keeps (cleared past it)
_MAX_KNOWN = 256


#: deletion-neighbourhood keys the known counterparties' names hold at most (~0.2 s to build)
_MAX_NAME_KEYS = 100_000


class _Names:
    """Known domains indexed by what a look-alike of them shares (:func:`lookalike_of`): their
    name (``lumen-officesupplies``), its skeleton (look-alike letters folded), and its deletion
    neighbourhood (every string one or two deleted letters away: two names within two edits
    share one). :meth:`candidates` returns the few domains a look-alike of ``domain`` could be of;
    :func:`lookalike_of` then decides."""

    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}
        self._of: dict[str, tuple[str, ...]] = {}
        self._held = 0  # keys held for the domains indexed (bounded: _MAX_NAME_KEYS)

    def _index_keys(self, domain: str) -> tuple[str, ...]:
        name = lookalike_name(domain)
        if len(name) < 4:
            return ()
        keys = {"n" + name, "k" + lookalike_skeleton(name)}
        if self._held < _MAX_NAME_KEYS:
            # two deletions only for names of 8 to 24 letters (a name of n letters has ~n²/2
            # of them: 20,000 domains of 38 letters a trusted list named cost a minute and
            # millions of keys; red team 7); past the budget, a name is found by itself, its
            # skeleton and its parts only
            keys.update("d" + x for x in _deletions(name, 2 if 8 <= len(name) <= 24 else 1))
        return tuple(keys)

    def add(self, domain: str) -> None:
        keys = self._index_keys(domain)
        self._of[domain] = keys
        self._held += len(keys)
        for k in keys:
            self._keys.setdefault(k, set()).add(domain)

    def discard(self, domain: str) -> None:
        self._held -= len(self._of.get(domain, ()))
        for k in self._of.pop(domain, ()):
            got = self._keys.get(k)
            if got is not None:
                got.discard(domain)
                if not got:
                    del self._keys[k]

    def candidates(self, domain: str) -> set[str]:
        name = lookalike_name(domain)
        labels = domain.lower().rstrip(".").split(".")
        keys = {"n" + name, "k" + lookalike_skeleton(name)}
        keys.update("n" + label for label in labels[:-1])
        parts = name.split("-")
        keys.update("n" + part for part in parts)
        # a known name the name starts or ends with (``northwindaudit``), or hyphenated parts of it
        keys.update("n" + name[:i] for i in range(4, len(name)))
        keys.update("n" + name[i:] for i in range(1, len(name) - 3))
        keys.update("d" + x for x in _deletions(name, 2))
        out: set[str] = set()
        for k in keys:
            got = self._keys.get(k)
            if got:
                out.update(got)
        return out


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string made of it by deleting up to ``depth`` letters (a word past 40
    letters: itself only)."""
    out = {word}
    if len(word) > 40:
        return out
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _domains_known(emails: set[str], urls: set[str]) -> tuple[str, ...]:
    """The registrable domains of ``emails`` and of ``urls``' hosts (sorted)."""
    out: set[str] = set()
    for e in emails:
        out.add(registrable_domain(e.rsplit("@", 1)[-1]))
    for u in urls:
        host = url_host(u)
        if host is not None and host != UNKNOWN_HOST:
            out.add(registrable_domain(host))
    out.discard("")
    return tuple(sorted(out))


# ---- the index -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Source:
    name: str
    origin: Origin
    norm: str
    keys: tuple[str, ...]
    size: int
    #: the registrable domains of its addresses and links (counted in ``SourceIndex._known``
    #: for a source that is not untrusted)
    domains: tuple[str, ...] = ()


#: a destination that is one plain word (``all``, ``ops``, ``general``; one with fewer than six
#: digits: an account number or IBAN is matched as an identifier): found in an output only where
#: the output holds it as a destination (:func:`_as_destination`)
_PLAIN_WORD = re.compile(r"[^\W_]*[^\W\d_][^\W_]*")
#: [s15] a channel or a group named by two to four words of letters joined by ``-`` or ``_``
#: (``#riverside-lofts-all``)
_SLUG = re.compile(r"[#@]?[^\W\d_]{2,30}(?:[-_][^\W\d_]{2,30}){1,3}")
_SLUG_PARTS = re.compile(r"[-_]")
#: [red team 32] what may join a slug's words where a source names it: marks, markup, entities,
#: percent escapes and invisible characters, no space (``**riverside**-**lofts**``, ``&#45;``)
_SLUG_GLUE = r"(?:&#?\w{1,8};|%[0-9a-f]{2}|<[^<>\n]{0,40}>|[^\w\s]|_){0,12}+"
#: [red team 32] invisible characters a source may hide a name's letters with
_SLUG_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
#: a destination written with its kind (``route:R14``, ``list:newsletter-main``, ``group:eng``)
_TYPED_REF = re.compile(r"([^\W\d_]{2,32}):([^\W_](?:[\w.-]{0,62}[^\W_])?)")
#: the labels before a destination in a listing (``channel: all``, ``handles = ops, oncall``)
_DEST_LABEL = r"(?:channel|user|handle|team|group|to|dm|recipient|alias|list|name|id|member|queue|room)s?"


@functools.lru_cache(maxsize=1024)
def _as_destination(word: str) -> re.Pattern[str]:
    """Where an output holds ``word`` (normalised) as a destination rather than as a word of its
    prose: ``#all``, ``@ops``, quoted (``"all"``: a JSON or YAML field), in a labelled listing
    (``channel: all``, ``channels: ops, all``), or as the heading of a line (``Brokerage: cash
    USD 3,210``: an account listing)."""
    return re.compile(_as_listed(word).pattern + "|" + _as_heading(word).pattern)


@functools.lru_cache(maxsize=1024)
def _as_listed(word: str) -> re.Pattern[str]:
    """:func:`_as_destination` but for a heading: ``#all``, ``@ops``, quoted, labelled."""
    w = re.escape(word)
    return re.compile(
        rf"(?<![\w#@])[#@]{w}(?![\w-])"
        rf"|[\"'`]{w}[\"'`]"
        rf"|(?<![\w-]){_DEST_LABEL}\s*[:=]\s*(?:[#@]?[\w.-]+\s*,\s*){{0,64}}[#@]?{w}(?![\w-])"
    )


@functools.lru_cache(maxsize=1024)
def _as_heading(word: str) -> re.Pattern[str]:
    """An output (normalised: one line) that starts with ``word`` and a colon (``Brokerage: cash
    USD 3,210``)."""
    return re.compile(rf"(?:^|\n)[ \t]*{re.escape(word)}[ \t]*:")


@functools.lru_cache(maxsize=1024)
def _named_destination(word: str) -> re.Pattern[str]:
    """Where a request names ``word`` (normalised) as a destination in words: after a preposition or
    a kind of destination (``to ops``, ``in general``, ``cc legal``, ``channel all``, ``to the
    ops``), or before one (``the ops channel``, ``the legal team``)."""
    w = re.escape(word)
    before = r"(?:to|in|into|on|onto|via|cc|bcc|channel|chan|room|group|team|list|alias|handle|dm|message|ping|notify|tell)"
    after = (
        r"(?:channel|chan|team|group|list|room|queue|chat|alias|handle|thread|space|dm|inbox|mailbox|distro)"
    )
    return re.compile(
        rf"(?<![\w-]){before}\s+(?:the\s+|our\s+)?[#@]?{w}(?![\w-])"
        rf"|(?<![\w#@-])[#@]?{w}\s+{after}s?(?![\w-])"
    )


#: hosts whose paths belong to different owners, anyone can get one, and what a GET to it
#: carries reaches its owner (a form's answers, a script's or a bin's log, a bot's messages, a
#: short link's redirect): a fetch of one is traced by its directory, not by the host alone
#: (:meth:`SourceIndex._path_mask`)
_PATH_TENANT_HOSTS = frozenset(
    {
        "docs.google.com",
        "drive.google.com",
        "script.google.com",
        "script.googleusercontent.com",
        "sites.google.com",
        "forms.gle",
        "forms.office.com",
        "github.com",
        "gist.github.com",
        "raw.githubusercontent.com",
        "gitlab.com",
        "bitbucket.org",
        "pastebin.com",
        "webhook.site",
        "dropbox.com",
        "notion.so",
        "airtable.com",
        "bit.ly",
        "tinyurl.com",
        "t.co",
        "s3.amazonaws.com",
        "storage.googleapis.com",
        "api.telegram.org",
        "discord.com",
        "hooks.slack.com",
        "onedrive.live.com",
        "1drv.ms",
    }
)
#: pieces of a fetch's arguments :meth:`SourceIndex.carries_confidential` looks up at most
_PAYLOAD_PIECES = 1024
#: a word of a fetch's payload: letters and digits (``Jane-Roe`` and ``jane_roe`` are two)
_PAYLOAD_WORD = re.compile(r"[^\W_]+")
_PAYLOAD_WINDOW = 3


_CLASS = {Trust.TRUSTED: Origin.TRUSTED, Trust.UNTRUSTED: Origin.UNTRUSTED}
#: a source name no tool has (tool names hold no NUL): marks a value found in an output that gave
#: the agent orders (see ``SourceIndex._origin``)
_STEERED = "\x00steered"

#: prefixes the name of an untrusted source that also holds a value traced to a trusted one
_ALSO = "\x00also:"
#: the request's words that give a boolean argument its value (see ``_unrequested_trivial``); not
#: ``on``/``yes``/``no``, which requests hold as other words ("on production")
_SWITCH_WORDS: dict[bool, tuple[str, ...]] = {
    True: ("true", "enable", "enabled", "activate", "activated"),
    False: ("false", "disable", "disabled", "deactivate", "deactivated", "off"),
}


#: [s14] argument names of the access a grant gives (``role``, ``permission``, ``access_level``)
_ROLE_WORDS = frozenset(
    {"role", "roles", "permission", "permissions", "access", "privilege", "privileges", "perm"}
)
#: read-only roles: who holds one sees what the grant names, and changes nothing
_READ_ONLY_ROLES = frozenset(
    {
        "viewer",
        "reader",
        "read",
        "view",
        "readonly",
        "read-only",
        "read_only",
        "read only",
        "view-only",
        "view_only",
        "viewonly",
        "view only",
    }
)


#: [red team 26/27] an argument name (snake case, glued words too) that widens who may open what
#: a grant shares, when set (``anyone_with_link``, ``allow_public_access``, ``is_shared_publicly``,
#: ``company_wide``, ``sharelink``, ``link_access``): to the world, or (:data:`_ORG_NAME`) to the
#: organisation; not ``notify_all``, ``send_link``, ``include_all_files``
_OPEN_NAME = re.compile(
    r"anyone|public|everyone|everybody|anonymous|guest|external|discover|world|publish|searchable"
    # [red team 28] Drive's ``allowFileDiscovery``, Notion's ``share_to_web``, outside collaborators
    r"|(?:to|on)_?web|web_?(?:shar|publish|access|link)|indexable|outside|non_?members?"
    r"|shar(?:e|ing|eable)_?link|link_?(?:shar|access|visib|permission|role|scope|type)"
    r"|(?:org|organi[sz]ation|company|domain|tenant|workspace|internal)(?!_?(?:id|only|name)\b)"
    r"|all_?(?:users|members|employees|staff|people)(?:_|$)"
    r"|(?:share|shared|visible|open|available)_?(?:with|to)_?(?:all|everyone)(?:_|$)"
    # [red team 29] Cloud Run's ``allow_unauthenticated``, ``anon_access``, ``open_access``
    r"|unauthenticated|(?:^|_)anon(?:_|$)|open_?access|(?:^|_)allow_?all$"
)
#: [red team 27] words of a switch that sends or copies, not one that opens a grant
#: (``notify_all``, ``send_email_to_all_members``, ``include_all_files``)
_NOT_AUDIENCE = re.compile(r"(?:^|_)(?:notify|notification|send|email|mail|message|include|apply|copy|cc)")
#: names of the organisation's audience among them (a request's "everyone in the practice" owns these)
_ORG_NAME = re.compile(
    r"org|organi[sz]ation|company|domain|tenant|workspace|internal|all_?(?:users|members|employees|staff)"
)
#: [red team 27] an argument name that restricts a grant, so that ``false`` opens it
#: (``restricted``, ``private``, ``domain_only``, ``require_sign_in``)
_RESTRICT_NAME = re.compile(
    r"restrict|private|(?:^|_)only(?:_|$)|_only$|sign_?in|log_?in|(?<!un)authenticat|invite|password"
    r"|protect|(?:^|_)auth(?:_|$)"
)
#: [red team 28] a verb that turns a name around (``block_public_acls``, ``no_sign_in``,
#: ``disable_public_link``): its setting counts as the opposite
_NEGATING_NAME = re.compile(
    r"(?:^|_)(?:no|not|block|blocks|disable|disallow|prevent|deny|revoke|skip|forbid|without|remove)_"
)
#: [red team 28] argument names whose value names an audience (``scope: anonymous``, ``acl:
#: public-read``, ``entity: allUsers``, ``visibility: internal``)
_AUDIENCE_FIELDS = frozenset(
    {
        "scope", "access", "audience", "visibility", "acl", "entity", "sharing", "share", "type",
        "privacy", "mode", "level", "permission", "permissions", "who", "link", "tag", "general",
        "predefined", "policy", "shared", "availability",
    }
)  # fmt: skip
#: a value's words that open a grant to the world, or (:data:`_ORG_VALUE_WORDS`) to the organisation
_WORLD_VALUE_WORDS = frozenset(
    {
        "public",
        "anyone",
        "anonymous",
        "everyone",
        "everybody",
        "open",
        "external",
        "world",
        "unlisted",
        "guest",
        # [red team 29] Vimeo's ``anybody``, OneDrive's ``embed`` link, Jira's ``global`` share
        "anybody",
        "embed",
        "global",
    }
)
_ORG_VALUE_WORDS = frozenset(
    {"domain", "organization", "organisation", "org", "company", "team", "internal", "tenant"}
)
#: [red team 27] values that open a grant to an audience (``visibility: public``)
_AUDIENCE_VALUES = frozenset(
    {
        "public", "anyone", "anyone_with_link", "anyonewithlink", "anyone with the link", "everyone",
        "domain", "organization", "organisation", "org", "company", "external", "unlisted", "world",
        "link", "anyone-with-link",
    }
)  # fmt: skip
_ORG_VALUES = frozenset({"domain", "organization", "organisation", "org", "company"})
#: words of a request that ask for an audience ([red team 27] not negated: "do not make it
#: public"); :data:`_ORG_ASKED` only for the organisation's
#: ([red team 28] not ``external``: "our external specialist" asks for no audience)
_WORLD_ASKED = (
    r"anyone|anybody|public(?:ly)?|everybody|anonymous(?:ly)?|shareable"
    # [red team 29] "open it to the world", "publish it to the web", "without sign-in"
    r"|(?:to|with) the (?:whole |entire )?world|(?:to|on) the web"
    r"|without (?:a |any )?(?:sign[- ]?in|log[- ]?in|login|account)"
)
_ORG_ASKED = (
    r"everyone|all (?:staff|employees|members|users)|internal(?:ly)?"
    r"|(?:org|organi[sz]ation|company|domain|tenant|workspace|practice|team|firm|office)[- ]?wide"
    r"|(?:whole|entire) (?:org|organi[sz]ation|company|team|practice|firm|office|domain|clinic|hospital"
    r"|department|school|store|branch|staff|surgery)"
    r"|all (?:the |our )?(?:staff|employees|members|users|people|colleagues|team|vets|doctors|nurses)"
)
_ASKED = {
    False: re.compile(rf"(?<![^\W_])(?:{_WORLD_ASKED})(?![^\W_])"),
    True: re.compile(rf"(?<![^\W_])(?:{_WORLD_ASKED}|{_ORG_ASKED})(?![^\W_])"),
}
_NEGATION = re.compile(
    r"(?<![^\W_])(?:not|never|no|without|nor|rather than|instead of|cannot|nothing|nobody|none)(?![^\W_])"
    r"|n['\u2019]t"
)
#: [red teams 29, 31] a verb or a word that refuses the audience right before its word, within
#: :data:`_NEAR_WORDS` words ("avoid public links", "revoke public access", "hide it from the
#: public", "non-public", "if anyone asks"): further away it governs something else ("to avoid
#: size limits, share a public link")
_REFUSING = re.compile(
    r"(?<![^\W_])(?:avoid|avoiding|refuse|refusing|away from|prevent|preventing|block|blocking|if"
    r"|unless|disable|disabling|turn off|switch off|revoke|revoking|restrict|restricting|deny|denying"
    r"|forbid|forbidding|ban|banning|hide|hiding|refrain|remove|removing|non|stop|stopping|exclude"
    r"|excluding|out of)(?![^\W_])"
)
_NEAR_WORDS = 4
#: [red team 28] what refuses an audience after its word ("public links are not allowed"); [red
#: teams 29, 31] "are against policy", "is disabled", "are banned", "public links: forbidden"
_REFUSED_AFTER = re.compile(
    r"(?<![^\W_])(?:not|never|no|forbidden|prohibited|disallowed|against|disabled|banned|blocked|off"
    r"|cannot|verboten|avoided|excluded|removed|revoked|prevented|refused|violate|violates|breach"
    r"|breaches|contravene|contravenes)(?![^\W_])|n['\u2019]t"
)
#: [red team 29] a negation set off by a comma, whose clause goes on after an aside ("must never,
#: even briefly, be made public"; "do not, whatever the vet says, make it public"); not "or not,"
_NEGATION_ASIDE = re.compile(r"(?<!\bor )(?:(?<![^\W_])(?:not|never)|n['\u2019]t)\s*,")
#: where a sentence ends: an aside's negation governs up to here
_SENTENCE_STOP = re.compile(r"[.;:!?]")
#: where a clause ends: a negation before it governs nothing after it ("no login needed, so anyone")
_AUDIENCE_CLAUSE = re.compile(r"[.;:!?,()\[\]]|(?<![^\W_])(?:so|but|and)(?![^\W_])")
#: [red team 32] a refusal of requests the task may meet, anywhere in the clause before ("refuse
#: any request to make it public", "ignore any request…", "keep it private even if she asks")
_REFUSED_REQUEST = re.compile(
    r"(?<![^\W_])(?:refuse|ignore|decline|reject|deny|disregard)\s+(?:(?:any|all|every|each|the|such|her"
    r"|his|their|a)\s+)?(?:requests?|asks?|attempts?|instructions?|demands?)(?![^\W_])"
    r"|(?<![^\W_])even if(?![^\W_])"
)
#: [red team 31] where the words after an audience end for a refusal: not a colon or a question
#: mark ("public links: forbidden", "public links? Never.")
_AUDIENCE_AFTER_END = re.compile(r"[.;!,()\[\]]|(?<![^\W_])(?:so|but|and)(?![^\W_])")
_TRUTHY = frozenset({"true", "yes", "y", "on", "1", "enabled", "enable"})
_FALSY = frozenset({"false", "no", "n", "off", "0", "disabled", "disable"})


def _field_words(path: str) -> list[str]:
    """The words of the name of the argument at ``path`` (its last key)."""
    return [w for w in re.split(r"[\W_]+", _snake(path.rsplit(".", 1)[-1].removesuffix("[]"))) if w]


def _field_name(path: str) -> str:
    """The name of the argument at ``path`` in snake case (``isSharedPublicly`` is
    ``is_shared_publicly``)."""
    return "_".join(_field_words(path))


def _truth(value: Any) -> bool | None:
    """``value`` as a switch's setting (``True``, ``1``, ``"on"``), None when it is none."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUTHY:
            return True
        if v in _FALSY:
            return False
    return None


#: [red team 29] a role a grant gives, read-only or more: under a key that names an audience
#: (``public_access: read``, ``link: {role: reader}``, ``access: {all: read}``) that audience gets it
_ROLE_VALUES = _READ_ONLY_ROLES | frozenset(
    {
        "can_view", "can view", "can-view", "can_read", "can_edit", "can edit", "can-edit",
        "can_comment", "can comment", "writer", "editor", "edit", "write", "commenter", "comment",
        "contributor", "read_write", "readwrite", "read-write", "full", "full_access", "owner",
        "admin", "manage", "member",
        # [red team 31] Box's roles, and short forms
        "previewer", "uploader", "viewer_uploader", "previewer_uploader", "co-owner", "co_owner",
        "coowner", "download", "downloader", "ro", "rw", "rwx",
    }
)  # fmt: skip
#: [red team 32] words of a key that name the world, whatever else it says
_WORLD_KEY_WORDS = frozenset({"anyone", "anybody", "anonymous", "everyone", "everybody", "public", "world"})
#: [red team 31] the last key of a role's value: a role word, or a level (``public: {level: view}``)
_ROLE_KEY_WORDS = _ROLE_WORDS | frozenset({"level", "levels"})
#: [red team 31] keys of who a grant is for, one by one (a person's invitation inside a workspace
#: object, an organisation's member list): an audience key above one names a container, not the
#: audience (``workspace: {invite: {email, role}}``)
_GRANTEE_WORDS = frozenset(
    {
        "invite", "invites", "invitation", "invitations", "invitee", "invitees", "member", "members",
        "user", "users", "grantee", "grantees", "recipient", "recipients", "people", "person",
        "collaborator", "collaborators", "email", "emails", "individual", "individuals", "account",
    }
)  # fmt: skip
#: [red team 29] keys that are an audience on their own (``access: {all: read}``, ``link: {role:
#: reader}``: whoever has the link)
_AUDIENCE_KEYS = frozenset(
    {"all", "link", "links", "shared_link", "sharing_link", "share_link", "sharelink", "internet", "web"}
)
#: [red team 29] the key of a principal (IAM's ``Principal``, GCS's ``members``, an ACL's ``user``):
#: a ``*`` there is everyone
_PRINCIPAL_KEYS = frozenset(
    {
        "principal", "principals", "member", "members", "user", "users", "grantee", "grantees",
        "entity", "identity", "identities", "aws", "who", "subject", "subjects", "audience",
    }
)  # fmt: skip
#: [red team 29] an enum value (``anyone_can_view``, ``PUBLIC_READ``) whose words open a grant to
#: the world, under any name
_ENUM = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,40}")
_ENUM_WORLD_WORDS = frozenset({"public", "anyone", "anybody", "everyone", "everybody", "anonymous"})
#: [red team 29] values that open a grant only under a name that says where: Azure's public
#: access level, GCS's public access prevention off, a visibility of ``all``; GitLab's
#: ``visibility_level`` (20 public, 10 internal); a world's address range
_WORLD_RANGES = frozenset({"0.0.0.0/0", "::/0", "*", "any", "anywhere", "internet"})


_WORD_SPLIT = re.compile(r"[\W_]+")


def _key_name_of(key: str) -> str:
    return "_".join(w for w in _WORD_SPLIT.split(_snake(key.removesuffix("[]"))) if w)


_key_name_cached = functools.lru_cache(maxsize=4096)(_key_name_of)


def _key_names(path: str) -> list[str]:
    """The keys of ``path`` in snake case, their words joined by ``_`` (``sharePermissions[].type``
    gives ``share_permissions``, ``type``)."""
    out = []
    for key in path.split("."):
        name = _key_name_cached(key) if len(key) <= _CACHED_NAME else _key_name_of(key)
        if name:
            out.append(name)
    return out


def _audience_key(key: str) -> bool | None:
    """A key (snake case) that names an audience: True for the organisation's, False for the
    world's, None for none (``grantee``, ``permission``, ``notify_all``); remembered for keys of
    up to :data:`_CACHED_NAME` characters."""
    return _audience_key_cached(key) if len(key) <= _CACHED_NAME else _audience_key_of(key)


def _audience_key_of(key: str) -> bool | None:
    if key in _AUDIENCE_KEYS:
        return False
    words = key.split("_")
    if _GRANTEE_WORDS.intersection(words) and words[0] != "all" and _WORLD_KEY_WORDS.isdisjoint(words):
        # [red team 31] ``organization_members``: who, one by one (not ``all_members``); [red team
        # 32] a world's word still names the world (``anonymous_users``, ``anyone_account_role``)
        return None
    if _NOT_AUDIENCE.search(key) is not None or _RESTRICT_NAME.search(key) is not None:
        return None
    if key in ("everyone", "anyone", "public", "world", "anybody", "everybody", "anonymous"):
        return False
    if _OPEN_NAME.search(key) is None:
        return None
    return _OPEN_NAME.search(key.replace(m.group(0), "") if (m := _ORG_NAME.search(key)) else key) is None


_audience_key_cached = functools.lru_cache(maxsize=4096)(_audience_key_of)


def _audience_in_path(keys: list[str], value: Any) -> bool | None:
    """[red team 29] A value the grant gives an audience by where it sits: a role (read-only or
    more) under a key that names an audience, or that is one (``public_access: read``, ``access:
    {all: read}``, ``sharing: {anyone: {role: reader}}``, ``link: {role: reader}``); ``*`` or
    ``allUsers`` as a principal; an address range of the whole internet; Azure's, GCS's and
    GitLab's public settings. True for the organisation's audience, False for the world's.
    ``keys``: the path's (:func:`_key_names`)."""
    if not keys:
        return None
    last = keys[-1]
    if last == "visibility_level" and not isinstance(value, bool) and isinstance(value, int | str):
        return {"20": False, "10": True}.get(str(value).strip())
    if not isinstance(value, str) or len(value) > 64:
        return None
    v = _norm(value).strip(" .")
    if v in ("allusers", "allauthenticatedusers", "all_users", "all_authenticated_users"):
        return False
    if v.startswith("domain:"):
        return True  # [red team 31] a GCS IAM member ``domain:…``: everyone at that domain
    if v == "*" or (
        v in _WORLD_RANGES
        and (
            any(_PRINCIPAL_KEYS.intersection(k.split("_")) for k in keys)
            or any(w in last for w in ("range", "cidr", "source", "ip"))
        )
    ):
        return False  # [red team 31] a ``*`` anywhere in a grant is everyone
    if "public" in last.split("_") and "access" in last.split("_"):
        if "prevention" in last:
            return False if v in ("inherited", "unspecified") else None
        if v in ("container", "blob"):
            return False  # Azure's public access level
    if v == "all" and {"visibility", "audience", "who", "sharing", "shared", "share"}.intersection(
        last.split("_")
    ):
        return False
    if _ENUM.fullmatch(value.strip()) is not None and _ENUM_WORLD_WORDS.intersection(
        re.split(r"[_-]", _snake(value.strip()))
    ):
        return False  # ``anyone_can_view``, ``AnyoneCanView``
    if v in ("authenticated-read", "authenticated_read", "authenticatedread"):
        return False  # [red team 31] S3's canned ACL: every AWS account
    if v in _ROLE_VALUES:
        # a role under a key that names an audience, or that is one; [red team 31] read up the
        # path past keys that are no grantee (``access.public.level``), stopping at one that is
        # (``workspace.invite.role``: the invitation's, one person's)
        # a role word last, or [red team 32] a grantee key holding the role itself (``link:
        # {members: viewer}``): read up the path
        role_last = not (_ROLE_KEY_WORDS | _GRANTEE_WORDS).isdisjoint(last.split("_"))
        scan = keys if role_last else keys[-1:]
        for n in range(len(scan) - 1, -1, -1):
            k = scan[n]
            if k != last and _GRANTEE_WORDS.intersection(k.split("_")) and not k.startswith("all_"):
                # a person's grant inside an organisation's object (``workspace.invite.role``),
                # [red team 32] but not under the world's (``anyone.invite.role``, ``link.members``)
                return False if any(_audience_key(a) is False for a in scan[:n]) else None
            got = _audience_key(k)
            if got is not None:
                return got
    return None


def _opens_audience(path: str, value: Any) -> bool | None:
    """[red team 26/27] ``value`` of the argument at ``path`` opens a grant to an audience: a
    switch named like one set on (:data:`_OPEN_NAME`), a restriction set off
    (:data:`_RESTRICT_NAME`), an audience as the value (:data:`_AUDIENCE_VALUES`), or [red team
    29] by where it sits (:func:`_audience_in_path`). None when it does not; else True for the
    organisation's audience only (:data:`_ORG_NAME`), False for the world's."""
    name = _field_name(path)
    keys = _key_names(path)
    placed = _audience_in_path(keys, value)
    if placed is not None:
        return placed
    if isinstance(value, str) and len(value) <= 64:
        if _norm(value).strip(" .") in _AUDIENCE_VALUES:
            return _norm(value).strip(" .") in _ORG_VALUES
        fields = {w for k in keys for w in k.split("_")}
        if _AUDIENCE_FIELDS.intersection(fields) and _truth(value) is None:
            # [red team 28] an audience among the value's words (``anonymous``, ``public-read``,
            # ``allUsers``, ``Anyone with link``)
            words = set(_field_words(value))
            if words & _WORLD_VALUE_WORDS or {"all", "users"} <= words:
                return False
            if words & _ORG_VALUE_WORDS:
                return True
    truth = _truth(value)
    if truth is None or _NOT_AUDIENCE.search(name) is not None:
        return None
    if not isinstance(value, bool) and re.search(r"(?:^|_)(?:id|ids|count|number|num|no)$", name):
        return None  # [red team 28] ``external_user_id: 1`` is no switch
    if _NEGATING_NAME.search(name) is not None:
        truth = not truth
    if truth and _OPEN_NAME.search(name) is not None and _RESTRICT_NAME.search(name) is None:
        opened = _OPEN_NAME.search(name.replace(m.group(0), "") if (m := _ORG_NAME.search(name)) else name)
        return opened is None
    if not truth and _RESTRICT_NAME.search(name) is not None:
        return False  # [red team 28] a restriction off opens to the world (``domain_only: false``)
    return None


#: [red team 27/28] words of a role's name that set every member's or user's role
#: (``default_role``, ``base_permission``, ``others_access``)
_EVERY_MEMBER = frozenset(
    {"default", "general", "link", "links", "base", "others", "all", "everyone", "members"}
)


def _least_privilege(path: str, value: Any) -> bool:
    """``value`` of the argument at ``path`` is a read-only role (:data:`_READ_ONLY_ROLES`) of an
    argument named like the access a grant gives (:data:`_ROLE_WORDS`), whose name names no
    audience ([red team 26/27] :data:`_OPEN_NAME`: ``link_access``, ``public_access``;
    ``default_role``, ``general_access``: every user's)."""
    if not isinstance(value, str):
        return False
    words = _field_words(path)
    if not _ROLE_WORDS.intersection(words) or _EVERY_MEMBER.intersection(words):
        return False
    if _OPEN_NAME.search("_".join(words)) is not None:
        return False
    # [red team 29] nor under a key that names an audience (``link: {role: reader}``); [red team
    # 31] a person's invitation inside a workspace object is none (``_audience_in_path``)
    if _audience_in_path(_key_names(path), value) is not None:
        return False
    return _norm(value).strip(" .") in _READ_ONLY_ROLES


def amount_off_record(
    effect: str,
    origins: Iterable[tuple[str, Origin]],
    amounts: Collection[str],
    records_state_money: Callable[[], bool],
) -> bool:
    """``context.provenance.amount_off_record``: a payment (``effect``) whose amount (a path in
    ``amounts``) only untrusted content gives (``origins``: each argument's path and origin),
    beside a trusted record of what the request names that states money (asked last)."""
    return (
        effect == "pay"
        and any(o is Origin.UNTRUSTED and p in amounts for p, o in origins)
        and records_state_money()
    )


def _dec_key(d: Decimal) -> str:
    return "n" + format(d.normalize(), "f")


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


#: words of an argument name that says how much (money, goods, a discount, a limit)
_HOW_MUCH_WORDS = frozenset(
    {
        "amount", "amt", "total", "subtotal", "price", "fee", "fees", "sum", "cost", "costs",
        "quantity", "qty", "discount", "pct", "percent", "percentage", "rate", "reserve",
        "credit", "units", "volume", "count", "limit", "balance", "markup", "markdown",
        "surcharge", "premium", "deductible", "payout", "tonnage", "yardage", "weight",
    }
)  # fmt: skip


#: [red team 13] of :data:`_HOW_MUCH_WORDS`, those that name a share (a discount, a rate, a
#: markup): a small number under such a name (a 30 % discount) is its whole range, no trivial
#: value. Not a price or a count: a 26.00 menu price or 3 boxes from a shared sheet or an order
#: e-mail is everyday work (the sixth hold-out set's menu update), and stays a trivial value
_MONEY_WORDS = frozenset(
    {"discount", "pct", "percent", "percentage", "rate", "markup", "markdown", "commission", "margin"}
)
#: [red team 13] words of an argument name that says a number is a label, not how much: an id, a
#: reference, a page, a date's part, a version (``ticket_id: 48213``, ``page: 212``, ``year: 2026``)
_LABEL_WORDS = frozenset(
    {
        "id", "ids", "no", "nr", "num", "number", "ref", "reference", "ticket", "order", "invoice",
        "po", "case", "claim", "policy", "page", "pages", "year", "month", "day", "week", "hour",
        "minute", "date", "time", "version", "zip", "postcode", "code", "sku", "line", "row",
        "index", "ext", "seq", "serial", "port", "build", "issue", "pr", "step", "level", "priority",
    }
)  # fmt: skip
#: [red team 13] a string that is one number, with at most a currency code or glyph, a percent sign
#: or a short unit around it (``"4000"``, ``"EUR 0.71"``, ``"35%"``, ``"4,000 pcs"``, ``"12 yd"``);
#: not a code (``"PAB-4410"``: no sign after the letters)
_NUMBER_TEXT = re.compile(
    r"(?:[A-Z]{3}\s?|[-+~])?[$€£¥]?\s?\d[\d,.'\u00a0\u202f ]{0,30}(?:\s?(?:%|[$€£¥]|[A-Za-z]{1,6}\.?))?"
)


def _name_words(path: str) -> set[str]:
    return set(_snake(path.rsplit(".", 1)[-1].removesuffix("[]")).split("_"))


def _amount_field_values(args: Mapping[str, Any], words: frozenset[str] = _HOW_MUCH_WORDS) -> set[str]:
    """[red team 13] A generic update whose field argument names an amount
    (``update(field="unit_price", value="0.71")``, ``set(attribute="discount", new_value=…)``):
    the value it is set to says how much, whatever its own name. Looked for as
    :func:`_update_values` looks (at the top level and in every object under it: a list of
    changes, ``{"change": {"field": "discount", …}}``)."""
    return _update_values(args, lambda v: bool(words.intersection(re.split(r"[_\s]+", _snake(v.strip())))))


def amount_paths(args: Mapping[str, Any], dests: frozenset[str]) -> tuple[str, ...]:
    """[blind-6] The argument paths that say how much, not where: a number (not a switch), or
    a value under a name with an amount word (``amount``, ``unit_price``, ``discount_pct``,
    ``quantityCy``, ``lines[].qty``). A destination (an account written as a number) is not one.
    ``context.provenance.untrusted_amount``: one of them comes only from untrusted content.
    [red team 13] A string that is one number (``n: "4000"``, ``pieces: "4,000 pcs"``,
    ``prix: "EUR 0.71"``: :data:`_NUMBER_TEXT`) is a number too, whatever the language of its
    name; the value of a generic update whose field names an amount
    (:func:`_amount_field_values`) is one; a number (or a string that is one) under a name that
    says it is a label (``ticket_id``, ``page``, ``year``: :data:`_LABEL_WORDS`) and has no
    amount word is not one."""
    out: set[str] = {p for p in _amount_field_values(args) if not _is_destination(p, dests)}
    for path, value in leaf_values(args):
        if value is None or isinstance(value, bool) or _is_destination(path, dests):
            continue
        words = _name_words(path)
        if _HOW_MUCH_WORDS.intersection(words):
            out.add(path)
            continue
        if words & _LABEL_WORDS:
            continue
        if isinstance(value, int | float | Decimal) or (
            isinstance(value, str) and len(value) <= 48 and _NUMBER_TEXT.fullmatch(value.strip())
        ):
            out.add(path)
    return tuple(sorted(out))


def _amounts_and_money(
    args: Mapping[str, Any], dests: frozenset[str], leaves: Sequence[tuple[str, Any]]
) -> tuple[tuple[str, ...], frozenset[str]]:
    """:func:`amount_paths` and :func:`_money_paths` of one call in one pass over its leaves
    (``leaves``: ``leaf_values(args)``; each leaf's name words read once)."""
    amounts: set[str] = {p for p in _amount_field_values(args) if not _is_destination(p, dests)}
    money: set[str] = set(_amount_field_values(args, _MONEY_WORDS))
    for path, value in leaves:
        words = _name_words(path)
        if _MONEY_WORDS.intersection(words):
            money.add(path)
        if value is None or isinstance(value, bool) or _is_destination(path, dests):
            continue
        if _HOW_MUCH_WORDS.intersection(words):
            amounts.add(path)
            continue
        if words & _LABEL_WORDS:
            continue
        if isinstance(value, int | float | Decimal) or (
            isinstance(value, str) and len(value) <= 48 and _NUMBER_TEXT.fullmatch(value.strip())
        ):
            amounts.add(path)
    return tuple(sorted(amounts)), frozenset(money)


def _money_paths(args: Mapping[str, Any]) -> frozenset[str]:
    """[red team 13] The argument paths that name a share (:data:`_MONEY_WORDS`: ``discount_pct``,
    ``markup``, ``value`` of ``update(field="discount", …)``): a small number there is traced
    (:meth:`SourceIndex._small_amount`), not taken for a trivial value."""
    out = set(_amount_field_values(args, _MONEY_WORDS))
    for path, _ in leaf_values(args):
        if _MONEY_WORDS.intersection(_name_words(path)):
            out.add(path)
    return frozenset(out)


#: the shortest organisation name :func:`_party_names` keeps (``acme`` and up; not ``hr``)
_PARTY_MIN = 4
_PARTY_TOKEN = re.compile(r"[^\W_]+")


#: [red team 13] capitalised words that name a time, not an organisation ("the March report")
_NOT_PARTY = frozenset(
    {
        "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
        "saturday", "sunday", "today", "tomorrow", "please", "the",
    }
)  # fmt: skip
#: where a sentence starts: its first word is capitalised whatever it is ("Send …", "Reply …")
_SENTENCE_START = re.compile(r"[.!?\n][\s\"'(\u201c]*$")


def _runs(words: list[str], out: set[str], *, first_alone: bool = True) -> None:
    """One to four consecutive ``words`` written together, of :data:`_PARTY_MIN` characters or
    more, into ``out``; the first word alone only with ``first_alone``."""
    for i in range(len(words)):
        run = ""
        for n, tok in enumerate(words[i : i + 4]):
            run += tok
            if len(run) >= _PARTY_MIN and (n or i or first_alone):
                out.add(run)


def _party_names(purpose: str, params: Iterable[str] = ()) -> frozenset[str]:
    """The names of organisations a request can name: one to four consecutive *capitalised*
    words of the purpose (its first 4,000 characters: proper names, ``Summit Auto Finance``,
    ``Calloway Energy's``), lower case, written together (``calloway``, ``callowayenergy``,
    ``callowayenergys``), and each parameter's whole value written together (``--param
    workspace=brightwell``) with the capitalised runs in it.
    [red team 13] Not any words of the request: "send the quarterly report to the board" names
    no ``board.example``, ``quarterlyreport.example`` or ``usagereport.example`` (generic
    words an injected address can be built from). Not a month or a weekday (``march.example``
    for "the March figures"), and not the first word of a sentence alone ("Send", "Reply"):
    only with the capitalised words after it. A request written in lower case names no party
    (the call is refused as before rather than held)."""
    out: set[str] = set()

    def capitalised(text: str) -> None:
        text = text[:4000]
        run: list[str] = []
        initial = False  # the run starts a sentence
        for m in _PARTY_TOKEN.finditer(text):
            tok, at = m.group(0), m.start()
            low = tok.lower()
            before = text[at - 1 : at]
            named = (any(c.isupper() for c in tok) and low not in _NOT_PARTY) or (
                low == "s" and bool(run) and before in ("'", "\u2019")
            )
            if run and (not named or before not in (" ", "-", "'", "\u2019")):
                _runs(run, out, first_alone=not initial)
                run = []
            if named:
                if not run:
                    head = text[max(0, at - 200) : at]
                    initial = not text[:at].strip() or _SENTENCE_START.search(head) is not None
                run.append(low)
        _runs(run, out, first_alone=not initial)

    capitalised(purpose)
    for value in params:
        capitalised(value)
        whole = "".join(_PARTY_TOKEN.findall(value[:200].lower()))
        if len(whole) >= _PARTY_MIN:
            out.add(whole)
    return frozenset(out)


class SourceIndex:
    """A task's sources, normalised once, looked up per argument (see the module docstring).

    Each source has a slot (a bit); every key (``t``erm, ``e``-mail, ``u``rl, ``n``umber,
    ``i``dentifier, prefixed to the normalised text) maps to the bit mask of the sources holding
    it, so looking a value up is a dictionary access and an intersection is an ``&``.
    """

    def __init__(
        self, purpose: str, params: Mapping[str, str], *, requester: str = "", internal: tuple[str, ...] = ()
    ) -> None:
        #: the organisation's domains: a message a trusted record logs ``From:`` one of them is
        #: its own (``proctor.flow.outsider.split_outsider``)
        self._internal = internal
        self._slots: list[_Source | None] = []
        self._free: list[int] = []
        self._post: dict[str, int] = {}
        self._bytes = 0
        self._outputs: list[int] = []  # output slots, oldest first (the intent is never evicted)
        #: an output's slot -> the slot of the part outsiders wrote in it (flow/outsider.py)
        self._parts: dict[int, int] = {}
        self._descriptions: list[int] = []  # tool description slots (replaced, never evicted)
        self._sensitive = 0  # bits of outputs labelled confidential or secret
        self._secret = 0  # bits of outputs labelled secret
        self._marked = 0  # bits of outputs (and descriptions) that give the agent orders
        self._outsider = 0  # bits of the parts outsiders typed into trusted records
        self._untrusted = 0  # bits of every untrusted source (outputs, outsider parts, descriptions)
        #: registrable domains of the addresses and links the request and trusted outputs hold
        #: (how many sources hold each): a counterparty the task knows (``_known_lookalikes``)
        self._known: dict[str, int] = {}
        self._names = _Names()
        #: look-alike verdicts of destination domains against the known names (cleared when
        #: they change)
        self._look: dict[str, bool] = {}
        #: a source's slot -> the numbers it holds as numbers of their own (:func:`_own_numbers`),
        #: read when first needed; dropped when the slot is given to another source
        self._own_numbers: dict[int, frozenset[Decimal]] = {}
        #: what the request names, normalised: its parameters' values and the codes of its
        #: purpose (a letter and a digit: ``MDS-220931``, ``P-19552``)
        self._references = _references(purpose, params)
        self._reference_at = _reference_pattern(self._references)
        self._reference_needles = _reference_needles(self._references)
        #: a trusted record of what the request names that states money was read (it stays
        #: set when that output is evicted: the figure was seen)
        self._money_seen = False
        self._add("intent", Origin.INTENT, purpose)
        #: the names of organisations the request can name (:meth:`names_party`)
        self._party_names = _party_names(purpose, (str(v) for v in params.values()))
        #: the request asks for a payment or a refund (``Provenance.payment_requested``)
        self._asks_money = asks_for_money(" ".join([purpose, *(str(v) for v in params.values())]))
        #: explicit parameter name (snake case) -> its slot's bit
        self._params: dict[str, int] = {}
        for name in sorted(params):
            slot = self._add(f"param:{name}", Origin.INTENT, str(params[name]))
            self._params[_snake(str(name))] = 1 << slot
        self._intent_mask = sum(1 << i for i, src in enumerate(self._slots) if src is not None)
        email = requester.strip().lower()
        if email and _EMAIL.fullmatch(email):
            # the requester's own address ("send me the summary"): only as an address, so its
            # terms (``example.com``) do not make other values look requested
            self._intent_mask |= 1 << self._add_keys(
                "requester", Origin.INTENT, email, ("e" + email,), 0, _domains_known({email}, set())
            )

    # -- adding and evicting

    def _add(self, name: str, origin: Origin, text: str, links: frozenset[str] = frozenset()) -> int:
        norm = _norm(text)
        keys: set[str] = _term_keys(norm)
        emails = _emails(norm) if "@" in norm else set()
        keys.update("e" + e for e in emails)
        if origin is Origin.UNTRUSTED:
            # who wrote it (a reply to them goes back to where the content came from)
            keys.update("s" + e for e in _senders(norm))
        urls = _urls(unicodedata.normalize("NFKC", text)) | links
        keys.update("u" + u for u in urls)
        spans = _number_spans(norm)
        keys.update(_dec_key(d) for d in _numbers(norm, spans))
        keys.update("i" + i for i in _identifiers(norm, spans))
        if spans:
            keys.update(_phones(norm, spans))
        domains = _domains_known(emails, urls) if origin is not Origin.UNTRUSTED else ()
        return self._add_keys(name, origin, norm, tuple(keys), utf8_size(text), domains)

    def _add_keys(
        self,
        name: str,
        origin: Origin,
        norm: str,
        keys: tuple[str, ...],
        size: int = 0,
        domains: tuple[str, ...] = (),
    ) -> int:
        src = _Source(name, origin, norm, keys, size, domains)
        if domains:
            for d in domains:
                n = self._known.get(d, 0)
                self._known[d] = n + 1
                if not n:
                    self._names.add(d)
                    self._look.clear()
        if self._free:
            slot = self._free.pop()
            self._slots[slot] = src
            self._own_numbers.pop(slot, None)
        else:
            slot = len(self._slots)
            self._slots.append(src)
        bit = 1 << slot
        if origin is Origin.UNTRUSTED:
            self._untrusted |= bit
        post = self._post
        get = post.get
        for k in keys:
            post[k] = get(k, 0) | bit
        return slot

    def add(
        self,
        tool: str,
        trust: Trust,
        text: str,
        *,
        sensitive: bool = False,
        secret: bool = False,
        steering: bool = False,
        mask: Callable[[str], str | tuple[str, frozenset[str]]] | None = None,
    ) -> None:
        """Index one output of ``tool`` (normalised once, here); ``sensitive``: it is labelled
        confidential or secret (see :meth:`carries_confidential`); ``steering``: it gives the
        agent orders (a prompt-injection marker, ``Labels.steering``): a value found in it and
        not in the request is *steered* (``Provenance.steered``). ``mask``: applied to the
        record's own part after the outsiders' parts are split off (the echo mask,
        ``proctor.flow.state.without_echoes``: red team 18 — masked first, a search by the
        sender's address blanked the ``From:`` that marks their message, and it stayed trusted).
        It may also give the record's own links it cut an echo out of (``…/apply/JOB-4502`` of a
        job looked up by ``JOB-4502``: ``proctor.flow.state.echo_mask``): they are matched whole,
        as links, and nothing else of them is."""
        origin = _CLASS[Trust(trust)]
        # a record of what the request names that states money: read before the echo mask,
        # which blanks the reference the call looked the record up by, and [red team 21] before
        # the outsiders' parts are split off (a quoted reference, a ``>`` line, a record below a
        # ``Vendor note:`` line went with them): holding the payment errs on the safe side
        money = origin is Origin.TRUSTED and self._states_money(text)
        outside = ""
        if origin is not Origin.UNTRUSTED:
            # what an outsider typed into a field of a trusted record (a portal message in a
            # claim, a CFP form's notes) is untrusted: a source of its own (flow/outsider.py)
            text, outside = split_outsider(text, self._internal)
        links: frozenset[str] = frozenset()
        if mask is not None:
            got = mask(text)
            text, links = got if isinstance(got, tuple) else (got, links)
        slot = self._add(tool, origin, text, links)
        if money:
            self._money_seen = True
        slots = [slot]
        if outside:
            # named apart, so a person reading the approval sees whose text it was
            part = self._add(f"{tool} (outsider field)", Origin.UNTRUSTED, outside)
            self._parts[slot] = part
            self._outsider |= 1 << part
            slots.append(part)
        for s in slots:
            if sensitive or secret:
                self._sensitive |= 1 << s
            if secret:
                self._secret |= 1 << s
            if steering:
                self._marked |= 1 << s
        self._outputs.append(slot)
        self._bytes += sum(self._sources_size(s) for s in slots)

    def set_descriptions(self, descriptions: Mapping[str, str]) -> None:
        """Index the descriptions of the tools the task can see (tool name → description), as
        untrusted sources named ``description:<tool>``, replacing those indexed before. The model
        reads a tool's description as it reads an output, and whoever runs the tool's server
        wrote it: a value only a description holds (an IBAN, an address) is untrusted. They do
        not count as outputs (not bounded by ``max_outputs``, not in ``size``) and do not raise
        the task's labels (every task reads descriptions). At most 500 descriptions of 16 KiB."""
        for slot in self._descriptions:
            self._drop(slot)
        self._descriptions = []
        for name in sorted(descriptions)[:_MAX_DESCRIPTIONS]:
            text = descriptions[name]
            if text and text.strip():
                slot = self._add(f"description:{name}", Origin.UNTRUSTED, text[:_MAX_DESCRIPTION])
                self._descriptions.append(slot)
                if injection_markers(text[:_MAX_DESCRIPTION]):
                    self._marked |= 1 << slot

    def evict_oldest(self) -> bool:
        """Forget the oldest output; False when there is none."""
        if not self._outputs:
            return False
        slot = self._outputs.pop(0)
        self._bytes -= self._sources_size(slot)
        self._drop(slot)
        part = self._parts.pop(slot, None)
        if part is not None:
            self._bytes -= self._sources_size(part)
            self._drop(part)
        return True

    def _drop(self, slot: int) -> None:
        src = self._slots[slot]
        assert src is not None
        self._slots[slot] = None
        self._free.append(slot)
        keep = ~(1 << slot)
        self._sensitive &= keep
        self._secret &= keep
        self._marked &= keep
        self._outsider &= keep
        self._untrusted &= keep
        if src.domains:
            for d in src.domains:
                n = self._known.get(d, 0) - 1
                if n > 0:
                    self._known[d] = n
                else:
                    self._known.pop(d, None)
                    self._names.discard(d)
                    self._look.clear()
        post = self._post
        for k in src.keys:
            mask = post.get(k, 0) & keep
            if mask:
                post[k] = mask
            else:
                post.pop(k, None)

    @property
    def outputs(self) -> int:
        return len(self._outputs)

    @property
    def size(self) -> int:
        """Bytes (UTF-8) of output text indexed."""
        return self._bytes

    def _sources_size(self, slot: int) -> int:
        src = self._slots[slot]
        return 0 if src is None else src.size

    # -- looking up

    def _lookup_text(self, norm: str) -> int:
        terms = _terms(norm)
        if not terms:
            return 0
        post = self._post
        if len(terms) == 1 and terms[0] == norm:
            return post.get("t" + norm, 0)
        cand = -1
        for t in set(terms):
            cand &= post.get("t" + t, 0)
            if not cand:
                return 0
        found = 0
        for slot in _bits(cand):
            src = self._slots[slot]
            if src is not None and _contains(src.norm, norm):
                found |= 1 << slot
        return found

    def _lookup_str(self, value: str) -> int:
        norm = _norm(value)
        if not norm:
            return 0
        post = self._post
        mask = 0
        if "@" in norm:
            for e in _emails(norm):
                mask |= post.get("e" + e, 0)
        if "://" in norm:
            n = normalise_url(unicodedata.normalize("NFKC", value))
            if n:
                mask |= post.get("u" + n, 0)
        if _A_DIGIT.search(norm) is not None:
            readings = parse_amounts(norm)
            if any(not _trivial_number(d) for d in readings):
                # [red team 13] "4,000" read as 4 (a decimal comma) is a trivial number, found
                # in any date or list: the other reading (4000) is what the value says
                readings = {d for d in readings if not _trivial_number(d)}
            for d in readings:
                mask |= post.get(_dec_key(d), 0)
            sq = _squash(norm)
            if _is_identifier(sq):
                mask |= post.get("i" + sq, 0)
            if _PHONE.fullmatch(norm) is not None:
                # the same number written another way: ``+353875550148`` for ``087 555 0148``
                for key in _phone_keys(norm, lookup=True):
                    mask |= post.get(key, 0)
        if _VERSION.fullmatch(norm) is not None:
            # [benign review 34] a version with or without its ``v`` (``2.14.3`` for ``v2.14.3``)
            other = norm[1:] if norm[0] == "v" else "v" + norm
            mask |= self._lookup_text(other)
        return mask | self._lookup_text(norm)

    def _small_amount(self, value: Any) -> tuple[Origin, tuple[str, ...]] | None:
        """[red team 13] A small number that says how large a share is (a discount of 30 %,
        written ``30`` or ``"30"``): its origin when only untrusted content holds it (a forged
        quote's "30 % off"), else None (it stays a trivial value: a small number the request or a
        trusted record also holds says nothing)."""
        for d in _value_numbers(value):
            got = self._origin(self._lookup_number(d))
            if got[0] is Origin.UNTRUSTED:
                return got
        return None

    def _amount_not_in_codes(self, value: Any) -> tuple[Origin, tuple[str, ...]] | None:
        """[red team 13] An amount (a quantity of 6204, a price of 2026) that untrusted content
        holds as a number and the request or a trusted record holds only inside a code or a date
        (the part ``6204-2RS``, ``2026-04-02``, the vendor ``V-118``: :func:`_own_numbers`): the
        content's origin (the coincidence chose nothing), else None. Each source's own numbers
        are read once, when first needed (not once per amount and call)."""
        for d in _value_numbers(value):
            mask = self._lookup_number(d)
            if not mask & self._untrusted:
                continue
            kept = 0
            for slot in _bits(mask):
                src = self._slots[slot]
                if src is None:
                    continue
                own = self._own_numbers.get(slot)
                if own is None:
                    own = self._own_numbers[slot] = _own_numbers(src.norm)
                if d in own:
                    kept |= 1 << slot
            got = self._origin(kept)
            if got[0] is Origin.UNTRUSTED:
                return got
        return None

    def _states_money(self, text: str) -> bool:
        """[blind-7] ``text`` (a trusted output, whole: [red team 21] a quoted reference is no
        outsider's there) is a record of what the request names (it holds one of
        :func:`_references`, as :func:`_reference_pattern` finds it) and states an amount of money
        (``$3,184.50``, ``EUR 120``: :func:`_record_states_money`): the organisation's own figure
        for it. Both are searched in :func:`_record_text` (red team 21: searched as written, 281e8df
        lost full-width forms, columns, tabs and wrapped lines)."""
        if self._reference_at is None:
            return False
        needles = self._reference_needles
        if needles is not None and text.isascii() and "&" not in text:
            # what :func:`_record_text` does to an ASCII text without entities leaves every
            # letter or digit group as it was, lower-cased: one holding none of the first groups
            # holds no reference (the pattern is not run, nor the text normalised)
            low = text.lower()
            if not any(n in low for n in needles):
                return False
        norm = _record_text(text)
        return self._reference_at.search(norm) is not None and _record_states_money(
            norm, _TABULAR.search(text) is not None, "\t" in text
        )

    def records_state_money(self) -> bool:
        """The task read a trusted record of what the request names that states an amount of
        money (:meth:`_states_money`), kept or since evicted (or assumed:
        :meth:`outputs_lost_before_load`)."""
        return self._money_seen

    def outputs_lost_before_load(self) -> None:
        """Some of the task's outputs were evicted before this process loaded it (a restart,
        another process's task): whether one was a record of what the request names that states
        money is unknown, so one is assumed when the request names a reference (fail closed:
        ``amount_off_record`` then holds an amount only an outsider gives, as before the restart)."""
        if self._reference_at is not None:
            self._money_seen = True

    def _lookup_number(self, value: int | float | Decimal) -> int:
        d = _finite_decimal(value)
        if d is None:
            return 0
        post = self._post
        mask = post.get(_dec_key(d), 0)
        if d == d.to_integral_value():
            text = str(int(d))
            mask |= post.get("t" + text, 0)
            if _is_identifier(text):
                mask |= post.get("i" + text, 0)
        return mask

    def _origin(self, mask: int) -> tuple[Origin, tuple[str, ...]]:
        best = Origin.NONE
        names: set[str] = set()
        untrusted: set[str] = set()
        for slot in _bits(mask):
            src = self._slots[slot]
            if src is None:
                continue
            if src.origin is Origin.UNTRUSTED:
                untrusted.add(src.name)
            if _ORDER[src.origin] < _ORDER[best]:
                best, names = src.origin, {src.name}
            elif src.origin is best:
                names.add(src.name)
        if best is Origin.TRUSTED and untrusted:
            # a trusted output holds it, and so does untrusted content: ``trace`` reads a
            # destructive call's target as untrusted (the content named what to destroy)
            names.update(_ALSO + n for n in untrusted)
        if (mask & self._marked and not mask & self._intent_mask) or (
            mask & self._outsider and not mask & ~self._outsider
        ):
            # found in an output that gave the agent orders, and not in the request; or only in
            # what outsiders typed into trusted records (a "fee reduced to 285" in a client's
            # portal comment): the record has its own fields, and a value taken from the
            # outsider's text instead is the outsider's choice. ``trace`` takes this mark off the
            # sources and lists the path in ``Provenance.steered``
            names.add(_STEERED)
        return best, tuple(sorted(names))

    def _trace_leaf(
        self, value: Any, destination: bool, *, word_rule: bool = True
    ) -> tuple[Origin, tuple[str, ...]] | None:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, int | float | Decimal):
            if not destination and _trivial_number(value):
                return Origin.INTENT, ("trivial",)
            return self._origin(self._lookup_number(value))
        text = value if isinstance(value, str) else str(value)
        stripped = text.strip()
        if not destination and len(stripped) < 3:
            return Origin.INTENT, ("trivial",)
        if destination and ("@" in stripped or ":" in stripped or "/" in stripped):
            got = self._trace_destination(stripped)
            if got is not None:
                return got
        if destination and word_rule and stripped[:1] in ("#", "@") and _PLAIN_WORD.fullmatch(stripped[1:]):
            # a channel or a handle written with its sigil (``#housekeeping``): the request that
            # says "tell the housekeeping channel" named it
            stripped = stripped[1:]
        if destination and word_rule and _PLAIN_WORD.fullmatch(stripped):
            if not _digits(stripped):
                # a word of prose (``all``, ``ops``)
                mask = self._lookup_word(stripped)
                if not mask and len(stripped) > 3 and stripped[-1:].lower() == "s":
                    # [s15] a channel named for the request's word in the plural (``#deploys``
                    # for "deploy …"), when no source holds the plural itself
                    mask = self._lookup_word(stripped[:-1]) & self._intent_mask
                return self._origin(mask)
            # a code holding a digit (``BCH01``, ``R14``) is written by no sentence by chance:
            # found wherever a source holds it, but for the request's prose (below)
            return self._origin(self._lookup_code(stripped))
        if destination and word_rule and _SLUG.fullmatch(stripped) and not self._lookup_str(stripped):
            # [s15] a channel or a group named by the request's words joined (``riverside-lofts-all``
            # for "text all Riverside Lofts crews"), when no source but the request holds the name
            # in any form (:meth:`_slug_elsewhere`): the request's, each word as a one-word
            # destination is (:meth:`_lookup_word`)
            words = _SLUG_PARTS.split(stripped.lstrip("#@"))
            if all(self._lookup_word(w) & self._intent_mask for w in words) and not self._slug_elsewhere(
                words
            ):
                return self._origin(self._intent_mask & -self._intent_mask)
        typed = _TYPED_REF.fullmatch(stripped) if destination else None
        if typed is not None:
            # a reference with its kind (``route:R14``, ``list:newsletter-main``): where a source
            # writes the two together, that source's; else the kind and the name traced apart,
            # the worse wins
            paired = self._lookup_pair(typed[1], typed[2])
            if paired:
                return self._origin(paired)
            param = self._params.get(_snake(typed[1]))
            if param:
                # [s14] the request's own parameter written as ``kind:name`` (``--param
                # club=Kensington`` and ``segment: club:kensington``): the requester named both
                src = self._slots[param.bit_length() - 1]
                if src is not None and src.norm.strip() == _norm(typed[2]):
                    return self._origin(param)
            kind = self._trace_leaf(typed[1], True, word_rule=word_rule)
            name = self._trace_leaf(typed[2], True, word_rule=word_rule)
            if kind is not None and name is not None:
                return name if _ORDER[name[0]] >= _ORDER[kind[0]] else kind
        return self._origin(self._lookup_str(stripped))

    def _slug_elsewhere(self, words: list[str]) -> bool:
        """[red teams 31, 32] Whether a source other than the request names a slug in any form:
        its words in order joined by marks, markup or nothing (``#Riverside_Lofts_All``,
        ``riverside.lofts.all``, ``#riversideloftsall``, ``**riverside**-**lofts**``,
        ``riverside&#45;lofts``), or by up to three marks or spaces ("the riverside lofts all
        channel", "Riverside Lofts: all crews"). The name is then that source's to choose, as a
        one-word destination an e-mail names is; prose that uses the words counts too (red team
        33: telling prose from a name let an e-mail's "Riverside Lofts All" through)."""
        esc = [re.escape(_norm(w)) for w in words]
        glued = re.compile(r"(?<![^\W_])" + _SLUG_GLUE.join(esc) + r"(?![^\W_])")
        # [red team 33] words in order joined by up to three marks or spaces ("Riverside Lofts
        # All", "riverside - lofts - all"), as red team 31 had it: prose that uses the words names
        # the channel too (the safe side)
        spaced = re.compile(r"(?<![^\W_])" + r"(?:[\W_]{0,3}+)".join(esc) + r"(?![^\W_])")
        intent = self._intent_mask
        for slot, src in enumerate(self._slots):
            if src is None or intent >> slot & 1:
                continue
            norm = src.norm.translate(_SLUG_INVISIBLE) if not src.norm.isascii() else src.norm
            if glued.search(norm) is not None or spaced.search(norm) is not None:
                return True
        return False

    def _lookup_code(self, code: str) -> int:
        """The sources holding a destination that is one code with a digit (``BCH01``, ``R14``):
        any source holding it, but the request's where it holds the code only as prose ("summarise
        invoice INV4471") while untrusted content alone names it as a destination (``post it to
        #INV4471``): [red team 8] as for a plain word (:meth:`_lookup_word`), the destination is
        then the content's."""
        mask = self._lookup_str(code)
        intent = mask & self._intent_mask
        rest = mask & ~intent
        if not intent or not self._only_untrusted(rest):
            return mask
        w = _norm(code)
        if self._word_as_destination(intent, w):
            return mask
        listed = _as_destination(w)
        for slot in _bits(rest):
            src = self._slots[slot]
            if src is not None and listed.search(src.norm) is not None:
                return rest
        return mask

    def _lookup_pair(self, kind: str, name: str) -> int:
        """[red team 8] The sources that write a typed reference's kind and name together
        (``route:R99``, ``route R99``, ``list: all``): the reference is theirs, whoever holds the
        two apart (the request saying "route" and "all families")."""
        k, n = _norm(kind), _norm(name)
        if not k or not n:
            return 0
        cand = self._lookup_str(name) & self._lookup_str(kind)
        if not cand:
            return 0
        pair = re.compile(rf"(?<![\w-]){re.escape(k)}\s?[:=#]?\s?[#@]?{re.escape(n)}(?![\w-])")
        found = 0
        for slot in _bits(cand):
            src = self._slots[slot]
            if src is not None and pair.search(src.norm) is not None:
                found |= 1 << slot
        return found

    def _lookup_word(self, word: str) -> int:
        """The sources holding a destination that is one plain word (a channel ``all``, a handle
        ``ops``): the intent wherever it holds it (the requester's words), an output only where
        it holds it as a destination (:func:`_as_destination`: ``#all``, ``@ops``, a quoted field,
        a labelled listing), never as a word of its prose ("we reviewed all accounts")."""
        mask = self._lookup_str(word)
        outside = mask & ~self._intent_mask
        if not outside:
            return mask
        w = _norm(word)
        listed, heading = _as_listed(w), _as_heading(w)
        headed = 0  # trusted outputs holding it only as their heading
        untrusted = False  # untrusted content holds the word, as a destination or not
        for slot in _bits(outside):
            src = self._slots[slot]
            untrusted = untrusted or (src is not None and src.origin is Origin.UNTRUSTED)
            if src is not None and listed.search(src.norm) is not None:
                continue
            if src is not None and src.origin is not Origin.UNTRUSTED and heading.search(src.norm):
                headed |= 1 << slot
            elif src is None or heading.search(src.norm) is None:
                mask &= ~(1 << slot)
        if headed and untrusted:
            # [red team 8] a heading is a weak sign (``All: 3 unread``, ``Subject: …``): where
            # untrusted content names the word too (``post it to #all``, ``move it to account
            # offshore``), the choice is the content's, not the trusted output's that starts with it
            mask &= ~headed
        intent = mask & self._intent_mask
        if intent and not self._word_as_destination(intent, w) and self._only_untrusted(mask & ~intent):
            # the request holds the word only as prose ("summarise ALL unread mail") while
            # untrusted content names it as a destination ("post it to #all"): the destination is
            # the content's, not the requester's (docs/adr/0025, amendment of 2026-12-06)
            mask &= ~intent
        return mask

    def _word_as_destination(self, mask: int, word: str) -> bool:
        """Whether a source of ``mask`` (the intent) holds ``word`` as a destination: an explicit
        parameter that is the word, ``#all``/``@ops``/quoted/labelled (:func:`_as_destination`), or
        in words (``to ops``, ``in general``, ``the ops channel``: :func:`_named_destination`)."""
        listed, named = _as_destination(word), _named_destination(word)
        for slot in _bits(mask):
            src = self._slots[slot]
            if src is None:
                continue
            if src.norm.strip(" .,;:!?\"'#@") == word or listed.search(src.norm) or named.search(src.norm):
                return True
        return False

    def _only_untrusted(self, mask: int) -> bool:
        """Whether ``mask`` names sources and all of them are untrusted."""
        found = False
        for slot in _bits(mask):
            src = self._slots[slot]
            if src is None:
                continue
            if src.origin is not Origin.UNTRUSTED:
                return False
            found = True
        return found

    def _host_mask(self, host: str) -> int:
        """The sources that name ``host`` (a fetch's): as a term (``borealis-energy.example`` in
        "research borealis-energy.example", in a URL, in an address), with or without ``www.``,
        or a parent domain of it down to its registrable domain (the request named
        ``borealis-energy.example``: ``ir.borealis-energy.example`` is the same organisation's).
        A registrable domain is never matched through a public suffix (``co.uk``), and a
        lookalike (``borealis-energy.example.evil.com``) never through the named host: its parents
        are ``example.evil.com`` and ``evil.com``. An IP address matches only itself."""
        post = self._post
        h = host.lower().rstrip(".")
        if h == UNKNOWN_HOST or not h:
            return 0
        if h.startswith("[") or _IPV4.fullmatch(h):
            return post.get("t" + h.strip("[]"), 0)
        mask = post.get("t" + h, 0) | post.get("t" + "www." + h, 0)
        base = registrable_domain(h)
        cur = h
        while cur != base and "." in cur:
            cur = cur.split(".", 1)[1]
            mask |= post.get("t" + cur, 0)
        return mask

    def _path_mask(self, mask: int, host: str, url: str) -> int:
        """Of the sources in ``mask`` (those naming ``host``, a platform whose paths belong to
        different owners: :data:`_PATH_TENANT_HOSTS`), those that also hold the fetched URL's
        directory on that host (``docs.google.com/forms/d/e/<id>`` for
        ``…/forms/d/e/<id>/formResponse?…``; the first path segment at least). A link to the
        team's own document does not vouch for an attacker's form on the same host."""
        tail = _after_authority(url)
        path = re.split(r"[?#]", tail, maxsplit=1)[0]
        segments = [seg for seg in unquote(path).lower().split("/") if seg]
        if not segments:
            return mask  # the platform's home page: the host is all there is
        directory = "/".join(segments[:-1] or segments)
        bare = host.removeprefix("www.")
        needles = (f"{bare}/{directory}", f"www.{bare}/{directory}")
        found = 0
        for slot in _bits(mask):
            src = self._slots[slot]
            if src is not None and any(_contains(src.norm, n) for n in needles):
                found |= 1 << slot
        return found

    def _trace_fetch(self, value: str) -> tuple[Origin, tuple[str, ...]] | None:
        """A fetch's URL traced by the host it reaches (:meth:`_host_mask`), and the host of every
        URL written inside its path or query (:func:`_redirect_hosts`: an open redirect leads
        there): the worst origin wins. What the path and query carry does not decide where the
        request goes (see :meth:`carries_confidential`). None when no piece is a URL."""
        worst: tuple[Origin, tuple[str, ...]] | None = None
        for piece in _split_destination(value):
            bare = piece.strip(_EDGE + "\"'")
            host = url_host(bare)
            if host is None:
                continue
            for h in (host, *sorted(_redirect_hosts(bare))):
                mask = self._host_mask(h)
                if h == host and h.removeprefix("www.") in _PATH_TENANT_HOSTS:
                    mask = self._path_mask(mask, h, bare)
                got = self._origin(mask)
                if worst is None or _ORDER[got[0]] > _ORDER[worst[0]]:
                    worst = got
                elif got[0] is worst[0]:
                    worst = (got[0], tuple(sorted(set(worst[1]) | set(got[1]))))
        return worst

    def carries_confidential(self, args: Mapping[str, Any], *, lost: bool = False) -> bool:
        """A fetch's arguments carry a value of a confidential or secret output the task read: a
        piece of a URL's path, query or fragment, or of another argument, found in such an output
        but neither in the request nor in any output that is not confidential (a value the public
        page also holds leaks nothing). A piece counts when it can single data out: it holds an
        ``@``, five digits or more, or two words or more; a lone word (``about``, ``leadership``)
        does not: any page holds such words. ``lost``: some output of a task that read
        confidential data is no longer kept whole (evicted, cut, gone from the store), so what it
        held is unknown: a piece that singles out counts unless the request or a kept output that
        is not confidential holds it (fail closed, as before fetches were traced)."""
        sens = self._sensitive
        if not sens and not lost:
            return False
        others = ~sens
        n = 0
        for _, value in leaf_values(args):
            if value is None or isinstance(value, bool):
                continue
            for piece in _payload_pieces(str(value)):
                n += 1
                if n > _PAYLOAD_PIECES:
                    return True  # more than is read: the safe side
                norm = _norm(piece)
                if not _singles_out(norm):
                    continue
                mask = self._lookup_str(norm)
                if (lost or mask & sens) and not mask & others:
                    return True
            if self._carries_confidential_number(value, sens):
                return True
        return False

    def carries_secret(self, args: Mapping[str, Any], *, lost: bool = False) -> bool:
        """The arguments carry a secret: a credential the detectors find in a string argument
        (:func:`proctor.flow.detect.scan_credentials`: an API key, a token, a private key,
        whatever the task read), or a token that looks like a secret value (eight characters or
        more with no space, holding a letter and a digit: a password, a PIN with letters, an
        account key) found in an output labelled secret and neither in the request nor in an
        output that is not confidential. A scan that could not finish (an argument too long)
        counts as a credential. ``lost``: some output of a task that read a secret is no longer
        kept whole, so such a token counts unless the request or a kept output that is not
        confidential holds it (fail closed)."""
        # invisible characters (a zero-width space, a soft hyphen) inside a key or a password
        # change nothing a reader sees
        raw = _arg_strings(args)
        if not raw:
            return False
        if sum(len(t) for t in raw) > _SECRET_SCAN_CHARS:
            return True  # more than is read: the safe side
        texts = [_visible(t) for t in raw]
        # [red team 10] a key percent-encoded in a link (``?token=ghp%5F…``) is read decoded too
        texts += [d for d in (_visible(unquote(t)) for t in raw if "%" in t) if d not in texts]
        if sum(len(t) for t in texts) > _SECRET_SCAN_CHARS:
            return True  # NFKC or decoding grew it past what is read
        found, complete = scan_credentials(_credential_windows(texts))
        if found or not complete:
            return True
        sec = self._secret
        if not sec and not lost:
            return False
        # a token the request, an output that is not confidential, or untrusted content holds
        # is no secret of the organisation's: whoever wrote that content has it (the member id
        # on the payer's own form, also in the secret patient record)
        others = ~self._sensitive | self._untrusted
        n = 0
        for text in texts:
            for token in _SECRET_TOKEN.findall(text):
                # as written, and without the punctuation around it (``(Tr0ub4dor&3x).``); in a
                # link, also each piece of its path, query and fragment, percent-decoded
                # (``https://x.example/?p=Tr0ub4dor%263x``)
                pieces = {token, token.strip(_EDGE_PUNCT)}
                if "://" in token:
                    for piece in _payload_pieces(token.strip(_EDGE_PUNCT)):
                        n += 1
                        if n > _PAYLOAD_PIECES:
                            return True
                        pieces.add(piece)
                for norm in {_norm(p) for p in pieces}:
                    if len(norm) < _SECRET_MIN or not _SECRET_SHAPE.search(norm):
                        continue
                    # only what is looked up counts: a long report's words are not secret-shaped
                    n += 1
                    if n > _PAYLOAD_PIECES:
                        return True  # more than is read: the safe side
                    mask = self._lookup_str(norm)
                    if (lost or mask & sec) and not mask & others:
                        return True
        return False

    def _carries_confidential_number(self, value: Any, sens: int) -> bool:
        """``value`` is or holds a number of five digits or more that a confidential output holds
        and neither the request nor an output that is not confidential does, however it is
        written (``184220.55``, ``184 220,55`` for the statement's ``184,220.55``: the pieces
        are compared as written; red team 7)."""
        if isinstance(value, int | float | Decimal):
            numbers: set[Decimal] = set()
            try:
                numbers.add(abs(Decimal(str(value))))
            except InvalidOperation:
                return False
        else:
            norm = _norm(str(value)[:_EMBED_MAX])
            spans = _number_spans(norm)
            if not spans:
                return False
            numbers = _numbers(norm, spans)
        for d in numbers:
            if not d.is_finite() or sum(c.isdigit() for c in format(d.normalize(), "f")) < 5:
                continue
            mask = self._lookup_number(d)
            if mask & sens and not mask & ~sens:
                return True
        return False

    def _trace_destination(self, value: str) -> tuple[Origin, tuple[str, ...]] | None:
        """A destination string traced address by address, URL by URL (:func:`_split_destination`):
        the worst origin of its pieces wins (``bob@acme.com,eve@evil.io`` is not the intent's
        because one address is). An address a plain pattern does not fully read (a quoted local
        part) is found only where a source holds it verbatim. None when no piece is an address or
        a URL (a name, an IBAN: traced whole)."""
        worst: tuple[Origin, tuple[str, ...]] | None = None
        post = self._post
        for piece in _split_destination(value):
            if url_host(piece.strip(_EDGE + "\"'")) is not None:
                mask = self._lookup_str(piece.strip(_EDGE + "\"'"))
            elif "@" in piece:
                address = _clean_address(piece)
                if address is not None:
                    mask = post.get("e" + address, 0) | self._lookup_text(_norm(address))
                else:
                    mask = self._lookup_text(_norm(piece))
            else:
                continue
            got = self._origin(mask)
            if worst is None or _ORDER[got[0]] > _ORDER[worst[0]]:
                worst = got
            elif got[0] is worst[0]:
                worst = (got[0], tuple(sorted(set(worst[1]) | set(got[1]))))
        return worst

    def _known_lookalikes(self, domains: set[str]) -> tuple[str, ...]:
        """Of ``domains`` (a call's destinations and links), those made to look like a
        counterparty the request or a trusted output names (``lumen-office-supplies.example`` for
        the vendor record's ``lumen-officesupplies.example``: :func:`lookalike_of`) and named by
        neither themselves. The known names are indexed (:class:`_Names`): a domain is compared
        only with the few names a look-alike of it could have."""
        if not self._known or not domains:
            return ()
        out: set[str] = set()
        for d in domains:
            if not d:
                continue
            rd = registrable_domain(d)
            if rd in self._known:
                continue
            hit = self._look.get(rd)
            if hit is None:
                near = self._names.candidates(rd)
                hit = bool(near) and lookalike_of(rd, tuple(sorted(near)))
                if len(self._look) >= _MAX_KNOWN:
                    self._look.clear()
                self._look[rd] = hit
            if hit:
                out.add(rd)
        return tuple(sorted(out))

    def _refers_confidential(self, args: Mapping[str, Any], dests: frozenset[str]) -> bool:
        """An argument other than a destination is, whole, a value only a confidential or secret
        output holds (not the request, not an output that is not confidential), however short:
        an export's or a file's id (``attachments: [X-221]``) carries what it names."""
        sens = self._sensitive
        if not sens:
            return False
        others = ~sens
        for path, value in leaf_values(args):
            if value is None or isinstance(value, bool) or _is_destination(path, dests):
                continue
            if isinstance(value, int | float | Decimal):
                mask = self._lookup_number(value)
            else:
                text = str(value).strip()
                if not text or len(text) > LONG_TEXT:
                    continue
                mask = self._lookup_str(text)
            if mask & sens and not mask & others:
                return True
        return False

    def _only_senders(self, value: str) -> bool:
        """Every piece of a destination ``value`` is an e-mail address an untrusted source names
        as its author (:func:`_senders`), and there is at least one."""
        post = self._post
        pieces = [p for p in _split_destination(value) if p.strip()]
        if not pieces:
            return False
        for piece in pieces:
            address = _clean_address(piece) if "@" in piece else None
            if address is None or not post.get("s" + address, 0):
                return False
        return True

    def _embedded(self, text: str) -> Iterator[tuple[str, Origin, tuple[str, ...], str | None]]:
        """``(kind, origin, sources, domain)`` of each URL, e-mail address and IBAN embedded in a
        free-text value (see :func:`embedded_values`); a URL not found whole is traced by its host
        (a link the model built on a host the task read: the host's origin)."""
        post = self._post
        for kind, key, host in embedded_values(text):
            # [red team 34] bank details are looked up as written (a number, an identifier, a term)
            mask = self._lookup_str(key[1:]) if key[0] == "=" else post.get(key, 0)
            if not mask and kind == "url" and host:
                mask = post.get("t" + host, 0)
                if mask & self._untrusted:
                    mask = self._written_bare(key[1:], mask)
            origin, sources = self._origin(mask)
            yield kind, origin, sources, registrable_domain(host) if host else None

    def _written_bare(self, url: str, mask: int) -> int:
        """[red team 34] Of the sources holding a link's host (``mask``), those that write the
        link itself without its scheme (``docs.google.com/forms/d/e/1FAIpQ…/viewform`` in a web
        page), when only untrusted ones do: the link is theirs, not the host's (a wiki that links
        one Google document does not vouch for every page on docs.google.com). Else ``mask``."""
        bare = url.split("://", 1)[-1].casefold()
        if "/" not in bare.rstrip("/"):
            return mask  # a host alone: traced by the host
        bare = bare.rstrip("/")
        found = 0
        for slot in _bits(mask):
            src = self._slots[slot]
            if src is not None and bare in src.norm:
                found |= 1 << slot
        return found if found and not found & ~self._untrusted else mask

    def _names_reference(self, value: str) -> bool:
        """[red team 34] A payment's reference names one of the request's references
        (:data:`_references`), as a whole word written as records write codes (``BW7731``,
        ``BW 7731`` for ``BW-7731``; not ``BW-77310``: [red team 35]). [red team 36] A creditor
        reference (ISO 11649 ``RF…``, a KID) is none: anyone computes a valid one for another
        invoice."""
        text = _record_text(value)
        if self._reference_at is None:
            return any(ref in text for ref in self._references)
        return self._reference_at.search(text) is not None

    def _off_param(self, path: str, value: Any) -> bool:
        """The argument is named like an explicit parameter but its value is neither that
        parameter's nor anywhere else in the intent (``--param amount=20``, ``amount: 200``)."""
        field = path.rsplit(".", 1)[-1].removesuffix("[]")
        bit = self._params.get(_snake(field)) if self._params else None
        if bit is None or value is None or isinstance(value, bool):
            return False
        if isinstance(value, int | float | Decimal):
            return not (self._lookup_number(value) & (bit | self._intent_mask))
        norm = _norm(str(value))
        if len(norm) > _OFF_PARAM_MAX:
            return False  # free text is never compared: a parameter's words may be rewritten
        if self._lookup_str(norm) & (bit | self._intent_mask):
            return False
        for slot in _bits(bit):
            src = self._slots[slot]
            if src is not None and _same_moment(src.norm, norm):
                return False  # [benign review 34] one date-time written two ways
        if parse_amounts(norm):
            return True  # an amount is compared as a number, never as text
        # a refinement of the parameter is not another value (``2026-06-01`` → ``2026-06-01T09:30``)
        for slot in _bits(bit):
            src = self._slots[slot]
            if src is not None and src.norm and (src.norm in norm or (len(norm) >= 3 and norm in src.norm)):
                return False
        return True

    def _audience_switch(self, org: bool) -> tuple[Origin, tuple[str, ...]] | None:
        """[red team 26/27] The origin of a setting that opens a grant to an audience (the
        organisation's when ``org``, else the world's: :func:`_opens_audience`): None (traced as
        any value) when the request asks for that audience in words not negated (``anyone``,
        ``publicly``; for the organisation's also ``everyone``, ``company-wide``); else, once the
        task read untrusted content, the untrusted sources' (the content may have asked for it:
        fail closed); else none (the model's)."""
        asked = _ASKED[org]
        for slot in _bits(self._intent_mask):
            src = self._slots[slot]
            if src is None:
                continue
            for m in asked.finditer(src.norm):
                near = src.norm[max(0, m.start() - 80) : m.start()]
                before = _AUDIENCE_CLAUSE.split(near)[-1]
                close = " ".join(before.replace("-", " ").split()[-_NEAR_WORDS:])
                after = _AUDIENCE_AFTER_END.split(src.norm[m.end() : m.end() + 40])[0]
                aside = _NEGATION_ASIDE.search(_SENTENCE_STOP.split(near)[-1]) is not None
                if (
                    not aside
                    and _NEGATION.search(before) is None
                    and _REFUSING.search(close) is None
                    and _REFUSED_REQUEST.search(before) is None
                    and _REFUSED_AFTER.search(after) is None
                ):
                    return None
        if self._untrusted:
            return self._origin(self._untrusted)
        return Origin.NONE, ()

    def _unrequested_trivial(self, value: Any) -> bool:
        """``value`` is too short to trace (counted as the intent's, see :meth:`_trace_leaf`) or a
        boolean, and the request (purpose, ``--param``) does not hold it: a number as a number,
        a short string as a word, ``True`` as ``true``/``enable``/``enabled``/``activate``,
        ``False`` as ``false``/``disable``/``disabled``/``deactivate``/``off``. An injection
        that flips a switch or zeroes a count the request only mentioned must not pass for the
        requester's own value (``Provenance.all_from_intent``)."""
        intent = self._intent_mask
        post = self._post
        if isinstance(value, bool):
            words = _SWITCH_WORDS[value]
            return not any(post.get("t" + w, 0) & intent for w in words)
        if isinstance(value, int | float | Decimal):
            return _trivial_number(value) and not self._lookup_number(value) & intent
        if isinstance(value, str):
            stripped = value.strip()
            return 0 < len(stripped) < 3 and not self._lookup_str(stripped) & intent
        return False

    def trace(
        self, tool: ToolRecord, args: Mapping[str, Any], dests: frozenset[str] | None = None
    ) -> Provenance:
        """Every leaf argument value's best origin, and the URLs, e-mail addresses and IBANs
        embedded in free-text values (paths ``<arg>#url``, ``#email``, ``#iban``); ``checked=False``
        for a ``read`` tool. ``dests``: ``destination_paths(tool, args)`` when the caller already
        has it (computed here when None)."""
        fetch = _is_fetch(tool)
        if tool.effect == "read" and not fetch:
            return Provenance()
        if dests is None:
            dests = destination_paths(tool, args)
        worst: dict[str, tuple[Origin, tuple[str, ...], bool]] = {}
        domains: set[str] = set()
        linked: set[str] = set()  # every embedded link's or address's domain, whatever its origin
        off: list[str] = []
        parties: set[str] = set()

        where: dict[str, set[str]] = {}  # a destination path's domains (every element's)
        parts: dict[str, list[tuple[Origin, tuple[str, ...]]]] = {}  # ... and element by element

        steer: set[str] = set()  # paths with a value found in an output that gave orders
        stated: set[str] = set()  # amount paths a trusted record holds and untrusted content states
        to_sender: set[str] = set()  # untrusted destination paths whose values wrote to the task
        not_sender: set[str] = set()

        def keep(path: str, origin: Origin, sources: tuple[str, ...], is_dest: bool) -> None:
            if _STEERED in sources:
                steer.add(path)
            also = tuple(x[len(_ALSO) :] for x in sources if x.startswith(_ALSO))
            sources = tuple(x for x in sources if not x.startswith("\x00"))
            if also and origin is Origin.TRUSTED and path in amounts:
                stated.add(path)
            if also and is_dest and tool.destructive:
                # what a destructive call acts on is named by untrusted content (an e-mail, a
                # PDF: "delete standing orders SO-11 and SO-12"), even if the system of record
                # lists it too: the content chose it (docs/adr/0025, amendment of 2026-12-06)
                origin, sources = Origin.UNTRUSTED, also
            prev = worst.get(path)
            if prev is None or _ORDER[origin] > _ORDER[prev[0]]:
                worst[path] = (origin, sources, is_dest or (prev is not None and prev[2]))
            elif origin is prev[0]:
                merged = tuple(sorted(set(prev[1]) | set(sources)))
                worst[path] = (origin, merged, is_dest or prev[2])

        unrequested = False
        by_reference = bool(dests) and dests == reply_targets(tool, args)
        # the destinations name records, not parties: a destructive tool's targets or a reply's
        objects_only = by_reference or (tool.destructive and not tool.destinations)
        leaves = list(leaf_values(args))
        amounts, money = _amounts_and_money(args, dests, leaves)
        for path, value in leaves:
            is_dest = _is_destination(path, dests)
            if not is_dest and not unrequested and self._unrequested_trivial(value):
                unrequested = True
            if (
                is_dest
                and isinstance(value, str)
                and len(value) > LONG_TEXT
                and len(_norm(value)) > LONG_TEXT
            ):
                is_dest = False  # free text is not a destination
            got = None
            if fetch and is_dest and isinstance(value, str):
                got = self._trace_fetch(value.strip())
            if got is None:
                # a channel, a handle, a user named by one word is found only where an output
                # holds it as one; what a destructive call or a reply acts on (a merchant, a
                # branch) is found as any other value is
                word_rule = not objects_only or _name_matches(
                    path.rsplit(".", 1)[-1].removesuffix("[]"), _PARTY_NAMES
                )
                got = self._trace_leaf(value, is_dest, word_rule=word_rule)
            if not is_dest and tool.access_control:
                # [red team 26/27] a setting that opens the grant to an audience (``anyone_with_link:
                # true``, ``restricted: false``, ``visibility: public``) is the request's only when
                # it asks for that audience, else the untrusted content's once the task read any
                org = _opens_audience(path, value)
                if org is not None:
                    audience = self._audience_switch(org)
                    if audience is not None:
                        got = audience
            if got is None:
                continue
            if (
                not is_dest
                and tool.access_control
                and got[0] in (Origin.UNTRUSTED, Origin.NONE)
                and _STEERED not in got[1]
                and _least_privilege(path, value)
            ):
                # [s14] a read-only role (``viewer``) chosen by content or by the model gives no
                # one more than sight of what the call names: who gets it (the destinations) and
                # what (the object) are traced as before. Counted as a trivial value: never the
                # request's own for ``all_from_intent``
                got = (Origin.INTENT, ("trivial",))
                unrequested = True
            if not is_dest and got[1] == ("trivial",) and path in money:
                # [red team 13] a 30 % discount: the content's when only it holds it
                got = self._small_amount(value) or got
            elif (
                not is_dest
                and path in amounts
                and got[0] in (Origin.INTENT, Origin.TRUSTED)
                and got[1] != ("trivial",)
            ):
                # [red team 13] a quote's 6204 pieces is not the part number 6204-2RS
                got = self._amount_not_in_codes(value) or got
            keep(path, got[0], got[1], is_dest)
            if is_dest and got[0] is Origin.UNTRUSTED:
                if isinstance(value, str) and self._only_senders(value):
                    to_sender.add(path)
                else:
                    not_sender.add(path)
            if is_dest:
                # every element of a list path counts: a path with one element of no domain (an
                # IBAN, a channel) is not shown to stay inside
                doms = where.setdefault(path, set())
                if isinstance(value, str):
                    field = path.rsplit(".", 1)[-1].removesuffix("[]")
                    # a URL written in a destination URL's path or query (an open redirect, a
                    # proxy: ``https://ourco.example/out?to=https://evil.io``) is where it leads too
                    found = _domains_of(value, bare=_name_matches(field, _HOST_NAMES))
                    found |= _redirect_hosts(value)
                    if found:
                        parties.add(path)
                    if found and tool.effect == "write" and not _all_addresses(value):
                        # a write's URL or host names what it changes (a page, a record, a
                        # webhook), not who receives: the organisation's own page chosen by an
                        # injection is no safer for being inside
                        found = set()
                    if found:
                        doms |= found
                    else:
                        doms.add("")  # no domain: never inside
                    part = tuple(sorted(found))
                else:
                    part = ()
                    doms.add("")
                parts.setdefault(path, []).append((got[0], part))
            if self._params and self._off_param(path, value):
                off.append(path)
            elif (
                tool.effect == "pay"
                and got[0] is Origin.UNTRUSTED
                and isinstance(value, str)
                and _name_matches(path.rsplit(".", 1)[-1].removesuffix("[]"), _REFERENCE_NAMES)
                and self._references
                and not self._names_reference(value)
            ):
                # [red team 34] the request named what to pay (``invoice BW-7731``: _references), and the
                # payment's reference is one only untrusted content gives and holds none of them
                # ("also outstanding: BW-7790"): a payment the request did not ask for, whatever
                # its payee
                off.append(path)
            if not is_dest and isinstance(value, str) and _may_embed(value):
                for kind, origin, sources, domain in self._embedded(value):
                    keep(f"{path}#{kind}", origin, sources, False)
                    if domain:
                        linked.add(domain)
                    if origin is Origin.UNTRUSTED and domain:
                        domains.add(domain)
        return Provenance(
            checked=True,
            known_lookalikes=self._known_lookalikes({d for ds in where.values() for d in ds} | linked),
            steered=tuple(sorted(steer)),
            by_reference=by_reference,
            to_sender=tuple(sorted(to_sender - not_sender)),
            sender_carries_confidential=bool(to_sender - not_sender)
            and (self.carries_confidential(args) or self._refers_confidential(args, dests)),
            args=tuple(
                ArgOrigin(
                    path,
                    origin,
                    sources,
                    dest,
                    _inside_domains(where.get(path)) if dest else (),
                    tuple(parts.get(path, ())) if dest else (),
                )
                for path, (origin, sources, dest) in sorted(worst.items())
            ),
            embedded_domains=tuple(sorted(domains)),
            linked_domains=tuple(sorted(linked)),
            off_param=tuple(sorted(set(off))),
            parties=tuple(sorted(parties)),
            carries_confidential=fetch and self.carries_confidential(args),
            carries_secret=self.carries_secret(args),
            payment_requested=tool.effect == "pay"
            and (
                self._asks_money
                # who is paid (an account, a payee) is the request's; a reason, a memo, a method
                # or the record a refund answers copying the request's words asks for nothing
                # (red team 9): any injected refund quotes the task's own permit number
                # [red team 10] and is an account (an IBAN, an account number): a party's name, an
                # address or an id the request holds for another reason ("check the status of
                # the Acme order") asks for no payment to Acme
                or (
                    not by_reference
                    and any(
                        o is Origin.INTENT
                        and s != ("trivial",)
                        and _names_payee(tool, p, d)
                        and any(_is_account_value(v) for q, v in leaves if q == p)
                        for p, (o, s, d) in worst.items()
                    )
                )
            ),
            unrequested_trivial=unrequested,
            objects=_objects(tool, (p for p, (_, _, d) in worst.items() if d)),
            named_domains=tuple(
                sorted({d for ds in where.values() for d in ds if d and self.names_party(d)})
            ),
            amounts=amounts,
            amounts_stated=tuple(sorted(stated)),
            amount_off_record=amount_off_record(
                tool.effect, ((p, o) for p, (o, _, _) in worst.items()), amounts, self.records_state_money
            ),
        )

    def names_party(self, domain: str) -> bool:
        """[blind-6] The request names the organisation ``domain`` is the name of: the first
        label of its registrable domain, without hyphens, is a run of the request's capitalised
        words or a parameter's whole value, written together (``summitautofinance.example`` for
        "send the package to Summit Auto Finance", ``brightwell.example`` for ``--param
        workspace=brightwell``: :func:`_party_names`); never a public mail provider's domain
        (``gmail.com``). That is the requester's choice of party, not of address: an address
        there found only in untrusted content still waits for a person
        (``destination_named_party`` only turns the refusal of flow.no-confidential-egress into a
        hold), and a look-alike of a counterparty the task knows is caught by
        flow.hold-lookalike-destination. [red team 14] A domain a trusted output merely holds
        (ef52f47 counted it) is no named party: a shared platform's (``herokuapp.com``,
        ``s3.amazonaws.com``, ``onmicrosoft.com``) or another customer's domain in any trusted
        listing turned the refusal into a hold."""
        registrable = registrable_domain(domain)
        if mail_provider(domain) or mail_provider(registrable):
            return False
        if not self._party_names:
            return False
        first = registrable.split(".", 1)[0].replace("-", "")
        return len(first) >= _PARTY_MIN and first in self._party_names

    def destination_domains(self, tool: ToolRecord, args: Mapping[str, Any]) -> tuple[str, ...]:
        """:func:`destination_domains` (the index is not needed; here for the callers' convenience)."""
        return destination_domains(tool, args)
