//! One keep-alive HTTP/1.1 connection (hyper 1's low-level client), where
//! requests go, and their answers.

use crate::Error;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;

/// A runtime for the client side with `threads` workers (the server gets
/// the rest of the cores).
pub fn client_runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime")
}

/// An API client's credentials.
#[derive(Debug, Clone)]
pub struct Creds {
    pub client_id: String,
    pub api_key: String,
}

/// Where requests go and with which API client.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: String,
    pub creds: Creds,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A string field of the JSON body.
    pub fn field(&self, k: &str) -> Option<String> {
        self.json()[k].as_str().map(str::to_owned)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The wait (seconds) of a well-formed refusal by a full hashing queue: 503,
/// code `server_busy`, a `Retry-After` in whole seconds. `None` otherwise.
pub fn server_busy_retry_after(r: &Resp) -> Option<u64> {
    if r.status.as_u16() != 503 || r.json()["code"] != "server_busy" {
        return None;
    }
    r.headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum Failure {
    /// Connect refused or reset, broken mid-exchange: the connection dropped.
    Io(String),
    /// No answer within the per-request timeout.
    Timeout,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Io(e) => write!(f, "connection error: {e}"),
            Failure::Timeout => write!(f, "timeout"),
        }
    }
}

/// One keep-alive HTTP/1.1 connection; reconnects on the next call after an
/// error (counted in `reconnects`).
pub struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    pub opened: u64,
    pub timeout: Duration,
    /// Extra headers for every request (e.g. User-Agent).
    pub extra: Vec<(String, String)>,
    /// Set to send no API key / client id headers.
    pub no_api_key: bool,
}

/// Connections opened by every `Conn` of this process.
pub static CONNECTIONS_OPENED: AtomicU64 = AtomicU64::new(0);

impl Conn {
    pub fn new(target: &Target) -> Conn {
        Conn {
            target: target.clone(),
            sender: None,
            opened: 0,
            timeout: Duration::from_secs(30),
            extra: Vec::new(),
            no_api_key: false,
        }
    }

    /// Opens the connection now (if not open).
    pub async fn connect(&mut self) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.open()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure::Io(e.to_string())),
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn open(&mut self) -> Result<(), Error> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(());
        }
        self.sender = None;
        let stream = TcpStream::connect(&self.target.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.opened += 1;
        CONNECTIONS_OPENED.fetch_add(1, Ordering::Relaxed);
        self.sender = Some(sender);
        Ok(())
    }

    /// Whether the connection is open (not known closed).
    pub fn is_open(&self) -> bool {
        self.sender.as_ref().is_some_and(|s| !s.is_closed())
    }

    /// `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<Resp, Failure> {
        let body = body.map(|b| Bytes::from(b.to_string()));
        self.raw(method, path, bearer, body, "application/json")
            .await
    }

    pub async fn get(&mut self, path: &str, bearer: Option<&str>) -> Result<Resp, Failure> {
        self.call(Method::GET, path, bearer, None).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<Resp, Failure> {
        self.call(Method::POST, path, bearer, Some(body)).await
    }

    /// Logs in as `email` with `password`.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<Resp, Failure> {
        let body = serde_json::json!({"email": email, "password": password});
        self.post("/api/auth/token/", None, &body).await
    }

    /// Refreshes with the refresh token `token`.
    pub async fn refresh(&mut self, token: &str) -> Result<Resp, Failure> {
        let body = serde_json::json!({ "refresh": token });
        self.post("/api/auth/token/refresh/", None, &body).await
    }

    /// Registers `username` (email `username@example.com`) with `password`.
    pub async fn register(&mut self, username: &str, password: &str) -> Result<Resp, Failure> {
        let email = format!("{username}@example.com");
        let body = serde_json::json!({"email": email, "username": username, "password": password, "password2": password});
        self.post("/api/auth/register/", None, &body).await
    }

    /// Any request; `body` is sent as is with `content_type`.
    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Bytes>,
        content_type: &str,
    ) -> Result<Resp, Failure> {
        let timeout = self.timeout;
        let send = async {
            let mut req = Request::builder()
                .method(method)
                .uri(path)
                .header(header::HOST, HeaderValue::from_str(&self.target.addr)?);
            if !self.no_api_key {
                req = req
                    .header("x-api-key", self.target.creds.api_key.as_str())
                    .header("x-client-id", self.target.creds.client_id.as_str());
            }
            for (k, v) in &self.extra {
                req = req.header(k.as_str(), v.as_str());
            }
            if let Some(token) = bearer {
                req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let body = match body {
                Some(b) => {
                    req = req.header(header::CONTENT_TYPE, content_type);
                    b
                }
                None => Bytes::new(),
            };
            let req = req.body(Full::new(body))?;
            self.open().await?;
            let sender = self.sender.as_mut().expect("opened");
            sender.ready().await?;
            let resp = sender.send_request(req).await?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, Error>(Resp {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        let result = tokio::time::timeout(timeout, send).await;
        let result = match result {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(Failure::Io(e.to_string())),
            Err(_) => Err(Failure::Timeout),
        };
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}
