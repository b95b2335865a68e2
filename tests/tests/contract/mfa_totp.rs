//! Second factors (docs/CONTRACT.md, "Second factors"): TOTP enrolment,
//! the `mfa_required` sign-in and its second step, the attempt caps,
//! recovery codes, step-up, disable and the admin reset. The codes are
//! computed here (RFC 6238) from the secret the enrolment returns.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// RFC 6238 with SHA-1, 6 digits, 30 s.
fn totp(secret: &[u8], step: i64) -> String {
    let h = hmac_sha1_compact::HMAC::mac(&(step as u64).to_be_bytes(), secret);
    let o = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", bin % 1_000_000)
}

fn now_step() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (secs / 30) as i64
}

/// An enrolled user's authenticator: hands out codes the server has not
/// seen, the current step's or the next one's (inside the ±1 window).
struct Authenticator {
    secret: Vec<u8>,
    last: i64,
}

impl Authenticator {
    fn code(&mut self) -> String {
        let now = now_step();
        let step = now.max(self.last + 1);
        assert!(step <= now + 1, "more codes than the window holds");
        self.last = step;
        totp(&self.secret, step)
    }

    /// A code no step of the window has.
    fn wrong(&self) -> String {
        let now = now_step();
        (0..1_000_000)
            .map(|n| format!("{n:06}"))
            .find(|c| (now - 2..=now + 2).all(|s| totp(&self.secret, s) != *c))
            .unwrap()
    }
}

/// A creator with TOTP on: their authenticator, recovery codes and the
/// (aal1) tokens of the login that enrolled.
struct Enrolled {
    user: TestUser,
    auth: Authenticator,
    recovery: Vec<String>,
    tokens: Tokens,
}

async fn enroll(api: &Api, tokens: Tokens, user: TestUser) -> Enrolled {
    let r = api
        .post_empty_as("/api/auth/mfa/totp/enroll/", &tokens.access)
        .await;
    r.expect(200);
    let v = r.json();
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32: {v}");
    let uri = v["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    assert!(
        v["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")),
        "{v}"
    );
    let mut auth = Authenticator {
        secret: base32_decode(&secret),
        last: 0,
    };
    // Not on until confirmed: a login still gets tokens.
    api.login(&user.email, &user.password).await.expect(200);
    let wrong = auth.wrong();
    api.post_as(
        "/api/auth/mfa/totp/confirm/",
        &tokens.access,
        &json!({ "code": wrong }),
    )
    .await
    .expect_error(400, "invalid_mfa_code");
    let r = api
        .post_as(
            "/api/auth/mfa/totp/confirm/",
            &tokens.access,
            &json!({ "code": auth.code() }),
        )
        .await;
    r.expect(200);
    let codes = r.json()["recovery_codes"].as_array().unwrap().clone();
    let recovery: Vec<String> = codes.iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(recovery.len(), 10);
    Enrolled {
        user,
        auth,
        recovery,
        tokens,
    }
}

async fn enrolled_creator(api: &Api) -> Enrolled {
    let (user, tokens) = api.new_creator().await;
    enroll(api, tokens, user).await
}

/// The default server, a fresh web client, and a creator enrolled
/// through it.
async fn enrolled_ctx() -> (Ctx, Enrolled) {
    let ctx = Ctx::new();
    let e = enrolled_creator(&ctx.api).await;
    (ctx, e)
}

