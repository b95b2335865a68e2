// Scenarios for tests/client.rs, run by wasm-bindgen-test in Node and in
// headless Chromium. They drive the client through its JavaScript API against an
// in-process mock of Gatehouse that rotates refresh tokens the way the server
// does (a dead refresh token presented again is rejected and revokes its family).

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function eq(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}
function ok(cond, what) {
  if (!cond) throw new Error(what);
}
// Polls `cond` until it holds or `ms` pass: waits on an observable outcome, not
// on a guess of how long it takes.
async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
async function rejects(p, what) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`${what}: expected a rejection`);
}

const b64 = (o) =>
  btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

const BASE = "http://gatehouse.test";

export function mockServer() {
  const st = {
    ttl: 60, // access lifetime (s) of the next tokens issued
    delay: 5, // ms per request
    refreshCalls: 0,
    rejectedRefreshes: 0,
    refreshFailure: null, // null | "network" | status number
    logoutStatus: 200,
    requests: [],
    liveAccess: new Set(),
    liveRefresh: new Map(), // token -> family
    deadRefresh: new Map(),
  };
  let n = 0;
  let families = 0;
  const user = {
    id: 1, email: "a@example.com", username: "alice", first_name: "A", last_name: "L",
    user_type: "creator", is_staff: false, is_superuser: false,
    date_joined: "2026-01-01T00:00:00Z", last_login: null,
  };
  const token = (type, fam, life) => {
    const now = Math.floor(Date.now() / 1000);
    n += 1;
    return `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64({
      token_type: type, jti: String(n), sid: fam, user_id: 1, iat: now, exp: now + life,
    })}.sig${n}_${Math.random().toString(36).slice(2)}`;
  };
  const issue = (fam) => {
    const access = token("access", fam, st.ttl);
    const refresh = token("refresh", fam, 3600);
    st.liveAccess.add(access);
    st.liveRefresh.set(refresh, fam);
    return { access, refresh };
  };
  const revokeFamily = (fam) => {
    for (const [t, f] of st.liveRefresh) if (f === fam) st.liveRefresh.delete(t);
  };
  const json = (status, body) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  async function fetch(input, init = {}) {
    const req = typeof input === "string" || input instanceof URL ? null : input;
    const url = req ? req.url : String(input);
    const method = init.method || (req && req.method) || "GET";
    const h = new Headers(init.headers);
    let raw = init.body;
    if (raw === undefined && req) raw = await req.text();
    st.requests.push({ url, method, headers: Object.fromEntries(h) });
    await sleep(st.delay);
    const path = new URL(url).pathname;
    if (h.get("x-api-key") !== "sk_test" || h.get("x-client-id") !== "cid") {
      return json(401, { detail: "Invalid API key.", code: "api_key_invalid" });
    }
    let body = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {}
    if (path === "/api/auth/token/" && method === "POST") {
      if (body.password !== "pw") {
        return json(401, { detail: "No active account found with the given credentials", code: "no_active_account" });
      }
      return json(200, issue(++families));
    }
    if (path === "/api/auth/register/" && method === "POST") {
      if (body.password !== body.password2) return json(400, { password: ["Password fields didn't match."] });
      return json(201, { user: { ...user, email: body.email, username: body.username }, ...issue(++families) });
    }
    if (path === "/api/auth/token/refresh/" && method === "POST") {
      st.refreshCalls += 1;
      if (st.refreshFailure === "network") throw new TypeError("fetch failed");
      if (typeof st.refreshFailure === "number") return json(st.refreshFailure, { detail: "Unavailable.", code: "unavailable" });
      const fam = st.liveRefresh.get(body.refresh);
      if (fam === undefined) {
        st.rejectedRefreshes += 1;
        const dead = st.deadRefresh.get(body.refresh);
        if (dead !== undefined) revokeFamily(dead); // replay: the whole login dies
        return json(401, { detail: "Token is invalid or expired", code: "token_not_valid" });
      }
      st.liveRefresh.delete(body.refresh);
      st.deadRefresh.set(body.refresh, fam);
      return json(200, issue(fam));
    }
    if (path === "/api/echo/") return json(200, { headers: Object.fromEntries(h), body: raw ?? null });
    const auth = h.get("authorization");
    if (!auth) return json(401, { detail: "Authentication credentials were not provided.", code: "not_authenticated" });
    if (!st.liveAccess.has(auth.slice(7)) || path === "/api/always401/") {
      return json(401, { detail: "Given token not valid for any token type", code: "token_not_valid" });
    }
    if (path === "/api/auth/profile/") {
      if (method === "PATCH" || method === "PUT") Object.assign(user, body);
      return json(200, user);
    }
    if (path === "/api/auth/logout/") {
      if (st.logoutStatus !== 200) return json(st.logoutStatus, { detail: "Server error.", code: "error" });
      const fam = st.liveRefresh.get(body.refresh);
      if (fam !== undefined) revokeFamily(fam);
      return json(200, {});
    }
    if (path === "/api/auth/change-password/") {
      if (body.old_password !== "pw") return json(400, { old_password: ["Old password is not correct."] });
      st.liveRefresh.clear();
      return json(200, { detail: "Password changed.", ...issue(++families) });
    }
    return json(404, { detail: "Not found.", code: "not_found" });
  }
  return { fetch, st };
}

