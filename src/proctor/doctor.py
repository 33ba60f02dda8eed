"""``proctor doctor``: check a workspace end to end, one finding per check, each with a fix.

What is checked, in order: the configuration (``proctor.yaml``); file modes (``keys/`` and every
key in it owner-only: a key others can read is a failure; other workspace files readable by others
are a warning); the store opens and its schema migrations are all applied; the policy set in
``policies/`` validates; the audit chain and its checkpoints verify (an unsigned tail is noted);
each stored task template (docs/adr/0029) lists agents that exist, are active and have valid
selectors, declares tool patterns that match a known tool or a configured upstream, and has a
lifetime ``task start`` takes (a long one is a warning: it bounds a stdio session's task when the
daemon dies); ``upstreams.yaml`` parses, each stdio upstream's command resolves to an executable by
absolute path (a bare name found only through ``PATH`` is a warning: GUI clients start the gateway
with a bare ``PATH``) and each HTTP upstream answers; and, given a client's configuration (the JSON
``proctor mcp-config`` prints), that it points at this workspace and would start, and that the
template it names (``--template`` or ``PROCTOR_TEMPLATE``) exists and names a requester.

The doctor reads and never repairs: it applies no migration and changes no mode (every other command
that opens the workspace does both). Its exit code is the worst finding: 0 all ok, 1 a warning,
2 a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from proctor.config import CONFIG_FILE, Settings, load_settings
from proctor.errors import ProctorError
from proctor.workspace import Workspace

__all__ = ["EXIT_CODES", "Finding", "exit_code", "run_checks"]

OK, WARN, FAIL = "ok", "warn", "fail"
#: the exit code of each worst status
EXIT_CODES = {OK: 0, WARN: 1, FAIL: 2}
#: how long an upstream URL or a client's command gets to answer
_PROBE_TIMEOUT_S = 5.0
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``status`` is ``ok``, ``warn`` or ``fail``; ``fix`` says what to do."""

    status: str
    check: str
    message: str
    fix: str = ""


def exit_code(findings: list[Finding]) -> int:
    """0 when every check is ok, 1 when the worst is a warning, 2 when one failed."""
    return max((EXIT_CODES[f.status] for f in findings), default=0)


def run_checks(ws: Workspace, *, client_config: Path | None = None) -> Iterator[Finding]:
    """Every check of ``ws`` (and of ``client_config`` when given), as they complete."""
    settings: Settings | None = None
    try:
        settings = load_settings(ws.config_path)
    except ProctorError as exc:
        yield Finding(FAIL, "config", exc.message, f"edit {ws.config_path} (docs/config-reference.md)")
    else:
        yield Finding(OK, "config", f"{CONFIG_FILE} is valid (trust domain {settings.trust_domain})")
    yield from _permissions(ws, settings)
    if settings is not None:
        yield from _store_checks(ws, settings)
    yield from _upstreams(ws)
    if client_config is not None:
        yield from _client(ws, client_config, settings)


# files and modes -------------------------------------------------------------------------------


def _mode(path: Path) -> int | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)


