//! Social sign-in (docs/CONTRACT.md, "Social sign-in") against a provider
//! the harness runs (`fake_idp.rs`: discovery, key set, token endpoint,
//! GitHub's API, ID tokens minted here). The host reaches it on 127.0.0.1,
//! which the harness's servers allow (`--outbound-allow 127.0.0.1`; the
//! Worker's script sets `GATEHOUSE_OUTBOUND_ALLOW`). This test plays the
//! browser: it calls the callback itself with the provider's code.

use gatehouse_contract::fake_idp::{now_secs, FakeIdp, Key};
use gatehouse_contract::harness::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const CB: &str = "https://app.example/cb";
const VERIFIER: &str = "contract-verifier-0123456789-0123456789-0123456789";

fn s256(v: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()))
}

fn param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?
        .1
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

struct Social {
    ctx: Ctx,
    idp: FakeIdp,
    key: Key,
    provider: String,
    oauth_client: String,
}

/// The default server, a web client, the fake provider, and a provider
/// (`kind`: an OIDC issuer or a GitHub preset) created through the admin API.
async fn social(github: bool) -> Social {
    let ctx = Ctx::new();
    let idp = FakeIdp::start().await;
    let provider = unique("idp");
    let key = Key::new("k1", &provider);
    idp.set_keys(&[&key]);
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let admin = ctx.server.create_user("admin");
    let tokens = admin_api.login_ok(&admin).await;
    let oauth_client = unique("oauth");
    let mut body = json!({"id": provider, "issuer": idp.base, "client_id": oauth_client,
        "client_secret": "contract-secret",
        "clients": [{"client_id": ctx.creds.client_id, "redirect_uris": [CB]}]});
    if github {
        body["preset"] = json!("github");
    }
    let r = admin_api
        .post_as("/api/admin/providers/", &tokens.access, &body)
        .await;
    r.expect(201);
    assert!(!r.text().contains("contract-secret"));
    Social {
        ctx,
        idp,
        key,
        provider,
        oauth_client,
    }
}

impl Social {
    async fn start(&self, redirect: &str) -> Resp {
        self.ctx
            .api.post_json(&format!("/api/auth/social/{}/start/", self.provider), &json!({"redirect_uri": redirect, "code_challenge": s256(VERIFIER), "state": "front"})).await
    }

    /// `(state, nonce)` of a started sign-in.
    async fn started(&self) -> (String, String) {
        let r = self.start(CB).await;
        r.expect(200);
        let url = r.json()["authorization_url"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&self.idp.base), "{url}");
        (
            param(&url, "state").unwrap(),
            param(&url, "nonce").unwrap_or_default(),
        )
    }

    fn id_token(&self, key: &Key, email: &str, verified: bool, nonce: &str, iat: i64) -> String {
        key.sign(
            &self
                .idp
                .claims(&self.oauth_client, email, verified, nonce, iat),
        )
    }

    async fn callback(&self, state: &str) -> Resp {
        self.ctx
            .anonymous()
            .get(&format!(
                "/api/auth/social/callback/?state={state}&code=idp-code"
            ))
            .no_key()
            .send()
            .await
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Resp {
        self.ctx
            .api
            .post_json(
                "/api/auth/social/token/",
                &json!({"code": code, "code_verifier": verifier}),
            )
            .await
    }

    /// A whole callback as `email`: the answer.
    async fn sign_in(&self, email: &str, verified: bool) -> Resp {
        let (state, nonce) = self.started().await;
        let t = self.id_token(&self.key, email, verified, &nonce, now_secs());
        self.idp
            .set_token_answer(200, json!({"access_token": "at", "id_token": t}));
        self.callback(&state).await
    }
}

fn code_of(r: &Resp) -> String {
    r.expect(302);
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with(&format!("{CB}?code=")), "{loc}");
    assert_eq!(param(loc, "state").as_deref(), Some("front"));
    param(loc, "code").unwrap()
}

