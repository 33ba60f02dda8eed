"""The public API: ``proctor`` (lazy, cheap to import), ``__all__`` in every module, the error codes,
and ``proctor.testing``."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import anyio
import httpx

import proctor
from proctor import errors
from proctor.testing import ECHO_TOOL, MockUpstream, temporary_workspace, text_result

SRC = Path(__file__).resolve().parents[2] / "src"

#: modules still without ``__all__`` because other work is rewriting them; the list only shrinks
PENDING_ALL: frozenset[str] = frozenset()


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "proctor").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _declares_all(path: Path) -> bool:
    for node in ast.parse(path.read_text()).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def test_importing_proctor_imports_nothing_else() -> None:
    """`import proctor` (and so the CLI's first step) loads no other Proctor module."""
    code = "import sys, proctor; print(sorted(m for m in sys.modules if m.startswith('proctor')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['proctor']"


def test_every_public_name_resolves_to_its_module() -> None:
    """Each name in `proctor.__all__` is there, and is the object its own module defines."""
    assert proctor.Proctor is importlib.import_module("proctor.app").Proctor
    assert proctor.ProctorError is errors.ProctorError
    for name in proctor.__all__:
        assert getattr(proctor, name) is not None, name
    assert set(proctor.__all__) <= set(dir(proctor))


def test_every_module_declares_all_and_its_names_exist() -> None:
    """`__all__` in every module (but the pending ones), naming only what the module has."""
    modules = _modules()
    missing = {m for m, path in modules.items() if not _declares_all(path)}
    assert missing == PENDING_ALL, (
        f"without __all__: {sorted(missing - PENDING_ALL)}; done: {sorted(PENDING_ALL - missing)}"
    )
    for name in sorted(set(modules) - PENDING_ALL):
        module = importlib.import_module(name)
        absent = [n for n in module.__all__ if not hasattr(module, n)]
        assert not absent, f"{name}.__all__ names what it does not have: {absent}"


def test_error_codes_are_unique_and_name_their_class() -> None:
    """One class per stable code; `ERROR_CODES` finds every error class by its code."""
    classes = [
        c
        for n in errors.__all__
        if isinstance(c := getattr(errors, n), type) and issubclass(c, errors.ProctorError)
    ]
    assert len({c.code for c in classes}) == len(classes)
    assert dict(errors.ERROR_CODES) == {c.code: c for c in classes}
    assert errors.ERROR_CODES["unknown_tool"] is errors.UnknownTool


def test_temporary_workspace_opens_proctor_on_a_frozen_clock_and_cleans_up() -> None:
    """The sandbox's Proctor runs on its frozen clock; the directory is gone afterwards."""
    with temporary_workspace() as sandbox:
        root = sandbox.workspace.root
        assert sandbox.admin_token.startswith("pta_")
        sandbox.proctor.agents.add("bot", "owner@acme.test")
        started = sandbox.proctor.tasks.start(
            agent="bot", purpose="p", allow=["fs.*"], requested_by="r@acme.test", ttl_s=60
        )
        assert started.task.is_live(sandbox.clock.now())
        sandbox.clock.advance(61)
        assert not started.task.is_live(sandbox.clock.now())
    assert not root.exists()


def test_temporary_workspace_at_a_given_root_is_kept(tmp_path: Path) -> None:
    """Given a root, the workspace is made there and left for the caller's own clean-up."""
    with temporary_workspace(tmp_path / "ws") as sandbox:
        assert sandbox.workspace.root == (tmp_path / "ws").resolve()
    assert (tmp_path / "ws" / "proctor.yaml").exists()


def test_mock_upstream_speaks_mcp_json_rpc_and_records_requests() -> None:
    """initialize, notifications (202), tools/list and tools/call through its handler."""
    seen: list[tuple[str, dict[str, object]]] = []

    def handler(name: str, arguments: object) -> dict[str, object]:
        seen.append((name, dict(arguments)))  # type: ignore[call-overload]  # a mapping of arguments
        return text_result("ok")

    up = MockUpstream(tools=[ECHO_TOOL, {"name": "pay", "inputSchema": {"type": "object"}}], handler=handler)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=up), base_url="http://mock") as c:
            rpc = {"jsonrpc": "2.0"}
            return [
                await c.post("/mcp", json={**rpc, "id": 1, "method": "initialize", "params": {}}),
                await c.post(
                    "/mcp", json={**rpc, "method": "notifications/initialized"}, headers={"X-A": "1"}
                ),
                await c.post("/mcp", json={**rpc, "id": 2, "method": "tools/list"}),
                await c.post(
                    "/mcp",
                    json={
                        **rpc,
                        "id": 3,
                        "method": "tools/call",
                        "params": {"name": "pay", "arguments": {"n": 5}},
                    },
                ),
            ]

    init, note, listed, called = anyio.run(run)
    assert init.json()["result"]["serverInfo"]["name"] == "mock"
    assert init.headers["mcp-session-id"] == "mock-session"
    assert note.status_code == 202
    assert [t["name"] for t in listed.json()["result"]["tools"]] == ["echo", "pay"]
    assert called.json() == {"jsonrpc": "2.0", "id": 3, "result": text_result("ok")}
    assert seen == [("pay", {"n": 5})]
    assert [r.message.get("method") for r in up.requests] == [
        "initialize",
        "notifications/initialized",
        "tools/list",
        "tools/call",
    ]
    assert up.requests[1].headers["x-a"] == "1"


def test_mock_upstream_serves_on_loopback() -> None:
    """`serve()` yields a URL that answers until the block ends."""
    up = MockUpstream()
    with up.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}},
        }
        got = httpx.post(url, json=body, timeout=10).json()
    assert got["result"]["content"][0]["text"] == "hi"
    try:
        httpx.post(url, json=body, timeout=2)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the mock upstream still answers after the block")
