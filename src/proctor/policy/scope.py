"""The task's declared scope. It runs beside Cedar and can only narrow what policy permits."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from proctor.errors import ValidationError
from proctor.store.base import TaskRecord, ToolRecord

__all__ = [
    "MAX_RESOURCES",
    "MAX_RESOURCE_LEN",
    "NO_RESOURCE",
    "RESOURCE_ARG_SPEC",
    "ScopeVerdict",
    "check_resource_pattern",
    "check_scope",
    "check_tool_pattern",
    "declares_namespace",
    "resource_args",
    "resource_of",
    "resources_of",
]


_TOOL_PATTERN = re.compile(r"[a-z0-9_*?.-]{1,200}")
MAX_RESOURCE_LEN = 4096


@dataclass(frozen=True, slots=True)
class ScopeVerdict:
    """Whether a call is inside its task's declared intent, and why not."""

    ok: bool
    reason: str
    resource: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "resource": self.resource}


def check_tool_pattern(pattern: str) -> str:
    """Validate a task's ``--allow`` pattern: tool names with ``*`` and ``?`` wildcards."""
    if not _TOOL_PATTERN.fullmatch(pattern):
        raise ValidationError(
            f"invalid tool pattern `{pattern[:80]}`: use tool names with `*` or `?` wildcards"
        )
    return pattern


def check_resource_pattern(pattern: str) -> str:
    """Validate a ``--resource`` pattern."""
    if not pattern or len(pattern) > MAX_RESOURCE_LEN or "\x00" in pattern:
        raise ValidationError(f"invalid resource pattern `{pattern[:80]}`")
    if _has_traversal(pattern):
        raise ValidationError(f"resource pattern `{pattern[:80]}` contains a `..` segment")
    return pattern


def _has_traversal(value: str) -> bool:
    """Whether ``value`` has a ``..`` segment, also once percent-decoded (up to three times): a URL
    resource is decoded by the server it reaches, to which ``%2e%2e`` (or ``%252e%252e`` behind a
    proxy) is ``..``. A file name that merely contains ``%2e%2e`` is refused too (fails closed)."""
    for _ in range(4):
        if ".." in re.split(r"[/\\]", value):
            return True
        decoded = unquote(value)
        if decoded == value:
            return False
        value = decoded
    return True  # still encoded after three rounds: nobody names a resource like that


#: ``resource_arg`` of a tool that touches nothing a task's ``--resource`` could scope (a clock,
#: a calculator): such a tool stays callable in a task that declares resources
NO_RESOURCE = "-"
_ARG = r"[A-Za-z_][A-Za-z0-9_]{0,63}(?:\[\])?"
#: one argument name, ``name[]`` for a list of resources, several separated by commas, or ``-``
RESOURCE_ARG_SPEC = re.compile(rf"-|{_ARG}(?:,{_ARG}){{0,7}}")
#: most resources one call may name (a list argument longer than this is refused)
MAX_RESOURCES = 256


def resource_args(tool: ToolRecord) -> tuple[tuple[str, bool], ...] | None:
    """The arguments that name what a call of ``tool`` touches, each with whether it holds a list;
    ``()`` when the tool is described as touching none, None when nobody described it.

    >>> from proctor.types import ToolName
    >>> resource_args(ToolRecord(ToolName("fs.move_file"), "write", resource_arg="source,destination"))
    (('source', False), ('destination', False))
    >>> resource_args(ToolRecord(ToolName("fs.read_multiple"), "read", resource_arg="paths[]"))
    (('paths', True),)
    """
    spec = tool.resource_arg
    if spec is None:
        return None
    if spec == NO_RESOURCE:
        return ()
    return tuple((a[:-2], True) if a.endswith("[]") else (a, False) for a in spec.split(","))


