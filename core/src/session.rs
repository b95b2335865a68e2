//! Logins as refresh-token families. A session row holds the one refresh
//! token (`current_jti`) that may still be spent; every older token of the
//! family is dead ("blacklisted"). [`decide`] is the pure rule; the store
//! applies a rotation with one compare-and-swap statement.

use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::user::UserId;
use serde::{Deserialize, Serialize};

/// Identifies one login (a refresh-token family).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub String);

/// A login as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: SessionId,
    pub user_id: UserId,
    pub client_id: ClientId,
    /// The `jti` of the only refresh token of this family still valid.
    pub current_jti: String,
    pub created_at: UnixMillis,
    pub last_used_at: UnixMillis,
    pub refresh_expires_at: UnixMillis,
    /// The family dies here however often it rotates.
    pub absolute_expires_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
}

/// What to do with a presented refresh token (already signature-checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The current token of a live family: issue the next one.
    Rotate,
    /// A token of the family that was already spent: someone replayed it.
    /// Revoke the whole family (RFC 9700 §4.14.2).
    Reuse,
    /// Anything else: refuse without side effects.
    Reject(RejectReason),
}

/// Why a refresh was refused without touching the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    UnknownSession,
    Revoked,
    Expired,
    WrongClient,
    WrongUser,
}

/// What [`decide`] reads of a presented refresh token: `crate::token`
/// implements it for its verified tokens (so this module needs nothing of
/// that one).
pub trait PresentedRefresh {
    fn jti(&self) -> &str;
    fn user_id(&self) -> UserId;
    fn client_id(&self) -> &ClientId;
}

/// The pure refresh rule.
pub fn decide(
    session: Option<&SessionRow>,
    presented: &impl PresentedRefresh,
    presenting_client: &ClientId,
    now: UnixMillis,
) -> RefreshDecision {
    use RefreshDecision::*;
    let Some(s) = session else {
        return Reject(RejectReason::UnknownSession);
    };
    // RFC 6749 §6: a refresh token works only for the client it was issued to.
    if presented.client_id() != presenting_client || &s.client_id != presenting_client {
        return Reject(RejectReason::WrongClient);
    }
    if s.user_id != presented.user_id() {
        return Reject(RejectReason::WrongUser);
    }
    if s.revoked_at.is_some() {
        return Reject(RejectReason::Revoked);
    }
    if now >= s.absolute_expires_at {
        return Reject(RejectReason::Expired);
    }
    if presented.jti() == s.current_jti {
        Rotate
    } else {
        Reuse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);

    fn row() -> SessionRow {
        SessionRow {
            id: SessionId("s".into()),
            user_id: UserId(1),
            client_id: ClientId("cl_a".into()),
            current_jti: "j2".into(),
            created_at: T0,
            last_used_at: T0,
            refresh_expires_at: T0.plus_secs(7 * 86400),
            absolute_expires_at: T0.plus_secs(30 * 86400),
            revoked_at: None,
        }
    }

    /// A presented refresh token of the family "s".
    struct Token {
        jti: String,
        user_id: UserId,
        client_id: ClientId,
    }

    impl PresentedRefresh for Token {
        fn jti(&self) -> &str {
            &self.jti
        }
        fn user_id(&self) -> UserId {
            self.user_id
        }
        fn client_id(&self) -> &ClientId {
            &self.client_id
        }
    }

    fn token(jti: &str, client: &str, user: i64) -> Token {
        Token {
            jti: jti.into(),
            user_id: UserId(user),
            client_id: ClientId(client.into()),
        }
    }

    fn client(c: &str) -> ClientId {
        ClientId(c.into())
    }

    #[test]
    fn current_token_rotates() {
        assert_eq!(
            decide(Some(&row()), &token("j2", "cl_a", 1), &client("cl_a"), T0),
            RefreshDecision::Rotate
        );
    }

    #[test]
    fn spent_token_is_reuse() {
        assert_eq!(
            decide(Some(&row()), &token("j1", "cl_a", 1), &client("cl_a"), T0),
            RefreshDecision::Reuse
        );
    }

    #[test]
    fn other_clients_users_unknown_revoked_and_expired_families_are_rejected() {
        use RejectReason::*;
        let t = token("j2", "cl_a", 1);
        assert_eq!(
            decide(None, &t, &client("cl_a"), T0),
            RefreshDecision::Reject(UnknownSession)
        );
        assert_eq!(
            decide(Some(&row()), &t, &client("cl_b"), T0),
            RefreshDecision::Reject(WrongClient)
        );
        assert_eq!(
            decide(Some(&row()), &token("j2", "cl_b", 1), &client("cl_b"), T0),
            RefreshDecision::Reject(WrongClient)
        );
        assert_eq!(
            decide(Some(&row()), &token("j2", "cl_a", 2), &client("cl_a"), T0),
            RefreshDecision::Reject(WrongUser)
        );
        let revoked = SessionRow {
            revoked_at: Some(T0),
            ..row()
        };
        assert_eq!(
            decide(Some(&revoked), &t, &client("cl_a"), T0),
            RefreshDecision::Reject(Revoked)
        );
        // A replay of a revoked family changes nothing further.
        assert_eq!(
            decide(Some(&revoked), &token("j1", "cl_a", 1), &client("cl_a"), T0),
            RefreshDecision::Reject(Revoked)
        );
        let late = T0.plus_secs(30 * 86400);
        assert_eq!(
            decide(Some(&row()), &t, &client("cl_a"), late),
            RefreshDecision::Reject(Expired)
        );
    }
}
