//! [`LibsqlExecutor`]: the core's [`SqlExecutor`] over libSQL, either an
//! embedded database file or a remote libSQL server (`sqld`, Turso) by URL.

use crate::wal_index::{Header, WalIndex};
use async_trait::async_trait;
use gatehouse_core::sql::busy;
use gatehouse_core::sql::classify::{may_write, returns_rows, ErrorCode};
use gatehouse_core::sql::{Row, SqlError, SqlExecutor, Statement, StatementResult, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Environment variable holding the remote server's auth token.
pub const AUTH_TOKEN_VAR: &str = "GATEHOUSE_DATABASE_AUTH_TOKEN";

/// How long SQLite waits on a lock held by another process (the CLI while
/// the server runs, or a second server on the same file) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle embedded connections kept for reuse. Opening one costs a file open
/// and a schema parse on first use, so they are kept; more than a few per
/// core would only sit idle.
const MAX_IDLE_LOCAL: usize = 32;

/// Prepared statements kept per embedded connection. The core's SQL is a
/// fixed set of texts; the bound only guards against one that is not.
const MAX_CACHED_STATEMENTS: usize = 256;

/// Opening the database failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: libsql::Error },
    #[error("cannot configure database {url}: {source}")]
    Configure { url: String, source: SqlError },
}

/// Runs the core's SQL on libSQL.
///
/// Embedded file: connections are pooled (opening one is a file open plus a
/// schema read) with their prepared statements (preparing costs about twice
/// as much as running a key lookup), and statements that write take an
/// in-process async lock first. SQLite allows one writer at a time; waiting on a tokio lock yields
/// the worker thread, whereas SQLite's busy handler would sleep on it.
///
/// Remote server: a connection per call. A remote connection is a handle on
/// a shared HTTP client, and one connection's requests are serialised on its
/// stream, so sharing one would queue unrelated requests behind each other.
/// Transactions take the same in-process lock (one transaction of this
/// process at a time holds the server's write lock over its round trips),
/// and a write the server still answers busy is tried again by the core's
/// policy.
pub struct LibsqlExecutor {
    db: libsql::Database,
    local: Option<LocalState>,
    replica: Option<ReplicaState>,
    /// Taken by every call that may write to an embedded file, and by every
    /// transaction that may write to a server: SQLite has one writer at a
    /// time, and a remote transaction holds the server's write lock over
    /// several round trips, so concurrent ones would make each other busy.
    writer: tokio::sync::Mutex<()>,
}

/// An embedded replica of a remote primary (`--replica-path`): reads run
/// on the local file, writes are sent to the primary and wait until the
/// replica holds them (libSQL's read-your-writes), and a background task
/// pulls the primary's changes every `sync_interval`.
struct ReplicaState {
    /// Idle connections. A replica connection is a local SQLite connection
    /// plus the write-forwarding state; opening one opens the file.
    idle: Mutex<Vec<libsql::Connection>>,
    /// Plain embedded connections to the replica's file, with their
    /// prepared statements, for single reads: a replica connection parses
    /// each statement to choose local or remote and prepares it anew (about
    /// five times the CPU of a cached embedded read). Writes, and reads
    /// inside a batch, go through the replica connections.
    reads: Box<LibsqlExecutor>,
    /// One catch-up at a time; a caller that waited for another's finds the
    /// replica already caught up (`synced` moved on) and returns at once.
    sync_lock: tokio::sync::Mutex<()>,
    synced: AtomicU64,
    /// Moved after every write sent to the primary and every sync this
    /// executor ran: part of the generation (`SqlExecutor::generation`),
    /// with `reads`' data version.
    writes: AtomicU64,
}

/// How often a replica pulls the primary's changes unless told otherwise.
pub const DEFAULT_REPLICA_SYNC: Duration = Duration::from_millis(100);

struct LocalState {
    idle: Mutex<Vec<LocalConn>>,
    /// Moved after every statement or batch that may write, through any
    /// pooled connection: this process's half of the generation.
    writes: AtomicU64,
    /// The database file.
    path: String,
    /// What tells that another connection (pooled here, another process,
    /// a replica's sync) committed: the other half. Opened on first use.
    version: Mutex<Option<VersionSource>>,
    /// Whether the WAL-index header may answer (the embedded file; a
    /// replica's file is written by libsql's sync, so it asks SQLite).
    header: bool,
}

/// Where the data version comes from.
enum VersionSource {
    /// `PRAGMA data_version` on a connection of its own; its values are
    /// not comparable with another connection's.
    Pragma(rusqlite::Connection),
    /// The file's WAL-index header (`wal_index`, which keeps its own
    /// connection open): `epoch` moves whenever the header read differs
    /// from `last` (`None`: a header caught mid-write, which counts as a
    /// change).
    Header {
        index: WalIndex,
        last: Option<Header>,
        epoch: u64,
    },
}

impl VersionSource {
    /// The header source if the file has one, else the pragma's.
    fn open(path: &str, header: bool) -> rusqlite::Result<VersionSource> {
        let conn = open_version_conn(path)?;
        // A busy file is "cannot tell" for this request, and the next one
        // tries again, rather than the pragma for the life of the process.
        read_data_version(&conn)?;
        if !header {
            return Ok(VersionSource::Pragma(conn));
        }
        Ok(match WalIndex::open(conn) {
            Ok(index) => VersionSource::Header {
                last: index.header(),
                index,
                epoch: 0,
            },
            Err(conn) => VersionSource::Pragma(*conn),
        })
    }

