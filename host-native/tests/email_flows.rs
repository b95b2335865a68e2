//! The email flows (verification, password reset, email change, sign-in
//! codes) end to end, in process, over an embedded libSQL file with a fake
//! clock. The mails are read from the outbox table the flows write (the
//! contract suite reads them from a real mailbox once the sender runs).

mod support;

use gatehouse_core::api_client::{ApiClient, ApiKey, EmailOptions, NewApiClient};
use gatehouse_core::sql::{SqlExecutor, Statement, Value};
use gatehouse_core::user::UserType;
use gatehouse_core::Config;
use http::{Method, StatusCode};
use serde_json::{json, Value as Json};
use support::*;

struct Flows {
    svc: Service,
    web: (ApiClient, ApiKey),
}

fn mail_config() -> Config {
    Config {
        mail_enabled: true,
        public_url: "https://auth.example.com".into(),
        ..Config::default()
    }
}

async fn flows_with(config: Config, email: EmailOptions) -> Flows {
    let svc = service(config, |g| g).await;
    let web = svc
        .gh
        .create_api_client(NewApiClient {
            email,
            ..web_client("Shop", 100_000)
        })
        .await
        .unwrap();
    Flows { svc, web }
}

async fn flows() -> Flows {
    flows_where(|_| {}).await
}

/// Flows with `ada` registered and a reset link mailed to her: its token.
async fn ada_with_reset_token() -> (Flows, String) {
    let f = flows().await;
    f.register("ada").await;
    f.request_reset("ada@example.com").await;
    let token = f.token_mailed_to("ada@example.com").await;
    (f, token)
}

/// Flows with `ada` registered: her access token.
async fn ada_signed_in() -> (Flows, String) {
    let f = flows().await;
    let reg = f.register("ada").await;
    (f, s(&reg.body["access"]))
}

/// Flows with sign-in codes, `ada` registered and a code mailed to her.
async fn ada_with_code() -> (Flows, String) {
    let f = flows_where(codes).await;
    f.register("ada").await;
    f.request_code("ada@example.com").await;
    let code = f.last_mail_to("ada@example.com").await.code();
    (f, code)
}

/// Mail on, and the shop's email options as `set` leaves them.
async fn flows_where(set: impl FnOnce(&mut EmailOptions)) -> Flows {
    let mut email = EmailOptions::default();
    set(&mut email);
    flows_with(mail_config(), email).await
}

/// A queued mail.
#[derive(Debug, Clone)]
struct Mail {
    to: String,
    subject: String,
    text: String,
}

impl Mail {
    /// The `token=` parameter of its link.
    fn token(&self) -> String {
        let at = self.text.find("token=").expect("a link with a token") + "token=".len();
        self.text[at..at + 43].to_owned()
    }
    /// The six-digit code in its subject.
    fn code(&self) -> String {
        self.subject[..6].to_owned()
    }
}

