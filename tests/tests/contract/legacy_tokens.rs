//! The seed's (Django + simplejwt) tokens during the cutover
//! (docs/LEGACY_TOKENS.md): its access tokens are honoured until they
//! expire, its refresh token is exchanged for a Gatehouse pair once; after
//! the deadline, or without the key, they are invalid tokens like any other.
//!
//! Seed tokens are minted here as simplejwt does: PyJWT's HS256 header and
//! simplejwt's claims (`token_type`, `exp`, `iat`, `jti`, `user_id`),
//! signed with [`LEGACY_SIGNING_KEY`]. Blacklisted seed tokens need the
//! Django import's rows (`legacy_refresh_tokens`): the core's store tests
//! and the Django stage hold them.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// simplejwt's claims for `user_id`, living `ttl` more seconds.
fn seed_claims(token_type: &str, user_id: i64, ttl: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": now_secs() + ttl,
        "iat": now_secs(),
        "jti": unique("seedjti"),
        // simplejwt 5.5 writes the id as a string.
        "user_id": user_id.to_string(),
    })
}

fn sign(claims: &Value, key: &str) -> String {
    jwt::sign_hs256(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        key.as_bytes(),
    )
}

/// A seed token as the seed would have issued it to `user_id`.
fn seed(token_type: &str, user_id: i64) -> String {
    let ttl = if token_type == "access" {
        900
    } else {
        7 * 86400
    };
    sign(&seed_claims(token_type, user_id, ttl), LEGACY_SIGNING_KEY)
}

/// The server for `config` with a fresh client and creator, and the
/// creator's id (the user id a seed token names), or `None` when skipped.
async fn with_creator(config: ServerConfig) -> Option<(Ctx, i64)> {
    let (ctx, u, _) = Ctx::creator_with(config).await?;
    Some((ctx, u.id.expect("register answers the user's id")))
}

/// What any invalid token gets: the refusal of a token that is no JWT.
async fn invalid_answers(ctx: &Ctx) -> (Resp, Resp) {
    let refresh = ctx.api.refresh("not-a-jwt").await;
    let profile = ctx.api.profile("not-a-jwt").await;
    (refresh, profile)
}

fn same_answer(got: &Resp, invalid: &Resp) {
    assert_eq!(got.status, invalid.status, "{}", got.request);
    assert_eq!(got.json(), invalid.json(), "{}", got.request);
}

#[tokio::test]
async fn a_seed_access_token_reads_the_profile_until_it_expires() {
    let Some((ctx, id)) = with_creator(ServerConfig::Legacy).await else {
        return;
    };
    let r = ctx.api.profile(&seed("access", id)).await;
    r.expect(200);
    assert_eq!(r.json()["id"], id);
    // simplejwt before 5.5 wrote a number: the same user.
    let mut c = seed_claims("access", id, 900);
    c["user_id"] = json!(id);
    ctx.api
        .profile(&sign(&c, LEGACY_SIGNING_KEY))
        .await
        .expect(200);
    // Expired a second ago.
    let expired = sign(&seed_claims("access", id, -1), LEGACY_SIGNING_KEY);
    ctx.api.profile_refused(&expired).await;
    // A seed refresh token is no access token.
    ctx.api.profile_refused(&seed("refresh", id)).await;
}

#[tokio::test]
async fn a_seed_refresh_token_is_exchanged_once() {
    let Some((ctx, id)) = with_creator(ServerConfig::Legacy).await else {
        return;
    };
    let old = seed("refresh", id);
    let pair = ctx.api.refresh_ok(&old).await;
    // A Gatehouse pair: its own claims, for this user, rotating as usual.
    let claims = jwt::claims(&pair.refresh);
    assert_eq!(claims["token_type"], "refresh");
    assert!(claims.get("sid").is_some(), "{claims}");
    assert_eq!(jwt::header(&pair.access)["alg"], "EdDSA");
    assert_eq!(ctx.api.profile(&pair.access).await.json()["id"], id);
    ctx.api.refresh(&pair.refresh).await.expect(200);
    // The seed token is spent.
    ctx.api.refresh_refused(&old).await;
    // A seed access token is not a refresh token.
    ctx.api.refresh_refused(&seed("access", id)).await;
}

