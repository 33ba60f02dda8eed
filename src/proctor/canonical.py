"""Canonical JSON (RFC 8785, JCS): the exact bytes an audit record is hashed and signed as.

``rfc8785`` is the reference implementation, but it is pure Python. Most records hold no floats and
only ASCII keys; for those the C ``json`` encoder already emits the JCS bytes (same escaping, same
integer form, and code-point key order equals UTF-16 key order for ASCII), so they take that path.
Floats (JCS has its own number format) and non-ASCII keys (UTF-16 order differs from code-point
order outside the BMP) go through ``rfc8785``. ``tests/unit/test_canonical.py`` checks the two
paths agree byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import rfc8785

from proctor.errors import ValidationError

#: JCS integers must be exact in an IEEE 754 double.
MAX_SAFE_INT = 2**53 - 1


def _unsupported(obj: Any) -> Any:
    raise TypeError(f"cannot encode `{type(obj).__name__}`")


def _c_encoder() -> Callable[[Any], str] | None:
    """The C encoder ``json.dumps`` uses, built once instead of on every call (twice as fast).

    No circular-reference markers: :func:`_plain` has already walked the whole value.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the accelerator
        return None
    try:
        enc = make(None, _unsupported, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    except TypeError:  # pragma: no cover - a Python whose C encoder takes other arguments
        return None

    def dumps(obj: Any) -> str:
        return "".join(enc(obj, 0))

    return dumps


_dumps: Callable[[Any], str] = (
    _c_encoder()
    or json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
)


def _plain(obj: Any) -> bool:
    """True when ``json.dumps`` emits JCS bytes for ``obj``; False when it needs ``rfc8785``.

    Raises :class:`ValidationError` for what JSON cannot hold: non-string keys, unsafe integers and
    unsupported types. Returns at the first float or non-ASCII key: ``rfc8785`` checks the rest.
    Scalars inside containers are checked inline: this runs for every audit record.
    """
    t = type(obj)
    if t is dict:
        for k, v in obj.items():
            if type(k) is not str and not isinstance(k, str):
                raise ValidationError(f"object keys must be strings, not `{type(k).__name__}`")
            if not k.isascii():
                return False
            tv = type(v)
            if tv is str or tv is bool or v is None:
                continue
            if tv is int and -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                continue
            if not _plain(v):
                return False
        return True
    if t is list or t is tuple:
        for v in obj:
            tv = type(v)
            if tv is str or tv is bool or v is None:
                continue
            if tv is int and -MAX_SAFE_INT <= v <= MAX_SAFE_INT:
                continue
            if not _plain(v):
                return False
        return True
    if t is str or t is bool or obj is None:
        return True
    if t is int:
        if -MAX_SAFE_INT <= obj <= MAX_SAFE_INT:
            return True
        raise ValidationError(f"integer `{obj}` is outside the JSON safe range ±(2**53-1)")
    # subclasses: value types and enums (str, int), dict and list subclasses
    if isinstance(obj, str):
        return True
    if isinstance(obj, int):
        return _plain(int(obj))
    if isinstance(obj, dict):
        return _plain(dict(obj))
    if isinstance(obj, list | tuple):
        return _plain(list(obj))
    if isinstance(obj, float):
        return False
    raise ValidationError(f"cannot put a `{type(obj).__name__}` in canonical JSON")


def _fast(obj: Any) -> bytes:
    """The fast path, valid only when :func:`_plain` said so: orjson (sorted keys, compact, UTF-8)
    emits the same bytes as RFC 8785 for values without floats or non-ASCII keys, which the
    differential tests against ``rfc8785`` check; the standard library's encoder is the fallback."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a type orjson does not take (never for values _plain accepted, but safe)
        return _dumps(obj).encode()


def canonical_json(obj: Any) -> bytes:
    """``obj`` as RFC 8785 canonical JSON bytes.

    >>> canonical_json({"b": [1, "é"], "a": None})
    b'{"a":null,"b":[1,"\\xc3\\xa9"]}'
    >>> canonical_json({"x": 1.0, "y": 1e21})
    b'{"x":1,"y":1e+21}'

    Raises :class:`ValidationError` for NaN and infinities, non-string keys, integers beyond
    ±(2**53-1), lone surrogates and types JSON has no form for.
    """
    try:
        if _plain(obj):
            return _fast(obj)
        return bytes(rfc8785.dumps(obj))
    except RecursionError:
        raise ValidationError("value is nested too deeply (or contains itself)") from None
    except UnicodeEncodeError:
        raise ValidationError("string contains a lone surrogate: not valid UTF-8") from None
    except rfc8785.CanonicalizationError as exc:
        raise ValidationError(f"cannot canonicalise value: {exc}") from None
    except ValueError as exc:  # json's allow_nan=False, should a float reach it
        raise ValidationError(f"cannot canonicalise value: {exc}") from None


__all__ = ["MAX_SAFE_INT", "canonical_json"]
