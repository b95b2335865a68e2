//! Passkeys and WebAuthn challenges (migration 9). A challenge is kept as
//! its SHA-256 and used once: [`Store::take_challenge`] spends it before
//! the verification, so a failed or racing second use finds nothing.
//! Credential ids and COSE keys are stored base64url (TEXT works the same
//! on every libSQL transport).

use super::{bad_row, int, opt_int, text};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, Statement};
use crate::store::sessions::SessionInsert;
use crate::store::Store;
use crate::user::UserId;

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChallengePurpose {
    Register,
    Login,
    /// The second step of a sign-in (`mfa/passkey/options/`).
    Mfa,
}

impl ChallengePurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::Mfa => "mfa",
        }
    }
}

/// A challenge as issued.
pub(crate) struct ChallengeInsert<'a> {
    pub(crate) id: &'a str,
    pub(crate) sha256_hex: &'a str,
    pub(crate) purpose: ChallengePurpose,
    pub(crate) user: Option<UserId>,
    pub(crate) client_id: &'a str,
    pub(crate) now: UnixMillis,
    pub(crate) expires_at: UnixMillis,
}

/// A challenge just spent.
pub(crate) struct TakenChallenge {
    pub(crate) sha256_hex: String,
    pub(crate) expires_at: UnixMillis,
}

/// A stored passkey.
#[derive(Debug, Clone)]
pub(crate) struct PasskeyRow {
    pub(crate) id: String,
    pub(crate) user_id: UserId,
    pub(crate) credential_id: String,
    pub(crate) public_key: String,
    pub(crate) alg: i64,
    pub(crate) sign_count: i64,
    pub(crate) backup_eligible: bool,
    pub(crate) backed_up: bool,
    pub(crate) name: String,
    pub(crate) created_at: UnixMillis,
    pub(crate) last_used_at: Option<UnixMillis>,
}

const COLUMNS: &str = "id, user_id, credential_id, public_key, alg, sign_count, backup_eligible, backed_up, name, created_at, last_used_at";

fn passkey_row(r: &Row) -> Result<PasskeyRow, SqlError> {
    let bad = || bad_row("passkey");
    let get = |i: usize| r.get(i).ok_or_else(bad);
    Ok(PasskeyRow {
        id: text(get(0)?).ok_or_else(bad)?,
        user_id: UserId(int(get(1)?).ok_or_else(bad)?),
        credential_id: text(get(2)?).ok_or_else(bad)?,
        public_key: text(get(3)?).ok_or_else(bad)?,
        alg: int(get(4)?).ok_or_else(bad)?,
        sign_count: int(get(5)?).ok_or_else(bad)?,
        backup_eligible: int(get(6)?).ok_or_else(bad)? != 0,
        backed_up: int(get(7)?).ok_or_else(bad)? != 0,
        name: text(get(8)?).ok_or_else(bad)?,
        created_at: UnixMillis(int(get(9)?).ok_or_else(bad)?),
        last_used_at: opt_int(get(10)?).ok_or_else(bad)?.map(UnixMillis),
    })
}

/// A new passkey's row.
pub(crate) struct PasskeyInsert<'a> {
    pub(crate) id: &'a str,
    pub(crate) user: UserId,
    pub(crate) credential_id: &'a str,
    pub(crate) public_key: &'a str,
    pub(crate) alg: i64,
    pub(crate) sign_count: u32,
    pub(crate) backup_eligible: bool,
    pub(crate) backed_up: bool,
    pub(crate) aaguid: &'a str,
    pub(crate) name: &'a str,
    pub(crate) now: UnixMillis,
}

/// How a passkey insert went.
pub(crate) enum Inserted {
    Yes,
    /// The credential id is registered already (to anyone).
    Exists,
    /// The user has [`MAX_PASSKEYS`](crate::api::passkeys) passkeys.
    Full,
}

