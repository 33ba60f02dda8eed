"""``proctor upstream``: the upstream MCP servers the gateway routes to, their tools and the
credentials they need. Every change is made and recorded by :mod:`proctor.gateway.upstreams`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from proctor.cli._common import (
    JsonOpt,
    WorkspaceOpt,
    emit_json,
    err,
    fail,
    handled,
    key_values,
    opened,
    out,
    print_table,
)
from proctor.cli.text import cell, markup_safe
from proctor.errors import ValidationError
from proctor.text import safe_text
from proctor.tools.known import KnownTools

upstream_app = typer.Typer(help="Upstream MCP servers the gateway routes to.", no_args_is_help=True)
credential_app = typer.Typer(help="Credentials an upstream needs, leased per task.", no_args_is_help=True)
upstream_app.add_typer(credential_app, name="credential")


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
    a2a: Annotated[
        str | None,
        typer.Option(
            "--a2a",
            help="Or: an A2A agent at this URL (its card, or the base of /.well-known/agent-card.json).",
        ),
    ] = None,
    card_key: Annotated[
        list[str] | None,
        typer.Option(
            help="--a2a: the key the agent card must be signed with: a PEM public key or JWK(S) file, or a"
            " JWK Set URL (repeatable). Pinned; the card's own jku is never followed."
        ),
    ] = None,
    allow_unsigned_card: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned-card", help="--a2a: accept an agent card with no signature (NOT recommended)."
        ),
    ] = False,
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
    from proctor.credentials.detect import looks_like_secret
    from proctor.errors import ConfigError
    from proctor.gateway.config import upstream_from_mapping

    if a2a is not None:
        if command is not None or url is not None or arg or env or tool_resource_arg or describe_resources:
            fail(ValidationError("--a2a takes neither --command, --url, --arg, --env nor resource options"))
        _add_a2a(
            namespace, a2a, card_key or [], allow_unsigned_card, tool_effect, timeout, no_prefix, workspace
        )
        return
    if card_key or allow_unsigned_card:
        fail(ValidationError("--card-key and --allow-unsigned-card apply to an --a2a upstream only"))
    if (command is None) == (url is None):
        fail(
            ValidationError(
                "pass exactly one of --command (stdio), --url (Streamable HTTP) or --a2a (A2A agent)"
            )
        )
    if url is not None and (arg or env):
        fail(ValidationError("--arg and --env apply to a --command upstream only"))
    env_map = key_values(env, "--env")
    tools: dict[str, dict[str, str]] = {}
    for tool, value in key_values(tool_effect, "--tool-effect").items():
        tools.setdefault(tool, {})["effect"] = value
    for tool, value in key_values(tool_resource_arg, "--tool-resource-arg").items():
        tools.setdefault(tool, {})["resource_arg"] = value
    raw: dict[str, Any] = {"namespace": namespace, "default": {"effect": effect}, "timeout": timeout}
    missing = None
    if command is not None:
        command, missing = _absolute_command(command)
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
        actions = p.policies.schema_actions()
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
        # a command known to be missing is not started just to fail: its names stay unchecked
        listed, unchecked = _list_for_add(
            cfg, describe=describe_resources, check=bool(tools) and missing is None
        )
        if listed is not None:
            names = {t.name for t in listed}
            for option, given in (("--tool-effect", tool_effect), ("--tool-resource-arg", tool_resource_arg)):
                KnownTools.check_upstream_tools(
                    [item.partition("=")[0] for item in given or []], names, option
                )
        if describe_resources:
            assert listed is not None
            cfg, described = _describe_resources(cfg, listed)
        p.tools.add_upstream(root, cfg, by="cli")
    if missing is not None:
        if tools:
            missing += "; the tool names of --tool-effect/--tool-resource-arg were not checked"
        err.print(f"[yellow]warning[/] {markup_safe(missing)}", highlight=False, soft_wrap=True)
    if unchecked is not None:
        err.print(f"[yellow]warning[/] {markup_safe(unchecked)}", highlight=False, soft_wrap=True)
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


def _add_a2a(
    namespace: str,
    url: str,
    card_keys: list[str],
    allow_unsigned: bool,
    tool_effect: list[str] | None,
    timeout: str,
    no_prefix: bool,
    workspace: Any,
) -> None:
    """``upstream add --a2a``: pin the operator's card keys, verify the card, register its skills."""
    from proctor.gateway.a2a import load_card_keys
    from proctor.gateway.names import check_namespace
    from proctor.gateway.upstreams import a2a_upstream

    if not card_keys and not allow_unsigned:
        fail(
            ValidationError(
                "--a2a needs --card-key (the key its card is signed with): trust on first use is not enough;"
                " --allow-unsigned-card accepts an unsigned card"
            )
        )
    keys: list[dict[str, Any]] = []
    jwks_url = None
    for spec in card_keys:
        if spec.startswith(("http://", "https://")):
            if jwks_url is not None:
                fail(ValidationError("--card-key: one JWK Set URL at most"))
            jwks_url = spec
        else:
            try:
                keys.extend(load_card_keys(spec))
            except ValidationError as exc:
                fail(exc)
    effects = key_values(tool_effect, "--tool-effect")
    with opened(workspace) as p, handled():
        check_namespace(namespace, p.settings.gateway_tool_separator)
        actions = p.policies.schema_actions()
        for skill, eff in effects.items():
            if eff not in actions:
                raise ValidationError(
                    f"--tool-effect {skill}: effect `{eff}` has no action in the policy schema;"
                    f" known: {', '.join(sorted(actions))}"
                )
        cfg = a2a_upstream(
            namespace,
            url,
            keys=keys,
            jwks_url=jwks_url,
            allow_unsigned=allow_unsigned,
            effects=effects,
            timeout=timeout,
            prefix=not no_prefix,
        )
        pinned = p.tools.add_a2a_upstream(p.workspace.root, cfg, actions=actions, by="cli")
    if allow_unsigned:
        err.print(
            "[bold red]WARNING[/] --allow-unsigned-card: nothing proves this card is the agent's own; anyone"
            " who can answer its URL can describe its skills. Pin a key with --card-key instead.",
            highlight=False,
        )
    out.print(f"[green]added[/] A2A agent {namespace} ({markup_safe(pinned.url or '')})", highlight=False)
    for skill, desc in sorted(pinned.tools.items()):
        out.print(
            f"  skill {markup_safe(skill)}: effect {markup_safe(str(desc.get('effect')))}", highlight=False
        )
    if any(str(d.get("effect")) == "execute" and s not in effects for s, d in pinned.tools.items()):
        out.print(
            "  (a card cannot make its own skills reads: a skill you have checked only reads takes"
            " `--tool-effect SKILL=read`)",
            highlight=False,
        )
    out.print(f"card pinned: {pinned.a2a.get('card_digest')}")
    out.print(
        f"next: `proctor upstream tools {namespace}`; `proctor upstream refresh {namespace}` checks the card again"
    )


