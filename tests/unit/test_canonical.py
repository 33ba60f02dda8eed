"""Canonical JSON (RFC 8785): the fast ``json`` path must give exactly the bytes ``rfc8785`` gives."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from proctor import canonical
from proctor.audit.chain import DOMAIN, GENESIS, chain_hash, checkpoint_payload
from proctor.canonical import MAX_SAFE_INT, canonical_json
from proctor.errors import ValidationError
from proctor.types import AgentName, Verdict

# every code point except surrogates: controls, quotes, backslash, U+2028, non-BMP, ...
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_ascii_keys = st.text(st.characters(max_codepoint=0x7F), max_size=8)
_ints = st.integers(-MAX_SAFE_INT, MAX_SAFE_INT)
_scalars = st.none() | st.booleans() | _ints | _text


def _json(keys: st.SearchStrategy[str], leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=30,
    )


_plain_values = _json(_ascii_keys, _scalars)


@settings(max_examples=400)
@given(_plain_values)
@example({"a": '\U0001f600 \u2028 \x7f \x00\x1f\b\f\n\r\t"\\/'})
@example([MAX_SAFE_INT, -MAX_SAFE_INT, 0, True, False, None])
@example({"Z": 1, "a": 2, "_": 3, "": 4, "~": {"e": "\U00010000é"}})
def test_fast_path_matches_rfc8785(value: Any) -> None:
    """No floats and ASCII keys: the C ``json`` encoder emits the RFC 8785 bytes, byte for byte."""
    assert canonical._plain(value) is True
    assert canonical._fast(value) == rfc8785.dumps(value)
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=300)
@given(_json(_text, _scalars))
@example({"\U0001f600": 1, "\uffff": 2, "\ue000": 3, "a": 4})
def test_any_keys_match_rfc8785(value: Any) -> None:
    """Non-ASCII keys (UTF-16 order, not code-point order) still give the reference bytes."""
    assert canonical_json(value) == rfc8785.dumps(value)


_floats = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300)
@given(_json(_text, _scalars | _floats))
@example({"x": [0.1, -0.0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 333333333.33333329]})
def test_floats_match_rfc8785(value: Any) -> None:
    """Values with floats go through ``rfc8785`` and agree with it."""
    assert canonical_json(value) == rfc8785.dumps(value)


def test_rfc8785_known_answer() -> None:
    """The example of RFC 8785 section 3.2.2 gives the published canonical form."""
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(value) == expected


def test_utf16_key_order() -> None:
    """Keys sort by UTF-16 code units: a non-BMP key sorts before U+FFFF (code-point order differs)."""
    assert canonical_json({"\uffff": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uffff":1}'.encode()


def test_fast_path_skips_rfc8785(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain values never reach the slow reference implementation; floats do."""

    def boom(obj: Any) -> bytes:
        raise AssertionError("slow path used")

    monkeypatch.setattr(rfc8785, "dumps", boom)
    assert canonical_json({"a": [1, "x", None], "b": {"c": True}}) == b'{"a":[1,"x",null],"b":{"c":true}}'
    with pytest.raises(AssertionError, match="slow path"):
        canonical_json({"a": 1.5})
    with pytest.raises(AssertionError, match="slow path"):
        canonical_json({"é": 1})


def test_str_and_int_subclasses_serialise_as_values() -> None:
    """Value types (``AgentName``) and ``StrEnum`` members serialise as their plain values."""
    value = {"agent": AgentName("bot"), "decision": Verdict.ALLOW}
    assert canonical_json(value) == b'{"agent":"bot","decision":"allow"}'
    assert canonical_json(value) == rfc8785.dumps(value)


def test_tuples_are_arrays() -> None:
    """Tuples serialise as JSON arrays, as lists do."""
    assert canonical_json({"a": (1, 2)}) == b'{"a":[1,2]}'


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        {"a": [1, math.nan]},
        {1: "x"},
        {"a": {None: 1}},
        {"f": 1.5, "bad": {2: 1}},
        2**53,
        -(2**53),
        {"a": [2**63]},
        {"f": 1.5, "big": 2**53},
        "\ud800",
        {"a": "x\udfff"},
        {"f": 0.5, "s": "\ud800"},
        {"s": {1, 2}},
        b"bytes",
        object(),
    ],
)
def test_rejects_what_json_cannot_hold(bad: Any) -> None:
    """NaN, infinities, non-string keys, unsafe integers, lone surrogates and other types are refused."""
    with pytest.raises(ValidationError):
        canonical_json(bad)


def test_rejects_self_containing_value() -> None:
    """A list that contains itself is refused, not looped on forever."""
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValidationError, match="nested too deeply"):
        canonical_json(loop)


def test_chain_hash_is_domain_separated_sha256() -> None:
    """``chain_hash`` is SHA-256 over the domain tag, the 8-byte seq, the previous hash and the body."""
    body = b'{"v":1}'
    expected = hashlib.sha256(b"proctor-audit-v1\0" + (7).to_bytes(8, "big") + GENESIS + body).digest()
    assert DOMAIN == b"proctor-audit-v1\0"
    assert GENESIS == b"\0" * 32
    assert chain_hash(7, GENESIS, body) == expected
    assert chain_hash(8, GENESIS, body) != expected
    assert chain_hash(7, b"\1" * 32, body) != expected
    assert chain_hash(7, GENESIS, body + b" ") != expected


def test_checkpoint_payload_is_canonical() -> None:
    """A checkpoint signs ``{"head","seq","ts","v"}`` as canonical JSON, with no floats."""
    payload = checkpoint_payload(12, b"\xab" * 32, 1_767_225_600_000_000)
    assert payload == (b'{"head":"' + b"ab" * 32 + b'","seq":12,"ts":1767225600000000,"v":1}')
