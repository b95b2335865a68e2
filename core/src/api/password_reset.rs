//! `POST /api/auth/password/reset/` (mail a reset link) and
//! `POST /api/auth/password/reset/confirm/` (set a new password with it).

use super::email_flow::{
    accepted, enqueue, invalid_token, mail_request, notice, read_token, require_mail, send_reset,
    use_mark,
};
use super::types::{
    BadApiKey, DetailOut, ErrorOut, MailNotConfigured, MailRequestResponses,
    PasswordResetConfirmIn, PasswordResetIn,
};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::email_token::{self, Purpose};
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, StrField};
use crate::password::validation::{validate_password, UserAttributes, MISMATCH};
use crate::sql::Statement;
use crate::store::email_tokens::spend_all_tokens;
use crate::user::{User, UserId};
use bytes::Bytes;
use http::{Response, StatusCode};

/// The one answer to a reset request, whether or not the address has an
/// account.
pub(crate) const RESET_SENT: &str =
    "If an account with this email exists, a link to reset its password has been sent.";

pub(crate) async fn request(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let req = mail_request(ctx, Purpose::Reset, invalid_token).await?;
    // The same statements either way (they write nothing without a user),
    // so an unknown address answers as fast as a known one.
    let audit = req.audit(ctx, event::PASSWORD_RESET_REQUESTED);
    send_reset(ctx, req.user.as_ref(), &req.to, audit).await?;
    Ok(accepted(RESET_SENT))
}

pub(crate) async fn confirm(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    require_mail(ctx)?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let password = body.str(StrField::password("password"), &mut errors);
    let password2 = body.str(StrField::password("password2"), &mut errors);
    let token = read_token(&body)?;
    check(errors)?;
    let (Some(password), Some(password2)) = (password, password2) else {
        return Err(invalid_token());
    };
    reset_password(ctx, &token, &password, &password2).await?;
    Ok(json_response(
        StatusCode::OK,
        &DetailOut {
            detail: PASSWORD_RESET_DONE.into(),
        },
    ))
}

pub(crate) const PASSWORD_RESET_DONE: &str = "Your password has been reset.";

/// Sets the password of the reset token's user (the API route and
/// Gatehouse's own reset page): the register's validation, every login
/// revoked, every other mailed link spent, a notice mail, audited
/// `password.reset`; the token is used atomically (of two racing confirms
/// one wins, the other is `invalid_token`).
pub(crate) async fn reset_password(
    ctx: &Ctx<'_>,
    token: &str,
    password: &str,
    password2: &str,
) -> Result<(), ApiError> {
    let hash = email_token::token_hash(token);
    let row = ctx.store().email_token(&hash).await?;
    email_token::check(row.as_ref(), Purpose::Reset, ctx.now).map_err(|_| invalid_token())?;
    let user_id = UserId(row.map_or(0, |r| r.user_id));
    let user = match ctx.store().user(user_id).await? {
        Some(u) if u.is_active => u,
        _ => return Err(invalid_token()),
    };
    let mut errors = FieldErrors::new();
    for msg in password_errors(&user, password, password2) {
        push(&mut errors, "password", msg);
    }
    check(errors)?;

    let salt: [u8; 16] = crate::random::bytes(ctx.env().random.as_ref());
    let new_hash = ctx.env().hasher.hash(password.to_owned(), salt).await?;
    let audit = ctx
        .audit(event::PASSWORD_RESET, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .changes_as("sessions_revoked");
    let mail = notice(
        ctx,
        &user.email,
        "Your password was reset",
        "The password of your account was reset, and every signed-in device was signed out.",
    );
    let then = vec![
        // Receiving the link proves the address too.
        Statement::new(
            "UPDATE users SET password_hash = ?, email_verified_at = coalesce(email_verified_at, ?) WHERE id = ?",
            vec![new_hash.into(), ctx.now.0.into(), user.id.0.into()],
        ),
        Statement::new(
            "UPDATE sessions SET revoked_at = ?, revoked_reason = 'password_reset' WHERE user_id = ? AND revoked_at IS NULL",
            vec![ctx.now.0.into(), user.id.0.into()],
        ),
        audit.statement(),
        spend_all_tokens(user.id, ctx.now),
        enqueue(ctx, &mail),
    ];
    let mark = use_mark(ctx);
    match ctx
        .store()
        .use_email_token(&hash, Purpose::Reset, ctx.now, &mark, then)
        .await?
    {
        Some(_) => {
            ctx.mail_queued();
            Ok(())
        }
        None => Err(invalid_token()),
    }
}

/// The register's password rules: the pair must match, then Django's
/// validators against the user's attributes.
pub(crate) fn password_errors(user: &User, password: &str, password2: &str) -> Vec<String> {
    if password != password2 {
        return vec![MISMATCH.to_owned()];
    }
    let attrs = UserAttributes {
        username: &user.username,
        email: &user.email,
        first_name: &user.first_name,
        last_name: &user.last_name,
    };
    validate_password(password, &attrs)
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { client password_reset, post "/api/auth/password/reset/", "auth", request_body = PasswordResetIn,
    responses(
        MailRequestResponses,
        (status = 429, description = "Too many requests for this address or from this IP (`email_throttled`)", body = ErrorOut),
    )
}

operation! { client password_reset_confirm, post "/api/auth/password/reset/confirm/", "auth", request_body = PasswordResetConfirmIn,
    responses(
        (status = 200, description = "Password set; every login of the user revoked", body = DetailOut),
        (status = 400, description = "`invalid_token`, or field errors on the new password"),
        BadApiKey,
        MailNotConfigured,
    )
}

#[cfg(test)]
mod tests {
    use super::super::email_flow::reset_target;
    use super::*;
    use crate::user::UserType;

    fn user(active: bool, t: UserType) -> User {
        User {
            email: "ada@example.com".into(),
            username: "ada".into(),
            is_active: active,
            ..User::sample(7, t)
        }
    }

    #[test]
    fn only_active_served_accounts_get_a_reset_mail() {
        let creators = |u: &User| u.user_type == UserType::Creator;
        assert!(reset_target(Some(user(true, UserType::Creator)), creators).is_some());
        assert!(reset_target(Some(user(false, UserType::Creator)), creators).is_none());
        assert!(reset_target(Some(user(true, UserType::Staff)), creators).is_none());
        assert!(reset_target(None, creators).is_none());
    }

    #[test]
    fn the_new_password_is_held_to_the_register_rules() {
        let u = user(true, UserType::Creator);
        assert_eq!(password_errors(&u, "a", "b"), [MISMATCH]);
        let weak = password_errors(&u, "12345", "12345");
        assert!(weak.iter().any(|m| m.contains("too short")), "{weak:?}");
        let similar = password_errors(&u, "ada@example.com", "ada@example.com");
        assert!(similar.iter().any(|m| m.contains("similar")), "{similar:?}");
        assert!(password_errors(&u, "correct horse battery", "correct horse battery").is_empty());
    }
}
