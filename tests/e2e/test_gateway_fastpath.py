"""The HTTP gateway's lean `tools/call` path (the protocol's fast path and the ASGI layer's lean
branch) serves exactly what the SDK path would serve, and answers it the same way; nothing the
gateway sends quotes a parser or a validator; a request's Host is checked on every path.

The differential test drives one gateway with the same generated requests twice, once with the
lean path on and once with it off (``GatewayAuth.lean``), and compares what came back and whether
the call reached the runtime. The fuzz test sends generated requests to a real `proctor gateway
--http` process and checks every answer's form, then the audit chain.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture, wait_http_ready
from tests.e2e.gateway_harness import GatewayThread, free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.gateway.http import GatewayAuth
from proctor.gateway.runtime import GatewayRuntime
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
USUAL_ACCEPT = "application/json, text/event-stream"
MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
MISSING: Any = object()
#: what no answer may quote (parser positions, pydantic's report, exception text)
LEAKS = ("traceback", "pydantic", "validation error", "errors.pydantic.dev", "line 1 column")


@dataclass
class Gateway:
    url: str
    p: Proctor
    auth: GatewayAuth
    runtime: GatewayRuntime
    headers: dict[str, str]
    calls: list[str]


@contextmanager
def _gateway(tmp_path: Path) -> Iterator[Gateway]:
    """An in-process gateway in front of the fixture server (namespace `fx`, every tool a read),
    whose runtime counts the calls that reach it, on either path."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="fx", allow=["fx.*"], requested_by="r@acme.test")
    upstream = upstream_from_mapping(
        {"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}
    )
    apps: list[Any] = []

    def keep(app: Any) -> Any:
        apps.append(app)
        return app

    gateway = GatewayThread.start(p, [upstream], port, wrap=keep)
    auth = apps[0]
    assert isinstance(auth, GatewayAuth)
    assert auth.runtime is not None
    runtime = auth.runtime
    calls: list[str] = []
    one_path = runtime.calls.call

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[3].path)  # the leg: "lean" or "sdk"
        return await one_path(*args, **kwargs)

    runtime.calls.call = counted  # type: ignore[method-assign]
    fast_call = auth.fast_call

    def counted_fast_call(*args: Any) -> Any:
        work = fast_call(*args)
        if work is not None:
            calls.append("fast")
        return work

    # read by the protocol per connection: in place before the first one
    auth.fast_call = counted_fast_call  # type: ignore[method-assign,assignment]
    headers = {
        "Authorization": f"Bearer {p.agents.issue_svid(agent, url)}",
        "Proctor-Task": task.token,
        "Accept": USUAL_ACCEPT,
        "Content-Type": "application/json",
    }
    try:
        yield Gateway(url, p, auth, runtime, headers, calls)
    finally:
        gateway.stop()
        p.close()
        stop_fixture(fixture)


def _open_session(client: httpx.Client, url: str, headers: dict[str, str]) -> str:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    r = client.post(url, json=init, headers=headers)
    assert r.status_code == 200, r.text
    sid = r.headers["mcp-session-id"]
    h = {**headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
    client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
    return sid


def _answer(resp: httpx.Response) -> Any:
    """The JSON-RPC answer (or error object) in a response, JSON or SSE; None if there is none."""
    ctype = resp.headers.get("content-type", "")
    if ctype.startswith("text/event-stream"):
        found = None
        for line in resp.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                msg = json.loads(line[5:])
                if isinstance(msg, dict) and ("result" in msg or "error" in msg):
                    found = msg
        return found
    if ctype.startswith("application/json") and resp.content:
        return json.loads(resp.content)
    return None


def _outcome(resp: httpx.Response) -> tuple[Any, ...]:
    """What the client learns: the status and, for a JSON-RPC answer, its id and either the error
    code or the result's isError and first text."""
    msg = _answer(resp)
    if not isinstance(msg, dict) or not ("result" in msg or "error" in msg):
        return (resp.status_code, None)
    if "error" in msg:
        err = msg["error"]
        return (resp.status_code, msg.get("id", MISSING), "error", err.get("code"), err.get("message"))
    result = msg["result"]
    content = result.get("content") or [{}]
    text = re.sub(r"dec_[\w-]+", "dec_", str(content[0].get("text")))  # a decision's own id
    return (resp.status_code, msg.get("id"), "result", bool(result.get("isError")), text)


ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=6),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, {"a": 1}, [1], MISSING, 1e300]),
)
metas = st.sampled_from([MISSING, None, "x", {}, {"progressToken": 1}, ENVELOPE])


