"""The CLI's layout, checked on its source: one module per command group over shared helpers, no
import loop, and no state written past the services (by the CLI or the HTTP API)."""

from __future__ import annotations

import ast
from pathlib import Path

import proctor.cli
import proctor.server.api
import proctor.web

CLI = Path(proctor.cli.__file__).parent
#: what a command module may import of the CLI package: the shared helpers, never another group
SHARED = {"proctor.cli._common", "proctor.cli.text"}
#: what the CLI and the HTTP API may call on a store: reads only
STORE_READS = ("list_", "get_", "search_", "iter_", "audit_head", "active_policy_version", "epoch")
#: what they may call on the audit log: waiting for records the services already handed over
#: (`GET /v1/audit/verify` does, so that it verifies them too) and reading its head (`status`);
#: never a record of their own
AUDIT_ALLOWED = ("flush", "stored_head")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_command_modules_import_only_the_shared_helpers() -> None:
    """No command module imports `proctor.cli.main` or another command module (no import loop)."""
    modules = {p.stem for p in CLI.glob("*.py")} - {"__init__"}
    assert {"main", "_common", "agents", "audit", "tools", "upstreams", "secrets"} <= modules
    for path in CLI.glob("*.py"):
        if path.stem in ("main", "__init__"):
            continue
        cli_imports = {m for m in _imports(path) if m.startswith("proctor.cli.")}
        allowed = SHARED if path.stem != "_common" else {"proctor.cli.text"}
        # `from proctor.cli.text import cell` names the module and its members
        stray = {m for m in cli_imports if not any(m == a or m.startswith(a + ".") for a in allowed)}
        assert not stray, f"{path.name} imports {sorted(stray)}"


def _writes_past_services(path: Path) -> list[str]:
    """Calls of `<x>.audit.<method>` and of `<x>.store.<method>` other than a read."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Attribute) and owner.attr in ("audit", "store"):
            method = node.func.attr
            allowed = AUDIT_ALLOWED if owner.attr == "audit" else STORE_READS
            if not method.startswith(allowed):
                bad.append(f"{path.name}:{node.lineno} .{owner.attr}.{method}()")
    return bad


def test_the_cli_and_the_api_write_no_store_or_audit_record_themselves() -> None:
    """State changes and their audit records belong to the services: the CLI and the HTTP API
    call no store write and append no audit record of their own."""
    paths = [*CLI.glob("*.py"), Path(proctor.server.api.__file__)]
    found = [bad for p in paths for bad in _writes_past_services(p)]
    assert found == []


def _store_calls(path: Path) -> list[str]:
    """Calls of any method of `<x>.store` (a read included)."""
    return [
        f"{path.name}:{node.lineno} .store.{node.func.attr}()"
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "store"
    ]


def test_the_cli_and_the_api_read_through_the_services_too() -> None:
    """Reads as well as writes go through the services: `agent list`, `tool list`, `secret list`,
    `status` and the API's listings ask `p.agents`, `p.tools`, `p.credentials`, `p.policies` and
    `p.audit`, never a method of the store."""
    paths = [*CLI.glob("*.py"), Path(proctor.server.api.__file__)]
    found = [call for p in paths for call in _store_calls(p)]
    assert found == []


WEB = Path(proctor.web.__file__).parent
#: the objects the CLI (`p`) and the HTTP API and web pages (`proctor`) reach the services through
APP_NAMES = ("p", "proctor")


def _past_services(path: Path) -> list[str]:
    """`p.store` / `proctor.store` named at all (handed to a helper included), and the audit log
    (`<x>.audit`) passed as an argument: a helper handed the store or the log writes or reads
    past the service that owns the state."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "store"
            and isinstance(node.value, ast.Name)
            and node.value.id in APP_NAMES
        ):
            bad.append(f"{path.name}:{node.lineno} {node.value.id}.store")
        elif isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Attribute) and arg.attr == "audit":
                    bad.append(f"{path.name}:{node.lineno} .audit passed to a call")
    return bad


def test_the_cli_the_api_and_the_web_pages_hand_no_store_or_audit_log_to_a_helper() -> None:
    """The audit readers, the pins, `upstream remove`, the secret store and the introspection
    clients are reached through the services (`p.audit_records`, `p.tools`, `p.credentials`, …):
    no command, API route or web page names the store or hands the audit log to a function."""
    paths = [*CLI.glob("*.py"), Path(proctor.server.api.__file__), *WEB.glob("*.py")]
    found = [bad for p in paths for bad in _past_services(p)]
    assert found == []
