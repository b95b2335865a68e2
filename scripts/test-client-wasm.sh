#!/usr/bin/env bash
# Builds and tests the wasm client (client-wasm/, npm @gatehouse/client):
#   install   scripts/install-wasm-tools.sh (idempotent; skip with GATEHOUSE_SKIP_WASM_INSTALL=1)
#   build     wasm-pack --target web + npm binaryen wasm-opt (the package's wasm core)
#   pack      scripts/pack-client.sh: the one npm package, packed (npm pack) to pkg/*.tgz
#   size      the packed tarball's JS + wasm, minified and gzipped, against the budget
#   types     tsc --strict (lib ES2023+DOM, skipLibCheck false) over a usage file
#             against the packed package's index.d.ts
#   node      wasm-bindgen-test in Node
#   chromium  wasm-bindgen-test in headless Chromium (chromedriver)
#   gatehouse the native server for e2e: $GATEHOUSE_BIN if set, else `cargo build -p gatehouse`
#   e2e       node --test client-wasm/e2e (Node entry; Chromium pages via playwright-core:
#             two tabs, and the lifecycle faults: close, outage, tab closed/reloaded
#             mid-refresh, stored session at load, CSP; the email flows with the
#             mail read from a real SMTP server's Maildir: scripts/with-smtp.sh)
#             passkeys (register, passwordless, second factor, a cloned counter)
#             with the DevTools virtual authenticator; social sign-in (the shell
#             against a recording fetch: PKCE, state, the return URL)
#   fresh     the tarball installed into fresh Vite (React), Node and Worker projects
#             in a temp dir outside the repo, with no Rust on the path, and run
# Prints what each stage cost in seconds; exits non-zero on the first failure.
# Runnable from any cwd. Stages can be picked: test-client-wasm.sh build size node
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CW="$ROOT/client-wasm"
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(install build pack size types node chromium gatehouse e2e fresh)

declare -a REPORT=()
T_ALL=$SECONDS
current=""
on_exit() {
  local rc=$?
  report_result test-client-wasm $rc stage
}
trap on_exit EXIT

stage() {
  current="$1"
  shift
  echo "=== client-wasm: $current"
  local t0=$SECONDS
  "$@"
  REPORT+=("test-client-wasm: stage $current: $((SECONDS - t0))s")
  echo "=== client-wasm: $current done in $((SECONDS - t0))s"
}

do_install() {
  if [ "${GATEHOUSE_SKIP_WASM_INSTALL:-}" = 1 ]; then echo "skipped"; return; fi
  bash "$ROOT/scripts/install-wasm-tools.sh"
}

do_build() { bash "$CW/build.sh" web; }

TGZ=""
do_pack() { TGZ="$(GATEHOUSE_SKIP_WASM_BUILD=1 bash "$ROOT/scripts/pack-client.sh" | tail -1)"; echo "packed $TGZ"; }

packed() { [ -n "$TGZ" ] || TGZ="$(ls "$CW"/pkg/gatehouse-client-*.tgz | tail -1)"; }

do_fresh() { packed; bash "$CW/e2e/fresh-projects.sh" "$TGZ"; }

# The Vite template's compiler options, then the Angular template's.
do_types() {
  (cd "$CW" && node_modules/.bin/tsc -p tests/types/tsconfig.json \
    && node_modules/.bin/tsc -p tests/types/tsconfig.angular.json && echo "types: ok (vite, angular)")
}

do_size() { packed; node "$CW/scripts/size.mjs" "$TGZ" --json "$CW/pkg/size.json"; }

wasm_test() {
  (cd "$CW" && CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    WASM_BINDGEN_TEST_TIMEOUT=60 cargo test --target wasm32-unknown-unknown "$@")
}

do_node() { wasm_test; }

do_chromium() {
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" wasm_test
}

do_gatehouse() {
  if [ -n "${GATEHOUSE_BIN:-}" ]; then
    echo "using GATEHOUSE_BIN=$GATEHOUSE_BIN"
  else
    (cd "$ROOT" && cargo build -p gatehouse)
    local dir
    dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
    export GATEHOUSE_BIN="$dir/debug/gatehouse"
  fi
  [ -x "$GATEHOUSE_BIN" ] || { echo "no gatehouse binary at $GATEHOUSE_BIN"; return 1; }
}

do_e2e() {
  if [ -z "${GATEHOUSE_BIN:-}" ]; then do_gatehouse; fi
  # Under a real SMTP server (scripts/with-smtp.sh) unless the caller runs one:
  # email.test.mjs reads the delivered mail from its Maildir.
  local smtp=()
  [ -n "${GATEHOUSE_TEST_MAILDIR:-}" ] || smtp=(bash "$ROOT/scripts/with-smtp.sh")
  (cd "$CW" && "${smtp[@]}" node --test --test-concurrency=1 e2e/node.test.mjs e2e/browser.test.mjs e2e/faults.test.mjs e2e/email.test.mjs e2e/mfa.test.mjs e2e/passkey.test.mjs e2e/social.test.mjs)
}

for s in "${STAGES[@]}"; do
  case "$s" in
    install) stage install do_install ;;
    build) stage build do_build ;;
    pack) stage pack do_pack ;;
    fresh) stage fresh do_fresh ;;
    size) stage size do_size ;;
    types) stage types do_types ;;
    node) stage node do_node ;;
    chromium) stage chromium do_chromium ;;
    gatehouse) stage gatehouse do_gatehouse ;;
    e2e) stage e2e do_e2e ;;
    *) echo "unknown stage $s"; exit 2 ;;
  esac
done
