//! The attack suite (issue 7): forged and mangled tokens beyond the token
//! tests, privilege escalation through every writable field, SQL
//! metacharacters and Unicode edge cases in every field, huge strings, and
//! user enumeration by timing. Every case also checks that nothing broke
//! (the server still answers, the victim still logs in).

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};

/// `header.payload.signature` with the header replaced.
fn with_header(token: &str, header: &Value) -> String {
    let mut parts = token.splitn(3, '.');
    let (_, payload, sig) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    format!(
        "{}.{payload}.{sig}",
        jwt::b64e(header.to_string().as_bytes())
    )
}

#[tokio::test]
async fn a_kid_pointing_elsewhere_is_refused() {
    let (ctx, _, t) = Ctx::creator().await;
    let h = jwt::header(&t.access);
    for kid in [
        json!("someone-elses-key"),
        json!("../../etc/passwd"),
        json!("https://evil.example/jwks.json"),
        json!(null),
    ] {
        let mut forged = h.clone();
        forged["kid"] = kid.clone();
        ctx.api
            .profile_refused(&with_header(&t.access, &forged))
            .await;
    }
    let mut jku = h.clone();
    jku["jku"] = json!("https://evil.example/jwks.json");
    jku["kid"] = json!("evil");
    ctx.api.profile_refused(&with_header(&t.access, &jku)).await;
    ctx.api.profile(&t.access).await.expect(200);
}

#[tokio::test]
async fn truncated_and_re_encoded_signatures_are_refused() {
    let (ctx, _, t) = Ctx::creator().await;
    let (head, sig) = t.access.rsplit_once('.').expect("three parts");
    let standard_alphabet = sig.replace('-', "+").replace('_', "/");
    let mut cases = vec![
        (
            "truncated by one",
            format!("{head}.{}", &sig[..sig.len() - 1]),
        ),
        (
            "truncated by half",
            format!("{head}.{}", &sig[..sig.len() / 2]),
        ),
        ("no signature", format!("{head}.")),
        ("two parts", head.to_owned()),
        ("four parts", format!("{}.x", t.access)),
        ("padded", format!("{head}.{sig}==")),
        ("signature doubled", format!("{head}.{sig}{sig}")),
        ("whitespace inside", format!("{head}. {sig}")),
    ];
    if standard_alphabet != sig {
        cases.push((
            "standard base64 alphabet",
            format!("{head}.{standard_alphabet}"),
        ));
    }
    for (what, token) in cases {
        let r = ctx.api.profile(&token).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text());
    }
    ctx.api.profile(&t.access).await.expect(200);
}

/// Every field a frontend can write, with every privilege it must not grant.
fn escalation_fields() -> Value {
    json!({
        "user_type": "admin", "is_staff": true, "is_superuser": true, "is_active": false,
        "id": 1, "user_id": 1, "date_joined": "2000-01-01T00:00:00Z", "last_login": null,
        "email": "victim@example.com", "groups": ["admin"], "user_permissions": ["*"],
        "password_hash": "x", "token_type": "refresh", "client_id": "cl_other",
    })
}

fn merge(base: Value, extra: Value) -> Value {
    let mut out = base;
    if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.entry(k.clone()).or_insert(v.clone());
        }
    }
    out
}

fn assert_plain_creator(user: &Value, expected_email: &str) {
    assert_eq!(user["user_type"], "creator", "{user}");
    assert_eq!(user["is_staff"], false, "{user}");
    assert_eq!(user["is_superuser"], false, "{user}");
    assert_eq!(user["email"], expected_email, "{user}");
    assert_ne!(user["id"], 1, "{user}");
}

