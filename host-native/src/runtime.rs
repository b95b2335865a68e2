//! The native implementations of the core's world traits: the system clock,
//! the OS random generator, and Argon2 on a bounded pool
//! ([`crate::hash_pool`]); and the allocator setting that goes with it.

use crate::hash_pool::{HashPool, DEFAULT_QUEUE_PER_WORKER};
use gatehouse_core::clock::{Clock, UnixMillis};
use gatehouse_core::password::Argon2Params;
use gatehouse_core::random::Random;
use gatehouse_core::rate_limit::shared::SharedRateLimitStore;
use gatehouse_core::rate_limit::{MemoryRateLimitStore, RateLimitStore};
use gatehouse_core::sql::SqlExecutor;
use gatehouse_core::Env;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

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

/// Tells glibc's allocator to hand large freed blocks back to the OS
/// instead of keeping them per thread. Call once, before any thread
/// starts; does nothing off glibc, or when the operator set
/// `GLIBC_TUNABLES` / `MALLOC_ARENA_MAX`.
///
/// Why: glibc gives threads their own arenas (up to 8 per core) and raises
/// its mmap threshold to the largest block freed (up to 32 MiB), so a freed
/// 19 MiB Argon2 area stays resident. The hash pool keeps one area per
/// thread, but a stored hash costlier than the pool's parameters (after the
/// cost was lowered) is verified in a fresh allocation: in `login-storm`
/// with such hashes, RSS was 204 MiB during and 185 MiB after without this,
/// 52 MiB and 14 MiB with it (docs/ROBUSTNESS.md). A fixed 128 KiB
/// threshold (large blocks mmapped, unmapped on free) does that without a
/// new allocator dependency. Arenas: two per core, so the request threads
/// and the hash threads each have one. With two in all (as before), the
/// two request threads shared one in about a third of the benchmark runs,
/// and their allocations then queued on its lock: a chained refresh spent
/// 120–126 µs of CPU instead of 93–103 µs, with a core left idle, and
/// half of the server's context switches were waits for that lock
/// (docs/SCALING.md, "Session 11").
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var_os("MALLOC_ARENA_MAX").is_some()
        {
            return;
        }
        // SAFETY: mallopt only sets allocator parameters; it is called
        // before the runtime starts other threads.
        unsafe {
            let arenas = (2 * available_cores()).clamp(2, 64) as libc::c_int;
            libc::mallopt(libc::M_ARENA_MAX, arenas);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

/// The request runtime: one thread more than the cores, unless the
/// operator set `TOKIO_WORKER_THREADS`.
///
/// Why one more: a request thread blocks in SQLite (its mutexes, the WAL's
/// `fcntl` locks and writes), and its core then sits idle while requests
/// wait. With a spare thread on two cores a chained refresh went from
/// 12,331 to 14,303/s (99 → 82 µs of server CPU each: fewer parks and
/// wake-ups too); four, six and eight threads gave no more (14,394–14,518/s),
/// and profile GET stayed within noise (docs/SCALING.md, "Session 11").
pub fn request_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(available_cores() + 1);
    }
    builder.enable_all().build()
}

/// One hashing worker per core, [`DEFAULT_QUEUE_PER_WORKER`] queued per
/// worker unless `queue_limit` says otherwise.
fn hash_pool_per_core(params: Argon2Params, queue_limit: Option<usize>) -> HashPool {
    let workers = available_cores();
    HashPool::new(
        params,
        workers,
        queue_limit.unwrap_or(workers * DEFAULT_QUEUE_PER_WORKER),
    )
}

/// Cores this process may use (1 if unknown).
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The native [`Env`] over `sql`, hashing new passwords with `argon2` on a
/// [`HashPool`] of one thread per core and `hash_queue` waiting hashes
/// (default: [`DEFAULT_QUEUE_PER_WORKER`] per thread),
/// sending outbound HTTP under `outbound`. `shared_limits`: the database is
/// a server other hosts may share, so rate limits are reserved from it,
/// through this executor, a slice at a time (docs/SCALING.md) rather than
/// counted in this process alone.
pub fn native_env(
    sql: Arc<dyn SqlExecutor>,
    argon2: Argon2Params,
    hash_queue: Option<usize>,
    outbound: gatehouse_core::outbound::OutboundPolicy,
    shared_limits: Option<Arc<dyn SqlExecutor>>,
) -> Env {
    let rate_limits: Arc<dyn RateLimitStore> = match shared_limits {
        Some(primary) => Arc::new(SharedRateLimitStore::new(primary)),
        None => Arc::new(MemoryRateLimitStore::default()),
    };
    Env {
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        sql,
        hasher: Arc::new(hash_pool_per_core(argon2, hash_queue)),
        rate_limits,
        http: Arc::new(crate::outbound::NativeHttp::new(outbound)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