/// Password login of an enrolled user: 401 `mfa_required`, its token.
async fn challenge(api: &Api, user: &TestUser) -> String {
    let r = api.login(&user.email, &user.password).await;
    r.expect(401);
    let v = r.json();
    assert_eq!(v["code"], "mfa_required", "{v}");
    assert!(
        v.get("access").is_none() && v.get("refresh").is_none(),
        "{v}"
    );
    assert_eq!(v["methods"], json!(["totp", "recovery_code"]), "{v}");
    let token = v["mfa_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    token
}

async fn verify(api: &Api, body: Value) -> Resp {
    api.post_json("/api/auth/mfa/verify/", &body).await
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_gives_aal2_tokens_that_refresh_keeps() {
    let (ctx, mut e) = enrolled_ctx().await;
    let f = ctx
        .api
        .get_as("/api/auth/mfa/factors/", &e.tokens.access)
        .await;
    f.expect(200);
    assert_eq!(f.json()["recovery_codes_left"], 10);
    assert_eq!(f.json()["methods"], json!(["totp", "recovery_code"]));
    assert!(f.json()["totp"]["confirmed_at"].is_string());
    // The enrolling login was a password alone.
    assert_eq!(jwt::claims(&e.tokens.access)["aal"], 1);

    let token = challenge(&ctx.api, &e.user).await;
    let r = verify(&ctx.api, json!({"mfa_token": token, "code": e.auth.code()})).await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());
    let claims = jwt::claims(&t.access);
    assert_eq!(
        (claims["amr"].clone(), claims["aal"].clone()),
        (json!(["pwd", "otp"]), json!(2))
    );
    // Single use (spent before any code is looked at).
    verify(
        &ctx.api,
        json!({"mfa_token": token, "code": e.auth.wrong()}),
    )
    .await
    .expect_error(401, "mfa_token_invalid");
    let refreshed = ctx.api.refresh(&t.refresh).await;
    refreshed.expect(200);
    let access = refreshed.json()["access"].as_str().unwrap().to_owned();
    assert_eq!(jwt::claims(&access)["aal"], 2);
    assert_eq!(jwt::claims(&access)["amr"], json!(["pwd", "otp"]));
}

#[tokio::test]
async fn a_code_is_accepted_once_and_a_token_only_through_its_client() {
    let (ctx, mut e) = enrolled_ctx().await;
    let code = e.auth.code();
    let first = challenge(&ctx.api, &e.user).await;
    verify(&ctx.api, json!({"mfa_token": first, "code": code}))
        .await
        .expect(200);
    // The same code again, in the same step: refused.
    let second = challenge(&ctx.api, &e.user).await;
    verify(&ctx.api, json!({"mfa_token": second, "code": code}))
        .await
        .expect_error(400, "invalid_mfa_code");
    // Another client cannot answer this client's challenge.
    let (_, other) = ctx.client(&ClientSpec::web());
    verify(&other, json!({"mfa_token": second, "code": e.auth.wrong()}))
        .await
        .expect_error(401, "mfa_token_invalid");
    verify(
        &ctx.api,
        json!({"mfa_token": "x".repeat(43), "code": "123456"}),
    )
    .await
    .expect_error(401, "mfa_token_invalid");
}

#[tokio::test]
async fn five_wrong_codes_kill_the_challenge() {
    let (ctx, mut e) = enrolled_ctx().await;
    let token = challenge(&ctx.api, &e.user).await;
    let wrong = e.auth.wrong();
    for _ in 0..5 {
        verify(&ctx.api, json!({"mfa_token": token, "code": wrong}))
            .await
            .expect_error(400, "invalid_mfa_code");
    }
    verify(&ctx.api, json!({"mfa_token": token, "code": e.auth.code()}))
        .await
        .expect_error(401, "mfa_token_invalid");
}

#[tokio::test]
async fn parallel_guesses_never_exceed_the_attempts_cap() {
    let (ctx, e) = enrolled_ctx().await;
    let token = challenge(&ctx.api, &e.user).await;
    let wrong = e.auth.wrong();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (api, body) = (ctx.api.clone(), json!({"mfa_token": token, "code": wrong}));
        tasks.spawn(async move { verify(&api, body).await });
    }
    let mut checked = 0;
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("a racer panicked");
        match r.status {
            400 => {
                r.expect_error(400, "invalid_mfa_code");
                checked += 1;
            }
            _ => {
                r.expect_error(401, "mfa_token_invalid");
            }
        }
    }
    assert_eq!(checked, 5, "exactly the cap of guesses was looked at");
}

