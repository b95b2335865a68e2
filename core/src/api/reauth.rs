//! Re-authenticating a signed-in caller by their password (change-password,
//! email change).

use super::login::{check_failure_throttles, failure_throttle_keys};
use crate::clock::UnixMillis;
use crate::context::{Caller, Ctx};
use crate::error::ApiError;
use crate::rate_limit::Quota;
use crate::user::{normalize_email, User};

/// Refuses (403 `mfa_step_up_required`) a caller with a second factor whose
/// login did not pass it recently — at sign-in or by a step-up — so a
/// stolen password or an unattended session cannot change what guards the
/// account (change-password, linking a sign-in provider). Answers when the
/// login last passed one.
pub(crate) async fn require_recent_second_factor(
    ctx: &Ctx<'_>,
    caller: &Caller,
) -> Result<Option<UnixMillis>, ApiError> {
    let mfa_at = ctx.store().session_mfa_at(&caller.sid).await?;
    if !crate::mfa::step_up_fresh(mfa_at, ctx.now)
        && !ctx
            .store()
            .factors(caller.user.id)
            .await?
            .methods()
            .is_empty()
    {
        return Err(ApiError::mfa_step_up_required());
    }
    Ok(mfa_at)
}

/// The caller's password hash, behind the failed-login counters, and their
/// keys (to spend on a wrong password): a wrong current password is a
/// failed login, so a stolen access token cannot be used to guess it.
pub(crate) async fn guarded_password_hash(
    ctx: &Ctx<'_>,
    user: &User,
) -> Result<(Vec<(String, Quota)>, String), ApiError> {
    let keys = failure_throttle_keys(ctx, &normalize_email(&user.email));
    check_failure_throttles(ctx, &keys).await?;
    let phc = ctx
        .store()
        .password_hash(user.id)
        .await?
        .ok_or_else(ApiError::token_not_valid)?;
    Ok((keys, phc))
}
