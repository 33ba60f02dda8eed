"""Declared counters over a task's or an agent's history (issue 15, ADR 0025 §4).

A policy directory may hold ``counters.yaml``::

    counters:
      spend_today:                # context.history.spend_today
        kind: sum                 # count | sum | seen | first_time
        arg: amount               # sum, first_time: the argument path read from each matching call
        match: {effects: [pay], tools: ["billing.*"]}   # either or both; glob on tool names
        scope: agent              # task (default) | agent
        window: 1d                # s/m/h/d; omitted: the task's life (scope task) or ever (agent)
        currency: {arg: currency, unit: EUR}   # sum: the argument naming the currency, the unit
          # optional: rates: {GBP: 1.25, USD: 1.0}  # at most this many units for one of each

Values include the call being decided (see :func:`evaluate`; :class:`Tally` gives the same values
from running aggregates, which the Flow service keeps per task and agent). Only calls that were allowed and
forwarded are recorded (:func:`event_for`, by the caller after forwarding). Values of
``first_time`` counters are kept as keyed fingerprints (HMAC-SHA256 with the workspace's key),
never in clear.

Choices made here (documented in ADR 0025):

- a ``sum`` argument written as text is read as an amount (``"1,500.00"``, ``"$1500"``); an
  ambiguous one (``"1,500"``) counts as its largest reading; a value that is not a number (text
  that is no amount, a boolean, a list or an object where the path names a scalar:
  ``amount: [50000]``, ``amount: {"value": 50000}``) or one with more than 100 digits either side
  of the point makes :func:`evaluate` raise (the decision fails closed); a missing one (or
  ``null``) makes the amount unknown: the sum is absent for the call, and the event recorded if it
  is allowed all the same (a person approved it) holds :data:`UNKNOWN`, so the sum stays absent
  while that event is in its window (sums are exact: no rounding);
- a ``sum`` with ``currency`` adds only amounts in its unit: a call whose currency argument names
  another (case-insensitive code; ``€`` is EUR, ``£`` GBP, ``$`` and ``¥`` name several and are
  never a unit), or whose amount text does (``"4900 BTC"``), has an unknown amount as above. A
  call without the currency argument is in the unit when the tool's schema declares no such
  argument (the tool knows one currency); when the schema declares it, the tool's default applies,
  which the counter cannot know: unknown;
- ``currency.rates`` lists other currencies a ``sum`` converts into its unit, each with a ceiling:
  the most one of that currency is worth in the unit (``GBP: 1.25`` counts £1,000 as €1,250). A
  call in a listed currency adds its amount times the rate (exact: no rounding); one in a currency
  not listed is unknown as above. The rate is a bound a person sets above the market rate, never a
  quote: a limit in the unit is then never exceeded by paying in another currency;
- a ``sum`` adds magnitudes: ``-1000000`` adds 1,000,000 (a negative payment never lowers a
  spend limit, and a limit bounds how much moves either way);
- an argument path may name list elements (``to[]``): a ``sum`` adds them all; ``first_time`` is
  true when any element is new;
- ``first_time`` is false for a call the counter does not match, and true for a matching call
  without the argument (unknown is new);
- an event recorded before a counter existed (no value under its name) counts for ``count`` and
  ``seen``, adds nothing to ``sum`` and holds no ``first_time`` value.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, Inexact, InvalidOperation, Overflow
from pathlib import Path
from typing import Any

import yaml

from proctor.errors import PolicyLoadError, ProctorError, ValidationError
from proctor.flow.provenance import leaf_values, normalise_value, parse_amounts
from proctor.store.base import HistoryEvent, ToolRecord  # HistoryEvent re-exported here

__all__ = [
    "COUNTERS_FILE",
    "KINDS",
    "UNKNOWN",
    "CounterSpec",
    "HistoryEvent",
    "Tally",
    "evaluate",
    "event_for",
    "keyed_fingerprint",
    "load_counters",
    "parse_counters",
]

COUNTERS_FILE = "counters.yaml"
KINDS = ("count", "sum", "seen", "first_time")
SCOPES = ("task", "agent")
#: counters.yaml larger than this is refused
MAX_BYTES = 256 << 10
_MAX_COUNTERS = 256
_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
#: Cedar's reserved identifiers (an attribute named so cannot be written ``context.history.if``)
_RESERVED = frozenset(
    {"true", "false", "if", "then", "else", "in", "like", "has", "is", "permit", "forbid", "when", "unless"}
)


@dataclass(frozen=True, slots=True)
class CounterSpec:
    """One declared counter (see the module docstring)."""

    name: str
    kind: str  # count | sum | seen | first_time
    arg: str | None
    tools: tuple[str, ...]
    effects: tuple[str, ...]
    scope: str = "task"  # task | agent
    window_s: float | None = None
    #: ``sum``: the argument path that carries a call's currency, and the unit the counter's
    #: limits are in (upper case); None: amounts are summed whatever their currency
    currency_arg: str | None = None
    unit: str | None = None
    #: ``sum`` with ``currency``: (code, rate) pairs, sorted: one of ``code`` counts as at most
    #: ``rate`` of ``unit`` (``currency.rates``)
    rates: tuple[tuple[str, Decimal], ...] = ()

    def rate(self, code: str | None) -> Decimal | None:
        """What one of ``code`` counts as in the unit: 1 for the unit, the declared ceiling for
        a listed currency, None for any other (or an unknown currency)."""
        if code is None:
            return None
        if code == self.unit:
            return _ONE
        return next((r for c, r in self.rates if c == code), None)

    def matches(self, tool: str, effect: str) -> bool:
        """The counter counts calls of this tool (glob) and effect; an empty list matches all."""
        if self.effects and effect not in self.effects:
            return False
        return not self.tools or any(fnmatch.fnmatchcase(tool, g) for g in self.tools)


# ---- parsing -------------------------------------------------------------------------------------


def _fail(where: str, message: str) -> PolicyLoadError:
    return PolicyLoadError(f"{where}: {message}", file=where)


def _strings(raw: Any, where: str, what: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise _fail(where, f"{what} must be a list of names")
    return tuple(x.strip() for x in raw)


_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _window(raw: Any, where: str, at: str) -> float:
    """A window as :func:`proctor.config.parse_duration` reads a duration (``90s``, ``15m``,
    ``1d``, bare seconds). Not imported from there: ``proctor.config`` imports the policy
    package, which reads counters.yaml through this module."""
    seconds: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    elif isinstance(raw, str):
        m = _DURATION.fullmatch(raw.strip())
        if m:
            seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds is None:
        raise _fail(
            where, f"{at}: invalid window `{raw}`: use a number and a unit, like `90s`, `15m` or `1d`"
        )
    if seconds <= 0:
        raise _fail(where, f"{at}: invalid window `{raw}`: must be positive")
    return float(seconds)


def _parse_one(name: Any, raw: Any, where: str) -> CounterSpec:
    if (
        not isinstance(name, str)
        or not _IDENT.fullmatch(name)
        or name in _RESERVED
        or name.startswith("__cedar")
    ):
        raise _fail(
            where,
            f"counter name `{name}` is not a Cedar identifier: use letters, digits and `_`, "
            "starting with a letter or `_`",
        )
    at = f"counter `{name}`"
    if not isinstance(raw, Mapping):
        raise _fail(where, f"{at}: expected a mapping with kind, match, and optionally arg, scope, window")
    unknown = sorted(str(k) for k in raw if k not in {"kind", "arg", "currency", "match", "scope", "window"})
    if unknown:
        raise _fail(
            where, f"{at}: unknown key `{unknown[0]}`; allowed: arg, currency, kind, match, scope, window"
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _fail(where, f"{at}: kind must be one of {', '.join(KINDS)}, not `{kind}`")
    arg = raw.get("arg")
    if arg is not None and (not isinstance(arg, str) or not arg.strip()):
        raise _fail(where, f"{at}: arg must be an argument path like `amount` or `to[]`")
    if kind in ("sum", "first_time") and arg is None:
        raise _fail(where, f"{at}: kind {kind} needs `arg` (the argument it reads)")
    if kind in ("count", "seen") and arg is not None:
        raise _fail(where, f"{at}: kind {kind} reads no argument; remove `arg`")
    match = raw.get("match")
    if not isinstance(match, Mapping) or not match:
        raise _fail(where, f"{at}: match must name tools (globs), effects, or both")
    unknown = sorted(str(k) for k in match if k not in {"tools", "effects"})
    if unknown:
        raise _fail(where, f"{at}: unknown key `match.{unknown[0]}`; allowed: effects, tools")
    tools = _strings(match["tools"], where, f"{at}: match.tools") if "tools" in match else ()
    effects = _strings(match["effects"], where, f"{at}: match.effects") if "effects" in match else ()
    if not tools and not effects:
        raise _fail(where, f"{at}: match must name tools (globs), effects, or both")
    scope = raw.get("scope", "task")
    if scope not in SCOPES:
        raise _fail(where, f"{at}: scope must be task or agent, not `{scope}`")
    window_s: float | None = None
    if raw.get("window") is not None:
        window_s = _window(raw["window"], where, at)
    currency_arg, unit, rates = _currency(raw.get("currency"), str(kind), where, at)
    return CounterSpec(
        name=name,
        kind=str(kind),
        arg=arg.strip() if isinstance(arg, str) else None,
        tools=tools,
        effects=effects,
        scope=str(scope),
        window_s=window_s,
        currency_arg=currency_arg,
        unit=unit,
        rates=rates,
    )


_UNIT = re.compile(r"[A-Za-z]{3}")


#: a rate is a positive number with at most this many significant digits (sums stay exact)
_RATE_DIGITS = 12


def _rates(raw: Any, unit: str, where: str, at: str) -> tuple[tuple[str, Decimal], ...]:
    """``currency.rates``: ``{GBP: 1.25, USD: 1.0}``, each code three letters, not the unit, and
    each rate a positive number (a string like ``"1.25"`` too) of at most 12 significant digits."""
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise _fail(where, f"{at}: currency.rates must map currency codes to rates, like `{{GBP: 1.25}}`")
    out: dict[str, Decimal] = {}
    for code, value in raw.items():
        if not isinstance(code, str) or not _UNIT.fullmatch(code.strip()):
            raise _fail(
                where, f"{at}: currency.rates: `{code}` is not a three-letter currency code like `GBP`"
            )
        c = code.strip().upper()
        if c == unit:
            raise _fail(where, f"{at}: currency.rates: `{c}` is the unit itself; remove it")
        if c in out:
            raise _fail(where, f"{at}: currency.rates: `{c}` is listed twice")
        rate: Decimal | None = None
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                rate = Decimal(str(value).strip())
            except InvalidOperation:
                rate = None
        if (
            rate is None
            or not rate.is_finite()
            or rate <= 0
            or len(rate.normalize().as_tuple().digits) > _RATE_DIGITS
            or rate.adjusted() > 9
        ):
            raise _fail(
                where,
                f"{at}: currency.rates.{c} must be a positive number like `1.25` (what one {c} is "
                f"at most worth in {unit}), not `{value}`",
            )
        out[c] = rate
    return tuple(sorted(out.items()))


def _currency(
    raw: Any, kind: str, where: str, at: str
) -> tuple[str | None, str | None, tuple[tuple[str, Decimal], ...]]:
    """``currency: {arg: currency, unit: EUR, rates: {…}}`` of a ``sum`` counter: (argument path,
    unit, rates)."""
    if raw is None:
        return None, None, ()
    if kind != "sum":
        raise _fail(where, f"{at}: only a sum counter has a currency; remove `currency`")
    if not isinstance(raw, Mapping):
        raise _fail(where, f"{at}: currency must be a mapping like `{{arg: currency, unit: EUR}}`")
    unknown = sorted(str(k) for k in raw if k not in {"arg", "unit", "rates"})
    if unknown:
        raise _fail(where, f"{at}: unknown key `currency.{unknown[0]}`; allowed: arg, rates, unit")
    arg, unit = raw.get("arg"), raw.get("unit")
    if not isinstance(arg, str) or not arg.strip():
        raise _fail(where, f"{at}: currency.arg must be an argument path like `currency`")
    if not isinstance(unit, str) or not _UNIT.fullmatch(unit.strip()):
        raise _fail(where, f"{at}: currency.unit must be a three-letter currency code like `EUR`")
    code = unit.strip().upper()
    return arg.strip(), code, _rates(raw.get("rates"), code, where, at)


def parse_counters(text: str, where: str = COUNTERS_FILE) -> tuple[CounterSpec, ...]:
    """The counters declared in ``text`` (sorted by name); :class:`PolicyLoadError` naming the
    counter on bad input."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _fail(where, f"larger than {MAX_BYTES} bytes")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(where, f"not valid YAML: {exc}") from None
    if doc is None:
        return ()
    if not isinstance(doc, Mapping):
        raise _fail(where, "expected a mapping with the key `counters`")
    unknown = sorted(str(k) for k in doc if k != "counters")
    if unknown:
        raise _fail(where, f"unknown key `{unknown[0]}`; allowed: counters")
    counters = doc.get("counters")
    if counters is None:
        return ()
    if not isinstance(counters, Mapping):
        raise _fail(where, "`counters` must map counter names to their definitions")
    if len(counters) > _MAX_COUNTERS:
        raise _fail(where, f"more than {_MAX_COUNTERS} counters")
    specs = [_parse_one(name, raw, where) for name, raw in counters.items()]
    return tuple(sorted(specs, key=lambda s: s.name))