impl Store {
    pub(crate) async fn insert_passkey_challenge(
        &self,
        c: &ChallengeInsert<'_>,
    ) -> Result<(), SqlError> {
        // Spent and expired challenges are swept by each insert: the table
        // stays the size of the challenges live in the last few minutes.
        self.sql
            .batch(vec![
                Statement::new(
                    "DELETE FROM webauthn_challenges WHERE expires_at <= ? OR used_at IS NOT NULL",
                    vec![c.now.0.into()],
                ),
                Statement::new(
                    "INSERT INTO webauthn_challenges (id, challenge_hash, purpose, user_id, client_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        c.id.into(),
                        c.sha256_hex.into(),
                        c.purpose.as_str().into(),
                        c.user.map(|u| u.0).into(),
                        c.client_id.into(),
                        c.now.0.into(),
                        c.expires_at.0.into(),
                    ],
                ),
            ])
            .await
            .map(|_| ())
    }

    /// Spends the live challenge `id` of this purpose, client and user
    /// (None: a sign-in challenge, bound to no user), atomically.
    pub(crate) async fn take_challenge(
        &self,
        id: &str,
        purpose: ChallengePurpose,
        client_id: &str,
        user: Option<UserId>,
        now: UnixMillis,
    ) -> Result<Option<TakenChallenge>, SqlError> {
        let rows = self
            .rows(
                "UPDATE webauthn_challenges SET used_at = ? WHERE id = ? AND purpose = ? AND client_id = ? AND user_id IS ? AND used_at IS NULL AND expires_at > ? RETURNING challenge_hash, expires_at",
                vec![
                    now.0.into(),
                    id.into(),
                    purpose.as_str().into(),
                    client_id.into(),
                    user.map(|u| u.0).into(),
                    now.0.into(),
                ],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let bad = || bad_row("webauthn challenge");
        Ok(Some(TakenChallenge {
            sha256_hex: r.first().and_then(text).ok_or_else(bad)?,
            expires_at: UnixMillis(r.get(1).and_then(int).ok_or_else(bad)?),
        }))
    }

    /// Stores a passkey with its audit event, unless the credential id is
    /// taken or the user has `max` already.
    pub(crate) async fn insert_passkey(
        &self,
        p: &PasskeyInsert<'_>,
        max: i64,
        audit: &AuditEvent,
    ) -> Result<Inserted, SqlError> {
        let results = self
            .sql
            .batch(vec![
                Statement::new(
                    "INSERT INTO passkeys (id, user_id, credential_id, public_key, alg, sign_count, backup_eligible, backed_up, aaguid, name, created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM passkeys WHERE credential_id = ?) AND (SELECT count(*) FROM passkeys WHERE user_id = ?) < ?",
                    vec![
                        p.id.into(),
                        p.user.0.into(),
                        p.credential_id.into(),
                        p.public_key.into(),
                        p.alg.into(),
                        i64::from(p.sign_count).into(),
                        p.backup_eligible.into(),
                        p.backed_up.into(),
                        p.aaguid.into(),
                        p.name.into(),
                        p.now.0.into(),
                        p.credential_id.into(),
                        p.user.0.into(),
                        max.into(),
                    ],
                ),
                audit.clone().only_if_changed().statement(),
            ])
            .await?;
        if results.first().is_some_and(|r| r.rows_affected == 1) {
            return Ok(Inserted::Yes);
        }
        let taken = self
            .rows(
                "SELECT 1 FROM passkeys WHERE credential_id = ?",
                vec![p.credential_id.into()],
            )
            .await?;
        Ok(if taken.is_empty() {
            Inserted::Full
        } else {
            Inserted::Exists
        })
    }

    pub(crate) async fn passkeys_of(&self, user: UserId) -> Result<Vec<PasskeyRow>, SqlError> {
        self.rows(
            &format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id"),
            vec![user.0.into()],
        )
        .await?
        .iter()
        .map(passkey_row)
        .collect()
    }

    pub(crate) async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, SqlError> {
        let rows = self
            .rows(
                &format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = ?"),
                vec![credential_id.into()],
            )
            .await?;
        rows.first().map(passkey_row).transpose()
    }

    /// Renames the user's passkey `id`; false when it is not theirs.
    pub(crate) async fn rename_passkey(
        &self,
        user: UserId,
        id: &str,
        name: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        self.audited_change(
            Statement::new(
                "UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?",
                vec![name.into(), id.into(), user.0.into()],
            ),
            audit,
            None,
        )
        .await
    }

    /// Deletes the user's passkey `id`; false when it is not theirs.
    pub(crate) async fn delete_passkey(
        &self,
        user: UserId,
        id: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        self.audited_change(
            Statement::new(
                "DELETE FROM passkeys WHERE id = ? AND user_id = ?",
                vec![id.into(), user.0.into()],
            ),
            audit,
            None,
        )
        .await
    }

    /// A passwordless sign-in: the passkey's new counter, backup state and
    /// last use, compare-and-swapped on the counter it was verified against
    /// (of two racing assertions with one counter, one wins), and the
    /// login's writes only if the swap happened. True when signed in.
    pub(crate) async fn sign_in_with_passkey(
        &self,
        used: &PasskeyUse<'_>,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let mut stmts = vec![used.statement()];
        // Each write applies only if the one before it changed a row: the
        // chain starts at the swap.
        let changed = "changes() = 1";
        for w in super::sessions::login_writes(used.user, s, audit) {
            stmts.push(super::email_tokens::only_if(w, changed, vec![]));
        }
        let results = self.sql.batch(stmts).await?;
        Ok(results.first().is_some_and(|r| r.rows_affected == 1))
    }
}

/// A verified assertion's update of its passkey.
pub(crate) struct PasskeyUse<'a> {
    pub(crate) id: &'a str,
    pub(crate) user: UserId,
    pub(crate) verified_count: i64,
    pub(crate) new_count: u32,
    pub(crate) backed_up: bool,
    pub(crate) now: UnixMillis,
}

impl PasskeyUse<'_> {
    pub(crate) fn statement(&self) -> Statement {
        Statement::new(
            "UPDATE passkeys SET sign_count = ?, backed_up = ?, last_used_at = ? WHERE id = ? AND sign_count = ?",
            vec![
                i64::from(self.new_count).into(),
                self.backed_up.into(),
                self.now.0.into(),
                self.id.into(),
                self.verified_count.into(),
            ],
        )
    }
}
