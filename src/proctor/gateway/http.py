"""``proctor gateway --http``: Streamable HTTP, with Proctor as an OAuth 2.1 resource server.

Every request to the MCP endpoint carries either ``Authorization: Bearer <JWT-SVID>`` whose
audience is this gateway's canonical URL and ``Proctor-Task: <task token>`` bound to that agent, or
``Authorization: Bearer <access token>`` issued by the authorization server this listener serves
(``proctor.oauth``, docs/adr/0028: it names the agent and the task). Missing or
bad credentials get 401 (or 403 when the agent is known but may not proceed) with a
``WWW-Authenticate`` header that points at the RFC 9728 protected-resource metadata, served at
``/.well-known/oauth-protected-resource[/mcp]``. ``Origin`` is checked against the gateway's own
origin. The client's token is never forwarded upstream: upstream sessions carry no client headers.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp.server import ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    NAME_BEARING_METHODS,
    InboundLadderRejection,
    InboundModernRoute,
    classify_inbound_request,
    decode_header_value,
    validate_mcp_param_headers,
    x_mcp_header_map,
)
from mcp_types import MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS

from proctor.app import Proctor
from proctor.audit.refusals import RefusalLimiter, RefusalLimits, audit_refusal_async
from proctor.crypto.jose import b64url_decode
from proctor.errors import (
    AgentSuspended,
    IdentityError,
    OAuthRefused,
    ProctorError,
    SessionNotOwned,
    StoreError,
    TaskTokenInvalid,
    TokenInvalid,
)
from proctor.gateway import wire
from proctor.gateway.calls import LEAN, Caller, LeanLeg, denial_text
from proctor.gateway.config import load_upstreams
from proctor.gateway.hold import Channel, NeedsInput, answered
from proctor.gateway.mrtr import StateSeal, modern_leg, upstream_id
from proctor.gateway.names import canonical_name
from proctor.gateway.runtime import GatewayRuntime
from proctor.gateway.server import SERVER_NAME, SERVER_VERSION, build_server
from proctor.oauth.http import OAUTH_PATHS, OAuthEndpoints
from proctor.oauth.server import SCOPE, AuthorizationServer
from proctor.pipeline import Identity, printable
from proctor.policy.scope import declares_namespace
from proctor.snapshot import Snapshot
from proctor.tasks.service import TASK_AUDIENCE
from proctor.types import AgentName, AgentStatus, ToolName
from proctor.workspace import Workspace

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = [
    "CALLER_CACHE_MAX",
    "CALLER_CACHE_S",
    "MAX_BODY",
    "MCP_PATH",
    "TASK_HEADER",
    "GatewayAuth",
    "allowed_hosts",
    "caller_from_context",
    "create_gateway_app",
    "serve_http",
    "server_config",
]

TASK_HEADER = "proctor-task"
CALLER_KEY = "proctor.caller"
MAX_BODY = 1 << 20
CALLER_CACHE_S = 30.0
CALLER_CACHE_MAX = 10_000
MCP_PATH = "/mcp"
#: sessions remembered before those the SDK has closed are forgotten
MAX_SESSIONS = 100_000
#: the oldest store snapshot a decision may start from (see ``GatewayAuth.__call__``)
SNAPSHOT_MAX_AGE_S = 0.001
#: the ``MCP-Protocol-Version`` values the SDK serves on its session (handshake) path; it sends any
#: other value, session id or not, to its 2026-07-28 entry
HANDSHAKE_VERSIONS = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)
#: the stateless revisions (2026-07-28): the lean path serves a ``tools/call`` of these without a
#: session, as the SDK's stateless entry would (ADR 0031)
MODERN_VERSIONS = frozenset(MODERN_PROTOCOL_VERSIONS)
#: the ``_meta`` stamp a 2026-07-28 result carries (the SDK's, spec #3002)
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
_SERVER_INFO = {"name": SERVER_NAME, "version": SERVER_VERSION}
#: the deepest JSON nesting the lean path takes: the SDK's parser (pydantic-core) refuses a body
#: nested about 200 levels deep, so deeper ones go to it (and get its parse error)
MAX_LEAN_DEPTH = 190
#: JSON-RPC error: an ``Mcp-Method`` or ``Mcp-Name`` header contradicts the body (SEP-2243)
HEADER_MISMATCH = -32020
#: the Accept header MCP clients send, checked without splitting it
_USUAL_ACCEPT = "application/json, text/event-stream"


def caller_from_context(ctx: ServerRequestContext[Any, Any]) -> Caller:
    """The caller the auth layer verified for this HTTP request."""
    req = ctx.request
    caller = None if req is None else getattr(req, "scope", {}).get(CALLER_KEY)
    if not isinstance(caller, Caller):
        raise IdentityError("request carries no verified identity")
    return caller


class GatewayAuth:
    """ASGI layer in front of the SDK's Streamable HTTP app: metadata, Origin, bearer, task."""

    #: the refusal-audit limiter, made at the first refusal
    _refusals: RefusalLimiter | None = None

    def __init__(
        self,
        app: ASGIApp,
        proctor: Proctor,
        public_url: str,
        issuer_url: str | None = None,
        *,
        oauth: AuthorizationServer | None = None,
        runtime: GatewayRuntime | None = None,
        live_sessions: Callable[[], Mapping[str, Any]] | None = None,
        json_response: bool = False,
        lean: bool = True,
    ) -> None:
        self.app = app
        self.proctor = proctor
        self.runtime = runtime
        self.live_sessions = live_sessions
        #: the SDK app behind answers in JSON rather than SSE (so its Accept rule is looser)
        self.json_response = json_response
        #: serve lean ``tools/call`` at all (fast path and ASGI alike); off, the SDK serves every
        #: request (a switch for tests that compare the two)
        self.lean = lean
        self._callers: dict[tuple[str, str], tuple[Caller, float]] = {}
        #: seals the upstreams' ``requestState`` to their calls (2026-07-28): keyed by the workspace
        #: key, read here rather than on the event loop of a call
        self._state_seal: StateSeal | None = runtime.state_seal if runtime is not None else None
        #: what each downstream session declared at initialize (session id -> capabilities)
        self.session_caps: dict[str, dict[str, Any]] = {}
        #: the agent that opened each session (session id -> agent)
        self.session_owner: dict[str, AgentName] = {}
        self.public_url = public_url.rstrip("/")
        parts = urlsplit(self.public_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.allowed_origins = {self.origin}
        if parts.hostname in ("127.0.0.1", "localhost"):
            port = f":{parts.port}" if parts.port else ""
            self.allowed_origins |= {f"{parts.scheme}://127.0.0.1{port}", f"{parts.scheme}://localhost{port}"}
        #: the Host values answered, the list the SDK's DNS-rebinding check is given
        self.allowed_hosts = frozenset(allowed_hosts(self.public_url))
        self.prm_url = f"{self.origin}/.well-known/oauth-protected-resource{parts.path}"
        #: the MCP endpoint: the only path the lean path serves
        self.mcp_path = parts.path or MCP_PATH
        #: the authorization server served on this listener (docs/adr/0028), when there is one
        self.oauth = oauth
        self.oauth_endpoints = None if oauth is None else OAuthEndpoints(oauth)
        issuer = oauth.issuer if oauth is not None else (issuer_url or self.origin).rstrip("/")
        self.metadata = {
            "resource": self.public_url,
            "authorization_servers": [issuer],
            "scopes_supported": [SCOPE],
            "bearer_methods_supported": ["header"],
            "resource_name": "Proctor MCP gateway",
            "resource_documentation": "https://github.com/proctor/proctor#mcp-gateway",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/.well-known/oauth-protected-resource"):
            await _json(send, 200, self.metadata)
            return
        if self.oauth_endpoints is not None and path in OAUTH_PATHS:
            raw = scope["headers"] = list(scope.get("headers", []))
            hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
            early = self._precheck(raw, hdrs)
            if early is not None:
                await early.answer(send)
                return
            refused = await self.oauth_endpoints(scope, receive, send)
            if refused is not None:
                await self._audit_refusal(refused, path, scope.get("client"))
            return
        if path == "/healthz" and scope.get("method") in ("GET", "HEAD"):
            # liveness, answered without the store: "degraded" while it is down (docs/adr/0019)
            store = self.proctor.store_guard.health()
            status = "ok" if store["status"] == "ok" else "degraded"
            await _json(send, 200, {"status": status, "store": store})
            return
        # what is checked here is what the app behind sees: a server that appended trailer fields
        # to this list while the body is read would otherwise slip a header past these checks
        raw_headers = scope["headers"] = list(scope.get("headers", []))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        snap_at = self.proctor.clock.monotonic()  # no later than the snapshot _admit takes
        admitted = await self._admit(raw_headers, headers)
        if isinstance(admitted, _Refusal):
            await admitted.answer(send)
            if admitted.audit is not None:
                await self._audit_refusal(admitted.audit, path, scope.get("client"))
            return
        caller, snap = admitted
        scope[CALLER_KEY] = caller
        if scope.get("method") != "POST" or self.runtime is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, MAX_BODY)
        if body is None:
            await _json(send, 413, _TOO_LARGE)
            return
        try:
            msg = wire.loads(body)
        except ValueError:
            msg = None
        replay = _replay(body, receive)
        if (
            self.lean
            and path == self.mcp_path
            and isinstance(msg, dict)
            and msg.get("method") == "tools/call"
            and self._lean_ok(msg, headers, body, len(headers) == len(raw_headers))
        ):
            if self.proctor.clock.monotonic() - snap_at > SNAPSHOT_MAX_AGE_S:
                # the body took a while (a slow or trickling client): decide on the store as it is
                # now, so a suspension or task end committed meanwhile is seen
                try:
                    snap = await self.proctor.state.snapshot_async()
                except StoreError as exc:
                    await _store_failed(send, exc)
                    return
            await self._lean_call(msg, caller, send, snap, headers)
            return
        # the lean path decides a call whatever its arguments hold; the SDK would drop this one
        if msg is not None and wire.lone_surrogate(body, msg):
            await self._refuse_surrogate(msg, caller, send)
            return
        version = headers.get("mcp-protocol-version")
        if isinstance(msg, dict) and version in _HANDSHAKE_OR_NONE:
            # the SDK checks these headers against the body on 2026-07-28 only; a gateway, or a
            # proxy in front of it, may route or authorize on them, so they are checked here too
            mismatch = _header_mismatch(headers, msg)
            if mismatch is not None:
                await self._refuse_message(msg, caller, send, HEADER_MISMATCH, mismatch, "header mismatch")
                return
        elif isinstance(msg, dict) and version in MODERN_VERSIONS and self._modern_request(msg, headers):
            # 2026-07-28: the SDK's stateless entry would answer -32020 too (same message), but
            # unaudited; a contradicting header is a refusal the audit log must show
            verdict = classify_inbound_request(msg, headers=headers)
            if isinstance(verdict, InboundLadderRejection) and verdict.code == HEADER_MISMATCH:
                await self._refuse_message(
                    msg, caller, send, HEADER_MISMATCH, verdict.message, "header mismatch"
                )
                return
        send = _public_errors(send)
        if isinstance(msg, dict) and msg.get("method") == "initialize":
            await self.app(scope, replay, self._capture_session(msg, send, caller))
            return
        await self.app(scope, replay, send)

    async def _admit(
        self, raw_headers: list[tuple[bytes, bytes]], headers: dict[str, str]
    ) -> tuple[Caller, Snapshot] | _Refusal:
        """Every check a request passes before anything reads its body, in order: no repeated
        identity or session header, the Origin, the announced size, the caller's credentials on a
        fresh store snapshot (one epoch read for the whole request), and the session's owner.
        The ASGI path answers a refusal; the fast path declines the request, so the ASGI path
        answers it (one set of checks for both, so they cannot drift apart)."""
        refused = self._precheck(raw_headers, headers)
        if refused is not None:
            return refused
        return await self._identified(headers)

    def _precheck(self, raw_headers: list[tuple[bytes, bytes]], headers: dict[str, str]) -> _Refusal | None:
        """The checks of :meth:`_admit` that need no store (the fast path makes them before it
        takes a request)."""
        if len(headers) != len(raw_headers) and _repeated(raw_headers):
            # this layer reads the last copy of a header, the SDK behind it the first: a session id
            # or credential sent twice could be checked as one and used as another
            return _Refusal(400, {"error": {"code": "invalid_request", "message": "a header is repeated"}})
        if headers.get("host") not in self.allowed_hosts:
            # DNS rebinding: the same list, and status, as the SDK's own check behind this one
            return _Refusal(421, {"error": {"code": "host_rejected", "message": "host not allowed"}})
        origin = headers.get("origin")
        if origin is not None and origin not in self.allowed_origins:
            return _Refusal(403, {"error": {"code": "origin_rejected", "message": "origin not allowed"}})
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return _Refusal(413, _TOO_LARGE)
        return None

    async def _identified(self, headers: dict[str, str]) -> tuple[Caller, Snapshot] | _Refusal:
        try:
            # on a store worker thread, bounded: never the loop (docs/adr/0019)
            caller, snap = await self.proctor.store_guard.run(self._identify, headers, read=True)
        except StoreError as exc:
            return _store_refusal(exc)
        except ProctorError as exc:
            status = 403 if isinstance(exc, AgentSuspended | TaskTokenInvalid) else 401
            error = "insufficient_scope" if status == 403 else "invalid_token"
            challenge = f'Bearer resource_metadata="{self.prm_url}", error="{error}"'
            if "authorization" not in headers:
                # no credentials at all: no error code (RFC 6750 §3.1), only where to get some
                challenge = f'Bearer resource_metadata="{self.prm_url}", scope="{SCOPE}"'
            return _Refusal(
                status,
                {"error": {"code": exc.code, "message": exc.message}},
                {"www-authenticate": challenge},
                exc,
            )
        sid = headers.get("mcp-session-id")
        if sid is not None and self.session_owner.get(sid, caller.agent) != caller.agent:
            # a session belongs to the agent that opened it: another agent's id is answered as the
            # SDK answers an unknown one, so it can neither use, end nor confirm that session
            return _Refusal(
                404,
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Session not found"}},
                audit=SessionNotOwned("session opened by another agent"),
            )
        return caller, snap

    def _identify(self, headers: dict[str, str]) -> tuple[Caller, Snapshot]:
        """The caller, on a fresh snapshot that also holds their task (what the call reads next)."""
        snap = self.proctor.state.snapshot()
        caller = self._caller(headers, snap)
        task = self.proctor.state.task(caller.task_id, snap)
        if caller.svid is None and (task is None or not task.is_live(self.proctor.clock.now())):
            # an OAuth access token (docs/adr/0028) whose task has ended (its grant revoked, or
            # ended by hand): refused at the door, so the client refreshes or authorizes again
            raise TokenInvalid("the task this access token names has ended: refresh the token")
        return caller, snap

    def _capture_session(self, msg: dict[str, Any], send: Send, caller: Caller) -> Send:
        params = msg.get("params")
        caps = params.get("capabilities") if isinstance(params, dict) else None

        async def capturing(message: Message) -> None:
            if message["type"] == "http.response.start":
                for k, v in message.get("headers", []):
                    if k.lower() == b"mcp-session-id":
                        if len(self.session_owner) > MAX_SESSIONS:
                            self._forget_closed_sessions()
                        sid = v.decode("latin-1")
                        self.session_caps[sid] = caps if isinstance(caps, dict) else {}
                        self.session_owner[sid] = caller.agent
            await send(message)

        return capturing

    def _forget_closed_sessions(self) -> None:
        """Drop what is remembered of sessions the SDK no longer has. A live session is never
        forgotten: its owner is what keeps other agents out of it."""
        live = self.live_sessions() if self.live_sessions is not None else {}
        for sid in [s for s in self.session_owner if s not in live]:
            self.session_owner.pop(sid, None)
            self.session_caps.pop(sid, None)

    async def _refuse_surrogate(self, msg: Any, caller: Caller, send: Send) -> None:
        """A message the SDK would drop with its parser's text: refused with a JSON-RPC error for
        its id, and audited."""
        text = "the message holds a lone surrogate, which is not Unicode"
        await self._refuse_message(msg, caller, send, -32602, text, "lone surrogate", "invalid_input")

    async def _refuse_message(
        self, msg: Any, caller: Caller, send: Send, code: int, text: str, reason: str, error: str = ""
    ) -> None:
        """Refuse a message with a JSON-RPC error (HTTP 400) for its id, and audit the refusal."""
        mid = msg.get("id") if isinstance(msg, dict) else None
        reply = {
            "jsonrpc": "2.0",
            "id": mid if wire.echoable_id(mid) else None,
            "error": {"code": code, "message": text},
        }
        await _json(send, 400, reply)
        await self._audit_refused(msg, caller, reason, error)

    async def _audit_refused(self, msg: Any, caller: Caller, reason: str, error: str = "") -> None:
        """Audit a JSON-RPC request the gateway refused (``gateway.refused``)."""
        method = msg.get("method") if isinstance(msg, dict) else None
        try:
            await self.proctor.audit.append_async(
                "gateway.refused",
                {
                    "error": error or reason.replace(" ", "_"),
                    "reason": reason,
                    "method": printable(method, 100),
                },
                agent=str(caller.agent),
                task=str(caller.task_id),
            )
        except Exception:
            log.exception("could not audit a refused gateway request")

    def _modern_request(self, msg: dict[str, Any], headers: dict[str, str]) -> bool:
        """Whether the SDK's 2026-07-28 entry would take ``msg`` as one JSON-RPC request and run
        its envelope and header checks on it (the checks it makes first: Content-Type, Accept,
        the request's shape)."""
        mid = msg.get("id")
        return (
            (type(mid) is str or type(mid) is int)
            and msg.get("jsonrpc") == "2.0"
            and type(msg.get("method")) is str
            and _content_type_ok(headers.get("content-type"))
            and self._accept_ok(headers.get("accept"))
        )

    def _lean_ok(self, msg: dict[str, Any], headers: dict[str, str], body: bytes, distinct: bool) -> bool:
        """The lean path serves a call only when the SDK path would serve it too, on the same
        terms, and could not do anything more for it: anything else goes to the SDK, which answers
        it. ``distinct``: no header name is repeated (the SDK reads the first copy, ``headers`` the
        last). ADR 0013 (amendment) and ADR 0031 (2026-07-28) list the rules."""
        if self.runtime is None or self.live_sessions is None or not distinct:
            return False
        sid = headers.get("mcp-session-id")
        version = headers.get("mcp-protocol-version")
        params = msg.get("params")
        if version is not None and version not in HANDSHAKE_VERSIONS:
            # the SDK's 2026-07-28 entry serves it, session id or not: the lean path takes what
            # that entry would run without anything the lean path lacks (ADR 0031)
            if version not in MODERN_VERSIONS or sid is not None or not self._modern_request(msg, headers):
                return False
            route = classify_inbound_request(msg, headers=headers)
            if not isinstance(route, InboundModernRoute) or not isinstance(route.client_capabilities, dict):
                return False  # the SDK answers it (or __call__ refuses a contradicting header)
            if any(k.startswith("mcp-param-") for k in headers):
                return False  # Mcp-Param-* headers are checked against the tool's schema there
        else:
            if sid is None:
                return False
            mid = msg.get("id")
            if (type(mid) is not str and type(mid) is not int) or msg.get("jsonrpc") != "2.0":
                # the SDK takes a message with any other id (true, 1.5, null, an object) for a
                # notification and answers 202 without running it; another jsonrpc is refused
                return False
            if not (_content_type_ok(headers.get("content-type")) and self._accept_ok(headers.get("accept"))):
                return False
            caps = self.session_caps.get(sid)
            if caps is None or "sampling" in caps or "elicitation" in caps or sid not in self.live_sessions():
                return False
            if ("mcp-method" in headers or "mcp-name" in headers) and _header_mismatch(
                headers, msg
            ) is not None:
                return False
        if not isinstance(params, dict) or not isinstance(params.get("name"), str) or "task" in params:
            return False
        args = params.get("arguments", {})
        meta = params.get("_meta")
        if not isinstance(args, dict) or not (
            meta is None or (isinstance(meta, dict) and meta.get("progressToken") is None)
        ):
            return False
        if body.count(b"{") + body.count(b"[") > MAX_LEAN_DEPTH and wire.nested_deeper_than(
            msg, MAX_LEAN_DEPTH
        ):
            return False
        target = self.runtime.catalog.tool_upstream(params["name"])
        # plain http only: the lean client does not speak TLS (https upstreams take the SDK path)
        return target is not None and target.transport == "http" and (target.url or "").startswith("http://")

    def _accept_ok(self, accept: str | None) -> bool:
        """The SDK's Accept rule (``check_accept_headers``): JSON, and SSE unless it answers JSON."""
        if accept == _USUAL_ACCEPT:
            return True
        types = [t.strip().split(";")[0].strip().lower() for t in (accept or "").split(",")]
        wildcard = "*/*" in types
        has_json = wildcard or any(t in ("application/json", "application/*") for t in types)
        has_sse = wildcard or any(t in ("text/event-stream", "text/*") for t in types)
        return has_json and (has_sse or self.json_response)

    async def _lean_call(
        self, msg: dict[str, Any], caller: Caller, send: Send, snap: Snapshot, headers: dict[str, str]
    ) -> None:
        reply, finish = await self._lean_reply(msg, caller, snap, headers)
        try:
            await _json(send, _status_of(reply, headers), reply)
        finally:
            if finish is not None:
                # after the response has left (it is written at the end of this loop turn, and
                # this runs in a later callback of the same turn, see proctor.gateway.serving),
                # and whether or not sending it worked: the call happened either way
                asyncio.get_running_loop().call_soon(finish)

    async def _lean_reply(
        self, msg: dict[str, Any], caller: Caller, snap: Snapshot, headers: dict[str, str]
    ) -> tuple[dict[str, Any], Callable[[], None] | None]:
        """The JSON-RPC reply to one lean ``tools/call``, and the bookkeeping to run once it is sent.
        Never raises (but for cancellation): every failure is a reply. A 2026-07-28 request
        (stateless: no session) is answered as the SDK's stateless entry answers it: its
        ``Mcp-Param-*`` headers checked against the tool's schema, ``resultType`` and the server's
        ``_meta`` stamp on a result, ``input_required`` for a held call whose client declared
        URL elicitation (ADR 0031)."""
        assert self.runtime is not None
        params = msg["params"]
        modern = headers.get("mcp-protocol-version") in MODERN_VERSIONS
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg["id"]}
        finish = None
        leg = LEAN
        try:
            args = params.get("arguments") or {}
            if modern:
                mismatch = await self._param_mismatch(caller, params["name"], args, headers)
                if mismatch is not None:
                    reply["error"] = {"code": HEADER_MISMATCH, "message": mismatch}
                    await self._audit_refused(msg, caller, "header mismatch", "header_mismatch")
                    return reply, None
                try:
                    leg = self._modern_leg(params, caller)
                except MCPError as exc:
                    # a retry's requestState or inputResponses the gateway refuses (too large,
                    # altered, expired, or issued for another call): refused before any decision
                    reply["error"] = {"code": exc.error.code, "message": exc.error.message}
                    await self._audit_refused(
                        msg, caller, "invalid multi-round-trip input", "request_state_invalid"
                    )
                    return reply, None
            outcome = await self.runtime.calls.call(caller, params["name"], args, leg, snap)
            finish = outcome.finish
            undeclared = _undeclared(params, outcome.missing) if modern else ()
            if undeclared:
                # SEP-2575: the upstream needs a capability this client did not declare; it is
                # told so as its own -32021 (HTTP 400), as the upstream would tell it directly.
                # The upstream ran nothing; the completion record says upstream_error.
                reply["error"] = {
                    "code": MISSING_REQUIRED_CLIENT_CAPABILITY,
                    "message": (
                        f"the tool needs the client capabilities {', '.join(undeclared)}, which this"
                        " request did not declare"
                    ),
                    "data": {"requiredCapabilities": {c: {} for c in undeclared}},
                }
            else:
                reply["result"] = outcome.result
        except NeedsInput as held:  # 2026-07-28: the person is sent to the page, the client retries
            reply["result"] = held.result.model_dump(mode="json", by_alias=True, exclude_none=True)
        except MCPError as exc:
            reply["error"] = {"code": exc.error.code, "message": exc.error.message}
            if exc.error.data is not None:
                reply["error"]["data"] = exc.error.data
        except ProctorError as exc:
            reply["result"] = {"content": [{"type": "text", "text": denial_text(exc)}], "isError": True}
        except Exception as exc:
            log.exception("lean tools/call failed")
            reply["error"] = {"code": -32603, "message": f"internal error ({type(exc).__name__})"}
        if modern and "result" in reply:
            result = reply["result"]
            result.setdefault("resultType", "complete")
            meta = result.get("_meta")
            result["_meta"] = {**(meta if isinstance(meta, dict) else {}), SERVER_INFO_KEY: _SERVER_INFO}
        return reply, finish

    def _modern_leg(self, params: dict[str, Any], caller: Caller) -> LeanLeg:
        """The lean leg of a 2026-07-28 call (:func:`proctor.gateway.mrtr.modern_leg`): a held call
        answers ``input_required`` with the approval link when its client declared URL elicitation
        and this is not its retry (as the SDK entry does); an upstream's own ``input_required`` is
        passed through and the retry's input forwarded. Raises MCPError(-32602) for a retry's
        input the gateway refuses."""
        assert self.runtime is not None
        assert self._state_seal is not None
        cfg = self.runtime.catalog.tool_upstream(params["name"])
        return modern_leg(
            params,
            _held_channel(params),
            self._state_seal,
            str(caller.task_id),
            upstream_id(cfg),
            params["name"],
        )

    async def _param_mismatch(
        self, caller: Caller, name: str, args: dict[str, Any], headers: dict[str, str]
    ) -> str | None:
        """What the SDK's stateless entry would refuse of a call's ``Mcp-Param-*`` headers (none are
        sent on the lean path): an argument the tool's schema mirrors into a header (``x-mcp-header``)
        that came without it. The schema is the one the caller's task sees, as there (the SDK asks
        the gateway's own ``tools/list``, which lists the task's tools): a tool that listing does
        not show is not checked here, and the call path answers for it, so its schema and
        existence are not told. The schema comes from the upstream's listing as the task's lean
        session last had it, else the tool's registration; when neither has it, nothing is refused
        here (as there). This runs before the call is decided, so it never opens a session, lists,
        or leases a credential: nothing reaches the upstream (and no lease is minted) for a call
        that is then denied or held."""
        if not args:
            return None
        assert self.runtime is not None
        catalog = self.runtime.catalog
        cfg = catalog.tool_upstream(name)
        if cfg is None:
            return None
        upstream_tool = catalog.known(cfg, name)
        if upstream_tool is None:
            return None
        schema: Any = None
        try:
            task = self.runtime.calls.live_task(caller)
            if not declares_namespace(task.allow, cfg.namespace):
                return None
            up = self.runtime.owned(caller.task_id).leans.get(cfg.namespace)
            listed = None if up is None or up.closed or up.cfg != cfg else up.listed()
            if listed is not None:
                raw = listed.get(upstream_tool)
                if raw is None or not await catalog.shown(task, cfg, LEAN.as_tool(raw)):
                    return None
                schema = raw.get("inputSchema")
            else:
                tool = ToolName(canonical_name(cfg.namespace, upstream_tool))
                rec = await self.runtime.proctor.store_guard.run(self.runtime.proctor.state.tool, tool)
                if rec is None or not any(fnmatchcase(rec.name, p) for p in task.allow):
                    return None
                schema = None if rec.input_schema is None else json.loads(rec.input_schema)
        except Exception:
            return None
        if not isinstance(schema, dict) or not x_mcp_header_map(schema):
            return None
        rejected = validate_mcp_param_headers(schema, args, headers)
        return None if rejected is None else rejected.message

    def fast_call(
        self, method: str, path: str, raw_headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None, int] | None] | None:
        """The lean ``tools/call`` of a complete request, served without the ASGI machinery (see
        :class:`proctor.gateway.serving.GatewayHttpProtocol`): a coroutine that makes the JSON
        body of the answer, what to run once it is sent and its HTTP status, or None when the request is anything else (another method, an
        error to report): :meth:`__call__` then serves it, checks and audits and all. The
        coroutine admits the caller on a store worker thread (docs/adr/0019) and resolves to None
        when that refuses, which hands the request to :meth:`__call__` as well.

        Only the happy path is taken here, and every check of :meth:`__call__` is made first:
        nothing it would refuse is served by this one.
        """
        if (
            method != "POST"
            or path != self.mcp_path
            or self.runtime is None
            or not self.lean
            or len(body) > MAX_BODY
        ):
            return None
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}  # names are lower-case
        if self._precheck(raw_headers, headers) is not None:
            return None
        try:
            msg = wire.loads(body)
        except ValueError:
            return None
        if not (
            isinstance(msg, dict)
            and msg.get("method") == "tools/call"
            and self._lean_ok(msg, headers, body, len(headers) == len(raw_headers))
        ):
            return None
        return self._fast_reply(msg, raw_headers, headers)

    async def _fast_reply(
        self, msg: dict[str, Any], raw_headers: list[tuple[bytes, bytes]], headers: dict[str, str]
    ) -> tuple[bytes, Callable[[], None] | None, int] | None:
        """The fast path's answer, or None (a refusal: the ASGI path answers and audits it)."""
        try:
            admitted = await self._identified(headers)  # the body is in: a snapshot now
        except Exception:
            return None
        if isinstance(admitted, _Refusal):
            return None
        caller, snap = admitted
        reply, finish = await self._lean_reply(msg, caller, snap, headers)
        try:
            return wire.dumps(reply), finish, _status_of(reply, headers)
        except Exception:
            if finish is not None:
                finish()
            raise

    def _caller(self, headers: dict[str, str], snap: Snapshot | None = None) -> Caller:
        """Who is calling. Verified credentials are remembered per (bearer, task header) until the
        SVID expires or for ``CALLER_CACHE_S`` at most (so a key retirement is seen quickly); the
        agent's status is read fresh on every request (from ``snap``). What was checked is handed
        to the pipeline with the caller (:class:`Identity`), so a call is checked once."""
        auth = headers.get("authorization", "")
        task_token = headers.get(TASK_HEADER) or ""
        now = self.proctor.clock.now()
        hit = self._callers.get((auth, task_token))
        if hit is not None and now < hit[1]:
            caller = hit[0]
            ident = caller.identity
            if ident is not None and ident.snap is snap:
                return caller  # the agent was found active on this very snapshot
            agent = self.proctor.state.agent(caller.agent, snap)
            if agent is not None and agent.status is AgentStatus.ACTIVE:
                if snap is None:
                    return caller
                # the task token is not verified again here: the pipeline does, once
                caller = Caller(
                    caller.agent,
                    caller.task_id,
                    caller.task_token,
                    caller.svid,
                    Identity(agent, caller.task_id, snap),
                )
                self._callers[(auth, task_token)] = (caller, hit[1])
                return caller
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise IdentityError("this gateway needs `Authorization: Bearer <token>`")
        if self.oauth is not None and not task_token and _is_access_token(token.strip()):
            return self._oauth_caller(auth, token.strip(), now, snap)
        claims = self.proctor.agents.svids.verify(token.strip(), self.public_url, now)
        agent = self.proctor.state.agent(claims.agent, snap)
        if agent is None:
            raise IdentityError(f"unknown agent `{claims.agent}`")
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended")
        if not task_token:
            raise TaskTokenInvalid("every request needs a `Proctor-Task: <task token>` header")
        try:
            task_id, token_until = self.proctor.tasks.verify_token_until(task_token, agent)
        except TaskTokenInvalid:
            # a token that only expired, of a task past its deadline (a delegated task's is its
            # parent's at most): the session is let in so that each call is refused as that
            # task's, with the reason and a decision on the record, as any ended task's calls
            # are; the pipeline checks the token again and refuses it (token_until 0)
            ended = self.proctor.tasks.expired_token_task(task_token, agent)
            if ended is None:
                raise
            task_id, token_until = ended, 0.0
        caller = Caller(
            agent=AgentName(agent.name),
            task_id=task_id,
            task_token=task_token,
            svid=token.strip(),
            identity=None if snap is None else Identity(agent, task_id, snap),
        )
        if len(self._callers) >= CALLER_CACHE_MAX:
            self._callers.clear()
        self._callers[(auth, task_token)] = (caller, min(claims.exp, now + CALLER_CACHE_S))
        if snap is None:
            return caller
        # this request's token was verified just now: the pipeline need not verify it again
        return Caller(
            caller.agent, task_id, task_token, caller.svid, Identity(agent, task_id, snap, token_until)
        )

    def _oauth_caller(self, auth: str, token: str, now: float, snap: Snapshot | None) -> Caller:
        """The caller an OAuth access token (docs/adr/0028) names: its agent, active, and its task,
        for which a task token is signed here (the pipeline checks calls with it as with any)."""
        assert self.oauth is not None
        access = self.oauth.verify_access(token)
        agent = self.proctor.state.agent(access.agent, snap)
        if agent is None:
            raise IdentityError(f"unknown agent `{access.agent}`")
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended")
        task = self.proctor.state.task(access.task_id, snap)
        if task is None or task.agent != agent.name or not task.is_live(now):
            raise TokenInvalid("the task this access token names has ended: refresh the token")
        # a task token as `task start` gives one, for the pipeline's own checks; it never leaves
        # this process (the caller it is cached with lives no longer than the access token)
        task_token = self.proctor.tasks.keys.sign_claims(
            {"sub": str(agent.spiffe_id), "aud": [TASK_AUDIENCE], "task": str(access.task_id)},
            now,
            max(1.0, task.deadline - now),
        )
        caller = Caller(
            agent=AgentName(agent.name),
            task_id=access.task_id,
            task_token=task_token,
            svid=None,
            identity=None if snap is None else Identity(agent, access.task_id, snap),
        )
        if len(self._callers) >= CALLER_CACHE_MAX:
            self._callers.clear()
        self._callers[(auth, "")] = (caller, min(access.exp, now + CALLER_CACHE_S))
        if snap is None:
            return caller
        return Caller(
            caller.agent, access.task_id, task_token, None, Identity(agent, access.task_id, snap, access.exp)
        )

    async def _audit_refusal(self, exc: ProctorError, path: str, client: Any = None) -> None:
        """Audit a refusal, at most ``refusal_audit_burst`` per source address and window, then one
        summary of the rest (see :mod:`proctor.audit.refusals`)."""
        if self._refusals is None:
            settings = self.proctor.settings
            limits = RefusalLimits(
                burst=settings.refusal_audit_burst, window_s=settings.refusal_audit_window_s
            )
            self._refusals = RefusalLimiter(self.proctor.clock, limits, refused="gateway.refused")
        source = str(client[0]) if isinstance(client, list | tuple) and client else None
        fields = {"error": exc.code, "path": path[:200]}
        if isinstance(exc, OAuthRefused):
            fields["oauth_error"] = exc.error  # which refusal of the authorization server
        await audit_refusal_async(self.proctor.audit, self._refusals, fields, source)


