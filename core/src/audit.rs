//! The audit log: an append-only record of security events. An event is a
//! statement that the store puts into the same batch (transaction) as the
//! change it records, so a change and its record commit together or not at
//! all. The event names and fields are listed in `docs/AUDIT.md`.

use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::session::SessionId;
use crate::sql::{Statement, Value};
use crate::user::UserId;

/// Event names (`event` column). Filters match them exactly or by prefix.
pub mod event {
    pub const LOGIN_SUCCEEDED: &str = "login.succeeded";
    pub const LOGIN_FAILED: &str = "login.failed";
    pub const USER_REGISTERED: &str = "user.registered";
    pub const REPLAY_DETECTED: &str = "token.replay_detected";
    pub const LEGACY_EXCHANGED: &str = "token.legacy_exchanged";
    pub const REFRESH_REISSUED: &str = "token.refresh_reissued";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    pub const PASSWORD_CHANGE_FAILED: &str = "password.change_failed";
    pub const PASSWORD_REHASHED: &str = "password.rehashed";
    pub const LOGOUT: &str = "logout";
    pub const SESSION_ENDED: &str = "session.ended";
    pub const LOGOUT_ALL: &str = "logout_all";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DEACTIVATED: &str = "user.deactivated";
    pub const USER_REACTIVATED: &str = "user.reactivated";
    pub const USER_SESSIONS_REVOKED: &str = "user.sessions_revoked";
    pub const CLIENT_CREATED: &str = "client.created";
    pub const CLIENT_UPDATED: &str = "client.updated";
    pub const CLIENT_KEY_ROTATED: &str = "client.key_rotated";
    pub const CLIENT_DEACTIVATED: &str = "client.deactivated";
    pub const CLIENT_ACTIVATED: &str = "client.activated";
    pub const EMAIL_VERIFICATION_SENT: &str = "email.verification_sent";
    pub const EMAIL_VERIFIED: &str = "email.verified";
    pub const PASSWORD_RESET_REQUESTED: &str = "password.reset_requested";
    pub const PASSWORD_RESET: &str = "password.reset";
    pub const EMAIL_CHANGE_REQUESTED: &str = "email.change_requested";
    pub const EMAIL_CHANGED: &str = "email.changed";
    pub const SIGNIN_CODE_REQUESTED: &str = "signin_code.requested";
    pub const SIGNIN_CODE_FAILED: &str = "signin_code.failed";
    pub const MAIL_TEST_QUEUED: &str = "mail.test_queued";
    pub const MFA_ENROLLED: &str = "mfa.enrolled";
    pub const MFA_REMOVED: &str = "mfa.removed";
    pub const MFA_RESET: &str = "mfa.reset";
    pub const MFA_RECOVERY_CODE_USED: &str = "mfa.recovery_code_used";
    pub const MFA_RECOVERY_CODES_REGENERATED: &str = "mfa.recovery_codes_regenerated";
    pub const MFA_FAILED: &str = "mfa.failed";
    pub const MFA_STEPPED_UP: &str = "mfa.stepped_up";
    pub const SIGNING_KEY_ROTATED: &str = "signing_key.rotated";
    pub const SIGNING_KEY_RETIRED: &str = "signing_key.retired";
    pub const WEBHOOK_CREATED: &str = "webhook.created";
    pub const WEBHOOK_UPDATED: &str = "webhook.updated";
    pub const WEBHOOK_DELETED: &str = "webhook.deleted";
    pub const WEBHOOK_SECRET_ROTATED: &str = "webhook.secret_rotated";
    /// Also the test ping's event type (`webhook_event_map`).
    pub const WEBHOOK_TEST: &str = "webhook.test";
    pub const WEBHOOK_RESENT: &str = "webhook.resent";
}

/// A user column of an event, as a value or as what the batch just wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum UserRef {
    #[default]
    None,
    Id(UserId),
    /// The owner of this session (e.g. the user a registration just inserted).
    OwnerOf(SessionId),
    /// The row id of the batch's previous INSERT (a user just created).
    LastInsert,
}

impl UserRef {
    fn sql(&self, params: &mut Vec<Value>) -> &'static str {
        match self {
            UserRef::None => "NULL",
            UserRef::Id(id) => {
                params.push(id.0.into());
                "?"
            }
            UserRef::OwnerOf(sid) => {
                params.push(sid.0.clone().into());
                "(SELECT user_id FROM sessions WHERE id = ?)"
            }
            UserRef::LastInsert => "last_insert_rowid()",
        }
    }
}

