//! The core's [`SqlExecutor`] over `libsql::wasm::Connection`: Hrana over
//! HTTP through the Workers `fetch`, to a libSQL server (sqld or Turso).

use gatehouse_core::async_trait_decl;
use gatehouse_core::sql::{Row, SqlError, SqlExecutor, Statement, StatementResult, Value};
use libsql::params::Params;
use libsql::wasm::{CloudflareSender, Connection, Transaction};
use libsql::TransactionBehavior;

/// Where the database is. A fresh `Connection` is made per call: it is only
/// a URL, a token and a Hrana stream handle, and sharing one stream between
/// concurrent requests of an isolate would tie one request's I/O to another's
/// (which workerd forbids).
pub struct LibsqlExecutor {
    url: String,
    auth_token: String,
}

impl LibsqlExecutor {
    pub fn new(url: String, auth_token: String) -> Self {
        LibsqlExecutor { url, auth_token }
    }

    fn connect(&self) -> Connection<CloudflareSender> {
        Connection::open_cloudflare_worker(self.url.clone(), self.auth_token.clone())
    }
}

async_trait_decl! {
impl SqlExecutor for LibsqlExecutor {
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        let conn = self.connect();
        run_on(On::Conn(&conn), stmt).await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        // IMMEDIATE takes the write lock at BEGIN, so a concurrent writer
        // waits for it instead of failing with SQLITE_BUSY when it upgrades.
        let behavior = if stmts.iter().all(|s| Shape::of(&s.sql) == Shape::Read) {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        };
        let conn = self.connect();
        let mut tx = conn.transaction(behavior).await.map_err(map_err)?;
        let mut results = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            match run_on(On::Tx(&tx), stmt).await {
                Ok(r) => results.push(r),
                Err(e) => {
                    // The wasm connection does not close a dropped stream, so
                    // roll back explicitly rather than hold the lock until sqld
                    // expires the stream.
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
        }
        if let Err(e) = tx.commit().await {
            let _ = tx.rollback().await;
            return Err(map_err(e));
        }
        Ok(results)
    }
}
}

/// What a statement gives back, judged from its text, because the wasm
/// connection reports either rows (`query`) or a change count (`execute`),
/// never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// SELECT and friends: rows, no changes.
    Read,
    /// INSERT/UPDATE/DELETE … RETURNING: one row per changed row, so the
    /// change count is the row count.
    WriteReturning,
    /// Everything else: a change count, no rows.
    Write,
}

impl Shape {
    fn of(sql: &str) -> Shape {
        let mut words = sql
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty());
        let first = words.next().unwrap_or_default().to_ascii_lowercase();
        let mut writes = false;
        for w in words {
            if w.eq_ignore_ascii_case("returning") {
                return Shape::WriteReturning;
            }
            writes |= ["insert", "update", "delete", "replace"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k));
        }
        match first.as_str() {
            "select" | "values" | "pragma" | "explain" => Shape::Read,
            // A CTE may front a SELECT or a write.
            "with" if !writes => Shape::Read,
            _ => Shape::Write,
        }
    }
}

/// A connection in autocommit mode, or an open transaction.
enum On<'a> {
    Conn(&'a Connection<CloudflareSender>),
    Tx(&'a Transaction<CloudflareSender>),
}

async fn run_on(on: On<'_>, stmt: Statement) -> Result<StatementResult, SqlError> {
    let params = Params::Positional(stmt.params.into_iter().map(to_libsql).collect());
    let shape = Shape::of(&stmt.sql);
    if shape == Shape::Write {
        let changed = match on {
            On::Conn(c) => c.execute(&stmt.sql, params).await,
            On::Tx(t) => t.execute(&stmt.sql, params).await,
        }
        .map_err(map_err)?;
        return Ok(StatementResult {
            rows_affected: changed,
            rows: Vec::new(),
        });
    }
    let mut rows = match on {
        On::Conn(c) => c.query(&stmt.sql, params).await,
        On::Tx(t) => t.query(&stmt.sql, params).await,
    }
    .map_err(map_err)?;
    let columns = rows.column_count().max(0);
    let mut out: Vec<Row> = Vec::new();
    while let Some(row) = rows.next().await.map_err(map_err)? {
        let mut values = Vec::with_capacity(columns as usize);
        for i in 0..columns {
            values.push(from_libsql(row.get_value(i).map_err(map_err)?));
        }
        out.push(values);
    }
    Ok(StatementResult {
        rows_affected: if shape == Shape::WriteReturning {
            out.len() as u64
        } else {
            0
        },
        rows: out,
    })
}

fn to_libsql(v: Value) -> libsql::Value {
    match v {
        Value::Null => libsql::Value::Null,
        Value::Integer(i) => libsql::Value::Integer(i),
        Value::Real(f) => libsql::Value::Real(f),
        Value::Text(s) => libsql::Value::Text(s),
        Value::Blob(b) => libsql::Value::Blob(b),
    }
}

fn from_libsql(v: libsql::Value) -> Value {
    match v {
        libsql::Value::Null => Value::Null,
        libsql::Value::Integer(i) => Value::Integer(i),
        libsql::Value::Real(f) => Value::Real(f),
        libsql::Value::Text(s) => Value::Text(s),
        libsql::Value::Blob(b) => Value::Blob(b),
    }
}

/// SQLite reports UNIQUE (and PRIMARY KEY) failures as "UNIQUE constraint
/// failed: table.column"; over Hrana only that text arrives (inside the
/// error's debug form), so the columns are cut out of it, as the native host
/// reports them.
fn map_err(e: libsql::Error) -> SqlError {
    const UNIQUE_MESSAGE: &str = "UNIQUE constraint failed: ";
    let text = e.to_string();
    match text.find(UNIQUE_MESSAGE) {
        Some(at) => {
            let rest = &text[at + UNIQUE_MESSAGE.len()..];
            let end = rest.find(['"', '`', '\\']).unwrap_or(rest.len());
            SqlError::UniqueViolation(rest[..end].trim().to_owned())
        }
        None => SqlError::Other(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(Shape::of("SELECT 1"), Shape::Read);
        assert_eq!(Shape::of("  select * from users where id = ?"), Shape::Read);
        assert_eq!(
            Shape::of("WITH x AS (SELECT 1) SELECT * FROM x"),
            Shape::Read
        );
        assert_eq!(
            Shape::of("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN x"),
            Shape::Write
        );
        assert_eq!(Shape::of("INSERT INTO t (a) VALUES (?)"), Shape::Write);
        assert_eq!(
            Shape::of("INSERT INTO t (a) VALUES (?) RETURNING id"),
            Shape::WriteReturning
        );
        assert_eq!(
            Shape::of("UPDATE s SET j = ? WHERE j = ?\nRETURNING id"),
            Shape::WriteReturning
        );
        assert_eq!(Shape::of("CREATE TABLE t (a)"), Shape::Write);
    }
}
