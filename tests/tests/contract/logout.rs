//! `POST /api/auth/logout/`.

use gatehouse_contract::harness::*;
use serde_json::json;

#[tokio::test]
async fn logout_returns_an_empty_object_and_kills_the_refresh_token() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api
        .logout(&t.access, &t.refresh)
        .await
        .expect_body(200, &json!({}));
    ctx.api.refresh_refused(&t.refresh).await;
}

#[tokio::test]
async fn logout_revokes_the_whole_login_and_only_it() {
    let (ctx, u, first) = Ctx::creator().await;
    let second = ctx.api.login_ok(&u).await;
    // Rotate once, then log out with the newest token of the first login.
    let rotated = ctx.api.refresh_ok(&first.refresh).await;
    ctx.api
        .logout(&rotated.access, &rotated.refresh)
        .await
        .expect(200);
    ctx.api.refresh_refused(&rotated.refresh).await;
    // The other login is untouched.
    ctx.api.refresh(&second.refresh).await.expect(200);
}

#[tokio::test]
async fn logout_with_another_users_refresh_token_is_403() {
    let (ctx, _, mine) = Ctx::creator().await;
    let (_, theirs) = ctx.api.new_creator().await;
    ctx.api
        .logout(&mine.access, &theirs.refresh)
        .await
        .expect_error(403, "token_not_owned");
    // Their token was not revoked by the refused request.
    ctx.api.refresh(&theirs.refresh).await.expect(200);
}

#[tokio::test]
async fn logout_without_authentication_is_401() {
    let (ctx, _, t) = Ctx::creator().await;
    let r = ctx
        .api
        .post_json("/api/auth/logout/", &json!({"refresh": t.refresh}))
        .await;
    r.expect_body(
        401,
        &json!({"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}),
    );
    // The token survives.
    ctx.api.refresh(&t.refresh).await.expect(200);
}

#[tokio::test]
async fn logout_requires_the_refresh_field() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api
        .post_as("/api/auth/logout/", &t.access, &json!({}))
        .await
        .expect_fields(&[("refresh", Some("This field is required."))]);
    ctx.api
        .post_as("/api/auth/logout/", &t.access, &json!({"refresh": ["x"]}))
        .await
        .expect_fields(&[("refresh", Some("Not a valid string."))]);
}

#[tokio::test]
async fn logout_with_an_invalid_refresh_token_is_401() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api
        .logout(&t.access, "garbage.token.here")
        .await
        .expect_error(401, "token_not_valid");
    // An access token in the refresh field is not a refresh token.
    ctx.api
        .logout(&t.access, &t.access)
        .await
        .expect_error(401, "token_not_valid");
}
