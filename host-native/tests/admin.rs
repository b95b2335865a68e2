//! The admin API (docs/ADMIN_API.md), the audit log (docs/AUDIT.md) and
//! usage counting, end to end in process over an embedded libSQL file with
//! a fake clock.

mod support;

use bytes::Bytes;
use gatehouse::db::LibsqlExecutor;
use gatehouse_core::api_client::{ApiClient, ApiKey, NewApiClient};
use gatehouse_core::clock::FixedClock;
use gatehouse_core::service::ClientIp;
use gatehouse_core::sql::{SqlExecutor, Statement};
use gatehouse_core::testing::T0;
use gatehouse_core::user::{User, UserType};
use gatehouse_core::{Config, Gatehouse};
use http::{Method, Request};
use serde_json::{json, Value};
use std::sync::Arc;
use support::{create_user, Reply, Via, PASSWORD};

type Client = (ApiClient, ApiKey);

struct World {
    gh: Gatehouse,
    clock: Arc<FixedClock>,
    sql: Arc<LibsqlExecutor>,
    /// A creator web app (type `web`).
    web: Client,
    /// The dashboard's client (type `admin`, serves staff and admins).
    dash: Client,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let support::Service {
        gh,
        clock,
        sql,
        dir,
    } = support::service(Config::default(), |g| g).await;
    let web = gh
        .create_api_client(new_client("web", "web", 10_000))
        .await
        .unwrap();
    let dash = gh
        .create_api_client(new_client("dash", "admin", 10_000))
        .await
        .unwrap();
    World {
        gh,
        clock,
        sql,
        web,
        dash,
        _dir: dir,
    }
}

/// [`support::web_client`] of another type.
/// `r` is a page of `len` results with these links.
fn assert_page(r: &Reply, len: usize, previous: &Value, next: &Value) {
    assert_eq!(r.body["results"].as_array().unwrap().len(), len);
    assert_eq!(&r.body["previous"], previous);
    assert_eq!(&r.body["next"], next);
}

/// A fresh world with `name` of type `t` signed in: its access token.
async fn world_as(name: &str, t: UserType) -> (World, String) {
    let w = world().await;
    let (_, access, _) = w.token(name, t).await;
    (w, access)
}

fn new_client(name: &str, client_type: &str, rate_limit: u32) -> NewApiClient {
    NewApiClient {
        client_type: client_type.into(),
        ..support::web_client(name, rate_limit)
    }
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

impl World {
    /// A call through the dashboard client.
    async fn admin(&self, method: Method, path: &str, body: Option<Value>, bearer: &str) -> Reply {
        self.gh
            .via(&self.dash)
            .call(method, path, body, Some(bearer))
            .await
    }

    /// A POST with a JSON body, or none (`None`).
    async fn post(&self, path: &str, body: impl Into<Option<Value>>, bearer: &str) -> Reply {
        self.admin(Method::POST, path, body.into(), bearer).await
    }

    async fn patch(&self, path: &str, body: Value, bearer: &str) -> Reply {
        self.admin(Method::PATCH, path, Some(body), bearer).await
    }

    async fn delete(&self, path: &str, bearer: &str) -> Reply {
        self.admin(Method::DELETE, path, None, bearer).await
    }

    async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.admin(Method::GET, path, None, bearer).await
    }

    async fn user(&self, name: &str, t: UserType) -> User {
        create_user(&self.gh, name, t).await
    }

    async fn login_via(&self, client: &Client, name: &str) -> Reply {
        self.gh
            .via(client)
            .login(&format!("{name}@example.com"), PASSWORD)
            .await
    }

    /// Creates a user and returns its access token, logged in through the
    /// client that serves its type.
    async fn token(&self, name: &str, t: UserType) -> (User, String, String) {
        let u = self.user(name, t).await;
        let client = if t == UserType::Creator {
            &self.web
        } else {
            &self.dash
        };
        let r = self.login_via(client, name).await;
        assert_eq!(r.status, 200, "{}", r.body);
        (u, s(&r.body["access"]), s(&r.body["refresh"]))
    }

    /// `POST /api/admin/users/{id}/{action}/` without a body.
    async fn user_action(&self, id: impl std::fmt::Display, action: &str, bearer: &str) -> Reply {
        let path = format!("/api/admin/users/{id}/{action}/");
        self.post(&path, None, bearer).await
    }

    /// GETs `path` and asserts a 400 that names exactly `fields`.
    async fn assert_refused(&self, path: &str, bearer: &str, fields: &[&str]) -> Reply {
        let r = self.get(path, bearer).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(keys(&r.body), fields, "{path}: {}", r.body);
        r
    }

    /// The names of the audit events that `query` selects.
    async fn audit_names(&self, admin: &str, query: &str) -> Vec<String> {
        let events = self.audit(admin, query).await;
        events.iter().map(|e| s(&e["event"])).collect()
    }

    async fn audit(&self, admin: &str, query: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/api/admin/audit/?page_size=200&{query}"), admin)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["results"].as_array().unwrap().clone()
    }
}

