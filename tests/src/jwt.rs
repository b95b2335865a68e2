//! JWT helpers for black-box checks: decode without verifying, tamper,
//! forge HS256 or `alg: none` tokens, verify an EdDSA signature with a JWK.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

/// base64url without padding (tolerating padding on input).
pub fn b64d(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(s))
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s:?}"))
}

pub fn b64e(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> [&str; 3] {
    let p: Vec<&str> = token.split('.').collect();
    assert_eq!(p.len(), 3, "not a compact JWS (3 parts): {token:?}");
    [p[0], p[1], p[2]]
}

/// The header of a JWT, unverified.
pub fn header(token: &str) -> Value {
    let [h, _, _] = parts(token);
    serde_json::from_slice(&b64d(h)).unwrap_or_else(|e| panic!("header is not JSON: {e}"))
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    let [_, c, _] = parts(token);
    serde_json::from_slice(&b64d(c)).unwrap_or_else(|e| panic!("payload is not JSON: {e}"))
}

/// The same token with its payload changed and the original signature.
pub fn tamper(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let [h, _, s] = parts(token);
    let mut c = claims(token);
    change(&mut c);
    format!("{h}.{}.{s}", b64e(&serde_json::to_vec(&c).expect("json")))
}

/// An unsigned token (`alg: none`, empty signature) with `claims`.
pub fn unsigned(kid: Option<&str>, claims: &Value) -> String {
    let mut h = serde_json::json!({"alg": "none", "typ": "JWT"});
    if let Some(k) = kid {
        h["kid"] = Value::from(k);
    }
    format!(
        "{}.{}.",
        b64e(&serde_json::to_vec(&h).expect("json")),
        b64e(&serde_json::to_vec(claims).expect("json"))
    )
}

/// An HS256 token with `header` and `claims`, signed with `secret`.
pub fn sign_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        b64e(&serde_json::to_vec(header).expect("json")),
        b64e(&serde_json::to_vec(claims).expect("json"))
    );
    let mac = hmac_sha256::HMAC::mac(signing_input.as_bytes(), secret);
    format!("{signing_input}.{}", b64e(&mac))
}

/// Whether an HS256 token's signature is right for `secret`.
pub fn verify_hs256(token: &str, secret: &[u8]) -> bool {
    let [h, c, s] = parts(token);
    let mac = hmac_sha256::HMAC::mac(format!("{h}.{c}").as_bytes(), secret);
    b64d(s) == mac
}

/// Whether an EdDSA token's signature verifies with the OKP JWK's `x`.
pub fn verify_eddsa(token: &str, x: &str) -> bool {
    let [h, c, s] = parts(token);
    let Ok(pk) = ed25519_compact::PublicKey::from_slice(&b64d(x)) else {
        return false;
    };
    let Ok(sig) = ed25519_compact::Signature::from_slice(&b64d(s)) else {
        return false;
    };
    pk.verify(format!("{h}.{c}").as_bytes(), &sig).is_ok()
}

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
