//! Email change (docs/CONTRACT.md, "The email flows"): a link to the new
//! address and a notice to the old; confirm; uniqueness at confirm. Skips
//! where the run has no mail capture.

use gatehouse_contract::harness::*;
use gatehouse_contract::mailbox;
use serde_json::json;

#[tokio::test]
async fn an_email_change_is_confirmed_from_the_new_address() {
    let Some((ctx, u, t)) = mailbox::creator().await else {
        return;
    };
    let new_email = unique_email();
    let change = |password: &str| {
        ctx.api
            .post("/api/auth/email/change/")
            .bearer(&t.access)
            .json(&json!({"new_email": new_email, "password": password}))
            .send()
    };
    let wrong = change("Wrong-Password-42").await;
    wrong.expect(400);
    assert_eq!(keys(&wrong.json()), ["password"], "{}", wrong.text());
    change(&u.password).await.expect(202);
    let link = mailbox::last_mail_to(&new_email).await.unwrap();
    let old = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    assert!(old
        .iter()
        .any(|m| m.subject == "Your email address is being changed"));
    ctx.api
        .post_token("/api/auth/email/change/confirm/", &link.token())
        .await
        .expect_body(
            200,
            &json!({"detail": "Email changed.", "email": new_email}),
        );
    ctx.api.login(&new_email, &u.password).await.expect(200);
    ctx.api.login(&u.email, &u.password).await.expect(401);
    assert_eq!(
        ctx.api.profile(&t.access).await.json()["email_verified"],
        true
    );
}

#[tokio::test]
async fn an_address_taken_before_the_confirmation_is_refused() {
    let Some((ctx, u, t)) = mailbox::creator().await else {
        return;
    };
    let other = TestUser::fresh();
    ctx.api
        .post_as(
            "/api/auth/email/change/",
            &t.access,
            &json!({"new_email": other.email, "password": u.password}),
        )
        .await
        .expect(202);
    let link = mailbox::last_mail_to(&other.email).await.unwrap();
    ctx.api.register(&other.register_body()).await.expect(201);
    let r = ctx
        .api
        .post_token("/api/auth/email/change/confirm/", &link.token())
        .await;
    r.expect(400);
    assert_eq!(keys(&r.json()), ["email"], "{}", r.text());
    ctx.api.login_ok(&u).await;
}
