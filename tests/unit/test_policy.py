"""The policy loader and the decision point: Cedar plus the task's scope, cached safely."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import cedarpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.flow_harness import NOW, agent, starter_dir
from tests.unit.flow_harness import policy_task as task

from proctor.errors import PolicyLoadError
from proctor.flow.model import NO_FACTS
from proctor.policy.engine import PolicyEngine, entities_json
from proctor.policy.loader import PolicySet, compile_policies, load_policy_dir, split_statements
from proctor.store.base import ToolRecord
from proctor.types import AgentStatus, TaskState, ToolName, Verdict

#: re-exported for the tests that import them from here
__all__ = ["NOW", "agent", "starter_dir", "task", "tool"]


def tool(name: str = "fs.read", effect: str = "read", **kw: object) -> ToolRecord:
    return ToolRecord(ToolName(name), effect, resource_arg="path", **kw)  # type: ignore[arg-type]  # kw are ToolRecord flags


def test_starter_policies_validate(tmp_path: Path) -> None:
    """The shipped starter library passes schema validation and has stable ids."""
    ps = load_policy_dir(starter_dir(tmp_path))
    assert "baseline.read" in ps.sources
    assert ps.approval_of("approval.payments") == "owner"
    assert ps.version.startswith("sha256:")
    assert {"read", "write", "execute", "send", "pay", "deploy"} <= ps.actions


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    """A syntax error is reported with the file and the line of the statement."""
    d = starter_dir(tmp_path)
    (d / "50-bad.cedar").write_text(
        "// comment\n\npermit(principal, action, resource);\n\npermit(principal action, resource);\n"
    )
    with pytest.raises(PolicyLoadError, match=r"50-bad\.cedar:5"):
        load_policy_dir(d)


def test_schema_error_names_file_and_line(tmp_path: Path) -> None:
    """A policy that reads an attribute the schema lacks is refused at its file:line."""
    d = starter_dir(tmp_path)
    (d / "50-bad.cedar").write_text(
        '\n\n\npermit(principal, action == Proctor::Action::"read", resource)\nwhen { principal.nope };\n'
    )
    with pytest.raises(PolicyLoadError, match=r"50-bad\.cedar:4: .*nope"):
        load_policy_dir(d)


def test_duplicate_ids_and_missing_schema(tmp_path: Path) -> None:
    """Two policies with one @id, or a directory without the schema, are refused."""
    d = starter_dir(tmp_path)
    (d / "50-dup.cedar").write_text('@id("baseline.read")\npermit(principal, action, resource);\n')
    with pytest.raises(PolicyLoadError, match=r"already used at 00-baseline\.cedar"):
        load_policy_dir(d)
    (d / "50-dup.cedar").unlink()
    (d / "schema.cedarschema").unlink()
    with pytest.raises(PolicyLoadError, match="schema"):
        load_policy_dir(d)


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        (
            "deep.cedar",
            lambda p: p.write_text(
                f"permit(principal, action, resource) when {{ {'(' * 1000}true{')' * 1000} }};"
            ),
            "nested",
        ),
        (
            "long.cedar",
            lambda p: p.write_text(
                f"permit(principal, action, resource) when {{ {' && '.join(['true'] * 20_000)} }};"
            ),
            "longer than",
        ),
        ("fifo.cedar", os.mkfifo, "not a regular file"),
        ("zero.cedar", lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
        ("schema.cedarschema", lambda p: p.write_bytes(p.read_bytes() + b"\xff\xfe"), "not UTF-8"),
        (
            "schema.cedarschema",
            lambda p: p.write_text(
                "namespace Proctor { " + "type T = {a: " * 100 + "Long" + "};" * 100 + " }"
            ),
            "nested",
        ),
        (
            "late.cedar",
            lambda p: p.write_text(f"permit(principal, action, resource) when {{ {'1 + ' * 3000}1 == 2 }};"),
            "too deeply built",
        ),
        (
            # read by Cedar and by ``json``, then too deep for the rewrite (a RecursionError)
            "and-300.cedar",
            lambda p: p.write_text(
                f"permit(principal, action, resource) when {{ {' && '.join(['true'] * 300)} }};"
            ),
            "too deeply built",
        ),
    ],
    ids=[
        "nested-1000",
        "and-20000",
        "fifo",
        "dev-zero",
        "schema-not-utf8",
        "schema-nested",
        "plus-3000",
        "and-300",
    ],
)
def test_policy_files_that_would_crash_or_hang_are_refused(
    tmp_path: Path, name: str, make: Callable[[Path], object], says: str
) -> None:
    """Cedar's parser recurses on the thread's stack: a 2 KB file of nested parentheses, or a
    statement of 20,000 `&&` terms, killed the process (SIGSEGV); a FIFO named `x.cedar` blocked
    the loader (and the watcher) for ever; `/dev/zero` was read without end. Each is a clear
    PolicyLoadError now, so the last good set keeps serving."""
    d = starter_dir(tmp_path)
    make(d / name)
    with pytest.raises(PolicyLoadError, match=says):
        load_policy_dir(d)


def test_split_statements_respects_strings_and_comments() -> None:
    """A `;` inside a string or a comment does not end a statement."""
    text = 'permit(principal, action, resource) when { context.resource == "a;b" };\n// ; x\nforbid(principal, action, resource);'
    parts = split_statements(text)
    assert [ln for ln, _ in parts] == [1, 3]


def test_task_scope_narrows_policy(tmp_path: Path) -> None:
    """Policy allows every read, but a call outside the task's tools or resources is denied."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    ok = eng.decide(agent(), task(("fs.*",), ("/data/*",)), tool(), {"path": "/data/a"}, NOW)
    assert ok.verdict is Verdict.ALLOW
    out_tool = eng.decide(agent(), task(("crm.*",)), tool(), {"path": "/data/a"}, NOW)
    assert out_tool.verdict is Verdict.DENY
    assert "outside the task's declared tools" in out_tool.reasons[0]
    out_res = eng.decide(agent(), task(("fs.*",), ("/data/*",)), tool(), {"path": "/etc/passwd"}, NOW)
    assert out_res.verdict is Verdict.DENY
    assert out_res.policies == ("baseline.read",)
    trav = eng.decide(agent(), task(("fs.*",), ("/data/*",)), tool(), {"path": "/data/../etc/passwd"}, NOW)
    assert trav.verdict is Verdict.DENY
    assert "`..`" in trav.reasons[0]
    missing = eng.decide(agent(), task(("fs.*",), ("/data/*",)), tool(), {}, NOW)
    assert missing.verdict is Verdict.DENY


