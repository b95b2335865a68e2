//! The SQL of webhook endpoints and their delivery log (migration 12).

use crate::clock::UnixMillis;
use crate::sql::{Row, SqlError, SqlExecutor, Statement, Value};
use crate::store::{bad_row, int, opt_int, opt_text, text, Store};

/// An endpoint as the admin API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    /// `*` or a comma list of event types.
    pub event_types: String,
    pub active: bool,
    pub created_at: UnixMillis,
    pub secret_rotated_at: Option<UnixMillis>,
    /// Since when every attempt failed (None: the last one succeeded).
    pub failing_since: Option<UnixMillis>,
    /// Set by the sender: failing for over 24 h, or refused by the policy.
    pub disabled_at: Option<UnixMillis>,
    pub disabled_reason: Option<String>,
}

const COLUMNS: &str = "id, url, description, event_types, active, created_at, secret_rotated_at, failing_since, disabled_at, disabled_reason";

fn endpoint(r: &Row) -> Result<Endpoint, SqlError> {
    let f = || -> Option<Endpoint> {
        Some(Endpoint {
            id: text(r.first()?)?,
            url: text(r.get(1)?)?,
            description: text(r.get(2)?)?,
            event_types: text(r.get(3)?)?,
            active: int(r.get(4)?)? != 0,
            created_at: UnixMillis(int(r.get(5)?)?),
            secret_rotated_at: opt_int(r.get(6)?)?.map(UnixMillis),
            failing_since: opt_int(r.get(7)?)?.map(UnixMillis),
            disabled_at: opt_int(r.get(8)?)?.map(UnixMillis),
            disabled_reason: opt_text(r.get(9)?)?,
        })
    };
    f().ok_or_else(|| bad_row("webhook_endpoints"))
}

/// One message to one endpoint, with its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The `webhook-id`.
    pub id: String,
    pub event_type: String,
    pub created_at: UnixMillis,
    pub attempts: i64,
    pub delivered_at: Option<UnixMillis>,
    pub dead_at: Option<UnixMillis>,
    pub next_attempt_at: UnixMillis,
    pub last_error: Option<String>,
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub message_id: String,
    pub event_type: String,
    pub attempt: i64,
    pub at: UnixMillis,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    /// `delivered`, `retrying` or `dead`.
    pub outcome: String,
}

/// A new endpoint's INSERT.
pub(crate) fn insert(e: &Endpoint, secret_sealed: &str) -> Statement {
    Statement::new(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, secret_sealed, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        vec![
            e.id.as_str().into(),
            e.url.as_str().into(),
            e.description.as_str().into(),
            e.event_types.as_str().into(),
            secret_sealed.into(),
            i64::from(e.active).into(),
            e.created_at.0.into(),
        ],
    )
}

/// The operator's fields of `e`. Turning an endpoint on again clears the
/// sender's flag (the operator looked at it).
pub(crate) fn update(e: &Endpoint) -> Statement {
    Statement::new(
        "UPDATE webhook_endpoints SET url = ?, description = ?, event_types = ?, active = ?, \
         disabled_at = CASE WHEN ? = 1 THEN NULL ELSE disabled_at END, \
         disabled_reason = CASE WHEN ? = 1 THEN NULL ELSE disabled_reason END, \
         failing_since = CASE WHEN ? = 1 THEN NULL ELSE failing_since END WHERE id = ?",
        vec![
            e.url.as_str().into(),
            e.description.as_str().into(),
            e.event_types.as_str().into(),
            i64::from(e.active).into(),
            i64::from(e.active).into(),
            i64::from(e.active).into(),
            i64::from(e.active).into(),
            e.id.as_str().into(),
        ],
    )
}

/// The statements that remove an endpoint, its queued messages and its log.
pub(crate) fn delete(id: &str) -> Vec<Statement> {
    vec![
        Statement::new(
            "DELETE FROM webhook_endpoints WHERE id = ?",
            vec![id.into()],
        ),
        Statement::new(
            "DELETE FROM mail_outbox WHERE kind = 'webhook' AND endpoint_id = ?",
            vec![id.into()],
        ),
        Statement::new(
            "DELETE FROM webhook_deliveries WHERE endpoint_id = ?",
            vec![id.into()],
        ),
    ]
}

