//! JWT access and refresh tokens: claims (simplejwt's names), signing keys,
//! issue and verify. Verification pins the algorithm to the configured key's
//! and checks `token_type`, `iss`, `aud`, `exp`, `nbf` and a future `iat`.
//!
//! Signing is deterministic (HS256 is; Ed25519 is signed as RFC 8032 has
//! it, without the extra noise jwt-simple adds): the same claims give the
//! same token, which the refresh reuse grace relies on to hand a racing
//! request the very refresh token the winner got.

use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::random::Random;
use crate::session::{PresentedRefresh, SessionId};
use crate::user::{User, UserId, UserType};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jwt_simple::prelude::{
    Audiences, Duration, Ed25519PublicKey, EdDSAPublicKeyLike, HS256Key, JWTClaims, MACLike,
    VerificationOptions,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

mod ed25519;
use ed25519::Ed25519Key;

/// Clock skew tolerated between hosts when checking `exp`, `nbf` and `iat`.
pub const CLOCK_SKEW_SECS: u64 = 5;

/// `access` or `refresh`, as simplejwt's `token_type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims Gatehouse adds to the registered ones (`jti`, `exp`, `iat`,
/// `iss`, `aud`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatehouseClaims {
    pub token_type: TokenType,
    pub user_id: UserId,
    pub user_type: UserType,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub client_id: ClientId,
    /// The login this token belongs to.
    pub sid: SessionId,
    /// How the login was authenticated (`pwd`, `email`, `otp`, `rc`).
    #[serde(default)]
    pub amr: Vec<String>,
    /// The login's assurance level: 2 with a second factor, else 1.
    #[serde(default = "one")]
    pub aal: u8,
}

fn one() -> u8 {
    1
}

/// A verified token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub claims: GatehouseClaims,
    pub jti: String,
    pub issued_at: UnixMillis,
    pub expires_at: UnixMillis,
}

impl PresentedRefresh for VerifiedToken {
    fn jti(&self) -> &str {
        &self.jti
    }
    fn user_id(&self) -> UserId {
        self.claims.user_id
    }
    fn client_id(&self) -> &ClientId {
        &self.claims.client_id
    }
}

/// The signing key in use.
pub enum SigningKey {
    EdDsa {
        pair: Ed25519Key,
        public: Ed25519PublicKey,
        kid: String,
        public_bytes: Vec<u8>,
    },
    Hs256 {
        key: HS256Key,
        kid: String,
    },
}

/// Why a key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

impl SigningKey {
    /// An Ed25519 key from its 32-byte seed or 64-byte secret key.
    pub fn ed25519_from_bytes(raw: &[u8]) -> Result<SigningKey, KeyError> {
        let (seed, stated_public) = match raw.len() {
            32 => (raw, None),
            64 => (&raw[..32], Some(&raw[32..])),
            n => {
                return Err(KeyError(format!(
                    "an Ed25519 key has 32 or 64 bytes, not {n}"
                )))
            }
        };
        let seed: &[u8; 32] = seed.try_into().expect("32 bytes");
        let pair = Ed25519Key::from_seed(seed);
        if stated_public.is_some_and(|p| p != pair.public()) {
            return Err(KeyError(
                "bad Ed25519 key: its public half is not its seed's".into(),
            ));
        }
        let public_bytes = pair.public().to_vec();
        let kid = kid_for(&public_bytes);
        let public = Ed25519PublicKey::from_bytes(&public_bytes)
            .map_err(|e| KeyError(e.to_string()))?
            .with_key_id(&kid);
        Ok(SigningKey::EdDsa {
            pair,
            public,
            kid,
            public_bytes,
        })
    }

