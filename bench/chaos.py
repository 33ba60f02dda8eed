"""``make chaos``: the crash, fault and tamper campaign of issue 12, against real processes.

For each store (SQLite, then a PostgreSQL this script starts on a loopback port), a `proctor gateway
--http` serves several client threads, each with its own task, calling a real MCP upstream (the
benchmark's SDK echo server) through it. At random moments one fault strikes:

* ``kill9``: `kill -9` of the gateway's process group; ``sigterm``: a normal stop;
* ``store``: PostgreSQL stopped and started again / the SQLite write lock held by another process;
* ``upstream``: the upstream killed with `kill -9`, then started again;
* ``disk``: the SQLite workspace's filesystem (a tmpfs mounted for the run) filled, then freed
  (skipped, and said so, where no such filesystem can be mounted).

After each stop the unsigned tail is measured, `proctor audit verify --deep` runs, and the gateway
is started again (alternating `gateway.audit` between `strict` and `auto`). A fault is survived when
the gateway (restarted if it was stopped) answers calls again. At the end every answered call (the
client saw the upstream's result) is looked up in the audit log: its decision record, and in
`strict` its completion record, must be there. Then the tamper catalog runs on copies of the SQLite
workspace, each of which `proctor audit verify --deep` must reject.

Environment: ``CHAOS_MINUTES`` (default 15: the whole budget, tampers included), ``CHAOS_SEED``
(default: random, printed), ``CHAOS_CLIENTS`` (default 4). Prints a table and writes
``bench/out/chaos-<time>.json``. Every process it starts is killed (by process group) on the way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from proctor.app import Proctor, verify_audit_store
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store import open_store
from proctor.workspace import Workspace

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
_PROCS: list[subprocess.Popen[bytes]] = []
_MOUNTS: list[Path] = []
_BASE = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _log(msg: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _spawn(cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
    """A process in its own process group (killed with it, whatever it started)."""
    proc = subprocess.Popen(cmd, process_group=0, **kw)
    _PROCS.append(proc)
    return proc


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _reap(proc: subprocess.Popen[bytes], timeout: float = 30) -> int | None:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.wait(10)
        return None


# the upstream ------------------------------------------------------------------------------------
class Upstream:
    """The benchmark's MCP SDK server (an ``echo`` tool) over Streamable HTTP."""

    def __init__(self) -> None:
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = _spawn(
            [sys.executable, str(HERE / "mcp_upstream.py"), "--port", str(self.port), "--kind", "sdk"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_port(self.port, self.proc):
            raise RuntimeError("the upstream did not start")

    def kill(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            _reap(self.proc)


# PostgreSQL --------------------------------------------------------------------------------------
class Postgres:
    """A private cluster (tests/pgserver.py) that can be stopped and started again on its port."""

    def __init__(self) -> None:
        from tests.pgserver import start_postgres

        self.server = start_postgres()

    def _pg_ctl(self, *args: str) -> None:
        cmd = [str(self.server.bin / "pg_ctl"), "-D", str(self.server.data), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, capture_output=True, check=False, timeout=120, cwd="/")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        s = self.server
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {s.port} -k {s.base / 'sock'} "
            "-c shared_buffers=128MB -c fsync=on -c max_connections=200"
        )
        self._pg_ctl("-l", str(s.log), "-o", opts, "-w", "-t", "60", "start")

    def close(self) -> None:
        self.server.stop()


# the load ----------------------------------------------------------------------------------------
@dataclass
class Answered:
    nonce: str
    mode: str


class Load:
    """Client threads, each with its own task, calling ``up__echo`` with a unique text through the
    gateway as fast as it answers; a call is *answered* when the upstream's echo comes back."""

    def __init__(self, url: str, headers: list[dict[str, str]], tag: str) -> None:
        self.url = url
        self.headers = headers
        self.tag = tag
        self.mode = "strict"
        self.answered: list[Answered] = []
        self.errors = 0
        #: seconds the last :meth:`wait_for_answers` waited
        self.recovered_s = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(headers))
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def count(self) -> int:
        with self._lock:
            return len(self.answered)

    def wait_for_answers(self, timeout: float = 45) -> bool:
        """Whether a new call is answered within ``timeout`` (how long it took: :attr:`recovered_s`)."""
        before = self.count()
        t0 = time.monotonic()
        while time.monotonic() < t0 + timeout:
            if self.count() > before:
                self.recovered_s = time.monotonic() - t0
                return True
            time.sleep(0.1)
        self.recovered_s = timeout
        return False

    def _session(self, c: httpx.Client, base: dict[str, str]) -> dict[str, str]:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "chaos", "version": "1"},
            },
        }
        h = dict(_BASE, **base)
        r = c.post(self.url, json=init, headers=h)
        r.raise_for_status()
        h["Mcp-Session-Id"] = r.headers["mcp-session-id"]
        h["MCP-Protocol-Version"] = "2025-11-25"
        c.post(self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
        return h

    def _run(self, i: int) -> None:
        n = 0
        h: dict[str, str] | None = None
        with httpx.Client(timeout=15) as c:
            while not self._stop.is_set():
                try:
                    if h is None:
                        h = self._session(c, self.headers[i])
                    n += 1
                    nonce = f"{self.tag}-{i}-{n}"
                    mode = self.mode
                    body = {
                        "jsonrpc": "2.0",
                        "id": n,
                        "method": "tools/call",
                        "params": {"name": "up__echo", "arguments": {"text": nonce}},
                    }
                    r = c.post(self.url, json=body, headers=h)
                    if r.status_code != 200:
                        raise RuntimeError(f"HTTP {r.status_code}")
                    result = _rpc_result(r)
                    content = result.get("content") or [{}]
                    if not result.get("isError") and content[0].get("text") == nonce:
                        with self._lock:
                            self.answered.append(Answered(nonce, mode))
                    else:
                        self.errors += 1
                except Exception:
                    self.errors += 1
                    h = None
                    self._stop.wait(0.2)


def _rpc_result(r: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC result of a JSON or an event-stream answer (an error raises)."""
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        datas = [line[5:].strip() for line in r.text.splitlines() if line.startswith("data:")]
        msg = json.loads(datas[-1])
    else:
        msg = r.json()
    if "result" not in msg:
        raise RuntimeError(str(msg.get("error")))
    out: dict[str, Any] = msg["result"]
    return out


# the gateway -------------------------------------------------------------------------------------
CONFIG = """\
trust_domain: chaos.test
store: {store}
identity: {{svid_ttl: 1h}}
audit: {{log_arguments: true, witness: {witness}}}
gateway: {{audit: {mode}}}
"""


@dataclass
class Stop:
    store: str
    fault: str
    exit_code: int | None
    unsigned_tail: int
    verify_ok: bool
    survived: bool


@dataclass
class Fault:
    store: str
    fault: str
    survived: bool
    note: str = ""


@dataclass
class PhaseResult:
    store: str
    answered: dict[str, int] = field(default_factory=dict)
    missing_decisions: dict[str, int] = field(default_factory=dict)
    missing_completions: dict[str, int] = field(default_factory=dict)
    stops: list[Stop] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    final_verify_ok: bool = False
    final_unsigned_tail: int = -1
    client_errors: int = 0


class Gateway:
    def __init__(self, ws: Workspace, store_url: str, witness: Path) -> None:
        self.ws = ws
        self.store_url = store_url
        self.witness = witness
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.proc: subprocess.Popen[bytes] | None = None
        self.mode = "strict"
        #: the gateways' stderr, outside the workspace (whose filesystem may be full)
        self.log = witness.parent / f"gateway-{ws.root.name}.log"

    def log_tail(self) -> str:
        """The last lines the gateways wrote, for a fault they did not survive."""
        try:
            lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()]
        except OSError:
            return ""
        return " / ".join(x.strip()[:200] for x in lines[-3:])

    def configure(self, mode: str) -> None:
        self.mode = mode
        (self.ws.root / "proctor.yaml").write_text(
            CONFIG.format(store=self.store_url, witness=self.witness, mode=mode)
        )

    def start(self) -> bool:
        self.proc = _spawn(
            [
                sys.executable,
                "-m",
                "proctor.cli.main",
                "gateway",
                "--http",
                "--port",
                str(self.port),
                "--workspace",
                str(self.ws.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )
        return _wait_port(self.port, self.proc)

    def stop(self, sig: int) -> int | None:
        assert self.proc is not None
        _kill_group(self.proc, sig)
        return _reap(self.proc, 60)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _probe_metadata(gw: Gateway) -> str:
    """How long the gateway's OAuth metadata (an endpoint that needs no store) takes to answer."""
    base = gw.url.rsplit("/mcp", 1)[0]
    t0 = time.monotonic()
    try:
        r = httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=20)
        return f"{r.status_code} in {time.monotonic() - t0:.2f} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} after {time.monotonic() - t0:.2f} s"


def _verify_cli(ws: Path) -> bool:
    """`proctor audit verify --deep` on a workspace: whether it says ok."""
    r = subprocess.run(
        [sys.executable, "-m", "proctor.cli.main", "audit", "verify", "--deep", "--workspace", str(ws)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    return r.returncode == 0


def _unsigned_tail(ws: Workspace, store_url: str) -> int:
    st = open_store(store_url, base_dir=ws.root, migrate=False)
    try:
        return verify_audit_store(st, ws.keys_dir, settings=ws.settings()).unsigned_tail
    finally:
        st.close()


def _missing(
    ws: Workspace, store_url: str, answered: list[Answered]
) -> tuple[dict[str, int], dict[str, int]]:
    """Answered calls without a decision record, and without a completion record, by mode."""
    nonce_to_decision: dict[str, str] = {}
    completed: set[str] = set()
    st = open_store(store_url, base_dir=ws.root, migrate=False)
    try:
        for row in st.iter_audit():
            if row.kind == "decision" and row.decision == "allow":
                body = json.loads(row.body)
                args = _find(body, "args")
                if isinstance(args, dict) and isinstance(args.get("text"), str) and row.decision_id:
                    nonce_to_decision[args["text"]] = row.decision_id
            elif row.kind == "call.completed" and row.decision_id:
                completed.add(row.decision_id)
    finally:
        st.close()
    no_decision: dict[str, int] = {"strict": 0, "auto": 0}
    no_completion: dict[str, int] = {"strict": 0, "auto": 0}
    for a in answered:
        did = nonce_to_decision.get(a.nonce)
        if did is None:
            no_decision[a.mode] += 1
        elif did not in completed:
            no_completion[a.mode] += 1
    return no_decision, no_completion


def _find(body: Any, key: str) -> Any:
    if isinstance(body, dict):
        if key in body:
            return body[key]
        for v in body.values():
            found = _find(v, key)
            if found is not None:
                return found
    return None


# filesystems -------------------------------------------------------------------------------------
def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if r.returncode == 0:
        _MOUNTS.append(path)
        return True
    return False


#: the size of the tmpfs the SQLite workspace lives on (it takes memory only as it fills)
TMPFS_SIZE = "8g"


def _fill(path: Path) -> Path:
    """Fill the tmpfs mounted at ``path`` to the last byte: shrink it to what it holds (a remount,
    so no gigabytes of filler in memory), then fill the rest; returns the filler file. Undone by
    :func:`_unfill`."""
    st = os.statvfs(path)
    used_kib = (st.f_blocks - st.f_bfree) * st.f_frsize // 1024
    subprocess.run(
        ["mount", "-o", f"remount,size={used_kib + 512}k", str(path)], capture_output=True, check=False
    )
    filler = path / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            block = b"\0" * size
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, block)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return filler


def _unfill(path: Path) -> None:
    (path / "filler.bin").unlink(missing_ok=True)
    subprocess.run(["mount", "-o", f"remount,size={TMPFS_SIZE}", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def _sqlite_write_lock(db: Path) -> Iterator[None]:
    """Another process's write transaction on the SQLite store, held for the block."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys,time;c=sqlite3.connect(sys.argv[1],timeout=30,isolation_level=None);"
            "c.execute('BEGIN IMMEDIATE');print('locked',flush=True);sys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        process_group=0,
    )
    _PROCS.append(proc)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield
    finally:
        _kill_group(proc)
        proc.wait(10)


# one store ---------------------------------------------------------------------------------------
FAULTS_SQLITE = {"kill9": 4, "sigterm": 2, "store": 1, "upstream": 1, "disk": 1}
FAULTS_POSTGRES = {"kill9": 4, "sigterm": 2, "store": 1, "upstream": 1}


def run_phase(
    kind: str,
    tmp: Path,
    budget_s: float,
    rng: random.Random,
    clients: int,
    pg: Postgres | None,
) -> tuple[PhaseResult, Copies, tuple[Path, str | None] | None]:
    res = PhaseResult(kind)
    t_end = time.monotonic() + budget_s
    disk_dir: Path | None = None
    if kind == "sqlite":
        disk_dir = tmp / "fs"
        if not _mount_tmpfs(disk_dir, TMPFS_SIZE):
            disk_dir = None
    root = (disk_dir or tmp) / f"ws-{kind}"
    witness = tmp / f"witness-{kind}.log"
    if pg is not None:
        from tests.pgserver import create_database

        store_url = create_database(pg.server.url, "proctor_chaos")
    else:
        store_url = "sqlite:///proctor.db"
    ws, _ = Workspace.init(root, config_text=CONFIG.format(store=store_url, witness=witness, mode="strict"))
    up = Upstream()
    up.start()
    save_upstreams(
        ws.root, [upstream_from_mapping({"namespace": "up", "url": up.url, "default": {"effect": "read"}})]
    )
    gw = Gateway(ws, store_url, witness)
    headers = []
    with Proctor.open(ws) as p:
        agent = p.add_agent("chaos-bot", "owner@chaos.test")
        svid = p.issue_svid(agent, gw.url)
        for i in range(clients):
            task = p.start_task(
                agent="chaos-bot",
                purpose=f"load {i}",
                allow=["up.echo"],
                requested_by="r@chaos.test",
                ttl_s=6 * 3600,
            )
            headers.append({"Authorization": f"Bearer {svid}", "Proctor-Task": task.token})
    if not gw.start():
        raise RuntimeError("the gateway did not start")
    load = Load(gw.url, headers, kind)
    load.start()
    weights = FAULTS_SQLITE if kind == "sqlite" else FAULTS_POSTGRES
    faults = [f for f, w in weights.items() for _ in range(w)]
    schedule = [f for f in weights if f != "sigterm"]
    rng.shuffle(schedule)
    schedule.insert(0, "sigterm")
    first = True
    copies = Copies(ws, store_url, pg, tmp)
    old: list[tuple[Path, str | None]] = []

    def strike(fault: str) -> None:
        nonlocal first
        if fault in ("kill9", "sigterm"):
            rc = gw.stop(signal.SIGKILL if fault == "kill9" else signal.SIGTERM)
            tail = _unsigned_tail(ws, store_url)
            ok = _verify_cli(ws.root)
            if first:  # the copy a rollback restores, later
                old.append(copies.make())
            first = False
            mode = rng.choice(["strict", "auto"])
            gw.configure(mode)
            load.mode = mode
            survived = gw.start() and load.wait_for_answers()
            res.stops.append(Stop(kind, fault, rc, tail, ok, survived))
            note = f"exit {rc}, unsigned tail {tail}, verify {ok}"
            res.faults.append(
                Fault(kind, fault, survived, note if survived else f"{note}; log: {gw.log_tail()}")
            )
        elif fault == "store":
            during = load.count()
            if pg is not None:
                pg.stop()
                try:
                    probe = _probe_metadata(gw)
                    time.sleep(rng.uniform(2.0, 6.0))
                finally:
                    pg.start()
            else:
                with _sqlite_write_lock(ws.root / "proctor.db"):
                    probe = _probe_metadata(gw)
                    time.sleep(rng.uniform(2.0, 6.0))
            during = load.count() - during
            alive = gw.alive()
            survived = alive and load.wait_for_answers()
            res.faults.append(
                Fault(
                    kind,
                    "store",
                    survived,
                    f"{'gateway alive' if alive else 'gateway died'}; {during} answered during the"
                    f" outage; metadata endpoint {probe}; calls again after {load.recovered_s:.1f} s",
                )
            )
        elif fault == "upstream":
            up.kill()
            during = load.count()
            time.sleep(rng.uniform(1.0, 4.0))
            during = load.count() - during
            up.start()
            survived = gw.alive() and load.wait_for_answers()
            res.faults.append(
                Fault(
                    kind,
                    "upstream",
                    survived,
                    f"{during} answered while down; calls again after {load.recovered_s:.1f} s",
                )
            )
        elif fault == "disk":
            assert disk_dir is not None
            try:
                _fill(disk_dir)
                during = load.count()
                time.sleep(rng.uniform(2.0, 5.0))
                during = load.count() - during
            finally:
                _unfill(disk_dir)
            alive = gw.alive()
            survived = alive and load.wait_for_answers()
            res.faults.append(
                Fault(
                    kind,
                    "disk",
                    survived,
                    f"{'gateway alive' if alive else 'gateway died'}; {during} answered while full;"
                    f" calls again after {load.recovered_s:.1f} s",
                )
            )

    try:
        while time.monotonic() < t_end:
            time.sleep(rng.uniform(1.0, 5.0))
            # every kind once (a SIGTERM first: it takes the copy a rollback restores), then at random
            fault = schedule.pop(0) if schedule else rng.choice(faults)
            if fault == "disk" and disk_dir is None:
                res.faults.append(Fault(kind, "disk", False, "skipped: no small filesystem could be mounted"))
                continue
            _log(f"{kind}: {fault} ({load.count()} answered so far)")
            try:
                strike(fault)
            except Exception as exc:  # a fault the campaign itself could not inflict is reported, not fatal
                _log(f"{kind}: {fault} failed: {type(exc).__name__}: {exc}")
                res.faults.append(Fault(kind, fault, False, f"campaign error: {type(exc).__name__}: {exc}"))
            if res.faults and not res.faults[-1].survived and "log:" not in res.faults[-1].note:
                res.faults[-1].note += f"; log: {gw.log_tail()}"
            if not gw.alive():  # a fault the gateway did not survive: start it again and go on
                _log(f"{kind}: the gateway died after {fault}; starting it again")
                gw.start()
    finally:
        load.stop()
        if gw.alive():
            rc = gw.stop(signal.SIGTERM)
            res.stops.append(Stop(kind, "final sigterm", rc, _unsigned_tail(ws, store_url), True, True))
        up.kill()
    res.final_verify_ok = _verify_cli(ws.root)
    res.final_unsigned_tail = _unsigned_tail(ws, store_url)
    res.client_errors = load.errors
    for mode in ("strict", "auto"):
        res.answered[mode] = sum(1 for a in load.answered if a.mode == mode)
    res.missing_decisions, res.missing_completions = _missing(ws, store_url, load.answered)
    return res, copies, old[0] if old else None


# tampers -----------------------------------------------------------------------------------------
class Db:
    """A tamperer's connection to a copy of a store, the append-only guards already dropped."""

    def __init__(self, ws: Path, pg_url: str | None) -> None:
        self.pg: psycopg.Connection[Any] | None = None
        self.lite: sqlite3.Connection | None = None
        if pg_url is not None:
            self.pg = psycopg.connect(pg_url, autocommit=True)
            self.pg.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
        else:
            self.lite = sqlite3.connect(ws / "proctor.db", isolation_level=None)
            rows = self.lite.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
            for (name,) in rows:
                self.lite.execute(f'DROP TRIGGER "{name}"')

    def run(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.pg is not None:
            cur = self.pg.execute(query.replace("?", "%s").encode(), params)
            return cur.fetchall() if cur.description else []
        assert self.lite is not None
        return self.lite.execute(query, params).fetchall()

    def head(self) -> int:
        return int(self.run("SELECT max(seq) FROM audit_records")[0][0])

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()
        if self.lite is not None:
            self.lite.close()


def _t_delete_tail(ws: Path, db: Db) -> None:
    head = db.head()
    db.run("DELETE FROM audit_records WHERE seq > ?", (head - 5,))
    db.run("DELETE FROM audit_checkpoints WHERE seq > ?", (head - 5,))


def _t_edit_record(ws: Path, db: Db) -> None:
    seq = db.head() // 2
    text = bytes(db.run("SELECT body FROM audit_records WHERE seq = ?", (seq,))[0][0]).decode()
    edited = text.replace('"allow"', '"deny"', 1) if '"allow"' in text else text.replace("}", ',"x":1}', 1)
    db.run("UPDATE audit_records SET body = ? WHERE seq = ?", (edited.encode(), seq))


def _t_delete_anchor_and_tail(ws: Path, db: Db) -> None:
    _t_delete_tail(ws, db)
    (ws / "keys" / "audit-anchor.json").unlink(missing_ok=True)


def _t_reorder(ws: Path, db: Db) -> None:
    a = db.head() // 2
    db.run("UPDATE audit_records SET seq = -1 WHERE seq = ?", (a,))
    db.run("UPDATE audit_records SET seq = ? WHERE seq = ?", (a, a + 1))
    db.run("UPDATE audit_records SET seq = ? WHERE seq = -1", (a + 1,))


def _t_edit_policy_versions(ws: Path, db: Db) -> None:
    db.run("UPDATE policy_versions SET version = ?", ("sha256:" + os.urandom(32).hex(),))


TAMPERS: dict[str, Callable[[Path, Db], None]] = {
    "delete records at the tail": _t_delete_tail,
    "edit a record": _t_edit_record,
    "delete the anchor and the tail": _t_delete_anchor_and_tail,
    "reorder two records": _t_reorder,
    "edit policy_versions": _t_edit_policy_versions,
}


class Copies:
    """Copies of a stopped workspace (and of its PostgreSQL database) to tamper with."""

    def __init__(self, ws: Workspace, store_url: str, pg: Postgres | None, tmp: Path) -> None:
        self.ws = ws
        self.store_url = store_url
        self.pg = pg
        self.tmp = tmp
        self.n = 0

    def make(self) -> tuple[Path, str | None]:
        """A copy of the workspace; with PostgreSQL, the URL of its own copy of the database."""
        self.n += 1
        copy = self.tmp / f"copy-{self.ws.root.name}-{self.n}"
        shutil.copytree(self.ws.root, copy)
        if self.pg is None:
            return copy, None
        from tests.pgserver import create_database, database_name

        for attempt in range(20):  # a killed gateway's sessions take a moment to leave the database
            try:
                url = create_database(
                    self.pg.server.url, "proctor_chaos_copy", template=database_name(self.store_url)
                )
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        cfg = copy / "proctor.yaml"
        cfg.write_text(cfg.read_text().replace(self.store_url, url))
        return copy, url

    def drop(self, copy: Path, url: str | None) -> None:
        shutil.rmtree(copy, ignore_errors=True)
        if url is not None and self.pg is not None:
            from tests.pgserver import drop_database

            drop_database(self.pg.server.url, url)


def run_tampers(copies: Copies, old_copy: tuple[Path, str | None] | None) -> dict[str, bool]:
    detected: dict[str, bool] = {}
    for name, tamper in TAMPERS.items():
        copy, url = copies.make()
        try:
            db = Db(copy, url)
            try:
                tamper(copy, db)
            finally:
                db.close()
            detected[name] = not _verify_cli(copy)
        except Exception as exc:
            _log(f"tamper {name!r} could not be applied: {type(exc).__name__}: {exc}")
            detected[name] = False
        finally:
            copies.drop(copy, url)
    if old_copy is not None:
        detected["restore an old workspace copy"] = not _verify_cli(old_copy[0])
        copies.drop(*old_copy)
    return detected


# report ------------------------------------------------------------------------------------------
def table(phases: list[PhaseResult], tampers: dict[str, dict[str, bool]]) -> str:
    lines = [
        "| store | answered (strict/auto) | missing decision records | missing completions strict (auto) |"
        " kill -9: stops, unsigned tail max | SIGTERM: stops, unsigned tail max | verify ok after stops |"
        " faults survived | final verify, tail |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in phases:
        k9 = [s for s in r.stops if s.fault == "kill9"]
        term = [s for s in r.stops if s.fault in ("sigterm", "final sigterm")]
        tried = [f for f in r.faults if not f.note.startswith("skipped")]
        lines.append(
            f"| {r.store} | {r.answered.get('strict', 0)}/{r.answered.get('auto', 0)} |"
            f" {sum(r.missing_decisions.values())} |"
            f" {r.missing_completions.get('strict', 0)} ({r.missing_completions.get('auto', 0)}) |"
            f" {len(k9)}, {max((s.unsigned_tail for s in k9), default=0)} |"
            f" {len(term)}, {max((s.unsigned_tail for s in term), default=0)} |"
            f" {sum(s.verify_ok for s in r.stops)}/{len(r.stops)} |"
            f" {sum(f.survived for f in tried)}/{len(tried)} |"
            f" {'ok' if r.final_verify_ok else 'FAILED'}, {r.final_unsigned_tail} |"
        )
    lines.append("")
    lines.append("| store | fault | tried | survived | notes |")
    lines.append("|---|---|---|---|---|")
    for r in phases:
        kinds = sorted({f.fault for f in r.faults})
        for k in kinds:
            fs = [f for f in r.faults if f.fault == k]
            skipped = [f for f in fs if f.note.startswith("skipped")]
            tried = [f for f in fs if not f.note.startswith("skipped")]
            notes = sorted(
                {f.note for f in fs if f.note and (k not in ("kill9", "sigterm") or not f.survived)}
            )
            lines.append(
                f"| {r.store} | {k} | {len(tried)} | {sum(f.survived for f in tried)} |"
                f" {'; '.join(notes) or ('skipped' if skipped and not tried else '')} |"
            )
    lines.append("")
    stores = list(tampers)
    lines.append("| tamper (on a copy) | " + " | ".join(stores) + " |")
    lines.append("|---|" + "---|" * len(stores))
    names = list(dict.fromkeys(n for t in tampers.values() for n in t))
    for name in names:
        cells = [
            "-" if name not in tampers[x] else ("detected" if tampers[x][name] else "NOT DETECTED")
            for x in stores
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| **detected / tried** | "
        + " | ".join(f"{sum(tampers[x].values())}/{len(tampers[x])}" for x in stores)
        + " |"
    )
    return "\n".join(lines)


def main() -> int:
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 31))
    minutes = float(os.environ.get("CHAOS_MINUTES", "15"))
    clients = int(os.environ.get("CHAOS_CLIENTS", "4"))
    rng = random.Random(seed)
    _log(
        f"seed {seed} (CHAOS_SEED={seed} repeats the fault schedule), budget {minutes} min, {clients} clients"
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="proctor-chaos-"))
    t0 = time.monotonic()
    budget = minutes * 60
    # tampers, verifies and final scans take time too: the store phases share what is left
    # at most 50 minutes a store: the clients' SVIDs live an hour (the longest Proctor issues)
    per_phase = min(3000.0, max(20.0, (budget - 60.0) / 2 - 30.0))
    phases: list[PhaseResult] = []
    tampers: dict[str, dict[str, bool]] = {}
    pg: Postgres | None = None
    try:
        res, copies, old = run_phase("sqlite", tmp, per_phase, rng, clients, None)
        phases.append(res)
        _log("sqlite: tampers")
        tampers["sqlite"] = run_tampers(copies, old)
        _log("starting PostgreSQL")
        pg = Postgres()
        left = budget - (time.monotonic() - t0) - 60
        res, copies, old = run_phase("postgres", tmp, max(20.0, min(per_phase, left)), rng, clients, pg)
        phases.append(res)
        _log("postgres: tampers")
        tampers["postgres"] = run_tampers(copies, old)
    finally:
        for proc in _PROCS:
            if proc.poll() is None:
                _kill_group(proc)
                with contextlib.suppress(Exception):
                    proc.wait(10)
        if pg is not None:
            pg.close()
        for m in reversed(_MOUNTS):
            subprocess.run(["umount", "-l", str(m)], capture_output=True, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(phases, tampers)
    print(text)
    OUT.mkdir(exist_ok=True)
    out = OUT / f"chaos-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "seed": seed,
                "minutes": minutes,
                "clients": clients,
                "elapsed_s": round(time.monotonic() - t0, 1),
                "phases": [asdict(p) for p in phases],
                "tampers": tampers,
            },
            indent=2,
        )
    )
    _log(f"seed {seed}; written {out}")
    bad = any(
        sum(p.missing_decisions.values()) or p.missing_completions.get("strict", 0) or not p.final_verify_ok
        for p in phases
    ) or not all(all(t.values()) for t in tampers.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
