//! `X-API-Key` / `X-Client-ID` gatekeeping and client lifecycle.

use gatehouse_contract::harness::*;
use serde_json::json;

/// A cheap request that passes the key check and needs nothing else:
/// a refresh with a junk token (401 token_not_valid once the key is good).
async fn probe(api: &Api) -> Resp {
    api.refresh("junk").await
}

/// Probes until the answer is `status` (a client's change has reached every
/// instance), and returns that answer.
async fn probe_until(api: &Api, status: u16, what: &str) -> Resp {
    eventually(PROPAGATION_DEADLINE, what, || async {
        let r = probe(api).await;
        if r.status == status {
            Ok(r)
        } else {
            Err(format!("{} {}", r.status, r.text()))
        }
    })
    .await
}

#[tokio::test]
async fn missing_headers_are_401_api_key_missing() {
    let ctx = Ctx::new();
    let anon = ctx.anonymous();
    anon.post_json(
        "/api/auth/token/",
        &json!({"email": unique_email(), "password": GOOD_PASSWORD}),
    )
    .await
    .expect_error(401, "api_key_missing");
    anon.post("/api/auth/token/")
        .header("x-api-key", &ctx.creds.api_key)
        .json(&json!({"email": unique_email(), "password": GOOD_PASSWORD}))
        .send()
        .await
        .expect_error(401, "api_key_missing");
    anon.get("/api/auth/profile/")
        .header("x-client-id", &ctx.creds.client_id)
        .send()
        .await
        .expect_error(401, "api_key_missing");
}

#[tokio::test]
async fn bad_keys_are_401_api_key_invalid() {
    let ctx = Ctx::new();
    let (b, _) = ctx.client(&ClientSpec::web());
    let anon = ctx.anonymous();
    let cases = [
        (
            "wrong key",
            ctx.creds.client_id.clone(),
            format!("{}x", ctx.creds.api_key),
        ),
        (
            "unknown client",
            format!("cl_{}", unique("nope")),
            ctx.creds.api_key.clone(),
        ),
        (
            "key of A with id of B",
            b.client_id.clone(),
            ctx.creds.api_key.clone(),
        ),
        (
            "made-up key",
            ctx.creds.client_id.clone(),
            "sk_not_a_real_key".into(),
        ),
    ];
    for (what, id, key) in cases {
        let r = refresh_with_headers(&anon, &id, &key).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        r.expect_error(401, "api_key_invalid");
    }
}

async fn refresh_with_headers(api: &Api, id: &str, key: &str) -> Resp {
    api.post("/api/auth/token/refresh/")
        .no_key()
        .header("x-client-id", id)
        .header("x-api-key", key)
        .json(&json!({"refresh": "junk"}))
        .send()
        .await
}

#[tokio::test]
async fn an_inactive_client_is_403() {
    let ctx = Ctx::new();
    let (creds, api) = ctx.client(&ClientSpec::web().inactive());
    assert_eq!(creds.created["is_active"], false, "{}", creds.created);
    api.register(&TestUser::fresh().register_body())
        .await
        .expect_error(403, "client_inactive");
    probe(&api).await.expect_error(403, "client_inactive");
}

#[tokio::test]
async fn deactivate_and_activate_through_the_cli() {
    let ctx = Ctx::new();
    probe(&ctx.api).await.expect_error(401, "token_not_valid");
    ctx.server.deactivate_client(&ctx.creds.client_id);
    probe_until(&ctx.api, 403, "deactivated client refused")
        .await
        .expect_error(403, "client_inactive");
    ctx.server.activate_client(&ctx.creds.client_id);
    probe_until(&ctx.api, 401, "reactivated client accepted")
        .await
        .expect_error(401, "token_not_valid");
}

#[tokio::test]
async fn deactivating_a_client_kills_its_refresh_tokens() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.server.deactivate_client(&ctx.creds.client_id);
    ctx.server.activate_client(&ctx.creds.client_id);
    // Wait until the client is usable again, whatever the server caches.
    probe_until(&ctx.api, 401, "reactivated client accepted").await;
    ctx.api.refresh_refused(&t.refresh).await;
}

#[tokio::test]
async fn rotate_key_replaces_the_key() {
    let (ctx, _, t) = Ctx::creator().await;
    let v = ctx.server.rotate_key(&ctx.creds.client_id);
    assert_eq!(keys(&v), ["api_key", "client_id"], "{v}");
    assert_eq!(v["client_id"], ctx.creds.client_id.as_str());
    let new_key = v["api_key"].as_str().unwrap_or_default().to_owned();
    assert!(new_key.starts_with("sk_"), "{v}");
    assert_ne!(new_key, ctx.creds.api_key);
    let rotated = ClientCreds {
        api_key: new_key,
        ..ctx.creds.clone()
    };
    let new_api = ctx.api.with_creds(&rotated);
    eventually(PROPAGATION_DEADLINE, "old key refused", || async {
        let r = probe(&ctx.api).await;
        if r.status == 401 && r.json()["code"] == "api_key_invalid" {
            Ok(())
        } else {
            Err(format!("{} {}", r.status, r.text()))
        }
    })
    .await;
    // The new key works, including for tokens issued before the rotation
    // (the client is the same).
    new_api.profile(&t.access).await.expect(200);
    new_api.refresh(&t.refresh).await.expect(200);
}

