//! `POST /api/auth/change-password/`: change the caller's password. Every
//! login of the user is revoked and a fresh pair for the calling client is
//! returned, so the tab that changed the password stays signed in.

use super::login::spend_failure_throttles;
use super::reauth::guarded_password_hash;
use super::register::MISMATCH;
use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{ChangePasswordIn, ChangePasswordOut, ErrorOut, NotAuthenticated};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, StrField};
use crate::password::validation::{validate_password, UserAttributes};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let user = caller.user.clone();
    let mfa_at = super::reauth::require_recent_second_factor(ctx, caller).await?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let old = body.str(StrField::password("old_password"), &mut errors);
    let new = body.str(StrField::password("new_password"), &mut errors);
    let new2 = body.str(StrField::password("new_password2"), &mut errors);
    check(errors)?;
    let (Some(old), Some(new), Some(new2)) = (old, new, new2) else {
        return Err(ApiError::token_not_valid());
    };

    let (keys, phc) = guarded_password_hash(ctx, &user).await?;
    let mut errors = FieldErrors::new();
    if !ctx.env().hasher.verify(old, phc.clone()).await? {
        let failed = ctx
            .audit(crate::audit::event::PASSWORD_CHANGE_FAILED, Some(user.id))
            .target_user(crate::audit::UserRef::Id(user.id))
            .detail(serde_json::json!({"reason": "invalid_old_password", "user_agent": ctx.user_agent()}));
        ctx.store().insert_audit(&failed).await?;
        spend_failure_throttles(ctx, &keys).await?;
        push(&mut errors, "old_password", OLD_PASSWORD_WRONG);
    }
    if new != new2 {
        push(&mut errors, "new_password", MISMATCH);
    } else {
        let attrs = UserAttributes {
            username: &user.username,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
        };
        for msg in validate_password(&new, &attrs) {
            push(&mut errors, "new_password", msg);
        }
    }
    check(errors)?;

    let salt: [u8; 16] = crate::random::bytes(ctx.env().random.as_ref());
    let hash = ctx.env().hasher.hash(new, salt).await?;
    // The new login keeps the methods of the one it replaces (and so its
    // level; as stored: a step-up adds to them) and the time of its last
    // second factor (a change of password does not make it recent).
    let stored = ctx.store().session(&caller.sid).await?.map(|s| s.amr);
    let amr = match stored.unwrap_or_else(|| caller.amr.join(",")) {
        a if a.is_empty() => crate::mfa::amr::PWD.to_owned(),
        a => a,
    };
    let s = new_session(ctx, &amr);
    let mut insert = session_insert(ctx, &s);
    insert.mfa_at = mfa_at;
    let audit = ctx
        .audit(crate::audit::event::PASSWORD_CHANGED, Some(user.id))
        .target_user(crate::audit::UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": s.id.0}));
    // Compare-and-swap on the hash: of concurrent changes made with the
    // same current password exactly one wins; the others see it as wrong.
    let changed = ctx
        .store()
        .change_password(user.id, &phc, &hash, &insert, &audit)
        .await?;
    if !changed {
        return Err(old_password_wrong());
    }
    let pair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    Ok(json_response(
        StatusCode::OK,
        &ChangePasswordOut {
            detail: "Password changed.".into(),
            access: pair.access,
            refresh: pair.refresh,
        },
    ))
}

const OLD_PASSWORD_WRONG: &str = "Old password is not correct.";

fn old_password_wrong() -> ApiError {
    ApiError::field("old_password", OLD_PASSWORD_WRONG)
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer change_password, post "/api/auth/change-password/", "auth", request_body = ChangePasswordIn,
    responses(
        (status = 200, description = "Changed; every other login revoked; a fresh pair", body = ChangePasswordOut),
        (status = 400, description = "Wrong old password or invalid new one"),
        NotAuthenticated,
        (status = 403, description = "The user has a second factor and this login did not pass it in the last 15 minutes (`mfa_step_up_required`: step up at `mfa/step-up/`)", body = ErrorOut),
    )
}
