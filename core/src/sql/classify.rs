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
/// SQLITE_BUSY's primary result code (an extended code's low byte).
const SQLITE_BUSY: i32 = 5;
/// The code of SQLite's "interrupted". sqld interrupts a transaction that
/// held the write lock too long while another connection waited for it,
/// and rolls it back (seen once in the contract suite against sqld).
const INTERRUPT_CODE: &str = "SQLITE_INTERRUPT";
/// SQLITE_INTERRUPT's primary result code.
const SQLITE_INTERRUPT: i32 = 9;

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
            // The embedded engine's code, or a remote client that wrote the
            // server's code into its message (libsql's Hrana errors).
            ErrorCode::Extended(c) if c & 0xff == SQLITE_BUSY => {
                SqlError::Other(format!("{BUSY_CODE}: {message}"))
            }
            ErrorCode::None if message.contains(BUSY_CODE) => {
                SqlError::Other(format!("{BUSY_CODE}: {message}"))
            }
            ErrorCode::Extended(c) if c & 0xff == SQLITE_INTERRUPT => {
                SqlError::Other(format!("{INTERRUPT_CODE}: {message}"))
            }
            ErrorCode::None if message.contains(INTERRUPT_CODE) => {
                SqlError::Other(format!("{INTERRUPT_CODE}: {message}"))
            }
            ErrorCode::None | ErrorCode::Extended(_) => SqlError::Other(message),
        }
    }

    /// Whether the database was busy (SQLITE_BUSY, "database is locked"): the
    /// statement changed nothing, so trying it again is safe.
    pub fn is_busy(&self) -> bool {
        matches!(self, SqlError::Other(m) if m.starts_with(BUSY_CODE))
    }

    /// Whether the statement or transaction changed nothing and may be
    /// tried again: the database was busy, or it interrupted the
    /// transaction (and rolled it back) to hand its lock to another.
    pub fn may_try_again(&self) -> bool {
        self.is_busy() || matches!(self, SqlError::Other(m) if m.starts_with(INTERRUPT_CODE))
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

    /// What a failure becomes: `Ok(columns)` for a unique violation,
    /// `Err(message)` for anything else.
    fn mapped(message: &str, code: ErrorCode<'_>) -> Result<String, String> {
        match SqlError::from_failure(message.into(), code) {
            SqlError::UniqueViolation(cols) => Ok(cols),
            SqlError::Other(m) => Err(m),
        }
    }

    #[test]
    fn unique_messages_name_the_columns() {
        let cases = [
            // The embedded engine (libsql's Display of a SqliteFailure).
            (
                "SQLite failure: `UNIQUE constraint failed: t.a, t.b`",
                ErrorCode::Extended(SQLITE_CONSTRAINT_UNIQUE),
                "t.a, t.b",
            ),
            // libsql's remote client: a Debug-formatted Hrana error.
            (
                "Hrana: `StreamError(Error { message: \"UNIQUE constraint failed: users.email\", code: \"SQLITE_CONSTRAINT\" })`",
                ErrorCode::None,
                "users.email",
            ),
            // The Worker's Hrana client: sqld's message and code.
            (
                "SQLite error: UNIQUE constraint failed: t.b",
                ErrorCode::Name("SQLITE_CONSTRAINT"),
                "t.b",
            ),
            // A PRIMARY KEY is worded the same.
            (
                "UNIQUE constraint failed: t.id",
                ErrorCode::Extended(SQLITE_CONSTRAINT_PRIMARYKEY),
                "t.id",
            ),
            // Without the message, the extended code still tells.
            (
                "constraint failed",
                ErrorCode::Extended(SQLITE_CONSTRAINT_UNIQUE),
                "constraint failed",
            ),
            (
                "constraint failed",
                ErrorCode::Extended(SQLITE_CONSTRAINT_PRIMARYKEY),
                "constraint failed",
            ),
        ];
        for (message, code, cols) in cases {
            assert_eq!(mapped(message, code), Ok(cols.to_owned()), "{message}");
        }
    }

    #[test]
    fn other_failures_keep_the_message_led_by_a_named_code() {
        let cases = [
            (
                "SQLite error: no such table: nope",
                ErrorCode::Name("SQLITE_UNKNOWN"),
                "SQLITE_UNKNOWN: SQLite error: no such table: nope",
            ),
            (
                "no such table: nope",
                ErrorCode::None,
                "no such table: nope",
            ),
            // SQLITE_CONSTRAINT_NOTNULL is not a unique violation.
            (
                "NOT NULL constraint failed: t.a",
                ErrorCode::Extended(1299),
                "NOT NULL constraint failed: t.a",
            ),
        ];
        for (message, code, expected) in cases {
            assert_eq!(mapped(message, code), Err(expected.to_owned()));
        }
    }

    #[test]
    fn busy_is_recognised_by_its_code() {
        let busy = SqlError::from_failure(
            "SQLite error: database is locked".into(),
            ErrorCode::Name("SQLITE_BUSY"),
        );
        assert!(busy.is_busy());
        // The embedded engine's extended codes (SQLITE_BUSY, BUSY_SNAPSHOT),
        // and a remote client's message that carries the server's code.
        for busy in [
            SqlError::from_failure("database is locked".into(), ErrorCode::Extended(5)),
            SqlError::from_failure("database is locked".into(), ErrorCode::Extended(517)),
            SqlError::from_failure(
                "Hrana: `stream error: `Error { message: \"database is locked\", code: \"SQLITE_BUSY\" }``".into(),
                ErrorCode::None,
            ),
        ] {
            assert!(busy.is_busy(), "{busy:?}");
        }
        // sqld interrupting a transaction to hand its lock on: tried again,
        // but not "busy".
        for interrupted in [
            SqlError::from_failure("interrupted".into(), ErrorCode::Extended(9)),
            SqlError::from_failure(
                "Hrana: `stream error: `Error { message: \"SQLite error: interrupted\", code: \"SQLITE_INTERRUPT\" }``".into(),
                ErrorCode::None,
            ),
            SqlError::from_failure("interrupted".into(), ErrorCode::Name("SQLITE_INTERRUPT")),
        ] {
            assert!(interrupted.may_try_again(), "{interrupted:?}");
            assert!(!interrupted.is_busy(), "{interrupted:?}");
        }
        let not_busy = [
            SqlError::from_failure("disk I/O error".into(), ErrorCode::Extended(10)),
            SqlError::Other("hrana: HTTP 503: SQLITE_BUSY".into()),
            SqlError::UniqueViolation("SQLITE_BUSY".into()),
            SqlError::from_failure(
                "SQLite error: CHECK constraint failed".into(),
                ErrorCode::Name("SQLITE_CONSTRAINT"),
            ),
        ];
        for e in not_busy {
            assert!(!e.is_busy(), "{e:?}");
        }
    }
}