    /// An Ed25519 key from base64 (standard or url-safe alphabet).
    pub fn ed25519_from_base64(text: &str) -> Result<SigningKey, KeyError> {
        let text = text.trim();
        let raw = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| KeyError("the Ed25519 key is not valid base64".into()))?;
        Self::ed25519_from_bytes(&raw)
    }

    /// An HMAC-SHA256 key; at least 32 bytes, as RFC 7518 §3.2 requires.
    pub fn hs256(secret: &str) -> Result<SigningKey, KeyError> {
        Self::hs256_from_bytes(secret.as_bytes())
    }

    /// An HMAC-SHA256 key from raw bytes (at least 32).
    pub fn hs256_from_bytes(secret: &[u8]) -> Result<SigningKey, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError(
                "the HS256 secret must be at least 32 bytes".into(),
            ));
        }
        let kid = kid_for(&Sha256::digest(secret));
        Ok(SigningKey::Hs256 {
            key: HS256Key::from_bytes(secret).with_key_id(&kid),
            kid,
        })
    }

    /// A key as the database stores it: its algorithm and raw secret.
    pub fn from_stored(alg: &str, secret: &[u8]) -> Result<SigningKey, KeyError> {
        match alg {
            ALG_EDDSA => Self::ed25519_from_bytes(secret),
            ALG_HS256 => Self::hs256_from_bytes(secret),
            other => Err(KeyError(format!("unknown key algorithm {other:?}"))),
        }
    }

    /// `EdDSA` or `HS256`, as the JOSE header and the database name it.
    pub fn alg(&self) -> &'static str {
        match self {
            SigningKey::EdDsa { .. } => ALG_EDDSA,
            SigningKey::Hs256 { .. } => ALG_HS256,
        }
    }

    pub fn kid(&self) -> &str {
        match self {
            SigningKey::EdDsa { kid, .. } | SigningKey::Hs256 { kid, .. } => kid,
        }
    }

    /// The public JSON Web Key (None for HS256: nothing to publish).
    pub fn jwk(&self) -> Option<serde_json::Value> {
        match self {
            SigningKey::EdDsa {
                kid, public_bytes, ..
            } => Some(serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": kid, "x": URL_SAFE_NO_PAD.encode(public_bytes),
            })),
            SigningKey::Hs256 { .. } => None,
        }
    }
}

/// The database's name of the Ed25519 algorithm.
pub const ALG_EDDSA: &str = "EdDSA";
/// The database's name of the HMAC-SHA256 algorithm.
pub const ALG_HS256: &str = "HS256";

/// The keys a host holds: the current one signs; it and the others (next
/// and previous) verify, each selected by the token's `kid`.
pub struct KeyRing {
    current: SigningKey,
    others: Vec<SigningKey>,
}

impl KeyRing {
    pub fn new(current: SigningKey, others: Vec<SigningKey>) -> KeyRing {
        KeyRing { current, others }
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    fn all(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(self.others.iter())
    }

    /// The key with `kid`, if this ring accepts it.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.all().find(|k| k.kid() == kid)
    }

    /// The JSON Web Key Set: every accepted public key, current first
    /// (empty for HS256).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self.all().filter_map(SigningKey::jwk).collect();
        serde_json::json!({ "keys": keys })
    }
}

/// The `kid` of a compact JWS's header, without verifying anything.
pub fn kid_of(token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Header {
        kid: Option<String>,
    }
    let head = token.trim().split('.').next()?;
    if head.len() > 1024 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(head).ok()?;
    serde_json::from_slice::<Header>(&raw).ok()?.kid
}

/// A key id: the first 16 hex digits of SHA-256 of the public material.
fn kid_for(public: &[u8]) -> String {
    crate::digest::hex(&Sha256::digest(public)[..8])
}

/// A new Ed25519 private key, base64 (standard alphabet) of its 32-byte
/// seed, as `GATEHOUSE_JWT_PRIVATE_KEY` and the Worker secret take it.
pub fn generate_ed25519_private_key(rng: &dyn Random) -> String {
    let seed: [u8; 32] = crate::random::bytes(rng);
    STANDARD.encode(seed)
}

/// What to put in a new token besides the user's claims.
pub struct Issue<'a> {
    pub token_type: TokenType,
    pub user: &'a User,
    pub client_id: &'a ClientId,
    pub sid: &'a SessionId,
    pub jti: &'a str,
    pub now: UnixMillis,
    pub ttl_secs: i64,
    /// The login's methods, as stored (comma-separated).
    pub amr: &'a str,
}

