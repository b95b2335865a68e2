//! Bounds of the admin API's query parameters (docs/ADMIN_API.md): times
//! outside 1970-01-01 .. 9999-12-31 are 400 field errors (one such request
//! used to take the server down), series and pages have fixed upper
//! bounds, and `allowed_origins` takes plain `http://` only on loopback.
//!
//! Every request has its own deadline, so a host that hangs (or dies)
//! fails the test instead of stalling the run.

use gatehouse_contract::harness::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Far more than any of these requests needs, far less than the harness's
/// own 60 s.
const DEADLINE: Duration = Duration::from_secs(15);

/// A staff user logged in through a fresh admin client.
struct Staff {
    api: Api,
    access: String,
    /// A web client, for the per-client usage route.
    web_id: String,
}

async fn staff() -> Staff {
    let ctx = Ctx::new();
    let (_, api) = ctx.client(&ClientSpec::admin());
    let user = ctx.server.create_user("staff");
    let tokens = api.login_ok(&user).await;
    Staff {
        api,
        access: tokens.access,
        web_id: ctx.creds.client_id.clone(),
    }
}

impl Staff {
    /// Sends `req` (bearer added) within [`DEADLINE`].
    async fn send(&self, req: Req<'_>, what: &str) -> Resp {
        tokio::time::timeout(DEADLINE, req.bearer(&self.access).send())
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer within {DEADLINE:?}"))
    }
    async fn get(&self, path: &str) -> Resp {
        self.send(self.api.get(path), &format!("GET {path}")).await
    }
    async fn create_client(&self, origins: Value) -> Resp {
        let body = json!({"name": unique("site"), "client_type": "web", "rate_limit": 10, "allowed_origins": origins});
        self.send(
            self.api.post("/api/admin/clients/").json(&body),
            &format!("POST /api/admin/clients/ {origins}"),
        )
        .await
    }
}

const OUT_OF_WINDOW: &str =
    "Enter a date/time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.";

#[tokio::test]
async fn usage_times_outside_the_window_are_400_and_the_server_keeps_answering() {
    let s = staff().await;
    for route in [
        "/api/admin/usage/".to_owned(),
        format!("/api/admin/clients/{}/usage/", s.web_id),
    ] {
        for (query, field) in [
            ("to=9223372036854775807", "to"),
            ("to=9223372036854775", "to"),
            ("to=253402300800", "to"),
            ("to=100000000000000", "to"),
            ("from=-9223372036854775808", "from"),
            ("to=-9223372036854775808", "to"),
            ("to=1969-12-31T23:59:59Z", "to"),
            ("from=9999-12-31T23:59:59-01:00", "from"),
        ] {
            let path = format!("{route}?{query}");
            s.get(&path)
                .await
                .expect_fields(&[(field, Some(OUT_OF_WINDOW))]);
        }
        // The window's last second is served, in both forms.
        for to in ["253402300799", "9999-12-31T23:59:59Z"] {
            let r = s.get(&format!("{route}?to={to}")).await;
            r.expect(200);
            let v = r.json();
            assert_eq!(v["to"], "9999-12-31T23:59:59Z", "{v}");
            assert_eq!(v["series"].as_array().map(Vec::len), Some(25), "{v}");
        }
        // Still answering, with today's default range.
        s.get(&route).await.expect(200);
    }
}

#[tokio::test]
async fn usage_series_and_limit_have_fixed_bounds() {
    let s = staff().await;
    // The largest series: 31 days of hours, from and to mid-hour.
    let to = 1_800_000_000_i64 + 1800;
    let from = to - 31 * 86400;
    let r = s
        .get(&format!(
            "/api/admin/usage/?from={from}&to={to}&bucket=hour"
        ))
        .await;
    r.expect(200);
    assert_eq!(r.json()["series"].as_array().map(Vec::len), Some(745));
    s.get(&format!(
        "/api/admin/usage/?from={from}&to={}&bucket=hour",
        to + 1
    ))
    .await
    .expect_fields(&[("bucket", None)]);
    // 366 days of days at most.
    let r = s
        .get(&format!(
            "/api/admin/usage/?from={}&to={to}",
            to - 366 * 86400
        ))
        .await;
    r.expect(200);
    assert!(r.json()["series"].as_array().unwrap().len() <= 367);
    s.get(&format!(
        "/api/admin/usage/?from={}&to={to}",
        to - 366 * 86400 - 1
    ))
    .await
    .expect_fields(&[("to", None)]);
    for limit in ["0", "101", "-1", "9223372036854775808", "x"] {
        s.get(&format!("/api/admin/usage/?limit={limit}"))
            .await
            .expect_fields(&[("limit", None)]);
    }
}

#[tokio::test]
async fn list_pages_past_any_offset_are_404_and_audit_times_are_bounded() {
    let s = staff().await;
    for list in ["users", "clients", "audit"] {
        for q in [
            "page=18446744073709551615",
            "page=9223372036854775808&page_size=2",
            "page=0",
        ] {
            s.get(&format!("/api/admin/{list}/?{q}"))
                .await
                .expect_error(404, "not_found");
        }
        let r = s
            .get(&format!(
                "/api/admin/{list}/?page_size=18446744073709551615"
            ))
            .await;
        r.expect(200);
        assert!(r.json()["results"].as_array().unwrap().len() <= 200);
    }
    for (q, field) in [
        ("to=9223372036854775807", "to"),
        ("from=-9223372036854775808", "from"),
    ] {
        s.get(&format!("/api/admin/audit/?{q}"))
            .await
            .expect_fields(&[(field, Some(OUT_OF_WINDOW))]);
    }
}

#[tokio::test]
async fn allowed_origins_take_plain_http_only_on_loopback() {
    let s = staff().await;
    for bad in [
        "http://evil.example",
        "http://evil.example:3000",
        "http://127.0.0.2:3000",
        "https://evil.example/",
    ] {
        s.create_client(json!([bad]))
            .await
            .expect_fields(&[("allowed_origins", None)]);
    }
    for good in [
        json!(["http://localhost:3000"]),
        json!(["http://127.0.0.1:8000", "http://[::1]:5173"]),
        // Not "*": this database is shared, and an active client allowing
        // any origin would answer other tests' preflights.
        json!([format!("https://{}.example.test:8443", unique("app"))]),
    ] {
        let r = s.create_client(good.clone()).await;
        r.expect(201);
        assert_eq!(r.json()["allowed_origins"], good);
    }
    // The CLI holds the same rule.
    let server = default_server();
    let name = unique("cli");
    let out = server.cli(&[
        "create-api-client",
        "--name",
        &name,
        "--type",
        "web",
        "--rate-limit",
        "10",
        "--origins",
        "http://evil.example",
    ]);
    assert!(!out.success, "http://evil.example accepted: {out:?}");
    server.create_client(&ClientSpec::web().origins("http://localhost:8000,http://127.0.0.1:5101"));
}