function opts(server, extra = {}) {
  return { baseUrl: BASE + "/", apiKey: "sk_test", clientId: "cid", fetch: server.fetch, autoRefresh: false, ...extra };
}

/** A mock server and a client of it (`extra`: more options); `events`: the
 *  client's events by name. */
function setup(make, extra = {}) {
  const s = mockServer();
  const c = make(opts(s, extra));
  const events = [];
  c.onChange((ev) => events.push(ev));
  return { s, c, events };
}

function mapStorage(asyncish = false) {
  const m = new Map();
  const wrap = (v) => (asyncish ? sleep(1).then(() => v) : v);
  return {
    m,
    get: (k) => wrap(m.has(k) ? m.get(k) : null),
    set: (k, v) => wrap(void m.set(k, v)),
    remove: (k) => wrap(void m.delete(k)),
  };
}

const scenarios = {
  async constructor_validates(make) {
    const e = await rejects(Promise.resolve().then(() => make({ apiKey: "k", clientId: "c" })), "no baseUrl");
    ok(e instanceof TypeError, "TypeError for a missing option");
    ok(String(e.message).includes("baseUrl"), "message names the option");
    const e2 = await rejects(Promise.resolve().then(() => make({ baseUrl: BASE, apiKey: "k", clientId: "c", storage: 42 })), "bad storage");
    ok(e2 instanceof TypeError, "TypeError for a bad storage");
  },

  async login_attaches_headers(make) {
    const { s, c } = setup(make);
    eq(c.session, null, "no session before login");
    const sess = await c.login("a@example.com", "pw");
    ok(typeof sess.access === "string" && typeof sess.refresh === "string", "login returns the pair");
    ok(typeof sess.expiresAt === "number" && sess.expiresAt > Date.now() + 50_000, "expiresAt from the exp claim");
    eq(c.session.access, sess.access, "session getter");
    const r = await c.fetch("/api/auth/profile/");
    eq(r.status, 200, "authenticated fetch");
    const last = s.st.requests.at(-1);
    eq(last.url, BASE + "/api/auth/profile/", "relative path resolved against baseUrl");
    eq(last.headers.authorization, "Bearer " + sess.access, "Authorization");
    eq(last.headers["x-api-key"], "sk_test", "X-API-Key");
    eq(last.headers["x-client-id"], "cid", "X-Client-ID");
    const u = await c.profile();
    eq(u.username, "alice", "profile()");
    const u2 = await c.updateProfile({ first_name: "Ann" });
    eq(u2.first_name, "Ann", "updateProfile()");
    const u3 = await c.replaceProfile({ username: "al", first_name: "B", last_name: "C" });
    eq(u3.username, "al", "replaceProfile()");
    eq(s.st.refreshCalls, 0, "no refresh needed");
    c.close();
  },

  async fetch_keeps_caller_headers_and_requests(make) {
    const { s, c } = setup(make);
    await c.login("a@example.com", "pw");
    let r = await c.fetch(BASE + "/api/echo/", { method: "POST", headers: { "X-Trace": "t1", "Content-Type": "application/json" }, body: '{"a":1}' });
    let j = await r.json();
    eq(j.headers["x-trace"], "t1", "caller header kept");
    eq(j.headers.authorization, "Bearer " + c.session.access, "auth added");
    eq(j.body, '{"a":1}', "body passed");
    r = await c.fetch(new Request(BASE + "/api/echo/", { method: "POST", headers: { "X-Trace": "t2" }, body: "hi" }));
    j = await r.json();
    eq(j.headers["x-trace"], "t2", "Request headers kept");
    eq(j.headers["x-api-key"], "sk_test", "Request gets the key");
    eq(j.body, "hi", "Request body passed");
    c.close();
  },

  async typed_errors(make, api) {
    const { s, c } = setup(make);
    const e = await rejects(c.login("a@example.com", "wrong"), "bad password");
    ok(e instanceof Error, "an Error");
    ok(api.isGatehouseError(e), "isGatehouseError");
    eq(e.name, "GatehouseError", "name");
    eq(e.status, 401, "status");
    eq(e.code, "no_active_account", "code");
    eq(e.detail, "No active account found with the given credentials", "detail");
    eq(e.message, e.detail, "message");
    eq(Object.keys(e.fields).length, 0, "no fields");
    const e2 = await rejects(c.register({ email: "b@example.com", username: "b", password: "x1", password2: "x2" }), "mismatch");
    eq(e2.status, 400, "validation status");
    eq(e2.code, "invalid", "validation code");
    eq(e2.fields.password[0], "Password fields didn't match.", "field error");
    eq(e2.detail, "Invalid input.", "DRF's detail for validation errors");
    const e3 = await rejects(c.profile(), "not signed in");
    eq(e3.code, "not_authenticated", "server's code when not signed in");
    const e4 = await rejects(c.refresh(), "refresh without session");
    eq(e4.code, "no_session", "no_session");
    s.st.refreshFailure = "network";
    const bad = make(opts({ fetch: () => Promise.reject(new TypeError("fetch failed")) }));
    const e5 = await rejects(bad.login("a@example.com", "pw"), "network");
    eq(e5.status, 0, "network status 0");
    eq(e5.code, "network_error", "network code");
    eq(api.isGatehouseError(new Error("x")), false, "plain Error is not one");
    eq(api.isGatehouseError(undefined), false, "undefined is not one");
    c.close();
    bad.close();
  },

  async register_signs_in(make) {
    const { s, c, events } = setup(make);
    const r = await c.register({ email: "n@example.com", username: "n", password: "pw", password2: "pw", first_name: "N", last_name: "M" });
    eq(r.user.email, "n@example.com", "user returned");
    eq(c.session.access, r.access, "signed in with the pair");
    eq(events.join(), "signedIn", "event");
    c.close();
  },

  async proactive_refresh_single_flight(make) {
    const { s, c } = setup(make);
    s.st.ttl = 0; // an access token that is already due
    await c.login("a@example.com", "pw");
    s.st.ttl = 60;
    const rs = await Promise.all(Array.from({ length: 20 }, () => c.fetch("/api/auth/profile/")));
    eq(rs.filter((r) => r.status === 200).length, 20, "all 20 succeed");
    eq(s.st.refreshCalls, 1, "exactly one refresh for 20 concurrent fetches");
    const tokens = new Set(s.st.requests.filter((q) => q.url.endsWith("/profile/")).map((q) => q.headers.authorization));
    eq(tokens.size, 1, "all 20 used the refreshed token");
    c.close();
  },

  async retry_once_on_401_single_flight(make) {
    const { s, c } = setup(make);
    await c.login("a@example.com", "pw");
    s.st.liveAccess.clear(); // the server no longer takes the access token
    const rs = await Promise.all(Array.from({ length: 20 }, () => c.fetch("/api/auth/profile/")));
    eq(rs.filter((r) => r.status === 200).length, 20, "all 20 retried and succeeded");
    eq(s.st.refreshCalls, 1, "exactly one refresh for 20 rejected requests");
    const before = s.st.requests.length;
    const r = await c.fetch("/api/always401/");
    eq(r.status, 401, "a 401 that persists is returned");
    eq(s.st.requests.filter((q, i) => i >= before && q.url.endsWith("/always401/")).length, 2, "one retry, no more");
    eq(s.st.refreshCalls, 2, "one refresh for it");
    c.close();
  },

  async rejected_refresh_expires_session(make) {
    const s = mockServer();
    const store = mapStorage();
    const c = make(opts(s, { storage: store }));
    const events = [];
    c.onChange((ev, sess) => events.push(ev + ":" + (sess ? "s" : "null")));
    await c.login("a@example.com", "pw");
    s.st.liveRefresh.clear();
    const e = await rejects(c.refresh(), "refresh rejected");
    eq(e.status, 401, "status 401");
    eq(e.code, "token_not_valid", "server code");
    eq(c.session, null, "session cleared");
    eq(events.join(), "signedIn:s,sessionExpired:null", "events");
    eq(store.m.get("gatehouse.session"), "x", "tombstone in storage");
    const again = make(opts(s, { storage: store }));
    eq(await again.getSession(), null, "a new instance sees no session");
    c.close();
    again.close();
  },

  async network_failure_keeps_session(make) {
    const { s, c, events } = setup(make);
    const sess = await c.login("a@example.com", "pw");
    s.st.refreshFailure = "network";
    const e = await rejects(c.refresh(), "network failure");
    eq(e.code, "network_error", "network_error");
    eq(c.session && c.session.refresh, sess.refresh, "session kept");
    s.st.refreshFailure = 503;
    const e2 = await rejects(c.refresh(), "503");
    eq(e2.status, 503, "server error status");
    eq(c.session && c.session.refresh, sess.refresh, "session kept after 503");
    s.st.refreshFailure = null;
    const n = await c.refresh();
    ok(n.refresh !== sess.refresh, "refresh works again");
    eq(events.join(), "signedIn,refreshed", "no sessionExpired");
    c.close();
  },

  async storage_adapter_persists(make) {
    const s = mockServer();
    const store = mapStorage(true);
    const c = make(opts(s, { storage: store, storageKey: "app.auth" }));
    const sess = await c.login("a@example.com", "pw");
    ok(store.m.has("app.auth"), "written under storageKey");
    const c2 = make(opts(s, { storage: store, storageKey: "app.auth" }));
    const got = await c2.getSession();
    eq(got && got.refresh, sess.refresh, "a second instance reads the stored session");
    eq((await c2.profile()).username, "alice", "and uses it");
    await c2.logout();
    ok(!store.m.has("app.auth"), "logout removes it");
    eq(await c.getSession(), null, "the first instance sees the logout");
    c.close();
    c2.close();
  },

  async on_change_events(make) {
    const { s, c } = setup(make);
    const events = [];
    const off = c.onChange((ev, sess) => events.push(ev + ":" + (sess ? "s" : "null")));
    const other = [];
    c.onChange((ev) => other.push(ev));
    await c.login("a@example.com", "pw");
    await c.refresh();
    await c.changePassword("pw", "pw2", "pw2");
    off();
    await c.logout();
    eq(events.join(), "signedIn:s,refreshed:s,refreshed:s", "events until unsubscribed");
    eq(other.join(), "signedIn,refreshed,refreshed,signedOut", "the other listener saw all");
    eq(c.session, null, "signed out");
    c.close();
  },

  async logout_clears_even_if_server_fails(make) {
    const { s, c } = setup(make);
    await c.login("a@example.com", "pw");
    s.st.logoutStatus = 500;
    await c.logout();
    eq(c.session, null, "signed out locally");
    const logoutReq = s.st.requests.find((q) => q.url.endsWith("/logout/"));
    ok(logoutReq && logoutReq.headers.authorization, "logout was sent authenticated");
    c.close();
  },

  async change_password_takes_new_pair(make) {
    const { s, c } = setup(make);
    const old = await c.login("a@example.com", "pw");
    const e = await rejects(c.changePassword("nope", "a", "a"), "wrong old");
    eq(e.fields.old_password[0], "Old password is not correct.", "field error");
    const r = await c.changePassword("pw", "pw2", "pw2");
    eq(r.detail, "Password changed.", "detail");
    eq(c.session.refresh, r.refresh, "new pair adopted");
    ok(r.refresh !== old.refresh, "rotated");
    eq((await c.profile()).id, 1, "works with the new pair");
    c.close();
  },

  async auto_refresh_timer(make) {
    const { s, c, events } = setup(make, { autoRefresh: true, refreshMargin: 30 });
    s.st.ttl = 2; // margin becomes 1 s (half the lifetime)
    await c.login("a@example.com", "pw");
    // The event, not the server's counter: the counter moves before the client
    // has taken the new pair and told its listeners.
    await until(() => events.length >= 2, "the timer's refresh");
    eq(s.st.refreshCalls, 1, "one refresh, on the timer (no request was made)");
    eq(events.join(), "signedIn,refreshed", "events");
    c.close();
    const n = s.st.refreshCalls;
    await sleep(1500);
    eq(s.st.refreshCalls, n, "close() stops the timer");
  },

  // Two instances sharing one storage and one BroadcastChannel name, like two tabs:
  // several refresh cycles, each with both instances racing, spend each refresh
  // token exactly once.
  async cross_instance_coordination(make) {
    const s = mockServer();
    const store = mapStorage();
    const name = "gh-test-" + Math.random();
    const a = make(opts(s, { storage: store, channel: name }));
    const b = make(opts(s, { storage: store, channel: name }));
    s.st.ttl = 0;
    await a.login("a@example.com", "pw");
    eq((await b.getSession()).refresh, a.session.refresh, "b adopts a's login");
    const rounds = 3;
    for (let round = 1; round <= rounds; round++) {
      const rs = await Promise.all([
        ...Array.from({ length: 10 }, () => a.fetch("/api/auth/profile/")),
        ...Array.from({ length: 10 }, () => b.fetch("/api/auth/profile/")),
      ]);
      eq(rs.filter((r) => r.status === 200).length, 20, `round ${round}: all 20 succeed`);
      eq(s.st.refreshCalls, round, `round ${round}: one refresh across both instances`);
      eq(s.st.rejectedRefreshes, 0, `round ${round}: no rejected refresh`);
      eq((await a.getSession()).refresh, (await b.getSession()).refresh, `round ${round}: same session`);
    }
    ok(!store.m.has("gatehouse.session.lock"), "lock released");
    a.close();
    b.close();
  },

  // Without a BroadcastChannel the storage lock alone decides (last writer wins).
  async storage_lock_without_channel(make) {
    const s = mockServer();
    const store = mapStorage();
    const a = make(opts(s, { storage: store, channel: false }));
    const b = make(opts(s, { storage: store, channel: false }));
    s.st.ttl = 0;
    await a.login("a@example.com", "pw");
    await b.getSession();
    s.st.ttl = 60;
    const rs = await Promise.all([a.fetch("/api/auth/profile/"), b.fetch("/api/auth/profile/")]);
    eq(rs.filter((r) => r.status === 200).length, 2, "both succeed");
    eq(s.st.refreshCalls, 1, "one refresh");
    eq(s.st.rejectedRefreshes, 0, "no rejected refresh");
    a.close();
    b.close();
  },

  // Browser only: two instances on localStorage (the real two-tab setup, in one page).
  async local_storage_two_instances(make) {
    if (typeof localStorage === "undefined") return "skipped: no localStorage";
    localStorage.clear();
    const s = mockServer();
    const a = make(opts(s, { storage: "localStorage" }));
    const b = make(opts(s, { storage: "localStorage" }));
    s.st.ttl = 0;
    await a.login("a@example.com", "pw");
    ok(localStorage.getItem("gatehouse.session").includes(a.session.refresh), "stored in localStorage");
    eq((await b.getSession()).refresh, a.session.refresh, "b sees it");
    s.st.ttl = 60;
    const rs = await Promise.all([...Array(5)].flatMap(() => [a.fetch("/api/auth/profile/"), b.fetch("/api/auth/profile/")]));
    eq(rs.filter((r) => r.status === 200).length, 10, "all succeed");
    eq(s.st.refreshCalls, 1, "one refresh");
    eq(s.st.rejectedRefreshes, 0, "none rejected");
    await b.logout();
    eq(await a.getSession(), null, "a sees b's logout");
    a.close();
    b.close();
    localStorage.clear();
  },
};

/** `f` as a plain function, which `new` can call (a closure's wrapper cannot). */
export function ctor(f) {
  return function (o) {
    return f(o);
  };
}

export async function run(name, make, api) {
  const f = scenarios[name];
  if (!f) throw new Error("no scenario " + name);
  // The scenarios count session changes; `initialSession` (a subscriber's first
  // event, tested in e2e/) is left out of their counts.
  const made = (o) => {
    const c = make(o);
    const on = c.onChange.bind(c);
    c.onChange = (cb) => on((ev, s) => ev !== "initialSession" && cb(ev, s));
    return c;
  };
  return (await f(made, api)) ?? "ok";
}
