"""``proctor gateway --http``: Streamable HTTP, with Proctor as an OAuth 2.1 resource server.

Every request to the MCP endpoint carries ``Authorization: Bearer <JWT-SVID>`` whose audience is
this gateway's canonical URL, and ``Proctor-Task: <task token>`` bound to that agent. Missing or
bad credentials get 401 (or 403 when the agent is known but may not proceed) with a
``WWW-Authenticate`` header that points at the RFC 9728 protected-resource metadata, served at
``/.well-known/oauth-protected-resource[/mcp]``. ``Origin`` is checked against the gateway's own
origin. The client's token is never forwarded upstream: upstream sessions carry no client headers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp.server import ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError

from proctor.app import Proctor, Snapshot
from proctor.errors import (
    AgentSuspended,
    IdentityError,
    ProctorError,
    SessionNotOwned,
    StoreError,
    TaskTokenInvalid,
    public_message,
)
from proctor.gateway import wire
from proctor.gateway.config import load_upstreams
from proctor.gateway.runtime import Caller, GatewayRuntime
from proctor.gateway.server import build_server
from proctor.pipeline import printable
from proctor.types import AgentName, AgentStatus
from proctor.workspace import Workspace

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

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


def caller_from_context(ctx: ServerRequestContext[Any, Any]) -> Caller:
    """The caller the auth layer verified for this HTTP request."""
    req = ctx.request
    caller = None if req is None else getattr(req, "scope", {}).get(CALLER_KEY)
    if not isinstance(caller, Caller):
        raise IdentityError("request carries no verified identity")
    return caller


class GatewayAuth:
    """ASGI layer in front of the SDK's Streamable HTTP app: metadata, Origin, bearer, task."""

    def __init__(
        self,
        app: ASGIApp,
        proctor: Proctor,
        public_url: str,
        issuer_url: str,
        *,
        runtime: GatewayRuntime | None = None,
        live_sessions: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.proctor = proctor
        self.runtime = runtime
        self.live_sessions = live_sessions
        self._callers: dict[tuple[str, str], tuple[Caller, float]] = {}
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
        self.prm_url = f"{self.origin}/.well-known/oauth-protected-resource{parts.path}"
        #: the MCP endpoint: the only path the lean path serves
        self.mcp_path = parts.path or MCP_PATH
        self.metadata = {
            "resource": self.public_url,
            "authorization_servers": [issuer_url.rstrip("/")],
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
        # what is checked here is what the app behind sees: a server that appended trailer fields
        # to this list while the body is read would otherwise slip a header past these checks
        raw_headers = scope["headers"] = list(scope.get("headers", []))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        snap_at = self.proctor.clock.monotonic()  # no later than the snapshot _admit takes
        admitted = self._admit(raw_headers, headers)
        if isinstance(admitted, _Refusal):
            await admitted.answer(send)
            if admitted.audit is not None:
                await self._audit_refusal(admitted.audit, path)
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
            path == self.mcp_path
            and isinstance(msg, dict)
            and msg.get("method") == "tools/call"
            and self._lean_ok(msg, headers)
        ):
            if self.proctor.clock.monotonic() - snap_at > SNAPSHOT_MAX_AGE_S:
                # the body took a while (a slow or trickling client): decide on the store as it is
                # now, so a suspension or task end committed meanwhile is seen
                try:
                    snap = self.proctor.snapshot()
                except StoreError as exc:
                    await _store_failed(send, exc)
                    return
            await self._lean_call(msg, caller, send, snap)
            return
        # the lean path decides a call whatever its arguments hold; the SDK would drop this one
        if msg is not None and wire.lone_surrogate(body, msg):
            await self._refuse_surrogate(msg, caller, send)
            return
        if isinstance(msg, dict) and msg.get("method") == "initialize":
            await self.app(scope, replay, self._capture_session(msg, send, caller))
            return
        await self.app(scope, replay, send)

    def _admit(
        self, raw_headers: list[tuple[bytes, bytes]], headers: dict[str, str]
    ) -> tuple[Caller, Snapshot] | _Refusal:
        """Every check a request passes before anything reads its body, in order: no repeated
        identity or session header, the Origin, the announced size, the caller's credentials on a
        fresh store snapshot (one epoch read for the whole request), and the session's owner.
        The ASGI path answers a refusal; the fast path declines the request, so the ASGI path
        answers it (one set of checks for both, so they cannot drift apart)."""
        if len(headers) != len(raw_headers) and _repeated(raw_headers):
            # this layer reads the last copy of a header, the SDK behind it the first: a session id
            # or credential sent twice could be checked as one and used as another
            return _Refusal(400, {"error": {"code": "invalid_request", "message": "a header is repeated"}})
        origin = headers.get("origin")
        if origin is not None and origin not in self.allowed_origins:
            return _Refusal(403, {"error": {"code": "origin_rejected", "message": "origin not allowed"}})
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return _Refusal(413, _TOO_LARGE)
        try:
            snap = self.proctor.snapshot()
            caller = self._caller(headers, snap)
        except StoreError as exc:
            return _store_refusal(exc)
        except ProctorError as exc:
            status = 403 if isinstance(exc, AgentSuspended | TaskTokenInvalid) else 401
            error = "insufficient_scope" if status == 403 else "invalid_token"
            challenge = f'Bearer resource_metadata="{self.prm_url}", error="{error}"'
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
        mid = msg.get("id") if isinstance(msg, dict) else None
        method = msg.get("method") if isinstance(msg, dict) else None
        reply = {
            "jsonrpc": "2.0",
            "id": mid if wire.echoable_id(mid) else None,
            "error": {"code": -32602, "message": "the message holds a lone surrogate, which is not Unicode"},
        }
        await _json(send, 400, reply)
        try:
            await self.proctor.audit.append_async(
                "gateway.refused",
                {"error": "invalid_input", "reason": "lone surrogate", "method": printable(method, 100)},
                agent=str(caller.agent),
                task=str(caller.task_id),
            )
        except Exception:
            log.exception("could not audit a refused gateway request")

    def _lean_ok(self, msg: dict[str, Any], headers: dict[str, str]) -> bool:
        """The lean path serves a call only when the SDK path could not do anything more for it."""
        sid = headers.get("mcp-session-id")
        if sid is None or self.runtime is None or self.live_sessions is None:
            return False
        caps = self.session_caps.get(sid)
        if caps is None or "sampling" in caps or "elicitation" in caps or sid not in self.live_sessions():
            return False
        params = msg.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("name"), str) or "id" not in msg:
            return False
        args = params.get("arguments", {})
        meta = params.get("_meta")
        if not isinstance(args, dict) or (isinstance(meta, dict) and meta.get("progressToken") is not None):
            return False
        target = self.runtime.resolve(params["name"])
        # plain http only: the lean client does not speak TLS (https upstreams take the SDK path)
        return target is not None and (target[0].url or "").startswith("http://")

    async def _lean_call(self, msg: dict[str, Any], caller: Caller, send: Send, snap: Snapshot) -> None:
        reply, finish = await self._lean_reply(msg, caller, snap)
        try:
            await _json(send, 200, reply)
        finally:
            if finish is not None:
                # after the response has left (it is written at the end of this loop turn, and
                # this runs in a later callback of the same turn, see proctor.gateway.serving),
                # and whether or not sending it worked: the call happened either way
                asyncio.get_running_loop().call_soon(finish)

    async def _lean_reply(
        self, msg: dict[str, Any], caller: Caller, snap: Snapshot
    ) -> tuple[dict[str, Any], Callable[[], None] | None]:
        """The JSON-RPC reply to one lean ``tools/call``, and the bookkeeping to run once it is sent.
        Never raises (but for cancellation): every failure is a reply."""
        assert self.runtime is not None
        params = msg["params"]
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg["id"]}
        finish = None
        try:
            outcome = await self.runtime.call_tool_lean(
                caller, params["name"], params.get("arguments") or {}, snap
            )
            reply["result"], finish = outcome.result, outcome.finish
        except MCPError as exc:
            reply["error"] = {"code": exc.error.code, "message": exc.error.message}
        except ProctorError as exc:
            reply["result"] = {
                "content": [
                    {"type": "text", "text": f"Proctor denied this call: {public_message(exc)} [{exc.code}]"}
                ],
                "isError": True,
            }
        except Exception as exc:
            log.exception("lean tools/call failed")
            reply["error"] = {"code": -32603, "message": f"internal error ({type(exc).__name__})"}
        return reply, finish

    def fast_call(
        self, method: str, path: str, raw_headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Coroutine[Any, Any, tuple[bytes, Callable[[], None] | None]] | None:
        """The lean ``tools/call`` of a complete request, served without the ASGI machinery (see
        :class:`proctor.gateway.serving.GatewayHttpProtocol`): a coroutine that makes the JSON
        body of a 200 answer, or None when the request is anything else (another method, a
        refusal, an error to report): :meth:`__call__` then serves it, checks and audits and all.

        Only the happy path is taken here, and every check of :meth:`__call__` is made first:
        nothing it would refuse is served by this one.
        """
        if method != "POST" or path != self.mcp_path or self.runtime is None or len(body) > MAX_BODY:
            return None
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw_headers}  # names are lower-case
        try:
            admitted = self._admit(raw_headers, headers)  # the body is in: a snapshot of the store now
        except Exception:
            return None
        if isinstance(admitted, _Refusal):
            return None
        caller, snap = admitted
        try:
            msg = wire.loads(body)
        except ValueError:
            return None
        if not (isinstance(msg, dict) and msg.get("method") == "tools/call" and self._lean_ok(msg, headers)):
            return None
        return self._fast_reply(msg, caller, snap)

    async def _fast_reply(
        self, msg: dict[str, Any], caller: Caller, snap: Snapshot
    ) -> tuple[bytes, Callable[[], None] | None]:
        reply, finish = await self._lean_reply(msg, caller, snap)
        try:
            return wire.dumps(reply), finish
        except Exception:
            if finish is not None:
                finish()
            raise

    def _caller(self, headers: dict[str, str], snap: Snapshot | None = None) -> Caller:
        """Who is calling. Verified credentials are remembered per (bearer, task header) until the
        SVID expires or for ``CALLER_CACHE_S`` at most (so a key retirement is seen quickly); the
        agent's status is read fresh on every request."""
        auth = headers.get("authorization", "")
        task_token = headers.get(TASK_HEADER) or ""
        now = self.proctor.clock.now()
        hit = self._callers.get((auth, task_token))
        if hit is not None and now < hit[1]:
            caller = hit[0]
            agent = self.proctor.cached_agent(caller.agent, snap)
            if agent is not None and agent.status is AgentStatus.ACTIVE:
                return caller
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise IdentityError("this gateway needs `Authorization: Bearer <JWT-SVID>`")
        claims = self.proctor.svids.verify(token.strip(), self.public_url, now)
        agent = self.proctor.cached_agent(claims.agent, snap)
        if agent is None:
            raise IdentityError(f"unknown agent `{claims.agent}`")
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended")
        if not task_token:
            raise TaskTokenInvalid("every request needs a `Proctor-Task: <task token>` header")
        task_id = self.proctor.verify_task_token(task_token, agent)
        caller = Caller(
            agent=AgentName(agent.name), task_id=task_id, task_token=task_token, svid=token.strip()
        )
        if len(self._callers) >= CALLER_CACHE_MAX:
            self._callers.clear()
        self._callers[(auth, task_token)] = (caller, min(claims.exp, now + CALLER_CACHE_S))
        return caller

    async def _audit_refusal(self, exc: ProctorError, path: str) -> None:
        try:
            await self.proctor.audit.append_async("gateway.refused", {"error": exc.code, "path": path[:200]})
        except Exception:
            log.exception("could not audit a refused gateway request")


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


