//! Sessions (logins): insert, rotate, list and revoke.

use super::user_row::{user_from_values, USER_COLUMNS};
use super::{bad_row, int, opt_int, opt_text, text, Store};
use crate::api_client::ClientId;
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::session::{SessionId, SessionRow};
use crate::sql::{SqlError, Statement, Value};
use crate::user::{User, UserId};

const SESSION_COLUMNS: &str = "id, user_id, client_id, current_jti, created_at, last_used_at, refresh_expires_at, absolute_expires_at, revoked_at, previous_jti, rotated_at, amr";

/// How many columns `SESSION_COLUMNS` names.
const SESSION_WIDTH: usize = 12;

fn session_from_row(r: &[Value]) -> Result<SessionRow, SqlError> {
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
            previous_jti: opt_text(r.get(9)?)?,
            rotated_at: opt_int(r.get(10)?)?.map(UnixMillis),
            amr: text(r.get(11)?)?,
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
    /// The login's methods (`mfa::amr`), comma-separated.
    pub amr: &'a str,
    /// When it last passed a second factor (step-up recency), if ever.
    pub mfa_at: Option<UnixMillis>,
}

/// A stored password hash replaced along with a login (a Django hash
/// rehashed as Argon2id), see [`Store::insert_session`].
pub struct HashSwap<'a> {
    pub old_hash: &'a str,
    pub new_hash: &'a str,
    pub audit: &'a AuditEvent,
}

impl SessionInsert<'_> {
    /// The INSERT for this session; `user_id` None means "the user inserted
    /// by the previous statement of the batch".
    pub(super) fn statement(&self, user_id: Option<UserId>) -> Statement {
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
            self.amr.into(),
            self.mfa_at.map(|t| t.0).into(),
        ]);
        Statement::new(
            format!(
                "INSERT INTO sessions (id, user_id, client_id, current_jti, created_at, last_used_at, refresh_expires_at, absolute_expires_at, ip, user_agent, amr, mfa_at) SELECT ?, {user_expr}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            ),
            params,
        )
    }
}

impl Store {
    /// When the live login `id` last passed a second factor (None: never,
    /// or no such live login).
    pub(crate) async fn session_mfa_at(
        &self,
        id: &SessionId,
    ) -> Result<Option<UnixMillis>, SqlError> {
        let rows = self
            .rows(
                "SELECT mfa_at FROM sessions WHERE id = ? AND revoked_at IS NULL",
                vec![id.0.clone().into()],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(int)
            .map(UnixMillis))
    }

    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionRow>, SqlError> {
        self.first(
            &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"),
            vec![id.0.clone().into()],
            |r| session_from_row(r),
        )
        .await
    }

