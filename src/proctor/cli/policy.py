"""``proctor policy`` (validate and test Cedar policies) and ``proctor check`` (decide one call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, fail, handled, opened, out, print_table
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError

policy_app = typer.Typer(help="Validate and test Cedar policies.", no_args_is_help=True)


def _policy_dir(workspace: str | None, directory: Path | None) -> Path:
    if directory is not None:
        return directory
    from proctor.workspace import Workspace

    with handled():
        return Workspace.find(workspace).policies_dir


def _workspace_tools(workspace: str | None, directory: Path | None) -> list[Any]:
    """The registered tools of the workspace (its store, through its services), the set is compiled
    with them. ``--dir`` outside any workspace: none (tools are validated as they are decided)."""
    from proctor.errors import WorkspaceNotFound
    from proctor.workspace import Workspace

    if directory is not None and workspace is None:
        try:
            Workspace.find(None)
        except WorkspaceNotFound:
            return []
    with opened(workspace) as p:
        return list(p.policies.registered_tools())


@policy_app.command("validate")
def policy_validate(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Policy directory (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Parse and validate every policy against the generated schema (the base schema plus one action
    per registered tool, with its typed arguments); errors name file and line."""
    from proctor.policy.loader import load_policy_dir

    tools = _workspace_tools(workspace, directory)
    with handled():
        ps = load_policy_dir(_policy_dir(workspace, directory), tools=tools)
    out.print(
        f"[green]valid[/]: {len(ps.sources)} policies in {len(ps.files)} files, {len(ps.catalog)} tool actions,"
        f" version {ps.version}"
    )


@policy_app.command("schema")
def policy_schema(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Policy directory (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the schema policies are validated against: schema.cedarschema plus one action per
    registered tool (``context.args`` typed from its input schema) and the flow types."""
    from proctor.policy.loader import read_counters, read_policy_dir
    from proctor.policy.schemagen import generate_schema

    tools = _workspace_tools(workspace, directory)
    with handled():
        d = _policy_dir(workspace, directory)
        _, base = read_policy_dir(d)
        _, counters = read_counters(d)
        gen = generate_schema(base, tools=tools, counters=counters)
    print(gen.text, end="")


@policy_app.command("test")
def policy_test(
    cases: Path,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Policy directory (default: the workspace's).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the calls listed in CASES.yaml and compare each decision with what it expects."""
    from proctor.policy.cases import case_tools, load_cases, run_cases
    from proctor.policy.engine import PolicyEngine
    from proctor.policy.loader import load_policy_dir

    registered = {t.name: t for t in _workspace_tools(workspace, directory)}
    with handled():
        data = load_cases(cases)
        registered.update((t.name, t) for t in case_tools(data, cases.name))
        ps = load_policy_dir(_policy_dir(workspace, directory), tools=list(registered.values()))
        engine = PolicyEngine(ps, cache=False)
        results = run_cases(data, engine, where=cases.name)
    t = Table("", "case", "expected", "got", "policies / problem")
    for r in results:
        mark = "[green]PASS[/]" if r.ok else "[red]FAIL[/]"
        detail = r.problem if not r.ok else ", ".join(r.decision.policies) or "; ".join(r.decision.reasons)
        t.add_row(mark, cell(r.name), cell(r.expected.value), cell(r.decision.verdict.value), cell(detail))
    print_table(t)
    failed = sum(not r.ok for r in results)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


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
            p.policies.load()
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


__all__ = ["check", "policy_app"]