def _permissions(ws: Workspace, settings: Settings | None) -> Iterator[Finding]:
    if os.name != "posix":
        yield Finding(WARN, "permissions", "file modes are not checked on this platform")
        return
    problems: list[Finding] = []
    root = _mode(ws.root)
    if root is not None and root & 0o022:
        problems.append(
            Finding(
                FAIL, "permissions", f"{ws.root} is writable by others ({oct(root)})", f"chmod go-w {ws.root}"
            )
        )
    keys = _mode(ws.keys_dir)
    if keys is None:
        problems.append(Finding(FAIL, "permissions", f"{ws.keys_dir} is missing", "restore it from a backup"))
    elif keys & 0o077:
        problems.append(
            Finding(
                FAIL,
                "permissions",
                f"{ws.keys_dir} is open to others ({oct(keys)})",
                f"chmod 700 {ws.keys_dir}",
            )
        )
    with contextlib.suppress(OSError):
        for entry in sorted(ws.keys_dir.iterdir()):
            mode = _mode(entry)
            if mode is not None and entry.is_file() and mode & 0o077:
                problems.append(
                    Finding(
                        FAIL,
                        "permissions",
                        f"key file {entry} is readable or writable by others ({oct(mode)})",
                        f"chmod 600 {entry} and rotate the key (`proctor keys rotate`): it may have been read",
                    )
                )
    policies = _mode(ws.policies_dir)
    if policies is not None and policies & 0o077:
        problems.append(
            Finding(
                WARN,
                "permissions",
                f"{ws.policies_dir} is open to others ({oct(policies)})",
                f"chmod 700 {ws.policies_dir}",
            )
        )
    files = [ws.config_path, ws.root / "upstreams.yaml"]
    if settings is not None and settings.store_url.startswith("sqlite:///"):
        db = _sqlite_path(ws, settings.store_url)
        files += [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    for path in files:
        mode = _mode(path)
        if mode is not None and mode & 0o077:
            problems.append(
                Finding(
                    WARN,
                    "permissions",
                    f"{path} is readable or writable by others ({oct(mode)})",
                    f"chmod 600 {path}",
                )
            )
    yield from problems or [Finding(OK, "permissions", "keys/ and its keys are owner-only")]


# store, policies, audit --------------------------------------------------------------------------


def _sqlite_path(ws: Workspace, url: str) -> Path:
    raw = Path(url.removeprefix("sqlite:///"))
    return raw if raw.is_absolute() else ws.root / raw


def _pending_migrations(ws: Workspace, url: str) -> list[str]:
    """The ids of the schema migrations the store lacks (read only: nothing is applied)."""
    from yoyo import get_backend, read_migrations

    if url.startswith("sqlite:///"):
        engine, backend_url = "sqlite", f"sqlite:///{_sqlite_path(ws, url).resolve()}"
    else:
        engine, backend_url = "postgres", "postgresql+psycopg://" + url.split("://", 1)[1]
    src = resources.files("proctor.store") / "migrations" / engine
    with resources.as_file(src) as folder:
        backend = get_backend(backend_url)
        try:
            return [m.id for m in backend.to_apply(read_migrations(str(folder)))]
        finally:
            backend.connection.close()


def _store_checks(ws: Workspace, settings: Settings) -> Iterator[Finding]:
    from proctor.redact import redact_url
    from proctor.store import open_store

    url = settings.store_url
    shown = url if url.startswith("sqlite:///") else redact_url(url)
    if url.startswith("sqlite:///") and not _sqlite_path(ws, url).is_file():
        yield Finding(
            FAIL,
            "store",
            f"the database {_sqlite_path(ws, url)} is missing",
            "restore it, or `proctor init` anew",
        )
        return
    try:
        store = open_store(url, base_dir=ws.root, migrate=False)
    except ProctorError as exc:
        yield Finding(FAIL, "store", f"{shown} does not open: {exc.message}", "check `store` in proctor.yaml")
        return
    try:
        try:
            pending = _pending_migrations(ws, url)
        except Exception as exc:  # yoyo and the drivers raise their own errors
            yield Finding(FAIL, "store", f"{shown}: its schema cannot be read ({type(exc).__name__})")
            return
        if pending:
            yield Finding(
                FAIL,
                "store",
                f"{shown} lacks {len(pending)} schema migration(s): {', '.join(pending[:3])}",
                "run `proctor status` (any command that opens the workspace applies them)",
            )
            return
        yield Finding(OK, "store", f"{shown} opens; its schema is current")
        yield _policy_check(ws, settings, store)
        yield _audit_check(ws, settings, store)
        yield from _template_checks(ws, settings, store)
    finally:
        store.close()


def _policy_check(ws: Workspace, settings: Settings, store: Any) -> Finding:
    from proctor.errors import PolicyLoadError
    from proctor.policy.loader import load_policy_dir, policy_errors

    tools = {t.name: t for t in store.list_tools()}
    tools.update((t.name, t) for t in settings.tools)
    try:
        ps = load_policy_dir(ws.policies_dir, tools=list(tools.values()))
    except PolicyLoadError as exc:
        first = policy_errors(exc)[0]
        where = ":".join(str(x) for x in (first["file"], first["line"]) if x is not None)
        return Finding(
            FAIL,
            "policies",
            f"the policy set does not validate: {where + ': ' if where else ''}{first['message']}",
            "fix it and run `proctor policy validate`",
        )
    return Finding(OK, "policies", f"the policy set validates ({ps.version})")


def _audit_check(ws: Workspace, settings: Settings, store: Any) -> Finding:
    from proctor.app import verify_audit_store

    report = verify_audit_store(store, ws.keys_dir, settings=settings)
    if not report.ok:
        first = report.problems[0]
        return Finding(
            FAIL,
            "audit",
            f"the audit log does not verify at record {first.seq}: {first.message} [{first.code}]",
            "run `proctor audit verify` to list every problem",
        )
    tail = f"; the last {report.unsigned_tail} not signed yet" if report.unsigned_tail else ""
    return Finding(OK, "audit", f"the audit chain verifies: {report.records_checked} records{tail}")


# task templates --------------------------------------------------------------------------------

#: a template lifetime above this is a warning: it bounds how long a stdio session's task outlives a
#: daemon that was killed (docs/adr/0029, "If the daemon dies")
LONG_TEMPLATE_TTL_S = 8 * 3600.0


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds:g}s"