impl Flows {
    /// The calls as the shop's web client.
    fn api(&self) -> Caller<'_> {
        self.svc.gh.via(&self.web)
    }
    /// An anonymous POST of `body`.
    async fn post(&self, path: &str, body: Json) -> Reply {
        self.api().post(path, body).await
    }
    async fn post_with(&self, path: &str, body: Json, bearer: Option<&str>) -> Reply {
        self.api()
            .call(Method::POST, path, Some(body), bearer)
            .await
    }
    /// `POST password/reset/confirm/` with `token` and the new password twice.
    async fn confirm_reset(
        &self,
        token: impl AsRef<str>,
        password: &str,
        password2: &str,
    ) -> Reply {
        let body = json!({"token": token.as_ref(), "password": password, "password2": password2});
        self.post("/api/auth/password/reset/confirm/", body).await
    }
    /// `POST email/verify/` with `token`.
    async fn verify_email(&self, token: impl AsRef<str>) -> Reply {
        let body = json!({ "token": token.as_ref() });
        self.post("/api/auth/email/verify/", body).await
    }
    /// `POST email/change/` to `new_email`, confirmed with `password`.
    async fn change_email(&self, access: &str, new_email: &str, password: &str) -> Reply {
        let body = json!({"new_email": new_email, "password": password});
        self.post_with("/api/auth/email/change/", body, Some(access))
            .await
    }
    /// `POST email/change/confirm/` with `token`.
    async fn confirm_change(&self, token: impl AsRef<str>) -> Reply {
        let body = json!({ "token": token.as_ref() });
        self.post("/api/auth/email/change/confirm/", body).await
    }
    /// The token of the last mail to `to`.
    async fn token_mailed_to(&self, to: &str) -> String {
        self.last_mail_to(to).await.token()
    }
    /// `POST code/request/` for `email`.
    async fn request_code(&self, email: impl AsRef<str>) -> Reply {
        let body = json!({"email": email.as_ref()});
        self.post("/api/auth/code/request/", body).await
    }

    /// `POST code/verify/` with `email` and `code`.
    async fn verify_code(&self, email: impl AsRef<str>, code: impl AsRef<str>) -> Reply {
        let body = json!({"email": email.as_ref(), "code": code.as_ref()});
        self.post("/api/auth/code/verify/", body).await
    }

    /// `POST password/reset/` for `email`.
    async fn request_reset(&self, email: impl AsRef<str>) -> Reply {
        let body = json!({"email": email.as_ref()});
        self.post("/api/auth/password/reset/", body).await
    }

    async fn register(&self, name: &str) -> Reply {
        self.api().register(name).await
    }
    async fn login(&self, email: &str, password: &str) -> Reply {
        self.api().login(email, password).await
    }
    async fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        self.svc
            .sql
            .run(Statement::new(sql, vec![]))
            .await
            .unwrap()
            .rows
    }
    async fn mails_to(&self, to: &str) -> Vec<Mail> {
        self.rows("SELECT to_addr, subject, text_body FROM mail_outbox ORDER BY created_at, rowid")
            .await
            .into_iter()
            .map(|r| {
                let t = |i: usize| match &r[i] {
                    Value::Text(s) => s.clone(),
                    other => panic!("{other:?}"),
                };
                Mail {
                    to: t(0),
                    subject: t(1),
                    text: t(2),
                }
            })
            .filter(|m| m.to == to)
            .collect()
    }
    async fn last_mail_to(&self, to: &str) -> Mail {
        self.mails_to(to).await.pop().expect("a mail")
    }
    async fn count(&self, sql: &str) -> i64 {
        match self.rows(sql).await[0][0] {
            Value::Integer(n) => n,
            ref other => panic!("{other:?}"),
        }
    }
    async fn audit_count(&self, event: &str) -> i64 {
        self.count(&format!(
            "SELECT count(*) FROM audit_events WHERE event = '{event}'"
        ))
        .await
    }
}

fn code_of(r: &Reply) -> &str {
    r.body["code"].as_str().unwrap_or_default()
}

// ---- password reset

#[tokio::test]
async fn a_reset_link_sets_a_new_password_and_ends_every_login() {
    let f = flows().await;
    let reg = f.register("ada").await;
    let old_refresh = s(&reg.body["refresh"]);
    let r = f.request_reset("ADA@example.com").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mail = f.last_mail_to("ada@example.com").await;
    assert_eq!(mail.subject, "Reset your password");
    assert!(
        mail.text
            .contains("https://auth.example.com/auth/reset/?token="),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("Shop"));
    let token = mail.token();
    let new = "a brand new passphrase";
    let r = f.confirm_reset(&token, new, new).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(f.login("ada@example.com", PASSWORD).await.status, 401);
    assert_eq!(f.login("ada@example.com", new).await.status, 200);
    let refreshed = f
        .post("/api/auth/token/refresh/", json!({"refresh": old_refresh}))
        .await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.body);
    // Single use.
    let again = f
        .confirm_reset(&token, "yet another passphrase", "yet another passphrase")
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(code_of(&again), "invalid_token");
    // A notice, and the audit record.
    assert_eq!(
        f.last_mail_to("ada@example.com").await.subject,
        "Your password was reset"
    );
    assert_eq!(f.audit_count("password.reset").await, 1);
    assert_eq!(f.audit_count("password.reset_requested").await, 1);
}

