"""The daemon's end of the keyless stdio gateway: MCP sessions over a local Unix socket.

``proctor gateway --http`` (and ``proctor gateway --unix``, the socket alone) listen on
``<workspace>/run/gateway.sock``. The thin client ``proctor gateway --stdio``
(:mod:`proctor.gateway.thin`), spawned by an MCP client as the agent host's user, connects and
relays its MCP stream here; this process alone holds the workspace, so the agent host needs no keys
and stdio upstreams run as the daemon's user (ADR 0015).

One connection is one session:

1. the client sends one hello line (at most :data:`MAX_HELLO_BYTES`, within
   :data:`HELLO_TIMEOUT_S`): ``{"proctor": "gateway/1"}`` with ``svid`` or ``join_token``, and
   ``task_token`` or ``template`` (never both);
2. the daemon identifies the caller: a JWT-SVID for this workspace's audience, else a single-use
   join token, else **attestation of the connecting process** (``SO_PEERCRED`` with the pidfd and
   start-time checks of :mod:`proctor.identity.attest`) against the agents' selectors. The task
   token must be bound to that agent, and the agent must be active. With a ``template`` instead,
   the template must list that agent: a fresh task is started from it for this session alone
   (requested by the template's requester) and ended when the session ends (docs/adr/0029). It
   answers one line, the agent and task, or an error, and closes;
3. then newline-delimited JSON-RPC both ways, served by the same :class:`GatewayRuntime` and
   handlers as the HTTP gateway. Each line is bounded (:data:`MAX_LINE_BYTES`: a longer one is
   dropped and reported, as on stdio) and screened for lone surrogates;
4. end of stream from the client ends the session; when the last socket session of a task ends,
   the task's upstream sessions (its stdio upstream processes) are closed, as the exit of an
   in-process stdio gateway closed them.

The socket is created with mode 0666 (any local user may connect): the kernel's peer credentials
and the tokens decide who is calling, never the file mode. Its directory only needs to be
traversable (0711).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import stat
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, cast

import anyio
from anyio.abc import SocketAttribute, SocketListener, SocketStream, TaskStatus
from mcp.server.stdio import stdio_server

from proctor.app import Proctor
from proctor.audit.refusals import RefusalLimiter, RefusalLimits, audit_refusal, write_summaries
from proctor.errors import (
    AgentSuspended,
    AttestationFailed,
    ConfigError,
    Conflict,
    ProctorError,
    TaskTokenInvalid,
    ValidationError,
    public_message,
)
from proctor.gateway.calls import Caller
from proctor.gateway.config import load_upstreams
from proctor.gateway.runtime import GatewayRuntime
from proctor.gateway.server import build_server
from proctor.gateway.stdio import MAX_LINE_BYTES, OVERSIZED_LINE, screen_line
from proctor.gateway.thin import PROTOCOL, SOCKET_NAME
from proctor.identity.attest import attest_peer, match_agent, peer_credentials, uptime_ticks
from proctor.store.base import AgentRecord
from proctor.tasks.templates import check_template_name
from proctor.types import AgentName, AgentStatus, TaskId
from proctor.workspace import Workspace

log = logging.getLogger(__name__)

MAX_HELLO_BYTES: Final = 64 << 10
HELLO_TIMEOUT_S: Final = 10.0
#: sessions served at once; a connection beyond is refused at once
MAX_CONNECTIONS: Final = 256
#: identified sessions of one agent: an agent (or whoever holds its tokens) cannot take every slot
MAX_SESSIONS_PER_AGENT: Final = 32
#: connections of one Unix user still waiting for (or in) their hello: anyone may connect, so an
#: idle connection must not hold a session slot, and one user's cannot crowd out another's
MAX_PENDING_PER_USER: Final = 8
_CHUNK: Final = 1 << 16
READY_MESSAGE: Final = "gateway socket for `proctor gateway --stdio` at %s"
_HELLO_KEYS: Final = frozenset({"proctor", "svid", "join_token", "task_token", "template"})
#: why a task started from a template for one session ends (``task.ended``'s reason)
SESSION_ENDED: Final = "stdio session ended"


def default_socket_path(workspace: Workspace) -> Path:
    return workspace.run_dir / SOCKET_NAME


class _Oversized(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class SocketLines:
    """A socket's byte stream as lines of at most ``limit`` bytes. A longer line is read to its end
    and dropped (memory stays bounded); :meth:`__anext__` then yields :data:`OVERSIZED_LINE`."""

    def __init__(self, stream: SocketStream, limit: int = MAX_LINE_BYTES) -> None:
        self.stream = stream
        self.limit = limit
        self._buf = bytearray()
        self._scanned = 0
        self._eof = False
        #: methods of messages refused for a lone surrogate, to audit
        self.refused: list[str] = []
        self.on_refused: Callable[[], Any] | None = None

    async def line(self, limit: int | None = None) -> bytes | None:
        """The next line without its newline, or None at the end of the stream (a last line with
        no newline counts). Raises :class:`_Oversized` after dropping a line over the limit."""
        limit = self.limit if limit is None else limit
        dropping = 0
        while True:
            i = self._buf.find(b"\n", self._scanned)
            if i >= 0:
                line = bytes(self._buf[:i])
                del self._buf[: i + 1]
                self._scanned = 0
                if dropping or len(line) > limit:
                    raise _Oversized(dropping + len(line) + 1)
                return line
            if len(self._buf) > limit:
                dropping += len(self._buf)
                self._buf.clear()
            self._scanned = len(self._buf)
            if self._eof:
                break
            try:
                chunk = await self.stream.receive(_CHUNK)
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                self._eof = True
                continue
            self._buf += chunk
        if dropping:
            raise _Oversized(dropping + len(self._buf))
        if self._buf:
            line = bytes(self._buf)
            self._buf.clear()
            return line
        return None

    def __aiter__(self) -> SocketLines:
        return self

    async def __anext__(self) -> str:
        try:
            data = await self.line()
        except _Oversized as exc:
            log.warning("dropped a %d-byte message: the limit is %d bytes", exc.size, self.limit)
            return OVERSIZED_LINE
        if data is None:
            raise StopAsyncIteration
        text = screen_line(data, self.refused.append)
        if self.refused and self.on_refused is not None:
            await self.on_refused()
        return text if text.endswith("\n") else text + "\n"


class SocketWriter:
    """What the SDK's stdio transport writes to, sent on the socket. Never raises: once the peer is
    gone, output is dropped (the reader sees the end of the stream and the session ends)."""

    def __init__(self, stream: SocketStream) -> None:
        self.stream = stream
        self.gone = False

    async def write(self, text: str) -> None:
        if self.gone:
            return
        try:
            await self.stream.send(text.encode("utf-8", "replace"))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            self.gone = True

    async def flush(self) -> None:
        return None


def _file_id(path: Path) -> tuple[int, int, int] | None:
    """(device, inode, change time) of the socket file at ``path``, None if there is none (the
    time tells a new file from one that reuses a removed file's inode)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_ctime_ns) if stat.S_ISSOCK(st.st_mode) else None


def bind_socket(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0666. A stale socket (nobody listening) is replaced;
    a live one, or anything that is not a socket, is a :class:`ConfigError`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise ConfigError(f"`{path}` exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1.0)
            probe.connect(str(path))
        except ConnectionRefusedError:
            path.unlink()  # nobody is listening: a leftover from a crash
        except OSError as exc:
            # a live daemon with a full backlog answers EAGAIN, a slow one times out: never take
            # over a socket that may be in use
            raise ConfigError(f"`{path}` may be in use by another Proctor gateway ({exc.strerror})") from None
        else:
            raise ConfigError(f"`{path}` is in use by another Proctor gateway")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        # any local user may connect: peer credentials and tokens, not the file mode, say who it is
        os.chmod(path, 0o666)  # noqa: S103 - a socket every local agent must reach
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on `{path}`: {exc.strerror or exc}") from None
    return sock


class SocketGateway:
    """Serves thin-client sessions on one Unix socket with a running :class:`GatewayRuntime`."""

    def __init__(self, proctor: Proctor, runtime: GatewayRuntime, path: Path) -> None:
        self.proctor = proctor
        self.runtime = runtime
        self.path = path
        self.connections = 0
        #: connections per peer uid whose hello is not yet answered
        self._pending: Counter[int] = Counter()
        # anyone may connect: refused identities are audited at most `refusal_audit_burst` per
        # Unix user and window, then summarised (proctor.audit.refusals), as the HTTP API does
        limits = RefusalLimits(
            burst=proctor.settings.refusal_audit_burst, window_s=proctor.settings.refusal_audit_window_s
        )
        self._attest_refusals = RefusalLimiter(proctor.clock, limits, refused="identity.attestation_failed")
        self._join_refusals = RefusalLimiter(proctor.clock, limits, refused="identity.join_token_rejected")
        #: identified agents refused a task from a template (unknown, not listed, no requester)
        self._template_refusals = RefusalLimiter(proctor.clock, limits, refused="task.template_refused")
        #: live socket sessions per task: the task's upstreams close when its last one ends
        self._sessions: Counter[TaskId] = Counter()
        #: identified sessions per agent (at most MAX_SESSIONS_PER_AGENT each)
        self._per_agent: Counter[str] = Counter()

    async def serve(
        self, sock: socket.socket, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve on ``sock`` (from :func:`bind_socket`) until cancelled; the socket file is
        removed on the way out."""
        bound = _file_id(self.path)  # just bound by bind_socket
        try:
            listener = await SocketListener.from_socket(sock)
        except BaseException:
            sock.close()
            raise
        try:
            task_status.started()
            await listener.serve(self._connection)
        finally:
            with anyio.CancelScope(shield=True):
                await listener.aclose()
            if bound is not None and _file_id(self.path) == bound:
                # only the file this daemon bound: once it was removed and another daemon bound
                # its own socket there, that one is left alone
                with contextlib.suppress(OSError):
                    self.path.unlink()
            write_summaries(self.proctor.audit, self._attest_refusals, final=True)
            write_summaries(self.proctor.audit, self._join_refusals, final=True)
            write_summaries(self.proctor.audit, self._template_refusals, final=True)

    async def _connection(self, stream: SocketStream) -> None:
        accepted = uptime_ticks()
        async with stream:
            sock = stream.extra(SocketAttribute.raw_socket)  # noqa: S610 - anyio's typed attribute
            try:
                uid = peer_credentials(sock).uid
            except AttestationFailed:
                uid = -1
            if self._pending[uid] >= MAX_PENDING_PER_USER:
                await _reply(stream, {"error": {"code": "busy", "message": "too many gateway connections"}})
                return
            self._pending[uid] += 1
            pending = [uid]
            try:
                await self._session(stream, sock, accepted, pending)
            except Exception:
                log.exception("gateway socket session failed")
            finally:
                if pending:
                    self._hello_done(pending)

    def _hello_done(self, pending: list[int]) -> None:
        uid = pending.pop()
        self._pending[uid] -= 1
        if self._pending[uid] <= 0:
            del self._pending[uid]

    async def _session(
        self, stream: SocketStream, sock: socket.socket, accepted: float, pending: list[int]
    ) -> None:
        lines = SocketLines(stream)
        source = f"uid:{pending[0]}"
        try:
            with anyio.fail_after(HELLO_TIMEOUT_S):
                raw = await lines.line(MAX_HELLO_BYTES)
            hello = _parse_hello(raw)
            caller, agent, how, template = await anyio.to_thread.run_sync(
                self._identify, hello, sock, accepted, source
            )
        except TimeoutError:
            await _reply(stream, {"error": {"code": "invalid_input", "message": "no hello received"}})
            return
        except _Oversized:
            await _reply(stream, {"error": {"code": "invalid_input", "message": "the hello is too long"}})
            return
        except ProctorError as exc:
            await _reply(stream, {"error": {"code": exc.code, "message": public_message(exc)}})
            return
        except Exception as exc:
            log.exception("could not identify a gateway socket client")
            error = {"code": "internal_error", "message": f"internal error ({type(exc).__name__})"}
            await _reply(stream, {"error": error})
            return
        self._hello_done(pending)
        # only identified sessions take one of the session slots, and no agent takes all of them;
        # checked before a template's task is started: a connection refused as busy starts none
        if self.connections >= MAX_CONNECTIONS or self._per_agent[agent.name] >= MAX_SESSIONS_PER_AGENT:
            await _reply(stream, {"error": {"code": "busy", "message": "too many gateway sessions"}})
            return
        self.connections += 1
        self._per_agent[agent.name] += 1
        try:
            if caller is None:
                assert template is not None
                try:
                    caller = await anyio.to_thread.run_sync(self._start_task, template, agent, source)
                except ProctorError as exc:
                    await _reply(stream, {"error": {"code": exc.code, "message": public_message(exc)}})
                    return
                except Exception as exc:
                    log.exception("could not start the task of a gateway socket session")
                    error = {"code": "internal_error", "message": f"internal error ({type(exc).__name__})"}
                    await _reply(stream, {"error": error})
                    return
                try:
                    await self._serve_session(stream, lines, caller, agent, how, template)
                finally:  # the session's own task dies with it, however it ended
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(self._end_session_task, caller.task_id, template)
            else:
                await self._serve_session(stream, lines, caller, agent, how, template)
        finally:
            self.connections -= 1
            self._per_agent[agent.name] -= 1
            if self._per_agent[agent.name] <= 0:
                del self._per_agent[agent.name]

    async def _serve_session(
        self,
        stream: SocketStream,
        lines: SocketLines,
        caller: Caller,
        agent: AgentRecord,
        how: str,
        template: str | None = None,
    ) -> None:
        answer = {"proctor": PROTOCOL, "agent": agent.name, "task": str(caller.task_id), "how": how}
        if template is not None:
            answer["template"] = template
        await _reply(stream, answer)

        async def audit_refused() -> None:
            for method in lines.refused:
                try:
                    await self.proctor.audit.append_async(
                        "gateway.refused",
                        {"error": "invalid_input", "reason": "lone surrogate", "method": method},
                        agent=str(caller.agent),
                        task=str(caller.task_id),
                    )
                except Exception:
                    log.exception("could not audit a refused gateway request")
            lines.refused.clear()

        lines.on_refused = audit_refused
        server = build_server(self.runtime, lambda _ctx: caller)
        self._sessions[caller.task_id] += 1
        try:
            reader = cast("anyio.AsyncFile[str]", lines)
            writer = cast("anyio.AsyncFile[str]", SocketWriter(stream))
            async with stdio_server(stdin=reader, stdout=writer) as (read, write):
                await server.run(read, write, server.create_initialization_options())
        finally:
            with anyio.CancelScope(shield=True):
                await self._release(caller.task_id)

    def _identify(
        self, hello: dict[str, str], sock: socket.socket, accepted: float, source: str
    ) -> tuple[Caller | None, AgentRecord, str, str | None]:
        """Who is calling, in which task, or the template its session's task is to be started
        from (the caller is then None: :meth:`_start_task` starts it once the session has a slot;
        in a worker thread: this reads the store and ``/proc``)."""
        p = self.proctor
        template = hello.get("template")
        if template is not None:
            check_template_name(template)  # before anything is read: the name may be anything
            if "task_token" in hello:
                raise ValidationError(
                    "the hello names both a task token and a template: give one (unset"
                    " PROCTOR_TASK_TOKEN, or drop --template)"
                )
        if svid := hello.get("svid"):
            agent, how = p.agents.get(p.agents.verify_svid(svid).agent), "svid"
        elif join := hello.get("join_token"):

            def rejected(exc: ProctorError) -> None:
                audit_refusal(p.audit, self._join_refusals, {"error": exc.code}, source)

            svid = p.agents.svid_from_join_token(join, on_rejected=rejected)
            agent, how = p.agents.get(p.agents.verify_svid(svid).agent), "join_token"
        else:
            agent, how = self._attest(sock, accepted, source), "attestation"
        if agent.status is not AgentStatus.ACTIVE:
            raise AgentSuspended(f"agent `{agent.name}` is suspended")
        if template is not None:
            return None, agent, how, template
        token = hello.get("task_token")
        if not token:
            raise TaskTokenInvalid("set PROCTOR_TASK_TOKEN to the token `proctor task start` printed")
        try:
            task_id = p.tasks.verify_token(token, agent)
        except TaskTokenInvalid:
            # a token that only expired, of a task past its deadline: the session is let in so
            # that each call is refused as that task's, with the reason and a decision on the
            # record (the pipeline checks the token again and refuses it), as the HTTP gateway does
            ended = p.tasks.expired_token_task(token, agent)
            if ended is None:
                raise
            task_id = ended
        return Caller(agent=AgentName(agent.name), task_id=task_id, task_token=token), agent, how, None

    def _start_task(self, template: str, agent: AgentRecord, source: str) -> Caller:
        """Start the task of a session from ``template`` (in a worker thread); a refusal is
        audited as ``task.template_refused`` (rate-limited per Unix user)."""
        p = self.proctor
        try:
            started = p.tasks.start_from_template(template, agent=str(agent.name), via="stdio")
        except ProctorError as exc:
            fields = {"template": template, "caller": str(agent.name), "error": exc.code}
            audit_refusal(p.audit, self._template_refusals, fields, source)
            raise
        return Caller(agent=AgentName(agent.name), task_id=started.task.id, task_token=started.token)

    def _end_session_task(self, task_id: TaskId, template: str) -> None:
        """End the task a session started from ``template`` (audited ``task.ended``, its leases
        revoked). One already ended (suspended agent, `task end`, expiry) is left as it is; when
        the store or the log fails, the end is enforced from the kill file until it can be
        recorded, and the task's deadline bounds it if even that fails."""
        try:
            self.proctor.end_task_or_kill(
                str(task_id), by="gateway", reason=f"{SESSION_ENDED} (template {template})"
            )
        except Conflict:
            pass
        except Exception:
            log.exception("could not end task %s of a closed stdio session", task_id)

    def _attest(self, sock: socket.socket, accepted: float, source: str) -> AgentRecord:
        selectors: frozenset[str] = frozenset()
        try:
            selectors = attest_peer(sock, accepted)
            agent = match_agent(self.proctor.store.list_agents(), selectors)
        except AttestationFailed as exc:
            fields = {"selectors": sorted(selectors)[:32], "error": exc.code}
            audit_refusal(self.proctor.audit, self._attest_refusals, fields, source)
            raise
        self.proctor.agents.audit_attestation(agent, selectors, None)
        return agent

    async def _release(self, task_id: TaskId) -> None:
        """One socket session of the task ended; after its last, close the task's upstreams."""
        self._sessions[task_id] -= 1
        if self._sessions[task_id] > 0:
            return
        del self._sessions[task_id]
        owned = self.runtime.tasks.pop(task_id, None)
        if owned is None:
            return
        namespaces = sorted({*owned.sessions, *owned.leans})
        await owned.close()
        if namespaces:
            try:
                await self.proctor.audit.append_async(
                    "upstream.sessions_closed",
                    {"namespaces": namespaces, "reason": "session ended"},
                    task=str(task_id),
                )
            except Exception:
                log.exception("could not audit the end of a gateway socket session")


def _parse_hello(raw: bytes | None) -> dict[str, str]:
    if raw is None:
        raise ValidationError("no hello received")
    try:
        msg = json.loads(raw)
    except (ValueError, RecursionError):  # deep nesting fits in 64 KiB
        raise ValidationError("the hello is not JSON") from None
    if (
        not isinstance(msg, dict)
        or msg.get("proctor") != PROTOCOL
        or not set(msg) <= _HELLO_KEYS
        or not all(isinstance(v, str) for v in msg.values())
    ):
        raise ValidationError(
            f'the hello must be {{"proctor": "{PROTOCOL}", ...}}: is the client a Proctor thin client?'
        )
    return cast("dict[str, str]", msg)


async def _reply(stream: SocketStream, msg: dict[str, Any]) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        await stream.send(json.dumps(msg, separators=(",", ":")).encode() + b"\n")


@asynccontextmanager
async def serving_socket(
    proctor: Proctor, runtime: GatewayRuntime, path: Path | None, *, required: bool = True
) -> AsyncIterator[SocketGateway | None]:
    """Serve thin clients on ``path`` for the duration of the block (nothing when ``path`` is None).
    A socket that cannot be bound fails when ``required``, else it is logged and skipped."""
    if path is None:
        yield None
        return
    try:
        sock = bind_socket(path)
    except ConfigError as exc:
        if required:
            raise
        log.warning("gateway socket disabled: %s", exc.message)
        yield None
        return
    gateway = SocketGateway(proctor, runtime, path)
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.serve, sock)
        log.warning(READY_MESSAGE, path)
        try:
            yield gateway
        finally:
            tg.cancel_scope.cancel()


async def serve_unix(proctor: Proctor, workspace: Workspace, path: Path) -> None:
    """``proctor gateway --unix``: serve thin clients on the socket only, until SIGINT or SIGTERM."""
    runtime = GatewayRuntime(proctor, load_upstreams(workspace.root))
    sock = bind_socket(path)  # a plain error here, outside any task group, when it cannot be had
    gateway = SocketGateway(proctor, runtime, path)
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with runtime.running(), anyio.create_task_group() as tg:
            await tg.start(gateway.serve, sock)
            log.warning(READY_MESSAGE, path)
            async for _ in signals:
                break
            tg.cancel_scope.cancel()


__all__ = ["SocketGateway", "bind_socket", "default_socket_path", "serve_unix", "serving_socket"]
