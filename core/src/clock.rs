//! Time comes in through [`Clock`], so every time-dependent rule can be tested
//! with [`FixedClock`].

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Whole seconds since the epoch (JWT `iat`/`exp` are in seconds).
    pub fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn from_secs(secs: i64) -> Self {
        UnixMillis(secs.saturating_mul(1000))
    }
    pub fn plus_secs(self, secs: i64) -> Self {
        UnixMillis(self.0.saturating_add(secs.saturating_mul(1000)))
    }
    /// RFC 3339 text in UTC, as DRF renders datetimes.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

/// The host's wall clock.
pub trait Clock: crate::MaybeSendSync {
    fn now(&self) -> UnixMillis;
}

/// A clock that only moves when told to: for tests.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(start: UnixMillis) -> Self {
        FixedClock(AtomicI64::new(start.0))
    }
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, t: UnixMillis) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.0.load(Ordering::SeqCst))
    }
}
