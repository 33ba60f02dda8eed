"""Run the gateway daemon (`proctor gateway --unix`) as a real subprocess for a test, and spawn the
keyless thin client (`proctor gateway --stdio --socket ...`) the way an MCP client does."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from mcp import StdioServerParameters

import proctor.app

#: the source tree under test: subprocesses import this one, not whatever the venv points at
SRC = str(Path(proctor.app.__file__).resolve().parents[1])
BIN = Path(sys.executable).parent
PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
READY = b"gateway socket for `proctor gateway --stdio` at"


def child_env(path: str | None = None, **extra: str) -> dict[str, str]:
    return {"PATH": path or f"{BIN}:/usr/bin:/bin", "PYTHONPATH": SRC, **extra}


class Daemon:
    """`proctor gateway --unix` on a workspace: started, waited for, stopped with SIGTERM (which
    flushes its audit log)."""

    def __init__(
        self, workspace: Path, *, path: str | None = None, mode: tuple[str, ...] = ("--unix",)
    ) -> None:
        self.workspace = workspace
        self.socket = workspace / "run" / "gateway.sock"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - read after stop(); closed when collected
        self.proc = subprocess.Popen(
            [*PROCTOR, "gateway", *mode, "--workspace", str(workspace)],
            env=child_env(path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 120  # a wait for start-up, not a timed assertion
        while READY not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the gateway daemon did not start:\n{self.output().decode()}")
            time.sleep(0.05)

    def output(self) -> bytes:
        self.log.seek(0)
        return self.log.read()

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Daemon:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def thin_client(socket: Path | str, **env: str) -> StdioServerParameters:
    """What an MCP client's config says: `proctor gateway --stdio --socket PATH` and tokens."""
    return StdioServerParameters(
        command=sys.executable,
        args=[*PROCTOR[1:], "gateway", "--stdio", "--socket", str(socket)],
        env=child_env(**env),
    )
