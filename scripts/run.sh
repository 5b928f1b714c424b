#!/bin/sh
# Entry used by `npm start` / `npm test`: make sure the project's own dependencies (including
# Node 24, the `node` package) are installed, then run the trm CLI under that Node, whatever
# node the machine has.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
node24="$root/node_modules/node/bin/node"
stamp="$root/node_modules/.trm-installed"
if [ ! -x "$node24" ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  if [ -d node_modules ]; then
    # an existing tree is brought up to date in place (npm ci would delete it first)
    echo "trm: updating the project's dependencies (npm install)…" >&2
    npm install --no-audit --no-fund --loglevel=error
  else
    echo "trm: installing the project's dependencies (npm ci)…" >&2
    npm ci --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi
exec "$node24" "$root/cli/src/main.ts" "$@"
