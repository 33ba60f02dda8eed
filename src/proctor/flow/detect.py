"""Credentials in tool output, found with detect-secrets' regex detectors (issue 15, ADR 0025 §2).

The detectors are the maintained library's own (``detect_secrets.plugins``): every
``RegexBasedDetector`` it ships (AWS, GitHub, GitLab, Slack, Stripe, private keys, JWTs, basic-auth
URLs, …) except the public-IP one (an address is not a credential). The high-entropy and keyword
plugins are left out on purpose: they flag hashes, UUIDs and ``password = <placeholder>`` lines,
and a false ``secret`` label blocks ordinary tasks.

Cost: the detectors run ~40 regular expressions; over 10 KB of prose that is ~5 ms. A cheap
**prefilter** (one regular expression, see ``_TRIGGER``) picks the lines that could hold a match
and the detectors run on those lines only, so prose costs one pass (~0.1 ms / 10 KB). The prefilter
is a superset of what the detectors can match (argued per detector beside it and checked by a test
with a sample of every detector); the detectors stay the source of truth for what is a credential.
An unknown detector type (a detect-secrets upgrade added one) disables the prefilter: every line
is scanned until the list below is reviewed.

A value is never returned or logged: a finding is ``(kind, fingerprint)`` where the fingerprint is
``sha256:`` and the first 12 hex digits of the SHA-256 of the matched value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detect_secrets.plugins.base import RegexBasedDetector

__all__ = [
    "MAX_SCAN_CHARS",
    "Detector",
    "detectors",
    "find_credentials",
    "fingerprint",
    "scan_credentials",
]

#: text past this many characters is not scanned (see :func:`find_credentials`)
MAX_SCAN_CHARS = 4 << 20
#: the detectors run on chunks of at most this many characters (cut at line ends where possible,
#: with an overlap where a single line is longer), bounding any regular expression's backtracking
_CHUNK = 64 << 10
_OVERLAP = 1024
#: runs without whitespace longer than this are broken up before the detectors run (``_tame``)
_LONG_RUN = 1024
_LONG = re.compile(rf"\S{{{_LONG_RUN + 1},}}")
_SEPARATORS = re.compile(r"[,;&|{}\[\]<>]+")
_PIECE = 512
_PIECE_OVERLAP = 128
#: characters of cut pieces scanned per text; past it the scan is incomplete
_LONG_BUDGET = 64 << 10
#: a reported group shorter than this is a prefix (``ghp``), not the secret
_MIN_VALUE = 8

#: a detector's secret is on a line that holds this literal: the detector reads only such lines
_LINE_NEEDS = {"NPM tokens": "_authToken"}
#: detector types left out: not credentials, or too noisy (see the module docstring)
_EXCLUDED = frozenset({"Public IP (ipv4)"})

#: the detector types the prefilter below was reviewed against (detect-secrets 1.5)
_REVIEWED = frozenset(
    {
        "AWS Access Key",
        "Artifactory Credentials",
        "Azure Storage Account access key",
        "Basic Auth Credentials",
        "Cloudant Credentials",
        "Discord Bot Token",
        "GitHub Token",
        "GitLab Token",
        "IBM Cloud IAM Key",
        "IBM COS HMAC Credentials",
        "JSON Web Token",
        "Mailchimp Access Key",
        "NPM tokens",
        "OpenAI Token",
        "Private Key",
        "PyPI Token",
        "SendGrid API Key",
        "Slack Token",
        "SoftLayer Credentials",
        "Square OAuth Secret",
        "Stripe Access Key",
        "Telegram Bot Token",
        "Twilio API Key",
    }
)

# A line can hold a detector's match only if it holds one of these (searched one by one: each
# has a literal prefix the regular expression engine scans for quickly, except the run):
# - a run of 20 token characters: every detector whose secret is 20+ characters of
#   [A-Za-z0-9_\-+/=] (AWS key ids and secrets, GitHub, GitLab, Discord, IBM IAM/COS, Mailchimp,
#   OpenAI, PyPI, SendGrid parts, SoftLayer, Square, Stripe, Telegram, Twilio, Cloudant keys,
#   Azure keys);
# - the shorter Artifactory tokens (``AKC`` + 10, ``AP`` + hex + 8 alphanumerics);
# - the literals the other detectors need: ``://`` (basic auth, Cloudant and Slack webhook
#   URLs, npm registries), ``eyJ`` (JWT), ``_authToken`` (npm), ``PRIVATE KEY`` /
#   ``PuTTY-User-Key`` (private keys), ``SG.`` (SendGrid), ``AccountKey`` (Azure), ``sq0csp``
#   (Square), ``_live_`` (Stripe), ``xox`` in any case (Slack).
_TRIGGERS = tuple(
    re.compile(p)
    for p in (
        r"[A-Za-z0-9_\-+/=]{20}",
        r"AKC[a-zA-Z0-9]{10}",
        r"AP[0-9A-F][a-zA-Z0-9]{8}",
        r"://",
        r"eyJ",
        r"_authToken",
        r"PRIVATE KEY",
        r"PuTTY-User-Key",
        r"SG\.",
        r"AccountKey",
        r"sq0csp",
        r"_live_",
        r"[xX][oO][xX]",
    )
)
#: the first trigger, a run of 20 token characters: in ASCII text it is found as 20 marks in the
#: text's bytes with every token character made a mark (``bytes.translate`` and ``bytes.find``
#: run in C; the regular expression costs ~14 ns per character, tried at every position)
_RUN_TRIGGER = _TRIGGERS[0]
_RUN_TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=")
_RUN_MARKS = bytes(0x61 if i in _RUN_TOKEN else 0x20 for i in range(256))
_RUN_NEEDLE = b"a" * 20
#: per trigger (by its pattern), a substring every match holds: a text without it is not searched
#: (``in`` is much cheaper than a search); ``xox`` is tested on the lower-cased text (``str.lower``
#: maps each character on its own, so ``XoX`` in the text is ``xox`` in it)
_LITERALS: dict[str, str] = {
    r"AKC[a-zA-Z0-9]{10}": "AKC",
    r"AP[0-9A-F][a-zA-Z0-9]{8}": "AP",
    r"://": "://",
    r"eyJ": "eyJ",
    r"_authToken": "_authToken",
    r"PRIVATE KEY": "PRIVATE KEY",
    r"PuTTY-User-Key": "PuTTY-User-Key",
    r"SG\.": "SG.",
    r"AccountKey": "AccountKey",
    r"sq0csp": "sq0csp",
    r"_live_": "_live_",
    r"[xX][oO][xX]": "xox",
}
#: per literal, one of its characters seldom in prose: a text without it does not hold the
#: literal (a test for one character is ~20 times cheaper than for a longer substring)
_GUARDS: dict[str, str] = {
    "AKC": "K",
    "://": ":",
    "eyJ": "J",
    "_authToken": "_",
    "PRIVATE KEY": "Y",
    "PuTTY-User-Key": "Y",
    "SG.": "G",
    "AccountKey": "K",
    "sq0csp": "q",
    "_live_": "_",
}


class Detector:
    """One detect-secrets regex detector, by its type name."""

    __slots__ = ("kind", "plugin")

    def __init__(self, kind: str, plugin: RegexBasedDetector) -> None:
        self.kind = kind
        self.plugin = plugin

    def values(self, text: str) -> Iterator[str]:
        """The credentials the detector finds in ``text``, whole. detect-secrets reports a
        regular expression's groups when it has some: the secret of ``key = '<secret>'``, but
        only the ``ghp`` of a GitHub token; a group shorter than 8 characters is replaced by its
        whole match, so the fingerprint names the token, not its prefix."""
        # analyze_string only runs the detector's regular expressions (and, for JWTs, a format
        # check); it never verifies a secret over the network. It decides what is a finding.
        found = {str(v) for v in self.plugin.analyze_string(text) if v}
        if not found:
            return
        for regex in self.plugin.denylist:
            for m in regex.finditer(text):
                subs = [g for g in m.groups() if g] if regex.groups else [m.group(0)]
                for sub in subs:
                    if sub in found:
                        yield sub if len(sub) >= _MIN_VALUE else m.group(0)


@cache
def detectors() -> tuple[tuple[Detector, ...], bool]:
    """The detectors in use, and whether the prefilter may be used (every type reviewed).
    detect-secrets is imported here, on first use: importing it takes ~0.2 s (it loads
    ``requests`` for its verifiers, which are never called)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    found: list[Detector] = []
    mapping: dict[str, type[Any]] = dict(get_mapping_from_secret_type_to_class())
    for kind in sorted(mapping):
        cls = mapping[kind]
        if kind in _EXCLUDED or not issubclass(cls, RegexBasedDetector):
            continue
        found.append(Detector(kind, cls()))
    reviewed = all(d.kind in _REVIEWED for d in found)
    return tuple(found), reviewed


