"""`proctor doctor` on real workspaces: a sound one, broken ones, and a client's configuration."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.e2e.thin_harness import PROCTOR, SRC, Daemon

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes and Unix sockets")


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROCTOR_WORKSPACE=str(ws), COLUMNS="250", PYTHONPATH=SRC)
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=180, check=False
    )


def lines(r: subprocess.CompletedProcess[str], status: str) -> list[str]:
    return [ln for ln in r.stdout.splitlines() if ln.startswith(status)]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    assert run(w, "init", str(w)).returncode == 0
    return w


def _upstreams(ws: Path, *entries: dict[str, object]) -> None:
    path = ws / "upstreams.yaml"
    path.write_text(json.dumps({"upstreams": list(entries)}))
    path.chmod(0o600)  # as `proctor upstream add` writes it


def test_a_fresh_workspace_is_all_ok(ws: Path) -> None:
    """Every check passes on what `proctor init` made, with an upstream by absolute path: exit 0."""
    _upstreams(ws, {"namespace": "t", "command": "/bin/true"})
    r = run(ws, "doctor")
    assert r.returncode == 0, r.stdout + r.stderr
    checks = [ln.split(":")[0].split(maxsplit=1) for ln in r.stdout.splitlines()]
    assert {c[1] for c in checks} >= {"config", "permissions", "store", "policies", "audit", "upstream t"}
    assert all(c[0] == "ok" for c in checks), r.stdout


def test_a_readable_key_and_a_missing_command_fail(ws: Path) -> None:
    """A key others can read and an upstream command that does not exist are failures: exit 2,
    each with its fix."""
    key = next(p for p in (ws / "keys").iterdir() if p.suffix == ".pem")
    key.chmod(0o644)
    _upstreams(ws, {"namespace": "gone", "command": "/nonexistent/mcp-server-gone"})
    r = run(ws, "doctor")
    assert r.returncode == 2, r.stdout
    failed = lines(r, "fail")
    assert any(str(key) in ln and "chmod 600" in ln for ln in failed), r.stdout
    assert any("upstream gone" in ln and "absolute path" in ln for ln in failed), r.stdout
    assert key.stat().st_mode & 0o777 == 0o644  # the doctor reports, never repairs


def test_a_command_found_only_through_path_warns(ws: Path) -> None:
    """A bare command name works from a shell but not from a GUI client: a warning, exit 1."""
    _upstreams(ws, {"namespace": "t", "command": "true"})
    r = run(ws, "doctor")
    assert r.returncode == 1, r.stdout
    (warn,) = lines(r, "warn")
    assert "upstream t" in warn
    assert "command:" in warn
    assert "true" in warn


class _EndlessStream(http.server.BaseHTTPRequestHandler):
    """Answers GET as an MCP endpoint may: an event stream that does not end."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        with contextlib.suppress(OSError):
            while True:
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
                time.sleep(0.5)

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_upstream_that_answers_with_a_stream_is_ok(ws: Path) -> None:
    """The status line is enough: an upstream whose GET is an endless event stream is ok."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessStream)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        _upstreams(ws, {"namespace": "web", "url": f"http://127.0.0.1:{srv.server_port}/mcp"})
        r = run(ws, "doctor")
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.returncode == 0, r.stdout
    assert any(ln.startswith("ok   upstream web") and "answers" in ln for ln in r.stdout.splitlines())


def test_an_http_upstream_that_does_not_answer_fails(ws: Path) -> None:
    """An upstream URL nothing listens at is a failure."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _upstreams(ws, {"namespace": "web", "url": f"http://127.0.0.1:{port}/mcp"})
    r = run(ws, "doctor")
    assert r.returncode == 2
    assert any("upstream web" in ln and "does not answer" in ln for ln in lines(r, "fail")), r.stdout


