"""``proctor approvals``: the calls held for a person, and deciding them.

Reading the queue is an operator's job (the workspace's files are enough). Deciding is a person's:
``approve`` and ``deny`` take ``--as EMAIL`` and that approver account's password (prompted, or
``--password-stdin``), so the decision names who made it, and an agent that can run commands on
this machine still cannot approve its own calls without a person's password.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from proctor.cli._common import (
    JsonOpt,
    SinceOpt,
    WorkspaceOpt,
    emit_json,
    handled,
    opened,
    out,
    print_table,
    since_time,
    ts,
)
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError

approvals_app = typer.Typer(
    help="Calls held for a person's approval, and deciding them.", no_args_is_help=True
)

_STATES = ("pending", "approved", "denied", "expired", "used")


@approvals_app.command("list")
def approvals_list(
    state: Annotated[
        str | None, typer.Option(help="pending (the default) | approved | denied | expired | used | all")
    ] = "pending",
    agent: Annotated[str | None, typer.Option(help="Only this agent's requests.")] = None,
    task: Annotated[str | None, typer.Option(help="Only this task's requests.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    since: SinceOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List approval requests (pending ones by default: the queue); --since: only those filed since."""
    if state not in (*_STATES, "all", None):
        raise typer.BadParameter(f"use one of {', '.join(_STATES)} or all", param_hint="--state")
    with opened(workspace) as p, handled():
        states = () if state in ("all", None) else (state,)
        now = p.clock.now()
        after = since_time(since, now)
        reqs = p.approvals.list(states=states, agent=agent, task=task, limit=limit)
    if after is not None:  # newest first: the ones filed since `after` are all within the limit
        reqs = [r for r in reqs if r.created_at >= after]
    if state == "pending":
        reqs = [r for r in reqs if r.state.value == "pending"]
    if as_json:
        emit_json([r.to_dict() for r in reqs])
        return
    t = Table("id", "state", "agent", "task", "tool", "approvers", "attempts", "waiting", "expires")
    for r in reqs:
        t.add_row(
            cell(r.id),
            cell(r.state.value),
            cell(r.agent),
            cell(r.task),
            cell(r.tool),
            cell(" and ".join(r.approvers) + (" (four eyes)" if r.four_eyes else "")),
            cell(r.attempts),
            cell(f"{max(0, round((r.decided_at or now) - r.created_at))} s"),
            cell(ts(r.expires_at)),
        )
    print_table(t)
    if not reqs:
        out.print("no requests" + (" waiting" if state == "pending" else ""))


