#!/usr/bin/env bash
# A second virtual environment for clients that cannot share Proctor's: `langchain-mcp-adapters`
# requires mcp<2, Proctor runs on mcp 2. Idempotent: does nothing when the pinned set is installed.
#
#   scripts/ensure-compat.sh     # (make compat) create .tools/compat-venv and install the pins
#
# tests/e2e/test_compat_langchain_mcp_adapters.py runs tests/compat/lma_client.py with this
# environment's Python against a real Proctor gateway (PyPI only; no other download).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.tools/compat-venv
PINS=("langchain-mcp-adapters==0.3.2" "mcp>=1.24,<2")
STAMP=$VENV/.proctor-$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-12)
PY=${PY:-python3}

if [[ -f $STAMP ]]; then
  echo "ensure-compat: found $VENV"
  exit 0
fi
rm -rf "$VENV"
mkdir -p "$ROOT/.tools"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${PINS[@]}"
touch "$STAMP"
echo "ensure-compat: installed ${PINS[*]} into $VENV"
