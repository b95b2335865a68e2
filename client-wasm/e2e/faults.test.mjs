// The lifecycle faults of the packed client (pkg/npm, what `npm pack` ships),
// in headless Chromium against a real gatehouse (3-second access tokens) behind
// a proxy that can drop every connection (server down) or hold refreshes
// (a tab closed or reloaded mid-refresh).
import assert from "node:assert/strict";
import { test } from "node:test";
import { e2eSetup } from "./site.mjs";
import { newUser, sleep } from "./harness.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>gatehouse faults</title>
<script type="module">
import { GatehouseClient, GatehouseError } from "/pkg/index.js";
window.GatehouseError = GatehouseError;
window.start = (cfg) => {
  window.events = [];
  window.gh = new GatehouseClient(cfg);
  window.early = gh.session;
  gh.onChange((e, s) => events.push([e, !!s]));
  return Promise.all([gh.ready, gh.loaded]).then(([s]) => !!s, (e) => "rejected:" + (e instanceof GatehouseError) + ":" + e.code);
};
window.loaded = true;
</script>`;

// ?csp=1: script-src 'self' 'wasm-unsafe-eval'; ?csp=0: without 'wasm-unsafe-eval'.
function cspHeaders(query) {
  if (query === "csp=1") return { "content-security-policy": "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'" };
  if (query === "csp=0") return { "content-security-policy": "script-src 'self' 'unsafe-inline'" };
  return {};
}

let site, stack, browser, cfg;
const proxy = () => stack.proxy;

e2eSetup(PAGE, { headersFor: cspHeaders }, async (live) => {
  ({ site, stack, browser, cfg } = live);
});

async function open(context, query = "") {
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  await page.goto(site.url + "/" + query);
  await page.waitForFunction(() => window.loaded);
  page.readyResult = await page.evaluate((c) => window.start(c), cfg);
  return page;
}

async function signedIn(context) {
  const p = await open(context);
  const u = newUser("f");
  await p.evaluate((u) => gh.register(u).then(() => true), u);
  return p;
}

/** Resolves when `cond()` holds, polling every 20 ms; fails after `ms`. */
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(20);
  }
}

test("calls after close() reject at once with GatehouseError 'closed' (also one needing a refresh)", async () => {
  const ctx = await browser.newContext();
  const p = await signedIn(ctx);
  await p.evaluate(() => gh.close());
  // Let the access token get close to expiry, so the call would need a refresh.
  await sleep(1700);
  const r = await p.evaluate(async () => {
    const t = performance.now();
    const out = await Promise.race([
      Promise.allSettled([gh.profile(), gh.fetch("/api/auth/profile/"), gh.refresh(), gh.getSession()]),
      new Promise((r) => setTimeout(() => r("hung"), 2000)),
    ]);
    return { ms: performance.now() - t, out: out === "hung" ? out : out.map((x) => x.status + ":" + (x.reason instanceof GatehouseError) + ":" + x.reason?.code) };
  });
  assert.deepEqual(r.out, Array(4).fill("rejected:true:closed"));
  assert.ok(r.ms < 50, `rejected in ${r.ms} ms`);
  assert.deepEqual(p.errors, []);
  await ctx.close();
});

test("a session stored at load: early sync read, initialSession event, ready reports it", async () => {
  const ctx = await browser.newContext();
  const p1 = await signedIn(ctx);
  const p2 = await open(ctx);
  assert.equal(p2.readyResult, true, "ready resolves with the stored session");
  const r = await p2.evaluate(() => ({ early: !!window.early, events: window.events }));
  assert.ok(r.early, "gh.session is the stored session before the wasm is up");
  assert.deepEqual(r.events[0], ["initialSession", true]);
  await ctx.close();
  void p1;
});

test("CSP: loaded with 'wasm-unsafe-eval'; without it `loaded` rejects (GatehouseError), never hangs", async () => {
  const ctx = await browser.newContext();
  const ok = await open(ctx, "?csp=1");
  assert.equal(ok.readyResult, false, "ready (signed out) under script-src 'self' 'wasm-unsafe-eval'");
  const bad = await open(ctx, "?csp=0");
  assert.equal(bad.readyResult, "rejected:true:network_error");
  await ctx.close();
});

async function outage(withCalls) {
  const ctx = await browser.newContext();
  const p = await signedIn(ctx);
  proxy().reset();
  proxy().ctl.down = true;
  const loop = withCalls
    ? p.evaluate(() => {
        window.stopLoop = false;
        (async () => {
          while (!window.stopLoop) {
            await gh.profile().catch(() => {});
            await new Promise((r) => setTimeout(r, 500));
          }
        })();
      })
    : Promise.resolve();
  await loop;
  await sleep(8000);
  const attempts = proxy().stats.refreshDown || 0;
  proxy().ctl.down = false;
  const back = Date.now();
  await until(() => proxy().stats.refreshOk >= 1, 2000, "a refresh within 2 s of the server's return");
  const after = Date.now() - back;
  const r = await p.evaluate(async () => {
    window.stopLoop = true;
    const u = await gh.profile().then((u) => u.email, (e) => "error:" + e.code);
    return { u, events: window.events.map((e) => e[0]) };
  });
  assert.ok(!r.u.startsWith("error"), "session kept: " + r.u);
  assert.ok(!r.events.includes("signedOut") && !r.events.includes("sessionExpired"), r.events.join());
  await ctx.close();
  return { attempts, after };
}

test("server down 8 s, idle page: the timer is re-armed, refreshed within 2 s of the return", async () => {
  const { attempts, after } = await outage(false);
  console.log(`# idle outage: ${attempts} refresh attempts in 8 s, refreshed ${after} ms after the return`);
  assert.ok(attempts >= 2, `kept trying during the outage (${attempts})`);
});

