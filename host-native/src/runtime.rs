//! The native implementations of the core's world traits: the system clock,
//! the OS random generator, and Argon2 on a bounded blocking pool.

use async_trait::async_trait;
use gatehouse_core::clock::{Clock, UnixMillis};
use gatehouse_core::password::{
    hash_password, verify_password, Argon2Params, PasswordError, PasswordHasher,
};
use gatehouse_core::random::Random;
use gatehouse_core::rate_limit::MemoryRateLimitStore;
use gatehouse_core::sql::SqlExecutor;
use gatehouse_core::Env;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        UnixMillis(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

/// The operating system's cryptographic random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Keys, salts and token ids come from here: without OS randomness
        // there is no safe way to go on.
        getrandom::fill(buf).expect("the OS random generator failed");
    }
}

/// Runs Argon2 on tokio's blocking pool, at most `permits` at a time.
///
/// One hash takes ~20 ms of CPU. On the async workers a burst of logins
/// would stall every other request; on an unbounded blocking pool it would
/// spawn hundreds of threads (each hash also takes ~19 MiB). The semaphore
/// makes excess logins wait their turn instead.
#[derive(Debug, Clone)]
pub struct BlockingPoolHasher {
    params: Argon2Params,
    permits: Arc<Semaphore>,
}

impl BlockingPoolHasher {
    /// A hasher creating hashes with `params`, running at most `parallel`
    /// hashes at once (at least one).
    pub fn new(params: Argon2Params, parallel: usize) -> Self {
        BlockingPoolHasher {
            params,
            permits: Arc::new(Semaphore::new(parallel.max(1))),
        }
    }

    /// One hash at a time per core.
    pub fn per_core(params: Argon2Params) -> Self {
        Self::new(params, available_cores())
    }

    async fn run<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, PasswordError> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PasswordError(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| PasswordError(format!("hashing task failed: {e}")))?
    }
}

#[async_trait]
impl PasswordHasher for BlockingPoolHasher {
    async fn hash(&self, password: String, salt: [u8; 16]) -> Result<String, PasswordError> {
        let params = self.params;
        self.run(move || hash_password(params, &password, salt))
            .await
    }

    async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError> {
        self.run(move || verify_password(&password, &phc)).await
    }
}

/// Cores this process may use (1 if unknown).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The native [`Env`] over `sql`, hashing new passwords with `argon2`.
pub fn native_env(sql: Arc<dyn SqlExecutor>, argon2: Argon2Params) -> Env {
    Env {
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        sql,
        hasher: Arc::new(BlockingPoolHasher::per_core(argon2)),
        rate_limits: Arc::new(MemoryRateLimitStore::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small parameters: the tests check plumbing, not cost.
    const CHEAP: Argon2Params = Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn clock_is_near_now() {
        let now = SystemClock.now();
        // After 2020 and before 2100.
        assert!(now.0 > 1_577_836_800_000 && now.0 < 4_102_444_800_000);
    }

    #[test]
    fn random_fills() {
        let a: [u8; 32] = gatehouse_core::random::bytes(&OsRandom);
        let b: [u8; 32] = gatehouse_core::random::bytes(&OsRandom);
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn hasher_hashes_and_verifies_off_the_worker() {
        let h = BlockingPoolHasher::new(CHEAP, 2);
        let phc = h.hash("correct horse".into(), [7; 16]).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(h.verify("correct horse".into(), phc.clone()).await.unwrap());
        assert!(!h.verify("wrong".into(), phc).await.unwrap());
    }

    #[tokio::test]
    async fn hasher_bounds_parallel_work() {
        let h = BlockingPoolHasher::new(CHEAP, 1);
        let futs: Vec<_> = (0..4)
            .map(|i| {
                let h = h.clone();
                tokio::spawn(async move { h.hash(format!("pw{i}"), [i; 16]).await })
            })
            .collect();
        for f in futs {
            f.await.unwrap().unwrap();
        }
        assert_eq!(h.permits.available_permits(), 1);
    }
}
