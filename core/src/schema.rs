//! The libSQL schema, as numbered migrations. Both hosts and the CLI run
//! [`migrate`]; it is idempotent and safe to run from two processes at once.

use crate::sql::{SqlError, SqlExecutor, Statement};

/// Migrations in order. Never edit one that has shipped: add a new one.
pub const MIGRATIONS: &[(i64, &str)] = &[(1, INITIAL)];

const INITIAL: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    user_type TEXT NOT NULL CHECK (user_type IN ('creator', 'staff', 'admin')),
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL CHECK (length(password_hash) > 0),
    date_joined INTEGER NOT NULL,
    last_login INTEGER,
    -- a creator is never staff or superuser, whatever wrote the row
    CHECK (user_type <> 'creator' OR (is_staff = 0 AND is_superuser = 0)),
    CHECK (is_superuser = 0 OR user_type = 'admin')
);
CREATE TABLE IF NOT EXISTS api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    client_type TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
    rate_period_secs INTEGER NOT NULL CHECK (rate_period_secs > 0),
    is_active INTEGER NOT NULL DEFAULT 1,
    serves TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    client_id TEXT NOT NULL REFERENCES api_clients(id),
    current_jti TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_id);
CREATE TABLE IF NOT EXISTS signing_keys (
    slot TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);
";

/// Applies every migration not yet applied; returns how many ran.
pub async fn migrate(sql: &dyn SqlExecutor) -> Result<usize, SqlError> {
    sql.run(Statement::new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))",
        vec![],
    ))
    .await?;
    let mut ran = 0;
    for (version, text) in MIGRATIONS {
        let applied = sql
            .run(Statement::new(
                "SELECT 1 FROM schema_migrations WHERE version = ?",
                vec![(*version).into()],
            ))
            .await?;
        if !applied.rows.is_empty() {
            continue;
        }
        // The statements and the version row commit together; the version
        // row's primary key makes a concurrent second run fail and roll back.
        let mut stmts: Vec<Statement> = split_statements(text)
            .map(|s| Statement::new(s, vec![]))
            .collect();
        stmts.push(Statement::new(
            "INSERT INTO schema_migrations (version) VALUES (?)",
            vec![(*version).into()],
        ));
        match sql.batch(stmts).await {
            Ok(_) => ran += 1,
            Err(SqlError::UniqueViolation(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ran)
}

/// Splits migration text on `;` at line ends (migrations hold no triggers).
fn split_statements(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_migration_splits_into_statements() {
        let stmts: Vec<_> = super::split_statements(super::INITIAL).collect();
        assert_eq!(stmts.len(), 7);
        assert!(stmts.iter().all(|s| !s.contains("--")));
    }
}
