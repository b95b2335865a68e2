//! All storage logic, as SQL text over [`SqlExecutor`]. Each method is one
//! round trip (a statement or a one-transaction batch) where the logic allows,
//! because a remote libSQL server costs ~0.65 ms per round trip.

use crate::api_client::{ApiClient, ClientId};
use crate::async_trait_decl;
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::rate_limit::{gcra, Quota, RateDecision, RateLimitStore};
use crate::session::SessionRow;
use crate::sql::{Row, SqlError, SqlExecutor, Statement, Value};
use crate::token::SessionId;
use crate::user::{User, UserId, UserType};
use std::sync::Arc;

pub(crate) const USER_COLUMNS: &str = "id, email, username, first_name, last_name, user_type, is_staff, is_superuser, is_active, date_joined, last_login";
pub(crate) const CLIENT_COLUMNS: &str =
    "id, name, client_type, key_hash, rate_limit, rate_period_secs, is_active, serves, allowed_origins, created_at";
const SESSION_COLUMNS: &str = "id, user_id, client_id, current_jti, created_at, last_used_at, refresh_expires_at, absolute_expires_at, revoked_at";

/// A row that does not have the expected shape: a schema mismatch.
pub(crate) fn bad_row(what: &str) -> SqlError {
    SqlError::Other(format!("unexpected {what} row shape"))
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

pub(crate) fn user_from_row(r: &Row) -> Result<User, SqlError> {
    let f = || -> Option<User> {
        Some(User {
            id: UserId(int(r.first()?)?),
            email: text(r.get(1)?)?,
            username: text(r.get(2)?)?,
            first_name: text(r.get(3)?)?,
            last_name: text(r.get(4)?)?,
            user_type: text(r.get(5)?)?.parse().ok()?,
            is_staff: int(r.get(6)?)? != 0,
            is_superuser: int(r.get(7)?)? != 0,
            is_active: int(r.get(8)?)? != 0,
            date_joined: UnixMillis(int(r.get(9)?)?),
            last_login: opt_int(r.get(10)?)?.map(UnixMillis),
        })
    };
    f().ok_or_else(|| bad_row("user"))
}

pub(crate) fn client_from_row(r: &Row) -> Result<ApiClient, SqlError> {
    let f = || -> Option<ApiClient> {
        Some(ApiClient {
            id: ClientId(text(r.first()?)?),
            name: text(r.get(1)?)?,
            client_type: text(r.get(2)?)?,
            key_hash: text(r.get(3)?)?,
            rate_limit: u32::try_from(int(r.get(4)?)?).ok()?,
            rate_period_secs: u32::try_from(int(r.get(5)?)?).ok()?,
            is_active: int(r.get(6)?)? != 0,
            serves: text(r.get(7)?)?
                .split(',')
                .filter_map(|s| s.parse::<UserType>().ok())
                .collect(),
            allowed_origins: text(r.get(8)?)?
                .split('\n')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: UnixMillis(int(r.get(9)?)?),
        })
    };
    f().ok_or_else(|| bad_row("api client"))
}

fn session_from_row(r: &Row) -> Result<SessionRow, SqlError> {
    let f = || -> Option<SessionRow> {
        Some(SessionRow {
            id: SessionId(text(r.first()?)?),
            user_id: UserId(int(r.get(1)?)?),
            client_id: ClientId(text(r.get(2)?)?),
            current_jti: text(r.get(3)?)?,
            created_at: UnixMillis(int(r.get(4)?)?),
            last_used_at: UnixMillis(int(r.get(5)?)?),
            refresh_expires_at: UnixMillis(int(r.get(6)?)?),
            absolute_expires_at: UnixMillis(int(r.get(7)?)?),
            revoked_at: opt_int(r.get(8)?)?.map(UnixMillis),
        })
    };
    f().ok_or_else(|| bad_row("session"))
}

/// A live login as its owner sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: SessionId,
    pub client_id: ClientId,
    pub client_name: String,
    pub created_at: UnixMillis,
    pub last_used_at: UnixMillis,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A user row with its password hash.
#[derive(Debug, Clone)]
pub struct UserWithHash {
    pub user: User,
    pub password_hash: String,
}

/// A user to insert (the hash already computed).
#[derive(Debug, Clone)]
pub struct UserInsert<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub user_type: UserType,
    pub password_hash: &'a str,
    pub now: UnixMillis,
}

