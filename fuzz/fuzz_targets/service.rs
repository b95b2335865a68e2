//! Feeds arbitrary method, path, headers and body into the core's service
//! over the core's test kit (an embedded in-memory libSQL database). The
//! service must never panic and never answer 5xx except 503 (a storage
//! failure, `database_unavailable`, or a full hashing queue, `server_busy`),
//! and every error must be a JSON body.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use gatehouse_core::api_client::NewApiClient;
use gatehouse_core::testing::TestEnv;
use gatehouse_core::{Config, Gatehouse};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Paths worth reaching: every route of the core's table (parameters filled
/// in), its `/api/v1/` alias, and near misses.
fn paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut out = Vec::new();
        for pattern in gatehouse_core::routes::paths() {
            let filled: Vec<&str> = pattern
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect();
            let path = filled.join("/");
            if let Some(rest) = path.strip_prefix("/api/") {
                out.push(format!("/api/v1/{rest}"));
            }
            out.push(path);
        }
        out.extend(["/api/auth/profile".to_owned(), "/".to_owned()]);
        out
    })
}
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];
const FIELDS: &[&str] = &[
    "email", "username", "password", "password2", "first_name", "last_name", "refresh",
    "old_password", "new_password", "new_password2", "user_type", "is_staff",
];

#[derive(Debug, Arbitrary)]
enum Body {
    Raw(Vec<u8>),
    /// A JSON object of known field names with arbitrary JSON-ish values.
    Fields(Vec<(u8, Value)>),
}

#[derive(Debug, Arbitrary)]
enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    List(Vec<String>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    path: Result<u8, String>,
    /// Send the real client's key and id.
    with_key: bool,
    /// Send a valid access token.
    with_token: bool,
    content_type: Option<String>,
    json_content_type: bool,
    headers: Vec<(String, String)>,
    body: Body,
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    gh: Gatehouse,
    key: String,
    client_id: String,
    access: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (gh, key, client_id, access) = rt.block_on(async {
            let gh = TestEnv::in_memory().await.seeded(1).start(Config::default()).await;
            let (client, key) = gh
                .create_api_client(NewApiClient {
                    name: "fuzz".into(),
                    client_type: "web".into(),
                    rate_limit: u32::MAX,
                    serves: None,
                    allowed_origins: vec!["https://app.example.com".into()],
                    is_active: true,
                    email: Default::default(),
                    require_mfa_for_staff: None,
                })
                .await
                .unwrap();
            let body = r#"{"email":"f@example.com","username":"f","password":"fuzzing-is-fun-42","password2":"fuzzing-is-fun-42"}"#;
            let req = http::Request::post("/api/auth/register/")
                .header("x-api-key", &key.0)
                .header("x-client-id", &client.id.0)
                .header("content-type", "application/json")
                .body(Bytes::from(body))
                .unwrap();
            let resp = gh.handle(req).await;
            let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
            (gh, key.0, client.id.0, v["access"].as_str().unwrap().to_owned())
        });
        Fixture { rt, gh, key, client_id, access }
    })
}

fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Str(s) => s.clone().into(),
        Value::Int(i) => (*i).into(),
        Value::Bool(b) => (*b).into(),
        Value::Null => serde_json::Value::Null,
        Value::List(l) => l.clone().into(),
    }
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let method = METHODS[input.method as usize % METHODS.len()];
    let path = match &input.path {
        Ok(i) => paths()[*i as usize % paths().len()].clone(),
        Err(raw) => format!("/{}", raw.chars().filter(|c| c.is_ascii_graphic()).collect::<String>()),
    };
    let Ok(mut b) = http::Request::builder().method(method).uri(path.as_str()).body(()) else {
        return; // not a request http can even represent
    };
    let headers = b.headers_mut();
    for (k, v) in &input.headers {
        if let (Ok(k), Ok(v)) = (http::HeaderName::try_from(k.as_str()), http::HeaderValue::try_from(v.as_str())) {
            headers.append(k, v);
        }
    }
    if input.with_key {
        headers.insert("x-api-key", f.key.parse().unwrap());
        headers.insert("x-client-id", f.client_id.parse().unwrap());
    }
    if input.with_token {
        headers.insert("authorization", format!("Bearer {}", f.access).parse().unwrap());
    }
    if input.json_content_type {
        headers.insert("content-type", "application/json".parse().unwrap());
    } else if let Some(ct) = input.content_type.as_deref().and_then(|c| http::HeaderValue::try_from(c).ok()) {
        headers.insert("content-type", ct);
    }
    let body = match &input.body {
        Body::Raw(bytes) => Bytes::copy_from_slice(bytes),
        Body::Fields(fields) => {
            let map: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| (FIELDS[*k as usize % FIELDS.len()].to_owned(), to_json(v)))
                .collect();
            Bytes::from(serde_json::Value::Object(map).to_string())
        }
    };
    let (parts, ()) = b.into_parts();
    let req = http::Request::from_parts(parts, body);
    let resp = f.rt.block_on(f.gh.handle(req));
    let status = resp.status().as_u16();
    assert!(status < 500 || status == 503, "{status} for {method} {path}: {:?}", resp.body());
    if status >= 400 {
        let v: serde_json::Value = serde_json::from_slice(resp.body()).expect("error bodies are JSON");
        assert!(v.is_object(), "error body is an object");
    }
});
