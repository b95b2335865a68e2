//! `POST /api/auth/email/change/` (the caller asks, with their password, to
//! move to a new address: a link to the new one, a notice to the old) and
//! `POST /api/auth/email/change/confirm/` (the link's token makes it so).

use super::email_flow::{
    accepted, invalid_token, issue, minutes, notice, own_page, read_token, require_mail, throttle,
    use_mark,
};
use super::login::spend_failure_throttles;
use super::reauth::guarded_password_hash;
use super::types::{
    BadApiKey, DetailOut, EmailChangeIn, EmailChangedOut, ErrorOut, MailNotConfigured,
    NotAuthenticated, TokenIn,
};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::email_token::{self, Purpose};
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, StrField};
use crate::mail::{self, Action};
use crate::sql::{SqlError, Statement};
use crate::store::email_tokens::spend_all_tokens;
use crate::user::{canonical_email, normalize_email, UserId, EMAIL_TAKEN};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) const CHANGE_SENT: &str = "A confirmation link has been sent to the new address.";
const SAME_EMAIL: &str = "This is already your email address.";
const PASSWORD_WRONG: &str = "Password is not correct.";

pub(crate) async fn request(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    require_mail(ctx)?;
    let user = ctx.caller()?.user.clone();
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let new_email = body
        .str(StrField::required("new_email", 254), &mut errors)
        .and_then(|e| {
            canonical_email(&e, ctx.config().allow_unicode_email_local_part)
                .map_err(|msg| push(&mut errors, "new_email", msg))
                .ok()
        });
    let password = body.str(StrField::password("password"), &mut errors);
    check(errors)?;
    let (Some(new_email), Some(password)) = (new_email, password) else {
        return Err(invalid_token());
    };
    if normalize_email(&new_email) == normalize_email(&user.email) {
        return Err(ApiError::field("new_email", SAME_EMAIL));
    }
    throttle(ctx, Purpose::EmailChange, &new_email).await?;

    // A wrong password is a failed login, as in change-password.
    let (keys, phc) = guarded_password_hash(ctx, &user).await?;
    if !ctx.env().hasher.verify(password, phc).await? {
        spend_failure_throttles(ctx, &keys).await?;
        return Err(ApiError::field("password", PASSWORD_WRONG));
    }
    if ctx.store().taken(&new_email, "").await?.email {
        return Err(ApiError::field("new_email", EMAIL_TAKEN));
    }
    let old_notice = notice(
        ctx,
        &user.email,
        "Your email address is being changed",
        &format!(
            "Someone signed in to your account asked to change its email address to {new_email}. It changes only when the link mailed to that address is used."
        ),
    );
    let audit = ctx
        .audit(event::EMAIL_CHANGE_REQUESTED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"from": user.email, "to": new_email}));
    let ttl = ctx.config().email_change_ttl_secs;
    let with = vec![super::email_flow::enqueue(ctx, &old_notice)];
    issue(
        ctx,
        Purpose::EmailChange,
        Some(&user),
        &new_email,
        |token| {
            let url = own_page(ctx, "/auth/email-change/", token);
            let valid = format!("The link is valid for {} minutes.", minutes(ttl));
            mail::compose(
                &new_email,
                "Confirm your new email address",
                &ctx.client.name,
                &[
                    "Please confirm that this is your account's new email address.",
                    &valid,
                ],
                Some(Action {
                    label: "Confirm the new address",
                    url: &url,
                }),
            )
        },
        with,
        audit.statement(),
    )
    .await?;
    Ok(accepted(CHANGE_SENT))
}

pub(crate) async fn confirm(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.body()?;
    let token = read_token(&body)?;
    let email = change_email(ctx, &token).await?;
    Ok(json_response(
        StatusCode::OK,
        &EmailChangedOut {
            detail: EMAIL_CHANGED.into(),
            email,
        },
    ))
}

pub(crate) const EMAIL_CHANGED: &str = "Email changed.";

/// Moves the token's user to the address the link was mailed to (the API
/// route and Gatehouse's own page), which then counts as verified; every
/// other mailed link of the user is spent; audited `email.changed`. The
/// new address must still be free (else a field error and nothing written).
pub(crate) async fn change_email(ctx: &Ctx<'_>, token: &str) -> Result<String, ApiError> {
    let hash = email_token::token_hash(token);
    let row = ctx.store().email_token(&hash).await?;
    email_token::check(row.as_ref(), Purpose::EmailChange, ctx.now).map_err(|_| invalid_token())?;
    let Some(row) = row else {
        return Err(invalid_token());
    };
    let user_id = UserId(row.user_id);
    let user = match ctx.store().user(user_id).await? {
        Some(u) if u.is_active => u,
        _ => return Err(invalid_token()),
    };
    let new_email = row.email;
    if ctx.store().taken(&new_email, "").await?.email {
        return Err(ApiError::field("email", EMAIL_TAKEN));
    }
    let audit = ctx
        .audit(event::EMAIL_CHANGED, Some(user_id))
        .target_user(UserRef::Id(user_id))
        .detail(serde_json::json!({"from": user.email, "to": new_email}));
    let then = vec![
        Statement::new(
            "UPDATE users SET email = ?, email_normalized = ?, email_verified_at = ? WHERE id = ?",
            vec![
                new_email.as_str().into(),
                normalize_email(&new_email).into(),
                ctx.now.0.into(),
                user_id.0.into(),
            ],
        ),
        spend_all_tokens(user_id, ctx.now),
        audit.statement(),
    ];
    let mark = use_mark(ctx);
    match ctx
        .store()
        .use_email_token(&hash, Purpose::EmailChange, ctx.now, &mark, then)
        .await
    {
        Ok(Some(_)) => Ok(new_email),
        Ok(None) => Err(invalid_token()),
        // Another account took the address in between.
        Err(SqlError::UniqueViolation(_)) => Err(ApiError::field("email", EMAIL_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer email_change, post "/api/auth/email/change/", "auth", request_body = EmailChangeIn,
    responses(
        (status = 202, description = "A confirmation link went to the new address, a notice to the old", body = DetailOut),
        (status = 400, description = "Field errors: an invalid, unchanged or taken address, a wrong password"),
        (status = 429, description = "Too many requests (`email_throttled`) or wrong passwords (`login_throttled`)", body = ErrorOut),
        MailNotConfigured,
        NotAuthenticated,
    )
}

operation! { client email_change_confirm, post "/api/auth/email/change/confirm/", "auth", request_body = TokenIn,
    responses(
        (status = 200, description = "The address changed (and counts as verified)", body = EmailChangedOut),
        (status = 400, description = "`invalid_token`, or the address was taken in the meantime (field error `email`)"),
        BadApiKey,
    )
}
