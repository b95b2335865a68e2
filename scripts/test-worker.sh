#!/usr/bin/env bash
# CI: the contract suite against the Worker under `wrangler dev`, on a local
# libSQL server (sqld). Installs its tools, runs host-worker's unit tests
# (its Hrana client), builds, starts sqld and wrangler on their own ports,
# waits for /healthz, runs `cargo test -p gatehouse-contract` against them,
# then the passkey browser test (client-wasm/e2e/passkey.test.mjs, when the
# client package is packed) and the React example's social sign-in through a
# real OpenID Provider (examples/e2e/social-flow.mjs, when examples/react/dist
# is built), stops them by pid. Prints each stage's seconds; exits non-zero
# when any stage fails.
#
# Runs itself under scripts/with-oidc.sh (unless GATEHOUSE_TEST_OIDC_ISSUER
# is set), with the Worker's callback registered there: the Worker's
# GATEHOUSE_PUBLIC_URL is its own address, so the provider sends the browser
# back to it. Under a provider started elsewhere, register
# http://127.0.0.1:$GATEHOUSE_TEST_WORKER_PORT/api/auth/social/callback/.
#
# Ports: GATEHOUSE_TEST_WORKER_PORT (28482), GATEHOUSE_TEST_SQLD_PORT (28481),
# GATEHOUSE_TEST_WORKER_APP_PORT (28483: the React build, served).
# GATEHOUSE_WORKER_TEST_FILTER: only the contract tests whose names contain it.
# Mail: the send_email binding's emulation writes each message to an .eml
# file whose path wrangler logs; the suite reads them through the log
# (GATEHOUSE_TEST_WRANGLER_LOG), while wrangler still runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
wport="${GATEHOUSE_TEST_WORKER_PORT:-28482}"
sport="${GATEHOUSE_TEST_SQLD_PORT:-28481}"
aport="${GATEHOUSE_TEST_WORKER_APP_PORT:-28483}"
# A real OpenID Provider for the contract suite's social test and the React
# social flow, allowing the callback under this Worker's address.
if [ -z "${GATEHOUSE_TEST_OIDC_ISSUER:-}" ]; then
    GATEHOUSE_TEST_OIDC_EXTRA_REDIRECT_URIS="http://127.0.0.1:$wport/api/auth/social/callback/" \
        exec bash scripts/with-oidc.sh bash "$ROOT/scripts/test-worker.sh" "$@"
fi
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-worker-test.XXXXXX")"