    /// The current value: the pragma's, or the header's epoch.
    fn read(&mut self) -> rusqlite::Result<u64> {
        match self {
            VersionSource::Pragma(conn) => read_data_version(conn),
            VersionSource::Header { index, last, epoch } => {
                let now = index.header();
                if now.is_none() || now != *last {
                    *epoch += 1;
                    *last = now;
                }
                Ok(*epoch)
            }
        }
    }
}

impl LocalState {
    fn new(path: &str, header: bool) -> Self {
        LocalState {
            idle: Mutex::new(Vec::new()),
            writes: AtomicU64::new(0),
            path: path.to_owned(),
            version: Mutex::new(None),
            header,
        }
    }
}

/// One read of `PRAGMA data_version` (the statement is prepared once and
/// reset after the row, so no read transaction stays open: a replica's sync
/// could otherwise never apply frames).
fn read_data_version(conn: &rusqlite::Connection) -> rusqlite::Result<u64> {
    let mut pragma = conn.prepare_cached("PRAGMA data_version")?;
    pragma.query_row([], |row| row.get::<_, i64>(0).map(|v| v as u64))
}

/// The data-version connection: read-only, never waiting for a lock (every
/// request reads this one connection in turn, so one wait would stall them
/// all; a busy read means "cannot tell": those requests skip the caches).
/// A plain SQLite handle rather than a libsql one: the read is one step of
/// a cached statement, without libsql's async statement layer (which cost
/// two thirds of the read's 7,600 instructions).
fn open_version_conn(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::ZERO)?;
    Ok(conn)
}

/// Moves a write counter when dropped: after the write it guards has ended,
/// however it ended (a failed or cancelled write moves it too; that only
/// costs a cache miss).
struct BumpOnDrop<'a>(Option<&'a AtomicU64>);

