#!/usr/bin/env bash
# Installs the packed @gatehouse/client tarball into fresh projects OUTSIDE the
# repo (a temp dir), with no Rust on the path, and runs each:
#   vite    Vite 8 + React 19 app, `vite build`, page opened in headless Chromium
#   node    a plain Node ≥ 20 ESM script (the SSR entry)
#   worker  a Worker module run by wrangler (workerd, the "workerd" export)
# Usage: fresh-projects.sh TARBALL [vite node worker]
set -euo pipefail
TGZ="$(realpath "$1")"; shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KINDS=("$@"); [ ${#KINDS[@]} -gt 0 ] || KINDS=(vite node worker)
TMP="$(mktemp -d /tmp/gatehouse-fresh-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export PATH="$(echo "$PATH" | tr ':' '\n' | grep -v cargo | paste -sd:)" # no Rust
NPM=(npm install --no-audit --no-fund --loglevel=error)
pass=0

node_proj() {
  local d="$TMP/node"; mkdir -p "$d" && cd "$d"
  echo '{"name":"fresh-node","private":true,"type":"module"}' >package.json
  "${NPM[@]}" "$TGZ"
  cat >main.js <<'JS'
import { GatehouseClient, GatehouseError } from "@gatehouse/client";
const gh = new GatehouseClient({ baseUrl: "http://api.test", apiKey: "k", clientId: "c",
  fetch: async () => new Response('{"detail":"No active account","code":"no_active_account"}', { status: 401 }) });
console.log("ready", await gh.ready);
const e = await gh.login("a@example.com", "x").catch((e) => e);
if (!(e instanceof GatehouseError) || e.code !== "no_active_account") throw new Error("bad error " + e);
gh.close();
console.log("node ok");
JS
  node main.js | tee out.txt
  grep -q "node ok" out.txt
}

worker_proj() {
  local d="$TMP/worker"; mkdir -p "$d/src" && cd "$d"
  echo '{"name":"fresh-worker","private":true,"type":"module"}' >package.json
  "${NPM[@]}" "$TGZ"
  printf 'name = "fresh-worker"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n' >wrangler.toml
  cat >src/index.js <<'JS'
import { GatehouseClient, GatehouseError } from "@gatehouse/client";
export default {
  async fetch() {
    const gh = new GatehouseClient({ baseUrl: "http://api.test", apiKey: "k", clientId: "c",
      fetch: async () => new Response('{"detail":"d","code":"no_active_account"}', { status: 401 }) });
    const e = await gh.login("a@example.com", "x").catch((e) => e);
    gh.close();
    return new Response(e instanceof GatehouseError && e.code === "no_active_account" ? "worker ok" : "bad: " + e);
  },
};
JS
  local port=$((20000 + RANDOM % 20000))
  "$ROOT/node_modules/.bin/wrangler" dev --port "$port" --ip 127.0.0.1 >wrangler.log 2>&1 &
  local pid=$!
  local out=""
  for _ in $(seq 1 120); do
    out="$(curl -s "http://127.0.0.1:$port/" || true)"
    [ -n "$out" ] && break
    sleep 0.5
  done
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  echo "worker: $out"
  [ "$out" = "worker ok" ] || { cat wrangler.log; return 1; }
}

vite_proj() {
  local d="$TMP/vite"; mkdir -p "$d/src" && cd "$d"
  echo '{"name":"fresh-vite","private":true,"type":"module"}' >package.json
  "${NPM[@]}" "$TGZ" vite@8 react@19 react-dom@19
  cat >index.html <<'HTML'
<!doctype html><html><body><div id="root">loading</div><script type="module" src="/src/main.js"></script></body></html>
HTML
  cat >src/main.js <<'JS'
import { createElement as h, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { GatehouseClient, GatehouseError } from "@gatehouse/client";
const gh = new GatehouseClient({ baseUrl: "http://127.0.0.1:9", apiKey: "k", clientId: "c", storage: "localStorage" });
function App() {
  const [state, set] = useState("loading");
  useEffect(() => gh.onChange((ev, s) => {
    if (ev !== "initialSession") return;
    gh.login("a@example.com", "x").catch((e) => set((s ? "in" : "out") + ":" + (e instanceof GatehouseError) + ":" + e.code));
  }), []);
  return h("p", { id: "state" }, state);
}
createRoot(document.getElementById("root")).render(h(App));
JS
  npx vite build --logLevel warn
  node "$ROOT/client-wasm/e2e/open-page.mjs" "$d/dist" | tee out.txt
  grep -qx "out:true:network_error" out.txt
}

for k in "${KINDS[@]}"; do
  echo "=== fresh project: $k"
  t0=$SECONDS
  (${k}_proj)
  echo "=== fresh project: $k ok in $((SECONDS - t0))s"
  pass=$((pass + 1))
done
echo "fresh projects: $pass passed, 0 failed"