#[tokio::test]
async fn no_writable_field_of_any_endpoint_grants_privileges() {
    let (ctx, user) = Ctx::with_fresh_user();
    // Register: the body's own fields win where it has them; every other
    // privilege field rides along.
    let r = ctx
        .api
        .register(&merge(user.register_body(), escalation_fields()))
        .await;
    r.expect(201);
    let body = r.json();
    assert_plain_creator(&body["user"], &user.email);
    let t = ctx.api.login_ok(&user).await; // is_active: false was ignored too
    for (method, extra) in [
        ("PATCH", json!({})),
        (
            "PUT",
            json!({"username": unique("esc"), "first_name": "A", "last_name": "B"}),
        ),
    ] {
        let payload = merge(extra, escalation_fields());
        let r = if method == "PATCH" {
            ctx.api.patch_profile(&t.access, &payload).await
        } else {
            ctx.api.put_profile(&t.access, &payload).await
        };
        r.expect(200);
        assert_plain_creator(&r.json(), &user.email);
    }
    // Change password with the same riders.
    let new_password = "Another-Correct-9-Horse";
    let r = ctx
        .api
        .change_password(
            &t.access,
            &merge(
                json!({"old_password": user.password, "new_password": new_password, "new_password2": new_password}),
                escalation_fields(),
            ),
        )
        .await;
    r.expect(200);
    let fresh = r.json();
    let access = fresh["access"].as_str().expect("access");
    let profile = ctx.api.profile(access).await;
    profile.expect(200);
    assert_plain_creator(&profile.json(), &user.email);
    // And the tokens say so too.
    let claims = jwt::claims(access);
    assert_eq!(claims["user_type"], "creator");
    assert_eq!(claims["is_staff"], false);
    assert_eq!(claims["is_superuser"], false);
}

#[tokio::test]
async fn sql_metacharacters_are_data_or_field_errors_never_sql() {
    let (ctx, user) = Ctx::with_fresh_user();
    let payloads = [
        "' OR '1'='1",
        "'; DROP TABLE users; --",
        "\" OR \"\"=\"",
        "1; SELECT * FROM api_clients",
        "%' OR 1=1 --",
        "\\'; --",
    ];
    // As names: stored and returned verbatim.
    let mut body = user.register_body();
    body["first_name"] = json!(payloads[1]);
    body["last_name"] = json!(payloads[0]);
    let r = ctx.api.register(&body).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["first_name"], payloads[1]);
    assert_eq!(r.json()["user"]["last_name"], payloads[0]);
    let t = ctx.api.login_ok(&user).await;
    for p in payloads {
        // As an email or a password at login: just a failed login.
        ctx.api.login(p, p).await.expect(401);
        ctx.api.login(&user.email, p).await.expect(401);
        // As a username: a field error, not a 500.
        let mut b = TestUser::fresh().register_body();
        b["username"] = json!(p);
        ctx.api.register(&b).await.expect(400);
        // As a refresh token.
        ctx.api.refresh_refused(p).await;
        // As a profile name: verbatim.
        let r = ctx
            .api
            .patch_profile(&t.access, &json!({"last_name": p}))
            .await;
        r.expect(200);
        assert_eq!(r.json()["last_name"], p);
    }
    // The tables are all still there and the user still logs in.
    ctx.api.login_ok(&user).await;
}

#[tokio::test]
async fn nul_characters_are_refused_in_every_string_field() {
    let (ctx, user, t) = Ctx::creator().await;
    let nul = "a\u{0}b";
    for field in [
        "email",
        "username",
        "password",
        "password2",
        "first_name",
        "last_name",
    ] {
        let mut b = TestUser::fresh().register_body();
        b[field] = json!(nul);
        let r = ctx.api.register(&b).await;
        r.expect(400);
        assert!(r.json().get(field).is_some(), "{field}: {}", r.text());
    }
    for field in ["email", "password"] {
        let mut b = json!({"email": user.email, "password": user.password});
        b[field] = json!(nul);
        ctx.api
            .req(http::Method::POST, "/api/auth/token/")
            .json(&b)
            .send()
            .await
            .expect(400);
    }
    ctx.api.refresh(nul).await.expect(400);
    for field in ["username", "first_name", "last_name"] {
        let r = ctx
            .api
            .patch_profile(&t.access, &json!({ field: nul }))
            .await;
        r.expect(400);
    }
    for field in ["old_password", "new_password", "new_password2"] {
        let mut b = json!({"old_password": user.password, "new_password": "Fresh-Horse-8-Battery", "new_password2": "Fresh-Horse-8-Battery"});
        b[field] = json!(nul);
        ctx.api.change_password(&t.access, &b).await.expect(400);
    }
    ctx.api.login_ok(&user).await;
}

