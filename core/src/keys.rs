//! Signing-key rotation (docs/KEYS.md): keys go next → current → previous →
//! retired. The current key signs; next, current and previous verify (by
//! `kid`) and are published in the JWKS. Every host on one database sees the
//! same keys: each keeps the set in memory ([`KeyCache`]) and re-reads it at
//! least every `key_cache_secs`, and at once (at most once a second) when a
//! token names a kid it does not know.
//!
//! A configured key (`--jwt-private-key`, or an HS256 `--jwt-secret`) is
//! *pinned*: the host signs and verifies with it alone, as before, and
//! rotation refuses with a message saying so. Without one, the database
//! keeps the keys (Ed25519 by default, HS256 secrets with
//! `--jwt-algorithm hs256`) and they rotate.

use crate::audit::{event, Actor, AuditEvent};
use crate::clock::UnixMillis;
use crate::config::{Config, SigningConfig};
use crate::random::Random;
use crate::sql::SqlError;
use crate::store::keys::{NewKey, StoredKey};
use crate::store::Store;
use crate::token::{
    KeyError, KeyRing, SigningKey, TokenCodec, TokenType, VerifiedToken, ALG_EDDSA, ALG_HS256,
};
use std::sync::atomic::{AtomicI64, Ordering};

pub use crate::store::keys::KeyState;

/// Added to the longest token lifetime before a previous key retires.
pub const RETIRE_MARGIN_SECS: i64 = 300;
/// The fastest a host re-reads the keys because of an unknown kid.
pub const UNKNOWN_KID_REFRESH_MS: i64 = 1000;

/// A key as the CLI and the admin API show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    pub kid: String,
    /// `EdDSA` or `HS256`.
    pub alg: String,
    #[schema(value_type = String)]
    pub state: KeyState,
    /// RFC 3339.
    pub created_at: String,
    /// When it started signing (null: never did).
    pub activated_at: Option<String>,
    /// When a previous key stops being accepted.
    pub retire_after: Option<String>,
}

/// Why keys could not be rotated or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("this host signs with a configured key (--jwt-private-key or --jwt-secret), which Gatehouse does not rotate: rotate it in your configuration, or remove it to let the database keep and rotate the keys (docs/KEYS.md)")]
    Pinned,
    #[error("another host rotated the keys at the same time; list them and rotate again if you still want to")]
    Conflict,
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("signing key: {0}")]
    Key(String),
}

impl From<KeyError> for KeysError {
    fn from(e: KeyError) -> Self {
        KeysError::Key(e.0)
    }
}

/// What one [`maintain`] pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Maintenance {
    /// Whether this pass rotated (the schedule was due and it won the race).
    pub rotated: bool,
    /// The kids it retired.
    pub retired: Vec<String>,
}

/// The algorithm of database-kept keys, or None when the key is pinned.
pub fn managed_alg(config: &Config) -> Option<&'static str> {
    match &config.signing {
        SigningConfig::EdDsa { private_key: None } => Some(ALG_EDDSA),
        SigningConfig::Hs256 { secret: None } => Some(ALG_HS256),
        _ => None,
    }
}

/// How long a key that stopped signing stays accepted: the longest token
/// lifetime (refresh tokens are signed by the same key), plus the time a
/// host may go on signing with it before it re-reads the keys, the clock
/// skew, and a margin.
pub fn retire_delay_secs(config: &Config) -> i64 {
    config.access_ttl_secs.max(config.refresh_ttl_secs)
        + config.key_cache_secs
        + crate::token::CLOCK_SKEW_SECS as i64
        + RETIRE_MARGIN_SECS
}

/// How often [`Keys::maintain_if_due`] runs a pass on one host.
pub const MAINTAIN_EVERY_MS: i64 = 60_000;

/// When the in-memory key set was last read (and the schedule last run).
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    loaded_at: AtomicI64,
    forced_at: AtomicI64,
    maintained_at: AtomicI64,
}

impl KeyCache {
    pub(crate) fn loaded(now: UnixMillis) -> KeyCache {
        KeyCache {
            loaded_at: AtomicI64::new(now.0),
            forced_at: AtomicI64::new(i64::MIN / 2),
            maintained_at: AtomicI64::new(i64::MIN / 2),
        }
    }
}

fn new_key(alg: &str, rng: &dyn Random) -> Result<NewKey, KeyError> {
    let secret: [u8; 32] = crate::random::bytes(rng);
    let kid = SigningKey::from_stored(alg, &secret)?.kid().to_owned();
    Ok(NewKey {
        kid,
        alg: alg.to_owned(),
        secret: secret.to_vec(),
    })
}