impl Drop for BumpOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(counter) = self.0 {
            counter.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// One generation from this process's write count and the data version:
/// equal pairs give equal values, and a pair repeats only after 2^32 of
/// either between two reads.
fn generation_of(writes: u64, data_version: u64) -> u64 {
    (writes << 32) ^ (data_version & 0xffff_ffff)
}

impl std::fmt::Debug for LibsqlExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibsqlExecutor")
            .field("local", &self.local.is_some())
            .field("replica", &self.replica.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a database URL names a remote server rather than a file path.
pub fn is_remote_url(url: &str) -> bool {
    ["http://", "https://", "libsql://"]
        .iter()
        .any(|p| url.starts_with(p))
}

impl LibsqlExecutor {
    /// Opens `url`: a file path for an embedded database (created if
    /// missing, switched to WAL), or `http://`, `https://`, `libsql://` for a
    /// remote server, authenticated with `auth_token` if given.
    pub async fn open(url: &str, auth_token: Option<String>) -> Result<Self, OpenError> {
        let open_err = |source| OpenError::Open {
            url: url.to_owned(),
            source,
        };
        if is_remote_url(url) {
            let db = libsql::Builder::new_remote(url.to_owned(), auth_token.unwrap_or_default())
                .build()
                .await
                .map_err(open_err)?;
            return Ok(LibsqlExecutor {
                db,
                local: None,
                replica: None,
                writer: tokio::sync::Mutex::new(()),
            });
        }
        let db = libsql::Builder::new_local(url)
            .build()
            .await
            .map_err(open_err)?;
        let exec = LibsqlExecutor {
            db,
            local: Some(LocalState::new(url, true)),
            replica: None,
            writer: tokio::sync::Mutex::new(()),
        };
        // WAL lets readers run beside the one writer and turns a commit into
        // an append; it is a property of the file, so setting it once is
        // enough. The pragma answers with a row, which must be read.
        let conn = exec
            .connect()
            .await
            .map_err(|source| OpenError::Configure {
                url: url.to_owned(),
                source,
            })?;
        let mode = query_all(&conn.conn, "pragma journal_mode=wal", Vec::new())
            .await
            .map_err(|source| OpenError::Configure {
                url: url.to_owned(),
                source,
            })?;
        tracing::debug!(?mode, "journal mode");
        exec.put_back(conn);
        Ok(exec)
    }

    /// Opens an embedded replica at `path` of the remote primary `url`
    /// (`http://`, `https://`, `libsql://`), syncs it once (so the server
    /// starts on current data), and pulls the primary's changes every
    /// `sync_interval` after that.
    pub async fn open_replica(
        path: &str,
        url: &str,
        auth_token: Option<String>,
        sync_interval: Duration,
    ) -> Result<Self, OpenError> {
        let open_err = |source| OpenError::Open {
            url: format!("{url} (replica {path})"),
            source,
        };
        if !is_remote_url(url) {
            return Err(OpenError::Configure {
                url: url.to_owned(),
                source: SqlError::Other(
                    "--replica-path needs a remote --database-url (http://, https://, libsql://)"
                        .into(),
                ),
            });
        }
        let db = libsql::Builder::new_remote_replica(
            path,
            url.to_owned(),
            auth_token.unwrap_or_default(),
        )
        .read_your_writes(true)
        .sync_interval(sync_interval)
        .build()
        .await
        .map_err(open_err)?;
        db.sync().await.map_err(open_err)?;
        // The replica's file, read as an embedded database. Its journal mode
        // is the replicator's: not set here.
        let reads = LibsqlExecutor {
            db: libsql::Builder::new_local(path)
                .build()
                .await
                .map_err(open_err)?,
            local: Some(LocalState::new(path, false)),
            replica: None,
            writer: tokio::sync::Mutex::new(()),
        };
        Ok(LibsqlExecutor {
            db,
            local: None,
            replica: Some(ReplicaState {
                reads: Box::new(reads),
                idle: Mutex::new(Vec::new()),
                sync_lock: tokio::sync::Mutex::new(()),
                synced: AtomicU64::new(0),
                writes: AtomicU64::new(0),
            }),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// A new embedded connection, set up for this process's use.
    async fn connect(&self) -> Result<LocalConn, SqlError> {
        let conn = self.db.connect().map_err(map_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
        // Per connection. With WAL, NORMAL syncs at checkpoints rather than
        // at every commit: a power cut may lose the last commits, never
        // corrupt the file.
        query_all(&conn, "pragma synchronous=normal", Vec::new()).await?;
        Ok(LocalConn {
            conn,
            statements: HashMap::new(),
        })
    }

    /// A pooled (embedded, replica) or fresh (remote) connection.
    async fn take(&self) -> Result<Conn, SqlError> {
        if let Some(replica) = &self.replica {
            let pooled = replica.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            return match pooled {
                Some(conn) => Ok(Conn::Replica(conn)),
                None => Ok(Conn::Replica(self.db.connect().map_err(map_err)?)),
            };
        }
        let Some(local) = &self.local else {
            return Ok(Conn::Remote(self.db.connect().map_err(map_err)?));
        };
        let pooled = local.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match pooled {
            Some(conn) => Ok(Conn::Local(conn)),
            None => Ok(Conn::Local(self.connect().await?)),
        }
    }

    /// Returns an embedded connection to the pool. A connection left inside
    /// a transaction (a cancelled request) is dropped instead: closing it
    /// rolls the transaction back.
    fn put_back(&self, conn: LocalConn) {
        let Some(local) = &self.local else { return };
        if !conn.conn.is_autocommit() {
            return;
        }
        let mut idle = local.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_LOCAL {
            idle.push(conn);
        }
    }

    /// The write counter a write through this executor moves (none for a
    /// plain remote server: it has no generation).
    fn write_counter(&self, writes: bool) -> BumpOnDrop<'_> {
        let counter = match (&self.replica, &self.local) {
            (Some(replica), _) => Some(&replica.writes),
            (None, Some(local)) => Some(&local.writes),
            (None, None) => None,
        };
        BumpOnDrop(counter.filter(|_| writes))
    }

    /// The data version (embedded file, replica): `VersionSource`.
    fn data_version(local: &LocalState) -> Result<u64, SqlError> {
        let mut version = local.version.lock().unwrap_or_else(|e| e.into_inner());
        let read = match &mut *version {
            Some(source) => source.read(),
            slot => VersionSource::open(&local.path, local.header).and_then(|source| {
                let source = slot.insert(source);
                source.read()
            }),
        };
        read.map_err(|e| {
            let code = match &e {
                rusqlite::Error::SqliteFailure(f, _) => ErrorCode::Extended(f.extended_code),
                _ => ErrorCode::None,
            };
            let e = SqlError::from_failure(e.to_string(), code);
            if !e.is_busy() {
                // A fresh connection next time: closing this one releases
                // whatever it may still hold.
                *version = None;
                tracing::warn!(error = %e, "reading the data version failed");
            }
            e
        })
    }

    /// Takes the in-process write lock when `writes`.
    async fn write_guard(&self, writes: bool) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match writes {
            true => Some(self.writer.lock().await),
            false => None,
        }
    }
}

/// An embedded connection and its prepared statements, each with whether
/// it returns rows (classified once, not per run).
struct LocalConn {
    conn: libsql::Connection,
    statements: HashMap<String, (libsql::Statement, bool)>,
}

enum Conn {
    Local(LocalConn),
    Remote(libsql::Connection),
    /// No statement cache: whether a statement runs locally or on the
    /// primary depends on the connection's transaction state when it runs.
    Replica(libsql::Connection),
}

/// Returns an embedded connection to the pool when the call ends, however
/// it ends (a request future may be dropped mid-call).
struct Pooled<'a> {
    exec: &'a LibsqlExecutor,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        match self.conn.take() {
            Some(Conn::Local(conn)) => self.exec.put_back(conn),
            Some(Conn::Replica(conn)) => {
                // One left inside a transaction (a cancelled request) is
                // dropped: the primary rolls its stream back.
                if let (Some(replica), true) = (&self.exec.replica, conn.is_autocommit()) {
                    let mut idle = replica.idle.lock().unwrap_or_else(|e| e.into_inner());
                    if idle.len() < MAX_IDLE_LOCAL {
                        idle.push(conn);
                    }
                }
            }
            _ => {}
        }
    }
}

impl LibsqlExecutor {
    async fn pooled(&self) -> Result<Pooled<'_>, SqlError> {
        Ok(Pooled {
            exec: self,
            conn: Some(self.take().await?),
        })
    }
}

