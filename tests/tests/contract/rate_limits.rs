//! Per-client request budgets.

use gatehouse_contract::harness::*;

/// A request that passes the key check and nothing more.
async fn hit(api: &Api) -> Resp {
    api.get("/api/auth/profile/").send().await
}

#[tokio::test]
async fn the_sixth_request_of_a_five_per_hour_client_is_throttled() {
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::web().rate_limit(5));
    let mut remaining = Vec::new();
    for i in 1..=5 {
        let r = hit(&api).await;
        assert_ne!(r.status, 429, "request {i} throttled early: {}", r.text());
        r.expect_error(401, "not_authenticated");
        assert_eq!(r.header_u64("x-ratelimit-limit"), 5, "request {i}");
        remaining.push(r.header_u64("x-ratelimit-remaining"));
        r.header_u64("x-ratelimit-reset");
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0], "X-RateLimit-Remaining");
    let r = hit(&api).await;
    r.expect_error(429, "throttled");
    let n = r.header_u64("retry-after");
    assert!(n > 0, "Retry-After must be positive");
    // The budget is per hour: never more than an hour to wait, and the
    // wait for one request is no longer than for the whole budget.
    let reset = r.header_u64("x-ratelimit-reset");
    assert!(n <= 3600 && reset <= 3600, "Retry-After {n}, reset {reset}");
    assert!(n <= reset, "Retry-After {n} > X-RateLimit-Reset {reset}");
    assert_eq!(
        r.json()["detail"],
        format!("Request was throttled. Expected available in {n} seconds."),
    );
    assert_eq!(r.header_u64("x-ratelimit-limit"), 5);
    assert_eq!(r.header_u64("x-ratelimit-remaining"), 0);
    assert!(r.header_u64("x-ratelimit-reset") > 0);
    // Another client is not affected.
    let r = hit(&ctx.api).await;
    r.expect_error(401, "not_authenticated");
    assert!(r.header_u64("x-ratelimit-remaining") > 0);
}

/// The budget is one counter per client however the requests arrive: a burst
/// of concurrent requests (on the Worker: one database row shared by every
/// isolate) lets exactly the budget through.
#[tokio::test]
async fn a_concurrent_burst_gets_exactly_the_budget() {
    const LIMIT: usize = 8;
    const SENT: usize = 24;
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::web().rate_limit(LIMIT as u32));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..SENT {
        let api = api.clone();
        tasks.spawn(async move { hit(&api).await });
    }
    let mut statuses = Vec::new();
    while let Some(r) = tasks.join_next().await {
        statuses.push(r.expect("request task").status);
    }
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    let passed = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        (passed, throttled),
        (LIMIT, SENT - LIMIT),
        "statuses: {statuses:?}"
    );
}

#[tokio::test]
async fn remaining_goes_down_with_each_request() {
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::web().rate_limit(100));
    let a = hit(&api).await.header_u64("x-ratelimit-remaining");
    let b = hit(&api).await.header_u64("x-ratelimit-remaining");
    let c = hit(&api).await.header_u64("x-ratelimit-remaining");
    assert!(a > b && b > c, "remaining {a}, {b}, {c}");
    assert!(a < 100);
}

#[tokio::test]
async fn responses_that_passed_the_key_check_carry_rate_limit_headers() {
    let (ctx, _, t) = Ctx::creator().await;
    for r in [
        ctx.api.profile(&t.access).await,
        ctx.api.refresh("junk").await,
        ctx.api.register(&serde_json::json!({})).await,
    ] {
        assert_eq!(r.header_u64("x-ratelimit-limit"), 100_000, "{}", r.request);
        r.header_u64("x-ratelimit-remaining");
        r.header_u64("x-ratelimit-reset");
    }
}
