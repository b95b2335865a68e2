//! The findings of the black-box attack run (issue 11), one regression test
//! each: every test here failed against the seed's `main`.

use gatehouse_contract::harness::*;
use serde_json::{json, Value};
use std::net::IpAddr;

const NEW_PASSWORD: &str = "Fresh-Lantern-84-Orbit";

/// Another loopback source address: another caller for per-IP counters.
fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn change_body(old: &str) -> Value {
    json!({"old_password": old, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
}

/// An admin session on an admin-type client, for reading the audit log.
async fn admin_api(ctx: &Ctx) -> (Api, Tokens) {
    let (_, api) = ctx.client(&ClientSpec::admin().serves("staff,admin"));
    let admin = ctx.server.create_user("admin");
    let t = api.login_ok(&admin).await;
    (api, t)
}

async fn audit_events(api: &Api, access: &str, event: &str, user: i64) -> Vec<Value> {
    let r = api
        .get_as(
            &format!("/api/admin/audit/?event={event}&user={user}"),
            access,
        )
        .await;
    r.expect(200);
    r.json()["results"].as_array().cloned().unwrap_or_default()
}

/// Item 2: a stolen token must not let its holder guess the current
/// password without limit. Wrong current passwords count against the same
/// counters as failed logins, and are audited.
#[tokio::test]
async fn guessing_the_current_password_is_throttled_and_audited() {
    let (ctx, u, t) = Ctx::creator().await;
    for i in 1..=10 {
        ctx.api
            .change_password(&t.access, &change_body(&format!("Wrong-Guess-{i}x")))
            .await
            .expect_body(
                400,
                &json!({"old_password": ["Old password is not correct."]}),
            );
    }
    let r = ctx
        .api
        .change_password(&t.access, &change_body("Wrong-Guess-11x"))
        .await;
    r.expect_error(429, "login_throttled");
    assert!(r.header_u64("retry-after") > 0);
    // The right password waits too: otherwise the throttle would confirm it.
    ctx.api
        .change_password(&t.access, &change_body(&u.password))
        .await
        .expect_error(429, "login_throttled");
    // Nothing changed: the owner still signs in with the old password (from
    // elsewhere, as this address is held for this account).
    ctx.api.from_address(loopback(31)).login_ok(&u).await;

    let (admin, at) = admin_api(&ctx).await;
    let id = u.id.expect("registered user id");
    let failed = audit_events(&admin, &at.access, "password.change_failed", id).await;
    assert_eq!(failed.len(), 10, "one event per wrong guess: {failed:?}");
    assert_eq!(failed[0]["detail"]["reason"], "invalid_old_password");
}

/// Item 5: failures from one address must not lock the owner out when
/// they come from another.
#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let (ctx, u, _) = Ctx::creator().await;
    let attacker = ctx.api.from_address(loopback(41));
    for i in 1..=10 {
        let r = attacker.login(&u.email, "Wrong-Password-42").await;
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    let r = attacker.login(&u.email, "Wrong-Password-42").await;
    r.expect_error(429, "login_throttled");
    // The attacker's address stays held for this account, even with the
    // right password…
    attacker
        .login(&u.email, &u.password)
        .await
        .expect_error(429, "login_throttled");
    // …while the owner, elsewhere, signs in.
    ctx.api.from_address(loopback(42)).login_ok(&u).await;
}

/// Item 6: concurrent changes with the same current password: exactly one
/// wins; the others get 400 and no tokens; only the winner's password and
/// tokens work afterwards.
#[tokio::test]
async fn concurrent_password_changes_have_exactly_one_winner() {
    let (ctx, u, t) = Ctx::creator().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..4 {
        let api = ctx.api.clone();
        let access = t.access.clone();
        let old = u.password.clone();
        tasks.spawn(async move {
            let new = format!("Racing-Change-{i}-Password");
            let body = json!({"old_password": old, "new_password": new, "new_password2": new});
            (new, api.change_password(&access, &body).await)
        });
    }
    let mut winners = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (new, r) = done.expect("task");
        match r.status {
            200 => winners.push((new, Tokens::from_json(&r.json()))),
            400 => {
                r.expect_body(
                    400,
                    &json!({"old_password": ["Old password is not correct."]}),
                );
            }
            s => panic!("unexpected {s}: {}", r.text()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one change wins");
    let (new, tokens) = &winners[0];
    ctx.api.profile(&tokens.access).await.expect(200);
    ctx.api.refresh(&tokens.refresh).await.expect(200);
    let now = TestUser {
        password: new.clone(),
        ..u.clone()
    };
    ctx.api.login_ok(&now).await;
    ctx.api
        .login(&u.email, &u.password)
        .await
        .expect_error(401, "no_active_account");
}

/// Item 7: token answers are never cached (RFC 6749 §5.1).
#[tokio::test]
async fn token_answers_are_not_cacheable() {
    let (ctx, user) = Ctx::with_fresh_user();
    let register = ctx.api.register(&user.register_body()).await;
    register.expect(201);
    let login = ctx.api.login(&user.email, &user.password).await;
    login.expect(200);
    let t = Tokens::from_json(&login.json());
    let refresh = ctx.api.refresh(&t.refresh).await;
    refresh.expect(200);
    let t = Tokens::from_json(&refresh.json());
    let change = ctx
        .api
        .change_password(&t.access, &change_body(&user.password))
        .await;
    change.expect(200);
    for r in [&register, &login, &refresh, &change] {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.request);
        assert_eq!(r.header("pragma"), Some("no-cache"), "{}", r.request);
    }
}

/// Item 4: a browser client's key is public, so anonymous callers must not
/// be able to spend the budget of the client's signed-in users. Requests
/// without a valid access token count per (client, IP); a signed-in user's
/// per (client, user).
#[tokio::test]
async fn anonymous_callers_cannot_spend_a_clients_budget_for_its_users() {
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::web().rate_limit(5));
    // The user signs up from their own address.
    let (_, t) = api.from_address(loopback(51)).new_creator().await;
    // An anonymous caller elsewhere spends its whole budget, then is held…
    let anonymous = api.from_address(loopback(52));
    for i in 1..=5 {
        let r = anonymous.get("/api/auth/profile/").send().await;
        assert_eq!(r.status, 401, "request {i}: {}", r.text());
    }
    anonymous
        .get("/api/auth/profile/")
        .send()
        .await
        .expect_error(429, "throttled");
    // …and so are forged or expired tokens: they count as anonymous.
    anonymous
        .get_as("/api/auth/profile/", "eyJhbGciOiJub25lIn0.e30.")
        .await
        .expect_error(429, "throttled");
    // The signed-in user is not affected, from any address.
    let r = anonymous.profile(&t.access).await;
    r.expect(200);
    assert_eq!(r.header_u64("x-ratelimit-limit"), 5);
}

/// Item 10: registrations from one IP are throttled.
#[tokio::test]
async fn registration_is_throttled_per_ip() {
    let Some(ctx) = Ctx::with(ServerConfig::LowRegisterLimit) else {
        return;
    };
    let api = ctx.api.from_address(loopback(61));
    for i in 1..=3 {
        let r = api.register(&TestUser::fresh().register_body()).await;
        assert_eq!(r.status, 201, "registration {i}: {}", r.text());
    }
    let r = api.register(&TestUser::fresh().register_body()).await;
    r.expect_error(429, "register_throttled");
    assert!(r.header_u64("retry-after") > 0);
    // Another address is not affected.
    ctx.api
        .from_address(loopback(62))
        .register(&TestUser::fresh().register_body())
        .await
        .expect(201);
}

/// Item 11: a credential header sent twice is refused, whichever copy is
/// right (natively two header lines; the Worker's runtime folds them into
/// one value joined by a comma, which is refused the same way).
#[tokio::test]
async fn repeated_credential_headers_are_refused() {
    let ctx = Ctx::new();
    let (other, _) = ctx.client(&ClientSpec::web());
    let c = &ctx.creds;
    let cases = [
        ("x-api-key", other.api_key.as_str()),
        ("x-api-key", c.api_key.as_str()),
        ("x-client-id", other.client_id.as_str()),
        ("x-client-id", c.client_id.as_str()),
    ];
    for (name, second) in cases {
        // The harness sends the right pair first; this is a second copy.
        let r = ctx
            .api
            .get("/api/auth/profile/")
            .header(name, second)
            .send()
            .await;
        r.expect_error(400, "duplicate_header");
    }
    let (_, t) = ctx.api.new_creator().await;
    let r = ctx
        .api
        .get("/api/auth/profile/")
        .bearer(&t.access)
        .bearer(&t.access)
        .send()
        .await;
    if std::env::var("GATEHOUSE_TEST_BEHIND_NGINX").is_ok_and(|v| v == "1") {
        // nginx refuses a repeated Authorization itself (its own HTML 400)
        // before any host sees it (scripts/test-multihost.sh).
        assert_eq!(r.status, 400, "{}", r.text());
    } else {
        r.expect_error(400, "duplicate_header");
    }
    // Folded by a proxy into one value.
    let r = ctx
        .api
        .get("/api/auth/profile/")
        .no_key()
        .header("x-api-key", &format!("{}, {}", c.api_key, other.api_key))
        .header("x-client-id", &c.client_id)
        .send()
        .await;
    r.expect_error(400, "duplicate_header");
}

/// Item 3: behind a proxy, the address is the one the proxy appended (the
/// rightmost `X-Forwarded-For` entry), not one the client wrote.
#[tokio::test]
async fn behind_a_proxy_a_client_written_forwarded_for_does_not_spread_failures() {
    let Some(ctx) = Ctx::with(ServerConfig::TrustProxy) else {
        return;
    };
    // The client writes a new address each time; the proxy appends the
    // real one (203.0.113.90, documentation range).
    let login = |i: u32| {
        ctx.api
            .post("/api/auth/token/")
            .header("x-forwarded-for", &format!("192.0.2.{i}, 203.0.113.90"))
            .json(&json!({"email": unique_email(), "password": "Wrong-Password-42"}))
            .send()
    };
    for i in 1..=5 {
        let r = login(i).await;
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    login(6).await.expect_error(429, "login_throttled");
}