def load_counters(directory: Path) -> tuple[CounterSpec, ...]:
    """The counters of a policy directory: ``()`` when it has no ``counters.yaml``."""
    path = Path(directory) / COUNTERS_FILE
    if not path.is_file():
        return ()
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(str(path), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise _fail(str(path), f"larger than {MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(str(path), "not UTF-8 text") from None
    return parse_counters(text, str(path))


# ---- values --------------------------------------------------------------------------------------

#: the value a history event holds for a ``sum`` whose amount was unknown in the counter's unit
#: (no amount, or another currency): a total over it is unknown
UNKNOWN = "?"
#: an amount is read with at most this many digits either side of the point (more is no amount):
#: sums of such amounts are exact in :data:`_EXACT`
_DIGITS = 100
#: exact arithmetic for sums: an inexact result raises (it cannot with amounts in range)
_EXACT = Context(
    prec=4 * _DIGITS + 50, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, Inexact, Overflow]
)
_ZERO = Decimal(0)
_ONE = Decimal(1)
#: the currency symbols read as one code (``$`` and ``¥`` name several currencies: never a unit)
_SYMBOLS = {"€": "EUR", "£": "GBP"}
_TEXT_CURRENCY = re.compile(
    r"([A-Za-z]{3})?\s?[-+]?([$€£¥])?\s?\d[\d,.'\u00a0\u202f ]*(\s?[A-Za-z]{3}|\s?[$€£¥])?"
)


#: a call's arguments as ``(path, value)`` leaves (:func:`leaf_values`), read once per call
Leaves = tuple[tuple[str, Any], ...]


def _arg_values(leaves: Leaves, path: str) -> list[Any]:
    return [v for p, v in leaves if p == path and v is not None and not isinstance(v, bool)]


def _nested(leaves: Leaves, path: str) -> bool:
    """A value under ``path`` that is not a scalar at it: a list (``amount[]``), an object
    (``amount.value``) or a boolean, which a ``sum`` counter cannot read."""
    for p, v in leaves:
        if p == path:
            if isinstance(v, bool):
                return True
        elif p.startswith(path) and p[len(path)] in ".[":
            return True
    return False


def _unreadable(spec: CounterSpec) -> ValidationError:
    return ValidationError(f"counter `{spec.name}`: argument `{spec.arg}` is not a number", counter=spec.name)


def _in_range(d: Decimal) -> bool:
    return d.is_finite() and (d.is_zero() or (d.adjusted() < _DIGITS and d.as_tuple().exponent >= -_DIGITS))  # type: ignore[operator]


def _amount(value: Any, spec: CounterSpec) -> Decimal:
    """The magnitude of one value: a ``sum`` counts how much moved, so a sign never lowers it
    (``-1000000`` adds 1,000,000, as ``parse_amounts`` already reads ``"-1,000,000"``). A number
    with more than 100 digits either side of the point is no amount."""
    if isinstance(value, int | float | Decimal):
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            d = Decimal("NaN")
        if _in_range(d):
            return d.copy_abs()
    elif isinstance(value, str):
        readings = parse_amounts(value)
        if readings and all(_in_range(r) for r in readings):
            return max(r.copy_abs() for r in readings)
    raise _unreadable(spec)


def _code(value: str) -> str:
    v = value.strip()
    return _SYMBOLS.get(v, v.upper())


def _text_currencies(value: str) -> set[str]:
    """The currencies an amount written as text names (``"4900 BTC"``, ``"€49"``; both of
    ``"€4900 USD"``)."""
    m = _TEXT_CURRENCY.fullmatch(value.strip())
    if m is None:
        return set()
    return {_code(named) for named in m.groups() if named is not None}


#: :func:`_schema_default` of an argument the schema does not declare
_UNDECLARED = "\0undeclared"


@functools.lru_cache(maxsize=1024)
def _schema_default(schema: str | None, path: str) -> str | None:
    """The value the tool's JSON Schema says the argument ``path`` takes when a call leaves it
    out: :data:`_UNDECLARED` when the schema does not declare it; its ``const``, only ``enum``
    value or ``default`` (on the declaration or what it refers to) when every declaration of it
    gives the same text; else None (the tool's default is unknown)."""
    if not _schema_declares(schema, path):
        return _UNDECLARED
    assert schema is not None
    root = json.loads(schema)
    nodes: list[Any] = [root]
    for part in path.split("."):
        name, lists = part, 0
        while name.endswith("[]"):
            name, lists = name[:-2], lists + 1
        found: list[Any] = []
        for node in _alternatives(root, nodes):
            props = node.get("properties") if isinstance(node, Mapping) else None
            child = props.get(name) if isinstance(props, Mapping) else None
            for _ in range(lists):
                child = child.get("items") if isinstance(child, Mapping) else None
            if child is not None:
                found.append(child)
        nodes = found
    values: set[Any] = set()
    for declared in nodes:
        value: Any = None
        for node in _alternatives(root, [declared]):
            if not isinstance(node, Mapping):
                return None  # _OPAQUE: what it refers to is not known
            if "const" in node:
                value = node["const"]
            elif isinstance(node.get("enum"), list) and len(node["enum"]) == 1:
                value = node["enum"][0]
            elif "default" in node:
                value = node["default"]
            else:
                continue
            break
        if not isinstance(value, str):
            return None
        values.add(value)
    return values.pop() if len(values) == 1 else None


@functools.lru_cache(maxsize=1024)
def _schema_declares(schema: str | None, path: str) -> bool:
    """Whether the tool's JSON Schema declares the argument ``path`` (under ``properties``,
    through ``items`` for ``[]``)."""
    if not schema:
        return False
    try:
        root: Any = json.loads(schema)
    except ValueError:
        return True  # a schema that cannot be read may declare anything
    nodes: list[Any] = [root]
    for part in path.split("."):
        name, lists = part, 0
        while name.endswith("[]"):
            name, lists = name[:-2], lists + 1
        found: list[Any] = []
        for node in _alternatives(root, nodes):
            if node is _OPAQUE:
                return True
            props = node.get("properties") if isinstance(node, Mapping) else None
            child = props.get(name) if isinstance(props, Mapping) else None
            for _ in range(lists):
                child = child.get("items") if isinstance(child, Mapping) else None
            if child is not None:
                found.append(child)
        if not found:
            return False
        nodes = found
    return True


#: a part of a schema this module does not read through (a remote ``$ref``): it may declare any
#: argument
_OPAQUE = object()


def _alternatives(root: Any, nodes: list[Any]) -> list[Any]:
    """``nodes`` and the schemas they combine or refer to (local ``$ref``, ``allOf``, ``anyOf``,
    ``oneOf``, ``then``/``else``), as far as a few hundred; :data:`_OPAQUE` for one that cannot be
    followed (a remote or broken reference, more than that)."""
    out: list[Any] = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        if len(out) > 256:
            return [_OPAQUE]
        out.append(node)
        if not isinstance(node, Mapping):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            target: Any = root
            if ref == "#" or ref.startswith("#/"):
                for raw in ref[2:].split("/") if ref != "#" else []:
                    step = raw.replace("~1", "/").replace("~0", "~")
                    target = target.get(step) if isinstance(target, Mapping) else None
            else:
                target = None
            if target is None or target is node:
                return [_OPAQUE]
            if not any(target is seen for seen in out):
                todo.append(target)
        for key in ("allOf", "anyOf", "oneOf"):
            subs = node.get(key)
            if isinstance(subs, list):
                todo.extend(x for x in subs if not any(x is seen for seen in out))
        for key in ("then", "else"):
            sub = node.get(key)
            if sub is not None and not any(sub is seen for seen in out):
                todo.append(sub)
    return out


#: an argument or schema property named like a currency (``currency_code``, ``ccy``, ``Currency``)
#: an argument or schema property named like a currency (``currency_code``, ``ccy``, ``curr``,
#: ``iso4217``, ``denomination``, ``Währung``, ``devise``, ``moneda``, ``valuta``, ``divisa``)
_CURRENCY_NAME = re.compile(
    r"(?i)currenc|(?<![a-z])(?:ccy|cur|curr|iso_?4217|denomination|coin|waehrung|währung|devise|moneda|"
    r"valuta|divisa)(?![a-z])"
)
#: [red team 20] codes a string value names a currency by, whatever its argument's name (upper
#: case as written: ``"BTC"``, not ``"all"``; codes that are English words are left out)
_CURRENCY_CODES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BHD",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JOD",
        "JPY",
        "KES",
        "KRW",
        "KWD",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "OMR",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
        "BTC",
        "XBT",
        "ETH",
        "USDT",
        "USDC",
        "DAI",
        "SOL",
        "XRP",
        "LTC",
        "BNB",
        "DOGE",
        "XMR",
    ]
)


