"""Tool names as agents see them, and back (docs/adr/0014).

Proctor's own name for an upstream tool is its **canonical** name, ``namespace.tool``: policies,
``--allow`` patterns, pins and the audit use it. Clients want something narrower: Claude Desktop
drops a server's whole tool list when one name does not match ``^[a-zA-Z0-9_-]{1,64}$``, and
OpenAI function names allow no dots. So the gateway shows each tool under an **exposed** name in
that alphabet, ``namespace<separator>tool`` (the separator is ``gateway.tool_separator``, ``__``
by default):

* an upstream name that is already plain (``[A-Za-z0-9][A-Za-z0-9_-]{0,62}``) is kept as the
  upstream spells it: ``fs__read_text_file``, canonical ``fs.read_text_file`` (lowercased, as
  before);
* any other upstream name (dots, slashes, spaces, Unicode, too long) becomes an ASCII slug and a
  hash of the exact name, in both names: ``get.weather`` is ``get_weather-<10 hex>``, so a look-alike
  never turns into the name it imitates;
* an exposed name over 64 characters keeps its first 53 and appends ``-`` and 10 hex of the
  SHA-256 of the canonical name (the same in every process);
* namespaces are checked against the separator (:func:`check_namespace`), so the namespace of an
  exposed name is what comes before its first separator.

Hashes make collisions rare, never impossible (a hostile upstream can list a tool under another's
exposed or hashed name): :func:`name_table` hides every name that shares its canonical name, its
lowercase spelling or its exposed name with another, and says why. A call resolves only through
that table, from the exact exposed name the gateway lists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from proctor.errors import ValidationError

#: what Claude Desktop (and the MCP Inspector's checks, OpenAI's function names) accept
EXPOSED = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_EXPOSED = 64
DEFAULT_SEPARATOR = "__"
#: upstream names longer than this (MCP recommends at most 128) are not routed at all
MAX_UPSTREAM_NAME = 128
HASH_HEX = 10
#: an upstream name kept as it is: lowercased, it is a segment of a Proctor tool name
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_SEPARATOR = re.compile(r"[A-Za-z0-9_-]{1,4}")
_NOT_SLUG = re.compile(r"[^A-Za-z0-9_-]+")
#: room for one character of the tool, `-` and the hash after `namespace + separator`
MAX_PREFIX = MAX_EXPOSED - 2 - HASH_HEX
#: a shortened name keeps this many characters of the full one
_KEEP = MAX_EXPOSED - 1 - HASH_HEX


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX]


def check_separator(sep: str) -> str:
    """The separator between namespace and tool in exposed names: 1-4 of ``A-Za-z0-9_-``."""
    if not isinstance(sep, str) or not _SEPARATOR.fullmatch(sep):
        raise ValidationError(
            f"invalid tool separator `{str(sep)[:20]}`: use 1-4 of A-Z a-z 0-9 _ - (the default is `__`)"
        )
    return sep


def check_namespace(namespace: str, sep: str) -> str:
    """Refuse a namespace that would make exposed names ambiguous: the first separator of
    ``namespace + sep + tool`` must be the one after the namespace (``a__b`` and ``a_`` are refused
    with ``__``), and ``namespace + sep`` must survive the shortening of long names."""
    if (namespace + sep).find(sep) != len(namespace):
        raise ValidationError(
            f"namespace `{namespace[:80]}` contains or ends with part of the tool separator `{sep}`:"
            " exposed tool names would be ambiguous"
        )
    if len(namespace) + len(sep) > MAX_PREFIX:
        raise ValidationError(
            f"namespace `{namespace[:80]}` is too long: with the separator `{sep}` it may have at most"
            f" {MAX_PREFIX - len(sep)} characters"
        )
    return namespace


def routable(upstream_name: str) -> bool:
    """Whether Proctor routes an upstream tool of this name at all."""
    return 0 < len(upstream_name) <= MAX_UPSTREAM_NAME


def canonical_part(upstream_name: str) -> str:
    """The tool part of the canonical name (after ``namespace.``): the lowercased name when it is
    plain, else a lowercase ASCII slug and the hash of the exact name."""
    if not routable(upstream_name):
        raise ValidationError(f"upstream tool `{upstream_name[:80]!r}` has a name Proctor cannot route")
    if _PLAIN.fullmatch(upstream_name):
        return upstream_name.lower()
    slug = _NOT_SLUG.sub("_", upstream_name).lower().lstrip("_-")[: 62 - HASH_HEX] or "tool"
    return f"{slug}-{_hash(upstream_name)}"


def canonical_name(namespace: str, upstream_name: str) -> str:
    """Proctor's name for an upstream tool: ``namespace.`` and :func:`canonical_part`."""
    return f"{namespace}.{canonical_part(upstream_name)}"


