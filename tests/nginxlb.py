"""A private nginx in front of several ``proctor gateway --http`` processes: the reference deployment
of docs/adr/0034, for ``tests/e2e/test_scale_nginx.py`` and the ``scale.gateway`` benchmark.

Standard library (and httpx) only, importable from the repository root like ``tests/pgserver.py``.
nginx runs privately: its own prefix, configuration, pid file and loopback port, never the
distribution's service. ``scripts/ensure-nginx.sh`` installs Debian's nginx when it is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ENSURE_SCRIPT = ROOT / "scripts" / "ensure-nginx.sh"

#: the reference balancing: handshake-era MCP sessions live in the process that opened them, so a
#: client is pinned to one gateway by its address (docs/adr/0034)
PINNED = "hash $remote_addr consistent;"
#: 2026-07-28 calls carry everything in each request and may go to any gateway: spread them
SPREAD = "least_conn;"

CONF = """\
{user}daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    upstream proctor_gateways {{
        {balance}
{servers}
        keepalive {keepalive};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://proctor_gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 60s;
            # a gateway that refuses the connection: try the next one (a request already sent is
            # never replayed: POST is not idempotent, and nginx does not retry it)
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


class NginxUnavailable(RuntimeError):
    """nginx is not installed and ``scripts/ensure-nginx.sh`` could not install it."""


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    if found is None and Path("/usr/sbin/nginx").exists():
        found = "/usr/sbin/nginx"
    return found


def ensure_nginx() -> str:
    """The nginx binary, installed by ``scripts/ensure-nginx.sh`` when missing."""
    found = find_nginx()
    if found is not None:
        return found
    proc = subprocess.run(["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, check=False)
    found = find_nginx()
    if found is None:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise NginxUnavailable(
            f"nginx is not installed and {ENSURE_SCRIPT.name} could not install it"
            f" (exit {proc.returncode}): " + " / ".join(tail)
        )
    return found


def write_conf(
    run: Path, ports: Sequence[int], port: int, *, balance: str = PINNED, keepalive: int = 16
) -> Path:
    """nginx's configuration in ``run`` (created, world-writable: nginx's workers may run as
    another user): listen on ``127.0.0.1:port``, balance over the gateways on ``ports``."""
    run.mkdir(parents=True, exist_ok=True)
    os.chmod(run, 0o777)
    servers = "\n".join(f"        server 127.0.0.1:{q} max_fails=1 fail_timeout=30s;" for q in ports)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = run / "nginx.conf"
    conf.write_text(
        CONF.format(user=user, run=run, servers=servers, port=port, balance=balance, keepalive=keepalive)
    )
    return conf


def nginx_args(nginx: str, conf: Path) -> list[str]:
    return [nginx, "-p", str(conf.parent), "-c", str(conf)]


def gateway_args(bin_dir: Path, workspace: Path, port: int) -> list[str]:
    """``proctor gateway --http`` on ``127.0.0.1:port`` (no socket: several share a host)."""
    return [
        str(bin_dir / "proctor"),
        "gateway",
        "--http",
        "--no-socket",
        "--port",
        str(port),
        "-w",
        str(workspace),
    ]


def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    """Until ``url`` answers over HTTP; raises with the log's tail if ``proc`` exits first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{url}: the process exited ({proc.returncode}):\n{log.read_text(errors='replace')[-4000:]}"
            )
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{url} did not come up in {timeout_s:g} s") from None
            time.sleep(0.1)


@contextmanager
def process(args: list[str], log: Path, env: Mapping[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A child process writing to ``log``, terminated (then killed) on exit."""
    out = log.open("wb")
    proc = subprocess.Popen(
        args, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        out.close()


def stop_all(procs: Sequence[subprocess.Popen[bytes]], timeout_s: float = 20) -> None:
    """Terminate every process at once, then wait for each (killed past ``timeout_s``): their
    graceful stops overlap rather than add up."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