/// Issues and verifies tokens for one issuer/audience.
pub struct TokenCodec {
    /// Swapped whole when a host re-reads the key set (`keys::refresh`).
    keys: RwLock<Arc<KeyRing>>,
    issuer: String,
    audience: String,
    /// Access tokens whose signature and claims already checked out. An
    /// Ed25519 verification is ~50 µs, over half of a profile GET's CPU; a
    /// frontend presents the same access token for its whole lifetime. Only
    /// the type and time checks are repeated on a hit; revocation is
    /// checked per request elsewhere (the login and the user), so caching
    /// loses nothing.
    verified: Mutex<TokenMap<String>>,
    /// Refresh tokens this codec signed and has not seen back, by the
    /// SHA-256 of their text: a refresh token comes back to the host that
    /// issued it to be rotated, and verifying it was half of a refresh's
    /// CPU. An entry is taken on that one use, so the map holds about one
    /// entry per login this host last served, not every token it issued;
    /// a second presentation (a retry, the reuse grace, a replay) is
    /// verified in full. Its `jti` is still checked against its login.
    issued: Mutex<TokenMap<[u8; 32]>>,
}

/// Verified tokens by a key of their text.
type TokenMap<K> = HashMap<K, VerifiedToken, foldhash::fast::RandomState>;

/// Most tokens remembered in each map; a full map keeps only the tokens
/// still valid, or starts over.
const VERIFIED_CACHE_CAP: usize = 50_000;

impl TokenCodec {
    pub fn new(key: SigningKey, issuer: String, audience: String) -> Self {
        Self::with_ring(KeyRing::new(key, Vec::new()), issuer, audience)
    }

    pub fn with_ring(ring: KeyRing, issuer: String, audience: String) -> Self {
        TokenCodec {
            keys: RwLock::new(Arc::new(ring)),
            issuer,
            audience,
            verified: Mutex::new(HashMap::default()),
            issued: Mutex::new(HashMap::default()),
        }
    }

    /// The time checks of a verification, for a token verified before.
    fn still_valid(v: &VerifiedToken, now: UnixMillis) -> bool {
        let skew = CLOCK_SKEW_SECS as i64;
        now.as_secs() - skew <= v.expires_at.as_secs()
            && v.issued_at.as_secs() <= now.as_secs() + skew
    }

    /// The key set in use now.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the key set. When a key left it (retired), tokens it signed
    /// must no longer pass as cached verifications.
    pub fn set_keys(&self, ring: KeyRing) {
        let old = self.keys();
        let dropped = old.all().any(|k| ring.find(k.kid()).is_none());
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(ring);
        if dropped {
            lock(&self.verified).clear();
            lock(&self.issued).clear();
        }
    }

    /// Signs a token.
    pub fn issue(&self, i: Issue<'_>) -> String {
        let expires_secs = i.now.as_secs().saturating_add(i.ttl_secs);
        let amr = crate::mfa::amr_list(i.amr);
        let claims = JWTClaims {
            issued_at: Some(secs(i.now.as_secs())),
            expires_at: Some(secs(expires_secs)),
            invalid_before: None,
            issuer: Some(self.issuer.clone()),
            subject: None,
            audiences: Some(Audiences::AsString(self.audience.clone())),
            jwt_id: Some(i.jti.to_owned()),
            nonce: None,
            custom: GatehouseClaims {
                token_type: i.token_type,
                user_id: i.user.id,
                user_type: i.user.user_type,
                is_staff: i.user.is_staff,
                is_superuser: i.user.is_superuser,
                client_id: i.client_id.clone(),
                sid: i.sid.clone(),
                aal: crate::mfa::aal(&amr),
                amr,
            },
        };
        // What a full verification of a refresh token would give back.
        let remembered = (i.token_type == TokenType::Refresh).then(|| VerifiedToken {
            jti: i.jti.to_owned(),
            issued_at: UnixMillis::from_secs(i.now.as_secs()),
            expires_at: UnixMillis::from_secs(expires_secs),
            claims: claims.custom.clone(),
        });
        // Signing only fails on serialisation errors, which these claims cannot have.
        let ring = self.keys();
        let token = match ring.current() {
            SigningKey::EdDsa { pair, kid, .. } => sign_ed25519(pair, kid, &claims),
            SigningKey::Hs256 { key, .. } => key.authenticate(claims).ok(),
        }
        .unwrap_or_default();
        if let (Some(verified), false) = (remembered, token.is_empty()) {
            remember(&self.issued, digest(&token), verified, i.now);
        }
        token
    }

