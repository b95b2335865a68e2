//! Password reset (docs/CONTRACT.md, "The email flows"): request → the mail
//! → confirm → the old password refused, the new one works, old logins
//! dead; the same answer for unknown addresses; single use under
//! concurrency. Mail tests skip where the run has no mail capture.

use super::email_verification::no_mailbox;
use gatehouse_contract::harness::*;
use gatehouse_contract::mailbox;
use serde_json::json;

const NEW_PASSWORD: &str = "Fresh-Lantern-84-Orbit";

async fn request(api: &Api, email: &str) -> Resp {
    api.post("/api/auth/password/reset/")
        .json(&json!({ "email": email }))
        .send()
        .await
}

async fn confirm(api: &Api, token: &str, password: &str) -> Resp {
    api.post("/api/auth/password/reset/confirm/")
        .json(&json!({"token": token, "password": password, "password2": password}))
        .send()
        .await
}

#[tokio::test]
async fn a_reset_link_sets_the_password_and_ends_every_login() {
    if no_mailbox("a_reset_link_sets_the_password_and_ends_every_login").await {
        return;
    }
    let ctx = Ctx::new();
    let (u, t) = ctx.api.new_creator().await;
    mailbox::wait_for_mails(&u.email, 1).await.unwrap();
    let started = std::time::Instant::now();
    request(&ctx.api, &u.email.to_uppercase()).await.expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    eprintln!(
        "MEASURE reset: request to the mail's arrival took {} ms",
        started.elapsed().as_millis()
    );
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject == "Reset your password")
        .expect("the reset mail");
    let token = mail.link_param("token").expect("a token");
    confirm(&ctx.api, &token, NEW_PASSWORD)
        .await
        .expect_body(200, &json!({"detail": "Your password has been reset."}));
    ctx.api
        .login(&u.email, &u.password)
        .await
        .expect_error(401, "no_active_account");
    ctx.api.login(&u.email, NEW_PASSWORD).await.expect(200);
    ctx.api.refresh(&t.refresh).await.expect(401);
    confirm(&ctx.api, &token, "Another-Lantern-84-Orbit")
        .await
        .expect_error(400, "invalid_token");
    let notice = mailbox::wait_for_mails(&u.email, 3).await.unwrap();
    assert!(notice
        .iter()
        .any(|m| m.subject == "Your password was reset"));
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let ctx = Ctx::new();
    let (u, _) = ctx.api.new_creator().await;
    let known = request(&ctx.api, &u.email).await;
    let unknown_email = unique_email();
    let unknown = request(&ctx.api, &unknown_email).await;
    // 202 where mail is on, 503 `mail_not_configured` where it is off: the
    // same for both either way.
    assert!([202, 503].contains(&known.status), "{}", known.text());
    assert_eq!(
        (unknown.status, unknown.json()),
        (known.status, known.json())
    );
    if let Ok(mails) = mailbox::mails_to(&unknown_email).await {
        assert!(mails.is_empty());
    }
}

#[tokio::test]
async fn two_concurrent_confirms_of_one_link_have_one_winner() {
    if no_mailbox("two_concurrent_confirms_of_one_link_have_one_winner").await {
        return;
    }
    let ctx = Ctx::new();
    let (u, _) = ctx.api.new_creator().await;
    request(&ctx.api, &u.email).await.expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    let token = mails
        .iter()
        .rev()
        .find(|m| m.subject == "Reset your password")
        .and_then(|m| m.link_param("token"))
        .unwrap();
    let (a, b) = tokio::join!(
        confirm(&ctx.api, &token, NEW_PASSWORD),
        confirm(&ctx.api, &token, "Another-Lantern-84-Orbit")
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} / {}", a.text(), b.text());
}

