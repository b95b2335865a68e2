//! Second factors (`/api/auth/mfa/…`): TOTP enrolment, the factor list,
//! disabling, recovery codes, and the second step of a sign-in
//! (`mfa/verify/`). Pure rules in `crate::mfa`, SQL in `store/mfa.rs`.

use super::login::{check_failure_throttles, failure_throttle_keys, spend_failure_throttles};
use super::passkeys::{MfaAssertion, PasskeysUnavailable};
use super::throttle::check_counter;
use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{DetailOut, ErrorOut, NotAuthenticated, SignedIn};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, JsonBody, StrField};
use crate::mfa::{self, amr, seal, totp, DataKey};
use crate::rate_limit::Quota;
use crate::store::mfa::{Factors, PasskeyFinish};
use crate::token::new_jti;
use crate::user::User;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Wrong second-step answers per user, over all their challenges: the
/// per-challenge cap stops one challenge, this stops many (a password thief
/// starting challenge after challenge).
pub(crate) const FAILURES_PER_USER: Quota = Quota {
    limit: 10,
    period_secs: 3600,
};

fn not_configured() -> ApiError {
    ApiError::detail(
        StatusCode::SERVICE_UNAVAILABLE,
        "mfa_not_configured",
        "This deployment has no data key (GATEHOUSE_DATA_KEY): TOTP is not available.",
    )
}

fn data_key<'c>(ctx: &'c Ctx<'_>) -> Result<&'c DataKey, ApiError> {
    ctx.config().data_key.as_ref().ok_or_else(not_configured)
}

pub(super) fn invalid_code() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "invalid_mfa_code",
        "The code is not valid.",
    )
}

fn token_invalid() -> ApiError {
    ApiError::detail(
        StatusCode::UNAUTHORIZED,
        "mfa_token_invalid",
        "The sign-in attempt has expired or was used; sign in again.",
    )
}

/// `POST /api/auth/mfa/totp/enroll/`: a new secret (pending until confirmed).
pub(crate) async fn enroll(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    let key = data_key(ctx)?;
    let rng = ctx.env().random.as_ref();
    let secret: [u8; totp::SECRET_LEN] = crate::random::bytes(rng);
    let id = format!("totp_{}", new_jti(rng));
    let sealed = seal::seal(key, crate::random::bytes(rng), &id, &secret);
    if !ctx
        .store()
        .start_totp(user.id, &id, &sealed, ctx.now)
        .await?
    {
        return Err(already_enrolled());
    }
    let b32 = totp::base32(&secret);
    let uri = totp::otpauth_uri(&ctx.config().issuer, &user.email, &b32);
    let qr_svg = totp::qr_svg(&uri);
    Ok(json_response(
        StatusCode::OK,
        &TotpEnrollOut {
            secret: b32,
            otpauth_uri: uri,
            qr_svg,
        },
    ))
}

fn already_enrolled() -> ApiError {
    ApiError::detail(
        StatusCode::CONFLICT,
        "mfa_already_enrolled",
        "TOTP is already set up; disable it first.",
    )
}

/// `POST /api/auth/mfa/totp/confirm/`: the first code turns the pending
/// factor on; the answer carries the recovery codes, shown this once.
pub(crate) async fn confirm(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let code = body.str(StrField::required("code", 16), &mut errors);
    check(errors)?;
    let key = data_key(ctx)?;
    let Some(row) = ctx.store().totp_factor(user.id).await? else {
        return Err(no_pending());
    };
    if row.confirmed_at.is_some() {
        return Err(already_enrolled());
    }
    let secret = seal::open(key, &row.id, &row.secret_sealed).ok_or_else(not_configured)?;
    let Some(step) = totp::verify(&secret, &code.unwrap_or_default(), ctx.now, None) else {
        return Err(invalid_code());
    };
    let codes = mfa::new_recovery_codes(ctx.env().random.as_ref());
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    let audit = ctx
        .audit(event::MFA_ENROLLED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"kind": "totp"}));
    if !ctx
        .store()
        .confirm_totp(user.id, &row.id, step, &hashes, ctx.now, &audit)
        .await?
    {
        return Err(no_pending());
    }
    Ok(json_response(
        StatusCode::OK,
        &RecoveryCodesOut {
            recovery_codes: codes.into_iter().map(|(c, _)| c).collect(),
        },
    ))
}

fn no_pending() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "mfa_not_enrolling",
        "Start with POST /api/auth/mfa/totp/enroll/.",
    )
}

