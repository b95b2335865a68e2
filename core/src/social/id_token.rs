//! An OpenID Connect ID token verified in full, as a pure function of the
//! token, the provider's key set (JWKS text), what the token must say and
//! the time: the signature (RS256 or ES256, the key chosen by `kid`), then
//! `iss`, `aud`, `exp`, `iat` (present, not in the future) and `nonce`.

use crate::clock::UnixMillis;
use jwt_simple::prelude::*;
use serde::Deserialize;

/// Clock skew tolerated between Gatehouse and a provider.
const LEEWAY_SECS: u64 = 60;

/// Why an ID token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdTokenError {
    /// No key in the set has the token's `kid`: fetch the set again (once).
    UnknownKey,
    /// Anything else (signature, claims, shape), with the reason.
    Invalid(String),
}

/// The claims Gatehouse reads.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(crate) struct IdClaims {
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// A boolean, or (Microsoft, Apple) the text `"true"`.
    #[serde(default)]
    pub(crate) email_verified: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// The verified token: its subject and claims.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub(crate) subject: String,
    pub(crate) claims: IdClaims,
}

impl IdClaims {
    pub(crate) fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

fn b64(s: &Option<String>) -> Result<Vec<u8>, IdTokenError> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let s = s
        .as_deref()
        .ok_or_else(|| IdTokenError::Invalid("key without its parameters".into()))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| IdTokenError::Invalid("key parameter not base64url".into()))
}