def exposed_name(namespace: str, upstream_name: str, sep: str, *, prefix: bool = True) -> str:
    """The name agents see: ``namespace + sep + tool`` (or the tool alone for the one upstream with
    ``prefix: false``), where the tool keeps the upstream's spelling when it is plain; over 64
    characters, the first 53 and ``-`` and 10 hex of the SHA-256 of the canonical name."""
    part = upstream_name if _PLAIN.fullmatch(upstream_name) else canonical_part(upstream_name)
    full = f"{namespace}{sep}{part}" if prefix else part
    if len(full) <= MAX_EXPOSED:
        return full
    return f"{full[:_KEEP]}-{_hash(canonical_name(namespace, upstream_name))}"


def split(exposed: str, sep: str) -> tuple[str, str] | None:
    """``(namespace, rest)`` of an exposed name, cut at its first separator (None if it has none)."""
    i = exposed.find(sep)
    if i <= 0:
        return None
    return exposed[:i], exposed[i + len(sep) :]


@dataclass(frozen=True)
class NameTable:
    """The exposed names of one upstream's tools, both ways, and the tools hidden (with why)."""

    namespace: str
    #: upstream name -> exposed name
    exposed: dict[str, str] = field(default_factory=dict)
    #: exposed name -> upstream name (the only way a call finds its tool)
    upstream: dict[str, str] = field(default_factory=dict)
    #: upstream name -> canonical name
    canonical: dict[str, str] = field(default_factory=dict)
    #: upstream name -> why it is not offered
    hidden: dict[str, str] = field(default_factory=dict)
    #: every upstream name the table was made from
    names: frozenset[str] = frozenset()


def name_table(
    namespace: str,
    upstream_names: Iterable[str],
    sep: str,
    *,
    prefix: bool = True,
    reserved: Collection[str] = (),
) -> NameTable:
    """Exposed and canonical names for one upstream's listing. A name is hidden when it cannot be
    routed, when another listed name has the same canonical name, the same lowercase spelling or
    the same exposed name (all of them are hidden: none can be told apart), or, for the upstream
    with ``prefix: false``, when its exposed name would be read as a tool of a namespace in
    ``reserved``."""
    listed = list(dict.fromkeys(upstream_names))
    table = NameTable(namespace, names=frozenset(listed))
    canon: dict[str, str] = {}
    expo: dict[str, str] = {}
    for u in listed:
        if not routable(u):
            table.hidden[u] = "its name is empty or longer than 128 characters"
            continue
        canon[u] = canonical_name(namespace, u)
        expo[u] = exposed_name(namespace, u, sep, prefix=prefix)

    def clashes(key: dict[str, str], what: str) -> None:
        seen: dict[str, list[str]] = {}
        for u, k in key.items():
            seen.setdefault(k, []).append(u)
        for group in seen.values():
            if len(group) > 1:
                for u in group:
                    table.hidden.setdefault(u, f"another tool of the upstream has the same {what}")

    clashes(canon, "Proctor name")
    clashes({u: u.lower() for u in canon}, "name but for case")
    clashes(expo, "exposed name")
    for u, e in expo.items():
        if u in table.hidden:
            continue
        parts = None if prefix else split(e, sep)
        if parts is not None and parts[0] in reserved:
            table.hidden[u] = f"its exposed name `{e}` would name a tool of upstream `{parts[0]}`"
            continue
        table.exposed[u] = e
        table.upstream[e] = u
        table.canonical[u] = canon[u]
    return table


__all__ = [
    "DEFAULT_SEPARATOR",
    "EXPOSED",
    "MAX_EXPOSED",
    "NameTable",
    "canonical_name",
    "canonical_part",
    "check_namespace",
    "check_separator",
    "exposed_name",
    "name_table",
    "routable",
    "split",
]