def _template_checks(ws: Workspace, settings: Settings, store: Any) -> Iterator[Finding]:
    """One finding per problem of each stored task template, or one ok for a sound template."""
    from fnmatch import fnmatchcase

    from proctor.gateway.config import load_upstreams
    from proctor.identity.agents import check_selectors
    from proctor.policy.scope import declares_namespace
    from proctor.types import AgentName, AgentStatus

    try:
        templates = store.list_templates()
    except ProctorError as exc:
        yield Finding(FAIL, "templates", f"the task templates cannot be read: {exc.message}")
        return
    if not templates:
        yield Finding(OK, "templates", "none stored (`proctor template add` adds one)")
        return
    tools = {t.name for t in store.list_tools()} | {t.name for t in settings.tools}
    try:
        namespaces = [u.namespace for u in load_upstreams(ws.root)]
    except ProctorError:
        namespaces = []  # the upstreams check reports it
    for tpl in templates:
        check = f"template {tpl.name}"
        replace = f"add it again: `proctor template add {tpl.name} --replace ...`"
        found: list[Finding] = []
        for name in tpl.agents:
            try:
                agent = store.get_agent(AgentName(name))
            except (ProctorError, ValueError):
                agent = None
            if agent is None:
                found.append(
                    Finding(
                        FAIL,
                        check,
                        f"it lists agent `{name}`, which does not exist: starting it as `{name}` is refused",
                        f"`proctor agent add {name} --owner EMAIL`, or {replace} without it",
                    )
                )
                continue
            if agent.status is not AgentStatus.ACTIVE:
                found.append(
                    Finding(
                        WARN,
                        check,
                        f"it lists agent `{name}`, which is {agent.status.value}: its tasks are refused",
                        f"`proctor agent resume {name}`, or {replace} without it",
                    )
                )
            try:
                check_selectors(agent.selectors)
            except ProctorError as exc:
                found.append(
                    Finding(
                        FAIL,
                        check,
                        f"agent `{name}` has selectors attestation cannot use: {exc.message}",
                        f"`proctor agent selectors {name} --selector unix:uid:UID`",
                    )
                )
        for pattern in tpl.allow:
            if any(fnmatchcase(t, pattern) for t in tools) or any(
                declares_namespace([pattern], ns) for ns in namespaces
            ):
                continue
            found.append(
                Finding(
                    WARN,
                    check,
                    f"its tool pattern `{pattern}` matches no known tool and no configured upstream:"
                    " its tasks could call nothing through it",
                    f"fix the pattern ({replace}), or `proctor upstream add` the upstream it names",
                )
            )
        if not 0 < tpl.ttl_s <= settings.task_max_ttl_s:
            found.append(
                Finding(
                    FAIL,
                    check,
                    f"its lifetime {_duration(tpl.ttl_s)} is outside 1s to task_max_ttl_s"
                    f" ({_duration(settings.task_max_ttl_s)}): every start from it is refused",
                    f"{replace} with a shorter --ttl",
                )
            )
        elif tpl.ttl_s > LONG_TEMPLATE_TTL_S:
            found.append(
                Finding(
                    WARN,
                    check,
                    f"its lifetime {_duration(tpl.ttl_s)} is long: a stdio session's task outlives a"
                    " killed gateway daemon by up to that much",
                    f"{replace} with --ttl {_duration(LONG_TEMPLATE_TTL_S)} or less",
                )
            )
        if found:
            yield from found
        else:
            yield Finding(
                OK,
                check,
                f"{len(tpl.agents)} agent(s), {len(tpl.allow)} tool pattern(s), ttl {_duration(tpl.ttl_s)}",
            )


