//! `POST /api/auth/logout/`: end the login a refresh token belongs to.

use crate::error::{json_response, ApiError};
use crate::service::{Ctx, Gatehouse};
use bytes::Bytes;
use http::{Response, StatusCode};

impl Gatehouse {
    pub(crate) async fn logout(&self, ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
        let user = self.authenticate(ctx.req, ctx.now).await?.user;
        let presented = self.refresh_from_body(ctx)?;
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
        self.store()
            .revoke_session(&presented.claims.sid, ctx.now, "logout", &audit)
            .await?;
        Ok(json_response(StatusCode::OK, &serde_json::json!({})))
    }
}
