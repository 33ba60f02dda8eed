"""The path of a call through a real workspace: identity → task → decision → audit.

Bad input gets a clear error, a deny and an audit record, and loses nothing.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Awaitable

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.conftest import Env

from proctor.errors import JoinTokenInvalid, OwnerRequired, PolicyLoadError
from proctor.pipeline import CallInput
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus, TaskState, ToolName, Verdict


def call(env: Env, tool: str = "fs.read", args: dict[str, object] | None = None, **kw: object) -> CallInput:
    base: dict[str, object] = {"svid": env.svid, "task_token": env.task.token}
    base.update(kw)
    return CallInput(tool=tool, args={"path": "/data/a"} if args is None else args, **base)  # type: ignore[arg-type]  # test helper


def last_decision(env: Env) -> dict[str, object]:
    env.p.audit.flush()
    rows = env.p.store.search_audit(AuditQuery(kind="decision", newest_first=True, limit=1))
    assert rows, "no decision was audited"
    return dict(json.loads(rows[0].body))


def assert_denied(env: Env, c: CallInput, code: str | None = None, text: str | None = None) -> None:
    d = env.p.decide(c)
    assert d.verdict is Verdict.DENY, d
    if code is not None:
        assert code in d.errors, d.errors
    if text is not None:
        assert text in " ".join(d.reasons), d.reasons
    rec = last_decision(env)
    assert rec["decision_id"] == d.decision_id
    assert rec["decision"] == "deny"


def test_allowed_call_is_audited_before_return(env: Env) -> None:
    """An allowed call returns allow, and its record is already durable in a fresh connection."""
    d = env.p.decide(call(env))
    assert d.verdict is Verdict.ALLOW
    conn = sqlite3.connect(env.ws.root / "proctor.db")
    row = conn.execute(
        "SELECT decision FROM audit_records WHERE decision_id = ?", (d.decision_id,)
    ).fetchone()
    conn.close()
    assert row == ("allow",)


def test_malformed_tokens_are_denied_and_audited(env: Env) -> None:
    """Garbage, truncated and empty identities are denied with a token error."""
    for bad in ("", "garbage", env.svid[:-5], "a.b.c", "x" * 20000):
        assert_denied(env, call(env, svid=bad))


def test_expired_and_not_yet_valid_tokens(env: Env) -> None:
    """An SVID past its expiry, or issued in the future, is denied."""
    env.clock.advance(301)
    assert_denied(env, call(env), code="token_expired")
    env.clock.advance(-301)
    future = env.p.agents.svids.issue(env.agent, env.p.audience, env.clock.now() + 3600)
    assert_denied(env, call(env, svid=future), code="token_not_yet_valid")


def test_wrong_audience_token(env: Env) -> None:
    """An SVID minted for another audience does not work here."""
    other = env.p.agents.svids.issue(env.agent, "spiffe://acme.test/other-service", env.clock.now())
    assert_denied(env, call(env, svid=other), code="token_wrong_audience")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_and_algorithm_confusion(env: Env) -> None:
    """`alg: none`, HS256 keyed with the public key, and a foreign ES256 key are all refused."""
    claims = jwt.decode(env.svid, options={"verify_signature": False})
    header = jwt.get_unverified_header(env.svid)
    none_tok = (
        f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."
    )
    assert_denied(env, call(env, svid=none_tok))
    import hashlib
    import hmac

    jwks = env.p.agents.keys.jwks(env.clock.now())
    secret = json.dumps(jwks["keys"][0]).encode()
    h = _b64(json.dumps({"alg": "HS256", "kid": header["kid"], "typ": "JWT"}).encode())
    p = _b64(json.dumps(claims).encode())
    sig = _b64(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
    assert_denied(env, call(env, svid=f"{h}.{p}.{sig}"))
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": header["kid"]}
    )
    assert_denied(env, call(env, svid=forged))


def test_reused_join_token(env: Env) -> None:
    """A join token works once; the second redemption is refused and audited."""
    tok = env.p.agents.join_token("bot")
    assert env.p.agents.svid_from_join_token(tok)
    with pytest.raises(JoinTokenInvalid):
        env.p.agents.svid_from_join_token(tok)
    env.p.audit.flush()
    assert env.p.store.search_audit(AuditQuery(kind="identity.join_token_rejected"))


def test_suspended_agent_token(env: Env) -> None:
    """A suspended agent's still-valid SVID gets a deny (the kill switch), and resume restores it."""
    assert env.p.decide(call(env)).verdict is Verdict.ALLOW
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED, reason="test")
    assert_denied(env, call(env), code="agent_suspended")
    env.p.agents.set_status("bot", AgentStatus.ACTIVE)
    assert env.p.decide(call(env)).verdict is Verdict.ALLOW


