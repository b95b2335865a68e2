// The DevTools virtual authenticator (CDP WebAuthn) the passkey tests use in
// place of a security key or a platform authenticator: CTAP2, internal,
// resident keys, user verification, presence given at once. Shared by
// e2e/passkey.test.mjs, examples/e2e/mfa-flow.mjs and admin-ui/tests.

/** Adds one to `page` (of browser context `ctx`), holding `creds` (credentials
 *  as WebAuthn.getCredentials lists them). Returns `credentials()` (what it
 *  holds now) and `setVerified(bool)` (whether it can verify the user). */
export async function addVirtualAuthenticator(ctx, page, creds = []) {
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  for (const credential of creds) await cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    setVerified: (isUserVerified) => cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified }),
  };
}