/// `GET /api/auth/mfa/factors/`.
pub(crate) async fn factors(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    let f = ctx.store().factors(user.id).await?;
    Ok(json_response(StatusCode::OK, &factors_out(&f)))
}

fn factors_out(f: &Factors) -> FactorsOut {
    FactorsOut {
        totp: f.totp.map(|at| TotpOut {
            confirmed_at: at.to_rfc3339(),
        }),
        recovery_codes_left: f.recovery_codes_left,
        methods: f.methods().iter().map(|m| m.to_string()).collect(),
    }
}

/// `POST /api/auth/mfa/totp/disable/` (behind `RequireMfa`): with the
/// password or a current code, removes TOTP and the recovery codes.
pub(crate) async fn disable(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let password = body.str(
        StrField::password("password").required_when(false),
        &mut errors,
    );
    let code = body.str(
        StrField::required("code", 16).required_when(false),
        &mut errors,
    );
    if password.is_none() && code.is_none() && errors.is_empty() {
        push(
            &mut errors,
            "password",
            "Give the password or a current code.",
        );
    }
    check(errors)?;
    let proven = match (password, code) {
        (Some(pw), _) => password_matches(ctx, user, pw).await?,
        (None, Some(code)) => totp_matches(ctx, user, &code).await?,
        (None, None) => false,
    };
    if !proven {
        return Err(ApiError::detail(
            StatusCode::BAD_REQUEST,
            "invalid_credentials",
            "The password or code is not right.",
        ));
    }
    let audit = ctx
        .audit(event::MFA_REMOVED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"kind": "totp"}));
    ctx.store()
        .remove_factors(user.id, false, &audit, None)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &DetailOut {
            detail: "Second factors removed.".into(),
        },
    ))
}

/// The caller's password, held to the failed-login throttles.
async fn password_matches(ctx: &Ctx<'_>, user: &User, password: String) -> Result<bool, ApiError> {
    let keys = failure_throttle_keys(ctx, &crate::user::normalize_email(&user.email));
    check_failure_throttles(ctx, &keys).await?;
    let phc = match ctx
        .store()
        .user_by_email(&crate::user::normalize_email(&user.email))
        .await?
    {
        Some(f) if f.user.id == user.id => f.password_hash,
        _ => ctx.shared.dummy_hash.clone(),
    };
    let ok = ctx.env().hasher.verify(password, phc).await?;
    if !ok {
        spend_failure_throttles(ctx, &keys).await?;
    }
    Ok(ok)
}

/// A current TOTP code of the caller (spent: it cannot be used again).
pub(super) async fn totp_matches(ctx: &Ctx<'_>, user: &User, code: &str) -> Result<bool, ApiError> {
    let key = data_key(ctx)?;
    let Some(row) = ctx.store().totp_factor(user.id).await? else {
        return Ok(false);
    };
    if row.confirmed_at.is_none() {
        return Ok(false);
    }
    let secret = seal::open(key, &row.id, &row.secret_sealed).ok_or_else(not_configured)?;
    match totp::verify(&secret, code, ctx.now, row.last_used_step) {
        Some(step) => Ok(ctx.store().use_totp_step(&row.id, step).await?),
        None => Ok(false),
    }
}

/// `POST /api/auth/mfa/recovery-codes/regenerate/` (behind `RequireMfa`).
pub(crate) async fn regenerate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    if ctx.store().factors(user.id).await?.totp.is_none() {
        return Err(ApiError::detail(
            StatusCode::BAD_REQUEST,
            "mfa_not_enrolled",
            "Recovery codes go with a second factor; set one up first.",
        ));
    }
    let codes = mfa::new_recovery_codes(ctx.env().random.as_ref());
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    let audit = ctx
        .audit(event::MFA_RECOVERY_CODES_REGENERATED, Some(user.id))
        .target_user(UserRef::Id(user.id));
    ctx.store()
        .replace_recovery_codes(user.id, &hashes, ctx.now, &audit)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &RecoveryCodesOut {
            recovery_codes: codes.into_iter().map(|(c, _)| c).collect(),
        },
    ))
}

/// One answer to a second-factor check (a sign-in's second step, or a
/// step-up of the current login).
pub(super) enum Answer {
    Code(String),
    Recovery(String),
    /// The credential's JSON (re-serialised: the verifier reads bytes) and
    /// the `challenge_id` of the matching passkey options route.
    Passkey {
        challenge_id: String,
        credential: Vec<u8>,
    },
}