timings=()
stage_start=0
stage() { stage_name="$1"; stage_start=$SECONDS; echo "== test-worker: $1"; }
stage_done() {
    timings+=("$(printf '%-28s %4ss' "$stage_name" "$((SECONDS - stage_start))")")
    stage_name=""
}
pids=()
cleanup() {
    status=$?
    if [ "$status" -ne 0 ] && [ -n "${stage_name:-}" ]; then
        timings+=("$(printf '%-28s %4ss (failed)' "$stage_name" "$((SECONDS - stage_start))")")
    fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "== test-worker: stage times"
    for t in "${timings[@]}"; do echo "   $t"; done
    if [ "$status" -ne 0 ]; then
        echo "== test-worker: FAILED (exit $status); last lines of the logs:" >&2
        tail -n 30 "$work/sqld.log" "$work/wrangler.log" "$work/serve.log" 2>/dev/null >&2 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stage "install tools"
bash scripts/install-worker-tools.sh
stage_done

stage "host-worker unit tests"
cargo test -q --manifest-path host-worker/Cargo.toml
stage_done

stage "build worker (release wasm)"
sh host-worker/build.sh
stage_done

stage "build native binary"
cargo build -q -p gatehouse
gatehouse="${CARGO_TARGET_DIR:-$ROOT/target}/debug/gatehouse"
stage_done

stage "start + migrate sqld"
db_url="http://127.0.0.1:$sport"
start_sqld "$work/data.sqld" "$sport" "$work/sqld.log"
"$gatehouse" --database-url "$db_url" migrate
# The dashboard's API client, for /admin/config.json (pages::config_json_…).
dashboard="$("$gatehouse" --database-url "$db_url" create-api-client --name "Dashboard (test)" \
    --type admin --rate-limit 1000 --json)"
dash_id="$(printf '%s' "$dashboard" | sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p')"
dash_key="$(printf '%s' "$dashboard" | sed -n 's/.*"api_key" *: *"\([^"]*\)".*/\1/p')"
[ -n "$dash_id" ] && [ -n "$dash_key" ] || { echo "no dashboard client: $dashboard" >&2; exit 1; }
stage_done

stage "start wrangler dev"
# The seed's tokens are honoured (the contract suite's ServerConfig::Legacy:
# its key and a future deadline), so tests/tests/contract/legacy_tokens.rs
# runs here too (GATEHOUSE_TEST_LEGACY_TOKENS=1 below).
legacy_key="django-insecure-contract-suite-seed-key!"
legacy_until="2099-01-01T00:00:00Z"
base_url="http://127.0.0.1:$wport"
# A reuse grace short enough for the contract suite to wait out (a replay
# after the window): wrangler takes no per-test flags, so the whole run
# uses it, and the suite is told.
reuse_grace=2
# A short key cache, so a key the CLI retires stops verifying within the
# bound tests/tests/key_rotation.rs waits for (the suite is told below).
key_cache=2
# The key sealing second-factor and provider secrets: the CLI, which adds
# the provider below, uses the same.
data_key="$(head -c 32 /dev/urandom | base64)"
# wrangler.toml without its [build] section, so wrangler serves the worker
# just built instead of rebuilding it and watching core/src for changes;
# its paths made absolute, as the copy lives elsewhere.
sed -e '/^\[build\]/,/^$/d' -e "s#^main = \"#main = \"$ROOT/#" \
    -e "s#^directory = \"#directory = \"$ROOT/#" wrangler.toml >"$work/wrangler.toml"
node_modules/.bin/wrangler dev --config "$work/wrangler.toml" --ip 127.0.0.1 --port "$wport" \
    --var "GATEHOUSE_DATABASE_URL:$db_url" \
    --var "GATEHOUSE_REGISTRATIONS_PER_IP:1000000" \
    --var "GATEHOUSE_REFRESH_REUSE_GRACE:$reuse_grace" \
    --var "GATEHOUSE_KEY_CACHE_SECS:$key_cache" \
    --var "GATEHOUSE_DASHBOARD_CLIENT_ID:$dash_id" --var "GATEHOUSE_DASHBOARD_API_KEY:$dash_key" \
    --var "GATEHOUSE_DJANGO_SIGNING_KEY:$legacy_key" --var "GATEHOUSE_LEGACY_TOKENS_UNTIL:$legacy_until" \
    --var "GATEHOUSE_MAIL_FROM:Gatehouse Tests <gatehouse@tests.example>" \
    --var "GATEHOUSE_DATA_KEY:$data_key" --var "GATEHOUSE_PUBLIC_URL:$base_url" \
    --var "GATEHOUSE_OUTBOUND_ALLOW:127.0.0.1" --var "GATEHOUSE_MAIL_RETRY_SECS:1" \
    </dev/null >"$work/wrangler.log" 2>&1 &
pids+=("$!")
ready=""
for _ in $(seq 1 300); do   # up to ~60 s
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base_url/healthz" 2>/dev/null)" = 200 ]; then
        ready=1
        break
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.2
done
if [ -z "$ready" ]; then echo "wrangler dev did not become ready" >&2; exit 1; fi
stage_done

stage "contract suite"
cargo test -q -p gatehouse-contract --no-run
# Two tests at a time. The Worker itself takes more (each batch is one
# request to sqld), but the suite sets tests up with the native CLI, whose
# libsql client holds transactions across several requests: with 8 at a
# time such a CLI run now and then failed with "database is locked", and
# with 4, once in 8 runs, sqld went to 100 % CPU with four CLI runs stuck.
# The timeout turns such a hang into a failure instead of a stuck CI.
GATEHOUSE_TEST_BASE_URL="$base_url" GATEHOUSE_TEST_DATABASE_URL="$db_url" \
    GATEHOUSE_TEST_DASHBOARD_CLIENT_ID="$dash_id" GATEHOUSE_TEST_DASHBOARD_API_KEY="$dash_key" \
    GATEHOUSE_TEST_REFRESH_REUSE_GRACE="$reuse_grace" GATEHOUSE_TEST_KEY_CACHE_SECS="$key_cache" \
    GATEHOUSE_BIN="$gatehouse" GATEHOUSE_TEST_LEGACY_TOKENS=1 \
    GATEHOUSE_TEST_WRANGLER_LOG="$work/wrangler.log" \
    timeout 600 cargo test -p gatehouse-contract -- --test-threads="${GATEHOUSE_WORKER_TEST_THREADS:-2}" --show-output \
    ${GATEHOUSE_WORKER_TEST_FILTER:-}
stage_done

# Passkeys end to end on the Worker: the client package's ceremonies in headless
# Chromium with the DevTools virtual authenticator (client-wasm/e2e/passkey.test.mjs),
# when the package is packed (the client-wasm stage) and Chromium is there.
stage "passkeys in Chromium"
if [ -f client-wasm/pkg/npm/index.js ] && [ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
    GATEHOUSE_E2E_BASE_URL="$base_url" GATEHOUSE_E2E_DATABASE_URL="$db_url" GATEHOUSE_BIN="$gatehouse" \
        timeout 300 node --test client-wasm/e2e/passkey.test.mjs
else
    echo "skipped: no client-wasm/pkg/npm (scripts/pack-client.sh) or no chromium"
fi
stage_done

# The React example's social sign-in on the Worker, in headless Chromium: its
# build served (examples/e2e/serve.mjs) against the Worker, the button → the
# provider's login form → the Worker's callback → the app's /auth/return →
# /profile (examples/e2e/social-flow.mjs), when the build is there (the
# examples stage; scripts/test-examples.sh) and Chromium is.
stage "social sign-in in Chromium"
react_dist="examples/react/dist"
if [ -f "$react_dist/index.html" ] && [ -d examples/e2e/node_modules/playwright-core ] &&
    [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    app_url="http://127.0.0.1:$aport"
    "$gatehouse" --database-url "$db_url" create-api-client --name "React example (worker)" --type web \
        --rate-limit 100000 --serves creator --origins "$app_url" --json >"$work/react-client.json"
    app_id="$(json_field "$work/react-client.json" client_id)"
    app_key="$(json_field "$work/react-client.json" api_key)"
    # Its secret sealed with the Worker's data key; outbound HTTP to the
    # provider (loopback) is allowed by GATEHOUSE_OUTBOUND_ALLOW above.
    GATEHOUSE_DATA_KEY="$data_key" GATEHOUSE_PROVIDER_CLIENT_SECRET="$GATEHOUSE_TEST_OIDC_CLIENT_SECRET" \
        "$gatehouse" --database-url "$db_url" providers add --id dev-oidc \
        --issuer "$GATEHOUSE_TEST_OIDC_ISSUER" --client-id "$GATEHOUSE_TEST_OIDC_CLIENT_ID" \
        --client "$app_id=$app_url/auth/return" >/dev/null
    GATEHOUSE_URL="$base_url" GATEHOUSE_CLIENT_ID="$app_id" GATEHOUSE_API_KEY="$app_key" \
        GATEHOUSE_SOCIAL_PROVIDERS=dev-oidc node examples/e2e/serve.mjs "$react_dist" "$aport" \
        </dev/null >"$work/serve.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 1 200); do
        grep -q serving "$work/serve.log" && break
        kill -0 "${pids[-1]}" 2>/dev/null || break
        sleep 0.05
    done
    grep -q serving "$work/serve.log" || { cat "$work/serve.log" >&2; echo "serve.mjs did not start" >&2; exit 1; }
    GATEHOUSE_SOCIAL_PROVIDER=dev-oidc SCREENSHOT_DIR="$ROOT/examples/e2e/screenshots/worker" \
        timeout 120 node examples/e2e/social-flow.mjs "$app_url"
else
    echo "skipped: no examples/react/dist (scripts/test-examples.sh react), no examples/e2e/node_modules or no chromium"
fi
stage_done
echo "== test-worker: passed"