fn info(k: &StoredKey) -> KeyInfo {
    KeyInfo {
        kid: k.kid.clone().unwrap_or_else(|| k.slot.clone()),
        alg: k.alg.clone(),
        state: k.state,
        created_at: k.created_at.to_rfc3339(),
        activated_at: k.activated_at.map(|t| t.to_rfc3339()),
        retire_after: k.retire_after.map(|t| t.to_rfc3339()),
    }
}

/// Every key (retired ones too) in life order: next, current, the previous
/// keys, the retired ones; newest first within a state.
pub async fn list(store: &Store) -> Result<Vec<KeyInfo>, SqlError> {
    let mut rows = store.signing_keys().await?;
    rows.sort_by_key(|r| (r.state, std::cmp::Reverse((r.activated_at, r.created_at))));
    Ok(rows.iter().map(info).collect())
}

/// The database's keys with a current and a next one, creating what is
/// missing (first start; race-safe: one host's key wins), and deriving the
/// kid of the seed-era 'default' key (unchanged: it is a function of the key).
async fn ensured(
    store: &Store,
    alg: &str,
    rng: &dyn Random,
    now: UnixMillis,
) -> Result<Vec<StoredKey>, KeysError> {
    let mut rows = store.signing_keys().await?;
    for row in rows
        .iter_mut()
        .filter(|r| r.kid.is_none() && r.state != KeyState::Retired)
    {
        let kid = SigningKey::from_stored(&row.alg, &row.secret)?
            .kid()
            .to_owned();
        store.set_signing_kid(&row.slot, &kid).await?;
        row.kid = Some(kid);
    }
    let has = |rows: &[StoredKey], s| rows.iter().any(|r| r.state == s);
    let mut added = false;
    for state in [KeyState::Current, KeyState::Next] {
        if !has(&rows, state) {
            store
                .add_signing_key(&new_key(alg, rng)?, state, now)
                .await?;
            added = true;
        }
    }
    if added {
        rows = store.signing_keys().await?;
    }
    Ok(rows)
}

/// The key set the database holds at `now`: current signs; next and the
/// previous keys not yet due to retire verify.
pub(crate) async fn load(
    store: &Store,
    alg: &str,
    rng: &dyn Random,
    now: UnixMillis,
) -> Result<KeyRing, KeysError> {
    let rows = ensured(store, alg, rng, now).await?;
    let mut current = None;
    let mut others = Vec::new();
    for r in &rows {
        let accepted = match r.state {
            KeyState::Current | KeyState::Next => true,
            KeyState::Previous => r.retire_after.is_none_or(|t| t > now),
            KeyState::Retired => false,
        };
        if !accepted {
            continue;
        }
        let key = SigningKey::from_stored(&r.alg, &r.secret)?;
        if r.state == KeyState::Current {
            current = Some(key);
        } else {
            others.push(key);
        }
    }
    let current = current.ok_or_else(|| KeysError::Key("no current signing key".into()))?;
    Ok(KeyRing::new(current, others))
}

/// Everything the key functions need from the service.
pub(crate) struct Keys<'a> {
    pub(crate) store: &'a Store,
    pub(crate) config: &'a Config,
    pub(crate) rng: &'a dyn Random,
    pub(crate) codec: &'a TokenCodec,
    pub(crate) cache: &'a KeyCache,
}

