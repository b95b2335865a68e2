//! Webhooks (docs/CONTRACT.md "Webhooks", docs/WEBHOOKS.md): endpoints
//! through the admin API, every event delivered to a real receiver that
//! verifies it with the Standard Webhooks reference library (npm
//! `standardwebhooks`, tests/webhook-receiver), retries with a stable
//! `webhook-id`, "send again", the delivery log, an address the outbound
//! policy refuses, and no secret in any payload.
//!
//! The suite's servers run in parallel with other tests, so an endpoint
//! subscribed to everything also sees other tests' events: each test picks
//! out its own by user or client id.

use gatehouse_contract::harness::*;
use gatehouse_contract::webhooks::{now_ms, receiver, Delivery, Hook, Receiver};
use serde_json::{json, Value};

/// An endpoint created for a test, and its hook on the receiver.
struct Endpoint {
    hook: Hook,
    id: String,
    /// The creation's answer (with the secret, shown this once).
    json: Value,
}

/// Creates an endpoint for a new hook `name` on `r`, taking `types`;
/// configures the receiver with its secret (refusing `fail_first`).
async fn endpoint(
    api: &Api,
    access: &str,
    r: &Receiver,
    name: &str,
    types: &[&str],
    fail_first: u32,
) -> Endpoint {
    let hook = Hook::new(r, name);
    let body = json!({ "url": hook.url, "event_types": types, "description": hook.name });
    let created = create(api, access, body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let json = created.json();
    let secret = json["secret"].as_str().expect("the secret, shown once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    hook.configure(secret, fail_first).await;
    let id = json["id"].as_str().unwrap().to_owned();
    Endpoint { hook, id, json }
}

/// `POST webhooks/` with `body`, as the admin.
async fn create(api: &Api, access: &str, body: Value) -> Resp {
    api.post_as("/api/admin/webhooks/", access, &body).await
}

/// A test ping to endpoint `id`, accepted.
async fn ping(api: &Api, access: &str, id: &str) {
    let path = format!("/api/admin/webhooks/{id}/test/");
    api.post_empty_as(&path, access).await.expect(202);
}

/// The delivery log of endpoint `id`.
async fn deliveries(api: &Api, access: &str, id: &str) -> Value {
    let path = format!("/api/admin/webhooks/{id}/deliveries/");
    api.get_as(&path, access).await.json()
}

macro_rules! receiver_or_skip {
    ($test:literal) => {
        match receiver() {
            Ok(r) => r,
            Err(Skip(why)) => return eprintln!("SKIP {}: {why}", $test),
        }
    };
}

/// The test pings among `got` (an endpoint may also get other tests' events).
fn pings(got: &[Delivery]) -> Vec<&Delivery> {
    got.iter()
        .filter(|d| d.event_type == "webhook.test")
        .collect()
}

fn about(d: &Delivery, key: &str, id: &Value) -> bool {
    &d.payload["data"][key] == id
}

#[tokio::test]
async fn every_event_type_arrives_verified_and_without_secrets() {
    let r = receiver_or_skip!("every_event_type_arrives_verified_and_without_secrets");
    let server = default_server();
    let (admin_api, access) = admin_on(server).await;
    let Endpoint { hook, json, .. } = endpoint(&admin_api, &access, r, "all", &["*"], 0).await;
    let whsec = json["secret"].as_str().unwrap().to_owned();

    // A user's life: registration, logins, a failure, an admin update,
    // a password change, a logout, a refresh replay, deactivation.
    let ctx = Ctx::new();
    let (user, t) = ctx.api.new_creator().await;
    let uid = ctx.api.profile(&t.access).await.json()["id"].clone();
    ctx.api
        .login(&user.email, "not-the-password-1")
        .await
        .expect(401);
    let t2 = ctx.api.login_ok(&user).await;
    admin_api
        .send_as(
            http::Method::PATCH,
            &format!("/api/admin/users/{uid}/"),
            &access,
            &json!({ "first_name": "Grace" }),
        )
        .await
        .expect(200);
    let new_password = "another-Good-passw0rd!";
    ctx.api
        .change_password(
            &t2.access,
            &json!({ "old_password": user.password, "new_password": new_password, "new_password2": new_password }),
        )
        .await
        .expect(200);
    let user = TestUser {
        password: new_password.into(),
        ..user
    };
    let t3 = ctx.api.login_ok(&user).await;
    let t4 = ctx.api.refresh_ok(&t3.refresh).await;
    let _t5 = ctx.api.refresh_ok(&t4.refresh).await;
    // The grandparent of the current token: a replay.
    ctx.api.refresh(&t3.refresh).await.expect(401);
    let t6 = ctx.api.login_ok(&user).await;
    ctx.api.logout(&t6.access, &t6.refresh).await;
    for action in ["deactivate", "reactivate"] {
        admin_api
            .post_empty_as(&format!("/api/admin/users/{uid}/{action}/"), &access)
            .await
            .expect(200);
    }
    // A client's life, through the CLI (another process: its events are
    // the database's, delivered by the server's sender).
    let creds = server.create_client(&ClientSpec::web());
    let cid = Value::String(creds.client_id.clone());
    let rotated = server.rotate_key(&creds.client_id);
    server.deactivate_client(&creds.client_id);

    let user_events = [
        "user.created",
        "login.failed",
        "login.succeeded",
        "user.updated",
        "password.changed",
        "refresh.replay_detected",
        "session.revoked",
        "user.deactivated",
        "user.reactivated",
    ];
    let client_events = ["client.created", "client.key_rotated", "client.deactivated"];
    let accepted = hook
        .wait_until(&admin_api, "every event of this user and client", |got| {
            user_events.iter().all(|e| {
                got.iter()
                    .any(|d| d.event_type == *e && about(d, "user_id", &uid))
            }) && client_events.iter().all(|e| {
                got.iter()
                    .any(|d| d.event_type == *e && about(d, "client_id", &cid))
            })
        })
        .await;
    let (attempts, _) = hook.received().await;
    assert!(
        attempts.iter().all(|a| a["verified"] == true),
        "every delivery verifies with the reference library: {attempts:?}"
    );
    // No password, token, key or secret in any payload.
    let secrets = [
        user.password.as_str(),
        "not-the-password-1",
        t.access.as_str(),
        t.refresh.as_str(),
        t3.refresh.as_str(),
        creds.api_key.as_str(),
        rotated["api_key"].as_str().unwrap_or("-"),
        whsec.as_str(),
        user.email.as_str(),
    ];
    for d in &accepted {
        for s in secrets {
            assert!(
                !d.body.contains(s),
                "a payload carries a secret: {}",
                d.body
            );
        }
        assert!(d.id.starts_with("msg_"));
        assert!(d.payload["timestamp"].as_str().is_some());
    }
    // The same ids never arrive as different messages.
    let mut ids: Vec<&str> = accepted.iter().map(|d| d.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), accepted.len(), "one id per message");
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_id_and_logged() {
    let r = receiver_or_skip!("failed_deliveries_are_retried_with_the_same_id_and_logged");
    let (api, access) = admin_on(default_server()).await;
    // Subscribed to an event no other test causes through this endpoint:
    // only the ping reaches it.
    let Endpoint { hook, id, .. } = endpoint(&api, &access, r, "retry", &["mfa.enrolled"], 2).await;
    let id = id.as_str();
    ping(&api, &access, id).await;
    // Polling the log (requests to the server: the Worker retries after
    // responses) until the ping is delivered.
    let delivered = eventually(WAIT, "the ping delivered after two refusals", || async {
        let v = deliveries(&api, &access, id).await;
        v["messages"]
            .as_array()
            .and_then(|m| {
                m.iter()
                    .find(|m| m["event_type"] == "webhook.test" && m["state"] == "delivered")
            })
            .and_then(|m| m["id"].as_str().map(str::to_owned))
            .ok_or_else(|| v.to_string())
    })
    .await;
    let got = hook
        .wait_until(&api, "the ping, after two refusals", |got| {
            !pings(got).is_empty()
        })
        .await;
    let ping = pings(&got)[0].clone();
    assert_eq!(ping.id, delivered);
    let (attempts, _) = hook.received().await;
    let mine: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["id"] == Value::String(ping.id.clone()))
        .collect();
    assert_eq!(mine.len(), 3, "refused twice, then accepted: {attempts:?}");
    // The log: three attempts, 503, 503, 200 (newest first), delivered.
    let log = eventually(WAIT_LOG, "the delivery log", || async {
        let v = deliveries(&api, &access, id).await;
        let n = v["attempts"].as_array().map_or(0, |a| {
            a.iter()
                .filter(|a| a["message_id"] == ping.id.as_str())
                .count()
        });
        (n == 3).then_some(v.clone()).ok_or_else(|| v.to_string())
    })
    .await;
    let statuses: Vec<i64> = log["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["message_id"] == ping.id.as_str())
        .map(|a| a["status"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, vec![200, 503, 503]);
    let message = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == ping.id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(message["state"], "delivered");
    assert_eq!(message["attempts"], 3);
    // "Send again": the same message, the same id, once more.
    api.post_empty_as(
        &format!("/api/admin/webhooks/{id}/deliveries/{}/resend/", ping.id),
        &access,
    )
    .await
    .expect(202);
    let again = hook
        .wait_until(&api, "the message sent again", |got| pings(got).len() == 2)
        .await;
    let again = pings(&again);
    assert_eq!(again[0].id, again[1].id, "a duplicate shares its id");
    assert_eq!(again[0].body, again[1].body);
}

const WAIT_LOG: std::time::Duration = std::time::Duration::from_secs(20);
const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test]
async fn a_private_address_is_refused_and_the_endpoint_disabled() {
    let (api, access) = admin_on(default_server()).await;
    // 10.0.0.0/8: not allowed by the test servers' policy (loopback only).
    let r = create(
        &api,
        &access,
        json!({ "url": "http://10.255.255.1:9/hook", "event_types": ["mfa.enrolled"] }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    ping(&api, &access, &id).await;
    let e = eventually(WAIT_LOG, "the endpoint disabled", || async {
        let v = api
            .get_as(&format!("/api/admin/webhooks/{id}/"), &access)
            .await
            .json();
        (v["disabled"] == true)
            .then_some(v.clone())
            .ok_or_else(|| v.to_string())
    })
    .await;
    assert!(
        e["disabled_reason"]
            .as_str()
            .unwrap_or("")
            .contains("refused"),
        "{e}"
    );
    let log = deliveries(&api, &access, &id).await;
    assert_eq!(log["messages"][0]["state"], "dead", "{log}");
    assert_eq!(log["attempts"][0]["status"], Value::Null);
    // Turning it on again clears the flag.
    let v = api
        .send_as(
            http::Method::PATCH,
            &format!("/api/admin/webhooks/{id}/"),
            &access,
            &json!({ "active": true }),
        )
        .await;
    assert_eq!(v.json()["disabled"], false, "{}", v.text());
}

#[tokio::test]
async fn endpoints_are_admin_only_validated_and_their_secret_shown_once() {
    let r = receiver_or_skip!("endpoints_are_admin_only_validated_and_their_secret_shown_once");
    let server = default_server();
    let (api, access) = admin_on(server).await;
    // Staff may not.
    let staff = server.create_user("staff");
    let (_, staff_api) = Ctx::on(server).client(&ClientSpec::admin());
    let st = staff_api.login_ok(&staff).await;
    staff_api
        .get_as("/api/admin/webhooks/", &st.access)
        .await
        .expect(403);
    // Bad input: 400 with the field.
    let bad = create(
        &api,
        &access,
        json!({ "url": "ftp://x", "event_types": ["user.nope"] }),
    )
    .await;
    bad.expect(400);
    // Not ASCII (schemathesis found this one): a 400, not a dropped connection.
    let odd = api
        .post_as(
            "/api/admin/webhooks/",
            &access,
            &json!({ "url": "\u{80}\u{80}\u{80}\u{80}", "event_types": ["*"] }),
        )
        .await;
    odd.expect(400);
    assert!(odd.json()["url"].is_array(), "{}", odd.text());
    assert!(
        bad.json()["url"].is_array() && bad.json()["event_types"].is_array(),
        "{}",
        bad.text()
    );
    let e = endpoint(&api, &access, r, "rotate", &["mfa.enrolled"], 0).await;
    let (hook, id) = (&e.hook, e.id.as_str());
    let got = api
        .get_as(&format!("/api/admin/webhooks/{id}/"), &access)
        .await
        .json();
    assert!(got.get("secret").is_none(), "never shown again: {got}");
    let listed = api.get_as("/api/admin/webhooks/", &access).await.json();
    assert!(!listed.to_string().contains("whsec_"));
    // A new secret: the next message verifies with it (the receiver knows
    // only the new one).
    let rotated = api
        .post_empty_as(&format!("/api/admin/webhooks/{id}/rotate-secret/"), &access)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let secret = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, e.json["secret"].as_str().unwrap());
    hook.configure(&secret, 0).await;
    ping(&api, &access, id).await;
    hook.wait_until(&api, "a ping signed with the new secret", |g| {
        !pings(g).is_empty()
    })
    .await;
    // Removed: gone.
    api.call_as(
        http::Method::DELETE,
        &format!("/api/admin/webhooks/{id}/"),
        &access,
    )
    .await
    .expect(204);
    api.get_as(&format!("/api/admin/webhooks/{id}/"), &access)
        .await
        .expect(404);
}

/// Change → receiver latency: N test pings one after another; the median
/// of request start → the receiver's acceptance (one machine, one clock).
#[tokio::test]
async fn delivery_latency_is_measured() {
    let r = receiver_or_skip!("delivery_latency_is_measured");
    let (api, access) = admin_on(default_server()).await;
    let e = endpoint(&api, &access, r, "latency", &["mfa.enrolled"], 0).await;
    const N: usize = 10;
    let mut latencies = Vec::new();
    for i in 0..N {
        let start = now_ms();
        ping(&api, &access, &e.id).await;
        let got = e
            .hook
            .wait_until(&api, "the ping", |g| pings(g).len() > i)
            .await;
        latencies.push(pings(&got)[i].at.saturating_sub(start));
    }
    latencies.sort();
    eprintln!(
        "MEASURE webhooks: change to receiver ({}) median {} ms over {N} (min {} ms, max {} ms)",
        Target::get().name(),
        latencies[N / 2],
        latencies[0],
        latencies[N - 1]
    );
}
