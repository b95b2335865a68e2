//! The caller's own logins (OWASP ASVS 5.0 §7.4/7.5): `GET
//! /api/auth/sessions/` lists them, `DELETE /api/auth/sessions/{id}/` ends
//! one, `POST /api/auth/logout-all/` ends all. Ending a login kills its
//! refresh token at once and its access tokens on their next use (every
//! access token is checked against its login).

use super::types::{ErrorOut, LogoutAllOut, NotAuthenticated, SessionOut};
use crate::audit::AuditEvent;
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use crate::session::SessionId;
use crate::user::UserId;
use bytes::Bytes;
use http::{Response, StatusCode};

/// The most logins one answer lists (newest first).
pub(crate) const MAX_SESSIONS_LISTED: u32 = 200;

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    // A user can open logins without limit; the answer has a fixed bound.
    let sessions = ctx
        .store()
        .newest_live_sessions(caller.user.id, ctx.now, MAX_SESSIONS_LISTED)
        .await?;
    let out: Vec<SessionOut> = sessions
        .into_iter()
        .map(|s| SessionOut {
            current: s.id == caller.sid,
            id: s.id.0,
            client_id: s.client_id.0,
            client_name: s.client_name,
            created_at: s.created_at.to_rfc3339(),
            last_used_at: s.last_used_at.to_rfc3339(),
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(json_response(StatusCode::OK, &out))
}

pub(crate) async fn end(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let id = ctx.param(0);
    let audit = ctx
        .audit(crate::audit::event::SESSION_ENDED, Some(caller.user.id))
        .target_user(crate::audit::UserRef::Id(caller.user.id))
        .detail(serde_json::json!({"session_id": id}));
    end_one(ctx, caller.user.id, id, "ended_by_user", &audit).await
}

/// Ends `user`'s live login `sid`, with its audit event: 204, or 404 when
/// the login is not theirs or not live (ids are not confirmed to strangers).
pub(crate) async fn end_one(
    ctx: &Ctx<'_>,
    user: UserId,
    sid: &str,
    reason: &str,
    audit: &AuditEvent,
) -> Result<Response<Bytes>, ApiError> {
    let ended = ctx
        .store()
        .revoke_user_session(user, &SessionId(sid.to_owned()), ctx.now, reason, audit)
        .await?;
    if !ended {
        return Err(ApiError::not_found());
    }
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

pub(crate) async fn end_all(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let audit = ctx
        .audit(crate::audit::event::LOGOUT_ALL, Some(caller.user.id))
        .target_user(crate::audit::UserRef::Id(caller.user.id));
    let ended = ctx
        .store()
        .revoke_user_sessions(caller.user.id, ctx.now, "logout_all", &audit)
        .await?;
    Ok(json_response(StatusCode::OK, &LogoutAllOut { ended }))
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer sessions_list, get "/api/auth/sessions/", "auth",
    responses((status = 200, description = "The caller's live logins", body = [SessionOut]), NotAuthenticated)
}

operation! { bearer session_delete, delete "/api/auth/sessions/{id}/", "auth",
    params(("id" = String, Path, description = "A login id from the list")),
    responses((status = 204, description = "Ended: its tokens stop working at once"), NotAuthenticated, (status = 404, description = "No such live login of the caller", body = ErrorOut))
}

operation! { bearer logout_all, post "/api/auth/logout-all/", "auth",
    responses((status = 200, description = "Every login ended", body = LogoutAllOut), NotAuthenticated)
}
