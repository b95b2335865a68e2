//! Rate limits: the GCRA math as a pure function ([`gcra`]), and where the
//! counters live behind [`RateLimitStore`] (in memory for one native process,
//! in libSQL for the Worker's many isolates: [`sql`]; reserved a slice at a
//! time from a shared primary for several native hosts: [`shared`]).

pub mod shared;
pub mod sql;

use crate::async_trait_decl;
use crate::clock::UnixMillis;
use crate::sql::SqlError;
use std::collections::HashMap;
use std::sync::Mutex;

/// `limit` requests per `period_secs`, spread evenly (GCRA), with a burst of
/// the whole limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub period_secs: u32,
}

/// The outcome of one check, with what the `X-RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_after_secs: u64,
    /// Seconds to wait before the next request is allowed (0 when allowed).
    pub retry_after_secs: u64,
}

/// Generic cell rate algorithm. `tat` is the stored "theoretical arrival
/// time" (None for a fresh key). Returns the decision and the new `tat` to
/// store (unchanged when the request is refused or `consume` is false).
pub fn gcra(tat: Option<i64>, now: UnixMillis, quota: Quota, consume: bool) -> (RateDecision, i64) {
    let now = now.0;
    let limit = quota.limit.max(1);
    let period_ms = i64::from(quota.period_secs.max(1)) * 1000;
    let interval = (period_ms / i64::from(limit)).max(1);
    let tolerance = period_ms - interval; // burst of `limit` requests
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let allow_at = new_tat - period_ms;
    let secs_up = |ms: i64| (ms.max(0) as u64).div_ceil(1000);
    if allow_at > now {
        let remaining_ms = tat - now;
        let used = ceil_div(remaining_ms, interval);
        let decision = RateDecision {
            allowed: false,
            limit,
            remaining: (i64::from(limit) - used).max(0) as u32,
            reset_after_secs: secs_up(tat - now),
            retry_after_secs: secs_up(allow_at - now).max(1),
        };
        return (decision, tat);
    }
    let _ = tolerance;
    let stored = if consume { new_tat } else { tat };
    let used = ceil_div(stored - now, interval);
    let decision = RateDecision {
        allowed: true,
        limit,
        remaining: (i64::from(limit) - used).max(0) as u32,
        reset_after_secs: secs_up(stored - now),
        retry_after_secs: 0,
    };
    (decision, stored)
}

/// Ceiling division of non-negative `a` by positive `b`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a.max(0) + b - 1) / b
}

async_trait_decl! {
/// Where GCRA state lives. `consume = false` asks without spending.
pub trait RateLimitStore: crate::MaybeSendSync {
    async fn check(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        consume: bool,
    ) -> Result<RateDecision, SqlError>;
}
}

/// Counters in this process's memory: right for one native process. With
/// several processes each keeps its own counters (see the README).
#[derive(Debug, Default)]
pub struct MemoryRateLimitStore {
    cells: Mutex<HashMap<String, i64>>,
}

impl MemoryRateLimitStore {
    const PRUNE_AT: usize = 100_000;

    /// The pure part of [`RateLimitStore::check`], synchronous.
    pub fn check_now(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        consume: bool,
    ) -> RateDecision {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        if cells.len() >= Self::PRUNE_AT {
            // A tat in the past means a full bucket: forgetting it changes nothing.
            cells.retain(|_, tat| *tat > now.0);
        }
        let (decision, tat) = gcra(cells.get(key).copied(), now, quota, consume);
        if consume && decision.allowed {
            cells.insert(key.to_owned(), tat);
        }
        decision
    }
}

async_trait_decl! {
impl RateLimitStore for MemoryRateLimitStore {
    async fn check(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        consume: bool,
    ) -> Result<RateDecision, SqlError> {
        Ok(self.check_now(key, quota, now, consume))
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);
    const FIVE_PER_HOUR: Quota = Quota {
        limit: 5,
        period_secs: 3600,
    };

    #[test]
    fn a_fresh_key_allows_a_burst_of_the_whole_limit_then_refuses() {
        let store = MemoryRateLimitStore::default();
        for used in 1..=5u32 {
            let d = store.check_now("k", FIVE_PER_HOUR, T0, true);
            assert!(d.allowed, "request {used}");
            assert_eq!(d.remaining, 5 - used);
        }
        let d = store.check_now("k", FIVE_PER_HOUR, T0, true);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        // One request's worth of time (12 minutes) must pass.
        assert_eq!(d.retry_after_secs, 720);
        assert_eq!(d.reset_after_secs, 3600);
    }

    #[test]
    fn capacity_comes_back_at_the_steady_rate() {
        let store = MemoryRateLimitStore::default();
        for _ in 0..5 {
            store.check_now("k", FIVE_PER_HOUR, T0, true);
        }
        let later = UnixMillis(T0.0 + 720_000 - 1);
        assert!(!store.check_now("k", FIVE_PER_HOUR, later, true).allowed);
        let later = UnixMillis(T0.0 + 720_000);
        assert!(store.check_now("k", FIVE_PER_HOUR, later, true).allowed);
        assert!(!store.check_now("k", FIVE_PER_HOUR, later, true).allowed);
    }

    #[test]
    fn keys_are_isolated_and_peeking_does_not_spend() {
        let store = MemoryRateLimitStore::default();
        for _ in 0..5 {
            assert!(store.check_now("a", FIVE_PER_HOUR, T0, true).allowed);
        }
        assert!(!store.check_now("a", FIVE_PER_HOUR, T0, false).allowed);
        for _ in 0..10 {
            assert!(store.check_now("b", FIVE_PER_HOUR, T0, false).allowed);
        }
        assert_eq!(store.check_now("b", FIVE_PER_HOUR, T0, true).remaining, 4);
    }

    proptest::proptest! {
        /// GCRA's bound: in any window of length W, at most the burst
        /// (`limit`) plus what the steady rate earns in W (W / interval) pass.
        #[test]
        fn never_more_than_the_limit_per_period(gaps in proptest::collection::vec(0i64..400_000, 1..200), limit in 1u32..20) {
            let quota = Quota { limit, period_secs: 3600 };
            let store = MemoryRateLimitStore::default();
            let mut now = T0.0;
            let mut allowed = Vec::new();
            for g in gaps {
                now += g;
                if store.check_now("k", quota, UnixMillis(now), true).allowed {
                    allowed.push(now);
                }
            }
            let interval = 3_600_000 / i64::from(limit);
            for window in [60_000i64, 600_000, 3_600_000] {
                for (i, t) in allowed.iter().enumerate() {
                    let in_window = allowed[i..].iter().take_while(|u| **u < t + window).count() as i64;
                    proptest::prop_assert!(in_window <= i64::from(limit) + window / interval);
                }
            }
        }
    }
}
