"""What every command group of the ``proctor`` CLI shares: the consoles, the common options, the
one error handler and the way a command opens its workspace. Command modules import this and the
services; nothing here imports a command module, and no command module imports another.

Exit codes: 0 success (and `allow` for `check`), 1 a decision of `deny`, a failed verification or
a degraded `status`, 2 an error (bad input, missing workspace, store problem, an invalid policy set
for a command that decides, a port already in use), 3 `approval_required`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from proctor.cli.text import markup_safe
from proctor.errors import PortInUse, ProctorError, ValidationError

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
    """Print ``exc`` as one line (its stable code and message) and exit 2. A port in use is said as
    a person reads it at a terminal: ``proctor: port HOST:PORT is in use (…); choose another…``."""
    if isinstance(exc, PortInUse):
        err.print(f"proctor: {markup_safe(exc.message)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
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
    """Print ``data`` as JSON (values JSON does not know as their ``str``)."""
    out.print_json(json.dumps(data, default=str))


#: columns holding a time (as :func:`ts` prints it): never folded, never cut
_TIMES = frozenset({"time", "deadline", "expires", "updated", "created"})
#: columns holding an id (copied from the output), a short word or a count: never folded
_WHOLE = frozenset(
    {"id", "seq", "kind", "state", "version", "attempts", "waiting", "decision", "effect", "status"}
)


def print_table(table: Table) -> None:
    """Print a table that stays readable in 80 columns and in a pipe (where rich assumes 80): a
    narrow console gets columns without a box, and a long cell wraps onto more lines
    (``fold``) instead of being cut to an ellipsis, so no value is lost; times and short words
    stay whole on one line."""
    if out.width < 120:
        table.box = None
        table.padding = (0, 1)
        table.pad_edge = False
        table.show_edge = False
    for column in table.columns:
        header = str(column.header)
        if header in _TIMES:
            column.no_wrap = True
            column.min_width = len("2026-12-05T16:04:48Z")
        elif header in _WHOLE:
            column.no_wrap = True
        else:
            column.overflow = "fold"
        column.min_width = max(column.min_width or 0, len(header))  # a header is never folded
    out.print(table)


def ts(value: float | None) -> str:
    """A timestamp as human output shows it: ISO 8601, UTC, to the second (`2026-12-05T16:04:48Z`);
    ``-`` for none."""
    if value is None:
        return "-"
    return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only records from this time on: ISO 8601 (2026-12-05T16:04:48Z) or a duration ago (10m, 2h).",
    ),
]


def since_time(value: str | None, now: float) -> float | None:
    """``--since``: an ISO 8601 time (a time without a zone is UTC) or a duration before ``now``
    (``10m``), as seconds since the epoch; None for none. Anything else is a ValidationError."""
    from proctor.config import parse_duration

    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(ms|s|m|h|d)", text):  # a duration: 90s, 10m, 2h, 1d
        return now - parse_duration(text, "--since")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"--since takes an ISO 8601 time (2026-12-05T16:04:48Z) or a duration (10m), not `{value[:80]}`"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def key_values(items: list[str] | None, option: str) -> dict[str, str]:
    """``KEY=VALUE`` options as a mapping; a malformed or repeated key fails the command."""
    found: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(ValidationError(f"{option} takes KEY=VALUE, not `{item[:80]}`"))
        if key in found:
            fail(ValidationError(f"{option} names `{key}` twice"))
        found[key] = value
    return found


def where(problem: object) -> str:
    """One problem of a rejected policy set as `file:line: message`."""
    if not isinstance(problem, dict):
        return str(problem)
    file, line, message = problem.get("file"), problem.get("line"), problem.get("message", "")
    at = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    return f"{at}{message}"


PENDING_NOTE = (
    "\n[yellow]the store or the audit log is unavailable[/]: this is enforced now by every Proctor "
    "process of this workspace on this host, and recorded in the store and the audit log once they are back"
)


def kill(workspace: str | None, kind: str, target: str, reason: str, state: str = "") -> bool:
    """Suspend an agent or end a task; when the store or the log fails (even before a Proctor can
    be opened), pend it in the workspace's kill file. Returns whether it was recorded."""
    from proctor.app import Proctor
    from proctor.clock import SystemClock
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


__all__ = [
    "PENDING_NOTE",
    "JsonOpt",
    "SinceOpt",
    "StoreOpt",
    "WorkspaceOpt",
    "emit_json",
    "err",
    "fail",
    "handled",
    "key_values",
    "kill",
    "opened",
    "out",
    "print_table",
    "since_time",
    "ts",
    "where",
]
