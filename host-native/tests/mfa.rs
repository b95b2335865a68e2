//! Second factors in process, with the fake clock: the TOTP window's edges
//! through the whole service, a code refused once used (and any older one),
//! the challenge's five-minute life, and TOTP without a data key.

mod support;

use gatehouse_core::clock::UnixMillis;
use gatehouse_core::mfa::totp::{base32_decode, code_at, step_of};
use gatehouse_core::mfa::DataKey;
use gatehouse_core::Config;
use http::StatusCode;
use serde_json::{json, Value};
use support::*;

fn config() -> Config {
    Config {
        data_key: Some(DataKey([5; 32])),
        ..Config::default()
    }
}

fn now(w: &World) -> UnixMillis {
    UnixMillis(w.clock.now_ms())
}

/// `POST totp/enroll/` as `access`.
async fn start_totp(w: &World, access: &str) -> Reply {
    w.api()
        .post_empty_as("/api/auth/mfa/totp/enroll/", access)
        .await
}

/// `POST totp/confirm/` with `code` as `access`.
async fn confirm_totp(w: &World, access: &str, code: &str) -> Reply {
    let body = json!({ "code": code });
    w.api()
        .post_as("/api/auth/mfa/totp/confirm/", body, access)
        .await
}

/// Registers `name`, enrols and confirms TOTP; the secret.
async fn enrolled(w: &World, name: &str) -> Vec<u8> {
    let access = s(&w.register(name).await.body["access"]);
    let r = start_totp(w, &access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    let code = code_at(&secret, step_of(now(w)));
    let r = confirm_totp(w, &access, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    secret
}

async fn challenge(w: &World, name: &str) -> String {
    let r = w.login(&format!("{name}@example.com"), PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.body["code"], "mfa_required");
    s(&r.body["mfa_token"])
}

async fn answer(w: &World, token: &str, code: &str) -> (StatusCode, Value) {
    let r = w
        .api()
        .post(
            "/api/auth/mfa/verify/",
            json!({"mfa_token": token, "code": code}),
        )
        .await;
    (r.status, r.body)
}

#[tokio::test]
async fn the_window_is_one_step_either_side_and_each_code_counts_once() {
    let w = world_with(config(), |g| g).await;
    let secret = enrolled(&w, "ada").await;
    // Move to the start of a step, well after the confirming code's.
    let start = (step_of(now(&w)) + 10) * 30_000;
    w.clock.advance_millis(start - w.clock.now_ms());
    let s0 = step_of(now(&w));
    let token = challenge(&w, "ada").await;
    for far in [s0 - 2, s0 + 2] {
        let (status, body) = answer(&w, &token, &code_at(&secret, far)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "step {far}: {body}");
    }
    // The next step's code (a clock ahead) is accepted...
    let (status, body) = answer(&w, &token, &code_at(&secret, s0 + 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // ...and then neither it nor an older step's code again.
    let token = challenge(&w, "ada").await;
    for used in [s0 + 1, s0, s0 - 1] {
        let (status, _) = answer(&w, &token, &code_at(&secret, used)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "step {used}");
    }
    // At the last millisecond of step s0 + 2: s0 + 4 is two ahead, s0 + 3 one.
    w.clock
        .advance_millis((s0 + 3) * 30_000 - 1 - w.clock.now_ms());
    let token = challenge(&w, "ada").await;
    let (status, _) = answer(&w, &token, &code_at(&secret, s0 + 4)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = answer(&w, &token, &code_at(&secret, s0 + 3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // At the first millisecond of step s0 + 6: s0 + 4 is two behind, s0 + 5 one.
    w.clock.advance_millis((s0 + 6) * 30_000 - w.clock.now_ms());
    let token = challenge(&w, "ada").await;
    let (status, _) = answer(&w, &token, &code_at(&secret, s0 + 4)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = answer(&w, &token, &code_at(&secret, s0 + 5)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_challenge_lives_five_minutes() {
    let w = world_with(config(), |g| g).await;
    let secret = enrolled(&w, "bea").await;
    w.clock.advance_secs(60);
    let token = challenge(&w, "bea").await;
    w.clock.advance_secs(300);
    let code = code_at(&secret, step_of(now(&w)));
    let (status, body) = answer(&w, &token, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "mfa_token_invalid");
    let token = challenge(&w, "bea").await;
    w.clock.advance_secs(299);
    let code = code_at(&secret, step_of(now(&w)));
    let (status, body) = answer(&w, &token, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn without_a_data_key_totp_enrolment_is_503() {
    let w = world().await;
    let access = s(&w.register("cyd").await.body["access"]);
    let r = start_totp(&w, &access).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["code"], "mfa_not_configured");
    // Nothing else changes: the password still signs in.
    assert_eq!(
        w.login("cyd@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

/// An access token's claims (its middle part, base64url), unverified.
fn claims(access: &str) -> Value {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let part = access.split('.').nth(1).unwrap();
    let (mut bits, mut n, mut raw) = (0u32, 0, Vec::new());
    for c in part.bytes() {
        bits = (bits << 6) | A.iter().position(|&a| a == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            raw.push((bits >> n) as u8);
        }
    }
    serde_json::from_slice(&raw).unwrap()
}

async fn regenerate(w: &World, access: &str) -> Reply {
    w.api()
        .post_empty_as("/api/auth/mfa/recovery-codes/regenerate/", access)
        .await
}

async fn step_up(w: &World, access: &str, body: Value) -> Reply {
    w.api()
        .post_as("/api/auth/mfa/step-up/", body, access)
        .await
}

/// The code of the current step, moved to the start of a fresh step first
/// (each step's code is accepted once).
fn fresh_code(w: &World, secret: &[u8]) -> String {
    let next = (step_of(now(w)) + 1) * 30_000;
    w.clock.advance_millis(next - w.clock.now_ms());
    code_at(secret, step_of(now(w)))
}

#[tokio::test]
async fn a_second_factor_counts_as_recent_for_fifteen_minutes_then_a_step_up_renews_it() {
    let w = world_with(config(), |g| g).await;
    let secret = enrolled(&w, "dee").await;
    let token = challenge(&w, "dee").await;
    let code = fresh_code(&w, &secret);
    let (status, body) = answer(&w, &token, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = s(&body["access"]);
    let refresh = s(&body["refresh"]);
    let signed_in = w.clock.now_ms();
    assert_eq!(regenerate(&w, &access).await.status, StatusCode::OK);

    // The last millisecond of the window (a refresh does not renew it).
    w.clock
        .advance_millis(signed_in + 15 * 60_000 - w.clock.now_ms());
    let r = w.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let access = s(&r.body["access"]);
    assert_eq!(regenerate(&w, &access).await.status, StatusCode::OK);
    w.clock.advance_millis(1);
    regenerate(&w, &access)
        .await
        .assert_error(403, "mfa_step_up_required");
    let pw = json!({"old_password": PASSWORD, "new_password": "Brass-Otter-5521", "new_password2": "Brass-Otter-5521"});
    w.api()
        .post_as("/api/auth/change-password/", pw.clone(), &access)
        .await
        .assert_error(403, "mfa_step_up_required");

    // A wrong code, then the right one: recent again, for 15 minutes.
    step_up(&w, &access, json!({"code": "000000"}))
        .await
        .assert_error(400, "invalid_mfa_code");
    let code = fresh_code(&w, &secret);
    let r = step_up(&w, &access, json!({"code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["valid_for"], 900);
    let stepped = w.clock.now_ms();
    // The same code again is refused (each step's code counts once).
    step_up(&w, &access, json!({"code": code}))
        .await
        .assert_error(400, "invalid_mfa_code");
    assert_eq!(regenerate(&w, &access).await.status, StatusCode::OK);
    // Change-password opens a new login that keeps the step-up's time.
    let r = w
        .api()
        .post_as("/api/auth/change-password/", pw, &access)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let access = s(&r.body["access"]);
    assert_eq!(claims(&access)["aal"], 2);
    w.clock
        .advance_millis(stepped + 15 * 60_000 + 1 - w.clock.now_ms());
    regenerate(&w, &access)
        .await
        .assert_error(403, "mfa_step_up_required");
}

#[tokio::test]
async fn a_login_from_before_the_enrolment_steps_up_and_its_refresh_carries_the_factor() {
    let w = world_with(config(), |g| g).await;
    let reg = w.register("fay").await;
    let (access, refresh) = (s(&reg.body["access"]), s(&reg.body["refresh"]));
    let enroll = start_totp(&w, &access).await;
    let secret = base32_decode(enroll.body["secret"].as_str().unwrap()).unwrap();
    let code = fresh_code(&w, &secret);
    let r = confirm_totp(&w, &access, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes = r.body["recovery_codes"].clone();
    // This login never passed the factor.
    regenerate(&w, &access)
        .await
        .assert_error(403, "mfa_step_up_required");
    // A recovery code steps up (and is spent).
    let rc = s(&codes[0]);
    let r = step_up(&w, &access, json!({"recovery_code": rc})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    step_up(&w, &access, json!({"recovery_code": rc}))
        .await
        .assert_error(400, "invalid_mfa_code");
    assert_eq!(regenerate(&w, &access).await.status, StatusCode::OK);
    let r = w.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = claims(&s(&r.body["access"]));
    assert_eq!(c["amr"], json!(["pwd", "rc"]));
    assert_eq!(c["aal"], 2);
    // Exactly one answer; bad input is a field error.
    let r = step_up(&w, &access, json!({"code": "123456", "recovery_code": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = step_up(&w, &access, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    // Signed out: 401.
    let r = w
        .api()
        .post("/api/auth/mfa/step-up/", json!({"code": "123456"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn step_up_answers_are_capped_per_user() {
    let w = world_with(config(), |g| g).await;
    let secret = enrolled(&w, "gus").await;
    let token = challenge(&w, "gus").await;
    let (_, body) = answer(&w, &token, &fresh_code(&w, &secret)).await;
    let access = s(&body["access"]);
    // Ten attempts an hour, right or wrong, counted before they are looked
    // at; the wrong ones also spend the user's sign-in failures.
    for i in 0..10 {
        let r = step_up(&w, &access, json!({"code": "000000"})).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::TOO_MANY_REQUESTS,
            "attempt {i}: {}",
            r.body
        );
    }
    let r = step_up(&w, &access, json!({"code": fresh_code(&w, &secret)})).await;
    r.assert_error(429, "mfa_throttled");
}
