"""``proctor template``: stored task intents that listed agents may start tasks from (docs/adr/0029)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, err, handled, opened, out, print_table
from proctor.cli.text import cell, markup_safe
from proctor.tasks.templates import template_view

template_app = typer.Typer(
    help="Task templates: a stored task intent that listed agents may start tasks from.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``template`` command group to the ``proctor`` CLI."""
    app.add_typer(template_app, name="template")


@template_app.command("add")
def template_add(
    name: str,
    agent: Annotated[list[str], typer.Option(help="An agent that may start tasks from it (repeatable).")],
    purpose: Annotated[str, typer.Option(help="The declared intent of its tasks, in words.")],
    allow: Annotated[list[str], typer.Option(help="A tool or pattern its tasks may call (repeatable).")],
    resource: Annotated[list[str] | None, typer.Option(help="A resource pattern (repeatable).")] = None,
    ttl: Annotated[
        str | None, typer.Option(help="Lifetime of each task, like 1h (default from config).")
    ] = None,
    max_calls: Annotated[int | None, typer.Option(help="Call budget of each task.")] = None,
    requested_by: Annotated[
        str | None,
        typer.Option(
            help="Who asks for its tasks (e-mail); without it, whoever starts a task must be named."
        ),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="An explicit intent parameter NAME=VALUE (repeatable).")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace a template of that name.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a task template, checked as `task start` checks its input."""
    from proctor.config import parse_duration
    from proctor.tasks.service import parse_param

    with opened(workspace) as p, handled():
        params = [parse_param(x) for x in param or []]
        for warning in p.tools.known(p.workspace.root).check_allow(list(dict.fromkeys(allow))):
            err.print(f"[yellow]warning[/] {markup_safe(warning)}", highlight=False)
        rec = p.templates.add(
            name,
            agents=agent,
            purpose=purpose,
            allow=allow,
            resources=resource or [],
            ttl_s=None if ttl is None else parse_duration(ttl, "--ttl"),
            max_calls=max_calls,
            requested_by=requested_by,
            params=params,
            replace=replace,
        )
    if as_json:
        emit_json(template_view(rec))
    else:
        out.print(f"template {rec.name} added (agents: {', '.join(rec.agents)})", highlight=False)


@template_app.command("list")
def template_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List task templates."""
    with opened(workspace) as p, handled():
        recs = p.templates.list()
    if as_json:
        emit_json([template_view(t) for t in recs])
        return
    t = Table("name", "agents", "purpose", "allow", "ttl", "requested by")
    for x in recs:
        t.add_row(
            cell(x.name),
            cell(" ".join(x.agents)),
            cell(x.purpose, 40),
            cell(" ".join(x.allow)),
            cell(f"{x.ttl_s:g}s"),
            cell(x.requested_by or "(whoever starts)"),
        )
    print_table(t)


@template_app.command("show")
def template_show(name: str, workspace: WorkspaceOpt = None) -> None:
    """Show one task template."""
    with opened(workspace) as p, handled():
        rec = p.templates.get(name)
    emit_json(template_view(rec))


@template_app.command("remove")
def template_remove(name: str, workspace: WorkspaceOpt = None) -> None:
    """Remove a task template; tasks already started from it keep their scope until they end."""
    with opened(workspace) as p, handled():
        p.templates.remove(name)
    out.print(f"template {name} removed", highlight=False)


__all__ = ["register", "template_app"]
