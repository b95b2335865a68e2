// End to end in Node 20 (the package's --target nodejs build) against a running
// native gatehouse with a 3-second access lifetime, through a counting proxy.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ACCESS_TTL, newUser, startStack, until } from "./harness.mjs";

// The package's Node entry (pkg/npm, as packed by scripts/pack-client.sh).
const { GatehouseClient, GatehouseError, isGatehouseError } = await import(new URL("../pkg/npm/node.js", import.meta.url).href);

let stack;
let user;
const clients = [];
const make = (extra = {}) => {
  const c = new GatehouseClient({ baseUrl: stack.baseUrl, apiKey: stack.client.api_key, clientId: stack.client.client_id, autoRefresh: false, ...extra });
  clients.push(c);
  return c;
};

/** Real time must pass: until the client's access token `s` has expired. */
const expired = (s) => until(() => Date.now() > s.expiresAt, "the access token to expire");

before(async () => {
  stack = await startStack();
  user = newUser("node");
});

after(async () => {
  for (const c of clients) c.close();
  if (stack) await stack.stop();
});

test("register, login and an authenticated fetch", async () => {
  const c = make();
  const r = await c.register(user);
  assert.equal(r.user.email, user.email);
  assert.equal(r.user.user_type, "creator");
  assert.ok(c.session);
  const s = await c.login(user.email, user.password);
  assert.ok(s.expiresAt > Date.now() && s.expiresAt <= Date.now() + ACCESS_TTL * 1000 + 50, "expiresAt from the 3 s lifetime");
  const res = await c.fetch("/api/auth/profile/");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).email, user.email);
  const p = await c.profile();
  assert.equal(p.username, user.username);
  const u = await c.updateProfile({ first_name: "Changed" });
  assert.equal(u.first_name, "Changed");
});

test("typed errors carry the server's DRF-shaped bodies", async () => {
  const c = make();
  await assert.rejects(c.login(user.email, "wrong-password"), (e) => {
    assert.ok(isGatehouseError(e));
    assert.equal(e.status, 401);
    assert.equal(e.code, "no_active_account");
    return true;
  });
  await assert.rejects(c.register({ ...newUser("bad"), password2: "something-else-1" }), (e) => {
    assert.equal(e.status, 400);
    assert.ok(Array.isArray(e.fields.password), JSON.stringify(e.fields));
    return true;
  });
  await assert.rejects(c.profile(), (e) => e.status === 401 && e.code === "not_authenticated");
});

test("automatic refresh after the access token expired", async () => {
  const c = make();
  const s = await c.login(user.email, user.password);
  await expired(s);
  stack.proxy.reset();
  const p = await c.profile();
  assert.equal(p.email, user.email);
  assert.equal(stack.proxy.stats.refresh, 1, "one refresh");
  assert.notEqual(c.session.refresh, s.refresh, "rotated");
});

test("20 concurrent fetches at expiry cause exactly one refresh request", async () => {
  const c = make();
  await expired(await c.login(user.email, user.password));
  stack.proxy.reset();
  const rs = await Promise.all(Array.from({ length: 20 }, () => c.fetch("/api/auth/profile/")));
  assert.deepEqual(rs.map((r) => r.status), Array(20).fill(200));
  assert.equal(stack.proxy.stats.refresh, 1, JSON.stringify(stack.proxy.stats));
  assert.equal(stack.proxy.stats.refreshRejected, 0);
});

test("a new client sees a session in synchronous storage at once, an async adapter's after getSession()", async () => {
  const data = new Map();
  const webStorage = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
  const a = make({ storage: webStorage, channel: false });
  const s = await a.login(user.email, user.password);
  const b = make({ storage: webStorage, channel: false });
  assert.equal(b.session?.refresh, s.refresh, "read in the constructor");
  const asyncAdapter = { get: async (k) => data.get(k) ?? null, set: async (k, v) => void data.set(k, v), remove: async (k) => void data.delete(k) };
  const c = make({ storage: asyncAdapter, channel: false });
  assert.equal(c.session, null, "not read yet");
  assert.equal((await c.getSession())?.refresh, s.refresh);
});

