//! Social sign-in's SQL: providers (with their cached discovery and key
//! set), started sign-ins, Gatehouse codes, linked identities.

use super::{bad_row, int, opt_int, opt_text, text, Store};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::social::{Discovery, Kind, Provider};
use crate::sql::{Row, SqlError, Statement, Value};
use crate::user::UserId;

const PROVIDER_COLUMNS: &str = "id, kind, preset, issuer, client_id, client_secret_sealed, scopes, clients, discovery, discovery_fetched_at, jwks, jwks_fetched_at, created_at";

fn provider_from_row(r: &Row) -> Result<Provider, SqlError> {
    let f = || -> Option<Provider> {
        Some(Provider {
            id: text(r.first()?)?,
            kind: Kind::parse(&text(r.get(1)?)?)?,
            preset: opt_text(r.get(2)?)?,
            issuer: text(r.get(3)?)?,
            client_id: text(r.get(4)?)?,
            client_secret_sealed: text(r.get(5)?)?,
            scopes: text(r.get(6)?)?,
            clients: serde_json::from_str(&text(r.get(7)?)?).ok()?,
            discovery: opt_text(r.get(8)?)?.and_then(|d| serde_json::from_str(&d).ok()),
            discovery_fetched_at: opt_int(r.get(9)?)?.map(UnixMillis),
            jwks: opt_text(r.get(10)?)?,
            jwks_fetched_at: opt_int(r.get(11)?)?.map(UnixMillis),
            created_at: UnixMillis(int(r.get(12)?)?),
        })
    };
    f().ok_or_else(|| bad_row("social provider"))
}

/// A started sign-in, unexpired and not yet called back.
#[derive(Debug, Clone)]
pub(crate) struct StateRow {
    pub(crate) provider_id: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) frontend_state: Option<String>,
    pub(crate) nonce: String,
    pub(crate) link_user: Option<UserId>,
}

fn state_from_row(r: &Row) -> Result<StateRow, SqlError> {
    let f = || -> Option<StateRow> {
        Some(StateRow {
            provider_id: text(r.first()?)?,
            client_id: text(r.get(1)?)?,
            redirect_uri: text(r.get(2)?)?,
            code_challenge: text(r.get(3)?)?,
            frontend_state: opt_text(r.get(4)?)?,
            nonce: text(r.get(5)?)?,
            link_user: opt_int(r.get(6)?)?.map(UserId),
        })
    };
    f().ok_or_else(|| bad_row("social state"))
}

/// A linked identity, for the profile.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IdentityOut {
    pub provider: String,
    pub email: Option<String>,
    /// Unix millis.
    pub created_at: i64,
}

impl Store {
    pub(crate) async fn social_provider(&self, id: &str) -> Result<Option<Provider>, SqlError> {
        self.first(
            &format!("SELECT {PROVIDER_COLUMNS} FROM social_providers WHERE id = ?"),
            vec![id.into()],
            provider_from_row,
        )
        .await
    }

    pub(crate) async fn social_providers(&self) -> Result<Vec<Provider>, SqlError> {
        self.rows(
            &format!("SELECT {PROVIDER_COLUMNS} FROM social_providers ORDER BY id"),
            vec![],
        )
        .await?
        .iter()
        .map(provider_from_row)
        .collect()
    }

