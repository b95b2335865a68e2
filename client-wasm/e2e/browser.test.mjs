// End to end in headless Chromium (playwright-core, Debian's chromium): the
// package as packed (pkg/npm), served by a tiny static server, against a real
// gatehouse (3-second access tokens) behind a counting proxy. Two pages of one
// browser context share localStorage and stay signed in through several refresh
// cycles without a single rejected refresh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clientPage, e2eSetup, openClient } from "./site.mjs";
import { ACCESS_TTL, newUser, until } from "./harness.mjs";

let site, stack, browser, context, cfg, user;

e2eSetup(clientPage("gatehouse e2e"), {}, async (live) => {
  ({ site, stack, browser, cfg } = live);
  cfg.refreshMargin = 60;
  context = await browser.newContext();
  user = newUser("web");
});

const openPage = async () => (await openClient(context, site.url + "/", cfg)).page;

test("register and login in a page (CORS, localStorage)", async () => {
  const p = await openPage();
  const r = await p.evaluate((u) => gh.register(u).then((r) => r.user.email), user);
  assert.equal(r, user.email);
  const stored = await p.evaluate(() => localStorage.getItem("gatehouse.session"));
  assert.ok(stored && stored.includes("refresh"));
  const bad = await p.evaluate(() => gh.login("nobody@example.com", "x").then(() => null, (e) => [isGatehouseError(e), e.status, e.code]));
  assert.deepEqual(bad, [true, 401, "no_active_account"]);
  await p.close();
});

test("two pages sharing localStorage stay signed in through refresh cycles with zero rejected refreshes", async () => {
  const p1 = await openPage();
  const p2 = await openPage();
  await p1.evaluate((u) => gh.login(u.email, u.password).then(() => true), user);
  // Another renderer's localStorage write reaches this one a moment later.
  await until(() => p2.evaluate(() => gh.getSession().then((s) => !!s)), "the second page to adopt the first page's login");
  stack.proxy.reset();
  const cycles = 4;
  const ms = ACCESS_TTL * 1000 * cycles;
  const work = (page) =>
    page.evaluate(async (ms) => {
      const end = Date.now() + ms;
      let ok = 0;
      const fail = [];
      while (Date.now() < end) {
        // Bursts of parallel calls, as a page that renders several widgets does.
        const rs = await Promise.allSettled([gh.profile(), gh.profile(), gh.fetch("/api/auth/profile/").then((r) => (r.ok ? r : Promise.reject({ status: r.status })))]);
        for (const r of rs) r.status === "fulfilled" ? ok++ : fail.push(r.reason.code + ":" + r.reason.status);
        await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
      }
      return { ok, fail, events: window.events };
    }, ms);
  const [r1, r2] = await Promise.all([work(p1), work(p2)]);
  const stats = { ...stack.proxy.stats, byPath: undefined };
  assert.deepEqual(r1.fail, [], "page 1 had no failed call");
  assert.deepEqual(r2.fail, [], "page 2 had no failed call");
  assert.ok(r1.ok > 20 && r2.ok > 20, `calls made: ${r1.ok}, ${r2.ok}`);
  assert.equal(stack.proxy.stats.refreshRejected, 0, "no rejected refresh: " + JSON.stringify(stats));
  assert.ok(stack.proxy.stats.refreshOk >= cycles - 1, "refreshed every cycle: " + JSON.stringify(stats));
  assert.ok(!r1.events.includes("sessionExpired") && !r2.events.includes("sessionExpired"), JSON.stringify([r1.events, r2.events]));
  // The timers go on refreshing after the loops (which end apart): read both
  // pages' sessions side by side until no refresh falls between the reads.
  const session = (p) => p.evaluate(() => gh.getSession().then((s) => s?.refresh ?? null));
  await until(async () => {
    const [a, b] = await Promise.all([session(p1), session(p2)]);
    return a && a === b;
  }, "both pages on the same session");
  console.log(`# two pages: ${r1.ok + r2.ok} calls, ${stats.refreshOk} refreshes, ${stats.refreshRejected} rejected`);
  // Sign out in one page; the other follows.
  await p2.evaluate(() => gh.logout());
  await until(async () => (await session(p1)) === null, "page 1 to see page 2's logout");
  assert.deepEqual([...p1.errors, ...p2.errors], []);
  await p1.close();
  await p2.close();
});
