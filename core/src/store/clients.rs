//! API clients: lookups, the CORS origin check, insert, activate and key rotation.

use super::{bad_row, int, opt_text, text, Store};
use crate::api_client::{ApiClient, ClientId, EmailOptions};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, Statement};
use crate::user::UserType;
use std::sync::Arc;

pub(crate) const CLIENT_COLUMNS: &str =
    "id, name, client_type, key_hash, rate_limit, rate_period_secs, is_active, serves, allowed_origins, created_at, require_verified_email, signin_codes, reset_url, require_mfa_for_staff, signin_url";

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
            email: EmailOptions {
                require_verified_email: int(r.get(10)?)? != 0,
                signin_codes: int(r.get(11)?)? != 0,
                reset_url: opt_text(r.get(12)?)?,
                signin_url: opt_text(r.get(14)?)?,
            },
            require_mfa_for_staff: int(r.get(13)?)? != 0,
        })
    };
    f().ok_or_else(|| bad_row("api client"))
}

impl Store {
    /// The client `id`. Every request with an API key asks: answered from
    /// the cache while the executor's generation has not moved
    /// (`crate::cache`); the key is still compared by the caller.
    pub async fn client(&self, id: &str) -> Result<Option<ApiClient>, SqlError> {
        // Before the query: a write during it leaves a stale tag.
        let found = self.client_as_of(id, self.generation().await).await?;
        Ok(found.map(Arc::unwrap_or_clone))
    }

    /// [`Store::client`] under a `generation` the caller read before this
    /// call (once per request, for every cached read of the request);
    /// shared with the cache, so a hit copies nothing.
    pub(crate) async fn client_as_of(
        &self,
        id: &str,
        generation: Option<u64>,
    ) -> Result<Option<Arc<ApiClient>>, SqlError> {
        if let Some(hit) = generation.and_then(|g| self.cache.clients.get(id, g)) {
            return Ok(Some(hit));
        }
        // The text is built once.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!("SELECT {CLIENT_COLUMNS} FROM api_clients WHERE id = ?")
        });
        let found = self.first(&SQL, vec![id.into()], client_from_row).await?;
        let found = found.map(Arc::new);
        if let (Some(g), Some(client)) = (generation, &found) {
            self.cache.clients.put(id, g, client.clone());
        }
        Ok(found)
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
            .batch(vec![client_insert_statement(c), audit.statement()])
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
        let change = Statement::new(
            "UPDATE api_clients SET is_active = ? WHERE id = ?",
            vec![active.into(), id.0.clone().into()],
        );
        let after = (!active).then(|| end_sessions_of_inactive_client(id, now));
        self.audited_change(change, audit, after).await
    }

    /// Replaces a client's key hash and records it. False when no such client.
    pub async fn set_client_key(
        &self,
        id: &ClientId,
        key_hash: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let change = Statement::new(
            "UPDATE api_clients SET key_hash = ? WHERE id = ?",
            vec![key_hash.into(), id.0.clone().into()],
        );
        self.audited_change(change, audit, None).await
    }
}

/// Ends every live login the client `id` issued, if the client is inactive
/// (in a batch after the change that deactivates it: a no-op when that
/// change did not happen).
pub(crate) fn end_sessions_of_inactive_client(id: &ClientId, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE sessions SET revoked_at = ?, revoked_reason = 'client_deactivated' WHERE client_id = ? AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM api_clients WHERE id = ? AND is_active = 0)",
        vec![now.0.into(), id.0.clone().into(), id.0.clone().into()],
    )
}

/// The row of a new client (also the Django import's, which keeps the seed's
/// ids and key hashes).
pub(crate) fn client_insert_statement(c: &ApiClient) -> Statement {
    Statement::new(
        format!("INSERT INTO api_clients ({CLIENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        vec![
            c.id.0.clone().into(),
            c.name.clone().into(),
            c.client_type.clone().into(),
            c.key_hash.clone().into(),
            i64::from(c.rate_limit).into(),
            i64::from(c.rate_period_secs).into(),
            c.is_active.into(),
            c.serves
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
                .into(),
            c.allowed_origins.join("\n").into(),
            c.created_at.0.into(),
            c.email.require_verified_email.into(),
            c.email.signin_codes.into(),
            c.email.reset_url.clone().into(),
            c.require_mfa_for_staff.into(),
            c.email.signin_url.clone().into(),
        ],
    )
}
