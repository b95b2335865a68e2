//! Per-client usage counting. The request path only adds to an in-memory
//! aggregate (one short mutex section, no allocation once the client's hour
//! exists); [`UsageAggregator::take`] hands the aggregate to a flush, which
//! the store writes as UPSERTs that add to `usage_hourly` in one batch.
//!
//! Latency is a fixed-bucket histogram so that hours, clients and hosts can
//! be merged by adding counts, and p50/p99 read from the sum.

use crate::clock::UnixMillis;
use crate::sql::SqlError;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Mutex;

/// Upper bounds (ms, inclusive) of the latency buckets; one open bucket follows.
pub const LATENCY_BOUNDS_MS: [u32; 15] = [
    1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000,
];
/// Number of latency buckets (the bounds plus the open one).
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The bucket a latency falls in.
pub fn latency_bucket(ms: i64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|&b| ms <= i64::from(b))
        .unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// What one request was, for the counters that depend on the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Login,
    Register,
    Refresh,
    Other,
}

/// The counters of one client in one hour (or any sum of those).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub requests: u64,
    pub status_2xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    pub throttled: u64,
    pub logins: u64,
    pub failed_logins: u64,
    pub registrations: u64,
    pub refreshes: u64,
    pub latency_sum_ms: u64,
    pub latency: [u64; LATENCY_BUCKETS],
}

impl Counters {
    /// Counts one request.
    pub fn record(&mut self, status: u16, kind: RequestKind, latency_ms: i64) {
        self.requests += 1;
        match status {
            200..=299 => self.status_2xx += 1,
            400..=499 => self.status_4xx += 1,
            500..=599 => self.status_5xx += 1,
            _ => {}
        }
        if status == 429 {
            self.throttled += 1;
        }
        match (kind, status) {
            (RequestKind::Login, 200) => self.logins += 1,
            (RequestKind::Login, 401 | 403) => self.failed_logins += 1,
            (RequestKind::Register, 201) => self.registrations += 1,
            (RequestKind::Refresh, 200) => self.refreshes += 1,
            _ => {}
        }
        let ms = latency_ms.max(0);
        self.latency_sum_ms += ms as u64;
        self.latency[latency_bucket(ms)] += 1;
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Counters) {
        self.requests += other.requests;
        self.status_2xx += other.status_2xx;
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
        self.throttled += other.throttled;
        self.logins += other.logins;
        self.failed_logins += other.failed_logins;
        self.registrations += other.registrations;
        self.refreshes += other.refreshes;
        self.latency_sum_ms += other.latency_sum_ms;
        for (a, b) in self.latency.iter_mut().zip(other.latency.iter()) {
            *a += b;
        }
    }

    /// The scalar counters in `usage_hourly` column order (after the key).
    pub fn columns(&self) -> [u64; 10 + LATENCY_BUCKETS] {
        let mut out = [0u64; 10 + LATENCY_BUCKETS];
        out[..10].copy_from_slice(&[
            self.requests,
            self.status_2xx,
            self.status_4xx,
            self.status_5xx,
            self.throttled,
            self.logins,
            self.failed_logins,
            self.registrations,
            self.refreshes,
            self.latency_sum_ms,
        ]);
        out[10..].copy_from_slice(&self.latency);
        out
    }

    /// The inverse of [`Counters::columns`].
    pub fn from_columns(c: &[u64]) -> Counters {
        let get = |i: usize| c.get(i).copied().unwrap_or(0);
        let mut latency = [0u64; LATENCY_BUCKETS];
        for (i, l) in latency.iter_mut().enumerate() {
            *l = get(10 + i);
        }
        Counters {
            requests: get(0),
            status_2xx: get(1),
            status_4xx: get(2),
            status_5xx: get(3),
            throttled: get(4),
            logins: get(5),
            failed_logins: get(6),
            registrations: get(7),
            refreshes: get(8),
            latency_sum_ms: get(9),
            latency,
        }
    }

    /// The upper bound (ms) of the bucket holding quantile `q` (0..=1);
    /// the open bucket reports the last bound. None without requests.
    pub fn latency_quantile_ms(&self, q: f64) -> Option<u32> {
        let total: u64 = self.latency.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in self.latency.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(
                    LATENCY_BOUNDS_MS
                        .get(i)
                        .copied()
                        .unwrap_or(LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.len() - 1]),
                );
            }
        }
        None
    }

    pub fn latency_avg_ms(&self) -> Option<f64> {
        let total: u64 = self.latency.iter().sum();
        (total > 0).then(|| self.latency_sum_ms as f64 / total as f64)
    }
}

/// Column names of `usage_hourly` after `(client_id, hour)`, in
/// [`Counters::columns`] order.
pub fn column_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "requests",
        "status_2xx",
        "status_4xx",
        "status_5xx",
        "throttled",
        "logins",
        "failed_logins",
        "registrations",
        "refreshes",
        "latency_sum_ms",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.extend((0..LATENCY_BUCKETS).map(|i| format!("lat_{i}")));
    names
}

