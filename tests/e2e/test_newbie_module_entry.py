"""``python -m proctor`` runs the ``proctor`` command (a venv whose ``bin/`` is not on ``PATH``)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_python_dash_m_proctor_is_the_cli() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COLUMNS="200")
    r = subprocess.run(
        [sys.executable, "-m", "proctor", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("proctor ")
    usage = subprocess.run(
        [sys.executable, "-m", "proctor", "agent", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert usage.returncode == 0, usage.stderr
    assert "join-token" in usage.stdout
