"""JSON on the gateway's hot path: orjson where it gives the same answer, the standard library
where orjson refuses.

orjson is several times faster than ``json`` for the messages a ``tools/call`` parses and writes.
It refuses a few things ``json`` takes (``NaN``/``Infinity`` literals, lone surrogates, non-string
keys), and for those the standard library is used, so no message that worked before is refused.
One thing it would get *wrong*: it reads an integer outside 64 bits (above 2**64 - 1, or below
-2**63) as a float, which would change an argument on its way upstream. A message with a run of 20
or more digits, or a minus sign and 19 digits (where such an integer could hide), is therefore
parsed by the standard library, which keeps integers exact.

Only UTF-8 is JSON here, as for the MCP SDK's parser: the standard library would otherwise guess
UTF-16 or UTF-32 from a body's first bytes and skip a UTF-8 byte-order mark, so a message the SDK
refuses would be read.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(rb"-[0-9]{19}|[0-9]{20}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(raw: bytes) -> Any:
    """Parse JSON; raises ``ValueError`` for what is not JSON, or is nested beyond what the
    standard library's parser can follow (orjson stops at 1024 levels and hands over to it).
    ``raw`` must be UTF-8 without a byte-order mark (``UnicodeDecodeError`` is a ``ValueError``)."""
    try:
        if _LONG_DIGITS.search(raw):
            return json.loads(raw.decode("utf-8"))
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            # decoded here, not by json.loads, which would take UTF-16/32 and a BOM
            return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def surrogate_escape(raw: bytes) -> bool:
    """Does ``raw`` hold a surrogate escape (``\\ud800``..``\\udfff``) at all? A regex scan."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def lone_surrogate(raw: bytes, value: Any) -> bool:
    """Does ``value``, parsed from ``raw``, hold a lone surrogate (a ``\\ud800`` escape with no
    partner)? Such text cannot be UTF-8: the MCP SDK drops the message without an answer (stdio) or
    with its parser's text (HTTP), so the gateway refuses it first. Costs a regex scan unless
    ``raw`` has a surrogate escape at all."""
    if not _SURROGATE_ESCAPE.search(raw):
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except (TypeError, ValueError, RecursionError):
        return False
    return False


def echoable_id(mid: Any) -> bool:
    """A JSON-RPC id an error answer can echo back: an integer, or a string that is valid Unicode."""
    if isinstance(mid, bool):
        return False
    if isinstance(mid, int):
        return True
    return isinstance(mid, str) and not _has_surrogate(mid)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; raises ``TypeError`` for what JSON cannot hold.

    A lone surrogate (which :func:`loads` accepts from a ``\\ud800`` escape) is written back as
    that escape: UTF-8 has no form for it, and the message is passed on as it came.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        try:
            return text.encode()
        except UnicodeEncodeError:
            return json.dumps(value, separators=(",", ":")).encode()


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Is ``value`` nested (objects and arrays) more than ``limit`` levels deep? Iterative."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
    return False


# What a client is told when the MCP SDK refused a message it could not parse or validate. The
# SDK's own text (``Parse error: <parser message and position>``, ``Validation error: <pydantic's
# report, with model names, the input echoed and a documentation URL>``) goes to the log instead.
#: -32700, a body that is not UTF-8 JSON (the same text the SDK sends on 2026-07-28)
PARSE_ERROR_MESSAGE = "Parse error"
#: -32602 (the SDK's code for it), JSON that is not one JSON-RPC 2.0 message
INVALID_MESSAGE = "Invalid request: the body is not a valid JSON-RPC 2.0 message"
#: the JSON-RPC codes under which the SDK reports a parser or validator failure
SDK_REFUSAL_CODES = frozenset({-32700, -32600, -32602})
_SDK_DETAIL = (("Parse error", PARSE_ERROR_MESSAGE), ("Validation error", INVALID_MESSAGE))
_SDK_DETAIL_MARKS = (b'"Parse error', b'"Validation error')


def public_error(error: Any) -> tuple[str, str] | None:
    """For a JSON-RPC error object the SDK made from its parser's or validator's text: the fixed
    message that replaces it, and that text (for the log). None for any other error, Proctor's
    own messages included (none of them starts with these prefixes)."""
    if not isinstance(error, dict):
        return None
    code, message = error.get("code"), error.get("message")
    if code not in SDK_REFUSAL_CODES or not isinstance(message, str):
        return None
    for prefix, fixed in _SDK_DETAIL:
        if message.startswith(prefix) and message != fixed:
            return fixed, message
    return None


def public_error_body(body: bytes) -> tuple[bytes, str] | None:
    """A JSON-RPC error response (bytes) with the SDK's parser or validator text replaced by the
    fixed message, and that text; None when there is nothing to replace (the common case costs a
    substring search)."""
    if not any(mark in body for mark in _SDK_DETAIL_MARKS):
        return None
    try:
        msg = loads(body)
    except ValueError:
        return None
    if not isinstance(msg, dict):
        return None
    found = public_error(msg.get("error"))
    if found is None:
        return None
    fixed, detail = found
    error = dict(msg["error"])
    error["message"] = fixed
    error.pop("data", None)
    return dumps({**msg, "error": error}), detail


__all__ = [
    "INVALID_MESSAGE",
    "PARSE_ERROR_MESSAGE",
    "dumps",
    "echoable_id",
    "loads",
    "lone_surrogate",
    "nested_deeper_than",
    "public_error",
    "public_error_body",
    "surrogate_escape",
]
