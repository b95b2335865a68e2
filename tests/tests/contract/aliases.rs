//! Every auth endpoint also answers under `/api/v1/`.

use crate::register::assert_user_shape;
use gatehouse_contract::harness::*;
use http::Method;
use serde_json::json;

/// POSTs `body` to `/api/v1/auth/{path}`.
async fn post_v1(ctx: &Ctx, path: &str, body: &serde_json::Value) -> Resp {
    let path = format!("/api/v1/auth/{path}");
    ctx.api.post_json(&path, body).await
}

#[tokio::test]
async fn the_whole_flow_works_under_api_v1() {
    let (ctx, u) = Ctx::with_fresh_user();
    let r = post_v1(&ctx, "register/", &u.register_body()).await;
    r.expect(201);
    assert_user_shape(&r.json()["user"]);

    let r = post_v1(
        &ctx,
        "token/",
        &json!({"email": u.email, "password": u.password}),
    )
    .await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());

    let r = post_v1(&ctx, "token/refresh/", &json!({"refresh": t.refresh})).await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());

    let r = ctx.api.get_as("/api/v1/auth/profile/", &t.access).await;
    r.expect(200);
    assert_user_shape(&r.json());
    for m in [Method::PATCH, Method::PUT] {
        ctx.api
            .send_as(
                m,
                "/api/v1/auth/profile/",
                &t.access,
                &json!({"username": unique("v1"), "first_name": "V", "last_name": "One"}),
            )
            .await
            .expect(200);
    }

    let new_pw = "Version-One-Pass-77";
    let r = ctx
        .api
        .post_as(
            "/api/v1/auth/change-password/",
            &t.access,
            &json!({"old_password": u.password, "new_password": new_pw, "new_password2": new_pw}),
        )
        .await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());

    ctx.api
        .post_as(
            "/api/v1/auth/logout/",
            &t.access,
            &json!({"refresh": t.refresh}),
        )
        .await
        .expect_body(200, &json!({}));
    ctx.api.refresh_refused(&t.refresh).await;
}

#[tokio::test]
async fn api_v1_applies_the_same_gatekeeping() {
    let ctx = Ctx::new();
    ctx.anonymous()
        .post_json(
            "/api/v1/auth/token/",
            &json!({"email": unique_email(), "password": GOOD_PASSWORD}),
        )
        .await
        .expect_error(401, "api_key_missing");
    ctx.api
        .get("/api/v1/auth/token/")
        .send()
        .await
        .expect_error(405, "method_not_allowed");
}
