"""The fast paths of the flow scans find exactly what the patterns they stand for find.

Each one (a ``bytes.translate`` + ``find`` for a pattern tried at every position, an ASCII or
possessive form of a pattern, a one-character guard before a substring test) is compared with the
reference on text drawn from the characters that matter to it, ASCII and not.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.flow import detect, labels
from proctor.flow import provenance as P

_IDENT_REFERENCE = re.compile(rf"(?<![^\W_]){P._IDENT_GROUP}(?:[ \-./()+]{{1,3}}{P._IDENT_GROUP})*")
_AT_REFERENCE = re.compile(
    r"(?<=[a-z0-9!#$%&'*+/=?^_`{|}~-])@(?=[a-z0-9][a-z0-9-]*\.[a-z0-9])", re.IGNORECASE
)

_IDENT_CHARS = st.text(st.sampled_from("ab1 9-./()+_xX\u00e9\u0663\u00b2\u0130\n\tDE0"), max_size=60)
_ASCII_IDENT_CHARS = st.text(st.sampled_from("aBz019 -./()+_\n,"), max_size=60)
_NUMBER_CHARS = st.text(st.sampled_from("1234 ,.'\u00a0\u202fa-\n\u0663"), max_size=60)
_EMAIL_CHARS = st.text(st.sampled_from("ab1@.-_+ é\nX@"), max_size=50)
_TERM_CHARS = st.text(st.sampled_from("abZ09-_. \n\t,@é\u0130"), max_size=60)
_SPACE_CHARS = st.text(st.sampled_from("ab \n\t\r\x0b\x0c\x1c\x1f.\u00a0"), max_size=40)
_TRIGGER_TEXT = st.lists(
    st.sampled_from(
        [
            "a" * 19,
            "a" * 20,
            "x y",
            "AKIAB" + "C" * 15,
            "q=w+e/r_t-y" * 2,
            "\u00e9" * 3,
            "AKC1234567890",
            "https://",
            "eyJhbGc",
            "XoX",
            "_live_",
            "SG.",
            "sq0csp",
            "PRIVATE KEY",
            "Y K q",
        ]
    ),
    max_size=8,
).map("\n".join)


def _candidate_reference(text: str) -> str:
    """``detect._candidate_lines`` as it was: every trigger searched with its pattern."""
    starts: set[int] = set()
    half = (text.count("\n") + 1) // 2
    for pattern in detect._TRIGGERS:
        literal = detect._LITERALS.get(pattern.pattern)
        if literal is not None and literal not in (text.lower() if literal == "xox" else text):
            continue
        pos = 0
        while True:
            m = pattern.search(text, pos)
            if m is None:
                break
            starts.add(text.rfind("\n", 0, m.start()) + 1)
            b = text.find("\n", m.end())
            if b < 0:
                break
            pos = b + 1
        if len(starts) > half:
            return text
    kept = []
    for a in sorted(starts):
        b = text.find("\n", a)
        kept.append(text[a : b if b >= 0 else len(text)])
    return "\n".join(kept)


def _squeeze_reference(text: str) -> str:
    odd = [c for c in labels._ODD_ASCII + labels._WIDE if c in text]
    if not odd and not any(run in text for run in labels._RUNS):
        return text
    for c in odd:
        text = text.replace(c, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(_IDENT_CHARS, _ASCII_IDENT_CHARS)
def test_identifier_runs_are_the_greedy_patterns(text: str, ascii_text: str) -> None:
    assert _spans(P._IDENT_RUN, text) == _spans(_IDENT_REFERENCE, text)
    assert _spans(P._IDENT_RUN_ASCII, ascii_text) == _spans(_IDENT_REFERENCE, ascii_text)
    for g in P._GROUP.findall(text):
        assert P._group_digits(g) == P._digits(g)


@settings(max_examples=500, deadline=None)
@given(_NUMBER_CHARS)
def test_number_spans_are_the_patterns(text: str) -> None:
    assert P._number_spans(text) == [(m.start(), m.end(), m.group(0)) for m in P._NUMBER.finditer(text)]


@settings(max_examples=500, deadline=None)
@given(_EMAIL_CHARS)
def test_at_signs_are_the_patterns(text: str) -> None:
    # as written (dense: the engine's pass), and padded (sparse: tried at each ``@`` found)
    padded = text + " " * (256 * (text.count("@") + 1)) + text
    for t in (text, padded):
        assert list(P._at_signs(t)) == [m.start() for m in _AT_REFERENCE.finditer(t)]


@settings(max_examples=500, deadline=None)
@given(_TERM_CHARS)
def test_terms_and_norm_are_the_references(text: str) -> None:
    norm = P._norm(text)
    if text.isascii():
        assert norm == " ".join(text.lower().split())
    assert P._term_keys(norm) == {"t" + t for t in P._terms(norm)}
    assert P._term_keys(text) == {"t" + t for t in P._terms(text)}


@settings(max_examples=500, deadline=None)
@given(_SPACE_CHARS)
def test_squeeze_is_the_reference(text: str) -> None:
    assert labels._squeeze(text) == _squeeze_reference(text)


@settings(max_examples=500, deadline=None)
@given(_TRIGGER_TEXT)
def test_candidate_lines_are_the_patterns(text: str) -> None:
    assert detect._candidate_lines(text) == _candidate_reference(text)
