"""A tool's JSON Schema as the Cedar type of ``context.args``, and its arguments as Cedar values.

``string`` → ``String``, ``integer`` → ``Long``, ``number`` → ``decimal`` (Cedar's fixed point, 4
fractional digits), ``boolean`` → ``Bool``, ``array`` → ``Set<item>``, ``object`` → a record. A
property not in ``required`` is optional (a policy needs ``has`` to read it: the validator says so).
A property whose type Cedar cannot express (no ``type``, ``anyOf``, several types, ``null``) is
left out: a policy reading it fails validation ("no attribute"), and its value never reaches Cedar.

Arguments are converted with their types checked: a value that does not match is a
:class:`~proctor.errors.ValidationError` naming the argument, which the engine turns into a deny
(never a Cedar evaluation error that silently skips a ``forbid``). Arguments the schema does not
declare are not passed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from proctor.errors import ValidationError
from proctor.flow.model import decimal_cedar
from proctor.store.base import ToolRecord

__all__ = [
    "MAX_DEPTH",
    "MAX_PROPERTIES",
    "ArgType",
    "cedar_args",
    "cedar_type_text",
    "parse_input_schema",
    "quote_name",
]

#: how deep objects and arrays nest in a typed ``args`` (deeper properties are left out)
MAX_DEPTH = 6
#: how many properties one tool's ``args`` types, all levels together (the rest are left out)
MAX_PROPERTIES = 256
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
#: Cedar's decimal is an i64 of ten-thousandths
_DEC_MAX = Decimal(_I64_MAX).scaleb(-4)
_DEC_MIN = Decimal(_I64_MIN).scaleb(-4)
_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ArgType:
    """One Cedar type: ``String``, ``Long``, ``decimal``, ``Bool``, ``Set`` (of ``item``) or
    ``Record`` (``fields``: name, type, required)."""

    kind: str
    item: ArgType | None = None
    fields: tuple[tuple[str, ArgType, bool], ...] = ()


_SCALARS = {"string": "String", "integer": "Long", "number": "decimal", "boolean": "Bool"}


def _convert(node: Any, depth: int, budget: list[int]) -> ArgType | None:
    if not isinstance(node, Mapping):
        return None
    t = node.get("type")
    if isinstance(t, list) and len(t) == 1:
        t = t[0]
    if not isinstance(t, str):
        return None  # no type, several types, anyOf/oneOf: not expressible
    if t in _SCALARS:
        return ArgType(_SCALARS[t])
    if depth >= MAX_DEPTH:
        return None
    if t == "array":
        item = _convert(node.get("items"), depth + 1, budget)
        return None if item is None else ArgType("Set", item=item)
    if t == "object":
        props = node.get("properties")
        req = node.get("required")
        required = {r for r in req if isinstance(r, str)} if isinstance(req, list) else set()
        fields: list[tuple[str, ArgType, bool]] = []
        if isinstance(props, Mapping):
            for name in sorted(p for p in props if isinstance(p, str)):
                if not _nameable(name) or budget[0] <= 0:
                    continue
                sub = _convert(props[name], depth + 1, budget)
                if sub is None:
                    continue
                budget[0] -= 1
                fields.append((name, sub, name in required))
        return ArgType("Record", fields=tuple(fields))
    return None


def _nameable(name: str) -> bool:
    return 0 < len(name) <= 200 and all(ch >= " " and ch != "\x7f" for ch in name)


@lru_cache(maxsize=4096)
def parse_input_schema(text: str | None) -> ArgType:
    """The record type of ``context.args`` for a tool's input schema (canonical JSON text); an
    empty record when the tool has none or it is not an object schema."""
    if not text:
        return ArgType("Record")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return ArgType("Record")
    typed = _convert(doc, 0, [MAX_PROPERTIES])
    if typed is None or typed.kind != "Record":
        return ArgType("Record")
    return typed


def quote_name(name: str) -> str:
    """A record attribute name as a Cedar schema string literal (always quoted: any name works)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cedar_type_text(t: ArgType) -> str:
    """The Cedar schema text of a type (records on one line)."""
    if t.kind == "Set":
        assert t.item is not None
        return f"Set<{cedar_type_text(t.item)}>"
    if t.kind == "Record":
        inner = ", ".join(
            f"{quote_name(n)}{'' if req else '?'}: {cedar_type_text(s)}" for n, s, req in t.fields
        )
        return "{" + inner + "}"
    return t.kind


def _value(t: ArgType, v: Any, path: str) -> Any:
    k = t.kind
    if k == "String":
        if isinstance(v, str):
            return v
        raise ValidationError(f"argument `{path}` must be a string")
    if k == "Bool":
        if isinstance(v, bool):
            return v
        raise ValidationError(f"argument `{path}` must be true or false")
    if k == "Long":
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, int) and not isinstance(v, bool):
            if _I64_MIN <= v <= _I64_MAX:
                return v
            raise ValidationError(f"argument `{path}` is out of the range of a 64-bit integer")
        raise ValidationError(f"argument `{path}` must be an integer")
    if k == "decimal":
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            raise ValidationError(f"argument `{path}` must be a number")
        try:
            d = v if isinstance(v, Decimal) else Decimal(v) if isinstance(v, int) else Decimal(repr(v))
        except InvalidOperation:
            raise ValidationError(f"argument `{path}` must be a number") from None
        if not d.is_finite():
            raise ValidationError(f"argument `{path}` must be a finite number")
        if not _DEC_MIN <= d <= _DEC_MAX:
            raise ValidationError(f"argument `{path}` is out of the range of a policy decimal")
        if d != d.quantize(_QUANTUM):
            raise ValidationError(
                f"argument `{path}` has more than 4 decimal places, more than a policy decimal holds"
            )
        return decimal_cedar(d)
    if k == "Set":
        if not isinstance(v, list | tuple):
            raise ValidationError(f"argument `{path}` must be a list")
        assert t.item is not None
        return [_value(t.item, x, f"{path}[]") for x in v]
    if not isinstance(v, Mapping):
        raise ValidationError(f"argument `{path}` must be an object")
    return _record(t, v, path + ".")


def _record(t: ArgType, v: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, sub, required in t.fields:
        x = v.get(name)
        if x is None:
            if required:
                raise ValidationError(f"argument `{prefix}{name}` is required by the tool's input schema")
            continue
        out[name] = _value(sub, x, prefix + name)
    return out


def cedar_args(tool: ToolRecord, args: Mapping[str, Any]) -> dict[str, Any]:
    """``context.args`` for a call of ``tool``: the arguments its input schema declares, as Cedar
    JSON values. Raises :class:`ValidationError` naming the argument on a type mismatch."""
    return _record(parse_input_schema(tool.input_schema), args, "")
