#!/usr/bin/env bash
# Property-based API testing with schemathesis against the served OpenAPI
# document (/api/schema/) on a running native host: no 5xx, and every
# response (status, content type, headers, body) as the document describes.
#   scripts/test-schemathesis.sh [path/to/gatehouse]
# Env: ST_MAX_EXAMPLES (default 100 per operation and phase), ST_SEED,
#      ST_PORT (default 28900).
#
# Checks: all of schemathesis' checks (no 5xx, status codes, content types,
# headers and bodies as documented, invalid input refused, auth not
# ignored, 405 with Allow, created resources readable, ...) except
#   - positive_data_acceptance: it expects 2xx for any schema-valid input, but
#     valid-looking input is refused by rules a schema cannot state (unknown
#     or already-taken ids, emails and usernames, a wrong current password,
#     a password too similar to the username, the last-superuser rule):
#     documented 4xx answers, not bugs.
# Operations that would lock the run out are kept, with these guards:
#   - the run's bearer token comes from a log-in hook, re-done whenever an
#     answer is 401 (logout-all, ending the admin's logins, deactivated
#     client...), so those operations run like any other;
#   - changes aimed at the run's own admin account (id in the path) go to
#     another user instead, and at its own API client to an id that does
#     not exist (rotating the caller's key or dropping `admin` from what its
#     client serves would end the run, not test anything); reads are kept;
#   - the failed-login throttles are raised: schemathesis sends hundreds of
#     wrong passwords, and the 429 that would follow (covered by the
#     contract suite) would also refuse the hook's own log-in.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
BIN="$(gatehouse_bin "${1:-}")"
PORT="${ST_PORT:-28900}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-100}"
SEED="${ST_SEED:-20261126}"
VERSION=4.32.5

# schemathesis, pinned, in its own venv (idempotent).
VENV="$ROOT/.venv-schemathesis"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q " $VERSION\$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION"
fi

dir=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$dir"
}
trap cleanup EXIT

export GATEHOUSE_DATABASE_URL="$dir/gh.db"
# A cheap Argon2 cost: the hook logs in again after every 401.
export GATEHOUSE_ARGON2_MEMORY_KIB=1024 GATEHOUSE_ARGON2_ITERATIONS=1
export GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT=1000000 GATEHOUSE_LOGIN_FAILURES_PER_IP=1000000
export GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT_IP=1000000 GATEHOUSE_REGISTRATIONS_PER_IP=1000000
ADMIN_EMAIL=schemathesis-admin@gatehouse.test
ADMIN_PASSWORD="st-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
"$BIN" migrate >/dev/null
"$BIN" createsuperuser --email "$ADMIN_EMAIL" --username schemathesis-admin \
  --password "$ADMIN_PASSWORD" --json >"$dir/admin.json"
# Serves every user type, so creator flows (register) run too.
"$BIN" create-api-client --name schemathesis --type admin --rate-limit 100000000 \
  --serves creator,staff,admin --json >"$dir/client.json"
# Users for changes aimed at the run's own admin to land on (see the hooks).
OTHER_IDS=""
for t in creator staff; do
  "$BIN" create-user --type "$t" --email "st-$t@gatehouse.test" --username "st-$t" \
    --password "$ADMIN_PASSWORD" --json >"$dir/$t.json"
  OTHER_IDS="$OTHER_IDS $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$dir/$t.json")"
done
ADMIN_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$dir/admin.json")
CLIENT_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$dir/client.json")
API_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$dir/client.json")

# --mail-dev: the routes that send mail answer as in a deployment that can
# (without a transport they answer 503 mail_not_configured, a 5xx here).
"$BIN" serve --addr "127.0.0.1:$PORT" --mail-dev >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 200); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
grep -q listening "$dir/out" || { cat "$dir/err"; echo "server did not start"; exit 1; }
BASE="http://127.0.0.1:$PORT"

cat >"$dir/gatehouse_hooks.py" <<'PY'
"""Auth and guards for the schemathesis run (see scripts/test-schemathesis.sh)."""
import json
import os
import urllib.request

import schemathesis

