//! The caches of API clients and live logins (core `cache`) over the native
//! executor on an embedded file: a change is refused on the very next
//! request, whether it came through this service or from another process
//! on the same file (here a second executor with its own connections, as
//! the CLI is while the server runs).

mod support;

use gatehouse::db::LibsqlExecutor;
use gatehouse_core::sql::{SqlExecutor, Statement};
use gatehouse_core::testing::TestEnv;
use gatehouse_core::{Config, Gatehouse};
use serde_json::json;
use std::sync::Arc;
use support::*;

/// A service with a web client and `ann` signed in (her access token),
/// her profile read twice: the second answered from the caches.
async fn signed_in() -> (Service, World, String) {
    let svc = service(Config::default(), |g| g).await;
    let w = svc.web_world().await;
    let access = s(&w.register("ann").await.body["access"]);
    let before = generation(&svc.sql).await;
    for _ in 0..2 {
        assert_eq!(w.api().profile(&access).await.status, 200);
    }
    assert_eq!(
        generation(&svc.sql).await,
        before,
        "a profile read writes nothing: the caches can answer"
    );
    (svc, w, access)
}

/// `access` is refused now: its login or its user changed.
async fn refused(w: &World, access: &str) {
    w.api()
        .profile(access)
        .await
        .assert_error(401, "token_not_valid");
}

async fn generation(sql: &LibsqlExecutor) -> u64 {
    sql.generation()
        .await
        .unwrap()
        .expect("an embedded file has one")
}

/// Another process on the service's file: its own executor and service
/// (the CLI's operator commands run through one).
async fn other_process(svc: &Service) -> (Arc<LibsqlExecutor>, Gatehouse) {
    let sql = open(&svc.dir).await;
    let t = TestEnv::with_sql(sql.clone())
        .seeded(7)
        .with_clock(svc.clock.clone());
    let gh = t.start(Config::default()).await;
    (sql, gh)
}

#[tokio::test]
async fn a_client_rekeyed_or_deactivated_by_another_process_is_refused_at_once() {
    let (svc, w, access) = signed_in().await;
    let (_, cli) = other_process(&svc).await;
    let id = &w.client.0.id;

    let new_key = cli.rotate_api_key(id).await.unwrap();
    w.api()
        .profile(&access)
        .await
        .assert_error(401, "api_key_invalid");
    let rekeyed = (w.client.0.clone(), new_key);
    assert_eq!(w.gh.via(&rekeyed).profile(&access).await.status, 200);
    assert_eq!(w.gh.via(&rekeyed).profile(&access).await.status, 200);

    cli.set_api_client_active(id, false).await.unwrap();
    w.gh.via(&rekeyed)
        .profile(&access)
        .await
        .assert_error(403, "client_inactive");
}

#[tokio::test]
async fn a_user_deactivated_or_a_login_ended_by_another_connection_is_refused_at_once() {
    let (svc, w, access) = signed_in().await;
    let (sql, _) = other_process(&svc).await;
    sql.run(Statement::new(
        "UPDATE users SET is_active = 0 WHERE username = ?",
        vec!["ann".into()],
    ))
    .await
    .unwrap();
    refused(&w, &access).await;

    let access = s(&w.register("bob").await.body["access"]);
    for _ in 0..2 {
        assert_eq!(w.api().profile(&access).await.status, 200);
    }
    // Logout-all as another process writes it: every live login revoked.
    sql.batch(vec![Statement::new(
        "UPDATE sessions SET revoked_at = 1, revoked_reason = 'logout_all' WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = ?)",
        vec!["bob".into()],
    )])
    .await
    .unwrap();
    refused(&w, &access).await;
}

#[tokio::test]
async fn a_password_change_or_logout_all_through_the_service_ends_cached_logins_at_once() {
    let (_svc, w, access) = signed_in().await;
    let other = s(&w.api().login("ann@example.com", PASSWORD).await.body["access"]);
    assert_eq!(w.api().profile(&other).await.status, 200);
    let new_password = "another fine password";
    let body = json!({"old_password": PASSWORD, "new_password": new_password, "new_password2": new_password});
    let r = w
        .api()
        .post_as("/api/auth/change-password/", body, &access)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for old in [&access, &other] {
        w.api()
            .profile(old)
            .await
            .assert_error(401, "token_not_valid");
    }

    let fresh = s(&r.body["access"]);
    assert_eq!(w.api().profile(&fresh).await.status, 200);
    let r = w.api().post_empty_as("/api/auth/logout-all/", &fresh).await;
    assert!(r.status.is_success(), "{}", r.body);
    refused(&w, &fresh).await;
}

#[tokio::test]
async fn a_token_signed_with_a_key_another_process_just_made_current_is_accepted_at_once() {
    let (svc, w, _) = signed_in().await;
    let (_, cli) = other_process(&svc).await;
    // Twice: the new current key was never this service's `next`, so its
    // key cache (fresh, far from its bound) has not seen it.
    cli.rotate_keys().await.unwrap();
    cli.rotate_keys().await.unwrap();
    let r = cli.via(&w.client).login("ann@example.com", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = s(&r.body["access"]);
    // The unknown kid makes the service read the keys again at once.
    assert_eq!(w.api().profile(&access).await.status, 200);

    // A refresh token does the same (a second later: once a second at most).
    cli.rotate_keys().await.unwrap();
    cli.rotate_keys().await.unwrap();
    svc.clock.advance_secs(1);
    let r = cli.via(&w.client).login("ann@example.com", PASSWORD).await;
    let r = w.api().refresh(&s(&r.body["refresh"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