impl Keys<'_> {
    /// Re-reads the keys into this host's codec.
    pub(crate) async fn reload(&self, now: UnixMillis) -> Result<(), KeysError> {
        let Some(alg) = managed_alg(self.config) else {
            return Ok(());
        };
        let ring = load(self.store, alg, self.rng, now).await?;
        self.codec.set_keys(ring);
        self.cache.loaded_at.store(now.0, Ordering::Release);
        Ok(())
    }

    /// Before a request: re-reads the keys when the cache is older than
    /// `key_cache_secs`, or when `token` names a kid this host does not
    /// know (at most once a second, so junk kids cannot hammer the
    /// database). A failed read keeps the old keys. True when the keys were
    /// read again (a token that failed before may verify now).
    pub(crate) async fn refresh(&self, now: UnixMillis, token: Option<&str>) -> bool {
        if managed_alg(self.config).is_none() {
            return false;
        }
        let stale = now.0 - self.cache.loaded_at.load(Ordering::Acquire)
            >= self.config.key_cache_secs * 1000;
        let unknown = !stale
            && token
                .and_then(crate::token::kid_of)
                .is_some_and(|kid| self.codec.keys().find(&kid).is_none())
            && {
                let last = self.cache.forced_at.load(Ordering::Acquire);
                now.0 - last >= UNKNOWN_KID_REFRESH_MS
                    && self
                        .cache
                        .forced_at
                        .compare_exchange(last, now.0, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
            };
        (stale || unknown) && self.reload(now).await.is_ok()
    }

    /// `token` verified as `expected`. When it fails, the keys are re-read
    /// first if it names a kid this host does not know (another host made
    /// a new key current: [`Keys::refresh`]'s rule, at most once a second)
    /// and it is tried again; a token that verifies costs no header parse.
    pub(crate) async fn verify(
        &self,
        token: &str,
        expected: TokenType,
        now: UnixMillis,
    ) -> Option<VerifiedToken> {
        match self.codec.verify(token, expected, now) {
            Some(v) => Some(v),
            None if self.refresh(now, Some(token)).await => self.codec.verify(token, expected, now),
            None => None,
        }
    }

    /// Rotates: next → current, current → previous (accepted until
    /// `now` + [`retire_delay_secs`]), a new next; audited as `actor`.
    pub(crate) async fn rotate(&self, now: UnixMillis, actor: &Actor) -> Result<(), KeysError> {
        let alg = managed_alg(self.config).ok_or(KeysError::Pinned)?;
        let rows = ensured(self.store, alg, self.rng, now).await?;
        let slot = |s| {
            rows.iter()
                .find(|r| r.state == s)
                .ok_or_else(|| KeysError::Key(format!("no {} key", s.as_str())))
        };
        let (current, next) = (slot(KeyState::Current)?, slot(KeyState::Next)?);
        let new_next = new_key(alg, self.rng)?;
        let retire_after = now.plus_secs(retire_delay_secs(self.config));
        let audit =
            AuditEvent::new(event::SIGNING_KEY_ROTATED, actor, now).detail(serde_json::json!({
                "previous": current.kid, "current": next.kid, "next": new_next.kid,
                "retire_after": retire_after.to_rfc3339(),
            }));
        let done = self
            .store
            .rotate_signing_keys(
                &current.slot,
                &next.slot,
                &new_next,
                now,
                retire_after,
                &audit,
            )
            .await?;
        // This host signs with the new key at once; others within their bound.
        self.reload(now).await?;
        if done {
            Ok(())
        } else {
            Err(KeysError::Conflict)
        }
    }

    /// One pass of the schedule, the one function every host's periodic
    /// task calls: retires previous keys past their time, and rotates when
    /// `key_rotation_days` have passed since the current key began signing.
    /// Safe when several hosts run it at once: retiring is idempotent and
    /// only one rotation wins (the others see a conflict and do nothing).
    pub(crate) async fn maintain(&self, now: UnixMillis) -> Result<Maintenance, KeysError> {
        let Some(alg) = managed_alg(self.config) else {
            return Ok(Maintenance::default());
        };
        let system = Actor::operator();
        let mut done = Maintenance {
            retired: self.store.retire_signing_keys(now).await?,
            ..Maintenance::default()
        };
        for kid in &done.retired {
            let audit = AuditEvent::new(event::SIGNING_KEY_RETIRED, &system, now)
                .detail(serde_json::json!({ "kid": kid }));
            self.store.insert_audit(&audit).await?;
        }
        if let Some(days) = self.config.key_rotation_days {
            let rows = ensured(self.store, alg, self.rng, now).await?;
            let due = rows.iter().any(|r| {
                r.state == KeyState::Current
                    && r.activated_at
                        .unwrap_or(r.created_at)
                        .plus_secs(days * 86_400)
                        <= now
            });
            if due {
                match self.rotate(now, &system).await {
                    Ok(()) => done.rotated = true,
                    Err(KeysError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.reload(now).await?;
        Ok(done)
    }
}

impl Keys<'_> {
    /// [`Keys::maintain`] when this host has not run it for
    /// [`MAINTAIN_EVERY_MS`] (None otherwise): for a host without a timer
    /// of its own (the Worker, after its responses).
    pub(crate) async fn maintain_if_due(
        &self,
        now: UnixMillis,
    ) -> Option<Result<Maintenance, KeysError>> {
        let last = self.cache.maintained_at.load(Ordering::Acquire);
        let due = now.0 - last >= MAINTAIN_EVERY_MS
            && self
                .cache
                .maintained_at
                .compare_exchange(last, now.0, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        if due {
            Some(self.maintain(now).await)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
