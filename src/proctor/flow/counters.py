"""Declared counters over a task's or an agent's history (issue 15, ADR 0025 §4).

A policy directory may hold ``counters.yaml``::

    counters:
      spend_today:                # context.history.spend_today
        kind: sum                 # count | sum | seen | first_time
        arg: amount               # sum, first_time: the argument path read from each matching call
        match: {effects: [pay], tools: ["billing.*"]}   # either or both; glob on tool names
        scope: agent              # task (default) | agent
        window: 1d                # s/m/h/d; omitted: the task's life (scope task) or ever (agent)

Values include the call being decided (see :func:`evaluate`). Only calls that were allowed and
forwarded are recorded (:func:`event_for`, by the caller after forwarding). Values of
``first_time`` counters are kept as keyed fingerprints (HMAC-SHA256 with the workspace's key),
never in clear.

Choices made here (documented in ADR 0025):

- a ``sum`` argument written as text is read as an amount (``"1,500.00"``, ``"$1500"``); an
  ambiguous one (``"1,500"``) counts as its largest reading; a value that is not a number (text
  that is no amount, a boolean, a list or an object where the path names a scalar:
  ``amount: [50000]``, ``amount: {"value": 50000}``) makes :func:`evaluate` raise (the decision
  fails closed); a missing one (or ``null``) adds nothing;
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

import fnmatch
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from proctor.errors import PolicyLoadError, ProctorError, ValidationError
from proctor.flow.provenance import leaf_values, normalise_value, parse_amounts
from proctor.store.base import HistoryEvent, ToolRecord  # HistoryEvent re-exported here

__all__ = [
    "COUNTERS_FILE",
    "KINDS",
    "CounterSpec",
    "HistoryEvent",
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
    unknown = sorted(str(k) for k in raw if k not in {"kind", "arg", "match", "scope", "window"})
    if unknown:
        raise _fail(where, f"{at}: unknown key `{unknown[0]}`; allowed: arg, kind, match, scope, window")
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
    return CounterSpec(
        name=name,
        kind=str(kind),
        arg=arg.strip() if isinstance(arg, str) else None,
        tools=tools,
        effects=effects,
        scope=str(scope),
        window_s=window_s,
    )


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


def _arg_values(args: Mapping[str, Any], path: str) -> list[Any]:
    return [v for p, v in leaf_values(args) if p == path and v is not None and not isinstance(v, bool)]


def _nested(args: Mapping[str, Any], path: str) -> bool:
    """A value under ``path`` that is not a scalar at it: a list (``amount[]``), an object
    (``amount.value``) or a boolean, which a ``sum`` counter cannot read."""
    for p, v in leaf_values(args):
        if p == path:
            if isinstance(v, bool):
                return True
        elif p.startswith(path) and p[len(path)] in ".[":
            return True
    return False


def _unreadable(spec: CounterSpec) -> ValidationError:
    return ValidationError(f"counter `{spec.name}`: argument `{spec.arg}` is not a number", counter=spec.name)


def _amount(value: Any, spec: CounterSpec) -> Decimal:
    """The magnitude of one value: a ``sum`` counts how much moved, so a sign never lowers it
    (``-1000000`` adds 1,000,000, as ``parse_amounts`` already reads ``"-1,000,000"``)."""
    if isinstance(value, int | float | Decimal):
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            d = Decimal("NaN")
        if d.is_finite():
            return abs(d)
    elif isinstance(value, str):
        readings = parse_amounts(value)
        if readings:
            return max(abs(r) for r in readings)
    raise _unreadable(spec)


def _sum_value(spec: CounterSpec, args: Mapping[str, Any]) -> Decimal | None:
    assert spec.arg is not None
    if _nested(args, spec.arg):
        raise _unreadable(spec)
    values = _arg_values(args, spec.arg)
    if not values:
        return None
    return sum((_amount(v, spec) for v in values), Decimal(0))


def keyed_fingerprint(key: bytes, value: Any) -> str:
    """HMAC-SHA256 of the normalised value (hex): compares values without keeping them."""
    return hmac.new(key, normalise_value(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _first_time_values(spec: CounterSpec, args: Mapping[str, Any], key: bytes) -> list[str]:
    assert spec.arg is not None
    return sorted({keyed_fingerprint(key, v) for v in _arg_values(args, spec.arg)})


def event_for(
    specs: Sequence[CounterSpec],
    *,
    task_id: str,
    agent: str,
    tool: ToolRecord,
    args: Mapping[str, Any],
    at: float,
    key: bytes,
) -> HistoryEvent | None:
    """The event to record for an allowed, forwarded call; None when no counter matches it."""
    name, effect = str(tool.name), tool.effect
    matching = [s for s in specs if s.matches(name, effect)]
    if not matching:
        return None
    values: list[tuple[str, str]] = []
    for spec in matching:
        if spec.kind == "sum":
            try:
                total = _sum_value(spec, args)
            except ProctorError:
                total = None  # it was allowed: evaluate() would have refused an unreadable value
            if total is not None:
                values.append((spec.name, format(total, "f")))
        elif spec.kind == "first_time":
            fps = _first_time_values(spec, args, key)
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
) -> tuple[tuple[str, int | Decimal | bool], ...]:
    """Every counter's value for the call being decided, sorted by name (ADR 0025 §4):
    ``count`` = earlier matching events + 1 if this call matches; ``sum`` = their total + this
    call's value (absent when this call matches but has no such argument: its total is unknown); ``seen`` = an earlier matching event exists; ``first_time`` = this call's value
    is in no earlier matching event. ``events`` are the recorded (allowed) calls; those outside
    the counter's scope (task or agent) or window (relative to ``now``) are ignored."""
    if not specs:
        return ()
    evs = list(events)
    name, effect = str(tool.name), tool.effect
    task_id, agent = str(task_id), str(agent)
    out: list[tuple[str, int | Decimal | bool]] = []
    for spec in sorted(specs, key=lambda s: s.name):
        here = spec.matches(name, effect)
        earlier = [
            ev for ev in evs if spec.matches(ev.tool, ev.effect) and _in_scope(spec, ev, task_id, agent, now)
        ]
        if spec.kind == "count":
            out.append((spec.name, len(earlier) + (1 if here else 0)))
        elif spec.kind == "seen":
            out.append((spec.name, bool(earlier)))
        elif spec.kind == "sum":
            total = Decimal(0)
            for ev in earlier:
                text = dict(ev.values).get(spec.name)
                if text is not None:
                    try:
                        total += abs(Decimal(text))  # an event stored before magnitudes were kept
                    except InvalidOperation:
                        continue
            if here:
                mine = _sum_value(spec, args)
                if mine is None:
                    # the call matches but carries no such argument (a payment tool that names
                    # its amount `value`): the total this call makes is unknown, so the counter
                    # is absent (`context.history has …` is false) rather than the earlier total
                    # as if the call moved nothing
                    continue
                total += mine
            out.append((spec.name, total))
        else:  # first_time
            if not here:
                out.append((spec.name, False))
                continue
            fps = _first_time_values(spec, args, key)
            if not fps:
                out.append((spec.name, True))
                continue
            seen: set[str] = set()
            for ev in earlier:
                text = dict(ev.values).get(spec.name)
                if text:
                    seen.update(text.split(","))
            out.append((spec.name, any(fp not in seen for fp in fps)))
    return tuple(out)
