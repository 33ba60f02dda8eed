"""``proctor``: every operation a person does. One module per command group would come next;
for now the groups live here and share one error handler.

Exit codes: 0 success (and `allow` for `check`), 1 a decision of `deny` or a failed verification,
2 an error (bad input, missing workspace, store problem), 3 `approval_required`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from proctor.errors import ProctorError, ValidationError

app = typer.Typer(
    name="proctor",
    help="Execution control for autonomous AI agents: identity, tasks, Cedar decisions, audit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Register agents and their accountable owners.", no_args_is_help=True)
task_app = typer.Typer(help="Start and end tasks with a declared intent.", no_args_is_help=True)
tool_app = typer.Typer(help="The tool registry.", no_args_is_help=True)
policy_app = typer.Typer(help="Validate and test Cedar policies.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the tamper-evident audit log.", no_args_is_help=True)
keys_app = typer.Typer(help="Workspace signing keys.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(task_app, name="task")
app.add_typer(tool_app, name="tool")
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")

out = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", envvar="PROCTOR_WORKSPACE", help="Workspace directory (default: current)."
    ),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="PROCTOR_STORE", help="Store URL: sqlite:///path or postgresql://…"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def fail(exc: ProctorError) -> NoReturn:
    err.print(f"[bold red]error[/] {escape(f'[{exc.code}]')}: {escape(exc.message)}", highlight=False)
    raise typer.Exit(2)


@contextmanager
def handled() -> Iterator[None]:
    """Turn Proctor errors into one clear line and exit code 2; never a stack trace."""
    try:
        yield
    except ProctorError as exc:
        fail(exc)


@contextmanager
def opened(workspace: str | None, store: str | None = None) -> Iterator[Any]:
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
        p = Proctor.open(ws, store_url=store)
        try:
            yield p
        finally:
            p.close()


def emit_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def _ts(value: float | None) -> str:
    if value is None:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
    trust_domain: Annotated[
        str, typer.Option(help="SPIFFE trust domain of this workspace.")
    ] = "proctor.local",
    store: StoreOpt = None,
) -> None:
    """Create a workspace: config, signing keys, starter policies and the database."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    with handled():
        ws, token = Workspace.init(
            directory, trust_domain=trust_domain, store=store or "sqlite:///proctor.db"
        )
        Proctor.open(ws, store_url=store).close()
    out.print(f"[green]created[/] workspace at {ws.root}")
    out.print(
        f"  config     {ws.config_path}\n  policies   {ws.policies_dir}\n  keys       {ws.keys_dir} (owner-only)"
    )
    out.print("\n[bold]admin token[/] (shown once; the HTTP management API needs it):")
    out.print(token, highlight=False, soft_wrap=True)


# agents ----------------------------------------------------------------------------------------


