//! Service configuration: lifetimes, token identity, limits. Hosts fill it
//! with [`Config::from_vars`] (in [`vars`]) from their flags, environment
//! variables or Worker vars.

use crate::clock::UnixMillis;
use crate::password::Argon2Params;
use crate::rate_limit::Quota;
use std::fmt;

pub mod smtp;
pub mod vars;

pub use smtp::{SmtpTls, SmtpUrl};

/// Largest request body the service reads (larger → 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest refresh reuse grace accepted: the grace is for requests in
/// flight together, not a second lifetime for spent tokens.
pub const MAX_REFRESH_REUSE_GRACE_SECS: i64 = 300;

/// How tokens are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningConfig {
    /// Ed25519. `None`: use the key kept in the database, generated on first
    /// start. `Some(pem_or_b64)`: a configured key (shared between hosts).
    EdDsa { private_key: Option<String> },
    /// HMAC-SHA256. `None`: secrets kept in the database and rotated like
    /// Ed25519 keys (docs/KEYS.md). `Some`: a configured shared secret (at
    /// least 32 bytes), pinned: it is never rotated by Gatehouse.
    Hs256 { secret: Option<String> },
}

/// Everything a deployment may tune.
#[derive(Debug, Clone)]
pub struct Config {
    /// Access-token lifetime in seconds (default 15 minutes).
    pub access_ttl_secs: i64,
    /// Refresh-token lifetime in seconds (default 7 days).
    pub refresh_ttl_secs: i64,
    /// Absolute lifetime of a login (refresh-token family), default 30 days.
    pub session_max_age_secs: i64,
    /// For this long after a rotation, the spent token's immediate parent
    /// gets the current refresh token again instead of revoking the login
    /// (racing tabs, a retried request): default 30 s, 0 turns it off,
    /// at most [`MAX_REFRESH_REUSE_GRACE_SECS`]. See `session::decide`.
    pub refresh_reuse_grace_secs: i64,
    /// `iss` claim put in and required of every token.
    pub issuer: String,
    /// `aud` claim put in and required of every token.
    pub audience: String,
    pub signing: SigningConfig,
    pub argon2: Argon2Params,
    /// Failed logins (and wrong current passwords) allowed per account from
    /// one IP address before that address gets 429 for that account. Keyed
    /// by (account, IP) so a stranger cannot lock the owner out.
    pub failed_login_per_account_ip: Quota,
    /// Failed logins allowed per account from all addresses together before
    /// 429: a looser ceiling on guessing spread over many addresses.
    pub failed_login_per_account: Quota,
    /// Failed logins allowed per IP address before 429 (higher: NAT).
    pub failed_login_per_ip: Quota,
    /// Registration attempts allowed per IP address before 429.
    pub registrations_per_ip: Quota,
    /// A cap on each client's budget for requests without a valid access
    /// token, counted per (client, IP). `None`: the client's `rate_limit`.
    pub anonymous_rate_limit: Option<u32>,
    /// Default window of a client's `rate_limit` (requests per this many seconds).
    pub client_rate_period_secs: u32,
    /// Accept emails whose local part (before the `@`) is not ASCII after
    /// NFKC, e.g. `josé@example.com`. Default false: refused, because
    /// `jose` + U+0301, `jоse` with a Cyrillic о and the like would be other
    /// accounts that look the same (see `user::canonical_email`). When on,
    /// such a local part must still be of a single script.
    pub allow_unicode_email_local_part: bool,
    /// The dashboard's API client, for `/admin/config.json` (which the
    /// hosts answer). `None`: that answers `{}`.
    pub dashboard: Option<Dashboard>,
    /// The seed's (Django + simplejwt) tokens honoured during the cutover
    /// (docs/LEGACY_TOKENS.md). `None`: they are invalid tokens like any other.
    pub legacy_tokens: Option<LegacyTokens>,
    /// Whether this deployment can send mail (SMTP or the development log
    /// natively, the `send_email` binding on the Worker). Without it, the
    /// flows that need mail (verification, reset, email change, sign-in
    /// codes) answer 503 `mail_not_configured`, and registration sends none.
    pub mail_enabled: bool,
    /// Gatehouse's own public base URL (no trailing slash), for links to the
    /// pages it serves itself, e.g. the reset page of a client without a
    /// `reset_url`. Default `http://localhost:8000`.
    pub public_url: String,
    /// Lifetimes of the emailed tokens, in seconds: a password-reset link
    /// (default 1 h), an email-verification link (24 h), an email-change
    /// link (1 h) and a sign-in code (10 min).
    pub reset_token_ttl_secs: i64,
    pub verify_token_ttl_secs: i64,
    pub email_change_ttl_secs: i64,
    pub signin_code_ttl_secs: i64,
    /// The key that seals TOTP secrets at rest (`GATEHOUSE_DATA_KEY`, base64
    /// of 32 bytes). `None`: TOTP enrolment answers 503
    /// `mfa_not_configured` (the native host makes one beside its database
    /// file when none is given; the Worker needs the secret).
    pub data_key: Option<crate::mfa::DataKey>,
    /// Mail-sending requests (reset, sign-in code, verification resend,
    /// email change) allowed per target address, whether or not it has an
    /// account (default 5 an hour).
    pub email_requests_per_address: Quota,
    /// The same requests allowed per IP address (default 50 an hour).
    pub email_requests_per_ip: Quota,
    /// The sender of every mail: `Name <addr>` or a bare address
    /// (`--mail-from`). Default `Gatehouse <gatehouse@localhost>`.
    pub mail_from: String,
    /// Where the native host sends mail (`--smtp-url`); the Worker uses its
    /// `send_email` binding instead.
    pub smtp: Option<SmtpUrl>,
    /// Development mode (`--mail-dev`): each mail is printed to the log,
    /// marked as such, instead of being sent.
    pub mail_dev: bool,
    /// The first retry of a mail that failed comes after half to all of
    /// this many seconds, doubling up to an hour (`mail/sender.rs`).
    /// Default 30.
    pub mail_retry_secs: i64,
    /// Where outbound HTTP may go besides public addresses
    /// (`GATEHOUSE_OUTBOUND_ALLOW`, `--outbound-allow`). Default: nowhere.
    pub outbound: crate::outbound::OutboundPolicy,
    /// Rotate the signing key this many days after the current one started
    /// signing (`keys::maintain`, run by the host's timer or cron); `None`
    /// (default): only `gatehouse keys rotate` or the admin API rotate.
    pub key_rotation_days: Option<i64>,
    /// Each host re-reads the key set from the database at least this often
    /// (and at once, at most once a second, on a token with an unknown
    /// `kid`); also the JWKS `max-age`. Default 30 (docs/KEYS.md).
    pub key_cache_secs: i64,
}

