//! The core's service end to end, in process, over an embedded libSQL file,
//! with a fake clock: the time-dependent rules (expiry, rotation windows,
//! rate-limit recovery) are tested here without waiting on a real clock.

mod support;

use gatehouse_core::api_client::NewApiClient;
use gatehouse_core::permission::{IsAdminUser, IsAuthenticated, IsCreator, IsStaffUser};
use gatehouse_core::service::{RouteHandler, RouteRequest};
use gatehouse_core::testing::TestEnv;
use gatehouse_core::user::UserType;
use gatehouse_core::Config;
use http::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use support::*;

#[tokio::test]
async fn access_token_expires_at_its_lifetime() {
    let w = world().await;
    let access = s(&w.register("ann").await.body["access"]);
    w.clock.advance_secs(15 * 60);
    assert_eq!(w.get("/api/auth/profile/", &access).await.status, 200);
    // Past expiry plus the tolerated clock skew.
    w.clock
        .advance_secs(gatehouse_core::token::CLOCK_SKEW_SECS as i64 + 1);
    let r = w.get("/api/auth/profile/", &access).await;
    r.assert_error(401, "token_not_valid");
}

#[tokio::test]
async fn refresh_token_expires_after_seven_days() {
    let w = world().await;
    let refresh = s(&w.register("bob").await.body["refresh"]);
    w.clock
        .advance_secs(7 * 86400 + gatehouse_core::token::CLOCK_SKEW_SECS as i64 + 1);
    assert_eq!(w.refresh(&refresh).await.status, 401);
}

#[tokio::test]
async fn rotation_keeps_a_login_alive_until_its_absolute_lifetime() {
    let w = world().await;
    let mut refresh = s(&w.register("cat").await.body["refresh"]);
    // Refresh every 6 days: each rotation stays inside the 7-day window,
    // but the family dies at 30 days whatever happens.
    for _ in 0..4 {
        w.clock.advance_secs(6 * 86400);
        let r = w.refresh(&refresh).await;
        assert_eq!(r.status, 200, "{}", r.body);
        refresh = s(&r.body["refresh"]);
    }
    w.clock.advance_secs(6 * 86400);
    assert_eq!(w.refresh(&refresh).await.status, 401);
}

/// A world where `name` registered and refreshed once: its first (now
/// spent) and its second refresh token.
async fn rotated_once(name: &str) -> (World, String, String) {
    let w = world().await;
    let first = s(&w.register(name).await.body["refresh"]);
    let second = s(&w.refresh(&first).await.body["refresh"]);
    (w, first, second)
}

#[tokio::test]
async fn the_spent_token_inside_the_grace_gets_the_same_new_token_again() {
    let (w, first, second) = rotated_once("dan").await;
    w.clock.advance_millis(29_999);
    let again = w.refresh(&first).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(s(&again.body["refresh"]), second, "the same refresh token");
    assert_eq!(w.refresh(&second).await.status, 200, "the chain goes on");
}

#[tokio::test]
async fn replayed_refresh_token_after_the_grace_revokes_the_family() {
    let (w, first, second) = rotated_once("dan").await;
    w.clock.advance_secs(30);
    assert_eq!(w.refresh(&first).await.status, 401);
    assert_eq!(
        w.refresh(&second).await.status,
        401,
        "the family is revoked"
    );
}

#[tokio::test]
async fn a_grandparent_token_revokes_the_family_at_once() {
    let (w, first, second) = rotated_once("dan").await;
    let third = s(&w.refresh(&second).await.body["refresh"]);
    assert_eq!(w.refresh(&first).await.status, 401);
    assert_eq!(w.refresh(&third).await.status, 401, "the family is revoked");
    assert_eq!(w.refresh(&second).await.status, 401);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_end_on_one_chain() {
    let w = world().await;
    let refresh = s(&w.register("eve").await.body["refresh"]);
    let (a, b) = tokio::join!(w.refresh(&refresh), w.refresh(&refresh));
    assert_eq!([a.status.as_u16(), b.status.as_u16()], [200, 200]);
    assert_eq!(a.body["refresh"], b.body["refresh"]);
    assert_eq!(w.refresh(&s(&a.body["refresh"])).await.status, 200);
}

#[tokio::test]
async fn without_a_grace_concurrent_refreshes_of_one_token_have_one_winner() {
    let w = world_with(
        gatehouse_core::Config {
            refresh_reuse_grace_secs: 0,
            ..gatehouse_core::Config::default()
        },
        |g| g,
    )
    .await;
    let refresh = s(&w.register("eve").await.body["refresh"]);
    let (a, b) = tokio::join!(w.refresh(&refresh), w.refresh(&refresh));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 401]);
}

