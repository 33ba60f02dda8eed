"""The tools the gateway offers: which upstream an exposed name belongs to, the exposed names of
each upstream's tools (docs/adr/0014), their registration in Proctor's tool registry and their pins.

Nothing here opens a session or decides a call: the catalog is handed a task's sessions
(:class:`~proctor.gateway.sessions.TaskUpstreams`) to list through, and :mod:`proctor.gateway.calls`
asks it what a name resolves to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import mcp_types as types

from proctor.errors import ConfigError, ProctorError, ValidationError
from proctor.gateway import names
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.sessions import TaskUpstreams
from proctor.policy.scope import declares_namespace
from proctor.store.base import TaskRecord, ToolRecord

if TYPE_CHECKING:
    from proctor.app import Proctor

__all__ = ["Catalog"]

log = logging.getLogger(__name__)


def _schema_key(schema: Mapping[str, Any] | None) -> str:
    """A tool's input schema as a registration cache key (a changed schema registers again)."""
    if schema is None:
        return ""
    try:
        return json.dumps(schema, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(schema)


class Catalog:
    """The upstreams ``upstreams.yaml`` holds now, and what their tools are called: one per
    gateway process, shared by every downstream connection."""

    def __init__(self, proctor: Proctor, upstreams: list[UpstreamConfig]) -> None:
        self.proctor = proctor
        #: between namespace and tool in exposed names (docs/adr/0014)
        self.separator = names.check_separator(proctor.settings.gateway_tool_separator)
        try:
            self.check(upstreams)
        except ValidationError as exc:
            raise ConfigError(f"upstreams.yaml: {exc.message}") from None
        self.upstreams: dict[str, UpstreamConfig] = {}
        self.unprefixed: UpstreamConfig | None = None
        self._prefixed: frozenset[str] = frozenset()
        #: namespace -> (the catalog it was made from, the exposed names of its tools)
        self._tables: dict[str, tuple[Mapping[str, Any], names.NameTable]] = {}
        self._registered: dict[tuple[str, str, str, str], ToolRecord] = {}
        #: (namespace, Proctor tool name) -> the name that upstream lists for it
        self._listed_as: dict[tuple[str, str], str] = {}
        self._use(upstreams)

    def check(self, upstreams: list[UpstreamConfig]) -> None:
        """Raise ValidationError when a namespace cannot be served with this separator."""
        for u in upstreams:
            names.check_namespace(u.namespace, self.separator)

    def _use(self, upstreams: list[UpstreamConfig]) -> None:
        self.upstreams = {u.namespace: u for u in upstreams}
        self.unprefixed = next((u for u in upstreams if not u.prefix), None)
        self._prefixed = frozenset(u.namespace for u in upstreams if u.prefix)

    def replace(self, fresh: list[UpstreamConfig]) -> list[str]:
        """Serve ``fresh`` (already checked) from now on; the namespaces whose configuration changed
        or that were added or removed, whose names and registrations are forgotten."""
        new = {u.namespace: u for u in fresh}
        changed = sorted(
            ns for ns in self.upstreams.keys() | new.keys() if self.upstreams.get(ns) != new.get(ns)
        )
        if not changed:
            return []
        self._use(fresh)
        self._tables.clear()  # exposed names are made again from each upstream's next listing
        for key in [k for k in self._registered if k[0] in changed]:
            del self._registered[key]
        for lkey in [k for k in self._listed_as if k[0] in changed]:
            del self._listed_as[lkey]
        return changed

    # names ------------------------------------------------------------------------------
    def tool_upstream(self, exposed: str) -> UpstreamConfig | None:
        """The upstream an exposed tool name can belong to: the namespace before its first
        separator, else the upstream with ``prefix: false``. Which of its tools (if any) is for its
        name table to say (:meth:`names_of`): nothing else resolves a call."""
        parts = names.split(exposed, self.separator)
        if parts is not None:
            cfg = self.upstreams.get(parts[0])
            if cfg is not None and cfg.prefix:
                return cfg
        return self.unprefixed if exposed else None

    def known(self, cfg: UpstreamConfig, exposed: str) -> str | None:
        """The upstream tool ``exposed`` named in the last listing of ``cfg`` this process saw."""
        held = self._tables.get(cfg.namespace)
        return None if held is None else held[1].upstream.get(exposed)

    def plain(self, cfg: UpstreamConfig, exposed: str) -> str:
        """The upstream tool ``exposed`` is when read plainly (before any listing says which)."""
        parts = names.split(exposed, self.separator) if cfg.prefix else None
        return parts[1] if parts is not None else exposed

    def listed_as(self, cfg: UpstreamConfig, proctor_name: str) -> str | None:
        """The name ``cfg`` last listed for the Proctor tool ``proctor_name`` (its catalogs hold no
        two names that differ only in case)."""
        return self._listed_as.get((cfg.namespace, proctor_name))

    def names_of(self, cfg: UpstreamConfig, catalog: Mapping[str, Any]) -> names.NameTable:
        """The name table of an upstream's current catalog (made again when the catalog changes;
        hidden tools are logged once per change)."""
        held = self._tables.get(cfg.namespace)
        if held is not None and (held[0] is catalog or held[1].names == frozenset(catalog)):
            if held[0] is not catalog:
                self._tables[cfg.namespace] = (catalog, held[1])
            return held[1]
        table = names.name_table(
            cfg.namespace, catalog, self.separator, prefix=cfg.prefix, reserved=self._prefixed
        )
        for upstream_tool, why in table.hidden.items():
            log.warning("upstream `%s` tool %s hidden: %s", cfg.namespace, ascii(upstream_tool[:80]), why)
        self._tables[cfg.namespace] = (catalog, table)
        return table

    def resolve(self, exposed: str) -> tuple[UpstreamConfig, str] | None:
        """Map a *prompt* name an agent used to (upstream, upstream prompt name): prompts keep
        ``namespace.prompt`` (tools: :meth:`tool_upstream` and :meth:`names_of`)."""
        ns, dot, rest = exposed.partition(".")
        if dot and ns in self.upstreams and self.upstreams[ns].prefix and rest:
            return self.upstreams[ns], rest
        if self.unprefixed is not None and exposed:
            return self.unprefixed, exposed
        return None

    # registration and pins --------------------------------------------------------------
    def register(self, cfg: UpstreamConfig, tool: types.Tool) -> ToolRecord | None:
        """Proctor's registration of an upstream tool (None if its name cannot be routed safely).
        Only tools of a catalog come here (``case_unique``): the name is remembered as the one this
        upstream lists for the tool."""
        schema = tool.input_schema if isinstance(tool.input_schema, dict) else None
        key = (cfg.namespace, tool.name, tool.description or "", _schema_key(schema))
        rec = self._registered.get(key)
        if rec is None:
            try:
                rec = self.proctor.tools.put(
                    cfg.proctor_tool(tool.name, tool.description or "", schema),
                    by=f"upstream:{cfg.namespace}",
                )
            except ProctorError as exc:
                log.warning("upstream `%s` tool hidden: %s", cfg.namespace, exc.message)
                return None
            self._registered[key] = rec
        self._listed_as[(cfg.namespace, rec.name)] = tool.name
        return rec

    def pin_problem(self, cfg: UpstreamConfig, tool: types.Tool) -> str | None:
        """Why a tool is hidden by pinning, or None when it may be used."""
        from proctor.gateway.pinning import tool_definition, tool_digest

        pins = self.proctor.state.pins(cfg.namespace)
        if not pins:
            return None
        pin = next((p for p in pins if p.upstream_tool == tool.name), None)
        if pin is None:
            return f"tool `{tool.name}` of `{cfg.namespace}` is not pinned: an admin must run `proctor tools pin {cfg.namespace}`"
        if pin.digest != tool_digest(tool_definition(tool)):
            return f"tool `{tool.name}` of `{cfg.namespace}` changed since it was pinned: see `proctor tools diff`"
        return None

    # tools/list -------------------------------------------------------------------------
    async def list_tools(self, task: TaskRecord, owned: TaskUpstreams) -> list[types.Tool]:
        """The tools ``task`` may see, by their exposed names, listed through its own sessions."""
        out: list[types.Tool] = []
        for cfg in self.upstreams.values():
            if not declares_namespace(task.allow, cfg.namespace):
                continue  # none of its tools could be listed: do not start it (or lease for it)
            try:
                up = await owned.get(cfg)
                tools = await up.tools()
            except Exception as exc:  # one broken upstream hides only its own tools
                log.warning("tools/list: upstream `%s` skipped: %s", cfg.namespace, type(exc).__name__)
                owned.drop(cfg.namespace)
                continue
            table = self.names_of(cfg, tools)
            for tool in tools.values():
                exposed = table.exposed.get(tool.name)
                if exposed is None:
                    continue  # see the table's `hidden` (logged)
                if await self.shown(task, cfg, tool):
                    out.append(tool.model_copy(update={"name": exposed, "meta": None}))
        return out

    async def shown(self, task: TaskRecord, cfg: UpstreamConfig, tool: types.Tool) -> bool:
        """Whether ``task``'s listing shows ``tool`` of ``cfg`` (one its name table exposes): it is
        registered, one of the task's patterns matches it and its pin (if any) holds. Whatever
        answers for a task's tools (``tools/list``, the lean path's ``Mcp-Param-*`` check) asks this."""
        if not declares_namespace(task.allow, cfg.namespace):
            return False
        rec = await self.proctor.store_guard.run(self.register, cfg, tool)  # off the loop
        if rec is None or not any(fnmatchcase(rec.name, p) for p in task.allow):
            return False
        return self.pin_problem(cfg, tool) is None
