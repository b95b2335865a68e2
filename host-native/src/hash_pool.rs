//! Argon2 on a fixed pool of threads, one per core, each owning one
//! reusable work area ([`HashMemory`]), behind a bounded queue.
//!
//! Why not tokio's blocking pool: there a hash runs on whichever blocking
//! thread is free, allocating and freeing `m` KiB (19 MiB by default) each
//! time; glibc keeps those buffers in per-thread arenas, so a login storm
//! left the process at 0.7–1 GB (docs/ROBUSTNESS.md, finding 2). Here the
//! memory is `workers × m` KiB, allocated once, whatever the load.
//!
//! Why a queue limit: a queued hash costs nothing but the wait, yet past a
//! point the wait outlasts any client's patience. Past `workers +
//! queue_limit` hashes admitted, [`HashPool`] refuses at once with
//! [`PasswordError::Busy`] (503 `server_busy` with `Retry-After`), and the
//! rest of the service keeps answering. A hash that waited
//! [`MAX_QUEUE_WAIT`] in the queue is refused the same way when its turn
//! comes, rather than answered after its client has given up.

use async_trait::async_trait;
use gatehouse_core::password::{Argon2Params, HashMemory, PasswordError, PasswordHasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Queued hashes allowed per worker by default. A default-cost hash takes
/// ≈ 20–50 ms of one core, so a full queue is ≈ 0.6–1.6 s of waiting: well
/// inside any client's timeout, while a storm past it is refused at once
/// instead of piling up requests that would time out anyway.
pub const DEFAULT_QUEUE_PER_WORKER: usize = 32;

/// `Retry-After` of a refusal: the queue drains in about a second.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// A hash that waited this long in the queue is refused (503 `server_busy`)
/// instead of run: when the cores are saturated by other requests the
/// nice-10 hashing threads slow down, and a full queue could otherwise
/// keep its callers past their timeouts (the soak's is 30 s) for work they
/// no longer wait for.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// Runs Argon2 on `workers` dedicated threads, at most one hash per thread,
/// with at most `queue_limit` more waiting. Cheap to clone; the threads end
/// when the last clone is dropped.
#[derive(Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

struct Inner {
    params: Argon2Params,
    workers: usize,
    queue_limit: usize,
    max_wait: Duration,
    /// Hashes queued or running.
    admitted: Arc<AtomicUsize>,
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool")
            .field("params", &self.inner.params)
            .field("workers", &self.inner.workers)
            .field("queue_limit", &self.inner.queue_limit)
            .field("admitted", &self.admitted())
            .finish()
    }
}

/// One admitted hash; released when dropped.
struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    /// A pool making hashes with `params` on `workers` threads (at least
    /// one), refusing past `queue_limit` waiting hashes, and hashes that
    /// waited [`MAX_QUEUE_WAIT`].
    pub fn new(params: Argon2Params, workers: usize, queue_limit: usize) -> Self {
        Self::with_max_wait(params, workers, queue_limit, MAX_QUEUE_WAIT)
    }

    fn with_max_wait(
        params: Argon2Params,
        workers: usize,
        queue_limit: usize,
        max_wait: Duration,
    ) -> Self {
        let workers = workers.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&rx, params))
                .expect("cannot start a hashing thread");
        }
        HashPool {
            inner: Arc::new(Inner {
                params,
                workers,
                queue_limit,
                max_wait,
                admitted: Arc::new(AtomicUsize::new(0)),
                jobs: tx,
            }),
        }
    }

    /// Hashes queued or running now.
    pub fn admitted(&self) -> usize {
        self.inner.admitted.load(Ordering::Acquire)
    }

    /// The most hashes admitted at once: running plus queued.
    pub fn capacity(&self) -> usize {
        self.inner.workers + self.inner.queue_limit
    }

    /// Admits `work` and queues it, or refuses at once if the pool is full.
    /// The answer arrives on the returned receiver.
    fn submit<T, F>(
        &self,
        work: F,
    ) -> Result<oneshot::Receiver<Result<T, PasswordError>>, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&mut HashMemory) -> Result<T, PasswordError> + Send + 'static,
    {
        let admitted = &self.inner.admitted;
        let capacity = self.capacity();
        admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .map_err(|_| PasswordError::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS,
            })?;
        let ticket = Ticket(admitted.clone());
        let (tx, rx) = oneshot::channel();
        let (queued, max_wait) = (Instant::now(), self.inner.max_wait);
        let job: Job = Box::new(move |memory| {
            // The caller went away (its client hung up): skip the work.
            if tx.is_closed() {
                return;
            }
            let out = if queued.elapsed() > max_wait {
                Err(PasswordError::Busy {
                    retry_after_secs: BUSY_RETRY_AFTER_SECS,
                })
            } else {
                work(memory)
            };
            // Released before the answer, so a caller that has its answer
            // sees the slot free.
            drop(ticket);
            let _ = tx.send(out);
        });
        self.inner
            .jobs
            .send(job)
            .map_err(|_| PasswordError::Failed("the hashing threads are gone".into()))?;
        Ok(rx)
    }

    async fn run<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&mut HashMemory) -> Result<T, PasswordError> + Send + 'static,
    {
        self.submit(work)?
            .await
            .map_err(|_| PasswordError::Failed("the hashing thread failed".into()))?
    }
}

