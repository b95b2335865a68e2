#!/usr/bin/env bash
# Runs the README's quick-start block against a fresh server, so the README
# stays true. The block's `gatehouse` function is pointed at a built binary.
#   scripts/test-quickstart.sh [path/to/gatehouse]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-${GATEHOUSE_BIN:-$ROOT/target/debug/gatehouse}}"
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cd "$dir"
"$BIN" serve --mail-dev --addr "127.0.0.1:$port" >out 2>gatehouse.log &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do grep -q listening out 2>/dev/null && break; sleep 0.05; done
grep -q listening out || { cat gatehouse.log; echo "server did not start"; exit 1; }
# The block, with the binary and port swapped in.
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$ROOT/README.md" |
  sed '1,2d;$d' | sed '$d' |
  sed "s#^gatehouse() {.*#gatehouse() { \"$BIN\" \"\$@\"; }#; s#^BASE=http://localhost:8000#BASE=http://127.0.0.1:$port#" >quickstart.sh
bash -euo pipefail quickstart.sh >quickstart.out
cat quickstart.out
echo
grep -q '"user_type":"creator"' quickstart.out
# The reset: the old password was refused, the new one gave a token pair.
grep -Eq '(^|})401$' quickstart.out
[ "$(grep -c '"access"' quickstart.out)" -ge 1 ]
tail -1 quickstart.out | grep -q '"refresh"'
echo "quick start: every step answered as shown, the password reset included"