#[tokio::test]
async fn a_reset_request_answers_the_same_for_an_unknown_address_and_mails_nothing() {
    let f = flows().await;
    f.register("ada").await;
    let known = f.request_reset("ada@example.com").await;
    let unknown = f.request_reset("nobody@example.com").await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    assert!(f.mails_to("nobody@example.com").await.is_empty());
    assert_eq!(
        f.count("SELECT count(*) FROM email_tokens WHERE purpose = 'reset' AND used_at IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn reset_tokens_expire_and_a_newer_request_spends_the_older() {
    let f = flows().await;
    f.register("ada").await;
    let ask = || f.request_reset("ada@example.com");
    let confirm =
        |token: String| f.confirm_reset(token, "a brand new passphrase", "a brand new passphrase");
    ask().await;
    let first = f.token_mailed_to("ada@example.com").await;
    ask().await;
    let second = f.token_mailed_to("ada@example.com").await;
    assert_ne!(first, second);
    assert_eq!(code_of(&confirm(first).await), "invalid_token");
    // One hour (the default): valid a second before, not at it.
    f.svc.clock.advance_secs(3600);
    assert_eq!(code_of(&confirm(second).await), "invalid_token");
    ask().await;
    let third = f.token_mailed_to("ada@example.com").await;
    f.svc.clock.advance_secs(3599);
    assert_eq!(confirm(third).await.status, StatusCode::OK);
}

#[tokio::test]
async fn two_concurrent_confirms_of_one_token_have_one_winner() {
    let (f, token) = ada_with_reset_token().await;
    let confirm = |p: &'static str| f.confirm_reset(&token, p, p);
    let (a, b) = tokio::join!(
        confirm("first racing passphrase"),
        confirm("second racing passphrase")
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
    let winner = if a.status == 200 {
        "first racing passphrase"
    } else {
        "second racing passphrase"
    };
    assert_eq!(f.login("ada@example.com", winner).await.status, 200);
    assert_eq!(f.audit_count("password.reset").await, 1);
}

#[tokio::test]
async fn a_weak_new_password_is_refused_with_the_register_errors_and_the_token_survives() {
    let (f, token) = ada_with_reset_token().await;
    let weak = f.confirm_reset(&token, "12345", "12345").await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.body["password"].as_array().unwrap().len() >= 2,
        "{}",
        weak.body
    );
    let mismatch = f
        .confirm_reset(&token, "a brand new passphrase", "another one")
        .await;
    assert_eq!(
        mismatch.first_error("password"),
        "Password fields didn't match."
    );
    let ok = f
        .confirm_reset(&token, "a brand new passphrase", "a brand new passphrase")
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_writes_nothing() {
    let f = flows().await;
    f.register("ada").await;
    let before = f.count("SELECT count(*) FROM audit_events").await;
    for body in [
        json!({"token": "x", "password": "a brand new passphrase", "password2": "a brand new passphrase"}),
        json!({"token": "a".repeat(5000), "password": "p", "password2": "p"}),
        json!({"token": "a".repeat(43), "password": "a brand new passphrase", "password2": "a brand new passphrase"}),
    ] {
        let r = f.post("/api/auth/password/reset/confirm/", body).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    let wrong_type = f
        .post(
            "/api/auth/password/reset/confirm/",
            json!({"token": 5, "password": [], "password2": null}),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    assert!(wrong_type.body["token"].is_array(), "{}", wrong_type.body);
    let missing = f.post("/api/auth/email/verify/", json!({})).await;
    assert_eq!(missing.first_error("token"), "This field is required.");
    let email_type = f
        .post("/api/auth/password/reset/", json!({"email": 1}))
        .await;
    assert_eq!(email_type.status, 400);
    assert_eq!(f.count("SELECT count(*) FROM audit_events").await, before);
}

#[tokio::test]
async fn without_mail_the_flows_answer_503_and_register_sends_nothing() {
    let f = flows_with(Config::default(), EmailOptions::default()).await;
    let reg = f.register("ada").await;
    assert!(f.mails_to("ada@example.com").await.is_empty());
    let access = s(&reg.body["access"]);
    for (path, body, bearer) in [
        (
            "/api/auth/password/reset/",
            json!({"email": "ada@example.com"}),
            None,
        ),
        (
            "/api/auth/email/verify/resend/",
            json!({}),
            Some(access.as_str()),
        ),
        (
            "/api/auth/email/change/",
            json!({"new_email": "new@example.com", "password": PASSWORD}),
            Some(access.as_str()),
        ),
    ] {
        let r = f.post_with(path, body, bearer).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(code_of(&r), "mail_not_configured");
    }
}

#[tokio::test]
async fn reset_requests_are_throttled_per_address_whether_or_not_it_has_an_account() {
    let f = flows().await;
    for _ in 0..5 {
        let r = f.request_reset("nobody@example.com").await;
        assert_eq!(r.status, 202);
    }
    let r = f.request_reset("Nobody@Example.com").await;
    assert_eq!(r.status, 429);
    assert_eq!(code_of(&r), "email_throttled");
    assert!(r.headers.contains_key("retry-after"));
    // Another address from the same IP is still served.
    let other = f.request_reset("other@example.com").await;
    assert_eq!(other.status, 202);
}

#[tokio::test]
async fn a_client_reset_url_gets_the_token_as_a_query_parameter() {
    let f =
        flows_where(|e| e.reset_url = Some("https://app.example.com/reset?lang=fr".into())).await;
    f.register("ada").await;
    f.request_reset("ada@example.com").await;
    let mail = f.last_mail_to("ada@example.com").await;
    assert!(
        mail.text.contains(&format!(
            "https://app.example.com/reset?lang=fr&token={}",
            mail.token()
        )),
        "{}",
        mail.text
    );
}

// ---- email verification

#[tokio::test]
async fn register_mails_a_verification_link_that_verifies_once() {
    let f = flows().await;
    let reg = f.register("ada").await;
    assert_eq!(reg.body["user"]["email_verified"], false);
    let access = s(&reg.body["access"]);
    let mail = f.last_mail_to("ada@example.com").await;
    assert_eq!(mail.subject, "Confirm your email address");
    assert!(mail
        .text
        .contains("https://auth.example.com/auth/verify/?token="));
    let r = f.verify_email(mail.token()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"detail": "Email verified.", "email_verified": true})
    );
    let again = f.verify_email(mail.token()).await;
    assert_eq!(code_of(&again), "invalid_token");
    let profile = f.svc.gh.via(&f.web).profile(&access).await;
    assert_eq!(profile.body["email_verified"], true);
    assert!(profile.body["email_verified_at"].is_string());
    let resend = f
        .post_with("/api/auth/email/verify/resend/", json!({}), Some(&access))
        .await;
    assert_eq!(resend.status, 400);
    assert_eq!(code_of(&resend), "already_verified");
    assert_eq!(f.audit_count("email.verified").await, 1);
}

#[tokio::test]
async fn a_resend_spends_the_older_link_and_a_reset_token_does_not_verify() {
    let (f, access) = ada_signed_in().await;
    let first = f.token_mailed_to("ada@example.com").await;
    let r = f
        .post_with("/api/auth/email/verify/resend/", json!({}), Some(&access))
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let second = f.token_mailed_to("ada@example.com").await;
    assert_eq!(code_of(&f.verify_email(&first).await), "invalid_token");
    f.request_reset("ada@example.com").await;
    let reset = f.token_mailed_to("ada@example.com").await;
    assert_eq!(code_of(&f.verify_email(&reset).await), "invalid_token");
    // 24 hours by default.
    f.svc.clock.advance_secs(24 * 3600);
    assert_eq!(code_of(&f.verify_email(&second).await), "invalid_token");
}

#[tokio::test]
async fn a_client_requiring_verified_emails_refuses_the_right_password_until_verified() {
    let f = flows_where(|e| e.require_verified_email = true).await;
    f.register("ada").await;
    let r = f.login("ada@example.com", PASSWORD).await;
    assert_eq!(r.status, 403);
    assert_eq!(code_of(&r), "email_not_verified");
    assert_eq!(
        f.login("ada@example.com", "wrong password").await.status,
        401
    );
    let token = f.token_mailed_to("ada@example.com").await;
    f.verify_email(&token).await;
    assert_eq!(f.login("ada@example.com", PASSWORD).await.status, 200);
}

// ---- sign-in codes

fn codes(e: &mut EmailOptions) {
    e.signin_codes = true;
}

#[tokio::test]
async fn a_mailed_code_signs_in_once() {
    let f = flows_where(codes).await;
    f.register("ada").await;
    let r = f.request_code("ada@example.com").await;
    assert_eq!(r.status, 202, "{}", r.body);
    let unknown = f.request_code("nobody@example.com").await;
    assert_eq!((unknown.status, &unknown.body), (r.status, &r.body));
    let mail = f.last_mail_to("ada@example.com").await;
    let code = mail.code();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    // No `signin_url`: the code only, no link.
    assert!(!mail.text.contains("code="), "{}", mail.text);
    let ok = f.verify_code("ada@example.com", &code).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body["access"].is_string() && ok.body["refresh"].is_string());
    let again = f.verify_code("ada@example.com", &code).await;
    assert_eq!(code_of(&again), "invalid_code");
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE event = 'login.succeeded' AND json_extract(detail, '$.method') = 'code'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_client_signin_url_gets_the_address_and_code_as_query_parameters() {
    let f = flows_where(|e| {
        codes(e);
        e.signin_url = Some("https://app.example.com/code?lang=fr".into());
    })
    .await;
    f.register("ada").await;
    f.request_code("ada@example.com").await;
    let mail = f.last_mail_to("ada@example.com").await;
    let code = mail.code();
    let url = format!("https://app.example.com/code?lang=fr&email=ada%40example.com&code={code}");
    assert!(mail.text.contains(&url), "{}", mail.text);
    // The link is the typed code: it signs in once.
    let body = json!({"email": "ada@example.com", "code": code});
    let ok = f.post("/api/auth/code/verify/", body.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let again = f.post("/api/auth/code/verify/", body).await;
    assert_eq!(code_of(&again), "invalid_code");
}

#[tokio::test]
async fn five_wrong_codes_kill_it_even_for_the_right_one_and_expiry_does_too() {
    let (f, code) = ada_with_code().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = f.verify_code("ada@example.com", wrong).await;
        assert_eq!(code_of(&r), "invalid_code");
    }
    let dead = f.verify_code("ada@example.com", &code).await;
    assert_eq!(code_of(&dead), "invalid_code");
    // A new code, past its ten minutes.
    f.request_code("ada@example.com").await;
    let code = f.last_mail_to("ada@example.com").await.code();
    f.svc.clock.advance_secs(600);
    let late = f.verify_code("ada@example.com", &code).await;
    assert_eq!(code_of(&late), "invalid_code");
}

#[tokio::test]
async fn parallel_guesses_never_count_past_five() {
    let (f, code) = ada_with_code().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guess = || f.verify_code("ada@example.com", wrong);
    let (a, b, c, d, e, g, h, i) = tokio::join!(
        guess(),
        guess(),
        guess(),
        guess(),
        guess(),
        guess(),
        guess(),
        guess()
    );
    for r in [a, b, c, d, e, g, h, i] {
        assert_eq!(r.status, 400);
    }
    assert_eq!(
        f.count("SELECT max(attempts) FROM email_tokens WHERE purpose = 'code'")
            .await,
        5
    );
    // Dead now, even for the right code.
    let right = f.verify_code("ada@example.com", &code).await;
    assert_eq!(code_of(&right), "invalid_code");
}

#[tokio::test]
async fn a_client_without_sign_in_codes_refuses_them() {
    let f = flows().await;
    for (path, body) in [
        (
            "/api/auth/code/request/",
            json!({"email": "ada@example.com"}),
        ),
        (
            "/api/auth/code/verify/",
            json!({"email": "ada@example.com", "code": "123456"}),
        ),
    ] {
        let r = f.post(path, body).await;
        assert_eq!(r.status, 403);
        assert_eq!(code_of(&r), "signin_code_disabled");
    }
}

// ---- email change

#[tokio::test]
async fn an_email_change_is_confirmed_from_the_new_address_and_noticed_at_the_old() {
    let (f, access) = ada_signed_in().await;
    let wrong = f
        .change_email(&access, "ada.new@example.com", "not it")
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body["password"].is_array(), "{}", wrong.body);
    let r = f
        .change_email(&access, "ada.new@example.com", PASSWORD)
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let notice = f.last_mail_to("ada@example.com").await;
    assert_eq!(notice.subject, "Your email address is being changed");
    let link = f.last_mail_to("ada.new@example.com").await;
    assert!(link
        .text
        .contains("https://auth.example.com/auth/email-change/?token="));
    let ok = f.confirm_change(link.token()).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["email"], "ada.new@example.com");
    assert_eq!(f.login("ada.new@example.com", PASSWORD).await.status, 200);
    assert_eq!(f.login("ada@example.com", PASSWORD).await.status, 401);
    let profile = f.svc.gh.via(&f.web).profile(&access).await;
    assert_eq!(profile.body["email_verified"], true);
    assert_eq!(f.audit_count("email.changed").await, 1);
}

#[tokio::test]
async fn an_address_taken_before_the_confirmation_is_refused_and_nothing_changes() {
    let (f, access) = ada_signed_in().await;
    f.change_email(&access, "grace@example.com", PASSWORD).await;
    let token = f.token_mailed_to("grace@example.com").await;
    f.register("grace").await;
    let r = f.confirm_change(&token).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["email"].is_array(), "{}", r.body);
    assert_eq!(f.login("ada@example.com", PASSWORD).await.status, 200);
    assert_eq!(f.audit_count("email.changed").await, 0);
    let taken = f.change_email(&access, "grace@example.com", PASSWORD).await;
    assert!(taken.body["new_email"].is_array(), "{}", taken.body);
}

