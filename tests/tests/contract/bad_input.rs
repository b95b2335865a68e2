//! Malformed requests: media types, sizes, encodings, routes, methods.
//! After each refused request the database holds no partial write.

use gatehouse_contract::harness::*;
use http::Method;
use serde_json::json;

/// Registers `u` properly: proof that a refused request wrote nothing.
async fn still_free(ctx: &Ctx, u: &TestUser) {
    ctx.api.register(&u.register_body()).await.expect(201);
}

/// POSTs `body` to register as it is, labelled `content_type`.
async fn register_raw(api: &Api, content_type: &str, body: Vec<u8>) -> Resp {
    api.post("/api/auth/register/")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
}

const JSON: &str = "application/json";

/// `body`, labelled JSON, is refused as 400 `parse_error`, and wrote nothing.
async fn unparsable(ctx: &Ctx, u: &TestUser, body: Vec<u8>) {
    register_raw(&ctx.api, JSON, body)
        .await
        .expect_error(400, "parse_error");
    still_free(ctx, u).await;
}

fn register_bytes(u: &TestUser) -> Vec<u8> {
    serde_json::to_vec(&u.register_body()).expect("json")
}

#[tokio::test]
async fn malformed_json_is_400_parse_error() {
    let (ctx, u) = Ctx::with_fresh_user();
    let mut body = register_bytes(&u);
    body.truncate(body.len() - 1); // drop the closing brace
    unparsable(&ctx, &u, body).await;
}

#[tokio::test]
async fn a_json_array_is_400_non_field_errors() {
    let (ctx, u) = Ctx::with_fresh_user();
    ctx.api
        .post_json("/api/auth/register/", &json!([u.register_body()]))
        .await
        .expect_body(
            400,
            &json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        );
    still_free(&ctx, &u).await;
}

#[tokio::test]
async fn other_non_object_json_is_400_non_field_errors() {
    let ctx = Ctx::new();
    for body in ["\"text\"", "42", "null", "true"] {
        let r = ctx
            .api
            .post("/api/auth/token/")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        r.expect(400);
        let v = r.json();
        assert_eq!(keys(&v), ["non_field_errors"], "{body}: {v}");
    }
}

#[tokio::test]
async fn a_body_without_content_type_is_415() {
    let (ctx, u) = Ctx::with_fresh_user();
    ctx.api
        .post("/api/auth/register/")
        .body(register_bytes(&u))
        .send()
        .await
        .expect_error(415, "unsupported_media_type");
    still_free(&ctx, &u).await;
}

#[tokio::test]
async fn text_plain_and_form_bodies_are_415() {
    let (ctx, u) = Ctx::with_fresh_user();
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        register_raw(&ctx.api, ct, register_bytes(&u))
            .await
            .expect_error(415, "unsupported_media_type");
    }
    still_free(&ctx, &u).await;
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_accepted() {
    let (ctx, u) = Ctx::with_fresh_user();
    register_raw(
        &ctx.api,
        "application/json; charset=utf-8",
        register_bytes(&u),
    )
    .await
    .expect(201);
}

/// A registration body padded with spaces to exactly `len` bytes.
fn padded(u: &TestUser, len: usize) -> Vec<u8> {
    let mut b = register_bytes(u);
    assert!(b.len() < len);
    let close = b.pop().expect("closing brace");
    b.resize(len - 1, b' ');
    b.push(close);
    assert_eq!(b.len(), len);
    b
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let (ctx, u) = Ctx::with_fresh_user();
    // Each request on a fresh connection: what happens to a connection after
    // a 413 is the next test's business.
    register_raw(&Api::new(ctx.server, &ctx.creds), JSON, padded(&u, 65_537))
        .await
        .expect_error(413, "payload_too_large");
    // Exactly 65,536 bytes is within the limit.
    register_raw(&Api::new(ctx.server, &ctx.creds), JSON, padded(&u, 65_536))
        .await
        .expect(201);
}