/// A session (login) to insert.
#[derive(Debug, Clone)]
pub struct SessionInsert<'a> {
    pub id: &'a SessionId,
    pub client_id: &'a ClientId,
    pub jti: &'a str,
    pub now: UnixMillis,
    pub refresh_expires_at: UnixMillis,
    pub absolute_expires_at: UnixMillis,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl SessionInsert<'_> {
    /// The INSERT for this session; `user_id` None means "the user inserted
    /// by the previous statement of the batch".
    fn statement(&self, user_id: Option<UserId>) -> Statement {
        let user_expr = if user_id.is_some() {
            "?"
        } else {
            "last_insert_rowid()"
        };
        let mut params: Vec<Value> = vec![self.id.0.clone().into()];
        if let Some(u) = user_id {
            params.push(u.0.into());
        }
        params.extend([
            self.client_id.0.clone().into(),
            self.jti.into(),
            self.now.0.into(),
            self.now.0.into(),
            self.refresh_expires_at.0.into(),
            self.absolute_expires_at.0.into(),
            self.ip.clone().into(),
            self.user_agent.clone().into(),
        ]);
        Statement::new(
            format!(
                "INSERT INTO sessions (id, user_id, client_id, current_jti, created_at, last_used_at, refresh_expires_at, absolute_expires_at, ip, user_agent) SELECT ?, {user_expr}, ?, ?, ?, ?, ?, ?, ?, ?"
            ),
            params,
        )
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
}

impl Store {
    pub fn new(sql: Arc<dyn SqlExecutor>) -> Self {
        Store { sql }
    }

    pub(crate) async fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, SqlError> {
        Ok(self.sql.run(Statement::new(sql, params)).await?.rows)
    }

    /// `SELECT 1`: does the database answer?
    pub async fn ping(&self) -> Result<(), SqlError> {
        self.rows("SELECT 1", vec![]).await.map(|_| ())
    }

    // ---- users ----

    pub async fn user(&self, id: UserId) -> Result<Option<User>, SqlError> {
        let rows = self
            .rows(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"),
                vec![id.0.into()],
            )
            .await?;
        rows.first().map(user_from_row).transpose()
    }

    /// The user, if the login `sid` is theirs and still live: what an
    /// access token needs on every request, in one query.
    pub async fn user_in_session(
        &self,
        id: UserId,
        sid: &SessionId,
        now: UnixMillis,
    ) -> Result<Option<User>, SqlError> {
        let cols = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self
            .rows(
                &format!(
                    "SELECT {cols} FROM users u JOIN sessions s ON s.id = ? AND s.user_id = u.id WHERE u.id = ? AND s.revoked_at IS NULL AND s.absolute_expires_at > ?"
                ),
                vec![sid.0.clone().into(), id.0.into(), now.0.into()],
            )
            .await?;
        rows.first().map(user_from_row).transpose()
    }

    /// At most `limit` of a user's live logins, newest first.
    pub async fn newest_live_sessions(
        &self,
        user: UserId,
        now: UnixMillis,
        limit: u32,
    ) -> Result<Vec<SessionInfo>, SqlError> {
        let rows = self
            .rows(
                "SELECT s.id, s.client_id, c.name, s.created_at, s.last_used_at, s.ip, s.user_agent FROM sessions s JOIN api_clients c ON c.id = s.client_id WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.absolute_expires_at > ? AND s.refresh_expires_at > ? ORDER BY s.created_at DESC, s.id LIMIT ?",
                vec![user.0.into(), now.0.into(), now.0.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let f = || -> Option<SessionInfo> {
                    Some(SessionInfo {
                        id: SessionId(text(r.first()?)?),
                        client_id: ClientId(text(r.get(1)?)?),
                        client_name: text(r.get(2)?)?,
                        created_at: UnixMillis(int(r.get(3)?)?),
                        last_used_at: UnixMillis(int(r.get(4)?)?),
                        ip: text(r.get(5)?),
                        user_agent: text(r.get(6)?),
                    })
                };
                f().ok_or_else(|| bad_row("session"))
            })
            .collect()
    }

