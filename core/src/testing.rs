//! The test kit (cargo feature `testing`, off by default): one way to build
//! an [`Env`] for tests, shared by the core's own tests, the native host's
//! tests and the fuzz target.
//!
//! - [`TestEnv::new`]: a fresh migrated embedded libSQL file in a temporary
//!   folder, the fake clock at [`T0`], seeded randomness, cheap Argon2 and
//!   in-memory rate limits. [`TestEnv::in_memory`] is the same without a file;
//!   [`TestEnv::with_sql`] puts the rest around a host's own executor.
//! - [`TestEnv::start`]: the service over it, with [`CHEAP_ARGON2`].
//! - [`EmbeddedExecutor`]: a [`SqlExecutor`] over one embedded libSQL
//!   connection. Calls run one at a time: simple and deterministic, not fast.
//!
//! The feature brings in `libsql`, `tokio` and `tempfile`, so it is for
//! native test builds only; the core without it has no I/O and builds for
//! wasm32.

use crate::api_client::ClientId;
use crate::clock::{FixedClock, UnixMillis};
use crate::outbound::{HttpClient, OutboundError, OutboundRequest, OutboundResponse};
use crate::password::{Argon2Params, InlineHasher};
use crate::random::SeededRandom;
use crate::rate_limit::MemoryRateLimitStore;
use crate::session::SessionId;
use crate::sql::{Row, SqlError, SqlExecutor, Statement, StatementResult, Value};
use crate::token::{Issue, TokenCodec, TokenType};
use crate::user::User;
use crate::{Config, Env, Gatehouse};
use std::sync::Arc;

/// Where the fake clock starts: 2027-01-15, well inside every lifetime.
pub const T0: UnixMillis = UnixMillis(1_800_000_000_000);

/// The seed of [`TestEnv`]'s randomness unless [`TestEnv::seeded`] says otherwise.
pub const SEED: u64 = 42;

/// Cheap Argon2: tests check rules, not cost.
pub const CHEAP_ARGON2: Argon2Params = Argon2Params {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// A hasher that runs [`CHEAP_ARGON2`] on the calling task.
pub fn cheap_hasher() -> InlineHasher {
    InlineHasher(CHEAP_ARGON2)
}

/// `config` with [`CHEAP_ARGON2`], as every test service runs.
pub fn cheap(config: Config) -> Config {
    Config {
        argon2: CHEAP_ARGON2,
        ..config
    }
}

/// An active web client `id` serving creators, created at [`T0`], with
/// key hash `key-0` and 100 requests a minute.
pub fn sample_client(id: &str) -> crate::api_client::ApiClient {
    crate::api_client::ApiClient {
        id: ClientId(id.into()),
        name: format!("client {id}"),
        client_type: "web".into(),
        key_hash: "key-0".into(),
        rate_limit: 100,
        rate_period_secs: 60,
        is_active: true,
        serves: vec![crate::user::UserType::Creator],
        allowed_origins: vec![],
        created_at: T0,
        email: Default::default(),
        require_mfa_for_staff: false,
    }
}

/// `codec`'s token of `token_type` for `user` on the test login `s1` of
/// client `cl_1` (`jti` j1, `amr` pwd), issued `now` for `ttl_secs`.
pub fn sample_token(
    codec: &TokenCodec,
    token_type: TokenType,
    user: &User,
    now: UnixMillis,
    ttl_secs: i64,
) -> String {
    codec.issue(Issue {
        token_type,
        user,
        client_id: &ClientId("cl_1".into()),
        sid: &SessionId("s1".into()),
        jti: "j1",
        now,
        ttl_secs,
        amr: "pwd",
    })
}

/// An [`Env`] for tests, with handles on the parts tests steer or look at.
pub struct TestEnv {
    pub env: Env,
    /// The fake clock in `env`: set it or advance it.
    pub clock: Arc<FixedClock>,
    /// The executor in `env`.
    pub sql: Arc<dyn SqlExecutor>,
    /// The outbound HTTP client in `env`: give it answers, read what was sent.
    pub http: Arc<StubHttp>,
    /// The folder that holds the database file (`db.sqlite`), when there is
    /// one; the file goes with it.
    pub dir: Option<tempfile::TempDir>,
}

impl TestEnv {
    /// A fresh, migrated embedded database file in a temporary folder.
    pub async fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("db.sqlite");
        let sql = EmbeddedExecutor::open(path.to_str().expect("UTF-8 temp path"))
            .await
            .expect("open the embedded database");
        let mut t = TestEnv::with_sql(Arc::new(sql));
        t.dir = Some(dir);
        t.migrated().await
    }

    /// A fresh, migrated in-memory database (gone with the executor).
    pub async fn in_memory() -> TestEnv {
        let sql = EmbeddedExecutor::open(":memory:")
            .await
            .expect("open an in-memory database");
        TestEnv::with_sql(Arc::new(sql)).migrated().await
    }

    /// The kit's clock (at [`T0`]), randomness, hasher and rate limits
    /// around `sql`, which is used as it is (not migrated).
    pub fn with_sql(sql: Arc<dyn SqlExecutor>) -> TestEnv {
        let clock = Arc::new(FixedClock::new(T0));
        let http = Arc::new(StubHttp::default());
        TestEnv {
            env: Env {
                clock: clock.clone(),
                random: Arc::new(SeededRandom::new(SEED)),
                sql: sql.clone(),
                hasher: Arc::new(cheap_hasher()),
                rate_limits: Arc::new(MemoryRateLimitStore::default()),
                http: http.clone(),
            },
            clock,
            sql,
            http,
            dir: None,
        }
    }

    /// The same with randomness from `seed` (two services that must not
    /// draw the same bytes, such as a restart on the same database).
    pub fn seeded(mut self, seed: u64) -> TestEnv {
        self.env.random = Arc::new(SeededRandom::new(seed));
        self
    }

    /// The same with the clock `clock` (a second service sharing a first
    /// one's time).
    pub fn with_clock(mut self, clock: Arc<FixedClock>) -> TestEnv {
        self.env.clock = clock.clone();
        self.clock = clock;
        self
    }

    async fn migrated(self) -> TestEnv {
        crate::schema::migrate(self.sql.as_ref())
            .await
            .expect("migrate the test database");
        self
    }

    /// Starts the service over this environment with `config` made
    /// [`cheap`].
    pub async fn start(&self, config: Config) -> Gatehouse {
        Gatehouse::start(cheap(config), self.env.clone())
            .await
            .expect("start the service")
    }
}