#[tokio::test]
async fn a_creator_signs_in_with_an_openid_provider_and_nothing_replays() {
    let s = social(false).await;
    let email = unique_email();
    let (state, nonce) = s.started().await;
    let t = s.id_token(&s.key, &email, true, &nonce, now_secs());
    s.idp
        .set_token_answer(200, json!({"access_token": "at", "id_token": t}));
    let r = s.callback(&state).await;
    let code = code_of(&r);
    let token_req = s
        .idp
        .requests()
        .into_iter()
        .find(|(w, _)| w == "POST /token")
        .unwrap();
    assert!(
        token_req.1.contains("code_verifier="),
        "Gatehouse's own PKCE"
    );
    s.callback(&state).await.expect_error(400, "invalid_state");
    let r = s.exchange(&code, VERIFIER).await;
    r.expect(200);
    let access = r.json()["access"].as_str().unwrap().to_owned();
    let me = s.ctx.api.profile(&access).await;
    me.expect(200);
    assert_eq!(me.json()["email"], email.as_str());
    assert_eq!(me.json()["user_type"], "creator");
    s.exchange(&code, VERIFIER)
        .await
        .expect_error(400, "invalid_code");
    let ids = s
        .ctx
        .api
        .get_as("/api/auth/social/identities/", &access)
        .await;
    assert_eq!(ids.json()[0]["provider"], s.provider.as_str());
    s.ctx
        .api
        .call_as(
            http::Method::DELETE,
            &format!("/api/auth/social/identities/{}/", s.provider),
            &access,
        )
        .await
        .expect_error(409, "last_sign_in_method");
}

#[tokio::test]
async fn a_wrong_verifier_burns_the_code() {
    let s = social(false).await;
    let code = code_of(&s.sign_in(&unique_email(), true).await);
    let wrong = "wrong-verifier-0123456789-0123456789-0123456789";
    s.exchange(&code, wrong)
        .await
        .expect_error(400, "invalid_code");
    s.exchange(&code, VERIFIER)
        .await
        .expect_error(400, "invalid_code");
}

#[tokio::test]
async fn states_redirects_and_id_tokens_are_checked() {
    let s = social(false).await;
    s.callback("forged-state")
        .await
        .expect_error(400, "invalid_state");
    s.start("https://evil.example/cb")
        .await
        .expect_error(400, "redirect_uri_not_allowed");
    let other = Key::new("k1", "someone else");
    for why in ["nonce", "signature", "expired"] {
        let (state, nonce) = s.started().await;
        let email = unique_email();
        let t = match why {
            "nonce" => s.id_token(&s.key, &email, true, "not-it", now_secs()),
            "signature" => s.id_token(&other, &email, true, &nonce, now_secs()),
            _ => s.id_token(&s.key, &email, true, &nonce, now_secs() - 3600),
        };
        s.idp.set_token_answer(200, json!({"id_token": t}));
        s.callback(&state)
            .await
            .expect_error(400, "invalid_id_token");
    }
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_key_set_again() {
    let s = social(false).await;
    // The first sign-in caches the set (k1 only).
    code_of(&s.sign_in(&unique_email(), true).await);
    let rotated = Key::new("k2", &s.provider);
    s.idp.set_keys(&[&s.key, &rotated]);
    let (state, nonce) = s.started().await;
    let t = s.id_token(&rotated, &unique_email(), true, &nonce, now_secs());
    s.idp.set_token_answer(200, json!({"id_token": t}));
    // Fetched less than a minute ago: not again yet (a flood of unknown
    // kids must not become a flood of fetches).
    s.callback(&state)
        .await
        .expect_error(400, "invalid_id_token");
    let jwks_fetches = |s: &Social| {
        s.idp
            .requests()
            .iter()
            .filter(|(w, _)| w == "GET /jwks")
            .count()
    };
    assert_eq!(jwks_fetches(&s), 1);
}

#[tokio::test]
async fn automatic_linking_needs_both_emails_verified() {
    let s = social(false).await;
    let (user, _) = s.ctx.api.new_creator().await;
    // The local email is not verified.
    s.sign_in(&user.email, true)
        .await
        .expect_error(409, "account_exists");
}

#[tokio::test]
async fn a_provider_that_is_down_is_a_502_and_the_state_survives() {
    let s = social(false).await;
    let (state, nonce) = s.started().await;
    s.idp
        .set_token_answer(503, json!({"error": "temporarily_unavailable"}));
    s.callback(&state).await.expect_error(502, "provider_error");
    // Nothing was written: the same state still completes.
    let t = s.id_token(&s.key, &unique_email(), true, &nonce, now_secs());
    s.idp.set_token_answer(200, json!({"id_token": t}));
    code_of(&s.callback(&state).await);
}

#[tokio::test]
async fn github_signs_in_through_its_api() {
    let s = social(true).await;
    let email = unique_email();
    s.idp.set_github(
        json!({"id": now_secs(), "login": "octo", "name": "Octo Cat"}),
        json!([{"email": email, "primary": true, "verified": true}]),
    );
    let r = s.start(CB).await;
    r.expect(200);
    let url: Value = r.json();
    let url = url["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/login/oauth/authorize?", s.idp.base)),
        "{url}"
    );
    let code = code_of(&s.callback(&param(url, "state").unwrap()).await);
    let r = s.exchange(&code, VERIFIER).await;
    r.expect(200);
    let me = s
        .ctx
        .api
        .profile(r.json()["access"].as_str().unwrap())
        .await;
    assert_eq!(me.json()["email"], email.as_str());
}

