// Serves a built site (a dist/ folder) and prints the text of #state once it
// leaves "loading", from headless Chromium. Usage: node open-page.mjs DIR
import { readFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { launchWithRetry } from "./launch.mjs";

const dir = process.argv[2];
const require = createRequire(import.meta.url);
const { chromium } = require(join(fileURLToPath(new URL("../../", import.meta.url)), "node_modules", "playwright-core"));
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".css": "text/css" };
const srv = http.createServer(async (req, res) => {
  const p = req.url.split("?")[0];
  const file = normalize(join(dir, p === "/" ? "index.html" : p));
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => srv.listen(0, "127.0.0.1", r));
const browser = await launchWithRetry(chromium, { executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${srv.address().port}/`);
  await page.waitForFunction(() => { const s = document.getElementById("state"); return s && s.textContent !== "loading"; }, null, { timeout: 15000 });
  console.log(await page.textContent("#state"));
  if (errors.length) console.log("page errors: " + errors.join("; "));
} finally {
  await browser.close();
  srv.close();
}
