"""Real processes for the web tests: ``proctor serve`` on a loopback port, the OpenID provider
``oidc-provider-mock`` (a PyPI package, run as its own server), and Debian's Chromium driven by
Playwright (never a downloaded browser: ``scripts/ensure-chromium.sh`` installs the package)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.gateway_harness import free_port

CHROMIUM = os.environ.get("PROCTOR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # the children import the Proctor under test, not whichever one the virtualenv installs
    env["PYTHONPATH"] = os.pathsep.join(p for p in (*sys.path, env.get("PYTHONPATH", "")) if p)
    env.pop("PROCTOR_WORKSPACE", None)
    return env


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout_s}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()


@contextmanager
def proctor_serve(workspace: Path) -> Iterator[str]:
    """``proctor serve`` on a free loopback port of ``workspace``; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proctor.cli.main", "serve", "-w", str(workspace), "--port", str(port)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/healthz", proc, "proctor serve")
        yield url
    finally:
        _stop(proc)


@contextmanager
def oidc_provider(users: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """The ``oidc-provider-mock`` server on a free loopback port with ``users`` (claims, each with a
    ``sub``) offered on its sign-in page; yields its issuer URL."""
    port = free_port()
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--require-nonce"]
    for u in users:
        args += ["--user-claims", json.dumps(u)]
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        _wait_http(issuer + "/.well-known/openid-configuration", proc, "oidc-provider-mock")
        yield issuer
    finally:
        _stop(proc)


def need_chromium() -> str:
    """Debian's Chromium, or fail with the way to get it (``make test`` installs it)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)", pytrace=False)
    return CHROMIUM


@contextmanager
def browser_page() -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium (Debian's, by its executable path)."""
    from playwright.sync_api import sync_playwright

    exe = need_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def form_value(html: str, name: str) -> str:
    """The value of the hidden input ``name`` in a page (the CSRF tokens)."""
    m = re.search(rf"name={re.escape(name)} value=([^\s>]+)", html)
    if m is None:
        raise AssertionError(f"no input `{name}` in the page")
    return m.group(1).strip("'\"")
