//! The tiny SQL executor a host implements for its own libSQL connection.
//! All SQL text lives in the core ([`crate::schema`], [`crate::store`]), and
//! so does what the hosts' executors need to know about it:
//! - [`classify`]: whether a statement may write or return rows, and how a
//!   driver's failure becomes a [`SqlError`] (UNIQUE violation, busy).
//! - [`hrana`]: the Hrana-over-HTTP protocol (sqld, Turso) as pure functions,
//!   for a host that speaks it through its own HTTP client (the Worker).

use crate::async_trait_decl;

pub mod busy;
pub mod classify;
pub mod hrana;

/// A SQLite value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Integer(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, columns in `SELECT` order.
pub type Row = Vec<Value>;

/// A statement with positional (`?`) parameters.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Value>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
        }
    }

    /// A statement without parameters.
    pub fn plain(sql: impl Into<String>) -> Self {
        Statement::new(sql, vec![])
    }
}

/// What one statement of a batch produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementResult {
    /// Rows changed by an INSERT/UPDATE/DELETE.
    pub rows_affected: u64,
    /// Rows returned (by a SELECT or a `RETURNING` clause).
    pub rows: Vec<Row>,
}

/// A storage failure: the database did not answer, or refused a statement.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// A UNIQUE constraint failed; the store turns this into a field error.
    #[error("unique constraint failed: {0}")]
    UniqueViolation(String),
    #[error("database error: {0}")]
    Other(String),
}

async_trait_decl! {
/// Runs SQL against one libSQL database. Implementations map a failure with
/// [`SqlError::from_failure`] (a UNIQUE constraint failure becomes
/// [`SqlError::UniqueViolation`]).
pub trait SqlExecutor: crate::MaybeSendSync {
    /// Runs one statement and returns its rows (empty for non-queries) and
    /// the number of rows it changed.
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError>;

    /// Runs the statements in order inside one transaction: all take effect,
    /// or (on the first error) none does. Hosts make it as few round trips
    /// as their driver allows (libsql 0.10's remote client needs BEGIN, one
    /// per statement, and COMMIT).
    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError>;

    /// Brings this executor's reads up to date with the primary, for an
    /// executor that reads from a replica (the native host's `--replica-path`).
    /// Returns whether it did anything: `false` (the default) means reads are
    /// already the primary's, so looking again would find nothing new. The
    /// core calls it when a row another host may have just written is missing
    /// (a client, a user, a login) before answering "not found".
    async fn catch_up(&self) -> Result<bool, SqlError> {
        Ok(false)
    }

    /// The data generation, for in-memory caches of rows (`crate::cache`).
    /// Contract: if two calls return the same `Some(g)`, no write visible
    /// to this executor's reads happened between them: not by this process
    /// (through any of its connections), not by another process on the same
    /// database (the CLI while the server runs), not by a replica's sync
    /// bringing in other hosts' writes. A reader takes the generation
    /// *before* its query and tags what it read with it, so a write landing
    /// during the query leaves a stale tag, never a stale hit.
    /// `None` (the default) means "cannot tell": nothing is cached.
    async fn generation(&self) -> Result<Option<u64>, SqlError> {
        Ok(None)
    }
}
}