def test_an_a2a_agent_accepted_unsigned_warns(ws: Path) -> None:
    """An A2A agent whose card is accepted without a signature (docs/adr/0038) is a warning; one
    whose card key is pinned is not."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    card = f"http://127.0.0.1:{port}/.well-known/agent-card.json"
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    _upstreams(
        ws,
        {
            "namespace": "loose",
            "transport": "a2a",
            "url": card,
            "a2a": {"allow_unsigned": True, "card_digest": ""},
        },
        {"namespace": "pinned", "transport": "a2a", "url": card, "a2a": {"keys": [jwk], "card_digest": ""}},
    )
    r = run(ws, "doctor")
    warned = [ln for ln in lines(r, "warn") if "accepted unsigned" in ln]
    assert len(warned) == 1, r.stdout
    assert "upstream loose" in warned[0]


def test_a_missing_migration_fails(ws: Path) -> None:
    """A store whose schema lacks a migration fails; the doctor applies nothing."""
    db = sqlite3.connect(ws / "proctor.db")
    with db:
        (last,) = db.execute(
            "SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc DESC"
        ).fetchone()
        db.execute("DELETE FROM _yoyo_migration WHERE migration_id = ?", (last,))
    r = run(ws, "doctor")
    assert r.returncode == 2
    assert any("store" in ln and last in ln for ln in lines(r, "fail")), r.stdout
    with db:
        assert db.execute("SELECT 1 FROM _yoyo_migration WHERE migration_id = ?", (last,)).fetchone() is None
    db.close()


def test_a_policy_set_that_does_not_validate_fails(ws: Path) -> None:
    """A policy file with an error fails, naming the file."""
    (ws / "policies" / "99-broken.cedar").write_text("permit(principal, action, resource) when { nope };")
    r = run(ws, "doctor")
    assert r.returncode == 2
    assert any(ln.startswith("fail policies") and "99-broken.cedar" in ln for ln in lines(r, "fail")), (
        r.stdout
    )


def test_a_client_configuration_is_checked_end_to_end(ws: Path, tmp_path: Path) -> None:
    """The stdio configuration `mcp-config` prints points at this workspace and starts; with no
    daemon it warns, with one it is ok; one for another workspace fails."""
    printed = run(ws, "mcp-config", "--client", "cursor")
    assert printed.returncode == 0, printed.stderr
    config = tmp_path / "mcp.json"
    data = json.loads(printed.stdout)
    entry = data["mcpServers"]["proctor"]
    entry["env"] = {"PROCTOR_TASK_TOKEN": "set"}  # placeholders filled in
    config.write_text(json.dumps(data))
    r = run(ws, "doctor", "--client-config", str(config))
    assert r.returncode == 1, r.stdout + r.stderr
    (warn,) = lines(r, "warn")
    assert "no gateway daemon listens" in warn
    assert "proctor gateway" in warn
    with Daemon(ws):
        r = run(ws, "doctor", "--client-config", str(config))
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(ln.startswith("ok   client proctor") and "listens" in ln for ln in r.stdout.splitlines())
    other = tmp_path / "other"
    assert run(other, "init", str(other)).returncode == 0
    r = run(other, "doctor", "--client-config", str(config))
    assert r.returncode == 2
    assert any("client proctor" in ln and "not this workspace" in ln for ln in lines(r, "fail")), r.stdout


def test_a_placeholder_left_in_a_client_configuration_warns(ws: Path, tmp_path: Path) -> None:
    """A `<…>` placeholder the person did not replace is a warning."""
    printed = run(ws, "mcp-config", "--client", "vscode", "--transport", "http", "--headers")
    config = tmp_path / "mcp.json"
    config.write_text(printed.stdout)
    r = run(ws, "doctor", "--client-config", str(config))
    assert any("placeholder" in ln for ln in lines(r, "warn")), r.stdout
    assert any("nothing answers" in ln for ln in lines(r, "fail")), r.stdout
    assert r.returncode == 2


def test_task_templates_and_the_template_a_client_config_names_are_checked(ws: Path, tmp_path: Path) -> None:
    """Each stored template is checked (docs/adr/0029): a sound one is ok; an agent retired since is
    a warning, one that does not exist a failure; a tool pattern matching no known tool and no
    configured upstream (its upstream was removed since), or a long lifetime, a warning; a lifetime above a lowered task_max_ttl_s a
    failure. A stdio client config naming a template that does not exist fails; one naming a
    stored template is ok."""
    import dataclasses

    from proctor.app import Proctor
    from proctor.workspace import Workspace

    _upstreams(ws, {"namespace": "t", "command": "/bin/true"}, {"namespace": "t2", "command": "/bin/true"})
    for args in (
        ("agent", "add", "bot", "--owner", "o@acme.test", "--selector", f"unix:uid:{os.getuid()}"),
        ("agent", "add", "old", "--owner", "o@acme.test"),
        (
            "template",
            "add",
            "good",
            "--agent",
            "bot",
            "--purpose",
            "p",
            "--allow",
            "t.*",
            "--ttl",
            "1h",
            "--requested-by",
            "r@acme.test",
        ),
        (
            "template",
            "add",
            "bad",
            "--agent",
            "bot",
            "--agent",
            "old",
            "--purpose",
            "p",
            "--allow",
            "t.*",
            "--allow",
            "t2.*",
            "--ttl",
            "20h",
            "--requested-by",
            "r@acme.test",
        ),
        ("agent", "retire", "old", "--reason", "gone"),
    ):
        done = run(ws, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    _upstreams(ws, {"namespace": "t", "command": "/bin/true"})  # t2 removed since
    # an agent removed behind the template's back (as a restored or hand-edited store may have it)
    p = Proctor.open(Workspace.find(ws))
    try:
        good = p.store.get_template("good")
        assert good is not None
        p.store.put_template(dataclasses.replace(good, name="ghosted", agents=("bot", "ghost")))
    finally:
        p.close()
    r = run(ws, "doctor")
    assert r.returncode == 2, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert any(ln.startswith("ok   template good") for ln in out), r.stdout
    bad = [ln for ln in out if "template bad" in ln]
    assert any(ln.startswith("warn") and "agent `old`, which is retired" in ln for ln in bad), r.stdout
    assert any(ln.startswith("warn") and "`t2.*` matches no known tool" in ln for ln in bad), r.stdout
    assert any(ln.startswith("warn") and "lifetime 20h is long" in ln for ln in bad), r.stdout
    assert not any("`t.*`" in ln for ln in bad), r.stdout
    ghosted = [ln for ln in out if "template ghosted" in ln]
    assert any(ln.startswith("fail") and "agent `ghost`, which does not exist" in ln for ln in ghosted), (
        r.stdout
    )
    # a lowered maximum: every start from `bad` would be refused
    cfg = ws / "proctor.yaml"
    cfg.write_text(cfg.read_text() + "\ntasks:\n  max_ttl: 10h\n")
    r = run(ws, "doctor")
    assert any(
        ln.startswith("fail") and "template bad" in ln and "outside 1s to task_max_ttl_s (10h)" in ln
        for ln in r.stdout.splitlines()
    ), r.stdout
    # a client config that names a template
    for name, expect in (("nope", "fail"), ("good", "ok")):
        printed = run(
            ws,
            "mcp-config",
            "--client",
            "cursor",
            "--transport",
            "stdio",
            "--agent",
            "bot",
            "--template",
            name,
        )
        assert printed.returncode == 0, printed.stderr
        config = tmp_path / f"{name}.json"
        config.write_text(printed.stdout)
        r = run(ws, "doctor", "--client-config", str(config))
        found = [
            ln
            for ln in r.stdout.splitlines()
            if ln.startswith("fail" if expect == "fail" else "ok") and f"template `{name}`" in ln
        ]
        assert found, r.stdout
        if expect == "fail":
            assert "does not exist" in found[0], found
            assert "proctor template add nope" in found[0], found
