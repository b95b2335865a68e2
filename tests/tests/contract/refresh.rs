//! `POST /api/auth/token/refresh/`: rotation, replay, client binding, races.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::json;

#[tokio::test]
async fn refresh_rotates_the_pair_and_kills_the_old_token() {
    let (ctx, _, a) = Ctx::creator().await;
    let r = ctx.api.refresh(&a.refresh).await;
    r.expect(200);
    let v = r.json();
    assert_eq!(keys(&v), ["access", "refresh"], "{v}");
    let b = Tokens::from_json(&v);
    assert_ne!(b.refresh, a.refresh);
    assert_ne!(b.access, a.access);
    let (ca, cb) = (jwt::claims(&a.refresh), jwt::claims(&b.refresh));
    assert_eq!(cb["token_type"], "refresh");
    assert_eq!(jwt::claims(&b.access)["token_type"], "access");
    assert_ne!(
        ca["jti"], cb["jti"],
        "a rotated refresh token needs a new jti"
    );
    assert_eq!(ca["sid"], cb["sid"], "rotation stays in the login's family");
    ctx.api.profile(&b.access).await.expect(200);
    // Once the next rotation spent B, A is two rotations old: dead at any
    // reuse grace (the grace is for B, the parent, briefly).
    let c = ctx.api.refresh(&b.refresh).await;
    c.expect(200);
    ctx.api.refresh_refused(&a.refresh).await;
}

/// With the reuse grace off, the spent token presented again at once is a
/// replay. (With a grace, `refresh_grace.rs` holds the same after the
/// window, and for older tokens at any time.)
#[tokio::test]
async fn replaying_a_rotated_token_revokes_the_family() {
    let Some((ctx, u, a)) = Ctx::creator_with(ServerConfig::NoReuseGrace).await else {
        return;
    };
    let other_login = ctx.api.login_ok(&u).await;
    let b = ctx.api.refresh_ok(&a.refresh).await;
    // A presented again: replay.
    ctx.api.refresh_refused(&a.refresh).await;
    // B belonged to the same family: dead too.
    ctx.api.refresh_refused(&b.refresh).await;
    // Another login of the same user is another family: unaffected.
    ctx.api.refresh(&other_login.refresh).await.expect(200);
}

#[tokio::test]
async fn the_exact_token_not_valid_body() {
    let ctx = Ctx::new();
    ctx.api.refresh("not-a-jwt").await.expect_body(
        401,
        &json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
    );
}

#[tokio::test]
async fn refresh_requires_the_field() {
    let ctx = Ctx::new();
    for (body, message) in [
        (json!({}), "This field is required."),
        (json!({"refresh": ["x"]}), "Not a valid string."),
        (json!({"refresh": ""}), "This field may not be blank."),
    ] {
        ctx.api
            .post_json("/api/auth/token/refresh/", &body)
            .await
            .expect_fields(&[("refresh", Some(message))]);
    }
}

#[tokio::test]
async fn an_access_token_is_not_a_refresh_token() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api.refresh_refused(&t.access).await;
}

#[tokio::test]
async fn a_refresh_token_is_not_a_bearer_token() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api.profile_refused(&t.refresh).await;
}

#[tokio::test]
async fn a_refresh_token_only_works_with_its_own_clients_key() {
    let (ctx, _, t) = Ctx::creator().await;
    let (_, other) = ctx.client(&ClientSpec::web());
    other.refresh_refused(&t.refresh).await;
}

/// With the reuse grace off, of two concurrent refreshes of one token one
/// wins; the other is refused. (With a grace both get the same new token:
/// `refresh_grace.rs`.)
#[tokio::test]
async fn concurrent_refreshes_of_one_token_let_exactly_one_through() {
    let Some((ctx, u, _)) = Ctx::creator_with(ServerConfig::NoReuseGrace).await else {
        return;
    };
    for round in 0..5 {
        let t = ctx.api.login_ok(&u).await;
        let (r1, r2) = tokio::join!(ctx.api.refresh(&t.refresh), ctx.api.refresh(&t.refresh));
        let mut statuses = [r1.status, r2.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 401],
            "round {round}: {} / {}",
            r1.text(),
            r2.text()
        );
        let loser = if r1.status == 401 { &r1 } else { &r2 };
        loser.expect_error(401, "token_not_valid");
    }
}
