#!/usr/bin/env bash
# Provide the Node.js tooling that Proctor's MCP tests use. Idempotent: does nothing when it is all there.
#
#   scripts/ensure-node.sh        # (make node) install what is missing, print the paths
#
# Fixed paths it provides (the tests use these, relative to the repository root; both are gitignored):
#
#   .tools/node22/bin/node                                  Node 22 (the conformance suite needs node >= 22:
#                                                           it imports fs.globSync). Put .tools/node22/bin
#                                                           first on PATH to run the suite.
#   tests/node/node_modules/.bin/conformance                @modelcontextprotocol/conformance (pinned,
#                                                           2025-11-25)
#   tests/node/node_modules/conformance-next/dist/index.js  its next version (npm alias conformance-next,
#                                                           tests 2026-07-28); run by path: its bin has
#                                                           the same name, .bin/conformance stays pinned
#   tests/node/node_modules/.bin/mcp-server-filesystem      @modelcontextprotocol/server-filesystem (pinned)
#
# How: Node 22 is the official binary shipped as an npm package (node-linux-<arch>, pinned below), installed
# with npm into .tools/node22; the test packages come from `npm ci` on the committed tests/node/package.json
# and package-lock.json. The only prerequisite is a working `npm` (any Node): on a machine without it the
# script installs Debian's `nodejs npm` with apt-get. It uses only the npm registry (and apt), never a
# direct download.
set -euo pipefail

NODE22_VERSION=22.23.5

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE22_DIR=$ROOT/.tools/node22
NODE22_BIN=$NODE22_DIR/bin/node
PKG_DIR=$ROOT/tests/node
PINNED_CLI=$PKG_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js
NEXT_CLI=$PKG_DIR/node_modules/conformance-next/dist/index.js
STAMP=$PKG_DIR/node_modules/.proctor-installed

say() { echo "ensure-node: $*"; }
die() { echo "ensure-node: ERROR: $*" >&2; exit 1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"
  fi
}

case "$(uname -m)" in
  x86_64 | amd64) NODE_ARCH=x64 ;;
  aarch64 | arm64) NODE_ARCH=arm64 ;;
  *) die "unsupported machine architecture $(uname -m) (node-linux-<arch> exists for x64 and arm64)" ;;
esac
[[ "$(uname -s)" == Linux ]] || die "only Linux is supported (found $(uname -s))"
NODE_PKG=node-linux-$NODE_ARCH

# 1. A working npm, to fetch everything else from the npm registry.
if command -v npm >/dev/null 2>&1 && npm --version >/dev/null 2>&1; then
  say "found npm $(npm --version) (node $(node --version 2>/dev/null || echo '?'))"
else
  command -v apt-get >/dev/null 2>&1 || die "npm is missing and apt-get is not available: install Node.js and npm"
  say "npm is missing: installing Debian's nodejs and npm with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q || die "apt-get update failed"
  as_root apt-get install -y -q --no-install-recommends nodejs npm || die "apt-get install nodejs npm failed"
  command -v npm >/dev/null 2>&1 || die "apt-get finished but npm is still missing"
  say "installed npm $(npm --version) (node $(node --version))"
fi

# 2. Node 22 at the fixed path .tools/node22/bin/node.
if [[ -x "$NODE22_BIN" ]] && [[ "$("$NODE22_BIN" --version 2>/dev/null)" == "v$NODE22_VERSION" ]]; then
  say "Node $NODE22_VERSION already at $NODE22_BIN"
else
  say "installing Node $NODE22_VERSION ($NODE_PKG@$NODE22_VERSION from the npm registry) into $NODE22_DIR"
  rm -rf "$NODE22_DIR"
  mkdir -p "$NODE22_DIR/bin"
  # A private package.json keeps npm from walking up to some other project.
  echo '{"name": "proctor-node22", "private": true}' >"$NODE22_DIR/package.json"
  npm install --prefix "$NODE22_DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "$NODE_PKG@$NODE22_VERSION" || die "npm install $NODE_PKG@$NODE22_VERSION failed"
  real=$NODE22_DIR/node_modules/$NODE_PKG/bin/node
  [[ -x "$real" ]] || die "$NODE_PKG installed but $real is missing or not executable"
  ln -sf "../node_modules/$NODE_PKG/bin/node" "$NODE22_BIN"
  got=$("$NODE22_BIN" --version) || die "$NODE22_BIN does not run"
  [[ "$got" == "v$NODE22_VERSION" ]] || die "$NODE22_BIN reports $got, expected v$NODE22_VERSION"
  say "installed Node $got at $NODE22_BIN"
fi

# 3. The pinned test packages (npm ci on the committed lock file), run under Node 22.
export PATH=$NODE22_DIR/bin:$PATH
want=$(sha256sum "$PKG_DIR/package-lock.json" | cut -d' ' -f1)-$NODE22_VERSION
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" \
      && -e "$PKG_DIR/node_modules/.bin/conformance" && -e "$PKG_DIR/node_modules/.bin/mcp-server-filesystem" \
      && -e "$NEXT_CLI" ]]; then
  say "npm packages in $PKG_DIR/node_modules are up to date"
else
  say "installing npm packages: npm ci in $PKG_DIR"
  (cd "$PKG_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $PKG_DIR failed"
  for b in conformance mcp-server-filesystem; do
    [[ -e "$PKG_DIR/node_modules/.bin/$b" ]] || die "npm ci finished but node_modules/.bin/$b is missing"
  done
  [[ -e "$NEXT_CLI" ]] || die "npm ci finished but $NEXT_CLI (conformance-next) is missing"
  echo "$want" >"$STAMP"
  say "installed npm packages in $PKG_DIR/node_modules"
fi

# 4. Smoke check: both conformance CLIs start under Node 22, and .bin/conformance (a name both packages
#    claim) is the pinned one.
"$NODE22_BIN" "$PKG_DIR/node_modules/.bin/conformance" --help >/dev/null 2>&1 \
  || die "the conformance CLI does not start under $NODE22_BIN"
"$NODE22_BIN" "$NEXT_CLI" --help >/dev/null 2>&1 || die "the next conformance CLI does not start under $NODE22_BIN"
[[ "$(readlink -f "$PKG_DIR/node_modules/.bin/conformance")" == "$(readlink -f "$PINNED_CLI")" ]] \
  || die "node_modules/.bin/conformance is not the pinned @modelcontextprotocol/conformance"

say "node22=$NODE22_BIN"
say "conformance=$PKG_DIR/node_modules/.bin/conformance"
say "conformance-next=$NEXT_CLI"
say "mcp-server-filesystem=$PKG_DIR/node_modules/.bin/mcp-server-filesystem"