_TOO_LARGE = {"error": {"code": "payload_too_large", "message": f"body over {MAX_BODY} bytes"}}


@dataclass(frozen=True)
class _Refusal:
    """An answer to a request refused before its body was read, and what to audit of it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    audit: ProctorError | None = None

    async def answer(self, send: Send) -> None:
        await _json(send, self.status, self.body, self.headers)


#: headers that decide who is calling, in which session and era, and what is asked: each may
#: appear once
_SINGLE = frozenset(
    {
        b"authorization",
        b"proctor-task",
        b"mcp-session-id",
        b"origin",
        b"content-length",
        b"host",
        b"mcp-protocol-version",
        b"mcp-method",
        b"mcp-name",
    }
)
#: ``MCP-Protocol-Version`` values (None: absent) the SDK serves on its handshake-era path
_HANDSHAKE_OR_NONE = HANDSHAKE_VERSIONS | {None}


def _is_access_token(token: str) -> bool:
    """Whether a bearer token's JOSE header says it is an OAuth access token (``typ: at+jwt``,
    RFC 9068) rather than a JWT-SVID; its signature is checked by whoever takes it."""
    head = token.split(".", 1)[0]
    if len(head) > 512:
        return False
    try:
        header = json.loads(b64url_decode(head))
    except (ValueError, UnicodeDecodeError):
        return False
    typ = header.get("typ") if isinstance(header, dict) else None
    return isinstance(typ, str) and typ.lower() in ("at+jwt", "application/at+jwt")


def allowed_hosts(public_url: str, bind: str | None = None) -> list[str]:
    """The ``Host`` values the gateway answers: the SDK's DNS-rebinding list and ``_admit``'s. The
    public URL's host (a load balancer's, docs/adr/0034) and, when given, the ``host:port`` this
    process listens on, for a balancer that passes its upstream's address as ``Host``."""
    parts = urlsplit(public_url)
    hosts = [parts.netloc]
    if parts.port is not None:
        hosts += [f"127.0.0.1:{parts.port}", f"localhost:{parts.port}"]
    if bind is not None:
        port = bind.rsplit(":", 1)[-1]
        hosts += [bind, f"127.0.0.1:{port}", f"localhost:{port}"]
    return list(dict.fromkeys(hosts))


