#!/usr/bin/env bash
# Make sure Debian's nginx is installed, for the reference-deployment test (tests/e2e/test_scale_nginx.py).
# Idempotent: does nothing when `nginx` is already there. Only installs the package: the tests run a
# private nginx (its own prefix, config and port), never the distribution's service.
#
#   scripts/ensure-nginx.sh          # install if missing (apt-get; needs root or passwordless sudo)
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; then
  echo "ensure-nginx: found nginx"
  exit 0
fi
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else echo "ensure-nginx: need root (or passwordless sudo) to run: $*" >&2; return 1
  fi
}
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nginx: nginx is not installed and apt-get is not available" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -q
# nginx-light: the proxy alone; policy-rc.d (or its absence of an init system) keeps the service stopped
as_root apt-get install -y -q --no-install-recommends nginx-light || as_root apt-get install -y -q nginx