BASE = os.environ["ST_BASE"]
ADMIN_ID = int(os.environ["ST_ADMIN_ID"])
OTHER_IDS = [int(i) for i in os.environ["ST_OTHER_IDS"].split()]
CLIENT_ID = os.environ["ST_CLIENT_ID"]
API_KEY = os.environ["ST_API_KEY"]


@schemathesis.auth(refresh_interval=600)
class AdminLogin:
    """A fresh admin access token; schemathesis calls `get` again after a 401."""

    def get(self, case, ctx):
        req = urllib.request.Request(
            BASE + "/api/auth/token/",
            data=json.dumps({"email": os.environ["ST_ADMIN_EMAIL"],
                             "password": os.environ["ST_ADMIN_PASSWORD"]}).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": API_KEY,
                     "X-Client-ID": CLIENT_ID},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)["access"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _own(path, params):
    """Would this case act on the run's own admin account or API client?"""
    if path.startswith("/api/admin/users/{id}") and str(params.get("id")) == str(ADMIN_ID):
        return True
    return path.startswith("/api/admin/clients/{client_id}") and params.get("client_id") == CLIENT_ID


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    """Changes aimed at the run's own admin go to another user (a creator or
    a staff member made for this), at its own client to one that does not
    exist (404); reads of them are kept."""
    op = ctx.operation
    if op is not None and op.method.upper() != "GET" and _own(op.path, path_parameters or {}):
        path_parameters = dict(path_parameters)
        if "client_id" in path_parameters:
            path_parameters["client_id"] = "cl_schemathesis_no_such_client"
        else:
            path_parameters["id"] = OTHER_IDS[len(op.path) % len(OTHER_IDS)]
    return path_parameters


@schemathesis.hook
def filter_case(ctx, case):
    """The backstop: never send a change to the run's own admin or client."""
    return case.method.upper() == "GET" or not _own(case.operation.path, case.path_parameters or {})
PY

export ST_BASE="$BASE" ST_ADMIN_ID="$ADMIN_ID" ST_OTHER_IDS="$OTHER_IDS" ST_CLIENT_ID="$CLIENT_ID" ST_API_KEY="$API_KEY"
export ST_ADMIN_EMAIL="$ADMIN_EMAIL" ST_ADMIN_PASSWORD="$ADMIN_PASSWORD"
export PYTHONPATH="$dir" SCHEMATHESIS_HOOKS=gatehouse_hooks
mkdir -p "$ROOT/artifacts"
# Reproducible: a fixed seed, one worker (cases in one order), no example
# database carried between runs.
t0=$SECONDS
set +e
"$VENV/bin/schemathesis" run "$BASE/api/schema/" \
  -H "X-API-Key: $API_KEY" -H "X-Client-ID: $CLIENT_ID" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --max-examples "$MAX_EXAMPLES" --seed "$SEED" --generation-database none \
  --workers 1 --request-timeout 30 --no-color \
  --report ndjson --report-ndjson-path "$ROOT/artifacts/schemathesis-events.ndjson" 2>&1 |
  tee "$ROOT/artifacts/schemathesis.log"
rc=${PIPESTATUS[0]}
set -e
# What ran: operations, test cases, requests by status (from the events).
python3 - "$ROOT/artifacts/schemathesis-events.ndjson" <<'SUM' || rc=1
import collections, json, sys
statuses, requests = collections.Counter(), 0
for line in open(sys.argv[1]):
    ev = json.loads(line).get("ScenarioFinished")
    if not ev:
        continue
    for i in ev["recorder"].get("interactions", {}).values():
        requests += 1
        statuses[(i.get("response") or {}).get("status_code")] += 1
print(f"schemathesis: {requests} requests; statuses:",
      ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
server_errors = sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500)
if server_errors:
    sys.exit(f"{server_errors} responses were 5xx")
SUM
grep -E '^\s+(Selected|Tested):|generated,' "$ROOT/artifacts/schemathesis.log" || true
echo "schemathesis: exit $rc in $((SECONDS - t0))s (log and events in artifacts/)"
exit "$rc"