@upstream_app.command("refresh")
def upstream_refresh(
    namespace: str,
    repin: Annotated[
        bool, typer.Option("--repin", help="Accept a changed card whose signature verifies, and pin it anew.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check an A2A agent's card again: signature by a pinned key, and unchanged since pinned."""
    from proctor.gateway.upstreams import find_upstream

    with opened(workspace) as p, handled():
        before = {
            s: str(d.get("effect")) for s, d in find_upstream(p.workspace.root, namespace).tools.items()
        }
        cfg = p.tools.refresh_a2a_upstream(
            p.workspace.root, namespace, repin=repin, actions=p.policies.schema_actions(), by="cli"
        )
    verb = "re-pinned" if repin else "verified"
    out.print(f"[green]{verb}[/] the card of {namespace}: {cfg.a2a.get('card_digest')}")
    if repin:
        # a re-pinned card may declare other effects (`execute` -> `write`): show what was accepted
        for skill, desc in sorted(cfg.tools.items()):
            effect = str(desc.get("effect"))
            was = before.get(skill)
            change = "" if was == effect else (" (new skill)" if was is None else f" (was {was})")
            out.print(
                f"  skill {markup_safe(skill)}: effect {markup_safe(effect)}{markup_safe(change)}",
                highlight=False,
            )
        for skill in sorted(set(before) - set(cfg.tools)):
            out.print(f"  skill {markup_safe(skill)}: removed", highlight=False)


@upstream_app.command("list")
def upstream_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List upstream MCP servers and how many of their tools are pinned."""
    from proctor.gateway.config import load_upstreams
    from proctor.gateway.upstreams import upstream_summary

    with opened(workspace) as p, handled():
        ups = load_upstreams(p.workspace.root)
        pins = p.tools.pins()
    pinned: dict[str, int] = {}
    for pin in pins:
        pinned[pin.namespace] = pinned.get(pin.namespace, 0) + 1
    rows = [{**upstream_summary(u), "pinned_tools": pinned.get(u.namespace, 0)} for u in ups]
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
    print_table(t)


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

    raw: dict[str, Any] = {"name": name, "provider": provider}
    for key, value in key_values(param, "--param").items():
        if key in ("name", "provider", "header", "env"):
            fail(ValidationError(f"--param {key}: use the option of that name"))
        try:
            raw[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            fail(ValidationError(f"--param {key}: not a YAML value"))
    if header:
        raw["header"] = key_values(header, "--header")
    if env:
        raw["env"] = key_values(env, "--env")
    with opened(workspace) as p, handled():
        p.tools.add_upstream_credential(
            p.workspace.root, namespace, raw, p.credentials.leases.providers, by="cli"
        )
    out.print(f"[green]added[/] credential {markup_safe(name)} ({provider}) to upstream {namespace}")


@credential_app.command("remove")
def upstream_credential_remove(namespace: str, name: str, workspace: WorkspaceOpt = None) -> None:
    """Take a credential off an upstream (leases already issued end with their tasks)."""
    with opened(workspace) as p, handled():
        p.tools.remove_upstream_credential(p.workspace.root, namespace, name, by="cli")
    out.print(f"[green]removed[/] credential {markup_safe(name)} from upstream {namespace}")


@upstream_app.command("remove")
def upstream_remove(namespace: str, workspace: WorkspaceOpt = None) -> None:
    """Remove an upstream and its tool pins."""
    with opened(workspace) as p, handled():
        removed = p.tools.remove_upstream(p.workspace.root, namespace, by="cli")
    out.print(f"[green]removed[/] upstream {namespace}" + (f" and its {removed} pins" if removed else ""))


def _absolute_command(command: str) -> tuple[str, str | None]:
    """The command an upstream is started with, as an absolute path: a client that spawns the
    gateway (Claude Desktop, Cursor) starts it with a bare PATH, where `uvx` or `npx` is not found.
    A bare name is looked up on this shell's PATH, a relative path made absolute from the current
    directory. Not found: kept as given (the server may be installed later; `upstream add` never
    needed it running) and a one-line warning is returned."""
    import os
    import shutil

    if os.sep in command or (os.altsep is not None and os.altsep in command):
        path = os.path.abspath(os.path.expanduser(command))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path, None
        return path, f"`{path}` is not an executable file: the upstream will not start until it is"
    found = shutil.which(command)
    if found is not None:
        return os.path.abspath(found), None
    return command, (
        f"command `{command}` is not on PATH: stored as given, so the gateway looks for it on its own"
        " PATH when it starts the upstream (a desktop client's PATH is often bare); install it or give"
        " an absolute path"
    )


def _list_for_add(cfg: Any, *, describe: bool, check: bool) -> tuple[list[Any] | None, str | None]:
    """The upstream's tools when `upstream add` needs them (``--describe-resources``, or tool
    overrides whose names are checked), and a warning when they could not be listed for the check
    alone: the names then stay unchecked (the server may not be installed yet) instead of failing."""
    from proctor.errors import UpstreamError
    from proctor.gateway.discovery import discover_sync

    if not (describe or check):
        return None, None
    try:
        return discover_sync(cfg), None
    except UpstreamError as exc:
        if describe:
            raise
        return None, f"{exc.message}: the tool names of --tool-effect/--tool-resource-arg were not checked"


def _describe_resources(cfg: Any, listed: list[Any]) -> tuple[Any, dict[str, str]]:
    """``cfg`` with a resource argument for every tool whose input schema suggests one and that
    has none described; and what was added."""
    from dataclasses import replace

    from proctor.gateway.config import suggest_resource_arg

    tools = {k: dict(v) for k, v in cfg.tools.items()}
    added: dict[str, str] = {}
    for tool in listed:
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
    from proctor.gateway.upstreams import find_upstream

    with opened(workspace) as p, handled():
        cfg = find_upstream(p.workspace.root, namespace)
        sep = p.settings.gateway_tool_separator
        reserved = {u.namespace for u in load_upstreams(p.workspace.root) if u.prefix}
        report = compare(
            namespace,
            discover_sync(cfg),
            p.tools.pins(namespace),
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
    print_table(t)
    if suggested:
        err.print(
            "[yellow]note[/] a task that declares resources denies tools whose resource argument is not"
            f" described; describe them in upstreams.yaml under `{escape(namespace)}`'s `tools:`, e.g. "
            + ", ".join(
                f"{markup_safe(safe_text(k, 40, newlines=True))}: {{resource_arg: {markup_safe(v)}}}"
                for k, v in sorted(suggested.items())[:5]
            ),
            highlight=False,
        )
    if not report.pinned:
        err.print(
            f"[yellow]warning[/] `{namespace}` is not pinned: its tools are usable unchecked;"
            f" run `proctor tools pin {namespace}`"
        )


__all__ = ["credential_app", "upstream_app"]
