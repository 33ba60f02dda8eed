"""A task's upstream sessions, and the credentials injected into them.

Isolation: every task gets its own upstream sessions (a stdio upstream is one process per task),
opened on first use and closed when the task ends, so whatever an upstream holds for a task (its
environment, its leased credentials) belongs to that task alone. Credentials an upstream needs are
obtained for the task when it first uses that upstream (policy decides, a provider issues a lease),
injected into the task's session, checked before every use and recorded against each call.

Two kinds of session per upstream: the SDK client (:class:`_Upstream`: any transport, relays
progress, sampling, elicitation and logging to the downstream request in flight) and the lean
JSON-RPC one (:class:`~proctor.gateway.lean.LeanHttpUpstream`, plain-HTTP upstreams, the fast
path). Both come from :class:`TaskUpstreams`; what a call does with them is
:mod:`proctor.gateway.calls`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
import mcp_types as types
from anyio.abc import TaskGroup
from mcp import Client
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from pydantic import BaseModel

from proctor.errors import ProctorError
from proctor.gateway.config import UpstreamConfig, case_unique
from proctor.gateway.credentials import Injection, inject
from proctor.gateway.lean import LeanHttpUpstream
from proctor.gateway.upstream import open_upstream
from proctor.policy.engine import CredentialRef, Decision
from proctor.policy.scope import declares_namespace
from proctor.types import LeaseId, TaskId

if TYPE_CHECKING:
    from proctor.app import Proctor

__all__ = ["CredentialUnavailable", "SessionHost", "TaskUpstreams", "UpstreamUnavailable"]

log = logging.getLogger(__name__)
R = TypeVar("R", bound=BaseModel)

#: most tools one upstream may announce, and pages Proctor will follow, before it stops listening
MAX_TOOLS = 10_000
MAX_PAGES = 100


#: what answers an upstream's mid-call request in place of the downstream request (see
#: ``TaskUpstreams.intercepts``): the request, the result type it expects
Intercept = Callable[[Any, type[Any]], Awaitable[Any]]


class SessionHost(Protocol):
    """What a task's sessions need of the gateway around them (the runtime provides it)."""

    @property
    def proctor(self) -> Proctor: ...

    @property
    def upstreams(self) -> dict[str, UpstreamConfig]:
        """The upstreams ``upstreams.yaml`` holds now (namespace -> configuration)."""
        ...

    @property
    def task_group(self) -> TaskGroup:
        """Where each SDK session's own task runs."""
        ...


@dataclass
class _Catalog:
    tools: dict[str, types.Tool] = field(default_factory=dict)  # upstream name -> definition