def test_approval_required_from_annotation(tmp_path: Path) -> None:
    """A permit annotated @approval turns an allow into approval_required, naming who approves."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    pay = ToolRecord(ToolName("payments.transfer"), "pay", financial=True)
    d = eng.decide(agent(), task(), pay, {}, NOW)
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval == "owner"
    assert d.policies == ("approval.payments",)


def test_default_deny_and_forbid(tmp_path: Path) -> None:
    """No permit means deny; a forbid beats every permit."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    deploy_untagged = ToolRecord(ToolName("x.exec"), "execute", production=True)
    d = eng.decide(agent(), task(), deploy_untagged, {}, NOW)
    assert d.verdict is Verdict.DENY
    assert "default deny" in d.reasons[0]
    drop = ToolRecord(ToolName("db.drop"), "write", destructive=True, production=True)
    d2 = eng.decide(agent(), task(), drop, {}, NOW)
    assert d2.verdict is Verdict.DENY
    assert "guard.destructive-production" in d2.policies


def test_cache_never_serves_a_stale_allow(tmp_path: Path) -> None:
    """Warm decisions are cached, but suspending the agent, ending the task or changing policy
    flips the very same call to deny at once."""
    d = starter_dir(tmp_path)
    eng = PolicyEngine(load_policy_dir(d))
    a, t, tl, args = agent(), task(("fs.*",)), tool(), {"path": "/data/a"}
    assert eng.decide(a, t, tl, args, NOW).verdict is Verdict.ALLOW
    warm = eng.decide(a, t, tl, args, NOW)
    assert warm.cached
    assert warm.verdict is Verdict.ALLOW
    assert eng.decide(agent(AgentStatus.SUSPENDED, 2), t, tl, args, NOW).verdict is Verdict.DENY
    assert (
        eng.decide(a, task(("fs.*",), state=TaskState.COMPLETED, version=2), tl, args, NOW).verdict
        is Verdict.DENY
    )
    assert eng.decide(a, t, tl, args, NOW + 601).verdict is Verdict.DENY  # past the deadline
    (d / "00-baseline.cedar").write_text("// reads withdrawn\n")
    assert eng.swap(load_policy_dir(d))
    after = eng.decide(a, t, tl, args, NOW)
    assert after.verdict is Verdict.DENY
    assert not after.cached