@approvals_app.command("show")
def approvals_show(
    approval_id: Annotated[str, typer.Argument(help="A request id (`apr_…`).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything an approver sees: the call's arguments (secrets masked, long values folded), the
    task and its chain of delegation, its recent calls and what is unusual about the request."""
    with opened(workspace) as p, handled():
        view = p.approvals.view(approval_id, None)
    if as_json:
        emit_json(view.to_dict())
        return
    r = view.request
    lines = [
        f"[bold]{markup_safe(r.id)}[/]  {r.state.value}",
        f"agent      {markup_safe(r.agent)} (owner {markup_safe(str(view.owner))})",
        f"task       {markup_safe(r.task)}: {markup_safe(view.purpose)}",
        f"requested  by {markup_safe(str(view.requester))}",
        # the chain of accountability (docs/adr/0032), as the API and the approval page show it:
        # the root requester, then each agent and task from the root down to the held call's
        "chain      "
        + markup_safe(
            " → ".join([str(view.requester or "?")] + [f"{c['agent']} ({c['task']})" for c in view.chain])
        ),
        f"tool       {markup_safe(r.tool)} ({markup_safe(view.tool_effect)})",
        f"approvers  {markup_safe(' and '.join(r.approvers))}{' (four eyes)' if r.four_eyes else ''}",
        f"waited     {round(view.waited_s)} s; expires {ts(r.expires_at)}; identical attempts {r.attempts}",
        "why        " + markup_safe("; ".join(r.reasons)),
    ]
    if r.decided_by:
        lines.append(
            f"decided    {r.state.value} by {markup_safe(r.decided_by)}: {markup_safe(r.reason or '')}"
        )
    if r.narrowing is not None:
        lines.append(f"narrowing  {markup_safe(r.narrowing.describe())}")
    for line in lines:
        out.print(line, highlight=False)
    out.print("\n[bold]arguments[/]" if view.args_available else "\n[bold]arguments[/] (cannot be shown)")
    for a in view.args:
        more = f"  … {a.folded} more characters" if a.folded else ""
        out.print(f"  {markup_safe(a.name)} = {markup_safe(a.text, newlines=True)}{more}", highlight=False)
        if a.origin:  # where the value came from (docs/adr/0025)
            risky = "ONLY from untrusted" in a.origin or "from nowhere" in a.origin
            style = "bold red" if risky else "green"
            out.print(f"      [{style}]{markup_safe(a.origin)}[/]", highlight=False)
    if view.unusual:
        out.print("\n[bold yellow]unusual[/]")
        for u in view.unusual:
            out.print(f"  - {markup_safe(u)}", highlight=False)
    if view.recent_calls:
        out.print("\n[bold]the task's recent calls[/]")
        for c in view.recent_calls:
            out.print(
                f"  {ts(c['ts'])}  {markup_safe(str(c['tool']))}  {markup_safe(str(c['decision']))}",
                highlight=False,
            )


def _narrowing(items: list[str] | None) -> dict[str, Any] | None:
    """``--narrow amount<=500 --narrow recipient=DE89…`` → a narrowing (values are JSON when
    they parse as JSON, else text)."""
    import json
    import re

    if not items:
        return None
    out_: dict[str, Any] = {}
    for item in items:
        m = re.fullmatch(r"([A-Za-z0-9_.-]{1,128})(<=|>=|=)(.*)", item, re.S)
        if m is None:
            raise ValidationError(
                f"--narrow `{item[:60]}`: use NAME=VALUE, NAME<=NUMBER or NAME>=NUMBER", field="narrow"
            )
        name, op, raw = m.groups()
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out_.setdefault(name, {}).update({"=": {"eq": value}, "<=": {"max": value}, ">=": {"min": value}}[op])
    return out_


def _person(p: Any, email: str, password_stdin: bool) -> Any:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(f"password for {email}", hide_input=True)
    return p.accounts.authenticate(email, password, p.clock.now(), source="cli")


@approvals_app.command("approve")
def approvals_approve(
    approval_id: Annotated[str, typer.Argument(help="A request id (`apr_…`).")],
    as_: Annotated[str, typer.Option("--as", help="Your approver account (an e-mail).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    narrow: Annotated[
        list[str] | None,
        typer.Option(
            help="Approve for the rest of the task within these bounds instead of this call alone:"
            " NAME=VALUE, NAME<=NUMBER, NAME>=NUMBER (repeatable; give both <= and >= for a range:"
            " a maximum alone has no floor)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Approve a held call: its identical retry runs once (or, with --narrow, calls of the same
    tool within the bounds run until the task ends)."""
    with opened(workspace) as p, handled():
        approver = _person(p, as_, password_stdin)
        r = p.approvals.approve(approval_id, approver, reason, narrowing=_narrowing(narrow))
    scope = (
        f"calls within {r.narrowing.describe()} until the task ends"
        if r.narrowing
        else "the identical call, once"
    )
    out.print(f"approved {r.id}: {markup_safe(scope)}", highlight=False)


@approvals_app.command("deny")
def approvals_deny(
    approval_id: Annotated[str, typer.Argument(help="A request id (`apr_…`).")],
    as_: Annotated[str, typer.Option("--as", help="Your approver account (an e-mail).")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Deny a held call."""
    with opened(workspace) as p, handled():
        approver = _person(p, as_, password_stdin)
        r = p.approvals.deny(approval_id, approver, reason)
    out.print(f"denied {r.id}")


__all__ = ["approvals_app"]
