//! `POST /api/auth/change-password/`: change the caller's password. Every
//! login of the user is revoked and a fresh pair for the calling client is
//! returned, so the tab that changed the password stays signed in.

use super::register::MISMATCH;
use super::types::ChangePasswordOut;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body, push, StrField};
use crate::password::validation::{validate_password, UserAttributes};
use crate::service::{Ctx, Gatehouse};
use bytes::Bytes;
use http::{Response, StatusCode};

impl Gatehouse {
    pub(crate) async fn change_password(&self, ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
        let user = self.authenticate(ctx.req, ctx.now).await?.user;
        let body = parse_body(ctx.req)?;
        let mut errors = FieldErrors::new();
        let old = body.str(StrField::password("old_password"), &mut errors);
        let new = body.str(StrField::password("new_password"), &mut errors);
        let new2 = body.str(StrField::password("new_password2"), &mut errors);
        check(errors)?;
        let (Some(old), Some(new), Some(new2)) = (old, new, new2) else {
            return Err(ApiError::token_not_valid());
        };

        // A wrong current password is a failed login: the same counters, so
        // a stolen token cannot be used to guess the password.
        let keys = self.failure_throttle_keys(&crate::user::normalize_email(&user.email), ctx);
        self.check_failure_throttles(&keys, ctx).await?;
        let phc = self
            .store()
            .password_hash(user.id)
            .await?
            .ok_or_else(ApiError::token_not_valid)?;
        let mut errors = FieldErrors::new();
        if !self.env().hasher.verify(old, phc.clone()).await? {
            let failed = ctx
                .audit(crate::audit::event::PASSWORD_CHANGE_FAILED, Some(user.id))
                .target_user(crate::audit::UserRef::Id(user.id))
                .detail(serde_json::json!({"reason": "invalid_old_password", "user_agent": ctx.user_agent()}));
            self.store().insert_audit(&failed).await?;
            self.spend_failure_throttles(&keys, ctx).await?;
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

        let salt: [u8; 16] = crate::random::bytes(self.env().random.as_ref());
        let hash = self.env().hasher.hash(new, salt).await?;
        let s = self.new_session();
        let insert = self.session_insert(&s, &ctx.client, ctx);
        let audit = ctx
            .audit(crate::audit::event::PASSWORD_CHANGED, Some(user.id))
            .target_user(crate::audit::UserRef::Id(user.id))
            .detail(serde_json::json!({"session_id": s.id.0}));
        // Compare-and-swap on the hash: of concurrent changes made with the
        // same current password exactly one wins; the others see it as wrong.
        let changed = self
            .store()
            .change_password(user.id, &phc, &hash, &insert, &audit)
            .await?;
        if !changed {
            return Err(old_password_wrong());
        }
        let pair = self.token_pair(
            &user,
            &ctx.client,
            &s.id,
            &s.jti,
            self.first_refresh_ttl(),
            ctx,
        );
        Ok(json_response(
            StatusCode::OK,
            &ChangePasswordOut {
                detail: "Password changed.".into(),
                access: pair.access,
                refresh: pair.refresh,
            },
        ))
    }
}

const OLD_PASSWORD_WRONG: &str = "Old password is not correct.";

fn old_password_wrong() -> ApiError {
    ApiError::field("old_password", OLD_PASSWORD_WRONG)
}
