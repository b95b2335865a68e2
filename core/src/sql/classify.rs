//! What both hosts need to know about SQL text and SQLite's errors, in one
//! place: whether a statement may write or return rows, and how a failure
//! becomes a [`SqlError`] (a UNIQUE violation, a busy database, anything
//! else). A host only hands over what its driver reported.

use super::SqlError;

/// SQLite's extended result code for a PRIMARY KEY violation.
pub const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
/// SQLite's extended result code for a UNIQUE violation.
pub const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

/// How SQLite words a UNIQUE (and PRIMARY KEY) failure, before
/// `table.column[, table.column]`.
const UNIQUE_MESSAGE: &str = "UNIQUE constraint failed: ";

/// The code of SQLite's "database is locked".
const BUSY_CODE: &str = "SQLITE_BUSY";

/// Whether a statement may change the database. Only a plain `SELECT`
/// (without `RETURNING`, which no SELECT has) is known to be read-only.
pub fn may_write(sql: &str) -> bool {
    let is_select = sql
        .trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"));
    !is_select
}

/// Whether a statement may return rows. Only a write or schema statement
/// without `RETURNING` is known not to; anything else is read as a query,
/// which is always correct, only slower where a driver describes queries.
pub fn returns_rows(sql: &str) -> bool {
    const NO_ROWS: [&str; 7] = [
        "insert", "update", "delete", "replace", "create", "drop", "alter",
    ];
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    let plain_write = NO_ROWS.iter().any(|k| first.eq_ignore_ascii_case(k));
    !plain_write || sql.to_ascii_lowercase().contains("returning")
}

/// The code a driver reported beside a failure's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode<'a> {
    /// None (a remote client that only passes the message on).
    None,
    /// SQLite's extended result code (the embedded engine).
    Extended(i32),
    /// The code's name (Hrana's `code`, e.g. `SQLITE_CONSTRAINT`).
    Name(&'a str),
}

impl SqlError {
    /// The core's error for a failure a driver reported. A UNIQUE failure's
    /// message names the columns (`table.column[, table.column]`), which are
    /// cut out of it, wherever the driver put the message (a remote client
    /// may wrap it in a Debug-formatted struct); failing that, an extended
    /// UNIQUE/PRIMARY KEY code still makes it a unique violation. Anything
    /// else is [`SqlError::Other`], led by the code's name if there is one
    /// (which [`SqlError::is_busy`] reads).
    pub fn from_failure(message: String, code: ErrorCode<'_>) -> SqlError {
        if let Some(cols) = unique_columns(&message) {
            return SqlError::UniqueViolation(cols);
        }
        match code {
            ErrorCode::Extended(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY) => {
                SqlError::UniqueViolation(message)
            }
            ErrorCode::Name(name) => SqlError::Other(format!("{name}: {message}")),
            ErrorCode::None | ErrorCode::Extended(_) => SqlError::Other(message),
        }
    }

    /// Whether the database was busy (SQLITE_BUSY, "database is locked"): the
    /// statement changed nothing, so trying it again is safe.
    pub fn is_busy(&self) -> bool {
        matches!(self, SqlError::Other(m) if m.starts_with(BUSY_CODE))
    }
}

