"""The MCP methods other than ``tools/call`` that reach an upstream (``resources/read``,
``resources/subscribe``/``unsubscribe``, ``prompts/get``, ``completion/complete``,
``logging/setLevel``) go through the pipeline as calls of relay tools (``fx.resources.read``, ...):
decided by Cedar and the task's scope, counted against ``--max-calls``, and durable in the audit log
before the upstream sees them (docs/adr/0016).

Driven through a real `proctor gateway --stdio` subprocess with the official MCP client, in front of
the everything fixture, which logs every request it receives together with the highest audit
sequence number committed at that moment (``seen_seq``): a request the upstream saw must match an
``allow`` decision record with a sequence number no higher than that.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: the relayed methods, and the relay tool each is decided as
RELAYED = {
    "resources/read": "fx.resources.read",
    "resources/subscribe": "fx.resources.subscribe",
    "resources/unsubscribe": "fx.resources.unsubscribe",
    "prompts/get": "fx.prompts.get",
    "completion/complete": "fx.completion.complete",
    "logging/setLevel": "fx.logging.setlevel",
}
#: every method that must be decided before an upstream sees it
DECIDED = {*RELAYED, "tools/call"}
LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
FAIL_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS test_fail_decisions BEFORE INSERT ON audit_records"
    " WHEN NEW.kind = 'decision' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"
)


@dataclass
class Env:
    ws: Workspace
    join: str
    token: str
    task_id: str
    record: Path


def _env(
    tmp_path: Path,
    *,
    allow: list[str],
    resources: list[str] | None = None,
    max_calls: int | None = None,
    audit: str = "auto",
    policy: str | None = None,
) -> Env:
    config = f"trust_domain: acme.test\naudit: {{log_arguments: true}}\ngateway: {{audit: {audit}}}\n"
    ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
    record = tmp_path / "upstream-requests.jsonl"
    record.touch()
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "fx",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "everything_server.py"), "--stdio"],
                    "env": {
                        "EVERYTHING_RECORD": str(record),
                        "EVERYTHING_AUDIT_DB": str(ws.root / "proctor.db"),
                    },
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    if policy is not None:
        (ws.policies_dir / "50-test.cedar").write_text(policy)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        join = p.agents.join_token("bot")
        started = p.tasks.start(
            agent="bot",
            purpose="relays",
            allow=allow,
            resources=resources or (),
            max_calls=max_calls,
            requested_by="req@acme.test",
        )
    return Env(ws, join, started.token, str(started.task.id), record)


def _stdio(env: Env) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from proctor.cli.main import main; main()",
            "gateway",
            "--stdio",
            "--in-process",  # the runtime's behaviour in one process (the keyless relay: test_gateway_stdio*)
            "--workspace",
            str(env.ws.root),
        ],
        env={
            "PROCTOR_JOIN_TOKEN": env.join,
            "PROCTOR_TASK_TOKEN": env.token,
            "PATH": str(BIN) + ":/usr/bin:/bin",
            # the gateway runs the source under test (a worktree's, when PYTHONPATH points there)
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
    )


def _client(env: Env) -> Client:
    return Client(_stdio(env), mode="legacy", cache=None)


async def _do(c: Client, method: str, nonce: str, *, in_scope: bool = True, level: str = "info") -> str:
    """One request of ``method``, tagged with ``nonce`` where the method carries one; "ok" or the
    JSON-RPC error as ``error <code>: <message>``."""
    uri = f"test://template/{nonce}/data" if in_scope else f"test://outside/{nonce}"
    try:
        if method == "resources/read":
            await c.read_resource(uri)
        elif method == "resources/subscribe":
            await c.subscribe_resource(uri)
        elif method == "resources/unsubscribe":
            await c.unsubscribe_resource(uri)
        elif method == "prompts/get":
            name = "fx.test_prompt_with_arguments" if in_scope else "fx.test_simple_prompt"
            await c.get_prompt(name, {"arg1": nonce, "arg2": "b"} if in_scope else None)
        elif method == "completion/complete":
            if in_scope:
                ref: Any = types.PromptReference(type="ref/prompt", name="fx.test_prompt_with_arguments")
            else:
                ref = types.ResourceTemplateReference(type="ref/resource", uri="test://outside/{id}")
            await c.complete(ref, {"name": "arg1", "value": nonce})
        elif method == "logging/setLevel":
            await c.set_logging_level(level)  # type: ignore[arg-type]
        elif method == "tools/call":
            r = await c.call_tool("fx__test_simple_text", {})
            return "ok" if not r.is_error else "denied: " + r.content[0].text  # type: ignore[union-attr]
        else:
            raise AssertionError(method)
    except MCPError as exc:
        return f"error {exc.error.code}: {exc.error.message}"
    return "ok"


def _received(env: Env) -> list[dict[str, Any]]:
    """The requests the upstream received, in order."""
    return [json.loads(line) for line in env.record.read_text().splitlines() if line.strip()]


def _decisions(env: Env) -> list[tuple[int, dict[str, Any]]]:
    with Proctor.open(env.ws) as p:
        rows = p.store.search_audit(AuditQuery(kind="decision", limit=100_000))
    return [(r.seq, json.loads(r.body)) for r in rows]


def _records(env: Env, kind: str) -> list[dict[str, Any]]:
    with Proctor.open(env.ws) as p:
        return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind=kind, limit=100_000))]


def _key_of_request(req: dict[str, Any]) -> tuple[str, str]:
    """(the tool it must have been decided as, the value that correlates it with its decision)."""
    method, params = req["method"], req["params"] or {}
    if method.startswith("resources/"):
        return RELAYED[method], str(params["uri"])
    if method == "prompts/get":
        return RELAYED[method], str((params.get("arguments") or {}).get("arg1", params["name"]))
    if method == "completion/complete":
        return RELAYED[method], str(params["argument"]["value"])
    if method == "logging/setLevel":
        return RELAYED[method], str(params["level"])
    return f"fx.{params['name'].lower()}", ""


def _key_of_decision(rec: dict[str, Any]) -> tuple[str, str]:
    tool, args = str(rec["tool"]), rec.get("args") or {}
    if tool.startswith("fx.resources."):
        return tool, str(args["uri"])
    if tool == "fx.prompts.get":
        return tool, str((args.get("arguments") or {}).get("arg1", args["uri"].rsplit("/", 1)[-1]))
    if tool == "fx.completion.complete":
        return tool, str(args["argument"]["value"])
    if tool == "fx.logging.setlevel":
        return tool, str(args["level"])
    return tool, ""


def unmatched_requests(env: Env) -> list[dict[str, Any]]:
    """The decided-method requests the upstream received without a distinct `allow` decision of the
    same tool and correlation value that was durable (committed) before it received them."""
    allows: dict[tuple[str, str], list[int]] = {}
    for seq, rec in _decisions(env):
        if rec["decision"] == "allow" and rec.get("source") == "mcp":
            allows.setdefault(_key_of_decision(rec), []).append(seq)
    bad = []
    for req in sorted((r for r in _received(env) if r["method"] in DECIDED), key=lambda r: r["seen_seq"]):
        seqs = allows.get(_key_of_request(req), [])
        durable = [s for s in seqs if s <= req["seen_seq"]]
        if not durable:
            bad.append(req)
            continue
        seqs.remove(min(durable))  # each decision lets one request through
    return bad


@contextmanager
def _failing_audit(env: Env) -> Iterator[None]:
    """Every decision record the store is asked to write fails, as a full disk would fail it."""
    db = sqlite3.connect(env.ws.root / "proctor.db", timeout=30)
    try:
        db.execute(FAIL_TRIGGER)
        db.commit()
        yield
    finally:
        db.execute("DROP TRIGGER IF EXISTS test_fail_decisions")
        db.commit()
        db.close()


def _run(env: Env, body: Callable[[Client], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with _client(env) as c:
            return await body(c)

    return anyio.run(main)


async def _all(c: Client, nonce: str, **kw: Any) -> dict[str, str]:
    return {m: await _do(c, m, f"{nonce}-{i}", **kw) for i, m in enumerate(RELAYED)}


# ------------------------------------------------------------------------------------------------
def test_each_relayed_method_is_decided_audited_and_completed(tmp_path: Path) -> None:
    """Allowed (`fx.*` covers fx's relay tools): each method reaches the upstream after its allow
    decision was durable, and is followed by a `call.completed` record, as a tool call is."""
    env = _env(tmp_path, allow=["fx.*"])

    async def body(c: Client) -> tuple[dict[str, str], str]:
        out = await _all(c, "n")
        text = (await c.read_resource("test://template/abc/data")).contents[0].text  # type: ignore[union-attr]
        return out, text

    out, text = _run(env, body)
    assert out == dict.fromkeys(RELAYED, "ok")
    assert "Data for ID: abc" in text
    received = [r["method"] for r in _received(env) if r["method"] in DECIDED]
    assert sorted(received) == sorted([*RELAYED, "resources/read"])
    assert unmatched_requests(env) == []
    decisions = [rec for _, rec in _decisions(env) if rec["tool"] in RELAYED.values()]
    assert {(d["tool"], d["decision"]) for d in decisions} == {(t, "allow") for t in RELAYED.values()}
    read = next(d for d in decisions if d["tool"] == "fx.resources.read")
    assert read["outcome"]["scope"]["resource"] == "test://template/n-0/data"
    prompt = next(d for d in decisions if d["tool"] == "fx.prompts.get")
    assert prompt["args"]["uri"] == "prompt://fx/test_prompt_with_arguments"
    completed = _records(env, "call.completed")
    assert sorted(c["tool"] for c in completed) == sorted([*RELAYED.values(), "fx.resources.read"])
    assert all(c["status"] == "ok" and c["decision_id"] for c in completed)
    assert not _records(env, "resource.read")  # the old after-the-fact record is gone


FORBID_RELAYS = """
@id("test.no-relays")
forbid (principal, action == Proctor::Action::"read", resource)
when { [
  Proctor::Tool::"fx.resources.read", Proctor::Tool::"fx.resources.subscribe",
  Proctor::Tool::"fx.resources.unsubscribe", Proctor::Tool::"fx.prompts.get",
  Proctor::Tool::"fx.completion.complete", Proctor::Tool::"fx.logging.setlevel"
].contains(resource) };
"""


def test_each_relayed_method_can_be_forbidden_by_cedar(tmp_path: Path) -> None:
    """A `forbid` on the relay tools: each method is a JSON-RPC error naming the policy and the
    decision, audited as a deny, and the upstream never sees it; tool calls still go through."""
    env = _env(tmp_path, allow=["fx.*"], policy=FORBID_RELAYS)

    async def body(c: Client) -> tuple[dict[str, str], str]:
        return await _all(c, "f"), await _do(c, "tools/call", "t")

    out, tool = _run(env, body)
    assert tool == "ok"
    for method, answer in out.items():
        assert answer.startswith("error -32600: Proctor denied"), (method, answer)
        assert "`test.no-relays`" in answer
        assert "(decision dec_" in answer
    assert [r["method"] for r in _received(env) if r["method"] in RELAYED] == []
    denies = {rec["tool"] for _, rec in _decisions(env) if rec["decision"] == "deny"}
    assert denies == set(RELAYED.values())
    assert unmatched_requests(env) == []


def test_each_relayed_method_is_held_to_the_tasks_declared_tools(tmp_path: Path) -> None:
    """A task that declared only a tool of fx (`--allow fx.test_simple_text`) reaches fx for that
    tool only: every relayed method is outside its declared tools, denied and audited."""
    env = _env(tmp_path, allow=["fx.test_simple_text"])

    async def body(c: Client) -> tuple[dict[str, str], list[str], list[str]]:
        uris = [str(r.uri) for r in (await c.list_resources()).resources]
        prompts = [p.name for p in (await c.list_prompts()).prompts]
        return await _all(c, "s"), uris, prompts

    out, uris, prompts = _run(env, body)
    assert (uris, prompts) == ([], [])  # the catalogs show only what the task could use
    for method, answer in out.items():
        assert answer.startswith("error -32600: Proctor denied"), (method, answer)
        assert "outside the task's declared tools" in answer
    assert [r["method"] for r in _received(env) if r["method"] in RELAYED] == []
    assert {rec["tool"] for _, rec in _decisions(env) if rec["decision"] == "deny"} == set(RELAYED.values())


def test_resources_and_prompts_are_held_to_the_tasks_declared_resources(tmp_path: Path) -> None:
    """The resource of a relayed request (the URI; `prompt://fx/<name>` for a prompt) is checked
    against the task's `--resource` patterns."""
    env = _env(
        tmp_path, allow=["fx.*"], resources=["test://template/*", "prompt://fx/test_prompt_with_arguments"]
    )

    async def body(c: Client) -> tuple[dict[str, str], dict[str, str]]:
        inside = {m: await _do(c, m, f"in-{i}") for i, m in enumerate(RELAYED) if m != "logging/setLevel"}
        outside = {
            m: await _do(c, m, f"out-{i}", in_scope=False)
            for i, m in enumerate(RELAYED)
            if m != "logging/setLevel"
        }
        return inside, outside

    inside, outside = _run(env, body)
    assert inside == dict.fromkeys(inside, "ok")
    for method, answer in outside.items():
        assert answer.startswith("error -32600: Proctor denied"), (method, answer)
        assert "outside the task's declared resources" in answer
    assert not [r for r in _received(env) if "out-" in json.dumps(r) or "outside" in json.dumps(r)]
    assert not [
        r
        for r in _received(env)
        if r["method"] == "prompts/get" and r["params"]["name"] != "test_prompt_with_arguments"
    ]
    assert unmatched_requests(env) == []


def test_each_relayed_method_counts_against_max_calls(tmp_path: Path) -> None:
    """`--max-calls 3`: the first three relayed requests go through, the rest are denied as the
    budget is spent, and the upstream never sees them."""
    env = _env(tmp_path, allow=["fx.*"], max_calls=3)
    order = [
        "prompts/get",
        "logging/setLevel",
        "resources/read",
        "completion/complete",
        "resources/subscribe",
        "resources/unsubscribe",
    ]

    async def body(c: Client) -> list[str]:
        return [await _do(c, m, f"b-{i}") for i, m in enumerate(order)]

    answers = _run(env, body)
    assert answers[:3] == ["ok", "ok", "ok"]
    for answer in answers[3:]:
        assert answer.startswith("error -32600: Proctor denied"), answer
        assert "has used all 3 of its calls" in answer
    assert [r["method"] for r in _received(env) if r["method"] in DECIDED] == order[:3]
    assert unmatched_requests(env) == []


@pytest.mark.parametrize("audit", ["strict", "auto"])
def test_a_failing_audit_write_means_the_upstream_never_sees_a_relayed_request(
    tmp_path: Path, audit: str
) -> None:
    """With the store refusing decision records (a trigger, as a full disk would), no relayed
    request reaches the upstream, in `strict` and in `auto` alike: each is an error saying the
    audit log could not record it. Once the store takes records again, they go through."""
    env = _env(tmp_path, allow=["fx.*"], audit=audit)

    async def body(c: Client) -> tuple[dict[str, str], dict[str, str]]:
        await c.list_resources()  # the upstream session is open
        with _failing_audit(env):
            failed = await _all(c, "x")
        return failed, await _all(c, "y")

    failed, after = _run(env, body)
    for method, answer in failed.items():
        assert answer.startswith("error -32600: Proctor denied"), (method, answer)
        assert "could not record" in answer
    assert after == dict.fromkeys(RELAYED, "ok")
    seen = [r for r in _received(env) if r["method"] in RELAYED]
    assert seen
    assert not [r for r in seen if "x-" in json.dumps(r["params"])]
    assert unmatched_requests(env) == []


# ------------------------------------------------------------------------------------------------
PROPERTY_POLICY = """
@id("test.no-deny-subscriptions")
forbid (principal, action, resource == Proctor::Tool::"fx.resources.subscribe")
when { context.resource like "*deny*" };
"""


def test_no_request_reaches_an_upstream_without_a_durable_allow(tmp_path: Path) -> None:
    """Property: for random sequences of requests of every decided method, in and out of the task's
    scope, some forbidden by policy, some while the audit store fails, and past the task's budget,
    every request the upstream received matches a distinct `allow` decision (same tool, same
    correlating value) that was committed before the upstream received it."""
    env = _env(
        tmp_path,
        allow=["fx.*"],
        resources=["test://template/*", "prompt://fx/*"],
        max_calls=40,
        audit="strict",
        policy=PROPERTY_POLICY,
    )
    methods = sorted(DECIDED)
    op = st.tuples(
        st.sampled_from(methods),
        st.booleans(),  # in the task's resource scope
        st.booleans(),  # a subscription the policy forbids
        st.integers(0, 9),  # 0: the audit store fails during this request
        st.sampled_from(LEVELS),
    )
    outcomes: list[str] = []

    with start_blocking_portal() as portal:
        client = portal.wrap_async_context_manager(_client(env))
        with client as c:
            portal.call(c.list_tools)

            @settings(
                max_examples=12,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow],
            )
            @given(ops=st.lists(op, min_size=1, max_size=6))
            def run(ops: list[tuple[str, bool, bool, int, str]]) -> None:
                for method, in_scope, forbidden, fail, level in ops:
                    nonce = uuid.uuid4().hex[:12] + ("-deny" if forbidden else "")
                    request = functools.partial(_do, c, method, nonce, in_scope=in_scope, level=level)
                    if fail == 0:
                        with _failing_audit(env):
                            answer = portal.call(request)
                    else:
                        answer = portal.call(request)
                    outcomes.append(answer[:40])
                assert unmatched_requests(env) == []

            run()
    # the run covered both outcomes: requests that went through and requests denied
    assert "ok" in outcomes
    assert any(o.startswith(("error -32600", "denied")) for o in outcomes)


