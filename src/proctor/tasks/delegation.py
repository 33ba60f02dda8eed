"""Delegation only narrows (docs/adr/0032): what a child task may ask of its parent's scope.

A child's tool patterns must each be *covered* by the parent's: every tool name the child's
pattern matches is matched by some parent pattern. Patterns are globs (``*`` any run of
characters, ``?`` one character, as :func:`fnmatch.fnmatchcase` reads them for ``--allow``), so
coverage is a question about regular languages, decided exactly here: the child's pattern and the
union of the parent's are run as automata over the characters the patterns name plus one symbol
standing for every other character, and a name the child matches and no parent pattern does is
searched for breadth first. ``pay.*`` is not within ``pay.small*`` (``pay.large`` is a witness);
``a*`` is within ``a`` and ``a?*`` together.

Resource patterns are read by ``fnmatchcase`` too, where ``[...]`` is a character class: a child
resource pattern with ``[`` is accepted only when a parent pattern is the very same text, and a
parent pattern with ``[`` covers only itself (fail closed: refused rather than guessed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_STATES",
    "MAX_WORK",
    "Exceeds",
    "act_actors",
    "act_claim",
    "covered",
    "narrowing_problems",
    "uncovered_name",
]

#: most automaton states the coverage search visits before it gives up (and refuses)
MAX_STATES = 20_000
#: most pattern positions the coverage search steps through in all (a state of long patterns
#: with many ``*`` holds thousands of positions: states alone do not bound the work; one child
#: pattern of 4 000 characters took a minute of CPU within :data:`MAX_STATES`)
MAX_WORK = 2_000_000
_OTHER = "\x00"  # stands for every character no pattern names
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."


def _tokens(pattern: str) -> str:
    # `**` is `*`: fewer states, the same language
    out: list[str] = []
    for ch in pattern:
        if ch == "*" and out and out[-1] == "*":
            continue
        out.append(ch)
    return "".join(out)


def _closure(tokens: str, states: set[int]) -> frozenset[int]:
    stack, seen = list(states), set(states)
    while stack:
        i = stack.pop()
        if i < len(tokens) and tokens[i] == "*" and i + 1 not in seen:
            seen.add(i + 1)
            stack.append(i + 1)
    return frozenset(seen)


def _step(tokens: str, states: frozenset[int], ch: str) -> frozenset[int]:
    nxt: set[int] = set()
    for i in states:
        if i >= len(tokens):
            continue
        t = tokens[i]
        if t == "*":
            nxt.add(i)
        elif t in ("?", ch):
            nxt.add(i + 1)
    return _closure(tokens, nxt) if nxt else frozenset()


class _Work:
    """What is left of :data:`MAX_WORK`, shared by every search of one delegation."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_WORK


def uncovered_name(child: str, parents: Sequence[str], *, _work: _Work | None = None) -> str | None:
    """A tool name ``child`` matches and no pattern of ``parents`` does, or None when every name
    it matches is matched by one of them (``child`` is covered). Raises :class:`OverflowError`
    when the search outgrows :data:`MAX_STATES` or :data:`MAX_WORK` (the caller refuses then)."""
    ctoks = _tokens(child)
    ptoks = [_tokens(p) for p in parents]
    if child in parents:
        return None
    literals = sorted({c for t in (ctoks, *ptoks) for c in t if c not in "*?"})
    alphabet = [*literals, _OTHER]
    start = (
        _closure(ctoks, {0}),
        tuple(_closure(t, {0}) for t in ptoks),
    )
    seen = {start}
    queue: deque[tuple[tuple[frozenset[int], tuple[frozenset[int], ...]], str]] = deque([(start, "")])
    budget = _Work() if _work is None else _work
    while queue:
        (cs, ps), word = queue.popleft()
        if len(ctoks) in cs and not any(len(t) in s for t, s in zip(ptoks, ps, strict=True)):
            return _spell(word, literals)
        budget.left -= len(alphabet) * (len(cs) + sum(len(s) for s in ps) + len(word))
        if budget.left < 0:
            raise OverflowError("pattern coverage search too large")
        for ch in alphabet:
            ncs = _step(ctoks, cs, ch)
            if not ncs:
                continue  # the child matches nothing down this way
            nps = tuple(_step(t, s, ch) for t, s in zip(ptoks, ps, strict=True))
            key = (ncs, nps)
            if key in seen:
                continue
            if len(seen) >= MAX_STATES:
                raise OverflowError("pattern coverage search too large")
            seen.add(key)
            queue.append((key, word + ch))
    return None


