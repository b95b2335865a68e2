#!/usr/bin/env bash
# Runs a command with a real SMTP server (aiosmtpd, a Maildir behind it) on
# a free port:
#   scripts/with-smtp.sh CMD ARGS…
# For the command: GATEHOUSE_TEST_SMTP_URL (give it to --smtp-url),
# GATEHOUSE_TEST_MAILDIR (where each mail lands as a file) and
# GATEHOUSE_TEST_SMTPD_PYTHON (to start more servers, as the outbox retry
# test does). The server is stopped (by pid) when the command ends.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$("$ROOT/scripts/install-smtpd.sh")"
dir=$(mktemp -d)
# aiosmtpd makes the Maildir (new/, cur/, tmp/) only if the folder is not there.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$PY" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir/maildir" >"$dir/smtpd.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 200); do
  python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/smtpd.log"; echo "aiosmtpd exited"; exit 1; }
  sleep 0.05
done
export GATEHOUSE_TEST_SMTP_URL="smtp://127.0.0.1:$port?tls=none"
export GATEHOUSE_TEST_MAILDIR="$dir/maildir"
export GATEHOUSE_TEST_SMTPD_PYTHON="$PY"
echo "with-smtp: aiosmtpd on 127.0.0.1:$port, Maildir $GATEHOUSE_TEST_MAILDIR" >&2
"$@"
