#!/usr/bin/env bash
# Browser tests of the admin dashboard (/admin/) and the API docs
# (/api/schema/swagger/, /api/schema/redoc/) against a running native host.
#
#   scripts/test-admin-ui.sh            # uses $GATEHOUSE_BIN or target/debug/gatehouse
#
# Builds nothing heavy: it needs a built `gatehouse` binary (cargo build -p
# gatehouse). It installs its own tools: npm deps of admin-ui/ (`npm ci`) and
# Debian's chromium when missing. It starts the binary on a temporary
# database, creates the accounts and API clients the tests use with the CLI,
# runs (under scripts/with-smtp.sh: a real SMTP server the tests read mail from)
# admin-ui/tests/*.test.mjs with Node's test runner (playwright-core +
# headless chromium), and saves screenshots to artifacts/screenshots/
# (override with SCREENSHOT_DIR). Prints what each stage cost; exits non-zero
# on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A real SMTP server (aiosmtpd) for the server's mail: the tests read the
# verification and reset mails the dashboard's buttons send from its Maildir.
if [ -z "${GATEHOUSE_TEST_MAILDIR:-}" ]; then exec bash "$ROOT/scripts/with-smtp.sh" bash "${BASH_SOURCE[0]}" "$@"; fi
BIN="${GATEHOUSE_BIN:-$ROOT/target/debug/gatehouse}"
SHOTS="${SCREENSHOT_DIR:-$ROOT/artifacts/screenshots}"

t0=$(date +%s.%N)
stage_start=$t0
stage() { # prints the cost of the stage that just ended
  local now; now=$(date +%s.%N)
  awk -v a="$stage_start" -v b="$now" -v s="$1" 'BEGIN { printf "== %-34s %6.1f s\n", s, b - a }'
  stage_start=$now
}

[ -x "$BIN" ] || { echo "no gatehouse binary at $BIN (cargo build -p gatehouse, or set GATEHOUSE_BIN)" >&2; exit 1; }

# --- tools -------------------------------------------------------------------
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM="$(command -v chromium)"
(cd "$ROOT/admin-ui" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
stage "tools (npm ci, chromium)"

# --- server and accounts -----------------------------------------------------
dir=$(mktemp -d)
db="$dir/gatehouse.db"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
origin="http://127.0.0.1:$port"
gh() { "$BIN" --database-url "$db" "$@"; }

export ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=correct-horse-battery-1
export STAFF_EMAIL=staff@example.com STAFF_PASSWORD=staff-member-password-2
export CREATOR_EMAIL=creator@example.com CREATOR_PASSWORD=creator-password-three-3
gh migrate >/dev/null
gh createsuperuser --email "$ADMIN_EMAIL" --username admin --password "$ADMIN_PASSWORD" >/dev/null
gh create-user --type staff --email "$STAFF_EMAIL" --username staff --first-name Sam --last-name Staff --password "$STAFF_PASSWORD" >/dev/null
gh create-user --type creator --email "$CREATOR_EMAIL" --username creator --first-name Cora --last-name Creator --password "$CREATOR_PASSWORD" >/dev/null
# The dashboard's own client: type admin, staff and admins, this server's
# origin under two names. The first gives the passkeys' rp id: WebAuthn
# refuses an IP address, so the passkey test opens http://localhost:PORT.
gh create-api-client --name "Admin dashboard" --type admin --rate-limit 10000 \
  --serves staff,admin --origins "http://localhost:$port,$origin" --json >"$dir/dashboard.json"
# A creator web app (also what Swagger's "Try it out" authorizes with).
gh create-api-client --name "Creator Web App" --type web --rate-limit 1000 \
  --serves creator,staff,admin --origins "$origin" --json >"$dir/web.json"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
export DASHBOARD_CLIENT_ID=$(field "$dir/dashboard.json" client_id) DASHBOARD_API_KEY=$(field "$dir/dashboard.json" api_key)
export WEB_CLIENT_ID=$(field "$dir/web.json" client_id) WEB_API_KEY=$(field "$dir/web.json" api_key)
stage "database and accounts (CLI)"

GATEHOUSE_DASHBOARD_CLIENT_ID="$DASHBOARD_CLIENT_ID" GATEHOUSE_DASHBOARD_API_KEY="$DASHBOARD_API_KEY" \
  "$BIN" --database-url "$db" serve --addr "127.0.0.1:$port" --smtp-url "$GATEHOUSE_TEST_SMTP_URL" >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 400); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$dir/out" || { cat "$dir/err"; echo "server did not start" >&2; exit 1; }
export GATEHOUSE_URL="$origin"
export GATEHOUSE_PASSKEY_URL="http://localhost:$port"
stage "server start"

# --- browser tests -----------------------------------------------------------
mkdir -p "$SHOTS"
export SCREENSHOT_DIR="$SHOTS"
status=0
(cd "$ROOT/admin-ui" && node --test --test-concurrency=1 tests/*.test.mjs) || status=$?
stage "browser tests"
if [ "$status" != 0 ]; then
  echo "--- server log (tail) ---"; tail -n 40 "$dir/err"
fi
echo "screenshots: $SHOTS"
ls "$SHOTS"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "== %-34s %6.1f s\n", "total", b - a }'
exit "$status"
