//! The one check of a rate-limit counter that refuses with 429.

use crate::context::Ctx;
use crate::error::ApiError;
use crate::rate_limit::Quota;

/// Checks counter `key` against `quota` (and counts this request when
/// `spend`); 429 `code` with its `Retry-After` when it is spent.
pub(crate) async fn check_counter(
    ctx: &Ctx<'_>,
    key: &str,
    quota: Quota,
    spend: bool,
    code: &'static str,
) -> Result<(), ApiError> {
    let d = ctx
        .env()
        .rate_limits
        .check(key, quota, ctx.now, spend)
        .await?;
    if !d.allowed {
        return Err(ApiError::throttled(code, d.retry_after_secs));
    }
    Ok(())
}
