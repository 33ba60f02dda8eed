#!/usr/bin/env bash
# Provide Debian's Chromium for the browser tests (Playwright drives it by its executable path; the
# tests never download a browser). Idempotent: does nothing when /usr/bin/chromium is there.
#
#   scripts/ensure-chromium.sh        # (make chromium) install it when missing, print its path
set -euo pipefail

CHROMIUM=${PROCTOR_TEST_CHROMIUM:-/usr/bin/chromium}

say() { echo "ensure-chromium: $*"; }
die() { echo "ensure-chromium: ERROR: $*" >&2; exit 1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"
  fi
}

if [[ -x "$CHROMIUM" ]] && "$CHROMIUM" --version >/dev/null 2>&1; then
  say "found $("$CHROMIUM" --version 2>/dev/null) at $CHROMIUM"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "$CHROMIUM is missing and apt-get is not available: install Chromium"
say "$CHROMIUM is missing: installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q || die "apt-get update failed"
as_root apt-get install -y -q --no-install-recommends chromium || die "apt-get install chromium failed"
[[ -x "$CHROMIUM" ]] || die "apt-get finished but $CHROMIUM is still missing"
say "installed $("$CHROMIUM" --version 2>/dev/null) at $CHROMIUM"