def _client_template(ws: Workspace, settings: Settings | None, where: str, name: str) -> Iterator[Finding]:
    """The template a stdio client config names: stored, with a requester (a stdio session needs one)."""
    from proctor.store import open_store
    from proctor.tasks.templates import check_template_name

    try:
        check_template_name(name)
    except ProctorError as exc:
        yield Finding(FAIL, where, exc.message, "print the configuration again with `proctor mcp-config`")
        return
    if settings is None:
        return  # the config check reports it
    try:
        store = open_store(settings.store_url, base_dir=ws.root, migrate=False)
    except ProctorError:
        return  # the store check reports it
    try:
        tpl = store.get_template(name)
    except ProctorError:
        return
    finally:
        store.close()
    if tpl is None:
        yield Finding(
            FAIL,
            where,
            f"it names template `{name}`, which does not exist: every launch is refused (unknown_template)",
            f"`proctor template add {name} --agent AGENT --purpose ... --allow ... --requested-by EMAIL`",
        )
    elif tpl.requested_by is None:
        yield Finding(
            FAIL,
            where,
            f"template `{name}` names no requester, which a stdio session needs: every launch is refused",
            f"add it again: `proctor template add {name} --replace --requested-by EMAIL ...`",
        )
    else:
        yield Finding(OK, where, f"template `{name}` exists (agents: {', '.join(tpl.agents)})")


# upstreams -------------------------------------------------------------------------------------


def _resolve_command(command: str) -> tuple[str, str | None]:
    """``(status, path)``: ``ok`` for an absolute path to an executable, ``warn`` for a bare name
    found through this process's ``PATH``, ``fail`` for neither."""
    if os.path.isabs(command):
        usable = os.path.isfile(command) and os.access(command, os.X_OK)
        return (OK, command) if usable else (FAIL, None)
    found = shutil.which(command)
    return (WARN, os.path.abspath(found)) if found else (FAIL, None)


def _answers(url: str) -> str | None:
    """None when something answers HTTP at ``url`` (any status), else why not."""
    import httpx

    try:  # the status line is enough: an MCP endpoint may answer GET with an endless event stream
        with httpx.stream("GET", url, timeout=_PROBE_TIMEOUT_S, follow_redirects=False):
            pass
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    return None


def _upstreams(ws: Workspace) -> Iterator[Finding]:
    from proctor.gateway.config import UPSTREAMS_FILE, load_upstreams

    try:
        ups = load_upstreams(ws.root)
    except ProctorError as exc:
        yield Finding(FAIL, "upstreams", exc.message, f"edit {ws.root / UPSTREAMS_FILE}")
        return
    if not ups:
        yield Finding(OK, "upstreams", "none configured (`proctor upstream add` adds one)")
    for up in ups:
        check = f"upstream {up.namespace}"
        if up.transport == "stdio":
            assert up.command is not None
            status, path = _resolve_command(up.command)
            if status == OK:
                yield Finding(OK, check, f"command {up.command} is executable")
            elif status == WARN:
                yield Finding(
                    WARN,
                    check,
                    f"command `{up.command}` is found only through PATH ({path}); GUI clients start"
                    " the gateway with a bare PATH",
                    f"set `command: {path}` in {UPSTREAMS_FILE}",
                )
            else:
                yield Finding(
                    FAIL,
                    check,
                    f"command `{up.command}` is not an executable file",
                    f"install it, or set its absolute path as `command` in {UPSTREAMS_FILE}",
                )
        else:
            assert up.url is not None
            why = _answers(up.url)
            if why is None:
                yield Finding(OK, check, f"{up.url} answers")
            else:
                yield Finding(FAIL, check, f"{up.url} does not answer ({why})", "start it, or fix its `url`")
            if up.transport == "a2a" and up.a2a.get("allow_unsigned"):
                yield Finding(
                    WARN,
                    check,
                    "its agent card is accepted unsigned: nothing proves the card is the agent's own",
                    f"pin the agent's key: `proctor upstream remove {up.namespace}`, then"
                    " `proctor upstream add ... --a2a URL --card-key KEY`",
                )


# a client's configuration -------------------------------------------------------------------------