class _Upstream:
    """One open upstream session for one task, kept alive by its own task in the host's group."""

    def __init__(self, cfg: UpstreamConfig, owner: TaskUpstreams) -> None:
        self.cfg = cfg
        self.owner = owner
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.catalog: _Catalog | None = None
        self.ready = anyio.Event()
        self.stop = anyio.Event()
        self.closed = False

    async def _sampling(
        self, context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        return await self.owner.forward_sampling(context, params, self.cfg.namespace)

    async def _elicitation(
        self, context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        return await self.owner.forward_elicitation(context, params, self.cfg.namespace)

    async def run(self) -> None:
        try:
            inj = await self.owner.injection(self.cfg)
            async with open_upstream(
                self.cfg,
                env=inj.env,
                headers=inj.headers,
                sampling_callback=self._sampling,
                elicitation_callback=self._elicitation,
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


class UpstreamUnavailable(Exception):
    """An upstream could not be reached or died; the message is safe to show."""

    def __init__(self, namespace: str, reason: str = "") -> None:
        """``reason``: why, in Proctor's own fixed words (``its command was not found``), never
        the exception's text (see :func:`proctor.gateway.discovery.unavailable_reason`)."""
        super().__init__(f"upstream `{namespace}` is unavailable" + (f": {reason}" if reason else ""))
        self.namespace = namespace
        self.reason = reason


def _why(error: BaseException | None, cfg: UpstreamConfig) -> str:
    """Why an upstream session is not there, as a client may read it."""
    if error is None:
        return f"it did not start within {cfg.timeout_s:g}s"
    from proctor.gateway.discovery import unavailable_reason

    return unavailable_reason(error)


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

    def __init__(self, host: SessionHost, task_id: TaskId) -> None:
        self.host = host
        self.task_id = task_id
        self.sessions: dict[str, _Upstream] = {}
        self.active: list[ServerRequestContext[Any, Any]] = []
        #: the upstream each request in ``active`` calls (id of its context -> namespace): an
        #: upstream's mid-call request goes back to a request calling THAT upstream, never to the
        #: task's latest call to another one (red team, 2026-12-06)
        self.active_ns: dict[int, str] = {}
        #: downstream requests whose upstream mid-call requests go elsewhere than back to them
        #: (id of the request's context -> handler): a 2026-07-28 client cannot be sent one, the
        #: gateway turns it into ``input_required`` (proctor.gateway.xrev)
        self.intercepts: dict[int, Intercept] = {}
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
                task = self.host.proctor.state.task(self.task_id)
                if task is None or not declares_namespace(task.allow, cfg.namespace):
                    # never ask for a credential of an upstream the task declared no tool of
                    raise CredentialUnavailable(
                        cfg.namespace, cfg.credentials[0].name, "upstream_not_declared"
                    )
                held = await anyio.to_thread.run_sync(self._obtain, cfg)
                if self.closed:  # the task's sessions were closed while the provider worked
                    await self._revoke_all(held, "the task's sessions were closed")
                    raise UpstreamUnavailable(cfg.namespace)
                if self.host.upstreams.get(cfg.namespace) != cfg:  # reloaded meanwhile
                    await self._revoke_all(held, "the upstream's configuration changed")
                    raise UpstreamUnavailable(cfg.namespace)
                self.injections[cfg.namespace] = held
        return held

    def _check_current(self, cfg: UpstreamConfig) -> None:
        """Refuse a configuration ``upstreams.yaml`` no longer holds: a call that resolved its
        upstream before a reload must not reopen (for the whole task) what the reload retired."""
        if self.host.upstreams.get(cfg.namespace) != cfg:
            raise UpstreamUnavailable(cfg.namespace)

    async def _revoke_all(self, held: Injection, reason: str) -> None:
        """Revoke the leases of a session being retired (a no-op for those already ended)."""

        def run() -> None:
            for lid in held.leases:
                with contextlib.suppress(Exception):  # audited by the lease manager; retried by sweeps
                    self.host.proctor.credentials.leases.revoke(LeaseId(lid), reason)

        if held.leases:
            await anyio.to_thread.run_sync(run)

    def _obtain(self, cfg: UpstreamConfig) -> Injection:
        proctor = self.host.proctor
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
        proctor = self.host.proctor
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
        audit = self.host.proctor.audit
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
                up = LeanHttpUpstream(cfg, (await self.injection(cfg)).headers, clock=self.host.proctor.clock)
                try:
                    with anyio.fail_after(cfg.timeout_s):
                        await up.start()
                except BaseException:
                    await up.close()
                    raise
                self.leans[cfg.namespace] = up
        return up

    async def drop_lean(self, namespace: str, cfg: UpstreamConfig | None = None) -> None:
        """Close the task's lean session with an upstream (with ``cfg``: only if it was opened for
        that configuration, so a call that began before a reload never closes its successor's)."""
        up = self.leans.get(namespace)
        if up is None or (cfg is not None and up.cfg != cfg):
            return
        del self.leans[namespace]
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
                self.host.task_group.start_soon(up.run)
        with anyio.move_on_after(cfg.timeout_s):
            await up.ready.wait()
        if up.client is None:
            if not up.ready.is_set():
                up.stop.set()
            if isinstance(up.error, CredentialUnavailable):
                raise up.error
            raise UpstreamUnavailable(cfg.namespace, _why(up.error, cfg))
        return up

    def drop(self, namespace: str, cfg: UpstreamConfig | None = None) -> None:
        """Close the task's SDK session with an upstream (with ``cfg``: only if it was opened for
        that configuration, so a call that began before a reload never closes its successor's)."""
        up = self.sessions.get(namespace)
        if up is None or (cfg is not None and up.cfg != cfg):
            return
        del self.sessions[namespace]
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

    def _downstream(self, namespace: str | None = None) -> ServerRequestContext[Any, Any] | None:
        """The latest downstream request in flight (calling upstream ``namespace``, when given)."""
        if namespace is None:
            return self.active[-1] if self.active else None
        found = [ctx for ctx in self.active if self.active_ns.get(id(ctx)) == namespace]
        return found[-1] if found else None

    async def _relay(
        self, request: Any, result_type: type[R], what: str, namespace: str | None = None
    ) -> R | types.ErrorData:
        """Send an upstream's mid-call request to the downstream request in flight (the latest
        calling that upstream)."""
        ctx = self._downstream(namespace)
        if ctx is None:
            return types.ErrorData(code=types.INVALID_REQUEST, message="no downstream request is in flight")
        intercept = self.intercepts.get(id(ctx))
        if intercept is not None:
            try:
                answered = await intercept(request, result_type)
            except Exception as exc:  # fail closed: the upstream is told no
                log.warning("%s translation failed: %s", what, type(exc).__name__)
                answered = None
            if isinstance(answered, result_type | types.ErrorData):
                return answered
            return types.ErrorData(code=types.INTERNAL_ERROR, message=f"{what} could not be relayed")
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
        self, context: Any, params: types.CreateMessageRequestParams, namespace: str | None = None
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        return await self._relay(
            types.CreateMessageRequest(params=params), types.CreateMessageResult, "sampling", namespace
        )

    async def forward_elicitation(
        self, context: Any, params: types.ElicitRequestParams, namespace: str | None = None
    ) -> types.ElicitResult | types.ErrorData:
        return await self._relay(
            types.ElicitRequest(params=params), types.ElicitResult, "elicitation", namespace
        )

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