/// Every admin endpoint × (anonymous, creator, staff, admin). Each cell runs
/// on fresh targets, so a change made by one caller does not decide another.
#[tokio::test]
async fn permission_matrix_of_every_admin_endpoint() {
    let (w, staff) = world_as("staff0", UserType::Staff).await;
    let (_, admin, _) = w.token("admin0", UserType::Admin).await;
    let (_, creator, _) = w.token("creator0", UserType::Creator).await;
    let callers: [(&str, Option<&str>); 4] = [
        ("anonymous", None),
        ("creator", Some(&creator)),
        ("staff", Some(&staff)),
        ("admin", Some(&admin)),
    ];
    // method, path, body (JSON, if any) | anonymous, creator, staff, admin.
    // {c} = a creator, {s} = a staff user, {k} = a web client, {n} = unique.
    const MATRIX: &str = r#"
GET    /api/admin/users/                               | 401 403 200 200
POST   /api/admin/users/ {"email": "new{n}@example.com", "username": "new{n}", "password": "correct horse battery", "user_type": "creator"} | 401 403 201 201
POST   /api/admin/users/ {"email": "new{n}@example.com", "username": "new{n}", "password": "correct horse battery", "user_type": "staff"} | 401 403 403 201
POST   /api/admin/users/ {"email": "new{n}@example.com", "username": "new{n}", "password": "correct horse battery", "user_type": "admin"} | 401 403 403 201
GET    /api/admin/users/{c}/                           | 401 403 200 200
GET    /api/admin/users/{s}/                           | 401 403 200 200
PATCH  /api/admin/users/{c}/ {"first_name": "Changed"} | 401 403 200 200
PATCH  /api/admin/users/{s}/ {"first_name": "Changed"} | 401 403 403 200
PATCH  /api/admin/users/{c}/ {"user_type": "staff"}    | 401 403 403 200
PATCH  /api/admin/users/{c}/ {"user_type": "admin"}    | 401 403 403 200
PATCH  /api/admin/users/{s}/ {"user_type": "creator"}  | 401 403 403 200
POST   /api/admin/users/{c}/deactivate/                | 401 403 200 200
POST   /api/admin/users/{s}/deactivate/                | 401 403 403 200
POST   /api/admin/users/{c}/reactivate/                | 401 403 200 200
POST   /api/admin/users/{s}/reactivate/                | 401 403 403 200
GET    /api/admin/users/{c}/sessions/                  | 401 403 200 200
GET    /api/admin/users/{s}/sessions/                  | 401 403 200 200
DELETE /api/admin/users/{c}/sessions/                  | 401 403 200 200
DELETE /api/admin/users/{s}/sessions/                  | 401 403 403 200
DELETE /api/admin/users/{c}/sessions/nope/             | 401 403 404 404
DELETE /api/admin/users/{s}/sessions/nope/             | 401 403 403 404
GET    /api/admin/clients/                             | 401 403 200 200
POST   /api/admin/clients/ {"name": "c{n}", "client_type": "web", "rate_limit": 100} | 401 403 201 201
GET    /api/admin/clients/{k}/                         | 401 403 200 200
PATCH  /api/admin/clients/{k}/ {"rate_limit": 5}       | 401 403 200 200
POST   /api/admin/clients/{k}/rotate-key/              | 401 403 200 200
POST   /api/admin/clients/{k}/deactivate/              | 401 403 200 200
POST   /api/admin/clients/{k}/activate/                | 401 403 200 200
GET    /api/admin/clients/{k}/usage/                   | 401 403 200 200
GET    /api/admin/usage/                               | 401 403 200 200
GET    /api/admin/audit/                               | 401 403 200 200
"#;
    let rows: Vec<(Method, &str, Option<&str>, [u16; 4])> = MATRIX
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (request, statuses) = l.split_once(" | ").expect("a | in every row");
            let (method, rest) = request.split_once(' ').expect("method");
            let rest = rest.trim();
            let (path, body) = rest.split_once(' ').unwrap_or((rest, ""));
            let statuses: Vec<u16> = statuses.split(' ').map(|s| s.parse().unwrap()).collect();
            let body = Some(body).filter(|b| !b.is_empty());
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            (method, path, body, statuses.try_into().unwrap())
        })
        .collect();
    let mut n = 0;
    for (method, path, body, expected) in &rows {
        for ((who, token), want) in callers.iter().zip(expected) {
            n += 1;
            let c = w.user(&format!("tc{n}"), UserType::Creator).await;
            let st = w.user(&format!("ts{n}"), UserType::Staff).await;
            let (k, _) =
                w.gh.create_api_client(new_client(&format!("k{n}"), "web", 100))
                    .await
                    .unwrap();
            let fill = |t: &str| {
                t.replace("{c}", &c.id.to_string())
                    .replace("{s}", &st.id.to_string())
                    .replace("{k}", &k.id.0)
                    .replace("{n}", &n.to_string())
            };
            let path = fill(path);
            let body = body.map(|b| serde_json::from_str::<Value>(&fill(b)).unwrap());
            let r =
                w.gh.via(&w.dash)
                    .call(method.clone(), &path, body, *token)
                    .await;
            assert_eq!(
                r.status.as_u16(),
                *want,
                "{who}: {method} {path}: {}",
                r.body
            );
        }
    }
    // The admin API is for admin clients only, whoever calls.
    for token in [&creator, &staff, &admin] {
        let r = w.gh.via(&w.web).get("/api/admin/users/", token).await;
        r.assert_error(403, "admin_client_required");
    }
    // A creator's token through the dashboard's client: the client does not
    // serve creators.
    let r = w.get("/api/admin/users/", &creator).await;
    assert_eq!(r.body["code"], "user_type_not_allowed");
    // Unknown admin paths are 404 and wrong methods 405, before the key check.
    let r = w.get("/api/admin/users/abc/", &admin).await;
    assert_eq!(r.status, 404);
    let r = w
        .admin(Method::PUT, "/api/admin/users/1/", None, &admin)
        .await;
    assert_eq!(r.status, 405);
    // And under /api/v1/ too.
    let r = w.get("/api/v1/admin/users/", &admin).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn user_list_searches_filters_and_pages_like_drf() {
    let (w, admin) = world_as("boss", UserType::Admin).await;
    for i in 0..5 {
        w.user(&format!("Writer{i}"), UserType::Creator).await;
    }
    w.user("someone", UserType::Staff).await;

    let r = w
        .get("/api/admin/users/?search=WRITER&page_size=2", &admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["count"], 5);
    let page2 = json!("/api/admin/users/?search=WRITER&page_size=2&page=2");
    assert_page(&r, 2, &Value::Null, &page2);
    let r = w
        .get("/api/admin/users/?search=WRITER&page_size=2&page=3", &admin)
        .await;
    assert_page(&r, 1, &page2, &Value::Null);
    let r = w
        .get("/api/admin/users/?search=WRITER&page_size=2&page=4", &admin)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["detail"], "Invalid page.");
    let r = w
        .get("/api/admin/users/?search=nobody-at-all", &admin)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["count"].clone()),
        (200, json!(0))
    );

    let r = w.get("/api/admin/users/?user_type=staff", &admin).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.first_error("results")["username"], "someone");
    let path = "/api/admin/users/?user_type=overlord&is_active=maybe";
    let r = w.get(path, &admin).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.first_error("user_type"),
        "\"overlord\" is not a valid choice."
    );
    assert_eq!(r.first_error("is_active"), "Must be a valid boolean.");

    let r = w
        .get("/api/admin/users/?ordering=-username&page_size=1", &admin)
        .await;
    assert_eq!(r.first_error("results")["username"], "someone");
    assert_eq!(r.body["count"], 7);

    // Deactivated users are found by the filter.
    let victim = w.user("victim", UserType::Creator).await;
    let r = w.user_action(victim.id, "deactivate", &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["is_active"], false);
    let r = w.get("/api/admin/users/?is_active=false", &admin).await;
    assert_eq!(r.body["count"], 1);
    assert_eq!(r.first_error("results")["id"], victim.id.0);
}

