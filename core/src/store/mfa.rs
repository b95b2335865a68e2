//! Second factors' SQL: the TOTP factor, recovery codes, sign-in challenges.

use super::email_tokens::only_if;
use super::passkeys::PasskeyUse;
use super::sessions::{login_writes, SessionInsert};
use super::{bad_row, int, opt_int, text, Store};
use crate::api_client::ClientId;
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::mfa::{Challenge, CHALLENGE_ATTEMPTS};
use crate::session::SessionId;
use crate::sql::{Row, SqlError, Statement};
use crate::user::UserId;

/// A user's TOTP factor as stored.
#[derive(Debug, Clone)]
pub(crate) struct TotpRow {
    pub(crate) id: String,
    pub(crate) secret_sealed: String,
    pub(crate) confirmed_at: Option<UnixMillis>,
    pub(crate) last_used_step: Option<i64>,
}

/// A user's second factors, as listed (`GET /api/auth/mfa/factors/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Factors {
    /// A confirmed TOTP factor, and when it was confirmed.
    pub(crate) totp: Option<UnixMillis>,
    /// Recovery codes not yet used.
    pub(crate) recovery_codes_left: i64,
    /// Registered passkeys (each one a second factor too).
    pub(crate) passkeys: i64,
}

impl Factors {
    /// The methods the user can pass the second step with (`mfa_required`'s
    /// `methods`); empty: no second factor, the password is enough.
    pub(crate) fn methods(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        // Recovery codes stand in for TOTP; alone (or with only passkeys)
        // they are no factor.
        if self.totp.is_some() {
            m.push("totp");
            if self.recovery_codes_left > 0 {
                m.push("recovery_code");
            }
        }
        if self.passkeys > 0 {
            m.push("passkey");
        }
        m
    }

    /// The factor kinds (the admin API's `mfa`): `totp`, then `passkey`.
    pub(crate) fn kinds(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        if self.totp.is_some() {
            k.push(TOTP);
        }
        if self.passkeys > 0 {
            k.push(PASSKEY);
        }
        k
    }
}

const TOTP: &str = "totp";
const PASSKEY: &str = "passkey";

fn delete_all(user: UserId) -> [Statement; 3] {
    [
        Statement::new(
            "DELETE FROM mfa_factors WHERE user_id = ?",
            vec![user.0.into()],
        ),
        Statement::new(
            "DELETE FROM mfa_recovery_codes WHERE user_id = ?",
            vec![user.0.into()],
        ),
        Statement::new(
            "DELETE FROM mfa_challenges WHERE user_id = ?",
            vec![user.0.into()],
        ),
    ]
}

fn insert_codes(user: UserId, hashes: &[String], now: UnixMillis) -> Vec<Statement> {
    hashes
        .iter()
        .map(|h| {
            Statement::new(
                "INSERT INTO mfa_recovery_codes (code_hash, user_id, created_at) VALUES (?, ?, ?)",
                vec![h.as_str().into(), user.0.into(), now.0.into()],
            )
        })
        .collect()
}

impl Store {
    /// The user's second factors.
    pub(crate) async fn factors(&self, user: UserId) -> Result<Factors, SqlError> {
        let rows = self
            .rows(
                "SELECT (SELECT MAX(confirmed_at) FROM mfa_factors WHERE user_id = ? AND kind = 'totp' AND confirmed_at IS NOT NULL), (SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL), (SELECT COUNT(*) FROM passkeys WHERE user_id = ?)",
                vec![user.0.into(), user.0.into(), user.0.into()],
            )
            .await?;
        let r = rows.first().ok_or_else(|| bad_row("factors"))?;
        let f = || -> Option<Factors> {
            Some(Factors {
                totp: opt_int(r.first()?)?.map(UnixMillis),
                recovery_codes_left: int(r.get(1)?)?,
                passkeys: int(r.get(2)?)?,
            })
        };
        f().ok_or_else(|| bad_row("factors"))
    }

    /// The user's TOTP factor (confirmed or pending), if any.
    pub(crate) async fn totp_factor(&self, user: UserId) -> Result<Option<TotpRow>, SqlError> {
        let rows = self
            .rows(
                "SELECT id, secret_sealed, confirmed_at, last_used_step FROM mfa_factors WHERE user_id = ? AND kind = 'totp' ORDER BY confirmed_at IS NULL, created_at DESC LIMIT 1",
                vec![user.0.into()],
            )
            .await?;
        rows.first()
            .map(|r| {
                let f = || -> Option<TotpRow> {
                    Some(TotpRow {
                        id: text(r.first()?)?,
                        secret_sealed: text(r.get(1)?)?,
                        confirmed_at: opt_int(r.get(2)?)?.map(UnixMillis),
                        last_used_step: opt_int(r.get(3)?)?,
                    })
                };
                f().ok_or_else(|| bad_row("mfa factor"))
            })
            .transpose()
    }

