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
from collections.abc import Callable, Mapping
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


def _fail(path: str, what: str) -> ValidationError:
    return ValidationError(f"argument `{path}` {what}")


def _dec_arg(v: Any, path: str) -> str:
    """A number as the text of a Cedar decimal, or a ValidationError naming the argument."""
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise _fail(path, "must be a number")
    if isinstance(v, int):
        if not _DEC_MIN <= v <= _DEC_MAX:
            raise _fail(path, "is out of the range of a policy decimal")
        return f"{v}.0"
    if isinstance(v, float):
        r = repr(v)
        if "e" not in r and "n" not in r:  # plain digits: no exponent, not nan/inf
            frac = r.partition(".")[2]
            if len(frac) > 4:
                raise _fail(path, "has more than 4 decimal places, more than a policy decimal holds")
            if not _DEC_MIN <= v <= _DEC_MAX:
                raise _fail(path, "is out of the range of a policy decimal")
            return r
        try:
            v = Decimal(r)
        except InvalidOperation:
            raise _fail(path, "must be a number") from None
    if not v.is_finite():
        raise _fail(path, "must be a finite number")
    if not _DEC_MIN <= v <= _DEC_MAX:
        raise _fail(path, "is out of the range of a policy decimal")
    if v != v.quantize(_QUANTUM):
        raise _fail(path, "has more than 4 decimal places, more than a policy decimal holds")
    return str(decimal_cedar(v)["__extn"]["arg"])


Conv = Callable[[Any], Any]


def _conv(t: ArgType, path: str) -> Conv:
    """A converter for values of type ``t`` at ``path`` (built once per input schema)."""
    k = t.kind
    if k == "String":

        def string(v: Any) -> Any:
            if isinstance(v, str):
                return v
            raise _fail(path, "must be a string")

        return string
    if k == "Bool":

        def boolean(v: Any) -> Any:
            if isinstance(v, bool):
                return v
            raise _fail(path, "must be true or false")

        return boolean
    if k == "Long":

        def long(v: Any) -> Any:
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, int) and not isinstance(v, bool):
                if _I64_MIN <= v <= _I64_MAX:
                    return v
                raise _fail(path, "is out of the range of a 64-bit integer")
            raise _fail(path, "must be an integer")

        return long
    if k == "decimal":

        def dec(v: Any) -> Any:
            return {"__extn": {"fn": "decimal", "arg": _dec_arg(v, path)}}

        return dec
    if k == "Set":
        assert t.item is not None
        item = _conv(t.item, f"{path}[]")

        def many(v: Any) -> Any:
            if not isinstance(v, list | tuple):
                raise _fail(path, "must be a list")
            return [item(x) for x in v]

        return many
    return _record_conv(t, path + "." if path else "")


def _record_conv(t: ArgType, prefix: str) -> Conv:
    fields = tuple((name, _conv(sub, prefix + name), required) for name, sub, required in t.fields)
    where = prefix[:-1]

    def record(v: Any) -> Any:
        if not isinstance(v, Mapping):
            raise _fail(where, "must be an object")
        out: dict[str, Any] = {}
        get = v.get
        for name, conv, required in fields:
            x = get(name)
            if x is None:
                if required:
                    raise _fail(prefix + name, "is required by the tool's input schema")
                continue
            out[name] = conv(x)
        return out

    return record


@lru_cache(maxsize=4096)
def _converter(text: str | None, only: frozenset[str] | None) -> Conv:
    t = parse_input_schema(text)
    if only is None:
        return _record_conv(t, "")
    t = ArgType("Record", fields=tuple(f for f in t.fields if f[0] in only))
    conv = _record_conv(t, "")
    # a policy reads these (guarded by `has`), the schema does not type them: a call that sends
    # one is a deny, or the policy would be silently skipped (`has` false) while the tool gets it
    untyped = tuple(sorted(only - {f[0] for f in t.fields}))
    if not untyped:
        return conv

    def checked(v: Any) -> Any:
        if isinstance(v, Mapping):
            for name in untyped:
                if v.get(name) is not None:
                    raise _fail(
                        name,
                        "is read by a policy but the tool's input schema does not type it (no"
                        " schema, not declared, or a type a policy cannot read), so its value cannot"
                        " be judged",
                    )
        return conv(v)

    return checked


def cedar_args(
    tool: ToolRecord, args: Mapping[str, Any], only: frozenset[str] | None = None
) -> dict[str, Any]:
    """``context.args`` for a call of ``tool``: the arguments its input schema declares (those in
    ``only``, when given: the ones its policies read), as Cedar JSON values. Raises
    :class:`ValidationError` naming the argument on a type mismatch."""
    return _converter(tool.input_schema, only)(args)  # type: ignore[no-any-return]