test("server down 8 s, a call every 500 ms: attempts back off, refreshed within 2 s of the return", async () => {
  const { attempts, after } = await outage(true);
  console.log(`# busy outage: ${attempts} refresh attempts in 8 s, refreshed ${after} ms after the return`);
  assert.ok(attempts >= 2 && attempts <= 10, `backoff: ${attempts} attempts in 8 s`);
});

test("online event: a failed refresh is retried at once", async () => {
  const ctx = await browser.newContext();
  const p = await signedIn(ctx);
  proxy().ctl.down = true;
  await sleep(2000); // past the refresh margin: attempts are failing and backing off
  proxy().ctl.down = false;
  proxy().reset();
  await p.evaluate(() => window.dispatchEvent(new Event("online")));
  await until(() => proxy().stats.refreshOk >= 1, 500, "a refresh right after `online`");
  await ctx.close();
});

async function midRefresh(kill) {
  const ctx = await browser.newContext();
  const p1 = await signedIn(ctx);
  const p2 = await open(ctx);
  await p2.evaluate(() => gh.getSession());
  proxy().reset();
  proxy().ctl.hold = true;
  await p1.evaluate(() => void gh.refresh().catch(() => {}));
  await until(() => proxy().ctl.held.length === 1, 3000, "p1's refresh at the proxy");
  proxy().ctl.hold = false;
  await sleep(1600); // p2's token is now inside the refresh margin
  const call = p2.evaluate(async () => {
    const t = Date.now();
    const u = await gh.profile().then((u) => u.email, (e) => "error:" + e.code);
    return { u, t, end: Date.now(), events: window.events.map((e) => e[0]) };
  });
  await sleep(100); // p2 is now waiting on p1's claim
  const killed = Date.now();
  await kill(p1);
  const r = await call;
  const stall = r.end - Math.max(killed, r.t);
  proxy().ctl.held.forEach((h) => h.res.destroy());
  proxy().ctl.held.length = 0;
  assert.ok(!r.u.startsWith("error"), "p2's call succeeded: " + r.u);
  assert.ok(!r.events.includes("sessionExpired") && !r.events.includes("signedOut"), r.events.join());
  assert.ok(stall < 1500, `p2 stalled ${stall} ms after p1 went away`);
  assert.equal(proxy().stats.refreshRejected, 0);
  await ctx.close();
  return { stall, p1 };
}

test("a tab closed mid-refresh: the other stalls < 1.5 s, nobody is signed out", async () => {
  const { stall } = await midRefresh((p) => p.close({ runBeforeUnload: true }));
  console.log(`# tab closed mid-refresh: other tab stalled ${stall} ms`);
});

test("a tab reloaded mid-refresh: the other stalls < 1.5 s, the reloaded tab is still signed in", async () => {
  let reloaded;
  const { stall } = await midRefresh(async (p) => {
    await p.reload();
    await p.waitForFunction(() => window.loaded);
    reloaded = await p.evaluate((c) => window.start(c), cfg);
  });
  console.log(`# tab reloaded mid-refresh: other tab stalled ${stall} ms`);
  assert.equal(reloaded, true, "the reloaded tab finds the session");
});

test("a tab that crashes mid-refresh (no pagehide): its heartbeat stops, the other takes over < 1.5 s", async () => {
  const { stall } = await midRefresh(async (p) => {
    const cdp = await p.context().newCDPSession(p);
    void cdp.send("Page.crash").catch(() => {}); // the renderer dies: no pagehide, no release (never answers)
  });
  console.log(`# tab crashed mid-refresh: other tab stalled ${stall} ms`);
  assert.ok(stall > 300, `the dead claim was waited out by its heartbeat, not released (${stall} ms)`);
});