    /// Inserts a provider and its audit event; a taken id is a
    /// [`SqlError::UniqueViolation`].
    pub(crate) async fn insert_social_provider(
        &self,
        p: &Provider,
        audit: &AuditEvent,
    ) -> Result<(), SqlError> {
        let clients = serde_json::to_string(&p.clients).unwrap_or_else(|_| "[]".into());
        self.sql
            .batch(vec![
                Statement::new(
                    "INSERT INTO social_providers (id, kind, preset, issuer, client_id, client_secret_sealed, scopes, clients, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        p.id.as_str().into(),
                        p.kind.as_str().into(),
                        p.preset.clone().map_or(Value::Null, Value::from),
                        p.issuer.as_str().into(),
                        p.client_id.as_str().into(),
                        p.client_secret_sealed.as_str().into(),
                        p.scopes.as_str().into(),
                        clients.into(),
                        p.created_at.0.into(),
                    ],
                ),
                audit.statement(),
            ])
            .await?;
        Ok(())
    }

    /// Deletes a provider (its identities stay, unusable, until it comes
    /// back under the same id), audited. False: there was none.
    pub(crate) async fn delete_social_provider(
        &self,
        id: &str,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        self.audited_change(
            Statement::new("DELETE FROM social_providers WHERE id = ?", vec![id.into()]),
            audit,
            None,
        )
        .await
    }

    pub(crate) async fn cache_discovery(
        &self,
        id: &str,
        d: &Discovery,
        now: UnixMillis,
    ) -> Result<(), SqlError> {
        let text = serde_json::to_string(d).unwrap_or_default();
        self.cache_provider_document("discovery", id, text, now)
            .await
    }

    pub(crate) async fn cache_jwks(
        &self,
        id: &str,
        jwks: &str,
        now: UnixMillis,
    ) -> Result<(), SqlError> {
        self.cache_provider_document("jwks", id, jwks.to_owned(), now)
            .await
    }

    /// Keeps a provider's fetched document `column` (`discovery` or `jwks`)
    /// with the time it was fetched (`<column>_fetched_at`).
    async fn cache_provider_document(
        &self,
        column: &'static str,
        id: &str,
        text: String,
        now: UnixMillis,
    ) -> Result<(), SqlError> {
        self.sql
            .run(Statement::new(
                format!(
                    "UPDATE social_providers SET {column} = ?, {column}_fetched_at = ? WHERE id = ?"
                ),
                vec![text.into(), now.0.into(), id.into()],
            ))
            .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_social_state(
        &self,
        state_hash: &str,
        provider_id: &str,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        frontend_state: Option<&str>,
        nonce: &str,
        link_user: Option<UserId>,
        now: UnixMillis,
    ) -> Result<(), SqlError> {
        self.sql
            .batch(vec![
                // Expired states go with the new one, and codes older than
                // any live state (a code's row only guards its state).
                Statement::new(
                    "DELETE FROM social_states WHERE expires_at < ?",
                    vec![now.0.into()],
                ),
                Statement::new(
                    "DELETE FROM social_codes WHERE created_at < ?",
                    vec![now.plus_secs(-crate::social::STATE_TTL_SECS).0.into()],
                ),
                Statement::new(
                    "INSERT INTO social_states (state_hash, provider_id, client_id, redirect_uri, code_challenge, frontend_state, nonce, link_user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![
                        state_hash.into(),
                        provider_id.into(),
                        client_id.into(),
                        redirect_uri.into(),
                        code_challenge.into(),
                        frontend_state.map_or(Value::Null, Value::from),
                        nonce.into(),
                        link_user.map_or(Value::Null, |u| u.0.into()),
                        now.0.into(),
                        now.plus_secs(crate::social::STATE_TTL_SECS).0.into(),
                    ],
                ),
            ])
            .await?;
        Ok(())
    }

    /// The started sign-in, if unexpired and not called back yet.
    pub(crate) async fn social_state(
        &self,
        state_hash: &str,
        now: UnixMillis,
    ) -> Result<Option<StateRow>, SqlError> {
        self.first(
            "SELECT provider_id, client_id, redirect_uri, code_challenge, frontend_state, nonce, link_user_id FROM social_states WHERE state_hash = ? AND expires_at > ? AND NOT EXISTS (SELECT 1 FROM social_codes WHERE state_hash = social_states.state_hash)",
            vec![state_hash.into(), now.0.into()],
            state_from_row,
        )
        .await
    }

    /// The user an identity is linked to.
    pub(crate) async fn identity_user(
        &self,
        provider_id: &str,
        subject: &str,
    ) -> Result<Option<UserId>, SqlError> {
        self.first(
            "SELECT user_id FROM user_identities WHERE provider_id = ? AND subject = ?",
            vec![provider_id.into(), subject.into()],
            |r| {
                r.first()
                    .and_then(int)
                    .map(UserId)
                    .ok_or_else(|| bad_row("identity"))
            },
        )
        .await
    }

    /// The callback's writes, one transaction: `before` (a new user, a
    /// link), the code (whose UNIQUE `state_hash` makes a second callback
    /// with the same state fail and roll back everything), the audit events.
    pub(crate) async fn finish_social_callback(
        &self,
        before: Vec<Statement>,
        code: Statement,
        audits: Vec<Statement>,
    ) -> Result<(), SqlError> {
        let mut stmts = before;
        stmts.push(code);
        stmts.extend(audits);
        self.sql.batch(stmts).await?;
        Ok(())
    }

    /// Spends a Gatehouse code of `client`: `(user, code_challenge)` if it
    /// was unspent and unexpired (compare-and-set: of two racers one wins).
    pub(crate) async fn spend_social_code(
        &self,
        code_hash: &str,
        client_id: &str,
        now: UnixMillis,
    ) -> Result<Option<(UserId, String)>, SqlError> {
        let rows = self
            .rows(
                "UPDATE social_codes SET used_at = ? WHERE code_hash = ? AND client_id = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id, code_challenge",
                vec![now.0.into(), code_hash.into(), client_id.into(), now.0.into()],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| Some((UserId(int(r.first()?)?), text(r.get(1)?)?))))
    }

    pub(crate) async fn identities_of(&self, user: UserId) -> Result<Vec<IdentityOut>, SqlError> {
        self.all(
            "SELECT provider_id, email, created_at FROM user_identities WHERE user_id = ? ORDER BY created_at, provider_id",
            vec![user.0.into()],
            "identity",
            |r| {
                Some(IdentityOut {
                    provider: text(r.first()?)?,
                    email: opt_text(r.get(1)?)?,
                    created_at: int(r.get(2)?)?,
                })
            },
        )
        .await
    }

    /// How many ways besides identities the user has to sign in: a usable
    /// password (not Django's unusable `!…`, not empty) and passkeys.
    pub(crate) async fn other_sign_in_ways(&self, user: UserId) -> Result<i64, SqlError> {
        let n = self.first(
            "SELECT (SELECT count(*) FROM users WHERE id = ? AND password_hash <> '' AND substr(password_hash, 1, 1) <> '!') + (SELECT count(*) FROM passkeys WHERE user_id = ?)",
            vec![user.0.into(), user.0.into()],
            |r| r.first().and_then(int).ok_or_else(|| bad_row("count")),
        )
        .await?;
        Ok(n.unwrap_or(0))
    }

    /// Unlinks one identity unless it is the user's last way to sign in
    /// (checked in the statement itself), audited. False: not unlinked.
    pub(crate) async fn unlink_identity(
        &self,
        user: UserId,
        provider_id: &str,
        others: i64,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        self.audited_change(
            Statement::new(
                "DELETE FROM user_identities WHERE user_id = ? AND provider_id = ? AND (? > 0 OR (SELECT count(*) FROM user_identities WHERE user_id = ?) > 1)",
                vec![user.0.into(), provider_id.into(), others.into(), user.0.into()],
            ),
            audit,
            None,
        )
        .await
    }
}
