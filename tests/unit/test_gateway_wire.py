"""The gateway's fast JSON agrees with the standard library on every message it takes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.gateway import wire

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_loads_gives_what_json_gives(value: Any) -> None:
    raw = json.dumps(value).encode()
    assert wire.loads(raw) == json.loads(raw)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_round_trips(value: Any) -> None:
    assert json.loads(wire.dumps(value)) == value


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": 123456789012345678901234567890}',  # beyond 64 bits: must stay an exact int
        b'{"id": -98765432109876543210}',
        b'{"x": NaN, "y": Infinity}',  # literals json takes and orjson refuses
        b'"\\ud800"',  # a lone surrogate
    ],
)
def test_loads_takes_what_json_takes_and_keeps_big_integers_exact(raw: bytes) -> None:
    got = wire.loads(raw)
    want = json.loads(raw)
    assert json.dumps(got) == json.dumps(want)


def test_loads_refuses_what_is_not_json() -> None:
    for raw in (b"", b"{", b'{"a":}', b"\xff\xfe"):
        with pytest.raises(ValueError, match=r"\w"):  # json.JSONDecodeError or UnicodeDecodeError
            wire.loads(raw)


def test_dumps_takes_big_integers_and_refuses_what_json_cannot_hold() -> None:
    assert wire.dumps({"n": 2**70}) == b'{"n":1180591620717411303424}'
    with pytest.raises(TypeError):
        wire.dumps({"x": object()})


any_text = st.text(st.characters(exclude_categories=()), max_size=8)  # lone surrogates included
values_with_surrogates = st.recursive(
    st.none() | st.integers() | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(values_with_surrogates)
def test_whatever_loads_accepts_dumps_writes_back(value: Any) -> None:
    """A ``\\ud800`` escape parses to a lone surrogate; writing it back must not raise (the answer
    carrying it used to become a 500) and must read back as the same value."""
    raw = json.dumps(value).encode()  # what a peer sends: surrogates as escapes
    parsed = wire.loads(raw)
    assert wire.loads(wire.dumps(parsed)) == parsed == value


def test_nesting_beyond_the_parsers_is_refused_as_not_json() -> None:
    """orjson stops at 1024 levels and hands over to the standard library, whose recursion limit
    must surface as the documented ValueError (it escaped as RecursionError: an HTTP 500)."""
    with pytest.raises(ValueError, match="nested too deeply"):
        wire.loads(b"[" * 100_000 + b"]" * 100_000)
    assert wire.loads(b"[" * 1000 + b"]" * 1000) is not None  # deep but within the parsers: parsed