def _content_type_ok(content_type: str | None) -> bool:
    """The SDK's two Content-Type rules for a POST (its transport security check, then its
    transport's): ``application/json`` however written, and that exact type before any ``;``."""
    if content_type == "application/json":
        return True
    if content_type is None or not content_type.lower().startswith("application/json"):
        return False
    return any(part.strip() == "application/json" for part in content_type.split(";")[0].split(","))


def _status_of(reply: dict[str, Any], headers: dict[str, str]) -> int:
    """The HTTP status of a lean answer: 200 on the handshake path (as the SDK's session answers
    a JSON-RPC error); on 2026-07-28 what the SDK's stateless entry sends for the error's code
    (``ERROR_CODE_HTTP_STATUS``: -32602 is 400, for instance)."""
    error = reply.get("error")
    if error is None or headers.get("mcp-protocol-version") not in MODERN_VERSIONS:
        return 200
    code = error.get("code")
    return ERROR_CODE_HTTP_STATUS.get(code, 200) if type(code) is int else 200


def _undeclared(params: dict[str, Any], missing: tuple[str, ...]) -> tuple[str, ...]:
    """Of the capabilities an upstream refused a call for lacking, those the 2026-07-28 request
    did not declare in its ``_meta`` (a declared one the gateway's upstream session lacks is the
    gateway's to answer for: the call stays a tool error)."""
    if not missing:
        return ()
    meta = params.get("_meta")
    caps = meta.get("io.modelcontextprotocol/clientCapabilities") if isinstance(meta, dict) else None
    declared = caps if isinstance(caps, dict) else {}
    if any(c in declared for c in missing):
        return ()
    return missing