#[tokio::test]
async fn the_exchange_opens_a_login_only_through_a_client_serving_the_user() {
    let Some((ctx, id)) = with_creator(ServerConfig::Legacy).await else {
        return;
    };
    let token = seed("refresh", id);
    let (_, staff_only) = ctx.client(&ClientSpec::web().serves("staff"));
    staff_only
        .refresh(&token)
        .await
        .expect_error(403, "user_type_not_allowed");
    // Refused, not spent: a client serving creators gets the pair.
    ctx.api.refresh(&token).await.expect(200);
}

#[tokio::test]
async fn an_exchange_race_has_one_winner() {
    let Some((ctx, id)) = with_creator(ServerConfig::Legacy).await else {
        return;
    };
    let token = seed("refresh", id);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let api = ctx.api.clone();
        let token = token.clone();
        tasks.spawn(async move { api.refresh(&token).await });
    }
    let mut statuses = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("task");
        if r.status != 200 {
            r.expect_error(401, "token_not_valid");
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
}

/// Seed-like tokens of `token_type` that must be refused: expired, another
/// key, an unknown user, a Gatehouse-shaped token signed HS256 with the
/// seed's key (the legacy path takes only the seed's claims, and nothing
/// else takes HS256), the seed's claims unsigned.
fn refused(token_type: &str, id: i64, gatehouse: &str) -> Vec<String> {
    let mut gatehouse_claims = jwt::claims(gatehouse);
    gatehouse_claims["user_id"] = json!(id);
    gatehouse_claims["token_type"] = json!(token_type);
    let kid = jwt::header(gatehouse)["kid"].clone();
    vec![
        sign(&seed_claims(token_type, id, -1), LEGACY_SIGNING_KEY),
        sign(
            &seed_claims(token_type, id, 3600),
            "not-the-seed-key-0123456789abcdef",
        ),
        seed(token_type, 2_000_000_000),
        jwt::sign_hs256(
            &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
            &gatehouse_claims,
            LEGACY_SIGNING_KEY.as_bytes(),
        ),
        sign(&gatehouse_claims, LEGACY_SIGNING_KEY),
        jwt::unsigned(None, &seed_claims(token_type, id, 3600)),
    ]
}

#[tokio::test]
async fn forged_expired_and_foreign_seed_tokens_are_refused() {
    let Some((ctx, u, mine)) = Ctx::creator_with(ServerConfig::Legacy).await else {
        return;
    };
    let id = u.id.expect("register answers the user's id");
    let (invalid_refresh, invalid_profile) = invalid_answers(&ctx).await;
    for token in refused("refresh", id, &mine.refresh) {
        same_answer(&ctx.api.refresh(&token).await, &invalid_refresh);
    }
    for token in refused("access", id, &mine.access) {
        same_answer(&ctx.api.profile(&token).await, &invalid_profile);
    }
    // Nothing above opened a login or spent anything: the user's own
    // Gatehouse login still rotates.
    ctx.api.refresh(&mine.refresh).await.expect(200);
}

#[tokio::test]
async fn after_the_deadline_seed_tokens_are_invalid_tokens() {
    let Some((ctx, id)) = with_creator(ServerConfig::LegacyAfterDeadline).await else {
        return;
    };
    let (invalid_refresh, invalid_profile) = invalid_answers(&ctx).await;
    same_answer(
        &ctx.api.refresh(&seed("refresh", id)).await,
        &invalid_refresh,
    );
    same_answer(
        &ctx.api.profile(&seed("access", id)).await,
        &invalid_profile,
    );
}

#[tokio::test]
async fn without_the_key_seed_tokens_are_invalid_tokens_even_under_hs256() {
    // A deployment signing with HS256 but without the seed's key: the seed's
    // tokens, even signed with its own secret, are invalid tokens.
    let Some((ctx, id)) = with_creator(ServerConfig::Hs256).await else {
        return;
    };
    let (invalid_refresh, invalid_profile) = invalid_answers(&ctx).await;
    for key in [LEGACY_SIGNING_KEY, HS256_SECRET] {
        let refresh = sign(&seed_claims("refresh", id, 3600), key);
        same_answer(&ctx.api.refresh(&refresh).await, &invalid_refresh);
        let access = sign(&seed_claims("access", id, 900), key);
        same_answer(&ctx.api.profile(&access).await, &invalid_profile);
    }
}
