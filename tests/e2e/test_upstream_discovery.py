"""Discovering upstream tools against real server processes: paging, its bounds, and every failure
turned into a short, sanitised UpstreamError that names the namespace."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from proctor.errors import UpstreamError, UpstreamTimeout
from proctor.gateway import discovery
from proctor.gateway.config import UpstreamConfig
from proctor.gateway.discovery import discover_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"


def paging(pages: str, **kw: object) -> UpstreamConfig:
    return UpstreamConfig(
        namespace="pager",
        transport="stdio",
        command=sys.executable,
        args=(str(FIXTURES / "paging_server.py"),),
        env={"FIXTURE_PAGES": pages},
        **kw,  # type: ignore[arg-type]
    )


def test_discovers_the_real_time_server() -> None:
    """mcp-server-time lists its two tools with their descriptions and schemas."""
    cfg = UpstreamConfig(
        namespace="time", transport="stdio", command=str(TIME_SERVER), args=("--local-timezone", "UTC")
    )
    tools = discover_sync(cfg)
    assert [t.name for t in tools] == ["get_current_time", "convert_time"]
    assert all(t.description and t.input_schema.get("type") == "object" for t in tools)


def test_pages_through_every_page_in_order() -> None:
    """Discovery follows next_cursor until the upstream stops handing one out."""
    tools = discover_sync(paging("3"))
    assert [t.name for t in tools] == ["t0_a", "t0_b", "t1_a", "t1_b", "t2_a", "t2_b"]


def test_endless_paging_is_cut_off() -> None:
    """An upstream that always returns another cursor is refused after MAX_PAGES pages."""
    with pytest.raises(UpstreamError, match=r"upstream `pager` pages its tool list beyond 100 pages"):
        discover_sync(paging("endless"))


def test_too_many_tools_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """More tools than MAX_TOOLS in total is an error, not a truncated list."""
    monkeypatch.setattr(discovery, "MAX_TOOLS", 5)
    with pytest.raises(UpstreamError, match="lists more than 5 tools"):
        discover_sync(paging("3"))


def test_silent_upstream_times_out() -> None:
    """A server that never answers the handshake gives UpstreamTimeout after the upstream's timeout."""
    cfg = UpstreamConfig(
        namespace="mute",
        transport="stdio",
        command=sys.executable,
        args=("-c", "import time; time.sleep(60)"),
        timeout_s=1.0,
    )
    t0 = time.monotonic()
    with pytest.raises(UpstreamTimeout, match=r"upstream `mute` did not list its tools within 1s") as info:
        discover_sync(cfg)
    assert time.monotonic() - t0 < 15
    assert info.value.code == "upstream_timeout"


def test_missing_command_is_a_short_sanitised_error(tmp_path: Path) -> None:
    """A command that does not exist: the namespace and a fixed reason, not the OS error text or path."""
    secret_path = tmp_path / "s3cret-dir" / "server"
    cfg = UpstreamConfig(namespace="ghost", transport="stdio", command=str(secret_path))
    with pytest.raises(UpstreamError) as info:
        discover_sync(cfg)
    assert info.value.code == "upstream_unavailable"
    assert info.value.http_status == 502
    assert info.value.message == "upstream `ghost` is unavailable: its command was not found"
    assert "s3cret" not in info.value.message


def test_exiting_server_is_reported_as_closed() -> None:
    """A server that exits at once: the connection closed, said in Proctor's words."""
    cfg = UpstreamConfig(
        namespace="quits",
        transport="stdio",
        command=sys.executable,
        args=("-c", "import sys; sys.stderr.write('boom /etc/shadow'); sys.exit(3)"),
    )
    with pytest.raises(
        UpstreamError, match=r"upstream `quits` is unavailable: the connection closed"
    ) as info:
        discover_sync(cfg)
    assert "shadow" not in info.value.message


def test_refused_http_upstream() -> None:
    """An HTTP upstream nobody listens on: unavailable, with a fixed reason."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = UpstreamConfig(namespace="web", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout_s=10)
    with pytest.raises(UpstreamError, match=r"upstream `web` is unavailable: the connection was refused"):
        discover_sync(cfg)