/// Scheduling priority (nice) of the hashing threads; the threads serving
/// requests keep 0.
const WORKER_NICE: i32 = 10;

/// A hashing thread: one work area for its whole life, one job at a time.
fn worker(jobs: &Mutex<mpsc::Receiver<Job>>, params: Argon2Params) {
    lower_priority();
    let mut memory = HashMemory::new(params);
    loop {
        // The lock is held only while waiting for the next job.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return; // the pool is gone
        };
        // A panic fails that one request (its sender is dropped), not the
        // thread. Argon2 overwrites the area before reading it.
        if catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
            tracing::error!("a password hash panicked");
        }
    }
}

/// Lets the request threads run first when the cores are busy: a login
/// storm then slows logins (the hashes get the CPU left over; past the
/// queue, logins are refused), not every other request. Measured with
/// `login-storm` on 2 shared cores: profile p99 44 ms at nice 0, 16–32 ms
/// at nice 10. Nice rather than `SCHED_IDLE` (no better there): a nice
/// thread still gets a share beside other busy processes, so queued logins
/// are not starved into client timeouts.
fn lower_priority() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: plain system calls about this thread. On Linux,
        // PRIO_PROCESS with a thread id sets that one thread's nice value.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, WORKER_NICE) != 0
        };
        if failed {
            tracing::debug!("could not lower the hashing thread's priority");
        }
    }
}

#[async_trait]
impl PasswordHasher for HashPool {
    async fn hash(&self, password: String, salt: [u8; 16]) -> Result<String, PasswordError> {
        self.run(move |memory| memory.hash(&password, salt)).await
    }