/// Verifies `token` against the key set `jwks` (JSON text).
pub(crate) fn verify(
    token: &str,
    jwks: &str,
    issuer: &str,
    audience: &str,
    nonce: &str,
    now: UnixMillis,
) -> Result<Verified, IdTokenError> {
    let invalid = |why: &str| IdTokenError::Invalid(why.to_owned());
    let meta = Token::decode_metadata(token).map_err(|_| invalid("not a JWT"))?;
    let alg = meta.algorithm().to_owned();
    let kid = meta.key_id().map(str::to_owned);
    let set: Jwks = serde_json::from_str(jwks).map_err(|_| invalid("the key set is not JSON"))?;
    let kty = match alg.as_str() {
        "RS256" => "RSA",
        "ES256" => "EC",
        other => {
            return Err(IdTokenError::Invalid(format!(
                "algorithm {other} not accepted"
            )))
        }
    };
    let candidates: Vec<&Jwk> = set
        .keys
        .iter()
        .filter(|k| k.kty == kty && k.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| match &kid {
            Some(kid) => k.kid.as_deref() == Some(kid.as_str()),
            None => true,
        })
        .collect();
    // Without a `kid` the set must hold exactly one key of the type.
    let key = match (candidates.as_slice(), &kid) {
        ([k], _) => *k,
        ([], _) => return Err(IdTokenError::UnknownKey),
        (_, None) => return Err(invalid("no kid and several keys")),
        (_, Some(_)) => return Err(invalid("several keys with the kid")),
    };
    let mut options = VerificationOptions {
        artificial_time: Some(UnixTimeStamp::from_secs((now.0 / 1000) as u64)),
        time_tolerance: Some(Duration::from_secs(LEEWAY_SECS)),
        required_nonce: Some(nonce.to_owned()),
        ..Default::default()
    };
    options.allowed_issuers = Some(HashSet::from_strings(&[issuer]));
    options.allowed_audiences = Some(HashSet::from_strings(&[audience]));
    let claims: JWTClaims<IdClaims> = match alg.as_str() {
        "RS256" => RS256PublicKey::from_components(&b64(&key.n)?, &b64(&key.e)?)
            .map_err(|_| invalid("bad RSA key"))?
            .verify_token(token, Some(options)),
        _ => {
            if key.crv.as_deref() != Some("P-256") {
                return Err(invalid("EC key not on P-256"));
            }
            let mut point = vec![4u8];
            point.extend(b64(&key.x)?);
            point.extend(b64(&key.y)?);
            ES256PublicKey::from_bytes(&point)
                .map_err(|_| invalid("bad EC key"))?
                .verify_token(token, Some(options))
        }
    }
    .map_err(|e| IdTokenError::Invalid(e.to_string()))?;
    // jwt-simple checks these when present; an ID token must carry them.
    if claims.expires_at.is_none() {
        return Err(invalid("no exp"));
    }
    if claims.issued_at.is_none() {
        return Err(invalid("no iat"));
    }
    let subject = claims
        .subject
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| invalid("no sub"))?;
    Ok(Verified {
        subject,
        claims: claims.custom,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    pub(crate) const ISS: &str = "https://idp.test";
    pub(crate) const AUD: &str = "gatehouse-client";
    const NOW: UnixMillis = UnixMillis(1_800_000_000_000);

    /// An ES256 key pair with `kid`, and its JWKS entry.
    pub(crate) fn es_key(kid: &str) -> (ES256KeyPair, serde_json::Value) {
        let k = ES256KeyPair::generate().with_key_id(kid);
        let point = k.public_key().public_key().to_bytes_uncompressed();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        (k, jwk)
    }

    /// An ID token signed by `k`, issued at `iat_secs`, valid `ttl` seconds.
    pub(crate) fn mint(
        k: &ES256KeyPair,
        iss: &str,
        aud: &str,
        nonce: &str,
        iat_secs: u64,
        ttl: u64,
        custom: IdClaims,
    ) -> String {
        let mut c = Claims::with_custom_claims(custom, Duration::from_secs(ttl))
            .with_issuer(iss)
            .with_audience(aud)
            .with_subject("user-1")
            .with_nonce(nonce);
        c.issued_at = Some(UnixTimeStamp::from_secs(iat_secs));
        c.invalid_before = Some(UnixTimeStamp::from_secs(iat_secs));
        c.expires_at = Some(UnixTimeStamp::from_secs(iat_secs + ttl));
        k.sign(c).unwrap()
    }

    fn set(keys: &[&serde_json::Value]) -> String {
        serde_json::json!({ "keys": keys }).to_string()
    }

    #[test]
    fn a_good_token_verifies_and_every_claim_is_checked() {
        let (k, jwk) = es_key("k1");
        let jwks = set(&[&jwk]);
        let at = NOW.0 as u64 / 1000;
        let claims = IdClaims {
            email: Some("a@b.c".into()),
            email_verified: Some(serde_json::json!("true")),
            name: None,
        };
        let t = mint(&k, ISS, AUD, "n1", at, 300, claims.clone());
        let v = verify(&t, &jwks, ISS, AUD, "n1", NOW).unwrap();
        assert_eq!(v.subject, "user-1");
        assert!(v.claims.email_verified());
        let bad = |t: &str, nonce: &str, now: UnixMillis| verify(t, &jwks, ISS, AUD, nonce, now);
        assert!(
            matches!(bad(&t, "n2", NOW), Err(IdTokenError::Invalid(_))),
            "nonce"
        );
        let wrong_iss = mint(&k, "https://evil", AUD, "n1", at, 300, claims.clone());
        assert!(bad(&wrong_iss, "n1", NOW).is_err(), "iss");
        let wrong_aud = mint(&k, ISS, "other", "n1", at, 300, claims.clone());
        assert!(bad(&wrong_aud, "n1", NOW).is_err(), "aud");
        let expired = mint(&k, ISS, AUD, "n1", at - 1000, 300, claims.clone());
        assert!(bad(&expired, "n1", NOW).is_err(), "exp");
        let future = mint(&k, ISS, AUD, "n1", at + 600, 300, claims.clone());
        assert!(bad(&future, "n1", NOW).is_err(), "iat");
        // Inside the leeway either way.
        let skewed = mint(&k, ISS, AUD, "n1", at + 30, 300, claims.clone());
        assert!(bad(&skewed, "n1", NOW).is_ok());
    }

    #[test]
    fn wrong_signatures_and_unknown_keys_are_told_apart() {
        let (_k, jwk) = es_key("k1");
        let (other, _) = es_key("k1"); // same kid, another key
        let (rotated, rotated_jwk) = es_key("k2");
        let jwks = set(&[&jwk]);
        let at = NOW.0 as u64 / 1000;
        let forged = mint(&other, ISS, AUD, "n", at, 300, IdClaims::default());
        assert!(matches!(
            verify(&forged, &jwks, ISS, AUD, "n", NOW),
            Err(IdTokenError::Invalid(_))
        ));
        let t = mint(&rotated, ISS, AUD, "n", at, 300, IdClaims::default());
        assert_eq!(
            verify(&t, &jwks, ISS, AUD, "n", NOW).unwrap_err(),
            IdTokenError::UnknownKey
        );
        let both = set(&[&jwk, &rotated_jwk]);
        assert!(verify(&t, &both, ISS, AUD, "n", NOW).is_ok());
        // A token of an algorithm Gatehouse does not accept.
        let hs = HS256Key::generate()
            .authenticate(Claims::create(Duration::from_secs(60)))
            .unwrap();
        assert!(matches!(
            verify(&hs, &both, ISS, AUD, "n", NOW),
            Err(IdTokenError::Invalid(_))
        ));
        assert!(verify("garbage", &both, ISS, AUD, "n", NOW).is_err());
    }

    #[test]
    fn rs256_verifies() {
        let k = RS256KeyPair::generate(2048).unwrap().with_key_id("r1");
        let c = k.public_key().to_components();
        let jwk = serde_json::json!({"kty": "RSA", "kid": "r1",
            "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e)});
        let at = NOW.0 as u64 / 1000;
        let mut claims = Claims::with_custom_claims(IdClaims::default(), Duration::from_secs(300))
            .with_issuer(ISS)
            .with_audience(AUD)
            .with_subject("rs-user")
            .with_nonce("n");
        claims.issued_at = Some(UnixTimeStamp::from_secs(at));
        claims.expires_at = Some(UnixTimeStamp::from_secs(at + 300));
        let t = k.sign(claims).unwrap();
        let v = verify(&t, &set(&[&jwk]), ISS, AUD, "n", NOW).unwrap();
        assert_eq!(v.subject, "rs-user");
    }
}
