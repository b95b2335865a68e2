//! `POST /api/auth/token/refresh/`: rotate a refresh token.

use super::types::{ErrorOut, RefreshIn, TokenPair};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body, StrField};
use crate::session::{decide, RefreshDecision};
use crate::token::{new_jti, TokenType, VerifiedToken};
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

/// Reads and verifies the `refresh` field of the body.
pub(crate) fn refresh_from_body(ctx: &Ctx<'_>) -> Result<VerifiedToken, ApiError> {
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let token = body.str(TOKEN_FIELD, &mut errors);
    check(errors)?;
    token
        .and_then(|t| ctx.codec().verify(&t, TokenType::Refresh, ctx.now))
        .ok_or_else(ApiError::token_not_valid)
}

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    if let Some(answer) = super::legacy_exchange::exchange(ctx, TOKEN_FIELD).await? {
        return Ok(answer); // a seed token during the cutover (docs/LEGACY_TOKENS.md)
    }
    let presented = refresh_from_body(ctx)?;
    let store = ctx.store();
    let session = store.session(&presented.claims.sid).await?;
    match decide(session.as_ref(), &presented, &ctx.client.id, ctx.now) {
        RefreshDecision::Reject(_) => Err(ApiError::token_not_valid()),
        RefreshDecision::Reuse => {
            let audit = ctx
                .audit(crate::audit::event::REPLAY_DETECTED, None)
                .target_user(crate::audit::UserRef::Id(presented.claims.user_id))
                .detail(serde_json::json!({
                    "session_id": presented.claims.sid.0,
                    "issued_to_client": presented.claims.client_id.0,
                    "user_agent": ctx.user_agent(),
                }));
            store
                .revoke_session(&presented.claims.sid, ctx.now, "reuse_detected", &audit)
                .await?;
            Err(ApiError::token_not_valid())
        }
        RefreshDecision::Rotate => {
            let Some(session) = session else {
                return Err(ApiError::token_not_valid());
            };
            let user = match store.user(presented.claims.user_id).await? {
                Some(u) if u.is_active => u,
                _ => return Err(ApiError::token_not_valid()),
            };
            let ttl = ctx
                .config()
                .refresh_ttl_secs
                .min((session.absolute_expires_at.0 - ctx.now.0) / 1000);
            let next_jti = new_jti(ctx.env().random.as_ref());
            // The compare-and-swap: of two concurrent refreshes, one wins.
            if !store
                .rotate_session(
                    &session.id,
                    &presented.jti,
                    &next_jti,
                    ctx.now,
                    ctx.now.plus_secs(ttl),
                )
                .await?
            {
                return Err(ApiError::token_not_valid());
            }
            let pair = super::tokens::token_pair(ctx, &user, &session.id, &next_jti, ttl);
            Ok(json_response(StatusCode::OK, &pair))
        }
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(post, path = "/api/auth/token/refresh/", tag = "auth", request_body = RefreshIn,
    security(("api_key" = [], "client_id" = [])),
    responses(
        (status = 200, description = "Rotated: a new pair; the old refresh token is dead", body = TokenPair),
        (status = 400, description = "Field errors"),
        (status = 401, description = "Invalid, spent or foreign refresh token", body = ErrorOut),
    ))]
fn token_refresh() {}