def _nested(depth: int) -> dict[str, Any]:
    """Arguments nested ``depth`` levels deep (the SDK's parser stops at about 200)."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return {"x": value}


#: a request the lean path serves, field by field; each test case changes one or two fields
VALID: dict[str, Any] = {
    "id": 1,
    "jsonrpc": "2.0",
    "name": "fx__test_simple_text",
    "arguments": {},
    "meta": MISSING,
    "task": MISSING,
    "encoding": "utf-8",
    "version": "2025-11-25",
    "method_h": None,
    "name_h": None,
    "session": True,
    "ctype": "application/json",
    "accept": USUAL_ACCEPT,
}
VARIANTS: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "jsonrpc": st.sampled_from(["1.0", MISSING, 2.0, "2.0 "]),
    "name": st.sampled_from(["fx__test_error_handling", "fx__nope", "other.tool"]),
    "arguments": st.sampled_from([MISSING, {"x": 1}, None, [1], _nested(180), _nested(250)]),
    "meta": st.sampled_from([None, "x", {}, {"progressToken": 1}, ENVELOPE]),
    "task": st.sampled_from([{"ttl": 5}]),
    "encoding": st.sampled_from(["utf-8-sig", "utf-16", "utf-16-le", "utf-32"]),
    "version": st.sampled_from([None, "2025-06-18", "2024-11-05", MODERN, "1999-01-01", "bogus"]),
    "method_h": st.sampled_from(["tools/call", "tools/list"]),
    "name_h": st.sampled_from(["same", "other.tool"]),
    "session": st.just(False),
    "ctype": st.sampled_from(
        ["text/plain", "Application/JSON", "application/json; charset=utf-8", "application/jsonx"]
    ),
    "accept": st.sampled_from(
        ["application/json", "*/*", "text/event-stream", None, "application/*, text/*"]
    ),
}


#: the same for a 2026-07-28 request: stateless (no session), the envelope in `_meta`, the
#: routing headers naming the body's method and tool (ADR 0031)
VALID_MODERN: dict[str, Any] = {
    **VALID,
    "meta": ENVELOPE,
    "version": MODERN,
    "method_h": "tools/call",
    "name_h": "same",
    "session": False,
}
VARIANTS_MODERN: dict[str, st.SearchStrategy[Any]] = {
    **VARIANTS,
    "meta": st.sampled_from(
        [
            MISSING,
            None,
            {},
            {**ENVELOPE, "progressToken": 1},
            {**ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2025-11-25"},
            {**ENVELOPE, "io.modelcontextprotocol/clientCapabilities": None},
            {**ENVELOPE, "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"url": {}}}},
            {"io.modelcontextprotocol/protocolVersion": MODERN},
        ]
    ),
    "method_h": st.sampled_from([None, "tools/list", "Tools/call"]),
    "name_h": st.sampled_from([None, "other.tool", "=?base64?ZnhfX3Rlc3Rfc2ltcGxlX3RleHQ=?="]),
    "session": st.just(True),
}
REVISIONS = {"2025-11-25": (VALID, VARIANTS), MODERN: (VALID_MODERN, VARIANTS_MODERN)}


@st.composite
def requests(draw: st.DrawFn, revision: str = "2025-11-25") -> dict[str, Any]:
    valid, variants = REVISIONS[revision]
    changed = draw(st.sets(st.sampled_from(sorted(variants)), min_size=0, max_size=3))
    return {key: draw(variants[key]) if key in changed else value for key, value in valid.items()}


def _build(req: dict[str, Any], base: dict[str, str], sid: str) -> tuple[bytes, dict[str, str]]:
    params: dict[str, Any] = {"name": req["name"]}
    for key, value in (("arguments", req["arguments"]), ("_meta", req["meta"]), ("task", req["task"])):
        if value is not MISSING:
            params[key] = value
    msg: dict[str, Any] = {"method": "tools/call", "params": params}
    for key in ("jsonrpc", "id"):
        if req[key] is not MISSING:
            msg[key] = req[key]
    body = json.dumps(msg).encode(req["encoding"])
    headers = {k: v for k, v in base.items() if k not in ("Accept", "Content-Type")}
    headers["Content-Type"] = req["ctype"]
    if req["accept"] is not None:
        headers["Accept"] = req["accept"]
    if req["session"]:
        headers["Mcp-Session-Id"] = sid
    if req["version"] is not None:
        headers["MCP-Protocol-Version"] = req["version"]
    if req["method_h"] is not None:
        headers["Mcp-Method"] = req["method_h"]
    if req["name_h"] is not None:
        headers["Mcp-Name"] = req["name"] if req["name_h"] == "same" else req["name_h"]
    return body, headers


@pytest.mark.parametrize("revision", sorted(REVISIONS))
def test_the_lean_path_serves_what_the_sdk_path_serves_and_answers_it_alike(
    tmp_path: Path, revision: str
) -> None:
    """Each generated request is sent with the lean path on, then off: same status, same JSON-RPC
    id, error code or result, and the call reaches the runtime in both or in neither. (Before,
    the lean path ran calls with ids the SDK reads as a notification's, any `jsonrpc`, unknown
    or 2026-07-28 protocol versions, UTF-16/32 and BOM bodies, and contradicting Mcp-Method or
    Mcp-Name headers.) On 2026-07-28 the requests are stateless ones around a valid envelope,
    compared with the SDK's stateless entry (ADR 0031)."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = _open_session(client, gw.url, gw.headers)

        def send(lean: bool, body: bytes, headers: dict[str, str]) -> tuple[tuple[Any, ...], list[str]]:
            gw.auth.lean = lean
            before = len(gw.calls)
            resp = client.post(gw.url, content=body, headers=headers)
            return _outcome(resp), gw.calls[before:]

        @settings(
            max_examples=250,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(requests(revision))
        def same(req: dict[str, Any]) -> None:
            body, headers = _build(req, gw.headers, sid)
            lean, lean_calls = send(True, body, headers)
            sdk, sdk_calls = send(False, body, headers)
            assert lean == sdk, (req, lean, sdk)
            assert bool(lean_calls) == bool(sdk_calls), (req, lean_calls, sdk_calls)

        same()
        # the lean path did serve calls, and the SDK path too, or the comparison proves nothing
        gw.auth.lean = True
        body, h = _build(REVISIONS[revision][0], gw.headers, sid)
        before = len(gw.calls)
        assert client.post(gw.url, content=body, headers=h).status_code == 200
        assert gw.calls[before:] == ["fast", "lean"]  # the benchmark's request takes the fast path


def test_the_fast_path_checks_the_host_as_the_asgi_path_does(tmp_path: Path) -> None:
    """DNS rebinding: a lean call whose Host is not the gateway's is refused (421) and never runs,
    whichever path would have served it."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = _open_session(client, gw.url, gw.headers)
        call = {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "fx__test_simple_text"}}
        h = {**gw.headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        port = gw.url.split(":")[2].split("/")[0]
        outcomes = []
        for lean in (True, False):
            gw.auth.lean = lean
            for host in ("evil.example", f"evil.example:{port}", f"127.0.0.2:{port}"):
                r = client.post(gw.url, json=call, headers={**h, "Host": host})
                outcomes.append((r.status_code, r.json()["error"]["code"]))
        gw.auth.lean = True
        good = client.post(gw.url, json=call, headers={**h, "Host": f"localhost:{port}"})
        assert good.status_code == 200, good.text
    assert outcomes == [(421, "host_rejected")] * 6
    assert gw.calls == ["fast", "lean"]


def test_the_sdk_parser_and_validator_text_never_reaches_the_client(tmp_path: Path) -> None:
    """On the handshake-era path the SDK answered a body it cannot parse or validate with its
    parser's position or pydantic's report (model names, the input echoed, a documentation URL).
    The gateway sends fixed messages instead; Proctor's own messages are left as they are."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = _open_session(client, gw.url, gw.headers)
        h = {**gw.headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        secret_input = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"hunter2-in-params"}'
        parse = client.post(gw.url, content=b'{"jsonrpc": "2.0", "id": 2, "method": ', headers=h)
        invalid = client.post(gw.url, content=secret_input, headers=h)
        batch = client.post(gw.url, content=b"[1, 2]", headers=h)
        unknown = client.post(
            gw.url,
            json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "fx__nope"}},
            headers=h,
        )
    assert (parse.status_code, parse.json()["error"]) == (400, {"code": -32700, "message": "Parse error"})
    fixed = {"code": -32602, "message": "Invalid request: the body is not a valid JSON-RPC 2.0 message"}
    assert (invalid.status_code, invalid.json()["error"]) == (400, fixed)
    assert (batch.status_code, batch.json()["error"]) == (400, fixed)
    for r in (parse, invalid, batch):
        assert int(r.headers["content-length"]) == len(r.content)
        assert not any(leak in r.text.lower() for leak in LEAKS), r.text
    assert "hunter2" not in invalid.text
    assert _answer(unknown)["error"]["message"] == "unknown tool `fx__nope`"


