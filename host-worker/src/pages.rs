//! The dashboard (`/admin/…`) and API-docs pages (`/api/schema/swagger/…`,
//! `/api/schema/redoc/…`) on the Worker.
//!
//! The files themselves are wrangler `[assets]` (`admin-ui/dist/`, with the
//! security headers of its `_headers` file): the runtime serves them without
//! running the Worker. What reaches the Worker under those prefixes is what
//! no file matches, answered here as the native host answers it
//! (`host-native/src/assets.rs`): `/admin/config.json` (the dashboard's API
//! client, from `GATEHOUSE_DASHBOARD_CLIENT_ID` / `GATEHOUSE_DASHBOARD_API_KEY`),
//! 405 for methods other than GET/HEAD, else 404. Everything else goes to
//! the core.

use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};

/// The asset prefixes, each with its Content-Security-Policy (the same as
/// `_headers` and the native host).
const MOUNTS: [(&str, &str); 3] = [
    ("/admin", CSP_ADMIN),
    ("/api/schema/swagger", CSP_DOCS),
    ("/api/schema/redoc", CSP_DOCS),
];

const CSP_ADMIN: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CSP_DOCS: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The dashboard's API client (id, key), when both are configured.
pub type Dashboard = Option<(String, String)>;

/// The answer for `path` when it is under an asset prefix, else `None`.
/// `dashboard` is only called for `/admin/config.json`.
pub fn respond(
    method: &Method,
    path: &str,
    dashboard: impl FnOnce() -> Dashboard,
) -> Option<Response<Bytes>> {
    let (mount, csp) = MOUNTS
        .iter()
        .find(|(m, _)| path == *m || path.strip_prefix(m).is_some_and(|r| r.starts_with('/')))?;
    if method != Method::GET && method != Method::HEAD {
        let mut r = json(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                r#"{{"detail":"Method \"{method}\" not allowed.","code":"method_not_allowed"}}"#
            ),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(finish(r, csp, method));
    }
    if path == *mount {
        // The assets layer redirects this itself; here only if it did not.
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
        r.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(&format!("{mount}/")).ok()?,
        );
        return Some(finish(r, csp, method));
    }
    if path == "/admin/config.json" {
        let body = match dashboard() {
            Some((id, key)) => serde_json::json!({ "client_id": id, "api_key": key }),
            None => serde_json::json!({}),
        };
        let mut r = json(StatusCode::OK, body.to_string());
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Some(finish(r, csp, method));
    }
    let r = json(
        StatusCode::NOT_FOUND,
        r#"{"detail":"Not found.","code":"not_found"}"#.to_owned(),
    );
    Some(finish(r, csp, method))
}

fn json(status: StatusCode, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The security headers the native host puts on these answers; HEAD drops
/// the body.
fn finish(mut r: Response<Bytes>, csp: &'static str, method: &Method) -> Response<Bytes> {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if method == Method::HEAD {
        *r.body_mut() = Bytes::new();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Dashboard {
        None
    }

    #[test]
    fn only_the_asset_prefixes_are_answered_here() {
        assert!(respond(&Method::GET, "/api/auth/token/", none).is_none());
        assert!(respond(&Method::GET, "/api/schema/", none).is_none());
        assert!(respond(&Method::GET, "/administrator", none).is_none());
        let r = respond(&Method::GET, "/admin/nope.js", none).unwrap();
        assert_eq!(r.status(), 404);
        let r = respond(&Method::POST, "/api/schema/swagger/", none).unwrap();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        let r = respond(&Method::GET, "/api/schema/redoc", none).unwrap();
        assert_eq!(r.status(), 301);
        assert_eq!(r.headers()[header::LOCATION], "/api/schema/redoc/");
    }

    #[test]
    fn config_json_names_the_dashboard_client_when_configured() {
        let r = respond(&Method::GET, "/admin/config.json", || {
            Some(("c1".into(), "k1".into()))
        })
        .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert!(r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"client_id": "c1", "api_key": "k1"})
        );
        let r = respond(&Method::GET, "/admin/config.json", none).unwrap();
        assert_eq!(r.body().as_ref(), b"{}");
    }
}