#[tokio::test]
async fn the_per_user_throttle_answers_429_across_challenges() {
    let (ctx, mut e) = enrolled_ctx().await;
    let wrong = e.auth.wrong();
    // 10 wrong answers an hour per user, over any number of challenges.
    for round in 0..2 {
        let token = challenge(&ctx.api, &e.user).await;
        for _ in 0..5 {
            verify(&ctx.api, json!({"mfa_token": token, "code": wrong}))
                .await
                .expect_error(400, "invalid_mfa_code");
        }
        let _ = round;
    }
    let token = challenge(&ctx.api, &e.user).await;
    let r = verify(&ctx.api, json!({"mfa_token": token, "code": e.auth.code()})).await;
    r.expect_error(429, "mfa_throttled");
    assert!(r.header_u64("retry-after") > 0);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let (ctx, e) = enrolled_ctx().await;
    let rc = e.recovery[3].clone();
    let token = challenge(&ctx.api, &e.user).await;
    // Typed loosely: case and dashes do not matter.
    let typed = rc.to_uppercase().replace('-', " ");
    let r = verify(
        &ctx.api,
        json!({"mfa_token": token, "recovery_code": typed}),
    )
    .await;
    r.expect(200);
    let access = r.json()["access"].as_str().unwrap().to_owned();
    assert_eq!(jwt::claims(&access)["amr"], json!(["pwd", "rc"]));
    assert_eq!(jwt::claims(&access)["aal"], 2);
    let token = challenge(&ctx.api, &e.user).await;
    verify(&ctx.api, json!({"mfa_token": token, "recovery_code": rc}))
        .await
        .expect_error(400, "invalid_mfa_code");
    let f = ctx.api.get_as("/api/auth/mfa/factors/", &access).await;
    assert_eq!(f.json()["recovery_codes_left"], 9);
}

