//! Rate limits shared by several native hosts on one libSQL primary.
//!
//! The primary's `rate_limits` row (the Worker's GCRA row) stays the one
//! truth. A host does not write it per request: it *reserves a slice* of a
//! key's budget (advances the row's `tat` by `k` intervals in one atomic,
//! conditional UPSERT) and spends the slice from memory. So no request is
//! admitted that the primary's GCRA did not grant: across all hosts a key is
//! never admitted more than its budget; what a host holds unspent is at most
//! one slice, which it may spend later than the budget earned it (docs/
//! SCALING.md: the error over any window is at most one slice per host).
//!
//! Slices start at one request and double while a host spends them within
//! [`FAST_MS`] of their grant, up to [`max_slice`] (1 % of the limit); a
//! slice that lasted longer is followed by one sized to last about
//! [`FAST_MS`] at the rate it was spent ([`next_slice`]): a quiet key costs
//! one primary write per request, a busy one about one a second.
//! [`SliceBook`] is the pure bookkeeping; [`SharedRateLimitStore`] adds the
//! SQL, and falls back to this host's own memory GCRA while the primary is
//! unreachable (so reads keep being served; each host then limits alone).

use super::sql::{add_to_tat, interval_and_period};
use super::{gcra, MemoryRateLimitStore, Quota, RateDecision, RateLimitStore};
use crate::async_trait_decl;
use crate::clock::UnixMillis;
use crate::sql::{SqlError, SqlExecutor, Statement};
use crate::store::int;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A slice spent within this long of its grant makes the next one twice as
/// large; a slower one, one that would last about this long.
pub const FAST_MS: i64 = 1_000;

/// The next reservation after a slice of `size` that was spent
/// `elapsed_ms` after its grant: twice as large if that was quick,
/// otherwise what the same rate spends in [`FAST_MS`] (at least one), never
/// over [`max_slice`]. The held error stays at most one slice per host;
/// a key that was busy then quiet rebuilds from one.
pub fn next_slice(size: u32, elapsed_ms: i64, quota: Quota) -> u32 {
    let k = if elapsed_ms <= FAST_MS {
        size.saturating_mul(2)
    } else {
        let k = i64::from(size) * FAST_MS / elapsed_ms.max(1);
        u32::try_from(k).unwrap_or(u32::MAX)
    };
    k.clamp(1, max_slice(quota))
}

/// The largest slice a host reserves: 1 % of the limit (at least one).
pub fn max_slice(quota: Quota) -> u32 {
    (quota.limit / 100).max(1)
}

/// What the primary does with a reservation of `k` requests, as a pure
/// function of its stored `tat` (the SQL in [`SharedRateLimitStore`] does
/// the same atomically): the new `tat`, or None when `k` do not fit.
pub fn reserve(tat: Option<i64>, now: UnixMillis, quota: Quota, k: u32) -> Option<i64> {
    let (interval, period_ms) = interval_and_period(quota);
    let new_tat = tat.unwrap_or(now.0).max(now.0) + i64::from(k) * interval;
    (new_tat - period_ms <= now.0).then_some(new_tat)
}

/// One key's state on one host.
#[derive(Debug, Clone, Copy, Default)]
struct Slice {
    /// Requests reserved on the primary and not yet spent here.
    tokens: u32,
    /// The size of the last slice granted.
    size: u32,
    /// When it was granted.
    granted_at: i64,
    /// The newest `tat` this host has seen on the primary.
    known_tat: Option<i64>,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Answered from this host's slice (or refused from what it knows).
    Decided(RateDecision),
    /// Reserve `k` on the primary, then call [`SliceBook::granted`] or
    /// [`SliceBook::refused`].
    Reserve(u32),
}

/// The slices one host holds, by key. No I/O.
#[derive(Debug, Default)]
pub struct SliceBook {
    slices: Mutex<HashMap<String, Slice>>,
}

impl SliceBook {
    const PRUNE_AT: usize = 100_000;