@functools.lru_cache(maxsize=1024)
def _other_currency_arg(schema: str | None, path: str) -> bool:
    """[red team 19] The tool's schema declares a property named like a currency other than the
    counter's ``currency.arg`` (``currency_code`` where the counter reads ``currency``): its
    payments may be in any currency, so one that leaves ``currency.arg`` out is not in the unit.
    [red team 20] Only properties (under a ``properties`` object, at any depth) that can hold
    text: a boolean switch (``allow_currency_conversion``) or a vendor keyword (``x-currency``)
    is none."""
    if not schema:
        return False
    try:
        root = json.loads(schema)
    except ValueError:
        return True  # a schema that cannot be read: the tool's currency cannot be known
    last = path.rsplit(".", 1)[-1]
    todo: list[Any] = [root]
    seen = 0
    while todo and seen < 10_000:
        node = todo.pop()
        seen += 1
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        props = node.get("properties")
        if isinstance(props, dict):
            for name, decl in props.items():
                if (
                    isinstance(name, str)
                    and name != last
                    and _CURRENCY_NAME.search(name)
                    and not (isinstance(decl, dict) and decl.get("type") in ("boolean", "integer", "number"))
                ):
                    return True
        todo.extend(v for v in node.values() if isinstance(v, dict | list))
    return False


