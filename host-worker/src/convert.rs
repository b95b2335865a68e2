//! `worker::Request` → `http::Request<Bytes>` and `http::Response<Bytes>` →
//! `worker::Response`. Nothing is decided here.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use gatehouse_core::config::MAX_BODY_BYTES;
use gatehouse_core::service::ClientIp;
use std::net::IpAddr;
use worker::{ByteStream, Headers, Request, Response, ResponseBuilder};

/// Converts a Worker request. At most [`MAX_BODY_BYTES`] + 1 bytes of the
/// body are read: enough for the core to see that a body is too large, and
/// to answer 413 at its place in the order of checks (after the route and
/// the API key), without holding more than that in memory.
///
/// When the body was cut short, the rest of it comes back as [`Unread`], to
/// be drained after the response is ready.
pub async fn to_http_request(
    mut req: Request,
) -> worker::Result<(http::Request<Bytes>, Option<Unread>)> {
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
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
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
    let (body, unread) = read_body(&mut req, MAX_BODY_BYTES + 1).await?;
    let req = builder
        .body(body)
        .map_err(|e| worker::Error::RustError(format!("unrepresentable request: {e}")))?;
    Ok((req, unread))
}

/// The body's first `cap` bytes, and the rest unread if there is more.
async fn read_body(req: &mut Request, cap: usize) -> worker::Result<(Bytes, Option<Unread>)> {
    if req.inner().body().is_none() {
        return Ok((Bytes::new(), None));
    }
    let mut stream = req.stream()?;
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == cap {
            return Ok((body.freeze(), Some(Unread(stream))));
        }
    }
    Ok((body.freeze(), None))
}

/// The unread rest of an oversized body.
pub struct Unread(ByteStream);

impl Unread {
    /// Reads and discards the rest of the body, chunk by chunk (memory stays
    /// bounded; Cloudflare caps request bodies by plan). Answering while the
    /// client is still sending makes `wrangler dev`'s proxy replace the
    /// answer with a 503 ("worker restarted mid-request") or cut it off.
    pub async fn drain(mut self) {
        while let Some(Ok(_)) = self.0.next().await {}
    }
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
