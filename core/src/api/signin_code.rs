//! `POST /api/auth/code/request/` (mail a six-digit sign-in code) and
//! `POST /api/auth/code/verify/` (sign in with it), for clients that enable
//! sign-in codes (`signin_codes`, off by default).

use super::email_flow::{accepted, enqueue, mail_request, minutes, reset_target, use_mark};
use super::login::{check_failure_throttles, failure_throttle_keys, spend_failure_throttles};
use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{
    BadApiKey, CodeRequestIn, CodeVerifyIn, ErrorOut, MailRequestResponses, SignedIn,
};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::email_token::{self, CodeOutcome, Purpose};
use crate::error::{json_response, ApiError};
use crate::json::StrField;
use crate::mail;
use crate::store::email_tokens::TokenIssue;
use crate::user::normalize_email;
use bytes::Bytes;
use http::{Response, StatusCode};

/// The one answer to a code request, whether or not the address has an
/// account.
pub(crate) const CODE_SENT: &str =
    "If an account with this email exists, a sign-in code has been sent.";

fn disabled() -> ApiError {
    ApiError::detail(
        StatusCode::FORBIDDEN,
        "signin_code_disabled",
        "This client does not offer sign-in with an emailed code.",
    )
}

fn invalid_code() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "invalid_code",
        "This code is wrong or no longer valid.",
    )
}

pub(crate) async fn request(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    if !ctx.client.email.signin_codes {
        return Err(disabled());
    }
    let req = mail_request(ctx, Purpose::Code, invalid_code).await?;
    let rng = ctx.env().random.as_ref();
    let code = email_token::new_code(rng);
    let salt = email_token::new_salt(rng);
    let code_hash = email_token::code_hash(&salt, &code);
    // The row's key: a token that is never mailed (the code is what is).
    let key = email_token::new_token(rng);
    let ttl = ctx.config().signin_code_ttl_secs;
    let first = format!("Your sign-in code is {code}.");
    let valid = format!(
        "It is valid for {} minutes and for {} attempts.",
        minutes(ttl),
        email_token::MAX_CODE_ATTEMPTS
    );
    // The link is the same credential as the typed code (same row, same
    // attempts and expiry), only prefilled into the client's page.
    let url = ctx
        .client
        .email
        .signin_url
        .as_deref()
        .map(|base| email_token::code_link(base, &req.to, &code));
    let m = mail::compose(
        &req.to,
        &format!("{code} is your sign-in code"),
        &ctx.client.name,
        &[&first, &valid],
        url.as_deref().map(|url| mail::Action {
            label: "Sign in",
            url,
        }),
    );
    let audit = req.audit(ctx, event::SIGNIN_CODE_REQUESTED);
    let stored = ctx
        .store()
        .issue_email_token(TokenIssue {
            purpose: Purpose::Code,
            user: req.user.as_ref().map(|u| u.id),
            email: &req.to,
            client_id: &ctx.client.id.0,
            hash: &key.hash,
            now: ctx.now,
            expires_at: ctx.now.plus_secs(ttl),
            salt: Some(&salt),
            code_hash: Some(&code_hash),
            with: vec![enqueue(ctx, &m)],
            always: vec![audit],
        })
        .await?;
    if stored {
        ctx.mail_queued();
    }
    Ok(accepted(CODE_SENT))
}

pub(crate) async fn verify(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    if !ctx.client.email.signin_codes {
        return Err(disabled());
    }
    let fields = [
        StrField::required("email", 254),
        StrField::required("code", 32),
    ];
    let Some([email, code]) = ctx.body()?.strs(fields)? else {
        return Err(invalid_code());
    };
    let normalized = normalize_email(&email);
    // A wrong code is a failed login: the same counters.
    let keys = failure_throttle_keys(ctx, &normalized);
    check_failure_throttles(ctx, &keys).await?;
    let found = ctx.store().user_by_email(&normalized).await?;
    let user = reset_target(found.map(|f| f.user), |u| ctx.client.serves(u.user_type));
    let counted = match &user {
        Some(u) if email_token::code_well_formed(&code) => {
            ctx.store().count_code_attempt(u.id, ctx.now).await?
        }
        _ => None,
    };
    let outcome = email_token::check_code(counted.as_ref().map(|(_, r)| r), &code, ctx.now);
    if let (CodeOutcome::SignIn, Some(u), Some((hash, _))) = (outcome, &user, &counted) {
        // An emailed code is a first factor only: a user with a second
        // one gets a challenge (the code spent with it), never tokens.
        let factors = ctx.store().factors(u.id).await?;
        if !factors.methods().is_empty() {
            let r = super::mfa_required::required(ctx, u, crate::mfa::amr::EMAIL, &factors);
            let mark = use_mark(ctx);
            if ctx
                .store()
                .use_email_token(hash, Purpose::Code, ctx.now, &mark, vec![r.insert])
                .await?
                .is_some()
            {
                return Ok(r.response);
            }
            return Err(invalid_code());
        }
        let s = new_session(ctx, crate::mfa::amr::EMAIL);
        let insert = session_insert(ctx, &s);
        let audit = ctx
            .audit(event::LOGIN_SUCCEEDED, Some(u.id))
            .target_user(UserRef::Id(u.id))
            .detail(serde_json::json!({"session_id": s.id.0, "method": "code", "user_agent": ctx.user_agent()}));
        let mark = use_mark(ctx);
        if ctx
            .store()
            .sign_in_with_code(hash, u.id, &insert, &audit, &mark)
            .await?
        {
            let pair = token_pair(ctx, u, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
            return Ok(json_response(StatusCode::OK, &pair));
        }
    }
    let failed = ctx
        .audit(event::SIGNIN_CODE_FAILED, None)
        .target_user(user.as_ref().map_or(UserRef::None, |u| UserRef::Id(u.id)))
        .detail(serde_json::json!({"email": normalized, "user_agent": ctx.user_agent()}));
    ctx.store().insert_audit(&failed).await?;
    spend_failure_throttles(ctx, &keys).await?;
    Err(invalid_code())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

/// The refusal of both routes on a client that does not offer codes.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "This client does not offer sign-in codes (`signin_code_disabled`)"
)]
#[allow(dead_code)] // OpenAPI only
struct CodesDisabled(ErrorOut);

operation! { client code_request, post "/api/auth/code/request/", "auth", request_body = CodeRequestIn,
    responses(
        MailRequestResponses,
        CodesDisabled,
        (status = 429, description = "Too many requests (`email_throttled`)", body = ErrorOut),
    )
}

operation! { client code_verify, post "/api/auth/code/verify/", "auth", request_body = CodeVerifyIn,
    responses(
        SignedIn,
        (status = 400, description = "`invalid_code` (wrong, expired, spent, or past its 5 attempts), or field errors"),
        BadApiKey,
        CodesDisabled,
        (status = 429, description = "Too many failed sign-ins (`login_throttled`)", body = ErrorOut),
    )
}
