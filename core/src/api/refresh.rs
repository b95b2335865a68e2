//! `POST /api/auth/token/refresh/`: rotate a refresh token.

use super::types::{ErrorOut, FieldErrorsOut, RefreshIn, TokenPair};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, StrField};
use crate::session::{decide, RefreshDecision, SessionRow};
use crate::token::{new_jti, TokenType, VerifiedToken};
use crate::user::User;
use bytes::Bytes;
use http::{Response, StatusCode};

/// Longest token text accepted in a body field.
pub(crate) const TOKEN_FIELD: StrField = StrField {
    name: "refresh",
    max_len: 8192,
    required: true,
    allow_blank: false,
    trim: true,
};

/// The `refresh` field of the body, as text.
fn refresh_field(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let token = body.str(TOKEN_FIELD, &mut errors);
    check(errors)?;
    token.ok_or_else(ApiError::token_not_valid)
}

/// Verifies a refresh token's text (re-reading the keys first if another
/// host made its key current: `Keys::verify`).
async fn verified(ctx: &Ctx<'_>, token: &str) -> Result<VerifiedToken, ApiError> {
    ctx.keys()
        .verify(token, TokenType::Refresh, ctx.now)
        .await
        .ok_or_else(ApiError::token_not_valid)
}

/// Reads and verifies the `refresh` field of the body.
pub(crate) async fn refresh_from_body(ctx: &Ctx<'_>) -> Result<VerifiedToken, ApiError> {
    verified(ctx, &refresh_field(ctx)?).await
}

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let token = refresh_field(ctx)?;
    if let Some(answer) = super::legacy_exchange::exchange(ctx, &token).await? {
        return Ok(answer); // a seed token during the cutover (docs/LEGACY_TOKENS.md)
    }
    let presented = verified(ctx, &token).await?;
    let (mut session, mut user) = read(ctx, &presented).await?;
    let mut decision = decide_for(ctx, session.as_ref(), &presented);
    // Anything but a plain rotation may come from a replica behind the
    // primary (a login or rotation made through another host): look again
    // on data caught up with the primary before reissuing, refusing, or
    // revoking a family as a replay.
    if decision != RefreshDecision::Rotate && ctx.env().sql.catch_up().await? {
        (session, user) = read(ctx, &presented).await?;
        decision = decide_for(ctx, session.as_ref(), &presented);
    }
    match (decision, &session) {
        (RefreshDecision::Rotate, Some(s)) => rotate(ctx, s, active(user)?, &presented).await,
        (RefreshDecision::Reissue, Some(s)) => reissue(ctx, s, active(user)?).await,
        (RefreshDecision::Reuse, _) => revoke_replayed(ctx, &presented).await,
        _ => Err(ApiError::token_not_valid()),
    }
}

/// The presented token's login and its user, in one read.
async fn read(
    ctx: &Ctx<'_>,
    presented: &VerifiedToken,
) -> Result<(Option<SessionRow>, Option<User>), ApiError> {
    let store = ctx.store();
    let sid = &presented.claims.sid;
    Ok(store
        .session_and_user(sid, presented.claims.user_id)
        .await?)
}

/// What `session::decide` says, with this deployment's reuse grace.
fn decide_for(
    ctx: &Ctx<'_>,
    session: Option<&SessionRow>,
    presented: &VerifiedToken,
) -> RefreshDecision {
    let grace_ms = ctx.config().refresh_reuse_grace_secs.saturating_mul(1000);
    decide(session, presented, &ctx.client.id, ctx.now, grace_ms)
}

/// The login's user, if still active.
fn active(user: Option<User>) -> Result<User, ApiError> {
    match user {
        Some(u) if u.is_active => Ok(u),
        _ => Err(ApiError::token_not_valid()),
    }
}

/// Rotate: the compare-and-swap from the presented token to a new one
/// (of two concurrent refreshes, one wins), and the new pair.
async fn rotate(
    ctx: &Ctx<'_>,
    session: &SessionRow,
    user: User,
    presented: &VerifiedToken,
) -> Result<Response<Bytes>, ApiError> {
    let ttl = ctx
        .config()
        .refresh_ttl_secs
        .min((session.absolute_expires_at.0 - ctx.now.0) / 1000);
    let next_jti = new_jti(ctx.env().random.as_ref());
    let store = ctx.store();
    let expires = ctx.now.plus_secs(ttl);
    if store
        .rotate_session(&session.id, &presented.jti, &next_jti, ctx.now, expires)
        .await?
    {
        let pair = super::tokens::token_pair(ctx, &user, &session.id, &next_jti, ttl, &session.amr);
        let mut answer = json_response(StatusCode::OK, &pair);
        // A rotation is not audited: nothing for the webhook sender.
        answer.extensions_mut().insert(crate::service::NoEvent);
        return Ok(answer);
    }
    // A concurrent refresh of this token won: its rotation made this token
    // the parent, which the grace answers. Anything else is a lost race,
    // not a replay: refused, nothing revoked.
    // The compare-and-swap ran on the primary; the look again must too.
    ctx.env().sql.catch_up().await?;
    let (now_stored, user) = read(ctx, presented).await?;
    match (decide_for(ctx, now_stored.as_ref(), presented), &now_stored) {
        (RefreshDecision::Reissue, Some(s)) => reissue(ctx, s, active(user)?).await,
        _ => Err(ApiError::token_not_valid()),
    }
}

/// Reissue (the reuse grace): the current refresh token again, with a
/// fresh access token, if the login still holds it.
async fn reissue(
    ctx: &Ctx<'_>,
    session: &SessionRow,
    user: User,
) -> Result<Response<Bytes>, ApiError> {
    let pair =
        super::tokens::reissued_pair(ctx, &user, session).ok_or_else(ApiError::token_not_valid)?;
    let audit = ctx
        .audit(crate::audit::event::REFRESH_REISSUED, None)
        .target_user(crate::audit::UserRef::Id(user.id))
        .detail(serde_json::json!({
            "session_id": session.id.0,
            "user_agent": ctx.user_agent(),
        }));
    if !ctx
        .store()
        .confirm_reissue(&session.id, &session.current_jti, ctx.now, &audit)
        .await?
    {
        return Err(ApiError::token_not_valid());
    }
    Ok(json_response(StatusCode::OK, &pair))
}

/// Reuse: a spent token came back (RFC 9700 §4.14.2). The whole family is
/// revoked and audited in one batch; the answer is the usual 401.
async fn revoke_replayed(
    ctx: &Ctx<'_>,
    presented: &VerifiedToken,
) -> Result<Response<Bytes>, ApiError> {
    let audit = ctx
        .audit(crate::audit::event::REPLAY_DETECTED, None)
        .target_user(crate::audit::UserRef::Id(presented.claims.user_id))
        .detail(serde_json::json!({
            "session_id": presented.claims.sid.0,
            "issued_to_client": presented.claims.client_id.0,
            "user_agent": ctx.user_agent(),
        }));
    ctx.store()
        .revoke_session(&presented.claims.sid, ctx.now, "reuse_detected", &audit)
        .await?;
    Err(ApiError::token_not_valid())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(post, path = "/api/auth/token/refresh/", tag = "auth", request_body = RefreshIn,
    security(("api_key" = [], "client_id" = [])),
    responses(
        (status = 200, description = "Rotated: a new pair; the old refresh token is dead (but for the reuse grace, in which it gets the same new refresh token again)", body = TokenPair),
        FieldErrorsOut,
        (status = 401, description = "Invalid, spent or foreign refresh token", body = ErrorOut),
    ))]
fn token_refresh() {}
