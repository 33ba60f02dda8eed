"""``proctor policy`` (validate and test Cedar policies) and ``proctor check`` (decide one call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, fail, handled, opened, out
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError

policy_app = typer.Typer(help="Validate and test Cedar policies.", no_args_is_help=True)


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


__all__ = ["check", "policy_app"]
