//! `POST /api/auth/logout/`: end the login a refresh token belongs to.

use super::types::{ErrorOut, RefreshIn};
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = ctx.caller()?.user.clone();
    let presented = super::refresh::refresh_from_body(ctx).await?;
    if presented.claims.user_id != user.id {
        return Err(ApiError::detail(
            StatusCode::FORBIDDEN,
            "token_not_owned",
            "This refresh token belongs to another user.",
        ));
    }
    let audit = ctx
        .audit(crate::audit::event::LOGOUT, Some(user.id))
        .target_user(crate::audit::UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": presented.claims.sid.0}));
    ctx.store()
        .revoke_session(&presented.claims.sid, ctx.now, "logout", &audit)
        .await?;
    Ok(json_response(StatusCode::OK, &serde_json::json!({})))
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer logout, post "/api/auth/logout/", "auth", request_body = RefreshIn,
    responses(
        (status = 200, description = "Logged out: `{}`"),
        (status = 401, description = "Not authenticated or invalid token", body = ErrorOut),
        (status = 403, description = "The refresh token belongs to another user", body = ErrorOut),
    )
}
