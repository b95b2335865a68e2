//! Social sign-in in process, with the test kit's stub HTTP client playing
//! the provider (discovery, key set, token endpoint; GitHub's API) and ID
//! tokens minted here: the full flow, and each refusal the issue lists.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_core::api_client::{ApiClient, ApiKey};
use gatehouse_core::clock::FixedClock;
use gatehouse_core::mfa::DataKey;
use gatehouse_core::outbound::{OutboundError, OutboundResponse};
use gatehouse_core::sql::{SqlExecutor, Statement};
use gatehouse_core::testing::{StubHttp, TestEnv};
use gatehouse_core::user::UserType;
use gatehouse_core::{Config, Gatehouse};
use http::{Request, StatusCode};
use jwt_simple::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use support::{create_user, web_client, Caller, ClockMs, Reply, Via};

const ISS: &str = "https://idp.test";
const CB: &str = "https://app.test/cb";
const VERIFIER: &str = "frontend-verifier-0123456789-0123456789-0123456789";

struct W {
    gh: Gatehouse,
    clock: Arc<FixedClock>,
    http: Arc<StubHttp>,
    sql: Arc<gatehouse::db::LibsqlExecutor>,
    web: (ApiClient, ApiKey),
    /// An admin-type client (the provider is enabled for it too).
    dash: (ApiClient, ApiKey),
    key: ES256KeyPair,
    _dir: tempfile::TempDir,
}

fn jwk(k: &ES256KeyPair, kid: &str) -> Value {
    let p = k.public_key().public_key().to_bytes_uncompressed();
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..65])})
}