def test_task_token_after_task_ended(env: Env) -> None:
    """Ending a task stops its token at once; so does the deadline, even with no sweeper."""
    assert env.p.decide(call(env)).verdict is Verdict.ALLOW
    env.p.tasks.end(env.task.task.id)
    assert_denied(env, call(env), code="task_not_active")
    t2 = env.p.tasks.start(agent="bot", purpose="p", allow=["fs.*"], requested_by="r@acme.test", ttl_s=60)
    env.clock.advance(61)
    fresh_svid = env.p.agents.issue_svid(env.agent)
    assert_denied(env, call(env, svid=fresh_svid, task_token=t2.token))
    assert env.p.tasks.get(t2.task.id).state is TaskState.EXPIRED


def test_task_token_of_another_agent(env: Env) -> None:
    """A task token is bound to the agent it was issued to."""
    env.p.agents.add("other", "o2@acme.test")
    other_svid = env.p.agents.issue_svid(env.p.agents.get("other"))
    assert_denied(env, call(env, svid=other_svid), code="task_token_invalid")


def test_unknown_agent_tool_task(env: Env) -> None:
    """Unknown agents, tools and tasks are denied with their own codes."""
    assert_denied(
        env, CallInput(tool="fs.read", args={}, agent="ghost", task=env.task.task.id), code="unknown_agent"
    )
    assert_denied(env, call(env, tool="fs.nope"), code="unknown_tool")
    assert_denied(
        env,
        CallInput(tool="fs.read", args={}, agent="bot", task="tsk_AAAAAAAAAAAAAAAAAAAAAA"),
        code="unknown_task",
    )


def test_lookalike_and_path_trick_tool_names(env: Env) -> None:
    """Tool names with Cyrillic look-alikes or path tricks are refused before any lookup."""
    for name in ("fs.r\u0435ad", "fs/../read", "FS.READ", "fs.read\x00"):  # \u0435: Cyrillic e
        assert_denied(env, call(env, tool=name), code="invalid_input")


def test_oversized_and_deep_arguments(env: Env) -> None:
    """Huge or deeply nested arguments are refused with a clear error."""
    deep: dict[str, object] = {}
    cur = deep
    for _ in range(100):
        nxt: dict[str, object] = {}
        cur["a"] = nxt
        cur = nxt
    assert_denied(env, call(env, args=deep), code="invalid_input", text="nested")
    assert_denied(env, call(env, args={"path": "/data/a", "blob": "x" * 300_000}), code="invalid_input")


def _nested(depth: int) -> dict[str, object]:
    deep: dict[str, object] = {}
    cur = deep
    for _ in range(depth):
        nxt: dict[str, object] = {}
        cur["a"] = nxt
        cur = nxt
    return deep


def _circular() -> dict[str, object]:
    loop: dict[str, object] = {}
    loop["self"] = loop
    return loop


