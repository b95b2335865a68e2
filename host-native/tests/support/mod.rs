//! The in-process test harness shared by the tests in this folder: the
//! core's service over the native host's executor on an embedded libSQL
//! file, with the core's test kit (`gatehouse_core::testing`: fake clock,
//! seeded randomness, cheap Argon2).
#![allow(dead_code)]

pub mod binary;

use bytes::Bytes;
use gatehouse::db::LibsqlExecutor;
use gatehouse_core::api_client::{ApiClient, ApiKey, NewApiClient};
use gatehouse_core::clock::FixedClock;
use gatehouse_core::service::ClientIp;
use gatehouse_core::testing::TestEnv;
use gatehouse_core::user::{NewUser, User, UserType};
use gatehouse_core::{Config, Gatehouse};
use http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

pub struct World {
    pub gh: Gatehouse,
    pub clock: Arc<FixedClock>,
    pub client: (ApiClient, ApiKey),
    pub _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: http::HeaderMap,
}

impl Reply {
    /// The first message of the field error on `field`.
    pub fn first_error(&self, field: &str) -> &Value {
        &self.body[field][0]
    }
    /// The answer is the error `status` with `code`.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["code"], code, "{}", self.body);
    }
}

/// A started service over a fresh embedded database, with its fake clock,
/// its executor (for tests that look at the tables) and the folder that
/// holds the file.
pub struct Service {
    pub gh: Gatehouse,
    pub clock: Arc<FixedClock>,
    pub sql: Arc<LibsqlExecutor>,
    pub dir: tempfile::TempDir,
}

/// Starts the service at [`T0`] with seeded randomness and cheap Argon2;
/// `extra` may add routes before the service is shared.
pub async fn service(config: Config, extra: impl FnOnce(Gatehouse) -> Gatehouse) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let sql = open(&dir).await;
    gatehouse_core::schema::migrate(sql.as_ref()).await.unwrap();
    let t = TestEnv::with_sql(sql.clone());
    let gh = extra(t.start(config).await);
    Service {
        gh,
        clock: t.clock,
        sql,
        dir,
    }
}

impl Service {
    /// A [`World`] on this service with a fresh web client (its own empty
    /// folder: the service keeps the database's).
    pub async fn web_world(&self) -> World {
        let client = self
            .gh
            .create_api_client(web_client("web", 10_000))
            .await
            .unwrap();
        World {
            gh: self.gh.clone(),
            clock: self.clock.clone(),
            client,
            _dir: tempfile::tempdir().unwrap(),
        }
    }
}

/// The native executor on `dir`'s database file (`gh.db`), created if
/// missing: a second one on the same file is a restart.
pub async fn open(dir: &tempfile::TempDir) -> Arc<LibsqlExecutor> {
    let path = dir.path().join("gh.db");
    Arc::new(
        LibsqlExecutor::open(path.to_str().unwrap(), None)
            .await
            .unwrap(),
    )
}

pub async fn world_with(config: Config, extra: impl FnOnce(Gatehouse) -> Gatehouse) -> World {
    let Service { gh, clock, dir, .. } = service(config, extra).await;
    let client = gh
        .create_api_client(web_client("web", 10_000))
        .await
        .unwrap();
    World {
        gh,
        clock,
        client,
        _dir: dir,
    }
}

pub async fn world() -> World {
    world_with(Config::default(), |g| g).await
}

pub fn web_client(name: &str, rate_limit: u32) -> NewApiClient {
    NewApiClient {
        name: name.into(),
        client_type: "web".into(),
        rate_limit,
        serves: None,
        allowed_origins: vec![],
        is_active: true,
        email: Default::default(),
        require_mfa_for_staff: None,
    }
}

/// Creates `name@example.com` (username `name`) of type `t` with
/// [`PASSWORD`], as `create-user` does.
pub async fn create_user(gh: &Gatehouse, name: &str, t: UserType) -> User {
    gh.create_user(NewUser {
        email: format!("{name}@example.com"),
        username: name.into(),
        first_name: String::new(),
        last_name: String::new(),
        user_type: t,
        password: PASSWORD.into(),
    })
    .await
    .unwrap()
}

