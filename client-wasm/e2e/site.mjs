// What the browser tests share: the test page and the packed package
// (pkg/npm, what `npm pack` ships) served from one small static server, and
// headless Chromium.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { extname, join, normalize } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { startStack } from "./harness.mjs";
import { launchWithRetry } from "./launch.mjs";

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL("../../", import.meta.url));
const pkgDir = fileURLToPath(new URL("../pkg/npm/", import.meta.url));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json" };

/** Serves `page` at `/` (with the headers `headersFor(query)` adds) and the package under `/pkg/`. */
export async function staticServer(page, headersFor = () => ({})) {
  const srv = http.createServer(async (req, res) => {
    const [path, query] = req.url.split("?");
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "content-type": "text/html", ...headersFor(query) });
      return res.end(page);
    }
    const file = normalize(join(pkgDir, path.slice(5)));
    if (path.startsWith("/pkg/") && file.startsWith(pkgDir)) {
      try {
        const body = await readFile(file);
        res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream" });
        return res.end(body);
      } catch {}
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }) };
}

/** Headless Chromium (Debian's, or CHROMIUM_BIN) through playwright-core. */
export function launchChromium() {
  const { chromium } = require(join(root, "node_modules", "playwright-core"));
  return launchWithRetry(chromium, {
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
}

/**
 * Registers the before/after hooks of a browser test file: the page server,
 * a gatehouse stack (harness.mjs; `stack` are its options) that lets the
 * page's origin in, and Chromium. `ready` gets { site, stack, browser, cfg }
 * (cfg: the client options for that stack). With `skip`, nothing starts.
 */
export function e2eSetup(page, { headersFor, stack: stackOptions = {}, skip = false } = {}, ready) {
  const live = {};
  before(async () => {
    if (skip) return;
    live.site = await staticServer(page, headersFor);
    live.stack = await startStack({ origins: [live.site.url], ...stackOptions });
    live.browser = await launchChromium();
    const { baseUrl, client } = live.stack;
    live.cfg = { baseUrl, apiKey: client.api_key, clientId: client.client_id, storage: "localStorage" };
    await ready(live);
  });
  after(async () => {
    await live.browser?.close();
    await live.stack?.stop();
    await live.site?.close();
  });
}

/**
 * A test page: `window.start(cfg)` makes `window.gh` (a GatehouseClient with
 * `cfg` and the page's own `window.pageOptions`) and resolves, once both
 * `ready` and `loaded` have, with whether there is a session (or
 * "rejected:<is a GatehouseError>:<code>" when the wasm cannot load).
 * `window.early` is the session `gh.session` knew at construction;
 * `window.events` the client's events by name, `window.timeline` each as
 * [name, has a session, Date.now()]. `script` adds the page's own helpers.
 */
export function clientPage(title, script = "") {
  return `<!doctype html><meta charset="utf-8"><title>${title}</title>
<script type="module">
import { GatehouseClient, GatehouseError, isGatehouseError } from "/pkg/index.js";
Object.assign(window, { GatehouseError, isGatehouseError });
window.start = (cfg) => {
  window.events = [];
  window.timeline = [];
  window.gh = new GatehouseClient({ ...cfg, ...window.pageOptions });
  window.early = gh.session;
  gh.onChange((e, s) => {
    events.push(e);
    timeline.push([e, !!s, Date.now()]);
  });
  return Promise.all([gh.ready, gh.loaded]).then(([s]) => !!s, (e) => "rejected:" + (e instanceof GatehouseError) + ":" + e.code);
};
${script}
</script>`;
}

/**
 * A new page in browser context `ctx` at `url` (a `clientPage`), its client
 * started with `cfg` (`page.readyResult`: what `start` resolved with);
 * `page.errors` collects its uncaught errors. `prepare(ctx, page)` runs before
 * the page loads; what it returns is merged into the result.
 */
export async function openClient(ctx, url, cfg, prepare) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  const extra = prepare ? await prepare(ctx, page) : {};
  await page.goto(url);
  await page.waitForFunction(() => typeof window.start == "function");
  page.readyResult = await page.evaluate((c) => window.start(c), cfg);
  return { ctx, page, errors: page.errors, ...extra };
}

/** After a sign-in other than `login` (a mailed code, a second factor): it was
 *  announced (`signedIn`) and stored like a login, and the profile is `email`'s
 *  (returned). */
export async function assertSignedInLikeLogin(page, email) {
  assert.deepEqual(await page.evaluate(() => events), ["signedIn"]);
  const stored = await page.evaluate(() => localStorage.getItem("gatehouse.session"));
  assert.ok(stored && stored.includes("refresh"), "stored like a login");
  const me = await page.evaluate(() => gh.profile());
  assert.equal(me.email, email);
  return me;
}