@pytest.mark.parametrize(
    ("args", "text"),
    [
        pytest.param({"path": "/data/a\ud800"}, "lone surrogate", id="lone-surrogate-value"),
        pytest.param({"pa\udc00th": "/data/a"}, "lone surrogate", id="lone-surrogate-key"),
        pytest.param({1: "a", "path": "/data/a"}, "keys must be strings", id="non-string-key"),
        pytest.param(_nested(5000), "nested", id="beyond-the-recursion-limit"),
        pytest.param(_circular(), "nested", id="circular"),
    ],
)
@pytest.mark.parametrize("log_arguments", [False, True])
def test_arguments_json_cannot_carry_are_denied_and_audited(
    env: Env, args: dict[object, object], text: str, log_arguments: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arguments a JSON parser can hand over (a ``\\ud800`` escape) or a Python caller can build,
    but that cannot be serialised as UTF-8 JSON, are an audited deny: building the record of that
    deny must not fail too (it used to raise out of the pipeline)."""

    if log_arguments:
        monkeypatch.setattr(env.p.pipeline, "log_arguments", True)
    assert_denied(env, call(env, args=args), code="invalid_input", text=text)  # type: ignore[arg-type]  # keys on purpose
    rec = last_decision(env)
    if log_arguments:  # as exact JSON text where there is one, else a marker: never the raw value
        logged = rec["args"]
        assert logged == "<arguments not representable as JSON>" or (
            isinstance(logged, dict) and set(logged) == {"json"}
        ), logged
    else:
        assert "args" not in rec


def test_the_async_paths_deny_and_audit_unserialisable_arguments(env: Env) -> None:
    import asyncio

    async def main() -> list[Verdict]:
        bad = call(env, args={"path": "/data/\ud800"})
        d1 = await env.p.pipeline.decide_call_async(bad)
        d2, recorded = env.p.pipeline.decide_and_record(bad)
        d3 = await recorded
        for d in (d1, d3):
            assert env.p.store.get_audit_by_decision(d.decision_id), d
        return [d1.verdict, d2.verdict, d3.verdict]

    assert asyncio.run(main()) == [Verdict.DENY] * 3


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        pytest.param({"tool": 10**5000}, ["invalid_input"], id="tool-whose-str-raises"),
        pytest.param({"tool": _Unprintable()}, ["invalid_input"], id="tool-object-whose-str-raises"),
        pytest.param(
            {"svid": _b64(b'{"alg":"\\ud800"}') + "." + _b64(b"{}") + "." + _b64(b"s")},
            ["audit_record_invalid"],
            id="input-quoted-in-a-reason",
        ),
        pytest.param({"source": object()}, ["audit_record_invalid"], id="field-json-cannot-hold"),
        pytest.param({"args": {"path": "/data/a", "n": float("nan")}}, ["invalid_input"], id="nan-argument"),
    ],
)
def test_every_hostile_call_ends_as_an_audited_deny(
    env: Env, fields: dict[str, object], codes: list[str]
) -> None:
    """Whatever a caller puts in a call, the pipeline returns a deny whose record is in the log:
    no exception escapes, and a record that cannot be canonical JSON as built is replaced by a
    plain record of the deny (error code ``audit_record_invalid``)."""
    import asyncio

    c = call(env, **fields)  # type: ignore[arg-type]  # hostile values on purpose
    sync = env.p.decide(c)
    asynchronous = asyncio.run(env.p.pipeline.decide_call_async(c))
    for d in (sync, asynchronous):
        assert d.verdict is Verdict.DENY, d
        assert env.p.store.get_audit_by_decision(d.decision_id), d
        for code in codes:
            assert code in d.errors, d.errors


def test_a_store_that_fails_at_the_start_is_a_deny_that_names_no_detail(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proctor.errors import StoreUnavailable

    def down() -> None:
        raise StoreUnavailable("cannot reach PostgreSQL at db.internal:5432/proctor: refused")

    monkeypatch.setattr(env.p.state, "snapshot", down)
    d = env.p.decide(call(env))
    assert d.verdict is Verdict.DENY
    assert d.errors == ("store_unavailable",)
    assert "db.internal" not in " ".join(d.reasons)


def test_arguments_canonical_json_cannot_hold_are_still_logged_exactly(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``audit.log_arguments``, an allowed call whose arguments include an integer beyond
    ±2**53 is logged with its exact JSON text: adding such a value cannot hide the others."""

    monkeypatch.setattr(env.p.pipeline, "log_arguments", True)
    d = env.p.decide(call(env, args={"path": "/data/a", "pad": 2**53 + 1}))
    assert d.verdict is Verdict.ALLOW
    assert last_decision(env)["args"] == {"json": '{"pad":9007199254740993,"path":"/data/a"}'}
    env.p.decide(call(env, args={"path": "/data/a"}))
    assert last_decision(env)["args"] == {"path": "/data/a"}


def test_owner_is_required(env: Env) -> None:
    """Registering an agent without an owner is refused."""
    with pytest.raises(OwnerRequired):
        env.p.agents.add("nobody", None)


def test_budget_is_enforced(env: Env) -> None:
    """--max-calls caps the calls a task may make."""
    t = env.p.tasks.start(agent="bot", purpose="p", allow=["fs.*"], requested_by="r@acme.test", max_calls=2)
    c = call(env, task_token=t.token)
    assert env.p.decide(c).verdict is Verdict.ALLOW
    assert env.p.decide(c).verdict is Verdict.ALLOW
    assert_denied(env, c, code="task_budget_exhausted")


def test_invalid_policy_reload_keeps_last_good(env: Env) -> None:
    """A broken policy file is refused and audited; the previous set keeps serving."""
    before = env.p.policies.engine.version
    (env.ws.policies_dir / "99-broken.cedar").write_text("permit(principal, action resource);\n")
    with pytest.raises(PolicyLoadError, match=r"99-broken\.cedar:1"):
        env.p.policies.reload()
    assert env.p.policies.engine.version == before
    assert env.p.decide(call(env)).verdict is Verdict.ALLOW
    env.p.audit.flush()
    assert env.p.store.search_audit(AuditQuery(kind="policy.rejected"))


def test_policy_change_flips_cached_decision(env: Env) -> None:
    """A policy edit applies to the very next call, even one that was cached."""
    assert env.p.decide(call(env)).verdict is Verdict.ALLOW
    assert env.p.decide(call(env)).cached
    (env.ws.policies_dir / "05-no-data.cedar").write_text(
        '@id("t.no-data")\nforbid(principal, action == Proctor::Action::"read", resource)\nwhen { context.resource like "/data/*" };\n'
    )
    assert env.p.policies.reload()
    assert_denied(env, call(env), text="t.no-data")


def test_store_full_gives_deny_and_keeps_what_was_written(env: Env) -> None:
    """When the database is full, the call is denied (not acknowledged) and earlier records survive."""
    first = env.p.decide(call(env))
    assert first.verdict is Verdict.ALLOW
    env.p.audit.flush()
    store = env.p.store
    writer = store._writer  # type: ignore[attr-defined]  # the SQLite engine's writer connection
    pages = writer.execute("PRAGMA page_count").fetchone()[0]
    writer.execute(f"PRAGMA max_page_count = {pages}")
    for _ in range(50):  # the last page may still hold a record or two
        d = env.p.decide(call(env, args={"path": "/data/" + "z" * 20000}))
        assert d.verdict is Verdict.DENY
        if d.errors:
            break
    assert any(e.startswith("store") for e in d.errors), d.errors
    writer.execute("PRAGMA max_page_count = 1073741823")
    assert env.p.verify_audit().ok
    assert store.get_audit_by_decision(first.decision_id)


def test_every_state_change_is_audited(env: Env) -> None:
    """Agent registration, SVID issue, task start and end, and policy activation are all recorded."""
    env.p.tasks.end(env.task.task.id)
    env.p.audit.flush()
    kinds = {r.kind for r in env.p.store.search_audit(AuditQuery(limit=1000))}
    assert {
        "agent.registered",
        "identity.svid_issued",
        "task.started",
        "task.ended",
        "policy.activated",
        "tool.registered",
    } <= kinds
    assert env.p.verify_audit().ok


def test_async_pipeline_records_before_answering(env: Env) -> None:
    """The asyncio path (used by the HTTP API) decides the same way and audits before returning."""
    import asyncio

    async def main() -> list[Verdict]:
        calls = [call(env), call(env, tool="fs.nope"), call(env, args={"path": "/etc/x"})]
        ds = await asyncio.gather(*(env.p.pipeline.decide_call_async(c) for c in calls))
        for d in ds:
            assert env.p.store.get_audit_by_decision(d.decision_id), d
        return [d.verdict for d in ds]

    assert asyncio.run(main()) == [Verdict.ALLOW, Verdict.DENY, Verdict.DENY]


def test_policy_watcher_swaps_and_refuses(env: Env) -> None:
    """The background watcher activates an edited policy set and refuses a broken one, keeping
    the last good set serving; calls keep flowing between and during the swaps."""
    import threading

    from proctor.policy.engine import PolicyWatcher

    changed: list[str] = []
    rejected: list[str] = []
    w = PolicyWatcher(
        env.p.policies.engine,
        env.ws.policies_dir,
        on_change=lambda ps: changed.append(ps.version),
        on_reject=lambda exc: rejected.append(exc.message),
    )
    assert not w.check_once()
    stop = threading.Event()
    verdicts: list[Verdict] = []

    def traffic() -> None:
        while not stop.is_set():
            verdicts.append(
                env.p.policies.engine.decide(
                    env.agent, env.task.task, env.p.tools.get("fs.read"), {"path": "/data/a"}, env.clock.now()
                ).verdict
            )

    t = threading.Thread(target=traffic)
    t.start()
    try:
        (env.ws.policies_dir / "05-no-data.cedar").write_text(
            '@id("t.no-data")\nforbid(principal, action, resource is Proctor::Tool) when { context.resource like "/data/*" };\n'
        )
        assert w.check_once()
        (env.ws.policies_dir / "06-broken.cedar").write_text("forbid(principal, action resource);\n")
        assert not w.check_once()
    finally:
        stop.set()
        t.join()
    assert len(changed) == 1
    assert env.p.policies.engine.version == changed[0]
    assert rejected
    assert "06-broken.cedar:1" in rejected[0]
    assert verdicts
    assert set(verdicts) <= {Verdict.ALLOW, Verdict.DENY}
    final = env.p.policies.engine.decide(
        env.agent, env.task.task, env.p.tools.get("fs.read"), {"path": "/data/a"}, env.clock.now()
    )
    assert final.verdict is Verdict.DENY
    assert "t.no-data" in final.policies


def _reference_check(args: object) -> str:
    """What check_args decides, written the slow and obvious way: the error's gist, or "ok"."""
    import math

    def depth(v: object) -> int:
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        return 1

    def walk(v: object) -> str | None:
        if isinstance(v, float) and not math.isfinite(v):
            return "NaN"
        if isinstance(v, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in v):
            return "surrogate"
        if isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    return "keys"
                if (bad := walk(k) or walk(x)) is not None:
                    return bad
        if isinstance(v, list):
            for x in v:
                if (bad := walk(x)) is not None:
                    return bad
        return None

    if depth(args) > 32:
        return "nested"
    return walk(args) or "ok"


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
_json_like = st.recursive(
    _json_leaf,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
    max_leaves=40,
)


def _deep(n: int, leaf: object) -> object:
    v = leaf
    for i in range(n):
        v = {"k": v} if i % 2 else [v]
    return v


@settings(max_examples=300, deadline=None)
@given(
    inner=_json_like,
    depth=st.integers(min_value=0, max_value=40),
    brackets=st.sampled_from(["", "{{{{[[[[", "{" * 40]),
)
def test_check_args_agrees_with_a_plain_reference(inner: object, depth: int, brackets: str) -> None:
    """check_args serialises once and walks the structure only when its JSON has enough brackets
    to be too deep; it must decide exactly as a plain walk of the value does, and the digest of
    the record must be the digest of the arguments' canonical text (brackets inside strings, which
    only add to the count, are drawn too)."""
    import hashlib

    from proctor.errors import ValidationError
    from proctor.pipeline import args_digest, check_args

    args = {"a": _deep(depth, inner), "s": brackets}
    want = _reference_check(args)
    try:
        check_args(args)
        got = "ok"
    except ValidationError as exc:
        got = next(k for k in ("nested", "NaN", "surrogate", "keys") if k.lower() in exc.message.lower())
    assert got == want, (args, got)
    if got == "ok":
        text = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert args_digest(args) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        assert args_digest(dict(args)) == args_digest(args)  # a copy (no cached text) hashes alike


def test_a_deep_mapping_that_is_not_a_dict_is_walked_too() -> None:
    """In-process callers may pass any Mapping. One that is not a dict used to be written as its
    ``str()`` (no brackets), so the bracket count let a structure 42 levels deep through."""
    from collections.abc import Iterator, Mapping

    from proctor.errors import ValidationError
    from proctor.pipeline import check_args

    class Frozen(Mapping[str, object]):
        def __init__(self, inner: dict[str, object]) -> None:
            self._d = inner

        def __getitem__(self, k: str) -> object:
            return self._d[k]

        def __iter__(self) -> Iterator[str]:
            return iter(self._d)

        def __len__(self) -> int:
            return len(self._d)

        def __str__(self) -> str:
            return "frozen"

    deep: object = "leaf"
    for _ in range(41):
        deep = Frozen({"k": deep})
    with pytest.raises(ValidationError, match="nested deeper"):
        check_args({"a": deep})
    shallow = Frozen({"k": Frozen({"k": 1})})
    assert check_args({"a": shallow}) == {"a": shallow}


def test_a_refused_check_leaves_no_earlier_text_for_the_digest() -> None:
    """The digest of a refused call is of its arguments as they are, never of the text an earlier
    check made of the same (since changed) dict."""
    import hashlib

    from proctor.errors import ValidationError
    from proctor.pipeline import args_digest, check_args

    d: dict[str, object] = {"n": 1}
    check_args(d)
    d["n"] = float("nan")
    with pytest.raises(ValidationError, match="NaN"):
        check_args(d)
    assert args_digest(d) == "sha256:" + hashlib.sha256(b'{"n":NaN}').hexdigest()


def test_a_failing_on_blocked_hint_never_fails_the_record(env: Env) -> None:
    """``on_blocked`` only tells a transport how long an inline commit held its loop; should it
    raise, the record task still resolves to the durable decision."""
    import asyncio

    def boom(_spent: float) -> None:
        raise RuntimeError("cannot reschedule")

    async def main() -> tuple[Verdict, Verdict]:
        decided, recorded = env.p.pipeline.decide_and_record(call(env), alone=True, on_blocked=boom)
        return decided.verdict, (await recorded).verdict

    assert asyncio.run(main()) == (Verdict.ALLOW, Verdict.ALLOW)
    assert last_decision(env)["decision"] == "allow"


# identity checked once per call ------------------------------------------------------------
def _identity_call(env: Env, token: str, until: float, snap: object) -> CallInput:
    from proctor.pipeline import Identity

    return call(
        env,
        svid=None,
        agent="bot",
        task_token=token,
        identity=Identity(env.agent, env.task.task.id, snap, until),  # type: ignore[arg-type]  # a Snapshot
    )


def test_an_identity_the_transport_checked_on_the_calls_snapshot_is_not_checked_again(env: Env) -> None:
    """A transport that verified this request's task token on the call's snapshot hands that over:
    the pipeline does not verify the token a second time (a token it could not verify shows it)."""
    snap = env.p.state.snapshot()
    c = _identity_call(env, "not-a-token", env.clock.now() + 60, snap)
    import asyncio

    d = asyncio.run(env.p.pipeline.decide_call_async(c, snap=snap))
    assert d.verdict is Verdict.ALLOW, d
    assert last_decision(env)["agent"] == "bot"


def test_an_identity_from_another_snapshot_or_past_its_token_is_checked_again(env: Env) -> None:
    """What the transport checked stands only on the snapshot it checked it on, and the token only
    until it expires: otherwise the pipeline checks the call's own token (and finds it bad)."""
    import asyncio

    old = env.p.state.snapshot()
    env.p.agents.add("other-bot", "owner@acme.test")  # a store change: a new snapshot
    snap = env.p.state.snapshot()
    assert snap is not old
    d = asyncio.run(
        env.p.pipeline.decide_call_async(_identity_call(env, "bad", env.clock.now() + 60, old), snap=snap)
    )
    assert d.verdict is Verdict.DENY, d
    assert "task_token_invalid" in d.errors, d
    d = asyncio.run(
        env.p.pipeline.decide_call_async(_identity_call(env, "bad", env.clock.now(), snap), snap=snap)
    )
    assert d.verdict is Verdict.DENY, d
    assert "task_token_invalid" in d.errors, d
    good = _identity_call(env, env.task.token, 0.0, snap)  # token not checked by the transport
    assert asyncio.run(env.p.pipeline.decide_call_async(good, snap=snap)).verdict is Verdict.ALLOW


def test_an_identity_handed_over_does_not_pass_the_kill_switch(env: Env) -> None:
    """The kill switch is the pipeline's own check: a suspension enforced from the kill file (the
    store could not record it) denies a call whose identity the transport checked."""
    import asyncio

    from proctor.killswitch import PendingKill

    snap = env.p.state.snapshot()
    env.p.kills.add(PendingKill("agent", "bot", env.clock.now(), "cli", "", "store_unavailable", ""))
    c = _identity_call(env, env.task.token, env.clock.now() + 60, snap)
    d = asyncio.run(env.p.pipeline.decide_call_async(c, snap=snap))
    assert d.verdict is Verdict.DENY, d
    assert "agent_suspended" in d.errors, d


# every stage of one call ---------------------------------------------------------------------
def test_run_hands_an_allowed_call_off_and_answers_a_denied_one(env: Env) -> None:
    """``Pipeline.run`` decides and records the call, then hands an allow to the transport's
    credential and upstream stages, and answers anything else with its refusal."""
    import asyncio

    from proctor.policy.engine import Decision

    seen: list[tuple[str, str]] = []

    class Upstream:
        async def forward(self, decision: Decision, recorded: Awaitable[Decision] | None) -> str:
            assert recorded is None  # durable before the hand-off
            seen.append(("forward", str(decision.decision_id)))
            return "result"

        def refuse(self, decision: Decision) -> str:
            seen.append(("refuse", str(decision.decision_id)))
            return "refused"

    assert asyncio.run(env.p.pipeline.run(call(env), Upstream())) == "result"
    assert seen[-1][0] == "forward"
    assert last_decision(env)["decision_id"] == seen[-1][1]
    assert asyncio.run(env.p.pipeline.run(call(env, tool="prod.deploy"), Upstream())) == "refused"
    assert seen[-1][0] == "refuse"
    assert last_decision(env)["decision_id"] == seen[-1][1]


def test_run_can_overlap_an_allowed_calls_record_with_the_hand_off(env: Env) -> None:
    """``Pipeline.run(overlap=True)`` (the gateway's fast path) hands an allow off while its record
    is being written, with what resolves once it is durable; anything else is refused only once its
    record is durable."""
    import asyncio

    from proctor.policy.engine import Decision

    seen: list[tuple[str, str, Verdict | None]] = []

    class Upstream:
        async def forward(self, decision: Decision, recorded: Awaitable[Decision] | None) -> str:
            assert recorded is not None
            durable = await recorded
            assert last_decision(env)["decision_id"] == str(decision.decision_id)
            seen.append(("forward", str(decision.decision_id), durable.verdict))
            return "result"

        def refuse(self, decision: Decision) -> str:
            assert last_decision(env)["decision_id"] == str(decision.decision_id)  # durable already
            seen.append(("refuse", str(decision.decision_id), None))
            return "refused"

    async def both() -> tuple[str, str]:
        ok = await env.p.pipeline.run(call(env), Upstream(), overlap=True)
        no = await env.p.pipeline.run(call(env, tool="prod.deploy"), Upstream(), overlap=True)
        return ok, no

    assert asyncio.run(both()) == ("result", "refused")
    assert [(s[0], s[2]) for s in seen] == [("forward", Verdict.ALLOW), ("refuse", None)]


def test_the_http_gateway_checks_a_calls_task_token_once(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """On one HTTP gateway request, the task token is verified once: by the transport when it
    checks the request's credentials (then handed over), else by the pipeline; it used to be both."""
    import asyncio

    from proctor.gateway.http import GatewayAuth

    url = "http://127.0.0.1:9/mcp"
    auth = GatewayAuth(None, env.p, url, "http://127.0.0.1:9")  # type: ignore[arg-type]  # no app behind
    svid = env.p.agents.issue_svid(env.agent, url)
    headers = {"authorization": f"Bearer {svid}", "proctor-task": env.task.token}
    keys = env.p.agents.keys
    real = keys.verify_claims
    seen: list[str] = []

    def counted(token: str, audience: str, now: float) -> dict[str, object]:
        if audience == "proctor:task":
            seen.append(token)
        return real(token, audience, now)

    monkeypatch.setattr(keys, "verify_claims", counted)

    def request() -> Verdict:
        snap = env.p.state.snapshot()
        caller = auth._caller(headers, snap)
        # as the gateway does before deciding: the snapshot holds what the call reads
        env.p.state.task(caller.task_id, snap)
        env.p.state.tool(ToolName("fs.read"), snap)
        c = CallInput(
            tool="fs.read",
            args={"path": "/data/a"},
            agent=str(caller.agent),
            task_token=caller.task_token,
            source="mcp",
            identity=caller.identity,
        )
        return asyncio.run(env.p.pipeline.decide_call_async(c, snap=snap)).verdict

    assert request() is Verdict.ALLOW  # credentials checked by the transport (not remembered yet)
    assert len(seen) == 1
    assert request() is Verdict.ALLOW  # remembered by the transport: the pipeline checks the token
    assert len(seen) == 2
    env.p.agents.add("other-bot", "owner@acme.test")  # another snapshot: still once per call
    assert request() is Verdict.ALLOW
    assert len(seen) == 3