#[async_trait]
impl SqlExecutor for LibsqlExecutor {
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        let writes = may_write(&stmt.sql);
        if let (Some(replica), false) = (&self.replica, writes) {
            return replica.reads.run(stmt).await;
        }
        // On a server, one statement holds its lock for one round trip
        // only, and the server queues those itself; only an embedded file
        // needs the lock for it.
        let _write = self.write_guard(writes && self.local.is_some()).await;
        let _bump = self.write_counter(writes);
        let mut pooled = self.pooled().await?;
        match pooled.conn() {
            Conn::Local(conn) => conn.run(stmt).await,
            Conn::Remote(conn) | Conn::Replica(conn) => run_remote(conn, stmt).await,
        }
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let writes = stmts.iter().any(|s| may_write(&s.sql));
        let _write = self.write_guard(writes).await;
        let _bump = self.write_counter(writes);
        let mut pooled = self.pooled().await?;
        match pooled.conn() {
            Conn::Local(conn) => conn.batch(stmts).await,
            Conn::Remote(conn) | Conn::Replica(conn) => batch_remote(conn, stmts).await,
        }
    }

    async fn catch_up(&self) -> Result<bool, SqlError> {
        let Some(replica) = &self.replica else {
            return Ok(false);
        };
        let seen = replica.synced.load(Ordering::Acquire);
        let _one = replica.sync_lock.lock().await;
        // A sync counts when it starts, under the lock: one that started
        // after this caller's miss ran to its end while this caller waited,
        // and covers the miss.
        if replica.synced.load(Ordering::Acquire) != seen {
            return Ok(true);
        }
        replica.synced.fetch_add(1, Ordering::AcqRel);
        let _bump = BumpOnDrop(Some(&replica.writes));
        self.db.sync().await.map_err(map_err)?;
        Ok(true)
    }

    /// Embedded file: this process's write count and the file's data
    /// version. Replica: the writes and syncs this executor ran, and the
    /// replica file's data version (the background sync's frames move
    /// it). Plain remote server: none.
    async fn generation(&self) -> Result<Option<u64>, SqlError> {
        let (writes, local) = match (&self.replica, &self.local) {
            (Some(replica), _) => (&replica.writes, replica.reads.local.as_ref()),
            (None, Some(local)) => (&local.writes, Some(local)),
            (None, None) => return Ok(None),
        };
        let Some(local) = local else { return Ok(None) };
        // The count first: a write that ends after this read moves the
        // count after its commit, which the data version then also shows.
        let count = writes.load(Ordering::Acquire);
        let version = Self::data_version(local)?;
        Ok(Some(generation_of(count, version)))
    }
}

impl LocalConn {
    /// Runs one statement through the statement cache.
    async fn run(&mut self, stmt: Statement) -> Result<StatementResult, SqlError> {
        if self.statements.len() >= MAX_CACHED_STATEMENTS
            && !self.statements.contains_key(&stmt.sql)
        {
            self.statements.clear();
        }
        let (prepared, with_rows) = match self.statements.entry(stmt.sql) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let p = self.conn.prepare(e.key()).await.map_err(map_err)?;
                let with_rows = returns_rows(e.key());
                e.insert((p, with_rows))
            }
        };
        let with_rows = *with_rows;
        let params: Vec<libsql::Value> = stmt.params.into_iter().map(to_libsql).collect();
        let result = if with_rows {
            // `changes()` keeps the count of the last INSERT/UPDATE/DELETE
            // even after a SELECT; the running total's difference is exact
            // (the core's schema has no triggers that write).
            let before = self.conn.total_changes();
            match prepared.query(params).await {
                Ok(rows) => collect_rows(rows).await.map(|rows| StatementResult {
                    rows_affected: self.conn.total_changes().saturating_sub(before),
                    rows,
                }),
                Err(e) => Err(map_err(e)),
            }
        } else {
            prepared
                .execute(params)
                .await
                .map(|n| StatementResult {
                    rows_affected: n as u64,
                    rows: Vec::new(),
                })
                .map_err(map_err)
        };
        // Ready for the next use, and no read lock held by a half-read query.
        prepared.reset();
        result
    }

    /// Runs the statements in one transaction. Plain BEGIN/COMMIT rather
    /// than libsql's `Transaction`, so the statements go through the cache;
    /// a dropped call leaves the connection in the transaction, and
    /// [`LibsqlExecutor::put_back`] then closes it, which rolls back.
    async fn batch(&mut self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        // IMMEDIATE takes the write lock at BEGIN, so a transaction never
        // fails half-way when a read lock cannot be upgraded.
        self.conn
            .execute("BEGIN IMMEDIATE", ())
            .await
            .map_err(map_err)?;
        let mut results = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            match self.run(stmt).await {
                Ok(r) => results.push(r),
                Err(e) => {
                    if let Err(rollback) = self.conn.execute("ROLLBACK", ()).await {
                        tracing::warn!(error = %rollback, "rollback failed");
                    }
                    return Err(e);
                }
            }
        }
        if let Err(e) = self.conn.execute("COMMIT", ()).await {
            // A failed COMMIT may leave the transaction open.
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute("ROLLBACK", ()).await;
            }
            return Err(map_err(e));
        }
        Ok(results)
    }
}

/// Runs one statement on a remote server (plain, or a replica's primary),
/// again after SQLITE_BUSY (the core's [`busy`] policy, shared with the
/// Worker); logs the failure it ends with.
async fn run_remote(
    conn: &libsql::Connection,
    stmt: Statement,
) -> Result<StatementResult, SqlError> {
    busy::retrying_when_busy(|| run_remote_once(conn, &stmt), pause)
        .await
        .inspect_err(log_failure)
}

/// Runs the statements in one remote transaction (its own stream), again
/// after SQLITE_BUSY: a busy transaction was rolled back whole.
async fn batch_remote(
    conn: &libsql::Connection,
    stmts: Vec<Statement>,
) -> Result<Vec<StatementResult>, SqlError> {
    busy::retrying_when_busy(|| batch_remote_once(conn, &stmts), pause)
        .await
        .inspect_err(log_failure)
}

/// Says why, then waits `ms` before the next try.
fn pause(ms: u64, e: &SqlError) -> tokio::time::Sleep {
    tracing::debug!(error = %e, ms, "database busy, trying again");
    tokio::time::sleep(Duration::from_millis(ms))
}