def _held_channel(params: dict[str, Any]) -> Channel | None:
    """What a held 2026-07-28 call can tell its client: ``input_required`` with the link when its
    client declared URL elicitation and this is not its retry (as the SDK entry does)."""
    meta = params.get("_meta")
    caps = meta.get("io.modelcontextprotocol/clientCapabilities") if isinstance(meta, dict) else None
    elicitation = caps.get("elicitation") if isinstance(caps, dict) else None
    url_mode = isinstance(elicitation, dict) and elicitation.get("url") is not None
    if not url_mode or answered(params):
        return None
    return Channel(input_required=True)


def _header_mismatch(headers: dict[str, str], msg: dict[str, Any]) -> str | None:
    """What an ``Mcp-Method`` or ``Mcp-Name`` header (SEP-2243) gets wrong about the body, if
    anything: each, when present, must name the body's method and its tool, prompt or resource."""
    method_h = headers.get("mcp-method")
    name_h = headers.get("mcp-name")
    if method_h is None and name_h is None:
        return None
    method = msg.get("method")
    if method_h is not None and method_h != method:
        return "the Mcp-Method header does not match the request body's method"
    key = NAME_BEARING_METHODS.get(method) if isinstance(method, str) else None
    if name_h is not None and key is not None:
        params = msg.get("params")
        value = params.get(key) if isinstance(params, dict) else None
        if decode_header_value(name_h) != value:
            return f"the Mcp-Name header does not match the request body's `{key}`"
    return None


