"""Error paths of the HTTP API in process (the served process is in tests/e2e/test_http_api_contract.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from proctor.app import Proctor
from proctor.server.api import create_app
from proctor.workspace import Workspace


def _get(app: object, path: str, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # a FastAPI app is an ASGI app
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(go())


def test_an_unexpected_error_is_one_logged_500_without_detail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception no handler maps is answered `500 internal_error` by the app itself and logged
    once: it is not re-raised to the server, which logged it a second time with its traceback."""
    ws, admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    p = Proctor.open(ws)
    try:

        def broken(**_: object) -> None:
            raise ValueError("planted detail 7731")

        monkeypatch.setattr(p.tasks, "list", broken)
        with caplog.at_level(logging.ERROR):
            r = _get(create_app(p, ws), "/v1/tasks", {"Authorization": f"Bearer {admin}"})
    finally:
        p.close()
    assert r.status_code == 500
    assert r.json() == {
        "error": {"code": "internal_error", "message": "internal error; the event was logged"}
    }
    assert "7731" not in r.text
    assert [rec.getMessage() for rec in caplog.records] == ["unexpected error in the HTTP API"]