    /// Spends one request of `key`'s slice, or says how much to reserve.
    pub fn take(&self, key: &str, quota: Quota, now: UnixMillis) -> Take {
        let mut slices = self.slices.lock().unwrap_or_else(|e| e.into_inner());
        if slices.len() >= Self::PRUNE_AT {
            // An empty slice whose known tat is past holds nothing.
            slices.retain(|_, s| s.tokens > 0 || s.known_tat.is_some_and(|t| t > now.0));
        }
        let Some(slice) = slices.get_mut(key) else {
            return Take::Reserve(1);
        };
        if slice.tokens > 0 {
            slice.tokens -= 1;
            return Take::Decided(report(slice, quota, now, true));
        }
        // The primary's tat only grows: if what this host last saw admits
        // nothing now, the primary admits nothing either.
        let (d, _) = gcra(slice.known_tat, now, quota, false);
        if !d.allowed {
            return Take::Decided(d);
        }
        Take::Reserve(next_slice(slice.size, now.0 - slice.granted_at, quota))
    }

    /// The primary granted `k` (its tat is now `tat`): one is spent on this
    /// request, the rest kept.
    pub fn granted(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        k: u32,
        tat: i64,
    ) -> RateDecision {
        let mut slices = self.slices.lock().unwrap_or_else(|e| e.into_inner());
        let slice = slices.entry(key.to_owned()).or_default();
        // Concurrent reservations of one key on this host add up.
        slice.tokens += k.saturating_sub(1);
        slice.size = k;
        slice.granted_at = now.0;
        slice.known_tat = Some(slice.known_tat.map_or(tat, |t| t.max(tat)));
        report(slice, quota, now, true)
    }

    /// The primary refused even one (its tat is `tat`).
    pub fn refused(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        tat: Option<i64>,
    ) -> RateDecision {
        let mut slices = self.slices.lock().unwrap_or_else(|e| e.into_inner());
        let slice = slices.entry(key.to_owned()).or_default();
        slice.known_tat = match (slice.known_tat, tat) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        slice.size = 1;
        if slice.tokens > 0 {
            // A concurrent grant on this host left some: spend one.
            slice.tokens -= 1;
            return report(slice, quota, now, true);
        }
        let (d, _) = gcra(slice.known_tat, now, quota, false);
        if d.allowed {
            // Stale by the time it was read: refuse this one for a second.
            return RateDecision {
                allowed: false,
                retry_after_secs: 1,
                ..d
            };
        }
        d
    }

    /// What a look without spending (`consume = false`) says from this
    /// host's knowledge and the primary's `tat` as read here.
    pub fn peek(&self, key: &str, quota: Quota, now: UnixMillis, tat: Option<i64>) -> RateDecision {
        let slices = self.slices.lock().unwrap_or_else(|e| e.into_inner());
        let mine = slices.get(key).copied().unwrap_or_default();
        let tat = match (mine.known_tat, tat) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let slice = Slice {
            known_tat: tat,
            ..mine
        };
        if slice.tokens > 0 {
            return report(&slice, quota, now, true);
        }
        gcra(tat, now, quota, false).0
    }
}

/// The headers' view: the primary's budget as last seen, plus what this
/// host still holds.
fn report(slice: &Slice, quota: Quota, now: UnixMillis, allowed: bool) -> RateDecision {
    let (d, _) = gcra(slice.known_tat, now, quota, false);
    RateDecision {
        allowed,
        remaining: d.remaining.saturating_add(slice.tokens).min(d.limit),
        retry_after_secs: 0,
        ..d
    }
}

/// GCRA counters shared by hosts through the primary, a slice at a time.
pub struct SharedRateLimitStore {
    sql: Arc<dyn SqlExecutor>,
    book: SliceBook,
    /// This host's own counters, used while the primary is unreachable.
    fallback: MemoryRateLimitStore,
}

impl SharedRateLimitStore {
    pub fn new(sql: Arc<dyn SqlExecutor>) -> Self {
        SharedRateLimitStore {
            sql,
            book: SliceBook::default(),
            fallback: MemoryRateLimitStore::default(),
        }
    }

    /// Reserves `k` on the primary: the new tat, or None when they do not fit.
    async fn reserve(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
        k: u32,
    ) -> Result<Option<i64>, SqlError> {
        let (interval, period_ms) = interval_and_period(quota);
        let step = i64::from(k) * interval;
        // `reserve` in SQL, atomic on the primary. A fresh key always fits:
        // a slice is at most 1 % of the limit.
        add_to_tat(self.sql.as_ref(), key, now, step, period_ms).await
    }

