//! Sign-in with OpenID Connect and OAuth 2 providers: the providers' shape
//! and presets, the flow's secrets and their stored forms, and the account
//! decision, as pure functions. `social/id_token.rs` verifies ID tokens;
//! `social/fetch.rs` talks to providers through the host's
//! [`crate::outbound::HttpClient`]; `api/social.rs` holds the routes.
//!
//! Decision: no `openidconnect` crate. The core is no-I/O and builds for
//! wasm32; what the flow needs from OIDC is small (discovery, a form POST,
//! an ID token checked with `jwt-simple`, already in the core for
//! Gatehouse's own tokens and able to verify RS256 and ES256) and the key
//! set must be cached in the database anyway (a stateless Worker), which
//! `openidconnect`'s metadata type does not carry when serialised.

pub(crate) mod fetch;
pub(crate) mod id_token;

use crate::clock::UnixMillis;
use crate::random::Random;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A started sign-in lives this long (seconds).
pub(crate) const STATE_TTL_SECS: i64 = 600;
/// A Gatehouse code lives this long (seconds).
pub(crate) const CODE_TTL_SECS: i64 = 60;
/// The key set is fetched again for an unknown `kid` at most this often.
pub(crate) const JWKS_REFETCH_MS: i64 = 60_000;
/// The discovery document is fetched again after this long.
pub(crate) const DISCOVERY_TTL_MS: i64 = 24 * 3_600_000;
/// The `amr` of a login through a provider (not in RFC 8176).
pub(crate) const AMR: &str = "fed";

/// How Gatehouse speaks to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// OpenID Connect: discovery, code flow with PKCE, an ID token.
    Oidc,
    /// GitHub's OAuth 2: a token, then its user and emails API.
    Github,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Oidc => "oidc",
            Kind::Github => "github",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "oidc" => Some(Kind::Oidc),
            "github" => Some(Kind::Github),
            _ => None,
        }
    }
}

/// A preset: its kind, issuer (or, for GitHub, its base URL) and scopes.
/// `{tenant}` in Microsoft's issuer is the directory (tenant) id, which the
/// operator gives as `tenant` (the `common` endpoint's tokens carry each
/// user's own tenant as issuer, which no fixed issuer check accepts).
pub(crate) fn preset(name: &str) -> Option<(Kind, &'static str, &'static str)> {
    Some(match name {
        "google" => (
            Kind::Oidc,
            "https://accounts.google.com",
            "openid email profile",
        ),
        "microsoft" => (
            Kind::Oidc,
            "https://login.microsoftonline.com/{tenant}/v2.0",
            "openid email profile",
        ),
        // Apple's client secret is a JWT the operator signs with the team's
        // key and renews (at most every 6 months); it is given as is.
        "apple" => (Kind::Oidc, "https://appleid.apple.com", "openid email name"),
        "gitlab" => (Kind::Oidc, "https://gitlab.com", "openid email profile"),
        "github" => (Kind::Github, "https://github.com", "read:user user:email"),
        _ => return None,
    })
}

/// An API client a provider is enabled for, with the frontend redirect
/// URIs it may send users back to (compared exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProviderClient {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
}

/// A provider's discovery document: what the flow uses of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Discovery {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) jwks_uri: String,
}

/// A configured provider as stored (the secret still sealed).
#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub(crate) id: String,
    pub(crate) kind: Kind,
    pub(crate) preset: Option<String>,
    /// OIDC: the issuer; GitHub: the base URL (`https://github.com`, or a
    /// test server that speaks its endpoints).
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) client_secret_sealed: String,
    pub(crate) scopes: String,
    pub(crate) clients: Vec<ProviderClient>,
    pub(crate) discovery: Option<Discovery>,
    pub(crate) discovery_fetched_at: Option<UnixMillis>,
    pub(crate) jwks: Option<String>,
    pub(crate) jwks_fetched_at: Option<UnixMillis>,
    pub(crate) created_at: UnixMillis,
}

impl Provider {
    /// Whether `client` may use it, sending users back to `redirect_uri`.
    pub(crate) fn redirect_allowed(&self, client: &str, redirect_uri: &str) -> Option<bool> {
        self.clients
            .iter()
            .find(|c| c.client_id == client)
            .map(|c| c.redirect_uris.iter().any(|u| u == redirect_uri))
    }

    /// GitHub's endpoints under the base URL: `(authorize, token, api)`.
    /// github.com's API is on its own host; a test server serves all three.
    pub(crate) fn github_endpoints(&self) -> (String, String, String) {
        let base = self.issuer.trim_end_matches('/');
        let api = if base == "https://github.com" {
            "https://api.github.com".to_owned()
        } else {
            base.to_owned()
        };
        (
            format!("{base}/login/oauth/authorize"),
            format!("{base}/login/oauth/access_token"),
            api,
        )
    }
}

/// The associated data a provider's sealed secret is bound to.
pub(crate) fn seal_context(provider_id: &str) -> String {
    format!("social-provider:{provider_id}")
}

/// 256 random bits, base64url.
pub(crate) fn random_token(rng: &dyn Random) -> String {
    URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>(rng))
}