# ------------------------------------------------------------------------------------------------
def test_over_http_a_forbidden_resource_is_a_json_rpc_error_and_the_rest_go_through(tmp_path: Path) -> None:
    """The Streamable HTTP gateway (SDK path) relays the same way: a `forbid` matching one URI
    (`context.resource`) answers its read with -32600 naming the decision; other reads and prompts
    go through, each with an allow decision and a `call.completed` record."""
    from tests.e2e.test_gateway_http import _client as http_client
    from tests.e2e.test_gateway_http import _fixture_gateway

    policy = """
@id("test.no-static-text")
forbid (principal, action, resource == Proctor::Tool::"fx.resources.read")
when { context.resource == "test://static-text" };
"""

    async def main(gw: Any) -> tuple[str, str, str]:
        async with http_client(gw, legacy=True) as c:
            try:
                await c.read_resource("test://static-text")
                denied = "ok"
            except MCPError as exc:
                denied = f"error {exc.error.code}: {exc.error.message} {exc.error.data}"
            binary = await c.read_resource("test://static-binary")
            prompt = await c.get_prompt("fx.test_simple_prompt")
            return denied, type(binary.contents[0]).__name__, str(prompt.messages[0].content.text)  # type: ignore[union-attr]

    with _fixture_gateway(tmp_path) as gw:
        assert gw.p.policies.policy_dir is not None
        (gw.p.policies.policy_dir / "50-test.cedar").write_text(policy)
        assert gw.p.policies.reload()
        denied, binary, prompt = anyio.run(main, gw)
        gw.p.audit.flush()
        decisions = [json.loads(r.body) for r in gw.p.store.search_audit(AuditQuery(kind="decision"))]
        completed = [json.loads(r.body) for r in gw.p.store.search_audit(AuditQuery(kind="call.completed"))]
    assert denied.startswith(
        "error -32600: Proctor denied `resources/read`: forbidden by `test.no-static-text`"
    )
    assert "'decision': 'deny'" in denied
    assert binary == "BlobResourceContents"
    assert prompt == "This is a simple prompt for testing."
    assert [(d["tool"], d["decision"]) for d in decisions] == [
        ("fx.resources.read", "deny"),
        ("fx.resources.read", "allow"),
        ("fx.prompts.get", "allow"),
    ]
    assert decisions[0]["outcome"]["scope"]["resource"] == "test://static-text"
    allowed = {d["decision_id"] for d in decisions if d["decision"] == "allow"}
    assert {c["decision_id"] for c in completed} == allowed
