// End to end in headless Chromium (playwright-core, Debian's chromium): the
// package as packed (pkg/npm), served by a tiny static server, against a real
// gatehouse (3-second access tokens) behind a counting proxy. Two pages of one
// browser context share localStorage and stay signed in through several refresh
// cycles without a single rejected refresh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { e2eSetup } from "./site.mjs";
import { ACCESS_TTL, newUser } from "./harness.mjs";

const PAGE = `<!doctype html><meta charset="utf-8"><title>gatehouse e2e</title>
<script type="module">
import { GatehouseClient, isGatehouseError } from "/pkg/index.js";
window.isGatehouseError = isGatehouseError;
window.start = (cfg) => {
  window.events = [];
  window.gh = new GatehouseClient(cfg);
  gh.onChange((ev) => events.push(ev));
  return gh.loaded.then(() => true);
};
window.ready = Promise.resolve(true);
</script>`;

let site, stack, browser, context, cfg, user;

e2eSetup(PAGE, {}, async (live) => {
  ({ site, stack, browser, cfg } = live);
  cfg.refreshMargin = 60;
  context = await browser.newContext();
  user = newUser("web");
});

async function openPage() {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(site.url + "/");
  await page.evaluate(() => window.ready);
  await page.evaluate((c) => window.start(c), cfg);
  page.errors = errors;
  return page;
}

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
  const seen = await p2.evaluate(() => gh.getSession().then((s) => !!s));
  assert.ok(seen, "the second page adopts the first page's login");
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
      return { ok, fail, events: window.events, refresh: (await gh.getSession())?.refresh ?? null };
    }, ms);
  const [r1, r2] = await Promise.all([work(p1), work(p2)]);
  const stats = { ...stack.proxy.stats, byPath: undefined };
  assert.deepEqual(r1.fail, [], "page 1 had no failed call");
  assert.deepEqual(r2.fail, [], "page 2 had no failed call");
  assert.ok(r1.ok > 20 && r2.ok > 20, `calls made: ${r1.ok}, ${r2.ok}`);
  assert.equal(stack.proxy.stats.refreshRejected, 0, "no rejected refresh: " + JSON.stringify(stats));
  assert.ok(stack.proxy.stats.refreshOk >= cycles - 1, "refreshed every cycle: " + JSON.stringify(stats));
  assert.ok(!r1.events.includes("sessionExpired") && !r2.events.includes("sessionExpired"), JSON.stringify([r1.events, r2.events]));
  assert.ok(r1.refresh && r1.refresh === r2.refresh, "both pages end on the same session");
  console.log(`# two pages: ${r1.ok + r2.ok} calls, ${stats.refreshOk} refreshes, ${stats.refreshRejected} rejected`);
  // Sign out in one page; the other follows.
  await p2.evaluate(() => gh.logout());
  const after = await p1.evaluate(() => gh.getSession());
  assert.equal(after, null, "page 1 sees page 2's logout");
  assert.deepEqual([...p1.errors, ...p2.errors], []);
  await p1.close();
  await p2.close();
});
