"""The task's declared scope. It runs beside Cedar and can only narrow what policy permits."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from proctor.errors import ValidationError
from proctor.store.base import TaskRecord, ToolRecord

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
    return ".." in re.split(r"[/\\]", value)


def resource_of(tool: ToolRecord, args: Mapping[str, Any]) -> str | None:
    """The data a call touches: the value of the tool's resource argument, or ``""`` if it has none.

    Returns None when the tool names a resource argument and the call does not give a usable one.
    """
    if tool.resource_arg is None:
        return ""
    value = args.get(tool.resource_arg)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def check_scope(task: TaskRecord, tool: ToolRecord, resource: str | None) -> ScopeVerdict:
    """Is this tool, on this resource, inside the task's declared intent and the tool's own pattern?"""
    if not any(fnmatchcase(tool.name, p) for p in task.allow):
        return ScopeVerdict(False, f"tool `{tool.name}` is outside the task's declared tools", resource or "")
    if resource is None:
        return ScopeVerdict(
            False, f"the call gives no usable `{tool.resource_arg}` argument, so its resource is unknown", ""
        )
    if len(resource) > MAX_RESOURCE_LEN or "\x00" in resource:
        return ScopeVerdict(False, "the resource is oversized or contains a NUL byte", resource[:80])
    if resource and _has_traversal(resource):
        return ScopeVerdict(False, f"resource `{resource[:200]}` contains a `..` segment", resource)
    if resource and not fnmatchcase(resource, tool.resource_pattern):
        return ScopeVerdict(
            False, f"resource `{resource[:200]}` is outside tool pattern `{tool.resource_pattern}`", resource
        )
    if (
        task.resources
        and tool.resource_arg is not None
        and not any(fnmatchcase(resource, p) for p in task.resources)
    ):
        return ScopeVerdict(
            False, f"resource `{resource[:200]}` is outside the task's declared resources", resource
        )
    return ScopeVerdict(True, "in scope", resource)


def declares_namespace(allow: Sequence[str], namespace: str) -> bool:
    """Whether a task's ``--allow`` patterns can match a tool of upstream ``namespace``.

    >>> declares_namespace(["billing.*"], "billing"), declares_namespace(["*"], "db")
    (True, True)
    >>> declares_namespace(["fs.read"], "billing"), declares_namespace(["bill*"], "billing")
    (False, True)
    """
    for pat in allow:
        head, dot, _ = pat.partition(".")
        if dot and fnmatchcase(namespace, head):
            return True
        if not dot and "*" in pat and fnmatchcase(namespace, pat):
            return True
    return False
