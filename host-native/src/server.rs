//! The HTTP server: hyper 1 over tokio. It turns each hyper request into an
//! `http::Request<Bytes>`, hands it to [`Gatehouse::handle`], and sends the
//! answer back. Every route and error body is the core's.

use crate::body::ReadBody;
use crate::cli::ServeArgs;
use bytes::Bytes;
use gatehouse_core::json::BodyTooLarge;
use gatehouse_core::service::ClientIp;
use gatehouse_core::Gatehouse;
use http::{header, HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// A client gets this long to send the request line and headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// And this long for the body (at most 1 MiB is read: slower is an attack
/// or dead).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// In-flight requests get this long to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Longest `X-Client-ID` written to the log.
const MAX_LOGGED_CLIENT_ID: usize = 64;

/// Binds `args.addr`, prints the listening line on stdout, and serves until
/// SIGINT or SIGTERM; then stops accepting and lets open requests finish.
pub async fn serve(gatehouse: Gatehouse, args: ServeArgs) -> std::io::Result<()> {
    serve_with_mail(gatehouse, args, None).await
}

/// [`serve`], waking the mail sender (`mail_wake`) after each response
/// whose request queued a mail.
pub async fn serve_with_mail(
    gatehouse: Gatehouse,
    args: ServeArgs,
    mail_wake: Option<Arc<tokio::sync::Notify>>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(args.addr).await?;
    let local = listener.local_addr()?;
    {
        // Scripts and tests wait for this exact first line to learn the port.
        let mut out = std::io::stdout().lock();
        writeln!(out, "gatehouse listening on http://{local}")?;
        out.flush()?;
    }
    tracing::info!(addr = %local, "listening");

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    let handler = Arc::new(Handler {
        gatehouse,
        trusted_proxies: args.trust_proxy.then_some(args.trusted_proxies),
        mail_wake,
    });
    // Past the cap, connections wait in the kernel's accept queue instead
    // of each taking memory and a task here.
    let slots = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);

    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("semaphore never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are small and written whole: don't let Nagle hold them.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "set_nodelay failed");
        }
        let handler = handler.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper-util's auto builder reads the first bytes (HTTP/1 or
            // HTTP/2?) with no timeout: a client that connects and says
            // nothing would hold its slot forever.
            if !client_spoke(&stream).await {
                tracing::debug!(%peer, "closed a connection that sent no request");
                drop(slot);
                return;
            }
            let activity = Arc::new(Activity::new());
            let busy = activity.clone();
            let service = service_fn(move |req| {
                let handler = handler.clone();
                let _busy = busy.begin();
                async move {
                    let _busy = _busy;
                    Ok::<_, Infallible>(handler.handle(req, peer).await)
                }
            });
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .into_owned();
            let conn = watcher.watch(conn);
            tokio::select! {
                result = conn => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                // HTTP/1 keep-alive is bounded by the header read timeout;
                // HTTP/2 has no idle bound of its own. Dropping the
                // connection closes the socket.
                () = activity.idle_for(IDLE_TIMEOUT) => {
                    tracing::debug!(%peer, "closed an idle connection");
                }
            }
            drop(slot);
        });
    }

    drop(listener);
    tracing::info!("shutting down: finishing open requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
    Ok(())
}

/// A connection with no request in flight is closed after this long
/// (HTTP/1 keep-alive already is, by the header read timeout).
const IDLE_TIMEOUT: Duration = HEADER_READ_TIMEOUT;