    /// A pending TOTP factor, replacing any earlier pending one; only while
    /// the user has no confirmed one. False when they have.
    pub(crate) async fn start_totp(
        &self,
        user: UserId,
        id: &str,
        sealed: &str,
        now: UnixMillis,
    ) -> Result<bool, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Statement::new(
                    "DELETE FROM mfa_factors WHERE user_id = ? AND kind = 'totp' AND confirmed_at IS NULL",
                    vec![user.0.into()],
                ),
                Statement::new(
                    "INSERT INTO mfa_factors (id, user_id, kind, secret_sealed, created_at) SELECT ?, ?, 'totp', ?, ? WHERE NOT EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = ? AND confirmed_at IS NOT NULL)",
                    vec![
                        id.into(),
                        user.0.into(),
                        sealed.into(),
                        now.0.into(),
                        user.0.into(),
                    ],
                ),
            ])
            .await?;
        Ok(results.get(1).is_some_and(|r| r.rows_affected == 1))
    }

    /// Confirms the pending factor `id` with the code of `step`, and in the
    /// same transaction replaces the user's recovery codes by `hashes` and
    /// writes `audit`. False when it was not pending (a racing confirm won).
    pub(crate) async fn confirm_totp(
        &self,
        user: UserId,
        id: &str,
        step: i64,
        hashes: &[String],
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let ours = "EXISTS (SELECT 1 FROM mfa_factors WHERE id = ? AND confirmed_at = ? AND last_used_step = ?)";
        let mut then = vec![Statement::new(
            "DELETE FROM mfa_recovery_codes WHERE user_id = ?",
            vec![user.0.into()],
        )];
        then.extend(insert_codes(user, hashes, now));
        then.push(audit.statement());
        let mut stmts = vec![Statement::new(
            "UPDATE mfa_factors SET confirmed_at = ?, last_used_step = ? WHERE id = ? AND user_id = ? AND confirmed_at IS NULL",
            vec![now.0.into(), step.into(), id.into(), user.0.into()],
        )];
        stmts.extend(
            then.into_iter()
                .map(|s| only_if(s, ours, vec![id.into(), now.0.into(), step.into()])),
        );
        let results = self.sql.batch(stmts).await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// Records the use of the code of `step` on factor `id` if no code of
    /// that step or a later one was used (compare-and-set: of two requests
    /// with the same code, one wins). True when this one did.
    pub(crate) async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "UPDATE mfa_factors SET last_used_step = ? WHERE id = ? AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)",
                vec![step.into(), id.into(), step.into()],
            ))
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Spends the recovery code `hash` of `user`. True when this request did.
    pub(crate) async fn use_recovery_code(
        &self,
        user: UserId,
        hash: &str,
        now: UnixMillis,
    ) -> Result<bool, SqlError> {
        let r = self
            .sql
            .run(Statement::new(
                "UPDATE mfa_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
                vec![now.0.into(), user.0.into(), hash.into()],
            ))
            .await?;
        Ok(r.rows_affected == 1)
    }

    /// Replaces the user's recovery codes (the old set stops working), audited.
    pub(crate) async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        now: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<(), SqlError> {
        let mut stmts = vec![Statement::new(
            "DELETE FROM mfa_recovery_codes WHERE user_id = ?",
            vec![user.0.into()],
        )];
        stmts.extend(insert_codes(user, hashes, now));
        stmts.push(audit.statement());
        self.sql.batch(stmts).await.map(|_| ())
    }

    /// Removes the user's TOTP and recovery codes (and their pending
    /// challenges) and, with `passkeys` (an admin's reset: the device is
    /// lost), their passkeys too; with `audit` and `after` (a notice mail) in
    /// the same transaction. True when there was a factor to remove.
    pub(crate) async fn remove_factors(
        &self,
        user: UserId,
        passkeys: bool,
        audit: &AuditEvent,
        after: Option<Statement>,
    ) -> Result<bool, SqlError> {
        let (any, args) = if passkeys {
            (
                "(EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = ?) OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?))",
                vec![user.0.into(), user.0.into()],
            )
        } else {
            (
                "EXISTS (SELECT 1 FROM mfa_factors WHERE user_id = ?)",
                vec![user.0.into()],
            )
        };
        let mut stmts: Vec<Statement> = [audit.statement()]
            .into_iter()
            .chain(after)
            .map(|s| only_if(s, any, args.clone()))
            .collect();
        let first_delete = stmts.len();
        stmts.extend(delete_all(user));
        if passkeys {
            stmts.push(Statement::new(
                "DELETE FROM passkeys WHERE user_id = ?",
                vec![user.0.into()],
            ));
        }
        let results = self.sql.batch(stmts).await?;
        Ok(results[first_delete..]
            .iter()
            .enumerate()
            // The factor rows and the passkeys; not the codes or challenges.
            .any(|(i, r)| (i == 0 || i == 3) && r.rows_affected > 0))
    }

    /// The INSERT of a sign-in challenge.
    pub(crate) fn challenge_statement(
        hash: &str,
        user: UserId,
        client: &ClientId,
        amr: &str,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> Statement {
        Statement::new(
            "INSERT INTO mfa_challenges (token_hash, user_id, client_id, amr, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                hash.into(),
                user.0.into(),
                client.0.clone().into(),
                amr.into(),
                now.0.into(),
                expires_at.0.into(),
            ],
        )
    }

    pub(crate) async fn insert_mfa_challenge(&self, stmt: Statement) -> Result<(), SqlError> {
        self.sql.run(stmt).await.map(|_| ())
    }

    /// Counts one answer against challenge `hash`, atomically: the count
    /// never passes [`CHALLENGE_ATTEMPTS`] however many answers race. The
    /// challenge after the count, or None (unknown, spent, or out of attempts).
    pub(crate) async fn count_challenge_attempt(
        &self,
        hash: &str,
    ) -> Result<Option<Challenge>, SqlError> {
        self.first(
            "UPDATE mfa_challenges SET attempts = attempts + 1 WHERE token_hash = ? AND used_at IS NULL AND attempts < ? RETURNING user_id, client_id, amr, expires_at, attempts, used_at",
            vec![hash.into(), CHALLENGE_ATTEMPTS.into()],
            challenge_row,
        )
        .await
    }

    /// Spends challenge `hash` and opens the login in the same transaction
    /// (its writes apply only for the request that spent it: `mark`). True
    /// when this request did.
    pub(crate) async fn finish_challenge(
        &self,
        hash: &str,
        user: UserId,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
        mark: &str,
    ) -> Result<bool, SqlError> {
        let results = self
            .sql
            .batch(finish_statements(hash, user, s, audit, mark, None))
            .await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }

    /// [`Self::finish_challenge`] answered by a passkey: the passkey's
    /// counter compare-and-swap comes first, and the challenge is spent (and
    /// the login opened) only if it moved the counter.
    pub(crate) async fn finish_challenge_with_passkey(
        &self,
        hash: &str,
        used: &PasskeyUse<'_>,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
        mark: &str,
    ) -> Result<PasskeyFinish, SqlError> {
        let stmts = finish_statements(hash, used.user, s, audit, mark, Some(used.statement()));
        let results = self.sql.batch(stmts).await?;
        let changed = |i: usize| results.get(i).is_some_and(|r| r.rows_affected == 1);
        Ok(if !changed(0) {
            PasskeyFinish::Counter
        } else if !changed(1) {
            PasskeyFinish::Spent
        } else {
            PasskeyFinish::Done
        })
    }

    /// A challenge as it stands, without counting an attempt.
    pub(crate) async fn peek_challenge(&self, hash: &str) -> Result<Option<Challenge>, SqlError> {
        self.first(
            "SELECT user_id, client_id, amr, expires_at, attempts, used_at FROM mfa_challenges WHERE token_hash = ?",
            vec![hash.into()],
            challenge_row,
        )
        .await
    }

    /// A step-up on the live login `id`: it passed `method` (an `amr`
    /// value) at `now`; the method joins the login's methods (its next
    /// refresh carries it, and aal 2). `first` runs before, in the same
    /// transaction, and the step-up only if it changed a row (a passkey's
    /// counter compare-and-swap). True when the login was stepped up.
    pub(crate) async fn step_up_session(
        &self,
        id: &SessionId,
        method: &str,
        now: UnixMillis,
        first: Option<Statement>,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let mut update = Statement::new(
            "UPDATE sessions SET mfa_at = ?, amr = CASE WHEN instr(',' || amr || ',', ',' || ? || ',') > 0 THEN amr ELSE amr || ',' || ? END WHERE id = ? AND revoked_at IS NULL",
            vec![now.0.into(), method.into(), method.into(), id.0.clone().into()],
        );
        let mut stmts = Vec::new();
        if let Some(first) = first {
            stmts.push(first);
            update = only_if(update, "changes() = 1", vec![]);
        }
        let at = stmts.len();
        stmts.push(update);
        // Audited only when the login was stepped up.
        stmts.push(only_if(audit.statement(), "changes() = 1", vec![]));
        let results = self.sql.batch(stmts).await?;
        Ok(results.get(at).is_some_and(|r| r.rows_affected == 1))
    }

    /// The factor kinds of `users` (a confirmed TOTP, a passkey), one query
    /// for a page of the admin API.
    pub(crate) async fn factor_kinds_of(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, &'static str)>, SqlError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; users.len()].join(", ");
        let ids = users.iter().map(|u| u.0.into());
        let rows = self
            .rows(
                &format!("SELECT DISTINCT user_id, 0 FROM mfa_factors WHERE confirmed_at IS NOT NULL AND user_id IN ({marks}) UNION SELECT DISTINCT user_id, 1 FROM passkeys WHERE user_id IN ({marks})"),
                ids.clone().chain(ids).collect(),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id = r.first().and_then(int).map(UserId);
                let kind = r
                    .get(1)
                    .and_then(int)
                    .map(|k| if k == 0 { TOTP } else { PASSKEY });
                id.zip(kind).ok_or_else(|| bad_row("mfa factor"))
            })
            .collect()
    }
}

