#!/usr/bin/env bash
# Runs a command with a real OpenID Provider (npm oidc-provider,
# scripts/oidc-provider/server.mjs) on a free port of 127.0.0.1:
#   scripts/with-oidc.sh CMD ARGS…
# For the command: GATEHOUSE_TEST_OIDC_ISSUER (its issuer and discovery
# base), GATEHOUSE_TEST_OIDC_CLIENT_ID and GATEHOUSE_TEST_OIDC_CLIENT_SECRET
# (the client registered there, whose redirect URIs are Gatehouse's
# callback under the native default public URL, http://localhost:8000, and
# under the Worker's, http://127.0.0.1:8787, from wrangler.toml, plus any in
# GATEHOUSE_TEST_OIDC_EXTRA_REDIRECT_URIS, comma-separated). The provider is
# stopped (by pid) when the command ends.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-oidc-provider.sh"
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export GATEHOUSE_TEST_OIDC_CLIENT_ID=gatehouse-test
export GATEHOUSE_TEST_OIDC_CLIENT_SECRET="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
OIDC_PORT="$port" OIDC_CLIENT_ID="$GATEHOUSE_TEST_OIDC_CLIENT_ID" \
  OIDC_CLIENT_SECRET="$GATEHOUSE_TEST_OIDC_CLIENT_SECRET" \
  OIDC_REDIRECT_URIS="http://localhost:8000/api/auth/social/callback/,http://127.0.0.1:8787/api/auth/social/callback/${GATEHOUSE_TEST_OIDC_EXTRA_REDIRECT_URIS:+,$GATEHOUSE_TEST_OIDC_EXTRA_REDIRECT_URIS}" \
  node "$ROOT/scripts/oidc-provider/server.mjs" >"$dir/oidc.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
ready=""
for _ in $(seq 1 200); do
  if curl -sf "http://127.0.0.1:$port/.well-known/openid-configuration" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$ready" ]; then cat "$dir/oidc.log" >&2; echo "oidc-provider did not start" >&2; exit 1; fi
export GATEHOUSE_TEST_OIDC_ISSUER="http://127.0.0.1:$port"
echo "with-oidc: oidc-provider at $GATEHOUSE_TEST_OIDC_ISSUER" >&2
"$@"
