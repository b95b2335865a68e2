//! The one HTTP surface: a host hands in an `http::Request<Bytes>` and gets
//! an `http::Response<Bytes>` back. Routing, the API-client gate, CORS and
//! the per-client rate limit live here; endpoints live in [`crate::api`].

use crate::api_client::{key_hash, ApiClient};
use crate::clock::UnixMillis;
use crate::config::{Config, SigningConfig};
use crate::env::Env;
use crate::error::ApiError;
use crate::permission::Permission;
use crate::rate_limit::{Quota, RateDecision};
use crate::store::Store;
use crate::token::{SessionId, SigningKey, TokenCodec, TokenType};
use crate::usage::RequestKind;
use crate::user::User;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The caller's IP address, put into the request's extensions by the host
/// (socket peer natively, `CF-Connecting-IP` on the Worker). Used for the
/// per-IP failed-login throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Failure to start the service (database unreachable, bad key config).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
    #[error("signing key: {0}")]
    Key(String),
}

/// A boxed future: `Send` natively, not on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// A boxed future: `Send` natively, not on wasm32.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What an embedder's route handler receives: the request, the client that
/// made it, and the authenticated user (None only under `AllowAny`).
pub struct RouteRequest {
    pub request: Request<Bytes>,
    pub client: ApiClient,
    pub user: Option<User>,
}

/// An embedder's route handler.
#[cfg(not(target_arch = "wasm32"))]
pub type RouteHandler =
    Arc<dyn Fn(RouteRequest) -> BoxFuture<Result<Response<Bytes>, ApiError>> + Send + Sync>;
/// An embedder's route handler.
#[cfg(target_arch = "wasm32")]
pub type RouteHandler = Arc<dyn Fn(RouteRequest) -> BoxFuture<Result<Response<Bytes>, ApiError>>>;

pub(crate) struct CustomRoute {
    pub(crate) path: String,
    pub(crate) method: Method,
    pub(crate) guard: Box<dyn Permission>,
    pub(crate) handler: RouteHandler,
}

/// The built-in routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Register,
    Token,
    Refresh,
    Logout,
    Profile,
    ChangePassword,
    Sessions,
    /// `/api/auth/sessions/{id}/`
    Session(String),
    LogoutAll,
    /// `/api/admin/…`
    Admin(crate::admin::AdminRoute),
    Schema,
    Health,
    Jwks,
    Custom(usize),
}

const POST: &[Method] = &[Method::POST];
const GET: &[Method] = &[Method::GET];
const PROFILE: &[Method] = &[Method::GET, Method::PUT, Method::PATCH];
const DELETE: &[Method] = &[Method::DELETE];

/// The built-in route table: path → (route, allowed methods).
fn builtin_route(path: &str) -> Option<(Route, &'static [Method])> {
    Some(match path {
        "/api/auth/register/" => (Route::Register, POST),
        "/api/auth/token/" => (Route::Token, POST),
        "/api/auth/token/refresh/" => (Route::Refresh, POST),
        "/api/auth/logout/" => (Route::Logout, POST),
        "/api/auth/profile/" => (Route::Profile, PROFILE),
        "/api/auth/change-password/" => (Route::ChangePassword, POST),
        "/api/auth/sessions/" => (Route::Sessions, GET),
        "/api/auth/logout-all/" => (Route::LogoutAll, POST),
        "/api/schema/" => (Route::Schema, GET),
        "/healthz" => (Route::Health, GET),
        "/.well-known/jwks.json" => (Route::Jwks, GET),
        _ => {
            if let Some(rest) = path.strip_prefix("/api/admin/") {
                let (route, methods) = crate::admin::admin_route(rest)?;
                return Some((Route::Admin(route), methods));
            }
            let id = path
                .strip_prefix("/api/auth/sessions/")?
                .strip_suffix('/')?;
            if id.is_empty() || id.contains('/') {
                return None;
            }
            (Route::Session(id.to_owned()), DELETE)
        }
    })
}

/// `/api/v1/…` is the same API as `/api/…`; a future `/api/v2/` can differ.
fn normalize_path(path: &str) -> String {
    match path.strip_prefix("/api/v1/") {
        Some(rest) => format!("/api/{rest}"),
        None => path.to_owned(),
    }
}

