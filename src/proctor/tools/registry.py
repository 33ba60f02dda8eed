"""The tool registry: what agents may call, with its effect and labels (``tool.registered``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable

from proctor.audit.log import AuditLog
from proctor.config import Settings
from proctor.errors import UnknownTool, ValidationError
from proctor.policy.engine import CREDENTIAL_ACTION
from proctor.store.base import Store, ToolRecord
from proctor.types import ToolName


class Tools:
    """The registered tools of one workspace."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        audit: AuditLog,
        *,
        schema_actions: Callable[[], frozenset[str]],
    ) -> None:
        """``schema_actions()``: the actions the policy schema declares (a tool's effect must be one)."""
        self.settings = settings
        self.store = store
        self.audit = audit
        self.schema_actions = schema_actions

    def sync_config(self) -> None:
        """Register the tools the workspace config declares (config wins over older versions)."""
        for tool in self.settings.tools:
            self.put(tool, by="config")

    def put(self, tool: ToolRecord, *, by: str = "api") -> ToolRecord:
        if tool.effect == CREDENTIAL_ACTION:
            raise ValidationError(f"`{CREDENTIAL_ACTION}` is not a tool effect: it decides credentials")
        if tool.effect not in self.schema_actions():
            raise ValidationError(
                f"tool `{tool.name}` has effect `{tool.effect}`, which the policy schema has no action for:"
                f' add `action "{tool.effect}"` to policies/schema.cedarschema'
            )
        existing = self.store.get_tool(tool.name)
        if existing is not None and _same_tool(existing, tool):
            return existing
        rec = self.store.put_tool(tool)
        self.audit.append(
            "tool.registered", {"by": by, "effect": rec.effect, "version": rec.version}, tool=str(rec.name)
        )
        return rec

    def get(self, name: str) -> ToolRecord:
        rec = self.store.get_tool(ToolName(name))
        if rec is None:
            raise UnknownTool(f"unknown tool `{name}`")
        return rec

    def list(self) -> builtins.list[ToolRecord]:
        """Every registered tool (`tool list`, `GET /v1/tools`)."""
        return self.store.list_tools()


def _same_tool(a: ToolRecord, b: ToolRecord) -> bool:
    fields = (
        "effect",
        "resource_pattern",
        "resource_arg",
        "trust",
        "sensitivity",
        "destructive",
        "financial",
        "customer_facing",
        "production",
        "description",
    )
    return all(getattr(a, f) == getattr(b, f) for f in fields)


__all__ = ["Tools"]
