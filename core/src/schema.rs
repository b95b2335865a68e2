//! The libSQL schema, as numbered migrations. Both hosts and the CLI run
//! [`migrate`]; it is idempotent and safe to run from two processes at once.

use crate::sql::{SqlError, SqlExecutor, Statement};

/// Migrations in order. Never edit one that has shipped: add a new one.
pub const MIGRATIONS: &[(i64, &str)] = &[(1, INITIAL), (2, AUDIT_AND_USAGE)];

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

/// The audit log (append-only: triggers refuse UPDATE and DELETE; each
/// trigger sits on one line because statements split at `;` + newline) and
/// the hourly usage counters, added to by the flush's UPSERTs.
const AUDIT_AND_USAGE: &str = "
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_client_id TEXT,
    ip TEXT,
    target_user_id INTEGER,
    target_client_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at);
CREATE INDEX IF NOT EXISTS audit_events_event ON audit_events(event, id);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events(actor_user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_target_user ON audit_events(target_user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_client ON audit_events(actor_client_id, id);
CREATE INDEX IF NOT EXISTS audit_events_target_client ON audit_events(target_client_id, id);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TABLE IF NOT EXISTS usage_hourly (
    client_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    status_2xx INTEGER NOT NULL DEFAULT 0,
    status_4xx INTEGER NOT NULL DEFAULT 0,
    status_5xx INTEGER NOT NULL DEFAULT 0,
    throttled INTEGER NOT NULL DEFAULT 0,
    logins INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    registrations INTEGER NOT NULL DEFAULT 0,
    refreshes INTEGER NOT NULL DEFAULT 0,
    latency_sum_ms INTEGER NOT NULL DEFAULT 0,
    lat_0 INTEGER NOT NULL DEFAULT 0,
    lat_1 INTEGER NOT NULL DEFAULT 0,
    lat_2 INTEGER NOT NULL DEFAULT 0,
    lat_3 INTEGER NOT NULL DEFAULT 0,
    lat_4 INTEGER NOT NULL DEFAULT 0,
    lat_5 INTEGER NOT NULL DEFAULT 0,
    lat_6 INTEGER NOT NULL DEFAULT 0,
    lat_7 INTEGER NOT NULL DEFAULT 0,
    lat_8 INTEGER NOT NULL DEFAULT 0,
    lat_9 INTEGER NOT NULL DEFAULT 0,
    lat_10 INTEGER NOT NULL DEFAULT 0,
    lat_11 INTEGER NOT NULL DEFAULT 0,
    lat_12 INTEGER NOT NULL DEFAULT 0,
    lat_13 INTEGER NOT NULL DEFAULT 0,
    lat_14 INTEGER NOT NULL DEFAULT 0,
    lat_15 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, hour)
);
CREATE INDEX IF NOT EXISTS usage_hourly_hour ON usage_hourly(hour);
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

/// Splits migration text on `;` at line ends (a trigger is written on one
/// line, so the `;` inside its body is not at a line end).
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

    #[test]
    fn triggers_stay_whole_statements() {
        let stmts: Vec<_> = super::split_statements(super::AUDIT_AND_USAGE).collect();
        assert_eq!(stmts.len(), 11);
        assert!(stmts
            .iter()
            .filter(|s| s.contains("TRIGGER"))
            .all(|s| s.trim_end().ends_with("END")));
    }
}
