//! What a handler works with: the service's shared state ([`Shared`]) and
//! one request's context ([`Ctx`]), built once by the service per request,
//! with the time read once ([`Ctx::now`]) and the guard's outcome (the
//! authenticated caller). Handlers are plain `async fn(&Ctx) -> Result<…>`
//! (see [`crate::routes`]); none of them reads a clock.

use crate::api_client::ApiClient;
use crate::audit::{Actor, AuditEvent};
use crate::clock::UnixMillis;
use crate::config::Config;
use crate::env::Env;
use crate::error::ApiError;
use crate::json::{parse_body, JsonBody};
use crate::permission::{IsAdminUser, Permission};
use crate::session::SessionId;
use crate::store::Store;
use crate::token::{TokenCodec, TokenType, VerifiedToken};
use crate::usage::UsageAggregator;
use crate::user::{User, UserId, UserType};
use bytes::Bytes;
use http::{header, Request};
use std::net::IpAddr;

/// The caller's IP address, put into the request's extensions by the host
/// (socket peer natively, `CF-Connecting-IP` on the Worker). Used for the
/// per-IP throttles and recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Everything the service keeps between requests.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) env: Env,
    pub(crate) store: Store,
    pub(crate) codec: TokenCodec,
    /// When `codec`'s keys were read (`keys.rs`).
    pub(crate) key_cache: crate::keys::KeyCache,
    /// Verified when the email is unknown, so a miss costs what a hit costs.
    pub(crate) dummy_hash: String,
    /// Usage counted since the last flush (`usage::flush`).
    pub(crate) usage: UsageAggregator,
    /// Set when a request committed a mail to the outbox, so the host's
    /// sender runs now rather than at its next tick ([`Ctx::mail_queued`],
    /// `Gatehouse::take_mail_queued`).
    pub(crate) mail_queued: std::sync::atomic::AtomicBool,
    /// Set after a request that may have queued a webhook message
    /// (`Gatehouse::take_event_queued`).
    pub(crate) event_queued: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub(crate) fn keys(&self) -> crate::keys::Keys<'_> {
        crate::keys::Keys {
            store: &self.store,
            config: &self.config,
            rng: self.env.random.as_ref(),
            codec: &self.codec,
            cache: &self.key_cache,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user: User,
    /// The login the access token belongs to.
    pub(crate) sid: SessionId,
    /// How that login was authenticated (the token's `amr`). Routes that
    /// need a second factor read the login's recency instead
    /// (`Store::session_mfa_at`): a step-up raises it without new tokens.
    pub(crate) amr: Vec<String>,
}

/// A staff or admin user calling the admin API, and the audit actor.
pub(crate) struct AdminCaller {
    pub(crate) user: User,
    pub(crate) actor: Actor,
}

impl AdminCaller {
    /// Staff manage creators; admins manage anyone.
    pub(crate) fn may_manage(&self, target: UserType) -> bool {
        target == UserType::Creator || IsAdminUser.has_permission(Some(&self.user))
    }
}

/// One request, once the route's guard has passed.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) req: &'a Request<Bytes>,
    pub(crate) client: std::sync::Arc<ApiClient>,
    /// The request's time, read once by the service.
    pub(crate) now: UnixMillis,
    /// The path's `{…}` segments, in order, as the route table checked them.
    pub(crate) params: Vec<&'a str>,
    /// Set by the `Authenticated` and `Staff` guards.
    pub(crate) caller: Option<Caller>,
    /// The route's body limit (its row in the route table).
    pub(crate) body_limit: usize,
}