# --- fuzzing a real `proctor gateway --http` -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
methods = st.sampled_from(
    [
        "tools/call",
        "tools/call",
        "tools/list",
        "initialize",
        "ping",
        "resources/list",
        "prompts/get",
        "nope",
        7,
    ]
)


@st.composite
def fuzz_requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str | None]]:
    kind = draw(st.sampled_from(["message", "message", "message", "raw", "json"]))
    if kind == "raw":
        body = draw(st.binary(max_size=64))
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    else:
        msg: dict[str, Any] = {}
        if draw(st.integers(0, 5)):
            msg["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2]))
        if draw(st.integers(0, 4)):
            msg["id"] = draw(ids.filter(lambda v: v is not MISSING))
        msg["method"] = draw(methods)
        params = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(
                            ["fx__test_simple_text", "fx__test_error_handling", "fx__nope", "x"]
                        )
                    },
                    optional={"arguments": json_values, "_meta": st.sampled_from([ENVELOPE, {}, "x", None])},
                ),
                json_values,
            )
        )
        if draw(st.integers(0, 5)):
            msg["params"] = params
        body = json.dumps(msg).encode(
            draw(st.sampled_from(["utf-8"] * 4 + ["utf-16", "utf-8-sig", "utf-32"]))
        )
    headers: dict[str, str | None] = {
        "version": draw(st.sampled_from(["2025-11-25", MODERN, None, "bogus"])),
        "session": draw(st.sampled_from(["yes", "no"])),
        "method_h": draw(st.sampled_from([None, "tools/call", "tools/list"])),
        "name_h": draw(st.sampled_from([None, "fx__test_simple_text", "other.tool", "=?base64?Zng=?="])),
    }
    return body, headers