/// A secret setting's text: `Debug` (and so a logged `Config` or flag set)
/// does not print it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HiddenText(pub String);

impl std::str::FromStr for HiddenText {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(HiddenText(s.to_owned()))
    }
}

impl fmt::Debug for HiddenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HiddenText(..)")
    }
}

/// The seed's HS256 signing key and the end of the cutover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTokens {
    /// The seed's `SIMPLE_JWT["SIGNING_KEY"]` (Django's `SECRET_KEY`), as
    /// text: PyJWT uses its UTF-8 bytes as the HMAC key.
    pub signing_key: HiddenText,
    /// From this instant on, seed tokens are refused.
    pub until: UnixMillis,
}

/// The API client the dashboard uses: an `admin`-type client's id and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub client_id: String,
    pub api_key: HiddenText,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 7 * 24 * 3600,
            session_max_age_secs: 30 * 24 * 3600,
            refresh_reuse_grace_secs: 30,
            issuer: "gatehouse".into(),
            audience: "gatehouse-api".into(),
            signing: SigningConfig::EdDsa { private_key: None },
            argon2: Argon2Params::default(),
            failed_login_per_account_ip: Quota {
                limit: 10,
                period_secs: 15 * 60,
            },
            failed_login_per_account: Quota {
                limit: 100,
                period_secs: 15 * 60,
            },
            failed_login_per_ip: Quota {
                limit: 300,
                period_secs: 15 * 60,
            },
            registrations_per_ip: Quota {
                limit: 30,
                period_secs: 3600,
            },
            mail_enabled: false,
            public_url: "http://localhost:8000".into(),
            reset_token_ttl_secs: 3600,
            verify_token_ttl_secs: 24 * 3600,
            email_change_ttl_secs: 3600,
            signin_code_ttl_secs: 600,
            email_requests_per_address: Quota {
                limit: 5,
                period_secs: 3600,
            },
            email_requests_per_ip: Quota {
                limit: 50,
                period_secs: 3600,
            },
            mail_from: "Gatehouse <gatehouse@localhost>".into(),
            smtp: None,
            mail_dev: false,
            mail_retry_secs: 30,
            outbound: crate::outbound::OutboundPolicy::default(),
            key_rotation_days: None,
            key_cache_secs: 30,
            anonymous_rate_limit: None,
            client_rate_period_secs: 3600,
            allow_unicode_email_local_part: false,
            dashboard: None,
            legacy_tokens: None,
            data_key: None,
        }
    }
}