fn s256(v: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The `state` and `nonce` of the provider URL that `r` answered with.
fn state_and_nonce(r: &Reply) -> (String, String) {
    let url = r.body["authorization_url"].as_str().unwrap();
    let param = |name| query_param(url, name).unwrap();
    (param("state"), param("nonce"))
}

async fn world() -> W {
    let dir = tempfile::tempdir().unwrap();
    let sql = support::open(&dir).await;
    gatehouse_core::schema::migrate(sql.as_ref()).await.unwrap();
    let t = TestEnv::with_sql(sql.clone());
    let config = Config {
        data_key: Some(DataKey([9; 32])),
        public_url: "https://gatehouse.test".into(),
        ..Config::default()
    };
    let gh = t.start(config).await;
    let web = gh
        .create_api_client(web_client("web", 10_000))
        .await
        .unwrap();
    let mut dash_spec = web_client("dash", 10_000);
    dash_spec.client_type = "admin".into();
    let dash = gh.create_api_client(dash_spec).await.unwrap();
    create_user(&gh, "root", UserType::Admin).await;
    let r = gh
        .via(&dash)
        .login("root@example.com", support::PASSWORD)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin = r.body["access"].as_str().unwrap().to_owned();
    for body in [
        json!({"id": "idp", "issuer": ISS, "client_id": "gh-at-idp", "client_secret": "s3cret",
               "clients": [{"client_id": web.0.id.0, "redirect_uris": [CB]},
                           {"client_id": dash.0.id.0, "redirect_uris": [CB]}]}),
        json!({"id": "github", "preset": "github", "issuer": "https://gh.test", "client_id": "gh-app",
               "client_secret": "gh-s3cret", "clients": [{"client_id": web.0.id.0, "redirect_uris": [CB]}]}),
    ] {
        let r = gh
            .via(&dash)
            .post_as("/api/admin/providers/", body, &admin)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(r.body.get("client_secret").is_none());
        assert_eq!(
            r.body["callback_url"],
            "https://gatehouse.test/api/auth/social/callback/"
        );
    }
    let r = gh.via(&dash).get("/api/admin/providers/", &admin).await;
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert!(!r.body.to_string().contains("s3cret"));
    let key = ES256KeyPair::generate().with_key_id("k1");
    t.http.answer_json(
        &format!("{ISS}/.well-known/openid-configuration"),
        &json!({"issuer": ISS, "authorization_endpoint": format!("{ISS}/auth"),
                "token_endpoint": format!("{ISS}/token"), "jwks_uri": format!("{ISS}/jwks")}),
    );
    t.http
        .answer_json(&format!("{ISS}/jwks"), &json!({"keys": [jwk(&key, "k1")]}));
    W {
        gh,
        clock: t.clock,
        http: t.http,
        sql,
        web,
        dash,
        key,
        _dir: dir,
    }
}

impl W {
    /// Calls as the web client.
    fn as_web(&self) -> Caller<'_> {
        self.gh.via(&self.web)
    }
    /// Calls as the admin-type client.
    fn as_dash(&self) -> Caller<'_> {
        self.gh.via(&self.dash)
    }
    /// The provider signs `email` in (`verified` or not) for the flow that
    /// `r` started: the callback's answer.
    async fn come_back(
        &self,
        r: &Reply,
        email: &str,
        verified: bool,
    ) -> (StatusCode, String, Value) {
        self.answer_as(state_and_nonce(r), email, verified).await
    }
    /// The provider signs `email` in for the flow of `state` and `nonce`:
    /// the callback's answer.
    async fn answer_as(
        &self,
        (state, nonce): (String, String),
        email: &str,
        verified: bool,
    ) -> (StatusCode, String, Value) {
        let now = self.now_secs();
        let id_token = self.id_token(&self.key, email, verified, &nonce, now);
        self.token_endpoint_says(&id_token);
        self.callback(&state).await
    }
    async fn mark_verified(&self, email: &str) {
        let sql = format!("UPDATE users SET email_verified_at = 1 WHERE email = '{email}'");
        self.sql.run(Statement::new(sql, vec![])).await.unwrap();
    }
    /// `POST idp/link/` as `access`, confirmed with `password`.
    async fn start_link(&self, access: &str, password: &str) -> Reply {
        let body =
            json!({"redirect_uri": CB, "code_challenge": s256(VERIFIER), "password": password});
        self.as_web()
            .post_as("/api/auth/social/idp/link/", body, access)
            .await
    }
    fn now_secs(&self) -> u64 {
        (self.clock.now_ms() / 1000) as u64
    }

    /// An ID token for `email` signed by `key`, with `nonce`.
    fn id_token(
        &self,
        key: &ES256KeyPair,
        email: &str,
        verified: bool,
        nonce: &str,
        iat: u64,
    ) -> String {
        let mut c = Claims::with_custom_claims(
            json!({"email": email, "email_verified": verified}),
            Duration::from_secs(300),
        )
        .with_issuer(ISS)
        .with_audience("gh-at-idp")
        .with_subject(format!("sub-{email}"))
        .with_nonce(nonce);
        c.issued_at = Some(UnixTimeStamp::from_secs(iat));
        c.expires_at = Some(UnixTimeStamp::from_secs(iat + 300));
        key.sign(c).unwrap()
    }

    async fn start(&self, provider: &str, redirect: &str) -> Reply {
        self.as_web()
            .post(
                &format!("/api/auth/social/{provider}/start/"),
                json!({"redirect_uri": redirect, "code_challenge": s256(VERIFIER), "state": "fs1"}),
            )
            .await
    }

    /// Starts; `(state, nonce)` from the authorization URL.
    async fn started(&self, provider: &str) -> (String, String) {
        let r = self.start(provider, CB).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let url = r.body["authorization_url"].as_str().unwrap();
        assert_eq!(query_param(url, "code_challenge_method").unwrap(), "S256");
        assert_eq!(
            query_param(url, "redirect_uri").unwrap(),
            "https%3A%2F%2Fgatehouse.test%2Fapi%2Fauth%2Fsocial%2Fcallback%2F"
        );
        (
            query_param(url, "state").unwrap(),
            query_param(url, "nonce").unwrap_or_default(),
        )
    }

    fn token_endpoint_says(&self, id_token: &str) {
        self.http.answer_json(
            &format!("{ISS}/token"),
            &json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}),
        );
    }

    /// The callback (no API key: the browser comes from the provider).
    async fn callback(&self, state: &str) -> (StatusCode, String, Value) {
        let mut req = Request::builder()
            .uri(format!(
                "/api/auth/social/callback/?state={state}&code=provider-code"
            ))
            .body(bytes::Bytes::new())
            .unwrap();
        req.extensions_mut()
            .insert(gatehouse_core::service::ClientIp(
                "192.0.2.1".parse().unwrap(),
            ));
        let resp = self.gh.handle(req).await;
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
        (resp.status(), location, body)
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Reply {
        self.as_web()
            .post(
                "/api/auth/social/token/",
                json!({"code": code, "code_verifier": verifier}),
            )
            .await
    }

    async fn count(&self, sql: &str) -> i64 {
        let r = self.sql.run(Statement::new(sql, vec![])).await.unwrap();
        match &r.rows[0][0] {
            gatehouse_core::sql::Value::Integer(n) => *n,
            v => panic!("{v:?}"),
        }
    }

    /// A whole sign-in as `email`: the Gatehouse code.
    async fn sign_in(&self, email: &str, verified: bool) -> (StatusCode, String, Value) {
        let started = self.started("idp").await;
        self.answer_as(started, email, verified).await
    }
}