    /// The login `id` and the user `user` (each if it exists), in one
    /// statement: what a refresh reads (one read of the file instead of
    /// two, and one snapshot of both).
    pub async fn session_and_user(
        &self,
        id: &SessionId,
        user: UserId,
    ) -> Result<(Option<SessionRow>, Option<User>), SqlError> {
        // Every refresh runs it: the text is built once.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let prefixed = |cols: &str, p: &str| {
                cols.split(", ")
                    .map(|c| format!("{p}.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "SELECT {}, {} FROM (SELECT 1) LEFT JOIN sessions s ON s.id = ? LEFT JOIN users u ON u.id = ?",
                prefixed(SESSION_COLUMNS, "s"),
                prefixed(USER_COLUMNS, "u"),
            )
        });
        let rows = self
            .rows(&SQL, vec![id.0.clone().into(), user.0.into()])
            .await?;
        let row = rows.first().ok_or_else(|| bad_row("session and user"))?;
        if row.len() < SESSION_WIDTH {
            return Err(bad_row("session and user"));
        }
        let (s, u) = row.split_at(SESSION_WIDTH);
        // A missing side comes back as NULLs (its id, never NULL when present).
        let session = match s.first() {
            Some(Value::Null) => None,
            _ => Some(session_from_row(s)?),
        };
        let user = match u.first() {
            Some(Value::Null) | None => None,
            _ => Some(user_from_values(u)?),
        };
        Ok((session, user))
    }

    /// The compare-and-swap of a refresh: moves the session from `old_jti`
    /// to `new_jti` only if `old_jti` is still current and the session is
    /// live, and keeps `old_jti` as the new token's parent with the time of
    /// the rotation (the reuse grace and the new token's `iat`). True for
    /// the one caller that wins.
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
                "UPDATE sessions SET current_jti = ?, previous_jti = current_jti, rotated_at = ?, last_used_at = ?, refresh_expires_at = ? WHERE id = ? AND current_jti = ? AND revoked_at IS NULL",
                vec![
                    new_jti.into(),
                    now.0.into(),
                    now.0.into(),
                    refresh_expires_at.0.into(),
                    id.0.clone().into(),
                    old_jti.into(),
                ],
            ))
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// A reissue (the reuse grace): counts as a use of the login and is
    /// audited, only if the login is live and still holds `current_jti`
    /// (another rotation or a revocation may have come in since it was
    /// read). True when it did.
    pub async fn confirm_reissue(
        &self,
        id: &SessionId,
        current_jti: &str,
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let r = self
            .sql
            .batch(vec![
                Statement::new(
                    "UPDATE sessions SET last_used_at = max(last_used_at, ?) WHERE id = ? AND current_jti = ? AND revoked_at IS NULL",
                    vec![now.0.into(), id.0.clone().into(), current_jti.into()],
                ),
                audit.clone().only_if_changed().statement(),
            ])
            .await?;
        Ok(r.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// Revokes one session (idempotent) and records why, in one transaction.
    pub async fn revoke_session(
        &self,
        id: &SessionId,
        now: UnixMillis,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<(), SqlError> {
        let audit = audit.clone().changes_as("sessions_ended");
        self.revoke("id = ?", vec![id.0.clone().into()], now, reason, audit)
            .await
            .map(|_| ())
    }

    /// Records a login: a new session, `last_login` and the audit event, in
    /// one transaction; with `swap`, in the same transaction the stored
    /// password hash swapped from its `old_hash` to its `new_hash` (a
    /// compare-and-swap), its `audit` event recorded only if this swap
    /// happened.
    pub async fn insert_session(
        &self,
        user: UserId,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
        swap: Option<HashSwap<'_>>,
    ) -> Result<(), SqlError> {
        let mut writes = Vec::new();
        if let Some(x) = swap {
            writes.push(Statement::new(
                "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                vec![x.new_hash.into(), user.0.into(), x.old_hash.into()],
            ));
            writes.push(x.audit.clone().only_if_changed().statement());
        }
        writes.extend(login_writes(user, s, audit));
        self.sql.batch(writes).await.map(|_| ())
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
        let mine = vec![id.0.clone().into(), user.0.into()];
        let audit = audit.clone().only_if_changed();
        let n = self
            .revoke("id = ? AND user_id = ?", mine, now, reason, audit)
            .await?;
        Ok(n == 1)
    }

    /// Ends every login of `user`; returns how many.
    pub async fn revoke_user_sessions(
        &self,
        user: UserId,
        now: UnixMillis,
        reason: &str,
        audit: &AuditEvent,
    ) -> Result<u64, SqlError> {
        let audit = audit.clone().changes_as("sessions_ended");
        self.revoke("user_id = ?", vec![user.0.into()], now, reason, audit)
            .await
    }

    /// Revokes the live sessions matching `cond` (its `params` bound) and
    /// records `audit`, in one transaction; returns how many it ended.
    async fn revoke(
        &self,
        cond: &str,
        params: Vec<Value>,
        now: UnixMillis,
        reason: &str,
        audit: AuditEvent,
    ) -> Result<u64, SqlError> {
        let mut all = vec![now.0.into(), reason.into()];
        all.extend(params);
        let r = self
            .sql
            .batch(vec![
                Statement::new(
                    format!("UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE {cond} AND revoked_at IS NULL"),
                    all,
                ),
                audit.statement(),
            ])
            .await?;
        Ok(r.first().map_or(0, |r| r.rows_affected))
    }
}

/// A login's writes: the new session, `last_login` and the audit event.
pub(super) fn login_writes(
    user: UserId,
    s: &SessionInsert<'_>,
    audit: &AuditEvent,
) -> [Statement; 3] {
    [
        s.statement(Some(user)),
        Statement::new(
            "UPDATE users SET last_login = ? WHERE id = ?",
            vec![s.now.0.into(), user.0.into()],
        ),
        audit.statement(),
    ]
}
