#!/usr/bin/env bash
# Size and speed of @gatehouse/client against @supabase/auth-js (GoTrueClient)
# in the same minimal Vite build: three apps in a temp dir outside the repo (an
# empty one as the baseline, one per client, each making a client with
# localStorage and waiting until its session is usable), built with Vite, then
# loaded in headless Chromium. Prints a table:
#   added gzip  = the app's dist/ JS + wasm gzipped, minus the empty app's
#   ready       = page load (navigation start) → session usable (gatehouse: `ready`
#                 resolved; auth-js: getSession() resolved), minus the empty
#                 app's time to run its module in the same round; median of RUNS rounds
#   wasm up     = the same for gatehouse's `loaded` (the wasm fetched, compiled and
#                 instantiated: what a call made at once waits for)
# Usage: scripts/client-compare.sh [TARBALL]   (default: pack it; RUNS=15)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TGZ="${1:-}"
[ -n "$TGZ" ] || TGZ="$(bash "$ROOT/scripts/pack-client.sh" | tail -1)"
TGZ="$(realpath "$TGZ")"
TMP="$(mktemp -d /tmp/gatehouse-compare-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
echo '{"name":"compare","private":true,"type":"module"}' >package.json
npm install --no-audit --no-fund --loglevel=error vite@8 @supabase/auth-js@2 "$TGZ" >&2
app() { # app NAME  (src/NAME.js is its entry)
  mkdir -p "$1"
  cat >"$1/index.html" <<HTML
<!doctype html><html><body><p id="state">loading</p><script type="module" src="./main.js"></script></body></html>
HTML
  cp "src/$1.js" "$1/main.js"
  npx vite build "$1" --base ./ --outDir "../dist-$1" --emptyOutDir --logLevel error >&2
}
mkdir -p src
cat >src/empty.js <<'JS'
window.readyAt = performance.now();
document.getElementById("state").textContent = "ready";
JS
cat >src/gatehouse.js <<'JS'
import { GatehouseClient } from "@gatehouse/client";
const gh = new GatehouseClient({ baseUrl: "http://127.0.0.1:9", apiKey: "k", clientId: "c", storage: "localStorage" });
gh.ready.then(() => {
  window.readyAt = performance.now();
  document.getElementById("state").textContent = "ready";
});
// When the wasm core is up too (calls made before wait for it): reported apart.
gh.loaded.then(() => (window.loadedAt = performance.now()));
JS
cat >src/authjs.js <<'JS'
import { GoTrueClient } from "@supabase/auth-js";
const c = new GoTrueClient({ url: "http://127.0.0.1:9/auth/v1", storageKey: "sb", autoRefreshToken: true, persistSession: true });
c.getSession().then(() => {
  window.readyAt = performance.now();
  document.getElementById("state").textContent = "ready";
});
JS
for a in empty gatehouse authjs; do app "$a"; done
node "$ROOT/client-wasm/scripts/compare-measure.mjs" "$TMP" "${RUNS:-15}"