#[tokio::test]
async fn unicode_edge_cases_round_trip_or_are_refused_cleanly() {
    let ctx = Ctx::new();
    // Right-to-left override and zero-width characters in names: data.
    let user = TestUser::fresh();
    let mut b = user.register_body();
    b["first_name"] = json!("\u{202E}evil\u{200B}name");
    b["last_name"] = json!("Ωμέγα 🦀 ﷽");
    let r = ctx.api.register(&b).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["first_name"], "\u{202E}evil\u{200B}name");
    assert_eq!(r.json()["user"]["last_name"], "Ωμέγα 🦀 ﷽");
    // ... but not in a username, which must be letters, digits and @.+-_.
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(format!("adm\u{202E}in{}", unique("")));
    ctx.api.register(&b).await.expect(400);
    // A homoglyph email (a Cyrillic а or е in the local part or the domain)
    // is refused, so it is never another account that looks like the Latin
    // one; a login with it finds nothing.
    let latin = TestUser::fresh();
    let r = ctx.api.register(&latin.register_body()).await;
    r.expect(201);
    let latin_id = r.json()["user"]["id"].clone();
    let (local, domain) = latin.email.split_once('@').unwrap();
    for homoglyph in [
        latin.email.replacen('a', "\u{0430}", 1),
        format!("{local}@{}", domain.replacen('e', "\u{0435}", 1)),
    ] {
        assert_ne!(homoglyph, latin.email);
        let mut b = TestUser::fresh().register_body();
        b["email"] = json!(homoglyph);
        let r = ctx.api.register(&b).await;
        r.expect(400);
        assert_eq!(keys(&r.json()), ["email"], "{homoglyph}: {}", r.text());
        ctx.api
            .login(&homoglyph, &latin.password)
            .await
            .expect_error(401, "no_active_account");
    }
    let t = ctx.api.login_ok(&latin).await;
    assert_eq!(jwt::claims(&t.access)["user_id"], latin_id);
}

/// Sends `body` as one request on a fresh raw TCP connection and returns
/// the response's status. A server that refuses early closes the socket
/// while the body is still being written (as it should: it never reads
/// 10 MB); the status it sent first is still read back.
async fn raw_status(ctx: &Ctx, path: &str, bearer: Option<&str>, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = ctx.server.base_url.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let auth = bearer
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let method = if path.contains("profile") {
        "PATCH"
    } else {
        "POST"
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nx-api-key: {}\r\nx-client-id: {}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        ctx.creds.api_key,
        ctx.creds.client_id,
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    // The server may stop reading at any point: write in the background
    // (errors expected) and read the answer as soon as it comes.
    let (mut rd, mut wr) = s.into_split();
    let body = body.to_vec();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&body).await;
        wr
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line from the server: {text:?}"))
}