#[tokio::test]
async fn bad_second_steps_are_clear_4xx() {
    let (ctx, e) = enrolled_ctx().await;
    let token = challenge(&ctx.api, &e.user).await;
    for body in [
        json!({"mfa_token": token}),
        json!({"mfa_token": token, "code": "123456", "recovery_code": "abcde-fghij"}),
        json!({"code": "123456"}),
        json!({"mfa_token": 5, "code": "123456"}),
        json!({"mfa_token": token, "code": "1".repeat(17)}),
        json!({"mfa_token": token, "passkey": {}}),
        json!({"mfa_token": token, "code": "123456", "challenge_id": "x", "credential": {}}),
        json!({"mfa_token": token, "credential": []}),
    ] {
        let r = verify(&ctx.api, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
    }
    // No passkey: no passkey options.
    ctx.api
        .post_json(
            "/api/auth/mfa/passkey/options/",
            &json!({"mfa_token": token}),
        )
        .await
        .expect_error(400, "unsupported_method");
}

#[tokio::test]
async fn disable_and_regenerate_need_a_second_factor_login() {
    let (ctx, mut e) = enrolled_ctx().await;
    // The enrolling login is aal1: step-up required.
    for path in [
        "/api/auth/mfa/totp/disable/",
        "/api/auth/mfa/recovery-codes/regenerate/",
    ] {
        ctx.api
            .post_as(
                path,
                &e.tokens.access,
                &json!({"password": e.user.password}),
            )
            .await
            .expect_error(403, "mfa_step_up_required");
    }
    let token = challenge(&ctx.api, &e.user).await;
    let r = verify(&ctx.api, json!({"mfa_token": token, "code": e.auth.code()})).await;
    let aal2 = Tokens::from_json(&r.json());
    let regen = ctx
        .api
        .post_empty_as("/api/auth/mfa/recovery-codes/regenerate/", &aal2.access)
        .await;
    regen.expect(200);
    let fresh = regen.json()["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!e.recovery.contains(&fresh));
    // The old set no longer works.
    let token = challenge(&ctx.api, &e.user).await;
    verify(
        &ctx.api,
        json!({"mfa_token": token, "recovery_code": e.recovery[0]}),
    )
    .await
    .expect_error(400, "invalid_mfa_code");
    ctx.api
        .post_as(
            "/api/auth/mfa/totp/disable/",
            &aal2.access,
            &json!({"password": "not-the-password"}),
        )
        .await
        .expect_error(400, "invalid_credentials");
    ctx.api
        .post_as(
            "/api/auth/mfa/totp/disable/",
            &aal2.access,
            &json!({"password": e.user.password}),
        )
        .await
        .expect(200);
    // A password is enough again.
    ctx.api
        .login(&e.user.email, &e.user.password)
        .await
        .expect(200);
}

#[tokio::test]
async fn enrolment_is_refused_while_totp_is_on() {
    let (ctx, e) = enrolled_ctx().await;
    ctx.api
        .post_empty_as("/api/auth/mfa/totp/enroll/", &e.tokens.access)
        .await
        .expect_error(409, "mfa_already_enrolled");
}

#[tokio::test]
async fn admins_see_factor_kinds_and_reset_them_audited() {
    let (ctx, mut e) = enrolled_ctx().await;
    let me = ctx.api.profile(&e.tokens.access).await;
    let id = me.json()["id"].as_i64().unwrap();
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let admin = admin_api.login_ok(&ctx.server.create_user("admin")).await;
    let staff = admin_api.login_ok(&ctx.server.create_user("staff")).await;
    let path = format!("/api/admin/users/{id}/");
    let shown = admin_api.get_as(&path, &staff.access).await;
    shown.expect(200);
    assert_eq!(shown.json()["mfa"], json!(["totp"]));
    let reset = format!("/api/admin/users/{id}/mfa/reset/");
    admin_api
        .post_empty_as(&reset, &staff.access)
        .await
        .expect_error(403, "permission_denied");
    let r = admin_api.post_empty_as(&reset, &admin.access).await;
    r.expect(200);
    assert_eq!(r.json()["mfa"], json!([]));
    // The user signs in with the password alone, and may enrol again.
    let t = ctx.api.login_ok(&e.user).await;
    let log = admin_api
        .get_as(
            &format!("/api/admin/audit/?event=mfa.*&target_user={id}"),
            &admin.access,
        )
        .await;
    log.expect(200);
    let events: Vec<String> = log.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|ev| ev["target_user_id"] == id)
        .map(|ev| ev["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.contains(&"mfa.reset".to_owned()), "{events:?}");
    assert!(events.contains(&"mfa.enrolled".to_owned()), "{events:?}");
    e.auth.last = 0;
    let again = ctx
        .api
        .post_empty_as("/api/auth/mfa/totp/enroll/", &t.access)
        .await;
    again.expect(200);
}

#[tokio::test]
async fn an_emailed_sign_in_code_is_a_first_factor_only() {
    let Some(ctx) = gatehouse_contract::mailbox::ctx() else {
        return;
    };
    let (_, api) = ctx.client(&ClientSpec::web_with(&["--signin-codes"]));
    let mut e = enrolled_creator(&api).await;
    gatehouse_contract::mailbox::wait_for_mails(&e.user.email, 1)
        .await
        .unwrap();
    api.post_json("/api/auth/code/request/", &json!({ "email": e.user.email }))
        .await
        .expect(202);
    let mails = gatehouse_contract::mailbox::wait_for_mails(&e.user.email, 2)
        .await
        .unwrap();
    let code: String = mails.last().unwrap().subject.chars().take(6).collect();
    let r = api
        .post_json(
            "/api/auth/code/verify/",
            &json!({ "email": e.user.email, "code": code }),
        )
        .await;
    r.expect(401);
    assert_eq!(r.json()["code"], "mfa_required", "{}", r.text());
    let token = r.json()["mfa_token"].as_str().unwrap().to_owned();
    // The emailed code was spent by the first step.
    api.post_json(
        "/api/auth/code/verify/",
        &json!({ "email": e.user.email, "code": code }),
    )
    .await
    .expect_error(400, "invalid_code");
    let ok = verify(&api, json!({"mfa_token": token, "code": e.auth.code()})).await;
    ok.expect(200);
    let access = ok.json()["access"].as_str().unwrap().to_owned();
    assert_eq!(jwt::claims(&access)["amr"], json!(["email", "otp"]));
}

#[tokio::test]
async fn a_password_reset_neither_signs_in_nor_removes_the_factor() {
    let Some(ctx) = gatehouse_contract::mailbox::ctx() else {
        return;
    };
    let e = enrolled_creator(&ctx.api).await;
    gatehouse_contract::mailbox::wait_for_mails(&e.user.email, 1)
        .await
        .unwrap();
    ctx.api
        .post_json(
            "/api/auth/password/reset/",
            &json!({ "email": e.user.email }),
        )
        .await
        .expect(202);
    let mails = gatehouse_contract::mailbox::wait_for_mails(&e.user.email, 2)
        .await
        .unwrap();
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.subject == "Reset your password")
        .expect("the reset mail");
    let token = mail.link_param("token").expect("a token");
    let password = "Fresh-Lantern-84-Orbit";
    let r = ctx
        .api
        .post_json(
            "/api/auth/password/reset/confirm/",
            &json!({"token": token, "password": password, "password2": password}),
        )
        .await;
    r.expect(200);
    assert!(r.json().get("access").is_none(), "{}", r.text());
    let user = TestUser {
        password: password.into(),
        ..e.user
    };
    challenge(&ctx.api, &user).await;
}

#[tokio::test]
async fn admin_clients_ask_staff_without_a_factor_to_enrol() {
    let ctx = Ctx::new();
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let staff = ctx.server.create_user("staff");
    let r = admin_api.login(&staff.email, &staff.password).await;
    r.expect(200);
    assert_eq!(r.json()["mfa_enrollment_required"], true, "{}", r.text());
    let t = Tokens::from_json(&r.json());
    // A creator through a web client is never asked.
    let (creator, _) = ctx.api.new_creator().await;
    let plain = ctx.api.login(&creator.email, &creator.password).await;
    assert_eq!(keys(&plain.json()), ["access", "refresh"]);
    // The switch is per client: off, the hint goes; back on, it returns.
    let admin_creds = ctx.server.create_client(&ClientSpec::admin());
    let other = ctx.api.with_creds(&admin_creds);
    let path = format!("/api/admin/clients/{}/", admin_creds.client_id);
    let shown = admin_api.get_as(&path, &t.access).await;
    assert_eq!(
        shown.json()["require_mfa_for_staff"],
        true,
        "{}",
        shown.text()
    );
    let off = admin_api
        .send_as(
            http::Method::PATCH,
            &path,
            &t.access,
            &json!({"require_mfa_for_staff": false}),
        )
        .await;
    off.expect(200);
    assert_eq!(off.json()["require_mfa_for_staff"], false);
    let quiet = other.login(&staff.email, &staff.password).await;
    assert_eq!(keys(&quiet.json()), ["access", "refresh"]);
    // Once enrolled, the staff user signs in with the second step.
    let e = enroll(&admin_api, t, staff).await;
    challenge(&admin_api, &e.user).await;
}

#[tokio::test]
async fn changing_the_password_needs_the_second_factor_once_there_is_one() {
    let (ctx, mut e) = enrolled_ctx().await;
    let new_password = "Fresh-Lantern-84-Orbit";
    let body = json!({
        "old_password": e.user.password,
        "new_password": new_password,
        "new_password2": new_password,
    });
    ctx.api
        .change_password(&e.tokens.access, &body)
        .await
        .expect_error(403, "mfa_step_up_required");
    let token = challenge(&ctx.api, &e.user).await;
    let r = verify(&ctx.api, json!({"mfa_token": token, "code": e.auth.code()})).await;
    let aal2 = Tokens::from_json(&r.json());
    let changed = ctx.api.change_password(&aal2.access, &body).await;
    changed.expect(200);
    // The new login keeps the level of the one that changed it.
    let access = changed.json()["access"].as_str().unwrap().to_owned();
    assert_eq!(jwt::claims(&access)["aal"], 2);
}

#[tokio::test]
async fn require_mfa_for_staff_is_set_at_creation() {
    let ctx = Ctx::new();
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let staff = admin_api.login_ok(&ctx.server.create_user("staff")).await;
    let create = |body: serde_json::Value| {
        admin_api
            .post("/api/admin/clients/")
            .bearer(&staff.access)
            .json(&body)
            .send()
    };
    // Given, either way; else the type's default.
    for (body, want) in [
        (
            json!({"name": "w-on", "client_type": "web", "rate_limit": 10, "require_mfa_for_staff": true}),
            true,
        ),
        (
            json!({"name": "a-off", "client_type": "admin", "rate_limit": 10, "require_mfa_for_staff": false}),
            false,
        ),
        (
            json!({"name": "a-dflt", "client_type": "admin", "rate_limit": 10}),
            true,
        ),
        (
            json!({"name": "w-dflt", "client_type": "web", "rate_limit": 10}),
            false,
        ),
    ] {
        let r = create(body.clone()).await;
        r.expect(201);
        assert_eq!(r.json()["require_mfa_for_staff"], want, "{body}");
    }
    let bad = create(json!({"name": "x", "client_type": "web", "rate_limit": 10, "require_mfa_for_staff": "yes"})).await;
    bad.expect(400);
    assert!(
        bad.json().get("require_mfa_for_staff").is_some(),
        "{}",
        bad.text()
    );

    // The CLI: the bare flag turns it on, `=false` off.
    let flag = |extra: &[&str]| {
        let mut args = vec![
            "create-api-client",
            "--name",
            "cli-mfa",
            "--type",
            "web",
            "--rate-limit",
            "5",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = ctx.server.cli_ok(&args);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["require_mfa_for_staff"]
            .clone()
    };
    assert_eq!(flag(&[]), false);
    assert_eq!(flag(&["--require-mfa-for-staff"]), true);
    let mut admin_off = vec!["--type", "admin", "--require-mfa-for-staff=false"];
    let out = {
        let mut args = vec![
            "create-api-client",
            "--name",
            "cli-admin",
            "--rate-limit",
            "5",
            "--json",
        ];
        args.append(&mut admin_off);
        ctx.server.cli_ok(&args)
    };
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["require_mfa_for_staff"],
        false
    );
}

#[tokio::test]
async fn a_login_without_a_recent_factor_steps_up_on_the_spot() {
    let (ctx, mut e) = enrolled_ctx().await;
    let access = e.tokens.access.clone();
    let regenerate = "/api/auth/mfa/recovery-codes/regenerate/";
    // The login that enrolled never passed the factor.
    ctx.api
        .post_empty_as(regenerate, &access)
        .await
        .expect_error(403, "mfa_step_up_required");
    let step_up = |body: Value| {
        ctx.api
            .post("/api/auth/mfa/step-up/")
            .bearer(&access)
            .json(&body)
            .send()
    };
    step_up(json!({ "code": e.auth.wrong() }))
        .await
        .expect_error(400, "invalid_mfa_code");
    step_up(json!({"code": "123456", "recovery_code": "abcde-fghij"}))
        .await
        .expect(400);
    step_up(json!({ "credential": "nope", "challenge_id": "x" }))
        .await
        .expect(400);
    // This client has no passkey setup, and the user no passkey.
    ctx.api
        .post_empty_as("/api/auth/mfa/step-up/passkey/options/", &access)
        .await
        .expect(400);
    let r = step_up(json!({ "code": e.auth.code() })).await;
    r.expect(200);
    assert_eq!(r.json()["valid_for"], 900, "{}", r.text());
    assert!(r.json()["mfa_at"].is_string());
    ctx.api.post_empty_as(regenerate, &access).await.expect(200);
    // The login's next refresh carries the factor.
    let t = ctx.api.refresh_ok(&e.tokens.refresh).await;
    let claims = jwt::claims(&t.access);
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert_eq!(claims["aal"], 2);
    // Signed out: 401.
    ctx.api
        .post_json("/api/auth/mfa/step-up/", &json!({"code": "123456"}))
        .await
        .expect(401);
}
