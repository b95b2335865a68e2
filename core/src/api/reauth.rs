//! Re-authenticating a signed-in caller by their password (change-password,
//! email change).

use super::login::{check_failure_throttles, failure_throttle_keys};
use crate::context::Ctx;
use crate::error::ApiError;
use crate::rate_limit::Quota;
use crate::user::{normalize_email, User};

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