def _call_currency(spec: CounterSpec, tool: ToolRecord, leaves: Leaves) -> str | None:
    """The one currency the call's amounts are in (``spec.currency_arg`` is set): the code the
    call names under ``currency.arg`` (every value there the same); or, when it names none, the
    unit if the tool's schema declares no such argument (the tool knows only one currency), else
    the tool's declared default. None when it cannot be known: a default the schema does not
    give, values that disagree, a list or object there."""
    path = spec.currency_arg
    assert path is not None
    if _nested(leaves, path):
        return None
    present = [v for p, v in leaves if p == path and v is not None]
    if not present:
        if any(
            p != path
            and isinstance(v, str)
            and (_CURRENCY_NAME.search(p) or (v.strip() in _CURRENCY_CODES and v.strip() != spec.unit))
            for p, v in leaves
        ):
            # [red team 19] the call names a currency under another name (``currency_code``,
            # ``ccy``, ``amount.currency``), [red team 20] or any of its text values is a currency
            # code (``asset: "BTC"``, ``money: {"code": "GBP"}``): the payment may be in that one
            return None
        default = _schema_default(tool.input_schema, path)
        if default == _UNDECLARED:
            # the tool knows one currency, unless its schema takes a currency by another name
            return None if _other_currency_arg(tool.input_schema, path) else spec.unit
        return None if default is None else _code(default)
    codes = {_code(v) if isinstance(v, str) else None for v in present}
    if len(codes) != 1:
        return None
    return codes.pop()