def _assert_clean(resp: httpx.Response) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.text)
    assert not any(leak in resp.text.lower() for leak in LEAKS), resp.text
    if resp.status_code == 202 or not resp.content:
        return
    msg = _answer(resp)
    ctype = resp.headers.get("content-type", "")
    if msg is None:
        # a clean HTTP error in plain text (the SDK's 400/406/415/421 and 431 answers)
        assert resp.status_code >= 400, (resp.status_code, resp.text)
        assert ctype.startswith("text/plain"), (resp.status_code, ctype, resp.text)
        return
    assert isinstance(msg, dict), msg
    if msg.get("jsonrpc") == "2.0":
        assert ("result" in msg) != ("error" in msg), msg
        assert "id" in msg, msg
        if "error" in msg:
            assert isinstance(msg["error"].get("code"), int), msg
            assert isinstance(msg["error"].get("message"), str), msg
    else:  # the gateway's own refusals before JSON-RPC: {"error": {"code": "...", "message": "..."}}
        assert resp.status_code >= 400, msg
        assert isinstance(msg["error"]["code"], str), msg
        assert isinstance(msg["error"]["message"], str), msg


def test_fuzzing_a_gateway_process_gets_clean_answers_and_a_sound_audit_chain(tmp_path: Path) -> None:
    """A few hundred generated requests (JSON-RPC or not, both revisions, with and without a
    session, odd encodings and routing headers) to `proctor gateway --http`: no 5xx, every answer
    well-formed JSON-RPC or a clean HTTP error, no parser or exception text; then `proctor audit
    verify` passes."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="fx", allow=["fx.*"], requested_by="r@acme.test")
        base = {
            "Authorization": f"Bearer {p.agents.issue_svid(agent, url)}",
            "Proctor-Task": task.token,
            "Accept": USUAL_ACCEPT,
            "Content-Type": "application/json",
        }
    exe = BIN / "proctor"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    log = (tmp_path / "gateway.log").open("wb")
    gateway = subprocess.Popen(
        [str(exe), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http_ready(url, gateway, timeout=60)
        with httpx.Client(timeout=30) as client:
            sid = _open_session(client, url, base)

            @settings(max_examples=300, deadline=None, derandomize=True, database=None)
            @given(fuzz_requests())
            def clean(case: tuple[bytes, dict[str, str | None]]) -> None:
                body, knobs = case
                h = dict(base)
                if knobs["session"] == "yes":
                    h["Mcp-Session-Id"] = sid
                for header, knob in (
                    ("MCP-Protocol-Version", "version"),
                    ("Mcp-Method", "method_h"),
                    ("Mcp-Name", "name_h"),
                ):
                    if knobs[knob] is not None:
                        h[header] = str(knobs[knob])
                _assert_clean(client.post(url, content=body, headers=h))

            clean()
            # the session is still served
            ok = {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "tools/call",
                "params": {"name": "fx__test_simple_text"},
            }
            h = {**base, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
            assert "result" in client.post(url, json=ok, headers=h).json()
    finally:
        gateway.terminate()
        try:
            gateway.wait(20)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait(10)
        log.close()
        stop_fixture(fixture)
    out = (tmp_path / "gateway.log").read_text(errors="replace")
    assert "Traceback" not in out, out[-4000:]
    r = subprocess.run(
        [str(exe), "audit", "verify", "--workspace", str(ws.root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("lean", [True, False])
def test_a_contradicting_routing_header_is_refused_on_the_handshake_path_too(
    tmp_path: Path, lean: bool
) -> None:
    """`Mcp-Method` / `Mcp-Name` that contradict the body get -32020 in a session as on 2026-07-28,
    audited, and the call does not run."""
    from proctor.store.base import AuditQuery

    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        gw.auth.lean = lean
        sid = _open_session(client, gw.url, gw.headers)
        call: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "fx__test_simple_text"},
        }
        h = {**gw.headers, "Mcp-Session-Id": sid}
        answers = [
            client.post(gw.url, json=call, headers={**h, **extra})
            for extra in (
                {"MCP-Protocol-Version": "2025-11-25", "Mcp-Method": "tools/list"},
                {"MCP-Protocol-Version": "2025-11-25", "Mcp-Name": "other.tool"},
                {"Mcp-Method": "tools/list", "Mcp-Name": "fx__test_simple_text"},
            )
        ]
        # 2026-07-28 with a session id: the SDK's stateless entry would answer it; the gateway
        # refuses it first so that the refusal is audited (ADR 0031)
        modern = {**call, "params": {**call["params"], "_meta": ENVELOPE}}
        headers = {**h, "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list", "Mcp-Name": "other.tool"}
        answers.append(client.post(gw.url, json=modern, headers=headers))
        version = {"MCP-Protocol-Version": "2025-11-25", "Mcp-Method": "tools/call"}
        # a base64 sentinel is decoded before the comparison ("fx.Test" is not the body's name)
        other = client.post(
            gw.url, json=call, headers={**h, **version, "Mcp-Name": "=?base64?ZnguVGVzdA==?="}
        )
        assert gw.calls == []
        same = client.post(
            gw.url, json=call, headers={**h, **version, "Mcp-Name": "=?base64?ZnhfX3Rlc3Rfc2ltcGxlX3RleHQ=?="}
        )
        gw.p.audit.flush()
        refused = [json.loads(r.body) for r in gw.p.store.search_audit(AuditQuery(kind="gateway.refused"))]
    assert [(a.status_code, a.json()["error"]["code"]) for a in [*answers, other]] == [(400, -32020)] * 5
    assert [a.json()["id"] for a in answers[:3]] == [4, 4, 4]
    assert [r["error"] for r in refused] == ["header_mismatch"] * 5
    assert same.status_code == 200, same.text
    assert gw.calls == (["fast", "lean"] if lean else ["sdk"])


def test_one_http_call_verifies_the_task_token_once(tmp_path: Path) -> None:
    """Identity is checked once per call: the HTTP layer verifies the task token and hands what it
    checked (on the call's snapshot, until the token's expiry) to the pipeline, which does not
    verify it a second time, on either path. A token whose signing key is then revoked is refused
    on the very next request, the remembered caller notwithstanding."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = _open_session(client, gw.url, gw.headers)
        h = {**gw.headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        verify, verify_until = gw.p.tasks.verify_token, gw.p.tasks.verify_token_until
        seen: list[str] = []

        def counting(token: str, agent: Any) -> Any:
            seen.append(token)
            return verify(token, agent)

        def counting_until(token: str, agent: Any) -> Any:
            seen.append(token)
            return verify_until(token, agent)

        gw.p.tasks.verify_token = counting  # type: ignore[method-assign]
        gw.p.tasks.verify_token_until = counting_until  # type: ignore[method-assign]
        per_call: dict[str, list[int]] = {}
        for lean in (True, False):
            gw.auth.lean = lean
            gw.auth._callers.clear()  # the first call verifies the caller afresh, the second does not
            counts = per_call.setdefault("lean" if lean else "sdk", [])
            for i in range(2):
                call = {
                    "jsonrpc": "2.0",
                    "id": 10 + i,
                    "method": "tools/call",
                    "params": {"name": "fx__test_simple_text", "arguments": {}},
                }
                before = len(seen)
                r = client.post(gw.url, json=call, headers=h)
                assert r.status_code == 200, r.text
                msg = _answer(r)
                assert msg is not None, r.text
                assert not msg["result"].get("isError"), msg
                counts.append(len(seen) - before)
        gw.auth.lean = True
        gw.p.agents.keys.rotate(gw.p.clock.now(), revoke=True)
        revoked = client.post(
            gw.url,
            json={
                "jsonrpc": "2.0",
                "id": 20,
                "method": "tools/call",
                "params": {"name": "fx__test_simple_text"},
            },
            headers=h,
        )
        del gw.p.tasks.verify_token, gw.p.tasks.verify_token_until
    # the first call of a caller verifies its token once (the transport, which hands the result
    # to the pipeline); the second, on the same store state, reuses what was checked until the
    # token's expiry — a revoked key changes the store's state, so it is checked again
    assert per_call == {"lean": [1, 0], "sdk": [1, 0]}, per_call
    # the revoked token: the store's state changed, so the pipeline verifies it again and the call
    # is denied, with its decision record, on the very next request
    assert revoked.status_code == 200, revoked.text
    denied = _answer(revoked)
    assert denied is not None, revoked.text
    assert denied["result"]["isError"], denied
    assert "no longer trusted" in denied["result"]["content"][0]["text"], denied
    assert gw.calls == ["fast", "lean", "fast", "lean", "sdk", "sdk", "fast", "lean"]


def test_the_pipeline_orders_every_stage_of_a_gateway_call(tmp_path: Path) -> None:
    """The gateway's calls go through the pipeline's stage sequence (``Pipeline.run``): it decides
    and records a `tools/call` on either path and a relayed request, hands an allow to the
    gateway's credential and upstream stages (its ``Handoff``) — on the lean path, for a plain read,
    while the decision's record is being written — and answers a refusal through it."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        sid = _open_session(client, gw.url, gw.headers)
        h = {**gw.headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        run = gw.p.pipeline.run
        ran: list[tuple[str, bool]] = []

        async def counted(call: Any, handoff: Any, **kwargs: Any) -> Any:
            ran.append((call.tool, bool(kwargs.get("overlap"))))
            return await run(call, handoff, **kwargs)

        gw.p.pipeline.run = counted  # type: ignore[method-assign]

        def post(i: int, method: str, params: dict[str, Any]) -> Any:
            r = client.post(
                gw.url, json={"jsonrpc": "2.0", "id": i, "method": method, "params": params}, headers=h
            )
            assert r.status_code == 200, r.text
            msg = _answer(r)
            assert msg is not None, r.text
            return msg

        tool = {"name": "fx__test_simple_text", "arguments": {}}
        for i, lean in enumerate((True, False)):
            gw.auth.lean = lean
            msg = post(i + 1, "tools/call", tool)
            assert not msg["result"].get("isError"), msg
        read = post(3, "resources/read", {"uri": "test://static-text"})
        assert read["result"]["contents"], read
        (task,) = gw.p.tasks.list(agent="bot")
        gw.p.tasks.end(task.id)
        gw.auth.lean = True
        denied = post(4, "tools/call", tool)
        del gw.p.pipeline.run
    assert denied["result"]["isError"], denied
    assert "Proctor denied this call" in denied["result"]["content"][0]["text"], denied
    assert ran == [
        ("fx.test_simple_text", True),  # lean: the record overlaps the upstream call
        ("fx.test_simple_text", False),  # sdk: durable first
        ("fx.resources.read", False),
        ("fx.test_simple_text", False),  # refused: the task has ended
    ]
    assert gw.calls == ["fast", "lean", "sdk", "fast", "lean"]


def test_a_modern_call_s_param_headers_are_checked_against_the_task_s_listing(tmp_path: Path) -> None:
    """2026-07-28: the lean path checks `Mcp-Param-*` headers against the schema in the listing the
    caller's task sees, as the SDK's stateless entry does (it asks the gateway's own tools/list). A
    tool of the upstream that this task does not see is not refused -32020 (which told the task the
    tool exists and what its schema mirrors into headers): both paths answer it alike, as a tool the
    task may not call. A tool the task sees is still refused -32020 without the header."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        narrow = gw.p.tasks.start(
            agent="bot", purpose="fx", allow=["fx.test_simple_text"], requested_by="r@acme.test"
        )
        req = {**VALID_MODERN, "name": "fx__test_x_mcp_header", "arguments": {"region": "eu"}}

        def both(headers: dict[str, str]) -> tuple[Any, Any]:
            body, h = _build(req, headers, "")
            out = []
            for lean in (True, False):
                gw.auth.lean = lean
                out.append(_outcome(client.post(gw.url, content=body, headers=h)))
            return out[0], out[1]

        listed = client.post(
            gw.url,
            json={"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": ENVELOPE}},
            headers={
                **gw.headers,
                "Proctor-Task": narrow.token,
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "tools/list",
            },
        )
        assert [t["name"] for t in _answer(listed)["result"]["tools"]] == ["fx__test_simple_text"]
        lean, sdk = both({**gw.headers, "Proctor-Task": narrow.token})
        assert lean == sdk, (lean, sdk)
        assert lean[2:4] == ("result", True), lean  # refused as a call the task may not make
        # the task that sees the tool: the header it lacks is refused on both paths
        lean, sdk = both(gw.headers)
        assert lean == sdk, (lean, sdk)
        assert (lean[0], lean[3]) == (400, -32020), lean


