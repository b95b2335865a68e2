//! Email verification (docs/CONTRACT.md, "The email flows"): register →
//! the mail → its link verifies once; resend; a client that requires a
//! verified email; Gatehouse's own verification page. The mail tests skip
//! where the run has no mail capture.

use gatehouse_contract::harness::*;
use gatehouse_contract::mailbox;
use serde_json::json;

#[tokio::test]
async fn a_registration_mails_a_link_that_verifies_once() {
    let Some((ctx, u, t)) = mailbox::creator().await else {
        return;
    };
    assert_eq!(
        ctx.api.profile(&t.access).await.json()["email_verified"],
        false
    );
    let mail = mailbox::last_mail_to(&u.email).await.expect("the mail");
    assert_eq!(mail.subject, "Confirm your email address");
    assert!(
        mail.link().unwrap().contains("/auth/verify/?token="),
        "{}",
        mail.text
    );
    let token = mail.token();
    let verify = || {
        ctx.api
            .post("/api/auth/email/verify/")
            .json(&json!({ "token": token }))
            .send()
    };
    verify().await.expect_body(
        200,
        &json!({"detail": "Email verified.", "email_verified": true}),
    );
    verify().await.expect_error(400, "invalid_token");
    let p = ctx.api.profile(&t.access).await.json();
    assert_eq!(p["email_verified"], true);
    assert!(p["email_verified_at"].is_string(), "{p}");
    ctx.api
        .post_empty_as("/api/auth/email/verify/resend/", &t.access)
        .await
        .expect_error(400, "already_verified");
}

#[tokio::test]
async fn a_resend_mails_a_new_link_and_the_older_one_stops_working() {
    let Some((ctx, u, t)) = mailbox::creator().await else {
        return;
    };
    let first = mailbox::last_mail_to(&u.email).await.unwrap();
    ctx.api
        .post_empty_as("/api/auth/email/verify/resend/", &t.access)
        .await
        .expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    let second = mails.last().unwrap();
    ctx.api
        .post_token("/api/auth/email/verify/", &first.token())
        .await
        .expect_error(400, "invalid_token");
    ctx.api
        .post_token("/api/auth/email/verify/", &second.token())
        .await
        .expect(200);
}

#[tokio::test]
async fn a_client_requiring_verified_emails_refuses_the_right_password_until_verified() {
    let Some((strict, u)) =
        mailbox::creator_on(&ClientSpec::web_with(&["--require-verified-email"])).await
    else {
        return;
    };
    strict
        .login(&u.email, &u.password)
        .await
        .expect_error(403, "email_not_verified");
    strict
        .login(&u.email, "Wrong-Password-42")
        .await
        .expect_error(401, "no_active_account");
    let mail = mailbox::last_mail_to(&u.email).await.unwrap();
    strict
        .post_token("/api/auth/email/verify/", &mail.token())
        .await
        .expect(200);
    strict.login_ok(&u).await;
}

#[tokio::test]
async fn bad_tokens_are_a_clear_400() {
    let ctx = Ctx::new();
    for token in ["x", "not a token at all", &"A".repeat(43), &"é".repeat(43)] {
        for path in ["/api/auth/email/verify/", "/api/auth/email/change/confirm/"] {
            ctx.api
                .post_token(path, token)
                .await
                .expect_error(400, "invalid_token");
        }
    }
    for body in [
        json!({}),
        json!({"token": 42}),
        json!({"token": null}),
        json!({"token": ["x"]}),
    ] {
        let r = ctx.api.post_json("/api/auth/email/verify/", &body).await;
        r.expect(400);
        assert_eq!(keys(&r.json()), ["token"], "{body}: {}", r.text());
    }
    let huge = ctx
        .api
        .post_token("/api/auth/email/verify/", &"a".repeat(10_000))
        .await;
    assert!([400, 413].contains(&huge.status), "{}", huge.text());
}

#[tokio::test]
async fn gatehouse_pages_show_a_form_and_refuse_a_bad_token() {
    let ctx = Ctx::new();
    let anon = Api::anonymous(ctx.server);
    for path in ["/auth/reset/", "/auth/verify/", "/auth/email-change/"] {
        let r = anon.get(&format!("{path}?token=abc")).no_key().send().await;
        r.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        let page = r.text();
        assert!(
            page.contains("<form method=\"post\">") && !page.contains("<script"),
            "{page}"
        );
        let bad = anon
            .post(path)
            .no_key()
            .header("content-type", "application/x-www-form-urlencoded")
            .body("token=abc&password=x&password2=x")
            .send()
            .await;
        bad.expect(400);
        assert!(
            bad.text().contains("invalid or has expired"),
            "{}",
            bad.text()
        );
        let r = anon.req(http::Method::DELETE, path).no_key().send().await;
        r.expect(405);
    }
}