/// How a passkey answer to a sign-in challenge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasskeyFinish {
    Done,
    /// Another assertion moved the passkey's counter since it was read.
    Counter,
    /// The challenge was spent or expired meanwhile.
    Spent,
}

/// Spending the challenge and the login's writes; with `first` (a passkey's
/// counter swap) the spend applies only if `first` changed a row.
fn finish_statements(
    hash: &str,
    user: UserId,
    s: &SessionInsert<'_>,
    audit: &AuditEvent,
    mark: &str,
    first: Option<Statement>,
) -> Vec<Statement> {
    let ours = "EXISTS (SELECT 1 FROM mfa_challenges WHERE token_hash = ? AND consumed_by = ?)";
    let mut spend = Statement::new(
        "UPDATE mfa_challenges SET used_at = ?, consumed_by = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        vec![s.now.0.into(), mark.into(), hash.into(), s.now.0.into()],
    );
    let mut stmts = Vec::new();
    if let Some(first) = first {
        stmts.push(first);
        spend = only_if(spend, "changes() = 1", vec![]);
    }
    stmts.push(spend);
    stmts.extend(
        login_writes(user, s, audit)
            .into_iter()
            .map(|st| only_if(st, ours, vec![hash.into(), mark.into()])),
    );
    stmts
}

