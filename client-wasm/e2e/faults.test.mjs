// The lifecycle faults of the packed client (pkg/npm, what `npm pack` ships),
// in headless Chromium against a real gatehouse (3-second access tokens) behind
// a proxy that can drop every connection (server down) or hold refreshes
// (a tab closed or reloaded mid-refresh). Each wait is on something observed
// (the proxy, the page's clock, its events and the refreshes it sent), never a
// guess of how long a step takes; the bounds asserted are the client's promises.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientPage, e2eSetup, openClient } from "./site.mjs";
import { ACCESS_TTL, newUser, sleep, until } from "./harness.mjs";

// The client's fetch, recording each request it sends in `window.sent` as
// [Date.now() when sent, is a refresh, status | "offline" | "error"]; while
// `window.offline` is set a refresh fails at once, as fetch does without a
// network, and `window.onOffline()` is told.
const PAGE = clientPage(
  "gatehouse faults",
  `window.sent = [];
window.offline = false;
window.pageOptions = {
  fetch: (input, init) => {
    const refresh = String(typeof input == "string" ? input : input.url).endsWith("/token/refresh/");
    const rec = [Date.now(), refresh, "pending"];
    sent.push(rec);
    if (refresh && window.offline) {
      rec[2] = "offline";
      window.onOffline && window.onOffline();
      return Promise.reject(new TypeError("Failed to fetch"));
    }
    return fetch(input, init).then((r) => ((rec[2] = r.status), r), (e) => ((rec[2] = "error"), Promise.reject(e)));
  },
};`,
);

// The refresh margin of a 3 s token: half its lifetime (the client caps its
// 60 s default there).
const MARGIN_MS = (ACCESS_TTL * 1000) / 2;

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

const open = async (context, query = "") => (await openClient(context, site.url + "/" + query, cfg)).page;

async function signedIn(context) {
  const p = await open(context);
  await p.evaluate((u) => gh.register(u).then(() => true), newUser("f"));
  return p;
}

/** The page's events since `t` (Date.now()), by name. */
const eventsSince = (p, t = 0) => p.evaluate((t) => timeline.filter((e) => e[2] >= t).map((e) => e[0]), t);

test("calls after close() reject at once with GatehouseError 'closed' (also one needing a refresh)", async () => {
  const ctx = await browser.newContext();
  const p = await signedIn(ctx);
  const due = await p.evaluate((m) => gh.session.expiresAt - m, MARGIN_MS);
  await p.evaluate(() => gh.close());
  // The access token inside the refresh margin: an open client would refresh first.
  await until(() => Date.now() >= due, "the token to enter the refresh margin");
  const sentBefore = proxy().stats.requests;
  const r = await p.evaluate(async () => {
    const calls = Promise.allSettled([gh.profile(), gh.fetch("/api/auth/profile/"), gh.refresh(), gh.getSession()]);
    // At once: settled in this task's microtasks, before a zero-delay timer
    // (so no request and no timer was waited for).
    const first = await Promise.race([calls.then(() => "settled"), new Promise((r) => setTimeout(() => r("a timer ran first"), 0))]);
    const out = await calls;
    return { first, out: out.map((x) => x.status + ":" + (x.reason instanceof GatehouseError) + ":" + x.reason?.code) };
  });
  assert.deepEqual(r.out, Array(4).fill("rejected:true:closed"));
  assert.equal(r.first, "settled", "rejected before the event loop turned");
  assert.equal(proxy().stats.requests, sentBefore, "nothing was sent");
  assert.deepEqual(p.errors, []);
  await ctx.close();
});