/// Who did it: the user (if authenticated), through which client, from where.
/// `Actor::operator()` is the CLI or an embedder calling the core directly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Actor {
    pub user: Option<UserId>,
    pub client: Option<ClientId>,
    pub ip: Option<String>,
}

impl Actor {
    /// An operator action outside HTTP (the CLI): no user, client or IP.
    pub fn operator() -> Self {
        Actor::default()
    }
}

/// One audit record, ready to become a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub at: UnixMillis,
    pub event: &'static str,
    pub actor_user: UserRef,
    pub actor_client: Option<ClientId>,
    pub ip: Option<String>,
    pub target_user: UserRef,
    pub target_client: Option<ClientId>,
    pub detail: serde_json::Value,
    /// Write only if the batch's previous statement changed a row (e.g. a
    /// compare-and-swap UPDATE that may lose): `... WHERE changes() > 0`.
    pub only_if_changed: bool,
    /// A detail key set to the number of rows the batch's previous
    /// statement changed (e.g. how many logins a revocation ended).
    pub changes_as: Option<&'static str>,
}

impl AuditEvent {
    /// An event by `actor` at `at`, with no target and an empty detail.
    pub fn new(event: &'static str, actor: &Actor, at: UnixMillis) -> Self {
        AuditEvent {
            at,
            event,
            actor_user: actor.user.map_or(UserRef::None, UserRef::Id),
            actor_client: actor.client.clone(),
            ip: actor.ip.clone(),
            target_user: UserRef::None,
            target_client: None,
            detail: serde_json::Value::Object(Default::default()),
            only_if_changed: false,
            changes_as: None,
        }
    }

    pub fn target_user(mut self, u: UserRef) -> Self {
        self.target_user = u;
        self
    }

    pub fn target_client(mut self, c: &ClientId) -> Self {
        self.target_client = Some(c.clone());
        self
    }

    pub fn actor_user(mut self, u: UserRef) -> Self {
        self.actor_user = u;
        self
    }

    pub fn detail(mut self, d: serde_json::Value) -> Self {
        self.detail = d;
        self
    }

    pub fn only_if_changed(mut self) -> Self {
        self.only_if_changed = true;
        self
    }

    /// Records the previous statement's row count under `key` in the detail.
    pub fn changes_as(mut self, key: &'static str) -> Self {
        self.changes_as = Some(key);
        self
    }

    /// The INSERT of this event.
    pub fn statement(&self) -> Statement {
        let mut params: Vec<Value> = vec![self.at.0.into(), self.event.into()];
        let actor = self.actor_user.sql(&mut params);
        params.push(self.actor_client.as_ref().map(|c| c.0.clone()).into());
        params.push(self.ip.clone().into());
        let target = self.target_user.sql(&mut params);
        params.push(self.target_client.as_ref().map(|c| c.0.clone()).into());
        params.push(self.detail.to_string().into());
        // The key is a static identifier of ours, never input.
        let detail = match self.changes_as {
            Some(key) => format!("json_set(?, '$.{key}', changes())"),
            None => "?".to_owned(),
        };
        let filter = if self.only_if_changed {
            " WHERE changes() > 0"
        } else {
            ""
        };
        Statement::new(
            format!(
                "INSERT INTO audit_events (at, event, actor_user_id, actor_client_id, ip, target_user_id, target_client_id, detail) SELECT ?, ?, {actor}, ?, ?, {target}, ?, {detail}{filter}"
            ),
            params,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_binds_in_column_order() {
        let actor = Actor {
            user: Some(UserId(3)),
            client: Some(ClientId("cl_x".into())),
            ip: Some("192.0.2.1".into()),
        };
        let e = AuditEvent::new(event::USER_UPDATED, &actor, UnixMillis(5))
            .target_user(UserRef::OwnerOf(SessionId("s1".into())))
            .detail(serde_json::json!({"a": 1}))
            .only_if_changed();
        let s = e.statement();
        assert!(s.sql.contains("SELECT ?, ?, ?, ?, ?, (SELECT user_id FROM sessions WHERE id = ?), ?, ? WHERE changes() > 0"));
        assert_eq!(
            s.params,
            vec![
                Value::Integer(5),
                Value::Text("user.updated".into()),
                Value::Integer(3),
                Value::Text("cl_x".into()),
                Value::Text("192.0.2.1".into()),
                Value::Text("s1".into()),
                Value::Null,
                Value::Text("{\"a\":1}".into()),
            ]
        );
    }
}