/// The stored form of a state or code: SHA-256, hex.
pub(crate) fn hash(token: &str) -> String {
    crate::digest::sha256_hex(token.as_bytes())
}

/// PKCE S256: base64url(SHA-256(verifier)).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Gatehouse's own PKCE verifier towards the provider, derived from the
/// state (secret, single use, only its hash stored), so nothing secret is
/// kept for it: 43 base64url characters.
pub(crate) fn own_verifier(state: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("gatehouse-pkce\0{state}").as_bytes(),
    ))
}

/// Whether `s` is a PKCE challenge or verifier's shape: 43 to 128 of
/// `[A-Za-z0-9-._~]` (RFC 7636).
pub(crate) fn pkce_shaped(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Who the provider says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) subject: String,
    /// Normalized by the caller before any lookup.
    pub(crate) email: Option<String>,
    pub(crate) email_verified: bool,
    pub(crate) name: Option<String>,
}

/// What a callback does with an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Account {
    /// Already linked: sign that user in.
    Linked(crate::user::UserId),
    /// Link to the account with the same email, then sign it in: both
    /// sides verified the address.
    AutoLink(crate::user::UserId),
    /// Link to the signed-in user who started a link from the profile.
    Link(crate::user::UserId),
    /// A new creator account.
    Create,
    /// An account with that email exists but one side has not verified it:
    /// linking would hand the account to whoever controls the provider
    /// account (pre-account takeover). The owner links from the profile.
    LinkRefused,
    /// No linked account and no email to make one with.
    NoEmail,
}

/// The account decision: `linked` is the user the identity is linked to,
/// `by_email` the local account with the provider's email and whether its
/// email is verified.
pub(crate) fn decide_account(
    linked: Option<crate::user::UserId>,
    by_email: Option<(crate::user::UserId, bool)>,
    identity: &Identity,
) -> Account {
    match (linked, by_email) {
        (Some(u), _) => Account::Linked(u),
        (None, Some((u, local_verified))) if local_verified && identity.email_verified => {
            Account::AutoLink(u)
        }
        (None, Some(_)) => Account::LinkRefused,
        (None, None) if identity.email.is_some() => Account::Create,
        (None, None) => Account::NoEmail,
    }
}

/// A username for a new account: the email's local part reduced to
/// `[a-z0-9_]` (at most 20), then `_` and 6 random hex digits.
pub(crate) fn new_username(email: &str, rng: &dyn Random) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            (c.is_ascii_alphanumeric() || c == '_').then_some(c)
        })
        .take(20)
        .collect();
    if base.is_empty() {
        base.push_str("user");
    }
    let r = crate::random::bytes::<3>(rng);
    format!("{base}_{:02x}{:02x}{:02x}", r[0], r[1], r[2])
}

/// Adds `params` to `url`'s query (after `?` or `&`).
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_owned();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        sep = '&';
        crate::outbound::percent_encode_into(&mut out, k);
        out.push('=');
        crate::outbound::percent_encode_into(&mut out, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use crate::user::UserId;

    fn id(email: Option<&str>, verified: bool) -> Identity {
        Identity {
            subject: "s".into(),
            email: email.map(str::to_owned),
            email_verified: verified,
            name: None,
        }
    }

    #[test]
    fn accounts_link_only_when_both_sides_verified() {
        let u = UserId(7);
        let e = Some("a@b.c");
        assert_eq!(
            decide_account(Some(u), None, &id(e, false)),
            Account::Linked(u)
        );
        assert_eq!(
            decide_account(None, Some((u, true)), &id(e, true)),
            Account::AutoLink(u)
        );
        assert_eq!(
            decide_account(None, Some((u, false)), &id(e, true)),
            Account::LinkRefused
        );
        assert_eq!(
            decide_account(None, Some((u, true)), &id(e, false)),
            Account::LinkRefused
        );
        assert_eq!(decide_account(None, None, &id(e, false)), Account::Create);
        assert_eq!(
            decide_account(None, None, &id(None, false)),
            Account::NoEmail
        );
    }

    #[test]
    fn pkce_is_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(pkce_shaped("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!pkce_shaped("short"));
        assert!(!pkce_shaped(&"a+".repeat(30)));
        let v = own_verifier("state");
        assert!(pkce_shaped(&v));
        assert_ne!(v, own_verifier("other"));
    }

    #[test]
    fn usernames_and_queries() {
        let rng = SeededRandom::new(1);
        let n = new_username("Jo.Doe+x@example.com", &rng);
        assert!(n.starts_with("jodoex_") && n.len() == 13, "{n}");
        assert!(new_username("@x", &rng).starts_with("user_"));
        assert_eq!(
            with_query("https://a/cb?x=1", &[("code", "c d"), ("state", "s")]),
            "https://a/cb?x=1&code=c%20d&state=s"
        );
        assert_eq!(
            with_query("https://a/cb", &[("code", "c")]),
            "https://a/cb?code=c"
        );
    }

    #[test]
    fn presets_and_github_endpoints() {
        assert_eq!(preset("google").unwrap().0, Kind::Oidc);
        assert_eq!(preset("github").unwrap().0, Kind::Github);
        assert!(preset("myspace").is_none());
    }
}
