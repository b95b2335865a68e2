//! Expiry on the wall clock, on a server with short lifetimes.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use std::time::Duration;

/// The most exp leeway (seconds) a host may allow before the tests call an
/// expired token accepted.
const LEEWAY: i64 = 6;

/// `token`'s `exp`, checked to be `ttl` seconds after its `iat`.
fn exp_after(token: &str, ttl: i64) -> i64 {
    let c = jwt::claims(token);
    let exp = c["exp"].as_i64().unwrap_or(0);
    assert_eq!(exp - c["iat"].as_i64().unwrap_or(0), ttl, "{c}");
    exp
}

#[tokio::test]
async fn an_access_token_stops_working_when_it_expires() {
    let Some((ctx, _, t)) = Ctx::creator_with(ServerConfig::ShortLifetimes).await else {
        return;
    };
    let exp = exp_after(&t.access, SHORT_ACCESS_TTL);
    let deadline = Duration::from_secs((SHORT_ACCESS_TTL + LEEWAY) as u64 + 4);
    let r = eventually(deadline, "access token expires", || async {
        let r = ctx.api.profile(&t.access).await;
        match r.status {
            401 => Ok(r),
            200 => Err("still 200".into()),
            s => panic!("unexpected {s}: {}", r.text()),
        }
    })
    .await;
    r.expect_error(401, "token_not_valid");
    // Not before its time (one second of slack for clock rounding).
    assert!(
        jwt::now() >= exp - 1,
        "refused {}s before exp",
        exp - jwt::now()
    );
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let Some((ctx, u, _)) = Ctx::creator_with(ServerConfig::ShortLifetimes).await else {
        return;
    };
    let t = ctx.api.login_ok(&u).await;
    let exp = exp_after(&t.refresh, SHORT_REFRESH_TTL);
    // Using it would rotate it, so wait on the wall clock past its exp,
    // allowing the verifier a clock-skew leeway of up to LEEWAY seconds (the
    // contract pins none; a few seconds is common practice).
    let wait = (exp - jwt::now() + LEEWAY + 1).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    ctx.api.refresh_refused(&t.refresh).await;
    // The user logs in again.
    ctx.api.login_ok(&u).await;
}

#[tokio::test]
async fn a_login_ends_at_its_max_age_however_often_it_is_refreshed() {
    let Some((ctx, u, _)) = Ctx::creator_with(ServerConfig::ShortSession).await else {
        return;
    };
    let t = ctx.api.login_ok(&u).await;
    let started = jwt::claims(&t.refresh)["iat"].as_i64().unwrap_or(0);
    let mut refresh = t.refresh;
    // Keep the login busy: each refresh rotates, until the family is too old.
    let deadline = std::time::Instant::now()
        + Duration::from_secs((SHORT_SESSION_MAX_AGE + LEEWAY) as u64 + 4);
    let last = loop {
        let r = ctx.api.refresh(&refresh).await;
        match r.status {
            200 => refresh = Tokens::from_json(&r.json()).refresh,
            401 => break r,
            s => panic!("unexpected {s}: {}", r.text()),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the login outlived its max age of {SHORT_SESSION_MAX_AGE}s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    last.expect_error(401, "token_not_valid");
    assert!(
        jwt::now() >= started + SHORT_SESSION_MAX_AGE - 1,
        "the login ended {}s before its max age",
        started + SHORT_SESSION_MAX_AGE - jwt::now()
    );
    // A new login starts a new family.
    let t2 = ctx.api.login_ok(&u).await;
    ctx.api.refresh(&t2.refresh).await.expect(200);
}
