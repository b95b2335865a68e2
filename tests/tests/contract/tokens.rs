//! Token claims, JWKS, and forged/tampered tokens.

use base64::Engine;
use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};

fn assert_claims(c: &Value, token_type: &str, user_id: Option<i64>, client_id: &str, ttl: i64) {
    assert_eq!(c["token_type"], token_type, "{c}");
    assert!(c["jti"].as_str().is_some_and(|s| !s.is_empty()), "jti: {c}");
    assert_eq!(
        c["user_id"],
        json!(user_id),
        "user_id must be the int id: {c}"
    );
    let (exp, iat) = (c["exp"].as_i64(), c["iat"].as_i64());
    assert!(
        exp.is_some() && iat.is_some(),
        "exp/iat must be integers: {c}"
    );
    assert_eq!(exp.unwrap_or(0) - iat.unwrap_or(0), ttl, "exp - iat: {c}");
    assert!(
        (iat.unwrap_or(0) - jwt::now()).abs() < 120,
        "iat is not now: {c}"
    );
    assert!(c["iss"].as_str().is_some_and(|s| !s.is_empty()), "iss: {c}");
    assert!(
        c["aud"].as_str().is_some_and(|s| !s.is_empty())
            || c["aud"].as_array().is_some_and(|a| !a.is_empty()),
        "aud: {c}"
    );
    assert_eq!(c["user_type"], "creator", "{c}");
    assert_eq!(c["is_staff"], false, "{c}");
    assert_eq!(c["is_superuser"], false, "{c}");
    assert_eq!(c["client_id"], client_id, "{c}");
    assert!(c["sid"].as_str().is_some_and(|s| !s.is_empty()), "sid: {c}");
}

/// The published JWKS, fetched without an API key.
async fn jwks(ctx: &Ctx) -> Value {
    let r = ctx.anonymous().get("/.well-known/jwks.json").send().await;
    r.json()
}

#[tokio::test]
async fn access_and_refresh_claims() {
    let (ctx, u, t) = Ctx::creator().await;
    let a = jwt::claims(&t.access);
    let r = jwt::claims(&t.refresh);
    assert_claims(
        &a,
        "access",
        u.id,
        &ctx.creds.client_id,
        default_access_ttl(),
    );
    assert_claims(
        &r,
        "refresh",
        u.id,
        &ctx.creds.client_id,
        default_refresh_ttl(),
    );
    assert_eq!(a["sid"], r["sid"], "one login, one sid");
    assert_ne!(a["jti"], r["jti"]);
    assert_eq!(a["iss"], r["iss"]);
    assert_eq!(a["aud"], r["aud"]);
    let h = jwt::header(&t.access);
    assert_eq!(h["alg"], "EdDSA", "{h}");
    assert!(h["kid"].as_str().is_some_and(|k| !k.is_empty()), "kid: {h}");
    // A second login is another family.
    let t2 = ctx.api.login_ok(&u).await;
    assert_ne!(jwt::claims(&t2.access)["sid"], a["sid"]);
}

#[tokio::test]
async fn jwks_publishes_the_signing_key() {
    let (ctx, _, t) = Ctx::creator().await;
    let r = ctx.anonymous().get("/.well-known/jwks.json").send().await;
    r.expect(200);
    let v = r.json();
    let ks = v["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys array: {v}"));
    for k in ks {
        assert!(k.get("d").is_none(), "a private key is published: {k}");
    }
    let kid = jwt::header(&t.access)["kid"].clone();
    let k = ks
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no key with kid {kid} in {v}"));
    assert_eq!(k["kty"], "OKP", "{k}");
    assert_eq!(k["crv"], "Ed25519", "{k}");
    let x = k["x"].as_str().unwrap_or_else(|| panic!("no x: {k}"));
    assert_eq!(jwt::b64d(x).len(), 32, "x is not a 32-byte key: {k}");
    assert!(
        jwt::verify_eddsa(&t.access, x),
        "access token does not verify with the JWK"
    );
    assert!(
        jwt::verify_eddsa(&t.refresh, x),
        "refresh token does not verify with the JWK"
    );
}

#[tokio::test]
async fn an_alg_none_token_is_refused() {
    let (ctx, _, t) = Ctx::creator().await;
    let kid = jwt::header(&t.access)["kid"].as_str().map(String::from);
    let forged = jwt::unsigned(kid.as_deref(), &jwt::claims(&t.access));
    ctx.api.profile_refused(&forged).await;
    let forged_refresh = jwt::unsigned(kid.as_deref(), &jwt::claims(&t.refresh));
    ctx.api.refresh_refused(&forged_refresh).await;
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let (ctx, _, t) = Ctx::creator().await;
    let promoted = jwt::tamper(&t.access, |c| {
        c["user_type"] = json!("admin");
        c["is_staff"] = json!(true);
        c["is_superuser"] = json!(true);
    });
    ctx.api.profile_refused(&promoted).await;
    let other_user = jwt::tamper(&t.access, |c| c["user_id"] = json!(1));
    ctx.api.profile_refused(&other_user).await;
    let longer = jwt::tamper(&t.refresh, |c| {
        c["exp"] = json!(c["exp"].as_i64().unwrap_or(0) + 3600)
    });
    ctx.api.refresh_refused(&longer).await;
    // A flipped signature byte.
    let mut bad_sig = t.access.clone();
    let last = bad_sig.pop().expect("non-empty");
    bad_sig.push(if last == 'A' { 'B' } else { 'A' });
    ctx.api.profile_refused(&bad_sig).await;
    // The untouched token still works.
    ctx.api.profile(&t.access).await.expect(200);
}

