#!/usr/bin/env bash
# One command for a local Worker: starts a local libSQL server (sqld),
# migrates it with the native binary, creates a dev admin and a dev API
# client (printed below), and runs `wrangler dev` on localhost. Offline,
# no Cloudflare account. Ctrl-C stops everything it started.
#
#   scripts/worker-dev.sh            # keeps the dev database between runs
#   scripts/worker-dev.sh --fresh    # starts from an empty database
#
# Ports: GATEHOUSE_DEV_WORKER_PORT (8787), GATEHOUSE_DEV_SQLD_PORT (8790).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
wport="${GATEHOUSE_DEV_WORKER_PORT:-8787}"
sport="${GATEHOUSE_DEV_SQLD_PORT:-8790}"
state="$ROOT/host-worker/.dev"          # git-ignored
admin_email="${GATEHOUSE_DEV_ADMIN_EMAIL:-admin@example.com}"
admin_password="${GATEHOUSE_DEV_ADMIN_PASSWORD:-dev-admin-password-123}"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

if [ "${1:-}" = "--fresh" ]; then rm -rf "$state"; fi
mkdir -p "$state"

bash scripts/install-worker-tools.sh
echo "worker-dev: building the native binary (migrations and admin commands)"
cargo build -q -p gatehouse
gatehouse="${CARGO_TARGET_DIR:-$ROOT/target}/debug/gatehouse"
db_url="http://127.0.0.1:$sport"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_sqld "$state/data.sqld" "$sport" "$state/sqld.log"

"$gatehouse" --database-url "$db_url" migrate

# The admin and client are made once per dev database; the client's key is
# shown only at creation, so it is kept in $state for later runs.
if [ ! -f "$state/client.json" ]; then
    GATEHOUSE_SUPERUSER_PASSWORD="$admin_password" \
        "$gatehouse" --database-url "$db_url" createsuperuser \
        --email "$admin_email" --username admin >/dev/null
    "$gatehouse" --database-url "$db_url" create-api-client \
        --name "Local dev" --type web --rate-limit 1000 --serves creator,staff,admin \
        --json >"$state/client.json"
fi
client_id="$(sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p' "$state/client.json")"
api_key="$(sed -n 's/.*"api_key" *: *"\([^"]*\)".*/\1/p' "$state/client.json")"
# The dashboard's own client (/admin/config.json hands it to the dashboard).
if [ ! -f "$state/dashboard.json" ]; then
    "$gatehouse" --database-url "$db_url" create-api-client \
        --name "Dashboard (local dev)" --type admin --rate-limit 1000 \
        --origins "http://127.0.0.1:$wport" --json >"$state/dashboard.json"
fi
dash_id="$(sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p' "$state/dashboard.json")"
dash_key="$(sed -n 's/.*"api_key" *: *"\([^"]*\)".*/\1/p' "$state/dashboard.json")"

cat <<INFO

  Gatehouse Worker (wrangler dev)  http://127.0.0.1:$wport
  dashboard                        http://127.0.0.1:$wport/admin/   (API docs: /api/schema/swagger/)
  libSQL (sqld)                    $db_url   data in host-worker/.dev/
  dev admin                        $admin_email / $admin_password
  dev API client                   X-Client-ID: $client_id
                                   X-API-Key:   $api_key

  curl -s http://127.0.0.1:$wport/api/auth/token/ -H 'Content-Type: application/json' \\
    -H 'X-Client-ID: $client_id' -H 'X-API-Key: $api_key' \\
    -d '{"email": "$admin_email", "password": "$admin_password"}'

INFO

node_modules/.bin/wrangler dev --ip 127.0.0.1 --port "$wport" \
    --var "GATEHOUSE_DATABASE_URL:$db_url" \
    --var "GATEHOUSE_DASHBOARD_CLIENT_ID:$dash_id" --var "GATEHOUSE_DASHBOARD_API_KEY:$dash_key" &
pids+=("$!")
wait "${pids[-1]}"