/// Reads the one answer of `body` — `code`, `recovery_code`, or
/// `challenge_id` with `credential` — its field errors into `errors`.
pub(super) fn read_answer(body: &JsonBody, errors: &mut FieldErrors) -> Option<Answer> {
    let code = body.str(StrField::required("code", 16).required_when(false), errors);
    let recovery = body.str(
        StrField::required("recovery_code", 64).required_when(false),
        errors,
    );
    let credential = match body.value("credential") {
        Some(v @ serde_json::Value::Object(_)) => serde_json::to_vec(v).ok(),
        Some(_) => {
            push(
                errors,
                "credential",
                "Must be the credential's JSON object.",
            );
            None
        }
        None => None,
    };
    let challenge_id = body.str(
        StrField::required("challenge_id", 128).required_when(credential.is_some()),
        errors,
    );
    if !errors.is_empty() {
        return None;
    }
    match (code, recovery, credential) {
        (Some(c), None, None) => Some(Answer::Code(c)),
        (None, Some(r), None) => Some(Answer::Recovery(r)),
        (None, None, Some(credential)) => Some(Answer::Passkey {
            challenge_id: challenge_id.unwrap_or_default(),
            credential,
        }),
        _ => {
            push(
                errors,
                "code",
                "Give exactly one of code, recovery_code and credential.",
            );
            None
        }
    }
}

/// Checks `answer` for `user`, spending what it uses (a TOTP step, a
/// recovery code, a passkey challenge bound to `binding`): the method it
/// counts as (`amr`), and the refusal or, for a passkey, the assertion to
/// write with the change it allows.
pub(super) async fn check_answer(
    ctx: &Ctx<'_>,
    user: &User,
    answer: &Answer,
    binding: &str,
) -> Result<(&'static str, Result<Option<MfaAssertion>, ApiError>), ApiError> {
    Ok(match answer {
        Answer::Code(code) => (
            amr::OTP,
            match totp_matches(ctx, user, code).await? {
                true => Ok(None),
                false => Err(invalid_code()),
            },
        ),
        Answer::Recovery(rc) => (
            amr::RECOVERY,
            match ctx
                .store()
                .use_recovery_code(user.id, &mfa::recovery_hash(rc), ctx.now)
                .await?
            {
                true => Ok(None),
                false => Err(invalid_code()),
            },
        ),
        Answer::Passkey {
            challenge_id,
            credential,
        } => (
            amr::HWK,
            super::passkeys::mfa_assertion(ctx, user, binding, challenge_id, credential)
                .await?
                .map(Some),
        ),
    })
}

/// Audits a refused answer (`mfa.failed`) with the method and one more
/// detail of the caller's (`attempt`, `step_up`).
pub(super) async fn record_failure(
    ctx: &Ctx<'_>,
    user: &User,
    method: &str,
    (key, value): (&str, serde_json::Value),
) -> Result<(), ApiError> {
    let mut detail = serde_json::json!({"method": method, "user_agent": ctx.user_agent()});
    detail[key] = value;
    let failed = ctx
        .audit(event::MFA_FAILED, None)
        .target_user(UserRef::Id(user.id))
        .detail(detail);
    Ok(ctx.store().insert_audit(&failed).await?)
}

/// Audits a spent recovery code, with how many are left.
pub(super) async fn record_recovery_code_used(ctx: &Ctx<'_>, user: &User) -> Result<(), ApiError> {
    let left = ctx.store().factors(user.id).await?.recovery_codes_left;
    let used = ctx
        .audit(event::MFA_RECOVERY_CODE_USED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"left": left}));
    Ok(ctx.store().insert_audit(&used).await?)
}