/// A new sealed secret.
pub(crate) fn set_secret(id: &str, sealed: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE webhook_endpoints SET secret_sealed = ?, secret_rotated_at = ? WHERE id = ?",
        vec![sealed.into(), now.0.into(), id.into()],
    )
}

/// "Send again": the message due at once, with a fresh 24 h of retries and
/// the same `webhook-id` (a receiver that has it already can drop it).
pub(crate) fn resend(endpoint_id: &str, message_id: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE mail_outbox SET sent_at = NULL, dead_at = NULL, last_error = NULL, attempts = 0, \
         created_at = ?, next_attempt_at = ?, claim = NULL, claimed_until = NULL \
         WHERE kind = 'webhook' AND endpoint_id = ? AND id = ?",
        vec![
            now.0.into(),
            now.0.into(),
            endpoint_id.into(),
            message_id.into(),
        ],
    )
}

impl Store {
    pub(crate) async fn webhook_endpoints(&self) -> Result<Vec<Endpoint>, SqlError> {
        self.rows(
            &format!("SELECT {COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"),
            vec![],
        )
        .await?
        .iter()
        .map(endpoint)
        .collect()
    }

    pub(crate) async fn webhook_endpoint(&self, id: &str) -> Result<Option<Endpoint>, SqlError> {
        self.first(
            &format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ?"),
            vec![id.into()],
            endpoint,
        )
        .await
    }

    /// The endpoint's newest messages (at most `limit`).
    pub(crate) async fn webhook_messages(
        &self,
        endpoint_id: &str,
        limit: i64,
    ) -> Result<Vec<Message>, SqlError> {
        self.all(
            "SELECT id, event_type, created_at, attempts, sent_at, dead_at, next_attempt_at, last_error \
             FROM mail_outbox WHERE kind = 'webhook' AND endpoint_id = ? ORDER BY created_at DESC, id LIMIT ?",
            vec![endpoint_id.into(), limit.into()],
            "mail_outbox",
            |r| {
                Some(Message {
                    id: text(r.first()?)?,
                    event_type: text(r.get(1)?)?,
                    created_at: UnixMillis(int(r.get(2)?)?),
                    attempts: int(r.get(3)?)?,
                    delivered_at: opt_int(r.get(4)?)?.map(UnixMillis),
                    dead_at: opt_int(r.get(5)?)?.map(UnixMillis),
                    next_attempt_at: UnixMillis(int(r.get(6)?)?),
                    last_error: opt_text(r.get(7)?)?,
                })
            },
        )
        .await
    }

    /// The endpoint's newest attempts (at most `limit`).
    pub(crate) async fn webhook_attempts(
        &self,
        endpoint_id: &str,
        limit: i64,
    ) -> Result<Vec<Attempt>, SqlError> {
        self.all(
            "SELECT message_id, event_type, attempt, at, status, latency_ms, response_excerpt, error, outcome \
             FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?",
            vec![endpoint_id.into(), limit.into()],
            "webhook_deliveries",
            |r| {
                Some(Attempt {
                    message_id: text(r.first()?)?,
                    event_type: text(r.get(1)?)?,
                    attempt: int(r.get(2)?)?,
                    at: UnixMillis(int(r.get(3)?)?),
                    status: opt_int(r.get(4)?)?,
                    latency_ms: int(r.get(5)?)?,
                    response_excerpt: opt_text(r.get(6)?)?,
                    error: opt_text(r.get(7)?)?,
                    outcome: text(r.get(8)?)?,
                })
            },
        )
        .await
    }
}

/// The sealed secret of each endpoint in `ids` with its URL.
pub(crate) async fn targets(
    sql: &dyn SqlExecutor,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, SqlError> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let marks = vec!["?"; ids.len()].join(", ");
    let params: Vec<Value> = ids.iter().map(|i| i.as_str().into()).collect();
    sql.run(Statement::new(
        format!("SELECT id, url, secret_sealed FROM webhook_endpoints WHERE id IN ({marks})"),
        params,
    ))
    .await?
    .rows
    .iter()
    .map(|r| {
        let f = || Some((text(r.first()?)?, text(r.get(1)?)?, text(r.get(2)?)?));
        f().ok_or_else(|| bad_row("webhook_endpoints"))
    })
    .collect()
}