def resources_of(tool: ToolRecord, args: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The data a call touches: the values of the tool's resource arguments, ``()`` if it has none.

    Returns None when the tool names a resource argument and the call does not give a usable one
    (missing, not a string or integer, an empty or oversized list).
    """
    specs = resource_args(tool)
    if not specs:
        return ()
    out: list[str] = []
    for name, many in specs:
        value = args.get(name)
        values = value if many else [value]
        if not isinstance(values, list) or not values or len(values) > MAX_RESOURCES:
            return None
        for v in values:
            if isinstance(v, bool) or not isinstance(v, str | int):
                return None
            out.append(str(v))
    return tuple(out)


def resource_of(tool: ToolRecord, args: Mapping[str, Any]) -> str | None:
    """The first resource a call touches (see :func:`resources_of`), ``""`` if none."""
    found = resources_of(tool, args)
    if found is None:
        return None
    return found[0] if found else ""


def check_scope(task: TaskRecord, tool: ToolRecord, resources: tuple[str, ...] | None) -> ScopeVerdict:
    """Is this tool, on these resources, inside the task's declared intent and the tool's own pattern?

    A task that declares resources admits only calls whose resources are known: a tool nobody
    described (no resource argument) is denied in it, with how to describe the tool.
    """
    first = resources[0] if resources else ""
    if not any(fnmatchcase(tool.name, p) for p in task.allow):
        return ScopeVerdict(False, f"tool `{tool.name}` is outside the task's declared tools", first)
    if resources is None:
        return ScopeVerdict(
            False, f"the call gives no usable `{tool.resource_arg}` argument, so its resource is unknown", ""
        )
    if task.resources and tool.resource_arg is None:
        return ScopeVerdict(
            False,
            f"the task declares resources, but nothing says which argument of `{tool.name}` names what it"
            " touches, so the call cannot be checked against them: describe the tool (`proctor tool add"
            f" {tool.name} --resource-arg ARG`, or `resource_arg:` under the upstream's `tools:` in"
            " upstreams.yaml; `-` for a tool that touches no resource)",
            "",
        )
    for resource in resources:
        if len(resource) > MAX_RESOURCE_LEN or "\x00" in resource:
            return ScopeVerdict(False, "the resource is oversized or contains a NUL byte", resource[:80])
        if resource and _has_traversal(resource):
            return ScopeVerdict(False, f"resource `{resource[:200]}` contains a `..` segment", resource)
        # an empty value names something too (a server resolves `""` to its working directory)
        if not fnmatchcase(resource, tool.resource_pattern):
            return ScopeVerdict(
                False,
                f"resource `{resource[:200]}` is outside tool pattern `{tool.resource_pattern}`",
                resource,
            )
        if task.resources and not any(fnmatchcase(resource, p) for p in task.resources):
            return ScopeVerdict(
                False, f"resource `{resource[:200]}` is outside the task's declared resources", resource
            )
    return ScopeVerdict(True, "in scope", first)


def declares_namespace(allow: Sequence[str], namespace: str) -> bool:
    """Whether a task's ``--allow`` patterns can match a tool of upstream ``namespace`` (some
    ``namespace.tool``). It may say yes for a pattern that matches none, never no for one that
    matches some: a ``?`` can stand for the dot (``billing?*``).

    >>> declares_namespace(["billing.*"], "billing"), declares_namespace(["*"], "db")
    (True, True)
    >>> declares_namespace(["fs.read"], "billing"), declares_namespace(["bill*"], "billing")
    (False, True)
    >>> declares_namespace(["billing?*"], "billing"), declares_namespace(["b?lling?read"], "billing")
    (True, True)
    >>> declares_namespace(["billing"], "billing"), declares_namespace(["billing?"], "billing")
    (False, False)
    """
    prefix = namespace + "."
    for pat in allow:
        star = pat.find("*")
        head = pat if star < 0 else pat[:star]
        if star < 0 and len(pat) <= len(prefix):
            continue  # no room for a tool after `namespace.`
        # up to its first `*` (which can take anything after), the pattern must agree with
        # `namespace.` wherever both have a character: `?` agrees with any
        if all(h in ("?", c) for h, c in zip(head, prefix, strict=False)):
            return True
    return False
