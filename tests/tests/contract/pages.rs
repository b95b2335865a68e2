//! The dashboard and API-docs pages every host serves beside the API
//! (static files; on the Worker, wrangler `[assets]`), and the dashboard's
//! `/admin/config.json`.

use gatehouse_contract::harness::*;

async fn page(path: &str) -> Resp {
    let api = Api::anonymous(default_server());
    api.get(path).send().await
}

fn expect_html(r: &Resp) {
    r.expect(200);
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.starts_with("text/html"),
        "{}: content-type {ct}",
        r.request
    );
    assert!(
        r.text().to_ascii_lowercase().contains("<html"),
        "{}: not an HTML page",
        r.request
    );
    assert!(
        r.header("content-security-policy").is_some(),
        "{}: no Content-Security-Policy",
        r.request
    );
}

#[tokio::test]
async fn the_dashboard_page_and_its_bundle_are_served() {
    let r = page("/admin/").await;
    expect_html(&r);
    // The script the page loads, so the dashboard can actually start.
    let html = r.text();
    let script = html
        .split('"')
        .find(|s| s.starts_with("/admin/assets/") && s.ends_with(".js"))
        .unwrap_or_else(|| panic!("no /admin/assets/*.js in the page: {html}"));
    let js = page(script).await;
    js.expect(200);
    let ct = js.header("content-type").unwrap_or_default();
    assert!(ct.contains("javascript"), "{script}: content-type {ct}");
}

#[tokio::test]
async fn swagger_ui_and_redoc_are_served() {
    expect_html(&page("/api/schema/swagger/").await);
    expect_html(&page("/api/schema/redoc/").await);
}

/// `GATEHOUSE_TEST_DASHBOARD_CLIENT_ID` / `_API_KEY`: what the host under
/// test was configured with (`GATEHOUSE_DASHBOARD_*`), when the runner
/// configured it; otherwise only the shape is checked.
#[tokio::test]
async fn config_json_answers_with_the_dashboard_client() {
    let r = page("/admin/config.json").await;
    r.expect(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert!(body.is_object(), "not a JSON object: {body}");
    let want = (
        std::env::var("GATEHOUSE_TEST_DASHBOARD_CLIENT_ID"),
        std::env::var("GATEHOUSE_TEST_DASHBOARD_API_KEY"),
    );
    if let (Ok(id), Ok(key)) = want {
        assert_eq!(body, serde_json::json!({"client_id": id, "api_key": key}));
    }
}
