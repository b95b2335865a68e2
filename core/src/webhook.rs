//! Webhooks: telling other systems what happened, in the Standard Webhooks
//! format (<https://www.standardwebhooks.com/>), so receivers can verify
//! with its official libraries.
//!
//! - **Events** are audit events (`audit.rs`) that the table
//!   `webhook_event_map` names (migration 12, [`EVENT_TYPES`]): the trigger
//!   `webhook_fanout` writes one outbox row per subscribed active endpoint
//!   *inside* the audit INSERT, so an event commits with its change or not
//!   at all, whichever handler wrote it, on every host.
//! - **Payload** (built by that trigger, the same on every host):
//!   `{"type", "timestamp", "data": {user_id, client_id, actor_user_id,
//!   actor_client_id, session_id, reason, sessions_ended, endpoint_id}}` —
//!   ids and reasons only: never a password, token, key, secret or email.
//! - **Signing** ([`sign`]): HMAC-SHA256 over `id.timestamp.body` with the
//!   endpoint's secret (`whsec_` + base64 of 32 random bytes), the timestamp
//!   passed in (no clock here).
//! - **Delivery**: [`sender`], the mail outbox's lease and retry schedule.

pub mod sender;
pub(crate) mod store;

use crate::mfa::DataKey;
use crate::random::{self, Random};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The event types an endpoint may subscribe to (`*`: all of them).
/// `webhook.test` is the admin's ping, sent to one endpoint whatever it takes.
pub const EVENT_TYPES: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "login.succeeded",
    "login.failed",
    "session.revoked",
    "refresh.replay_detected",
    "password.changed",
    "password.reset",
    "email.verified",
    "mfa.enrolled",
    "mfa.removed",
    "client.created",
    "client.key_rotated",
    "client.deactivated",
];

/// The admin's test ping (also an audit event name).
pub const TEST_EVENT: &str = "webhook.test";

/// Secret prefix of the Standard Webhooks format.
const SECRET_PREFIX: &str = "whsec_";

/// A signing secret, as shown once to the operator.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// `whsec_` + base64 of 32 random bytes.
    pub fn generate(rng: &dyn Random) -> Secret {
        Secret(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(random::bytes::<32>(rng))
        ))
    }

    /// The key bytes (the base64 after `whsec_`), or None if malformed.
    pub fn key(&self) -> Option<Vec<u8>> {
        STANDARD.decode(self.0.strip_prefix(SECRET_PREFIX)?).ok()
    }

    /// Sealed under the data key, bound to the endpoint's id.
    pub(crate) fn seal(&self, data_key: &DataKey, endpoint_id: &str, rng: &dyn Random) -> String {
        crate::mfa::seal::seal(
            data_key,
            random::bytes::<24>(rng),
            &aad(endpoint_id),
            self.0.as_bytes(),
        )
    }

    /// The secret sealed by [`Secret::seal`] for this endpoint, or None.
    pub(crate) fn open(data_key: &DataKey, endpoint_id: &str, sealed: &str) -> Option<Secret> {
        let raw = crate::mfa::seal::open(data_key, &aad(endpoint_id), sealed)?;
        String::from_utf8(raw).ok().map(Secret)
    }
}

/// The associated data of a sealed endpoint secret: never a TOTP factor's.
fn aad(endpoint_id: &str) -> String {
    format!("webhook:{endpoint_id}")
}

/// A new endpoint id: `wh_` + 96 random bits, base64url.
pub fn new_endpoint_id(rng: &dyn Random) -> String {
    format!("wh_{}", URL_SAFE_NO_PAD.encode(random::bytes::<12>(rng)))
}

/// The `webhook-signature` header: `v1,` + base64(HMAC-SHA256(key,
/// `{id}.{timestamp}.{body}`)).
pub fn sign(key: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `text` is a subscription: `*`, or known event types (comma
/// list, no repeats). Returns the stored form.
pub fn parse_event_types(list: &[String]) -> Result<String, String> {
    if list.is_empty() {
        return Err("Choose at least one event type, or \"*\" for all.".into());
    }
    if list.iter().any(|t| t == "*") {
        return Ok("*".into());
    }
    let mut out: Vec<&str> = Vec::new();
    for t in list {
        match EVENT_TYPES.iter().find(|e| **e == t.as_str()) {
            Some(e) if !out.contains(e) => out.push(e),
            Some(_) => {}
            None => return Err(format!("\"{t}\" is not an event type.")),
        }
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's published example (also in
    /// its reference libraries' tests).
    #[test]
    fn signs_the_specification_test_vector() {
        let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let sig = sign(
            &secret.key().unwrap(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_different_timestamp_or_body_changes_the_signature() {
        let key = [7u8; 32];
        let a = sign(&key, "msg_1", 10, b"{}");
        assert_ne!(a, sign(&key, "msg_1", 11, b"{}"));
        assert_ne!(a, sign(&key, "msg_2", 10, b"{}"));
        assert_ne!(a, sign(&key, "msg_1", 10, b"{ }"));
    }

    #[test]
    fn secrets_are_whsec_base64_of_32_bytes_and_seal_per_endpoint() {
        let rng = crate::random::SeededRandom::new(1);
        let s = Secret::generate(&rng);
        assert!(s.0.starts_with("whsec_"));
        assert_eq!(s.key().unwrap().len(), 32);
        let dk = DataKey([3; 32]);
        let sealed = s.seal(&dk, "wh_a", &rng);
        assert!(!sealed.contains(&s.0));
        assert_eq!(Secret::open(&dk, "wh_a", &sealed), Some(s));
        assert_eq!(Secret::open(&dk, "wh_b", &sealed), None);
        assert_eq!(Secret::open(&DataKey([4; 32]), "wh_a", &sealed), None);
    }

    #[test]
    fn subscriptions_are_known_types_or_all() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_event_types(&l(&["*"])).unwrap(), "*");
        assert_eq!(
            parse_event_types(&l(&["login.failed", "user.created", "login.failed"])).unwrap(),
            "login.failed,user.created"
        );
        assert!(parse_event_types(&l(&["user.nope"])).is_err());
        assert!(parse_event_types(&[]).is_err());
    }
}