def test_an_upstream_s_missing_capability_error_is_the_modern_client_s_own(tmp_path: Path) -> None:
    """2026-07-28 (SEP-2575), on the lean path: an upstream that refuses a call with -32021 for a
    capability the request did not declare: the client gets that -32021 (HTTP 400,
    `requiredCapabilities`), as it would from the upstream directly, not a tool error. The call is
    still recorded as allowed and completed with `upstream_error`. When the client did declare it,
    the call reaches the upstream (one that takes 2026-07-28 requests) declaring what the client
    declared (ADR 0031, amendment of 2026-12-05), so the upstream runs the tool."""
    with _gateway(tmp_path) as gw, httpx.Client(timeout=30) as client:
        gw.auth.lean = True
        req = {**VALID_MODERN, "name": "fx__test_missing_capability"}

        def call(meta: dict[str, Any]) -> httpx.Response:
            body, h = _build({**req, "meta": meta}, gw.headers, "")
            return client.post(gw.url, content=body, headers=h)

        refused = call(ENVELOPE)
        assert _outcome(refused)[0::3] == (400, -32021), refused.text
        assert refused.json()["error"]["data"] == {"requiredCapabilities": {"sampling": {}}}
        declared = {**ENVELOPE, "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}
        ran = call(declared)
        assert _outcome(ran)[2:4] == ("result", False), ran.text
        assert "Client declared sampling capability" in ran.text
        assert gw.calls == ["fast", "lean"] * 2
        deadline = time.monotonic() + 10
        while True:  # the completion record is queued once the answer has left
            gw.p.audit.flush()
            done = [json.loads(r.body) for r in gw.p.store.search_audit(AuditQuery(kind="call.completed"))]
            if len(done) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [d.get("status") for d in done] == ["upstream_error", "ok"], done