    /// Verifies a token of the expected type; None for anything wrong.
    pub fn verify(
        &self,
        token: &str,
        expected: TokenType,
        now: UnixMillis,
    ) -> Option<VerifiedToken> {
        let remembered = match expected {
            TokenType::Access => lock(&self.verified).get(token).cloned(),
            TokenType::Refresh => lock(&self.issued).remove(&digest(token)),
        };
        if let Some(v) = remembered {
            return (v.claims.token_type == expected && Self::still_valid(&v, now)).then_some(v);
        }
        let verified = self.verify_signed(token, expected, now)?;
        if expected == TokenType::Access {
            remember(&self.verified, token.to_owned(), verified.clone(), now);
        }
        Some(verified)
    }

    /// The full verification: signature, algorithm, claims, times.
    fn verify_signed(
        &self,
        token: &str,
        expected: TokenType,
        now: UnixMillis,
    ) -> Option<VerifiedToken> {
        // The kid selects the key; an unknown kid is a bad token. The key's
        // own type pins the algorithm (no HS256 token passes an EdDSA key).
        let kid = kid_of(token)?;
        let ring = self.keys();
        let key = ring.find(&kid)?;
        let options = VerificationOptions {
            accept_future: false,
            required_key_id: Some(kid.clone()),
            allowed_issuers: Some(HashSet::from([self.issuer.clone()])),
            allowed_audiences: Some(HashSet::from([self.audience.clone()])),
            time_tolerance: Some(Duration::from_secs(CLOCK_SKEW_SECS)),
            artificial_time: Some(secs(now.as_secs().max(0))),
            max_token_length: Some(8 * 1024),
            ..VerificationOptions::default()
        };
        let claims = match key {
            SigningKey::EdDsa { public, .. } => {
                public.verify_token::<GatehouseClaims>(token, Some(options))
            }
            SigningKey::Hs256 { key, .. } => {
                key.verify_token::<GatehouseClaims>(token, Some(options))
            }
        }
        .ok()?;
        if claims.custom.token_type != expected {
            return None;
        }
        Some(VerifiedToken {
            jti: claims.jwt_id?,
            issued_at: UnixMillis::from_secs(claims.issued_at?.as_secs() as i64),
            expires_at: UnixMillis::from_secs(claims.expires_at?.as_secs() as i64),
            claims: claims.custom,
        })
    }
}

/// The JOSE header of an EdDSA token, as jwt-simple writes it (and reads
/// it back on verification).
#[derive(Serialize)]
struct EdDsaHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'static str,
}

/// A compact JWS over `claims`, signed with Ed25519 without noise, so the
/// same claims always give the same token.
fn sign_ed25519(
    pair: &Ed25519Key,
    kid: &str,
    claims: &JWTClaims<GatehouseClaims>,
) -> Option<String> {
    let header = EdDsaHeader {
        alg: "EdDSA",
        kid,
        typ: "JWT",
    };
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?));
    let signature = pair.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Some(token)
}

fn lock<K>(map: &Mutex<TokenMap<K>>) -> std::sync::MutexGuard<'_, TokenMap<K>> {
    map.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records a verified token, making room when the map is full.
fn remember<K: std::hash::Hash + Eq>(
    map: &Mutex<TokenMap<K>>,
    key: K,
    verified: VerifiedToken,
    now: UnixMillis,
) {
    let mut map = lock(map);
    if map.len() >= VERIFIED_CACHE_CAP {
        map.retain(|_, v| TokenCodec::still_valid(v, now));
        if map.len() >= VERIFIED_CACHE_CAP {
            map.clear();
        }
    }
    map.insert(key, verified);
}

/// The key of a token in the map of issued refresh tokens.
fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s.max(0) as u64)
}

