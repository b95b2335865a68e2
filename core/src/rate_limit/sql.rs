//! GCRA counters in libSQL: the [`RateLimitStore`] for hosts with many
//! isolates.

use super::{gcra, Quota, RateDecision, RateLimitStore};
use crate::async_trait_decl;
use crate::clock::UnixMillis;
use crate::sql::{SqlError, SqlExecutor, Statement};
use crate::store::int;
use std::sync::Arc;

/// The GCRA interval and period of `quota`, in milliseconds.
pub(super) fn interval_and_period(quota: Quota) -> (i64, i64) {
    let period_ms = i64::from(quota.period_secs.max(1)) * 1000;
    let interval = (period_ms / i64::from(quota.limit.max(1))).max(1);
    (interval, period_ms)
}

/// GCRA's rule applied atomically in the database: `key`'s tat moves on by
/// `step` (from `now` at the earliest) if it then stays within `period_ms`
/// of `now`. The new tat, or None when the step does not fit.
pub(super) async fn add_to_tat(
    sql: &dyn SqlExecutor,
    key: &str,
    now: UnixMillis,
    step: i64,
    period_ms: i64,
) -> Result<Option<i64>, SqlError> {
    let r = sql
        .run(Statement::new(
            "INSERT INTO rate_limits (key, tat) VALUES (?1, ?2 + ?3) ON CONFLICT(key) DO UPDATE SET tat = max(tat, ?2) + ?3 WHERE max(tat, ?2) + ?3 - ?4 <= ?2 RETURNING tat",
            vec![key.into(), now.0.into(), step.into(), period_ms.into()],
        ))
        .await?;
    Ok(r.rows.first().and_then(|r| r.first()).and_then(int))
}

/// GCRA counters in libSQL, for hosts with many isolates (the Worker): each
/// allowed hit is one atomic UPSERT, so concurrent isolates never double-spend.
pub struct SqlRateLimitStore {
    sql: Arc<dyn SqlExecutor>,
}

impl SqlRateLimitStore {
    pub fn new(sql: Arc<dyn SqlExecutor>) -> Self {
        SqlRateLimitStore { sql }
    }

    async fn stored_tat(&self, key: &str) -> Result<Option<i64>, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "SELECT tat FROM rate_limits WHERE key = ?",
                vec![key.into()],
            ))
            .await?;
        Ok(r.rows.first().and_then(|r| r.first()).and_then(int))
    }
}

async_trait_decl! {
impl RateLimitStore for SqlRateLimitStore {
    async fn check(&self, key: &str, quota: Quota, now: UnixMillis, consume: bool) -> Result<RateDecision, SqlError> {
        if consume {
            let (interval, period_ms) = interval_and_period(quota);
            if let Some(tat) = add_to_tat(self.sql.as_ref(), key, now, interval, period_ms).await? {
                // Report from the state before this hit, consuming it.
                return Ok(gcra(Some(tat - interval), now, quota, true).0);
            }
        }
        let tat = self.stored_tat(key).await?;
        Ok(gcra(tat, now, quota, false).0)
    }
}
}
