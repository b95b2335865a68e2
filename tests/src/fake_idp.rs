//! A small identity provider for the social sign-in tests, on 127.0.0.1:
//! an OpenID Connect discovery document, its key set (ES256 keys the test
//! rotates), a token endpoint answering what the test sets (ID tokens it
//! mints, with the nonce Gatehouse chose), and GitHub's token, `/user` and
//! `/user/emails` endpoints. Every request is recorded.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// An ES256 signing key with its `kid`.
pub struct Key {
    pub kid: String,
    key: p256::ecdsa::SigningKey,
}

impl Key {
    /// A key derived from `seed` (a test's own name makes it unique).
    pub fn new(kid: &str, seed: &str) -> Key {
        let scalar = Sha256::digest(format!("fake-idp {seed} {kid}").as_bytes());
        Key {
            kid: kid.to_owned(),
            key: p256::ecdsa::SigningKey::from_slice(&scalar).expect("scalar"),
        }
    }

    pub fn jwk(&self) -> Value {
        let p = self.key.verifying_key().to_sec1_point(false);
        let b = p.as_bytes();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
               "x": URL_SAFE_NO_PAD.encode(&b[1..33]), "y": URL_SAFE_NO_PAD.encode(&b[33..65])})
    }

    /// A JWT of `claims`, signed.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig: p256::ecdsa::Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// Seconds since the epoch (the hosts run on the wall clock).
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Default)]
struct State {
    jwks: Vec<Value>,
    /// The token endpoint's answer: status and JSON.
    token: Option<(u16, Value)>,
    github_user: Value,
    github_emails: Value,
    requests: Vec<(String, String)>,
}

/// The running provider; it stops with the test's runtime.
#[derive(Clone)]
pub struct FakeIdp {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeIdp {
    pub async fn start() -> FakeIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake IdP");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let idp = FakeIdp {
            base,
            state: Arc::new(Mutex::new(State::default())),
        };
        let served = idp.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let idp = served.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let idp = idp.clone();
                        async move { Ok::<_, std::convert::Infallible>(idp.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        idp
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_keys(&self, keys: &[&Key]) {
        self.lock().jwks = keys.iter().map(|k| k.jwk()).collect();
    }

    /// The token endpoint answers `status` with `body`.
    pub fn set_token_answer(&self, status: u16, body: Value) {
        self.lock().token = Some((status, body));
    }

    pub fn set_github(&self, user: Value, emails: Value) {
        let mut s = self.lock();
        s.github_user = user;
        s.github_emails = emails;
    }

    /// `(method path, body)` of every request so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.lock().requests.clone()
    }

    /// ID token claims for `email` from this issuer to `aud`.
    pub fn claims(&self, aud: &str, email: &str, verified: bool, nonce: &str, iat: i64) -> Value {
        json!({"iss": self.base, "aud": aud, "sub": format!("sub-{email}"), "email": email,
               "email_verified": verified, "nonce": nonce, "iat": iat, "exp": iat + 300})
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let what = format!("{} {}", req.method(), req.uri().path());
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let (status, json) = {
            let mut s = self.lock();
            s.requests
                .push((what.clone(), String::from_utf8_lossy(&body).into_owned()));
            match what.as_str() {
                "GET /.well-known/openid-configuration" => (
                    200,
                    json!({"issuer": self.base,
                           "authorization_endpoint": format!("{}/auth", self.base),
                           "token_endpoint": format!("{}/token", self.base),
                           "jwks_uri": format!("{}/jwks", self.base)}),
                ),
                "GET /jwks" => (200, json!({"keys": s.jwks})),
                "POST /token" => s.token.clone().unwrap_or((500, json!({}))),
                "POST /login/oauth/access_token" => (
                    200,
                    json!({"access_token": "gho_fake", "token_type": "bearer"}),
                ),
                "GET /user" => (200, s.github_user.clone()),
                "GET /user/emails" => (200, s.github_emails.clone()),
                _ => (404, json!({"error": "not_found"})),
            }
        };
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json.to_string())))
            .expect("response")
    }
}