/// HTTP/1.1 keep-alive after an early 413: a host that answers without
/// reading the body must say `Connection: close`; one that keeps the
/// connection open must keep it usable. Otherwise a client's next request on
/// that connection fails (hyper: IncompleteMessage), which no frontend can
/// tell from a network error.
#[tokio::test]
async fn after_a_413_the_connection_is_closed_cleanly_or_still_usable() {
    let (ctx, u) = Ctx::with_fresh_user();
    // The failure is a race (server close vs. client reuse): several rounds.
    for round in 0..30 {
        let r = register_raw(&ctx.api, JSON, padded(&u, 65_537)).await;
        r.expect_error(413, "payload_too_large");
        let closes = r
            .header("connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
        if !closes {
            // Kept open: the next request on it must get an answer.
            let next = ctx.api.refresh("junk").await;
            assert_eq!(next.status, 401, "round {round}: {}", next.text());
        }
    }
}

#[tokio::test]
async fn invalid_utf8_is_400_parse_error() {
    let (ctx, u) = Ctx::with_fresh_user();
    let body = format!(
        "{{\"email\": \"{}\", \"username\": \"{}\u{ff}\", \"password\": \"{GOOD_PASSWORD}\", \"password2\": \"{GOOD_PASSWORD}\", \"first_name\": \"A\", \"last_name\": \"B\"}}",
        u.email, u.username
    );
    let mut bytes = body.into_bytes();
    // Replace the UTF-8 encoding of U+00FF (C3 BF) with a lone 0xFF byte.
    let i = bytes
        .windows(2)
        .position(|w| w == [0xC3, 0xBF])
        .expect("marker");
    bytes.splice(i..i + 2, [0xFF]);
    unparsable(&ctx, &u, bytes).await;
}

#[tokio::test]
async fn a_ten_thousand_character_username_is_400() {
    let (ctx, u) = Ctx::with_fresh_user();
    let mut b = u.register_body();
    b["username"] = json!("a".repeat(10_000));
    ctx.api.register(&b).await.expect_fields(&[(
        "username",
        Some("Ensure this field has no more than 150 characters."),
    )]);
    still_free(&ctx, &u).await;
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404_before_the_key_check() {
    let ctx = Ctx::new();
    let expected = json!({"detail": "Not found.", "code": "not_found"});
    for path in [
        "/api/auth/nope/",
        "/api/auth/token",
        "/nothing-here",
        "/api/v2/auth/token/",
    ] {
        ctx.api.get(path).send().await.expect_body(404, &expected);
        ctx.anonymous()
            .post_json(path, &json!({}))
            .await
            .expect_body(404, &expected);
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let ctx = Ctx::new();
    for (method, path, allowed) in [
        (Method::GET, "/api/auth/token/", vec!["POST"]),
        (
            Method::DELETE,
            "/api/auth/profile/",
            vec!["GET", "PATCH", "PUT"],
        ),
        (Method::PUT, "/api/auth/register/", vec!["POST"]),
        (Method::POST, "/healthz", vec!["GET"]),
    ] {
        for api in [ctx.api.clone(), ctx.anonymous()] {
            let r = api.req(method.clone(), path).send().await;
            r.expect_error(405, "method_not_allowed");
            let allow: Vec<String> = r
                .header("allow")
                .unwrap_or_else(|| panic!("{method} {path}: no Allow header"))
                .split(',')
                .map(|s| s.trim().to_ascii_uppercase())
                .collect();
            for m in &allowed {
                assert!(
                    allow.contains(&m.to_string()),
                    "{method} {path}: Allow {allow:?} lacks {m}"
                );
            }
            assert!(
                !allow.contains(&method.to_string()),
                "{method} {path}: Allow {allow:?}"
            );
        }
    }
}

#[tokio::test]
async fn error_responses_are_json() {
    let ctx = Ctx::new();
    for r in [
        ctx.api.get("/nope/").send().await,
        ctx.anonymous().get("/api/auth/profile/").send().await,
        ctx.api.refresh("junk").await,
    ] {
        let ct = r.header("content-type").unwrap_or_default().to_owned();
        assert!(
            ct.starts_with("application/json"),
            "{}: content-type {ct:?}",
            r.request
        );
        r.json();
    }
}
