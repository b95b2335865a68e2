#!/usr/bin/env sh
# Builds the Worker (wrangler.toml's [build] command). worker-build 0.1.14
# never looks on PATH and would download wasm-bindgen and esbuild: point it at
# the ones scripts/install-worker-tools.sh and `npm ci` installed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$cargo_bin/wasm-bindgen}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
cd "$here"
"$cargo_bin/worker-build" --release "$@"
node strip-names.mjs build/index_bg.wasm
