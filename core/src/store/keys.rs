//! Signing keys, shared by every host on the database (docs/KEYS.md). Each
//! row is one key in one state; state changes are compare-and-swaps on the
//! state, and the partial unique index on `current`/`next` (migration 13)
//! makes a rotation that lost a race fail as a whole.
//!
//! Secrets are stored as today's 'default' key was: the raw Ed25519 seed or
//! HS256 secret in a BLOB, protected by the database's own access control
//! (no sealing); a retired key's secret is erased.

use super::{bad_row, int, opt_int, opt_text, text, Store};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, Statement, Value};

/// Where a key is in its life, ordered so: next < current < previous <
/// retired.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published in the JWKS and accepted, not yet signing.
    Next,
    /// Signing (and accepted).
    Current,
    /// Accepted and published until `retire_after`.
    Previous,
    /// Gone: refused, unpublished, its secret erased.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Retired => "retired",
        }
    }

    fn parse(s: &str) -> Option<KeyState> {
        Some(match s {
            "next" => KeyState::Next,
            "current" => KeyState::Current,
            "previous" => KeyState::Previous,
            "retired" => KeyState::Retired,
            _ => return None,
        })
    }
}

/// A stored key. `kid` is None only for the seed-era 'default' row until a
/// host has derived it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub slot: String,
    pub kid: Option<String>,
    pub alg: String,
    pub secret: Vec<u8>,
    pub state: KeyState,
    pub created_at: UnixMillis,
    pub activated_at: Option<UnixMillis>,
    pub retire_after: Option<UnixMillis>,
}

/// A key to add: its kid is also its slot.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub kid: String,
    pub alg: String,
    pub secret: Vec<u8>,
}

fn decode(row: &Row) -> Result<StoredKey, SqlError> {
    let bad = || bad_row("signing key");
    let get = |i: usize| row.get(i).ok_or_else(bad);
    Ok(StoredKey {
        slot: text(get(0)?).ok_or_else(bad)?,
        kid: opt_text(get(1)?).ok_or_else(bad)?,
        alg: text(get(2)?).ok_or_else(bad)?,
        secret: match get(3)? {
            Value::Blob(b) => b.clone(),
            _ => return Err(bad()),
        },
        state: text(get(4)?)
            .and_then(|s| KeyState::parse(&s))
            .ok_or_else(bad)?,
        created_at: UnixMillis(int(get(5)?).ok_or_else(bad)?),
        activated_at: opt_int(get(6)?).ok_or_else(bad)?.map(UnixMillis),
        retire_after: opt_int(get(7)?).ok_or_else(bad)?.map(UnixMillis),
    })
}

fn insert(key: &NewKey, state: KeyState, now: UnixMillis, or_ignore: bool) -> Statement {
    let activated: Value = if state == KeyState::Current {
        now.0.into()
    } else {
        Value::Null
    };
    Statement::new(
        format!(
            "INSERT {}INTO signing_keys (slot, kid, alg, secret, state, created_at, activated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            if or_ignore { "OR IGNORE " } else { "" }
        ),
        vec![
            key.kid.as_str().into(),
            key.kid.as_str().into(),
            key.alg.as_str().into(),
            key.secret.clone().into(),
            state.as_str().into(),
            now.0.into(),
            activated,
        ],
    )
}

impl Store {
    /// Every key, retired ones included, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, SqlError> {
        self.rows(
            "SELECT slot, kid, alg, secret, state, created_at, activated_at, retire_after FROM signing_keys ORDER BY created_at, slot",
            vec![],
        )
        .await?
        .iter()
        .map(decode)
        .collect()
    }

    /// Adds `key` in `state` unless that state is taken (only one current
    /// and one next) or the kid exists: true when it was added. Two hosts
    /// starting at once both call this; one key wins, both then read it.
    pub async fn add_signing_key(
        &self,
        key: &NewKey,
        state: KeyState,
        now: UnixMillis,
    ) -> Result<bool, SqlError> {
        let r = self.sql.run(insert(key, state, now, true)).await?;
        Ok(r.rows_affected == 1)
    }

    /// Records the kid a host derived for a row that had none.
    pub async fn set_signing_kid(&self, slot: &str, kid: &str) -> Result<(), SqlError> {
        self.sql
            .run(Statement::new(
                "UPDATE signing_keys SET kid = ? WHERE slot = ? AND kid IS NULL",
                vec![kid.into(), slot.into()],
            ))
            .await
            .map(|_| ())
    }

    /// The rotation, in one transaction: `current` → previous (accepted
    /// until `retire_after`), `next` → current, `new_next` added as next,
    /// with its audit event. Each step is conditional on the state read
    /// before; when another host rotated first, the insert of a second
    /// `next` breaks the unique index and nothing changes: false.
    pub async fn rotate_signing_keys(
        &self,
        current: &str,
        next: &str,
        new_next: &NewKey,
        now: UnixMillis,
        retire_after: UnixMillis,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let stmts = vec![
            Statement::new(
                "UPDATE signing_keys SET state = 'previous', retire_after = ? WHERE slot = ? AND state = 'current'",
                vec![retire_after.0.into(), current.into()],
            ),
            Statement::new(
                "UPDATE signing_keys SET state = 'current', activated_at = ? WHERE slot = ? AND state = 'next'",
                vec![now.0.into(), next.into()],
            ),
            insert(new_next, KeyState::Next, now, false),
            audit.statement(),
        ];
        match self.sql.batch(stmts).await {
            Ok(r) => Ok(r.first().is_some_and(|r| r.rows_affected == 1)
                && r.get(1).is_some_and(|r| r.rows_affected == 1)),
            Err(SqlError::UniqueViolation(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Retires the previous keys whose time has come (erasing their
    /// secrets); how many. Idempotent, so hosts may race on it.
    pub async fn retire_signing_keys(&self, now: UnixMillis) -> Result<Vec<String>, SqlError> {
        let due: Vec<String> = self
            .rows(
                "SELECT slot FROM signing_keys WHERE state = 'previous' AND retire_after <= ?",
                vec![now.0.into()],
            )
            .await?
            .iter()
            .filter_map(|r| r.first().and_then(text))
            .collect();
        let mut retired = Vec::new();
        for slot in due {
            let r = self
                .sql
                .run(Statement::new(
                    "UPDATE signing_keys SET state = 'retired', secret = X'' WHERE slot = ? AND state = 'previous' AND retire_after <= ?",
                    vec![slot.as_str().into(), now.0.into()],
                ))
                .await?;
            if r.rows_affected == 1 {
                retired.push(slot);
            }
        }
        Ok(retired)
    }
}
