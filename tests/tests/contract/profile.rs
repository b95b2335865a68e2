//! `GET`, `PATCH`, `PUT /api/auth/profile/`.

use crate::register::{assert_fresh_creator, assert_names, is_rfc3339};
use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::json;

#[tokio::test]
async fn get_profile_returns_the_user() {
    let (ctx, u, _) = Ctx::creator().await;
    let t = ctx.api.login_ok(&u).await;
    let r = ctx.api.profile(&t.access).await;
    r.expect(200);
    let p = r.json();
    assert_fresh_creator(&p, &u);
    assert_eq!(p["id"], json!(u.id));
    let joined = p["date_joined"].as_str().unwrap_or_default();
    let last = p["last_login"].as_str();
    assert!(
        last.is_some_and(is_rfc3339),
        "last_login must be set after a login: {p}"
    );
    // Both in UTC "Z" or with the same offset, they compare as text too;
    // compare only the date part to stay format-agnostic.
    assert!(
        last.unwrap_or_default()[..10] >= joined[..10],
        "last_login before date_joined: {p}"
    );
}

#[tokio::test]
async fn profile_needs_authentication() {
    let ctx = Ctx::new();
    ctx.api
        .get("/api/auth/profile/")
        .send()
        .await
        .expect_error(401, "not_authenticated");
    ctx.api.profile_refused("garbage").await;
}

#[tokio::test]
async fn patch_changes_the_writable_fields() {
    let (ctx, _, t) = Ctx::creator().await;
    let new_name = unique("renamed");
    let r = ctx
        .api
        .patch_profile(
            &t.access,
            &json!({"username": new_name, "first_name": "Katherine", "last_name": "Johnson"}),
        )
        .await;
    r.expect(200);
    let p = r.json();
    assert_names(&p, &new_name, "Katherine", "Johnson");
    let g = ctx.api.profile(&t.access).await;
    g.expect(200);
    assert_eq!(g.json(), p, "GET after PATCH");
    // A partial update touches only what it names.
    let r = ctx
        .api
        .patch_profile(&t.access, &json!({"last_name": "Goble"}))
        .await;
    r.expect(200);
    let p2 = r.json();
    assert_eq!(p2["last_name"], "Goble");
    assert_eq!(p2["first_name"], "Katherine");
    assert_eq!(p2["username"], new_name.as_str());
}

#[tokio::test]
async fn patch_ignores_read_only_fields() {
    let (ctx, u, t) = Ctx::creator().await;
    let before = ctx.api.profile(&t.access).await.json();
    let r = ctx
        .api
        .patch_profile(
            &t.access,
            &json!({
                "first_name": "Changed",
                "user_type": "admin",
                "is_staff": true,
                "is_superuser": true,
                "is_active": false,
                "id": 987654321,
                "email": unique_email(),
                "date_joined": "2000-01-01T00:00:00Z",
                "last_login": "2000-01-01T00:00:00Z",
            }),
        )
        .await;
    r.expect(200);
    let after = ctx.api.profile(&t.access).await;
    after.expect(200);
    let after = after.json();
    assert_eq!(after["first_name"], "Changed");
    for k in [
        "id",
        "email",
        "user_type",
        "is_staff",
        "is_superuser",
        "date_joined",
    ] {
        assert_eq!(after[k], before[k], "read-only `{k}` changed: {after}");
    }
    assert_ne!(after["last_login"], "2000-01-01T00:00:00Z");
    // Logging in again with the original email works (email unchanged,
    // is_active ignored), and the new token still says creator.
    let t2 = ctx.api.login_ok(&u).await;
    let c = jwt::claims(&t2.access);
    assert_eq!(c["user_type"], "creator", "{c}");
    assert_eq!(c["is_staff"], false, "{c}");
    assert_eq!(c["is_superuser"], false, "{c}");
    assert_eq!(c["user_id"], before["id"], "{c}");
}

