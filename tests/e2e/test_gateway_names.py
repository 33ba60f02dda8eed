"""Tool names real clients accept (docs/adr/0014), through a real `proctor gateway --stdio`.

Claude Desktop drops a server's whole tool list when one name does not match
``^[a-zA-Z0-9_-]{1,64}$``; OpenAI function names allow no dots. The gateway lists every tool under
such a name, resolves a call only from that exact name, and keeps Proctor's canonical
``namespace.tool`` for policies, ``--allow`` patterns, pins and the audit.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import child_env
from tests.fixtures.changing_server import ODD_NAMES, SQUATTER

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.gateway.names import canonical_name, exposed_name
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BIN = Path(sys.executable).parent
#: Claude Desktop's check, verbatim
CLIENT_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _workspace(tmp_path: Path, allow: list[str], config: str = "") -> tuple[Workspace, StdioServerParameters]:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "dict",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "changing_server.py")],
                    "default": {"effect": "read"},
                    "env": {"FIXTURE_ODD_NAMES": "1", "FIXTURE_CALL_LOG": str(tmp_path / "calls.log")},
                }
            ),
            upstream_from_mapping(
                {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
            ),
        ],
    )
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(agent="bot", purpose="names", allow=allow, requested_by="r@acme.test")
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from proctor.cli.main import main; main()",
            "gateway",
            "--stdio",
            "--in-process",  # the runtime's behaviour in one process (the keyless relay: test_gateway_stdio*)
            "--workspace",
            str(ws.root),
        ],
        env=child_env(
            {"PROCTOR_SVID": svid, "PROCTOR_TASK_TOKEN": task.token, "PATH": f"{BIN}:/usr/bin:/bin"}
        ),
    )
    return ws, params


def _text(result: Any) -> str:
    return str(result.content[0].text)


def _decisions(ws: Workspace) -> list[tuple[str | None, str | None, dict[str, Any]]]:
    """(tool, verdict, outcome) of each decision record."""
    with Proctor.open(ws) as p:
        rows = p.store.search_audit(AuditQuery(kind="decision", limit=1000))
        return [(r.tool, r.decision, json.loads(r.body)["outcome"]) for r in rows]


def test_every_listed_name_is_one_claude_desktop_accepts(tmp_path: Path) -> None:
    """Every name the gateway lists matches the client pattern, odd and long upstream names included;
    each odd tool is called by its listed name and reached under its own; the tool that squats on
    another's hashed name is hidden with it; the audit names canonical tools."""
    ws, params = _workspace(tmp_path, ["dict.*", "time.*"])
    odd = {exposed_name("dict", n, "__"): n for n in ODD_NAMES if n != "get.weather"}

    async def main() -> tuple[list[str], dict[str, str]]:
        async with Client(params, mode="legacy", cache=None) as c:
            listed = [t.name for t in (await c.list_tools()).tools]
            answers = {name: _text(await c.call_tool(name, {})) for name in odd}
            return listed, answers

    listed, answers = anyio.run(main)
    assert listed, "the gateway listed nothing"
    for name in listed:
        assert CLIENT_NAME.match(name), name
    assert len(set(listed)) == len(listed)
    assert set(listed) == {
        "dict__lookup",
        "time__get_current_time",
        "time__convert_time",
        *odd,
    }
    long_name = exposed_name(
        "dict", "summarize_the_quarterly_revenue_report_for_the_board_of_directors_v2", "__"
    )
    assert len(long_name) == 64
    assert long_name in listed
    # `get.weather` and the tool listed under its hashed name cannot be told apart: neither is offered
    assert exposed_name("dict", "get.weather", "__") not in listed
    assert f"dict__{SQUATTER}" not in listed
    assert answers == {e: ODD_NAMES[n] for e, n in odd.items()}
    reached = (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines()
    assert sorted(reached) == sorted(odd.values())  # the upstream heard its own names
    decided = {tool for tool, _verdict, _outcome in _decisions(ws)}
    assert decided == {canonical_name("dict", n) for n in odd.values()}
    assert all("__" not in str(t) for t in decided)


def test_only_the_exact_listed_name_calls_a_tool(tmp_path: Path) -> None:
    """Proctor's dotted name, another case, the upstream's raw odd name and a hidden tool's name are
    unknown tools (-32602) and reach nothing; a denial names the tool as the agent knows it while the
    audit keeps the canonical name."""
    ws, params = _workspace(tmp_path, ["dict.*", "time.get_current_time"])
    squatted = exposed_name("dict", "get.weather", "__")
    wrong = [
        "dict.lookup",  # Proctor's canonical name: not a name the gateway lists
        "dict__LOOKUP",
        "DICT__lookup",
        "dict__get.weather",
        "dict.get.weather",
        "get.weather",
        squatted,
        f"dict__{SQUATTER}",
        "dict__lookup ",
        "dict___lookup",
    ]

    async def main() -> tuple[list[Any], Any, Any]:
        async with Client(params, mode="legacy", cache=None) as c:
            errors = []
            for name in wrong:
                try:
                    await c.call_tool(name, {"word": "x"})
                except MCPError as exc:
                    errors.append(exc.error)
            good = await c.call_tool("dict__lookup", {"word": "proctor"})
            denied = await c.call_tool(
                "time__convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"}
            )
            return errors, good, denied

    errors, good, denied = anyio.run(main)
    assert [e.code for e in errors] == [-32602] * len(wrong)
    assert _text(good) == "proctor: a word"
    assert (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines() == ["lookup"]
    assert denied.is_error
    assert "`time__convert_time`" in _text(denied)
    assert "time.convert_time" not in _text(denied)
    ((tool, outcome),) = [(t, o) for t, verdict, o in _decisions(ws) if verdict == "deny"]
    assert tool == "time.convert_time"
    assert any("`time.convert_time`" in r for r in outcome["reasons"])


def test_the_separator_is_configurable(tmp_path: Path) -> None:
    """`gateway.tool_separator: "-"` lists `dict-lookup`, which is then the only name that calls it."""
    _ws, params = _workspace(tmp_path, ["dict.lookup"], config="gateway: {tool_separator: '-'}\n")

    async def main() -> tuple[list[str], str, int]:
        async with Client(params, mode="legacy", cache=None) as c:
            listed = [t.name for t in (await c.list_tools()).tools]
            ok = _text(await c.call_tool("dict-lookup", {"word": "w"}))
            try:
                await c.call_tool("dict__lookup", {"word": "w"})
            except MCPError as exc:
                return listed, ok, exc.error.code
            return listed, ok, 0

    listed, ok, code = anyio.run(main)
    assert listed == ["dict-lookup"]
    assert ok == "w: a word"
    assert code == -32602


def test_a_namespace_holding_the_separator_is_refused(tmp_path: Path) -> None:
    """`my__ns` would make `my__ns__tool` ambiguous: `upstream add` refuses it, and a gateway whose
    upstreams.yaml holds one (written by hand) refuses to start, naming the reason."""
    ws, params = _workspace(tmp_path, ["dict.*"])
    cli = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
    env = dict(params.env or {})
    add = subprocess.run(
        [*cli, "upstream", "add", "my__ns", "--command", "x", "--workspace", str(ws.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert add.returncode == 2, add.stderr
    assert "would be ambiguous" in " ".join(add.stderr.split())
    (ws.root / "upstreams.yaml").write_text("upstreams:\n  - {namespace: my__ns, command: x}\n")
    gw = subprocess.run(
        [*cli, "gateway", "--stdio", "--in-process", "--workspace", str(ws.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert gw.returncode == 2, gw.stderr
    assert "would be ambiguous" in " ".join(gw.stderr.split())


def test_a_pattern_with_a_question_mark_for_the_dot_still_resolves_names(tmp_path: Path) -> None:
    """Review finding: `dict?*` allows every `dict` tool (`?` matches the dot), but the check that
    lets a call list its upstream first did not see it as declaring `dict`; the call then skipped
    the listing, the name table, the check of the name the upstream lists and the pin check, and
    (once the tool was registered) was allowed: `dict__LOOKUP` reached the upstream as `LOOKUP`.
    Now such a call resolves through the listing like any other."""
    ws, params = _workspace(tmp_path, ["dict.*"])

    async def call(params: StdioServerParameters, name: str) -> Any:
        async with Client(params, mode="legacy", cache=None) as c:
            try:
                return await c.call_tool(name, {"word": "proctor"})
            except MCPError as exc:
                return exc.error.code

    assert _text(anyio.run(call, params, "dict__lookup")) == "proctor: a word"  # registers dict.lookup
    with Proctor.open(ws) as p:
        task = p.tasks.start(agent="bot", purpose="q", allow=["dict?*"], requested_by="r@acme.test")
    env = {**(params.env or {}), "PROCTOR_TASK_TOKEN": task.token}
    wild = params.model_copy(update={"env": env})
    assert anyio.run(call, wild, "dict__LOOKUP") == -32602
    assert _text(anyio.run(call, wild, "dict__lookup")) == "proctor: a word"
    assert (tmp_path / "calls.log").read_text(encoding="utf-8").splitlines() == ["lookup", "lookup"]