test("freshSession: the live token as is, an expired one refreshed once for concurrent callers", async () => {
  const c = make();
  assert.equal(await c.freshSession(), null, "signed out");
  const s = await c.login(user.email, user.password);
  stack.proxy.reset();
  const live = await c.freshSession();
  assert.equal(live.access, s.access, "a live token is returned as is");
  assert.equal(stack.proxy.stats.refresh, 0);
  await expired(s);
  const got = await Promise.all(Array.from({ length: 5 }, () => c.freshSession()));
  assert.equal(stack.proxy.stats.refresh, 1, JSON.stringify(stack.proxy.stats));
  assert.equal(new Set(got.map((g) => g.access)).size, 1, "every caller gets the one new token");
  assert.notEqual(got[0].access, s.access);
  assert.ok(got[0].expiresAt > Date.now());
  const res = await fetch(stack.baseUrl + "/api/auth/profile/", {
    headers: { Authorization: `Bearer ${got[0].access}`, "X-API-Key": stack.client.api_key, "X-Client-ID": stack.client.client_id },
  });
  assert.equal(res.status, 200, "the token it gave is accepted");
});

test("the timer refreshes before expiry with no request made", async () => {
  const c = make({ autoRefresh: true });
  const refreshed = [];
  c.onChange((ev) => ev === "refreshed" && refreshed.push(ev));
  await c.login(user.email, user.password);
  stack.proxy.reset();
  // Two timer cycles (each at half the 3 s lifetime); the client's event, not
  // the proxy's count, which moves before the client has taken the pair.
  await until(() => refreshed.length >= 2, "two refreshes on the timer");
  assert.ok(stack.proxy.stats.refreshOk >= 2, JSON.stringify(stack.proxy.stats));
  assert.equal(stack.proxy.stats.refreshRejected, 0);
  assert.ok(c.session.expiresAt > Date.now(), "still holds a live access token");
  c.close();
});

test("logout blacklists the refresh token", async () => {
  const c = make();
  const events = [];
  c.onChange((ev) => events.push(ev));
  const s = await c.login(user.email, user.password);
  await c.logout();
  assert.equal(c.session, null);
  assert.deepEqual(events, ["initialSession", "signedIn", "signedOut"]);
  const r = await fetch(stack.baseUrl + "/api/auth/token/refresh/", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": stack.client.api_key, "x-client-id": stack.client.client_id },
    body: JSON.stringify({ refresh: s.refresh }),
  });
  assert.equal(r.status, 401, "the logged-out refresh token is dead");
});

test("a rejected refresh ends the session with sessionExpired", async () => {
  const a = make();
  const events = [];
  a.onChange((ev) => events.push(ev));
  const s = await a.login(user.email, user.password);
  // Rotate twice behind the client's back, so the token it holds is two
  // rotations old: a replay even inside the server's reuse grace (which
  // would hand the immediate parent the current token again).
  let spent = s.refresh;
  for (let i = 0; i < 2; i++) {
    const r = await fetch(stack.baseUrl + "/api/auth/token/refresh/", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": stack.client.api_key, "x-client-id": stack.client.client_id },
      body: JSON.stringify({ refresh: spent }),
    });
    assert.equal(r.status, 200);
    spent = (await r.json()).refresh;
  }
  await assert.rejects(a.refresh(), (e) => e.status === 401);
  assert.equal(a.session, null);
  assert.deepEqual(events, ["initialSession", "signedIn", "sessionExpired"]);
});

test("session calls: list, end one, log out everywhere", async () => {
  const u = newUser("sess");
  const a = make();
  await a.register(u);
  const b = make();
  await b.login(u.email, u.password);
  const list = await a.listSessions();
  assert.equal(list.length, 2);
  assert.equal(list.filter((s) => s.current).length, 1);
  const other = list.find((s) => !s.current);
  assert.equal(await a.endSession(other.id), undefined);
  await assert.rejects(b.profile(), (e) => e instanceof GatehouseError && e.status === 401);
  await assert.rejects(a.endSession(other.id), (e) => e instanceof GatehouseError && e.status === 404);
  const c = make();
  await c.login(u.email, u.password);
  const r = await a.logoutEverywhere();
  assert.ok(r.ended >= 2, JSON.stringify(r));
  assert.equal(a.session, null);
  await assert.rejects(c.profile(), (e) => e instanceof GatehouseError && e.status === 401);
});

test("fetch with the server unreachable rejects with GatehouseError network_error", async () => {
  const c = new GatehouseClient({ baseUrl: "http://127.0.0.1:9", apiKey: "k", clientId: "c" });
  await assert.rejects(c.fetch("/api/auth/profile/"), (e) => e instanceof GatehouseError && e.code === "network_error" && e.status === 0);
  c.close();
});
