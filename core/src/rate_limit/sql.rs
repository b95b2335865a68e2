//! GCRA counters in libSQL: the [`RateLimitStore`] for hosts with many
//! isolates.

use super::{gcra, Quota, RateDecision, RateLimitStore};
use crate::async_trait_decl;
use crate::clock::UnixMillis;
use crate::sql::{SqlError, SqlExecutor, Statement};
use crate::store::int;
use std::sync::Arc;

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
            let period_ms = i64::from(quota.period_secs.max(1)) * 1000;
            let interval = (period_ms / i64::from(quota.limit.max(1))).max(1);
            // The same rule as `gcra`, applied atomically in the database.
            let r = self
                .sql
                .run(Statement::new(
                    "INSERT INTO rate_limits (key, tat) VALUES (?1, ?2 + ?3) ON CONFLICT(key) DO UPDATE SET tat = max(tat, ?2) + ?3 WHERE max(tat, ?2) + ?3 - ?4 <= ?2 RETURNING tat",
                    vec![key.into(), now.0.into(), interval.into(), period_ms.into()],
                ))
                .await?;
            if let Some(tat) = r.rows.first().and_then(|r| r.first()).and_then(int) {
                // Report from the state before this hit, consuming it.
                return Ok(gcra(Some(tat - interval), now, quota, true).0);
            }
        }
        let tat = self.stored_tat(key).await?;
        Ok(gcra(tat, now, quota, false).0)
    }
}
}
