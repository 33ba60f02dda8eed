"""``proctor``: every operation a person does. One module per command group would come next;
for now the groups live here and share one error handler.

Exit codes: 0 success (and `allow` for `check`), 1 a decision of `deny`, a failed verification or
a degraded `status`, 2 an error (bad input, missing workspace, store problem, an invalid policy set
for a command that decides), 3 `approval_required`.
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

from proctor.audit.export import parsed_body
from proctor.cli.text import cell, markup_safe, safe_text
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
upstream_app = typer.Typer(help="Upstream MCP servers the gateway routes to.", no_args_is_help=True)
tools_app = typer.Typer(
    help="Pin upstream MCP tool definitions and detect when they change.", no_args_is_help=True
)
app.add_typer(agent_app, name="agent")
app.add_typer(task_app, name="task")
app.add_typer(tool_app, name="tool")
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(upstream_app, name="upstream")
credential_app = typer.Typer(help="Credentials an upstream needs, leased per task.", no_args_is_help=True)
upstream_app.add_typer(credential_app, name="credential")
app.add_typer(tools_app, name="tools")

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
    err.print(
        f"[bold red]error[/] {escape(f'[{exc.code}]')}: {markup_safe(exc.message, newlines=True)}",
        highlight=False,
    )
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
    """The workspace's Proctor. Its policy set is loaded only when a command decides (`check`):
    a command that decides nothing (`agent suspend`, `task end`, `audit tail`, …) works whatever
    state the policy files are in."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
        p = Proctor.open(ws, store_url=store, lazy_policies=True)
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
        t.add_row(
            cell(a.name),
            cell(a.status.value),
            cell(a.owner),
            cell(a.spiffe_id),
            cell(" ".join(a.selectors) or "-"),
        )
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
    """Suspend an agent: every call it makes is denied until it is resumed.

    Works whatever state the store and the audit log are in: when either fails, the suspension is
    enforced at once by every Proctor process of the workspace and recorded once they are back."""
    recorded = _kill(workspace, "agent", name, reason)
    out.print(f"[yellow]suspended[/] {name}" + ("" if recorded else _PENDING_NOTE))


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
    """End a task: its token stops working at once (even while the store or the log fails)."""
    state = "cancelled" if cancel else "completed"
    recorded = _kill(workspace, "task", task_id, reason, state)
    out.print(f"task {task_id} {state}" + ("" if recorded else _PENDING_NOTE))


_PENDING_NOTE = (
    "\n[yellow]the store or the audit log is unavailable[/]: this is enforced now by every Proctor "
    "process of this workspace on this host, and recorded in the store and the audit log once they are back"
)


def _kill(workspace: str | None, kind: str, target: str, reason: str, state: str = "") -> bool:
    """Suspend an agent or end a task; when the store or the log fails (even before a Proctor can
    be opened), pend it in the workspace's kill file. Returns whether it was recorded."""
    from proctor.app import Proctor
    from proctor.clock import SystemClock
    from proctor.errors import ProctorError
    from proctor.killswitch import KILL_FILE, KillSwitch, PendingKill
    from proctor.types import AgentName, TaskId, TaskState
    from proctor.workspace import Workspace

    with handled():
        ws = Workspace.find(workspace)
        checked = str(AgentName(target)) if kind == "agent" else str(TaskId(target))
        try:
            p = Proctor.open(ws, lazy_policies=True)  # the kill switch never depends on the policies
        except Exception as exc:
            # whatever keeps a Proctor from opening (the store, the log, the configuration) must
            # not keep the kill from the processes still serving
            cause = exc.code if isinstance(exc, ProctorError) else type(exc).__name__
            KillSwitch(ws.run_dir / KILL_FILE).add(
                PendingKill(kind, checked, SystemClock().now(), "cli", reason[:500], cause, state)
            )
            return False
        with p:
            if kind == "agent":
                return p.kill_agent(checked, reason=reason)
            ended = p.end_task_or_kill(
                checked,
                state=TaskState.CANCELLED if state == "cancelled" else TaskState.COMPLETED,
                reason=reason,
            )
            return ended is not None


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
        t.add_row(
            cell(x.id),
            cell(x.agent),
            cell(x.state.value),
            cell(x.purpose, 40),
            cell(" ".join(x.allow)),
            cell(_ts(x.deadline)),
        )
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
        t.add_row(
            cell(x.name),
            cell(x.effect),
            cell(x.resource_pattern),
            cell(x.trust),
            cell(x.sensitivity),
            cell(" ".join(m["flags"]) or "-"),
        )
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
        t.add_row(mark, cell(r.name), cell(r.expected.value), cell(r.decision.verdict.value), cell(detail))
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
    except RecursionError:
        fail(ValidationError("--args is nested too deeply"))
    except ValueError:  # an integer of more digits than Python converts
        fail(ValidationError("--args holds a number too long to read"))
    from proctor.errors import PolicyLoadError

    with opened(workspace) as p:
        try:
            p.load_policies()
        except PolicyLoadError as exc:  # fail closed: nothing is decided without a valid set
            fail(PolicyLoadError(f"the policy set is invalid, nothing was decided: {exc.message}"))
        d = p.decide(
            CallInput(tool=tool, args=parsed, agent=agent, task=task, dry_run=True, source="cli-check")
        )
    if as_json:
        emit_json(d.to_dict())
    else:
        colour = {"allow": "green", "deny": "red", "approval_required": "yellow"}[d.verdict.value]
        out.print(f"[bold {colour}]{d.verdict.value}[/]  {d.decision_id}  policy {d.policy_version}")
        for r in d.reasons:
            out.print(f"  reason  {markup_safe(r)}", highlight=False)
        if d.policies:
            out.print(f"  policies  {markup_safe(', '.join(d.policies))}")
        if d.scope is not None:
            out.print(
                f"  scope   {markup_safe('in scope' if d.scope.ok else d.scope.reason)}", highlight=False
            )
    codes = {Verdict.ALLOW: 0, Verdict.DENY: 1, Verdict.APPROVAL_REQUIRED: 3}
    raise typer.Exit(codes[d.verdict])


