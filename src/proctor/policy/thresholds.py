"""Numbers a policy set only compares with constants: outcomes keyed on the comparisons' results.

A replay decides thousands of payments whose amounts and running sums all differ; keyed on the
exact values, each is a Cedar evaluation of its own. When every policy of a set reads a number
(``context.args.<name>``, ``context.history.<name>``) only as ``x < 20`` (``<=``, ``>``, ``>=``,
``==``, ``!=`` with a Long literal) or ``x.lessThan(decimal("1000.0"))`` (``lessThanOrEqual``,
``greaterThan``, ``greaterThanOrEqual`` with a decimal literal, either side), two values of the
same type that compare alike with every one of those constants make every policy evaluate alike:
the same conditions hold, the same policies apply, no comparison of same-typed values can fail.
Such a value is keyed by its type and the signs of its comparisons (:func:`abstract`); any other
use of the field anywhere in the set (a method, ``contains``, arithmetic, the record itself, a
constant of the other type) keeps it exact. The analysis reads every policy of the set (shadow
ones included), so it holds for whichever subset a request is evaluated with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["Thresholds", "abstract", "thresholds"]

#: (key, field) -> (``long`` | ``decimal``, the constants it is compared with, sorted)
Thresholds = Mapping[tuple[str, str], tuple[str, tuple[Any, ...]]]

#: the context records whose fields may be abstracted
_KEYS = ("args", "history")
#: a decimal literal Cedar accepts (at most 4 fractional digits), 14 integer digits at most: inside
#: the range of Cedar's decimal (an i64 of ten-thousandths) whatever the digits
_DEC_TEXT = re.compile(r"-?[0-9]{1,14}\.[0-9]{1,4}")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_CMP_LONG = frozenset({"<", "<=", ">", ">=", "==", "!="})
_CMP_DEC = frozenset({"lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"})
_CONTEXT = {"Var": "context"}
_ALL = ("*", "*")


def _record(node: Any) -> str | None:
    """``K`` when ``node`` is ``context.K`` for an abstractable K."""
    if isinstance(node, dict) and len(node) == 1:
        arg = node.get(".")
        if isinstance(arg, dict) and arg.get("left") == _CONTEXT and arg.get("attr") in _KEYS:
            return str(arg["attr"])
    return None


def _field(node: Any) -> tuple[str, str] | None:
    """``(K, X)`` when ``node`` is ``context.K.X``."""
    if isinstance(node, dict) and len(node) == 1:
        arg = node.get(".")
        if isinstance(arg, dict):
            key = _record(arg.get("left"))
            if key is not None and isinstance(arg.get("attr"), str):
                return key, arg["attr"]
    return None


def _long(node: Any) -> int | None:
    if isinstance(node, dict) and len(node) == 1 and "Value" in node:
        v = node["Value"]
        if type(v) is int and _LONG_MIN <= v <= _LONG_MAX:
            return v
    return None


def _decimal(node: Any) -> Decimal | None:
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("decimal"), list):
        args = node["decimal"]
        if len(args) == 1 and isinstance(args[0], dict) and len(args[0]) == 1:
            text = args[0].get("Value")
            if isinstance(text, str) and _DEC_TEXT.fullmatch(text):
                return Decimal(text)
    return None


def _walk(node: Any, consts: dict[tuple[str, str], set[tuple[str, Any]]], bad: set[tuple[str, str]]) -> None:
    if isinstance(node, list):
        for v in node:
            _walk(v, consts, bad)
        return
    if not isinstance(node, dict):
        return
    if node == _CONTEXT:  # the whole context as a value
        bad.add(_ALL)
        return
    got = _field(node)
    if got is not None:  # a field anywhere but in a comparison with a constant
        bad.add(got)
        return
    key = _record(node)
    if key is not None:  # the record itself (``context.history`` as a value)
        bad.add((key, "*"))
        return
    if len(node) == 1:
        ((op, arg),) = node.items()
        if op in (".", "has") and isinstance(arg, dict) and arg.get("left") == _CONTEXT:
            return  # another context attribute (``context.provenance``), or a presence test
        if op == "has" and isinstance(arg, dict) and _record(arg.get("left")) is not None:
            return  # presence only: an abstracted value keeps its field present
        if op in _CMP_LONG and isinstance(arg, dict) and len(arg) == 2:
            left, right = arg.get("left"), arg.get("right")
            for f, c in ((_field(left), _long(right)), (_field(right), _long(left))):
                if f is not None and c is not None:
                    consts.setdefault(f, set()).add(("long", c))
                    return
        if op in _CMP_DEC and isinstance(arg, list) and len(arg) == 2:
            for f, d in ((_field(arg[0]), _decimal(arg[1])), (_field(arg[1]), _decimal(arg[0]))):
                if f is not None and d is not None:
                    consts.setdefault(f, set()).add(("decimal", d))
                    return
    for v in node.values():
        _walk(v, consts, bad)


def thresholds(bodies: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, tuple[Any, ...]]]:
    """The fields of ``context.args`` and ``context.history`` every policy of ``bodies`` (JSON
    bodies, as ``PolicySet.bodies``) compares only with constants of one type, with those
    constants. A field not in the answer is keyed on its exact value."""
    consts: dict[tuple[str, str], set[tuple[str, Any]]] = {}
    bad: set[tuple[str, str]] = set()
    for body in bodies.values():
        # the scope too: a policy could name the context only in its conditions, but stay exact
        _walk(body, consts, bad)
    if _ALL in bad:
        return {}
    out: dict[tuple[str, str], tuple[str, tuple[Any, ...]]] = {}
    for f, cs in consts.items():
        if f in bad or (f[0], "*") in bad:
            continue
        kinds = {k for k, _ in cs}
        if len(kinds) != 1:  # compared with a Long and with a decimal: one of them fails, stay exact
            continue
        out[f] = (kinds.pop(), tuple(sorted(c for _, c in cs)))
    return out


def abstract(value: Any, spec: tuple[str, tuple[Any, ...]] | None) -> Any:
    """What an outcome is keyed on for ``value`` (a Cedar JSON value) of a field compared as
    ``spec`` says: the signs of its comparisons with the constants when it has their type and is a
    value Cedar reads, else the value itself (``("=", value)``, hashable)."""
    if spec is not None:
        kind, consts = spec
        if kind == "long" and type(value) is int and _LONG_MIN <= value <= _LONG_MAX:
            return ("long", tuple((value > c) - (value < c) for c in consts))
        if kind == "decimal" and isinstance(value, dict) and len(value) == 1:
            ext = value.get("__extn")
            if isinstance(ext, dict) and ext.get("fn") == "decimal" and len(ext) == 2:
                text = ext.get("arg")
                if isinstance(text, str) and _DEC_TEXT.fullmatch(text):
                    d = Decimal(text)
                    return ("decimal", tuple((d > c) - (d < c) for c in consts))
    return ("=", _exact(value))


def _exact(value: Any) -> Any:
    """A hashable, type-preserving form of a Cedar JSON value (``True`` and ``1`` stay apart)."""
    if isinstance(value, dict):
        return ("{", tuple((k, _exact(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_exact(v) for v in value))
    return (type(value).__name__, value)
