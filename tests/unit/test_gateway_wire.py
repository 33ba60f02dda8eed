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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_only_utf8_is_json_as_for_the_sdks_parser(encoding: str) -> None:
    """`json.loads(bytes)` guesses UTF-16/32 and skips a BOM; the SDK's parser takes UTF-8 only,
    and so does `loads` (its standard-library fallback included)."""
    for text in ('{"a": 1}', '{"a": NaN}', '{"n": 123456789012345678901234}'):
        with pytest.raises(ValueError, match=r"."):
            wire.loads(text.encode(encoding))
    with pytest.raises(UnicodeDecodeError):
        wire.loads(b'{"a": "\xff"}')


def test_integers_below_64_bits_stay_exact() -> None:
    """orjson reads an integer below -2**63 as a float."""
    for n in (-(2**63) - 1, -9_999_999_999_999_999_999, -(2**63)):
        assert wire.loads(b'{"n": %d}' % n) == {"n": n}
        assert type(wire.loads(b"%d" % n)) is int


def test_nesting_depth() -> None:
    assert not wire.nested_deeper_than({"a": [1, {"b": 2}]}, 3)
    assert wire.nested_deeper_than({"a": [1, {"b": []}]}, 3)
    deep: Any = 1
    for _ in range(500):
        deep = [deep]
    assert wire.nested_deeper_than(deep, 190)
    assert not wire.nested_deeper_than(deep, 500)


def test_the_sdks_parser_and_validator_text_is_replaced_and_nothing_else() -> None:
    parse = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "Parse error: EOF at line 1 column 9"},
    }
    invalid = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32602,
            "message": "Validation error: 4 validation errors for union[...] input_value='s3cret'",
        },
    }
    found = wire.public_error_body(wire.dumps(parse))
    assert found is not None
    assert json.loads(found[0]) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "Parse error"},
    }
    assert found[1] == "Parse error: EOF at line 1 column 9"
    found = wire.public_error_body(wire.dumps(invalid))
    assert found is not None
    assert json.loads(found[0])["error"] == {"code": -32602, "message": wire.INVALID_MESSAGE}
    assert b"s3cret" not in found[0]
    for kept in (
        {"code": -32602, "message": "unknown tool `fx.nope`"},
        {"code": -32700, "message": "Parse error"},  # already the fixed text
        {"code": -32603, "message": "Parse error: not one of the codes"},
        {"code": -32600, "message": "Session not found"},
        {"code": "invalid_request", "message": "a header is repeated"},
    ):
        assert wire.public_error(kept) is None
        assert wire.public_error_body(wire.dumps({"jsonrpc": "2.0", "id": 1, "error": kept})) is None
    assert wire.public_error_body(b"Invalid Content-Type header") is None


def test_the_stdio_write_stream_sends_the_fixed_messages() -> None:
    import anyio
    from mcp.shared.message import SessionMessage
    from mcp_types import ErrorData, JSONRPCError, JSONRPCResponse

    from proctor.gateway.stdio import PublicErrors

    async def main() -> list[Any]:
        send, receive = anyio.create_memory_object_stream[SessionMessage](10)
        out = PublicErrors(send)
        async with out:
            for error in (
                ErrorData(code=-32602, message="Validation error: 1 validation error for X input_value='k'"),
                ErrorData(code=-32602, message="unknown tool `x`"),
            ):
                await out.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=3, error=error)))
            await out.send(SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=4, result={})))
        return [m.message async for m in receive]

    first, second, third = anyio.run(main)
    assert (first.id, first.error.code, first.error.message) == (3, -32602, wire.INVALID_MESSAGE)
    assert second.error.message == "unknown tool `x`"
    assert third.result == {}