#[tokio::test]
async fn a_weak_new_password_gets_the_register_errors() {
    if no_mailbox("a_weak_new_password_gets_the_register_errors").await {
        return;
    }
    let ctx = Ctx::new();
    let (u, _) = ctx.api.new_creator().await;
    request(&ctx.api, &u.email).await.expect(202);
    let mails = mailbox::wait_for_mails(&u.email, 2).await.unwrap();
    let token = mails
        .iter()
        .rev()
        .find(|m| m.subject == "Reset your password")
        .and_then(|m| m.link_param("token"))
        .unwrap();
    let r = confirm(&ctx.api, &token, "qwerty123").await;
    r.expect(400);
    assert_eq!(keys(&r.json()), ["password"], "{}", r.text());
    // The token survives a refused password.
    confirm(&ctx.api, &token, NEW_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn bad_confirm_input_is_a_clear_400() {
    let ctx = Ctx::new();
    for body in [
        json!({"token": "x", "password": NEW_PASSWORD, "password2": NEW_PASSWORD}),
        json!({"token": "A".repeat(43), "password": NEW_PASSWORD, "password2": NEW_PASSWORD}),
    ] {
        let r = ctx
            .api
            .post("/api/auth/password/reset/confirm/")
            .json(&body)
            .send()
            .await;
        // 503 where mail is off (the confirm sends a notice).
        assert!([400, 503].contains(&r.status), "{}", r.text());
    }
    let r = ctx
        .api
        .post("/api/auth/password/reset/")
        .json(&json!({"email": 5}))
        .send()
        .await;
    assert!([400, 503].contains(&r.status), "{}", r.text());
}

/// A reset request for an unknown address and for a known one: the same
/// status and body, and medians within 20% over 50 tries each, interleaved
/// (as login's enumeration test). On the server that takes the client IP
/// from `X-Forwarded-For`, so the per-IP quota of other tests is untouched;
/// known accounts rotate to stay under the per-address quota (5 an hour).
#[tokio::test]
async fn reset_requests_do_not_reveal_which_emails_exist() {
    let Some(ctx) = Ctx::with(ServerConfig::TrustProxy) else {
        return;
    };
    let probe = request(&ctx.api, &unique_email()).await;
    if probe.status == 503 {
        return eprintln!(
            "SKIP reset_requests_do_not_reveal_which_emails_exist: this host sends no mail ({})",
            probe.text()
        );
    }
    let mut known = Vec::new();
    for _ in 0..30 {
        known.push(ctx.api.new_creator().await.0);
    }
    let attempt = |email: String, n: usize| {
        let api = ctx.api.clone();
        async move {
            let started = std::time::Instant::now();
            let r = api
                .req(http::Method::POST, "/api/auth/password/reset/")
                .header("x-forwarded-for", &format!("198.51.100.{}", n % 250 + 1))
                .json(&json!({ "email": email }))
                .send()
                .await;
            (started.elapsed(), r)
        }
    };
    let mut ratios = Vec::new();
    let mut bodies = std::collections::BTreeSet::new();
    for round in 0..3 {
        let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
        for n in 0..50 {
            let (d, r) = attempt(unique_email(), 100 * round + 2 * n).await;
            assert_eq!(r.status, 202, "{}", r.text());
            bodies.insert(r.text());
            unknown.push(d);
            let (d, r) = attempt(
                known[10 * round + n % 10].email.clone(),
                100 * round + 2 * n + 1,
            )
            .await;
            assert_eq!(r.status, 202, "{}", r.text());
            bodies.insert(r.text());
            wrong.push(d);
        }
        assert_eq!(bodies.len(), 1, "different bodies: {bodies:?}");
        unknown.sort();
        wrong.sort();
        let ratio = unknown[25].as_secs_f64() / wrong[25].as_secs_f64();
        ratios.push(ratio);
        eprintln!("MEASURE reset enumeration: median(unknown) / median(known) = {ratio:.3}");
        if (0.8..=1.25).contains(&ratio) {
            return;
        }
    }
    panic!("median(unknown) / median(known) out of 0.8..1.25 in every round: {ratios:?}");
}
