"""Catching typos in the tool names and patterns a person types (``task start --allow``,
``upstream add --tool-effect``): a name that matches no known tool is refused with the closest
known names (``did you mean `mail.*`?``), instead of starting a task that can call nothing.

What "known" means: the registered tools (``tool add``, ``proctor.yaml``, and every upstream tool
the gateway has listed) and the pinned ones. A tool of an upstream whose namespace is **not pinned**
cannot be known before the gateway first lists it (an unpinned namespace's tools are usable as
listed, ADR 0007), so a pattern that can only match such tools is accepted with a warning (the
typo stays visible, and a task for a server started a minute ago still starts); once a namespace
is pinned, its tools are exactly its pins and a pattern matching none of them is an error (re-pin
first if the server really added the tool).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from proctor.errors import NoSuchTool
from proctor.policy.scope import check_tool_pattern, declares_namespace

__all__ = ["KnownTools", "did_you_mean"]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` did you mean `x`?`` (or `` `x` or `y`?``) for the closest candidates, else ``""``."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


@dataclass(frozen=True, slots=True)
class KnownTools:
    """The tool names a workspace knows, and the upstreams that may still bring more."""

    #: registered and pinned tool names (``namespace.tool`` for an upstream's)
    names: frozenset[str]
    #: namespaces of upstreams with no pins: their tools appear when the gateway lists them
    open_namespaces: frozenset[str] = frozenset()
    #: an unpinned upstream exposes its tools without the ``namespace.`` prefix: any name may be its
    open_unprefixed: str | None = None

    def _suggestions(self) -> set[str]:
        """What a typo is compared with: each name, each name's namespace as `ns.*`, each upstream's."""
        out = set(self.names)
        out.update(f"{n.rsplit('.', 1)[0]}.*" for n in self.names if "." in n)
        out.update(f"{ns}.*" for ns in self.open_namespaces)
        return out

    def check_allow(self, patterns: Sequence[str], option: str = "--allow") -> list[str]:
        """Refuse (:class:`NoSuchTool`) the first pattern that matches no known tool and no tool an
        unpinned upstream may list; return one warning per pattern accepted only for such an upstream."""
        warnings: list[str] = []
        for pat in patterns:
            check_tool_pattern(pat)  # its shape first: `Mail.*` is not a typo of a name
            if any(fnmatchcase(name, pat) for name in self.names):
                continue
            hint = did_you_mean(pat, self._suggestions())
            upstream = self.open_unprefixed or next(
                (ns for ns in sorted(self.open_namespaces) if declares_namespace([pat], ns)), None
            )
            if upstream is not None:
                warnings.append(
                    f"{option} `{pat}` matches no known tool yet; upstream `{upstream}` is not pinned, so its"
                    f" tools are known once listed (`proctor upstream tools {upstream}`){hint}"
                )
                continue
            none = "" if self.names else " (none is registered: `proctor tool add` or `proctor upstream add`)"
            raise NoSuchTool(
                f"{option} `{pat}` matches no known tool{none}{hint or ''}"
                + ("" if hint else "; see `proctor tool list` (an upstream's tools: `proctor tools pin NS`)"),
                pattern=pat,
            )
        return warnings

    @staticmethod
    def check_upstream_tools(names: Collection[str], listed: Collection[str], option: str) -> None:
        """Refuse an override (``--tool-effect TOOL=…``) naming a tool the upstream does not list."""
        for name in sorted(names):
            if name not in listed:
                raise NoSuchTool(
                    f"{option} `{name}`: the upstream lists no tool `{name}`"
                    + (
                        did_you_mean(name, listed) or f"; it lists {', '.join(sorted(listed)[:10]) or 'none'}"
                    ),
                    tool=name,
                )
