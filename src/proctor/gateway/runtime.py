"""The gateway's runtime: who is calling, the upstream sessions each task owns, and the path of
``tools/call`` through Proctor's pipeline to the upstream and back into the audit log.

Isolation: every task gets its own upstream sessions (a stdio upstream is one process per task),
opened on first use and closed when the task ends, so whatever an upstream holds for a task (its
environment, its leased credentials) belongs to that task alone. Credentials an upstream needs are
obtained for the task when it first uses that upstream (policy decides, a provider issues a lease),
injected into the task's session, checked before every call and recorded against each call.

Failure rules: a denied call never reaches the upstream; an upstream that hangs is cut off after
its timeout and the call is reported as failed and audited; an upstream that dies is restarted on
the next call; no exception text of Proctor's reaches a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar

import anyio
import mcp_types as types
import orjson
from anyio.abc import TaskGroup
from mcp import Client
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel

from proctor.app import Proctor
from proctor.audit.log import AuditEntry
from proctor.errors import ConfigError, ProctorError, StoreError, ValidationError
from proctor.gateway import names
from proctor.gateway.config import UPSTREAMS_FILE, UpstreamConfig, case_unique, load_upstreams
from proctor.gateway.credentials import Injection, inject
from proctor.gateway.lean import LeanHttpUpstream, LeanUpstreamError
from proctor.gateway.upstream import open_upstream
from proctor.pipeline import CallInput, Identity
from proctor.policy.engine import CredentialRef, Decision, deny
from proctor.policy.scope import declares_namespace
from proctor.snapshot import Snapshot
from proctor.store.base import TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, LeaseId, TaskId, ToolName, Verdict

log = logging.getLogger(__name__)
R = TypeVar("R", bound=BaseModel)

# Logging, subscriptions and the rest are deprecated in the 2026-07-28 era but still spoken by
# handshake-era clients and upstreams; the gateway relays them on purpose, so no warning per call.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

#: most tools one upstream may announce, and pages Proctor will follow, before it stops listening
MAX_TOOLS = 10_000
MAX_PAGES = 100
SWEEP_INTERVAL_S = 1.0
#: sweep tasks and leases every this many session sweeps (5 s)
LEASE_SWEEP_EVERY = 5


@dataclass(frozen=True, slots=True)
class Caller:
    """The agent and task behind one downstream request, already verified."""

    agent: AgentName
    task_id: TaskId
    task_token: str
    #: the JWT-SVID presented on this request (HTTP), or None when identity was proven once at
    #: start-up (stdio); kept for the record, already verified by the transport
    svid: str | None = None
    #: what the transport checked of this request on its snapshot (HTTP), handed to the pipeline
    #: so it does not check the same again; None when the pipeline checks it (stdio)
    identity: Identity | None = field(default=None, compare=False)


@dataclass
class _Catalog:
    tools: dict[str, types.Tool] = field(default_factory=dict)  # upstream name -> definition


class _Upstream:
    """One open upstream session for one task, kept alive by its own task in the runtime's group."""

    def __init__(self, cfg: UpstreamConfig, owner: TaskUpstreams) -> None:
        self.cfg = cfg
        self.owner = owner
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.catalog: _Catalog | None = None
        self.ready = anyio.Event()
        self.stop = anyio.Event()
        self.closed = False

    async def run(self) -> None:
        try:
            inj = await self.owner.injection(self.cfg)
            async with open_upstream(
                self.cfg,
                env=inj.env,
                headers=inj.headers,
                sampling_callback=self.owner.forward_sampling,
                elicitation_callback=self.owner.forward_elicitation,
                logging_callback=self.owner.forward_log,
                message_handler=self._on_message,
            ) as client:
                self.client = client
                self.ready.set()
                await self.stop.wait()
        except Exception as exc:
            self.error = exc
            log.warning(
                "upstream `%s` for task %s stopped: %s",
                self.cfg.namespace,
                self.owner.task_id,
                type(exc).__name__,
            )
        finally:
            self.closed = True
            self.client = None
            self.ready.set()

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.catalog = None  # re-list on next use

    async def tools(self) -> dict[str, types.Tool]:
        if self.catalog is None:
            client = self.require()
            found: dict[str, types.Tool] = {}
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                for tool in page.tools:
                    if len(found) >= MAX_TOOLS:
                        break
                    found[tool.name] = tool
                cursor = page.next_cursor
                if not cursor or len(found) >= MAX_TOOLS:
                    break
            self.catalog = _Catalog(case_unique(found, self.cfg.namespace))
        return self.catalog.tools

    def require(self) -> Client:
        if self.client is None:
            raise UpstreamUnavailable(self.cfg.namespace)
        return self.client


@dataclass(frozen=True, slots=True)
class LeanOutcome:
    """A lean ``tools/call`` result, and what to do once it has been sent (the completion record:
    its digest and canonical JSON need not delay the answer)."""

    result: dict[str, Any]
    finish: Callable[[], None] | None = None


class UpstreamUnavailable(Exception):
    """An upstream could not be reached or died; the message is safe to show."""

    def __init__(self, namespace: str) -> None:
        super().__init__(f"upstream `{namespace}` is unavailable")
        self.namespace = namespace


class CredentialUnavailable(UpstreamUnavailable):
    """A credential the upstream needs was denied by policy or could not be issued for the task.
    The message names the credential and the error code only, and is safe to show."""

    def __init__(self, namespace: str, credential: str, code: str, reason: str = "") -> None:
        Exception.__init__(
            self,
            f"upstream `{namespace}` needs credential `{credential}`, which this task could not obtain"
            f" ({code}{': ' + reason if reason else ''})",
        )
        self.namespace = namespace
        self.credential = credential
        self.code = code


_NO_INJECTION = Injection()


