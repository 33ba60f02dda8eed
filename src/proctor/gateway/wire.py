"""JSON on the gateway's hot path: orjson where it gives the same answer, the standard library
where orjson refuses.

orjson is several times faster than ``json`` for the messages a ``tools/call`` parses and writes.
It refuses a few things ``json`` takes (``NaN``/``Infinity`` literals, lone surrogates, non-string
keys), and for those the standard library is used, so no message that worked before is refused.
One thing it would get *wrong*: it reads an integer beyond 64 bits as a float, which would change
an argument on its way upstream. A message with a run of 20 or more digits (where such an integer
could hide) is therefore parsed by the standard library, which keeps integers exact.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(rb"[0-9]{20}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads(raw: bytes) -> Any:
    """Parse JSON; raises ``ValueError`` for what is not JSON, or is nested beyond what the
    standard library's parser can follow (orjson stops at 1024 levels and hands over to it)."""
    try:
        if _LONG_DIGITS.search(raw):
            return json.loads(raw)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return json.loads(raw)
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


__all__ = ["dumps", "echoable_id", "loads", "lone_surrogate", "surrogate_escape"]
