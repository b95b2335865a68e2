//! Static files of the admin dashboard (`/admin/…`) and the API docs
//! (`/api/schema/swagger/…`, `/api/schema/redoc/…`), embedded into the
//! binary at compile time from `admin-ui/dist/` (built and committed by
//! `admin-ui`'s `npm run build`, so `cargo build` needs no Node).
//!
//! Static files are a host concern: the Worker serves the same folder with
//! wrangler's `[assets]`. Here every answer gets a strict
//! Content-Security-Policy, an ETag (304 on `If-None-Match`) and cache
//! headers: hashed dashboard bundles are immutable, everything else is
//! revalidated. Text files are gzipped once, in the background, the first
//! time one is asked for; until then they go out uncompressed.
//!
//! `/admin/config.json` tells the dashboard which API client it is (see
//! `admin-ui/README.md`, "Dashboard credentials"): the operator passes an
//! `admin`-type client's id and key in `GATEHOUSE_DASHBOARD_CLIENT_ID` and
//! `GATEHOUSE_DASHBOARD_API_KEY`, which the core's configuration reader
//! turns into [`Config::dashboard`](gatehouse_core::Config::dashboard).

use bytes::Bytes;
use gatehouse_core::config::Dashboard;
use gatehouse_core::pages::{self, finish, Page};
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// One embedded file.
pub struct Asset {
    /// URL path, e.g. `/admin/index.html`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// Quoted strong ETag (a hash of `body`).
    pub etag: &'static str,
    pub body: &'static [u8],
}

/// Every embedded file, sorted by path (admin-ui/embed.rs is generated).
pub static FILES: &[Asset] = include!("../../admin-ui/embed.rs");

/// Files smaller than this are not worth compressing.
const GZIP_MIN: usize = 1024;

/// Answers a request for an embedded file, or `None` when `path` is not
/// under one of the asset mounts (the core handles it). `dashboard`: the
/// dashboard's API client, for `/admin/config.json`.
pub fn respond(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    dashboard: Option<&Dashboard>,
) -> Option<Response<Bytes>> {
    let (page, csp) = pages::route(method, path)?;
    let Page::File(lookup) = &page else {
        return Some(page.answer(method, csp, || dashboard.cloned()));
    };
    let Ok(index) = FILES.binary_search_by(|a| a.path.cmp(lookup.as_str())) else {
        return Some(Page::not_found(method, csp));
    };
    let asset = &FILES[index];
    let compressible = is_compressible(asset);
    let gz = if compressible && accepts_gzip(headers) {
        gzipped(index)
    } else {
        None
    };
    let etag = match gz {
        Some(_) => format!("{}-gz\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.to_owned(),
    };

    let mut r = if if_none_match(headers, &etag) {
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(match gz {
            Some(gz) => Bytes::from_static(gz),
            None => Bytes::from_static(asset.body),
        });
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if gz.is_some() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if compressible {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    // Vite's bundles carry a content hash in their names.
    let cache = if asset.path.starts_with("/admin/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(finish(r, csp, method))
}

fn is_compressible(a: &Asset) -> bool {
    a.body.len() >= GZIP_MIN
        && (a.content_type.starts_with("text/")
            || a.content_type.starts_with("application/json")
            || a.content_type == "application/wasm"
            || a.content_type.starts_with("image/svg"))
}

/// Whether `Accept-Encoding` allows gzip (present and not `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
        })
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// Gzipped bodies, filled by one background thread on first demand.
static GZIP: OnceLock<Vec<OnceLock<Vec<u8>>>> = OnceLock::new();
static GZIP_STARTED: AtomicBool = AtomicBool::new(false);

/// The gzipped body of `FILES[index]`, if compressed already; otherwise
/// starts compressing every compressible file (once) and returns `None`.
fn gzipped(index: usize) -> Option<&'static [u8]> {
    let slots = GZIP.get_or_init(|| FILES.iter().map(|_| OnceLock::new()).collect());
    if let Some(gz) = slots[index].get() {
        return Some(gz.as_slice());
    }
    if !GZIP_STARTED.swap(true, Ordering::SeqCst) {
        let spawned = std::thread::Builder::new()
            .name("gatehouse-assets-gzip".into())
            .spawn(move || {
                // The page being asked for first, then the rest.
                let order = std::iter::once(index).chain((0..FILES.len()).filter(|&i| i != index));
                for i in order {
                    if is_compressible(&FILES[i]) {
                        let _ = slots[i].set(gzip(FILES[i].body));
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the asset compressor");
        }
    }
    None
}

/// A gzip member (RFC 1952) around miniz_oxide's raw deflate.
fn gzip(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, 9);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    // Magic, deflate, no flags, no mtime, max compression, OS unknown.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::config::HiddenText;

    fn get(path: &str, pairs: &[(&'static str, &str)]) -> Option<Response<Bytes>> {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        respond(&Method::GET, path, &h, None)
    }

    #[test]
    fn files_are_sorted_for_binary_search() {
        assert!(FILES.windows(2).all(|w| w[0].path < w[1].path));
        assert!(FILES.iter().any(|a| a.path == "/admin/index.html"));
        assert!(FILES
            .iter()
            .any(|a| a.path == "/api/schema/swagger/index.html"));
    }

    #[test]
    fn only_the_mounts_are_ours() {
        assert!(get("/api/schema/", &[]).is_none());
        assert!(get("/api/auth/token/", &[]).is_none());
        assert!(get("/administrator", &[]).is_none());
        assert!(get("/api/schema/swaggerx", &[]).is_none());
    }

    #[test]
    fn index_redirect_and_404() {
        let r = get("/admin/", &[]).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"));
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let r = get("/admin", &[]).unwrap();
        assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(r.headers()[header::LOCATION], "/admin/");
        assert_eq!(
            get("/admin/nope.js", &[]).unwrap().status(),
            StatusCode::NOT_FOUND
        );
        let r = respond(&Method::POST, "/admin/", &HeaderMap::new(), None).unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn config_json_is_the_configured_dashboard() {
        let d = Dashboard {
            client_id: "cl_dash".into(),
            api_key: HiddenText("k".into()),
        };
        let r = respond(
            &Method::GET,
            "/admin/config.json",
            &HeaderMap::new(),
            Some(&d),
        )
        .unwrap();
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"client_id": "cl_dash", "api_key": "k"})
        );
        let r = get("/admin/config.json", &[]).unwrap();
        assert_eq!(r.body().as_ref(), b"{}");
    }

    #[test]
    fn etag_revalidates() {
        let r = get("/api/schema/swagger/", &[]).unwrap();
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        let r = get("/api/schema/swagger/", &[("if-none-match", &etag)]).unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert!(r.body().is_empty());
    }

    #[test]
    fn hashed_bundles_are_immutable() {
        let a = FILES
            .iter()
            .find(|a| a.path.starts_with("/admin/assets/"))
            .unwrap();
        let r = get(a.path, &[]).unwrap();
        assert!(r.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"));
    }

    #[test]
    fn gzip_round_trips() {
        let data = b"hello hello hello hello gatehouse".repeat(100);
        let gz = gzip(&data);
        assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        let inflated = miniz_oxide::inflate::decompress_to_vec(&gz[10..gz.len() - 8]).unwrap();
        assert_eq!(inflated, data);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn accept_encoding_parsing() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(!accepts_gzip(&h("br")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
