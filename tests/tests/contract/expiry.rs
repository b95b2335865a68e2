//! Expiry on the wall clock, on a server with short lifetimes.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use std::time::Duration;

/// The most exp leeway (seconds) a host may allow before the tests call an
/// expired token accepted.
const LEEWAY: i64 = 6;

#[tokio::test]
async fn an_access_token_stops_working_when_it_expires() {
    let Some(ctx) = Ctx::with(
        ServerConfig::ShortLifetimes,
        "an_access_token_stops_working_when_it_expires",
    ) else {
        return;
    };
    let (_, t) = ctx.api.new_creator().await;
    let c = jwt::claims(&t.access);
    let exp = c["exp"].as_i64().unwrap_or(0);
    assert_eq!(
        exp - c["iat"].as_i64().unwrap_or(0),
        SHORT_ACCESS_TTL,
        "{c}"
    );
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
    let Some(ctx) = Ctx::with(
        ServerConfig::ShortLifetimes,
        "an_expired_refresh_token_is_refused",
    ) else {
        return;
    };
    let (u, _) = ctx.api.new_creator().await;
    let t = ctx.api.login_ok(&u).await;
    let c = jwt::claims(&t.refresh);
    let exp = c["exp"].as_i64().unwrap_or(0);
    assert_eq!(
        exp - c["iat"].as_i64().unwrap_or(0),
        SHORT_REFRESH_TTL,
        "{c}"
    );
    // Using it would rotate it, so wait on the wall clock past its exp,
    // allowing the verifier a clock-skew leeway of up to LEEWAY seconds (the
    // contract pins none; a few seconds is common practice).
    let wait = (exp - jwt::now() + LEEWAY + 1).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    ctx.api
        .refresh(&t.refresh)
        .await
        .expect_error(401, "token_not_valid");
    // The user logs in again.
    ctx.api.login_ok(&u).await;
}