/// The Gatehouse service. Cheap to clone; share one per process/isolate.
#[derive(Clone)]
pub struct Gatehouse {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) env: Env,
    pub(crate) store: Store,
    pub(crate) codec: TokenCodec,
    /// Verified when the email is unknown, so a miss costs what a hit costs.
    pub(crate) dummy_hash: String,
    pub(crate) routes: Vec<CustomRoute>,
    /// Usage counted since the last [`Gatehouse::flush_usage`].
    pub(crate) usage: crate::usage::UsageAggregator,
    /// Off only to measure what counting costs (see `without_usage_counting`).
    pub(crate) count_usage: bool,
}

/// An authenticated caller.
pub(crate) struct Caller {
    pub(crate) user: User,
    /// The login the access token belongs to.
    pub(crate) sid: SessionId,
}

/// What every endpoint gets once the gate has passed.
pub(crate) struct Ctx<'a> {
    pub(crate) req: &'a Request<Bytes>,
    pub(crate) client: ApiClient,
    pub(crate) now: UnixMillis,
}

impl Ctx<'_> {
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.req.extensions().get::<ClientIp>().map(|c| c.0)
    }
    /// The audit actor of this request: `user` through this client from this IP.
    pub(crate) fn actor(&self, user: Option<crate::user::UserId>) -> crate::audit::Actor {
        crate::audit::Actor {
            user,
            client: Some(self.client.id.clone()),
            ip: self.ip().map(|ip| ip.to_string()),
        }
    }
    /// An audit event of this request by `user`, at the request's time.
    pub(crate) fn audit(
        &self,
        event: &'static str,
        user: Option<crate::user::UserId>,
    ) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(event, &self.actor(user), self.now)
    }
    pub(crate) fn user_agent(&self) -> Option<String> {
        self.req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect())
    }
}

impl Gatehouse {
    /// Builds the service over a migrated database: loads (or, on first
    /// start, creates) the signing key.
    pub async fn start(config: Config, env: Env) -> Result<Gatehouse, StartError> {
        let store = Store::new(env.sql.clone());
        let now = env.clock.now();
        let key = match &config.signing {
            SigningConfig::Hs256 { secret } => SigningKey::hs256(secret),
            SigningConfig::EdDsa {
                private_key: Some(k),
            } => SigningKey::ed25519_from_base64(k),
            SigningConfig::EdDsa { private_key: None } => {
                let candidate: [u8; 32] = crate::random::bytes(env.random.as_ref());
                let seed = store.signing_key("EdDSA", candidate.to_vec(), now).await?;
                SigningKey::ed25519_from_bytes(&seed)
            }
        }
        .map_err(|e| StartError::Key(e.0))?;
        let codec = TokenCodec::new(key, config.issuer.clone(), config.audience.clone());
        let salt: [u8; 16] = crate::random::bytes(env.random.as_ref());
        let dummy_password = crate::token::new_jti(env.random.as_ref());
        let dummy_hash = crate::password::hash_password(config.argon2, &dummy_password, salt)
            .map_err(|e| StartError::Key(e.to_string()))?;
        Ok(Gatehouse {
            inner: Arc::new(Inner {
                config,
                env,
                store,
                codec,
                dummy_hash,
                routes: Vec::new(),
                usage: Default::default(),
                count_usage: true,
            }),
        })
    }

    /// Adds an embedder's route behind the API-client gate and a guard:
    /// `gh.route(Method::GET, "/api/reports/", IsStaffUser, handler)`.
    /// Call before sharing the service (clones made earlier don't see it).
    pub fn route(
        mut self,
        method: Method,
        path: &str,
        guard: impl Permission + 'static,
        handler: RouteHandler,
    ) -> Self {
        let inner = Arc::get_mut(&mut self.inner)
            .expect("Gatehouse::route must be called before the service is cloned");
        inner.routes.push(CustomRoute {
            path: path.to_owned(),
            method,
            guard: Box::new(guard),
            handler,
        });
        self
    }

    /// Stops counting usage (analytics then show no traffic). For measuring
    /// its cost on a benchmark only; call before the service is cloned.
    pub fn without_usage_counting(mut self) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("without_usage_counting must be called before the service is cloned")
            .count_usage = false;
        self
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn env(&self) -> &Env {
        &self.inner.env
    }

    pub(crate) fn codec(&self) -> &TokenCodec {
        &self.inner.codec
    }

    /// The 413 response for a body over [`crate::config::MAX_BODY_BYTES`].
    /// Hosts that stop reading early should rather mark the request with
    /// [`crate::json::BodyTooLarge`], so the 413 comes in the contract's order.
    pub fn payload_too_large() -> Response<Bytes> {
        ApiError::payload_too_large(crate::config::MAX_BODY_BYTES).into_response()
    }

