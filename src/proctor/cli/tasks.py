"""``proctor task``: start and end tasks with a declared intent."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import (
    PENDING_NOTE,
    JsonOpt,
    SinceOpt,
    WorkspaceOpt,
    emit_json,
    err,
    handled,
    kill,
    opened,
    out,
    print_table,
    since_time,
    ts,
)
from proctor.cli.text import cell, markup_safe
from proctor.tasks.service import task_view

task_app = typer.Typer(help="Start and end tasks with a declared intent.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``task`` command group to the ``proctor`` CLI."""
    app.add_typer(task_app, name="task")


@task_app.command("start")
def task_start(
    agent: Annotated[str, typer.Option(help="The agent doing the work.")],
    purpose: Annotated[str, typer.Option(help="The declared intent, in words.")],
    requested_by: Annotated[str, typer.Option(help="Who asked for this task (e-mail).")],
    allow: Annotated[list[str], typer.Option(help="A tool or pattern the task may call (repeatable).")],
    resource: Annotated[list[str] | None, typer.Option(help="A resource pattern (repeatable).")] = None,
    ttl: Annotated[str | None, typer.Option(help="Lifetime, like 15m (default from config).")] = None,
    max_calls: Annotated[int | None, typer.Option(help="Call budget.")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            help="An explicit intent parameter NAME=VALUE (repeatable), e.g. recipient=ap@acme.example:"
            " arguments of the task's calls that carry it trace to the intent."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a task; prints its id and the task token bound to the agent and the task."""
    from proctor.config import parse_duration
    from proctor.tasks.service import parse_param

    with opened(workspace) as p, handled():
        params = [parse_param(x) for x in param or []]
        # a typo (`mial.*`) would start a task that can call nothing: refused, with the closest names
        for warning in p.tools.known(p.workspace.root).check_allow(list(dict.fromkeys(allow))):
            err.print(f"[yellow]warning[/] {markup_safe(warning)}", highlight=False)
        started = p.tasks.start(
            agent=agent,
            purpose=purpose,
            allow=allow,
            resources=resource or [],
            requested_by=requested_by,
            ttl_s=None if ttl is None else parse_duration(ttl, "--ttl"),
            max_calls=max_calls,
            params=params,
        )
    if as_json:
        emit_json({"task": task_view(started.task), "token": started.token})
    else:
        out.print(f"task   {started.task.id}\ntoken  ", end="")
        out.print(started.token, highlight=False, soft_wrap=True)


@task_app.command("delegate")
def task_delegate(
    parent: Annotated[str, typer.Argument(help="The parent task, which delegates.")],
    agent: Annotated[str, typer.Option(help="The agent the child task is for.")],
    allow: Annotated[
        list[str],
        typer.Option(help="A tool or pattern the child may call, within the parent's (repeatable)."),
    ],
    resource: Annotated[
        list[str] | None, typer.Option(help="A resource pattern within the parent's (repeatable).")
    ] = None,
    ttl: Annotated[
        str | None, typer.Option(help="Lifetime, like 5m: no later than the parent's deadline.")
    ] = None,
    max_calls: Annotated[
        int | None, typer.Option(help="Call budget, within the parent's remaining calls.")
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            help="What the child is for (recorded with the delegation; the intent stays the parent's)."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delegate part of a task to another agent: a child task whose scope is a subset of the
    parent's, decided by policy (action `delegate`); prints its id and its task token."""
    from proctor.config import parse_duration

    with opened(workspace) as p, handled():
        p.tasks.sweep()
        started = p.tasks.delegate(
            parent,
            agent=agent,
            allow=allow,
            resources=resource or [],
            ttl_s=None if ttl is None else parse_duration(ttl, "--ttl"),
            max_calls=max_calls,
            purpose=purpose,
            by="cli",
        )
    if as_json:
        emit_json({"task": task_view(started.task), "token": started.token})
    else:
        chain = " → ".join(f"{a} ({t})" for a, t in started.task.chain_pairs())
        out.print(f"task   {started.task.id}\nchain  {chain}\ntoken  ", end="", highlight=False)
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
    recorded = kill(workspace, "task", task_id, reason, state)
    out.print(f"task {task_id} {state}" + ("" if recorded else PENDING_NOTE))


@task_app.command("list")
def task_list(
    agent: Annotated[str | None, typer.Option(help="Only this agent's tasks.")] = None,
    state: Annotated[str | None, typer.Option(help="active | completed | cancelled | expired")] = None,
    since: SinceOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List tasks (expiring any past their deadline first); --since: only those started since."""
    with opened(workspace) as p, handled():
        after = since_time(since, p.clock.now())
        tasks = p.tasks.list(agent=agent, state=state)
    if after is not None:
        tasks = [t for t in tasks if t.created_at >= after]
    if as_json:
        emit_json([task_view(t) for t in tasks])
        return
    t = Table("id", "agent", "state", "purpose", "allow", "deadline")
    for x in tasks:
        t.add_row(
            cell(x.id),
            cell(x.agent),
            cell(x.state.value),
            cell(x.purpose, 40),
            cell(" ".join(x.allow)),
            cell(ts(x.deadline)),
        )
    print_table(t)


@task_app.command("show")
def task_show(task_id: str, workspace: WorkspaceOpt = None) -> None:
    """Show one task."""
    with opened(workspace) as p, handled():
        t = p.tasks.get(task_id)
    emit_json(task_view(t))


__all__ = ["task_app"]