/// A [`SqlExecutor`] over one embedded libSQL connection (a file path, or
/// `:memory:`). Every call takes the connection in turn; a batch is one
/// `BEGIN IMMEDIATE` … `COMMIT`.
pub struct EmbeddedExecutor {
    conn: tokio::sync::Mutex<libsql::Connection>,
    _db: libsql::Database,
}

impl std::fmt::Debug for EmbeddedExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedExecutor").finish_non_exhaustive()
    }
}

impl EmbeddedExecutor {
    /// Opens (creating if missing) the database at `path`.
    pub async fn open(path: &str) -> Result<EmbeddedExecutor, SqlError> {
        let db = libsql::Builder::new_local(path)
            .build()
            .await
            .map_err(sql_error)?;
        let conn = db.connect().map_err(sql_error)?;
        // A test database need not survive a power cut.
        query(&conn, "PRAGMA synchronous = OFF", Vec::new()).await?;
        Ok(EmbeddedExecutor {
            conn: tokio::sync::Mutex::new(conn),
            _db: db,
        })
    }
}

crate::async_trait_decl! {
impl SqlExecutor for EmbeddedExecutor {
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        let conn = self.conn.lock().await;
        end_abandoned_transaction(&conn).await?;
        run(&conn, stmt).await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        let conn = self.conn.lock().await;
        end_abandoned_transaction(&conn).await?;
        conn.execute("BEGIN IMMEDIATE", ()).await.map_err(sql_error)?;
        let mut results = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            match run(&conn, stmt).await {
                Ok(r) => results.push(r),
                Err(e) => {
                    let _ = conn.execute("ROLLBACK", ()).await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = conn.execute("COMMIT", ()).await {
            let _ = conn.execute("ROLLBACK", ()).await;
            return Err(sql_error(e));
        }
        Ok(results)
    }
}
}

/// A batch whose future was dropped half-way leaves its transaction open:
/// roll it back before the next call.
async fn end_abandoned_transaction(conn: &libsql::Connection) -> Result<(), SqlError> {
    if !conn.is_autocommit() {
        conn.execute("ROLLBACK", ()).await.map_err(sql_error)?;
    }
    Ok(())
}

/// One statement, its rows read in full; the changes it made are the
/// difference of the connection's running total.
async fn run(conn: &libsql::Connection, stmt: Statement) -> Result<StatementResult, SqlError> {
    let before = conn.total_changes();
    let rows = query(conn, &stmt.sql, stmt.params).await?;
    Ok(StatementResult {
        rows_affected: conn.total_changes().saturating_sub(before),
        rows,
    })
}

async fn query(
    conn: &libsql::Connection,
    sql: &str,
    params: Vec<Value>,
) -> Result<Vec<Row>, SqlError> {
    let params: Vec<libsql::Value> = params
        .into_iter()
        .map(|v| match v {
            Value::Null => libsql::Value::Null,
            Value::Integer(i) => libsql::Value::Integer(i),
            Value::Real(r) => libsql::Value::Real(r),
            Value::Text(s) => libsql::Value::Text(s),
            Value::Blob(b) => libsql::Value::Blob(b),
        })
        .collect();
    let mut rows = conn.query(sql, params).await.map_err(sql_error)?;
    let width = rows.column_count().max(0);
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.map_err(sql_error)? {
        let values = (0..width)
            .map(|i| {
                row.get_value(i).map_err(sql_error).map(|v| match v {
                    libsql::Value::Null => Value::Null,
                    libsql::Value::Integer(i) => Value::Integer(i),
                    libsql::Value::Real(r) => Value::Real(r),
                    libsql::Value::Text(s) => Value::Text(s),
                    libsql::Value::Blob(b) => Value::Blob(b),
                })
            })
            .collect::<Result<Row, SqlError>>()?;
        out.push(values);
    }
    Ok(out)
}

/// A UNIQUE or PRIMARY KEY violation becomes [`SqlError::UniqueViolation`]
/// with the `table.column` list SQLite names, as the hosts' executors do.
fn sql_error(e: libsql::Error) -> SqlError {
    const UNIQUE: &str = "UNIQUE constraint failed: ";
    let text = e.to_string();
    match text.find(UNIQUE) {
        Some(at) => SqlError::UniqueViolation(
            text[at + UNIQUE.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ' '))
                .collect::<String>()
                .trim()
                .to_owned(),
        ),
        None => SqlError::Other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn executor_counts_changes_maps_unique_and_rolls_back() {
        let t = TestEnv::in_memory().await;
        let sql = &t.sql;
        sql.run(Statement::plain(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
        ))
        .await
        .unwrap();
        let ins = |n: &str| Statement::new("INSERT INTO t (name) VALUES (?)", vec![n.into()]);
        assert_eq!(sql.run(ins("a")).await.unwrap().rows_affected, 1);
        match sql.run(ins("a")).await {
            Err(SqlError::UniqueViolation(cols)) => assert_eq!(cols, "t.name"),
            other => panic!("{other:?}"),
        }
        assert!(sql.batch(vec![ins("b"), ins("a")]).await.is_err());
        let r = sql
            .run(Statement::plain("SELECT name FROM t ORDER BY id"))
            .await
            .unwrap();
        assert_eq!(r.rows, vec![vec![Value::Text("a".into())]], "b rolled back");
        assert_eq!(r.rows_affected, 0);
        let r = sql
            .run(Statement::plain(
                "UPDATE t SET name = 'c' WHERE name = 'a' RETURNING id",
            ))
            .await
            .unwrap();
        assert_eq!((r.rows_affected, r.rows.len()), (1, 1));
    }

    #[tokio::test]
    async fn clock_is_fake_and_the_service_starts() {
        let t = TestEnv::new().await;
        assert!(t.dir.as_ref().unwrap().path().join("db.sqlite").exists());
        t.clock.advance_secs(60);
        assert_eq!(t.env.clock.now(), T0.plus_secs(60));
        t.start(Config::default()).await;
    }
}

/// An [`HttpClient`] for tests: answers by URL (without the query) from
/// what the test put in, records every request, and answers a URL it has
/// nothing for with [`OutboundError::Network`].
#[derive(Debug, Default)]
pub struct StubHttp {
    answers: std::sync::Mutex<Vec<(String, Result<OutboundResponse, OutboundError>)>>,
    sent: std::sync::Mutex<Vec<OutboundRequest>>,
}

impl StubHttp {
    /// Answers requests to `url` (up to `?`) with `answer` from now on.
    pub fn answer(&self, url: &str, answer: Result<OutboundResponse, OutboundError>) {
        let mut a = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        a.retain(|(u, _)| u != url);
        a.push((url.to_owned(), answer));
    }

    /// Answers requests to `url` with status 200 and `json`.
    pub fn answer_json(&self, url: &str, json: &serde_json::Value) {
        self.answer(
            url,
            Ok(OutboundResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: bytes::Bytes::from(json.to_string()),
            }),
        );
    }

    /// Every request sent so far, oldest first.
    pub fn sent(&self) -> Vec<OutboundRequest> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

crate::async_trait_decl! {
impl HttpClient for StubHttp {
    async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let key = req.url.split('?').next().unwrap_or_default().to_owned();
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(req);
        let a = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        a.iter()
            .find(|(u, _)| *u == key)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Err(OutboundError::Network(format!("no stub answer for {key}"))))
    }
}
}
