//! Logins as refresh-token families. A session row holds the one refresh
//! token (`current_jti`) that may still be spent; every older token of the
//! family is dead ("blacklisted"), but for a short grace after a rotation
//! its immediate parent (`previous_jti`) gets the current token again, so
//! racing or retried refreshes end on one chain. [`decide`] is the pure
//! rule; the store applies a rotation with one compare-and-swap statement.

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
    /// The `jti` the last rotation replaced (the current token's parent);
    /// `None` before the first rotation.
    pub previous_jti: Option<String>,
    /// When the last rotation happened: the current refresh token's `iat`.
    pub rotated_at: Option<UnixMillis>,
    /// How the login was authenticated, comma-separated (`mfa::amr`):
    /// its refreshes keep it, and so its assurance level.
    pub amr: String,
}

/// What to do with a presented refresh token (already signature-checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshDecision {
    /// The current token of a live family: issue the next one.
    Rotate,
    /// The current token's parent, inside the reuse grace after the
    /// rotation that spent it (a racing or retried refresh): answer with the
    /// current refresh token again and a fresh access token; the family
    /// does not fork.
    Reissue,
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

/// The pure refresh rule. `reuse_grace_ms`: how long after a rotation its
/// parent token still gets the current one (the window is
/// `(rotated_at - grace, rotated_at + grace)`: a request may have read its
/// clock before the rotation it raced; 0 turns the grace off). Any older
/// token, or the parent outside the window, is a replay.
pub fn decide(
    session: Option<&SessionRow>,
    presented: &impl PresentedRefresh,
    presenting_client: &ClientId,
    now: UnixMillis,
    reuse_grace_ms: i64,
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
        return Rotate;
    }
    match (&s.previous_jti, s.rotated_at) {
        // A request that read its clock before the rotation (`now < at`; or
        // another host's clock is a little behind) raced it: inside too, as
        // far before as the grace reaches after. A grace of 0 is off.
        (Some(parent), Some(at))
            if presented.jti() == parent
                && now.0.abs_diff(at.0) < reuse_grace_ms.unsigned_abs() =>
        {
            // The answer would be the current token: no use once it expired.
            if now >= s.refresh_expires_at {
                Reject(RejectReason::Expired)
            } else {
                Reissue
            }
        }
        _ => Reuse,
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
            // j1 was rotated to j2 at T0; j0 before it.
            previous_jti: Some("j1".into()),
            rotated_at: Some(T0),
            amr: "pwd".into(),
        }
    }

    const GRACE: i64 = 30_000;

    /// `decide` for a token of user 1 presented by client `cl_a`.
    fn at(s: &SessionRow, jti: &str, now: UnixMillis) -> RefreshDecision {
        decide(Some(s), &token(jti, "cl_a", 1), &client("cl_a"), now, GRACE)
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
            decide(
                Some(&row()),
                &token("j2", "cl_a", 1),
                &client("cl_a"),
                T0,
                GRACE
            ),
            RefreshDecision::Rotate
        );
    }

    #[test]
    fn the_parent_inside_the_grace_gets_the_current_token_again() {
        let s = row();
        assert_eq!(at(&s, "j1", T0), RefreshDecision::Reissue);
        assert_eq!(
            at(&s, "j1", UnixMillis(T0.0 + GRACE - 1)),
            RefreshDecision::Reissue
        );
        // A host whose clock is behind the one that rotated: still inside,
        // as far back as the grace reaches forward.
        assert_eq!(
            at(&s, "j1", UnixMillis(T0.0 - 500)),
            RefreshDecision::Reissue
        );
        assert_eq!(
            at(&s, "j1", UnixMillis(T0.0 - GRACE + 1)),
            RefreshDecision::Reissue
        );
        assert_eq!(
            at(&s, "j1", UnixMillis(T0.0 - GRACE)),
            RefreshDecision::Reuse
        );
    }

    #[test]
    fn the_parent_at_and_after_the_edge_of_the_window_is_a_replay() {
        let s = row();
        assert_eq!(
            at(&s, "j1", UnixMillis(T0.0 + GRACE)),
            RefreshDecision::Reuse
        );
        assert_eq!(at(&s, "j1", T0.plus_secs(3600)), RefreshDecision::Reuse);
    }

    #[test]
    fn a_grace_of_zero_turns_reissue_off() {
        let t = token("j1", "cl_a", 1);
        // Even for a request whose clock read came before the rotation.
        for now in [T0, UnixMillis(T0.0 - 1)] {
            assert_eq!(
                decide(Some(&row()), &t, &client("cl_a"), now, 0),
                RefreshDecision::Reuse
            );
        }
    }

    #[test]
    fn older_tokens_are_a_replay_at_any_time() {
        let s = row();
        for now in [T0, UnixMillis(T0.0 + 1), T0.plus_secs(3600)] {
            assert_eq!(at(&s, "j0", now), RefreshDecision::Reuse, "grandparent");
            assert_eq!(at(&s, "jx", now), RefreshDecision::Reuse, "unknown jti");
        }
        // Before any rotation there is no parent: only the current token works.
        let fresh = SessionRow {
            previous_jti: None,
            rotated_at: None,
            ..row()
        };
        assert_eq!(at(&fresh, "j1", T0), RefreshDecision::Reuse);
        assert_eq!(at(&fresh, "j2", T0), RefreshDecision::Rotate);
    }

    #[test]
    fn the_parent_of_an_ended_login_is_refused_without_a_reissue() {
        // Logged out or revoked (a replay, an admin) inside the window.
        let revoked = SessionRow {
            revoked_at: Some(T0),
            ..row()
        };
        assert_eq!(
            at(&revoked, "j1", UnixMillis(T0.0 + 1)),
            RefreshDecision::Reject(RejectReason::Revoked)
        );
        // The current token expired, or the login reached its age: nothing
        // to hand out again.
        let expired = SessionRow {
            refresh_expires_at: UnixMillis(T0.0 + 10),
            ..row()
        };
        let ended = SessionRow {
            absolute_expires_at: UnixMillis(T0.0 + 10),
            ..row()
        };
        for s in [&expired, &ended] {
            assert_eq!(
                at(s, "j1", UnixMillis(T0.0 + 10)),
                RefreshDecision::Reject(RejectReason::Expired)
            );
        }
    }

    /// `decide` at `T0` on `s` for each (jti, token's client, token's user,
    /// presenting client) that must be refused with `want`.
    fn refused(s: &SessionRow, cases: &[(&str, &str, i64, &str, RejectReason)]) {
        for (jti, of, user, by, want) in cases {
            assert_eq!(
                decide(Some(s), &token(jti, of, *user), &client(by), T0, GRACE),
                RefreshDecision::Reject(*want),
                "{jti} of {of}/{user} by {by}"
            );
        }
    }

    #[test]
    fn the_parent_from_another_client_or_user_is_refused_inside_the_window() {
        use RejectReason::*;
        refused(
            &row(),
            &[
                ("j1", "cl_a", 1, "cl_b", WrongClient),
                ("j1", "cl_b", 1, "cl_b", WrongClient),
                ("j1", "cl_a", 2, "cl_a", WrongUser),
            ],
        );
    }

    #[test]
    fn other_clients_users_unknown_revoked_and_expired_families_are_rejected() {
        use RejectReason::*;
        let t = token("j2", "cl_a", 1);
        assert_eq!(
            decide(None, &t, &client("cl_a"), T0, GRACE),
            RefreshDecision::Reject(UnknownSession)
        );
        refused(
            &row(),
            &[
                ("j2", "cl_a", 1, "cl_b", WrongClient),
                ("j2", "cl_b", 1, "cl_b", WrongClient),
                ("j2", "cl_a", 2, "cl_a", WrongUser),
            ],
        );
        let revoked = SessionRow {
            revoked_at: Some(T0),
            ..row()
        };
        assert_eq!(
            decide(Some(&revoked), &t, &client("cl_a"), T0, GRACE),
            RefreshDecision::Reject(Revoked)
        );
        // A replay of a revoked family changes nothing further.
        assert_eq!(
            decide(
                Some(&revoked),
                &token("j1", "cl_a", 1),
                &client("cl_a"),
                T0,
                GRACE
            ),
            RefreshDecision::Reject(Revoked)
        );
        let late = T0.plus_secs(30 * 86400);
        assert_eq!(
            decide(Some(&row()), &t, &client("cl_a"), late, GRACE),
            RefreshDecision::Reject(Expired)
        );
    }
}
