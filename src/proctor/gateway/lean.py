"""The lean path for ``tools/call`` over Streamable HTTP.

The SDK's server and client machinery costs several milliseconds per call; a gateway must add
about one. So when a call needs nothing the SDK is there for, the gateway answers the downstream
JSON-RPC request itself and talks JSON-RPC over a persistent HTTP connection to the upstream:

* the downstream session declared neither sampling nor elicitation (so no upstream request
  mid-call can need relaying), and the request asks for no progress;
* the upstream is a Streamable HTTP server.

Either revision upstream (ADR 0031): the session opens with the ``initialize`` handshake
(2025-11-25); an upstream that refuses it (a JSON-RPC error, or HTTP 400/404/405) and answers
``server/discover`` with 2026-07-28 among its ``supportedVersions`` is spoken to statelessly
instead: no session id, each request carrying the protocol version and (empty) client
capabilities in ``_meta`` and the ``Mcp-Method``/``Mcp-Name`` headers.

Everything else — and every other method — goes through the SDK path, which the conformance
suite keeps honest. The lean upstream session is its own MCP session, opened per task like the
SDK one, declaring no client capabilities; a server that still sends a request mid-call gets a
JSON-RPC error for it.

A 2026-07-28 client's call (:mod:`proctor.gateway.mrtr`) goes to an upstream that takes 2026-07-28
requests as one (:meth:`LeanHttpUpstream.call_tool_modern`, even on a handshake session: no session
id), declaring the capabilities that client declared and carrying its retry's ``inputResponses``
and ``requestState``; the upstream's ``input_required`` answer is returned, not refused.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from mcp.shared.inbound import encode_header_value

from proctor.clock import Clock, SystemClock
from proctor.gateway import wire
from proctor.gateway.answers import answer_chunks, read_answer
from proctor.gateway.config import UpstreamConfig, case_unique
from proctor.gateway.http1 import Http1Error, Http1Pool, encode_headers

__all__ = [
    "ACCEPT",
    "CATALOG_TTL_S",
    "MODERN_VERSION",
    "PROTOCOL_VERSION",
    "LeanHttpUpstream",
    "LeanUpstreamError",
]


log = logging.getLogger(__name__)

PROTOCOL_VERSION = "2025-11-25"
#: the stateless revision, spoken to an upstream that refuses the handshake
MODERN_VERSION = "2026-07-28"
_META_VERSION = "io.modelcontextprotocol/protocolVersion"
_META_CAPS = "io.modelcontextprotocol/clientCapabilities"
_META_INFO = "io.modelcontextprotocol/clientInfo"
_CLIENT_INFO = {"name": "proctor-gateway", "version": "0.1.0"}
ACCEPT = "application/json, text/event-stream"
#: the methods whose 2026-07-28 request mirrors a param into ``Mcp-Name`` (SEP-2243), and which
_NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
CATALOG_TTL_S = 30.0


class LeanUpstreamError(Exception):
    """The upstream answered with a JSON-RPC error (``error`` holds it) or not at all."""

    def __init__(
        self,
        message: str,
        error: dict[str, Any] | None = None,
        *,
        closed: bool = False,
        refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.closed = closed
        #: the upstream answered, refusing the request (an HTTP 400, 404 or 405, or a JSON-RPC
        #: error): what an upstream of the other revision does with a request it does not speak
        self.refused = refused or error is not None


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    buf = b""
    async for chunk in chunks:
        buf += chunk
        while True:
            i = buf.find(b"\n")
            if i < 0:
                break
            line, buf = buf[:i], buf[i + 1 :]
            yield line.rstrip(b"\r").decode("utf-8", "replace")
    if buf:
        yield buf.rstrip(b"\r").decode("utf-8", "replace")


async def _sse_messages(chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in _lines(chunks):
        if line == "":
            if data:
                raw = "\n".join(data)
                data = []
                try:
                    msg = json.loads(raw)
                except (json.JSONDecodeError, RecursionError):
                    continue
                if isinstance(msg, dict):
                    yield msg
            continue
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        try:
            msg = json.loads("\n".join(data))
        except (json.JSONDecodeError, RecursionError):
            return
        if isinstance(msg, dict):
            yield msg


class LeanHttpUpstream:
    """One MCP session with an HTTP upstream, spoken as plain JSON-RPC on a kept-alive connection."""

    def __init__(
        self, cfg: UpstreamConfig, headers: Mapping[str, str] | None = None, *, clock: Clock | None = None
    ) -> None:
        assert cfg.url is not None
        self._monotonic = (clock or SystemClock()).monotonic
        self.cfg = cfg
        #: the task's credential headers, sent on every request; never logged
        self._extra = dict(headers or {})
        self.url = cfg.url
        self.pool = Http1Pool(cfg.url)
        self.session_id: str | None = None
        self.protocol_version = PROTOCOL_VERSION
        self._next_id = 1
        self._catalog: dict[str, dict[str, Any]] | None = None
        self._catalog_at = 0.0
        self._encoded_headers: tuple[tuple[str | None, str], bytes] | None = None
        self.closed = False
        #: the upstream is spoken to statelessly (2026-07-28): see the module docstring
        self.modern = False
        #: whether the upstream also takes stateless 2026-07-28 requests (``server/discover``
        #: lists it), asked once per session when a 2026-07-28 client's call needs it; None: not asked
        self._speaks_modern: bool | None = None
        self._modern_head: bytes | None = None

    def _encoded(self) -> bytes:
        """The session's headers, encoded (and checked) once per session id and protocol version."""
        key = (self.session_id, self.protocol_version)
        cached = self._encoded_headers
        if cached is None or cached[0] != key:
            cached = self._encoded_headers = (key, encode_headers(self._headers()))
        return cached[1]

    def _headers(self) -> dict[str, str]:
        h = {
            **self._extra,
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "MCP-Protocol-Version": self.protocol_version,
        }
        if self.session_id:
            h["Mcp-Session-Id"] = self.session_id
        return h

    async def start(self) -> None:
        init = {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": _CLIENT_INFO,
        }
        try:
            resp_headers, result = await self._request("initialize", init, want_headers=True)
        except LeanUpstreamError as exc:
            if exc.closed or not exc.refused:
                raise
            await self._start_modern(exc)
            return
        self.session_id = resp_headers.get("mcp-session-id")
        self.protocol_version = str(result.get("protocolVersion") or PROTOCOL_VERSION)
        await self._notify("notifications/initialized")

    async def _start_modern(self, refused: LeanUpstreamError) -> None:
        """The upstream refused the handshake: speak 2026-07-28 if it says it does, else fail
        with the handshake's refusal."""
        self.modern, self.protocol_version = True, MODERN_VERSION
        try:
            _h, found = await self._request("server/discover", {})
        except LeanUpstreamError:
            self.modern, self.protocol_version = False, PROTOCOL_VERSION
            raise refused from None
        versions = found.get("supportedVersions")
        if not isinstance(versions, list) or MODERN_VERSION not in versions:
            self.modern, self.protocol_version = False, PROTOCOL_VERSION
            raise refused

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.session_id:
                with anyio.move_on_after(2.0):
                    async with self.pool.request("DELETE", self._headers()) as resp:
                        await resp.read()
        except Http1Error:
            pass
        finally:
            await self.pool.close()

    async def _notify(self, method: str) -> None:
        body = json.dumps({"jsonrpc": "2.0", "method": method}).encode()
        try:
            async with self.pool.request("POST", self._headers(), body) as resp:
                await resp.read()
                status = resp.status
        except Http1Error as exc:
            raise LeanUpstreamError(
                f"upstream `{self.cfg.namespace}` is unreachable ({type(exc).__name__})", closed=True
            ) from None
        if status >= 400:
            raise LeanUpstreamError(f"upstream `{self.cfg.namespace}` refused `{method}` ({status})")

    def _stateless_head(self) -> bytes:
        """The headers of a 2026-07-28 request on a handshake session: no session id."""
        if self._modern_head is None:
            h = {k: v for k, v in self._headers().items() if k != "Mcp-Session-Id"}
            h["MCP-Protocol-Version"] = MODERN_VERSION
            self._modern_head = encode_headers(h)
        return self._modern_head

    async def speaks_modern(self) -> bool:
        """Whether this upstream takes stateless 2026-07-28 requests (asked once per session:
        ``server/discover`` listing 2026-07-28; any failure to ask is a no)."""
        if self.modern:
            return True
        if self._speaks_modern is None:
            try:
                _h, found = await self._request("server/discover", {}, stateless_caps={})
                versions = found.get("supportedVersions")
                self._speaks_modern = isinstance(versions, list) and MODERN_VERSION in versions
            except LeanUpstreamError as exc:
                if exc.closed:
                    raise
                self._speaks_modern = False
        return self._speaks_modern

    async def _request(
        self,
        method: str,
        params: dict[str, Any],
        *,
        want_headers: bool = False,
        stateless_caps: dict[str, Any] | None = None,
        input_required: bool = False,
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """One request. ``stateless_caps``: send it as a 2026-07-28 request declaring these client
        capabilities (whatever the session speaks); ``input_required``: an ``input_required``
        answer is returned (with its ``resultType``) instead of refused."""
        rid = self._next_id
        self._next_id += 1
        stateless = self.modern or stateless_caps is not None
        head = self._encoded() if self.modern or stateless_caps is None else self._stateless_head()
        if stateless:
            # 2026-07-28: the envelope in ``_meta`` and the routing headers on every request
            params = {
                **params,
                "_meta": {
                    _META_VERSION: MODERN_VERSION,
                    _META_CAPS: stateless_caps or {},
                    _META_INFO: _CLIENT_INFO,
                },
            }
            routing = {"Mcp-Method": method}
            named = _NAME_PARAMS.get(method)
            if named is not None:
                routing["Mcp-Name"] = encode_header_value(str(params.get(named, "")))
            head += encode_headers(routing)
        body = wire.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        try:
            async with self.pool.request("POST", head, body) as resp:
                if resp.status == 404 and self.session_id and not stateless:
                    raise LeanUpstreamError("upstream session expired", closed=True)
                if resp.status >= 400 and not (stateless and resp.status in (400, 404)):
                    raise LeanUpstreamError(
                        f"upstream `{self.cfg.namespace}` answered HTTP {resp.status}",
                        refused=resp.status in (400, 404, 405),
                    )
                headers = {k.lower(): v for k, v in resp.headers.items()} if want_headers else {}
                if resp.headers.get("content-type", "").startswith("application/json"):
                    return headers, self._result(
                        wire.loads(await read_answer(resp, self.cfg)), rid, stateless, input_required
                    )
                if resp.status >= 400:
                    raise LeanUpstreamError(f"upstream `{self.cfg.namespace}` answered HTTP {resp.status}")
                answer: dict[str, Any] | None = None
                async for msg in _sse_messages(answer_chunks(resp, self.cfg)):
                    if msg.get("id") == rid and ("result" in msg or "error" in msg):
                        answer = msg
                    elif "method" in msg and "id" in msg:  # a request mid-call: we declared no capability
                        await self._refuse(msg["id"])
                if answer is None:
                    raise LeanUpstreamError(
                        f"upstream `{self.cfg.namespace}` closed the stream without an answer", closed=True
                    )
                return headers, self._result(answer, rid, stateless, input_required)
        except (Http1Error, ValueError) as exc:
            raise LeanUpstreamError(
                f"upstream `{self.cfg.namespace}` is unreachable ({type(exc).__name__})", closed=True
            ) from None

    def _result(
        self, msg: Any, rid: int, stateless: bool = False, input_required: bool = False
    ) -> dict[str, Any]:
        if not isinstance(msg, dict) or msg.get("id") != rid:
            raise LeanUpstreamError(f"upstream `{self.cfg.namespace}` sent a malformed answer")
        if "error" in msg:
            err = msg["error"] if isinstance(msg["error"], dict) else {"code": -32603, "message": "error"}
            raise LeanUpstreamError(str(err.get("message", "error"))[:300], err)
        result = msg.get("result")
        if not isinstance(result, dict):
            raise LeanUpstreamError(f"upstream `{self.cfg.namespace}` sent a malformed result")
        if stateless:
            kind = result.pop("resultType", "complete")
            if kind == "input_required" and input_required:
                result["resultType"] = kind
                return result
            if kind != "complete":
                # the gateway declared nothing it could answer with (the upstream wants input)
                raise LeanUpstreamError(f"upstream `{self.cfg.namespace}` asked for input ({str(kind)[:40]})")
            result.pop("ttlMs", None)
            result.pop("cacheScope", None)
        return result

    async def _refuse(self, request_id: Any) -> None:
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {"code": -32601, "message": "not supported by this client"},
        }
        try:
            async with self.pool.request("POST", self._headers(), json.dumps(body).encode()) as resp:
                await resp.read()
        except Http1Error:
            log.debug("could not refuse an upstream request")

    async def tools(self) -> dict[str, dict[str, Any]]:
        """The upstream's tool definitions (raw JSON), re-listed every ``CATALOG_TTL_S`` seconds."""
        now = self._monotonic()
        if self._catalog is None or now - self._catalog_at > CATALOG_TTL_S:
            found: dict[str, dict[str, Any]] = {}
            cursor: str | None = None
            for _ in range(100):
                _h, result = await self._request("tools/list", {"cursor": cursor} if cursor else {})
                for t in result.get("tools") or []:
                    if isinstance(t, dict) and isinstance(t.get("name"), str) and len(found) < 10_000:
                        found[t["name"]] = t
                cursor = result.get("nextCursor")
                if not cursor:
                    break
            self._catalog, self._catalog_at = case_unique(found, self.cfg.namespace), now
        return self._catalog

    def listed(self) -> dict[str, dict[str, Any]] | None:
        """The tool definitions last listed on this session, however old (None: never listed);
        asks the upstream nothing."""
        return self._catalog

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        _h, result = await self._request("tools/call", {"name": name, "arguments": arguments})
        result.pop("_meta", None)
        return result

    async def call_tool_modern(
        self,
        name: str,
        arguments: dict[str, Any],
        capabilities: dict[str, Any],
        input_responses: dict[str, Any] | None,
        request_state: str | None,
    ) -> dict[str, Any]:
        """``tools/call`` as a 2026-07-28 request declaring ``capabilities`` (the downstream
        client's), carrying a retry's ``inputResponses`` and the upstream's own ``requestState``.
        An ``input_required`` answer is returned as it came (``resultType`` kept); a complete
        one as :meth:`call_tool` returns it."""
        return await self.request_modern(
            "tools/call",
            {"name": name, "arguments": arguments},
            capabilities,
            input_responses,
            request_state,
        )

    async def request_modern(
        self,
        method: str,
        params: dict[str, Any],
        capabilities: dict[str, Any],
        input_responses: dict[str, Any] | None,
        request_state: str | None,
    ) -> dict[str, Any]:
        """A request of a method that may answer ``input_required`` (``tools/call``,
        ``prompts/get``, ``resources/read``) as a 2026-07-28 request declaring ``capabilities``,
        carrying a retry's ``inputResponses`` and the upstream's own ``requestState``. An
        ``input_required`` answer is returned as it came (``resultType`` kept)."""
        params = dict(params)
        if input_responses:
            params["inputResponses"] = input_responses
        if request_state is not None:
            params["requestState"] = request_state
        _h, result = await self._request(method, params, stateless_caps=capabilities, input_required=True)
        result.pop("_meta", None)
        return result
