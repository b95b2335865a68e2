//! `POST /api/auth/change-password/`.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "Fresh-Lantern-84-Orbit";

/// A change-password body.
fn body(old: &str, new: &str, new2: &str) -> Value {
    json!({"old_password": old, "new_password": new, "new_password2": new2})
}

/// A fresh creator's change with `body_for(user)` is refused with 400 and
/// `expected`, and the old password still logs in.
async fn refused_400(body_for: impl Fn(&TestUser) -> Value, expected: Value) {
    let (ctx, u, t) = Ctx::creator().await;
    ctx.api
        .change_password(&t.access, &body_for(&u))
        .await
        .expect_body(400, &expected);
    ctx.api.login_ok(&u).await;
}

#[tokio::test]
async fn a_wrong_old_password_is_400() {
    refused_400(
        |_| body("Not-It-123x", NEW_PASSWORD, NEW_PASSWORD),
        json!({"old_password": ["Old password is not correct."]}),
    )
    .await;
}

#[tokio::test]
async fn mismatched_new_passwords_are_400() {
    refused_400(
        |u| body(&u.password, NEW_PASSWORD, "Fresh-Lantern-84-Orbiz"),
        json!({"new_password": ["Password fields didn't match."]}),
    )
    .await;
}

#[tokio::test]
async fn the_new_password_passes_the_validators() {
    let (ctx, u, t) = Ctx::creator().await;
    let r = ctx
        .api
        .change_password(&t.access, &body(&u.password, "qwerty123", "qwerty123"))
        .await;
    r.expect(400);
    let v = r.json();
    assert_eq!(keys(&v), ["new_password"], "{v}");
    assert!(
        field_messages(&v, "new_password")
            .iter()
            .any(|m| m.to_lowercase().contains("common")),
        "{v}"
    );
    // Similar to the user's own username: the validators see the user.
    let similar = format!("{}!", u.username);
    let r = ctx
        .api
        .change_password(&t.access, &body(&u.password, &similar, &similar))
        .await;
    r.expect(400);
    let v = r.json();
    assert!(
        field_messages(&v, "new_password")
            .iter()
            .any(|m| m.to_lowercase().contains("similar")),
        "{v}"
    );
    ctx.api.login_ok(&u).await;
}

#[tokio::test]
async fn change_password_requires_its_fields() {
    let (ctx, _, t) = Ctx::creator().await;
    let r = ctx.api.change_password(&t.access, &json!({})).await;
    for f in ["old_password", "new_password", "new_password2"] {
        r.expect_field_has(f, "This field is required.");
    }
}

#[tokio::test]
async fn change_password_needs_authentication() {
    let ctx = Ctx::new();
    ctx.api
        .post_json(
            "/api/auth/change-password/",
            &body(GOOD_PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await
        .expect_error(401, "not_authenticated");
}

#[tokio::test]
async fn change_password_swaps_passwords_and_revokes_every_refresh_token() {
    let (ctx, u, first) = Ctx::creator().await;
    let second = ctx.api.login_ok(&u).await;
    let r = ctx
        .api
        .change_password(
            &first.access,
            &body(&u.password, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    r.expect(200);
    let v = r.json();
    assert_eq!(keys(&v), ["access", "detail", "refresh"], "{v}");
    assert_eq!(v["detail"], "Password changed.");
    let fresh = Tokens::from_json(&v);
    let c = jwt::claims(&fresh.access);
    assert_eq!(c["client_id"], ctx.creds.client_id.as_str(), "{c}");
    assert_eq!(c["user_id"], json!(u.id), "{c}");

    // Old password out, new one in.
    ctx.api
        .login(&u.email, &u.password)
        .await
        .expect_error(401, "no_active_account");
    let new_user = TestUser {
        password: NEW_PASSWORD.into(),
        ..u.clone()
    };
    ctx.api.login_ok(&new_user).await;

    // Every refresh token from before is dead…
    for old in [&first.refresh, &second.refresh] {
        ctx.api.refresh_refused(old).await;
    }
    // …and the returned pair works.
    ctx.api.profile(&fresh.access).await.expect(200);
    ctx.api.refresh(&fresh.refresh).await.expect(200);
}

#[tokio::test]
async fn change_password_refuses_a_whitespace_only_new_password() {
    let (ctx, u, t) = Ctx::creator().await;
    let blank = " ".repeat(12);
    ctx.api
        .change_password(&t.access, &body(&u.password, &blank, &blank))
        .await
        .expect_body(
            400,
            &json!({"new_password": ["This field may not be blank."]}),
        );
    // The password did not change.
    ctx.api.login_ok(&u).await;
}