#[tokio::test]
async fn a_new_user_signs_in_end_to_end_and_nothing_replays() {
    let w = world().await;
    let (state, nonce) = w.started("idp").await;
    w.token_endpoint_says(&w.id_token(&w.key, "new@example.com", true, &nonce, w.now_secs()));
    let (status, location, body) = w.callback(&state).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    assert!(location.starts_with(&format!("{CB}?code=")), "{location}");
    assert_eq!(query_param(&location, "state").unwrap(), "fs1");
    let code = query_param(&location, "code").unwrap();
    // Gatehouse's token request: its own PKCE verifier, Basic client auth.
    let sent = w.http.sent();
    let token_req = sent
        .iter()
        .find(|r| r.url == format!("{ISS}/token"))
        .unwrap();
    let form = String::from_utf8(token_req.body.to_vec()).unwrap();
    assert!(
        form.contains("code_verifier=") && form.contains("code=provider-code"),
        "{form}"
    );
    assert!(token_req
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && v.starts_with("Basic ")));
    // The state is spent.
    let (status, _, body) = w.callback(&state).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (400, Some("invalid_state"))
    );
    let r = w.exchange(&code, VERIFIER).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = r.body["access"].as_str().unwrap().to_owned();
    assert!(r.body["refresh"].is_string());
    let me = w.as_web().profile(&access).await;
    assert_eq!(me.body["email"], "new@example.com", "{}", me.body);
    assert_eq!(me.body["user_type"], "creator");
    // The code is spent.
    w.exchange(&code, VERIFIER)
        .await
        .assert_error(400, "invalid_code");
    // The profile lists the identity; it is the only way in: no unlinking.
    let ids = w
        .as_web()
        .get("/api/auth/social/identities/", &access)
        .await;
    assert_eq!(ids.body[0]["provider"], "idp", "{}", ids.body);
    let r = w
        .as_web()
        .delete("/api/auth/social/identities/idp/", &access)
        .await;
    r.assert_error(409, "last_sign_in_method");
    // The next sign-in finds the same account.
    let (status, location, _) = w.sign_in("new@example.com", true).await;
    assert_eq!(status, StatusCode::FOUND);
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        w.count("SELECT count(*) FROM users WHERE email = 'new@example.com'")
            .await,
        1
    );
    assert!(
        w.count("SELECT count(*) FROM audit_events WHERE event = 'social.signed_up'")
            .await
            == 1
    );
}

#[tokio::test]
async fn a_wrong_verifier_or_an_expired_code_signs_no_one_in() {
    let w = world().await;
    let (_, location, _) = w.sign_in("v@example.com", true).await;
    let code = query_param(&location, "code").unwrap();
    let wrong = "another-verifier-0123456789-0123456789-0123456789";
    // Refused, and the wrong guess burns the code.
    for verifier in [wrong, VERIFIER] {
        let r = w.exchange(&code, verifier).await;
        r.assert_error(400, "invalid_code");
    }
    let (_, location, _) = w.sign_in("v@example.com", true).await;
    w.clock.advance_millis(61_000);
    w.exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await
        .assert_error(400, "invalid_code");
}