#[tokio::test]
async fn client_rate_limit_recovers_at_its_steady_rate() {
    let w = world().await;
    let tiny = w.gh.create_api_client(web_client("tiny", 3)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(w.gh.via(&tiny).anonymous_profile().await.status, 401);
    }
    let r = w.gh.via(&tiny).anonymous_profile().await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "1200");
    assert_eq!(r.headers["x-ratelimit-remaining"], "0");
    // Another client is untouched.
    assert_eq!(w.api().anonymous_profile().await.status, 401);
    w.clock.advance_secs(1200);
    assert_eq!(w.gh.via(&tiny).anonymous_profile().await.status, 401);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_recover() {
    let w = world().await;
    w.register("fay").await;
    for _ in 0..10 {
        assert_eq!(
            w.login("fay@example.com", "wrong password!").await.status,
            401
        );
    }
    let r = w.login("fay@example.com", PASSWORD).await;
    assert_eq!(r.status, 429, "even the right password waits");
    assert_eq!(r.body["code"], "login_throttled");
    assert_eq!(r.headers["retry-after"], "90");
    // Another account from the same IP is not affected.
    w.register("gus").await;
    assert_eq!(w.login("gus@example.com", PASSWORD).await.status, 200);
    w.clock.advance_secs(90);
    assert_eq!(w.login("fay@example.com", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_ip() {
    let config = Config {
        failed_login_per_ip: gatehouse_core::rate_limit::Quota {
            limit: 5,
            period_secs: 900,
        },
        ..Config::default()
    };
    let w = world_with(config, |g| g).await;
    for i in 0..5 {
        assert_eq!(
            w.login(&format!("nobody{i}@example.com"), "whatever123")
                .await
                .status,
            401
        );
    }
    let r = w.login("nobody9@example.com", "whatever123").await;
    r.assert_error(429, "login_throttled");
}

#[tokio::test]
async fn deactivated_user_loses_access_and_refresh_at_once() {
    let w = world().await;
    let reg = w.register("hal").await;
    let id = reg.body["user"]["id"].as_i64().unwrap();
    let sql = open(&w._dir).await;
    use gatehouse_core::sql::{SqlExecutor, Statement};
    sql.run(Statement::new(
        "UPDATE users SET is_active = 0 WHERE id = ?",
        vec![id.into()],
    ))
    .await
    .unwrap();
    let access = s(&reg.body["access"]);
    assert_eq!(w.get("/api/auth/profile/", &access).await.status, 401);
    assert_eq!(w.refresh(&s(&reg.body["refresh"])).await.status, 401);
    assert_eq!(w.login("hal@example.com", PASSWORD).await.status, 401);
}

/// An embedder adds its own route with a guard in one line; the full matrix
/// of user types × guards holds over HTTP.
#[tokio::test]
async fn embedder_routes_apply_the_guard_matrix() {
    fn ok_handler() -> RouteHandler {
        Arc::new(|r: RouteRequest| {
            Box::pin(async move {
                let who = r.user.map(|u| u.username).unwrap_or_default();
                Ok(gatehouse_core::error::json_response(
                    StatusCode::OK,
                    &json!({"hello": who}),
                ))
            })
        })
    }
    let w = world_with(Config::default(), |g| {
        g.route(
            Method::GET,
            "/api/example/any-user/",
            IsAuthenticated,
            ok_handler(),
        )
        .route(
            Method::GET,
            "/api/example/creators/",
            IsCreator,
            ok_handler(),
        )
        .route(
            Method::GET,
            "/api/example/staff/",
            IsStaffUser,
            ok_handler(),
        )
        .route(
            Method::GET,
            "/api/example/admins/",
            IsAdminUser,
            ok_handler(),
        )
    })
    .await;
    let admin_client =
        w.gh.create_api_client(NewApiClient {
            client_type: "admin".into(),
            serves: Some(UserType::ALL.to_vec()),
            ..web_client("dash", 10_000)
        })
        .await
        .unwrap();
    let mut tokens = vec![(None, "anonymous")];
    for t in UserType::ALL {
        let name = format!("{t}user");
        create_user(&w.gh, &name, t).await;
        let r =
            w.gh.via(&admin_client)
                .login(&format!("{name}@example.com"), PASSWORD)
                .await;
        assert_eq!(r.status, 200, "{}", r.body);
        tokens.push((Some(s(&r.body["access"])), t.as_str()));
    }
    let matrix = [
        ("/api/example/any-user/", [401, 200, 200, 200]),
        ("/api/example/creators/", [401, 200, 403, 403]),
        ("/api/example/staff/", [401, 403, 200, 200]),
        ("/api/example/admins/", [401, 403, 403, 200]),
    ];
    for (path, expected) in matrix {
        for ((token, who), want) in tokens.iter().zip(expected) {
            let r = w
                .api()
                .call(Method::GET, path, None, token.as_deref())
                .await;
            assert_eq!(r.status.as_u16(), want, "{who} on {path}: {}", r.body);
        }
    }
    // A wrong method on a custom path is 405 with Allow.
    let r = w
        .api()
        .call(Method::POST, "/api/example/staff/", None, None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET");
}

#[tokio::test]
async fn staff_cannot_log_in_through_a_creator_client() {
    let w = world().await;
    create_user(&w.gh, "sam", UserType::Staff).await;
    let r = w.login("sam@example.com", PASSWORD).await;
    r.assert_error(403, "user_type_not_allowed");
}

#[tokio::test]
async fn signing_key_survives_a_restart_on_the_same_database() {
    let w = world().await;
    let access = s(&w.register("ivy").await.body["access"]);
    // Other seeded bytes than the first start's: a key generated again
    // would differ from the stored one.
    let restarted = TestEnv::with_sql(open(&w._dir).await)
        .seeded(7)
        .with_clock(w.clock.clone())
        .start(Config::default())
        .await;
    let w2 = World {
        gh: restarted,
        clock: w.clock.clone(),
        client: w.client.clone(),
        _dir: tempfile::tempdir().unwrap(),
    };
    assert_eq!(w2.get("/api/auth/profile/", &access).await.status, 200);
}

/// A world with the user `name` registered (its first login) and logged in
/// again (its second): the two answers.
async fn two_logins(name: &str) -> (World, Reply, Reply) {
    let w = world().await;
    let first = w.register(name).await;
    let second = w.login(&format!("{name}@example.com"), PASSWORD).await;
    (w, first, second)
}

#[tokio::test]
async fn users_list_and_end_their_own_logins() {
    let (w, first, second) = two_logins("jon").await;
    let a1 = s(&first.body["access"]);
    let a2 = s(&second.body["access"]);
    let list = w.get("/api/auth/sessions/", &a2).await;
    assert_eq!(list.status, 200);
    let sessions = list.body.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["client_name"], "web");
    assert_eq!(sessions[0]["ip"], "192.0.2.1");
    // End the first login from the second: its access and refresh die at once.
    let first_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = w
        .delete(&format!("/api/auth/sessions/{first_id}/"), &a2)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(w.get("/api/auth/profile/", &a1).await.status, 401);
    assert_eq!(w.refresh(&s(&first.body["refresh"])).await.status, 401);
    assert_eq!(w.get("/api/auth/profile/", &a2).await.status, 200);
    // Ending it again, or someone else's, is 404.
    let r = w
        .delete(&format!("/api/auth/sessions/{first_id}/"), &a2)
        .await;
    assert_eq!(r.status, 404);
    let other = w.register("kim").await;
    let kim_access = s(&other.body["access"]);
    let kims = w.get("/api/auth/sessions/", &kim_access).await;
    let kim_sid = kims.body[0]["id"].as_str().unwrap().to_owned();
    let r = w
        .delete(&format!("/api/auth/sessions/{kim_sid}/"), &a2)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(w.get("/api/auth/profile/", &kim_access).await.status, 200);
}

#[tokio::test]
async fn logout_all_ends_every_login() {
    let (w, first, second) = two_logins("lea").await;
    let r = w
        .api()
        .post_empty_as("/api/auth/logout-all/", &s(&second.body["access"]))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ended"], 2);
    for reply in [&first, &second] {
        assert_eq!(w.api().profile(&s(&reply.body["access"])).await.status, 401);
        assert_eq!(w.refresh(&s(&reply.body["refresh"])).await.status, 401);
    }
    assert_eq!(w.login("lea@example.com", PASSWORD).await.status, 200);
}
