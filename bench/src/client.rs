//! One keep-alive HTTP/1.1 connection (hyper 1's low-level client) and the
//! server it talks to.

use crate::Error;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The server under test and the API client's credentials.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` to connect to.
    pub authority: String,
    /// The `Host` header.
    host: HeaderValue,
    /// Path prefix of the base URL ("" or "/something", no trailing slash).
    prefix: String,
    api_key: HeaderValue,
    client_id: HeaderValue,
}

impl Target {
    pub fn parse(base_url: &str, api_key: &str, client_id: &str) -> Result<Target, Error> {
        let rest = base_url.strip_prefix("http://").ok_or_else(|| {
            if base_url.starts_with("https://") {
                format!("{base_url}: https is not supported; bench a plain-http endpoint (wrangler dev, a local proxy)")
            } else {
                format!("{base_url}: expected http://HOST:PORT")
            }
        })?;
        let (host, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(format!("{base_url}: no host").into());
        }
        let authority = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host.to_owned()
        } else {
            format!("{host}:80")
        };
        Ok(Target {
            authority,
            host: HeaderValue::from_str(host)?,
            prefix: prefix.to_owned(),
            api_key: HeaderValue::from_str(api_key)?,
            client_id: HeaderValue::from_str(client_id)?,
        })
    }
}

/// A JSON request template: method, path (under the base URL), an optional
/// bearer token and body.
pub struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub bearer: Option<&'a str>,
    pub body: Option<Bytes>,
}

/// One connection; reconnects on the next call after an I/O error.
pub struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Connections (re)opened, the first one included.
    pub opened: u64,
}

impl Conn {
    pub fn new(target: &Target) -> Conn {
        Conn {
            target: target.clone(),
            sender: None,
            opened: 0,
        }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, Error> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(self.sender.as_mut().expect("checked"));
        }
        self.sender = None;
        let stream = TcpStream::connect(&self.target.authority).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes.
            let _ = conn.await;
        });
        self.opened += 1;
        Ok(self.sender.insert(sender))
    }

    /// Sends `call` and reads the whole answer. On an I/O error the
    /// connection is dropped and the next call opens a new one.
    pub async fn send(&mut self, call: &Call<'_>) -> Result<(StatusCode, Bytes), Error> {
        let result = self.try_send(call).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(&mut self, call: &Call<'_>) -> Result<(StatusCode, Bytes), Error> {
        let t = &self.target;
        let uri = format!("{}{}", t.prefix, call.path);
        let mut req = Request::builder()
            .method(call.method.clone())
            .uri(uri)
            .header(header::HOST, t.host.clone())
            .header("x-api-key", t.api_key.clone())
            .header("x-client-id", t.client_id.clone());
        if let Some(token) = call.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match &call.body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                b.clone()
            }
            None => Bytes::new(),
        };
        let req = req.body(Full::new(body))?;
        let sender = self.connect().await?;
        sender.ready().await?;
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