#[tokio::test]
async fn an_email_change_spends_earlier_links_of_the_old_address() {
    let (f, access) = ada_signed_in().await;
    let verify = f.token_mailed_to("ada@example.com").await;
    f.change_email(&access, "ada.new@example.com", PASSWORD)
        .await;
    let change = f.token_mailed_to("ada.new@example.com").await;
    f.confirm_change(&change).await;
    let r = f.verify_email(&verify).await;
    assert_eq!(code_of(&r), "invalid_token");
}

// ---- Gatehouse's own pages

type Page = (StatusCode, http::HeaderMap, String);

/// GETs one of Gatehouse's own pages.
async fn get_page(f: &Flows, uri: &str) -> Page {
    page(f, Method::GET, uri, None).await
}

/// POSTs the reset page's form: `token` and the new password twice.
async fn post_reset_form(f: &Flows, token: &str, password: &str, password2: &str) -> Page {
    let form = format!("token={token}&password={password}&password2={password2}");
    post_form(f, "/auth/reset/", form).await
}

/// POSTs `form` (urlencoded) to one of Gatehouse's own pages.
async fn post_form(f: &Flows, uri: &str, form: String) -> Page {
    page(f, Method::POST, uri, Some(form)).await
}

async fn page(f: &Flows, method: Method, uri: &str, form: Option<String>) -> Page {
    let mut b = http::Request::builder().method(method).uri(uri);
    if form.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = b
        .body(bytes::Bytes::from(form.unwrap_or_default()))
        .unwrap();
    let resp = f.svc.gh.handle(req).await;
    (
        resp.status(),
        resp.headers().clone(),
        String::from_utf8(resp.body().to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn the_reset_page_shows_a_form_and_its_post_sets_the_password() {
    let (f, token) = ada_with_reset_token().await;
    let (status, headers, body) = get_page(&f, &format!("/auth/reset/?token={token}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("name=\"password2\""), "{body}");
    assert!(body.contains(&format!("value=\"{token}\"")));
    assert!(!body.contains("<script") && !body.contains("style="));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    // A weak password shows the form again with the reasons.
    let (status, _, body) = post_reset_form(&f, &token, "12345", "12345").await;
    assert_eq!(status, 400);
    assert!(body.contains("too short"), "{body}");
    let (status, _, body) = post_reset_form(
        &f,
        &token,
        "a+brand+new%20passphrase",
        "a+brand+new+passphrase",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Your password has been reset."));
    assert_eq!(
        f.login("ada@example.com", "a brand new passphrase")
            .await
            .status,
        200
    );
    let (status, _, body) = post_reset_form(&f, &token, "x", "x").await;
    assert_eq!(status, 400);
    assert!(body.contains("invalid or has expired"), "{body}");
}

#[tokio::test]
async fn the_verify_page_confirms_only_on_post_and_escapes_what_it_shows() {
    let f = flows().await;
    f.register("ada").await;
    let token = f.token_mailed_to("ada@example.com").await;
    let (status, _, _) = get_page(&f, &format!("/auth/verify/?token={token}")).await;
    assert_eq!(status, 200);
    // GET changed nothing: the token still works once.
    let (status, _, body) = post_form(&f, "/auth/verify/", format!("token={token}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Email verified."));
    let (_, _, body) = get_page(&f, "/auth/verify/?token=%22%3E%3Cscript%3E").await;
    assert!(
        !body.contains("<script>") && body.contains("&quot;&gt;&lt;script&gt;"),
        "{body}"
    );
    let (status, headers, _) = page(&f, Method::DELETE, "/auth/verify/", None).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, HEAD, POST");
}

#[tokio::test]
async fn the_email_change_page_confirms_the_new_address() {
    let (f, access) = ada_signed_in().await;
    f.change_email(&access, "ada.new@example.com", PASSWORD)
        .await;
    let token = f.token_mailed_to("ada.new@example.com").await;
    let (status, _, body) = post_form(&f, "/auth/email-change/", format!("token={token}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ada.new@example.com"));
    assert_eq!(f.login("ada.new@example.com", PASSWORD).await.status, 200);
}

// ---- the admin API

/// The dashboard (an `admin` client) with one staff member or admin
/// signed in through it.
struct Dashboard<'a> {
    f: &'a Flows,
    client: Client,
    access: String,
}

impl Dashboard<'_> {
    fn api(&self) -> Caller<'_> {
        self.f.svc.gh.via(&self.client)
    }
    /// `POST /api/admin/users/{id}/{action}/` with an empty body.
    async fn user_action(&self, id: i64, action: &str) -> Reply {
        let path = format!("/api/admin/users/{id}/{action}/");
        self.api().post_as(&path, json!({}), &self.access).await
    }
    async fn get(&self, path: &str) -> Reply {
        self.api().get(path, &self.access).await
    }
    async fn post(&self, path: &str, body: Json) -> Reply {
        self.api().post_as(path, body, &self.access).await
    }
    async fn patch(&self, path: &str, body: Json) -> Reply {
        self.api().patch_as(path, body, &self.access).await
    }
}

/// Creates the dashboard client and `name` of type `t`, signed in there.
async fn dashboard<'a>(f: &'a Flows, name: &str, t: UserType) -> Dashboard<'a> {
    let client = f
        .svc
        .gh
        .create_api_client(NewApiClient {
            client_type: "admin".into(),
            ..web_client("Dashboard", 100_000)
        })
        .await
        .unwrap();
    create_user(&f.svc.gh, name, t).await;
    let email = format!("{name}@example.com");
    let r = f.svc.gh.via(&client).login(&email, PASSWORD).await;
    let access = s(&r.body["access"]);
    Dashboard { f, client, access }
}

