//! The fan-out trigger and the sender, with a fake clock and a stub HTTP
//! client.

use super::*;
use crate::audit::{event, Actor, AuditEvent, UserRef};
use crate::outbound::OutboundResponse;
use crate::testing::{TestEnv, T0};
use crate::user::UserId;
use crate::webhook::store::{insert, Endpoint};

const URL: &str = "https://hooks.example.com/in";
const KEY: DataKey = DataKey([9; 32]);

async fn endpoint(t: &TestEnv, id: &str, types: &str) -> Secret {
    let secret = Secret::generate(t.env.random.as_ref());
    let sealed = secret.seal(&KEY, id, t.env.random.as_ref());
    let e = Endpoint {
        id: id.into(),
        url: URL.into(),
        description: String::new(),
        event_types: types.into(),
        active: true,
        created_at: T0,
        secret_rotated_at: None,
        failing_since: None,
        disabled_at: None,
        disabled_reason: None,
    };
    t.sql.run(insert(&e, &sealed)).await.unwrap();
    secret
}

async fn audit(t: &TestEnv, name: &'static str) {
    let e = AuditEvent::new(name, &Actor::operator(), t.clock.now())
        .target_user(UserRef::Id(UserId(7)))
        .detail(serde_json::json!({"email": "a@example.com", "reason": "inactive"}));
    t.sql.run(e.statement()).await.unwrap();
}

async fn pass(t: &TestEnv) -> DeliveryReport {
    deliver(
        t.sql.as_ref(),
        t.http.as_ref(),
        Some(&KEY),
        1000,
        t.env.random.as_ref(),
        t.clock.as_ref(),
    )
    .await
    .unwrap()
}

/// A pass whose one message dies and disables endpoint `wh_a`; the endpoint.
async fn dead_pass_disables(t: &TestEnv) -> Endpoint {
    assert_eq!(pass(t).await.dead, 1);
    let e = stored_endpoint(t, "wh_a").await;
    assert!(e.disabled_at.is_some());
    e
}

/// The endpoint `id` as stored now.
async fn stored_endpoint(t: &TestEnv, id: &str) -> Endpoint {
    crate::store::Store::new(t.sql.clone())
        .webhook_endpoint(id)
        .await
        .unwrap()
        .unwrap()
}

fn ok(status: u16, body: &str) -> Result<OutboundResponse, OutboundError> {
    Ok(OutboundResponse {
        status,
        headers: vec![],
        body: Bytes::from(body.to_owned()),
    })
}

fn header<'a>(req: &'a OutboundRequest, name: &str) -> &'a str {
    req.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[tokio::test]
async fn an_audited_event_reaches_each_subscribed_endpoint_signed() {
    let t = TestEnv::in_memory().await;
    let all = endpoint(&t, "wh_all", "*").await;
    endpoint(&t, "wh_logins", "login.failed").await;
    t.http.answer(URL, ok(204, ""));
    audit(&t, event::USER_REGISTERED).await;
    // Not a webhook event: nothing queued.
    audit(&t, event::PASSWORD_REHASHED).await;
    let r = pass(&t).await;
    assert_eq!((r.claimed, r.sent), (1, 1));
    let sent = t.http.sent();
    let req = &sent[0];
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["type"], "user.created");
    assert_eq!(body["data"]["user_id"], 7);
    // Ids and reasons only: the detail's email never leaves.
    assert!(!String::from_utf8_lossy(&req.body).contains("a@example.com"));
    let (id, ts) = (header(req, "webhook-id"), header(req, "webhook-timestamp"));
    assert!(id.starts_with("msg_"));
    assert_eq!(ts, (T0.0 / 1000).to_string());
    assert_eq!(
        header(req, "webhook-signature"),
        crate::webhook::sign(&all.key().unwrap(), id, T0.0 / 1000, &req.body)
    );
    // Delivered once: the next pass has nothing.
    assert_eq!(pass(&t).await.claimed, 0);
}

#[tokio::test]
async fn failures_retry_with_the_same_id_until_a_2xx() {
    let t = TestEnv::in_memory().await;
    endpoint(&t, "wh_a", "login.failed").await;
    t.http.answer(URL, ok(500, "down"));
    audit(&t, event::LOGIN_FAILED).await;
    let r = pass(&t).await;
    assert_eq!((r.claimed, r.retrying), (1, 1));
    // Not due yet.
    assert_eq!(pass(&t).await.claimed, 0);
    t.clock.advance_millis(1000);
    t.http.answer(URL, ok(200, "ok"));
    let r = pass(&t).await;
    assert_eq!(r.sent, 1);
    let sent = t.http.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        header(&sent[0], "webhook-id"),
        header(&sent[1], "webhook-id")
    );
    let log = crate::store::Store::new(t.sql.clone())
        .webhook_attempts("wh_a", 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].outcome.as_str(), log[0].status),
        ("delivered", Some(200))
    );
    assert_eq!(
        (log[1].outcome.as_str(), log[1].status),
        ("retrying", Some(500))
    );
    assert_eq!(log[1].response_excerpt.as_deref(), Some("down"));
    let e = stored_endpoint(&t, "wh_a").await;
    assert_eq!(e.failing_since, None);
}

#[tokio::test]
async fn a_refused_address_is_dead_at_once_and_disables_the_endpoint() {
    let t = TestEnv::in_memory().await;
    endpoint(&t, "wh_a", "*").await;
    t.http.answer(
        URL,
        Err(OutboundError::Refused {
            reason: "private address".into(),
        }),
    );
    audit(&t, event::USER_DEACTIVATED).await;
    let e = dead_pass_disables(&t).await;
    assert!(e.disabled_reason.unwrap().contains("private address"));
    // A disabled endpoint gets no new messages.
    audit(&t, event::USER_DEACTIVATED).await;
    assert_eq!(pass(&t).await.claimed, 0);
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled() {
    let t = TestEnv::in_memory().await;
    endpoint(&t, "wh_a", "*").await;
    t.http.answer(URL, Err(OutboundError::Timeout));
    audit(&t, event::LOGIN_SUCCEEDED).await;
    pass(&t).await;
    t.clock.advance_millis(DISABLE_AFTER_MS);
    dead_pass_disables(&t).await;
}

#[test]
fn disable_rule() {
    let now = UnixMillis(DISABLE_AFTER_MS + 10);
    assert!(!should_disable(None, now, false));
    assert!(should_disable(None, now, true));
    assert!(!should_disable(Some(UnixMillis(11)), now, false));
    assert!(should_disable(Some(UnixMillis(10)), now, false));
}