/// Waits (at most [`HEADER_READ_TIMEOUT`]) until the client has sent
/// enough to tell HTTP/1 from HTTP/2. False: it closed or stayed silent.
async fn client_spoke(stream: &tokio::net::TcpStream) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let deadline = tokio::time::Instant::now() + HEADER_READ_TIMEOUT;
    let mut buf = [0u8; 24];
    loop {
        match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
            Ok(Ok(n)) if n == PREFACE.len() || buf[..n] != PREFACE[..n] => return true,
            // A prefix of the HTTP/2 preface: peek returns at once while
            // it is buffered, so poll for the rest.
            Ok(Ok(_)) => {
                if tokio::time::Instant::now() >= deadline {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Requests in flight on one connection and when the last one ended.
struct Activity {
    state: std::sync::Mutex<(usize, Instant)>,
}

/// Marks a request in flight until dropped.
struct Busy(Arc<Activity>);

impl Activity {
    fn new() -> Self {
        Activity {
            state: std::sync::Mutex::new((0, Instant::now())),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
        Busy(self.clone())
    }

    /// Resolves once no request has been in flight for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let wait = {
                let (in_flight, last) = *self.state.lock().unwrap_or_else(|e| e.into_inner());
                if in_flight > 0 {
                    limit
                } else {
                    match limit.checked_sub(last.elapsed()) {
                        Some(left) if !left.is_zero() => left,
                        _ => return,
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 -= 1;
        s.1 = Instant::now();
    }
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

/// Converts between hyper and the core, and logs each request.
struct Handler {
    gatehouse: Gatehouse,
    /// Proxies that append to `X-Forwarded-For` (None: trust no header).
    trusted_proxies: Option<u8>,
    /// The mail sender's cue (None: no mail in this process).
    mail_wake: Option<Arc<tokio::sync::Notify>>,
}

impl Handler {
    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        // The log line's fields are copied only when the line is written
        // (off under GATEHOUSE_LOG=warn: the copies are per request).
        let logged =
            tracing::enabled!(target: "gatehouse::access", tracing::Level::INFO).then(|| {
                (
                    Instant::now(),
                    req.method().clone(),
                    req.uri().path().to_owned(),
                    logged_client_id(req.headers()),
                )
            });

        let response = self.dispatch(req, peer).await;
        // The request committed a mail: send it now, not at the next tick.
        // `|` not `||`: both cues are taken (cleared) on every response.
        if self.gatehouse.take_mail_queued() | self.gatehouse.take_event_queued() {
            if let Some(wake) = &self.mail_wake {
                wake.notify_one();
            }
        }

        // Never the body, Authorization or X-API-Key: only these fields.
        if let Some((started, method, path, client_id)) = logged {
            tracing::info!(
                target: "gatehouse::access",
                %method,
                path = %path,
                status = response.status().as_u16(),
                latency_us = started.elapsed().as_micros() as u64,
                client_id = ?client_id.as_deref().unwrap_or("-"),
            );
        }
        response.map(Full::new)
    }

    async fn dispatch(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Bytes> {
        // The dashboard and API docs: files embedded in the binary.
        let dashboard = self.gatehouse.config().dashboard.as_ref();
        if let Some(r) =
            crate::assets::respond(req.method(), req.uri().path(), req.headers(), dashboard)
        {
            return r;
        }
        // A body over the limit is not kept: the core is told, and answers
        // 413 in the contract's order (after route, key and content type).
        // Up to 1 MiB of it is still read, so the answer is not lost to a
        // reset (crate::body); past that, the unread rest would be taken
        // for the next request, so the connection is closed after the answer.
        let (mut parts, body) = req.into_parts();
        let read = tokio::time::timeout(BODY_READ_TIMEOUT, crate::body::read(&parts.headers, body));
        let (body, unread) = match read.await {
            Ok(ReadBody::Within(bytes)) => (bytes, false),
            Ok(ReadBody::TooLarge { drained }) => {
                parts.extensions.insert(BodyTooLarge);
                (Bytes::new(), !drained)
            }
            Ok(ReadBody::Broken) => return bad_body(),
            Err(_) => return request_timeout(),
        };
        let ip = client_ip(&parts.headers, peer.ip(), self.trusted_proxies);
        parts.extensions.insert(ClientIp(ip));
        let mut response = self
            .gatehouse
            .handle(Request::from_parts(parts, body))
            .await;
        if unread {
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// The caller's address: the socket peer or, behind `trusted_proxies`
/// proxies, the address the outermost of them appended to
/// `X-Forwarded-For`: the N-th entry from the right. Entries left of it
/// were written by the client and prove nothing. A header with fewer
/// entries than proxies, or a bad entry there, means the request did not
/// come the way configured: the peer is used.
fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted_proxies: Option<u8>) -> IpAddr {
    let forwarded = |hops: u8| -> Option<IpAddr> {
        // Repeated headers are one list, in order (RFC 9110 §5.3): walk it
        // from the right.
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str())
            .collect::<Result<_, _>>()
            .ok()?;
        let entry = values
            .iter()
            .rev()
            .flat_map(|v| v.rsplit(','))
            .nth(usize::from(hops) - 1)?;
        entry.trim().parse().ok()
    };
    let ip = trusted_proxies.and_then(forwarded).unwrap_or(peer);
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; count
    // them as the IPv4 address so per-IP limits see one key.
    ip.to_canonical()
}

/// `X-Client-ID` for the log: shortened, and Debug-formatted by the caller
/// so a hostile value cannot forge log lines.
fn logged_client_id(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get("x-client-id")?;
    let text = String::from_utf8_lossy(raw.as_bytes());
    Some(text.chars().take(MAX_LOGGED_CLIENT_ID).collect())
}

// The two responses below exist only in the native host: the core never
// reads a socket, so it has no 408 or broken-body case. Same DRF shape.

/// 408 when the body does not arrive in time. The connection is closed:
/// the rest of the body may still be on its way.
fn request_timeout() -> Response<Bytes> {
    let mut r = json_error(
        StatusCode::REQUEST_TIMEOUT,
        "Request body not received in time.",
        "request_timeout",
    );
    r.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    r
}

/// 400 when the body could not be read (the client broke off mid-body).
fn bad_body() -> Response<Bytes> {
    json_error(
        StatusCode::BAD_REQUEST,
        "The request body could not be read.",
        "parse_error",
    )
}

fn json_error(status: StatusCode, detail: &str, code: &'static str) -> Response<Bytes> {
    Gatehouse::host_error(status, code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn client_ip_ignores_forwarded_for_unless_trusted() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        assert_eq!(client_ip(&h, PEER, None), PEER);
        assert_eq!(client_ip(&h, PEER, Some(1)), ip("10.0.0.2"));
    }

    #[test]
    fn client_ip_takes_what_the_trusted_proxy_appended_not_the_leftmost() {
        // The client wrote "1.2.3.4"; nginx appended the real peer.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.9")]);
        assert_eq!(client_ip(&h, PEER, Some(1)), ip("198.51.100.9"));
        // Two proxies (a CDN, then nginx): the CDN's entry is second from the right.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.9, 192.0.2.50")]);
        assert_eq!(client_ip(&h, PEER, Some(2)), ip("198.51.100.9"));
        // Repeated headers are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(client_ip(&h, PEER, Some(1)), ip("198.51.100.9"));
        assert_eq!(client_ip(&h, PEER, Some(2)), ip("1.2.3.4"));
    }

    #[test]
    fn client_ip_falls_back_on_a_bad_or_short_header() {
        let h = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(client_ip(&h, PEER, Some(1)), PEER);
        assert_eq!(client_ip(&HeaderMap::new(), PEER, Some(1)), PEER);
        let h = headers(&[("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(
            client_ip(&h, PEER, Some(2)),
            PEER,
            "fewer entries than proxies"
        );
    }

    #[test]
    fn client_ip_unmaps_ipv4_in_ipv6() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(&HeaderMap::new(), mapped, None), PEER);
    }

    #[test]
    fn logged_client_id_is_bounded() {
        let long = "c".repeat(500);
        let h = headers(&[("x-client-id", &long)]);
        assert_eq!(logged_client_id(&h).unwrap().len(), MAX_LOGGED_CLIENT_ID);
        assert_eq!(logged_client_id(&HeaderMap::new()), None);
    }

    #[test]
    fn host_errors_are_drf_shaped() {
        let r = request_timeout();
        assert_eq!(r.status(), StatusCode::REQUEST_TIMEOUT);
        let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(v["code"], "request_timeout");
        assert_eq!(r.headers()[header::CONNECTION], "close");
    }
}