#[tokio::test]
async fn bad_states_and_redirects_are_refused() {
    let w = world().await;
    let (status, _, body) = w.callback("no-such-state").await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (400, Some("invalid_state"))
    );
    w.start("idp", "https://evil.test/cb")
        .await
        .assert_error(400, "redirect_uri_not_allowed");
    w.start("nope", CB)
        .await
        .assert_error(404, "provider_not_found");
    let (state, _) = w.started("idp").await;
    w.clock.advance_millis(601_000);
    let (status, _, _) = w.callback(&state).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn id_tokens_are_verified_in_full() {
    let w = world().await;
    let users = w.count("SELECT count(*) FROM users").await;
    let other = ES256KeyPair::generate().with_key_id("k1");
    let now = w.now_secs();
    for (why, token) in [
        (
            "bad nonce",
            w.id_token(&w.key, "x@example.com", true, "not-the-nonce", now),
        ),
        ("wrong signature", String::new()),
        ("expired", String::new()),
    ] {
        let (state, nonce) = w.started("idp").await;
        let token = match why {
            "wrong signature" => w.id_token(&other, "x@example.com", true, &nonce, now),
            "expired" => w.id_token(&w.key, "x@example.com", true, &nonce, now - 3600),
            _ => token,
        };
        w.token_endpoint_says(&token);
        let (status, _, body) = w.callback(&state).await;
        assert_eq!(
            (status.as_u16(), body["code"].as_str()),
            (400, Some("invalid_id_token")),
            "{why}: {body}"
        );
    }
    assert_eq!(
        w.count("SELECT count(*) FROM users").await,
        users,
        "nothing written"
    );
    // A key the cached set lacks: the set is fetched again (once a minute).
    let rotated = ES256KeyPair::generate().with_key_id("k2");
    w.http.answer_json(
        &format!("{ISS}/jwks"),
        &json!({"keys": [jwk(&w.key, "k1"), jwk(&rotated, "k2")]}),
    );
    let (state, nonce) = w.started("idp").await;
    w.token_endpoint_says(&w.id_token(&rotated, "r@example.com", true, &nonce, w.now_secs()));
    let (status, _, body) = w.callback(&state).await;
    assert_eq!(
        status.as_u16(),
        400,
        "fetched less than a minute ago: {body}"
    );
    w.clock.advance_millis(61_000);
    let (state, nonce) = w.started("idp").await;
    w.token_endpoint_says(&w.id_token(&rotated, "r@example.com", true, &nonce, w.now_secs()));
    let (status, _, body) = w.callback(&state).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
}

#[tokio::test]
async fn accounts_link_automatically_only_with_both_emails_verified() {
    let w = world().await;
    create_user(&w.gh, "bob", UserType::Creator).await;
    // Local email not verified: refused, audited, nothing linked.
    let (status, _, body) = w.sign_in("bob@example.com", true).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (409, Some("account_exists")),
        "{body}"
    );
    assert_eq!(w.count("SELECT count(*) FROM user_identities").await, 0);
    w.mark_verified("bob@example.com").await;
    // Provider's not verified: refused.
    let (status, _, _) = w.sign_in("bob@example.com", false).await;
    assert_eq!(status.as_u16(), 409);
    // Both verified: linked, and it is bob who signs in.
    let (status, location, _) = w.sign_in("bob@example.com", true).await;
    assert_eq!(status, StatusCode::FOUND);
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    let access = r.body["access"].as_str().unwrap().to_owned();
    let me = w.as_web().profile(&access).await;
    assert_eq!(me.body["username"], "bob");
    // Bob has a password: the identity can go.
    let r = w
        .as_web()
        .delete("/api/auth/social/identities/idp/", &access)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(w.count("SELECT count(*) FROM user_identities").await, 0);
}

#[tokio::test]
async fn a_provider_that_is_down_is_a_502_and_nothing_is_written() {
    let w = world().await;
    let users = w.count("SELECT count(*) FROM users").await;
    let (state, _) = w.started("idp").await;
    w.http.answer(
        &format!("{ISS}/token"),
        Err(OutboundError::Network("connection refused".into())),
    );
    let (status, _, body) = w.callback(&state).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (502, Some("provider_error")),
        "{body}"
    );
    w.http
        .answer(&format!("{ISS}/token"), Err(OutboundError::Timeout));
    let (status, _, _) = w.callback(&state).await;
    assert_eq!(status.as_u16(), 504);
    w.http.answer(
        &format!("{ISS}/token"),
        Ok(OutboundResponse {
            status: 500,
            headers: vec![],
            body: bytes::Bytes::new(),
        }),
    );
    let (status, _, _) = w.callback(&state).await;
    assert_eq!(status.as_u16(), 502);
    assert_eq!(w.count("SELECT count(*) FROM users").await, users);
    assert_eq!(w.count("SELECT count(*) FROM social_codes").await, 0);
}

