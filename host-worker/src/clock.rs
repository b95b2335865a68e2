//! Wall-clock time from the Workers runtime.

use gatehouse_core::clock::{Clock, UnixMillis};

/// `Date.now()`. Inside a Worker it advances only across I/O (Spectre
/// mitigation), which is precise enough for token and rate-limit times.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateClock;

impl Clock for DateClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(worker::Date::now().as_millis() as i64)
    }
}
