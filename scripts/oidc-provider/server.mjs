// A real OpenID Provider (oidc-provider 9) for Gatehouse's social sign-in
// tests, on http://127.0.0.1:$OIDC_PORT. Any login name signs in as the
// account of that name, whose email is the name and is verified; consent
// is granted without asking (loadExistingGrant), so a test drives the
// provider's own login form with plain HTTP. ID tokens are RS256 (the
// provider's default) and carry the email claims (conformIdTokenClaims off).
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 18190);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.OIDC_REDIRECT_URIS
  || 'http://localhost:8000/api/auth/social/callback/').split(',');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID || 'gatehouse-test',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'gatehouse-test-secret',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: `Test ${id.split('@')[0]}` };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