#[tokio::test]
async fn create_and_update_users_with_field_errors() {
    let (w, admin) = world_as("boss", UserType::Admin).await;
    let create = |body: Value| w.post("/api/admin/users/", body, &admin);
    let r = create(
        json!({"email": "bad", "username": "a b", "password": "short", "user_type": "wizard"}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.first_error("user_type"),
        "\"wizard\" is not a valid choice."
    );
    let r = create(
        json!({"email": "bad", "username": "a b", "password": "short", "user_type": "staff"}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["email"].is_array()
            && r.body["username"].is_array()
            && r.body["password"].is_array(),
        "{}",
        r.body
    );
    let r = w
        .post("/api/admin/users/", json!({"email": "Sam@Example.com", "username": "sam", "password": PASSWORD, "user_type": "staff", "first_name": "Sam", "is_superuser": true}), &admin)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["user_type"], "staff");
    assert_eq!(r.body["is_staff"], true);
    assert_eq!(r.body["is_superuser"], false, "is_superuser is read-only");
    let sam = r.body["id"].as_i64().unwrap();
    let r = w
        .post("/api/admin/users/", json!({"email": "sam@example.com", "username": "sam", "password": PASSWORD, "user_type": "creator"}), &admin)
        .await;
    assert_eq!(
        r.first_error("email"),
        "user with this email already exists."
    );
    assert_eq!(
        r.first_error("username"),
        "A user with that username already exists."
    );
    // The new staff user can sign in to the dashboard.
    assert_eq!(w.login_via(&w.dash, "sam").await.status, 200);

    // Update: names, username; conflicts and bad values are field errors.
    w.user("taken", UserType::Creator).await;
    let r = w
        .patch(
            &format!("/api/admin/users/{sam}/"),
            json!({"username": "taken"}),
            &admin,
        )
        .await;
    assert_eq!(
        r.first_error("username"),
        "A user with that username already exists."
    );
    let r = w
        .patch(
            &format!("/api/admin/users/{sam}/"),
            json!({"is_active": "no", "username": ""}),
            &admin,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error("is_active"), "Must be a valid boolean.");
    assert_eq!(r.first_error("username"), "This field may not be blank.");
    let r = w
        .patch(
            &format!("/api/admin/users/{sam}/"),
            json!({"username": "samuel", "last_name": "Vimes", "email": "ignored@example.com"}),
            &admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["username"], "samuel");
    assert_eq!(r.body["last_name"], "Vimes");
    // Stored as Django's normalize_email does: the domain lowercased.
    assert_eq!(r.body["email"], "Sam@example.com");
    let r = w.get("/api/admin/users/999999/", &admin).await;
    assert_eq!(r.status, 404);
    // An empty patch changes nothing and records nothing.
    let before = w.audit(&admin, "event=user.updated").await.len();
    let r = w
        .patch(&format!("/api/admin/users/{sam}/"), json!({}), &admin)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(w.audit(&admin, "event=user.updated").await.len(), before);
}

#[tokio::test]
async fn staff_manage_creators_only_and_cannot_grant_staff() {
    let w = world().await;
    let (staff_user, staff, _) = w.token("staffer", UserType::Staff).await;
    let creator = w.user("crafty", UserType::Creator).await;
    // Staff cannot promote a creator, nor themselves.
    for (id, t) in [
        (creator.id, "staff"),
        (creator.id, "admin"),
        (staff_user.id, "admin"),
    ] {
        let r = w
            .patch(
                &format!("/api/admin/users/{id}/"),
                json!({"user_type": t}),
                &staff,
            )
            .await;
        assert_eq!(r.status, 403, "{id} → {t}: {}", r.body);
    }
    // A creator stays a creator whatever else is sent.
    let r = w
        .patch(
            &format!("/api/admin/users/{}/", creator.id),
            json!({"is_staff": true, "is_superuser": true, "first_name": "C"}),
            &staff,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.body["is_staff"].clone(), r.body["is_superuser"].clone()),
        (json!(false), json!(false))
    );
    // A creator's own token gets nowhere, whatever client it uses.
    let r = w.login_via(&w.web, "crafty").await;
    let token = s(&r.body["access"]);
    for client in [&w.web, &w.dash] {
        let r =
            w.gh.via(client)
                .patch_as(
                    &format!("/api/admin/users/{}/", creator.id),
                    json!({"user_type": "admin"}),
                    &token,
                )
                .await;
        assert_eq!(r.status, 403);
    }
    let r = w
        .get(&format!("/api/admin/users/{}/", creator.id), &staff)
        .await;
    assert_eq!(r.body["user_type"], "creator");
}

#[tokio::test]
async fn nobody_removes_the_last_active_superuser() {
    let w = world().await;
    let (root, admin, _) = w.token("root", UserType::Admin).await;
    let path = format!("/api/admin/users/{}/", root.id);
    for body in [
        json!({"is_active": false}),
        json!({"user_type": "staff"}),
        json!({"user_type": "creator"}),
    ] {
        let r = w.patch(&path, body.clone(), &admin).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["code"], "last_superuser");
    }
    let r = w.post(&format!("{path}deactivate/"), None, &admin).await;
    assert_eq!(r.body["code"], "last_superuser");
    // With a second admin, the first may step down; then the second is the last.
    let (second, admin2, _) = w.token("second", UserType::Admin).await;
    let r = w.patch(&path, json!({"user_type": "staff"}), &admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["is_superuser"], false);
    // The type change ended root's logins: their old token is dead at once.
    let r = w.get("/api/admin/users/", &admin).await;
    assert_eq!(r.status, 401);
    let r = w.user_action(second.id, "deactivate", &admin2).await;
    assert_eq!(r.body["code"], "last_superuser");
    // An inactive admin does not count as the remaining superuser.
    let third = w.user("third", UserType::Admin).await;
    let r = w.user_action(third.id, "deactivate", &admin2).await;
    assert_eq!(r.status, 200);
    let r = w
        .patch(
            &format!("/api/admin/users/{}/", second.id),
            json!({"user_type": "creator"}),
            &admin2,
        )
        .await;
    assert_eq!(r.body["code"], "last_superuser");
}

