//! The email flows' tokens (table `email_tokens`, migration 7): issuing one
//! with its mail, using one atomically, counting a code's guesses.

use super::sessions::SessionInsert;
use super::{bad_row, int, opt_int, opt_text, text, Store};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::email_token::{Purpose, TokenRow, MAX_CODE_ATTEMPTS};
use crate::sql::{Row, SqlError, Statement, StatementResult, Value};
use crate::user::UserId;

const TOKEN_COLUMNS: &str =
    "purpose, user_id, email, client_id, expires_at, used_at, attempts, salt, code_hash";

fn token_from_row(r: &Row) -> Result<TokenRow, SqlError> {
    let f = || -> Option<TokenRow> {
        Some(TokenRow {
            purpose: text(r.first()?)?,
            user_id: int(r.get(1)?)?,
            email: text(r.get(2)?)?,
            client_id: text(r.get(3)?)?,
            expires_at: UnixMillis(int(r.get(4)?)?),
            used_at: opt_int(r.get(5)?)?.map(UnixMillis),
            attempts: int(r.get(6)?)?,
            salt: opt_text(r.get(7)?)?,
            code_hash: opt_text(r.get(8)?)?,
        })
    };
    f().ok_or_else(|| bad_row("email token"))
}

/// `stmt`, made to apply only when `cond` (SQL with `params`) holds. Works
/// on the shapes our writes have: `INSERT … VALUES (…)` (rewritten as
/// `INSERT … SELECT … WHERE cond`), `INSERT … SELECT …` without a `WHERE`,
/// and statements ending in a `WHERE` clause.
pub(crate) fn only_if(mut stmt: Statement, cond: &str, params: Vec<Value>) -> Statement {
    let sql = stmt.sql.trim_end().to_owned();
    stmt.sql = if let Some(at) = sql.find(" VALUES (") {
        let values = sql[at + " VALUES (".len()..]
            .strip_suffix(')')
            .unwrap_or_default();
        format!("{} SELECT {values} WHERE {cond}", &sql[..at])
    } else if sql.contains(" WHERE ") {
        format!("{sql} AND {cond}")
    } else {
        format!("{sql} WHERE {cond}")
    };
    stmt.params.extend(params);
    stmt
}

/// A token to issue, with what goes with it.
pub(crate) struct TokenIssue<'a> {
    pub purpose: Purpose,
    /// The user it is for; None when the address has no (eligible) account:
    /// the same statements run and write nothing, so both cost the same.
    pub user: Option<UserId>,
    pub email: &'a str,
    pub client_id: &'a str,
    pub hash: &'a str,
    pub now: UnixMillis,
    pub expires_at: UnixMillis,
    pub salt: Option<&'a str>,
    pub code_hash: Option<&'a str>,
    /// The mail(s): written only for a user.
    pub with: Vec<Statement>,
    /// Written either way (the audit event of the request).
    pub always: Vec<Statement>,
}

impl Store {
    /// The stored token whose hash is `hash`.
    pub(crate) async fn email_token(&self, hash: &str) -> Result<Option<TokenRow>, SqlError> {
        self.first(
            &format!("SELECT {TOKEN_COLUMNS} FROM email_tokens WHERE token_hash = ?"),
            vec![hash.into()],
            token_from_row,
        )
        .await
    }

    /// In one transaction: the user's live tokens of the same purpose are
    /// spent (a newer request invalidates the older), the new one is
    /// stored, `with` is written if the user exists, and `always` in any
    /// case. Without a user the token row is still written, spent at once
    /// and owned by nobody (user 0): both paths write about as much, so an
    /// unknown address answers as slowly as a known one. True when a live
    /// token was stored.
    pub(crate) async fn issue_email_token(&self, t: TokenIssue<'_>) -> Result<bool, SqlError> {
        let user = t.user.map_or(-1, |u| u.0);
        let exists = "EXISTS (SELECT 1 FROM users WHERE id = ?)";
        let mut stmts = vec![
            Statement::new(
                "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
                vec![t.now.0.into(), user.into(), t.purpose.as_str().into()],
            ),
            Statement::new(
                "INSERT INTO email_tokens (token_hash, purpose, user_id, email, client_id, created_at, expires_at, used_at, salt, code_hash) SELECT ?, ?, coalesce((SELECT id FROM users WHERE id = ?), 0), ?, ?, ?, ?, CASE WHEN EXISTS (SELECT 1 FROM users WHERE id = ?) THEN NULL ELSE ? END, ?, ?",
                vec![
                    t.hash.into(),
                    t.purpose.as_str().into(),
                    user.into(),
                    t.email.into(),
                    t.client_id.into(),
                    t.now.0.into(),
                    t.expires_at.0.into(),
                    user.into(),
                    t.now.0.into(),
                    t.salt.into(),
                    t.code_hash.into(),
                ],
            ),
        ];
        stmts.extend(
            t.with
                .into_iter()
                .map(|s| only_if(s, exists, vec![user.into()])),
        );
        stmts.extend(t.always);
        self.sql.batch(stmts).await?;
        Ok(t.user.is_some())
    }

