//! The one HTTP surface: a host hands in an `http::Request<Bytes>` and gets
//! an `http::Response<Bytes>` back. Routing, the API-client gate, CORS and
//! the per-client rate limit live here; endpoints live in [`crate::api`].

use crate::api_client::{key_hash, ApiClient};
use crate::clock::UnixMillis;
use crate::config::{Config, SigningConfig};
use crate::context::{authenticate, verified_access, Admission, Ctx, Shared};
use crate::env::Env;
use crate::error::ApiError;
use crate::permission::{IsStaffUser, Permission};
use crate::rate_limit::{Quota, RateDecision};
use crate::routes::{Found, Guard, Meta, Route, Serve};
use crate::store::Store;
use crate::token::{KeyRing, SigningKey, TokenCodec};
use crate::usage::RequestKind;
use crate::user::User;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub use crate::context::ClientIp;

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
    pub(crate) shared: Shared,
    pub(crate) routes: Vec<CustomRoute>,
    /// Off only to measure what counting costs (see `without_usage_counting`).
    pub(crate) count_usage: bool,
}

/// Put on a response by a handler that wrote no audit event, so no webhook
/// message (the audit trigger's fan-out): the host's outbox sender is not
/// cued. A refresh's rotation is one, and the most frequent write; its cue
/// cost a claim pass (an UPDATE on the outbox) per refresh.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoEvent;

/// Where a request goes: a built-in route (with its path parameters) or an
/// embedder's.
enum Target<'p> {
    Builtin(&'static Route, Vec<&'p str>),
    Custom(usize),
}