#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let (ctx, _, t) = Ctx::creator().await;
    let before = ctx.api.profile(&t.access).await.json();
    let r = ctx.api.patch_profile(&t.access, &json!({})).await;
    r.expect(200);
    assert_eq!(r.json(), before);
    ctx.api
        .patch_profile(&t.access, &json!([{"first_name": "x"}]))
        .await
        .expect_body(
            400,
            &json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        );
}

#[tokio::test]
async fn put_requires_all_three_writable_fields() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api
        .put_profile(&t.access, &json!({"first_name": "Only"}))
        .await
        .expect_fields(&[
            ("username", Some("This field is required.")),
            ("last_name", Some("This field is required.")),
        ]);
    let name = unique("put");
    let r = ctx
        .api
        .put_profile(
            &t.access,
            &json!({"username": name, "first_name": "Mary", "last_name": "Jackson", "is_staff": true}),
        )
        .await;
    r.expect(200);
    let p = r.json();
    assert_names(&p, &name, "Mary", "Jackson");
    assert_eq!(p["is_staff"], false);
}

#[tokio::test]
async fn patch_rejects_a_taken_or_blank_username() {
    let (ctx, other, _) = Ctx::creator().await;
    let (_, t) = ctx.api.new_creator().await;
    ctx.api
        .patch_profile(&t.access, &json!({"username": other.username}))
        .await
        .expect_body(
            400,
            &json!({"username": ["A user with that username already exists."]}),
        );
    ctx.api
        .patch_profile(&t.access, &json!({"username": ""}))
        .await
        .expect_fields(&[("username", Some("This field may not be blank."))]);
    ctx.api
        .patch_profile(&t.access, &json!({"first_name": ["x"]}))
        .await
        .expect_fields(&[("first_name", Some("Not a valid string."))]);
}

#[tokio::test]
async fn patch_rejects_a_case_or_fullwidth_variant_of_a_taken_username() {
    let (ctx, other, _) = Ctx::creator().await;
    let (me, t) = ctx.api.new_creator().await;
    for copy in [
        other.username.to_uppercase(),
        crate::register::fullwidth(&other.username),
    ] {
        for put in [false, true] {
            let b = json!({"username": copy, "first_name": "A", "last_name": "B"});
            let r = if put {
                ctx.api.put_profile(&t.access, &b).await
            } else {
                ctx.api.patch_profile(&t.access, &b).await
            };
            r.expect_body(
                400,
                &json!({"username": ["A user with that username already exists."]}),
            );
        }
    }
    // Nothing changed.
    let p = ctx.api.profile(&t.access).await.json();
    assert_eq!(p["username"], json!(me.username));
    assert_eq!(p["first_name"], "Ada");
}

#[tokio::test]
async fn patch_stores_the_username_nfkc_and_may_change_its_own_case() {
    let (ctx, me, t) = Ctx::creator().await;
    // One's own name in another case is not "taken".
    let upper = me.username.to_uppercase();
    let r = ctx
        .api
        .patch_profile(&t.access, &json!({"username": upper}))
        .await;
    r.expect(200);
    assert_eq!(r.json()["username"], json!(upper));
    // A fullwidth name is stored as NFKC, and keeps its uniqueness.
    let name = unique("Wide");
    let r = ctx
        .api
        .patch_profile(
            &t.access,
            &json!({"username": crate::register::fullwidth(&name)}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["username"], json!(name));
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(name.to_lowercase());
    ctx.api.register(&b).await.expect_body(
        400,
        &json!({"username": ["A user with that username already exists."]}),
    );
    // The old name is free again, in any case.
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(me.username.to_uppercase());
    ctx.api.register(&b).await.expect(201);
}

#[tokio::test]
async fn patch_refuses_a_username_that_mixes_scripts() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api
        .patch_profile(&t.access, &json!({"username": format!("p\u{0430}ypal{}", unique(""))}))
        .await
        .expect_body(
            400,
            &json!({"username": ["Enter a valid username. It may not mix letters of different scripts."]}),
        );
}
