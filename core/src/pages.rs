//! The dashboard (`/admin/…`) and API-docs pages (`/api/schema/swagger/…`,
//! `/api/schema/redoc/…`): every answer under those prefixes that is not a
//! file.
//!
//! The files themselves are a host concern (the native binary embeds
//! `admin-ui/dist/`; the Worker serves it with wrangler's `[assets]`). What
//! both hosts must answer alike lives here: which paths are pages, their
//! Content-Security-Policy and security headers, 405 for methods other than
//! GET/HEAD, the redirect of a bare prefix, `/admin/config.json` (the
//! dashboard's API client, see `admin-ui/README.md`), and the 404 for a path
//! no file matches.

use crate::config::Dashboard;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};

/// The dashboard: scripts, styles and requests only from this origin;
/// `'wasm-unsafe-eval'` lets it compile the wasm client (no JS eval).
pub const CSP_ADMIN: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Swagger UI and Redoc set inline styles (React style props,
/// styled-components), and Redoc runs its search in a blob: worker. Scripts
/// still come only from this origin.
pub const CSP_DOCS: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page prefixes, each with its Content-Security-Policy.
const MOUNTS: [(&str, &str); 3] = [
    ("/admin", CSP_ADMIN),
    ("/api/schema/swagger", CSP_DOCS),
    ("/api/schema/redoc", CSP_DOCS),
];

/// A request under a page prefix, as [`route`] sorts it.
#[derive(Debug, PartialEq, Eq)]
pub enum Page {
    /// A method other than GET or HEAD: answer [`Page::answer`] (405).
    MethodNotAllowed,
    /// The bare prefix (`/admin`): a redirect to `/admin/`.
    Redirect(String),
    /// `/admin/config.json`: which API client the dashboard is.
    DashboardConfig,
    /// A file for the host to look up (`…/` means its `index.html`); when
    /// there is none, [`Page::not_found`].
    File(String),
}

/// Where `path` lands under the page prefixes, with the CSP its answers
/// carry; `None` when it is not a page (the core's service answers it).
pub fn route(method: &Method, path: &str) -> Option<(Page, &'static str)> {
    let (mount, csp) = MOUNTS
        .iter()
        .find(|(m, _)| path == *m || path.strip_prefix(m).is_some_and(|r| r.starts_with('/')))?;
    let page = if method != Method::GET && method != Method::HEAD {
        Page::MethodNotAllowed
    } else if path == *mount {
        Page::Redirect(format!("{mount}/"))
    } else if path == "/admin/config.json" {
        Page::DashboardConfig
    } else if path.ends_with('/') {
        Page::File(format!("{path}index.html"))
    } else {
        Page::File(path.to_owned())
    };
    Some((page, csp))
}

impl Page {
    /// The answer to every page but a file that exists. `dashboard` is the
    /// dashboard's API client (id, key), read only for `DashboardConfig`.
    pub fn answer(
        &self,
        method: &Method,
        csp: &'static str,
        dashboard: impl FnOnce() -> Option<Dashboard>,
    ) -> Response<Bytes> {
        let r = match self {
            Page::MethodNotAllowed => {
                let mut r = json(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!(
                        r#"{{"detail":"Method \"{method}\" not allowed.","code":"method_not_allowed"}}"#
                    ),
                );
                r.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                r
            }
            Page::Redirect(to) => {
                let mut r = Response::new(Bytes::new());
                *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
                // `to` is a mount plus '/', always a valid header value.
                if let Ok(v) = HeaderValue::from_str(to) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            Page::DashboardConfig => {
                let body = match dashboard() {
                    Some(d) => {
                        serde_json::json!({ "client_id": d.client_id, "api_key": d.api_key.0 })
                    }
                    None => serde_json::json!({}),
                };
                let mut r = json(StatusCode::OK, body.to_string());
                // It carries a key: never kept by a cache.
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Page::File(_) => return Page::not_found(method, csp),
        };
        finish(r, csp, method)
    }

    /// The 404 for a page path that no file matches.
    pub fn not_found(method: &Method, csp: &'static str) -> Response<Bytes> {
        let r = json(
            StatusCode::NOT_FOUND,
            r#"{"detail":"Not found.","code":"not_found"}"#.to_owned(),
        );
        finish(r, csp, method)
    }
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

const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");
const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-resource-policy");

/// Sets fixed headers (each replaces any value already there).
pub(crate) fn insert_static<const N: usize>(
    h: &mut HeaderMap,
    headers: [(HeaderName, &'static str); N],
) {
    for (name, value) in headers {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// The security headers every page answer carries; HEAD drops the body and
/// keeps the GET answer's Content-Length.
pub fn finish(mut r: Response<Bytes>, csp: &'static str, method: &Method) -> Response<Bytes> {
    insert_static(
        r.headers_mut(),
        [
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (CROSS_ORIGIN_OPENER_POLICY, "same-origin"),
            (CROSS_ORIGIN_RESOURCE_POLICY, "same-origin"),
        ],
    );
    if method == Method::HEAD {
        let len = r.body().len();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        *r.body_mut() = Bytes::new();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_the_page_prefixes() {
        assert_eq!(route(&Method::GET, "/api/auth/token/"), None);
        assert_eq!(route(&Method::GET, "/administrator"), None);
        assert_eq!(route(&Method::GET, "/api/schema/"), None);
        assert_eq!(
            route(&Method::GET, "/admin"),
            Some((Page::Redirect("/admin/".into()), CSP_ADMIN))
        );
        assert_eq!(
            route(&Method::GET, "/admin/"),
            Some((Page::File("/admin/index.html".into()), CSP_ADMIN))
        );
        assert_eq!(
            route(&Method::HEAD, "/api/schema/redoc/x.js"),
            Some((Page::File("/api/schema/redoc/x.js".into()), CSP_DOCS))
        );
        assert_eq!(
            route(&Method::GET, "/admin/config.json"),
            Some((Page::DashboardConfig, CSP_ADMIN))
        );
        assert_eq!(
            route(&Method::POST, "/admin/config.json"),
            Some((Page::MethodNotAllowed, CSP_ADMIN))
        );
    }

    #[test]
    fn dashboard_config_is_never_cached_and_empty_when_unset() {
        let set = Page::DashboardConfig.answer(&Method::GET, CSP_ADMIN, || {
            Some(Dashboard {
                client_id: "cl_1".into(),
                api_key: crate::config::HiddenText("sk_1".into()),
            })
        });
        assert_eq!(set.status(), 200);
        assert_eq!(set.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(set.body()).unwrap(),
            serde_json::json!({"client_id": "cl_1", "api_key": "sk_1"})
        );
        let unset = Page::DashboardConfig.answer(&Method::GET, CSP_ADMIN, || None);
        assert_eq!(&unset.body()[..], b"{}");
    }

    #[test]
    fn every_answer_carries_the_security_headers_and_head_has_no_body() {
        let r = Page::MethodNotAllowed.answer(&Method::DELETE, CSP_DOCS, || None);
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CSP_DOCS);
        assert_eq!(r.headers()[header::X_FRAME_OPTIONS], "DENY");
        let head = Page::not_found(&Method::HEAD, CSP_ADMIN);
        assert_eq!(head.status(), 404);
        assert!(head.body().is_empty());
        assert_ne!(head.headers()[header::CONTENT_LENGTH], "0");
    }
}
