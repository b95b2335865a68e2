#!/usr/bin/env node
// Size check for @gatehouse/client: the wasm plus the JS glue of the --target web
// build, the glue minified (esbuild), both gzipped (level 9). Fails above the budget.
//   node scripts/size.mjs [pkgDir] [--budget BYTES] [--json FILE]
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const BUDGET = Number(flag("--budget", process.env.CLIENT_WASM_BUDGET || 25_000)); // bytes, gzip, wasm + JS
const jsonOut = flag("--json", null);
const pkg = args[0] || join(here, "..", "pkg", "web");

const wasm = readFileSync(join(pkg, "gatehouse_client_bg.wasm"));
const jsPath = join(pkg, "gatehouse_client.js");
const js = readFileSync(jsPath);
const esbuild = join(here, "..", "node_modules", ".bin", "esbuild");
const jsMin = execFileSync(esbuild, [jsPath, "--minify", "--format=esm", "--log-level=error"]);
const gz = (b) => gzipSync(b, { level: 9 }).length;

const r = {
  wasm_raw: wasm.length,
  wasm_gzip: gz(wasm),
  js_raw: js.length,
  js_min: jsMin.length,
  js_min_gzip: gz(jsMin),
};
r.total_gzip = r.wasm_gzip + r.js_min_gzip;
r.budget = BUDGET;
const kb = (n) => (n / 1000).toFixed(1) + " KB";
console.log(`size: wasm ${kb(r.wasm_raw)} raw, ${kb(r.wasm_gzip)} gzip`);
console.log(`size: js glue ${kb(r.js_raw)} raw, ${kb(r.js_min)} minified, ${kb(r.js_min_gzip)} minified+gzip`);
console.log(`size: total ${kb(r.total_gzip)} gzip (wasm + minified JS), budget ${kb(BUDGET)}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(r, null, 2) + "\n");
if (r.total_gzip > BUDGET) {
  console.error(`size: FAIL — ${r.total_gzip} bytes gzip is over the ${BUDGET}-byte budget`);
  process.exit(1);
}
console.log("size: ok");
