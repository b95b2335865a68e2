//! The dashboard (`/admin/…`) and API-docs pages (`/api/schema/swagger/…`,
//! `/api/schema/redoc/…`) on the Worker.
//!
//! The files themselves are wrangler `[assets]` (`admin-ui/dist/`, with the
//! security headers of its `_headers` file): the runtime serves them without
//! running the Worker. What reaches the Worker under those prefixes is what
//! no file matched, and the core's `pages` answers it exactly as on the
//! native host: `/admin/config.json` (the dashboard's API client, from
//! `GATEHOUSE_DASHBOARD_CLIENT_ID` / `GATEHOUSE_DASHBOARD_API_KEY`), 405 for
//! methods other than GET/HEAD, the bare-prefix redirect, else 404.
//! Everything else goes to the core's service.

use bytes::Bytes;
use gatehouse_core::config::Dashboard;
use gatehouse_core::pages;
use http::{Method, Response};

/// The answer for `path` when it is under a page prefix, else `None`.
/// `dashboard` is only called for `/admin/config.json`.
pub fn respond(
    method: &Method,
    path: &str,
    dashboard: impl FnOnce() -> Option<Dashboard>,
) -> Option<Response<Bytes>> {
    let (page, csp) = pages::route(method, path)?;
    // A `Page::File` here is one the assets layer did not have: a 404.
    Some(page.answer(method, csp, dashboard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

    fn none() -> Option<Dashboard> {
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
            Some(Dashboard {
                client_id: "c1".into(),
                api_key: gatehouse_core::config::HiddenText("k1".into()),
            })
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
