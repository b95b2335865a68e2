//! The core's outbound HTTP natively: one hyper HTTP/1.1 connection per
//! request (identity providers and webhooks are called rarely; a pool would
//! keep sockets to them open for nothing), plain or TLS (rustls with ring
//! and the Mozilla roots of `webpki-roots`: the crates lettre already
//! brings, no OpenSSL, no system store to depend on).
//!
//! The name is resolved here, every address it resolves to is checked
//! against the policy (one refused address refuses the request: a name
//! that mixes public and private answers is suspect), and the connection
//! goes to the checked addresses themselves, so no second resolution can
//! swap them (DNS rebinding). Redirects are never followed.

use gatehouse_core::outbound::{
    HttpClient, OutboundError, OutboundPolicy, OutboundRequest, OutboundResponse, OutboundUrl,
    UrlHost,
};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// hyper + rustls under `policy`.
pub struct NativeHttp {
    policy: OutboundPolicy,
    tls: tokio_rustls::TlsConnector,
}

impl NativeHttp {
    pub fn new(policy: OutboundPolicy) -> NativeHttp {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        NativeHttp {
            policy,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    /// The addresses to connect to, each one checked.
    async fn addresses(&self, url: &OutboundUrl) -> Result<Vec<SocketAddr>, OutboundError> {
        let addrs: Vec<SocketAddr> = match &url.host {
            UrlHost::Ip(ip) => vec![SocketAddr::new(*ip, url.port)],
            UrlHost::Name(name) => tokio::net::lookup_host((name.as_str(), url.port))
                .await
                .map_err(|e| OutboundError::Network(format!("cannot resolve {name}: {e}")))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(OutboundError::Network(format!(
                "{} resolves to no address",
                url.host_text()
            )));
        }
        for a in &addrs {
            self.policy.check(url, a.ip())?;
        }
        Ok(addrs)
    }

    async fn exchange(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let url = OutboundUrl::parse(&req.url)?;
        let addrs = self.addresses(&url).await?;
        let tcp = TcpStream::connect(&addrs[..])
            .await
            .map_err(|e| OutboundError::Network(format!("connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        if url.https {
            let name = match &url.host {
                UrlHost::Ip(ip) => rustls::pki_types::ServerName::IpAddress((*ip).into()),
                UrlHost::Name(n) => rustls::pki_types::ServerName::try_from(n.clone())
                    .map_err(|e| OutboundError::Network(format!("TLS name: {e}")))?,
            };
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| OutboundError::Network(format!("TLS: {e}")))?;
            over(TokioIo::new(tls), &url, req).await
        } else {
            over(TokioIo::new(tcp), &url, req).await
        }
    }
}

/// One request over a fresh connection `io`.
async fn over<I>(
    io: I,
    url: &OutboundUrl,
    req: OutboundRequest,
) -> Result<OutboundResponse, OutboundError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let net =
        |what: &str, e: &dyn std::fmt::Display| OutboundError::Network(format!("{what}: {e}"));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| net("handshake", &e))?;
    // The connection's task ends with the exchange (or the timeout's drop).
    let conn = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = http::Request::builder()
        .method(req.method.clone())
        .uri(&url.path_and_query)
        .header(http::header::HOST, url.host_header())
        .header(http::header::USER_AGENT, "Gatehouse");
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request =
        builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| OutboundError::Refused {
                reason: format!("bad request: {e}"),
            })?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| net("request", &e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let too_long = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n > req.max_response_bytes as u64);
    if too_long {
        conn.abort();
        return Err(OutboundError::TooLarge);
    }
    let body = Limited::new(response.into_body(), req.max_response_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                OutboundError::TooLarge
            } else {
                OutboundError::Network(format!("response body: {e}"))
            }
        })?
        .to_bytes();
    conn.abort();
    Ok(OutboundResponse {
        status,
        headers,
        body,
    })
}

#[async_trait::async_trait]
impl HttpClient for NativeHttp {
    async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let timeout = Duration::from_millis(req.timeout_ms);
        tokio::time::timeout(timeout, self.exchange(req))
            .await
            .unwrap_or(Err(OutboundError::Timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-shot server on 127.0.0.1 answering `reply` to the first request.
    async fn server(reply: Vec<u8>, delay_ms: u64) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = s.write_all(&reply).await;
            let _ = s.shutdown().await;
        });
        port
    }

    fn allow_loopback() -> NativeHttp {
        NativeHttp::new(OutboundPolicy::parse("127.0.0.0/8").unwrap())
    }

    /// A GET of `/` on a [`server`] answering `reply` after `delay_ms`,
    /// with loopback allowed; `limit` sets the request's bounds.
    async fn get_from(
        reply: Vec<u8>,
        delay_ms: u64,
        limit: impl FnOnce(&mut OutboundRequest),
    ) -> Result<OutboundResponse, OutboundError> {
        let port = server(reply, delay_ms).await;
        let mut req = OutboundRequest::get(&format!("http://127.0.0.1:{port}/"));
        limit(&mut req);
        allow_loopback().send(req).await
    }

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed() {
        let port = server(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
            0,
        )
        .await;
        let url = format!("http://127.0.0.1:{port}/x");
        let refused = NativeHttp::new(OutboundPolicy::default())
            .send(OutboundRequest::get(&url))
            .await;
        assert!(
            matches!(refused, Err(OutboundError::Refused { .. })),
            "{refused:?}"
        );
        // `localhost` resolves to loopback: refused the same way.
        let refused = NativeHttp::new(OutboundPolicy::default())
            .send(OutboundRequest::get(&format!("http://localhost:{port}/")))
            .await;
        assert!(
            matches!(refused, Err(OutboundError::Refused { .. })),
            "{refused:?}"
        );
        let r = allow_loopback()
            .send(OutboundRequest::get(&url))
            .await
            .unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"ok"[..]));
    }

    #[tokio::test]
    async fn redirects_are_answers() {
        let r = get_from(
            b"HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
            0,
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("http://169.254.169.254/"));
    }

    #[tokio::test]
    async fn bodies_are_capped() {
        let body = vec![b'a'; 5000];
        let mut reply = b"HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n".to_vec();
        reply.extend(&body);
        let r = get_from(reply, 0, |req| req.max_response_bytes = 4096).await;
        assert_eq!(r, Err(OutboundError::TooLarge));
        // Without a length (chunked until close), counted as it comes.
        let mut reply = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
        reply.extend(&body);
        let r = get_from(reply, 0, |req| req.max_response_bytes = 4096).await;
        assert_eq!(r, Err(OutboundError::TooLarge));
    }

    #[tokio::test]
    async fn slow_servers_time_out() {
        let r = get_from(
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec(),
            5_000,
            |req| req.timeout_ms = 200,
        )
        .await;
        assert_eq!(r, Err(OutboundError::Timeout));
    }

    #[tokio::test]
    async fn closed_ports_are_network_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let r = allow_loopback()
            .send(OutboundRequest::get(&format!("http://127.0.0.1:{port}/")))
            .await;
        assert!(matches!(r, Err(OutboundError::Network(_))), "{r:?}");
    }
}
