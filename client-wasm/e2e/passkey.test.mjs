// Passkeys in headless Chromium: the packed package's registerPasskey,
// signInWithPasskey and verifyMfa({passkey: true}) make real
// navigator.credentials calls, answered by the DevTools virtual authenticator
// (CDP WebAuthn.addVirtualAuthenticator: CTAP2, internal, resident keys, user
// verification), against a real gatehouse. The page is served as
// http://localhost:PORT: WebAuthn refuses an IP address as the rp id, and the
// API client's first origin gives the rp id ("localhost"). The native host by
// default; the Worker when GATEHOUSE_E2E_BASE_URL/_DATABASE_URL name one.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { clientPage, launchChromium, openClient, staticServer } from "./site.mjs";
import { newUser, remoteStack, startStack } from "./harness.mjs";
import { addVirtualAuthenticator } from "./webauthn.mjs";

const PAGE = clientPage(
  "gatehouse passkey e2e",
  `// A rejection as {status, code, detail, mfaToken, methods}, a result as ["ok", value].
window.run = (p) => p.then((v) => ["ok", v], (e) => ({ status: e.status, code: e.code, detail: e.detail, mfaToken: e.mfaToken, methods: e.methods }));`,
);

let site, stack, browser, cfg, origin;

before(async () => {
  site = await staticServer(PAGE);
  origin = site.url.replace("127.0.0.1", "localhost");
  // The native server, or the one GATEHOUSE_E2E_BASE_URL names (the Worker:
  // scripts/test-worker.sh).
  stack = remoteStack({ origins: [origin] }) || (await startStack({ origins: [origin] }));
  browser = await launchChromium();
  cfg = { baseUrl: stack.baseUrl, apiKey: stack.client.api_key, clientId: stack.client.client_id, storage: "localStorage" };
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  await site?.close();
});

const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());

/** A fresh context and page with a virtual platform authenticator; `creds`: credentials to put on it. */
const openPage = async (creds = []) =>
  openClient(await browser.newContext(), origin + "/", cfg, (ctx, page) => addVirtualAuthenticator(ctx, page, creds));

