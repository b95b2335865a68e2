//! CORS: preflights (no key) and the `Origin` check on actual requests.

use gatehouse_contract::harness::*;
use http::Method;
use serde_json::{json, Value};

fn origin() -> String {
    format!("https://{}.example.test", unique("app"))
}

async fn preflight(api: &Api, path: &str, origin: &str) -> Resp {
    api.req(Method::OPTIONS, path)
        .no_key()
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-api-key, x-client-id",
        )
        .send()
        .await
}

fn list(h: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = h
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn preflight_for_an_allowed_origin_is_204_with_cors_headers() {
    let ctx = Ctx::new();
    let o = origin();
    ctx.client(&ClientSpec::web().origins(&format!("https://other.example.test,{o}")));
    for path in [
        "/api/auth/token/",
        "/api/auth/profile/",
        "/api/v1/auth/register/",
    ] {
        let r = preflight(&ctx.api, path, &o).await;
        r.expect(204);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(o.as_str()),
            "{path}: {:?}",
            r.headers
        );
        let methods = list(r.header("access-control-allow-methods"));
        assert!(
            methods.contains(&"post".to_string()),
            "{path}: Allow-Methods {methods:?}"
        );
        assert_eq!(
            list(r.header("access-control-allow-headers")),
            ["authorization", "content-type", "x-api-key", "x-client-id"],
            "{path}"
        );
        assert_eq!(r.header("access-control-max-age"), Some("600"), "{path}");
        assert!(
            list(r.header("vary")).contains(&"origin".to_string()),
            "{path}: Vary {:?}",
            r.header("vary")
        );
    }
}

#[tokio::test]
async fn preflight_for_an_unknown_origin_is_403_without_cors_headers() {
    let ctx = Ctx::new();
    let r = preflight(&ctx.api, "/api/auth/token/", &origin()).await;
    r.expect_error(403, "origin_not_allowed");
    for h in [
        "access-control-allow-origin",
        "access-control-allow-methods",
    ] {
        assert!(r.header(h).is_none(), "{h}: {:?}", r.headers);
    }
}

#[tokio::test]
async fn preflight_for_an_origin_only_an_inactive_client_allows_is_403() {
    let ctx = Ctx::new();
    let o = origin();
    ctx.client(&ClientSpec::web().origins(&o).inactive());
    preflight(&ctx.api, "/api/auth/token/", &o)
        .await
        .expect_error(403, "origin_not_allowed");
}

#[tokio::test]
async fn an_allowed_origin_gets_cors_headers_on_the_actual_request() {
    let ctx = Ctx::new();
    let o = origin();
    let (_, api) = ctx.client(&ClientSpec::web().origins(&o));
    let u = TestUser::fresh();
    let r = post_from(&api, "/api/auth/register/", &o, &u.register_body()).await;
    r.expect(201);
    assert_eq!(r.header("access-control-allow-origin"), Some(o.as_str()));
    assert!(
        list(r.header("vary")).contains(&"origin".to_string()),
        "{:?}",
        r.headers
    );
    // Errors after the key check carry them too.
    let r = post_from(
        &api,
        "/api/auth/token/",
        &o,
        &json!({"email": u.email, "password": "Wrong-Password-1"}),
    )
    .await;
    r.expect(401);
    assert_eq!(r.header("access-control-allow-origin"), Some(o.as_str()));
}

#[tokio::test]
async fn a_disallowed_origin_is_403_on_the_actual_request() {
    let ctx = Ctx::new();
    let mine = origin();
    let theirs = origin();
    let (_, api) = ctx.client(&ClientSpec::web().origins(&mine));
    // Allowed by another client, not by this one.
    ctx.client(&ClientSpec::web().origins(&theirs));
    let u = TestUser::fresh();
    let r = post_from(&api, "/api/auth/register/", &theirs, &u.register_body()).await;
    r.expect_error(403, "origin_not_allowed");
    // Nothing was written, and without an Origin there is no check.
    let r = api.register(&u.register_body()).await;
    r.expect(201);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_client_without_origins_works_without_origin_header() {
    let (ctx, _, t) = Ctx::creator().await;
    ctx.api.profile(&t.access).await.expect(200);
    ctx.api
        .get("/api/auth/profile/")
        .bearer(&t.access)
        .header("origin", &origin())
        .send()
        .await
        .expect_error(403, "origin_not_allowed");
}

/// POSTs `body` to `path` from a page on `origin`.
async fn post_from(api: &Api, path: &str, origin: &str, body: &Value) -> Resp {
    api.post(path)
        .header("origin", origin)
        .json(body)
        .send()
        .await
}
