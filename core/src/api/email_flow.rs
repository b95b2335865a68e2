//! What the email flows share (verification, password reset, email change,
//! sign-in codes): the mail-enabled check, the per-address and per-IP
//! throttles, issuing a token with its mail, reading a presented token, and
//! the mails' texts.

use super::throttle::check_counter;
use crate::audit::UserRef;
use crate::context::Ctx;
use crate::email_token::{self, Purpose};
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, JsonBody, StrField};
use crate::mail::{self, Action, Mail};
use crate::sql::Statement;
use crate::store::email_tokens::TokenIssue;
use crate::user::{normalize_email, User};
use bytes::Bytes;
use http::{Response, StatusCode};

/// 503 `mail_not_configured` unless this deployment can send mail.
pub(crate) fn require_mail(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.config().mail_enabled {
        Ok(())
    } else {
        Err(ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "mail_not_configured",
            "This service cannot send mail, so this is not available.",
        ))
    }
}

/// 400 `invalid_token`: unknown, used, replaced, expired or of another flow
/// (one answer for all).
pub(crate) fn invalid_token() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "invalid_token",
        "This link is invalid or has expired.",
    )
}

/// A 202 with `detail`.
pub(crate) fn accepted(detail: &str) -> Response<Bytes> {
    json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "detail": detail }),
    )
}

/// Spends one request of `purpose` against the address's and the IP's
/// quotas (whether or not the address has an account): 429
/// `email_throttled` with `Retry-After` when either is spent.
pub(crate) async fn throttle(
    ctx: &Ctx<'_>,
    purpose: Purpose,
    address: &str,
) -> Result<(), ApiError> {
    let cfg = ctx.config();
    let p = purpose.as_str();
    let mut keys = vec![(
        format!("email:{p}:addr:{}", crate::user::normalize_email(address)),
        cfg.email_requests_per_address,
    )];
    if let Some(ip) = ctx.ip() {
        keys.push((format!("email:{p}:ip:{ip}"), cfg.email_requests_per_ip));
    }
    for (key, quota) in keys {
        check_counter(ctx, &key, quota, true, "email_throttled").await?;
    }
    Ok(())
}

/// A request that mails an address without saying whether it has an
/// account (password reset, sign-in code), read and throttled: the address
/// as compared, the account the mail is for (if any) and where it goes.
pub(crate) struct MailRequest {
    pub normalized: String,
    pub user: Option<User>,
    pub to: String,
}

/// Reads a [`MailRequest`]: mail on, the body's `email`, the throttles of
/// `purpose`, the account. `refusal` answers a body without an email that
/// passed the field checks (none does).
pub(crate) async fn mail_request(
    ctx: &Ctx<'_>,
    purpose: Purpose,
    refusal: fn() -> ApiError,
) -> Result<MailRequest, ApiError> {
    require_mail(ctx)?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let email = body.str(StrField::required("email", 254), &mut errors);
    check(errors)?;
    let Some(email) = email else {
        return Err(refusal());
    };
    let normalized = normalize_email(&email);
    throttle(ctx, purpose, &normalized).await?;
    let found = ctx.store().user_by_email(&normalized).await?;
    let user = reset_target(found.map(|f| f.user), |u| ctx.client.serves(u.user_type));
    let to = user.as_ref().map_or(email, |u| u.email.clone());
    Ok(MailRequest {
        normalized,
        user,
        to,
    })
}

impl MailRequest {
    /// The request's audit row (written whether or not a mail goes out).
    pub(crate) fn audit(&self, ctx: &Ctx<'_>, event: &'static str) -> Statement {
        let user = self
            .user
            .as_ref()
            .map_or(UserRef::None, |u| UserRef::Id(u.id));
        let detail = serde_json::json!({"email": self.normalized, "user_agent": ctx.user_agent()});
        ctx.audit(event, None)
            .target_user(user)
            .detail(detail)
            .statement()
    }
}

/// Who a mail request mails: an active account of a type the client
/// serves; anyone else gets the same answer and no mail.
pub(crate) fn reset_target(account: Option<User>, serves: impl Fn(&User) -> bool) -> Option<User> {
    account.filter(|u| u.is_active && serves(u))
}

/// The `token` field: a string that could be one of ours, else 400
/// `invalid_token` (no lookup); missing or not a string is a field error.
pub(crate) fn read_token(body: &JsonBody) -> Result<String, ApiError> {
    let mut errors = crate::error::FieldErrors::new();
    let token = body.str(crate::json::StrField::required("token", 4096), &mut errors);
    crate::json::check(errors)?;
    match token {
        Some(t) if email_token::well_formed(&t) => Ok(t),
        _ => Err(invalid_token()),
    }
}

/// A random mark for this request's use of a token (`Store::use_email_token`).
pub(crate) fn use_mark(ctx: &Ctx<'_>) -> String {
    mail::outbox::new_id(ctx.env().random.as_ref())
}