#: what a call's counters read of its arguments, kept for the one call (see :class:`CallMemo`)
_Memo = dict[tuple[Any, ...], Any]


class CallMemo:
    """What the counters read of **one** call's arguments, computed once for every counter, scope
    and policy set that reads it (:meth:`Tally.values`, :func:`event_for`): its leaves, a
    ``sum``'s amount (keyed by the argument, the currency argument and the unit: all it depends
    on with the call's tool and arguments), a ``first_time``'s fingerprints (by the argument and
    the key). Made per call and dropped after it: every reader must pass the same call's tool,
    arguments and ``args``. An amount that cannot be read raises each time (never kept)."""

    __slots__ = ("_got", "_leaves", "args")

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.args = args
        self._leaves: Leaves | None = None
        self._got: _Memo = {}

    @property
    def leaves(self) -> Leaves:
        """``tuple(leaf_values(args))``, read on first use."""
        if self._leaves is None:
            self._leaves = tuple(leaf_values(self.args))
        return self._leaves

    def sum_value(self, spec: CounterSpec, tool: ToolRecord) -> Decimal | None:
        key = ("sum", spec.arg, spec.currency_arg, spec.unit, spec.rates)
        if key in self._got:
            return self._got[key]  # type: ignore[no-any-return]
        got = self._got[key] = _sum_value(spec, self.leaves, tool)
        return got

    def first_time_readings(self, spec: CounterSpec, key: bytes) -> list[tuple[str, ...]]:
        k = ("first_time", spec.arg, key)
        got = self._got.get(k)
        if got is None:
            got = self._got[k] = tuple(_first_time_readings(spec, self.leaves, key))
        return list(got)