    /// Ends one of `user`'s logins; false when it is not theirs or not live.
    pub async fn revoke_user_session(
        &self,
        user: UserId,
        id: &SessionId,
        now: UnixMillis,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let r = self
            .sql
            .batch(vec![
                Statement::new(
                    "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                    vec![now.0.into(), reason.into(), id.0.clone().into(), user.0.into()],
                ),
                audit.clone().only_if_changed().statement(),
            ])
            .await?;
        Ok(r.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// Ends every login of `user`; returns how many.
    pub async fn revoke_user_sessions(
        &self,
        user: UserId,
        now: UnixMillis,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<u64, SqlError> {
        let r = self
            .sql
            .batch(vec![
                Statement::new(
                    "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE user_id = ? AND revoked_at IS NULL",
                    vec![now.0.into(), reason.into(), user.0.into()],
                ),
                audit.clone().changes_as("sessions_ended").statement(),
            ])
            .await?;
        Ok(r.first().map_or(0, |r| r.rows_affected))
    }

    pub async fn user_by_email(&self, normalized: &str) -> Result<Option<UserWithHash>, SqlError> {
        let rows = self
            .rows(
                &format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_normalized = ?"
                ),
                vec![normalized.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(UserWithHash {
                    user: user_from_row(r)?,
                    password_hash: r.get(11).and_then(text).ok_or_else(|| bad_row("user"))?,
                })
            })
            .transpose()
    }

    pub async fn password_hash(&self, id: UserId) -> Result<Option<String>, SqlError> {
        let rows = self
            .rows(
                "SELECT password_hash FROM users WHERE id = ?",
                vec![id.0.into()],
            )
            .await?;
        Ok(rows.first().and_then(|r| r.first()).and_then(text))
    }

    /// Which of email and username are taken, each compared by its key
    /// ([`normalize_email`](crate::user::normalize_email),
    /// [`username_key`](crate::user::username_key)).
    pub async fn taken(&self, email: &str, username: &str) -> Result<(bool, bool), SqlError> {
        let rows = self
            .rows(
                "SELECT (SELECT count(*) FROM users WHERE email_normalized = ?), (SELECT count(*) FROM users WHERE username_key = ?)",
                vec![
                    crate::user::normalize_email(email).into(),
                    crate::user::username_key(username).into(),
                ],
            )
            .await?;
        let r = rows.first().ok_or_else(|| bad_row("count"))?;
        Ok((
            r.first().and_then(int).unwrap_or(0) > 0,
            r.get(1).and_then(int).unwrap_or(0) > 0,
        ))
    }

    fn user_insert_statement(u: &UserInsert<'_>) -> Statement {
        Statement::new(
            "INSERT INTO users (email, email_normalized, username, username_key, first_name, last_name, user_type, is_staff, is_superuser, is_active, password_hash, date_joined, last_login) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            vec![
                u.email.into(),
                crate::user::normalize_email(u.email).into(),
                u.username.into(),
                crate::user::username_key(u.username).into(),
                u.first_name.into(),
                u.last_name.into(),
                u.user_type.as_str().into(),
                u.user_type.is_staff().into(),
                u.user_type.is_superuser().into(),
                u.password_hash.into(),
                u.now.0.into(),
                Value::Null,
            ],
        )
    }

    /// Inserts a user (no session) and its audit event (whose target is the
    /// new row: give it `UserRef::LastInsert`).
    pub async fn insert_user(
        &self,
        u: &UserInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<User, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Self::user_insert_statement(u),
                Statement::new(
                    format!("SELECT {USER_COLUMNS} FROM users WHERE id = last_insert_rowid()"),
                    vec![],
                ),
                audit.statement(),
            ])
            .await?;
        let row = results
            .get(1)
            .and_then(|r| r.rows.first())
            .ok_or_else(|| bad_row("user"))?;
        user_from_row(row)
    }

    /// Inserts a user and its first login in one transaction (registration),
    /// with its audit event.
    pub async fn insert_user_with_session(
        &self,
        u: &UserInsert<'_>,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<User, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Self::user_insert_statement(u),
                s.statement(None),
                Statement::new(
                    "UPDATE users SET last_login = ? WHERE id = (SELECT user_id FROM sessions WHERE id = ?)",
                    vec![s.now.0.into(), s.id.0.clone().into()],
                ),
                Statement::new(
                    format!("SELECT {USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM sessions WHERE id = ?)"),
                    vec![s.id.0.clone().into()],
                ),
                audit.statement(),
            ])
            .await?;
        let row = results
            .get(3)
            .and_then(|r| r.rows.first())
            .ok_or_else(|| bad_row("user"))?;
        user_from_row(row)
    }

    /// Records a login: a new session, `last_login` and the audit event, in
    /// one transaction.
    pub async fn insert_session(
        &self,
        user: UserId,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<(), SqlError> {
        self.sql
            .batch(vec![
                s.statement(Some(user)),
                Statement::new(
                    "UPDATE users SET last_login = ? WHERE id = ?",
                    vec![s.now.0.into(), user.0.into()],
                ),
                audit.statement(),
            ])
            .await
            .map(|_| ())
    }

    /// Updates the writable profile fields; None leaves a field unchanged.
    /// A new username (already canonical) brings its key along.
    pub async fn update_profile(
        &self,
        id: UserId,
        username: Option<&str>,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Result<Option<User>, SqlError> {
        let rows = self
            .rows(
                &format!(
                    "UPDATE users SET username = coalesce(?, username), username_key = coalesce(?, username_key), first_name = coalesce(?, first_name), last_name = coalesce(?, last_name) WHERE id = ? RETURNING {USER_COLUMNS}"
                ),
                vec![
                    username.into(),
                    username.map(crate::user::username_key).into(),
                    first_name.into(),
                    last_name.into(),
                    id.0.into(),
                ],
            )
            .await?;
        rows.first().map(user_from_row).transpose()
    }

    /// Sets a new password hash, revokes every login of the user and opens
    /// the new one, in one transaction.
    /// Sets a new password hash if the stored one is still `old_hash` (a
    /// compare-and-swap), and in the same transaction revokes every login
    /// of the user, starts the new one and records it. Every statement
    /// after the swap is guarded by "the stored hash is ours", which only
    /// the winner's salted hash can satisfy. True for the one caller that
    /// wins.
    pub async fn change_password(
        &self,
        id: UserId,
        old_hash: &str,
        new_hash: &str,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let guard = || Guard {
            sql: "EXISTS (SELECT 1 FROM users WHERE id = ? AND password_hash = ?)",
            params: vec![id.0.into(), new_hash.into()],
        };
        let results = self
            .sql
            .batch(vec![
                Statement::new(
                    "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                    vec![new_hash.into(), id.0.into(), old_hash.into()],
                ),
                guard().and(Statement::new(
                    "UPDATE sessions SET revoked_at = ?, revoked_reason = 'password_changed' WHERE user_id = ? AND revoked_at IS NULL",
                    vec![s.now.0.into(), id.0.into()],
                )),
                guard().where_(audit.clone().changes_as("sessions_revoked").statement()),
                guard().where_(s.statement(Some(id))),
            ])
            .await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }

    // ---- sessions ----

    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionRow>, SqlError> {
        let rows = self
            .rows(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"),
                vec![id.0.clone().into()],
            )
            .await?;
        rows.first().map(session_from_row).transpose()
    }

    /// The compare-and-swap of a refresh: moves the session from `old_jti`
    /// to `new_jti` only if `old_jti` is still current and the session is
    /// live. True for the one caller that wins.
    pub async fn rotate_session(
        &self,
        id: &SessionId,
        old_jti: &str,
        new_jti: &str,
        now: UnixMillis,
        refresh_expires_at: UnixMillis,
    ) -> Result<bool, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "UPDATE sessions SET current_jti = ?, last_used_at = ?, refresh_expires_at = ? WHERE id = ? AND current_jti = ? AND revoked_at IS NULL",
                vec![
                    new_jti.into(),
                    now.0.into(),
                    refresh_expires_at.0.into(),
                    id.0.clone().into(),
                    old_jti.into(),
                ],
            ))
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Revokes one session (idempotent) and records why, in one transaction.
    pub async fn revoke_session(
        &self,
        id: &SessionId,
        now: UnixMillis,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<(), SqlError> {
        self.sql
            .batch(vec![
                Statement::new(
                    "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL",
                    vec![now.0.into(), reason.into(), id.0.clone().into()],
                ),
                audit.clone().changes_as("sessions_ended").statement(),
            ])
            .await
            .map(|_| ())
    }

    /// Appends one audit event on its own (an event without a change, such
    /// as a failed login).
    pub async fn insert_audit(&self, audit: &AuditEvent) -> Result<(), SqlError> {
        self.sql.run(audit.statement()).await.map(|_| ())
    }

    // ---- API clients ----

    pub async fn client(&self, id: &str) -> Result<Option<ApiClient>, SqlError> {
        let rows = self
            .rows(
                &format!("SELECT {CLIENT_COLUMNS} FROM api_clients WHERE id = ?"),
                vec![id.into()],
            )
            .await?;
        rows.first().map(client_from_row).transpose()
    }

    pub async fn clients(&self) -> Result<Vec<ApiClient>, SqlError> {
        self.rows(
            &format!("SELECT {CLIENT_COLUMNS} FROM api_clients ORDER BY created_at, id"),
            vec![],
        )
        .await?
        .iter()
        .map(client_from_row)
        .collect()
    }

    /// Does some active client allow this browser origin?
    pub async fn origin_allowed_by_any(&self, origin: &str) -> Result<bool, SqlError> {
        let rows = self
            .rows(
                "SELECT 1 FROM api_clients WHERE is_active = 1 AND (instr(char(10) || allowed_origins || char(10), char(10) || ? || char(10)) > 0 OR instr(char(10) || allowed_origins || char(10), char(10) || '*' || char(10)) > 0) LIMIT 1",
                vec![origin.into()],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Inserts a client and its audit event, in one transaction.
    pub async fn insert_client(&self, c: &ApiClient, audit: &AuditEvent) -> Result<(), SqlError> {
        self.sql
            .batch(vec![Statement::new(
                format!("INSERT INTO api_clients ({CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                vec![
                    c.id.0.clone().into(),
                    c.name.clone().into(),
                    c.client_type.clone().into(),
                    c.key_hash.clone().into(),
                    i64::from(c.rate_limit).into(),
                    i64::from(c.rate_period_secs).into(),
                    c.is_active.into(),
                    c.serves.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",").into(),
                    c.allowed_origins.join("\n").into(),
                    c.created_at.0.into(),
                ],
            ), audit.statement()])
            .await
            .map(|_| ())
    }

    /// Sets a client's active flag; deactivating also revokes every session
    /// it issued, in the same transaction. False when no such client.
    pub async fn set_client_active(
        &self,
        id: &ClientId,
        active: bool,
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let mut stmts = vec![
            Statement::new(
                "UPDATE api_clients SET is_active = ? WHERE id = ?",
                vec![active.into(), id.0.clone().into()],
            ),
            audit.clone().only_if_changed().statement(),
        ];
        if !active {
            stmts.push(Statement::new(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = 'client_deactivated' WHERE client_id = ? AND revoked_at IS NULL",
                vec![now.0.into(), id.0.clone().into()],
            ));
        }
        let results = self.sql.batch(stmts).await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// Replaces a client's key hash and records it. False when no such client.
    pub async fn set_client_key(
        &self,
        id: &ClientId,
        key_hash: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let r = self
            .sql
            .batch(vec![
                Statement::new(
                    "UPDATE api_clients SET key_hash = ? WHERE id = ?",
                    vec![key_hash.into(), id.0.clone().into()],
                ),
                audit.clone().only_if_changed().statement(),
            ])
            .await?;
        Ok(r.first().is_some_and(|r| r.rows_affected == 1))
    }

    // ---- signing key ----

    /// The stored signing key of `alg`, created from `candidate` if there is
    /// none yet. Race-safe: the first writer wins and everyone reads its key.
    pub async fn signing_key(
        &self,
        alg: &str,
        candidate: Vec<u8>,
        now: UnixMillis,
    ) -> Result<Vec<u8>, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Statement::new(
                    "INSERT INTO signing_keys (slot, alg, secret, created_at) VALUES ('default', ?, ?, ?) ON CONFLICT(slot) DO NOTHING",
                    vec![alg.into(), candidate.into(), now.0.into()],
                ),
                Statement::new("SELECT alg, secret FROM signing_keys WHERE slot = 'default'", vec![]),
            ])
            .await?;
        let row = results
            .get(1)
            .and_then(|r| r.rows.first())
            .ok_or_else(|| bad_row("signing key"))?;
        match (row.first(), row.get(1)) {
            (Some(Value::Text(a)), Some(Value::Blob(secret))) if a == alg => Ok(secret.clone()),
            _ => Err(bad_row("signing key")),
        }
    }
}