/// The outbox statement for `mail`.
pub(crate) fn enqueue(ctx: &Ctx<'_>, mail: &Mail) -> Statement {
    let id = mail::outbox::new_id(ctx.env().random.as_ref());
    mail::outbox::enqueue(mail, &id, ctx.now)
}

/// Issues a token of `purpose` for `user` (None: no eligible account; the
/// same work is done and only a spent decoy token and `audit` are
/// written), mailing `to` the mail that `compose(link_token)` builds,
/// written with the token; `audit` is written either way. The expiry is
/// its purpose's lifetime from now. True when a token was stored (and a mail queued).
pub(crate) async fn issue(
    ctx: &Ctx<'_>,
    purpose: Purpose,
    user: Option<&User>,
    to: &str,
    compose: impl FnOnce(&str) -> Mail,
    mut with: Vec<Statement>,
    audit: Statement,
) -> Result<bool, ApiError> {
    let t = email_token::new_token(ctx.env().random.as_ref());
    let mail = compose(&t.token);
    with.insert(0, enqueue(ctx, &mail));
    let stored = ctx
        .store()
        .issue_email_token(TokenIssue {
            purpose,
            user: user.map(|u| u.id),
            email: to,
            client_id: &ctx.client.id.0,
            hash: &t.hash,
            now: ctx.now,
            expires_at: ctx.now.plus_secs(ttl_secs(ctx, purpose)),
            salt: None,
            code_hash: None,
            with,
            always: vec![audit],
        })
        .await?;
    if stored {
        ctx.mail_queued();
    }
    Ok(stored)
}

/// The configured lifetime of a token of `purpose`.
pub(crate) fn ttl_secs(ctx: &Ctx<'_>, purpose: Purpose) -> i64 {
    let cfg = ctx.config();
    match purpose {
        Purpose::Verify => cfg.verify_token_ttl_secs,
        Purpose::Reset => cfg.reset_token_ttl_secs,
        Purpose::EmailChange => cfg.email_change_ttl_secs,
        Purpose::Code => cfg.signin_code_ttl_secs,
    }
}

/// Gatehouse's own page `path` (e.g. `/auth/reset/`) for `token`.
pub(crate) fn own_page(ctx: &Ctx<'_>, path: &str, token: &str) -> String {
    email_token::link(
        &format!("{}{path}", ctx.config().public_url.trim_end_matches('/')),
        token,
    )
}

/// Minutes, for the mails' "valid for" sentences.
pub(crate) fn minutes(secs: i64) -> i64 {
    (secs + 59) / 60
}

/// The verification mail.
pub(crate) fn verification_mail(ctx: &Ctx<'_>, to: &str, token: &str) -> Mail {
    let url = own_page(ctx, "/auth/verify/", token);
    let valid = format!(
        "The link is valid for {} hours.",
        ctx.config().verify_token_ttl_secs / 3600
    );
    mail::compose(
        to,
        "Confirm your email address",
        &ctx.client.name,
        &["Please confirm that this address is yours.", &valid],
        Some(Action {
            label: "Confirm your email address",
            url: &url,
        }),
    )
}

/// Issues a verification token for `user` with its mail (and `with`).
pub(crate) async fn send_verification(
    ctx: &Ctx<'_>,
    user: &User,
    audit: Statement,
) -> Result<bool, ApiError> {
    issue(
        ctx,
        Purpose::Verify,
        Some(user),
        &user.email,
        |token| verification_mail(ctx, &user.email, token),
        Vec::new(),
        audit,
    )
    .await
}

/// The reset mail: to the client's `reset_url`, else Gatehouse's page.
pub(crate) fn reset_mail(ctx: &Ctx<'_>, to: &str, token: &str) -> Mail {
    let url = match &ctx.client.email.reset_url {
        Some(base) => email_token::link(base, token),
        None => own_page(ctx, "/auth/reset/", token),
    };
    let valid = format!(
        "The link is valid for {} minutes and can be used once.",
        minutes(ctx.config().reset_token_ttl_secs)
    );
    mail::compose(
        to,
        "Reset your password",
        &ctx.client.name,
        &[
            "Someone asked to reset the password of your account.",
            &valid,
        ],
        Some(Action {
            label: "Choose a new password",
            url: &url,
        }),
    )
}

/// Issues a reset token for `user` (None: no eligible account, nothing
/// written) and mails it to `to`.
pub(crate) async fn send_reset(
    ctx: &Ctx<'_>,
    user: Option<&User>,
    to: &str,
    audit: Statement,
) -> Result<bool, ApiError> {
    issue(
        ctx,
        Purpose::Reset,
        user,
        to,
        |token| reset_mail(ctx, to, token),
        Vec::new(),
        audit,
    )
    .await
}

/// A notice to `to` (no link): a password reset, an email change.
pub(crate) fn notice(ctx: &Ctx<'_>, to: &str, subject: &str, text: &str) -> Mail {
    mail::compose(
        to,
        subject,
        &ctx.client.name,
        &[
            text,
            "If this was not you, contact the service's support at once.",
        ],
        None,
    )
}