def test_evaluation_error_is_a_deny(tmp_path: Path) -> None:
    """Cedar skips a policy that errors; Proctor turns any evaluation error into a deny."""
    d = starter_dir(tmp_path)
    files = {p.name: p.read_text() for p in d.glob("*.cedar")}
    # passes validation, overflows at run time: Cedar would skip this forbid
    files["60-err.cedar"] = (
        '@id("err.forbid")\nforbid(principal, action, resource is Proctor::Tool)'
        " when { 9223372036854775807 + (if context.in_scope then 1 else 0) > 0 };\n"
    )
    eng = PolicyEngine(compile_policies(files, (d / "schema.cedarschema").read_text()))
    dec = eng.decide(agent(), task(), tool(), {"path": "not-a-number"}, NOW)
    assert dec.verdict is Verdict.DENY
    assert dec.errors


def test_unexpected_exception_is_a_deny(tmp_path: Path) -> None:
    """An exception inside the decision point (a broken record) is a deny, not a crash or an allow."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    broken = ToolRecord(ToolName("fs.read"), "read", resource_arg="path", resource_pattern=None)  # type: ignore[arg-type]  # deliberately broken
    d = eng.decide(agent(), task(), broken, {"path": "/x"}, NOW)
    assert d.verdict is Verdict.DENY
    assert d.errors


_EFFECTS = st.sampled_from(["read", "write", "execute", "send", "pay", "deploy"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    effect=_EFFECTS,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    status=st.sampled_from(list(AgentStatus)),
    sensitivity=st.sampled_from(["public", "internal", "confidential", "secret"]),
)
def test_decide_agrees_with_raw_cedar(
    tmp_path: Path, effect: str, flags: tuple[bool, bool, bool, bool], status: AgentStatus, sensitivity: str
) -> None:
    """Differential: Proctor's Cedar verdict (with scope always satisfied) equals a direct
    ``cedarpy.is_authorized`` call on the same policies and entities: our entity-building is what
    could be wrong."""
    if not (tmp_path / "policies").exists():
        starter_dir(tmp_path)
    ps = load_policy_dir(tmp_path / "policies")
    eng = PolicyEngine(ps, cache=False)
    destructive, financial, customer, production = flags
    tl = ToolRecord(
        ToolName("x.op"),
        effect,
        sensitivity=sensitivity,
        destructive=destructive,
        financial=financial,
        customer_facing=customer,
        production=production,
    )
    a, t = agent(status), task()
    ours = eng.decide(a, t, tl, {}, NOW)
    text = "\n".join((tmp_path / "policies" / f).read_text() for f in sorted(ps.files))
    raw = cedarpy.is_authorized(
        {
            "principal": {"type": "Proctor::Agent", "id": "bot"},
            "action": {"type": "Proctor::Action", "id": effect},
            "resource": {"type": "Proctor::Tool", "id": "x.op"},
            "context": {
                "task": {"__entity": {"type": "Proctor::Task", "id": t.id}},
                "resource": "",
                "in_scope": True,
                # the flow context a call with no flow facts carries (the starter reads it)
                **NO_FACTS.context(),
            },
        },
        text,
        json.dumps(entities_json(a, t, tl)),
    )
    if status is AgentStatus.SUSPENDED:
        assert ours.verdict is Verdict.DENY
    elif raw.allowed:
        assert ours.verdict in (Verdict.ALLOW, Verdict.APPROVAL_REQUIRED)
    else:
        assert ours.verdict is Verdict.DENY


def test_a_task_with_resources_denies_a_tool_whose_resource_is_unknown(tmp_path: Path) -> None:
    """`--resource` is never skipped: in a task that declares resources, a tool nobody described
    (no resource argument) is denied with how to describe it; a tool described as touching no
    resource (`-`) is allowed; a task without resources is unchanged."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    undescribed = ToolRecord(ToolName("git.git_show"), "read")
    scoped = task(("git.*",), ("/srv/repo-a*",))
    d = eng.decide(agent(), scoped, undescribed, {"repo_path": "/srv/repo-b"}, NOW)
    assert d.verdict is Verdict.DENY
    assert "--resource-arg" in d.reasons[0]
    assert eng.decide(agent(), task(("git.*",)), undescribed, {}, NOW).verdict is Verdict.ALLOW
    clock = ToolRecord(ToolName("git.clock"), "read", resource_arg="-")
    assert eng.decide(agent(), scoped, clock, {}, NOW).verdict is Verdict.ALLOW
    show = ToolRecord(ToolName("git.git_show"), "read", resource_arg="repo_path")
    assert eng.decide(agent(), scoped, show, {"repo_path": "/srv/repo-b"}, NOW).verdict is Verdict.DENY
    assert eng.decide(agent(), scoped, show, {"repo_path": "/srv/repo-a"}, NOW).verdict is Verdict.ALLOW


