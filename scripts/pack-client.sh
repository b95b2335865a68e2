#!/usr/bin/env bash
# Builds the one npm package @gatehouse/client and packs it with `npm pack`:
#   client-wasm/build.sh web        the wasm core (wasm-pack --target web + wasm-opt -Oz)
#   client-wasm/pkg/npm/            core.js (the wasm-bindgen glue), the .wasm, the thin
#                                   JS (client-wasm/js/) and index.d.ts, package.json with
#                                   conditional exports (browser/bundler, node, workerd)
#   client-wasm/pkg/gatehouse-client-VERSION.tgz
# Prints the tarball's path last. GATEHOUSE_SKIP_WASM_BUILD=1 reuses pkg/web.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CW="$ROOT/client-wasm"
[ "${GATEHOUSE_SKIP_WASM_BUILD:-}" = 1 ] || bash "$CW/build.sh" web >&2
OUT="$CW/pkg/npm"
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$CW/pkg/web/gatehouse_client.js" "$OUT/core.js"
cp "$CW/pkg/web/gatehouse_client_bg.wasm" "$OUT/"
cp "$CW"/js/*.js "$CW/js/index.d.ts" "$CW/README.md" "$OUT/"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$CW/Cargo.toml" | head -1)"
cat >"$OUT/package.json" <<JSON
{
  "name": "@gatehouse/client",
  "version": "$VERSION",
  "description": "Gatehouse's JavaScript client: login, headers, single-flight token refresh across tabs (a small wasm core).",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "engines": { "node": ">=20" },
  "sideEffects": ["./index.js", "./node.js", "./worker.js"],
  "types": "./index.d.ts",
  "main": "./node.js",
  "module": "./index.js",
  "browser": "./index.js",
  "exports": {
    ".": {
      "types": "./index.d.ts",
      "workerd": "./worker.js",
      "worker": "./worker.js",
      "browser": "./index.js",
      "node": "./node.js",
      "default": "./index.js"
    },
    "./gatehouse_client_bg.wasm": "./gatehouse_client_bg.wasm",
    "./package.json": "./package.json"
  },
  "files": ["core.js", "client.js", "index.js", "node.js", "worker.js", "index.d.ts", "gatehouse_client_bg.wasm", "README.md"]
}
JSON
(cd "$CW/pkg" && rm -f gatehouse-client-*.tgz && npm pack ./npm --silent >&2)
echo "$CW/pkg/gatehouse-client-$VERSION.tgz"
