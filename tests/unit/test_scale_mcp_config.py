"""`proctor mcp-config --transport http` points clients at gateway.public_url when it is set."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from proctor.cli.main import app as cli
from proctor.workspace import Workspace


def test_mcp_config_uses_the_public_url(tmp_path: Path) -> None:
    ws, _ = Workspace.init(
        tmp_path / "ws",
        config_text="trust_domain: acme.test\ngateway: {public_url: 'https://mcp.acme.test'}\n",
    )
    r = CliRunner().invoke(
        cli, ["mcp-config", "--client", "cursor", "--transport", "http", "-w", str(ws.root)]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout[r.stdout.index("{") : r.stdout.rindex("}") + 1])
    assert data["mcpServers"]["proctor"]["url"] == "https://mcp.acme.test/mcp"