/// GCRA counters in libSQL, for hosts with many isolates (the Worker): each
/// allowed hit is one atomic UPSERT, so concurrent isolates never double-spend.
pub struct SqlRateLimitStore {
    sql: Arc<dyn SqlExecutor>,
}

impl SqlRateLimitStore {
    pub fn new(sql: Arc<dyn SqlExecutor>) -> Self {
        SqlRateLimitStore { sql }
    }

    async fn stored_tat(&self, key: &str) -> Result<Option<i64>, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "SELECT tat FROM rate_limits WHERE key = ?",
                vec![key.into()],
            ))
            .await?;
        Ok(r.rows.first().and_then(|r| r.first()).and_then(int))
    }
}

async_trait_decl! {
impl RateLimitStore for SqlRateLimitStore {
    async fn check(&self, key: &str, quota: Quota, now: UnixMillis, consume: bool) -> Result<RateDecision, SqlError> {
        if consume {
            let period_ms = i64::from(quota.period_secs.max(1)) * 1000;
            let interval = (period_ms / i64::from(quota.limit.max(1))).max(1);
            // The same rule as `gcra`, applied atomically in the database.
            let r = self
                .sql
                .run(Statement::new(
                    "INSERT INTO rate_limits (key, tat) VALUES (?1, ?2 + ?3) ON CONFLICT(key) DO UPDATE SET tat = max(tat, ?2) + ?3 WHERE max(tat, ?2) + ?3 - ?4 <= ?2 RETURNING tat",
                    vec![key.into(), now.0.into(), interval.into(), period_ms.into()],
                ))
                .await?;
            if let Some(tat) = r.rows.first().and_then(|r| r.first()).and_then(int) {
                // Report from the state before this hit, consuming it.
                return Ok(gcra(Some(tat - interval), now, quota, true).0);
            }
        }
        let tat = self.stored_tat(key).await?;
        Ok(gcra(tat, now, quota, false).0)
    }
}
}
