#!/usr/bin/env sh
# Builds the Worker (wrangler.toml's [build] command). worker-build 0.1.14
# never looks on PATH and would download wasm-bindgen and esbuild: point it at
# the ones scripts/install-worker-tools.sh and `npm ci` installed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$cargo_bin/wasm-bindgen}"
# esbuild through esbuild.sh, which also leaves `cloudflare:email` external.
export GATEHOUSE_REAL_ESBUILD="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
export ESBUILD_BIN="$here/esbuild.sh"
cd "$here"
# Panic locations name sources by path: keep the checkout's path and the
# registry cache directory's name (it is the registry's host) out of the
# upload. The cache must exist to be named, hence the fetch.
"$cargo_bin/cargo" fetch --quiet --target wasm32-unknown-unknown
flags="${RUSTFLAGS:-} --remap-path-prefix=$root/="
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  [ -d "$dir" ] && flags="$flags --remap-path-prefix=$dir="
done
export RUSTFLAGS="$flags"
"$cargo_bin/worker-build" --release "$@"
node strip-names.mjs build/index_bg.wasm