#[tokio::test]
async fn an_access_token_works_with_another_clients_key() {
    let (ctx, _, t) = Ctx::creator().await;
    // A small budget, so that refill between two requests cannot hide the
    // spending (at 100/h one request comes back every 36 s).
    let (_, b) = ctx.client(&ClientSpec::web().rate_limit(100));
    let r = b.profile(&t.access).await;
    r.expect(200);
    // …and counts against the presenting client's budget.
    let before = r.header_u64("x-ratelimit-remaining");
    let r2 = b.profile(&t.access).await;
    r2.expect(200);
    assert!(
        r2.header_u64("x-ratelimit-remaining") < before,
        "B's budget did not go down"
    );
}

#[tokio::test]
async fn create_api_client_prints_the_documented_json() {
    let ctx = Ctx::new();
    let origin = format!("https://{}.example.test", unique("o"));
    let creds = ctx
        .server
        .create_client(&ClientSpec::web().rate_limit(1234).origins(&origin));
    let v = &creds.created;
    // The documented keys; a CLI record may carry more (it is not an API body).
    for k in [
        "allowed_origins",
        "api_key",
        "client_id",
        "client_type",
        "is_active",
        "name",
        "rate_limit",
        "serves",
    ] {
        assert!(
            v.get(k).is_some(),
            "create-api-client --json lacks `{k}`: {v}"
        );
    }
    assert!(creds.api_key.starts_with("sk_"), "{v}");
    assert_eq!(v["client_type"], "web");
    assert_eq!(v["rate_limit"], 1234);
    assert_eq!(v["is_active"], true);
    assert_eq!(v["allowed_origins"], json!([origin]));
    // Default `serves` (not in CONTRACT.md; the SPEC: creator apps serve creators).
    assert_eq!(
        v["serves"],
        json!(["creator"]),
        "a web client serves creators"
    );
    let (admin, _) = ctx.client(&ClientSpec::admin().serves("staff,admin"));
    let mut serves: Vec<String> = admin.created["serves"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    serves.sort();
    assert_eq!(serves, ["admin", "staff"], "{}", admin.created);
}

/// The order of checks (CONTRACT.md, "Headers and gatekeeping"): the key
/// checks and the budget come before the body is looked at.
#[tokio::test]
async fn gatekeeping_comes_before_the_body() {
    let ctx = Ctx::new();
    let bad_body = |api: &Api| {
        let api = api.clone();
        async move {
            api.post("/api/auth/token/")
                .header("content-type", "text/plain")
                .body("{not json")
                .send()
                .await
        }
    };
    // No key: 401 api_key_missing, not 415.
    let anon = ctx.anonymous();
    bad_body(&anon).await.expect_error(401, "api_key_missing");
    // Wrong key: 401 api_key_invalid.
    let wrong = ClientCreds {
        api_key: format!("{}x", ctx.creds.api_key),
        ..ctx.creds.clone()
    };
    bad_body(&ctx.api.with_creds(&wrong))
        .await
        .expect_error(401, "api_key_invalid");
    // Inactive client: 403 client_inactive.
    let (_, inactive) = ctx.client(&ClientSpec::web().inactive());
    bad_body(&inactive)
        .await
        .expect_error(403, "client_inactive");
    // Over budget: 429 throttled.
    let (_, tiny) = ctx.client(&ClientSpec::web().rate_limit(1));
    bad_body(&tiny)
        .await
        .expect_error(415, "unsupported_media_type");
    bad_body(&tiny).await.expect_error(429, "throttled");
}

/// The size limit is a body rule (CONTRACT.md check 5), so like 415 and
/// parse errors it comes after the route (404/405) and the key checks: an
/// oversized body to an unknown path is a 404, without a key a 401.
#[tokio::test]
async fn an_oversized_body_is_judged_after_route_and_key() {
    let ctx = Ctx::new();
    let big = vec![b' '; 70_000];
    // Fresh connections: a host may close one after an early answer.
    Api::new(ctx.server, &ctx.creds)
        .post("/api/auth/nope/")
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect_error(404, "not_found");
    Api::anonymous(ctx.server)
        .post("/api/auth/register/")
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect_error(401, "api_key_missing");
    let (_, inactive) = ctx.client(&ClientSpec::web().inactive());
    Api::new(ctx.server, inactive.creds.as_ref().expect("creds"))
        .post("/api/auth/register/")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect_error(403, "client_inactive");
}