/// A browser for the real provider's pages: cookies kept by name (its
/// cookies are path-scoped to one interaction; sending all is harmless),
/// redirects returned, not followed.
struct Browser {
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http(),
            cookies: Vec::new(),
        }
    }

    /// `(status, location, body)`.
    async fn go(
        &mut self,
        method: http::Method,
        url: &str,
        form: Option<String>,
    ) -> (u16, String, String) {
        use http_body_util::BodyExt;
        let mut b = http::Request::builder().method(method).uri(url);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header("cookie", jar.join("; "));
        }
        let body = match form {
            Some(f) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                bytes::Bytes::from(f)
            }
            None => bytes::Bytes::new(),
        };
        let resp = self
            .http
            .request(b.body(http_body_util::Full::new(body)).unwrap())
            .await
            .expect("the provider answers");
        for c in resp.headers().get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != k);
                if !v.is_empty() {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }
}

/// The full flow with a real OpenID Provider (npm `oidc-provider`, started by
/// scripts/with-oidc.sh): its login form driven over HTTP, its RS256 ID
/// token verified by Gatehouse. Skipped without GATEHOUSE_TEST_OIDC_ISSUER.
#[tokio::test]
async fn a_creator_signs_in_with_a_real_openid_provider() {
    let Some(issuer) = std::env::var("GATEHOUSE_TEST_OIDC_ISSUER")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!("SKIP a_creator_signs_in_with_a_real_openid_provider: no GATEHOUSE_TEST_OIDC_ISSUER (scripts/with-oidc.sh)");
        return;
    };
    let client_id = std::env::var("GATEHOUSE_TEST_OIDC_CLIENT_ID").unwrap();
    let secret = std::env::var("GATEHOUSE_TEST_OIDC_CLIENT_SECRET").unwrap();
    let ctx = Ctx::new();
    let (_, admin_api) = ctx.client(&ClientSpec::admin());
    let admin = ctx.server.create_user("admin");
    let tokens = admin_api.login_ok(&admin).await;
    let provider = unique("op");
    admin_api.post_as("/api/admin/providers/", &tokens.access, &json!({"id": provider, "issuer": issuer, "client_id": client_id, "client_secret": secret,
            "clients": [{"client_id": ctx.creds.client_id, "redirect_uris": [CB]}]})).await
        .expect(201);
    let r = ctx
        .api
        .post_json(
            &format!("/api/auth/social/{provider}/start/"),
            &json!({"redirect_uri": CB, "code_challenge": s256(VERIFIER), "state": "front"}),
        )
        .await;
    r.expect(200);
    let mut url = r.json()["authorization_url"].as_str().unwrap().to_owned();
    let email = unique_email();
    let mut browser = Browser::new();
    let mut method = http::Method::GET;
    let mut form = None;
    // /auth → /interaction/ID (login form) → POST it → /auth/ID → the callback.
    let callback = loop {
        let (status, location, body) = browser.go(method.clone(), &url, form.take()).await;
        assert!(
            status == 303 || status == 302 || status == 200,
            "{status} at {url}: {body}"
        );
        if status == 200 {
            assert!(body.contains("name=\"prompt\" value=\"login\""), "{body}");
            method = http::Method::POST;
            form = Some(format!(
                "prompt=login&login={}&password=any",
                email.replace('@', "%40")
            ));
            continue;
        }
        method = http::Method::GET;
        let next = if location.starts_with('/') {
            format!("{issuer}{location}")
        } else {
            location
        };
        if next.contains("/api/auth/social/callback/") {
            break next;
        }
        url = next;
    };
    let query = callback.split_once('?').unwrap().1;
    let r = ctx
        .anonymous()
        .get(&format!("/api/auth/social/callback/?{query}"))
        .no_key()
        .send()
        .await;
    let code = code_of(&r);
    let r = ctx
        .api
        .post_json(
            "/api/auth/social/token/",
            &json!({"code": code, "code_verifier": VERIFIER}),
        )
        .await;
    r.expect(200);
    let me = ctx.api.profile(r.json()["access"].as_str().unwrap()).await;
    me.expect(200);
    assert_eq!(me.json()["email"], email.as_str());
    assert_eq!(me.json()["user_type"], "creator");
}