def test_every_resource_of_a_call_is_checked(tmp_path: Path) -> None:
    """A tool with several resource arguments (`source,destination`) or a list (`paths[]`) is in
    scope only when every resource it names is."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    scoped = task(("fs.*",), ("/data/*",))
    move = ToolRecord(ToolName("fs.move_file"), "read", resource_arg="source,destination")
    ok = {"source": "/data/a", "destination": "/data/b"}
    assert eng.decide(agent(), scoped, move, ok, NOW).verdict is Verdict.ALLOW
    out = eng.decide(agent(), scoped, move, {"source": "/data/a", "destination": "/etc/cron.d/x"}, NOW)
    assert out.verdict is Verdict.DENY
    assert "/etc/cron.d/x" in out.reasons[0]
    assert eng.decide(agent(), scoped, move, {"source": "/data/a"}, NOW).verdict is Verdict.DENY
    many = ToolRecord(ToolName("fs.read_multiple_files"), "read", resource_arg="paths[]")
    assert eng.decide(agent(), scoped, many, {"paths": ["/data/a", "/data/b"]}, NOW).verdict is Verdict.ALLOW
    for bad in (["/data/a", "/home/x"], [], "/data/a", ["/data/a", 3.5], None):
        assert eng.decide(agent(), scoped, many, {"paths": bad}, NOW).verdict is Verdict.DENY, bad


@given(
    st.lists(
        st.sampled_from(["/data/a", "/data/b/c", "/etc/x", "/data", "/data/../x", "relative"]), max_size=6
    )
)
@settings(max_examples=60, deadline=None)
def test_a_list_resource_is_allowed_exactly_when_every_element_is_in_scope(paths: list[str]) -> None:
    """Property: `paths[]` under `--resource /data/*` is allowed iff the list is non-empty and every
    element matches the pattern without a `..` segment."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        eng = PolicyEngine(load_policy_dir(starter_dir(Path(d))))
    many = ToolRecord(ToolName("fs.read_multiple_files"), "read", resource_arg="paths[]")
    verdict = eng.decide(agent(), task(("fs.*",), ("/data/*",)), many, {"paths": paths}, NOW).verdict
    expected = bool(paths) and all(p.startswith("/data/") and ".." not in p.split("/") for p in paths)
    assert (verdict is Verdict.ALLOW) == expected


