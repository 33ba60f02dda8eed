"""A running `proctor gateway` follows what other processes change: policy files, the store's
active policy version, `upstreams.yaml`, pins and tool registrations. Real subprocesses throughout:
the gateway, the real `mcp-server-time` upstream and the official MCP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.types import ToolName
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
#: how long a change may take to reach the running gateway before the test gives up (not a
#: performance assertion: the gateway follows within about a second; the host may be slow)
PATIENCE_S = 30.0


@dataclass
class Running:
    ws: Workspace
    url: str
    svid: str
    task_token: str
    proc: subprocess.Popen[bytes]


def _time_upstream(**extra: Any) -> Any:
    return upstream_from_mapping(
        {
            "namespace": "time",
            "command": str(BIN / "mcp-server-time"),
            "args": ["--local-timezone", "UTC"],
            "default": {"effect": "read"},
            **extra,
        }
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    save_upstreams(ws.root, [_time_upstream()])
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent, url)
        task = p.tasks.start(
            agent="bot", purpose="time", allow=["time.*"], requested_by="r@acme.test", ttl_s=3600
        )
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            time.sleep(0.1)
    try:
        yield Running(ws, url, svid, task.token, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _call(r: Running) -> tuple[bool, str]:
    """Call the time upstream's `get_current_time` under whatever name the gateway lists for it."""

    async def main() -> tuple[bool, str]:
        h = {"Authorization": f"Bearer {r.svid}", "Proctor-Task": r.task_token}
        transport = streamable_http_client(r.url, http_client=httpx2.AsyncClient(headers=h, timeout=30))
        async with Client(transport, cache=None, mode="legacy") as c:
            names = [t.name for t in (await c.list_tools()).tools]
            name = next((n for n in names if n.endswith("get_current_time")), None)
            if name is None:
                return False, f"not listed: {names}"
            res = await c.call_tool(name, {"timezone": "UTC"})
            text = " ".join(getattr(x, "text", "") for x in res.content)
            return not res.is_error, text

    return anyio.run(main)