#[tokio::test]
async fn staff_send_verification_and_reset_links_to_creators_audited() {
    let f = flows().await;
    let dash = dashboard(&f, "sam", UserType::Staff).await;
    create_user(&f.svc.gh, "root", UserType::Admin).await;
    let ada = f.register("ada").await.body["user"]["id"].as_i64().unwrap();
    let verify = dash.user_action(ada, "send-verification").await;
    assert_eq!(verify.status, 202, "{}", verify.body);
    let token = f.token_mailed_to("ada@example.com").await;
    f.verify_email(&token).await;
    let again = dash.user_action(ada, "send-verification").await;
    assert_eq!(code_of(&again), "already_verified");
    let reset = dash.user_action(ada, "send-password-reset").await;
    assert_eq!(reset.status, 202, "{}", reset.body);
    let mail = f.last_mail_to("ada@example.com").await;
    assert_eq!(mail.subject, "Reset your password");
    assert_eq!(
        f.count("SELECT count(*) FROM audit_events WHERE event IN ('email.verification_sent', 'password.reset_requested') AND json_extract(detail, '$.by') = 'admin'")
            .await,
        2
    );
    // Staff do not manage admins.
    let root = f
        .count("SELECT id FROM users WHERE username = 'root'")
        .await;
    let refused = dash.user_action(root, "send-password-reset").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // The admin user JSON shows the state.
    let got = dash.get(&format!("/api/admin/users/{ada}/")).await;
    assert_eq!(got.body["email_verified"], true, "{}", got.body);
}