/// A fresh token id: 16 random bytes, base64url.
pub fn new_jti(rng: &dyn Random) -> String {
    let b: [u8; 16] = crate::random::bytes(rng);
    URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn user() -> User {
        User::sample(7, UserType::Creator)
    }

    /// An HS256 codec with `secret`, issuer `iss`, audience `aud`.
    fn hs256(secret: &str) -> TokenCodec {
        TokenCodec::new(
            SigningKey::hs256(secret).unwrap(),
            "iss".into(),
            "aud".into(),
        )
    }

    fn codec(rng: &SeededRandom) -> TokenCodec {
        let key = SigningKey::ed25519_from_base64(&generate_ed25519_private_key(rng)).unwrap();
        TokenCodec::new(key, "iss".into(), "aud".into())
    }

    fn issue(c: &TokenCodec, t: TokenType, now: UnixMillis) -> String {
        crate::testing::sample_token(c, t, &user(), now, 60)
    }

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);

    #[test]
    fn round_trip_and_type_pinning() {
        let c = codec(&SeededRandom::new(1));
        let tok = issue(&c, TokenType::Access, T0);
        let v = c.verify(&tok, TokenType::Access, T0).unwrap();
        assert_eq!(v.claims.user_id, UserId(7));
        assert_eq!(v.expires_at.as_secs() - v.issued_at.as_secs(), 60);
        assert_eq!(v.jti, "j1");
        assert!(c.verify(&tok, TokenType::Refresh, T0).is_none());
    }

    /// A 60-second access token issued at `T0` verifies up to its expiry
    /// plus the clock skew, and not before its `iat` minus the skew.
    fn assert_lifetime(c: &TokenCodec, tok: &str) {
        let skew = CLOCK_SKEW_SECS as i64;
        let at = |secs| c.verify(tok, TokenType::Access, T0.plus_secs(secs));
        assert!(at(60 + skew).is_some());
        assert!(at(61 + skew).is_none());
        assert!(at(-skew - 1).is_none());
    }

    #[test]
    fn expiry_and_future_iat_use_the_given_clock() {
        let c = codec(&SeededRandom::new(2));
        let tok = issue(&c, TokenType::Access, T0);
        assert_lifetime(&c, &tok);
    }

    #[test]
    fn other_keys_issuers_audiences_and_algorithms_are_rejected() {
        let a = codec(&SeededRandom::new(3));
        let b = codec(&SeededRandom::new(4));
        let tok = issue(&a, TokenType::Access, T0);
        assert!(b.verify(&tok, TokenType::Access, T0).is_none());
        let other_iss = TokenCodec::new(
            SigningKey::ed25519_from_base64(&generate_ed25519_private_key(&SeededRandom::new(3)))
                .unwrap(),
            "other".into(),
            "aud".into(),
        );
        assert!(other_iss.verify(&tok, TokenType::Access, T0).is_none());
        // alg: none with the same payload.
        let payload = tok.split('.').nth(1).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(a
            .verify(&format!("{none_header}.{payload}."), TokenType::Access, T0)
            .is_none());
        // HS256 signed with the Ed25519 public key (algorithm confusion).
        let hs = hs256(&"x".repeat(32));
        let forged = issue(&hs, TokenType::Access, T0);
        assert!(a.verify(&forged, TokenType::Access, T0).is_none());
    }

    #[test]
    fn a_cached_access_token_still_expires_and_is_never_a_refresh_token() {
        let c = codec(&SeededRandom::new(6));
        let tok = issue(&c, TokenType::Access, T0);
        assert!(c.verify(&tok, TokenType::Access, T0).is_some());
        // Served from the cache now: the same answers as a full verification.
        assert_lifetime(&c, &tok);
        assert!(c.verify(&tok, TokenType::Refresh, T0).is_none());
        // A tampered copy is not a cache hit.
        let mut forged = tok.clone();
        forged.insert(forged.len() - 2, 'A');
        assert!(c.verify(&forged, TokenType::Access, T0).is_none());
    }

    #[test]
    fn a_refresh_token_it_issued_is_remembered_for_one_use_and_forgotten_with_its_key() {
        let c = codec(&SeededRandom::new(9));
        let remembered = |t: &str| lock(&c.issued).contains_key(&digest(t));
        let refresh = issue(&c, TokenType::Refresh, T0);
        assert!(remembered(&refresh));
        assert!(!remembered(&issue(&c, TokenType::Access, T0)));
        // Never a bearer access token.
        assert!(c.verify(&refresh, TokenType::Access, T0).is_none());
        // The first use answers from the map and takes the entry.
        let v = c.verify(&refresh, TokenType::Refresh, T0).unwrap();
        assert!(!remembered(&refresh));
        assert_eq!((v.jti.as_str(), v.claims.user_id), ("j1", UserId(7)));
        // The same answer a full verification gives: here, and in a codec
        // with the same key that never saw the token.
        assert_eq!(c.verify(&refresh, TokenType::Refresh, T0), Some(v.clone()));
        let other = codec(&SeededRandom::new(9));
        assert_eq!(other.verify(&refresh, TokenType::Refresh, T0), Some(v));
        // Expired while remembered: refused.
        let late = issue(&c, TokenType::Refresh, T0.plus_secs(1));
        assert!(remembered(&late));
        let expired = T0.plus_secs(1 + 61 + CLOCK_SKEW_SECS as i64);
        assert!(c.verify(&late, TokenType::Refresh, expired).is_none());
        // Its key retired: the remembered token goes with it.
        let again = issue(&c, TokenType::Refresh, T0.plus_secs(2));
        c.set_keys(KeyRing::new(
            SigningKey::hs256(&"r".repeat(32)).unwrap(),
            Vec::new(),
        ));
        assert!(!remembered(&again));
        assert!(c.verify(&again, TokenType::Refresh, T0).is_none());
    }

    #[test]
    fn a_64_byte_key_must_carry_its_own_public_half() {
        let seed = [7u8; 32];
        let from_seed = SigningKey::ed25519_from_bytes(&seed).unwrap();
        let SigningKey::EdDsa { public_bytes, .. } = &from_seed else {
            panic!("an EdDSA key")
        };
        let mut full = seed.to_vec();
        full.extend_from_slice(public_bytes);
        let from_full = SigningKey::ed25519_from_bytes(&full).unwrap();
        assert_eq!(from_full.kid(), from_seed.kid());
        full[40] ^= 1;
        assert!(SigningKey::ed25519_from_bytes(&full).is_err());
        assert!(SigningKey::ed25519_from_bytes(&[0u8; 33]).is_err());
    }

    #[test]
    fn the_same_claims_sign_to_the_same_token() {
        let eddsa = codec(&SeededRandom::new(7));
        let hs = hs256(&"k".repeat(40));
        for c in [&eddsa, &hs] {
            let a = issue(c, TokenType::Refresh, T0);
            assert_eq!(a, issue(c, TokenType::Refresh, T0));
            assert_ne!(a, issue(c, TokenType::Refresh, T0.plus_secs(1)));
            assert!(c.verify(&a, TokenType::Refresh, T0).is_some());
        }
    }

    #[test]
    fn eddsa_tokens_have_jwt_simples_header_and_verify_with_its_key() {
        let c = codec(&SeededRandom::new(8));
        let tok = issue(&c, TokenType::Access, T0);
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(tok.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "EdDSA", "kid": c.keys().current().kid(), "typ": "JWT"})
        );
        // jwt-simple's own verification of the public key accepts it.
        let ring = c.keys();
        let SigningKey::EdDsa { public, .. } = ring.current() else {
            panic!("an EdDSA key")
        };
        let claims = public
            .verify_token::<GatehouseClaims>(
                &tok,
                Some(VerificationOptions {
                    artificial_time: Some(secs(T0.as_secs())),
                    ..VerificationOptions::default()
                }),
            )
            .unwrap();
        assert_eq!(claims.custom.user_id, UserId(7));
    }

    #[test]
    fn hs256_round_trip_and_short_secret() {
        assert!(SigningKey::hs256("short").is_err());
        let c = hs256(&"k".repeat(40));
        let tok = issue(&c, TokenType::Refresh, T0);
        assert!(c.verify(&tok, TokenType::Refresh, T0).is_some());
        assert_eq!(c.keys().jwks()["keys"].as_array().unwrap().len(), 0);
    }

    proptest::proptest! {
        #[test]
        fn any_flipped_bit_is_rejected(byte in 0usize..400, bit in 0u8..8) {
            let c = codec(&SeededRandom::new(5));
            let tok = issue(&c, TokenType::Access, T0);
            let mut bytes = tok.clone().into_bytes();
            let i = byte % bytes.len();
            bytes[i] ^= 1 << bit;
            if let Ok(s) = String::from_utf8(bytes) {
                if s != tok {
                    // Flips in base64 padding bits can decode to the same bytes; the
                    // signature covers the decoded value, so compare decodings.
                    let same = s.split('.').zip(tok.split('.')).all(|(x, y)| {
                        URL_SAFE_NO_PAD.decode(x).ok() == URL_SAFE_NO_PAD.decode(y).ok()
                            && URL_SAFE_NO_PAD.decode(x).is_ok()
                    }) && s.split('.').count() == 3;
                    proptest::prop_assert!(same || c.verify(&s, TokenType::Access, T0).is_none());
                }
            }
        }
    }
}
