//! API clients (frontends): identity, keys, served user types, origins.

use crate::clock::UnixMillis;
use crate::random::Random;
use crate::user::UserType;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use std::fmt;

/// A client's public identifier, sent as `X-Client-ID` (e.g. `cl_4f9a…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub String);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret API key (`sk_` + 43 base64url characters of 32 random bytes).
/// Shown once; only its SHA-256 is stored. The Debug form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(pub String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(sk_…)")
    }
}

impl ApiKey {
    /// A fresh key from 32 random bytes.
    pub fn generate(rng: &dyn Random) -> ApiKey {
        let bytes: [u8; 32] = crate::random::bytes(rng);
        ApiKey(format!("sk_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }
    /// The stored form. API keys carry 256 bits of entropy, so a fast hash
    /// is enough (a slow password hash would only cost every request).
    pub fn hash(&self) -> String {
        key_hash(&self.0)
    }
}

/// SHA-256 of a presented key, hex (every request computes it: one
/// string, not one per byte).
pub fn key_hash(presented: &str) -> String {
    crate::digest::sha256_hex(presented.as_bytes())
}

/// A fresh client id: `cl_` + 16 random bytes, base64url.
pub fn generate_client_id(rng: &dyn Random) -> ClientId {
    let bytes: [u8; 16] = crate::random::bytes(rng);
    ClientId(format!("cl_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// An API client as stored (the key only as its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    pub id: ClientId,
    pub name: String,
    /// `web`, `mobile`, `admin`, `server`, …
    pub client_type: String,
    pub key_hash: String,
    /// Requests allowed per `rate_period_secs`.
    pub rate_limit: u32,
    pub rate_period_secs: u32,
    pub is_active: bool,
    pub serves: Vec<UserType>,
    /// Browser origins allowed to call with this client (`Origin` header).
    pub allowed_origins: Vec<String>,
    pub created_at: UnixMillis,
    pub email: EmailOptions,
    /// A staff or admin user without a second factor who signs in through
    /// this client is told to enrol (`mfa_enrollment_required`). On by
    /// default for `admin`-type clients ([`requires_mfa_for_staff_by_default`]).
    pub require_mfa_for_staff: bool,
}

/// The default of `require_mfa_for_staff`: on for `admin`-type clients (the
/// dashboard manages every account: a staff password alone should not be
/// enough for long), off for the others.
pub fn requires_mfa_for_staff_by_default(client_type: &str) -> bool {
    client_type == "admin"
}

/// A client's options for the email flows (all off by default, so a client
/// behaves as before them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailOptions {
    /// A login with the right password of a user whose email is not
    /// verified is refused (403 `email_not_verified`).
    pub require_verified_email: bool,
    /// The client offers sign-in with an emailed code (`/api/auth/code/…`).
    pub signin_codes: bool,
    /// The client's own password-reset page; the mail links to it with
    /// `token=…` added. None: Gatehouse's page (`{public_url}/auth/reset/`).
    pub reset_url: Option<String>,
    /// The client's own sign-in-with-a-code page; the code mail links to it
    /// with `email=…&code=…` added. None: the mail carries the code only.
    pub signin_url: Option<String>,
}

impl ApiClient {
    pub fn serves(&self, t: UserType) -> bool {
        self.serves.contains(&t)
    }
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == "*" || o == origin)
    }
}

/// What an operator gives to create a client.
#[derive(Debug, Clone)]
pub struct NewApiClient {
    pub name: String,
    pub client_type: String,
    pub rate_limit: u32,
    /// None: the default for the type (`admin` → staff + admin, else creators).
    pub serves: Option<Vec<UserType>>,
    pub allowed_origins: Vec<String>,
    pub is_active: bool,
    pub email: EmailOptions,
    /// None: the default for the type ([`requires_mfa_for_staff_by_default`]).
    pub require_mfa_for_staff: Option<bool>,
}

/// Why `url` cannot be a client's `reset_url` or `signin_url` (None: it
/// can): an absolute http(s) URL without spaces, at most 2000 characters,
/// no fragment (the token or code is added as query parameters).
pub fn reset_url_error(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = url.len() <= 2000
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !url.contains('#')
        && url.chars().all(|c| c.is_ascii_graphic());
    (!ok).then_some("Enter an absolute http(s) URL without a fragment.")
}

/// The user types a client of `client_type` serves unless told otherwise.
pub fn default_serves(client_type: &str) -> Vec<UserType> {
    match client_type {
        "admin" => vec![UserType::Staff, UserType::Admin],
        _ => vec![UserType::Creator],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_hash_is_lowercase_hex_sha256() {
        // FIPS 180-2's "abc" example.
        assert_eq!(
            super::key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
