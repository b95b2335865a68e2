//! The seed's refresh tokens (`legacy_refresh_tokens`, filled by the Django
//! import): each is exchanged for a Gatehouse login at most once.

use super::{Guard, Store};
use crate::audit::AuditEvent;
use crate::clock::UnixMillis;
use crate::sql::{SqlError, Statement};
use crate::store::sessions::SessionInsert;
use crate::user::UserId;

/// A verified seed refresh token to exchange.
pub(crate) struct LegacyExchange<'a> {
    pub(crate) jti: &'a str,
    pub(crate) user: UserId,
    pub(crate) expires_at: UnixMillis,
    pub(crate) now: UnixMillis,
}

impl Store {
    /// In one transaction: records the seed token if the import did not
    /// (simplejwt's outstanding table can miss one; the seed itself accepts
    /// such a token), marks it exchanged only if it is unexchanged, not
    /// blacklisted, unexpired and the user's (the compare-and-swap: of
    /// several racers one wins), and only then opens the new login `s` and
    /// writes `audit`. True for the winner.
    pub(crate) async fn exchange_legacy_refresh(
        &self,
        t: &LegacyExchange<'_>,
        s: &SessionInsert<'_>,
        audit: &AuditEvent,
    ) -> Result<bool, SqlError> {
        let record = Statement::new(
            "INSERT INTO legacy_refresh_tokens (jti, user_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO NOTHING",
            vec![t.jti.into(), t.user.0.into(), t.expires_at.0.into()],
        );
        let swap = Statement::new(
            "UPDATE legacy_refresh_tokens SET exchanged_at = ? WHERE jti = ? AND user_id = ? AND exchanged_at IS NULL AND blacklisted_at IS NULL AND expires_at > ?",
            vec![t.now.0.into(), t.jti.into(), t.user.0.into(), t.now.0.into()],
        );
        // `changes()` is the swap's count here, then the login insert's.
        let open = Guard {
            sql: "changes() = 1",
            params: vec![],
        }
        .where_(s.statement(Some(t.user)));
        let results = self
            .sql
            .batch(vec![
                record,
                swap,
                open,
                audit.clone().only_if_changed().statement(),
            ])
            .await?;
        Ok(results.get(1).is_some_and(|r| r.rows_affected == 1))
    }
}
