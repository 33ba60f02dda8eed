#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl) are installed, for the test and benchmark harness
# (tests/pgserver.py). Idempotent: does nothing when they are already there.
#
#   scripts/ensure-postgres.sh          # install if missing (apt-get; needs root or passwordless sudo)
#
# Only installs packages: it never starts the distribution's own cluster on purpose. The harness runs a
# private throwaway cluster as the `postgres` system user, which this script creates if it is missing.
set -euo pipefail

find_bin() {
  local d
  if [[ -n "${PG_BIN:-}" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]]; then echo "$PG_BIN"; return 0; fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else echo "ensure-postgres: need root (or passwordless sudo) to run: $*" >&2; return 1
  fi
}

if bin=$(find_bin); then
  echo "ensure-postgres: found PostgreSQL binaries in $bin"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: PostgreSQL is not installed and apt-get is not available;" \
         "install the PostgreSQL server (initdb, pg_ctl) or set PG_BIN, or PROCTOR_TEST_PG_URL" >&2
    exit 1
  fi
  echo "ensure-postgres: installing PostgreSQL with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends postgresql
  if ! bin=$(find_bin); then
    echo "ensure-postgres: apt-get finished but initdb/pg_ctl are still missing" >&2
    exit 1
  fi
  echo "ensure-postgres: installed PostgreSQL binaries in $bin"
fi

# Under root the harness runs initdb/pg_ctl as `postgres` (initdb refuses root).
if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  echo "ensure-postgres: created system user postgres"
fi
