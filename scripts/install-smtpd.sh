#!/usr/bin/env bash
# Installs the test SMTP server, aiosmtpd 1.4.6, into .venv-smtp/
# (idempotently) and prints the venv's python. The contract suite's mail
# tests deliver to it (scripts/with-smtp.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-smtp"
WANT="aiosmtpd==1.4.6"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$WANT" ]; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "$WANT" >&2
  echo "$WANT" >"$VENV/.installed"
fi
echo "$VENV/bin/python"
