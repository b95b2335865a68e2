//! `POST /api/auth/email/verify/` (use a verification link's token) and
//! `POST /api/auth/email/verify/resend/` (mail the caller a new link).

use super::email_flow::{
    accepted, invalid_token, read_token, require_mail, send_verification, throttle, use_mark,
};
use super::types::{
    BadApiKey, DetailOut, EmailVerifiedOut, ErrorOut, MailNotConfigured, NotAuthenticated, TokenIn,
};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::email_token::{self, Purpose, TokenRow};
use crate::error::{json_response, ApiError};
use crate::store::email_tokens::verified_now;
use crate::user::{normalize_email, User, UserId};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) const EMAIL_VERIFIED: &str = "Email verified.";

pub(crate) async fn verify(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.body()?;
    let token = read_token(&body)?;
    verify_email(ctx, &token).await?;
    Ok(json_response(
        StatusCode::OK,
        &EmailVerifiedOut {
            detail: EMAIL_VERIFIED.into(),
            email_verified: true,
        },
    ))
}

/// Marks the token's user verified (the API route and Gatehouse's own
/// page), using the token atomically; audited `email.verified`.
pub(crate) async fn verify_email(ctx: &Ctx<'_>, token: &str) -> Result<(), ApiError> {
    let hash = email_token::token_hash(token);
    let row = ctx.store().email_token(&hash).await?;
    email_token::check(row.as_ref(), Purpose::Verify, ctx.now).map_err(|_| invalid_token())?;
    let user_id = UserId(row.as_ref().map_or(0, |r| r.user_id));
    let user = ctx.store().user(user_id).await?;
    if !still_addressed(row.as_ref(), user.as_ref()) {
        return Err(invalid_token());
    }
    let audit = ctx
        .audit(event::EMAIL_VERIFIED, Some(user_id))
        .target_user(UserRef::Id(user_id))
        .detail(serde_json::json!({"email": row.map(|r| r.email)}));
    let then = vec![verified_now(user_id, ctx.now), audit.statement()];
    let mark = use_mark(ctx);
    match ctx
        .store()
        .use_email_token(&hash, Purpose::Verify, ctx.now, &mark, then)
        .await?
    {
        Some(_) => Ok(()),
        None => Err(invalid_token()),
    }
}

/// Does the token still speak for the user's address? Its user must be
/// active and still have the address the link was mailed to (an email
/// change in between makes an old link worthless).
pub(crate) fn still_addressed(row: Option<&TokenRow>, user: Option<&User>) -> bool {
    match (row, user) {
        (Some(r), Some(u)) => u.is_active && normalize_email(&u.email) == normalize_email(&r.email),
        _ => false,
    }
}

pub(crate) async fn resend(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    require_mail(ctx)?;
    let user = ctx.caller()?.user.clone();
    if user.email_verified_at.is_some() {
        return Err(already_verified());
    }
    throttle(ctx, Purpose::Verify, &user.email).await?;
    let audit = ctx
        .audit(event::EMAIL_VERIFICATION_SENT, Some(user.id))
        .target_user(UserRef::Id(user.id));
    send_verification(ctx, &user, audit.statement()).await?;
    Ok(accepted(VERIFICATION_SENT))
}

pub(crate) const VERIFICATION_SENT: &str = "A verification link has been sent.";

pub(crate) fn already_verified() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "already_verified",
        "This email address is already verified.",
    )
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { client email_verify, post "/api/auth/email/verify/", "auth", request_body = TokenIn,
    responses(
        (status = 200, description = "The address is verified", body = EmailVerifiedOut),
        (status = 400, description = "`invalid_token` (unknown, used, replaced, expired or of another flow), or a field error on `token`"),
        BadApiKey,
    )
}

operation! { bearer email_verify_resend, post "/api/auth/email/verify/resend/", "auth",
    responses(
        (status = 202, description = "A new verification link was mailed (older links no longer work)", body = DetailOut),
        (status = 400, description = "`already_verified`", body = ErrorOut),
        (status = 429, description = "Too many requests (`email_throttled`)", body = ErrorOut),
        MailNotConfigured,
        NotAuthenticated,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::UnixMillis;
    use crate::user::UserType;

    fn user(email: &str, active: bool) -> User {
        User {
            email: email.into(),
            username: "ada".into(),
            is_active: active,
            ..User::sample(7, UserType::Creator)
        }
    }

    fn row(email: &str) -> TokenRow {
        TokenRow {
            purpose: "verify".into(),
            user_id: 7,
            email: email.into(),
            client_id: "cl".into(),
            expires_at: UnixMillis(1),
            used_at: None,
            attempts: 0,
            salt: None,
            code_hash: None,
        }
    }

    #[test]
    fn a_link_speaks_only_for_the_address_it_was_mailed_to() {
        let r = row("Ada@Example.com");
        assert!(still_addressed(
            Some(&r),
            Some(&user("Ada@example.com", true))
        ));
        assert!(!still_addressed(
            Some(&r),
            Some(&user("new@example.com", true))
        ));
        assert!(!still_addressed(
            Some(&r),
            Some(&user("Ada@example.com", false))
        ));
        assert!(!still_addressed(Some(&r), None));
        assert!(!still_addressed(None, Some(&user("Ada@example.com", true))));
    }
}