class TaskUpstreams:
    """The upstream sessions one task owns, and the downstream requests in flight that mid-call
    upstream requests (sampling, elicitation, logging) are routed back to."""

    def __init__(self, runtime: GatewayRuntime, task_id: TaskId) -> None:
        self.runtime = runtime
        self.task_id = task_id
        self.sessions: dict[str, _Upstream] = {}
        self.active: list[ServerRequestContext[Any, Any]] = []
        self.resource_owner: dict[str, str] = {}
        self.leans: dict[str, LeanHttpUpstream] = {}
        #: credentials held for each upstream namespace (the data is never logged)
        self.injections: dict[str, Injection] = {}
        self._lock = anyio.Lock()
        self._lean_lock = anyio.Lock()
        self._cred_lock = anyio.Lock()
        #: set when the task's sessions are closed for good: nothing opens again on this object
        self.closed = False

    # credentials --------------------------------------------------------------------------
    async def injection(self, cfg: UpstreamConfig) -> Injection:
        """The credentials this task's session with ``cfg`` carries, obtained on first use.
        Raises :class:`CredentialUnavailable` when policy denies one or a provider fails."""
        if self.closed:
            raise UpstreamUnavailable(cfg.namespace)
        self._check_current(cfg)
        if not cfg.credentials:
            return _NO_INJECTION
        held = self.injections.get(cfg.namespace)
        if held is not None and self.leases_usable(cfg):
            return held
        async with self._cred_lock:
            held = self.injections.get(cfg.namespace)
            if held is not None and not self.leases_usable(cfg):
                self.injections.pop(cfg.namespace, None)
                await self._revoke_all(held, "another lease of the session ended")
                held = None
            if held is None:
                task = self.runtime.proctor.state.task(self.task_id)
                if task is None or not declares_namespace(task.allow, cfg.namespace):
                    # never ask for a credential of an upstream the task declared no tool of
                    raise CredentialUnavailable(
                        cfg.namespace, cfg.credentials[0].name, "upstream_not_declared"
                    )
                held = await anyio.to_thread.run_sync(self._obtain, cfg)
                if self.closed:  # the task's sessions were closed while the provider worked
                    await self._revoke_all(held, "the task's sessions were closed")
                    raise UpstreamUnavailable(cfg.namespace)
                if self.runtime.upstreams.get(cfg.namespace) != cfg:  # reloaded meanwhile
                    await self._revoke_all(held, "the upstream's configuration changed")
                    raise UpstreamUnavailable(cfg.namespace)
                self.injections[cfg.namespace] = held
        return held

    def _check_current(self, cfg: UpstreamConfig) -> None:
        """Refuse a configuration ``upstreams.yaml`` no longer holds: a call that resolved its
        upstream before a reload must not reopen (for the whole task) what the reload retired."""
        if self.runtime.upstreams.get(cfg.namespace) != cfg:
            raise UpstreamUnavailable(cfg.namespace)

    async def _revoke_all(self, held: Injection, reason: str) -> None:
        """Revoke the leases of a session being retired (a no-op for those already ended)."""

        def run() -> None:
            for lid in held.leases:
                with contextlib.suppress(Exception):  # audited by the lease manager; retried by sweeps
                    self.runtime.proctor.credentials.leases.revoke(LeaseId(lid), reason)

        if held.leases:
            await anyio.to_thread.run_sync(run)

    def _obtain(self, cfg: UpstreamConfig) -> Injection:
        proctor = self.runtime.proctor
        task = proctor.tasks.get(str(self.task_id))
        headers: dict[str, str] = {}
        env: dict[str, str] = {}
        leases: list[LeaseId] = []
        for spec in cfg.credentials:
            try:
                lease, data = proctor.pipeline.credential(
                    task.id,
                    task.agent,
                    CredentialRef(spec.name, spec.provider, cfg.namespace),
                    spec.provider_spec(),
                    effects=cfg.declared_effects(task.allow),
                )
                leases.append(lease.id)
                h, e = inject(spec, data)
            except Exception as exc:
                # all or nothing: a session never opens with part of its credentials
                for lid in leases:
                    with contextlib.suppress(Exception):
                        proctor.credentials.leases.revoke(lid, "another credential of the upstream failed")
                code = exc.code if isinstance(exc, ProctorError) else type(exc).__name__
                reason = exc.message if code == "credential_denied" and isinstance(exc, ProctorError) else ""
                raise CredentialUnavailable(cfg.namespace, spec.name, code, reason) from None
            headers.update(h)
            env.update(e)
        return Injection(headers, env, tuple(str(x) for x in leases))

    def leases_usable(self, cfg: UpstreamConfig) -> bool:
        """Whether the leases behind this task's session with ``cfg`` are all still active. One that
        is not (revoked on its own, expired) closes the session; the next use obtains afresh."""
        held = self.injections.get(cfg.namespace)
        if not held:
            return True
        proctor = self.runtime.proctor
        now = proctor.clock.now()
        for lid in held.leases:
            lease = proctor.store.get_lease(LeaseId(lid))
            if lease is None or not lease.usable(now):
                return False
        return True

    async def check_credentials(self, cfg: UpstreamConfig) -> bool:
        """Before any use of the session with ``cfg`` (a call, a resource, a prompt...): if a lease
        behind it ended, close the session and revoke its other leases, so that nothing reaches the
        upstream with a dead credential; the next use obtains afresh. Returns whether it retired one."""
        if not cfg.credentials or cfg.namespace not in self.injections or self.leases_usable(cfg):
            return False
        held = self.injections.pop(cfg.namespace)
        self.drop(cfg.namespace)
        await self.drop_lean(cfg.namespace)
        await self._revoke_all(held, "another lease of the session ended")
        return True

    def record_use(self, cfg: UpstreamConfig, decision: Decision) -> None:
        """Audit which leases this allowed call (``decision``) uses; rides with the next commit."""
        held = self.injections.get(cfg.namespace)
        if not held:
            return
        audit = self.runtime.proctor.audit
        for lid, spec in zip(held.leases, cfg.credentials, strict=False):
            audit.defer(
                "lease.used",
                {"lease_id": lid, "provider": spec.provider, "name": spec.name, "upstream": cfg.namespace},
                task=str(self.task_id),
                decision_id=str(decision.decision_id),
            )

    async def lean(self, cfg: UpstreamConfig) -> LeanHttpUpstream:
        """This task's lean JSON-RPC session with an HTTP upstream, opened on first use."""
        if self.closed:
            raise UpstreamUnavailable(cfg.namespace)
        await self.check_credentials(cfg)
        self._check_current(cfg)
        up = self.leans.get(cfg.namespace)
        if up is not None and not up.closed and up.cfg == cfg:
            return up
        async with self._lean_lock:
            self._check_current(cfg)
            up = self.leans.get(cfg.namespace)
            if up is not None and up.cfg != cfg:  # opened for a configuration since replaced
                await self.drop_lean(cfg.namespace)
                up = None
            if up is None or up.closed:
                up = LeanHttpUpstream(cfg, (await self.injection(cfg)).headers)
                try:
                    with anyio.fail_after(cfg.timeout_s):
                        await up.start()
                except BaseException:
                    await up.close()
                    raise
                self.leans[cfg.namespace] = up
        return up

    async def drop_lean(self, namespace: str) -> None:
        up = self.leans.pop(namespace, None)
        if up is not None:
            await up.close()

    async def get(self, cfg: UpstreamConfig) -> _Upstream:
        if self.closed:
            raise UpstreamUnavailable(cfg.namespace)
        await self.check_credentials(cfg)
        async with self._lock:
            self._check_current(cfg)
            up = self.sessions.get(cfg.namespace)
            if up is not None and up.cfg != cfg:  # opened for a configuration since replaced
                self.drop(cfg.namespace)
                up = None
            if up is None or up.closed:
                up = _Upstream(cfg, self)
                self.sessions[cfg.namespace] = up
                self.runtime.task_group.start_soon(up.run)
        with anyio.move_on_after(cfg.timeout_s):
            await up.ready.wait()
        if up.client is None:
            if not up.ready.is_set():
                up.stop.set()
            if isinstance(up.error, CredentialUnavailable):
                raise up.error
            raise UpstreamUnavailable(cfg.namespace)
        return up

    def drop(self, namespace: str) -> None:
        up = self.sessions.pop(namespace, None)
        if up is not None:
            up.stop.set()

    async def retire(self, namespace: str, reason: str) -> None:
        """Close this task's sessions with an upstream, forget the resources it listed and revoke
        the leases they carried."""
        self.drop(namespace)
        for uri in [u for u, ns in self.resource_owner.items() if ns == namespace]:
            del self.resource_owner[uri]
        await self.drop_lean(namespace)
        held = self.injections.pop(namespace, None)
        if held is not None:
            await self._revoke_all(held, reason)

    async def close(self) -> None:
        self.closed = True
        for ns in list(self.sessions):
            self.drop(ns)
        for ns in list(self.leans):
            await self.drop_lean(ns)
        self.injections.clear()

    def _downstream(self) -> ServerRequestContext[Any, Any] | None:
        return self.active[-1] if self.active else None

    async def _relay(self, request: Any, result_type: type[R], what: str) -> R | types.ErrorData:
        """Send an upstream's mid-call request to the downstream request in flight."""
        ctx = self._downstream()
        if ctx is None:
            return types.ErrorData(code=types.INVALID_REQUEST, message="no downstream request is in flight")
        try:
            return await ctx.session.send_request(
                request, result_type, metadata=ServerMessageMetadata(related_request_id=ctx.request_id)
            )
        except MCPError as exc:
            return exc.error
        except Exception as exc:
            log.warning("%s relay failed: %s", what, type(exc).__name__)
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"{what} could not be relayed")

    async def forward_sampling(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        return await self._relay(
            types.CreateMessageRequest(params=params), types.CreateMessageResult, "sampling"
        )

    async def forward_elicitation(
        self, context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        return await self._relay(types.ElicitRequest(params=params), types.ElicitResult, "elicitation")

    async def forward_log(self, params: types.LoggingMessageNotificationParams) -> None:
        ctx = self._downstream()
        if ctx is None:
            return
        try:
            await ctx.session.send_log_message(
                level=params.level, data=params.data, logger=params.logger, related_request_id=ctx.request_id
            )
        except Exception as exc:  # a log line that cannot be relayed is not worth failing a call
            log.debug("log relay failed: %s", type(exc).__name__)


class _Grace:
    """Moves an upstream call's deadline back by the time the loop spent committing its decision
    record inline (see ``Pipeline.decide_and_record``): the upstream had that time, and its answer
    may be waiting already, so the call is not abandoned for the gateway's own pause."""

    __slots__ = ("window",)

    def __init__(self) -> None:
        self.window: asyncio.Timeout | None = None

    def __call__(self, spent: float) -> None:
        window = self.window
        if window is None or window.expired() or (when := window.when()) is None:
            return
        # the commit may end after the upstream call has (a commit that fell back to the writer
        # thread resumes later): a timeout already left cannot be moved, nor needs to be
        with contextlib.suppress(RuntimeError):
            window.reschedule(when + spent)


def overlaps(audit_mode: str, tool: ToolRecord | None) -> bool:
    """May this call's durable decision write run while the upstream works (``gateway.audit``)?

    ``strict``: never. ``overlap``: always. ``auto`` (the default): only for a tool registered as a
    plain ``read`` — no other effect and none of the flags that mark a consequential tool — since a
    read changes nothing upstream, and its answer is withheld until the record is durable: no side
    effect and no output reaches anyone without a durable decision. Every other effect (write,
    execute, send, pay, deploy, or one a workspace added) is durable before the upstream is called.
    """
    if audit_mode == "overlap":
        return True
    if audit_mode != "auto" or tool is None:
        return False
    return tool.effect == "read" and not (
        tool.destructive or tool.financial or tool.customer_facing or tool.production
    )


def _digest_bytes(value: Any) -> bytes:
    """The bytes a call's output digest is taken over: compact JSON with sorted keys (orjson; the
    standard library for what orjson refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _as_tool(listed: Any) -> types.Tool:
    """A catalog entry of an SDK upstream is already a ``types.Tool``."""
    if not isinstance(listed, types.Tool):
        raise TypeError("not a tool definition")
    return listed


def _file_stamp(path: Path | None) -> tuple[int, int, int] | None:
    """What tells a changed file apart cheaply (None when absent)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _text_error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


class GatewayRuntime:
    """Shared by every downstream connection of one gateway process."""

    def __init__(self, proctor: Proctor, upstreams: list[UpstreamConfig]) -> None:
        if any(u.credentials for u in upstreams):
            _ = proctor.credentials.secrets  # a wrong or missing secrets key fails here, at start-up
        else:
            proctor.credentials.check_secrets_key()
        self.proctor = proctor
        self.upstreams = {u.namespace: u for u in upstreams}
        self.unprefixed = next((u for u in upstreams if not u.prefix), None)
        #: between namespace and tool in exposed names (docs/adr/0014)
        self.separator = names.check_separator(proctor.settings.gateway_tool_separator)
        try:
            for u in upstreams:
                names.check_namespace(u.namespace, self.separator)
        except ValidationError as exc:
            raise ConfigError(f"upstreams.yaml: {exc.message}") from None
        self._prefixed = frozenset(u.namespace for u in upstreams if u.prefix)
        #: namespace -> (the catalog it was made from, the exposed names of its tools)
        self._tables: dict[str, tuple[Mapping[str, Any], names.NameTable]] = {}
        #: ``upstreams.yaml``, followed while the gateway runs (None: the list given is fixed)
        self.upstreams_file = None if proctor.workspace is None else proctor.workspace.root / UPSTREAMS_FILE
        self._upstreams_stamp = _file_stamp(self.upstreams_file)
        self._upstreams_pending: tuple[int, int, int] | None = None
        #: why the last change to ``upstreams.yaml`` was refused (the previous list keeps serving)
        self.upstreams_rejected: str | None = None
        self.tasks: dict[TaskId, TaskUpstreams] = {}
        self._tg: TaskGroup | None = None
        self._registered: dict[tuple[str, str, str], ToolRecord] = {}
        #: (namespace, Proctor tool name) -> the name that upstream lists for it
        self._listed_as: dict[tuple[str, str], str] = {}
        #: tools/call requests in progress on this runtime's loop
        self.inflight = 0

    # lifecycle --------------------------------------------------------------------------
    @property
    def task_group(self) -> TaskGroup:
        if self._tg is None:
            raise RuntimeError("gateway runtime is not running")
        return self._tg

    @asynccontextmanager
    async def running(self) -> AsyncIterator[GatewayRuntime]:
        """Run the upstream sessions and the sweeper that closes those of ended tasks."""
        # every process that decides follows the workspace's policy files (and, per store epoch,
        # the version the store records as active: see Policies.follow)
        self.proctor.policies.watch()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            tg.start_soon(self._sweep)
            try:
                yield self
            finally:
                for t in list(self.tasks.values()):
                    await t.close()
                self.tasks.clear()
                tg.cancel_scope.cancel()
                self._tg = None

    async def _sweep(self) -> None:
        rounds = 0
        while True:
            await anyio.sleep(SWEEP_INTERVAL_S)
            try:
                await self.reload_upstreams()
            except Exception as exc:  # the next round retries; the current list keeps serving
                log.error("upstreams.yaml: reload failed: %s", type(exc).__name__)
            await self.close_ended_tasks()
            rounds += 1
            if rounds % LEASE_SWEEP_EVERY == 0:
                await self.sweep_leases()

    async def sweep_leases(self) -> None:
        """Expire tasks past their deadline and revoke their leases (a database role's open sessions
        outlive its ``VALID UNTIL``: this ends them), and retry revocations that are due. This process
        holds the providers, so it is the one that can finish their revocations."""
        try:
            await anyio.to_thread.run_sync(self.proctor.tasks.sweep)
        except Exception as exc:  # the next round retries; a failure is never fatal to the gateway
            log.warning("lease sweep failed: %s", type(exc).__name__)

    async def close_ended_tasks(self) -> list[TaskId]:
        """Close the upstream sessions of tasks that ended or passed their deadline, or whose agent
        was suspended, and retire any session whose credential lease ended."""
        closed: list[TaskId] = []
        now = self.proctor.clock.now()
        owners = list(self.tasks.items())
        if not owners:
            return closed
        p = self.proctor

        def states() -> dict[TaskId, tuple[bool, bool]]:
            snap = p.state.snapshot()
            out = {}
            for task_id, _ in owners:
                task = p.state.task(task_id, snap)
                agent = None if task is None else p.state.agent(task.agent, snap)
                live = task is not None and task.is_live(now)
                out[task_id] = (live, agent is not None and agent.status is AgentStatus.ACTIVE)
            return out

        try:
            # on a store worker thread, bounded: never the loop (docs/adr/0019)
            known = await p.store_guard.run(states, read=True)
        except Exception as exc:  # the store may be unavailable; the next round retries
            log.warning("task sweep skipped: %s", type(exc).__name__)
            return closed
        for task_id, owned in owners:
            try:
                live, active = known[task_id]
                if live and active:
                    for cfg in self.upstreams.values():
                        if cfg.namespace in owned.injections:
                            await owned.check_credentials(cfg)
                    continue
            except Exception as exc:  # the store may be briefly unavailable; the next round retries
                log.warning("task sweep skipped %s: %s", task_id, type(exc).__name__)
                continue
            namespaces = sorted({*owned.sessions, *owned.leans})
            await owned.close()
            if self.tasks.get(task_id) is owned:  # a socket session's end may have closed it meanwhile
                del self.tasks[task_id]
            closed.append(task_id)
            try:
                await self.proctor.audit.append_async(
                    "upstream.sessions_closed",
                    {"namespaces": namespaces, "reason": "task ended" if not live else "agent not active"},
                    task=str(task_id),
                )
            except StoreError as exc:  # the sessions are closed either way
                log.error("could not record closed upstream sessions of %s: %s", task_id, exc.code)
        return closed

    async def reload_upstreams(self, *, force: bool = False) -> bool:
        """Follow ``upstreams.yaml``: when it changed, load it; an invalid file is refused (audited,
        the previous list keeps serving). The sessions, leases and registrations of every upstream
        whose configuration changed or that was removed are dropped, so the next call meets the new
        configuration. Returns whether the list changed."""
        path = self.upstreams_file
        if path is None:
            return False
        stamp = _file_stamp(path)
        if stamp == self._upstreams_stamp and not force:
            return False
        if not force and stamp != self._upstreams_pending:
            # changed since the last look: load it once a second look finds it unchanged, so a file
            # an editor is still writing is never applied (or refused) half-written
            self._upstreams_pending = stamp
            return False
        self._upstreams_pending = None
        self._upstreams_stamp = stamp
        try:
            fresh = load_upstreams(path.parent)
            for u in fresh:
                names.check_namespace(u.namespace, self.separator)
            if any(u.credentials for u in fresh):
                _ = (
                    self.proctor.credentials.secrets
                )  # a workspace without a usable secrets key cannot serve them
        except ProctorError as exc:
            if self.upstreams_rejected != exc.message:
                self.upstreams_rejected = exc.message
                log.error("upstreams.yaml refused, the previous configuration keeps serving: %s", exc.message)
                await self.proctor.audit.append_async(
                    "upstreams.rejected", {"error": exc.message, "code": exc.code}
                )
            return False
        self.upstreams_rejected = None
        new = {u.namespace: u for u in fresh}
        changed = sorted(
            ns for ns in self.upstreams.keys() | new.keys() if self.upstreams.get(ns) != new.get(ns)
        )
        if not changed:
            return False
        self.upstreams = new
        self.unprefixed = next((u for u in fresh if not u.prefix), None)
        self._prefixed = frozenset(u.namespace for u in fresh if u.prefix)
        self._tables.clear()  # exposed names are made again from each upstream's next listing
        for key in [k for k in self._registered if k[0] in changed]:
            del self._registered[key]
        for lkey in [k for k in self._listed_as if k[0] in changed]:
            del self._listed_as[lkey]
        for owned in list(self.tasks.values()):
            for ns in changed:
                await owned.retire(ns, "the upstream's configuration changed")
        log.info("upstreams.yaml reloaded: %s changed", ", ".join(changed))
        await self.proctor.audit.append_async(
            "upstreams.reloaded", {"changed": changed, "namespaces": sorted(new)}
        )
        return True

    def owned(self, task_id: TaskId) -> TaskUpstreams:
        owned = self.tasks.get(task_id)
        if owned is None:
            owned = self.tasks[task_id] = TaskUpstreams(self, task_id)
        return owned

    # callers ----------------------------------------------------------------------------
    def live_task(self, caller: Caller) -> TaskRecord:
        """The caller's task, if it is still active (else a ProctorError the transport reports)."""
        from proctor.errors import AgentSuspended, TaskNotActive, UnknownTask

        task = self.proctor.state.task(caller.task_id)
        if task is None:
            raise UnknownTask(f"unknown task `{caller.task_id}`")
        if task.agent != caller.agent:
            raise ValidationError("task belongs to another agent")
        if not task.is_live(self.proctor.clock.now()) or self.proctor.kills.task_killed(task.id):
            raise TaskNotActive(f"task `{task.id}` is not active")
        agent = self.proctor.state.agent(caller.agent)
        if (
            agent is None
            or agent.status is not AgentStatus.ACTIVE
            or self.proctor.kills.agent_killed(agent.name)
        ):
            # the stdio transport proved identity once: the kill switch is checked here, every request
            raise AgentSuspended(f"agent `{caller.agent}` is not active")
        return task

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

    def register(self, cfg: UpstreamConfig, tool: types.Tool) -> ToolRecord | None:
        """Proctor's registration of an upstream tool (None if its name cannot be routed safely).
        Only tools of a catalog come here (``case_unique``): the name is remembered as the one this
        upstream lists for the tool."""
        key = (cfg.namespace, tool.name, tool.description or "")
        rec = self._registered.get(key)
        if rec is None:
            try:
                rec = self.proctor.tools.put(
                    cfg.proctor_tool(tool.name, tool.description or ""), by=f"upstream:{cfg.namespace}"
                )
            except ProctorError as exc:
                log.warning("upstream `%s` tool hidden: %s", cfg.namespace, exc.message)
                return None
            self._registered[key] = rec
        self._listed_as[(cfg.namespace, rec.name)] = tool.name
        return rec

    def _pin_problem(self, cfg: UpstreamConfig, tool: types.Tool) -> str | None:
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
    async def list_tools(self, caller: Caller) -> list[types.Tool]:
        task = self.live_task(caller)
        owned = self.owned(task.id)
        out: list[types.Tool] = []
        for cfg in self.upstreams.values():
            if not declares_namespace(task.allow, cfg.namespace):
                continue  # none of its tools could be listed: do not start it (or lease for it)
            try:
                up = await owned.get(cfg)
                tools = await up.tools()
            except (UpstreamUnavailable, Exception) as exc:  # one broken upstream hides only its own tools
                log.warning("tools/list: upstream `%s` skipped: %s", cfg.namespace, type(exc).__name__)
                owned.drop(cfg.namespace)
                continue
            table = self.names_of(cfg, tools)
            for tool in tools.values():
                exposed = table.exposed.get(tool.name)
                if exposed is None:
                    continue  # see the table's `hidden` (logged)
                rec = self.register(cfg, tool)
                if rec is None or not any(fnmatchcase(rec.name, p) for p in task.allow):
                    continue
                if self._pin_problem(cfg, tool) is not None:
                    continue
                out.append(tool.model_copy(update={"name": exposed, "meta": None}))
        return out

    # tools/call -------------------------------------------------------------------------
    async def _prepare(
        self,
        caller: Caller,
        name: str,
        args: Mapping[str, Any] | None,
        listed: Callable[[UpstreamConfig], Awaitable[Mapping[str, Any]]],
        as_tool: Callable[[Any], types.Tool],
        *,
        audit_mode: str = "strict",
        snap: Snapshot | None = None,
        grace: Callable[[float], None] | None = None,
    ) -> tuple[UpstreamConfig, str, ToolName, Decision, asyncio.Task[Decision] | None]:
        """Resolve, register, check the pin and decide one call (the decision is durable on return).

        Raises MCPError(-32602) for a tool no upstream offers. When ``audit_mode`` lets this call
        overlap (see :func:`overlaps`), an allow comes back with the task that makes it durable, to
        be awaited before the outcome is returned.
        """
        cfg = self.tool_upstream(name)
        if cfg is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
        held = self._tables.get(cfg.namespace)
        found = None if held is None else held[1].upstream.get(name)
        # until the upstream's listing says which tool the name is: the tool it is when plain
        # (what a deny met while listing is recorded against)
        parts = names.split(name, self.separator) if cfg.prefix else None
        upstream_tool = found or (parts[1] if parts is not None else name)
        try:
            proctor_name = ToolName(names.canonical_name(cfg.namespace, upstream_tool))
        except ValidationError:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`") from None
        call = CallInput(
            tool=proctor_name,
            args=args or {},
            # the transport verified the identity (HTTP: the bearer SVID for this gateway's
            # audience on every request; stdio: once at start); the pipeline still checks the
            # agent's status, the task token and everything else on every call
            agent=str(caller.agent),
            task_token=caller.task_token,
            source="mcp",
            identity=caller.identity,
        )
        try:
            snap = snap or await self.proctor.state.snapshot_async()
            await self._warm(snap, caller, cfg.namespace, proctor_name)
            if not self._may_reach_upstreams(caller, snap, cfg):
                # before anything touches the upstream (even the listing that resolves the name): an
                # ended task, an inactive agent, an undeclared upstream or a stale policy is refused by
                # the pipeline with its own reason, audited; nothing is started, listed or leased for
                decision = await self.proctor.pipeline.decide_call_async(
                    call, alone=self.inflight <= 1, snap=snap
                )
                decision = await self._never_unresolved(call, caller, proctor_name, decision)
                return cfg, upstream_tool, proctor_name, decision, None
            if found is None:
                # a name this process has not seen listed: only the upstream's listing resolves it
                try:
                    catalog = await listed(cfg)
                except CredentialUnavailable as exc:
                    d = await self._deny_recorded(
                        call, caller, proctor_name, str(exc), "credential_unavailable"
                    )
                    return cfg, upstream_tool, proctor_name, d, None
                except StoreError:
                    raise
                except Exception as exc:
                    log.warning("upstream `%s` could not list tools: %s", cfg.namespace, type(exc).__name__)
                    raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`") from None
                found = self.names_of(cfg, catalog).upstream.get(name)
                if found is None:
                    raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
                if found != upstream_tool:
                    upstream_tool = found
                    proctor_name = ToolName(names.canonical_name(cfg.namespace, found))
                    call = dataclasses.replace(call, tool=proctor_name)
            return await self._prepare_call(
                caller, call, cfg, upstream_tool, proctor_name, name, listed, as_tool, audit_mode, snap, grace
            )
        except StoreError as exc:
            # the detail (a path, a server address, the driver's text) is for the operator's log
            log.error("store error before deciding a gateway call: %s", exc.message)
            d = await self._deny_recorded(
                call, caller, proctor_name, "the store could not be read: the call is denied", exc.code
            )
            return cfg, upstream_tool, proctor_name, d, None

    async def _prepare_call(
        self,
        caller: Caller,
        call: CallInput,
        cfg: UpstreamConfig,
        upstream_tool: str,
        proctor_name: ToolName,
        name: str,
        listed: Callable[[UpstreamConfig], Awaitable[Mapping[str, Any]]],
        as_tool: Callable[[Any], types.Tool],
        audit_mode: str,
        snap: Snapshot | None,
        grace: Callable[[float], None] | None = None,
    ) -> tuple[UpstreamConfig, str, ToolName, Decision, asyncio.Task[Decision] | None]:
        upstream_def: types.Tool | None = None
        snap = snap or await self.proctor.state.snapshot_async()
        if not self._may_reach_upstreams(caller, snap, cfg):
            # an ended task, an inactive agent, an upstream the task declared no tool of or a stale
            # policy: the pipeline refuses it with its own reason and audits it; no upstream is
            # started, listed or leased for on its behalf
            decision = await self.proctor.pipeline.decide_call_async(
                call, alone=self.inflight <= 1, snap=snap
            )
            decision = await self._never_unresolved(call, caller, proctor_name, decision)
            return cfg, upstream_tool, proctor_name, decision, None
        pinned = bool(self.proctor.state.pins(cfg.namespace, snap))
        # the name this upstream last listed for the tool (its catalogs hold no two names that
        # differ only in case): `ECHO` is never sent to an upstream that lists `echo`
        known = self._listed_as.get((cfg.namespace, proctor_name))
        if pinned or known is None or self.proctor.state.tool(proctor_name, snap) is None:
            # not registered by this process yet, or pinned: the current definition is needed first
            # (listing opens the upstream session; a registered, unpinned tool is decided first)
            try:
                catalog = await listed(cfg)
                # the exposed name must still be this tool's in the current listing
                same = self.names_of(cfg, catalog).upstream.get(name) == upstream_tool
                listed_def = catalog.get(upstream_tool) if same else None
            except CredentialUnavailable as exc:
                d = await self._deny_recorded(call, caller, proctor_name, str(exc), "credential_unavailable")
                return cfg, upstream_tool, proctor_name, d, None
            except Exception as exc:
                log.warning("upstream `%s` could not list tools: %s", cfg.namespace, type(exc).__name__)
                listed_def = None
            try:
                upstream_def = None if listed_def is None else as_tool(listed_def)
            except Exception:
                upstream_def = None
            if upstream_def is None or self.register(cfg, upstream_def) is None:
                raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
            snap = await self.proctor.state.snapshot_async()  # registering may have changed the store
        elif known != upstream_tool:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool `{name[:100]}`")
        if upstream_def is not None and (problem := self._pin_problem(cfg, upstream_def)) is not None:
            decision = await self._deny_recorded(call, caller, proctor_name, problem, "tool_pin_mismatch")
        elif not self.proctor.audit.failing and overlaps(
            audit_mode, self.proctor.state.tool(proctor_name, snap)
        ):
            # while the log is failing nothing reaches an upstream before its record is durable
            decision, recorded = await self.proctor.pipeline.decide_and_record_async(
                call, snap, alone=self.inflight <= 1, on_blocked=grace
            )
            if decision.verdict is Verdict.ALLOW:
                return cfg, upstream_tool, proctor_name, decision, recorded
            decision = await recorded
        else:
            decision = await self.proctor.pipeline.decide_call_async(
                call, alone=self.inflight <= 1, snap=snap
            )
        return cfg, upstream_tool, proctor_name, decision, None

    async def _warm(self, snap: Snapshot, caller: Caller, namespace: str, tool: ToolName) -> None:
        """Read into ``snap`` the records a call looks up on the loop (task, agent, pins, tool), on
        a store worker thread and bounded (docs/adr/0019); nothing to do when it holds them."""
        if (
            caller.task_id in snap.tasks
            and caller.agent in snap.agents
            and namespace in snap.pins
            and tool in snap.tools
        ):
            return
        p = self.proctor

        def fill() -> None:
            p.state.task(caller.task_id, snap)
            p.state.agent(caller.agent, snap)
            p.state.pins(namespace, snap)
            p.state.tool(tool, snap)

        await p.store_guard.run(fill, read=True)

    def _may_reach_upstreams(self, caller: Caller, snap: Snapshot, cfg: UpstreamConfig) -> bool:
        """Whether the caller's task is live, declares a tool of ``cfg`` and its agent is active,
        under the workspace's policy version (what the pipeline will check again): only then may a
        call touch the upstream before its decision."""
        p = self.proctor
        task = p.state.task(caller.task_id, snap)
        agent = p.state.agent(caller.agent, snap)
        return (
            snap.policy_stale is None
            and task is not None
            and task.agent == caller.agent
            and declares_namespace(task.allow, cfg.namespace)
            and task.is_live(p.clock.now())
            and agent is not None
            and agent.status is AgentStatus.ACTIVE
            and not p.kills.task_killed(task.id)
            and not p.kills.agent_killed(agent.name)
        )

    @staticmethod
    def refusal(
        decision: Decision, canonical: str | None = None, exposed: str | None = None
    ) -> types.CallToolResult | None:
        """The tool error result for a call that may not go ahead, or None when it is allowed. The
        agent knows the tool by its exposed name: reasons that name `canonical` name `exposed`
        instead (the audit record keeps the canonical name)."""
        if decision.verdict is Verdict.ALLOW:
            return None
        reasons = "; ".join(decision.reasons)
        if canonical and exposed and canonical != exposed:
            reasons = reasons.replace(f"`{canonical}`", f"`{exposed}`")
        if decision.verdict is Verdict.DENY:
            return _text_error(f"Proctor denied this call: {reasons} (decision {decision.decision_id})")
        if decision.verdict is Verdict.APPROVAL_REQUIRED:
            return _text_error(
                f"This call needs approval by {decision.approval or 'a human'} before it can run: "
                f"{reasons} (decision {decision.decision_id})"
            )
        return None

    async def call_tool(
        self, caller: Caller, ctx: ServerRequestContext[Any, Any], name: str, args: Mapping[str, Any] | None
    ) -> types.CallToolResult:
        """``tools/call`` on the SDK path: relays progress, sampling, elicitation and logging."""
        self.inflight += 1
        try:
            return await self._call_tool_sdk(caller, ctx, name, args)
        finally:
            self.inflight -= 1

    async def _call_tool_sdk(
        self, caller: Caller, ctx: ServerRequestContext[Any, Any], name: str, args: Mapping[str, Any] | None
    ) -> types.CallToolResult:
        owned = self.owned(caller.task_id)

        async def listed(cfg: UpstreamConfig) -> Mapping[str, Any]:
            try:
                return await (await owned.get(cfg)).tools()
            except Exception:
                owned.drop(cfg.namespace)
                raise

        cfg, upstream_tool, proctor_name, decision, _ = await self._prepare(
            caller, name, args, listed, _as_tool
        )
        refused = self.refusal(decision, proctor_name, name)
        if refused is not None:
            return refused
        return await self._forward(owned, cfg, upstream_tool, proctor_name, args or {}, ctx, decision)

    async def call_tool_lean(
        self, caller: Caller, name: str, args: dict[str, Any], snap: Snapshot | None = None
    ) -> LeanOutcome:
        """``tools/call`` on the lean path (HTTP upstreams only): the JSON-RPC result, and the
        bookkeeping to run once it has been sent. ``snap`` is the request's store snapshot."""
        self.inflight += 1
        try:
            return await self._call_tool_lean(caller, name, args, snap)
        finally:
            self.inflight -= 1

    async def _call_tool_lean(
        self, caller: Caller, name: str, args: dict[str, Any], snap: Snapshot | None
    ) -> LeanOutcome:
        owned = self.owned(caller.task_id)

        async def listed(cfg: UpstreamConfig) -> Mapping[str, Any]:
            return await (await owned.lean(cfg)).tools()

        grace = _Grace()
        cfg, upstream_tool, proctor_name, decision, recorded = await self._prepare(
            caller,
            name,
            args,
            listed,
            types.Tool.model_validate,
            audit_mode=self.proctor.settings.gateway_audit,
            snap=snap,
            grace=grace,
        )
        refused = self.refusal(decision, proctor_name, name)
        if refused is not None:
            return LeanOutcome(refused.model_dump(mode="json", by_alias=True, exclude_none=True))
        started = time.monotonic()
        status = "ok"
        try:
            up = await owned.lean(cfg)
            owned.record_use(cfg, decision)
            async with asyncio.timeout(cfg.timeout_s) as grace.window:  # cheaper than anyio's scope
                result = await up.call_tool(upstream_tool, args)
            if result.get("isError"):
                status = "tool_error"
        except CredentialUnavailable as exc:
            status = "credential_unavailable"
            result = _text_error(
                f"Proctor denied this call: {exc} (decision {decision.decision_id})"
            ).model_dump(mode="json", by_alias=True, exclude_none=True)
        except TimeoutError:
            status = "timeout"
            await owned.drop_lean(cfg.namespace)
            result = _text_error(
                f"upstream `{cfg.namespace}` did not answer within {cfg.timeout_s:g}s; the call was abandoned"
                f" (decision {decision.decision_id})"
            ).model_dump(mode="json", by_alias=True, exclude_none=True)
        except LeanUpstreamError as exc:
            if exc.closed or exc.error is None:
                status = "upstream_unavailable"
                await owned.drop_lean(cfg.namespace)
                text = f"upstream `{cfg.namespace}` is unavailable; the call did not complete"
            else:
                status = "upstream_error"
                text = f"upstream `{cfg.namespace}` refused the call: {exc}"
            result = _text_error(text).model_dump(mode="json", by_alias=True, exclude_none=True)
        except Exception as exc:  # the call is accounted for (completion record) whatever broke
            status = "upstream_unavailable"
            log.warning("upstream `%s` failed during a call: %s", cfg.namespace, type(exc).__name__)
            await owned.drop_lean(cfg.namespace)
            result = _text_error(
                f"upstream `{cfg.namespace}` is unavailable; the call did not complete"
            ).model_dump(mode="json", by_alias=True, exclude_none=True)
        if recorded is not None and (await recorded).verdict is not Verdict.ALLOW:
            # the decision could not be made durable: the outcome is withheld, never returned unrecorded
            status = "audit_failed"
            log.critical(
                "decision %s was not recorded; the upstream result is withheld", decision.decision_id
            )
            result = _text_error(
                "the audit log could not record this call; its result is withheld"
            ).model_dump(mode="json", by_alias=True, exclude_none=True)
        completion = (
            owned.task_id,
            cfg,
            proctor_name,
            decision,
            status,
            result.get("content") or [],
            result.get("structuredContent"),
            bool(result.get("isError")),
            started,
        )
        if self.proctor.settings.gateway_audit == "strict":
            if not await self._completion_durable(*completion, path="lean", snap=snap):
                result = _text_error(
                    "the audit log could not record this call's completion; its result is withheld"
                ).model_dump(mode="json", by_alias=True, exclude_none=True)
            return LeanOutcome(result)
        return LeanOutcome(
            result, functools.partial(self._record_completion, *completion, path="lean", snap=snap)
        )

    async def _never_unresolved(
        self, call: CallInput, caller: Caller, tool: ToolName, decision: Decision
    ) -> Decision:
        """Fail closed when the pipeline allows a call the gateway did not let reach its upstream
        (so its name was never resolved through the listing nor its pin checked): the two checks
        disagree, and the call must not go ahead unresolved."""
        if decision.verdict is not Verdict.ALLOW:
            return decision
        log.error("a call for `%s` was allowed without reaching its upstream first: denied", tool)
        return await self._deny_recorded(
            call,
            caller,
            tool,
            "the gateway could not resolve this tool: the call is denied",
            "internal_error",
        )

    async def _deny_recorded(
        self, call: CallInput, caller: Caller, tool: ToolName, reason: str, code: str
    ) -> Decision:
        """A deny decided here (not by the pipeline), recorded if the log can take it."""
        d = deny(reason, self.proctor.policies.engine.version, errors=(code,))
        try:
            agent, task = self.proctor.state.agent(caller.agent), self.proctor.state.task(caller.task_id)
        except Exception:
            agent = task = None  # the store cannot be read: the record names the call without them
        try:
            entry = self.proctor.pipeline.decision_entry(call, d, agent, task, str(tool), budget_used=False)
            await self.proctor.audit.append_entry_async(entry)
        except Exception as exc:
            log.error("could not record the deny %s: %s", d.decision_id, type(exc).__name__)
        return d

    async def _forward(
        self,
        owned: TaskUpstreams,
        cfg: UpstreamConfig,
        upstream_tool: str,
        proctor_name: ToolName,
        args: Mapping[str, Any],
        ctx: ServerRequestContext[Any, Any],
        decision: Decision,
    ) -> types.CallToolResult:
        started = time.monotonic()
        status = "ok"
        result: types.CallToolResult
        owned.active.append(ctx)

        async def relay(progress: float, total: float | None, message: str | None) -> None:
            with contextlib.suppress(Exception):  # progress is best effort
                await ctx.session.report_progress(progress, total, message)

        try:
            up = await owned.get(cfg)
            client = up.require()
            owned.record_use(cfg, decision)
            with anyio.fail_after(cfg.timeout_s):
                result = await client.call_tool(upstream_tool, dict(args), progress_callback=relay)
            result = result.model_copy(update={"meta": None})
            if result.is_error:
                status = "tool_error"
        except CredentialUnavailable as exc:
            status = "credential_unavailable"
            result = _text_error(f"Proctor denied this call: {exc} (decision {decision.decision_id})")
        except TimeoutError:
            status = "timeout"
            owned.drop(cfg.namespace)  # a hung upstream is restarted for the next call
            result = _text_error(
                f"upstream `{cfg.namespace}` did not answer within {cfg.timeout_s:g}s; the call was abandoned"
                f" (decision {decision.decision_id})"
            )
        except MCPError as exc:
            if exc.error.code == types.CONNECTION_CLOSED:  # the upstream died under the call
                status = "upstream_unavailable"
                owned.drop(cfg.namespace)
                result = _text_error(f"upstream `{cfg.namespace}` is unavailable; the call did not complete")
            else:
                status = "upstream_error"
                result = _text_error(
                    f"upstream `{cfg.namespace}` refused the call: {str(exc.error.message)[:300]}"
                )
        except Exception as exc:
            status = "upstream_unavailable"
            owned.drop(cfg.namespace)
            log.warning("upstream `%s` failed during a call: %s", cfg.namespace, type(exc).__name__)
            result = _text_error(f"upstream `{cfg.namespace}` is unavailable; the call did not complete")
        except BaseException:
            # cancelled (the client cancelled the request or left): the allow still gets its
            # completion record, saying so, before the cancellation goes on
            self._record_completion(
                owned.task_id, cfg, proctor_name, decision, "cancelled", [], None, True, started
            )
            raise
        finally:
            owned.active.remove(ctx)
        completion = (
            owned.task_id,
            cfg,
            proctor_name,
            decision,
            status,
            [c.model_dump(mode="json") for c in result.content],
            result.structured_content,
            bool(result.is_error),
            started,
        )
        if self.proctor.settings.gateway_audit == "strict":
            if not await self._completion_durable(*completion):
                return _text_error(
                    "the audit log could not record this call's completion; its result is withheld"
                )
            return result
        self._record_completion(*completion)
        return result

    def _completion_entry(
        self,
        task_id: TaskId,
        cfg: UpstreamConfig,
        proctor_name: ToolName,
        decision: Decision,
        status: str,
        content: list[Any],
        structured: Any,
        is_error: bool,
        started: float,
        path: str = "sdk",
        snap: Snapshot | None = None,
    ) -> AuditEntry:
        tool = self.proctor.state.tool(proctor_name, snap)
        raw = _digest_bytes([content, structured])
        fields = {
            "status": status,
            "is_error": is_error,
            "duration_us": round((time.monotonic() - started) * 1_000_000),
            "output_digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
            "output_bytes": len(raw),
            "labels": None if tool is None else {"trust": tool.trust, "sensitivity": tool.sensitivity},
            "upstream": cfg.namespace,
            "path": path,
        }
        return AuditEntry(
            "call.completed",
            fields,
            task=str(task_id),
            tool=str(proctor_name),
            decision_id=str(decision.decision_id),
        )

    def _record_completion(self, *args: Any, **kwargs: Any) -> None:
        """Queue the call's completion record. The decision record was durable before the upstream
        was called; this one rides along with the next commit (or within 50 ms) and never costs
        an fsync of its own on the hot path (``gateway.audit: strict`` makes it durable before the
        answer instead: see :meth:`_completion_durable`)."""
        decision: Decision = args[3]
        try:
            e = self._completion_entry(*args, **kwargs)
            self.proctor.audit.defer(
                e.kind, dict(e.fields), task=e.task, tool=e.tool, decision_id=e.decision_id
            )
        except Exception as exc:
            log.error("could not record the completion of %s: %s", decision.decision_id, type(exc).__name__)

    async def _completion_durable(self, *args: Any, **kwargs: Any) -> bool:
        """Make the call's completion record durable now (``gateway.audit: strict``: no answered
        call without its completion record, even across a crash). False when the log refused it."""
        decision: Decision = args[3]
        try:
            await self.proctor.audit.append_entry_async(self._completion_entry(*args, **kwargs))
            return True
        except Exception as exc:
            log.critical(
                "the completion of %s could not be recorded; its result is withheld: %s",
                decision.decision_id,
                type(exc).__name__,
            )
            return False

    # resources, prompts, completion, logging -------------------------------------------------
    # Each request that reaches an upstream is decided and audited as a call of a relay tool
    # (`<namespace>.resources.read`, ...): see proctor.gateway.relays and docs/adr/0016.
    async def list_resources(self, caller: Caller) -> list[types.Resource]:
        from proctor.gateway import relays

        return await relays.list_resources(self, caller)

    async def list_resource_templates(self, caller: Caller) -> list[types.ResourceTemplate]:
        from proctor.gateway import relays

        return await relays.list_resource_templates(self, caller)

    async def read_resource(self, caller: Caller, uri: str) -> types.ReadResourceResult:
        from proctor.gateway import relays

        return await relays.read_resource(self, caller, uri)

    async def subscribe(self, caller: Caller, uri: str, on: bool) -> None:
        from proctor.gateway import relays

        await relays.subscribe(self, caller, uri, on)

    async def list_prompts(self, caller: Caller) -> list[types.Prompt]:
        from proctor.gateway import relays

        return await relays.list_prompts(self, caller)

    async def get_prompt(
        self, caller: Caller, name: str, arguments: dict[str, str] | None
    ) -> types.GetPromptResult:
        from proctor.gateway import relays

        return await relays.get_prompt(self, caller, name, arguments)

    async def complete(self, caller: Caller, params: types.CompleteRequestParams) -> types.CompleteResult:
        from proctor.gateway import relays

        return await relays.complete(self, caller, params)

    async def set_logging_level(self, caller: Caller, level: types.LoggingLevel) -> None:
        from proctor.gateway import relays

        await relays.set_logging_level(self, caller, level)
