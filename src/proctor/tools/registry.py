"""The tool registry: what agents may call, with its effect and labels (``tool.registered``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Container
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proctor.audit.log import AuditLog
from proctor.config import Settings
from proctor.errors import UnknownTool, ValidationError
from proctor.policy.engine import CREDENTIAL_ACTION
from proctor.store.base import Store, ToolRecord
from proctor.tools.known import KnownTools
from proctor.types import ToolName

if TYPE_CHECKING:
    import mcp_types

    from proctor.credentials.providers.base import ProviderRegistry
    from proctor.gateway.config import UpstreamConfig
    from proctor.gateway.pinning import PinReport
    from proctor.store.base import ToolPin


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

    def known(self, root: Path) -> KnownTools:
        """The tool names this workspace knows (registered or pinned), and the upstreams in
        ``root``'s ``upstreams.yaml`` that may still list more (unpinned ones): what typos in
        ``--allow`` patterns are caught against (:mod:`proctor.tools.known`)."""
        from proctor.gateway.config import load_upstreams

        pins = self.pins()
        pinned = {p.namespace for p in pins}
        names = {str(t.name) for t in self.list()} | {str(p.name) for p in pins}
        ups = [u for u in load_upstreams(root) if u.namespace not in pinned]
        return KnownTools(
            frozenset(names),
            frozenset(u.namespace for u in ups if u.prefix),
            next((u.namespace for u in ups if not u.prefix), None),
        )

    # pins and upstreams (`tools pin`, `tools diff`, `upstream ...`): the gateway's helpers, handed
    # this service's store and audit log so that the CLI holds neither
    def pins(self, namespace: str | None = None) -> builtins.list[ToolPin]:
        """The stored pins of ``namespace`` (every namespace's with None)."""
        from proctor.gateway.pinning import list_pins

        return list_pins(self.store, namespace)

    def pin(
        self, namespace: str, discovered: builtins.list[mcp_types.Tool], *, now: float, by: str
    ) -> tuple[builtins.list[ToolPin], PinReport]:
        """Pin what ``discovered`` lists for ``namespace`` and record ``tools.pinned``
        (:func:`proctor.gateway.pinning.pin_namespace`)."""
        from proctor.gateway.pinning import pin_namespace

        return pin_namespace(self.store, self.audit, namespace, discovered, now=now, by=by)

    def add_upstream(self, root: Path, cfg: UpstreamConfig, *, by: str = "cli") -> None:
        """Add an upstream to ``root``'s ``upstreams.yaml`` and record ``upstream.added``."""
        from proctor.gateway.upstreams import add_upstream

        add_upstream(root, self.audit, cfg, by=by)

    def add_a2a_upstream(
        self, root: Path, cfg: UpstreamConfig, *, actions: Container[str], by: str = "cli"
    ) -> UpstreamConfig:
        """Add an A2A agent (docs/adr/0038): its card verified against the pinned keys, its digest
        pinned, its skills registered as tools (each effect must be one of ``actions``, the policy
        schema's). A refused card is audited and raised."""
        from proctor.gateway.upstreams import add_upstream, check_effects, pin_a2a_card

        pinned = pin_a2a_card(self.audit, cfg, by=by)
        check_effects(pinned, actions)
        add_upstream(root, self.audit, pinned, by=by)
        return pinned

    def refresh_a2a_upstream(
        self,
        root: Path,
        namespace: str,
        *,
        repin: bool = False,
        actions: Container[str] | None = None,
        by: str = "cli",
    ) -> UpstreamConfig:
        """Check an A2A agent's card again (re-pin a changed, validly signed card with ``repin``;
        its skills' effects must then be among ``actions``)."""
        from proctor.gateway.upstreams import refresh_a2a

        return refresh_a2a(root, self.audit, namespace, repin=repin, actions=actions, by=by)

    def remove_upstream(self, root: Path, namespace: str, *, by: str = "cli") -> int:
        """Remove an upstream and its pins and record ``upstream.removed``; returns how many pins went."""
        from proctor.gateway.upstreams import remove_upstream

        return remove_upstream(root, self.store, self.audit, namespace, by=by)

    def add_upstream_credential(
        self, root: Path, namespace: str, raw: dict[str, Any], providers: ProviderRegistry, *, by: str = "cli"
    ) -> None:
        """Give an upstream a credential and record ``upstream.credential_added``."""
        from proctor.gateway.upstreams import add_credential

        add_credential(root, self.audit, namespace, raw, providers, by=by)

    def remove_upstream_credential(self, root: Path, namespace: str, name: str, *, by: str = "cli") -> None:
        """Take a credential off an upstream and record ``upstream.credential_removed``."""
        from proctor.gateway.upstreams import remove_credential

        remove_credential(root, self.audit, namespace, name, by=by)


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
        "access_control",
        "credential_change",
        "egress",
        "input_schema",
        "destinations",
    )
    return all(getattr(a, f) == getattr(b, f) for f in fields)


__all__ = ["Tools"]