    /// The primary's tat for `key`. A batch, so that a replica reads it on
    /// the primary rather than from its own (maybe older) copy.
    async fn primary_tat(&self, key: &str) -> Result<Option<i64>, SqlError> {
        let r = self
            .sql
            .batch(vec![Statement::new(
                "SELECT tat FROM rate_limits WHERE key = ?",
                vec![key.into()],
            )])
            .await?;
        Ok(r.first()
            .and_then(|r| r.rows.first())
            .and_then(|r| r.first())
            .and_then(int))
    }

    async fn consume(
        &self,
        key: &str,
        quota: Quota,
        now: UnixMillis,
    ) -> Result<RateDecision, SqlError> {
        let k = match self.book.take(key, quota, now) {
            Take::Decided(d) => return Ok(d),
            Take::Reserve(k) => k,
        };
        if let Some(tat) = self.reserve(key, quota, now, k).await? {
            return Ok(self.book.granted(key, quota, now, k, tat));
        }
        if k > 1 {
            if let Some(tat) = self.reserve(key, quota, now, 1).await? {
                return Ok(self.book.granted(key, quota, now, 1, tat));
            }
        }
        let tat = self.primary_tat(key).await?;
        Ok(self.book.refused(key, quota, now, tat))
    }
}

/// The row's key: a tat means something only under its quota, so hosts (or
/// test servers) configured with other limits count apart.
fn stored_key(key: &str, quota: Quota) -> String {
    format!("{key}@{}/{}", quota.limit, quota.period_secs)
}

