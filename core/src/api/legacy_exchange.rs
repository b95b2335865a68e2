//! `POST /api/auth/token/refresh/` with a seed (simplejwt) refresh token,
//! during the cutover: exchanged once for a Gatehouse login
//! (docs/LEGACY_TOKENS.md). The refresh handler asks here first.

use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use crate::legacy_token;
use crate::store::legacy::LegacyExchange;
use crate::token::TokenType;
use bytes::Bytes;
use http::{Response, StatusCode};

/// `Some(answer)` when `token` (the body's `refresh`) is a seed refresh
/// token: a new pair for the one exchange that wins, 401 for a blacklisted,
/// exchanged, expired or foreign one, 403 `user_type_not_allowed` when this
/// client does not serve the user's type. `None` for anything else (outside
/// the cutover, a Gatehouse token, garbage): the refresh handler answers
/// those as it always does, so a seed token after the deadline gets the
/// answer of any invalid token.
pub(crate) async fn exchange(
    ctx: &Ctx<'_>,
    token: &str,
) -> Result<Option<Response<Bytes>>, ApiError> {
    let legacy = ctx.config().legacy_tokens.as_ref();
    let Some(claims) = legacy_token::verify(legacy, token, TokenType::Refresh, ctx.now) else {
        return Ok(None);
    };
    let store = ctx.store();
    let user = match store.user(claims.user_id).await? {
        Some(u) if u.is_active => u,
        _ => return Err(ApiError::token_not_valid()),
    };
    // The exchange opens a login through this client, as a login would:
    // the same refusal (the token stays unspent).
    if !ctx.client.serves(user.user_type) {
        return Err(ApiError::user_type_not_allowed());
    }
    let s = new_session(ctx, crate::mfa::amr::PWD);
    let audit = ctx
        .audit(crate::audit::event::LEGACY_EXCHANGED, Some(user.id))
        .target_user(crate::audit::UserRef::Id(user.id))
        .detail(serde_json::json!({
            "session_id": s.id.0,
            "legacy_jti": claims.jti,
            "user_agent": ctx.user_agent(),
        }));
    let exchange = LegacyExchange {
        jti: &claims.jti,
        user: user.id,
        expires_at: claims.expires_at,
        now: ctx.now,
    };
    if !store
        .exchange_legacy_refresh(&exchange, &session_insert(ctx, &s), &audit)
        .await?
    {
        return Err(ApiError::token_not_valid());
    }
    let pair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    Ok(Some(json_response(StatusCode::OK, &pair)))
}