def _public_errors(send: Send) -> Send:
    """``send`` for an answer of the SDK: a JSON-RPC error it made from its parser's or
    validator's text (which quotes the input) leaves with a fixed message instead, and the text
    goes to the log. Only a 400 JSON answer is held to look at; everything else passes through."""
    held: Message | None = None

    async def sending(message: Message) -> None:
        nonlocal held
        if message["type"] == "http.response.start" and message.get("status") == 400:
            held = message
            return
        if held is not None:
            start, held = held, None
            found = None
            if message["type"] == "http.response.body" and not message.get("more_body"):
                found = wire.public_error_body(message.get("body", b""))
            if found is not None:
                body, detail = found
                log.info("the MCP SDK refused a malformed message: %r", detail[:500])
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                start = {**start, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
                message = {**message, "body": body}
            await send(start)
        await send(message)

    return sending


def _repeated(raw: list[tuple[bytes, bytes]]) -> bool:
    seen: set[bytes] = set()
    for k, _v in raw:
        name = k.lower()
        if name in _SINGLE:
            if name in seen:
                return True
            seen.add(name)
    return False


def _store_refusal(exc: StoreError) -> _Refusal:
    """503 for a request the gateway could not check because the store failed: fail closed, and
    keep the detail (a path, a server address, the driver's text) for the operator's log."""
    log.error("store error in the gateway: %s", exc.message)
    return _Refusal(503, {"error": {"code": exc.code, "message": "the store could not be read; try again"}})


async def _store_failed(send: Send, exc: StoreError) -> None:
    await _store_refusal(exc).answer(send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the body already read, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _json(send: Send, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
    raw = wire.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def create_gateway_app(
    proctor: Proctor,
    runtime: GatewayRuntime,
    *,
    public_url: str,
    json_response: bool = False,
    oauth: bool = True,
    bind: str | None = None,
) -> ASGIApp:
    """The gateway's ASGI app. Run ``runtime.running()`` around the server that serves it.

    ``public_url``: the URL agents reach the gateway at, the same for every process behind one
    balancer: tokens' audience, the RFC 9728 resource, the OAuth issuer's origin (docs/adr/0034).
    ``bind``: ``host:port`` this process listens on, when it differs, accepted as ``Host`` too."""
    parts = urlsplit(public_url)
    server = build_server(runtime, caller_from_context)
    host_port = parts.netloc
    hosts = allowed_hosts(public_url, bind)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[
            f"{parts.scheme}://{host_port}",
            *([f"http://127.0.0.1:{parts.port}", f"http://localhost:{parts.port}"] if parts.port else []),
        ],
    )
    sdk_app = server.streamable_http_app(
        streamable_http_path=parts.path or MCP_PATH,
        json_response=json_response,
        max_request_body_size=MAX_BODY,
        transport_security=security,
        host=parts.hostname or "127.0.0.1",
    )

    # The lean path may serve a session only while the SDK knows it (so a closed or unknown session
    # gets the SDK's own 404). This reads the SDK session manager's table: covered by the tests.
    def live_sessions() -> Mapping[str, Any]:
        return server.session_manager._server_instances

    # the authorization server the protected-resource metadata names: this listener, whose base
    # URL is its issuer (docs/adr/0028)
    server_ = AuthorizationServer(proctor, issuer=f"{parts.scheme}://{parts.netloc}", resource=public_url)
    auth = GatewayAuth(
        sdk_app,
        proctor,
        public_url,
        oauth=server_ if oauth else None,
        runtime=runtime,
        live_sessions=live_sessions,
        json_response=json_response,
    )
    auth.allowed_hosts = frozenset(hosts)
    return auth


async def serve_http(
    proctor: Proctor,
    workspace: Workspace,
    host: str,
    port: int,
    *,
    socket_path: Path | None = None,
    socket_required: bool = True,
    listener: socket.socket | None = None,
    public_url: str | None = None,
) -> None:
    """Serve Streamable HTTP, and thin-client sessions on ``socket_path`` when given (ADR 0015).
    ``listener``: the socket bound to ``host:port`` (:func:`proctor.server.listen.bind_listener`),
    bound here when not given."""
    from proctor.gateway.socket_relay import serving_socket
    from proctor.server.listen import AnnouncingServer, bind_listener

    if listener is None:
        listener = bind_listener(host, port, command="proctor gateway")

    # one URL for every process behind a balancer (``--public-url``, ``gateway.public_url``;
    # docs/adr/0034), else this listener's own
    own = f"http://{host}:{port}{MCP_PATH}"
    url = public_url or proctor.settings.gateway_public_url or own
    runtime = GatewayRuntime(proctor, load_upstreams(workspace.root))
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    app = create_gateway_app(proctor, runtime, public_url=url, bind=bind)
    async with runtime.running(), serving_socket(proctor, runtime, socket_path, required=socket_required):
        settle_heap()
        await AnnouncingServer(server_config(app, host, port), path=MCP_PATH).serve(sockets=[listener])


def server_config(app: ASGIApp, host: str, port: int, *, log_level: str = "warning") -> Any:
    """The uvicorn configuration the gateway is served with (tests serve with it too)."""
    import uvicorn

    from proctor.gateway.serving import GatewayHttpProtocol
    from proctor.server.graceful import DRAIN_TIMEOUT_S

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        lifespan="on",
        # a response's head and body leave in one write (see proctor.gateway.serving)
        http=GatewayHttpProtocol,
        # nothing here reads the client address, so no X-Forwarded-For rewriting (and no
        # middleware hop per request); refusals are audited, so no access log either
        proxy_headers=False,
        access_log=False,
        # a stop (SIGTERM/SIGINT) drains calls in flight this long, then Proctor closes
        timeout_graceful_shutdown=DRAIN_TIMEOUT_S,
    )


def settle_heap(young_threshold: int = 20_000) -> None:
    """Before serving: move everything allocated at start-up (the MCP SDK, pydantic models,
    policies) out of the collector's sight, and collect the young generation less often. A request
    allocates a few thousand short-lived objects; with the default threshold (700) most requests
    paid for a collection or two. Reference counting still frees them at once."""
    gc.collect()
    gc.freeze()
    _, g1, g2 = gc.get_threshold()
    gc.set_threshold(young_threshold, g1, g2)