#[tokio::test]
async fn deactivation_ends_logins_at_once_and_reactivation_restores_login() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let (victim, access, refresh) = w.token("victim", UserType::Creator).await;
    // A second login, to see both listed and both ended.
    assert_eq!(w.login_via(&w.web, "victim").await.status, 200);
    let r = w
        .get(&format!("/api/admin/users/{}/sessions/", victim.id), &staff)
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 2, "{}", r.body);
    assert_eq!(r.body[0]["client_name"], "web");

    let r = w.user_action(victim.id, "deactivate", &staff).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = w.gh.via(&w.web).refresh(&refresh).await;
    assert_eq!(r.status, 401);
    let r = w.gh.via(&w.web).profile(&access).await;
    assert_eq!(r.status, 401);
    assert_eq!(w.login_via(&w.web, "victim").await.status, 401);
    let r = w
        .get(&format!("/api/admin/users/{}/sessions/", victim.id), &staff)
        .await;
    assert_eq!(r.body, json!([]));

    let r = w.user_action(victim.id, "reactivate", &staff).await;
    assert_eq!(r.body["is_active"], true);
    let r = w.login_via(&w.web, "victim").await;
    assert_eq!(r.status, 200);
    let refresh = s(&r.body["refresh"]);

    // Ending sessions: one by id, then all.
    let r = w
        .get(&format!("/api/admin/users/{}/sessions/", victim.id), &staff)
        .await;
    let sid = s(&r.body[0]["id"]);
    let path = format!("/api/admin/users/{}/sessions/{sid}/", victim.id);
    assert_eq!(w.delete(&path, &staff).await.status, 204);
    assert_eq!(w.delete(&path, &staff).await.status, 404);
    let r = w.gh.via(&w.web).refresh(&refresh).await;
    assert_eq!(r.status, 401);
    w.login_via(&w.web, "victim").await;
    w.login_via(&w.web, "victim").await;
    let r = w
        .delete(&format!("/api/admin/users/{}/sessions/", victim.id), &staff)
        .await;
    assert_eq!(r.body, json!({"ended": 2}));

    // Each of those is in the audit log, by whom, to whom.
    let events = w
        .audit_names(&staff, &format!("target_user={}", victim.id))
        .await;
    for e in [
        "user.deactivated",
        "user.reactivated",
        "user.sessions_revoked",
    ] {
        assert!(events.contains(&e.to_owned()), "{e} in {events:?}");
    }
    let deact = &w.audit(&staff, "event=user.deactivated").await[0];
    assert_eq!(deact["detail"]["before"]["is_active"], true);
    assert_eq!(deact["detail"]["after"]["is_active"], false);
    assert_eq!(deact["actor_client_id"], w.dash.0.id.0.as_str());
    assert_eq!(deact["ip"], "192.0.2.1");
    let ended = w.audit(&staff, "event=user.sessions_revoked").await;
    assert_eq!(ended[0]["detail"]["sessions_ended"], 2);
}

#[tokio::test]
async fn clients_create_with_key_once_update_rotate_deactivate() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let r = w
        .post("/api/admin/clients/", json!({"name": "", "client_type": "web site", "rate_limit": 0, "serves": ["gods"], "allowed_origins": ["ftp://x"]}), &staff)
        .await;
    assert_eq!(r.status, 400);
    for f in [
        "name",
        "client_type",
        "rate_limit",
        "serves",
        "allowed_origins",
    ] {
        assert!(r.body[f].is_array(), "{f}: {}", r.body);
    }
    let r = w
        .post("/api/admin/clients/", json!({"name": "Mobile", "client_type": "mobile", "rate_limit": 500, "allowed_origins": ["https://m.example.com"]}), &staff)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["serves"], json!(["creator"]));
    let id = s(&r.body["client_id"]);
    let key = s(&r.body["api_key"]);
    assert!(key.starts_with("sk_"));
    let mobile: Client = (
        w.gh.list_api_clients()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.id.0 == id)
            .unwrap(),
        ApiKey(key.clone()),
    );
    let reg = json!({"email": "m@example.com", "username": "m", "password": PASSWORD, "password2": PASSWORD});
    assert_eq!(
        w.gh.via(&mobile)
            .post("/api/auth/register/", reg)
            .await
            .status,
        201
    );
    // Never shown again.
    let r = w.get(&format!("/api/admin/clients/{id}/"), &staff).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("api_key").is_none() && r.body.get("key_hash").is_none());
    let r = w.get("/api/admin/clients/?search=mob", &staff).await;
    assert_eq!(r.body["count"], 1);
    assert!(r.first_error("results").get("api_key").is_none());
    let r = w.get("/api/admin/clients/?client_type=admin", &staff).await;
    assert_eq!(r.body["count"], 1);

    let r = w
        .patch(
            &format!("/api/admin/clients/{id}/"),
            json!({"rate_limit": 100, "name": "Mobile app", "serves": ["creator", "staff"]}),
            &staff,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["rate_limit"], 100);
    assert_eq!(r.body["serves"], json!(["creator", "staff"]));
    let r = w
        .patch(
            &format!("/api/admin/clients/{id}/"),
            json!({"rate_limit": "many", "serves": []}),
            &staff,
        )
        .await;
    assert_eq!(r.first_error("rate_limit"), "A valid integer is required.");
    assert_eq!(
        r.first_error("serves"),
        "A client must serve at least one user type."
    );

    // Rotate: the old key dies at once, the new one works.
    let r = w
        .post(
            &format!("/api/admin/clients/{id}/rotate-key/"),
            None,
            &staff,
        )
        .await;
    assert_eq!(r.status, 200);
    let new_key = s(&r.body["api_key"]);
    assert_ne!(new_key, key);
    let r = w.gh.via(&mobile).anonymous_profile().await;
    assert_eq!(r.body["code"], "api_key_invalid");
    let mobile = (mobile.0, ApiKey(new_key));
    assert_eq!(w.login_via(&mobile, "m").await.status, 200);

    // Deactivate: the client is refused and its logins end.
    let r = w
        .post(
            &format!("/api/admin/clients/{id}/deactivate/"),
            None,
            &staff,
        )
        .await;
    assert_eq!(r.body["is_active"], false);
    let r = w.login_via(&mobile, "m").await;
    assert_eq!(r.body["code"], "client_inactive");
    let r = w
        .post(&format!("/api/admin/clients/{id}/activate/"), None, &staff)
        .await;
    assert_eq!(r.body["is_active"], true);
    assert_eq!(w.login_via(&mobile, "m").await.status, 200);

    // The dashboard cannot switch itself off.
    let dash = &w.dash.0.id.0;
    let r = w
        .post(
            &format!("/api/admin/clients/{dash}/deactivate/"),
            None,
            &staff,
        )
        .await;
    assert_eq!(r.body["code"], "current_client");
    let r = w.get("/api/admin/clients/cl_nope/", &staff).await;
    assert_eq!(r.status, 404);

    let events = w.audit_names(&staff, &format!("client={id}")).await;
    for e in [
        "client.created",
        "client.updated",
        "client.key_rotated",
        "client.deactivated",
        "client.activated",
    ] {
        assert!(events.contains(&e.to_owned()), "{e} in {events:?}");
    }
    let updated = &w.audit(&staff, "event=client.updated").await[0];
    assert_eq!(updated["detail"]["before"]["rate_limit"], 500);
    assert_eq!(updated["detail"]["after"]["rate_limit"], 100);
    assert!(
        !updated.to_string().contains("sk_"),
        "no key in the audit log"
    );
}

