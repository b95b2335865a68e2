//! Second factors in process, with the fake clock: the TOTP window's edges
//! through the whole service, a code refused once used (and any older one),
//! the challenge's five-minute life, and TOTP without a data key.

mod support;

use gatehouse_core::clock::UnixMillis;
use gatehouse_core::mfa::totp::{base32_decode, code_at, step_of};
use gatehouse_core::mfa::DataKey;
use gatehouse_core::Config;
use http::{Method, StatusCode};
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

/// Registers `name`, enrols and confirms TOTP; the secret.
async fn enrolled(w: &World, name: &str) -> Vec<u8> {
    let access = s(&w.register(name).await.body["access"]);
    let r = w
        .call(
            Method::POST,
            "/api/auth/mfa/totp/enroll/",
            None,
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    let code = code_at(&secret, step_of(now(w)));
    let r = w
        .call(
            Method::POST,
            "/api/auth/mfa/totp/confirm/",
            Some(json!({ "code": code })),
            Some(&access),
        )
        .await;
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
        .call(
            Method::POST,
            "/api/auth/mfa/verify/",
            Some(json!({"mfa_token": token, "code": code})),
            None,
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
    let r = w
        .call(
            Method::POST,
            "/api/auth/mfa/totp/enroll/",
            None,
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["code"], "mfa_not_configured");
    // Nothing else changes: the password still signs in.
    assert_eq!(
        w.login("cyd@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}
