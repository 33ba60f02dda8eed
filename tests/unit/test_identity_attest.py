"""Unix workload attestation: selectors from the kernel, agent matching, and a real socket server."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from proctor.clock import FrozenClock
from proctor.errors import AgentSuspended, AttestationFailed, ConfigError, ValidationError
from proctor.identity import (
    AttestationServer,
    PeerCredentials,
    SigningKeys,
    SvidAuthority,
    fetch_svid,
    match_agent,
    peer_credentials,
    workload_selectors,
)
from proctor.identity import attest as attest_module
from proctor.store import open_store
from proctor.store.base import AgentRecord, Store
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TrustDomain

TD = TrustDomain("acme.test")
AUD = "proctor"
EXE = os.path.realpath(sys.executable)
EXE_SHA = hashlib.sha256(Path(EXE).read_bytes()).hexdigest()
MINE = (f"unix:uid:{os.getuid()}", f"unix:sha256:{EXE_SHA}")


def _agent(name: str, selectors: tuple[str, ...], status: AgentStatus = AgentStatus.ACTIVE) -> AgentRecord:
    n = AgentName(name)
    return AgentRecord(
        name=n,
        spiffe_id=SpiffeId.for_agent(TD, n),
        owner=Email("alice@example.com"),
        status=status,
        selectors=selectors,
        created_at=0.0,
        updated_at=0.0,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/p.db")
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def svids(tmp_path: Path, store: Store, clock: FrozenClock) -> SvidAuthority:
    return SvidAuthority(SigningKeys(tmp_path / "keys", store, clock.now()), TD)


@pytest.fixture
def server(
    tmp_path: Path, store: Store, svids: SvidAuthority, clock: FrozenClock
) -> Iterator[AttestationServer]:
    run = tmp_path / "run"
    run.mkdir()
    with AttestationServer(run, store, svids, clock) as srv:
        yield srv


# --- selectors and matching ------------------------------------------------------------------------
def test_selectors_of_this_process() -> None:
    """SO_PEERCRED on a socketpair names this process, and its selectors describe it."""
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        creds = peer_credentials(a)
        assert creds == PeerCredentials(os.getpid(), os.geteuid(), os.getegid())
        sel = workload_selectors(creds)
    assert f"unix:uid:{os.geteuid()}" in sel
    assert f"unix:gid:{os.getegid()}" in sel
    assert f"unix:path:{EXE}" in sel
    assert f"unix:sha256:{EXE_SHA}" in sel
    assert any(s.startswith("unix:user:") for s in sel)


def test_match_requires_all_selectors() -> None:
    """Only an agent whose selectors are all present matches; an agent without selectors never does."""
    have = {"unix:uid:1000", "unix:gid:1000", "unix:sha256:ab"}
    agents = [
        _agent("empty", ()),
        _agent("partial", ("unix:uid:1000", "unix:sha256:cd")),
        _agent("full", ("unix:uid:1000", "unix:sha256:ab")),
    ]
    assert match_agent(agents, have).name == "full"
    with pytest.raises(AttestationFailed, match="no agent"):
        match_agent(agents[:2], have)
    with pytest.raises(AttestationFailed, match="no agent"):
        match_agent([_agent("empty", ())], set())


def test_match_ambiguous() -> None:
    """Two agents matching the same workload is a failure, not a choice."""
    agents = [_agent("a", ("unix:uid:1000",)), _agent("b", ("unix:uid:1000", "unix:gid:1000"))]
    with pytest.raises(AttestationFailed, match="more than one agent"):
        match_agent(agents, {"unix:uid:1000", "unix:gid:1000"})


def test_dead_process_fails_pidfd_check() -> None:
    """If the connecting process is gone by the end of attestation (pidfd check), attestation fails."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pidfd = os.pidfd_open(child.pid)
    try:
        child.wait()
        creds = PeerCredentials(os.getpid(), os.geteuid(), os.getegid())
        with pytest.raises(AttestationFailed, match="went away"):
            workload_selectors(creds, pidfd=pidfd)
    finally:
        os.close(pidfd)


def test_pid_reuse_detected_by_start_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A different process start time after hashing (pid reused meanwhile) fails attestation."""
    real = attest_module._start_ticks
    calls = iter([0, 1])

    def changing(proc: Path, pid: int) -> int:
        return real(proc, pid) + next(calls)

    monkeypatch.setattr(attest_module, "_start_ticks", changing)
    with pytest.raises(AttestationFailed, match="pid was reused"):
        workload_selectors(PeerCredentials(os.getpid(), os.geteuid(), os.getegid()))


def test_process_started_after_accept_rejected() -> None:
    """A process that started after the connection was accepted cannot be the one that connected."""
    with pytest.raises(AttestationFailed, match="started after"):
        workload_selectors(PeerCredentials(os.getpid(), os.geteuid(), os.getegid()), accepted_at_ticks=0)


def test_credentials_must_match_proc_status() -> None:
    """Socket credentials that disagree with /proc/<pid>/status fail attestation."""
    with pytest.raises(AttestationFailed, match="user or group"):
        workload_selectors(PeerCredentials(os.getpid(), os.geteuid() + 12345, os.getegid()))


# --- the server ------------------------------------------------------------------------------------
def test_socket_mode(server: AttestationServer) -> None:
    """The socket file is world-connectable (0666): the kernel, not the mode, says who calls."""
    st = os.stat(server.socket_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o666


def test_fetch_in_process(
    server: AttestationServer, store: Store, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """A workload matching an agent's uid and sha256 selectors gets a verifiable SVID for that agent."""
    store.add_agent(_agent("bot", MINE))
    store.add_agent(_agent("other", (f"unix:uid:{os.getuid()}", "unix:sha256:" + "0" * 64)))
    token = fetch_svid(server.socket_path, AUD)
    claims = svids.verify(token, AUD, clock.now())
    assert claims.agent == "bot"
    assert claims.spiffe_id == f"spiffe://{TD}/agent/bot"


