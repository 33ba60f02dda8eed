"""``proctor tool`` (the tool registry) and ``proctor tools`` (pin upstream MCP tool definitions
and detect when they change)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from proctor.cli._common import JsonOpt, WorkspaceOpt, emit_json, err, handled, opened, out, print_table
from proctor.cli.text import cell, markup_safe

tool_app = typer.Typer(help="The tool registry.", no_args_is_help=True)
tools_app = typer.Typer(
    help="Pin upstream MCP tool definitions and detect when they change.", no_args_is_help=True
)


# the registry ----------------------------------------------------------------------------------
@tool_app.command("add")
def tool_add(
    name: str,
    effect: Annotated[str, typer.Option(help="read | write | execute | send | pay | deploy | …")],
    resource: Annotated[str, typer.Option(help="Resource pattern the tool may touch.")] = "*",
    resource_arg: Annotated[str | None, typer.Option(help="The argument naming the resource.")] = None,
    trust: Annotated[str, typer.Option(help="Label of its output: trusted | untrusted.")] = "trusted",
    sensitivity: Annotated[str, typer.Option(help="public | internal | confidential | secret")] = "internal",
    flag: Annotated[
        list[str] | None,
        typer.Option(
            help="destructive, financial, customer_facing, production, access_control, credential_change,"
            " egress (repeat the option for several)"
        ),
    ] = None,
    input_schema: Annotated[
        Path | None,
        typer.Option(
            "--input-schema",
            help="JSON Schema of the tool's arguments (a file): policies read them typed as context.args.",
        ),
    ] = None,
    destination: Annotated[
        list[str] | None,
        typer.Option(
            "--destination",
            help="An argument that decides where data or money goes (`to`, `to[]`, `recipient.email`); repeatable.",
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Register or update a tool."""
    from proctor.config import tool_from_mapping
    from proctor.errors import ValidationError

    raw: dict[str, Any] = {
        "name": name,
        "effect": effect,
        "resource": resource,
        "labels": {"trust": trust, "sensitivity": sensitivity},
        "flags": flag or [],
    }
    if resource_arg:
        raw["resource_arg"] = resource_arg
    if destination:
        raw["destinations"] = destination
    if input_schema is not None:
        with handled():
            try:
                raw["input_schema"] = input_schema.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ValidationError(f"--input-schema: cannot read `{input_schema}`: {exc}") from None
    with opened(workspace) as p, handled():
        rec = p.tools.put(tool_from_mapping(raw), by="cli")
    out.print(f"[green]registered[/] {rec.name} (v{rec.version}, effect {rec.effect})")


@tool_app.command("list")
def tool_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List registered tools."""
    from proctor.config import tool_to_mapping

    with opened(workspace) as p:
        tools = p.tools.list()
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
    print_table(t)


# tool pins -------------------------------------------------------------------------------------
@tools_app.command("pin")
def tools_pin(
    namespace: str,
    by: Annotated[str | None, typer.Option(help="Who approved these definitions (e-mail).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Discover an upstream's tools and pin their current definitions (audited)."""
    from proctor.errors import ProctorError
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.upstreams import find_upstream
    from proctor.types import Email

    with opened(workspace) as p, handled():
        pinned_by = "cli" if by is None else str(Email(by))
        cfg = find_upstream(p.workspace.root, namespace)
        discovered = discover_sync(cfg)
        pins, before = p.tools.pin(namespace, discovered, now=p.clock.now(), by=pinned_by)
        # registered now, with their input schemas, so that policies can name them and read their
        # arguments before an agent first lists them through the gateway
        listed = {t.name: t for t in discovered}
        for pin in pins:
            t = listed.get(pin.upstream_tool)
            if t is None:
                continue
            schema = t.input_schema if isinstance(t.input_schema, dict) else None
            try:
                p.tools.put(cfg.proctor_tool(t.name, t.description or "", schema), by=f"upstream:{namespace}")
            except ProctorError as exc:
                err.print(
                    f"[yellow]warning[/] `{markup_safe(pin.name, 80)}` not registered: {markup_safe(exc.message)}"
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
    from proctor.gateway.upstreams import find_upstream

    reports: list[Any] = []
    failures: list[ProctorError] = []
    with opened(workspace) as p, handled():
        root = p.workspace.root
        ups = [find_upstream(root, namespace)] if namespace is not None else load_upstreams(root)
        pins = p.tools.pins()
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


__all__ = ["tool_app", "tools_app"]