#[tokio::test]
async fn github_signs_in_through_its_user_api() {
    let w = world().await;
    let r = w.start("github", CB).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://gh.test/login/oauth/authorize?"),
        "{url}"
    );
    let state = query_param(url, "state").unwrap();
    w.http.answer_json(
        "https://gh.test/login/oauth/access_token",
        &json!({"access_token": "gho_x", "token_type": "bearer", "scope": "read:user,user:email"}),
    );
    w.http.answer_json(
        "https://gh.test/user",
        &json!({"id": 4242, "login": "octo", "name": "Octo Cat"}),
    );
    w.http.answer_json(
        "https://gh.test/user/emails",
        &json!([{"email": "old@example.com", "primary": false, "verified": true},
                {"email": "octo@example.com", "primary": true, "verified": true}]),
    );
    let (status, location, body) = w.callback(&state).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let api = w
        .http
        .sent()
        .into_iter()
        .find(|r| r.url == "https://gh.test/user")
        .unwrap();
    assert!(api
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && v == "Bearer gho_x"));
    let me = w.as_web().profile(r.body["access"].as_str().unwrap()).await;
    assert_eq!(me.body["email"], "octo@example.com");
    assert_eq!(me.body["first_name"], "Octo");
}

#[tokio::test]
async fn a_user_with_a_second_factor_gets_mfa_required() {
    use gatehouse_core::clock::UnixMillis;
    use gatehouse_core::mfa::totp::{base32_decode, code_at, step_of};
    let w = world().await;
    let (_, location, _) = w.sign_in("two@example.com", true).await;
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    let access = r.body["access"].as_str().unwrap().to_owned();
    let r = w
        .as_web()
        .post_empty_as("/api/auth/mfa/totp/enroll/", &access)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    let code = code_at(&secret, step_of(UnixMillis(w.clock.now_ms())));
    let r = w
        .as_web()
        .post_as(
            "/api/auth/mfa/totp/confirm/",
            json!({"code": code}),
            &access,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, location, _) = w.sign_in("two@example.com", true).await;
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    r.assert_error(401, "mfa_required");
    assert!(r.body["mfa_token"].is_string());
    assert!(r.body.get("access").is_none());
}

#[tokio::test]
async fn a_signed_in_user_links_from_the_profile_with_the_password() {
    let w = world().await;
    create_user(&w.gh, "carol", UserType::Creator).await;
    // Carol's email is not verified: no automatic link.
    let (status, _, _) = w.sign_in("carol@example.com", true).await;
    assert_eq!(status.as_u16(), 409);
    let r = w
        .as_web()
        .login("carol@example.com", support::PASSWORD)
        .await;
    let access = r.body["access"].as_str().unwrap().to_owned();
    let link = |password: &'static str| {
        let access = access.clone();
        let w = &w;
        async move { w.start_link(&access, password).await }
    };
    let r = link("wrong password").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["password"].is_array());
    let r = link(support::PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, location, body) = w.come_back(&r, "carol@example.com", false).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let r = w
        .exchange(&query_param(&location, "code").unwrap(), VERIFIER)
        .await;
    let me = w.as_web().profile(r.body["access"].as_str().unwrap()).await;
    assert_eq!(me.body["username"], "carol");
    // From now on the provider signs carol in directly.
    let (status, _, _) = w.sign_in("carol@example.com", false).await;
    assert_eq!(status, StatusCode::FOUND);
    // Another account cannot take the same identity.
    create_user(&w.gh, "dave", UserType::Creator).await;
    let r = w
        .as_web()
        .login("dave@example.com", support::PASSWORD)
        .await;
    let dave = r.body["access"].as_str().unwrap().to_owned();
    let r = w.start_link(&dave, support::PASSWORD).await;
    let (status, _, body) = w.come_back(&r, "carol@example.com", true).await;
    assert_eq!(
        (status.as_u16(), body["code"].as_str()),
        (409, Some("identity_in_use"))
    );
}

#[tokio::test]
async fn staff_without_a_second_factor_are_told_to_enrol_through_an_admin_client() {
    let w = world().await;
    create_user(&w.gh, "sam", UserType::Staff).await;
    w.mark_verified("sam@example.com").await;
    let r = w
        .as_dash()
        .post(
            "/api/auth/social/idp/start/",
            json!({"redirect_uri": CB, "code_challenge": s256(VERIFIER)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, location, body) = w.come_back(&r, "sam@example.com", true).await;
    assert_eq!(status, StatusCode::FOUND, "{body}");
    let r = w
        .as_dash()
        .post(
            "/api/auth/social/token/",
            json!({"code": query_param(&location, "code").unwrap(), "code_verifier": VERIFIER}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["mfa_enrollment_required"], true);
}