#[tokio::test]
async fn client_email_options_are_set_through_the_admin_api() {
    let f = flows().await;
    let dash = dashboard(&f, "root", UserType::Admin).await;
    let created = dash
        .post(
            "/api/admin/clients/",
            json!({"name": "app", "client_type": "web", "rate_limit": 100, "signin_codes": true, "reset_url": "https://app.example.com/reset", "signin_url": "https://app.example.com/code"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["signin_codes"], true);
    assert_eq!(created.body["require_verified_email"], false);
    assert_eq!(created.body["reset_url"], "https://app.example.com/reset");
    assert_eq!(created.body["signin_url"], "https://app.example.com/code");
    let path = format!("/api/admin/clients/{}/", s(&created.body["client_id"]));
    let patched = dash
        .patch(
            &path,
            json!({"require_verified_email": true, "reset_url": null, "signin_url": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["require_verified_email"], true);
    assert_eq!(patched.body["reset_url"], Json::Null);
    assert_eq!(patched.body["signin_url"], Json::Null);
    for bad in [
        json!({"reset_url": "javascript:alert(1)"}),
        json!({"reset_url": "https://x/#a"}),
        json!({"signin_url": "ftp://app.example.com/code"}),
        json!({"signin_url": 7}),
        json!({"signin_codes": "yes"}),
    ] {
        let r = dash.patch(&path, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[tokio::test]
async fn reset_requests_take_as_long_for_unknown_addresses_as_for_known_ones() {
    use gatehouse_core::rate_limit::Quota;
    let many = Quota {
        limit: 1_000_000,
        period_secs: 3600,
    };
    let f = flows_with(
        Config {
            email_requests_per_address: many,
            email_requests_per_ip: many,
            ..mail_config()
        },
        EmailOptions::default(),
    )
    .await;
    f.register("ada").await;
    let time = |email: &'static str| {
        let f = &f;
        async move {
            let started = std::time::Instant::now();
            let r = f.request_reset(email).await;
            assert_eq!(r.status, 202);
            started.elapsed()
        }
    };
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            known.push(time("ada@example.com").await);
            unknown.push(time("nobody@example.com").await);
        }
        known.sort();
        unknown.sort();
        let ratio = unknown[25].as_secs_f64() / known[25].as_secs_f64();
        ratios.push(ratio);
        if (0.8..=1.25).contains(&ratio) {
            eprintln!("median(unknown) / median(known) = {ratio:.3}");
            return;
        }
    }
    panic!("median(unknown) / median(known) out of 0.8..1.25 in every round: {ratios:?}");
}

#[tokio::test]
async fn a_newer_code_spends_the_older_one() {
    let f = flows_where(codes).await;
    f.register("ada").await;
    let ask = || f.request_code("ada@example.com");
    ask().await;
    let older = f.last_mail_to("ada@example.com").await.code();
    ask().await;
    let newer = f.last_mail_to("ada@example.com").await.code();
    assert_ne!(
        older, newer,
        "the seeded generator gave the same code twice"
    );
    let verify = |code: String| f.verify_code("ada@example.com", code);
    assert_eq!(code_of(&verify(older).await), "invalid_code");
    assert_eq!(verify(newer).await.status, 200);
}

#[tokio::test]
async fn requests_are_throttled_per_ip_across_addresses() {
    use gatehouse_core::rate_limit::Quota;
    let f = flows_with(
        Config {
            email_requests_per_ip: Quota {
                limit: 3,
                period_secs: 3600,
            },
            ..mail_config()
        },
        EmailOptions::default(),
    )
    .await;
    for n in 0..3 {
        let r = f
            .post(
                "/api/auth/password/reset/",
                json!({"email": format!("n{n}@example.com")}),
            )
            .await;
        assert_eq!(r.status, 202);
    }
    let r = f.request_reset("n9@example.com").await;
    assert_eq!(r.status, 429);
    assert_eq!(code_of(&r), "email_throttled");
    // GCRA gives one request back every period / limit (20 minutes here).
    f.svc.clock.advance_secs(1200);
    let r = f.request_reset("n9@example.com").await;
    assert_eq!(r.status, 202, "{}", r.body);
}