def fingerprint(value: str) -> str:
    """``sha256:`` and the first 12 hex digits of the value's SHA-256: names a value, never shows it."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _chunks(text: str) -> Iterator[str]:
    """The text in pieces of at most ``_CHUNK`` characters, cut after a newline where there is
    one; a longer line is cut with an overlap so a value across the cut is still seen whole."""
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + _CHUNK)
        if end < n:
            cut = text.rfind("\n", start, end)
            if cut > start:
                end = cut + 1
                yield text[start:end]
                start = end
                continue
            yield text[start:end]
            start = end - _OVERLAP
            continue
        yield text[start:end]
        start = end


def _candidate_lines(text: str) -> str:
    """The lines of ``text`` that hold a trigger, in order, joined by newlines (empty: none);
    the whole text when most lines do (base64, key material: selecting them saves nothing)."""
    starts: set[int] = set()
    half = (text.count("\n") + 1) // 2
    for pattern in _TRIGGERS:
        literal = _LITERALS.get(pattern.pattern)
        if literal is not None:
            guard = _GUARDS.get(literal)
            if guard is not None and guard not in text:
                continue
            if literal == "xox":
                if ("x" not in text and "X" not in text) or literal not in text.lower():
                    continue
            elif literal not in text:
                continue
        marks = (
            text.encode("ascii").translate(_RUN_MARKS) if pattern is _RUN_TRIGGER and text.isascii() else None
        )
        pos = 0
        while True:
            if marks is not None:  # the same match as the pattern's, one byte per character
                at = marks.find(_RUN_NEEDLE, pos)
                if at < 0:
                    break
                span = (at, at + len(_RUN_NEEDLE))
            else:
                m = pattern.search(text, pos)
                if m is None:
                    break
                span = m.span()
            starts.add(text.rfind("\n", 0, span[0]) + 1)
            b = text.find("\n", span[1])
            if b < 0:
                break
            pos = b + 1
        if len(starts) > half:
            return text
    kept: list[str] = []
    for a in sorted(starts):
        b = text.find("\n", a)
        kept.append(text[a : b if b >= 0 else len(text)])
    return "\n".join(kept)


def _private_key_blocks(text: str, marker: str) -> Iterator[str]:
    """The armoured blocks each ``marker`` (``BEGIN RSA PRIVATE KEY``…) opens: fingerprinted
    instead of the marker, so two different keys have different fingerprints."""
    at = text.find(marker)
    while at >= 0:
        end = text.find("-----END", at)
        stop = text.find("\n", end) if end >= 0 else -1
        if end < 0:
            stop = min(len(text), at + 4096)
        elif stop < 0:
            stop = len(text)
        yield text[at:stop]
        at = text.find(marker, at + len(marker))


def _tame(scan: str, budget: list[int]) -> tuple[str, bool]:
    """``scan`` with every run of more than ``_LONG_RUN`` characters without whitespace broken
    into lines, so no detector's pattern backtracks over a long run (some are quadratic on
    crafted input, e.g. ``eyJ`` or ``://`` repeated): a run is split at the punctuation that
    separates values (``,;&|{}[]<>``: minified JSON, query strings, connection strings), and a
    part still longer is cut into ``_PIECE``-character pieces overlapping by ``_PIECE_OVERLAP``.
    Cut pieces are scanned up to ``budget[0]`` characters per text; False when some were not."""
    if not _LONG.search(scan):
        return scan, True
    complete = True
    out: list[str] = []
    pos = 0
    for m in _LONG.finditer(scan):
        out.append(scan[pos : m.start()])
        pos = m.end()
        for part in _SEPARATORS.split(m.group(0)):
            if len(part) <= _LONG_RUN:
                out.append("\n" + part + "\n")
                continue
            step = _PIECE - _PIECE_OVERLAP
            for i in range(0, max(1, len(part) - _PIECE_OVERLAP), step):
                if budget[0] <= 0:
                    complete = False
                    break
                piece = part[i : i + _PIECE]
                budget[0] -= len(piece)
                out.append("\n" + piece + "\n")
    out.append(scan[pos:])
    return "".join(out), complete


#: texts up to this many characters have their scan remembered (:func:`scan_credentials`): a
#: call's credential windows (an IBAN, an address) recur from call to call
_MEMO_CHARS = 4096
_MEMO_SIZE = 4096


def scan_credentials(text: str, *, limit: int = MAX_SCAN_CHARS) -> tuple[list[tuple[str, str]], bool]:
    """:func:`find_credentials` and whether the scan was complete: False when the text was
    longer than ``limit`` or held more very long unbroken runs than are scanned (see
    ``_tame``); the caller treats an incomplete scan as a possible credential. The result for a
    short text is remembered (it depends on the text and ``limit`` alone): a fresh list each call."""
    if not text:
        return [], True
    if len(text) <= _MEMO_CHARS:
        # keyed on a digest of the text, never the text (a scanned argument or output may hold
        # a secret, and the memo outlives the task), and on the detectors and the prefilter in
        # use (a test swaps them)
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        key = (digest, limit, detectors(), _TRIGGERS)
        hit = _MEMO.get(key)
        if hit is None:
            found, complete = _scan(text, limit)
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()  # bounded; cleared whole (no order to keep between threads)
            hit = _MEMO[key] = (tuple(found), complete)
        return list(hit[0]), hit[1]
    return _scan(text, limit)


#: digest of a short text (and what scanned it) -> its scan (:func:`scan_credentials`)
_MEMO: dict[tuple[bytes, int, object, object], tuple[tuple[tuple[str, str], ...], bool]] = {}


def _scan(text: str, limit: int) -> tuple[list[tuple[str, str]], bool]:
    """:func:`scan_credentials` without its memo."""
    complete = len(text) <= limit
    if not complete:
        text = text[:limit]
    dets, prefilter = detectors()
    found: set[tuple[str, str]] = set()
    budget = [_LONG_BUDGET]
    for chunk in _chunks(text):
        scan = _candidate_lines(chunk) if prefilter else chunk
        if not scan:
            continue
        scan, whole = _tame(scan, budget)
        complete = complete and whole
        for det in dets:
            need = _LINE_NEEDS.get(det.kind)
            if need is not None:
                # [red team 17] npm's ``//.+/:_authToken=`` backtracks from every ``//`` of a line
                # (4 s for 100 KB of ``// // …``): only the lines that hold its literal
                lines = [x for x in scan.split("\n") if need in x]
                if not lines:
                    continue
                for value in det.values("\n".join(lines)):
                    found.add((det.kind, fingerprint(value)))
                continue
            for value in det.values(scan):
                if det.kind == "Private Key":
                    found.update((det.kind, fingerprint(b)) for b in _private_key_blocks(scan, value))
                else:
                    found.add((det.kind, fingerprint(value)))
    return sorted(found), complete


def find_credentials(text: str, *, limit: int = MAX_SCAN_CHARS) -> list[tuple[str, str]]:
    """Credentials in ``text``: ``(kind, fingerprint)`` pairs, sorted, without duplicates.

    ``kind`` is detect-secrets' type name (``AWS Access Key``, ``GitHub Token``, ``Private
    Key``…). Only the first ``limit`` characters are scanned, and only part of very long
    unbroken runs (:func:`scan_credentials` says whether the scan was complete).
    """
    return scan_credentials(text, limit=limit)[0]
