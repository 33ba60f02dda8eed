"""``proctor gateway --stdio --in-process``: the whole gateway inside the MCP client's child process.

**For development only.** This mode opens the workspace itself, so whoever spawns it must be able to
read the workspace's keys (it can then mint SVIDs and task tokens for any agent, decrypt every
secret and re-sign the audit log), and its stdio upstreams run as that same user. The default
``proctor gateway --stdio`` is the keyless thin client of :mod:`proctor.gateway.thin`, which relays
the session to a Proctor daemon over a Unix socket (ADR 0015).

The agent proves what it is once, at start-up, by one of:

* ``PROCTOR_SVID``: a JWT-SVID it already holds (checked for this workspace's audience);
* ``PROCTOR_JOIN_TOKEN``: a single-use join token, redeemed here;
* otherwise **attestation of the parent process** (the agent host that spawned the gateway): its
  uid, gid and the SHA-256 of its executable must match one agent's registered selectors, as the
  Unix socket attestor does.

The task comes from ``PROCTOR_TASK_TOKEN``, which must be bound to that agent. Every call is still
decided per call: suspending the agent or ending the task takes effect on the next call.

:class:`BoundedLines` and :func:`screen_line` (the line bounds and the lone-surrogate refusal) serve
the daemon's socket sessions too.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import BinaryIO, cast

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared._stream_protocols import WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError

from proctor.app import Proctor
from proctor.errors import AttestationFailed, TaskTokenInvalid
from proctor.gateway import wire
from proctor.gateway.calls import Caller
from proctor.gateway.config import load_upstreams
from proctor.gateway.runtime import GatewayRuntime
from proctor.gateway.server import build_server
from proctor.identity.attest import PeerCredentials, match_agent, workload_selectors
from proctor.pipeline import printable
from proctor.store.base import AgentRecord
from proctor.types import AgentName
from proctor.workspace import Workspace

__all__ = [
    "MAX_LINE_BYTES",
    "OVERSIZED_LINE",
    "REFUSED_METHOD",
    "BoundedLines",
    "PublicErrors",
    "identify",
    "run_stdio",
    "screen_line",
    "serve_stdio",
    "stdio_caller",
]


log = logging.getLogger(__name__)

#: the largest JSON-RPC message (one line) the stdio gateway accepts from its client
MAX_LINE_BYTES = 4 << 20
#: what an oversized message becomes: valid JSON, not JSON-RPC, so the SDK reports and skips it
OVERSIZED_LINE = '{"oversized": true}\n'
#: what a refused request becomes: a method no MCP server has, so its client gets an error for it
REFUSED_METHOD = "proctor/refused: the message held a lone surrogate, which is not Unicode"


class BoundedLines:
    """stdin as lines of at most ``limit`` bytes. A longer line is read to its end, dropped and
    logged, so an oversized message costs bounded memory and the session goes on."""

    def __init__(
        self, raw: BinaryIO, limit: int = MAX_LINE_BYTES, on_refused: Callable[[str], None] | None = None
    ) -> None:
        self.raw = raw
        self.limit = limit
        #: told the method of each message refused for a lone surrogate (to audit it)
        self.on_refused = on_refused

    def __aiter__(self) -> BoundedLines:
        return self

    async def __anext__(self) -> str:
        line = await anyio.to_thread.run_sync(self._readline)
        if line is None:
            raise StopAsyncIteration
        return line

    def _readline(self) -> str | None:
        data = self.raw.readline(self.limit + 1)
        if not data:
            return None
        if len(data) > self.limit and not data.endswith(b"\n"):
            dropped = len(data)
            while True:
                more = self.raw.readline(1 << 16)
                dropped += len(more)
                if not more or more.endswith(b"\n"):
                    break
            log.warning("dropped a %d-byte message: the limit is %d bytes", dropped, self.limit)
            return OVERSIZED_LINE
        return screen_line(data, self.on_refused)


def screen_line(data: bytes, on_refused: Callable[[str], None] | None = None) -> str:
    """One received line as the text the MCP SDK is given.

    A message holding a lone surrogate (a ``\\ud800`` escape with no partner) is dropped by the
    MCP SDK without an answer, so its client would wait for ever. It is refused here: a request
    becomes one for a method no server has (answered as an error for the same id), anything else is
    skipped, and ``on_refused`` is told the method (to audit the refusal)."""
    if not wire.surrogate_escape(data):
        return data.decode("utf-8", "replace")  # the common case: no `\\uD8..` escape, one parse
    try:
        msg = json.loads(data)
    except (ValueError, RecursionError):
        return data.decode("utf-8", "replace")  # not JSON: the SDK reports it
    if not wire.lone_surrogate(data, msg):
        return data.decode("utf-8", "replace")
    method = msg.get("method") if isinstance(msg, dict) else None
    if on_refused is not None:
        on_refused(printable(method, 100))
    mid = msg.get("id") if isinstance(msg, dict) else None
    if wire.echoable_id(mid):
        return json.dumps({"jsonrpc": "2.0", "id": mid, "method": REFUSED_METHOD}) + "\n"
    return '{"refused": true}\n'


class PublicErrors:
    """The server's write stream, where a JSON-RPC error the SDK made from its parser's or
    validator's text leaves with the fixed message of :func:`proctor.gateway.wire.public_error`
    instead (the text goes to the log), as on the HTTP transport."""

    def __init__(self, inner: WriteStream[SessionMessage]) -> None:
        self.inner = inner

    async def send(self, item: SessionMessage, /) -> None:
        msg = item.message
        if isinstance(msg, JSONRPCError):
            found = wire.public_error({"code": msg.error.code, "message": msg.error.message})
            if found is not None:
                log.info("the MCP SDK refused a malformed message: %r", found[1][:500])
                error = ErrorData(code=msg.error.code, message=found[0])
                item = SessionMessage(
                    JSONRPCError(jsonrpc="2.0", id=msg.id, error=error), metadata=item.metadata
                )
        await self.inner.send(item)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> PublicErrors:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        return await self.inner.__aexit__(exc_type, exc_val, exc_tb)


def identify(proctor: Proctor, env: dict[str, str] | None = None) -> tuple[AgentRecord, str]:
    """Establish the agent (and how) from the environment or by attesting the parent process."""
    env = dict(os.environ) if env is None else env
    if svid := env.get("PROCTOR_SVID"):
        claims = proctor.agents.verify_svid(svid)
        return proctor.agents.get(claims.agent), "svid"
    if join := env.get("PROCTOR_JOIN_TOKEN"):
        svid = proctor.agents.svid_from_join_token(join)
        return proctor.agents.get(proctor.agents.verify_svid(svid).agent), "join_token"
    ppid = os.getppid()
    try:
        st = os.stat(f"/proc/{ppid}")
    except OSError:
        raise AttestationFailed("cannot read the parent process to attest it") from None
    selectors = workload_selectors(PeerCredentials(pid=ppid, uid=st.st_uid, gid=st.st_gid))
    try:
        agent = match_agent(proctor.store.list_agents(), selectors)
    except AttestationFailed as exc:
        proctor.agents.audit_attestation(None, selectors, exc)
        raise
    proctor.agents.audit_attestation(agent, selectors, None)
    return agent, "attestation"


def stdio_caller(proctor: Proctor, env: dict[str, str] | None = None) -> Caller:
    env = dict(os.environ) if env is None else env
    agent, _how = identify(proctor, env)
    token = env.get("PROCTOR_TASK_TOKEN")
    if not token:
        raise TaskTokenInvalid("set PROCTOR_TASK_TOKEN to the token `proctor task start` printed")
    task_id = proctor.tasks.verify_token(token, agent)
    return Caller(agent=AgentName(agent.name), task_id=task_id, task_token=token)


async def serve_stdio(proctor: Proctor, workspace: Workspace) -> None:
    caller = stdio_caller(proctor)
    runtime = GatewayRuntime(proctor, load_upstreams(workspace.root))
    server = build_server(runtime, lambda _ctx: caller)

    def refused(method: str) -> None:
        try:
            proctor.audit.append(
                "gateway.refused",
                {"error": "invalid_input", "reason": "lone surrogate", "method": method},
                agent=str(caller.agent),
                task=str(caller.task_id),
            )
        except Exception:
            log.exception("could not audit a refused gateway request")

    stdin = cast("anyio.AsyncFile[str]", BoundedLines(sys.stdin.buffer, on_refused=refused))
    async with runtime.running(), stdio_server(stdin=stdin) as (read, write):
        await server.run(read, PublicErrors(write), server.create_initialization_options())


def run_stdio(workspace: str | None, store_url: str | None = None) -> None:
    """Entry point of ``proctor gateway --stdio --in-process``. Logs go to stderr: stdout is the
    protocol."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    ws = Workspace.find(workspace)
    proctor = Proctor.open(ws, store_url=store_url)
    try:
        proctor.policies.watch()  # edits apply while serving; an invalid set is refused (audited)
        anyio.run(serve_stdio, proctor, ws)
    finally:
        proctor.close()