# status ----------------------------------------------------------------------------------------
def workspace_status(p: Any) -> dict[str, Any]:
    """The health of a workspace as `proctor status` shows it: the store, the audit log, and the
    policy set, the active one (as the store records it) and the one the files hold now. A policy
    set that does not load is reported with its errors (file, line, message): a running server
    refuses it and keeps serving the last good set, and nothing new starts on it."""
    from proctor.errors import PolicyLoadError
    from proctor.policy.loader import load_policy_dir, policy_errors

    head = p.store.audit_head()
    policy: dict[str, Any] = {"active_version": p.store.active_policy_version()}
    try:
        ps = load_policy_dir(p.policy_dir)
    except PolicyLoadError as exc:
        policy.update(files_version=None, valid=False, rejected={"errors": policy_errors(exc)})
    else:
        policy.update(files_version=ps.version, valid=True, rejected=None)
    lagging = p.check_witnesses()
    health = p.audit_health()
    audit = {
        "head_seq": 0 if head is None else head.seq,
        "checkpoints_refused": p.audit.refusing,
        "rollback": p.audit.rollback,
        "witness_lagging": lagging,
    }
    reasons = [r for r in health["reasons"] if r != "witness_lagging"]
    if lagging:
        reasons.append("witness_lagging")
    degraded = not policy["valid"] or p.audit.refusing is not None or bool(reasons)
    return {
        "status": "degraded" if degraded else "ok",
        "reasons": reasons,
        "workspace": str(p.workspace.root),
        "store": "ok",
        "audit": audit,
        "policy": policy,
    }