async_trait_decl! {
impl RateLimitStore for SharedRateLimitStore {
    async fn check(&self, key: &str, quota: Quota, now: UnixMillis, consume: bool) -> Result<RateDecision, SqlError> {
        let stored = stored_key(key, quota);
        let key = stored.as_str();
        let shared = if consume {
            self.consume(key, quota, now).await
        } else {
            // Looks (the failed-login throttles, before the costly check)
            // read the primary, not a replica a sync behind another host's
            // spending: what they guard costs far more than the round trip.
            self.primary_tat(key)
                .await
                .map(|tat| self.book.peek(key, quota, now, tat))
        };
        match shared {
            Ok(d) => Ok(d),
            // The primary is away: limit on this host alone until it is back.
            Err(_) => Ok(self.fallback.check_now(key, quota, now, consume)),
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;
    const PER_HOUR: Quota = Quota {
        limit: 1000,
        period_secs: 3600,
    };

    /// Hosts sharing one fake primary (a map of tats), run synchronously.
    struct Cluster {
        primary: HashMap<String, i64>,
        hosts: Vec<SliceBook>,
        primary_writes: u32,
    }

    impl Cluster {
        fn new(n: usize) -> Self {
            Cluster {
                primary: HashMap::new(),
                hosts: (0..n).map(|_| SliceBook::default()).collect(),
                primary_writes: 0,
            }
        }

        fn hit(&mut self, host: usize, key: &str, quota: Quota, now: i64) -> bool {
            let now = UnixMillis(now);
            let book = &self.hosts[host];
            let k = match book.take(key, quota, now) {
                Take::Decided(d) => return d.allowed,
                Take::Reserve(k) => k,
            };
            for k in [k, 1] {
                self.primary_writes += 1;
                if let Some(tat) = reserve(self.primary.get(key).copied(), now, quota, k) {
                    self.primary.insert(key.to_owned(), tat);
                    return book.granted(key, quota, now, k, tat).allowed;
                }
            }
            book.refused(key, quota, now, self.primary.get(key).copied())
                .allowed
        }
    }

    /// A tiny deterministic generator, so the test needs no seed crate.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn three_hosts_flooded_admit_at_most_the_limit_plus_one_slice_each() {
        let mut c = Cluster::new(3);
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut admitted = 0;
        // 5,000 requests spread over one minute, round-robin-ish.
        for i in 0..5_000i64 {
            let host = (next(&mut rng) % 3) as usize;
            if c.hit(host, "client:a", PER_HOUR, T0 + i * 12) {
                admitted += 1;
            }
        }
        // GCRA alone: the burst (1000) plus what a minute earns (16).
        let earned = 60_000 / (3_600_000 / 1000);
        assert!(admitted <= 1000 + earned, "admitted {admitted}");
        // And the slices do not starve the client.
        assert!(
            admitted >= 1000 - 3 * max_slice(PER_HOUR) as i64,
            "admitted {admitted}"
        );
        // One primary write per slice, not per request.
        assert!(
            c.primary_writes < 600,
            "{} primary writes",
            c.primary_writes
        );
    }

    #[test]
    fn the_held_slices_bound_the_excess_over_any_window() {
        // Fill every host's slice, let the budget refill for an hour, then
        // flood: the window after the refill admits the burst plus what the
        // hosts still held.
        let mut c = Cluster::new(3);
        let mut t = T0;
        for _ in 0..200 {
            for h in 0..3 {
                c.hit(h, "k", PER_HOUR, t);
            }
            t += 100;
        }
        t += 3_600_000;
        let mut admitted = 0i64;
        for i in 0..3_000 {
            if c.hit(i % 3, "k", PER_HOUR, t) {
                admitted += 1;
            }
        }
        assert!(
            admitted <= 1000 + 3 * i64::from(max_slice(PER_HOUR)),
            "admitted {admitted}"
        );
        assert!(admitted >= 1000, "admitted {admitted}");
    }

    #[test]
    fn a_quiet_key_reserves_one_at_a_time_and_small_limits_never_slice() {
        let mut c = Cluster::new(2);
        let five = Quota {
            limit: 5,
            period_secs: 900,
        };
        assert_eq!(max_slice(five), 1);
        let mut admitted = 0;
        for i in 0..20 {
            if c.hit(i % 2, "login:ip", five, T0 + i as i64) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 5, "exactly the limit across both hosts");
        // A refusal is then answered from what the host knows: no write.
        let writes = c.primary_writes;
        assert!(!c.hit(0, "login:ip", five, T0 + 100));
        assert_eq!(c.primary_writes, writes);
        // After one interval (3 minutes) one more is admitted, on either host.
        assert!(c.hit(1, "login:ip", five, T0 + 180_000 + 20));
        assert!(!c.hit(0, "login:ip", five, T0 + 180_000 + 21));
    }

    #[test]
    fn a_slice_spent_slowly_is_followed_by_one_that_lasts_about_a_second() {
        let big = Quota {
            limit: 1_000_000,
            period_secs: 3600,
        };
        assert_eq!(max_slice(big), 10_000);
        // Quick: doubled, up to the cap.
        assert_eq!(next_slice(64, 300, big), 128);
        assert_eq!(next_slice(8_000, 900, big), 10_000);
        // 2,048 spent in 2 s: 1,024 lasts a second at that rate.
        assert_eq!(next_slice(2_048, 2_000, big), 1_024);
        // A quiet key: one at a time.
        assert_eq!(next_slice(1, 60_000, big), 1);
        assert_eq!(next_slice(5, 10_000, big), 1);
    }

    #[test]
    fn a_steady_key_costs_about_one_primary_write_a_second() {
        let big = Quota {
            limit: 1_000_000,
            period_secs: 3600,
        };
        let mut c = Cluster::new(1);
        // 1.5 requests a millisecond for 20 s (the budget is not reached).
        let mut admitted = 0;
        for i in 0..30_000i64 {
            if c.hit(0, "client:a:user:1", big, T0 + i * 2 / 3) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 30_000);
        // The climb to a second's worth (about 11 reservations), then about
        // one a second; restarting from one after every slow slice cost
        // about 4 a second.
        assert!(
            c.primary_writes <= 40,
            "{} primary writes",
            c.primary_writes
        );
    }

    #[test]
    fn peeking_sees_the_primary_and_spends_nothing() {
        let book = SliceBook::default();
        let five = Quota {
            limit: 5,
            period_secs: 900,
        };
        let now = UnixMillis(T0);
        assert!(book.peek("k", five, now, None).allowed);
        // Another host spent the whole budget: the primary's tat says so.
        let full = T0 + 900_000;
        assert!(!book.peek("k", five, now, Some(full)).allowed);
        assert!(book.peek("k", five, now, Some(T0)).allowed);
    }
}
