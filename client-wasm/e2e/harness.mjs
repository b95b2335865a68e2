// Shared setup for the end-to-end tests: a real native `gatehouse` (short access
// lifetime), an API client made with its CLI, and a counting proxy in front of it.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ACCESS_TTL = 3;

export function gatehouseBin() {
  const bin = process.env.GATEHOUSE_BIN;
  if (!bin) throw new Error("GATEHOUSE_BIN must name the gatehouse binary (scripts/test-client-wasm.sh sets it)");
  return bin;
}

function cli(db, args) {
  return execFileSync(gatehouseBin(), ["--database-url", db, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** Starts gatehouse + a counting proxy. `origins`: origins the API client allows;
 *  `clientArgs`: more `create-api-client` flags (e.g. `--signin-codes`). Under
 *  scripts/with-smtp.sh the server sends its mail to the test SMTP server. */
export async function startStack({ origins = [], clientArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-"));
  const db = join(dir, "e2e.db");
  cli(db, ["migrate"]);
  const createArgs = ["create-api-client", "--name", "e2e", "--type", "web", "--rate-limit", "100000", "--json"];
  if (origins.length) createArgs.push("--origins", origins.join(","));
  const client = JSON.parse(cli(db, [...createArgs, ...clientArgs]));
  const serveArgs = ["serve", "--addr", "127.0.0.1:0", "--database-url", db, "--access-ttl", String(ACCESS_TTL)];
  if (process.env.GATEHOUSE_TEST_SMTP_URL) serveArgs.push("--smtp-url", process.env.GATEHOUSE_TEST_SMTP_URL);
  const server = spawn(gatehouseBin(), serveArgs, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const serverLog = [];
  server.stderr.on("data", (d) => serverLog.push(String(d)));
  const upstream = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("gatehouse did not start in 60 s:\n" + serverLog.join(""))), 60_000);
    server.once("exit", (code) => reject(new Error(`gatehouse exited (${code}):\n` + serverLog.join(""))));
    createInterface({ input: server.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const m = /^gatehouse listening on (http:\/\/\S+)$/.exec(line.trim());
      m ? resolve(m[1]) : reject(new Error("unexpected first line: " + line));
    });
  });
  const proxy = await countingProxy(upstream);
  return {
    dir, db, upstream, client, proxy, baseUrl: proxy.url, serverLog,
    async stop() {
      await proxy.close();
      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r() : server.once("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server already running (the Worker under `wrangler dev`, scripts/test-worker.sh):
 *  GATEHOUSE_E2E_BASE_URL, its database GATEHOUSE_E2E_DATABASE_URL (for the CLI,
 *  GATEHOUSE_BIN, which makes the API client), or null when unset. No proxy. */
export function remoteStack({ origins = [] } = {}) {
  const baseUrl = process.env.GATEHOUSE_E2E_BASE_URL;
  const db = process.env.GATEHOUSE_E2E_DATABASE_URL;
  if (!baseUrl || !db) return null;
  const args = ["create-api-client", "--name", "e2e-remote", "--type", "web", "--rate-limit", "100000", "--json"];
  if (origins.length) args.push("--origins", origins.join(","));
  return { baseUrl, client: JSON.parse(cli(db, args)), async stop() {} };
}

/** A transparent HTTP proxy that counts refresh requests and their outcomes. */
export async function countingProxy(upstream) {
  const stats = { requests: 0, refresh: 0, refreshOk: 0, refreshRejected: 0, refreshDown: 0, byPath: {} };
  // Fault controls: `down` drops every connection (the server is unreachable);
  // `hold` keeps refresh requests unanswered and unforwarded (in `held`) until
  // their client goes away or `releaseHeld()`.
  const ctl = { down: false, hold: false, held: [] };
  const target = new URL(upstream);
  const srv = http.createServer((req, res) => {
    if (ctl.down) {
      // A browser's refresh dies at its CORS preflight: count either.
      if (/token\/refresh\/$/.test(req.url)) stats.refreshDown += 1;
      return req.socket.destroy();
    }
    stats.requests += 1;
    const path = req.url.split("?")[0];
    const isRefresh = req.method === "POST" && /\/api\/(v1\/)?auth\/token\/refresh\/$/.test(path);
    if (isRefresh && ctl.hold && req.method === "POST") {
      const h = { req, res, forward: null, aborted: false };
      ctl.held.push(h);
      res.on("close", () => { h.aborted = !res.writableFinished; });
      h.forward = () => forward(req, res, isRefresh);
      return;
    }
    forward(req, res, isRefresh);
  });
  const forward = (req, res, isRefresh) => {
    const path = req.url.split("?")[0];
    if (isRefresh) stats.refresh += 1;
    const key = req.method + " " + path;
    stats.byPath[key] = (stats.byPath[key] || 0) + 1;
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        if (isRefresh) ur.statusCode === 200 ? (stats.refreshOk += 1) : (stats.refreshRejected += 1);
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      },
    );
    up.on("error", (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  };
  srv.keepAliveTimeout = 1000;
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    stats,
    ctl,
    reset() {
      Object.assign(stats, { requests: 0, refresh: 0, refreshOk: 0, refreshRejected: 0, refreshDown: 0, byPath: {} });
    },
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `cond()`'s first truthy value (sync or async), polling every
 *  20 ms; fails after `ms` (generous: CI runs on a loaded 2-core machine). */
export async function until(cond, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function newUser(tag) {
  const n = `${tag}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return {
    email: `${n}@example.com`, username: n, password: "Quartz-Lantern-8841", password2: "Quartz-Lantern-8841",
    first_name: "E2E", last_name: tag,
  };
}