def test_fetch_from_subprocess(
    server: AttestationServer, store: Store, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """Another process (same binary, same user) attests over the socket and gets an SVID."""
    store.add_agent(_agent("bot", MINE))
    code = "import sys; from proctor.identity import fetch_svid; print(fetch_svid(sys.argv[1], sys.argv[2]))"
    out = subprocess.run(  # noqa: PLW1510 - returncode checked below with stderr
        [sys.executable, "-c", code, str(server.socket_path), AUD], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert svids.verify(out.stdout.strip(), AUD, clock.now()).agent == "bot"


def test_no_matching_agent(server: AttestationServer, store: Store) -> None:
    """When no agent's selectors match the caller, the reply is an error, not an SVID."""
    store.add_agent(_agent("bot", (f"unix:uid:{os.getuid()}", "unix:sha256:" + "0" * 64)))
    store.add_agent(_agent("noone", ()))
    with pytest.raises(AttestationFailed, match="no agent"):
        fetch_svid(server.socket_path, AUD)


def test_suspended_agent(server: AttestationServer, store: Store, clock: FrozenClock) -> None:
    """A matching but suspended agent gets an agent_suspended error."""
    store.add_agent(_agent("bot", MINE))
    store.set_agent_status(AgentName("bot"), AgentStatus.SUSPENDED, clock.now())
    with pytest.raises(AgentSuspended):
        fetch_svid(server.socket_path, AUD)


def test_reserved_audience(server: AttestationServer, store: Store) -> None:
    """A workload cannot ask for an SVID with one of Proctor's own audiences."""
    store.add_agent(_agent("bot", MINE))
    with pytest.raises(ValidationError, match="reserved"):
        fetch_svid(server.socket_path, "proctor:task")


@pytest.mark.parametrize("raw", [b"not json\n", b'{"aud": "x"}\n', b'["x"]\n', b"x" * 5000 + b"\n"])
def test_bad_requests_get_error_replies(server: AttestationServer, store: Store, raw: bytes) -> None:
    """Malformed requests get one JSON error line and no SVID."""
    store.add_agent(_agent("bot", MINE))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(server.socket_path))
        s.sendall(raw)
        reply = json.loads(s.makefile("rb").readline())
    assert set(reply) == {"error"}
    assert reply["error"]["code"] == "invalid_input"


def test_hook_sees_every_attestation(
    tmp_path: Path, store: Store, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """The on_attest hook is told about successes and failures (for the audit log)."""
    seen: list[tuple[str | None, str | None]] = []
    run = tmp_path / "run2"
    run.mkdir()
    store.add_agent(_agent("bot", MINE))
    hook = lambda a, s, e: seen.append((a.name if a else None, e.code if e else None))  # noqa: E731
    with AttestationServer(run, store, svids, clock, on_attest=hook) as srv:
        fetch_svid(srv.socket_path, AUD)
        store.set_agent_status(AgentName("bot"), AgentStatus.SUSPENDED, clock.now())
        with pytest.raises(AgentSuspended):
            fetch_svid(srv.socket_path, AUD)
    assert seen == [("bot", None), ("bot", "agent_suspended")]


def test_stale_socket_replaced_and_live_socket_refused(
    tmp_path: Path, store: Store, svids: SvidAuthority, clock: FrozenClock
) -> None:
    """A leftover socket file is replaced; a socket with a live server behind it is not stolen."""
    run = tmp_path / "run3"
    run.mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run / "attest.sock"))
    stale.close()
    with AttestationServer(run, store, svids, clock) as srv:
        second = AttestationServer(run, store, svids, clock)
        with pytest.raises(ConfigError, match="in use"):
            second.start()
        assert srv.socket_path.exists()
    assert not (run / "attest.sock").exists()


def test_an_executable_too_large_to_hash_fails_attestation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding: anyone may connect to the gateway socket, and the daemon hashed the whole
    executable of each caller it may read (a root daemon: any), so a process running a huge sparse
    file cost minutes of hashing per connection. Over the limit (1 GiB; here 1 MiB), attestation
    fails without reading it."""
    monkeypatch.setattr(attest_module, "MAX_EXECUTABLE_BYTES", 1 << 20, raising=False)
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate((1 << 20) + 1)  # sparse
    (tmp_path / "proc" / "4242").mkdir(parents=True)
    (tmp_path / "proc" / "4242" / "exe").symlink_to(big)
    with pytest.raises(AttestationFailed, match="too large"):
        attest_module._executable(tmp_path / "proc", 4242)