/// Sends one request through `gh` as `client` (its API key headers), with
/// an optional bearer token and JSON body, from the fixed address 192.0.2.1.
pub async fn send(
    gh: &Gatehouse,
    client: &(ApiClient, ApiKey),
    method: Method,
    path: &str,
    body: Option<Value>,
    bearer: Option<&str>,
) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("x-api-key", client.1 .0.as_str())
        .header("x-client-id", client.0.id.0.as_str());
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    let mut req = b.body(body).unwrap();
    req.extensions_mut()
        .insert(ClientIp("192.0.2.1".parse().unwrap()));
    let resp = gh.handle(req).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

/// An API client (its record and key).
pub type Client = (ApiClient, ApiKey);

/// One client's calls into the service, each short enough for one line.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    gh: &'a Gatehouse,
    client: &'a Client,
}

/// `gh.via(&client)`: the calls below as that client.
pub trait Via {
    fn via<'a>(&'a self, client: &'a Client) -> Caller<'a>;
}

impl Via for Gatehouse {
    fn via<'a>(&'a self, client: &'a Client) -> Caller<'a> {
        Caller { gh: self, client }
    }
}

// By value (a `Caller` is two references): the futures then outlive a
// temporary `gh.via(..)`.
impl Caller<'_> {
    pub async fn call(
        self,
        method: Method,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
    ) -> Reply {
        send(self.gh, self.client, method, path, body, bearer).await
    }
    pub async fn get(self, path: &str, access: &str) -> Reply {
        self.call(Method::GET, path, None, Some(access)).await
    }
    pub async fn delete(self, path: &str, access: &str) -> Reply {
        self.call(Method::DELETE, path, None, Some(access)).await
    }
    /// An anonymous POST of `body`.
    pub async fn post(self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body), None).await
    }
    pub async fn post_as(self, path: &str, body: Value, access: &str) -> Reply {
        self.call(Method::POST, path, Some(body), Some(access))
            .await
    }
    /// A POST without a body.
    pub async fn post_empty_as(self, path: &str, access: &str) -> Reply {
        self.call(Method::POST, path, None, Some(access)).await
    }
    pub async fn patch_as(self, path: &str, body: Value, access: &str) -> Reply {
        self.call(Method::PATCH, path, Some(body), Some(access))
            .await
    }
    /// The profile without a token (a 401 unless throttled).
    pub async fn anonymous_profile(self) -> Reply {
        self.call(Method::GET, "/api/auth/profile/", None, None)
            .await
    }
    pub async fn profile(self, access: &str) -> Reply {
        self.get("/api/auth/profile/", access).await
    }
    pub async fn login(self, email: &str, password: &str) -> Reply {
        let body = json!({"email": email, "password": password});
        self.post("/api/auth/token/", body).await
    }
    /// Registers `name@example.com` (username `name`) with [`PASSWORD`];
    /// panics unless 201.
    pub async fn register(self, name: &str) -> Reply {
        let email = format!("{name}@example.com");
        let body =
            json!({"email": email, "username": name, "password": PASSWORD, "password2": PASSWORD});
        let r = self.post("/api/auth/register/", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r
    }
    pub async fn refresh(self, token: &str) -> Reply {
        let body = json!({ "refresh": token });
        self.post("/api/auth/token/refresh/", body).await
    }
}

impl World {
    /// The calls as this world's web client.
    pub fn api(&self) -> Caller<'_> {
        self.gh.via(&self.client)
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Reply {
        self.api().get(path, bearer).await
    }

    pub async fn delete(&self, path: &str, bearer: &str) -> Reply {
        self.api().delete(path, bearer).await
    }

    pub async fn register(&self, name: &str) -> Reply {
        self.api().register(name).await
    }

    pub async fn refresh(&self, token: &str) -> Reply {
        self.api().refresh(token).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.api().login(email, password).await
    }
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap().to_owned()
}

/// Extension: the fake clock's time in ms.
pub trait ClockMs {
    fn now_ms(&self) -> i64;
}

impl ClockMs for Arc<FixedClock> {
    fn now_ms(&self) -> i64 {
        use gatehouse_core::clock::Clock;
        self.now().0
    }
}
