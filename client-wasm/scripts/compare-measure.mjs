// Measures the apps scripts/client-compare.sh built (DIR/dist-{empty,gatehouse,authjs}):
// gzip of JS + wasm, and the median time to `window.readyAt` over RUNS loads in
// headless Chromium. Prints the table.
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const [dir, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 15);
const require = createRequire(import.meta.url);
const { chromium } = require(join(fileURLToPath(new URL("../../", import.meta.url)), "node_modules", "playwright-core"));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

function files(d) {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));
}
function sizes(app) {
  const out = { js: 0, wasm: 0 };
  for (const f of files(join(dir, "dist-" + app))) {
    const e = extname(f);
    if (e === ".js" || e === ".wasm") out[e.slice(1)] += gzipSync(readFileSync(f), { level: 9 }).length;
  }
  return out;
}

const srv = http.createServer((req, res) => {
  const [, app, ...rest] = req.url.split("?")[0].split("/");
  const file = normalize(join(dir, "dist-" + app, rest.join("/") || "index.html"));
  try {
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "cache-control": "no-store" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => srv.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${srv.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * f)];
const median = (xs) => q(xs, 0.5);
const spread = (xs) => `${q(xs, 0.25).toFixed(1)}…${q(xs, 0.75).toFixed(1)}`;
async function load(app) {
  const ctx = await browser.newContext(); // a cold cache each load
  const page = await ctx.newPage();
  await page.goto(`${base}/${app}/`);
  await page.waitForFunction(() => window.readyAt !== undefined, null, { timeout: 15000 });
  if (app === "gatehouse") await page.waitForFunction(() => window.loadedAt !== undefined, null, { timeout: 15000 });
  // Also from the request of the app's script (resource timing): without the
  // navigation's own noise (new context, the HTML), which the machine's load makes large.
  const t = await page.evaluate(() => {
    const js = performance.getEntriesByType("resource").find((e) => e.name.endsWith(".js"));
    return [window.readyAt, window.loadedAt, window.readyAt - js.startTime];
  });
  await ctx.close();
  return t;
}
// The three apps are loaded in turn, RUNS rounds, so that each round sees the
// same machine load (in a random order each round: no app always follows the
// same one); each app's time is taken relative to the empty page of its round,
// and the median of those differences is reported, with its quartiles.
const times = { gatehouse: [], authjs: [], loaded: [], gatehouseJs: [], authjsJs: [] };
let emptyTimes = [];
for (let i = 0; i <= RUNS; i++) {
  const t = {};
  for (const app of ["empty", "gatehouse", "authjs"].sort(() => Math.random() - 0.5)) t[app] = await load(app);
  const [[e, , ej], [g, gl, gj], [a, , aj]] = [t.empty, t.gatehouse, t.authjs];
  if (i === 0) continue; // the first round warms Chromium
  emptyTimes.push(e);
  times.gatehouse.push(g - e);
  times.loaded.push(gl - e);
  times.authjs.push(a - e);
  times.gatehouseJs.push(gj - ej);
  times.authjsJs.push(aj - ej);
}
const ready = async (app) => median(times[app]);
try {
  const empty = sizes("empty");
  const t0 = median(emptyTimes);
  const rows = [];
  for (const [name, app] of [["@gatehouse/client", "gatehouse"], ["@supabase/auth-js", "authjs"]]) {
    const s = sizes(app);
    const js = s.js - empty.js;
    rows.push([name, js, s.wasm, js + s.wasm, await ready(app), spread(times[app]), median(times[app + "Js"]), spread(times[app + "Js"])]);
  }
  console.log("| client | JS gzip (B) | wasm gzip (B) | added gzip (B) | ready after empty page (ms, median of " + RUNS + ") | quartiles (ms) | the same from the script's request (ms) | quartiles (ms) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [n, js, w, tot, ms, iq, ms2, iq2] of rows)
    console.log(`| ${n} | ${js} | ${w} | ${tot} | ${ms.toFixed(1)} | ${iq} | ${ms2.toFixed(1)} | ${iq2} |`);
  console.log(`(empty page: ${empty.js} B gzip JS, module ran at ${t0.toFixed(1)} ms; gatehouse's wasm up ${median(times.loaded).toFixed(1)} ms after it, quartiles ${spread(times.loaded)})`);
} finally {
  await browser.close();
  srv.close();
}