#[tokio::test]
async fn ten_megabyte_strings_in_any_field_are_413_and_change_nothing() {
    let (ctx, user, t) = Ctx::creator().await;
    let huge = "x".repeat(10 * 1024 * 1024);
    let fresh = TestUser::fresh();
    // Bodies built as text: serialising 10 MB through serde_json in a debug
    // build would dominate the test's time.
    let object = |pairs: &[(&str, &str)]| {
        let fields: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("\"{k}\": \"{v}\""))
            .collect();
        format!("{{{}}}", fields.join(", "))
    };
    let mut cases: Vec<(&str, Option<&str>, String)> = Vec::new();
    for field in ["email", "username", "password", "first_name"] {
        let mut pairs = vec![
            ("email", fresh.email.as_str()),
            ("username", fresh.username.as_str()),
            ("password", fresh.password.as_str()),
            ("password2", fresh.password.as_str()),
            ("first_name", "Ada"),
        ];
        for p in pairs.iter_mut() {
            if p.0 == field {
                p.1 = &huge;
            }
        }
        cases.push(("/api/auth/register/", None, object(&pairs)));
    }
    cases.push((
        "/api/auth/token/",
        None,
        object(&[("email", &huge), ("password", &huge)]),
    ));
    cases.push((
        "/api/auth/token/refresh/",
        None,
        object(&[("refresh", &huge)]),
    ));
    cases.push((
        "/api/auth/profile/",
        Some(&t.access),
        object(&[("first_name", &huge)]),
    ));
    cases.push((
        "/api/auth/change-password/",
        Some(&t.access),
        object(&[
            ("old_password", &huge),
            ("new_password", &huge),
            ("new_password2", &huge),
        ]),
    ));
    for (path, bearer, body) in cases {
        let status = raw_status(&ctx, path, bearer, body.as_bytes()).await;
        assert_eq!(status, 413, "{path}");
    }
    // Nothing was written: the fresh user's email is still free, the
    // victim's profile and password are unchanged.
    ctx.api.register(&fresh.register_body()).await.expect(201);
    let p = ctx.api.profile(&t.access).await;
    p.expect(200);
    assert_eq!(p.json()["first_name"], "Ada");
    ctx.api.login_ok(&user).await;
}

/// Login with an unknown email and with a known email and a wrong password:
/// the same status and body, and medians within 20% over 50 tries each
/// (interleaved, so machine load hits both alike). Runs on a server that
/// takes the client IP from `X-Forwarded-For`, so the per-IP throttle of
/// other tests is untouched; known accounts rotate to stay under the
/// per-account throttle (each round has its own 10 accounts, 5 failures
/// each; the throttle allows 10 per 15 min).
#[tokio::test]
async fn login_failures_do_not_reveal_which_emails_exist() {
    let Some(ctx) = Ctx::with(ServerConfig::TrustProxy) else {
        return;
    };
    let mut known = Vec::new();
    for _ in 0..30 {
        known.push(ctx.api.new_creator().await.0);
    }
    let attempt = |email: String, n: usize| {
        let api = ctx.api.clone();
        async move {
            let started = std::time::Instant::now();
            let r = api
                .req(http::Method::POST, "/api/auth/token/")
                .header("x-forwarded-for", &format!("198.51.100.{}", n % 250 + 1))
                .json(&json!({"email": email, "password": "Wrong-Password-42"}))
                .send()
                .await;
            (started.elapsed(), r)
        }
    };
    // Up to three rounds of 50 + 50: a real difference (no dummy hash: the
    // unknown email answers in well under half the time) fails every round;
    // a burst of load from the tests running beside this one fails one.
    let mut ratios = Vec::new();
    let mut bodies = std::collections::BTreeSet::new();
    for round in 0..3 {
        let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
        for n in 0..50 {
            let (d, r) = attempt(unique_email(), 100 * round + 2 * n).await;
            assert_eq!(r.status, 401, "{}", r.text());
            bodies.insert(r.text());
            unknown.push(d);
            let (d, r) = attempt(
                known[10 * round + n % 10].email.clone(),
                100 * round + 2 * n + 1,
            )
            .await;
            assert_eq!(r.status, 401, "{}", r.text());
            bodies.insert(r.text());
            wrong.push(d);
        }
        assert_eq!(bodies.len(), 1, "different bodies: {bodies:?}");
        unknown.sort();
        wrong.sort();
        let ratio = unknown[25].as_secs_f64() / wrong[25].as_secs_f64();
        ratios.push(ratio);
        if (0.8..=1.25).contains(&ratio) {
            return;
        }
    }
    panic!("median(unknown email) / median(wrong password) out of 0.8..1.25 in every round: {ratios:?}");
}