def _leaves(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for e in group.exceptions:
        out.extend(_leaves(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


def _until(r: Running, pred: Callable[[bool, str], bool]) -> tuple[bool, str]:
    deadline = time.monotonic() + PATIENCE_S
    while True:
        try:
            ok, text = _call(r)
        except* MCPError as group:
            # the reload landed between the listing and the call: the name listed a moment ago is
            # unknown now (a JSON-RPC error); the next look lists what the new configuration has
            if not all("unknown tool" in str(e) for e in _leaves(group)):
                raise
            ok, text = False, "unknown tool (changed between listing and calling)"
        if pred(ok, text) or time.monotonic() > deadline:
            return ok, text
        time.sleep(0.3)


FORBID = """@id("test.no-time")
forbid (principal, action, resource is Proctor::Tool) when { resource.namespace == "time" };
"""


def test_a_new_forbid_reaches_the_running_gateway(running: Running) -> None:
    """A `forbid` written to policies/ while the gateway runs denies its next calls (it was
    allowed before), and the decision names the new policy version."""
    ok, text = _call(running)
    assert ok, text
    (running.ws.policies_dir / "90-no-time.cedar").write_text(FORBID, encoding="utf-8")
    ok, text = _until(running, lambda ok, _t: not ok)
    assert not ok
    assert "Proctor denied this call" in text
    (running.ws.policies_dir / "90-no-time.cedar").unlink()
    ok, text = _until(running, lambda ok, _t: ok)
    assert ok, text


def test_a_process_behind_the_stores_policy_version_allows_nothing(running: Running) -> None:
    """When the store records an active policy version the gateway cannot load, the gateway does
    not go on allowing under its old one: calls are denied as `policy_stale` and audited; when the
    workspace's own version is activated again, calls go through again."""
    assert _call(running)[0]
    with Proctor.open(running.ws) as p:
        p.store.record_policy_version(
            "0" * 64, {"elsewhere.cedar": "permit(principal, action, resource);"}, 1.0
        )
    ok, text = _call(running)
    assert not ok
    assert "policy version" in text
    with Proctor.open(running.ws) as p:
        rows = p.store.search_audit(AuditQuery(kind="decision", newest_first=True, limit=1))
        assert b'"policy_stale"' in bytes(rows[0].body)
    # a process that loads the workspace's files activates their version again: everyone follows
    with Proctor.open(running.ws) as p:
        assert p.store.active_policy_version() == p.policies.engine.version
    ok, text = _until(running, lambda ok, _t: ok)
    assert ok, text


def test_upstream_configuration_is_followed(running: Running) -> None:
    """`upstreams.yaml` changed by another process reaches the running gateway: a tool re-described
    as a payment (`pay`, financial, no payee argument Proctor can trace) needs approval; a removed upstream is gone; an invalid file is refused (audited) and
    the last good configuration keeps serving."""
    assert _call(running)[0]
    save_upstreams(
        running.ws.root,
        [_time_upstream(tools={"get_current_time": {"effect": "pay", "flags": ["financial"]}})],
    )
    ok, text = _until(running, lambda ok, t: "approval" in t)
    assert not ok
    assert "needs approval" in text, text
    (running.ws.root / "upstreams.yaml").write_text("upstreams: [{namespace: 'BAD NS'}]\n", encoding="utf-8")
    time.sleep(2.5)  # the gateway looks once a second: give it two looks at the bad file
    ok, text = _call(running)
    assert "needs approval" in text  # the last good configuration still serves
    with Proctor.open(running.ws) as p:
        assert p.store.search_audit(AuditQuery(kind="upstreams.rejected", limit=1))
    save_upstreams(running.ws.root, [])
    ok, text = _until(running, lambda ok, t: t.startswith("not listed"))
    assert text.startswith("not listed"), text


def test_pins_and_registrations_made_elsewhere_are_followed(running: Running) -> None:
    """`proctor tool add` from another process re-describes a registered tool (its effect changes
    the decision at once: a financial payment with no traceable payee waits), and a pin recorded elsewhere with a wrong digest hides the tool."""
    from proctor.store.base import ToolPin

    assert _call(running)[0]
    exe = str(BIN / "proctor")
    env = {**os.environ, "PROCTOR_WORKSPACE": str(running.ws.root)}
    subprocess.run(
        [exe, "tool", "add", "time.get_current_time", "--effect", "pay", "--flag", "financial"],
        env=env,
        check=True,
        timeout=60,
    )
    ok, text = _call(running)
    assert "needs approval" in text, text
    with Proctor.open(running.ws) as p:
        p.store.replace_tool_pins(
            "time",
            [
                ToolPin(
                    name=ToolName("time.get_current_time"),
                    namespace="time",
                    upstream_tool="get_current_time",
                    digest="sha256:" + "0" * 64,
                    definition={},
                    pinned_at=1.0,
                    pinned_by="admin@acme.test",
                )
            ],
        )
    ok, text = _call(running)
    assert not ok
    assert text.startswith("not listed"), text


def test_a_call_in_flight_across_a_reload_reopens_nothing_of_the_old_configuration(tmp_path: Path) -> None:
    """A call resolved its upstream before ``upstreams.yaml`` changed and reaches for the session
    after the reload retired it: it must not open a session with the old command (which every
    later call of the task would then reuse), nor hold credentials obtained for it."""
    from proctor.gateway.runtime import GatewayRuntime
    from proctor.gateway.sessions import UpstreamUnavailable
    from proctor.types import TaskId

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    save_upstreams(ws.root, [_time_upstream()])
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="time", allow=["time.*"], requested_by="r@acme.test", ttl_s=3600
        )
        from proctor.gateway.config import load_upstreams

        runtime = GatewayRuntime(p, load_upstreams(ws.root))

        async def scenario() -> tuple[str, Any]:
            async with runtime.running():
                owned = runtime.owned(TaskId(task.task.id))
                old = runtime.upstreams["time"]  # resolved by a call now in flight
                new_cfg = _time_upstream(args=["--local-timezone", "Europe/Paris"])
                save_upstreams(ws.root, [new_cfg])
                assert await runtime.reload_upstreams(force=True)
                outcome = "refused"
                try:
                    await owned.get(old)  # the call in flight reaches for its session now
                    outcome = "opened"
                except UpstreamUnavailable:
                    pass
                current = runtime.upstreams["time"]
                up = await owned.get(current)  # the next call of the task
                used = up.cfg
                runtime.task_group.cancel_scope.cancel()
                return outcome, used == current

        outcome, current_used = anyio.run(scenario)
    assert outcome == "refused"
    assert current_used


def test_an_unreadable_upstreams_file_is_refused_and_audited_once(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 (or a file that cannot be read) are a refused configuration like
    invalid YAML: audited once, the previous list keeps serving, not an exception that skips the
    change without a record."""
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.runtime import GatewayRuntime

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    save_upstreams(ws.root, [_time_upstream()])
    with Proctor.open(ws) as p:
        runtime = GatewayRuntime(p, load_upstreams(ws.root))
        (ws.root / "upstreams.yaml").write_bytes(b"upstreams:\n  - namespace: \xff\xfe\n")

        async def reload_twice() -> tuple[bool, bool]:
            return await runtime.reload_upstreams(), await runtime.reload_upstreams(force=True)

        assert anyio.run(reload_twice) == (False, False)
        p.audit.flush()
        rejected = p.store.search_audit(AuditQuery(kind="upstreams.rejected", limit=5))
        assert len(rejected) == 1
        assert list(runtime.upstreams) == ["time"]


def test_a_process_that_read_the_policy_files_before_a_change_does_not_revert_the_active_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process reads the policy files, then waits (for the store's write lock, say) while the
    operator changes them and a running process activates the new set. When it records what it
    read, the store must not end up naming the older set: the running process would be left
    `policy_stale` (denying everything), and this one would decide under the withdrawn policy."""
    import proctor.policy.active as app_mod
    from proctor.policy.loader import load_policy_dir

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    old = load_policy_dir(ws.policies_dir)
    (ws.policies_dir / "90-extra.cedar").write_text(
        '@id("extra.forbid")\nforbid(principal, action == Proctor::Action::"pay", resource);\n'
    )
    with Proctor.open(ws) as running:  # follows the files: activates the new set
        new_version = running.policies.engine.version
        assert new_version != old.version
        reads: list[int] = []

        def stale_first(directory: Path, **kw: Any) -> Any:
            reads.append(1)
            return old if len(reads) == 1 else load_policy_dir(directory, **kw)

        monkeypatch.setattr(app_mod, "load_policy_dir", stale_first)
        with Proctor.open(ws) as late:
            monkeypatch.undo()
            assert late.store.active_policy_version() == new_version
            assert late.policies.engine.version == new_version
            assert running.state.snapshot().policy_stale is None


def test_a_stale_process_that_catches_up_serves_again_without_waiting_for_a_store_change(
    tmp_path: Path,
) -> None:
    """Another host activated a set whose files reach this host later (configuration management):
    this process is `policy_stale` meanwhile. Once its files hold that set and it activates it (the
    store already names it, so nothing in the store changes), its calls must go through again at
    once, not stay denied until some unrelated change moves the store's epoch."""
    import shutil

    from proctor.policy.loader import load_policy_dir

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(ws.policies_dir, elsewhere)
    extra = '@id("extra.forbid")\nforbid(principal, action == Proctor::Action::"pay", resource);\n'
    (elsewhere / "90-extra.cedar").write_text(extra)
    newer = load_policy_dir(elsewhere)
    with Proctor.open(ws) as p:
        p.store.record_policy_version(newer.version, newer.files, p.clock.now())  # the other host
        assert p.state.snapshot().policy_stale is not None
        (ws.policies_dir / "90-extra.cedar").write_text(extra)  # the files arrive here
        assert p.policies.reload()  # what the watcher does
        assert p.policies.engine.version == newer.version
        assert p.state.snapshot().policy_stale is None


def test_a_resource_of_a_removed_upstream_is_unknown_after_a_reload(tmp_path: Path) -> None:
    """A resource listed by an upstream that `upstreams.yaml` then removes (or repoints): reading it
    is a plain "unknown resource", never an internal error, and never routed by the old listing."""
    from mcp.shared.exceptions import MCPError

    from proctor.gateway import relays
    from proctor.gateway.calls import Caller
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.runtime import GatewayRuntime
    from proctor.types import AgentName

    everything = Path(__file__).resolve().parents[1] / "fixtures" / "everything_server.py"
    ev = upstream_from_mapping(
        {
            "namespace": "ev",
            "command": sys.executable,
            "args": [str(everything), "--stdio"],
            "default": {"effect": "read"},
        }
    )
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    save_upstreams(ws.root, [ev, _time_upstream()])
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        started = p.tasks.start(
            agent="bot", purpose="r", allow=["ev.*", "time.*"], requested_by="r@acme.test", ttl_s=3600
        )
        caller = Caller(AgentName("bot"), started.task.id, started.token)
        runtime = GatewayRuntime(p, load_upstreams(ws.root))

        async def scenario() -> str:
            async with runtime.running():
                listed = [str(r.uri) for r in await relays.list_resources(runtime.calls, caller)]
                assert "test://static-text" in listed
                save_upstreams(ws.root, [_time_upstream()])
                assert await runtime.reload_upstreams(force=True)
                try:
                    await relays.read_resource(runtime.calls, caller, "test://static-text")
                    outcome = "read"
                except MCPError as exc:
                    outcome = f"refused: {exc}"
                runtime.task_group.cancel_scope.cancel()
                return outcome

        outcome = anyio.run(scenario)
    # (with one upstream left, the gateway asks it, as for a template's URI: it does not know it)
    assert outcome.lower().startswith("refused: unknown resource"), outcome