/// `POST /api/auth/mfa/verify/`: the second step of a sign-in.
pub(crate) async fn verify(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let token = body.str(StrField::required("mfa_token", 128), &mut errors);
    let answer = read_answer(&body, &mut errors);
    check(errors)?;
    let (Some(token), Some(answer)) = (token, answer) else {
        return Err(invalid_code());
    };
    let hash = mfa::challenge_hash(&token);
    // The attempt is counted before the answer is looked at: parallel
    // guesses each take one of the challenge's attempts, or are refused.
    let Some(ch) = ctx.store().count_challenge_attempt(&hash).await? else {
        return Err(token_invalid());
    };
    if !mfa::challenge_usable(&ch, &ctx.client.id, ctx.now) {
        return Err(token_invalid());
    }
    let failures = format!("mfa-fail:user:{}", ch.user_id.0);
    check_counter(ctx, &failures, FAILURES_PER_USER, false, "mfa_throttled").await?;
    let user = match ctx.store().user(ch.user_id).await? {
        Some(u) if u.is_active && ctx.client.serves(u.user_type) => u,
        _ => return Err(token_invalid()),
    };
    let (method, outcome) = check_answer(ctx, &user, &answer, &hash).await?;
    let passkey = match outcome {
        Ok(passkey) => passkey,
        Err(err) => {
            record_failure(ctx, &user, method, ("attempt", ch.attempts.into())).await?;
            ctx.env()
                .rate_limits
                .check(&failures, FAILURES_PER_USER, ctx.now, true)
                .await?;
            return Err(err);
        }
    };
    let methods = format!("{},{method}", ch.amr);
    let s = new_session(ctx, &methods);
    let insert = session_insert(ctx, &s);
    let mut detail = serde_json::json!({"session_id": s.id.0, "amr": mfa::amr_list(&methods), "user_agent": ctx.user_agent()});
    if let Some(a) = &passkey {
        detail["passkey_id"] = a.passkey_id.clone().into();
    }
    let audit = ctx
        .audit(event::LOGIN_SUCCEEDED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(detail);
    let mark = new_jti(ctx.env().random.as_ref());
    if let Some(a) = &passkey {
        let used = a.passkey_use(user.id, ctx.now);
        match ctx
            .store()
            .finish_challenge_with_passkey(&hash, &used, &insert, &audit, &mark)
            .await?
        {
            PasskeyFinish::Done => {}
            PasskeyFinish::Counter => return Err(super::passkeys::counter_moved()),
            PasskeyFinish::Spent => return Err(token_invalid()),
        }
    } else if !ctx
        .store()
        .finish_challenge(&hash, user.id, &insert, &audit, &mark)
        .await?
    {
        return Err(token_invalid());
    }
    if method == amr::RECOVERY {
        record_recovery_code_used(ctx, &user).await?;
    }
    let pair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    Ok(json_response(StatusCode::OK, &pair))
}

/// `POST /api/auth/mfa/passkey/options/`: request options for the passkeys
/// of the user a sign-in challenge (`mfa_token`) is for. No attempt is
/// counted: the answer at `mfa/verify/` is.
pub(crate) async fn passkey_options(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let token = body.str(StrField::required("mfa_token", 128), &mut errors);
    check(errors)?;
    let hash = mfa::challenge_hash(&token.unwrap_or_default());
    let ch = match ctx.store().peek_challenge(&hash).await? {
        Some(ch) if mfa::challenge_usable(&ch, &ctx.client.id, ctx.now) => ch,
        _ => return Err(token_invalid()),
    };
    let user = match ctx.store().user(ch.user_id).await? {
        Some(u) if u.is_active && ctx.client.serves(u.user_type) => u,
        _ => return Err(token_invalid()),
    };
    super::passkeys::mfa_options(ctx, &user, &hash).await
}

// ---- JSON shapes

/// A new TOTP secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollOut {
    /// The secret, base32 (for typing into an app).
    pub secret: String,
    /// The `otpauth://` URI (what the QR code holds).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: Option<String>,
}

/// A code from the authenticator app.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpCodeIn {
    /// Six digits.
    #[schema(min_length = 1, max_length = 16)]
    pub code: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesOut {
    pub recovery_codes: Vec<String>,
}

/// A confirmed TOTP factor.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpOut {
    pub confirmed_at: String,
}

/// The caller's second factors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FactorsOut {
    pub totp: Option<TotpOut>,
    pub recovery_codes_left: i64,
    /// What a sign-in's second step accepts (`totp`, `recovery_code`).
    pub methods: Vec<String>,
}

/// The password, or a current code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaDisableIn {
    pub password: Option<String>,
    #[schema(max_length = 16)]
    pub code: Option<String>,
}