/// A `mfa_challenges` row as the two reads above select it.
fn challenge_row(r: &Row) -> Result<Challenge, SqlError> {
    let f = || -> Option<Challenge> {
        Some(Challenge {
            user_id: UserId(int(r.first()?)?),
            client_id: ClientId(text(r.get(1)?)?),
            amr: text(r.get(2)?)?,
            expires_at: UnixMillis(int(r.get(3)?)?),
            attempts: int(r.get(4)?)?,
            used_at: opt_int(r.get(5)?)?.map(UnixMillis),
        })
    };
    f().ok_or_else(|| bad_row("mfa challenge"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_list_totp_recovery_codes_and_passkeys() {
        let none = Factors::default();
        assert!(none.methods().is_empty());
        let codes_only = Factors {
            recovery_codes_left: 3,
            ..none.clone()
        };
        assert!(codes_only.methods().is_empty(), "codes alone are no factor");
        let passkey = Factors {
            passkeys: 1,
            ..none.clone()
        };
        assert_eq!(passkey.methods(), ["passkey"]);
        let all = Factors {
            totp: Some(UnixMillis(1)),
            recovery_codes_left: 10,
            passkeys: 2,
        };
        assert_eq!(all.methods(), ["totp", "recovery_code", "passkey"]);
        let spent = Factors {
            recovery_codes_left: 0,
            ..all
        };
        assert_eq!(spent.methods(), ["totp", "passkey"]);
    }
}