#[tokio::test]
async fn usage_counts_requests_by_client_and_hour() {
    let w = world().await;
    w.user("boss", UserType::Admin).await;
    let other =
        w.gh.create_api_client(new_client("other", "web", 10_000))
            .await
            .unwrap();
    w.user("ann", UserType::Creator).await;
    // web: a registration, a login, two failed logins, a refresh.
    let reg = json!({"email": "bob@example.com", "username": "bob", "password": PASSWORD, "password2": PASSWORD});
    assert_eq!(
        w.gh.via(&w.web)
            .post("/api/auth/register/", reg)
            .await
            .status,
        201
    );
    let r = w.login_via(&w.web, "ann").await;
    let refresh = s(&r.body["refresh"]);
    for _ in 0..2 {
        let r = w.gh.via(&w.web).login("ann@example.com", "wrong").await;
        assert_eq!(r.status, 401);
    }
    w.clock.advance_millis(3);
    assert_eq!(w.gh.via(&w.web).refresh(&refresh).await.status, 200);
    // Next hour: the other client, throttled after 2 of 3.
    w.clock.advance_secs(3600);
    let tight =
        w.gh.create_api_client(new_client("tight", "web", 2))
            .await
            .unwrap();
    for _ in 0..3 {
        w.gh.via(&tight).anonymous_profile().await;
    }
    w.gh.via(&other).anonymous_profile().await;
    let admin = s(&w.login_via(&w.dash, "boss").await.body["access"]);

    let web_id = &w.web.0.id.0;
    let r = w
        .admin(
            Method::GET,
            &format!("/api/admin/clients/{web_id}/usage/?from={}", T0.as_secs()),
            None,
            &admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["bucket"], "hour");
    let t = &r.body["totals"];
    assert_eq!(t["requests"], 5, "{t}");
    assert_eq!(t["registrations"], 1);
    assert_eq!(t["logins"], 1);
    assert_eq!(t["failed_logins"], 2);
    assert_eq!(t["refreshes"], 1);
    assert_eq!(t["status_2xx"], 3);
    assert_eq!(t["status_4xx"], 2);
    assert_eq!(t["latency_p50_ms"], 1);
    let series = r.body["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "two hours: {series:?}");
    assert_eq!(series[0]["start"], "2027-01-15T08:00:00Z");
    assert_eq!(series[0]["requests"], 5);
    assert_eq!(series[1]["requests"], 0);

    let r = w.get("/api/admin/usage/", &admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let top = r.body["top_clients"].as_array().unwrap();
    assert_eq!(top[0]["client_id"], web_id.as_str(), "{top:?}");
    let tight_row = top.iter().find(|c| c["name"] == "tight").unwrap();
    assert_eq!(tight_row["requests"], 3);
    assert_eq!(tight_row["throttled"], 1);
    assert_eq!(tight_row["status_4xx"], 3);

    // Longer ranges are per day; the range is checked.
    let r = w
        .admin(
            Method::GET,
            &format!(
                "/api/admin/usage/?from={}&to={}",
                T0.as_secs() - 6 * 86400,
                T0.as_secs() + 86400
            ),
            None,
            &admin,
        )
        .await;
    assert_eq!(r.body["bucket"], "day");
    assert_eq!(r.body["series"].as_array().unwrap().len(), 8);
    assert!(r.body["totals"]["requests"].as_u64().unwrap() >= 9);
    let path = "/api/admin/usage/?from=2027-01-15T10:00:00Z&to=2027-01-15T09:00:00Z";
    let r = w.get(path, &admin).await;
    assert_eq!(r.status, 400);
    assert!(r.body["from"].is_array());
    let r = w.get("/api/admin/usage/?from=soon", &admin).await;
    assert_eq!(r.status, 400);
    let r = w.get("/api/admin/usage/?from=0&bucket=hour", &admin).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn flush_adds_to_stored_counts_and_is_free_when_empty() {
    let w = world().await;
    assert_eq!(w.gh.flush_usage().await.unwrap(), 0);
    w.gh.via(&w.web).anonymous_profile().await;
    w.gh.via(&w.dash).anonymous_profile().await;
    assert_eq!(w.gh.flush_usage().await.unwrap(), 2);
    assert_eq!(w.gh.flush_usage().await.unwrap(), 0);
    w.gh.via(&w.web).anonymous_profile().await;
    assert_eq!(w.gh.flush_usage().await.unwrap(), 1);
    let r = w
        .sql
        .run(Statement::new(
            "SELECT requests, status_4xx FROM usage_hourly WHERE client_id = ?",
            vec![w.web.0.id.0.clone().into()],
        ))
        .await
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![
            gatehouse_core::sql::Value::Integer(2),
            gatehouse_core::sql::Value::Integer(2)
        ]]
    );
    // Requests that fail the key check belong to no client and are not counted.
    let mut req = Request::builder()
        .uri("/api/auth/profile/")
        .header("x-api-key", "sk_wrong")
        .header("x-client-id", w.web.0.id.0.as_str())
        .body(Bytes::new())
        .unwrap();
    req.extensions_mut()
        .insert(ClientIp("192.0.2.9".parse().unwrap()));
    assert_eq!(w.gh.handle(req).await.status(), 401);
    assert_eq!(w.gh.flush_usage().await.unwrap(), 0);
}

#[tokio::test]
async fn audit_log_records_auth_events_with_client_and_ip() {
    let (w, admin) = world_as("boss", UserType::Admin).await;
    let reg = json!({"email": "eve@example.com", "username": "eve", "password": PASSWORD, "password2": PASSWORD});
    let r = w.gh.via(&w.web).post("/api/auth/register/", reg).await;
    let eve = r.body["user"]["id"].as_i64().unwrap();
    let access = s(&r.body["access"]);
    let first_refresh = s(&r.body["refresh"]);
    // Failed logins: unknown email, wrong password, type not served.
    w.gh.via(&w.web).login("nobody@example.com", "x").await;
    w.gh.via(&w.web).login("eve@example.com", "x").await;
    assert_eq!(w.login_via(&w.dash, "eve").await.status, 403);
    // Refresh; the spent token again inside the reuse grace (a retry, a
    // reissue), then after it (a replay).
    let web = w.gh.via(&w.web);
    let refresh = |token: String| async move { web.refresh(&token).await };
    assert_eq!(refresh(first_refresh.clone()).await.status, 200);
    assert_eq!(refresh(first_refresh.clone()).await.status, 200);
    w.clock.advance_secs(31);
    assert_eq!(refresh(first_refresh).await.status, 401);
    // Password change, logout, ending a session, logout-all.
    let r = w.login_via(&w.web, "eve").await;
    let access2 = s(&r.body["access"]);
    let r = w.gh.via(&w.web).post_as("/api/auth/change-password/", json!({"old_password": PASSWORD, "new_password": "another fine password", "new_password2": "another fine password"}), &access2)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        w.gh.via(&w.web).profile(&access).await.status,
        401,
        "the password change ended the first login"
    );
    let (access3, refresh3) = (s(&r.body["access"]), s(&r.body["refresh"]));
    let r =
        w.gh.via(&w.web)
            .post_as("/api/auth/logout/", json!({"refresh": refresh3}), &access3)
            .await;
    assert_eq!(r.status, 200);
    let login = |pw: &'static str| {
        let w = &w;
        async move {
            let r = w.gh.via(&w.web).login("eve@example.com", pw).await;
            s(&r.body["access"])
        }
    };
    let a = login("another fine password").await;
    let r =
        w.gh.via(&w.web)
            .delete("/api/auth/sessions/nope/", &a)
            .await;
    assert_eq!(r.status, 404);
    login("another fine password").await;
    let r =
        w.gh.via(&w.web)
            .post_empty_as("/api/auth/logout-all/", &a)
            .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let all = w.audit(&admin, &format!("user={eve}")).await;
    let names: Vec<String> = all.iter().rev().map(|e| s(&e["event"])).collect();
    assert_eq!(
        names,
        [
            "user.registered",
            "login.failed",
            "login.failed",
            "token.refresh_reissued",
            "token.replay_detected",
            "login.succeeded",
            "password.changed",
            "logout",
            "login.succeeded",
            "login.succeeded",
            "logout_all",
        ],
        "{all:#?}"
    );
    let reg = all.last().unwrap();
    assert_eq!(reg["actor_user_id"], eve);
    assert_eq!(reg["target_user_id"], eve);
    assert_eq!(reg["actor_client_id"], w.web.0.id.0.as_str());
    assert_eq!(reg["ip"], "192.0.2.1");
    let failed = w.audit(&admin, "event=login.failed").await;
    let reasons: Vec<String> = failed
        .iter()
        .rev()
        .map(|e| s(&e["detail"]["reason"]))
        .collect();
    assert_eq!(
        reasons,
        [
            "invalid_credentials",
            "invalid_credentials",
            "user_type_not_allowed"
        ]
    );
    assert_eq!(failed.last().unwrap()["target_user_id"], Value::Null);
    assert_eq!(
        failed.last().unwrap()["detail"]["email"],
        "nobody@example.com"
    );
    let replay = &w.audit(&admin, "event=token.replay_detected").await[0];
    assert_eq!(replay["detail"]["sessions_ended"], 1);
    let logout_all = &w.audit(&admin, "event=logout_all").await[0];
    assert_eq!(logout_all["detail"]["sessions_ended"], 2);
    // A session that did not end is not recorded as ended.
    assert!(w.audit(&admin, "event=session.ended").await.is_empty());

    // Filters: prefix, actor, client, time; bad values are field errors.
    let logins = w.audit(&admin, "event=login.*").await;
    assert!(logins.iter().all(|e| s(&e["event"]).starts_with("login.")));
    assert_eq!(logins.len(), 7, "4 successes (boss, eve ×3) and 3 failures");
    let by_dash = w.audit(&admin, &format!("client={}", w.dash.0.id.0)).await;
    assert!(!by_dash.is_empty());
    assert!(by_dash
        .iter()
        .all(|e| e["actor_client_id"] == w.dash.0.id.0.as_str()
            || e["target_client_id"] == w.dash.0.id.0.as_str()));
    assert!(w
        .audit(&admin, &format!("from={}", T0.as_secs() + 60))
        .await
        .is_empty());
    let r = w.get("/api/admin/audit/?actor=me", &admin).await;
    assert_eq!(r.first_error("actor"), "A valid integer is required.");
}

