//! Trying a statement again after SQLITE_BUSY, one policy for every host
//! that talks to a libSQL server (the Worker's Hrana client, the native
//! host on sqld or through a replica). sqld waits for a busy lock itself,
//! but under concurrent writers a statement still now and then gets
//! "database is locked" at once (seen with 8 contract tests at a time
//! against one sqld, and with 50 logins at once in the benchmark). Trying
//! again is safe: a busy statement changed nothing, and a busy transaction
//! was rolled back. The core does no I/O, so the host passes its own timer.

use super::SqlError;
use std::future::Future;

/// How long to wait before each new try after SQLITE_BUSY (about 1 s in
/// all).
pub const BUSY_WAITS_MS: [u64; 6] = [5, 20, 50, 100, 250, 500];

/// Makes `attempt` once, and again after each of [`BUSY_WAITS_MS`] while
/// the database answers busy (or interrupted: [`SqlError::may_try_again`]), waiting with `pause(ms, &error)` (a timer: no
/// CPU) in between. Returns the last answer.
pub async fn retrying_when_busy<T, F, Fut, P, PFut>(mut attempt: F, pause: P) -> Result<T, SqlError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SqlError>>,
    P: Fn(u64, &SqlError) -> PFut,
    PFut: Future<Output = ()>,
{
    let mut waits = BUSY_WAITS_MS.iter();
    loop {
        match (attempt().await, waits.next()) {
            (Err(e), Some(ms)) if e.may_try_again() => pause(*ms, &e).await,
            (r, _) => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// The pauses here do not wait, so the future is ready at once.
    fn ready<T>(f: impl Future<Output = T>) -> T {
        match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("pending"),
        }
    }

    fn busy() -> SqlError {
        SqlError::Other("SQLITE_BUSY: SQLite error: database is locked".into())
    }

    #[test]
    fn busy_is_tried_again_after_each_wait_then_given_up() {
        let tries = Cell::new(0);
        let waited = RefCell::new(Vec::new());
        let r: Result<(), _> = ready(retrying_when_busy(
            || {
                tries.set(tries.get() + 1);
                async { Err(busy()) }
            },
            |ms, _| {
                waited.borrow_mut().push(ms);
                async {}
            },
        ));
        assert!(r.unwrap_err().is_busy());
        assert_eq!(tries.get(), 1 + BUSY_WAITS_MS.len());
        assert_eq!(*waited.borrow(), BUSY_WAITS_MS);
    }

    #[test]
    fn a_try_after_busy_can_succeed() {
        let tries = Cell::new(0);
        let r = ready(retrying_when_busy(
            || {
                tries.set(tries.get() + 1);
                let n = tries.get();
                async move {
                    if n < 3 {
                        Err(busy())
                    } else {
                        Ok(n)
                    }
                }
            },
            |_, _| async {},
        ));
        assert_eq!(r.unwrap(), 3);
    }

    #[test]
    fn other_failures_are_not_tried_again() {
        for e in [
            SqlError::UniqueViolation("t.b".into()),
            SqlError::Other("hrana: HTTP 429: DbCreateTimeout".into()),
        ] {
            let tries = Cell::new(0);
            let once = Cell::new(Some(e));
            let r: Result<(), _> = ready(retrying_when_busy(
                || {
                    tries.set(tries.get() + 1);
                    let e = once.take().expect("one try");
                    async move { Err(e) }
                },
                |_, _| async {},
            ));
            assert!(r.is_err());
            assert_eq!(tries.get(), 1);
        }
    }
}