/// A storage failure becomes the core's 503; the reason goes to the log. A
/// unique violation is an expected answer, not logged.
fn log_failure(e: &SqlError) {
    if let SqlError::Other(m) = e {
        tracing::warn!(error = %m, "database failure");
    }
}

async fn run_remote_once(
    conn: &libsql::Connection,
    stmt: &Statement,
) -> Result<StatementResult, SqlError> {
    let params: Vec<libsql::Value> = stmt.params.iter().cloned().map(to_libsql).collect();
    if !returns_rows(&stmt.sql) {
        // One round trip: a query costs two (the client has the server
        // describe the statement first).
        let rows_affected = conn.execute(&stmt.sql, params).await.map_err(map_err)?;
        return Ok(StatementResult {
            rows_affected,
            rows: Vec::new(),
        });
    }
    let rows = conn.query(&stmt.sql, params).await.map_err(map_err)?;
    let rows = collect_rows(rows).await?;
    // The remote client keeps no running total for queries, but
    // `changes()` is this statement's own count once its rows are read.
    Ok(StatementResult {
        rows_affected: conn.changes(),
        rows,
    })
}

async fn batch_remote_once(
    conn: &libsql::Connection,
    stmts: &[Statement],
) -> Result<Vec<StatementResult>, SqlError> {
    let tx = conn
        .transaction_with_behavior(libsql::TransactionBehavior::Immediate)
        .await
        .map_err(map_err)?;
    let mut results = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        match run_remote_once(&tx, stmt).await {
            Ok(r) => results.push(r),
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                return Err(e);
            }
        }
    }
    if let Err(e) = tx.commit().await {
        // A COMMIT that failed (busy) leaves the transaction open: end it,
        // so that a try again starts clean.
        let _ = conn.execute("ROLLBACK", ()).await;
        return Err(map_err(e));
    }
    Ok(results)
}

async fn query_all(
    conn: &libsql::Connection,
    sql: &str,
    params: Vec<Value>,
) -> Result<Vec<Row>, SqlError> {
    let params: Vec<libsql::Value> = params.into_iter().map(to_libsql).collect();
    let rows = conn.query(sql, params).await.map_err(map_err)?;
    collect_rows(rows).await
}

async fn collect_rows(mut rows: libsql::Rows) -> Result<Vec<Row>, SqlError> {
    let width = rows.column_count().max(0);
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(map_err)? {
        let mut values = Vec::with_capacity(width as usize);
        for i in 0..width {
            values.push(from_libsql(row.get_value(i).map_err(map_err)?));
        }
        out.push(values);
    }
    Ok(out)
}

fn to_libsql(v: Value) -> libsql::Value {
    match v {
        Value::Null => libsql::Value::Null,
        Value::Integer(i) => libsql::Value::Integer(i),
        Value::Real(r) => libsql::Value::Real(r),
        Value::Text(s) => libsql::Value::Text(s),
        Value::Blob(b) => libsql::Value::Blob(b),
    }
}

fn from_libsql(v: libsql::Value) -> Value {
    match v {
        libsql::Value::Null => Value::Null,
        libsql::Value::Integer(i) => Value::Integer(i),
        libsql::Value::Real(r) => Value::Real(r),
        libsql::Value::Text(s) => Value::Text(s),
        libsql::Value::Blob(b) => Value::Blob(b),
    }
}