@agent_app.command("add")
def agent_add(
    name: str,
    owner: Annotated[str | None, typer.Option(help="The accountable human (required).")] = None,
    selector: Annotated[
        list[str] | None, typer.Option(help="unix:uid:N, unix:sha256:HEX, … (repeatable)")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an agent with exactly one accountable owner."""
    with opened(workspace) as p, handled():
        a = p.add_agent(name, owner, selector or [])
    if as_json:
        emit_json(a.to_dict())
    else:
        out.print(f"[green]registered[/] {a.name}  {a.spiffe_id}  owner {a.owner}")


@agent_app.command("list")
def agent_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List agents."""
    with opened(workspace) as p:
        agents = p.store.list_agents()
    if as_json:
        emit_json([a.to_dict() for a in agents])
        return
    t = Table("name", "status", "owner", "spiffe id", "selectors")
    for a in agents:
        t.add_row(a.name, a.status.value, a.owner, a.spiffe_id, " ".join(a.selectors) or "-")
    out.print(t)


@agent_app.command("show")
def agent_show(name: str, workspace: WorkspaceOpt = None) -> None:
    """Show one agent and its tasks."""
    with opened(workspace) as p, handled():
        a = p.get_agent(name)
        tasks = p.list_tasks(agent=name)
    data = a.to_dict()
    data["tasks"] = [{"id": t.id, "state": t.state.value, "purpose": t.purpose} for t in tasks]
    emit_json(data)


@agent_app.command("suspend")
def agent_suspend(
    name: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Suspend an agent: every call it makes is denied until it is resumed."""
    from proctor.types import AgentStatus

    with opened(workspace) as p, handled():
        p.set_agent_status(name, AgentStatus.SUSPENDED, reason=reason)
    out.print(f"[yellow]suspended[/] {name}")


@agent_app.command("resume")
def agent_resume(name: str, workspace: WorkspaceOpt = None) -> None:
    """Resume a suspended agent."""
    from proctor.types import AgentStatus

    with opened(workspace) as p, handled():
        p.set_agent_status(name, AgentStatus.ACTIVE)
    out.print(f"[green]resumed[/] {name}")


@agent_app.command("join-token")
def agent_join_token(name: str, workspace: WorkspaceOpt = None) -> None:
    """Issue a single-use, short-lived join token an agent exchanges for its JWT-SVID."""
    with opened(workspace) as p, handled():
        token = p.join_token(name)
    out.print(token, highlight=False, soft_wrap=True)


@agent_app.command("svid")
def agent_svid(
    join_token: Annotated[str | None, typer.Option(help="Redeem this join token.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Exchange a join token for a JWT-SVID (reads PROCTOR_JOIN_TOKEN when no option is given)."""
    token = join_token or os.environ.get("PROCTOR_JOIN_TOKEN")
    if not token:
        fail(ValidationError("pass --join-token or set PROCTOR_JOIN_TOKEN"))
    with opened(workspace) as p, handled():
        svid = p.svid_from_join_token(token)
    out.print(svid, highlight=False, soft_wrap=True)


# tasks -----------------------------------------------------------------------------------------


@task_app.command("start")
def task_start(
    agent: Annotated[str, typer.Option(help="The agent doing the work.")],
    purpose: Annotated[str, typer.Option(help="The declared intent, in words.")],
    requested_by: Annotated[str, typer.Option(help="Who asked for this task (e-mail).")],
    allow: Annotated[list[str], typer.Option(help="A tool or pattern the task may call (repeatable).")],
    resource: Annotated[list[str] | None, typer.Option(help="A resource pattern (repeatable).")] = None,
    ttl: Annotated[str | None, typer.Option(help="Lifetime, like 15m (default from config).")] = None,
    max_calls: Annotated[int | None, typer.Option(help="Call budget.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a task; prints its id and the task token bound to the agent and the task."""
    from proctor.config import parse_duration

    with opened(workspace) as p, handled():
        started = p.start_task(
            agent=agent,
            purpose=purpose,
            allow=allow,
            resources=resource or [],
            requested_by=requested_by,
            ttl_s=None if ttl is None else parse_duration(ttl, "--ttl"),
            max_calls=max_calls,
        )
    if as_json:
        emit_json({"task": started.task.to_dict(), "token": started.token})
    else:
        out.print(f"task   {started.task.id}\ntoken  ", end="")
        out.print(started.token, highlight=False, soft_wrap=True)


@task_app.command("end")
def task_end(
    task_id: str,
    cancel: Annotated[bool, typer.Option("--cancel", help="End as cancelled instead of completed.")] = False,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """End a task: its token stops working at once."""
    from proctor.types import TaskState

    with opened(workspace) as p, handled():
        t = p.end_task(task_id, state=TaskState.CANCELLED if cancel else TaskState.COMPLETED, reason=reason)
    out.print(f"task {t.id} {t.state.value}")


@task_app.command("list")
def task_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent's tasks.")] = None,
    state: Annotated[str | None, typer.Option(help="active | completed | cancelled | expired")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List tasks (expiring any past their deadline first)."""
    with opened(workspace) as p, handled():
        tasks = p.list_tasks(agent=agent, state=state)
    if as_json:
        emit_json([t.to_dict() for t in tasks])
        return
    t = Table("id", "agent", "state", "purpose", "allow", "deadline")
    for x in tasks:
        t.add_row(x.id, x.agent, x.state.value, x.purpose[:40], " ".join(x.allow), _ts(x.deadline))
    out.print(t)


@task_app.command("show")
def task_show(task_id: str, workspace: WorkspaceOpt = None) -> None:
    """Show one task."""
    with opened(workspace) as p, handled():
        t = p.get_task(task_id)
    emit_json(t.to_dict())


# tools -----------------------------------------------------------------------------------------
@tool_app.command("add")
def tool_add(
    name: str,
    effect: Annotated[str, typer.Option(help="read | write | execute | send | pay | deploy | …")],
    resource: Annotated[str, typer.Option(help="Resource pattern the tool may touch.")] = "*",
    resource_arg: Annotated[str | None, typer.Option(help="The argument naming the resource.")] = None,
    trust: Annotated[str, typer.Option(help="Label of its output: trusted | untrusted.")] = "trusted",
    sensitivity: Annotated[str, typer.Option(help="public | internal | confidential | secret")] = "internal",
    flag: Annotated[
        list[str] | None, typer.Option(help="destructive, financial, customer_facing, production")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Register or update a tool."""
    from proctor.config import tool_from_mapping

    raw: dict[str, Any] = {
        "name": name,
        "effect": effect,
        "resource": resource,
        "labels": {"trust": trust, "sensitivity": sensitivity},
        "flags": flag or [],
    }
    if resource_arg:
        raw["resource_arg"] = resource_arg
    with opened(workspace) as p, handled():
        rec = p.put_tool(tool_from_mapping(raw), by="cli")
    out.print(f"[green]registered[/] {rec.name} (v{rec.version}, effect {rec.effect})")


@tool_app.command("list")
def tool_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List registered tools."""
    from proctor.config import tool_to_mapping

    with opened(workspace) as p:
        tools = p.store.list_tools()
    if as_json:
        emit_json([tool_to_mapping(t) for t in tools])
        return
    t = Table("name", "effect", "resource", "trust", "sensitivity", "flags")
    for x in tools:
        m = tool_to_mapping(x)
        t.add_row(x.name, x.effect, x.resource_pattern, x.trust, x.sensitivity, " ".join(m["flags"]) or "-")
    out.print(t)


# policy ----------------------------------------------------------------------------------------
def _policy_dir(workspace: str | None, directory: Path | None) -> Path:
    if directory is not None:
        return directory
    from proctor.workspace import Workspace

    with handled():
        return Workspace.find(workspace).policies_dir


@policy_app.command("validate")
def policy_validate(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Policy directory (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Parse and validate every policy against the schema; errors name file and line."""
    from proctor.policy.loader import load_policy_dir

    with handled():
        ps = load_policy_dir(_policy_dir(workspace, directory))
    out.print(f"[green]valid[/]: {len(ps.sources)} policies in {len(ps.files)} files, version {ps.version}")


@policy_app.command("test")
def policy_test(
    cases: Path,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Policy directory (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the calls listed in CASES.yaml and compare each decision with what it expects."""
    from proctor.policy.cases import load_cases, run_cases
    from proctor.policy.engine import PolicyEngine
    from proctor.policy.loader import load_policy_dir

    with handled():
        engine = PolicyEngine(load_policy_dir(_policy_dir(workspace, directory)), cache=False)
        results = run_cases(load_cases(cases), engine, where=cases.name)
    t = Table("", "case", "expected", "got", "policies / problem")
    for r in results:
        mark = "[green]PASS[/]" if r.ok else "[red]FAIL[/]"
        detail = r.problem if not r.ok else ", ".join(r.decision.policies) or "; ".join(r.decision.reasons)
        t.add_row(mark, r.name, r.expected.value, r.decision.verdict.value, detail)
    out.print(t)
    failed = sum(not r.ok for r in results)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


# check -----------------------------------------------------------------------------------------
@app.command()
def check(
    agent: Annotated[str, typer.Option(help="Agent name.")],
    task: Annotated[str, typer.Option(help="Task id.")],
    tool: Annotated[str, typer.Option(help="Tool name.")],
    args: Annotated[str, typer.Option(help="Arguments as a JSON object.")] = "{}",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide one call and explain the decision (audited, marked as a dry run)."""
    from proctor.pipeline import CallInput
    from proctor.types import Verdict

    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        fail(ValidationError(f"--args is not valid JSON: {exc.msg} at position {exc.pos}"))
    with opened(workspace) as p:
        d = p.decide(
            CallInput(tool=tool, args=parsed, agent=agent, task=task, dry_run=True, source="cli-check")
        )
    if as_json:
        emit_json(d.to_dict())
    else:
        colour = {"allow": "green", "deny": "red", "approval_required": "yellow"}[d.verdict.value]
        out.print(f"[bold {colour}]{d.verdict.value}[/]  {d.decision_id}  policy {d.policy_version}")
        for r in d.reasons:
            out.print(f"  reason  {r}", highlight=False)
        if d.policies:
            out.print(f"  policies  {', '.join(d.policies)}")
        if d.scope is not None:
            out.print(f"  scope   {'in scope' if d.scope.ok else d.scope.reason}", highlight=False)
    codes = {Verdict.ALLOW: 0, Verdict.DENY: 1, Verdict.APPROVAL_REQUIRED: 3}
    raise typer.Exit(codes[d.verdict])


# audit -----------------------------------------------------------------------------------------
def _row_dict(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "hash": r.hash.hex(), "record": json.loads(r.body)}


def _print_rows(rows: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([_row_dict(r) for r in rows])
        return
    t = Table("seq", "time", "kind", "agent", "task", "tool", "decision", "detail")
    for r in rows:
        body = json.loads(r.body)
        detail = ""
        if r.kind == "decision":
            detail = "; ".join(body.get("outcome", {}).get("reasons", []))[:80]
        t.add_row(
            str(r.seq),
            _ts(r.ts),
            r.kind,
            r.agent or "-",
            r.task or "-",
            r.tool or "-",
            r.decision or "-",
            detail,
        )
    out.print(t)


@audit_app.command("verify")
def audit_verify(
    deep: Annotated[bool, typer.Option(help="Also check indexed columns against each record.")] = False,
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """Verify the hash chain and signed checkpoints. Exits 1 and names the record on tampering."""
    from proctor.app import verify_audit_store
    from proctor.store import open_store
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
        st = open_store(store or ws.settings().store_url, base_dir=ws.root, migrate=False)
        try:
            report = verify_audit_store(st, deep=deep)
        finally:
            st.close()
    if report.ok:
        out.print(
            f"[green]ok[/]: {report.records_checked} records, {report.checkpoints_checked} signed checkpoints,"
            f" head seq {report.head_seq}"
        )
        return
    for prob in report.problems:
        err.print(
            f"[bold red]TAMPERED[/] record {prob.seq}: {escape(prob.message)} {escape(f'[{prob.code}]')}",
            highlight=False,
        )
    raise typer.Exit(1)


@audit_app.command("tail")
def audit_tail(
    n: Annotated[int, typer.Option("-n", help="How many records.")] = 20,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest records."""
    from proctor.store.base import AuditQuery

    with opened(workspace) as p:
        rows = p.store.search_audit(AuditQuery(limit=n, newest_first=True))
    _print_rows(list(reversed(rows)), as_json)


@audit_app.command("search")
def audit_search(
    agent: Annotated[str | None, typer.Option()] = None,
    task: Annotated[str | None, typer.Option()] = None,
    tool: Annotated[str | None, typer.Option()] = None,
    decision: Annotated[str | None, typer.Option(help="allow | deny | approval_required")] = None,
    kind: Annotated[str | None, typer.Option(help="decision, task.started, agent.suspended, …")] = None,
    limit: Annotated[int, typer.Option()] = 100,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find records by agent, task, tool, decision or kind."""
    from proctor.store.base import AuditQuery

    with opened(workspace) as p:
        rows = p.store.search_audit(
            AuditQuery(agent=agent, task=task, tool=tool, decision=decision, kind=kind, limit=limit)
        )
    _print_rows(rows, as_json)


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the whole log, one JSON record per line, with each record's chain hashes."""
    from proctor.audit.export import export_jsonl

    if fmt != "jsonl":
        fail(ValidationError(f"unsupported format `{fmt}`: use jsonl"))
    with opened(workspace) as p:
        if output is None:
            export_jsonl(p.store, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as f:
                count = export_jsonl(p.store, f)
            err.print(f"exported {count} records to {output}")


# keys ------------------------------------------------------------------------------------------
@keys_app.command("rotate")
def keys_rotate(workspace: WorkspaceOpt = None) -> None:
    """Rotate the SVID signing key; the old key stays in the JWKS until its tokens expire."""
    with opened(workspace) as p, handled():
        kid = p.keys.rotate(p.clock.now())
        p.audit.append("identity.key_rotated", {"kid": kid})
    out.print(f"active signing key {kid}")


@keys_app.command("jwks")
def keys_jwks(workspace: WorkspaceOpt = None) -> None:
    """Print the JWKS agents and relying parties verify JWT-SVIDs with."""
    with opened(workspace) as p:
        emit_json(p.keys.jwks(p.clock.now()))


# serve and demo --------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default from config: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from config: 8470).")] = None,
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """Run the HTTP API (and the local attestation socket)."""
    from proctor.server.run import run_server

    with handled():
        run_server(workspace, store_url=store, host=host, port=port)


@app.command()
def demo(
    keep: Annotated[Path | None, typer.Option(help="Keep the demo workspace in this directory.")] = None,
) -> None:
    """Run Proctor's main job end to end in a fresh temporary workspace."""
    from proctor.demo import run_demo

    with handled():
        code = run_demo(out, keep=keep)
    raise typer.Exit(code)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
