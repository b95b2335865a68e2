//! The core's outbound HTTP on the Worker: `fetch` with `redirect:
//! "manual"` (a 3xx comes back as an answer), raced against a timer that
//! aborts it, and the body read as a stream up to the cap.
//!
//! A Worker cannot resolve names, so the policy sees literal addresses (and
//! `localhost`) only: those are checked before anything is sent. A name
//! goes to Cloudflare's edge, which does not route to private address space
//! (RFC 1918, loopback, link-local); under `wrangler dev` it would, which
//! is why tests reach their providers through literal, allowed addresses.

use gatehouse_core::outbound::{
    HttpClient, OutboundError, OutboundPolicy, OutboundRequest, OutboundResponse, OutboundUrl,
};

/// `fetch` under `policy`.
pub struct FetchHttp {
    pub policy: OutboundPolicy,
}

gatehouse_core::async_trait_decl! {
impl HttpClient for FetchHttp {
    async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let url = OutboundUrl::parse(&req.url)?;
        self.policy.check_unresolved(&url)?;
        send(req).await
    }
}
}

#[cfg(target_arch = "wasm32")]
async fn send(req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
    use futures_util::future::{select, Either};
    use futures_util::StreamExt;
    use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

    let net = |what: &str, e: worker::Error| OutboundError::Network(format!("{what}: {e}"));
    let headers = Headers::new();
    for (name, value) in &req.headers {
        headers
            .set(name, value)
            .map_err(|e| OutboundError::Refused {
                reason: format!("bad header {name}: {e}"),
            })?;
    }
    let method = Method::from(req.method.as_str().to_owned());
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_redirect(worker::RequestRedirect::Manual);
    if !req.body.is_empty() {
        let body = worker::js_sys::Uint8Array::from(&req.body[..]);
        init.with_body(Some(body.into()));
    }
    let request = Request::new_with_init(&req.url, &init).map_err(|e| OutboundError::Refused {
        reason: format!("bad request: {e}"),
    })?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = async move {
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| net("fetch", e))?;
        let status = response.status_code();
        let headers: Vec<(String, String)> = response.headers().entries().collect();
        let declared = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > req.max_response_bytes as u64) {
            return Err(OutboundError::TooLarge);
        }
        let mut body = Vec::new();
        if status != 101 && status != 204 && status != 304 {
            let mut stream = response.stream().map_err(|e| net("body", e))?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| net("body", e))?;
                if body.len() + chunk.len() > req.max_response_bytes {
                    return Err(OutboundError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(OutboundResponse {
            status,
            headers,
            body: bytes::Bytes::from(body),
        })
    };
    let timer = Delay::from(std::time::Duration::from_millis(req.timeout_ms));
    match select(Box::pin(exchange), timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(OutboundError::Timeout)
        }
    }
}

/// The native build of the unit tests never sends.
#[cfg(not(target_arch = "wasm32"))]
async fn send(_req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
    Err(OutboundError::Network(
        "fetch exists only in a Worker".into(),
    ))
}