impl Gatehouse {
    /// Builds the service over a migrated database: loads (or, on first
    /// start, creates) the signing key.
    pub async fn start(config: Config, env: Env) -> Result<Gatehouse, StartError> {
        let store = Store::new(env.sql.clone());
        let now = env.clock.now();
        let ring = match (&config.signing, crate::keys::managed_alg(&config)) {
            (_, Some(alg)) => crate::keys::load(&store, alg, env.random.as_ref(), now)
                .await
                .map_err(|e| match e {
                    crate::keys::KeysError::Sql(e) => StartError::Sql(e),
                    e => StartError::Key(e.to_string()),
                })?,
            (SigningConfig::Hs256 { secret: Some(s) }, None) => KeyRing::new(
                SigningKey::hs256(s).map_err(|e| StartError::Key(e.0))?,
                vec![],
            ),
            (
                SigningConfig::EdDsa {
                    private_key: Some(k),
                },
                None,
            ) => KeyRing::new(
                SigningKey::ed25519_from_base64(k).map_err(|e| StartError::Key(e.0))?,
                vec![],
            ),
            (_, None) => return Err(StartError::Key("no signing key".into())),
        };
        let codec = TokenCodec::with_ring(ring, config.issuer.clone(), config.audience.clone());
        let salt: [u8; 16] = crate::random::bytes(env.random.as_ref());
        let dummy_password = crate::token::new_jti(env.random.as_ref());
        let dummy_hash = crate::password::hash_password(config.argon2, &dummy_password, salt)
            .map_err(|e| StartError::Key(e.to_string()))?;
        Ok(Gatehouse {
            inner: Arc::new(Inner {
                shared: Shared {
                    config,
                    env,
                    store,
                    codec,
                    key_cache: crate::keys::KeyCache::loaded(now),
                    dummy_hash,
                    usage: Default::default(),
                    mail_queued: Default::default(),
                    event_queued: Default::default(),
                },
                routes: Vec::new(),
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
        &self.inner.shared.config
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The host's clock, for operator commands (not requests: those read
    /// it once in [`Gatehouse::handle`]).
    pub(crate) fn now(&self) -> UnixMillis {
        self.shared().env.clock.now()
    }

    /// Writes the usage counted in memory since the last flush to
    /// `usage_hourly`, in one batch; returns how many (client, hour) rows it
    /// added to. Cheap when nothing is pending (no database call). On
    /// failure the counts are kept for the next flush.
    ///
    /// The native host calls this every few seconds and at shutdown; the
    /// Worker after each response (`wait_until`).
    pub async fn flush_usage(&self) -> Result<usize, crate::sql::SqlError> {
        crate::usage::flush(&self.shared().store, &self.shared().usage).await
    }

    /// Every signing key in life order (no secrets): `gatehouse keys list`.
    pub async fn list_keys(&self) -> Result<Vec<crate::keys::KeyInfo>, crate::sql::SqlError> {
        crate::keys::list(&self.shared().store).await
    }

    /// Rotates the signing keys as the operator (`gatehouse keys rotate`);
    /// the keys afterwards.
    pub async fn rotate_keys(&self) -> Result<Vec<crate::keys::KeyInfo>, crate::keys::KeysError> {
        let actor = crate::audit::Actor::operator();
        self.shared().keys().rotate(self.now(), &actor).await?;
        Ok(self.list_keys().await?)
    }

    /// One pass of the key schedule (`keys::maintain`) at the host's clock,
    /// or at `at` (`gatehouse keys maintain --now`, for drills and tests).
    /// The native host runs it on a timer, the Worker from its cron.
    pub async fn maintain_keys(
        &self,
        at: Option<UnixMillis>,
    ) -> Result<crate::keys::Maintenance, crate::keys::KeysError> {
        self.shared()
            .keys()
            .maintain(at.unwrap_or_else(|| self.now()))
            .await
    }

    /// [`Gatehouse::maintain_keys`] at most once a minute on this host
    /// (None when not due): the Worker runs it after responses, so the
    /// schedule holds even where its Cron Trigger does not fire.
    pub async fn maintain_keys_if_due(
        &self,
    ) -> Option<Result<crate::keys::Maintenance, crate::keys::KeysError>> {
        self.shared().keys().maintain_if_due(self.now()).await
    }

    /// Whether a request queued a mail since the last call (and clears it):
    /// the host's cue to run its mail sender now.
    pub fn take_mail_queued(&self) -> bool {
        self.shared()
            .mail_queued
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// Whether a request may have queued a webhook message since the last
    /// call (and clears it): every request with an unsafe method through
    /// the API-key gate (events are audit events, written by the trigger
    /// of migration 12 where the handler cannot see them). The host's cue
    /// to run [`Gatehouse::deliver_webhooks`] now.
    pub fn take_event_queued(&self) -> bool {
        self.shared()
            .event_queued
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// One pass of the webhook sender (`webhook/sender.rs`) through the
    /// host's HTTP client (`Env::http`, under the outbound policy): claims
    /// due webhook rows, signs, POSTs, records each attempt. Run it again
    /// while [`DeliveryReport::full`].
    ///
    /// [`DeliveryReport::full`]: crate::mail::sender::DeliveryReport::full
    pub async fn deliver_webhooks(
        &self,
    ) -> Result<crate::mail::sender::DeliveryReport, crate::sql::SqlError> {
        let s = self.shared();
        crate::webhook::sender::deliver(
            s.env.sql.as_ref(),
            s.env.http.as_ref(),
            s.config.data_key.as_ref(),
            s.config.mail_retry_secs.saturating_mul(1000),
            s.env.random.as_ref(),
            s.env.clock.as_ref(),
        )
        .await
    }

    /// One pass of the mail sender (`mail/sender.rs`) at the host's clock:
    /// claims due outbox rows, sends them through `transport` as the
    /// configured `mail_from`, records each outcome. Hosts run it on a
    /// timer, and at once when [`Gatehouse::take_mail_queued`] says so;
    /// run it again while [`DeliveryReport::full`].
    ///
    /// [`DeliveryReport::full`]: crate::mail::sender::DeliveryReport::full
    pub async fn deliver_mail(
        &self,
        transport: &dyn crate::mail::sender::MailTransport,
    ) -> Result<crate::mail::sender::DeliveryReport, crate::sql::SqlError> {
        let s = self.shared();
        crate::mail::sender::deliver(
            s.env.sql.as_ref(),
            transport,
            &s.config.mail_from,
            s.config.mail_retry_secs.saturating_mul(1000),
            s.env.random.as_ref(),
            s.env.clock.now(),
        )
        .await
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
    /// The time is read here, once; every decision of the request uses it.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<Bytes> {
        let now = self.shared().env.clock.now();
        let path = normalize_path(req.uri().path());
        let origin = header_str(req.headers(), header::ORIGIN).map(str::to_owned);

        if req.method() == Method::OPTIONS
            && origin.is_some()
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return self.preflight(origin.as_deref().unwrap_or_default()).await;
        }

        // Gatehouse's own pages for the links it mails (no API key: the
        // mailed token is the credential).
        if let Some(page) = crate::flow_pages::FlowPage::at(&path) {
            return crate::flow_pages::answer(self.shared(), page, &req, now).await;
        }

        let target = match self.find(&path, req.method()) {
            Ok(t) => t,
            Err(e) => return e.into_response(),
        };
        // The key set is re-read within its bound (and at once for a token
        // of a kid this host has not seen: `Keys::verify`).
        self.shared().keys().refresh(now, None).await;
        if let Target::Builtin(route, _) = &target {
            if let Serve::Open(meta) = route.serve {
                return match meta {
                    Meta::Health => self.health().await,
                    Meta::Jwks => self.jwks(),
                    Meta::Schema => crate::openapi::schema_response(&req),
                    Meta::SocialCallback => {
                        crate::api::social::callback(self.shared(), &req, now).await
                    }
                };
            }
        }

        // Read once, before the request's first read: every cached read of
        // the request (its client, its login) answers as of this generation.
        let generation = self.shared().store.generation().await;
        let client = match self.gate(&req, generation).await {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        };
        // Usage is counted for every request that passed the key check: an
        // in-memory add, written to the database later by `flush_usage`.
        let counted = self.inner.count_usage.then(|| {
            let kind = match &target {
                Target::Builtin(r, _) => r.counts_as,
                Target::Custom(_) => RequestKind::Other,
            };
            (client.id.0.clone(), kind)
        });
        // A change may have queued webhook messages (the audit trigger's
        // fan-out is invisible here): cue the host's outbox sender.
        let may_change = !matches!(*req.method(), Method::GET | Method::HEAD);
        let mut resp = self
            .serve_client(req, target, client, origin, now, generation)
            .await;
        let no_event = resp.extensions_mut().remove::<NoEvent>().is_some();
        if may_change && !no_event && resp.status() != StatusCode::TOO_MANY_REQUESTS {
            self.shared()
                .event_queued
                .store(true, std::sync::atomic::Ordering::Release);
        }
        if let Some((client_id, kind)) = counted {
            // The latency is the host's clock's business, not a decision.
            let end = self.shared().env.clock.now();
            self.shared().usage.record(
                &client_id,
                end,
                resp.status().as_u16(),
                kind,
                end.0 - now.0,
            );
        }
        resp
    }

    /// Everything after the API-key gate: origin, rate limit, guard, handler.
    async fn serve_client(
        &self,
        req: Request<Bytes>,
        target: Target<'_>,
        client: Arc<ApiClient>,
        origin: Option<String>,
        now: UnixMillis,
        generation: Option<u64>,
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
        // One budget per caller, not per client: a client's public key
        // must not let one anonymous caller spend everybody's budget. A
        // valid access token (checked here without a database read, and
        // kept for the endpoint) counts against its user; everything else
        // against its IP address.
        let access = verified_access(self.shared(), &req, now).await;
        let (bucket, limit) = match &access {
            Some(v) => (
                format!("client:{}:user:{}", client.id, v.claims.user_id),
                client.rate_limit,
            ),
            None => {
                let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
                let ip = ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
                let limit = match self.config().anonymous_rate_limit {
                    Some(cap) => cap.min(client.rate_limit),
                    None => client.rate_limit,
                };
                (format!("client:{}:ip:{ip}", client.id), limit)
            }
        };
        let quota = Quota {
            limit,
            period_secs: client.rate_period_secs,
        };
        let decision = self
            .shared()
            .env
            .rate_limits
            .check(&bucket, quota, now, true)
            .await;
        let decision = match decision {
            Ok(d) => d,
            Err(e) => return ApiError::from(e).into_response(),
        };
        let seen = Admission {
            now,
            generation,
            access,
        };
        let mut resp = match decision {
            d if !d.allowed => ApiError::throttled("throttled", d.retry_after_secs).into_response(),
            _ => match target {
                Target::Custom(i) => self.custom(i, req, client, seen).await,
                Target::Builtin(route, params) => {
                    self.builtin(route, params, &req, client, seen).await
                }
            }
            .unwrap_or_else(ApiError::into_response),
        };
        add_rate_headers(resp.headers_mut(), &decision);
        // Answers carry tokens and personal data: never stored by a cache
        // (RFC 6749 §5.1; Pragma for HTTP/1.0 caches).
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
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

    /// The route table first, then the embedder's routes. 404 and 405 are
    /// decided here, before the API key is looked at.
    fn find<'p>(&self, path: &'p str, method: &Method) -> Result<Target<'p>, ApiError> {
        match crate::routes::find(path, method) {
            Found::Route(route, params) => return Ok(Target::Builtin(route, params)),
            Found::WrongMethod(allowed) => {
                return Err(ApiError::method_not_allowed(method, &allowed))
            }
            Found::Nothing => {}
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
        match matching.iter().find(|(_, r)| r.method == method) {
            Some((i, _)) => Ok(Target::Custom(*i)),
            None => {
                let allowed: Vec<Method> = matching.iter().map(|(_, r)| r.method.clone()).collect();
                Err(ApiError::method_not_allowed(method, &allowed))
            }
        }
    }

    /// The route's guard, then its handler.
    async fn builtin(
        &self,
        route: &'static Route,
        params: Vec<&str>,
        req: &Request<Bytes>,
        client: Arc<ApiClient>,
        seen: Admission,
    ) -> Result<Response<Bytes>, ApiError> {
        let now = seen.now;
        let Serve::Gated(guard, handler) = route.serve else {
            return Err(ApiError::not_found()); // open routes never get here
        };
        let caller = match guard {
            Guard::Client => None,
            Guard::Authenticated => Some(authenticate(self.shared(), req, seen).await?),
            Guard::RequireMfa => {
                let caller = authenticate(self.shared(), req, seen).await?;
                // A second factor, and a recent one: this login passed it
                // at sign-in or by a step-up, at most 15 minutes ago.
                let at = self.shared().store.session_mfa_at(&caller.sid).await?;
                if !crate::mfa::step_up_fresh(at, now) {
                    return Err(ApiError::mfa_step_up_required());
                }
                Some(caller)
            }
            Guard::Staff => {
                // Admin client → bearer token → client serves the type → staff.
                if client.client_type != "admin" {
                    return Err(ApiError::detail(
                        StatusCode::FORBIDDEN,
                        "admin_client_required",
                        "The admin API is served only to API clients of type admin.",
                    ));
                }
                let caller = authenticate(self.shared(), req, seen).await?;
                if !client.serves(caller.user.user_type) {
                    return Err(ApiError::user_type_not_allowed());
                }
                if !IsStaffUser.has_permission(Some(&caller.user)) {
                    return Err(ApiError::permission_denied());
                }
                // An operator reads what any host just wrote (a client made
                // by the CLI, a user another admin changed): a replica host
                // syncs first. Admin requests are rare; a no-op elsewhere.
                self.shared().env.sql.catch_up().await?;
                Some(caller)
            }
        };
        let ctx = Ctx {
            shared: self.shared(),
            req,
            client,
            now,
            params,
            caller,
            body_limit: route.body_limit,
        };
        handler(&ctx).await
    }

    async fn custom(
        &self,
        index: usize,
        req: Request<Bytes>,
        client: Arc<ApiClient>,
        seen: Admission,
    ) -> Result<Response<Bytes>, ApiError> {
        let route = self
            .inner
            .routes
            .get(index)
            .ok_or_else(ApiError::not_found)?;
        let user = if req.headers().contains_key(header::AUTHORIZATION) {
            Some(authenticate(self.shared(), &req, seen).await?.user)
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
            client: Arc::unwrap_or_clone(client),
            user,
        })
        .await
    }

    /// Checks `X-API-Key` + `X-Client-ID` and returns the active client.
    async fn gate(
        &self,
        req: &Request<Bytes>,
        generation: Option<u64>,
    ) -> Result<Arc<ApiClient>, ApiError> {
        refuse_repeated_headers(req.headers())?;
        let key = header_str(req.headers(), X_API_KEY);
        let id = header_str(req.headers(), X_CLIENT_ID);
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
        let mut client = if id.len() <= 64 {
            self.shared().store.client_as_of(id, generation).await?
        } else {
            None
        };
        // A client just created through another host may not have reached
        // this host's replica yet.
        if client.is_none() && id.len() <= 64 && self.shared().env.sql.catch_up().await? {
            let generation = self.shared().store.generation().await;
            client = self.shared().store.client_as_of(id, generation).await?;
        }
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

    async fn preflight(&self, origin: &str) -> Response<Bytes> {
        let store = &self.shared().store;
        let mut allowed = store.origin_allowed_by_any(origin).await;
        // An origin just given to a client through another host may not
        // have reached this host's replica yet.
        if matches!(allowed, Ok(false))
            && matches!(self.shared().env.sql.catch_up().await, Ok(true))
        {
            allowed = store.origin_allowed_by_any(origin).await;
        }
        match allowed {
            Ok(true) => {
                let mut resp = Response::new(Bytes::new());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                let h = resp.headers_mut();
                if let Ok(o) = HeaderValue::from_str(origin) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
                }
                crate::pages::insert_static(
                    h,
                    [
                        (
                            header::ACCESS_CONTROL_ALLOW_METHODS,
                            "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                        ),
                        (
                            header::ACCESS_CONTROL_ALLOW_HEADERS,
                            "authorization, content-type, x-api-key, x-client-id",
                        ),
                        (header::ACCESS_CONTROL_MAX_AGE, "600"),
                        (header::VARY, "Origin"),
                    ],
                );
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
        match self.shared().store.ping().await {
            Ok(()) => {
                crate::error::json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
            }
            Err(e) => ApiError::from(e).into_response(),
        }
    }

    fn jwks(&self) -> Response<Bytes> {
        let mut resp =
            crate::error::json_response(StatusCode::OK, &self.shared().codec.keys().jwks());
        // As long as a host keeps its own copy: a verifier that caches the
        // set no longer than a host sees a new next key as soon as it does.
        let max_age = format!("public, max-age={}", self.config().key_cache_secs);
        if let Ok(v) = HeaderValue::from_str(&max_age) {
            resp.headers_mut().insert(header::CACHE_CONTROL, v);
        }
        resp
    }
}

fn header_str(h: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
}

/// 400 when a credential header comes more than once (or folded into one
/// value with commas, as the Fetch API and proxies join repeats): which
/// copy counts must never depend on the parser.
fn refuse_repeated_headers(h: &HeaderMap) -> Result<(), ApiError> {
    for name in [X_API_KEY, X_CLIENT_ID, header::AUTHORIZATION] {
        let mut values = h.get_all(&name).iter();
        let first = values.next();
        // A JWT, key or client id has no comma; another auth scheme may.
        let folded = first.is_some_and(|v| {
            let v = v.as_bytes();
            let bearer = v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ");
            (name != header::AUTHORIZATION || bearer) && v.contains(&b',')
        });
        let repeated = values.next().is_some() || folded;
        if repeated {
            return Err(ApiError::detail(
                StatusCode::BAD_REQUEST,
                "duplicate_header",
                format!("The {name} header must be sent once."),
            ));
        }
    }
    Ok(())
}

// Parsed once here, not from text on every request.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_CLIENT_ID: HeaderName = HeaderName::from_static("x-client-id");
const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

fn add_rate_headers(h: &mut HeaderMap, d: &RateDecision) {
    h.insert(X_RATELIMIT_LIMIT, HeaderValue::from(d.limit));
    h.insert(X_RATELIMIT_REMAINING, HeaderValue::from(d.remaining));
    h.insert(X_RATELIMIT_RESET, HeaderValue::from(d.reset_after_secs));
}