test("register a passkey, sign in without a password, then as the second factor after a password", async () => {
  const { ctx, page, errors, credentials } = await openPage();
  const user = newUser("pk");
  await page.evaluate((u) => gh.register(u).then(() => true), user);

  // Registration: navigator.credentials.create on the virtual authenticator.
  const pk = await page.evaluate(() => run(gh.registerPasskey("Laptop")));
  assert.equal(pk[0], "ok", JSON.stringify(pk));
  assert.equal(pk[1].name, "Laptop");
  assert.equal(pk[1].alg, -7, "ES256");
  assert.equal(pk[1].last_used_at, null);
  const onAuth = await credentials();
  assert.equal(onAuth.length, 1);
  assert.equal(onAuth[0].isResidentCredential, true, "a discoverable credential");
  assert.equal(onAuth[0].rpId, "localhost");
  const list = await page.evaluate(() => gh.listPasskeys());
  assert.deepEqual(list.map((k) => k.id), [pk[1].id]);
  assert.deepEqual((await page.evaluate(() => gh.mfaFactors())).methods, ["passkey"]);
  // The same authenticator again: excluded by the options (the browser refuses it).
  const twice = await page.evaluate(() => run(gh.registerPasskey("Again")));
  assert.equal(twice.code, "passkey_cancelled");
  assert.equal(twice.detail, "InvalidStateError");
  assert.equal((await page.evaluate(() => gh.listPasskeys())).length, 1);

  // This login (the registration's) never passed the passkey: a password
  // change needs a step-up first, done with the passkey on the spot.
  const newPassword = "Lantern-Quartz-1188";
  const change = () => page.evaluate(([o, n]) => run(gh.changePassword(o, n, n)), [user.password, newPassword]);
  const refused = await change();
  assert.equal(refused.status, 403);
  assert.equal(refused.code, "mfa_step_up_required");
  const up = await page.evaluate(() => run(gh.stepUp({ passkey: true })));
  assert.equal(up[0], "ok", JSON.stringify(up));
  assert.equal(up[1].valid_for, 900);
  assert.equal((await change())[0], "ok");
  user.password = newPassword;

  // Passwordless: navigator.credentials.get with no allowCredentials.
  await page.evaluate(() => gh.logout());
  await page.evaluate(() => (events.length = 0));
  const pw = await page.evaluate(() => run(gh.signInWithPasskey().then((s) => s.access)));
  assert.equal(pw[0], "ok", JSON.stringify(pw));
  assert.deepEqual(claims(pw[1]).amr, ["hwk", "user"]);
  assert.equal(claims(pw[1]).aal, 2);
  assert.deepEqual(await page.evaluate(() => events), ["signedIn"]);
  assert.equal((await page.evaluate(() => gh.profile())).email, user.email);
  const used = await page.evaluate(() => gh.listPasskeys());
  assert.ok(used[0].last_used_at, "last_used_at set by the sign-in");

  // Second factor: the password alone is refused with mfa_required [passkey].
  await page.evaluate(() => gh.logout());
  const rej = await page.evaluate((u) => run(gh.login(u.email, u.password)), user);
  assert.equal(rej.status, 401);
  assert.equal(rej.code, "mfa_required");
  assert.deepEqual(rej.methods, ["passkey"]);
  assert.equal(await page.evaluate(() => gh.session), null, "no session before the second factor");
  const second = await page.evaluate((t) => run(gh.verifyMfa(t, { passkey: true }).then((s) => s.access)), rej.mfaToken);
  assert.equal(second[0], "ok", JSON.stringify(second));
  assert.deepEqual(claims(second[1]).amr, ["pwd", "hwk"]);
  assert.equal(claims(second[1]).aal, 2);
  // The mfa_token is spent.
  const again = await page.evaluate((t) => run(gh.verifyMfa(t, { passkey: true })), rej.mfaToken);
  assert.equal(again.code, "mfa_token_invalid");

  // Rename, delete: the password alone signs in again.
  const renamed = await page.evaluate((id) => gh.renamePasskey(id, "Work laptop"), pk[1].id);
  assert.equal(renamed.name, "Work laptop");
  await page.evaluate((id) => gh.deletePasskey(id), pk[1].id);
  assert.deepEqual(await page.evaluate(() => gh.listPasskeys()), []);
  await page.evaluate(() => gh.logout());
  const plain = await page.evaluate((u) => run(gh.login(u.email, u.password).then((s) => !!s.access)), user);
  assert.deepEqual(plain, ["ok", true]);
  // The deleted passkey is still on the authenticator: the server no longer knows it.
  await page.evaluate(() => gh.logout());
  const gone = await page.evaluate(() => run(gh.signInWithPasskey()));
  assert.equal(gone.status, 400);
  assert.equal(gone.code, "passkey_unknown");
  assert.deepEqual(errors, []);
  await ctx.close();
});

test("a cloned credential with a lower signature counter is refused; a failed user verification is passkey_cancelled", async () => {
  const a = await openPage();
  const user = newUser("pkclone");
  await a.page.evaluate((u) => gh.register(u).then(() => true), user);
  assert.equal((await a.page.evaluate(() => run(gh.registerPasskey())))[0], "ok");
  const [snapshot] = await a.credentials();
  await a.page.evaluate(() => gh.logout());
  // Two sign-ins move the counter past the snapshot's.
  for (let i = 0; i < 2; i++) {
    assert.equal((await a.page.evaluate(() => run(gh.signInWithPasskey())))[0], "ok");
    await a.page.evaluate(() => gh.logout());
  }
  assert.ok((await a.credentials())[0].signCount > snapshot.signCount);

  // The snapshot, copied onto another authenticator: its counter is behind.
  const b = await openPage([snapshot]);
  const rej = await b.page.evaluate(() => run(gh.signInWithPasskey()));
  assert.equal(rej.status, 400);
  assert.equal(rej.code, "webauthn_counter");
  assert.equal(await b.page.evaluate(() => gh.session), null);
  // The original still signs in (nothing was written by the refusal).
  assert.equal((await a.page.evaluate(() => run(gh.signInWithPasskey())))[0], "ok");

  // The authenticator cannot verify the user: the browser refuses, nothing is sent.
  await a.page.evaluate(() => gh.logout());
  await a.setVerified(false);
  const nouv = await a.page.evaluate(() => run(gh.signInWithPasskey()));
  assert.equal(nouv.code, "passkey_cancelled");
  assert.equal(nouv.detail, "NotAllowedError");
  assert.deepEqual(a.errors, []);
  await a.ctx.close();
  await b.ctx.close();
});