#[tokio::test]
async fn audit_log_is_append_only() {
    let w = world().await;
    w.user("ann", UserType::Creator).await;
    for sql in [
        "UPDATE audit_events SET event = 'x'",
        "DELETE FROM audit_events",
    ] {
        let r = w.sql.run(Statement::plain(sql)).await;
        assert!(r.is_err(), "{sql} must fail");
    }
    // Operator (CLI) actions are recorded with no user or client.
    let r = w
        .sql
        .run(Statement::plain("SELECT event, actor_user_id, actor_client_id FROM audit_events WHERE event = 'user.created'"))
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0][1], gatehouse_core::sql::Value::Null);
}

#[tokio::test]
async fn openapi_document_has_every_admin_route_with_security() {
    let doc = serde_json::to_value(gatehouse_core::openapi::document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/admin/users/",
        "/api/admin/users/{id}/",
        "/api/admin/users/{id}/deactivate/",
        "/api/admin/users/{id}/reactivate/",
        "/api/admin/users/{id}/sessions/",
        "/api/admin/users/{id}/sessions/{session_id}/",
        "/api/admin/clients/",
        "/api/admin/clients/{client_id}/",
        "/api/admin/clients/{client_id}/rotate-key/",
        "/api/admin/clients/{client_id}/deactivate/",
        "/api/admin/clients/{client_id}/activate/",
        "/api/admin/clients/{client_id}/usage/",
        "/api/admin/usage/",
        "/api/admin/audit/",
    ] {
        let item = paths.get(p).unwrap_or_else(|| panic!("{p} missing"));
        for (_, op) in item.as_object().unwrap() {
            assert_eq!(
                op["security"],
                json!([{"api_key": [], "client_id": [], "bearer": []}]),
                "{p}"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "AdminUserOut",
        "AdminUserPage",
        "ClientWithKeyOut",
        "UsageSummaryOut",
        "AuditEventPage",
    ] {
        assert!(schemas.contains_key(s), "{s}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// The cost of usage counting on the request path, printed (run with
/// `cargo test --release -p gatehouse --test admin -- --ignored --nocapture usage_cost`).
#[tokio::test]
#[ignore]
async fn usage_cost() {
    use gatehouse_core::usage::{RequestKind, UsageAggregator};
    use std::time::Instant;
    let agg = UsageAggregator::default();
    let clients = [
        "cl_aaaaaaaaaaaaaaaaaaaaaa",
        "cl_bbbbbbbbbbbbbbbbbbbbbb",
        "cl_cccccccccccccccccccccc",
    ];
    let n = 1_000_000u32;
    let t = Instant::now();
    for i in 0..n {
        agg.record(
            clients[(i % 3) as usize],
            T0,
            200,
            RequestKind::Other,
            i64::from(i % 40),
        );
    }
    let record_ns = t.elapsed().as_nanos() as f64 / f64::from(n);

    let (w, access) = world_as("ann", UserType::Creator).await;
    let rounds = 3000u32;
    let t = Instant::now();
    for _ in 0..rounds {
        let r = w.gh.via(&w.web).profile(&access).await;
        assert_eq!(r.status, 200);
    }
    let handle_us = t.elapsed().as_micros() as f64 / f64::from(rounds);
    let t = Instant::now();
    let rows = w.gh.flush_usage().await.unwrap();
    let flush_one_us = t.elapsed().as_micros();
    // Many clients pending at once: one row each, one batch.
    let mut many = Vec::new();
    for i in 0..200 {
        many.push(
            w.gh.create_api_client(new_client(&format!("bench{i}"), "web", 10_000))
                .await
                .unwrap(),
        );
    }
    for c in &many {
        w.gh.via(c).anonymous_profile().await;
    }
    let t = Instant::now();
    let rows_many = w.gh.flush_usage().await.unwrap();
    let flush_many_us = t.elapsed().as_micros();
    let t = Instant::now();
    let empty = w.gh.flush_usage().await.unwrap();
    let flush_empty_ns = t.elapsed().as_nanos();
    println!(
        "usage_cost: record {record_ns:.0} ns/request; profile GET through handle() {handle_us:.1} µs/request \
         (counting = {:.3}% of it); flush of {rows} row(s) {flush_one_us} µs, of {rows_many} rows {flush_many_us} µs; \
         empty flush ({empty} rows) {flush_empty_ns} ns",
        record_ns / (handle_us * 1000.0) * 100.0
    );
}

// ------------------------------------------------ bounds (issue 11, item 1)

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

const OUT_OF_WINDOW: &str =
    "Enter a date/time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.";

/// Each of the issue's values on both usage routes: a 400 naming the
/// parameter, at once (today's main panics on overflow in a debug build and
/// allocates until OOM in a release build), and the server answers after.
#[tokio::test]
async fn usage_times_out_of_range_are_400_on_both_usage_routes() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let web_id = w.web.0.id.0.clone();
    for route in [
        "/api/admin/usage/".to_owned(),
        format!("/api/admin/clients/{web_id}/usage/"),
    ] {
        for (query, field) in [
            ("to=9223372036854775807", "to"),
            ("to=9223372036854775", "to"),
            ("to=253402300800", "to"),
            ("to=100000000000000", "to"),
            ("from=-9223372036854775808", "from"),
            ("from=9223372036854775807", "from"),
            ("to=-9223372036854775808", "to"),
            ("to=99999999999999999999999", "to"),
            ("from=-1", "from"),
            ("to=1969-12-31T23:59:59Z", "to"),
            ("to=9999-12-31T23:59:59-01:00", "to"),
            ("from=0000-01-01T00:00:00Z", "from"),
        ] {
            let path = format!("{route}?{query}");
            let r = w.assert_refused(&path, &staff, &[field]).await;
            assert_eq!(r.body[field], json!([OUT_OF_WINDOW]), "{path}");
        }
        // Both bad at once: both named.
        let path = format!("{route}?from=-9223372036854775808&to=9223372036854775807");
        w.assert_refused(&path, &staff, &["from", "to"]).await;
        // Still serving.
        let r = w.get(&route, &staff).await;
        assert_eq!(r.status, 200, "{route}: {}", r.body);
        assert_eq!(r.body["series"].as_array().unwrap().len(), 24, "{route}");
    }
}

/// The series never exceeds 31 × 24 + 1 buckets (hourly) or 366 + 1 (daily),
/// the window's last second is served in both forms, and one past it is not.
#[tokio::test]
async fn usage_series_length_is_bounded_and_the_window_edges_hold() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let (w, staff) = (&w, staff.as_str());
    let get = move |q: String| async move { w.get(&format!("/api/admin/usage/?{q}"), staff).await };
    let between = |from: i64, to: i64, extra: &str| get(format!("from={from}&to={to}{extra}"));
    let t0 = T0.as_secs();
    assert_eq!(t0 % 3600, 0);
    // Hourly: 31 days, from and to mid-hour → 745 buckets, the most.
    let r = between(t0 - 31 * 86400 + 1800, t0 + 1800, "&bucket=hour").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["series"].as_array().unwrap().len(), 31 * 24 + 1);
    // One second more is refused, not built.
    let r = between(t0 - 31 * 86400 + 1800, t0 + 1801, "&bucket=hour").await;
    assert_eq!(
        (r.status.as_u16(), keys(&r.body)),
        (400, vec!["bucket".to_owned()])
    );
    // Daily: 366 days, from mid-day → 367 buckets.
    let day0 = t0 - t0 % 86400;
    let r = between(day0 - 366 * 86400 + 43200, day0 + 43200, "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["bucket"], "day");
    assert_eq!(r.body["series"].as_array().unwrap().len(), 367);
    let r = between(day0 - 366 * 86400 + 43200, day0 + 43201, "").await;
    assert_eq!(
        (r.status.as_u16(), keys(&r.body)),
        (400, vec!["to".to_owned()])
    );
    // The last second of the window, as seconds and as RFC 3339.
    for to in [
        "253402300799",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999Z",
    ] {
        let r = get(format!("to={to}")).await;
        assert_eq!(r.status, 200, "{to}: {}", r.body);
        assert!(
            s(&r.body["to"]).starts_with("9999-12-31T23:59:59"),
            "{}",
            r.body
        );
        let series = r.body["series"].as_array().unwrap();
        assert_eq!(series.len(), 25, "{to}");
        assert_eq!(series[24]["start"], "9999-12-31T23:00:00Z");
    }
    // The first: 1970-01-01, in both forms.
    for (from, to) in [
        ("0", "3600"),
        ("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"),
    ] {
        let r = get(format!("from={from}&to={to}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let series = r.body["series"].as_array().unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0]["start"], "1970-01-01T00:00:00Z");
    }
    // 366 days ending at the window's last second are fine; a default
    // `from` before 1970 is clamped, and `to` at the epoch leaves no range.
    let r = get(format!(
        "from={}&to=253402300799",
        253_402_300_799_i64 - 366 * 86400
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["series"].as_array().unwrap().len() <= 367);
    let r = get("to=3600".into()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["from"], "1970-01-01T00:00:00Z");
    let r = get("to=0".into()).await;
    assert_eq!(
        (r.status.as_u16(), keys(&r.body)),
        (400, vec!["from".to_owned()])
    );
}

/// `limit` of the top clients: 1–100, anything else (extremes included) a
/// field error. (A regression guard: today's main already holds this.)
#[tokio::test]
async fn usage_limit_edges() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    for bad in [
        "0",
        "101",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "x",
    ] {
        let path = format!("/api/admin/usage/?limit={bad}");
        w.assert_refused(&path, &staff, &["limit"]).await;
    }
    for ok in ["1", "100"] {
        let path = format!("/api/admin/usage/?limit={ok}");
        let r = w.get(&path, &staff).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let n: usize = ok.parse().unwrap();
        assert!(r.body["top_clients"].as_array().unwrap().len() <= n);
    }
}

/// Pages whose offset cannot fit the database's integer are 404 before
/// any query; sizes are clamped; audit times obey the same window.
#[tokio::test]
async fn list_paging_extremes_and_audit_times() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    for list in ["users", "clients", "audit"] {
        for q in [
            "page=18446744073709551615",
            "page=18446744073709551616",
            "page=9223372036854775808&page_size=2",
            "page=9223372036854775807&page_size=200",
            "page=0",
            "page=-1",
        ] {
            let path = format!("/api/admin/{list}/?{q}");
            let r = w.get(&path, &staff).await;
            assert_eq!(r.status, 404, "{path}: {}", r.body);
            assert_eq!(r.body["detail"], "Invalid page.", "{path}");
        }
        for (q, want) in [
            ("page_size=18446744073709551615", 200),
            ("page_size=99999999999999999999", 50),
            ("page_size=0", 50),
            ("page_size=-3", 50),
        ] {
            let path = format!("/api/admin/{list}/?{q}");
            let r = w.get(&path, &staff).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            let n = r.body["results"].as_array().unwrap().len();
            assert!(n <= want, "{path}: {n} > {want}");
            assert_eq!(r.body["next"], Value::Null, "{path}");
        }
    }
    for (q, field) in [
        ("to=9223372036854775807", "to"),
        ("from=-9223372036854775808", "from"),
        ("to=253402300800", "to"),
        ("actor=9223372036854775808", "actor"),
    ] {
        let path = format!("/api/admin/audit/?{q}");
        w.assert_refused(&path, &staff, &[field]).await;
    }
    let r = w
        .get(
            "/api/admin/audit/?from=0&to=253402300799&actor=9223372036854775807",
            &staff,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A user can pile up logins; the (unpaged) admin list of them stops at
/// the 200 newest.
#[tokio::test]
async fn admin_session_list_is_capped_at_the_newest_200() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let ann = w.user("ann", UserType::Creator).await;
    let mut newest = String::new();
    for _ in 0..205 {
        w.clock.advance_millis(1);
        let r = w.login_via(&w.web, "ann").await;
        assert_eq!(r.status, 200, "{}", r.body);
        newest = s(&r.body["refresh"]);
    }
    assert!(!newest.is_empty());
    let path = format!("/api/admin/users/{}/sessions/", ann.id.0);
    let r = w.get(&path, &staff).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 200);
    let at = |i: usize| s(&list[i]["created_at"]);
    assert!(at(0) > at(199), "newest first: {} vs {}", at(0), at(199));
    // Ending them all still reaches every one.
    let r = w.delete(&path, &staff).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["ended"], 205);
}

/// Item 12: `https://` anywhere, `*`, and plain `http://` only on loopback
/// hosts, through the admin API (create and update) and the operator path
/// the CLI uses.
#[tokio::test]
async fn client_origins_allow_plain_http_only_on_loopback() {
    let (w, staff) = world_as("staffer", UserType::Staff).await;
    let create = |origins: Value| {
        let body = json!({"name": "Site", "client_type": "web", "rate_limit": 10, "allowed_origins": origins});
        w.post("/api/admin/clients/", body, &staff)
    };
    for bad in [
        "http://evil.example",
        "http://evil.example:3000",
        "http://localhost.evil.example",
        "http://127.0.0.2",
        "https://evil.example/",
        "https://",
        "javascript://x",
    ] {
        let r = create(json!([bad])).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(keys(&r.body), ["allowed_origins"], "{bad}: {}", r.body);
    }
    let r = create(json!(["http://evil.example"])).await;
    assert!(
        s(r.first_error("allowed_origins")).contains("plain http:// only for localhost"),
        "{}",
        r.body
    );
    let good = json!([
        "http://localhost:3000",
        "http://localhost",
        "http://127.0.0.1:8000",
        "http://[::1]:5173",
        "https://app.example.com",
        "https://app.example.com:8443",
        "*"
    ]);
    let r = create(good.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["allowed_origins"], good);
    let id = s(&r.body["client_id"]);
    let path = format!("/api/admin/clients/{id}/");
    let patch_origins = |o: Value| w.patch(&path, json!({ "allowed_origins": o }), &staff);
    let r = patch_origins(json!(["http://evil.example"])).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(keys(&r.body), ["allowed_origins"]);
    let r = patch_origins(json!(["http://127.0.0.1:9000"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The operator path (`create-api-client --origins`).
    let mut bad = new_client("cli", "web", 10);
    bad.allowed_origins = vec!["http://evil.example".into()];
    let e = w.gh.create_api_client(bad).await.unwrap_err();
    assert!(e.to_string().contains("origins"), "{e}");
    let mut ok = new_client("cli", "web", 10);
    ok.allowed_origins = vec![
        "http://localhost:8000".into(),
        "http://127.0.0.1:5101".into(),
    ];
    w.gh.create_api_client(ok).await.unwrap();
}