def test_swap_between_reading_the_set_and_its_cache_never_caches_the_old_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision that started on the old set while another thread swapped in a new one must not
    leave its (old) outcome in the NEW set's cache: the next identical call would be served the
    old allow, stamped with the new version."""
    import proctor.policy.engine as engine_mod

    d = starter_dir(tmp_path)
    eng = PolicyEngine(load_policy_dir(d))
    a, t, tl, args = agent(), task(("fs.*",)), tool(), {"path": "/data/a"}
    (d / "00-baseline.cedar").write_text("// reads withdrawn\n")
    new = load_policy_dir(d)
    real = engine_mod.resources_of  # type: ignore[attr-defined]  # imported into the engine, patched there

    def swap_meanwhile(tool_: ToolRecord, args_: object) -> object:
        eng.swap(new)  # another thread activates the new set while this call is being decided
        return real(tool_, args_)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_mod, "resources_of", swap_meanwhile)
    first = eng.decide(a, t, tl, args, NOW)  # decided on the set it started with (allowed then)
    monkeypatch.setattr(engine_mod, "resources_of", real)
    after = eng.decide(a, t, tl, args, NOW)
    assert after.policy_version == new.version
    assert after.verdict is Verdict.DENY, (first, after)


def test_an_empty_resource_is_held_to_the_tool_pattern(tmp_path: Path) -> None:
    """An empty resource argument names *something* to the upstream (a server resolves `""` to its
    working directory): it must match the tool's resource pattern like any other value, not skip it."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    confined = tool(resource_pattern="/data/*")
    assert eng.decide(agent(), task(("fs.*",)), confined, {"path": "/data/a"}, NOW).verdict is Verdict.ALLOW
    d = eng.decide(agent(), task(("fs.*",)), confined, {"path": ""}, NOW)
    assert d.verdict is Verdict.DENY
    assert "outside tool pattern" in " ".join(d.reasons)
    listed = ToolRecord(ToolName("fs.read_many"), "read", resource_arg="paths[]", resource_pattern="/data/*")
    assert (
        eng.decide(agent(), task(("fs.*",)), listed, {"paths": ["/data/a", ""]}, NOW).verdict is Verdict.DENY
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example/public/%2e%2e/admin",
        "https://api.example/public/%2E%2E/admin",
        "https://api.example/public/..%2fadmin",
        "https://api.example/public/%252e%252e/admin",
        "https://api.example/public/.%2e/admin",
    ],
)
def test_an_encoded_dot_dot_segment_is_traversal_too(tmp_path: Path, url: str) -> None:
    """A URL resource is decoded by the server it reaches (`%2e%2e` is `..` to an HTTP server):
    a task confined to `https://api.example/public/*` must not reach `/admin` through it."""
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)))
    fetch = ToolRecord(ToolName("web.fetch"), "read", resource_arg="url")
    t = task(("web.*",), ("https://api.example/public/*",))
    ok = eng.decide(agent(), t, fetch, {"url": "https://api.example/public/docs"}, NOW)
    assert ok.verdict is Verdict.ALLOW
    d = eng.decide(agent(), t, fetch, {"url": url}, NOW)
    assert d.verdict is Verdict.DENY, d.reasons


def test_the_watcher_never_activates_a_file_caught_half_written(tmp_path: Path) -> None:
    """With `settle_polls=2` (what every Proctor process uses), a change is loaded only once two
    polls in a row find the same files: a policy file caught while an editor writes it (a `forbid`
    cut off, still valid Cedar) is never activated, and the finished file is."""
    from proctor.policy.engine import PolicyWatcher

    d = starter_dir(tmp_path)
    eng = PolicyEngine(load_policy_dir(d))
    activated: list[str] = []

    def activate(ps: PolicySet) -> bool:
        activated.append(ps.version)
        return eng.swap(ps)

    w = PolicyWatcher(eng, d, activate=activate, settle_polls=2)
    full = '@id("t.no-etc")\nforbid(principal, action, resource is Proctor::Tool) when { context.resource like "/etc/*" };\n'
    (d / "05-edit.cedar").write_text("// being written\n")  # the editor has written the first line
    assert not w.check_once()  # first look at a change: wait
    (d / "05-edit.cedar").write_text(full)  # ... and the rest
    assert not w.check_once()  # changed again since the last look: wait again
    assert w.check_once()  # the same twice in a row: activated
    assert len(activated) == 1
    assert "t.no-etc" in eng.policy_set.sources
    assert not w.check_once()


def test_a_cedarpy_whose_internals_differ_still_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests go to cedarpy's internal batch function directly (faster); one called differently
    (another cedarpy) is given up for the public call, and decisions do not change."""
    from proctor.policy import engine as eng_mod

    def other(*args: object) -> list[str]:
        raise TypeError("is_authorized_batch() takes 4 positional arguments")

    monkeypatch.setattr(eng_mod, "_BATCH", [other])
    eng = PolicyEngine(load_policy_dir(starter_dir(tmp_path)), cache=False)
    a, t, tl = agent(), task(("fs.*",)), tool()
    assert eng.decide(a, t, tl, {"path": "/data/a"}, NOW).verdict is Verdict.ALLOW
    assert eng_mod._BATCH[0] is None
    assert eng.decide(a, t, tl, {"path": "/data/a"}, NOW).verdict is Verdict.ALLOW
    assert eng.decide(a, task(("db.*",)), tl, {"path": "/data/a"}, NOW).verdict is Verdict.DENY
