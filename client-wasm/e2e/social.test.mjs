// The JS shell's social sign-in (signInWith, completeSignIn) in Node against a
// recording fetch and stand-ins for the page (location, history, sessionStorage):
// what goes to the server, what is kept between the two pages, what the return
// page does with the URL. The real provider round trip is examples/e2e/social-flow.mjs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { beforeEach, test } from "node:test";

const { GatehouseClient } = await import(new URL("../pkg/npm/node.js", import.meta.url).href);

// An access token the core accepts (it reads exp/iat only).
const b64u = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const ACCESS = `${b64u({ alg: "none" })}.${b64u({ exp: now + 300, iat: now })}.sig`;

let calls, answer, page;
beforeEach(() => {
  calls = [];
  answer = null;
  const store = new Map();
  page = { assigned: null, replaced: null };
  globalThis.sessionStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)), removeItem: (k) => store.delete(k) };
  globalThis.location = { href: "https://app.example/login", assign: (u) => (page.assigned = u) };
  globalThis.history = { state: null, replaceState: (_s, _t, u) => (page.replaced = String(u)) };
});

const client = () =>
  new GatehouseClient({
    baseUrl: "https://auth.example",
    apiKey: "k",
    clientId: "c",
    autoRefresh: false,
    fetch: async (url, init) => {
      const body = JSON.parse(init.body);
      calls.push({ url: String(url), body, headers: init.headers });
      const [status, json] = answer(String(url), body);
      return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
    },
  });

/** Runs signInWith and comes back to the return page with Gatehouse's code. */
async function roundTrip(c, extraQuery = "") {
  answer = () => [200, { authorization_url: "https://idp.example/authorize?x=1" }];
  await c.signInWith("acme idp", { redirectUri: "https://app.example/auth/return" });
  const start = calls.at(-1);
  location.href = `https://app.example/auth/return?keep=1&code=ONE-TIME&state=${encodeURIComponent(start.body.state)}${extraQuery}`;
  return start;
}

test("signInWith: S256 challenge of a fresh verifier, a state, the redirect URI; the browser goes to the provider", async () => {
  const c = client();
  const start = await roundTrip(c);
  assert.equal(start.url, "https://auth.example/api/auth/social/acme%20idp/start/");
  assert.equal(start.headers.get("X-API-Key"), "k");
  assert.equal(start.body.redirect_uri, "https://app.example/auth/return");
  assert.match(start.body.code_challenge, /^[A-Za-z0-9_-]{43}$/);
  assert.match(start.body.state, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(page.assigned, "https://idp.example/authorize?x=1");
  // The verifier stays in this tab only, and its hash is the challenge.
  const [verifier, state] = JSON.parse(sessionStorage.getItem("gatehouse.social"));
  assert.equal(state, start.body.state);
  assert.equal(createHash("sha256").update(verifier).digest("base64url"), start.body.code_challenge);
  // A second sign-in makes new secrets.
  calls = [];
  await c.signInWith("acme idp", { redirectUri: "https://app.example/auth/return" });
  assert.notEqual(calls[0].body.code_challenge, start.body.code_challenge);
  c.close();
});

test("completeSignIn: the code and the stored verifier become the session; the URL loses code and state", async () => {
  const c = client();
  await roundTrip(c);
  const [verifier] = JSON.parse(sessionStorage.getItem("gatehouse.social"));
  answer = () => [200, { access: ACCESS, refresh: "R" }];
  const s = await c.completeSignIn();
  assert.equal(s.access, ACCESS);
  assert.equal(s.refresh, "R");
  assert.equal((await c.getSession()).refresh, "R");
  const tok = calls.at(-1);
  assert.equal(tok.url, "https://auth.example/api/auth/social/token/");
  assert.deepEqual(tok.body, { code: "ONE-TIME", code_verifier: verifier });
  assert.equal(page.replaced, "https://app.example/auth/return?keep=1");
  assert.equal(sessionStorage.getItem("gatehouse.social"), null, "the verifier is used once");
  c.close();
});

test("completeSignIn: a staff login to enrol is flagged, a second factor rejects with mfa_required", async () => {
  const c = client();
  await roundTrip(c);
  answer = () => [200, { access: ACCESS, refresh: "R", mfa_enrollment_required: true }];
  assert.equal((await c.completeSignIn()).mfaEnrollmentRequired, true);
  await roundTrip(c);
  answer = () => [401, { detail: "A second factor is required.", code: "mfa_required", mfa_token: "T", methods: ["totp"] }];
  await assert.rejects(c.completeSignIn(), (e) => e.code === "mfa_required" && e.mfaToken === "T" && e.methods[0] === "totp");
  c.close();
});

test("completeSignIn: no code → null and nothing sent; a state not started in this tab → invalid_state, nothing sent", async () => {
  const c = client();
  location.href = "https://app.example/auth/return";
  assert.equal(await c.completeSignIn(), null);
  assert.equal(calls.length, 0);
  // A forged return (login CSRF): no sign-in was started here.
  location.href = "https://app.example/auth/return?code=X&state=Y";
  await assert.rejects(c.completeSignIn(), (e) => e.code === "invalid_state");
  await roundTrip(c);
  location.href = location.href.replace(/state=[^&]*/, "state=other");
  calls = [];
  await assert.rejects(c.completeSignIn(), (e) => e.code === "invalid_state");
  assert.equal(calls.length, 0);
  assert.equal(page.replaced, "https://app.example/auth/return?keep=1", "the code leaves the URL even so");
  // The server's refusal (spent or expired code) comes through as is.
  await roundTrip(c);
  answer = () => [400, { detail: "Invalid or expired code.", code: "invalid_code" }];
  await assert.rejects(c.completeSignIn(), (e) => e.status === 400 && e.code === "invalid_code");
  c.close();
});
