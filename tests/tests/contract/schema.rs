//! Open routes: `/api/schema/`, `/healthz`, `/.well-known/jwks.json`.

use gatehouse_contract::harness::*;
use serde_json::json;

const AUTH_PATHS: [(&str, &[&str]); 6] = [
    ("/api/auth/register/", &["post"]),
    ("/api/auth/token/", &["post"]),
    ("/api/auth/token/refresh/", &["post"]),
    ("/api/auth/logout/", &["post"]),
    ("/api/auth/profile/", &["get", "patch", "put"]),
    ("/api/auth/change-password/", &["post"]),
];

async fn schema() -> serde_json::Value {
    let api = Api::anonymous(default_server());
    let r = api.get("/api/schema/").send().await;
    r.expect(200);
    r.json()
}

#[tokio::test]
async fn schema_is_openapi_3_1_json_without_a_key() {
    let v = schema().await;
    let version = v["openapi"]
        .as_str()
        .unwrap_or_else(|| panic!("no openapi: {v}"));
    assert!(version.starts_with("3.1"), "openapi {version}");
}

#[tokio::test]
async fn schema_documents_every_auth_endpoint() {
    let v = schema().await;
    let paths = &v["paths"];
    for (path, methods) in AUTH_PATHS {
        let p = &paths[path];
        assert!(
            p.is_object(),
            "{path} missing from paths: {:?}",
            keys(paths)
        );
        for m in methods {
            assert!(p[m].is_object(), "{path} lacks {m}: {p}");
        }
    }
}

#[tokio::test]
async fn schema_documents_the_open_routes() {
    let v = schema().await;
    let paths = &v["paths"];
    for path in ["/api/schema/", "/healthz", "/.well-known/jwks.json"] {
        assert!(
            paths[path]["get"].is_object(),
            "{path} (get) missing from paths: {:?}",
            keys(paths)
        );
    }
}

#[tokio::test]
async fn schema_as_yaml() {
    let api = Api::anonymous(default_server());
    let r = api.get("/api/schema/?format=yaml").send().await;
    r.expect(200);
    let ct = r.header("content-type").unwrap_or_default().to_owned();
    assert!(ct.contains("yaml"), "content-type {ct:?}");
    let text = r.text();
    assert!(
        text.lines().any(|l| l.starts_with("openapi:")),
        "no top-level `openapi:` line: {}",
        &text[..text.len().min(300)]
    );
}

#[tokio::test]
async fn healthz_is_ok_without_a_key() {
    let api = Api::anonymous(default_server());
    api.get("/healthz")
        .send()
        .await
        .expect_body(200, &json!({"status": "ok"}));
}

#[tokio::test]
async fn jwks_needs_no_key() {
    let api = Api::anonymous(default_server());
    let r = api.get("/.well-known/jwks.json").send().await;
    r.expect(200);
    assert!(r.json()["keys"].is_array());
}
