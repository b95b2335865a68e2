// The email flows in headless Chromium: the packed package in a page, against
// a real gatehouse that sends its mail through a real SMTP server (aiosmtpd,
// scripts/with-smtp.sh); each test reads the delivered mail from its Maildir
// and uses the link's token or the code, as a user would. Skips without the
// SMTP capture (run through scripts/test-client-wasm.sh e2e).
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertSignedInLikeLogin, clientPage, e2eSetup, openClient } from "./site.mjs";
import { newUser } from "./harness.mjs";
import { linkOf, maildir, tokenOf, waitForMail } from "./mailbox.mjs";

const skip = maildir() ? false : "no SMTP capture (GATEHOUSE_TEST_MAILDIR unset): run under scripts/with-smtp.sh";

const PAGE = clientPage(
  "gatehouse email e2e",
  `// A rejection as [status, code, fields] (what a page shows), a result as ["ok", value].
window.run = (p) => p.then((v) => ["ok", v], (e) => [e.status, e.code, e.fields]);`,
);

let site, stack, browser, cfg;

e2eSetup(PAGE, { skip, stack: { clientArgs: ["--signin-codes"] } }, async (live) => {
  ({ site, stack, browser, cfg } = live);
});

/** A fresh page (own storage) with a client, and a registered user. */
async function pageWithUser(tag) {
  const { ctx, page } = await openClient(await browser.newContext(), site.url + "/", cfg);
  const user = newUser(tag);
  await page.evaluate((u) => gh.register(u).then(() => true), user);
  return { page, user, close: () => ctx.close() };
}

test("password reset: request → the mailed link's token → confirm; the old password is refused, the new one signs in", { skip }, async () => {
  const { page, user, close } = await pageWithUser("reset");
  const sent = await page.evaluate((e) => run(gh.requestPasswordReset(e)), user.email);
  assert.equal(sent[0], "ok");
  assert.match(sent[1].detail, /If an account with this email exists/);
  // An unknown address gets the same answer.
  const unknown = await page.evaluate(() => run(gh.requestPasswordReset("nobody-" + Date.now() + "@example.com")));
  assert.deepEqual(unknown, sent);

  const mail = await waitForMail(user.email, 2); // #1 is the verification mail of register
  assert.match(mail.subject, /password/i);
  assert.match(linkOf(mail), /\/auth\/reset\/\?token=/, "no reset_url: Gatehouse's own page");
  const token = tokenOf(mail);
  assert.equal(token.length, 43);

  const NEW = "Copper-Meadow-5170";
  // The register's password rules; the token survives the refusal.
  const weak = await page.evaluate((t) => run(gh.confirmPasswordReset(t, "a", "a")), token);
  assert.equal(weak[0], 400);
  assert.equal(weak[1], "invalid");
  assert.ok(Array.isArray(weak[2].password), JSON.stringify(weak));
  const done = await page.evaluate(([t, p]) => run(gh.confirmPasswordReset(t, p, p)), [token, NEW]);
  assert.equal(done[0], "ok", JSON.stringify(done));
  // Single use.
  const again = await page.evaluate(([t, p]) => run(gh.confirmPasswordReset(t, p, p)), [token, NEW]);
  assert.deepEqual(again.slice(0, 2), [400, "invalid_token"]);

  const old = await page.evaluate((u) => run(gh.login(u.email, u.password)), user);
  assert.deepEqual(old.slice(0, 2), [401, "no_active_account"]);
  const ok = await page.evaluate(([e, p]) => run(gh.login(e, p).then((s) => !!s.access)), [user.email, NEW]);
  assert.deepEqual(ok, ["ok", true]);
  // The link proved the address.
  const me = await page.evaluate(() => gh.profile());
  assert.equal(me.email_verified, true);
  assert.deepEqual(page.errors, []);
  await close();
});