def _client(ws: Workspace, path: Path, settings: Settings | None = None) -> Iterator[Finding]:
    check = "client config"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        yield Finding(
            FAIL, check, f"{path} is not readable JSON ({exc})", "paste what `proctor mcp-config` prints"
        )
        return
    servers = data.get("mcpServers") or data.get("servers") if isinstance(data, Mapping) else None
    if not isinstance(servers, Mapping) or not servers:
        yield Finding(
            FAIL, check, f"{path} names no server (`mcpServers` or `servers`)", "use `proctor mcp-config`"
        )
        return
    for name, entry in servers.items():
        where = f"client {name}"
        if not isinstance(entry, Mapping):
            yield Finding(FAIL, where, "the entry is not a JSON object", "use `proctor mcp-config`")
            continue
        env = entry.get("env") or {}
        headers = entry.get("headers") or {}
        values = [str(v) for v in (*dict(env).values(), *dict(headers).values())]
        if any("<" in v and ">" in v for v in values):
            yield Finding(
                WARN,
                where,
                "a `<…>` placeholder is still in the configuration",
                "replace each with what its text says to run",
            )
        if isinstance(entry.get("command"), str):
            args = entry.get("args") or []
            yield from _client_stdio(ws, where, str(entry["command"]), args)
            template = _named_template(args, env)
            if template is not None:
                yield from _client_template(ws, settings, where, template)
        elif isinstance(entry.get("url"), str):
            url = str(entry["url"])
            why = _answers(url)
            if why is None:
                yield Finding(OK, where, f"the gateway answers at {url}")
            else:
                yield Finding(
                    FAIL, where, f"nothing answers at {url} ({why})", "start it: `proctor gateway --http`"
                )
        else:
            yield Finding(
                FAIL, where, "the entry has neither `command` nor `url`", "use `proctor mcp-config`"
            )


def _client_stdio(ws: Workspace, where: str, command: str, args: Any) -> Iterator[Finding]:
    from proctor.gateway.thin import SOCKET_NAME

    status, path = _resolve_command(command)
    if status != OK:
        yield Finding(
            FAIL,
            where,
            f"command `{command}` is not an executable file by absolute path (clients start it with a bare PATH)",
            f"set `command` to {path}" if path else "print the configuration again with `proctor mcp-config`",
        )
        return
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        yield Finding(FAIL, where, "`args` is not a list of strings", "use `proctor mcp-config`")
        return
    if Path(command).name.startswith("proctor"):
        expected = (ws.run_dir / SOCKET_NAME).resolve()
        given = {a: args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--socket", "--workspace", "-w")}
        if "--socket" in given and Path(given["--socket"]).resolve() != expected:
            yield Finding(
                FAIL,
                where,
                f"it relays to {given['--socket']}, not this workspace's socket {expected}",
                "print the configuration again with `proctor mcp-config` in this workspace",
            )
            return
        for opt in ("--workspace", "-w"):
            if opt in given and Path(given[opt]).expanduser().resolve() != ws.root:
                yield Finding(
                    FAIL,
                    where,
                    f"it names the workspace {given[opt]}, not {ws.root}",
                    "print the configuration again with `proctor mcp-config` in this workspace",
                )
                return
        try:
            done = subprocess.run(  # noqa: S603 - the command the client itself would run, checked above
                [command, "gateway", "--help"],
                capture_output=True,
                timeout=_START_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            yield Finding(
                FAIL, where, f"`{command} gateway --help` does not run ({exc})", "reinstall Proctor"
            )
            return
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            yield Finding(
                FAIL, where, f"`{command} gateway` does not start: {tail[0][:160]}", "reinstall Proctor"
            )
            return
        if "--socket" in given:
            if _socket_answers(expected):
                yield Finding(OK, where, f"{command} starts and the gateway daemon listens at {expected}")
            else:
                yield Finding(
                    WARN,
                    where,
                    f"{command} starts, but no gateway daemon listens at {expected}",
                    "start it as the workspace's owner: `proctor gateway --http` (or `--unix`)",
                )
            return
    yield Finding(OK, where, f"command {command} is executable")


def _named_template(args: Any, env: Any) -> str | None:
    """The template a stdio client config names: ``--template NAME`` (or ``--template=NAME``) in
    its args, else ``PROCTOR_TEMPLATE`` in its env (as the thin client reads them)."""
    from proctor.gateway.thin import ENV_TEMPLATE

    if isinstance(args, list):
        for i, a in enumerate(args):
            if a == "--template" and i + 1 < len(args):
                return str(args[i + 1])
            if isinstance(a, str) and a.startswith("--template="):
                return a.split("=", 1)[1]
    value = env.get(ENV_TEMPLATE) if isinstance(env, Mapping) else None
    return str(value) if value is not None else None


def _socket_answers(path: Path) -> bool:
    if not hasattr(socket, "AF_UNIX"):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(_PROBE_TIMEOUT_S)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
