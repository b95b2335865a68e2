//! The seed's tokens (Django + djangorestframework-simplejwt), honoured
//! during the cutover: HS256 with the seed's `SECRET_KEY`, header
//! `{"alg":"HS256","typ":"JWT"}`, claims `token_type`, `exp`, `iat`, `jti`,
//! `user_id` and nothing else (docs/LEGACY_TOKENS.md).
//!
//! This is a path of its own, apart from [`crate::token`]: it accepts only
//! HS256 with the seed's key and only the seed's claim set, so a deployment
//! that signs with EdDSA accepts no other HS256 token, and neither codec can
//! take the other's tokens (Gatehouse's carry `kid`, `iss`, `aud`, `sid`…,
//! which this parser refuses).

use crate::clock::UnixMillis;
use crate::config::LegacyTokens;
use crate::token::TokenType;
use crate::user::UserId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// Longest token text looked at (the seed's are ~230 bytes).
const MAX_LEN: usize = 2048;

/// What a verified seed token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyClaims {
    pub user_id: UserId,
    pub jti: String,
    pub expires_at: UnixMillis,
}

/// PyJWT's header for HS256, exactly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

/// simplejwt's default claims (`TOKEN_TYPE_CLAIM`, `JTI_CLAIM`,
/// `USER_ID_CLAIM`), exactly.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    token_type: String,
    exp: i64,
    #[serde(default)]
    #[allow(dead_code)] // part of the pinned claim set; simplejwt does not check it
    iat: Option<i64>,
    jti: String,
    user_id: SeedUserId,
}

/// simplejwt 5.5 writes `user_id` as a string ("42"); older versions as a
/// number. Both mean the same row.
#[derive(Deserialize)]
#[serde(untagged)]
enum SeedUserId {
    Number(i64),
    Text(String),
}

impl SeedUserId {
    fn id(&self) -> Option<i64> {
        let id = match self {
            SeedUserId::Number(n) => *n,
            SeedUserId::Text(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()?
            }
            SeedUserId::Text(_) => return None,
        };
        (id > 0).then_some(id)
    }
}