/// A body of `head`'s fields and the answer fields [`read_answer`] reads,
/// each with the docs given in `answer { … }` (the sign-in's second step
/// and the step-up word them apart).
macro_rules! answer_in {
    ($(#[$doc:meta])* $name:ident { $($head:tt)* } answer {
        $(#[$code:meta])* code;
        $(#[$recovery:meta])* recovery_code;
        $(#[$credential:meta])* credential;
        $(#[$challenge:meta])* challenge_id;
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            $($head)*
            $(#[$code])*
            #[schema(max_length = 16)]
            pub code: Option<String>,
            $(#[$recovery])*
            #[schema(max_length = 64)]
            pub recovery_code: Option<String>,
            $(#[$credential])*
            #[schema(value_type = Option<Object>)]
            pub credential: Option<serde_json::Value>,
            $(#[$challenge])*
            #[schema(max_length = 128)]
            pub challenge_id: Option<String>,
        }
    };
}
pub(super) use answer_in;

answer_in! {
    /// The second step of a sign-in: the challenge and one answer.
    MfaVerifyIn {
        #[schema(min_length = 1, max_length = 128)]
        pub mfa_token: String,
    }
    answer {
        /// A TOTP code.
        code;
        /// A recovery code.
        recovery_code;
        /// A passkey's assertion: `PublicKeyCredential.toJSON()` of
        /// `navigator.credentials.get` with the options of
        /// `mfa/passkey/options/` (with `challenge_id`).
        credential;
        /// The `challenge_id` of `mfa/passkey/options/` (with `credential`).
        challenge_id;
    }
}

/// A sign-in challenge, for a passkey's request options.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaTokenIn {
    #[schema(min_length = 1, max_length = 128)]
    pub mfa_token: String,
}

// ---- OpenAPI: the operation(s) of this file's route(s)

/// The refusals of both steps of TOTP enrolment.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
enum TotpEnrolRefusals {
    #[response(status = 409, description = "TOTP is already on")]
    AlreadyOn(ErrorOut),
    #[response(status = 503, description = "No data key (`mfa_not_configured`)")]
    NoDataKey(ErrorOut),
}

/// The refusal of a change that needs a recent second factor.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 403,
    description = "The login did not pass a second factor in the last 15 minutes (`mfa_step_up_required`: step up at `mfa/step-up/`)"
)]
#[allow(dead_code)] // OpenAPI only
struct StepUpRequired(ErrorOut);

/// The refusal of an answer that is a code, on a deployment without a data key.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 503,
    description = "A code given, and no data key (`mfa_not_configured`)"
)]
#[allow(dead_code)] // OpenAPI only
pub(super) struct CodeWithoutDataKey(ErrorOut);

operation! { bearer mfa_totp_enroll, post "/api/auth/mfa/totp/enroll/", "mfa",
    responses(
        (status = 200, description = "A pending TOTP factor", body = TotpEnrollOut),
        NotAuthenticated,
        TotpEnrolRefusals,
    )
}

operation! { bearer mfa_totp_confirm, post "/api/auth/mfa/totp/confirm/", "mfa", request_body = TotpCodeIn,
    responses(
        (status = 200, description = "TOTP is on; the recovery codes, shown once", body = RecoveryCodesOut),
        (status = 400, description = "Wrong code, or nothing to confirm"),
        NotAuthenticated,
        TotpEnrolRefusals,
    )
}

operation! { bearer mfa_factors, get "/api/auth/mfa/factors/", "mfa",
    responses((status = 200, description = "The caller's second factors", body = FactorsOut), NotAuthenticated)
}

operation! { bearer mfa_totp_disable, post "/api/auth/mfa/totp/disable/", "mfa", request_body = MfaDisableIn,
    responses(
        (status = 200, description = "Second factors removed", body = DetailOut),
        (status = 400, description = "Wrong password or code"),
        NotAuthenticated,
        StepUpRequired,
        (status = 429, description = "Too many wrong passwords (`login_throttled`)", body = ErrorOut),
        CodeWithoutDataKey,
    )
}

operation! { bearer mfa_recovery_regenerate, post "/api/auth/mfa/recovery-codes/regenerate/", "mfa",
    responses(
        (status = 200, description = "A new set; the old one no longer works", body = RecoveryCodesOut),
        (status = 400, description = "No second factor", body = ErrorOut),
        NotAuthenticated,
        StepUpRequired,
    )
}

operation! { client mfa_verify, post "/api/auth/mfa/verify/", "mfa", request_body = MfaVerifyIn,
    responses(
        SignedIn,
        (status = 400, description = "Field errors, a wrong code (`invalid_mfa_code`), a passkey answer that failed (`webauthn_*`, `webauthn_challenge_invalid`)"),
        (status = 401, description = "The challenge is unknown, spent, expired, out of attempts or another client's (`mfa_token_invalid`)", body = ErrorOut),
        (status = 429, description = "Too many wrong answers for this user (`mfa_throttled`)", body = ErrorOut),
    )
}

operation! { client mfa_passkey_options, post "/api/auth/mfa/passkey/options/", "mfa", request_body = MfaTokenIn,
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptions (JSON, allowCredentials: the user's passkeys) and the challenge's id", body = crate::api::passkeys::PasskeyOptionsOut),
        (status = 400, description = "Field errors, or the user has no passkey (`unsupported_method`)"),
        (status = 401, description = "The challenge is unknown, spent, expired or another client's (`mfa_token_invalid`), or a missing or invalid API key", body = ErrorOut),
        PasskeysUnavailable,
    )
}