test("email verification: the register mail's token → verifyEmail; the profile shows it; resend → already_verified", { skip }, async () => {
  const { page, user, close } = await pageWithUser("verify");
  const before = await page.evaluate(() => gh.profile());
  assert.equal(before.email_verified, false);
  assert.equal(before.email_verified_at, null);
  const mail = await waitForMail(user.email, 1);
  assert.match(linkOf(mail), /\/auth\/verify\/\?token=/);

  const bad = await page.evaluate(() => run(gh.verifyEmail("x".repeat(43))));
  assert.deepEqual(bad.slice(0, 2), [400, "invalid_token"]);
  const r = await page.evaluate((t) => run(gh.verifyEmail(t)), tokenOf(mail));
  assert.equal(r[0], "ok", JSON.stringify(r));
  assert.equal(r[1].email_verified, true);
  const after = await page.evaluate(() => gh.profile());
  assert.equal(after.email_verified, true);
  assert.ok(after.email_verified_at, "when");
  const resend = await page.evaluate(() => run(gh.resendVerification()));
  assert.deepEqual(resend.slice(0, 2), [400, "already_verified"]);
  await close();
});

test("verification resend mails a new link; the older one is spent", { skip }, async () => {
  const { page, user, close } = await pageWithUser("resend");
  const first = await waitForMail(user.email, 1);
  const r = await page.evaluate(() => run(gh.resendVerification()));
  assert.equal(r[0], "ok", JSON.stringify(r));
  const second = await waitForMail(user.email, 2);
  assert.notEqual(tokenOf(second), tokenOf(first));
  const old = await page.evaluate((t) => run(gh.verifyEmail(t)), tokenOf(first));
  assert.deepEqual(old.slice(0, 2), [400, "invalid_token"]);
  const ok = await page.evaluate((t) => run(gh.verifyEmail(t)), tokenOf(second));
  assert.equal(ok[0], "ok");
  await close();
});

test("sign-in code: request → the mailed code → signInWithCode stores the session like login", { skip }, async () => {
  const { page, user, close } = await pageWithUser("code");
  await page.evaluate(() => gh.logout());
  const sent = await page.evaluate((e) => run(gh.requestSignInCode(e)), user.email);
  assert.equal(sent[0], "ok");
  assert.match(sent[1].detail, /sign-in code/);
  const mail = await waitForMail(user.email, 2);
  const code = /sign-in code is (\d{6})/.exec(mail.text)?.[1];
  assert.ok(code, mail.text);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  const bad = await page.evaluate(([e, c]) => run(gh.signInWithCode(e, c)), [user.email, wrong]);
  assert.deepEqual(bad.slice(0, 2), [400, "invalid_code"]);
  await page.evaluate(() => (events.length = 0));
  const ok = await page.evaluate(([e, c]) => run(gh.signInWithCode(e, c).then((s) => !!s.access)), [user.email, code]);
  assert.deepEqual(ok, ["ok", true]);
  const me = await assertSignedInLikeLogin(page, user.email);
  assert.equal(me.email_verified, true, "a code proves the address");
  // Spent.
  const reuse = await page.evaluate(([e, c]) => run(gh.signInWithCode(e, c)), [user.email, code]);
  assert.deepEqual(reuse.slice(0, 2), [400, "invalid_code"]);
  await close();
});

test("email change: changeEmail (password) → the link mailed to the new address → confirmEmailChange", { skip }, async () => {
  const { page, user, close } = await pageWithUser("change");
  const next = newUser("changed").email;
  const wrong = await page.evaluate((n) => run(gh.changeEmail(n, "not-the-password-1")), next);
  assert.equal(wrong[0], 400);
  assert.ok(Array.isArray(wrong[2].password), JSON.stringify(wrong));
  const r = await page.evaluate(([n, p]) => run(gh.changeEmail(n, p)), [next, user.password]);
  assert.equal(r[0], "ok", JSON.stringify(r));
  const mail = await waitForMail(next, 1);
  assert.match(linkOf(mail), /\/auth\/email-change\/\?token=/);
  const done = await page.evaluate((t) => run(gh.confirmEmailChange(t)), tokenOf(mail));
  assert.deepEqual(done, ["ok", { detail: "Email changed.", email: next }]);
  const me = await page.evaluate(() => gh.profile());
  assert.equal(me.email, next);
  await close();
});