impl Ctx<'_> {
    /// Tells the host's mail sender that this request's committed batch put a
    /// mail in the outbox (call it after the batch succeeded).
    pub(crate) fn mail_queued(&self) {
        self.shared
            .mail_queued
            .store(true, std::sync::atomic::Ordering::Release);
    }

    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }
    pub(crate) fn env(&self) -> &Env {
        &self.shared.env
    }
    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }
    pub(crate) fn codec(&self) -> &TokenCodec {
        &self.shared.codec
    }

    pub(crate) fn keys(&self) -> crate::keys::Keys<'_> {
        self.shared.keys()
    }

    /// The request's JSON object body, within the route's body limit.
    pub(crate) fn body(&self) -> Result<JsonBody, ApiError> {
        parse_body(self.req, self.body_limit)
    }

    /// The authenticated caller. Only routes guarded `Authenticated` or
    /// `Staff` are served with one; elsewhere this is 401.
    pub(crate) fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().ok_or_else(ApiError::not_authenticated)
    }

    /// The caller of an admin route (guarded `Staff`).
    pub(crate) fn admin(&self) -> Result<AdminCaller, ApiError> {
        let user = self.caller()?.user.clone();
        Ok(AdminCaller {
            actor: self.actor(Some(user.id)),
            user,
        })
    }

    /// The `i`-th path parameter ("" if the route has none there).
    pub(crate) fn param(&self, i: usize) -> &str {
        self.params.get(i).copied().unwrap_or_default()
    }

    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.req.extensions().get::<ClientIp>().map(|c| c.0)
    }
    /// The audit actor of this request: `user` through this client from this IP.
    pub(crate) fn actor(&self, user: Option<UserId>) -> Actor {
        Actor {
            user,
            client: Some(self.client.id.clone()),
            ip: self.ip().map(|ip| ip.to_string()),
        }
    }
    /// An audit event of this request by `user`, at the request's time.
    pub(crate) fn audit(&self, event: &'static str, user: Option<UserId>) -> AuditEvent {
        AuditEvent::new(event, &self.actor(user), self.now)
    }
    pub(crate) fn user_agent(&self) -> Option<String> {
        self.req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect())
    }
}

/// The access token of `Authorization: Bearer …` if its signature, type,
/// audience and lifetime check out (no database read: a revoked login still
/// passes here and is refused by [`authenticate`]).
pub(crate) async fn verified_access(
    shared: &Shared,
    req: &Request<Bytes>,
    now: UnixMillis,
) -> Option<VerifiedToken> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    shared
        .keys()
        .verify(token.trim(), TokenType::Access, now)
        .await
}

/// What the service reads of a request once, before the route's guard.
pub(crate) struct Admission {
    /// The request's time.
    pub(crate) now: UnixMillis,
    /// The store's data generation, read before the request's first read:
    /// every cached read of the request answers as of it
    /// (`Store::generation`).
    pub(crate) generation: Option<u64>,
    /// The bearer access token, if it verified (without a database read:
    /// the rate limit step counts the request against its user).
    pub(crate) access: Option<VerifiedToken>,
}

/// The user behind `Authorization: Bearer <access>`, with a live login.
pub(crate) async fn authenticate(
    shared: &Shared,
    req: &Request<Bytes>,
    seen: Admission,
) -> Result<Caller, ApiError> {
    let Admission {
        now,
        generation,
        access,
    } = seen;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::not_authenticated());
    };
    let value = value.to_str().map_err(|_| ApiError::token_not_valid())?;
    match value.split_once(' ') {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("bearer") => {}
        _ => return Err(ApiError::token_not_valid()),
    }
    let claims = match access {
        // Verified by the rate-limit step, from this same header.
        Some(v) => v.claims,
        // Gatehouse's own verification failed: a seed token?
        None => return legacy_caller(shared, value, now).await,
    };
    let mut found = shared
        .store
        .user_in_session_as_of(claims.user_id, &claims.sid, now, generation)
        .await?;
    // A login opened through another host may not be on this replica yet
    // (after a catch-up, under the generation it moved to).
    if found.is_none() && shared.env.sql.catch_up().await? {
        found = shared
            .store
            .user_in_session(claims.user_id, &claims.sid, now)
            .await?;
    }
    match found {
        Some(user) if user.is_active => Ok(Caller {
            user,
            sid: claims.sid,
            amr: claims.amr,
        }),
        _ => Err(ApiError::token_not_valid()),
    }
}

/// The caller of a seed (simplejwt) access token during the cutover
/// (`legacy_token`): its user, if active, as simplejwt's
/// `JWTAuthentication` checks. Such a caller has no Gatehouse login; its
/// `sid` names none. Outside the cutover, an invalid token like any other.
async fn legacy_caller(
    shared: &Shared,
    authorization: &str,
    now: UnixMillis,
) -> Result<Caller, ApiError> {
    let legacy = shared.config.legacy_tokens.as_ref();
    let token = authorization.split_once(' ').map_or("", |(_, t)| t.trim());
    let claims = crate::legacy_token::verify(legacy, token, TokenType::Access, now)
        .ok_or_else(ApiError::token_not_valid)?;
    match shared.store.user(claims.user_id).await? {
        Some(user) if user.is_active => Ok(Caller {
            user,
            sid: SessionId(format!("legacy:{}", claims.jti)),
            amr: vec![crate::mfa::amr::PWD.to_owned()],
        }),
        _ => Err(ApiError::token_not_valid()),
    }
}