test("a session stored at load: early sync read, initialSession event, ready reports it", async () => {
  const ctx = await browser.newContext();
  await signedIn(ctx);
  const p2 = await open(ctx);
  assert.equal(p2.readyResult, true, "ready resolves with the stored session");
  const r = await p2.evaluate(() => ({ early: !!window.early, first: window.timeline[0].slice(0, 2) }));
  assert.ok(r.early, "gh.session is the stored session before the wasm is up");
  assert.deepEqual(r.first, ["initialSession", true]);
  await ctx.close();
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
  const down = Date.now();
  proxy().ctl.down = true;
  if (withCalls) {
    await p.evaluate(() => {
      window.stopLoop = false;
      (async () => {
        while (!window.stopLoop) {
          await gh.profile().catch(() => {});
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
    });
  }
  await sleep(8000); // the outage itself: real time must pass
  const attempts = proxy().stats.refreshDown;
  proxy().ctl.down = false;
  const back = Date.now();
  // The first refresh that got through: when the page sent it. The promise is
  // that it leaves within ~2 s of the server's return (the backoff's cap is
  // 1.6 s); the answer itself may take what a loaded machine takes.
  const sentAt = await until(() => p.evaluate((t) => sent.find((s) => s[0] >= t && s[1] && s[2] === 200)?.[0], down), "a refresh after the server's return");
  const after = sentAt - back;
  await until(async () => (await eventsSince(p, back)).includes("refreshed"), "the page to take the new pair");
  const r = await p.evaluate(async () => {
    window.stopLoop = true;
    return gh.profile().then((u) => u.email, (e) => "error:" + e.code);
  });
  const events = await eventsSince(p);
  assert.ok(!r.startsWith("error"), "session kept: " + r);
  assert.ok(!events.includes("signedOut") && !events.includes("sessionExpired"), events.join());
  assert.ok(after < 2000, `the refresh left ${after} ms after the server's return`);
  await ctx.close();
  return { attempts, after };
}

test("server down 8 s, idle page: the timer is re-armed, refreshed within 2 s of the return", async () => {
  const { attempts, after } = await outage(false);
  console.log(`# idle outage: ${attempts} refresh attempts in 8 s, refresh sent ${after} ms after the return`);
  assert.ok(attempts >= 2, `kept trying during the outage (${attempts})`);
});

test("server down 8 s, a call every 500 ms: attempts back off, refreshed within 2 s of the return", async () => {
  const { attempts, after } = await outage(true);
  console.log(`# busy outage: ${attempts} refresh attempts in 8 s, refresh sent ${after} ms after the return`);
  assert.ok(attempts >= 2 && attempts <= 10, `backoff: ${attempts} attempts in 8 s`);
});

test("online event: a failed refresh is retried at once", async () => {
  const ctx = await browser.newContext();
  const p = await signedIn(ctx);
  // The page goes offline: its refreshes fail. After the fourth failure the
  // backoff is at its cap (the next try 0.8 to 1.6 s later); the network comes
  // back and the page says so with `online` (once the client has taken the
  // failure: a zero-delay timer runs after the microtasks that carry it).
  const { failedAt, onlineAt } = await p.evaluate(
    () =>
      new Promise((resolve) => {
        window.onOffline = () => {
          if (sent.filter((s) => s[2] === "offline").length < 4) return;
          window.offline = false;
          window.onOffline = null;
          const failedAt = Date.now();
          setTimeout(() => {
            const onlineAt = Date.now();
            dispatchEvent(new Event("online"));
            resolve({ failedAt, onlineAt });
          }, 0);
        };
        window.offline = true;
      }),
  );
  const retry = await until(() => p.evaluate((t) => sent.find((s) => s[0] >= t && s[1]), onlineAt), "a refresh after `online`");
  console.log(`# online: the refresh left ${retry[0] - onlineAt} ms after the event (${retry[0] - failedAt} ms after the last failure)`);
  assert.ok(retry[0] - failedAt < 800, `sent ${retry[0] - failedAt} ms after the failure: by \`online\`, not by the backoff (>= 800 ms)`);
  await until(() => p.evaluate(() => sent.findLast((s) => s[1])[2] === 200), "the retried refresh to succeed");
  assert.deepEqual(p.errors, []);
  await ctx.close();
});

async function midRefresh(kill) {
  const ctx = await browser.newContext();
  const p1 = await signedIn(ctx);
  const p2 = await open(ctx);
  // Another renderer's localStorage write reaches this one a moment later.
  await until(() => p2.evaluate(() => gh.getSession().then((s) => !!s)), "p2 to see p1's session");
  proxy().reset();
  proxy().ctl.hold = true;
  await p1.evaluate(() => void gh.refresh().catch(() => {}));
  await until(() => proxy().ctl.held.length === 1, "p1's refresh at the proxy");
  proxy().ctl.hold = false;
  // p2's token inside the refresh margin: p2 needs the refresh p1 holds.
  const due = await p2.evaluate((m) => gh.session.expiresAt - m, MARGIN_MS);
  await until(() => Date.now() >= due, "p2's token to enter the refresh margin");
  const call = p2.evaluate(async () => {
    window.callAt = Date.now();
    const u = await gh.profile().then((u) => u.email, (e) => "error:" + e.code);
    return { u, t: window.callAt, end: Date.now() };
  });
  // The page runs evaluations in order: once this sees `callAt`, p2's call has
  // begun (and waits on p1's claim, live until p1 goes away).
  await p2.waitForFunction(() => window.callAt !== undefined);
  const killed = Date.now();
  await kill(p1);
  const r = await call;
  // The stall: from p1 going away until p2 stops waiting on its claim: p2 sends
  // a request (the refresh itself, or its call with the token it holds: the
  // reloaded tab's aborted refresh says FAIL, and p2 backs off meanwhile) or
  // takes the pair another tab stored. Not the server's answer time, which is
  // the machine's load, not the client's promise.
  const took = await p2.evaluate((t) => {
    const s = sent.find((x) => x[0] >= t);
    const e = timeline.find((x) => x[0] === "refreshed" && x[2] >= t);
    return Math.min(s ? s[0] : Infinity, e ? e[2] : Infinity);
  }, killed);
  const stall = r.end < killed ? 0 : took - killed; // 0: p2 never waited
  const events = await eventsSince(p2);
  proxy().ctl.held.forEach((h) => h.res.destroy());
  proxy().ctl.held.length = 0;
  assert.ok(!r.u.startsWith("error"), "p2's call succeeded: " + r.u);
  assert.ok(!events.includes("sessionExpired") && !events.includes("signedOut"), events.join());
  assert.ok(stall < 1500, `p2 took over ${stall} ms after p1 went away`);
  assert.equal(proxy().stats.refreshRejected, 0);
  await ctx.close();
  return { stall, call: r.end - r.t };
}

test("a tab closed mid-refresh: the other stalls < 1.5 s, nobody is signed out", async () => {
  const { stall, call } = await midRefresh((p) => p.close({ runBeforeUnload: true }));
  console.log(`# tab closed mid-refresh: other tab took over after ${stall} ms (its call took ${call} ms)`);
});

test("a tab reloaded mid-refresh: the other stalls < 1.5 s, the reloaded tab is still signed in", async () => {
  let reloaded;
  const { stall, call } = await midRefresh(async (p) => {
    await p.reload();
    await p.waitForFunction(() => typeof window.start == "function");
    reloaded = await p.evaluate((c) => window.start(c), cfg);
  });
  console.log(`# tab reloaded mid-refresh: other tab took over after ${stall} ms (its call took ${call} ms)`);
  assert.equal(reloaded, true, "the reloaded tab finds the session");
});

test("a tab that crashes mid-refresh (no pagehide): its heartbeat stops, the other takes over < 1.5 s", async () => {
  const { stall, call } = await midRefresh(async (p) => {
    const cdp = await p.context().newCDPSession(p);
    void cdp.send("Page.crash").catch(() => {}); // the renderer dies: no pagehide, no release (never answers)
  });
  console.log(`# tab crashed mid-refresh: other tab took over after ${stall} ms (its call took ${call} ms)`);
  assert.ok(stall > 300, `the dead claim was waited out by its heartbeat, not released (${stall} ms)`);
});