    /// Uses the token `hash` of `purpose` if it is still live at `now`, and
    /// in the same transaction writes `then`, each statement only if this
    /// request is the one that used it (`mark`, a random value of the
    /// request). None when the token was not usable (or another request
    /// used it first); else the results of `then`, in order.
    pub(crate) async fn use_email_token(
        &self,
        hash: &str,
        purpose: Purpose,
        now: UnixMillis,
        mark: &str,
        then: Vec<Statement>,
    ) -> Result<Option<Vec<StatementResult>>, SqlError> {
        let ours = "EXISTS (SELECT 1 FROM email_tokens WHERE token_hash = ? AND consumed_by = ?)";
        let mut stmts = vec![Statement::new(
            "UPDATE email_tokens SET used_at = ?, consumed_by = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
            vec![
                now.0.into(),
                mark.into(),
                hash.into(),
                purpose.as_str().into(),
                now.0.into(),
            ],
        )];
        stmts.extend(
            then.into_iter()
                .map(|s| only_if(s, ours, vec![hash.into(), mark.into()])),
        );
        let mut results = self.sql.batch(stmts).await?;
        if results.first().is_some_and(|r| r.rows_affected == 1) {
            results.remove(0);
            Ok(Some(results))
        } else {
            Ok(None)
        }
    }

    /// Counts one guess against the user's live sign-in code, atomically:
    /// the count never passes [`MAX_CODE_ATTEMPTS`], however many guesses
    /// race. The row after the count (with its hash), or None when no live
    /// code with attempts left remains.
    pub(crate) async fn count_code_attempt(
        &self,
        user: UserId,
        now: UnixMillis,
    ) -> Result<Option<(String, TokenRow)>, SqlError> {
        let rows = self
            .rows(
                &format!(
                    "UPDATE email_tokens SET attempts = attempts + 1 WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND attempts < ? RETURNING token_hash, {TOKEN_COLUMNS}"
                ),
                vec![
                    user.0.into(),
                    Purpose::Code.as_str().into(),
                    now.0.into(),
                    MAX_CODE_ATTEMPTS.into(),
                ],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let hash = r
            .first()
            .and_then(text)
            .ok_or_else(|| bad_row("email token"))?;
        Ok(Some((hash, token_from_row(&r[1..].to_vec())?)))
    }

    /// Signs in with the sign-in code `hash` (spent at once): the login's
    /// writes, and the address counts as verified. True when this request
    /// spent the code.
    pub(crate) async fn sign_in_with_code(
        &self,
        hash: &str,
        user: UserId,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
        mark: &str,
    ) -> Result<bool, SqlError> {
        let mut then: Vec<Statement> = super::sessions::login_writes(user, s, audit).to_vec();
        then.push(verified_now(user, s.now));
        Ok(self
            .use_email_token(hash, Purpose::Code, s.now, mark, then)
            .await?
            .is_some())
    }
}

/// A live verification token for the user who owns login `sid` (the user a
/// registration's batch just inserted).
pub(crate) fn verify_token_for_session_owner(
    sid: &str,
    email: &str,
    client_id: &str,
    hash: &str,
    now: UnixMillis,
    expires_at: UnixMillis,
) -> Statement {
    Statement::new(
        "INSERT INTO email_tokens (token_hash, purpose, user_id, email, client_id, created_at, expires_at) SELECT ?, ?, user_id, ?, ?, ?, ? FROM sessions WHERE id = ?",
        vec![
            hash.into(),
            Purpose::Verify.as_str().into(),
            email.into(),
            client_id.into(),
            now.0.into(),
            expires_at.0.into(),
            sid.into(),
        ],
    )
}

/// Marks the user's current address verified (if not already).
pub(crate) fn verified_now(user: UserId, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE users SET email_verified_at = coalesce(email_verified_at, ?) WHERE id = ?",
        vec![now.0.into(), user.0.into()],
    )
}

/// Spends every live token of the user (after a change of address or
/// password: links mailed before it must not work after it).
pub(crate) fn spend_all_tokens(user: UserId, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
        vec![now.0.into(), user.0.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_if_guards_each_statement_shape() {
        let mail = crate::mail::compose("a@example.com", "S", "C", &["p"], None);
        let s = only_if(
            crate::mail::outbox::enqueue(&mail, "id", UnixMillis(1)),
            "EXISTS (SELECT 1 FROM users WHERE id = ?)",
            vec![7i64.into()],
        );
        assert!(s.sql.starts_with("INSERT INTO mail_outbox ("), "{}", s.sql);
        assert!(
            s.sql.ends_with(
                " SELECT ?, ?, ?, ?, ?, ?, ?, 0 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)"
            ),
            "{}",
            s.sql
        );
        assert_eq!(s.params.len(), 8);
        let u = only_if(
            Statement::new("UPDATE users SET x = 1 WHERE id = ?", vec![1i64.into()]),
            "c",
            vec![],
        );
        assert_eq!(u.sql, "UPDATE users SET x = 1 WHERE id = ? AND c");
        let i = only_if(
            Statement::new("INSERT INTO t (a) SELECT ?", vec![]),
            "c",
            vec![],
        );
        assert_eq!(i.sql, "INSERT INTO t (a) SELECT ? WHERE c");
    }
}
