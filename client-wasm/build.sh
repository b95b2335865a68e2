#!/usr/bin/env bash
# Builds the wasm core of @gatehouse/client into pkg/web (scripts/pack-client.sh
# packs it with the JS shell): wasm-pack (its own wasm-opt off), then npm
# binaryen's wasm-opt -Oz, stub-fmt.mjs, wasm-opt again. The core's class is the
# shell's (js/client.js), not an API of its own, so the web target is all the
# package needs; others can still be named. Needs scripts/install-wasm-tools.sh
# to have run. Usage: client-wasm/build.sh [target...]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
export PATH="$HOME/.cargo/bin:$PATH"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(web)
[ -x node_modules/.bin/wasm-opt ] || npm ci --no-audit --no-fund
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)
# Panic locations name dependency sources by path: keep the build machine's
# paths out, and the registry's cache directory (it is named for the registry's
# host), so a location reads `js-sys-0.3.107/src/…`.
cargo fetch --quiet --target wasm32-unknown-unknown # so the cache directory exists to be named
RUSTFLAGS="${RUSTFLAGS:-}"
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  RUSTFLAGS+=" --remap-path-prefix=${dir}="
done
export RUSTFLAGS
for t in "${TARGETS[@]}"; do
  rm -rf "pkg/$t"
  # --no-typescript: the package's one set of declarations is js/index.d.ts (the
  # core's class is internal to the package).
  wasm-pack --quiet build --release --target "$t" --out-dir "pkg/$t" --out-name gatehouse_client \
    --scope gatehouse --no-default-features --no-typescript
  w="pkg/$t/gatehouse_client_bg.wasm"
  # -tnh (traps never happen): the module's only traps are panics, i.e. bugs; binaryen
  # may then drop the checks that lead to them. See README "Size".
  # Names kept (-g) for stub-fmt.mjs, which empties the core::fmt functions only
  # panic messages use (the panic handler never reads them); then again without names.
  node_modules/.bin/wasm-opt -Oz --converge -tnh -g "${WASM_OPT_FEATURES[@]}" "$w" -o "$w.opt"
  node scripts/stub-fmt.mjs "$w.opt" "$w.stub"
  node_modules/.bin/wasm-opt -Oz --converge -tnh --strip-debug --strip-producers --strip-target-features \
    "${WASM_OPT_FEATURES[@]}" "$w.stub" -o "$w"
  rm -f "$w.opt" "$w.stub"
  # Short import/export names in the wasm and the glue (see scripts/minify-names.mjs);
  # only for web, the package's core: the bundler target imports the wasm by name.
  [ "$t" != web ] || node scripts/minify-names.mjs "$w" "pkg/$t/gatehouse_client.js"
  rm -f "pkg/$t/.gitignore"
  echo "build: pkg/$t ($(wc -c <"$w") bytes wasm)"
done