/// The seed token `token` of type `expected`, if the cutover is on, its
/// signature is the seed key's HS256, its header and claims are exactly
/// the seed's, and it has not expired (`exp` > now, as PyJWT checks it,
/// with no leeway: the seed was configured with none).
pub fn verify(
    legacy: Option<&LegacyTokens>,
    token: &str,
    expected: TokenType,
    now: UnixMillis,
) -> Option<LegacyClaims> {
    let legacy = legacy.filter(|l| now < l.until)?;
    if token.len() > MAX_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header.alg != "HS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    let signing_input = &token[..h.len() + 1 + c.len()];
    let mac = hmac_sha256::HMAC::mac(signing_input.as_bytes(), legacy.signing_key.0.as_bytes());
    if signature.len() != mac.len() || !bool::from(mac.ct_eq(&signature[..])) {
        return None;
    }
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let wanted = match expected {
        TokenType::Access => "access",
        TokenType::Refresh => "refresh",
    };
    if claims.token_type != wanted || claims.jti.is_empty() || claims.jti.len() > 255 {
        return None;
    }
    let expires_at = UnixMillis::from_secs(claims.exp);
    if now >= expires_at {
        return None;
    }
    Some(LegacyClaims {
        user_id: UserId(claims.user_id.id()?),
        jti: claims.jti,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HiddenText;
    use crate::token::{SigningKey, TokenCodec};
    use crate::user::{User, UserType};
    use serde_json::{json, Value};

    const KEY: &str = "django-insecure-seed-key-for-tests";
    const T0: UnixMillis = UnixMillis(1_800_000_000_000);

    fn legacy() -> LegacyTokens {
        LegacyTokens {
            signing_key: HiddenText(KEY.into()),
            until: T0.plus_secs(3600),
        }
    }

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    /// A token as simplejwt signs it (PyJWT: HS256 over `header.payload`).
    fn sign(header: &Value, claims: &Value, key: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let mac = hmac_sha256::HMAC::mac(input.as_bytes(), key.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    fn seed_claims(token_type: &str) -> Value {
        json!({
            "token_type": token_type,
            "exp": T0.as_secs() + 900,
            "iat": T0.as_secs(),
            "jti": "6f1c0c2e9d8a4b7c8e1f2a3b4c5d6e7f",
            "user_id": "42",
        })
    }

    fn seed(token_type: &str) -> String {
        sign(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &seed_claims(token_type),
            KEY,
        )
    }

    fn check(token: &str, t: TokenType, now: UnixMillis) -> Option<LegacyClaims> {
        verify(Some(&legacy()), token, t, now)
    }

    #[test]
    fn the_seeds_access_and_refresh_tokens() {
        let a = check(&seed("access"), TokenType::Access, T0).unwrap();
        assert_eq!(a.user_id, UserId(42));
        assert_eq!(a.jti, "6f1c0c2e9d8a4b7c8e1f2a3b4c5d6e7f");
        assert_eq!(a.expires_at, T0.plus_secs(900));
        assert!(check(&seed("refresh"), TokenType::Refresh, T0).is_some());
        // A numeric user_id (simplejwt before 5.5) is the same user.
        let mut c = seed_claims("access");
        c["user_id"] = json!(42);
        let t = sign(&json!({"alg": "HS256", "typ": "JWT"}), &c, KEY);
        assert_eq!(
            check(&t, TokenType::Access, T0).unwrap().user_id,
            UserId(42)
        );
    }

    #[test]
    fn the_type_is_pinned() {
        assert!(check(&seed("access"), TokenType::Refresh, T0).is_none());
        assert!(check(&seed("refresh"), TokenType::Access, T0).is_none());
    }

    #[test]
    fn other_algorithms_and_keys_are_refused() {
        let c = seed_claims("access");
        // alg none, with and without a signature.
        let none = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&c)
        );
        assert!(check(&none, TokenType::Access, T0).is_none());
        // HS512 / RS256 headers over a valid HS256 MAC: the header is pinned.
        for alg in ["HS512", "RS256", "hs256", "EdDSA"] {
            let t = sign(&json!({"alg": alg, "typ": "JWT"}), &c, KEY);
            assert!(check(&t, TokenType::Access, T0).is_none(), "{alg}");
        }
        // Another key.
        let t = sign(&json!({"alg": "HS256", "typ": "JWT"}), &c, "another-key");
        assert!(check(&t, TokenType::Access, T0).is_none());
        // A header with more than PyJWT writes (kid: a Gatehouse header).
        let t = sign(&json!({"alg": "HS256", "typ": "JWT", "kid": "x"}), &c, KEY);
        assert!(check(&t, TokenType::Access, T0).is_none());
        // A tampered payload.
        let good = seed("access");
        let parts: Vec<&str> = good.split('.').collect();
        let mut c2 = c.clone();
        c2["user_id"] = json!("1");
        let forged = format!("{}.{}.{}", parts[0], b64(&c2), parts[2]);
        assert!(check(&forged, TokenType::Access, T0).is_none());
        // Truncated signatures, extra parts, garbage.
        assert!(check(&good[..good.len() - 2], TokenType::Access, T0).is_none());
        assert!(check(&format!("{good}.x"), TokenType::Access, T0).is_none());
        assert!(check("a.b.c", TokenType::Access, T0).is_none());
        assert!(check("", TokenType::Access, T0).is_none());
    }

    #[test]
    fn claims_are_the_seeds_exactly() {
        let h = json!({"alg": "HS256", "typ": "JWT"});
        for (field, value) in [
            ("sid", json!("s1")),
            ("iss", json!("gatehouse")),
            ("aud", json!("gatehouse-api")),
            ("client_id", json!("cl_1")),
        ] {
            let mut c = seed_claims("access");
            c[field] = value;
            assert!(
                check(&sign(&h, &c, KEY), TokenType::Access, T0).is_none(),
                "{field}"
            );
        }
        for field in ["token_type", "exp", "jti", "user_id"] {
            let mut c = seed_claims("access");
            c.as_object_mut().unwrap().remove(field);
            assert!(
                check(&sign(&h, &c, KEY), TokenType::Access, T0).is_none(),
                "{field}"
            );
        }
        for bad in [
            json!("0"),
            json!(-3),
            json!("4a"),
            json!(""),
            json!(1.5),
            json!(null),
        ] {
            let mut c = seed_claims("access");
            c["user_id"] = bad.clone();
            assert!(
                check(&sign(&h, &c, KEY), TokenType::Access, T0).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn expiry_and_the_deadline_use_the_given_clock() {
        let t = seed("access");
        let exp = T0.plus_secs(900);
        assert!(check(&t, TokenType::Access, UnixMillis(exp.0 - 1)).is_some());
        assert!(check(&t, TokenType::Access, exp).is_none());
        // After the cutover's deadline, nothing: even an unexpired token.
        let short = LegacyTokens {
            until: T0.plus_secs(60),
            ..legacy()
        };
        assert!(verify(Some(&short), &t, TokenType::Access, T0.plus_secs(59)).is_some());
        assert!(verify(Some(&short), &t, TokenType::Access, T0.plus_secs(60)).is_none());
        // Not configured: nothing.
        assert!(verify(None, &t, TokenType::Access, T0).is_none());
    }

    #[test]
    fn gatehouse_tokens_are_not_seed_tokens() {
        // Even HS256 Gatehouse tokens signed with the very same key.
        let codec = TokenCodec::new(
            SigningKey::hs256(KEY).unwrap(),
            "gatehouse".into(),
            "gatehouse-api".into(),
        );
        let user = User::sample(42, UserType::Creator);
        for tt in [TokenType::Access, TokenType::Refresh] {
            let t = crate::testing::sample_token(&codec, tt, &user, T0, 60);
            assert!(check(&t, tt, T0).is_none());
        }
    }
}
