//! Users: lookups, registration, profile and password changes.

use super::sessions::SessionInsert;
use super::user_row::{user_from_row, user_from_values, USER_COLUMNS};
use super::{bad_row, int, text, Guard, Store};
use crate::audit::AuditEvent;
use crate::cache::LiveLogin;
use crate::clock::UnixMillis;
use crate::session::SessionId;
use crate::sql::{Row, SqlError, Statement, StatementResult, Value};
use crate::user::{User, UserId, UserType};

/// A user (`USER_COLUMNS`) followed by its login's `absolute_expires_at`.
fn live_login_from_row(r: &Row) -> Result<LiveLogin, SqlError> {
    // The column after the user's: counted (once), so a new user column
    // moves it.
    static AT: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| USER_COLUMNS.split(", ").count());
    let expires = r.get(*AT).and_then(int).ok_or_else(|| bad_row("login"))?;
    Ok(LiveLogin {
        user: user_from_values(r)?,
        absolute_expires_at: UnixMillis(expires),
    })
}

/// The user in the first row of the `i`th result of a batch.
fn user_in(results: &[StatementResult], i: usize) -> Result<User, SqlError> {
    let row = results
        .get(i)
        .and_then(|r| r.rows.first())
        .ok_or_else(|| bad_row("user"))?;
    user_from_row(row)
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

impl Store {
    /// The user in the first row `sql` answers, if any.
    async fn one_user(&self, sql: &str, params: Vec<Value>) -> Result<Option<User>, SqlError> {
        self.first(sql, params, user_from_row).await
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, SqlError> {
        self.one_user(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"),
            vec![id.0.into()],
        )
        .await
    }

    /// The user, if the login `sid` is theirs and still live: what an
    /// access token needs on every request, in one query, or from the cache
    /// while the executor's generation has not moved (`crate::cache`).
    pub async fn user_in_session(
        &self,
        id: UserId,
        sid: &SessionId,
        now: UnixMillis,
    ) -> Result<Option<User>, SqlError> {
        // Before the query: a write during it leaves a stale tag.
        self.user_in_session_as_of(id, sid, now, self.generation().await)
            .await
    }

    /// [`Store::user_in_session`] under a `generation` the caller read
    /// before this call (once per request, for every cached read of it).
    pub(crate) async fn user_in_session_as_of(
        &self,
        id: UserId,
        sid: &SessionId,
        now: UnixMillis,
        generation: Option<u64>,
    ) -> Result<Option<User>, SqlError> {
        if let Some(hit) = generation.and_then(|g| self.cache.logins.get(&sid.0, g)) {
            // Past its expiry: the query decides (and finds nothing).
            if let Some(user) = hit.user_at(id, now) {
                return Ok(Some(user));
            }
        }
        // The text is built once.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let cols = USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {cols}, s.absolute_expires_at FROM users u JOIN sessions s ON s.id = ? AND s.user_id = u.id WHERE u.id = ? AND s.revoked_at IS NULL AND s.absolute_expires_at > ?"
            )
        });
        let found = self
            .first(
                &SQL,
                vec![sid.0.clone().into(), id.0.into(), now.0.into()],
                live_login_from_row,
            )
            .await?;
        let Some(login) = found else {
            return Ok(None);
        };
        if let Some(g) = generation {
            self.cache.logins.put(&sid.0, g, login.clone());
        }
        Ok(Some(login.user))
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
                    password_hash: r.get(12).and_then(text).ok_or_else(|| bad_row("user"))?,
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
    pub async fn taken(&self, email: &str, username: &str) -> Result<crate::user::Taken, SqlError> {
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
        Ok(crate::user::Taken {
            email: r.first().and_then(int).unwrap_or(0) > 0,
            username: r.get(1).and_then(int).unwrap_or(0) > 0,
        })
    }

    pub(crate) fn user_insert_statement(u: &UserInsert<'_>) -> Statement {
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
        let read_back = Statement::new(
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = last_insert_rowid()"),
            vec![],
        );
        self.insert_user_batch(u, vec![], read_back, audit).await
    }

    /// Inserts a user and its first login in one transaction (registration),
    /// with its audit event and `with` (what else the registration writes,
    /// naming the new user as the owner of login `s`).
    pub async fn insert_user_with_session(
        &self,
        u: &UserInsert<'_>,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
        with: Vec<Statement>,
    ) -> Result<User, SqlError> {
        let mut first_login = vec![
            s.statement(None),
            Statement::new(
                "UPDATE users SET last_login = ? WHERE id = (SELECT user_id FROM sessions WHERE id = ?)",
                vec![s.now.0.into(), s.id.0.clone().into()],
            ),
        ];
        first_login.extend(with);
        let read_back = Statement::new(
            format!("SELECT {USER_COLUMNS} FROM users WHERE id = (SELECT user_id FROM sessions WHERE id = ?)"),
            vec![s.id.0.clone().into()],
        );
        self.insert_user_batch(u, first_login, read_back, audit)
            .await
    }

    /// One transaction: the user's INSERT, `with` (what goes with the new
    /// user), `read_back` (a SELECT of the new row) and the audit event.
    async fn insert_user_batch(
        &self,
        u: &UserInsert<'_>,
        with: Vec<Statement>,
        read_back: Statement,
        audit: &AuditEvent,
    ) -> Result<User, SqlError> {
        let read_at = 1 + with.len();
        let mut stmts = vec![Self::user_insert_statement(u)];
        stmts.extend(with);
        stmts.push(read_back);
        stmts.push(audit.statement());
        let results = self.sql.batch(stmts).await?;
        user_in(&results, read_at)
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
        self.one_user(
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
        .await
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
}
