//! `worker::Request` → `http::Request<Bytes>` and `http::Response<Bytes>` →
//! `worker::Response`. Nothing is decided here except the body size cap,
//! which must be enforced while reading.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use gatehouse_core::config::MAX_BODY_BYTES;
use gatehouse_core::service::ClientIp;
use std::net::IpAddr;
use worker::{Headers, Request, Response, ResponseBuilder};

/// A converted request, or the sign that its body is over the cap.
pub enum Incoming {
    Request(http::Request<Bytes>),
    TooLarge,
}

/// Converts a Worker request. The body is read only up to
/// [`MAX_BODY_BYTES`]: a larger one (by `Content-Length` or by counting) is
/// reported as [`Incoming::TooLarge`] without reading the rest.
pub async fn to_http_request(mut req: Request) -> worker::Result<Incoming> {
    let url = req.url()?;
    let path_and_query = match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_owned(),
    };
    // The raw method: worker::Method maps methods it does not know to GET,
    // which would turn e.g. PROPFIND into a GET instead of a 405.
    let mut builder = http::Request::builder()
        .method(req.inner().method().as_str())
        .uri(path_and_query);
    let mut declared_len: Option<usize> = None;
    for (name, value) in req.headers().entries() {
        if name.eq_ignore_ascii_case("content-length") {
            declared_len = value.trim().parse().ok();
        }
        builder = builder.header(name, value);
    }
    if declared_len.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Ok(Incoming::TooLarge);
    }
    // The runtime's own record of the caller: set by Cloudflare's edge (and
    // by `wrangler dev`), not forgeable by the client.
    if let Some(ip) = req
        .headers()
        .get("CF-Connecting-IP")?
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        builder = builder.extension(ClientIp(ip));
    }
    let body = match read_body(&mut req).await? {
        Some(body) => body,
        None => return Ok(Incoming::TooLarge),
    };
    let request = builder
        .body(body)
        .map_err(|e| worker::Error::RustError(format!("unrepresentable request: {e}")))?;
    Ok(Incoming::Request(request))
}

/// The body, or None once it passes [`MAX_BODY_BYTES`].
async fn read_body(req: &mut Request) -> worker::Result<Option<Bytes>> {
    if req.inner().body().is_none() {
        return Ok(Some(Bytes::new()));
    }
    let mut stream = req.stream()?;
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// Converts the core's response. Header values the core wrote are ASCII; a
/// value that is not is passed on lossily rather than dropped.
pub fn to_worker_response(resp: http::Response<Bytes>) -> worker::Result<Response> {
    let (parts, body) = resp.into_parts();
    let headers = Headers::new();
    for (name, value) in &parts.headers {
        headers.append(name.as_str(), &String::from_utf8_lossy(value.as_bytes()))?;
    }
    let builder = ResponseBuilder::new()
        .with_status(parts.status.as_u16())
        .with_headers(headers);
    // A body on 204/304 is a TypeError in the Fetch API; no body is no body.
    Ok(if body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(body.to_vec())
    })
}
