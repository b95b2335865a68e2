//! `gatehouse-bare-baseline`: the ceiling `scripts/bench.sh` measures
//! Gatehouse against. A bare hyper HTTP/1 server answering every request
//! with a profile-sized JSON body (what `GET /api/auth/profile/` returns),
//! doing nothing else: no routing, no key check, no database.
//!
//!   gatehouse-bare-baseline [ADDR]   (default 127.0.0.1:0)
//!
//! Prints `listening on http://IP:PORT` once bound, like `gatehouse serve`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

/// The shape and size of a profile answer.
const BODY: &str = r#"{"id":1234,"email":"bench-user-0001@example.com","username":"bench_user_0001","first_name":"","last_name":"","user_type":"creator","is_staff":false,"is_superuser":false,"date_joined":"2026-01-01T00:00:00.000Z","last_login":"2026-01-01T00:00:00.000Z","email_verified":true}"#;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(&addr))
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
                let mut resp = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                resp.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
                Ok::<_, Infallible>(resp)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
