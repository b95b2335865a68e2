//! All storage logic, as SQL text over [`SqlExecutor`]. Each method is one
//! round trip (a statement or a one-transaction batch) where the logic allows,
//! because a remote libSQL server costs ~0.65 ms per round trip.
//!
//! One file per concern, each an `impl Store` block: [`users`], [`sessions`],
//! [`clients`], [`keys`] (the signing key) and [`legacy`] (the seed's refresh
//! tokens). They build on this file's
//! row helpers; this file imports nothing of theirs (their types are named
//! by their own paths, `crate::store::users::UserInsert`). The admin API's
//! listings and edits are in `crate::admin`'s own store; the SQL rate-limit
//! counters beside the in-memory ones, in `crate::rate_limit`.

pub(crate) mod clients;
pub(crate) mod email_tokens;
pub(crate) mod keys;
pub(crate) mod legacy;
pub(crate) mod mfa;
pub(crate) mod passkeys;
pub(crate) mod sessions;
pub(crate) mod social;
pub(crate) mod user_row;
pub(crate) mod users;

// Needs the test kit's embedded libSQL (`cargo test` turns `testing` on
// through core's dev-dependency on itself).
#[cfg(all(test, feature = "testing"))]
mod tests;

use crate::audit::AuditEvent;
use crate::sql::{Row, SqlError, SqlExecutor, Statement, Value};
use std::sync::Arc;

/// A row that does not have the expected shape: a schema mismatch.
pub(crate) fn bad_row(what: &str) -> SqlError {
    SqlError::Other(format!("unexpected {what} row shape"))
}

/// Each of `rows` decoded; a row `decode` cannot read is a [`bad_row`] of
/// `what`.
pub(crate) fn decode_rows<T>(
    rows: &[Row],
    what: &str,
    decode: fn(&Row) -> Option<T>,
) -> Result<Vec<T>, SqlError> {
    rows.iter()
        .map(|r| decode(r).ok_or_else(|| bad_row(what)))
        .collect()
}

pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Real(f) => Some(*f as i64),
        _ => None,
    }
}
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}
pub(crate) fn opt_int(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        other => int(other).map(Some),
    }
}
pub(crate) fn opt_text(v: &Value) -> Option<Option<String>> {
    match v {
        Value::Null => Some(None),
        other => text(other).map(Some),
    }
}

/// A condition that makes a write of a batch apply only if it holds.
struct Guard {
    sql: &'static str,
    params: Vec<Value>,
}

impl Guard {
    /// For a statement that ends in a `WHERE` clause: `… AND <guard>`.
    fn and(self, stmt: Statement) -> Statement {
        self.append(stmt, " AND ")
    }

    /// For an `INSERT … SELECT …` without a `WHERE`: `… WHERE <guard>`.
    fn where_(self, stmt: Statement) -> Statement {
        self.append(stmt, " WHERE ")
    }

    fn append(self, mut stmt: Statement, joiner: &str) -> Statement {
        stmt.sql = format!("{}{joiner}{}", stmt.sql, self.sql);
        stmt.params.extend(self.params);
        stmt
    }
}

/// Storage operations of the service.
#[derive(Clone)]
pub struct Store {
    pub(crate) sql: Arc<dyn SqlExecutor>,
    /// Clients and live logins, as of the executor's generation.
    pub(crate) cache: Arc<crate::cache::Caches>,
}

impl Store {
    pub fn new(sql: Arc<dyn SqlExecutor>) -> Self {
        Store {
            sql,
            cache: Arc::default(),
        }
    }

    /// The executor's data generation; `None` (no caching) when it cannot
    /// tell or failed to say (the query that follows reports the failure).
    pub(crate) async fn generation(&self) -> Option<u64> {
        self.sql.generation().await.unwrap_or(None)
    }

    pub(crate) async fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, SqlError> {
        Ok(self.sql.run(Statement::new(sql, params)).await?.rows)
    }

    /// Every row `sql` answers, decoded; a row `decode` cannot read is a
    /// [`bad_row`] of `what`.
    pub(crate) async fn all<T>(
        &self,
        sql: &str,
        params: Vec<Value>,
        what: &str,
        decode: fn(&Row) -> Option<T>,
    ) -> Result<Vec<T>, SqlError> {
        decode_rows(&self.rows(sql, params).await?, what, decode)
    }

    /// The first row `sql` answers, decoded, if any.
    pub(crate) async fn first<T>(
        &self,
        sql: &str,
        params: Vec<Value>,
        decode: fn(&Row) -> Result<T, SqlError>,
    ) -> Result<Option<T>, SqlError> {
        self.rows(sql, params)
            .await?
            .first()
            .map(decode)
            .transpose()
    }

    /// `SELECT 1`: does the database answer?
    pub async fn ping(&self) -> Result<(), SqlError> {
        self.rows("SELECT 1", vec![]).await.map(|_| ())
    }

    /// In one transaction: `change` (an UPDATE of at most one row, often a
    /// compare-and-swap), its audit event only if it changed the row, then
    /// `after` (what goes with the change). True when the row changed.
    pub(crate) async fn audited_change(
        &self,
        change: Statement,
        audit: &AuditEvent,
        after: Option<Statement>,
    ) -> Result<bool, SqlError> {
        let mut stmts = vec![change, audit.clone().only_if_changed().statement()];
        stmts.extend(after);
        let results = self.sql.batch(stmts).await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// Appends one audit event on its own (an event without a change, such
    /// as a failed login).
    pub async fn insert_audit(&self, audit: &AuditEvent) -> Result<(), SqlError> {
        self.sql.run(audit.statement()).await.map(|_| ())
    }
}
