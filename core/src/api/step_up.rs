//! Step-up on the current login: the routes that need a recent second
//! factor (`RequireMfa`, change-password) answer 403 `mfa_step_up_required`
//! when this login has not passed one in the last 15 minutes
//! (`mfa::STEP_UP_WINDOW_SECS`); `POST /api/auth/mfa/step-up/` passes one
//! now (a TOTP code, a recovery code or a passkey), without a new sign-in.

use super::mfa::{
    answer_in, check_answer, invalid_code, read_answer, record_failure, record_recovery_code_used,
    CodeWithoutDataKey, FAILURES_PER_USER,
};
use super::passkeys::PasskeysUnavailable;
use super::throttle::check_counter;
use super::types::{ErrorOut, NotAuthenticated};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::check;
use crate::mfa::{self, amr};
use crate::rate_limit::Quota;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Step-up answers per user, counted before each is looked at (parallel
/// guesses cannot exceed it); wrong ones also spend the sign-in's
/// per-user failures ([`FAILURES_PER_USER`]).
const ATTEMPTS_PER_USER: Quota = Quota {
    limit: 10,
    period_secs: 3600,
};

/// What a step-up's passkey challenge is bound to: this login (64 bits of a
/// hash of its id, as a sign-in's passkey challenge is bound to its
/// `mfa_token`), so it cannot answer another login's step-up or a sign-in.
fn binding(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    Ok(mfa::challenge_hash(&format!(
        "step-up:{}",
        ctx.caller()?.sid.0
    )))
}

/// `POST /api/auth/mfa/step-up/passkey/options/`: request options for the
/// caller's passkeys, for a step-up of this login.
pub(crate) async fn passkey_options(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = ctx.caller()?.user.clone();
    super::passkeys::mfa_options(ctx, &user, &binding(ctx)?).await
}

/// `POST /api/auth/mfa/step-up/`: `{code}`, `{recovery_code}` or
/// `{challenge_id, credential}` → 200 `{detail, mfa_at}`; this login's
/// second factor is recent from now, and the method joins its `amr`.
pub(crate) async fn step_up(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let user = caller.user.clone();
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let answer = read_answer(&body, &mut errors);
    check(errors)?;
    let Some(answer) = answer else {
        return Err(invalid_code());
    };
    // The attempt is spent before the answer is looked at.
    let tries = format!("mfa-step-up:user:{}", user.id.0);
    let fails = format!("mfa-fail:user:{}", user.id.0);
    for (key, quota, spend) in [
        (&tries, ATTEMPTS_PER_USER, true),
        (&fails, FAILURES_PER_USER, false),
    ] {
        check_counter(ctx, key, quota, spend, "mfa_throttled").await?;
    }
    let (method, outcome) = check_answer(ctx, &user, &answer, &binding(ctx)?).await?;
    let first = match outcome {
        Ok(assertion) => assertion.map(|a| a.passkey_use(user.id, ctx.now).statement()),
        Err(err) => {
            record_failure(ctx, &user, method, ("step_up", true.into())).await?;
            ctx.env()
                .rate_limits
                .check(&fails, FAILURES_PER_USER, ctx.now, true)
                .await?;
            return Err(err);
        }
    };
    let passkey = first.is_some();
    let audit = ctx
        .audit(event::MFA_STEPPED_UP, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": caller.sid.0, "method": method}));
    if !ctx
        .store()
        .step_up_session(&caller.sid, method, ctx.now, first, &audit)
        .await?
    {
        // A racing assertion moved the passkey's counter first (nothing
        // written), or the login ended meanwhile.
        return Err(if passkey {
            super::passkeys::counter_moved()
        } else {
            ApiError::token_not_valid()
        });
    }
    if method == amr::RECOVERY {
        record_recovery_code_used(ctx, &user).await?;
    }
    Ok(json_response(
        StatusCode::OK,
        &StepUpOut {
            detail: "Second factor confirmed.".into(),
            mfa_at: ctx.now.to_rfc3339(),
            valid_for: mfa::STEP_UP_WINDOW_SECS,
        },
    ))
}

answer_in! {
    /// One answer: a TOTP code, a recovery code, or a passkey's assertion (with
    /// the `challenge_id` of `mfa/step-up/passkey/options/`).
    StepUpIn {}
    answer {
        code;
        recovery_code;
        /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get`.
        credential;
        challenge_id;
    }
}

/// A step-up done.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepUpOut {
    pub detail: String,
    /// When (RFC 3339): the routes that need a recent second factor accept
    /// this login for `valid_for` seconds from then.
    pub mfa_at: String,
    pub valid_for: i64,
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(StepUpIn, StepUpOut)))]
pub(crate) struct StepUpDoc;

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer mfa_step_up, post "/api/auth/mfa/step-up/", "mfa", request_body = StepUpIn,
    responses(
        (status = 200, description = "This login's second factor is recent from now; its next refresh carries the method (and aal 2)", body = StepUpOut),
        (status = 400, description = "Field errors, a wrong code (`invalid_mfa_code`), a passkey answer that failed (`webauthn_*`)"),
        NotAuthenticated,
        (status = 429, description = "Too many answers for this user (`mfa_throttled`)", body = ErrorOut),
        CodeWithoutDataKey,
    )
}

operation! { bearer mfa_step_up_passkey_options, post "/api/auth/mfa/step-up/passkey/options/", "mfa",
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptions (JSON, allowCredentials: the caller's passkeys) and the challenge's id", body = crate::api::passkeys::PasskeyOptionsOut),
        (status = 400, description = "The user has no passkey (`unsupported_method`)"),
        NotAuthenticated,
        PasskeysUnavailable,
    )
}