def _spell(word: str, literals: Sequence[str]) -> str:
    """``word`` with the stand-in for other characters spelled as a real one."""
    other = next((c for c in _NAME_CHARS if c not in literals), "~")
    return word.replace(_OTHER, other)


def covered(child: str, parents: Sequence[str]) -> bool:
    """Whether every name ``child`` matches is matched by some pattern of ``parents`` (False when
    that cannot be shown within :data:`MAX_STATES`)."""
    try:
        return uncovered_name(child, parents) is None
    except OverflowError:
        return False


@dataclass(frozen=True, slots=True)
class Exceeds:
    """One way a child's scope exceeds its parent's: ``what`` is ``tool``, ``resource``,
    ``max_calls`` or ``deadline``; ``value`` the child's; ``detail`` why."""

    what: str
    value: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"what": self.what, "value": self.value, "detail": self.detail}

    def text(self) -> str:
        return f"{self.what} `{self.value[:200]}` {self.detail}"


def _resource_uncovered(child: str, parents: Sequence[str], work: _Work) -> str | None:
    """Why resource pattern ``child`` is not within ``parents`` (None: it is)."""
    if child in parents:
        return None
    if "[" in child:
        return "uses a `[...]` class that no parent pattern repeats verbatim"
    plain = [p for p in parents if "[" not in p]
    try:
        name = uncovered_name(child, plain, _work=work)
    except OverflowError:
        return "cannot be shown to be within the parent's resources"
    return None if name is None else f"matches `{name[:200]}`, outside the parent's resources"


def narrowing_problems(
    *,
    parent_allow: Sequence[str],
    parent_resources: Sequence[str],
    child_allow: Sequence[str],
    child_resources: Sequence[str],
) -> list[Exceeds]:
    """Everything about the child's tools and resources that exceeds the parent's (empty: the
    child's are a subset)."""
    out: list[Exceeds] = []
    work = _Work()  # one bound for the whole check: many patterns are no more work than one
    for pat in child_allow:
        try:
            name = uncovered_name(pat, parent_allow, _work=work)
        except OverflowError:
            out.append(Exceeds("tool", pat, "cannot be shown to be within the parent's tools"))
            continue
        if name is not None:
            out.append(
                Exceeds(
                    "tool",
                    pat,
                    f"matches `{name[:200]}`, which no tool pattern of the parent"
                    f" ({', '.join(parent_allow)}) matches",
                )
            )
    if parent_resources:
        if not child_resources:
            out.append(
                Exceeds(
                    "resource",
                    "(any)",
                    "is more than the parent's resources: the parent declares"
                    f" {', '.join(parent_resources)}, so the child must declare resources within them",
                )
            )
        for pat in child_resources:
            why = _resource_uncovered(pat, parent_resources, work)
            if why is not None:
                out.append(Exceeds("resource", pat, why))
    return out


# --- the chain in tokens (RFC 8693 §4.1, docs/adr/0037) -------------------------------------------
def act_claim(chain: Sequence[tuple[str, str]], trust_domain: str) -> dict[str, Any] | None:
    """The RFC 8693 ``act`` claim of a delegated task whose chain (root first, the task itself
    last: ``TaskRecord.chain``) is ``chain``: the current actor (the task's own agent) outermost,
    each prior actor nested inside the one it delegated to, the root task's agent innermost. Each
    level names the agent's SPIFFE ID (``sub``) and its task (``task``). None for a root task (a
    chain of fewer than two links: nobody acts for anybody)."""
    if len(chain) < 2:
        return None
    act: dict[str, Any] | None = None
    for agent, task in chain:  # root first: each later actor wraps the one before it
        level: dict[str, Any] = {"sub": f"spiffe://{trust_domain}/agent/{agent}", "task": task}
        if act is not None:
            level["act"] = act
        act = level
    return act


def act_actors(act: object, *, max_depth: int = 16) -> list[str] | None:
    """The ``sub`` of every level of an ``act`` claim, current actor first; None when it is not a
    well-formed chain (a level that is no object, has no string ``sub``, or nests deeper than
    ``max_depth``)."""
    out: list[str] = []
    while act is not None:
        if not isinstance(act, dict) or not isinstance(act.get("sub"), str) or len(out) >= max_depth:
            return None
        out.append(act["sub"])
        act = act.get("act")
    return out