/// Maps a libSQL error. The embedded engine reports the extended code; a
/// remote server only the message, which the core reads too.
fn map_err(e: libsql::Error) -> SqlError {
    let code = match &e {
        libsql::Error::SqliteFailure(code, _) => ErrorCode::Extended(*code),
        // A write a replica forwarded to its primary.
        libsql::Error::RemoteSqliteFailure(_, extended, _) => ErrorCode::Extended(*extended),
        _ => ErrorCode::None,
    };
    SqlError::from_failure(e.to_string(), code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::sql::classify::SQLITE_CONSTRAINT_UNIQUE;
    use std::future::Future;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Set to a libSQL server URL (`sqld --http-listen-addr …`) to run the
    /// executor tests against it too, not only against an embedded file.
    const REMOTE_VAR: &str = "GATEHOUSE_TEST_LIBSQL_URL";

    /// A database with a fresh table of its own (`{t}` in SQL text), so
    /// tests can share one remote server.
    struct Db {
        exec: LibsqlExecutor,
        table: String,
        _dir: Option<tempfile::TempDir>,
    }

    impl Db {
        async fn local() -> Db {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let exec = LibsqlExecutor::open(path.to_str().unwrap(), None)
                .await
                .unwrap();
            Db::with(exec, "t".into(), Some(dir)).await
        }

        async fn remote(url: &str) -> Db {
            static N: AtomicU32 = AtomicU32::new(0);
            let exec = LibsqlExecutor::open(url, std::env::var(AUTH_TOKEN_VAR).ok())
                .await
                .unwrap();
            let table = format!(
                "t_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            Db::with(exec, table, None).await
        }

        async fn with(exec: LibsqlExecutor, table: String, dir: Option<tempfile::TempDir>) -> Db {
            let db = Db {
                exec,
                table,
                _dir: dir,
            };
            db.exec
                .run(db.stmt("DROP TABLE IF EXISTS {t}", vec![]))
                .await
                .unwrap();
            db.exec
                .run(db.stmt(
                    "CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, data BLOB)",
                    vec![],
                ))
                .await
                .unwrap();
            db
        }

        fn stmt(&self, sql: &str, params: Vec<Value>) -> Statement {
            Statement::new(sql.replace("{t}", &self.table), params)
        }

        fn insert(&self, name: &str) -> Statement {
            self.stmt("INSERT INTO {t} (name) VALUES (?)", vec![name.into()])
        }

        async fn count(&self) -> i64 {
            let r = self
                .exec
                .run(self.stmt("SELECT count(*) FROM {t}", vec![]))
                .await
                .unwrap();
            match r.rows[0][0] {
                Value::Integer(n) => n,
                ref other => panic!("count: {other:?}"),
            }
        }
    }

    /// Runs `test` on an embedded file, and on the remote server if one is
    /// configured.
    async fn on_each_backend<F, Fut>(test: F)
    where
        F: Fn(Db) -> Fut,
        Fut: Future<Output = ()>,
    {
        test(Db::local().await).await;
        if let Ok(url) = std::env::var(REMOTE_VAR) {
            test(Db::remote(&url).await).await;
        }
    }

    #[tokio::test]
    async fn run_round_trips_values_and_counts_changes() {
        on_each_backend(|db| async move {
            let r = db
                .exec
                .run(db.stmt(
                    "INSERT INTO {t} (name, score, data) VALUES (?, ?, ?), (?, ?, ?)",
                    vec![
                        "a".into(),
                        Value::Real(1.5),
                        Value::Blob(vec![0, 1, 2]),
                        "b".into(),
                        Value::Null,
                        Value::Null,
                    ],
                ))
                .await
                .unwrap();
            assert_eq!(r.rows_affected, 2);
            assert!(r.rows.is_empty());

            let r = db
                .exec
                .run(db.stmt("SELECT id, name, score, data FROM {t} ORDER BY id", vec![]))
                .await
                .unwrap();
            assert_eq!(r.rows_affected, 0, "a SELECT changes nothing");
            assert_eq!(
                r.rows,
                vec![
                    vec![
                        Value::Integer(1),
                        "a".into(),
                        Value::Real(1.5),
                        Value::Blob(vec![0, 1, 2])
                    ],
                    vec![Value::Integer(2), "b".into(), Value::Null, Value::Null],
                ]
            );

            let r = db
                .exec
                .run(db.stmt(
                    "UPDATE {t} SET score = ? WHERE name = ? RETURNING id",
                    vec![Value::Real(2.0), "b".into()],
                ))
                .await
                .unwrap();
            assert_eq!(r.rows_affected, 1);
            assert_eq!(r.rows, vec![vec![Value::Integer(2)]]);
        })
        .await;
    }

    /// Many transactions at once, as a burst of logins makes them: every one
    /// commits. On a server they used to meet each other's write lock and
    /// answer busy (503 to the logins); now one process runs one at a time
    /// and a busy answer is tried again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_transactions_all_commit() {
        on_each_backend(|db| async move {
            let db = &db;
            let calls = (0..40).map(|i| async move {
                let stmts = (0..3).map(|j| db.insert(&format!("n{i}-{j}"))).collect();
                db.exec.batch(stmts).await
            });
            for r in futures::future::join_all(calls).await {
                r.unwrap();
            }
            assert_eq!(db.count().await, 120);
        })
        .await;
    }

    #[tokio::test]
    async fn batch_commits_all_statements() {
        on_each_backend(|db| async move {
            let results = db
                .exec
                .batch(vec![
                    db.insert("a"),
                    db.insert("b"),
                    db.stmt("UPDATE {t} SET score = 1", vec![]),
                    db.stmt("SELECT name FROM {t} ORDER BY name", vec![]),
                ])
                .await
                .unwrap();
            assert_eq!(results.len(), 4);
            assert_eq!(results[0].rows_affected, 1);
            assert_eq!(results[2].rows_affected, 2);
            assert_eq!(results[3].rows_affected, 0);
            assert_eq!(results[3].rows, vec![vec!["a".into()], vec!["b".into()]]);
            assert_eq!(db.count().await, 2);
        })
        .await;
    }

    #[tokio::test]
    async fn batch_rolls_back_on_error() {
        on_each_backend(|db| async move {
            let err = db
                .exec
                .batch(vec![
                    db.insert("a"),
                    db.stmt("INSERT INTO nowhere VALUES (1)", vec![]),
                ])
                .await
                .unwrap_err();
            assert!(matches!(err, SqlError::Other(_)), "{err:?}");
            assert_eq!(db.count().await, 0, "the first insert was rolled back");
            // The connection went back to the pool usable, outside a transaction.
            db.exec.batch(vec![db.insert("a")]).await.unwrap();
            assert_eq!(db.count().await, 1);
        })
        .await;
    }

    #[tokio::test]
    async fn unique_violation_is_mapped() {
        on_each_backend(|db| async move {
            db.exec.run(db.insert("a")).await.unwrap();
            let err = db.exec.run(db.insert("a")).await.unwrap_err();
            match err {
                SqlError::UniqueViolation(cols) => assert_eq!(cols, format!("{}.name", db.table)),
                other => panic!("expected a unique violation, got {other:?}"),
            }
            let err = db
                .exec
                .batch(vec![db.insert("b"), db.insert("a")])
                .await
                .unwrap_err();
            assert!(matches!(err, SqlError::UniqueViolation(_)), "{err:?}");
            assert_eq!(db.count().await, 1, "b was rolled back");
        })
        .await;
    }

    #[tokio::test]
    async fn cached_statements_rebind_and_recover_from_errors() {
        on_each_backend(|db| async move {
            db.exec.run(db.insert("a")).await.unwrap();
            db.exec.run(db.insert("b")).await.unwrap();
            let by_name = |n: &str| db.stmt("SELECT id FROM {t} WHERE name = ?", vec![n.into()]);
            let a = db.exec.run(by_name("a")).await.unwrap();
            let b = db.exec.run(by_name("b")).await.unwrap();
            assert_eq!(a.rows, vec![vec![Value::Integer(1)]]);
            assert_eq!(b.rows, vec![vec![Value::Integer(2)]]);
            // The cached INSERT failed once, and still works afterwards.
            assert!(db.exec.run(db.insert("a")).await.is_err());
            db.exec.run(db.insert("c")).await.unwrap();
            // A query read in full holds no lock: a write after it goes through.
            db.exec
                .run(db.stmt("SELECT name FROM {t}", vec![]))
                .await
                .unwrap();
            db.exec
                .batch(vec![
                    db.stmt("DELETE FROM {t} WHERE name = ?", vec!["c".into()])
                ])
                .await
                .unwrap();
            assert_eq!(db.count().await, 2);
        })
        .await;
    }

    /// The first column of each row `pragma {name}` gives on a fresh file.
    async fn pragma(name: &str) -> Vec<String> {
        let db = Db::local().await;
        let sql = format!("pragma {name}");
        let r = db.exec.run(Statement::plain(sql)).await.unwrap();
        r.rows.iter().map(|row| format!("{:?}", row[0])).collect()
    }

    #[tokio::test]
    async fn embedded_database_is_in_wal_mode() {
        let mode = pragma("journal_mode").await;
        assert_eq!(mode, vec![format!("{:?}", Value::from("wal"))]);
    }

    /// `.cargo/config.toml` builds SQLite without
    /// SQLITE_ENABLE_MEMORY_MANAGEMENT (one global page-cache mutex). A
    /// build that misses the setting fails here, not only in a benchmark.
    #[tokio::test]
    async fn sqlite_is_built_without_the_global_page_cache() {
        let options = pragma("compile_options").await;
        let has = |o: &str| options.iter().any(|x| x.contains(o));
        assert!(has("THREADSAFE=1"), "the list is read: {options:?}");
        assert!(!has("ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_do_not_fail() {
        let db = std::sync::Arc::new(Db::local().await);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for j in 0..25 {
                    db.exec
                        .batch(vec![
                            db.insert(&format!("{i}-{j}")),
                            db.insert(&format!("{i}-{j}x")),
                        ])
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(db.count().await, 400);
    }

    /// A real primary (the server `REMOTE_VAR` names) with a table of its
    /// own, and a folder for replicas of it; `None` (the test is skipped)
    /// without one.
    struct Primary {
        url: String,
        token: Option<String>,
        db: Db,
        dir: tempfile::TempDir,
    }

    impl Primary {
        async fn new() -> Option<Primary> {
            let Ok(url) = std::env::var(REMOTE_VAR) else {
                eprintln!("SKIP: no {REMOTE_VAR}");
                return None;
            };
            Some(Primary {
                token: std::env::var(AUTH_TOKEN_VAR).ok(),
                db: Db::remote(&url).await,
                dir: tempfile::tempdir().unwrap(),
                url,
            })
        }

        /// A replica in the folder that pulls the primary's changes `every`.
        async fn replica(&self, name: &str, every: Duration) -> LibsqlExecutor {
            let path = self.dir.path().join(name);
            let token = self.token.clone();
            LibsqlExecutor::open_replica(path.to_str().unwrap(), &self.url, token, every)
                .await
                .unwrap()
        }

        /// The rows of the primary's table as `exec` reads them.
        async fn count_on(&self, exec: &LibsqlExecutor) -> i64 {
            let stmt = self.db.stmt("SELECT count(*) FROM {t}", vec![]);
            match exec.run(stmt).await.unwrap().rows[0][0] {
                Value::Integer(n) => n,
                ref other => panic!("count: {other:?}"),
            }
        }
    }

    /// Against a real primary: a replica reads its own writes at once, sees
    /// another client's only after catching up, and a batch through it is
    /// one transaction on the primary.
    #[tokio::test]
    async fn a_replica_reads_its_own_writes_and_catches_up_on_others() {
        let Some(p) = Primary::new().await else {
            return;
        };
        let primary = &p.db;
        // No background sync within the test: only writes and catch_up move it.
        let replica = p.replica("replica.db", Duration::from_secs(3600)).await;
        let count = |exec| p.count_on(exec);
        assert_eq!(
            count(&replica).await,
            0,
            "the table came with the first sync"
        );
        replica.run(primary.insert("mine")).await.unwrap();
        assert_eq!(count(&replica).await, 1, "read-your-writes");
        assert_eq!(primary.count().await, 1, "the write reached the primary");

        primary.exec.run(primary.insert("theirs")).await.unwrap();
        assert_eq!(count(&replica).await, 1, "not synced yet");
        assert!(replica.catch_up().await.unwrap());
        assert_eq!(count(&replica).await, 2, "caught up");

        let results = replica
            .batch(vec![
                primary.insert("batched"),
                primary.stmt("SELECT count(*) FROM {t}", vec![]),
            ])
            .await
            .unwrap();
        assert_eq!(
            results[1].rows,
            vec![vec![Value::Integer(3)]],
            "inside the transaction"
        );
        let err = replica
            .batch(vec![primary.insert("x"), primary.insert("mine")])
            .await
            .unwrap_err();
        assert!(matches!(err, SqlError::UniqueViolation(_)), "{err:?}");
        assert_eq!(count(&replica).await, 3, "the failed batch left nothing");
        assert_eq!(primary.count().await, 3);
    }

    async fn generation(exec: &LibsqlExecutor) -> u64 {
        exec.generation().await.unwrap().expect("a generation")
    }

    #[tokio::test]
    async fn the_generation_moves_with_every_write_and_not_with_reads() {
        let db = Db::local().await;
        let g = generation(&db.exec).await;
        assert_eq!(db.count().await, 0);
        let read = db.exec.batch(vec![db.stmt("SELECT 1", vec![])]);
        read.await.unwrap();
        assert_eq!(generation(&db.exec).await, g, "reads change nothing");
        db.exec.run(db.insert("a")).await.unwrap();
        let after_run = generation(&db.exec).await;
        assert_ne!(after_run, g);
        db.exec.batch(vec![db.insert("b")]).await.unwrap();
        let after_batch = generation(&db.exec).await;
        assert_ne!(after_batch, after_run);
        // A write that failed may have done nothing: it moves it anyway.
        assert!(db.exec.run(db.insert("a")).await.is_err());
        assert_ne!(generation(&db.exec).await, after_batch);
    }

    /// The CLI while the server runs: another process (here another
    /// executor, with its own connections) on the same file.
    #[tokio::test]
    async fn a_write_by_another_connection_on_the_file_moves_the_generation() {
        let db = Db::local().await;
        let dir = db._dir.as_ref().unwrap();
        let path = dir.path().join("t.db");
        let other = LibsqlExecutor::open(path.to_str().unwrap(), None)
            .await
            .unwrap();
        let g = generation(&db.exec).await;
        let read = other.run(db.stmt("SELECT count(*) FROM {t}", vec![]));
        read.await.unwrap();
        assert_eq!(generation(&db.exec).await, g, "another's read");
        other.run(db.insert("theirs")).await.unwrap();
        let after_run = generation(&db.exec).await;
        assert_ne!(after_run, g, "another's write");
        other.batch(vec![db.insert("batched")]).await.unwrap();
        assert_ne!(generation(&db.exec).await, after_run, "another's batch");
        assert_eq!(db.count().await, 2);
    }

    #[tokio::test]
    async fn a_plain_remote_server_has_no_generation() {
        let Ok(url) = std::env::var(REMOTE_VAR) else {
            eprintln!("SKIP: no {REMOTE_VAR}");
            return;
        };
        let db = Db::remote(&url).await;
        assert_eq!(db.exec.generation().await.unwrap(), None);
    }

    /// Against a real primary: a replica's generation moves with its own
    /// writes, with its catch-up, and with a sync bringing another client's
    /// write, whether this executor ran the sync or libSQL's background
    /// task did.
    #[tokio::test]
    async fn a_replica_generation_moves_when_a_sync_brings_frames() {
        let Some(p) = Primary::new().await else {
            return;
        };
        let primary = &p.db;
        let open = |name, every| p.replica(name, every);
        let count = |exec| p.count_on(exec);
        // No background sync within this part: only what the test runs.
        let replica = open("still.db", Duration::from_secs(3600)).await;
        let g = generation(&replica).await;
        assert_eq!(count(&replica).await, 0);
        assert_eq!(generation(&replica).await, g, "a read");
        replica.run(primary.insert("mine")).await.unwrap();
        let mine = generation(&replica).await;
        assert_ne!(mine, g, "its own write");

        primary.exec.run(primary.insert("theirs")).await.unwrap();
        // libSQL's own sync, as its background task runs it: only the
        // replica file's data version can tell.
        replica.db.sync().await.unwrap();
        assert_eq!(count(&replica).await, 2);
        let synced = generation(&replica).await;
        assert_ne!(synced, mine, "the sync's frames");
        assert!(replica.catch_up().await.unwrap());
        assert_ne!(generation(&replica).await, synced, "a catch-up");

        // The background task, every 20 ms: once the row is readable here,
        // the generation has moved.
        let replica = open("moving.db", Duration::from_millis(20)).await;
        let before = count(&replica).await;
        let g = generation(&replica).await;
        primary.exec.run(primary.insert("later")).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count(&replica).await == before {
            assert!(std::time::Instant::now() < deadline, "never synced");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_ne!(generation(&replica).await, g, "the background sync");
    }

    #[test]
    fn libsql_errors_are_mapped_by_the_core() {
        let remote = libsql::Error::Hrana(
            "StreamError(Error { message: \"UNIQUE constraint failed: users.email\", code: \"SQLITE_CONSTRAINT\" })".into(),
        );
        match map_err(remote) {
            SqlError::UniqueViolation(cols) => assert_eq!(cols, "users.email"),
            other => panic!("{other:?}"),
        }
        // The embedded engine's extended code reaches the core.
        let local = libsql::Error::SqliteFailure(SQLITE_CONSTRAINT_UNIQUE, "no columns".into());
        assert!(matches!(map_err(local), SqlError::UniqueViolation(_)));
        let other = libsql::Error::SqliteFailure(1299, "NOT NULL constraint failed: t.a".into());
        assert!(matches!(map_err(other), SqlError::Other(_)));
    }

    #[test]
    fn urls_are_classified() {
        for (url, remote) in [
            ("http://127.0.0.1:8080", true),
            ("libsql://db.example.turso.io", true),
            ("gatehouse.db", false),
            ("/var/lib/gatehouse/gatehouse.db", false),
        ] {
            assert_eq!(is_remote_url(url), remote, "{url}");
        }
    }
}