/// The columns a "UNIQUE constraint failed: …" message names.
fn unique_columns(message: &str) -> Option<String> {
    let at = message.find(UNIQUE_MESSAGE)?;
    let cols: String = message[at + UNIQUE_MESSAGE.len()..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ' '))
        .collect();
    Some(cols.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_reads_and_writes() {
        assert!(!may_write("  select 1"));
        assert!(!may_write("SELECT * FROM t"));
        assert!(may_write("INSERT INTO t VALUES (1)"));
        assert!(may_write("pragma journal_mode=wal"));
        assert!(may_write("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(may_write("sel"));
        assert!(may_write(""));
    }

    #[test]
    fn classifies_statements_with_rows() {
        assert!(returns_rows("SELECT 1"));
        assert!(returns_rows("pragma journal_mode"));
        assert!(returns_rows("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(returns_rows("UPDATE t SET a = 1 RETURNING id"));
        assert!(returns_rows("insert into t values (1) returning *"));
        assert!(!returns_rows("  INSERT INTO t VALUES (1)"));
        assert!(!returns_rows("DELETE FROM t"));
        assert!(!returns_rows("replace into t values (1)"));
        assert!(!returns_rows("CREATE TABLE IF NOT EXISTS t (a)"));
        assert!(!returns_rows("DROP TABLE t"));
        assert!(!returns_rows("ALTER TABLE t ADD COLUMN b"));
    }

    fn unique(e: SqlError) -> String {
        match e {
            SqlError::UniqueViolation(cols) => cols,
            other => panic!("expected a unique violation, got {other:?}"),
        }
    }

    fn other(e: SqlError) -> String {
        match e {
            SqlError::Other(m) => m,
            other => panic!("expected Other, got {other:?}"),
        }
    }

    #[test]
    fn unique_messages_name_the_columns() {
        // The embedded engine (libsql's Display of a SqliteFailure).
        let e = SqlError::from_failure(
            "SQLite failure: `UNIQUE constraint failed: t.a, t.b`".into(),
            ErrorCode::Extended(SQLITE_CONSTRAINT_UNIQUE),
        );
        assert_eq!(unique(e), "t.a, t.b");
        // libsql's remote client: a Debug-formatted Hrana error.
        let e = SqlError::from_failure(
            "Hrana: `StreamError(Error { message: \"UNIQUE constraint failed: users.email\", code: \"SQLITE_CONSTRAINT\" })`".into(),
            ErrorCode::None,
        );
        assert_eq!(unique(e), "users.email");
        // The Worker's Hrana client: sqld's message and code.
        let e = SqlError::from_failure(
            "SQLite error: UNIQUE constraint failed: t.b".into(),
            ErrorCode::Name("SQLITE_CONSTRAINT"),
        );
        assert_eq!(unique(e), "t.b");
    }

    #[test]
    fn a_unique_code_without_the_message_is_still_a_unique_violation() {
        for code in [SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY] {
            let e = SqlError::from_failure("constraint failed".into(), ErrorCode::Extended(code));
            assert_eq!(unique(e), "constraint failed");
        }
        // SQLITE_CONSTRAINT_NOTNULL is not.
        let e = SqlError::from_failure(
            "NOT NULL constraint failed: t.a".into(),
            ErrorCode::Extended(1299),
        );
        assert_eq!(other(e), "NOT NULL constraint failed: t.a");
    }

    #[test]
    fn other_failures_keep_the_message_led_by_a_named_code() {
        let e = SqlError::from_failure(
            "SQLite error: no such table: nope".into(),
            ErrorCode::Name("SQLITE_UNKNOWN"),
        );
        assert_eq!(
            other(e),
            "SQLITE_UNKNOWN: SQLite error: no such table: nope"
        );
        let e = SqlError::from_failure("no such table: nope".into(), ErrorCode::None);
        assert_eq!(other(e), "no such table: nope");
    }

    #[test]
    fn busy_is_recognised_by_its_code() {
        let busy = SqlError::from_failure(
            "SQLite error: database is locked".into(),
            ErrorCode::Name("SQLITE_BUSY"),
        );
        assert!(busy.is_busy());
        let named_elsewhere = SqlError::Other("hrana: HTTP 503: SQLITE_BUSY".into());
        assert!(!named_elsewhere.is_busy());
        assert!(!SqlError::UniqueViolation("SQLITE_BUSY".into()).is_busy());
        let constraint = SqlError::from_failure(
            "SQLite error: CHECK constraint failed".into(),
            ErrorCode::Name("SQLITE_CONSTRAINT"),
        );
        assert!(!constraint.is_busy());
    }
}