#[tokio::test]
async fn an_hs256_token_signed_with_the_public_key_is_refused() {
    // Algorithm confusion: HMAC keyed with the published Ed25519 key.
    let (ctx, _, t) = Ctx::creator().await;
    let jwks = jwks(&ctx).await;
    let h = jwt::header(&t.access);
    let key = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == h["kid"]))
        .cloned()
        .unwrap_or_else(|| panic!("kid {} not in {jwks}", h["kid"]));
    let x = key["x"].as_str().unwrap_or_default();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": h["kid"]});
    for secret in [jwt::b64d(x), x.as_bytes().to_vec()] {
        let forged = jwt::sign_hs256(&header, &jwt::claims(&t.access), &secret);
        ctx.api.profile_refused(&forged).await;
    }
}

/// Tests on a server signing with HS256 and a secret the suite knows, so it
/// can forge correctly signed tokens with chosen claims.
mod hs256 {
    use super::*;

    #[tokio::test]
    async fn hs256_tokens_carry_the_configured_identity_and_jwks_is_empty() {
        let Some((ctx, _, t)) = Ctx::creator_with(ServerConfig::Hs256).await else {
            return;
        };
        assert_eq!(jwt::header(&t.access)["alg"], "HS256");
        assert!(jwt::verify_hs256(&t.access, HS256_SECRET.as_bytes()));
        assert!(jwt::verify_hs256(&t.refresh, HS256_SECRET.as_bytes()));
        let c = jwt::claims(&t.access);
        assert_eq!(c["iss"], HS256_ISSUER, "{c}");
        assert!(
            c["aud"] == HS256_AUDIENCE || c["aud"] == json!([HS256_AUDIENCE]),
            "{c}"
        );
        ctx.anonymous()
            .get("/.well-known/jwks.json")
            .send()
            .await
            .expect_body(200, &json!({"keys": []}));
    }

    #[tokio::test]
    async fn forged_claims_are_checked() {
        let Some((ctx, _, t)) = Ctx::creator_with(ServerConfig::Hs256).await else {
            return;
        };
        let base = jwt::claims(&t.access);
        // The server's own header (alg and kid), so only the claims differ.
        let header = jwt::header(&t.access);
        let sign = |c: &Value| jwt::sign_hs256(&header, c, HS256_SECRET.as_bytes());
        let now = jwt::now();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = base.clone();
            c["jti"] = json!(unique("jti"));
            f(&mut c);
            sign(&c)
        };
        // Positive control: a correctly forged token is accepted, so the
        // refusals below are about the claim, not the forging.
        ctx.api.profile(&with(&|_| {})).await.expect(200);
        let cases: Vec<(&str, String)> = vec![
            ("wrong iss", with(&|c| c["iss"] = json!("someone-else"))),
            ("wrong aud", with(&|c| c["aud"] = json!("another-api"))),
            (
                "expired",
                with(&|c| {
                    c["iat"] = json!(now - 3600);
                    c["exp"] = json!(now - 1800);
                }),
            ),
            (
                "iat in the future",
                with(&|c| {
                    c["iat"] = json!(now + 3600);
                    c["exp"] = json!(now + 7200);
                }),
            ),
            ("nbf in the future", with(&|c| c["nbf"] = json!(now + 3600))),
            (
                "token_type refresh",
                with(&|c| c["token_type"] = json!("refresh")),
            ),
            (
                "no token_type",
                with(&|c| {
                    c.as_object_mut().map(|o| o.remove("token_type"));
                }),
            ),
            (
                "unknown user",
                with(&|c| c["user_id"] = json!(2_000_000_000)),
            ),
            (
                "no exp",
                with(&|c| {
                    c.as_object_mut().map(|o| o.remove("exp"));
                }),
            ),
            (
                "wrong secret",
                jwt::sign_hs256(
                    &json!({"alg": "HS256", "typ": "JWT"}),
                    &base,
                    b"not-the-secret-not-the-secret-not-the-secret",
                ),
            ),
        ];
        for (what, token) in cases {
            let r = ctx.api.profile(&token).await;
            assert_eq!(r.status, 401, "{what}: {}", r.text());
            r.expect_error(401, "token_not_valid");
        }
    }
}

#[tokio::test]
async fn a_configured_private_key_signs_the_tokens() {
    let Some(ctx) = Ctx::with(ServerConfig::FixedKey) else {
        return;
    };
    let key = fixed_private_key().expect("keys generate");
    let secret = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_else(|e| panic!("`keys generate` did not print standard base64 ({e}): {key:?}"));
    // The contract says "a base64 Ed25519 private key": a 32-byte seed or
    // the 64-byte seed + public key form are both that.
    let pair = match secret.len() {
        32 => ed25519_compact::KeyPair::from_seed(
            ed25519_compact::Seed::from_slice(&secret).expect("seed"),
        ),
        64 => ed25519_compact::KeyPair::from_slice(&secret).expect("key pair"),
        n => panic!("an Ed25519 private key is 32 or 64 bytes, not {n}"),
    };
    let public = jwt::b64e(pair.pk.as_ref());
    let (_, t) = ctx.api.new_creator().await;
    assert!(
        jwt::verify_eddsa(&t.access, &public),
        "not signed with the configured key"
    );
    let jwks = jwks(&ctx).await;
    let kid = jwt::header(&t.access)["kid"].clone();
    let k = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == kid))
        .unwrap_or_else(|| panic!("kid {kid} not in {jwks}"));
    assert_eq!(k["x"], public.as_str(), "JWKS publishes another key");
}
