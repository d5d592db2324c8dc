#!/usr/bin/env bash
# Makes sure the PostgreSQL 15 server binaries the SQL tests start are on this machine. The tests
# themselves start a throw-away server (as the `postgres` user) in a temporary directory.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server not found: installing Debian's postgresql-15" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
  exit 0
fi
echo "PostgreSQL 15 server binaries not found: install postgresql-15 (Debian/Ubuntu) and retry." >&2
exit 1