/// Start of the UTC hour holding `t`, in Unix seconds.
pub fn hour_of(t: UnixMillis) -> i64 {
    t.as_secs().div_euclid(3600) * 3600
}

/// A pending aggregate: hour (Unix seconds) → client id → counters.
pub type Pending = HashMap<i64, HashMap<String, Counters>>;

/// The in-memory aggregate shared by every request of a process/isolate.
#[derive(Debug, Default)]
pub struct UsageAggregator {
    pending: Mutex<Pending>,
}

impl UsageAggregator {
    /// Counts one request of `client` that ended at `now`.
    pub fn record(
        &self,
        client: &str,
        now: UnixMillis,
        status: u16,
        kind: RequestKind,
        latency_ms: i64,
    ) {
        let hour = hour_of(now);
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let clients = pending.entry(hour).or_default();
        // Look up by &str first: no allocation on the common path.
        if let Some(c) = clients.get_mut(client) {
            c.record(status, kind, latency_ms);
        } else {
            let mut c = Counters::default();
            c.record(status, kind, latency_ms);
            clients.insert(client.to_owned(), c);
        }
    }

    /// Takes the whole aggregate, leaving it empty. Cheap when empty.
    pub fn take(&self) -> Pending {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.is_empty() {
            return Pending::new();
        }
        std::mem::take(&mut *pending)
    }

    /// Puts back an aggregate whose flush failed, so no count is lost.
    pub fn restore(&self, taken: Pending) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for (hour, clients) in taken {
            let slot = pending.entry(hour).or_default();
            for (client, c) in clients {
                slot.entry(client).or_default().merge(&c);
            }
        }
    }

    /// True when nothing is waiting for a flush.
    pub fn is_empty(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
}

/// Writes the usage counted in memory since the last flush to
/// `usage_hourly`, in one batch; returns how many (client, hour) rows it
/// added to. Cheap when nothing is pending (no database call). On failure
/// the counts are kept for the next flush.
pub(crate) async fn flush(store: &Store, usage: &UsageAggregator) -> Result<usize, SqlError> {
    let pending = usage.take();
    if pending.is_empty() {
        return Ok(0);
    }
    match store.add_usage(&pending).await {
        Ok(n) => Ok(n),
        Err(e) => {
            usage.restore(pending);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(1), 0);
        assert_eq!(latency_bucket(2), 1);
        assert_eq!(latency_bucket(5000), 14);
        assert_eq!(latency_bucket(5001), 15);
        let mut c = Counters::default();
        assert_eq!(c.latency_quantile_ms(0.5), None);
        for _ in 0..98 {
            c.record(200, RequestKind::Other, 3);
        }
        c.record(200, RequestKind::Other, 400);
        c.record(200, RequestKind::Other, 9000);
        assert_eq!(c.latency_quantile_ms(0.5), Some(5));
        assert_eq!(c.latency_quantile_ms(0.99), Some(500));
        assert_eq!(c.latency_quantile_ms(1.0), Some(5000));
    }

    #[test]
    fn kinds_and_classes() {
        let mut c = Counters::default();
        c.record(200, RequestKind::Login, 0);
        c.record(401, RequestKind::Login, 0);
        c.record(429, RequestKind::Login, 0);
        c.record(201, RequestKind::Register, 0);
        c.record(200, RequestKind::Refresh, 0);
        c.record(503, RequestKind::Other, 0);
        assert_eq!(
            (
                c.requests,
                c.status_2xx,
                c.status_4xx,
                c.status_5xx,
                c.throttled
            ),
            (6, 3, 2, 1, 1)
        );
        assert_eq!(
            (c.logins, c.failed_logins, c.registrations, c.refreshes),
            (1, 1, 1, 1)
        );
        assert_eq!(Counters::from_columns(&c.columns()), c);
    }

    #[test]
    fn take_restore_merge() {
        let a = UsageAggregator::default();
        assert!(a.take().is_empty());
        a.record(
            "cl_a",
            UnixMillis(3_600_000 + 5),
            200,
            RequestKind::Other,
            1,
        );
        a.record(
            "cl_a",
            UnixMillis(3_600_000 + 9),
            404,
            RequestKind::Other,
            1,
        );
        a.record("cl_b", UnixMillis(7_200_000), 200, RequestKind::Other, 1);
        let taken = a.take();
        assert!(a.is_empty());
        assert_eq!(taken[&3600]["cl_a"].requests, 2);
        a.record("cl_a", UnixMillis(3_600_000), 200, RequestKind::Other, 1);
        a.restore(taken);
        let again = a.take();
        assert_eq!(again[&3600]["cl_a"].requests, 3);
        assert_eq!(again[&7200]["cl_b"].requests, 1);
    }
}
