"""``proctor replay`` (re-decide recorded traces under a candidate policy set, in memory) and
``proctor trace`` (write a live task's trace). The format: docs/trace-format.md."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, fail, handled, out
from proctor.cli.text import cell
from proctor.errors import PolicyLoadError, WorkspaceNotFound

if TYPE_CHECKING:
    from proctor.flow.replay import CallReport, ReplayReport
    from proctor.policy.loader import PolicySet
    from proctor.store.base import ToolRecord

trace_app = typer.Typer(help="Recorded traces of tasks (see `proctor replay`).", no_args_is_help=True)

COLOURS = {"allow": "green", "deny": "red", "approval_required": "yellow"}


def _workspace(
    workspace: str | None,
) -> tuple[Path | None, list[ToolRecord], list[str], dict[str, int]]:
    """The workspace's policy directory, registered tools, ``flow.internal_domains`` and flow
    limits (``max_outputs``, ``max_output_bytes``, as the gateway keeps outputs), or
    (None, [], [], {}) when there is none."""
    from proctor.app import Proctor
    from proctor.workspace import Workspace

    try:
        ws = Workspace.find(workspace)
    except WorkspaceNotFound:
        if workspace is not None:  # named explicitly: a typo must not pass for "no workspace"
            raise
        return None, [], [], {}
    p = Proctor.open(ws, lazy_policies=True)
    try:
        limits = {
            "max_outputs": p.settings.flow_max_outputs,
            "max_output_bytes": p.settings.flow_max_output_bytes,
        }
        return ws.policies_dir, p.tools.list(), list(p.settings.flow_internal_domains), limits
    finally:
        p.close()


def _load(directory: Path, what: str, tools: Sequence[ToolRecord]) -> PolicySet:
    from proctor.policy.loader import load_policy_dir

    try:
        return load_policy_dir(directory, tools=tools)
    except PolicyLoadError as exc:
        raise PolicyLoadError(f"{what} `{directory}` is invalid: {exc.message}", **exc.details) from None


def _verdict(value: str | None) -> str:
    if value is None:
        return "-"
    return f"[{COLOURS.get(value, 'white')}]{value}[/]"


def _why(c: CallReport) -> str:
    return ", ".join(c.policies) or "; ".join(c.reasons)


def _table(report: ReplayReport, *, changed_only: bool) -> None:
    calls = sorted(report.calls, key=lambda c: not c.changed)  # stable: changed first, in trace order
    if changed_only:
        calls = [c for c in calls if c.changed]
    t = Table("", "trace:line", "task", "call", "tool", "decision", "baseline", "policies / reasons")
    for c in calls:
        mark = "[bold magenta]*[/]" if c.changed else ""
        if c.shadow is not None:
            mark += "[cyan]s[/]"
        t.add_row(
            mark,
            cell(f"{Path(c.trace).name}:{c.line}"),
            cell(c.task, 40),
            cell(c.call, 40),
            cell(c.tool),
            _verdict(c.decision),
            _verdict(c.baseline_decision),
            cell(_why(c), 200),
        )
    if calls:
        out.print(t)
    s = report.summary()
    d = s["decisions"]
    out.print(
        f"{s['calls']} calls in {s['tasks']} tasks of {s['traces']} traces under {report.policies}: "
        f"[green]{d['allow']} allow[/], [yellow]{d['approval_required']} approval_required[/], "
        f"[red]{d['deny']} deny[/]"
    )
    if report.baseline is None:
        out.print("no baseline (pass --baseline DIR, or run in a workspace)")
    else:
        b = s["baseline_decisions"]
        moves = ", ".join(f"{k.replace('->', ' -> ')}: {v}" for k, v in s["changes"].items()) or "none"
        out.print(
            f"baseline {report.baseline}: {b['allow']} allow, {b['approval_required']} approval_required, "
            f"{b['deny']} deny; [bold]{s['changed']} changed[/] ({moves})"
        )
    if s["shadow"]:
        out.print(f"{s['shadow']} calls decided differently by shadow policies (marked s)")


def replay(
    traces: Annotated[list[Path], typer.Argument(help="Trace files (JSON Lines, docs/trace-format.md).")],
    policies: Annotated[Path, typer.Option("--policies", help="The candidate policy directory.")],
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="The policy directory to compare with (default: the workspace's)."),
    ] = None,
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Compare with nothing.")] = False,
    changed_only: Annotated[bool, typer.Option("--changed", help="List only the changed decisions.")] = False,
    internal_domain: Annotated[
        list[str] | None,
        typer.Option(
            "--internal-domain",
            help="A domain of the organisation (repeatable; default: the workspace's"
            " flow.internal_domains). The owner's and the requester's e-mail domains always count.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Processes replaying the files in parallel (default: the CPUs; same report).",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-decide recorded traces under a candidate policy set, in memory, and show what changes.

    Each call is decided as the gateway would (its arguments, the outputs seen, its counters).

    Nothing is stored or sent. The workspace's tools serve the tools the traces do not define.

    Exit code 0, or 2 on bad input (the error names file:line)."""
    from proctor.flow.replay import default_jobs, merge_tools
    from proctor.flow.replay import replay as run
    from proctor.flow.trace import load_trace

    with handled():
        loaded = [load_trace(path) for path in traces]
        policy_dir, registered, configured, limits = _workspace(workspace)
        # the sets are compiled against the replay's catalog: a policy that reads an argument a
        # traced tool does not have is refused here, naming file:line
        catalog = list(merge_tools(loaded, registered).values())
        candidate = _load(policies, "the policy directory", catalog)
        base = None
        if baseline is not None:
            base = _load(baseline, "the baseline policy directory", catalog)
        elif policy_dir is not None and not no_baseline:
            why = "the workspace's policy directory (the baseline; --no-baseline skips it)"
            base = _load(policy_dir, why, catalog)
        internal = list(internal_domain or ()) or configured
        report = run(
            loaded,
            candidate,
            baseline=base,
            tools=registered,
            internal=internal,
            jobs=jobs or default_jobs(),
            max_outputs=limits.get("max_outputs", 200),
            max_output_bytes=limits.get("max_output_bytes", 1 << 20),
        )
    if as_json:
        emit_json(report.to_dict())
        return
    _table(report, changed_only=changed_only)


def _export_lines(workspace: str | None, task: str) -> list[dict[str, Any]]:
    from proctor.cli._common import opened

    with opened(workspace) as p, handled():
        lines: list[dict[str, Any]] = p.flow.export(task)
    return lines


@trace_app.command("export")
def trace_export(
    task: Annotated[str, typer.Argument(help="The task id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a task's trace (its tools, intent, forwarded calls with the outputs still kept, and denied
    or held calls with their arguments) for `proctor replay`."""
    from proctor.errors import ValidationError
    from proctor.flow.trace import dump_lines

    lines = _export_lines(workspace, task)
    with handled():
        text = dump_lines(lines, file=str(output or task))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(ValidationError(f"cannot write `{output}` ({exc.strerror})"))
    out.print(f"wrote {len(lines)} lines to {output}")


__all__ = ["replay", "trace_app"]