@app.command()
def status(workspace: WorkspaceOpt = None, store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """Workspace health: store, audit log and policy set (an invalid set with its errors).
    Exits 0 when healthy, 1 when degraded, 2 when the workspace or its store cannot be opened."""
    with opened(workspace, store) as p:
        data = workspace_status(p)
    if as_json:
        emit_json(data)
    else:
        pol = data["policy"]
        colour = "green" if data["status"] == "ok" else "yellow"
        out.print(f"status     [bold {colour}]{data['status']}[/]")
        out.print(f"workspace  {markup_safe(data['workspace'])}", highlight=False)
        out.print(f"store      {data['store']}")
        out.print(f"audit      head seq {data['audit']['head_seq']}", highlight=False)
        if data["audit"]["rollback"]:
            out.print(
                "           [bold red]AUDIT ROLLBACK[/]: the log went backwards; no checkpoint is signed"
                " until `proctor audit recover --reason ...`",
                highlight=False,
            )
        for target, why in data["audit"]["witness_lagging"].items():
            out.print(
                f"           [yellow]witness lagging[/] {markup_safe(target)}: {markup_safe(why)}",
                highlight=False,
            )
        if data["audit"]["checkpoints_refused"]:
            out.print(
                f"           [red]no checkpoint is signed[/]: {markup_safe(data['audit']['checkpoints_refused'])}",
                highlight=False,
            )
        out.print(f"policy     active {markup_safe(pol['active_version'] or '-')}", highlight=False)
        if pol["valid"]:
            note = "" if pol["files_version"] == pol["active_version"] else " (not active yet)"
            out.print(f"           files valid, {markup_safe(pol['files_version'])}{note}", highlight=False)
        else:
            out.print(
                "           [red]files REJECTED[/]: the last good set keeps serving; nothing starts on these",
                highlight=False,
            )
            for problem in pol["rejected"]["errors"]:
                out.print(f"             {markup_safe(_where(problem))}", highlight=False)
    if data["status"] != "ok":
        raise typer.Exit(1)


# audit -----------------------------------------------------------------------------------------
def _row_dict(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "hash": r.hash.hex(), "record": parsed_body(r.body)}


def _detail(kind: object, body: Any) -> str:
    """What a table shows of a record: a decision's reasons, whatever shape a stored body has."""
    if body is None:
        return "(not a JSON record: run `proctor audit verify`)"
    if kind == "policy.rejected" and isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(_where(e) for e in errors)[:200]
        return str(body.get("error") or "")[:200]
    if kind != "decision" or not isinstance(body, dict):
        return ""
    outcome = body.get("outcome")
    reasons = outcome.get("reasons") if isinstance(outcome, dict) else None
    if not isinstance(reasons, list):
        return ""
    return "; ".join(str(x) for x in reasons)[:80]


def _where(problem: object) -> str:
    """One problem of a rejected policy set as `file:line: message`."""
    if not isinstance(problem, dict):
        return str(problem)
    file, line, message = problem.get("file"), problem.get("line"), problem.get("message", "")
    where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    return f"{where}{message}"


def _print_rows(rows: list[Any], as_json: bool) -> None:
    if as_json:
        emit_json([_row_dict(r) for r in rows])
        return
    t = Table("seq", "time", "kind", "agent", "task", "tool", "decision", "detail")
    for r in rows:
        try:
            when = _ts(r.ts)
        except (TypeError, ValueError, OverflowError, OSError):
            when = "?"
        # text from the log is shown as text: a reason may quote what an unauthenticated caller
        # sent, and neither markup (`[red]`) nor terminal escapes in it may restyle or break the table
        t.add_row(
            cell(r.seq),
            cell(when),
            cell(r.kind),
            cell(r.agent or "-"),
            cell(r.task or "-"),
            cell(r.tool or "-"),
            cell(r.decision or "-"),
            cell(_detail(r.kind, parsed_body(r.body))),
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
            report = verify_audit_store(st, ws.keys_dir, deep=deep, settings=ws.settings())
        finally:
            st.close()
    for rec in report.recoveries:
        out.print(
            f"[yellow]recovered[/] at record {rec['seq']} by {markup_safe(str(rec['by']))}:"
            f" {markup_safe(str(rec['reason']))}",
            highlight=False,
        )
    if report.ok:
        out.print(
            f"[green]ok[/]: {report.records_checked} records, {report.checkpoints_checked} signed checkpoints,"
            f" head seq {report.head_seq}"
        )
        if report.unsigned_tail:
            out.print(
                f"[yellow]note[/]: the last {report.unsigned_tail} records are covered by no signed checkpoint"
                " yet (only the hash chain protects them); a running Proctor signs one within"
                " `audit.checkpoint_interval`"
            )
        return
    for prob in report.problems:
        err.print(
            f"[bold red]TAMPERED[/] record {prob.seq}: {markup_safe(prob.message)} {escape(f'[{prob.code}]')}",
            highlight=False,
        )
    raise typer.Exit(1)


@audit_app.command("recover")
def audit_recover(
    reason: Annotated[str, typer.Option(help="What happened and what you decided (kept in the log).")],
    workspace: WorkspaceOpt = None,
    store: StoreOpt = None,
) -> None:
    """After a rollback (the log went back behind its anchor or witness): record your decision as an
    `audit.recovered` record, re-anchor at the current head and tell the witnesses, so that
    checkpoints are signed again. Needs the workspace's audit key (its administrator)."""
    import getpass

    with opened(workspace, store) as p, handled():
        if not (p.keydir / "audit-ed25519.pem").is_file():
            raise ValidationError("the workspace's audit key is missing: only its administrator can recover")
        done = p.recover_audit(reason, getpass.getuser())
    anchor = done["anchor"]
    was = "none" if anchor is None else f"{anchor['seq']}"
    out.print(
        f"[green]recovered[/]: `audit.recovered` is record {done['seq']}; the anchor was at {was}, it is at"
        f" {done['seq']} now; checkpoints are signed again",
        highlight=False,
    )


witness_app = typer.Typer(help="A witness service that countersigns audit checkpoints.", no_args_is_help=True)
app.add_typer(witness_app, name="witness")


@witness_app.command("serve")
def witness_serve(
    dir: Annotated[Path, typer.Option("--dir", help="Its key and logs (outside every workspace).")],
    listen: Annotated[
        str, typer.Option(help="HOST:PORT; serve it behind TLS beyond the loopback.")
    ] = "127.0.0.1:8471",
) -> None:
    """Run a witness: it keeps each log's checkpoints, refuses rollbacks and countersigns."""
    from proctor.audit.witness_server import run_witness

    with handled():
        run_witness(dir, listen, announce=lambda line: err.print(line, highlight=False))


@witness_app.command("key")
def witness_key(
    dir: Annotated[Path, typer.Option("--dir", help="The witness's directory.")],
) -> None:
    """Print the witness's public key (for `audit.witness_key` in proctor.yaml)."""
    from proctor.audit.witness_http import format_witness_key
    from proctor.audit.witness_server import load_or_create_witness_key

    with handled():
        print(format_witness_key(load_or_create_witness_key(dir).public_key()))


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
            # the log is private to Proctor's user: a new export file is too, whatever the umask
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                count = export_jsonl(p.store, f)
            err.print(f"exported {count} records to {output}")


# keys ------------------------------------------------------------------------------------------
_CREDENTIALS_OPT = typer.Option(
    "--credentials", help="The ring that signs credential tokens for downstream APIs, not SVIDs."
)


@keys_app.command("rotate")
def keys_rotate(workspace: WorkspaceOpt = None, credentials: bool = _CREDENTIALS_OPT) -> None:
    """Rotate the SVID signing key (or, with --credentials, the credential-token key); the old key
    stays in its JWKS until its tokens expire."""
    with opened(workspace) as p, handled():
        ring = p.credential_keys if credentials else p.keys
        kid = ring.rotate(p.clock.now())
        p.audit.append("identity.key_rotated", {"kid": kid, "ring": ring.use})
    out.print(f"active {'credential' if credentials else 'SVID'} signing key {kid}")


@keys_app.command("jwks")
def keys_jwks(workspace: WorkspaceOpt = None, credentials: bool = _CREDENTIALS_OPT) -> None:
    """Print the JWKS relying parties verify JWT-SVIDs with (or, with --credentials, the one
    downstream APIs verify credential tokens with)."""
    with opened(workspace) as p:
        emit_json((p.credential_keys if credentials else p.keys).jwks(p.clock.now()))


# upstreams -------------------------------------------------------------------------------------
#: prefixes of well-known credential formats (API keys, personal access tokens, cloud keys)
_SECRET_PREFIXES = (
    "sk-",
    "sk_",
    "pk_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "xox",
    "AKIA",
    "glpat-",
    "eyJ",
)


def looks_like_secret(value: str) -> bool:
    """True for values that look like a credential: long, random-looking, or a known token format.

    >>> looks_like_secret("ghp_a1B2c3D4e5F6g7H8i9J0kLmN"), looks_like_secret("/usr/share/data")
    (True, False)
    """
    import math
    from collections import Counter

    if len(value) < 16 or any(c.isspace() for c in value):
        return False
    if value.startswith(_SECRET_PREFIXES):
        return True
    if len(value) < 20 or value.startswith(("/", "./", "~", "http://", "https://")):
        return False
    classes = sum(
        (any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value))
    )
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return classes >= 2 and entropy >= 3.5


def _safe_text(text: str, limit: int = 2000) -> str:
    """Text from an upstream, fit for a terminal (see :func:`proctor.cli.text.safe_text`): lines kept,
    every other non-printable character escaped, cut at ``limit``."""
    return safe_text(text, limit, newlines=True)


def _key_values(items: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(ValidationError(f"{option} takes KEY=VALUE, not `{item[:80]}`"))
        if key in out:
            fail(ValidationError(f"{option} names `{key}` twice"))
        out[key] = value
    return out


def _upstream_summary(cfg: Any) -> dict[str, Any]:
    """An upstream as the CLI shows and audits it: environment variable *names* only."""
    from proctor.redact import redact_url

    data: dict[str, Any] = {"namespace": cfg.namespace, "transport": cfg.transport}
    if cfg.transport == "stdio":
        data["command"] = cfg.command
        data["args"] = ["***" if looks_like_secret(a) else a for a in cfg.args]
        data["env_names"] = sorted(cfg.env)
    else:
        data["url"] = redact_url(cfg.url)
    data["default_effect"] = cfg.default.get("effect", "execute")
    data["tools"] = {k: dict(v) for k, v in cfg.tools.items()}
    data["prefix"] = cfg.prefix
    data["timeout_s"] = cfg.timeout_s
    if cfg.credentials:
        # names and targets only: the values live in the secret store or come from a provider
        data["credentials"] = [
            {"name": c.name, "provider": c.provider, "header": sorted(c.header), "env": sorted(c.env)}
            for c in cfg.credentials
        ]
    return data


def _find_upstream(root: Path, namespace: str) -> Any:
    from proctor.errors import NotFound
    from proctor.gateway.config import load_upstreams

    for cfg in load_upstreams(root):
        if cfg.namespace == namespace:
            return cfg
    raise NotFound(f"unknown upstream `{namespace}`: see `proctor upstream list`")


@upstream_app.command("add")
def upstream_add(
    namespace: Annotated[
        str, typer.Argument(help="Prefix of its tools: NAMESPACE.tool (agents see NAMESPACE__tool).")
    ],
    command: Annotated[str | None, typer.Option(help="Start a stdio server with this command.")] = None,
    arg: Annotated[list[str] | None, typer.Option(help="An argument of --command (repeatable).")] = None,
    env: Annotated[
        list[str] | None, typer.Option(help="K=V in the server's environment (repeatable).")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Or: a Streamable HTTP server at this URL.")] = None,
    effect: Annotated[str, typer.Option(help="Effect of tools not described otherwise.")] = "execute",
    tool_effect: Annotated[
        list[str] | None, typer.Option(help="TOOL=EFFECT for one upstream tool (repeatable).")
    ] = None,
    tool_resource_arg: Annotated[
        list[str] | None, typer.Option(help="TOOL=ARG: the argument naming the resource (repeatable).")
    ] = None,
    no_prefix: Annotated[
        bool,
        typer.Option(
            "--no-prefix", help="Expose tools without the `NAMESPACE__` prefix (one upstream only)."
        ),
    ] = False,
    timeout: Annotated[str, typer.Option(help="Connect and list timeout, like 30s.")] = "30s",
    describe_resources: Annotated[
        bool,
        typer.Option(
            "--describe-resources",
            help="Connect now and take each tool's resource argument from its input schema"
            " (path, paths[], repo_path, url, …) unless --tool-resource-arg names one.",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add an upstream MCP server (written to upstreams.yaml).

    A task that declares resources (`task start --resource`) denies every call of a tool whose
    resource argument is not described: `--describe-resources` describes them from the schemas."""
    from proctor.errors import ConfigError, Conflict
    from proctor.gateway.config import load_upstreams, save_upstreams, upstream_from_mapping

    if (command is None) == (url is None):
        fail(ValidationError("pass exactly one of --command (stdio) or --url (Streamable HTTP)"))
    if url is not None and (arg or env):
        fail(ValidationError("--arg and --env apply to a --command upstream only"))
    env_map = _key_values(env, "--env")
    tools: dict[str, dict[str, str]] = {}
    for tool, value in _key_values(tool_effect, "--tool-effect").items():
        tools.setdefault(tool, {})["effect"] = value
    for tool, value in _key_values(tool_resource_arg, "--tool-resource-arg").items():
        tools.setdefault(tool, {})["resource_arg"] = value
    raw: dict[str, Any] = {"namespace": namespace, "default": {"effect": effect}, "timeout": timeout}
    if command is not None:
        raw.update(transport="stdio", command=command, args=list(arg or []), env=env_map)
    else:
        raw.update(transport="http", url=url)
    if tools:
        raw["tools"] = tools
    if no_prefix:
        raw["prefix"] = False
    with opened(workspace) as p, handled():
        root = p.workspace.root
        try:
            cfg = upstream_from_mapping(raw, "upstream add")
        except ConfigError as exc:
            raise ValidationError(exc.message) from None
        from proctor.gateway.names import check_namespace

        check_namespace(cfg.namespace, p.settings.gateway_tool_separator)
        actions = p.schema_actions()
        for what, eff in [
            ("--effect", effect),
            *((f"--tool-effect {k}", v["effect"]) for k, v in tools.items() if "effect" in v),
        ]:
            if eff not in actions:
                raise ValidationError(
                    f"{what}: effect `{eff}` has no action in the policy schema;"
                    f" known: {', '.join(sorted(actions))}"
                )
        described: dict[str, str] = {}
        if describe_resources:
            cfg, described = _describe_resources(cfg)
        existing = load_upstreams(root)
        if any(u.namespace == cfg.namespace for u in existing):
            raise Conflict(f"upstream `{cfg.namespace}` already exists: `proctor upstream remove` it first")
        if not cfg.prefix:
            other = next((u.namespace for u in existing if not u.prefix), None)
            if other is not None:
                raise Conflict(f"upstream `{other}` already exposes its tools without a prefix: only one may")
        save_upstreams(root, [*existing, cfg])
        p.audit.append("upstream.added", {"by": "cli", **_upstream_summary(cfg)})
    for name, value in env_map.items():
        if looks_like_secret(value):
            err.print(
                f"[yellow]warning[/] --env {markup_safe(name)} looks like a secret; it is stored in plain text in"
                f" {root / 'upstreams.yaml'} (owner-only). Prefer a credential lease from the broker"
                " over a standing secret.",
                highlight=False,
            )
    for tool_name, spec in sorted(described.items()):
        out.print(
            f"  resource argument of {markup_safe(tool_name)}: {markup_safe(spec)} (from its input schema)",
            highlight=False,
        )
    target = cfg.url or " ".join([cfg.command or "", *cfg.args])
    out.print(
        f"[green]added[/] upstream {cfg.namespace} ({cfg.transport}: {markup_safe(target)})", highlight=False
    )
    out.print(f"next: `proctor upstream tools {cfg.namespace}`, then `proctor tools pin {cfg.namespace}`")


@upstream_app.command("list")
def upstream_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List upstream MCP servers and how many of their tools are pinned."""
    from proctor.gateway.config import load_upstreams

    with opened(workspace) as p, handled():
        ups = load_upstreams(p.workspace.root)
        pins = p.store.list_tool_pins()
    pinned: dict[str, int] = {}
    for pin in pins:
        pinned[pin.namespace] = pinned.get(pin.namespace, 0) + 1
    rows = [{**_upstream_summary(u), "pinned_tools": pinned.get(u.namespace, 0)} for u in ups]
    if as_json:
        emit_json(rows)
        return
    t = Table("namespace", "transport", "target", "effect", "prefix", "timeout", "pinned")
    for r in rows:
        target = r.get("url") or " ".join([r["command"], *r["args"]])
        t.add_row(
            cell(r["namespace"]),
            cell(r["transport"]),
            cell(target),
            cell(r["default_effect"]),
            "yes" if r["prefix"] else "no",
            cell(f"{r['timeout_s']:g}s"),
            str(r["pinned_tools"]) if r["pinned_tools"] else "not pinned",
        )
    out.print(t)


@credential_app.command("add")
def upstream_credential_add(
    namespace: Annotated[str, typer.Argument(help="The upstream that needs the credential.")],
    name: Annotated[str, typer.Argument(help="The credential's name (the Cedar entity id).")],
    provider: Annotated[str, typer.Option(help="Provider kind: injected, jwt, postgres, ...")],
    header: Annotated[
        list[str] | None,
        typer.Option(help="HEADER=TEMPLATE for an HTTP upstream, like 'Authorization=Bearer {value}'."),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option(help="VAR=TEMPLATE for a stdio upstream, like 'DATABASE_URL={dsn}'.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE for the provider (YAML value: secret=billing.key, tables=[public.a])."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Give an upstream a credential, obtained for each task that uses it (see `proctor lease`)."""
    import yaml

    from proctor.errors import ConfigError, Conflict
    from proctor.gateway.config import load_upstreams, save_upstreams, upstream_from_mapping

    raw: dict[str, Any] = {"name": name, "provider": provider}
    for key, value in _key_values(param, "--param").items():
        if key in ("name", "provider", "header", "env"):
            fail(ValidationError(f"--param {key}: use the option of that name"))
        try:
            raw[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            fail(ValidationError(f"--param {key}: not a YAML value"))
    if header:
        raw["header"] = _key_values(header, "--header")
    if env:
        raw["env"] = _key_values(env, "--env")
    with opened(workspace) as p, handled():
        root = p.workspace.root
        ups = load_upstreams(root)
        cfg = _find_upstream(root, namespace)
        if any(c.name == name for c in cfg.credentials):
            raise Conflict(f"upstream `{namespace}` already has credential `{name}`: remove it first")
        if provider not in p.leases.providers:
            raise ValidationError(
                f"no credential provider `{provider}`; known: {', '.join(p.leases.providers.kinds())}"
            )
        mapping = cfg.to_mapping()
        mapping["credentials"] = [*mapping.get("credentials", []), raw]
        try:
            new = upstream_from_mapping(mapping, "upstream credential add")
        except ConfigError as exc:
            raise ValidationError(exc.message) from None
        save_upstreams(root, [new if u.namespace == namespace else u for u in ups])
        p.audit.append(
            "upstream.credential_added",
            {"by": "cli", "namespace": namespace, "credential": name, "provider": provider},
        )
    out.print(f"[green]added[/] credential {markup_safe(name)} ({provider}) to upstream {namespace}")


@credential_app.command("remove")
def upstream_credential_remove(namespace: str, name: str, workspace: WorkspaceOpt = None) -> None:
    """Take a credential off an upstream (leases already issued end with their tasks)."""
    from proctor.errors import NotFound
    from proctor.gateway.config import load_upstreams, save_upstreams, upstream_from_mapping

    with opened(workspace) as p, handled():
        root = p.workspace.root
        cfg = _find_upstream(root, namespace)
        if not any(c.name == name for c in cfg.credentials):
            raise NotFound(f"upstream `{namespace}` has no credential `{name}`")
        mapping = cfg.to_mapping()
        mapping["credentials"] = [c for c in mapping["credentials"] if c["name"] != name]
        new = upstream_from_mapping(mapping, "upstream credential remove")
        save_upstreams(root, [new if u.namespace == namespace else u for u in load_upstreams(root)])
        p.audit.append(
            "upstream.credential_removed", {"by": "cli", "namespace": namespace, "credential": name}
        )
    out.print(f"[green]removed[/] credential {markup_safe(name)} from upstream {namespace}")


@upstream_app.command("remove")
def upstream_remove(namespace: str, workspace: WorkspaceOpt = None) -> None:
    """Remove an upstream and its tool pins."""
    from proctor.gateway.config import load_upstreams, save_upstreams

    with opened(workspace) as p, handled():
        root = p.workspace.root
        cfg = _find_upstream(root, namespace)
        save_upstreams(root, [u for u in load_upstreams(root) if u.namespace != namespace])
        pins = p.store.list_tool_pins(namespace)
        if pins:
            p.store.replace_tool_pins(namespace, [])
        p.audit.append(
            "upstream.removed", {"by": "cli", "namespace": cfg.namespace, "pins_removed": len(pins)}
        )
    out.print(f"[green]removed[/] upstream {namespace}" + (f" and its {len(pins)} pins" if pins else ""))


def _describe_resources(cfg: Any) -> tuple[Any, dict[str, str]]:
    """``cfg`` with a resource argument for every tool whose input schema suggests one and that
    has none described; and what was added."""
    from dataclasses import replace

    from proctor.gateway.config import suggest_resource_arg
    from proctor.gateway.discovery import discover_sync

    tools = {k: dict(v) for k, v in cfg.tools.items()}
    added: dict[str, str] = {}
    for tool in discover_sync(cfg):
        if "resource_arg" in tools.get(tool.name, {}) or "resource_arg" in cfg.default:
            continue
        spec = suggest_resource_arg(tool.input_schema)
        if spec is not None:
            tools.setdefault(tool.name, {})["resource_arg"] = spec
            added[tool.name] = spec
    return replace(cfg, tools=tools), added


def _tool_rows(cfg: Any, report: Any, sep: str = "__") -> list[dict[str, Any]]:
    from proctor.gateway.config import suggest_resource_arg
    from proctor.gateway.names import canonical_name, exposed_name, routable
    from proctor.gateway.pinning import allowed_names

    allowed = allowed_names(report)
    changed = {c.name for c in report.changed}
    rows: list[dict[str, Any]] = []

    def names_of(name: str) -> tuple[str | None, str | None]:
        if not routable(name):
            return None, None
        return exposed_name(cfg.namespace, name, sep, prefix=cfg.prefix), canonical_name(cfg.namespace, name)

    for name, definition in report.current.items():
        resource_arg = None
        if name in report.unroutable:
            status, effect, exposed, canonical = "unroutable", None, None, None
        else:
            registered = cfg.proctor_tool(name)
            effect = registered.effect
            resource_arg = registered.resource_arg
            exposed, canonical = names_of(name)
            if name in changed:
                status = "changed"
            elif name in report.unchanged:
                status = "pinned"
            else:
                status = "new" if report.pinned else "unpinned"
        rows.append(
            {
                "upstream_tool": name,
                "exposed_name": exposed,
                "proctor_name": canonical,
                "effect": effect,
                "status": status,
                "callable": name in allowed,
                "description": definition["description"],
                "resource_arg": resource_arg,
                "suggested_resource_arg": None
                if resource_arg is not None
                else suggest_resource_arg(definition.get("inputSchema") or definition.get("input_schema")),
            }
        )
    for name in report.removed:
        rows.append(
            {
                "upstream_tool": name,
                "exposed_name": names_of(name)[0],
                "proctor_name": names_of(name)[1],
                "effect": None,
                "status": "removed",
                "callable": False,
                "description": "",
            }
        )
    return rows


@upstream_app.command("tools")
def upstream_tools(namespace: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Connect to an upstream and list its tools: the name agents see, Proctor's name (policies,
    --allow patterns, pins and the audit use it), effect and pin status."""
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.pinning import compare

    with opened(workspace) as p, handled():
        cfg = _find_upstream(p.workspace.root, namespace)
        sep = p.settings.gateway_tool_separator
        reserved = {u.namespace for u in load_upstreams(p.workspace.root) if u.prefix}
        report = compare(
            namespace,
            discover_sync(cfg),
            p.store.list_tool_pins(namespace),
            sep=sep,
            prefix=cfg.prefix,
            reserved=reserved,
        )
    rows = _tool_rows(cfg, report, sep)
    if as_json:
        emit_json(rows)
        return
    t = Table(
        "upstream tool",
        "agents see",
        "proctor name",
        "effect",
        "resource arg",
        "status",
        "callable",
        "description",
    )
    suggested = {}
    for r in rows:
        res = r.get("resource_arg") or (
            f"none (suggest {r['suggested_resource_arg']})" if r.get("suggested_resource_arg") else "none"
        )
        if r.get("suggested_resource_arg"):
            suggested[r["upstream_tool"]] = r["suggested_resource_arg"]
        t.add_row(
            cell(r["upstream_tool"], 80),
            cell(r["exposed_name"] or "-"),
            cell(r["proctor_name"] or "-"),
            cell(r["effect"] or "-"),
            cell(res, 60),
            cell(r["status"]),
            "yes" if r["callable"] else "no",
            cell(r["description"], 60),
        )
    out.print(t)
    if suggested:
        err.print(
            "[yellow]note[/] a task that declares resources denies tools whose resource argument is not"
            f" described; describe them in upstreams.yaml under `{escape(namespace)}`'s `tools:`, e.g. "
            + ", ".join(
                f"{markup_safe(_safe_text(k, 40))}: {{resource_arg: {markup_safe(v)}}}"
                for k, v in sorted(suggested.items())[:5]
            ),
            highlight=False,
        )
    if not report.pinned:
        err.print(
            f"[yellow]warning[/] `{namespace}` is not pinned: its tools are usable unchecked;"
            f" run `proctor tools pin {namespace}`"
        )


# tool pins -------------------------------------------------------------------------------------
@tools_app.command("pin")
def tools_pin(
    namespace: str,
    by: Annotated[str | None, typer.Option(help="Who approved these definitions (e-mail).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Discover an upstream's tools and pin their current definitions (audited)."""
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.pinning import compare, make_pins
    from proctor.types import Email

    with opened(workspace) as p, handled():
        pinned_by = "cli" if by is None else str(Email(by))
        cfg = _find_upstream(p.workspace.root, namespace)
        tools = discover_sync(cfg)
        before = compare(namespace, tools, p.store.list_tool_pins(namespace))
        pins = make_pins(namespace, tools, now=p.clock.now(), by=pinned_by)
        if not pins:
            raise ValidationError(
                f"upstream `{namespace}` lists no tool Proctor can route: nothing to pin"
                " (an empty pin set would leave the namespace unpinned)"
            )
        p.store.replace_tool_pins(namespace, pins)
        p.audit.append(
            "tools.pinned",
            {
                "by": pinned_by,
                "namespace": namespace,
                "tools": {pin.upstream_tool: pin.digest for pin in pins},
                "changed": sorted(c.name for c in before.changed),
                "added": sorted(before.added) if before.pinned else [],
                "removed": before.removed,
                "unroutable": [_safe_text(n, 80) for n in before.unroutable[:64]],
            },
        )
    out.print(f"[green]pinned[/] {len(pins)} tools of {namespace}")
    for pin in pins:
        out.print(f"  {markup_safe(pin.upstream_tool)}  {pin.digest}", highlight=False)
    for name in before.unroutable:
        err.print(f"[yellow]warning[/] not pinned, never callable: `{markup_safe(name, 80)}`")


def _json_lines(value: Any) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def _print_diff(namespace: str, report: Any) -> None:
    import difflib

    for c in report.changed:
        out.print(f"[red]changed[/] {markup_safe(namespace)}.{markup_safe(c.name, 80)}", highlight=False)
        for label, key in (("description", "description"), ("input schema", "input_schema")):
            old = c.pinned.get(key, "")
            new = c.current.get(key, "")
            if old == new:
                continue
            before = old.splitlines() if isinstance(old, str) else _json_lines(old)
            after = new.splitlines() if isinstance(new, str) else _json_lines(new)
            lines = difflib.unified_diff(
                before, after, f"pinned {label}", f"current {label}", lineterm="", n=2
            )
            for line in lines:
                out.print("    " + markup_safe(line, 400), highlight=False, soft_wrap=True)
    for name in report.added:
        desc = report.current[name]["description"]
        out.print(
            f"[yellow]added[/] {markup_safe(namespace)}.{markup_safe(name, 80)}: {markup_safe(desc, 200)}",
            highlight=False,
        )
    for name in report.removed:
        out.print(f"[yellow]removed[/] {markup_safe(namespace)}.{markup_safe(name, 80)}", highlight=False)


@tools_app.command("diff")
def tools_diff(
    namespace: Annotated[str | None, typer.Argument(help="One upstream (default: all).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare what each upstream lists now with its pins. Exits 1 if anything changed, 2 on error."""
    from proctor.errors import ProctorError
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.pinning import compare

    reports: list[Any] = []
    failures: list[ProctorError] = []
    with opened(workspace) as p, handled():
        root = p.workspace.root
        ups = [_find_upstream(root, namespace)] if namespace is not None else load_upstreams(root)
        pins = p.store.list_tool_pins()
        for cfg in ups:
            try:
                reports.append(compare(cfg.namespace, discover_sync(cfg), pins))
            except ProctorError as exc:
                if namespace is not None:
                    raise
                failures.append(exc)
    if as_json:
        emit_json(
            [
                {
                    "namespace": r.namespace,
                    "pinned": r.pinned,
                    "differs": r.differs,
                    "unchanged": r.unchanged,
                    "changed": [
                        {"name": c.name, "pinned": c.pinned, "current": c.current} for c in r.changed
                    ],
                    "added": r.added,
                    "removed": r.removed,
                    "unroutable": r.unroutable,
                }
                for r in reports
            ]
            + [{"error": {"code": e.code, "message": e.message}} for e in failures]
        )
    else:
        if not ups:
            out.print("no upstreams: add one with `proctor upstream add`")
        for r in reports:
            if not r.pinned:
                err.print(
                    f"[yellow]warning[/] `{r.namespace}` is not pinned: its {len(r.added)} tools are usable"
                    f" unchecked; run `proctor tools pin {r.namespace}`"
                )
            elif r.differs:
                _print_diff(r.namespace, r)
            else:
                out.print(f"[green]ok[/] {r.namespace}: {len(r.unchanged)} tools match their pins")
            for name in r.unroutable:
                err.print(
                    f"[yellow]warning[/] {r.namespace}: `{markup_safe(name, 80)}` cannot be routed"
                    " and is never callable"
                )
        for failure in failures:
            err.print(
                f"[bold red]error[/] {escape(f'[{failure.code}]')}: {markup_safe(failure.message)}",
                highlight=False,
            )
    if failures:
        raise typer.Exit(2)
    if any(r.differs for r in reports):
        raise typer.Exit(1)


# client configuration --------------------------------------------------------------------------
GATEWAY_URL = "http://127.0.0.1:8471/mcp"
_CLIENT_FILES = {
    "claude-desktop": "claude_desktop_config.json",
    "cursor": ".cursor/mcp.json (or ~/.cursor/mcp.json)",
    "vscode": ".vscode/mcp.json",
}


def _proctor_executable() -> str:
    import shutil

    argv0 = Path(sys.argv[0])
    if argv0.name == "proctor" and argv0.is_file():
        return str(argv0.resolve())
    found = shutil.which("proctor")
    if found:
        return str(Path(found).resolve())
    sibling = Path(sys.executable).parent / "proctor"
    return str(sibling) if sibling.is_file() else "proctor"


def mcp_client_config(
    client: str,
    transport: str,
    *,
    workspace: Path | None,
    agent: str,
    url: str,
    executable: str,
    socket: str | None = None,
) -> dict[str, Any]:
    """The JSON a client's MCP config needs to reach its tools through Proctor (placeholders, no
    tokens). stdio is the keyless thin client of the gateway daemon's socket (ADR 0015): the
    config names the socket, never the workspace, whose keys the agent's user need not read."""
    join = f"<run: proctor agent join-token {agent}>"
    task = f"<run: proctor task start --agent {agent} --purpose ... --allow ... --requested-by ...>"
    entry: dict[str, Any]
    if transport == "stdio":
        if socket is None:
            from proctor.gateway.thin import SOCKET_NAME

            assert workspace is not None
            socket = str(workspace / "run" / SOCKET_NAME)
        entry = {
            "command": executable,
            "args": ["gateway", "--stdio", "--socket", socket],
            "env": {"PROCTOR_JOIN_TOKEN": join, "PROCTOR_TASK_TOKEN": task},
        }
        if client == "vscode":
            entry = {"type": "stdio", **entry}
    else:
        headers = {"Authorization": "Bearer <JWT-SVID>", "Proctor-Task": "<task token>"}
        if client == "claude-desktop":  # its config file takes stdio servers only: bridge with mcp-remote
            entry = {
                "command": "npx",
                "args": [
                    "-y",
                    "mcp-remote",
                    url,
                    "--header",
                    "Authorization:${PROCTOR_AUTHORIZATION}",
                    "--header",
                    "Proctor-Task:${PROCTOR_TASK_TOKEN}",
                ],
                "env": {"PROCTOR_AUTHORIZATION": "Bearer <JWT-SVID>", "PROCTOR_TASK_TOKEN": "<task token>"},
            }
        elif client == "vscode":
            entry = {"type": "http", "url": url, "headers": headers}
        else:
            entry = {"url": url, "headers": headers}
    return {("servers" if client == "vscode" else "mcpServers"): {"proctor": entry}}


@app.command("mcp-config")
def mcp_config(
    client: Annotated[str, typer.Option(help="claude-desktop | cursor | vscode")],
    transport: Annotated[str, typer.Option(help="stdio (Proctor starts per client) | http")] = "stdio",
    agent: Annotated[str, typer.Option(help="The agent the client acts as (for the placeholders).")] = "NAME",
    url: Annotated[str | None, typer.Option(help=f"Gateway URL for http (default {GATEWAY_URL}).")] = None,
    socket: Annotated[
        str | None,
        typer.Option(
            "--socket", help="The gateway daemon's socket for stdio (default <workspace>/run/gateway.sock)."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the JSON that routes an MCP client through Proctor. Tokens are placeholders, never minted.

    stdio runs the keyless thin client (`proctor gateway --stdio --socket ...`): start the daemon
    (`proctor gateway --http` or `--unix`) as the user that owns the workspace."""
    from proctor.workspace import Workspace

    if client not in _CLIENT_FILES:
        fail(ValidationError(f"unknown client `{client}`: use {', '.join(_CLIENT_FILES)}"))
    if transport not in ("stdio", "http"):
        fail(ValidationError(f"transport is `stdio` or `http`, not `{transport}`"))
    if url is not None and transport != "http":
        fail(ValidationError("--url applies to --transport http only"))
    if socket is not None and transport != "stdio":
        fail(ValidationError("--socket applies to --transport stdio only"))
    ws_root: Path | None = None
    sep = "__"
    if transport == "stdio" and socket is None:
        with handled():
            ws = Workspace.find(workspace)
            ws_root, sep = ws.root, ws.settings().gateway_tool_separator
    data = mcp_client_config(
        client,
        transport,
        workspace=ws_root,
        agent=agent,
        url=url or GATEWAY_URL,
        executable=_proctor_executable(),
        socket=None if socket is None else str(Path(socket).absolute()),
    )
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    err.print(f"put this in {_CLIENT_FILES[client]}; replace each <…> placeholder", highlight=False)
    err.print(
        f"the client sees each tool as NAMESPACE{sep}tool (`proctor upstream tools NAMESPACE` lists them);"
        " policies, --allow patterns and the audit use Proctor's name, NAMESPACE.tool",
        highlight=False,
    )
    if transport == "stdio":
        err.print(
            "the client runs a keyless relay to the gateway daemon: start `proctor gateway --http`"
            " (or `--unix`) as the workspace's owner; the agent's user needs no access to the workspace",
            highlight=False,
        )
    if client == "claude-desktop" and transport == "http":
        err.print("Claude Desktop's config file takes stdio servers only: this bridges with `npx mcp-remote`")


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


# secrets ---------------------------------------------------------------------------------------
secret_app = typer.Typer(
    help="Upstream secrets, encrypted at rest (AES-256-GCM). Values are never printed.", no_args_is_help=True
)
app.add_typer(secret_app, name="secret")


@secret_app.command("put")
def secret_put(
    name: Annotated[str, typer.Argument(help="Secret name: a-z, 0-9, `_`, `.`, `-`.")],
    keep_newline: Annotated[
        bool, typer.Option("--keep-newline", help="Keep a final newline read from stdin.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Store a secret. The value comes from stdin or a hidden prompt, never from the command line."""
    from proctor.credentials.secrets import MAX_VALUE_BYTES, SecretStore, check_name

    with handled():
        check_name(name)
    if sys.stdin.isatty():
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True).encode()
    else:
        value = sys.stdin.buffer.read(MAX_VALUE_BYTES + 3)
        if not keep_newline:
            value = value.removesuffix(b"\n").removesuffix(b"\r")
    if not value:
        fail(ValidationError(f"empty value for secret `{name}`: nothing was stored"))
    with opened(workspace) as p, handled():
        ss = SecretStore.open(p.workspace, p.store, now=p.clock.now())
        version = ss.put(name, value, p.clock.now())
        p.audit.append("secret.stored", {"name": name, "version": version, "key_id": ss.key_id})
    out.print(f"[green]stored[/] secret {markup_safe(name)} version {version}", highlight=False)


@secret_app.command("list")
def secret_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List secrets: names, versions and when they changed. Never values."""
    with opened(workspace) as p:
        rows = p.store.list_secrets()
    data = [
        {"name": r.name, "version": r.version, "updated_at": r.updated_at, "key_id": r.key_id} for r in rows
    ]
    if as_json:
        emit_json(data)
        return
    t = Table("name", "version", "updated", "key id")
    for r in rows:
        t.add_row(cell(r.name), cell(r.version), cell(_ts(r.updated_at)), cell(r.key_id))
    out.print(t)


@secret_app.command("delete")
def secret_delete(name: str, workspace: WorkspaceOpt = None) -> None:
    """Delete a secret."""
    from proctor.credentials.secrets import SecretStore, check_name
    from proctor.errors import UnknownSecret

    with opened(workspace) as p, handled():
        check_name(name)
        ss = SecretStore.open(p.workspace, p.store, now=p.clock.now())
        rec = p.store.get_secret(name)
        if rec is None or not ss.delete(name):
            raise UnknownSecret(f"unknown secret `{name}`")
        p.audit.append("secret.deleted", {"name": name, "version": rec.version, "key_id": rec.key_id})
    out.print(f"[yellow]deleted[/] secret {markup_safe(name)}", highlight=False)


@secret_app.command("rotate-key")
def secret_rotate_key(
    new_key_env: Annotated[
        str | None,
        typer.Option(
            "--new-key-env",
            metavar="VAR",
            help="Take the new key (base64url of 32 bytes) from environment variable VAR.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Re-encrypt every secret under a new key in one transaction; the old key stops working.

    With a key file, a new key is generated (or taken from --new-key-env) and replaces the file
    atomically. With PROCTOR_SECRETS_KEY, you supply the new key with --new-key-env and then set
    PROCTOR_SECRETS_KEY to it yourself.
    """
    from proctor.credentials.secrets import KEY_ENV, SecretStore, decode_env_key, rotate_key_file
    from proctor.errors import ConfigError

    env_mode = bool(os.environ.get(KEY_ENV))
    if env_mode and not new_key_env:
        fail(
            ConfigError(
                f"the secrets key comes from `{KEY_ENV}`, so proctor cannot replace it: generate a new key"
                " (32 random bytes, base64url), put it in another variable and run"
                f" `proctor secret rotate-key --new-key-env VAR`, then set `{KEY_ENV}` to it"
            )
        )
    with handled():
        new_key = None
        if new_key_env:
            raw = os.environ.get(new_key_env)
            if not raw:
                raise ConfigError(f"environment variable `{new_key_env}` is not set")
            new_key = decode_env_key(raw, new_key_env)
    with opened(workspace) as p, handled():
        ss = SecretStore.open(p.workspace, p.store, now=p.clock.now())
        old = ss.key_id
        if env_mode:
            assert new_key is not None  # checked above
            count = ss.rotate_key(new_key, p.clock.now())
        else:
            _, count = rotate_key_file(p.workspace, ss, p.clock.now(), key=new_key)
        p.audit.append(
            "secret.key_rotated",
            {
                "old_key_id": old,
                "key_id": ss.key_id,
                "secrets": count,
                "source": "env" if env_mode else "file",
            },
        )
    out.print(
        f"rotated the secrets key {old} -> {ss.key_id}: {count} secret(s) re-encrypted", highlight=False
    )
    if env_mode:
        out.print(f"now set {KEY_ENV} to the value of {new_key_env}: the old key no longer works")


# leases ----------------------------------------------------------------------------------------
lease_app = typer.Typer(help="Credential leases issued to tasks, and their revocation.", no_args_is_help=True)
app.add_typer(lease_app, name="lease")


@lease_app.command("list")
def lease_list(
    task: Annotated[str | None, typer.Option(help="Only this task's leases.")] = None,
    state: Annotated[str | None, typer.Option(help="active | revoked | expired | irrevocable")] = None,
    irrevocable: Annotated[
        bool, typer.Option("--irrevocable", help="Only leases whose revocation gave up (need a person).")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List credential leases (ending any whose time ran out first)."""
    from proctor.types import LeaseState, TaskId

    with opened(workspace) as p, handled():
        try:
            st = None if state is None else LeaseState(state)
        except ValueError:
            raise ValidationError(
                f"unknown lease state `{str(state)[:40]}`: use active, revoked, expired or irrevocable"
            ) from None
        p.leases.sweep()
        leases = p.leases.list(task=None if task is None else TaskId(task), state=st, irrevocable=irrevocable)
    if as_json:
        emit_json([x.to_dict() for x in leases])
        return
    t = Table("id", "task", "agent", "kind", "name", "state", "expires", "attempts", "last error")
    for x in leases:
        shown = f"{x.state.value} (pending)" if x.pending else x.state.value
        t.add_row(
            cell(x.id),
            cell(x.task_id),
            cell(x.agent),
            cell(x.kind),
            cell(x.name),
            cell(shown),
            cell(_ts(x.expires_at)),
            cell(x.attempts),
            cell(x.last_error or "-"),
        )
    out.print(t)


@lease_app.command("show")
def lease_show(lease_id: str, workspace: WorkspaceOpt = None) -> None:
    """Show one lease (never a credential value: Proctor does not store them)."""
    from proctor.types import LeaseId

    with opened(workspace) as p, handled():
        lease = p.leases.get(LeaseId(lease_id))
    emit_json(lease.to_dict())


@lease_app.command("revoke")
def lease_revoke(
    lease_id: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke a lease now. Its provider is called by the process that has it (the server)."""
    from proctor.types import LeaseId

    with opened(workspace) as p, handled():
        lease = p.leases.revoke(LeaseId(lease_id), reason or "revoked from the cli")
    note = " (provider revocation pending)" if lease.pending else ""
    if lease.state.value == "irrevocable":
        note = (
            f" (the provider did not confirm: {markup_safe(lease.last_error or 'no provider in this process')};"
            + (
                " retried by any running Proctor process)"
                if lease.next_attempt_at is not None
                else " not retried)"
            )
        )
    out.print(f"lease {lease.id} {lease.state.value}{note}")
    if lease.state.value == "irrevocable":
        raise typer.Exit(1)


def main() -> None:
    """Console entry point."""
    from proctor.cli import credentials, gateway

    gateway.register(app)
    credentials.register(app)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
