#!/usr/bin/env node
// Size check for @gatehouse/client on the PACKED tarball (what npm installs):
// what an app adds = the browser entry (index.js + client.js + core.js) bundled
// and minified by esbuild, plus the .wasm, both gzipped (level 9). Fails above
// the budget.   node scripts/size.mjs TARBALL [--budget BYTES] [--json FILE]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
// The budget: smaller than @supabase/auth-js in the same Vite build.
const BUDGET = Number(flag("--budget", process.env.CLIENT_WASM_BUDGET || 22_000));
const jsonOut = flag("--json", null);
const tgz = args[0];
if (!tgz) throw new Error("usage: size.mjs TARBALL");
const dir = mkdtempSync(join(tmpdir(), "gatehouse-size-"));
try {
  execFileSync("tar", ["xzf", tgz, "-C", dir]);
  const pkg = join(dir, "package");
  const wasm = readFileSync(join(pkg, "gatehouse_client_bg.wasm"));
  const esbuild = join(here, "..", "node_modules", ".bin", "esbuild");
  const js = execFileSync(esbuild, [join(pkg, "index.js"), "--bundle", "--minify", "--format=esm", "--log-level=error"]);
  const gz = (b) => gzipSync(b, { level: 9 }).length;
  const r = { wasm_raw: wasm.length, wasm_gzip: gz(wasm), js_min: js.length, js_min_gzip: gz(js) };
  r.total_gzip = r.wasm_gzip + r.js_min_gzip;
  r.budget = BUDGET;
  console.log(`size: wasm ${r.wasm_raw} B raw, ${r.wasm_gzip} B gzip`);
  console.log(`size: js (browser entry, bundled) ${r.js_min} B minified, ${r.js_min_gzip} B gzip`);
  console.log(`size: total ${r.total_gzip} B gzip, budget ${BUDGET} B, ${BUDGET - r.total_gzip} B left`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(r, null, 2) + "\n");
  if (r.total_gzip > BUDGET) {
    console.error(`size: FAIL — ${r.total_gzip} B gzip is over the ${BUDGET} B budget`);
    process.exit(1);
  }
  console.log("size: ok");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