def _sum_value(spec: CounterSpec, leaves: Leaves, tool: ToolRecord) -> Decimal | None:
    """The call's amount for a ``sum`` in the counter's unit; None when it is unknown (no amount,
    or a currency the counter has no rate for: the argument or the amount's own text names one);
    raises when a value under the path is not a number. An amount in a listed currency counts at
    its rate (``currency.rates``)."""
    assert spec.arg is not None
    if _nested(leaves, spec.arg):
        raise _unreadable(spec)
    values = _arg_values(leaves, spec.arg)
    if not values:
        return None
    total = sum((_amount(v, spec) for v in values), _ZERO)
    if spec.currency_arg is not None:
        code = _call_currency(spec, tool, leaves)
        rate = spec.rate(code)
        if rate is None:
            return None
        for v in values:
            if isinstance(v, str) and not _text_currencies(v) <= {code}:
                return None
        if rate != _ONE:
            converted = _EXACT.multiply(total, rate)
            return converted if _in_range(converted) else None
    return total


def _stored_amount(text: str) -> Decimal | None:
    """A ``sum``'s value in a history event; None when the amount was unknown (or the text is no
    amount in range: a row written otherwise)."""
    if text == UNKNOWN:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d.copy_abs() if _in_range(d) else None


def keyed_fingerprint(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of the normalised value (hex): compares values without keeping them."""
    return hmac.new(key, normalise_value(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _first_time_values(spec: CounterSpec, leaves: Leaves, key: bytes) -> list[str]:
    """The fingerprints of the values under ``spec.arg`` (every reading of each: see
    :func:`_first_time_readings`)."""
    return sorted({fp for alts in _first_time_readings(spec, leaves, key) for fp in alts})


def _first_time_readings(spec: CounterSpec, leaves: Leaves, key: bytes) -> list[tuple[str, ...]]:
    """For each value under ``spec.arg``, the fingerprints it may be read as: a value is a repeat
    when one of them was seen. An amount written as text (``"4,900.00"``, ``"EUR 4900"``) as its
    number (its largest reading, as :func:`_amount` reads it), so a repeat written another way is
    no new value; a number as an amount of money, as a sum counts it: its magnitude (``-1200``
    moves 1,200) to the cent, a fraction of a cent read both rounded down and up
    (``1200.0000001`` and ``1199.999`` pay what ``1200`` paid, whichever way the payee rounds)."""
    assert spec.arg is not None
    out: list[tuple[str, ...]] = []
    for raw in _arg_values(leaves, spec.arg):
        d: Decimal | None = None
        if isinstance(raw, int | float | Decimal):
            try:
                d = Decimal(str(raw))
            except InvalidOperation:
                d = None
        elif isinstance(raw, str) and _TEXT_CURRENCY.fullmatch(raw.strip()) is not None:
            readings = parse_amounts(raw)
            if readings and all(_in_range(r) for r in readings):
                d = max(r.copy_abs() for r in readings)
        if d is None or not _in_range(d):
            out.append((keyed_fingerprint(key, raw),))
            continue
        d = d.copy_abs()
        cents = {d.quantize(_CENT, rounding=r, context=_QUANTIZE) for r in (ROUND_FLOOR, ROUND_CEILING)}
        out.append(tuple(sorted({keyed_fingerprint(key, c) for c in cents})))
    return out


_CENT = Decimal("0.01")
_QUANTIZE = Context(prec=2 * _DIGITS + 10)


def event_for(
    specs: Sequence[CounterSpec],
    *,
    task_id: str,
    agent: str,
    tool: ToolRecord,
    args: Mapping[str, Any],
    at: float,
    key: bytes,
    memo: CallMemo | None = None,
) -> HistoryEvent | None:
    """The event to record for an allowed, forwarded call; None when no counter matches it. A
    ``sum`` whose amount is unknown in its unit (none, another currency) records
    :data:`UNKNOWN`: a total over this call stays unknown. ``memo``: this call's
    (:class:`CallMemo` of ``args``), when the caller has one."""
    name, effect = str(tool.name), tool.effect
    matching = [s for s in specs if s.matches(name, effect)]
    if not matching:
        return None
    if memo is None:
        memo = CallMemo(args)
    values: list[tuple[str, str]] = []
    for spec in matching:
        if spec.kind == "sum":
            try:
                total = memo.sum_value(spec, tool)
            except ProctorError:
                total = None  # it was allowed: evaluate() would have refused an unreadable value
            values.append((spec.name, UNKNOWN if total is None else format(total, "f")))
        elif spec.kind == "first_time":
            fps = sorted({fp for alts in memo.first_time_readings(spec, key) for fp in alts})
            if fps:
                values.append((spec.name, ",".join(fps)))
    return HistoryEvent(
        task_id=str(task_id),
        agent=str(agent),
        tool=name,
        effect=effect,
        at=float(at),
        values=tuple(sorted(values)),
    )


def _in_scope(spec: CounterSpec, ev: HistoryEvent, task_id: str, agent: str, now: float) -> bool:
    if spec.scope == "task":
        if ev.task_id != task_id:
            return False
    elif ev.agent != agent:
        return False
    if ev.at > now:
        return False
    return spec.window_s is None or ev.at > now - spec.window_s


Value = int | Decimal | bool


def _this_call(
    spec: CounterSpec,
    here: bool,
    tool: ToolRecord,
    leaves: Leaves,
    key: bytes,
    earlier: int,
    total: Decimal | None,
    seen_fp: Callable[[str], bool],
    memo: CallMemo | None = None,
) -> Value | None:
    """A counter's value given what the earlier events hold (``earlier`` matching events in scope
    and window; ``total``: their sum, None when unknown; ``seen_fp``: whether a fingerprint is in
    one of them), with the call being decided; None: absent (unknown)."""
    if spec.kind == "count":
        return earlier + (1 if here else 0)
    if spec.kind == "seen":
        return earlier > 0
    if spec.kind == "sum":
        if here:
            # raises first: an unreadable value is a deny
            mine = _sum_value(spec, leaves, tool) if memo is None else memo.sum_value(spec, tool)
            # the call matches but its amount is unknown in the unit (none: a payment tool
            # that names its amount `value`; another currency): the total this call makes is
            # unknown, so the counter is absent (`context.history has …` is false)
            if mine is None or total is None:
                return None
            try:
                return _EXACT.add(total, mine)
            except ArithmeticError:
                return None
        return total
    # first_time
    if not here:
        return False
    values = _first_time_readings(spec, leaves, key) if memo is None else memo.first_time_readings(spec, key)
    return True if not values else any(not any(seen_fp(fp) for fp in alts) for alts in values)


def evaluate(
    specs: Sequence[CounterSpec],
    events: Iterable[HistoryEvent],
    *,
    task_id: str,
    agent: str,
    tool: ToolRecord,
    args: Mapping[str, Any],
    now: float,
    key: bytes,
) -> tuple[tuple[str, Value], ...]:
    """Every counter's value for the call being decided, sorted by name (ADR 0025 §4):
    ``count`` = earlier matching events + 1 if this call matches; ``sum`` = their total + this
    call's value (absent when an amount it adds is unknown in its unit: this call's or an earlier
    one's); ``seen`` = an earlier matching event exists; ``first_time`` = this call's value
    is in no earlier matching event. ``events`` are the recorded (allowed) calls; those outside
    the counter's scope (task or agent) or window (relative to ``now``) are ignored. Reads every
    event: :class:`Tally` computes the same values incrementally."""
    if not specs:
        return ()
    evs = list(events)
    leaves = tuple(leaf_values(args))
    name, effect = str(tool.name), tool.effect
    task_id, agent = str(task_id), str(agent)
    out: list[tuple[str, Value]] = []
    for spec in sorted(specs, key=lambda s: s.name):
        earlier = [
            ev for ev in evs if spec.matches(ev.tool, ev.effect) and _in_scope(spec, ev, task_id, agent, now)
        ]
        total: Decimal | None = _ZERO
        seen: set[str] = set()
        for ev in earlier:
            text = dict(ev.values).get(spec.name)
            if spec.kind == "sum" and text is not None and total is not None:
                amount = _stored_amount(text)
                try:
                    total = None if amount is None else _EXACT.add(total, amount)
                except ArithmeticError:
                    total = None
            elif spec.kind == "first_time" and text:
                seen.update(text.split(","))
        value = _this_call(
            spec, spec.matches(name, effect), tool, leaves, key, len(earlier), total, seen.__contains__
        )
        if value is not None:
            out.append((spec.name, value))
    return tuple(out)


# ---- incremental ---------------------------------------------------------------------------------

#: dead entries of an aggregate are dropped once there are this many and they are at least a
#: 1/_COMPACT_RATIO of it (amortised O(1) per event)
_COMPACT = 64
_COMPACT_RATIO = 2


class _Agg:
    """One counter's running aggregate over the matching events of one task or agent, kept in
    time order: their times (count, seen), prefix sums and the times of unknown amounts (sum),
    the times each fingerprint was used (first_time). Entries before ``start`` left the window."""

    __slots__ = ("ats", "cut", "fps", "prefix", "spec", "start", "unknown")

    def __init__(self, spec: CounterSpec) -> None:
        self.spec = spec
        self.ats: list[float] = []
        self.start = 0
        #: events at or before this time left the window for good (it only moves forward)
        self.cut = -math.inf
        self.prefix: list[Decimal] = [_ZERO]
        self.unknown: list[float] = []
        self.fps: dict[str, list[float]] = {}

    def add(self, ev: HistoryEvent) -> None:
        at = ev.at
        if at <= self.cut:
            return  # already out of the window, and `now` does not go back
        spec = self.spec
        i = len(self.ats)
        if i and at < self.ats[-1]:
            i = bisect.bisect_right(self.ats, at)  # stored late (out of order): rare
        self.ats.insert(i, at)
        text = dict(ev.values).get(spec.name) if ev.values else None
        if spec.kind == "sum":
            amount = _ZERO if text is None else _stored_amount(text)
            if amount is None:
                bisect.insort(self.unknown, at)
                amount = _ZERO
            if i == len(self.prefix) - 1:
                self.prefix.append(_EXACT.add(self.prefix[-1], amount))
            else:
                self.prefix.insert(i + 1, _EXACT.add(self.prefix[i], amount))
                for j in range(i + 2, len(self.prefix)):
                    self.prefix[j] = _EXACT.add(self.prefix[j], amount)
        elif spec.kind == "first_time" and text:
            for fp in set(text.split(",")):
                bisect.insort(self.fps.setdefault(fp, []), at)

    def _evict(self, now: float) -> None:
        window = self.spec.window_s
        if window is None or now - window <= self.cut:
            return
        self.cut = now - window
        self.start = max(self.start, bisect.bisect_right(self.ats, self.cut))
        if self.start < _COMPACT or _COMPACT_RATIO * self.start < len(self.ats):
            return
        k = self.start
        del self.ats[:k]
        if self.spec.kind == "sum":
            base = self.prefix[k]
            self.prefix = [_EXACT.subtract(p, base) for p in self.prefix[k:]]
            del self.unknown[: bisect.bisect_right(self.unknown, self.cut)]
        elif self.spec.kind == "first_time":
            for fp in list(self.fps):
                lst = self.fps[fp]
                del lst[: bisect.bisect_right(lst, self.cut)]
                if not lst:
                    del self.fps[fp]
        self.start = 0

    def earlier(self, now: float) -> tuple[int, Decimal | None, float]:
        """``(events, total, low)`` of the matching events in the window at ``now``: events
        at most ``now`` and above ``low``."""
        self._evict(now)
        window = self.spec.window_s
        low = self.cut if window is None else max(self.cut, now - window)
        lo = max(self.start, bisect.bisect_right(self.ats, low))
        hi = max(lo, bisect.bisect_right(self.ats, now))
        total: Decimal | None = None
        if self.spec.kind == "sum":
            j = bisect.bisect_right(self.unknown, now)
            if not (j and self.unknown[j - 1] > low):
                total = _EXACT.subtract(self.prefix[hi], self.prefix[lo])
        return hi - lo, total, low

    def seen(self, fp: str, now: float, low: float) -> bool:
        lst = self.fps.get(fp)
        if not lst:
            return False
        j = bisect.bisect_right(lst, now)
        return j > 0 and lst[j - 1] > low


class Tally:
    """The declared counters of one scope as running aggregates over one task's (scope ``task``)
    or one agent's (scope ``agent``) history events, fed with :meth:`add` in the order they were
    stored: a decision costs O(log n) per counter, not a read of every event. Gives the values
    :func:`evaluate` gives over the same events, exactly, while ``now`` does not go back (an event
    that left a window is dropped for good) and amounts stay in range (:func:`_amount`)."""

    def __init__(self, specs: Sequence[CounterSpec]) -> None:
        self.specs = tuple(sorted(specs, key=lambda s: s.name))
        self._aggs = [_Agg(s) for s in self.specs]

    def add(self, ev: HistoryEvent) -> None:
        """Count one event (of this scope's task or agent)."""
        for agg in self._aggs:
            if agg.spec.matches(ev.tool, ev.effect):
                agg.add(ev)

    def values(
        self,
        *,
        tool: ToolRecord,
        args: Mapping[str, Any],
        now: float,
        key: bytes,
        leaves: Leaves | None = None,
        memo: CallMemo | None = None,
    ) -> list[tuple[str, Value]]:
        """This scope's counters' values for the call being decided (see :func:`evaluate`);
        ``leaves``: ``tuple(leaf_values(args))`` when the caller already has it; ``memo``: this
        call's (:class:`CallMemo` of ``args``, its leaves used), when the caller has one."""
        name, effect = str(tool.name), tool.effect
        if memo is not None:
            leaves = memo.leaves
        elif leaves is None:
            leaves = tuple(leaf_values(args))
        out: list[tuple[str, Value]] = []
        for agg in self._aggs:
            count, total, low = agg.earlier(now)
            value = _this_call(
                agg.spec,
                agg.spec.matches(name, effect),
                tool,
                leaves,
                key,
                count,
                total,
                lambda fp, agg=agg, low=low: agg.seen(fp, now, low),  # type: ignore[misc]
                memo,
            )
            if value is not None:
                out.append((agg.spec.name, value))
        return out
