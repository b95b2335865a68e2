//! `POST /api/auth/token/`: log in with email and password.

use super::types::{ErrorOut, LoginIn, TokenPair};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body, StrField};
use crate::rate_limit::Quota;
use crate::user::normalize_email;
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let email = body.str(StrField::required("email", 254), &mut errors);
    let password = body.str(StrField::password("password"), &mut errors);
    check(errors)?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::no_active_account());
    };
    let email = normalize_email(&email);

    // Failed-login throttles: looked at before any work, spent only on failure.
    let keys = failure_throttle_keys(ctx, &email);
    check_failure_throttles(ctx, &keys).await?;

    let found = ctx.store().user_by_email(&email).await?;
    // Verify against a dummy hash when the email is unknown, so the
    // answer takes as long as for a known email with a wrong password.
    let phc = found.as_ref().map_or_else(
        || ctx.shared.dummy_hash.clone(),
        |f| f.password_hash.clone(),
    );
    let ok = ctx.env().hasher.verify(password, phc).await?;
    let user = match found {
        Some(f) if ok && f.user.is_active => f.user,
        found => {
            let (target, reason) = match &found {
                None => (UserRef::None, "invalid_credentials"),
                Some(f) if !ok => (UserRef::Id(f.user.id), "invalid_credentials"),
                Some(f) => (UserRef::Id(f.user.id), "inactive"),
            };
            audit_login_failure(ctx, &email, target, reason).await?;
            spend_failure_throttles(ctx, &keys).await?;
            return Err(ApiError::no_active_account());
        }
    };
    if !ctx.client.serves(user.user_type) {
        audit_login_failure(ctx, &email, UserRef::Id(user.id), "user_type_not_allowed").await?;
        return Err(ApiError::user_type_not_allowed());
    }
    let pair = super::tokens::login_user(ctx, &user).await?;
    Ok(json_response(StatusCode::OK, &pair))
}

/// A failed login has no change to ride along with: one INSERT.
async fn audit_login_failure(
    ctx: &Ctx<'_>,
    email: &str,
    target: UserRef,
    reason: &str,
) -> Result<(), ApiError> {
    let e = ctx
        .audit(event::LOGIN_FAILED, None)
        .target_user(target)
        .detail(
            serde_json::json!({"email": email, "reason": reason, "user_agent": ctx.user_agent()}),
        );
    Ok(ctx.store().insert_audit(&e).await?)
}

/// The failed-password counters a login attempt (or a change-password
/// with a wrong current password) is held to: per (account, IP), a
/// looser per-account ceiling and, when the host knows it, per IP.
///
/// The tight counter is keyed by (account, IP) so that failures from
/// one address never lock the owner out from another; the ceiling
/// still bounds guessing spread over many addresses.
pub(crate) fn failure_throttle_keys(ctx: &Ctx<'_>, email: &str) -> Vec<(String, Quota)> {
    let cfg = ctx.config();
    let ip = ctx.ip().map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let mut keys = vec![
        (
            format!("login-fail:account-ip:{email}|{ip}"),
            cfg.failed_login_per_account_ip,
        ),
        (
            format!("login-fail:account:{email}"),
            cfg.failed_login_per_account,
        ),
    ];
    if let Some(ip) = ctx.ip() {
        keys.push((format!("login-fail:ip:{ip}"), cfg.failed_login_per_ip));
    }
    keys
}

/// 429 `login_throttled` when any counter is spent (nothing is consumed).
pub(crate) async fn check_failure_throttles(
    ctx: &Ctx<'_>,
    keys: &[(String, Quota)],
) -> Result<(), ApiError> {
    for (key, quota) in keys {
        let d = ctx
            .env()
            .rate_limits
            .check(key, *quota, ctx.now, false)
            .await?;
        if !d.allowed {
            return Err(ApiError::throttled("login_throttled", d.retry_after_secs));
        }
    }
    Ok(())
}

/// Counts one failure against every counter.
pub(crate) async fn spend_failure_throttles(
    ctx: &Ctx<'_>,
    keys: &[(String, Quota)],
) -> Result<(), ApiError> {
    for (key, quota) in keys {
        ctx.env()
            .rate_limits
            .check(key, *quota, ctx.now, true)
            .await?;
    }
    Ok(())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(post, path = "/api/auth/token/", tag = "auth", request_body = LoginIn,
    security(("api_key" = [], "client_id" = [])),
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 400, description = "Field errors"),
        (status = 401, description = "Bad credentials or API key", body = ErrorOut),
        (status = 403, description = "This client does not serve the user's type", body = ErrorOut),
        (status = 429, description = "Too many failed logins or requests", body = ErrorOut),
    ))]
fn token() {}
