// What the browser tests share: the test page and the packed package
// (pkg/npm, what `npm pack` ships) served from one small static server, and
// headless Chromium.
import { readFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { extname, join, normalize } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { startStack } from "./harness.mjs";

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
  return chromium.launch({
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
 * A test page: `window.start(cfg)` makes `window.gh` (a GatehouseClient
 * recording its events in `window.events`) and resolves once it is loaded;
 * `script` adds the page's own helpers.
 */
export function clientPage(title, script) {
  return `<!doctype html><meta charset="utf-8"><title>${title}</title>
<script type="module">
import { GatehouseClient } from "/pkg/index.js";
window.start = (cfg) => {
  window.events = [];
  window.gh = new GatehouseClient(cfg);
  gh.onChange((ev) => events.push(ev));
  return gh.loaded.then(() => true);
};
${script}
</script>`;
}
