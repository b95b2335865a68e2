//! In-memory copies of the rows every request reads: the API client of the
//! key gate, and the user of a live login behind an access token.
//!
//! They stay honest through the executor's data generation
//! ([`SqlExecutor::generation`](crate::sql::SqlExecutor::generation)): the
//! reader takes the generation before its query and tags the entry with it;
//! a lookup is a hit only while the executor's generation is still that
//! tag. Any write the executor's reads could see (this process, another
//! process on the same file, a replica's sync) moves the generation, so
//! every entry read before it stops answering at once. An executor that
//! cannot tell (`None`: the Worker, a plain remote server) gets no caching.
//!
//! Only rows that were found are kept: an answer of "absent" is never
//! cached (a replica may not have the row yet, and catches up). What the
//! SQL checked against the request's time is checked again on a hit.

use crate::api_client::ApiClient;
use crate::clock::UnixMillis;
use crate::user::User;
use std::collections::HashMap;
use std::sync::Mutex;

/// API clients kept; a deployment has a handful.
const MAX_CLIENTS: usize = 1024;
/// Live logins kept (one per signed-in device that made a request since the
/// last write).
const MAX_LOGINS: usize = 16 * 1024;

/// Both caches of a [`Store`](crate::store::Store) (shared by its clones).
pub(crate) struct Caches {
    /// Client id → its row.
    pub(crate) clients: GenerationCache<std::sync::Arc<ApiClient>>,
    /// Login id (`sid`) → its user, while the login is live.
    pub(crate) logins: GenerationCache<LiveLogin>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            clients: GenerationCache::new(MAX_CLIENTS),
            logins: GenerationCache::new(MAX_LOGINS),
        }
    }
}

/// The user of a login that was live (not revoked, not past its absolute
/// expiry) when read.
#[derive(Debug, Clone)]
pub(crate) struct LiveLogin {
    pub(crate) user: User,
    /// The login's `absolute_expires_at`: the SQL compared it with the
    /// request's time, so a hit compares it again.
    pub(crate) absolute_expires_at: UnixMillis,
}

impl LiveLogin {
    /// The user, if this entry answers for `user` at `now`.
    pub(crate) fn user_at(self, user: crate::user::UserId, now: UnixMillis) -> Option<User> {
        (self.user.id == user && self.absolute_expires_at > now).then_some(self.user)
    }
}

/// A bounded map from a text key to a value read under a generation.
pub(crate) struct GenerationCache<V> {
    /// Only ids of rows found are kept (a caller's guess is looked up,
    /// never stored): SipHash's flood resistance would buy nothing.
    entries: Mutex<HashMap<String, (u64, V), foldhash::fast::RandomState>>,
    cap: usize,
}

impl<V: Clone> GenerationCache<V> {
    pub(crate) fn new(cap: usize) -> Self {
        GenerationCache {
            entries: Mutex::new(HashMap::default()),
            cap: cap.max(1),
        }
    }

    /// The value of `key` if it was read under `generation` (the current one).
    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((g, v)) if *g == generation => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value`, read under `generation` (taken before the read). At
    /// the cap, entries of other generations go first (they can never answer
    /// again while `generation` is current), then everything.
    pub(crate) fn put(&self, key: &str, generation: u64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.cap && !entries.contains_key(key) {
            entries.retain(|_, (g, _)| *g == generation);
            if entries.len() >= self.cap {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (generation, value));
    }

    #[cfg(all(test, feature = "testing"))]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

// Needs the test kit's embedded libSQL.
#[cfg(all(test, feature = "testing"))]
mod tests;