    async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError> {
        self.run(move |memory| memory.verify(&password, &phc)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::password::{hash_password, verify_password};
    // Small parameters: the tests check plumbing, not cost.
    use gatehouse_core::testing::CHEAP_ARGON2 as CHEAP;
    use std::sync::mpsc::{Receiver, Sender};

    /// A job that reports it started, then waits for its release.
    fn blocked(
        pool: &HashPool,
        started: &Sender<()>,
        release: Receiver<()>,
    ) -> Result<oneshot::Receiver<Result<(), PasswordError>>, PasswordError> {
        let started = started.clone();
        pool.submit(move |_| {
            started.send(()).unwrap();
            release.recv().unwrap();
            Ok(())
        })
    }

    #[tokio::test]
    async fn pool_hashes_and_verifies_like_the_core() {
        let pool = HashPool::new(CHEAP, 2, 4);
        let phc = pool.hash("correct horse".into(), [7; 16]).await.unwrap();
        assert_eq!(phc, hash_password(CHEAP, "correct horse", [7; 16]).unwrap());
        assert!(verify_password("correct horse", &phc).unwrap());
        assert!(pool
            .verify("correct horse".into(), phc.clone())
            .await
            .unwrap());
        assert!(!pool.verify("wrong".into(), phc).await.unwrap());
        // A hash of another cost (made before the pool, say) verifies too.
        let old = hash_password(
            Argon2Params {
                memory_kib: 256,
                iterations: 2,
                parallelism: 1,
            },
            "old password",
            [1; 16],
        )
        .unwrap();
        assert!(pool.verify("old password".into(), old).await.unwrap());
        assert_eq!(pool.admitted(), 0);
    }

    #[tokio::test]
    async fn pool_runs_one_hash_per_worker() {
        let pool = HashPool::new(CHEAP, 2, 8);
        let (started_tx, started) = mpsc::channel();
        let mut releases = Vec::new();
        let mut answers = Vec::new();
        for _ in 0..3 {
            let (release, rx) = mpsc::channel();
            releases.push(release);
            answers.push(blocked(&pool, &started_tx, rx).unwrap());
        }
        // Two start; the third waits for a worker, both being held.
        started.recv().unwrap();
        started.recv().unwrap();
        assert!(started.try_recv().is_err());
        assert_eq!(pool.admitted(), 3);
        for r in &releases {
            r.send(()).unwrap();
        }
        for a in answers {
            a.await.unwrap().unwrap();
        }
        started.recv().unwrap();
        assert_eq!(pool.admitted(), 0);
    }

    #[tokio::test]
    async fn pool_refuses_past_its_queue_then_recovers() {
        let (workers, queue) = (2, 3);
        let pool = HashPool::new(CHEAP, workers, queue);
        let (started_tx, started) = mpsc::channel();
        let mut releases = Vec::new();
        let mut answers = Vec::new();
        for _ in 0..workers + queue {
            let (release, rx) = mpsc::channel();
            releases.push(release);
            answers.push(blocked(&pool, &started_tx, rx).unwrap());
        }
        started.recv().unwrap();
        started.recv().unwrap();
        assert_eq!(pool.admitted(), pool.capacity());

        // Full: refused at once, through the trait too, with a retry hint.
        let (_r, rx) = mpsc::channel();
        assert!(matches!(
            blocked(&pool, &started_tx, rx),
            Err(PasswordError::Busy {
                retry_after_secs: BUSY_RETRY_AFTER_SECS
            })
        ));
        let busy = pool.hash("pw".into(), [0; 16]).await.unwrap_err();
        assert!(matches!(busy, PasswordError::Busy { .. }), "{busy:?}");
        assert!(matches!(
            pool.verify("pw".into(), "$argon2id$x".into()).await,
            Err(PasswordError::Busy { .. })
        ));
        assert_eq!(pool.admitted(), pool.capacity());

        // Released: every admitted job answers, and the pool takes work again.
        for r in &releases {
            r.send(()).unwrap();
        }
        for a in answers {
            a.await.unwrap().unwrap();
        }
        assert_eq!(pool.admitted(), 0);
        let phc = pool.hash("pw".into(), [0; 16]).await.unwrap();
        assert!(pool.verify("pw".into(), phc).await.unwrap());
    }

    #[tokio::test]
    async fn pool_skips_the_work_of_a_caller_that_left() {
        let pool = HashPool::new(CHEAP, 1, 4);
        let (started_tx, started) = mpsc::channel();
        let (release, rx) = mpsc::channel();
        let first = blocked(&pool, &started_tx, rx).unwrap();
        started.recv().unwrap();
        // Queued behind the held job, then abandoned.
        let (_keep, rx2) = mpsc::channel();
        drop(blocked(&pool, &started_tx, rx2).unwrap());
        assert_eq!(pool.admitted(), 2);
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        // The abandoned job is dropped without running (it never reports
        // a start); the next job proves the worker has moved past it.
        pool.hash("pw".into(), [0; 16]).await.unwrap();
        assert!(started.try_recv().is_err());
        assert_eq!(pool.admitted(), 0);
    }

    #[tokio::test]
    async fn pool_refuses_a_hash_that_waited_too_long() {
        let pool = HashPool::with_max_wait(CHEAP, 1, 4, Duration::from_millis(100));
        let (started_tx, started) = mpsc::channel();
        let (release, rx) = mpsc::channel();
        let first = blocked(&pool, &started_tx, rx).unwrap();
        // The first has passed its check; the next waits behind it.
        started.recv().unwrap();
        let late = pool.submit(|_| Ok(())).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert!(matches!(
            late.await.unwrap(),
            Err(PasswordError::Busy { .. })
        ));
        // A fresh one runs.
        pool.hash("pw".into(), [0; 16]).await.unwrap();
        assert_eq!(pool.admitted(), 0);
    }

    #[tokio::test]
    async fn a_panicking_hash_fails_one_request_not_the_pool() {
        let pool = HashPool::new(CHEAP, 1, 1);
        let err = pool
            .run(|_| -> Result<(), PasswordError> { panic!("boom") })
            .await
            .unwrap_err();
        assert!(matches!(err, PasswordError::Failed(_)));
        pool.hash("pw".into(), [0; 16]).await.unwrap();
        assert_eq!(pool.admitted(), 0);
    }
}