#: headers that decide who is calling and in which session: each may appear once
_SINGLE = frozenset(
    {b"authorization", b"proctor-task", b"mcp-session-id", b"origin", b"content-length", b"host"}
)


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
    issuer_url: str,
    json_response: bool = False,
) -> ASGIApp:
    """The gateway's ASGI app. Run ``runtime.running()`` around the server that serves it."""
    parts = urlsplit(public_url)
    server = build_server(runtime, caller_from_context)
    host_port = parts.netloc
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[host_port, f"127.0.0.1:{parts.port}", f"localhost:{parts.port}"],
        allowed_origins=[
            f"{parts.scheme}://{host_port}",
            f"http://127.0.0.1:{parts.port}",
            f"http://localhost:{parts.port}",
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

    return GatewayAuth(sdk_app, proctor, public_url, issuer_url, runtime=runtime, live_sessions=live_sessions)


async def serve_http(
    proctor: Proctor,
    workspace: Workspace,
    host: str,
    port: int,
    *,
    socket_path: Path | None = None,
    socket_required: bool = True,
) -> None:
    """Serve Streamable HTTP, and thin-client sessions on ``socket_path`` when given (ADR 0015)."""
    import uvicorn

    from proctor.gateway.socket_relay import serving_socket

    public_url = f"http://{host}:{port}{MCP_PATH}"
    issuer = f"http://{proctor.settings.host}:{proctor.settings.port}"
    runtime = GatewayRuntime(proctor, load_upstreams(workspace.root))
    app = create_gateway_app(proctor, runtime, public_url=public_url, issuer_url=issuer)
    async with runtime.running(), serving_socket(proctor, runtime, socket_path, required=socket_required):
        settle_heap()
        await uvicorn.Server(server_config(app, host, port)).serve()


def server_config(app: ASGIApp, host: str, port: int, *, log_level: str = "warning") -> Any:
    """The uvicorn configuration the gateway is served with (tests serve with it too)."""
    import uvicorn

    from proctor.gateway.serving import GatewayHttpProtocol

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