    /// A JSON error response for a host-level failure (a body that did not
    /// arrive in time, a broken connection), in the same shape as the core's.
    pub fn host_error(status: StatusCode, code: &'static str, detail: &str) -> Response<Bytes> {
        ApiError::detail(status, code, detail).into_response()
    }

    /// Serves one request. Never panics on bad input; every error is a JSON body.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let now = self.inner.env.clock.now();
        let path = normalize_path(req.uri().path());
        let origin = header_str(req.headers(), header::ORIGIN.as_str()).map(str::to_owned);

        if req.method() == Method::OPTIONS
            && origin.is_some()
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return self.preflight(origin.as_deref().unwrap_or_default()).await;
        }

        let (route, allowed) = match self.find_route(&path, req.method()) {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        };
        if !allowed.contains(req.method()) {
            return ApiError::method_not_allowed(req.method(), &allowed).into_response();
        }
        match route {
            Route::Health => return self.health().await,
            Route::Jwks => return self.jwks(),
            Route::Schema => return crate::openapi::schema_response(&req),
            _ => {}
        }

        let client = match self.gate(&req).await {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        };
        // Usage is counted for every request that passed the key check: an
        // in-memory add, written to the database later by `flush_usage`.
        let counted = self.inner.count_usage.then(|| {
            let kind = match route {
                Route::Token => RequestKind::Login,
                Route::Register => RequestKind::Register,
                Route::Refresh => RequestKind::Refresh,
                _ => RequestKind::Other,
            };
            (client.id.0.clone(), kind)
        });
        let resp = self.serve_client(req, route, client, origin, now).await;
        if let Some((client_id, kind)) = counted {
            let end = self.inner.env.clock.now();
            self.inner
                .usage
                .record(&client_id, end, resp.status().as_u16(), kind, end.0 - now.0);
        }
        resp
    }

    /// Everything after the API-key gate: origin, rate limit, the route.
    async fn serve_client(
        &self,
        req: Request<Bytes>,
        route: Route,
        client: ApiClient,
        origin: Option<String>,
        now: UnixMillis,
    ) -> Response<Bytes> {
        if let Some(o) = &origin {
            if !client.allows_origin(o) {
                return ApiError::detail(
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    "This origin is not allowed for this API client.",
                )
                .into_response();
            }
        }
        let quota = Quota {
            limit: client.rate_limit,
            period_secs: client.rate_period_secs,
        };
        let decision = self
            .inner
            .env
            .rate_limits
            .check(&format!("client:{}", client.id), quota, now, true)
            .await;
        let decision = match decision {
            Ok(d) => d,
            Err(e) => return ApiError::from(e).into_response(),
        };
        let mut resp = match decision {
            d if !d.allowed => ApiError::throttled("throttled", d.retry_after_secs).into_response(),
            _ => match route {
                Route::Custom(i) => self.custom(i, req, client).await,
                _ => {
                    let ctx = Ctx {
                        req: &req,
                        client,
                        now,
                    };
                    self.builtin(&route, &ctx).await
                }
            }
            .unwrap_or_else(ApiError::into_response),
        };
        add_rate_headers(resp.headers_mut(), &decision);
        if let Some(o) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
            let h = resp.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(
                    "retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset",
                ),
            );
        }
        resp
    }

    fn find_route(&self, path: &str, method: &Method) -> Result<(Route, Vec<Method>), ApiError> {
        if let Some((route, allowed)) = builtin_route(path) {
            return Ok((route, allowed.to_vec()));
        }
        let matching: Vec<(usize, &CustomRoute)> = self
            .inner
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.path == path)
            .collect();
        if matching.is_empty() {
            return Err(ApiError::not_found());
        }
        let allowed: Vec<Method> = matching.iter().map(|(_, r)| r.method.clone()).collect();
        let index = matching
            .iter()
            .find(|(_, r)| r.method == method)
            .map_or(matching[0].0, |(i, _)| *i);
        Ok((Route::Custom(index), allowed))
    }

    async fn builtin(&self, route: &Route, ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
        match route {
            Route::Register => self.register(ctx).await,
            Route::Token => self.login(ctx).await,
            Route::Refresh => self.refresh(ctx).await,
            Route::Logout => self.logout(ctx).await,
            Route::Profile => self.profile(ctx).await,
            Route::ChangePassword => self.change_password(ctx).await,
            Route::Sessions => self.list_sessions(ctx).await,
            Route::Session(id) => self.end_session(ctx, id).await,
            Route::LogoutAll => self.logout_all(ctx).await,
            Route::Admin(r) => self.admin(r, ctx).await,
            Route::Schema | Route::Health | Route::Jwks | Route::Custom(_) => {
                Err(ApiError::not_found())
            }
        }
    }

    async fn custom(
        &self,
        index: usize,
        req: Request<Bytes>,
        client: ApiClient,
    ) -> Result<Response<Bytes>, ApiError> {
        let route = self
            .inner
            .routes
            .get(index)
            .ok_or_else(ApiError::not_found)?;
        let now = self.inner.env.clock.now();
        let user = if req.headers().contains_key(header::AUTHORIZATION) {
            Some(self.authenticate(&req, now).await?.user)
        } else {
            None
        };
        if !route.guard.has_permission(user.as_ref()) {
            return Err(if user.is_none() {
                ApiError::not_authenticated()
            } else {
                ApiError::permission_denied()
            });
        }
        (route.handler)(RouteRequest {
            request: req,
            client,
            user,
        })
        .await
    }

    /// Checks `X-API-Key` + `X-Client-ID` and returns the active client.
    async fn gate(&self, req: &Request<Bytes>) -> Result<ApiClient, ApiError> {
        let key = header_str(req.headers(), "x-api-key");
        let id = header_str(req.headers(), "x-client-id");
        let (Some(key), Some(id)) = (key, id) else {
            return Err(ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "api_key_missing",
                "API key and client ID headers are required (X-API-Key, X-Client-ID).",
            ));
        };
        let invalid = || {
            ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "api_key_invalid",
                "Invalid API key or client ID.",
            )
        };
        let presented = key_hash(key);
        let client = if id.len() <= 64 {
            self.inner.store.client(id).await?
        } else {
            None
        };
        let Some(client) = client else {
            return Err(invalid());
        };
        if !bool::from(presented.as_bytes().ct_eq(client.key_hash.as_bytes())) {
            return Err(invalid());
        }
        if !client.is_active {
            return Err(ApiError::detail(
                StatusCode::FORBIDDEN,
                "client_inactive",
                "This API client is inactive.",
            ));
        }
        Ok(client)
    }

    /// The user behind `Authorization: Bearer <access>`.
    pub(crate) async fn authenticate(
        &self,
        req: &Request<Bytes>,
        now: UnixMillis,
    ) -> Result<Caller, ApiError> {
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return Err(ApiError::not_authenticated());
        };
        let value = value.to_str().map_err(|_| ApiError::token_not_valid())?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::token_not_valid()),
        };
        let verified = self
            .inner
            .codec
            .verify(token, TokenType::Access, now)
            .ok_or_else(ApiError::token_not_valid)?;
        let claims = verified.claims;
        match self
            .inner
            .store
            .user_in_session(claims.user_id, &claims.sid, now)
            .await?
        {
            Some(user) if user.is_active => Ok(Caller {
                user,
                sid: claims.sid,
            }),
            _ => Err(ApiError::token_not_valid()),
        }
    }

    async fn preflight(&self, origin: &str) -> Response<Bytes> {
        match self.inner.store.origin_allowed_by_any(origin).await {
            Ok(true) => {
                let mut resp = Response::new(Bytes::new());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                let h = resp.headers_mut();
                if let Ok(o) = HeaderValue::from_str(origin) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
                }
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type, x-api-key, x-client-id"),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
                h.insert(header::VARY, HeaderValue::from_static("Origin"));
                resp
            }
            Ok(false) => ApiError::detail(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This origin is not allowed by any API client.",
            )
            .into_response(),
            Err(e) => ApiError::from(e).into_response(),
        }
    }

    async fn health(&self) -> Response<Bytes> {
        match self.inner.store.ping().await {
            Ok(()) => {
                crate::error::json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
            }
            Err(e) => ApiError::from(e).into_response(),
        }
    }

    fn jwks(&self) -> Response<Bytes> {
        let mut resp = crate::error::json_response(StatusCode::OK, &self.inner.codec.key().jwks());
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        resp
    }
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
}

fn add_rate_headers(h: &mut HeaderMap, d: &RateDecision) {
    h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(d.reset_after_secs));
}
