//! Delivering the outbox: the one sender both hosts run; only the last step,
//! handing one message to a mail system, is the host's ([`MailTransport`]).
//!
//! One pass ([`deliver`]) claims due rows with a lease in one `UPDATE …
//! RETURNING` (atomic in SQLite: two hosts or two ticks never claim the same
//! row while its lease runs), sends each, and then marks it sent or schedules
//! its retry ([`after_failure`]: exponential backoff with jitter, capped;
//! dead after [`GIVE_UP_AFTER_MS`] or on a permanent refusal).
//!
//! **Guarantee: at least once.** A host that crashes after its transport
//! accepted a mail but before the row says so leaves the row claimed; when
//! the lease ends, the mail is sent again — with the same `Message-ID`
//! (`<outbox id@from domain>`), the idempotency key a receiving system or a
//! reader can deduplicate on. A mail is never lost between the change that
//! queued it and its delivery: it was committed with that change.
//!
//! A transport sends [`super::mime::render`]'s text: the same bytes on
//! every host.

use super::Mail;
use crate::async_trait_decl;
use crate::clock::UnixMillis;
use crate::random::{self, Random};
use crate::sql::{SqlError, SqlExecutor, Statement, Value};

/// How long a claim holds a row. A transport must give up on one message
/// well before this (the native SMTP transport: 30 s).
pub const LEASE_MS: i64 = 90_000;
/// Rows claimed by one pass.
pub const BATCH: i64 = 25;
/// The first retry comes after about this long (half to all of it) unless
/// configured (`GATEHOUSE_MAIL_RETRY_SECS`).
pub const FIRST_RETRY_MS: i64 = 30_000;
/// The longest wait between two attempts.
pub const MAX_RETRY_MS: i64 = 3_600_000;
/// A mail still undelivered this long after it was queued is dead.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;

/// One message as a transport gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox row id.
    pub id: String,
    /// `<id@domain>`, the same on every attempt.
    pub message_id: String,
    /// The configured sender (`Name <addr>` or a bare address).
    pub from: String,
    pub mail: Mail,
    /// 1 on the first attempt.
    pub attempt: u32,
    /// When the row was queued (the `Date` header).
    pub queued_at: UnixMillis,
}

impl Outgoing {
    /// The bare sender address (the envelope's `MAIL FROM`).
    pub fn from_address(&self) -> &str {
        address_of(&self.from)
    }
}

/// Why a transport did not send a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later (server unreachable, 4xx reply, timeout).
    Retryable(String),
    /// Never worth retrying (5xx reply, an address the server refuses).
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            SendError::Retryable(m) | SendError::Permanent(m) => m,
        }
    }
}

async_trait_decl! {
/// A host's way to hand one message to a mail system: SMTP natively, the
/// `send_email` binding on the Worker, the log in development.
pub trait MailTransport: crate::MaybeSendSync {
    /// Sends `msg`. `Ok` means the mail system accepted it.
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError>;
}
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Rows claimed (due and not held by another pass).
    pub claimed: usize,
    pub sent: usize,
    /// Failed this time, retried later.
    pub retrying: usize,
    /// Failed for good (permanent refusal, or past [`GIVE_UP_AFTER_MS`]).
    pub dead: usize,
    /// `(outbox id, error)` of each failed attempt, for the host's log.
    pub errors: Vec<(String, String)>,
}

impl DeliveryReport {
    /// Whether the pass claimed a full batch, so more may be due.
    pub fn full(&self) -> bool {
        self.claimed as i64 >= BATCH
    }
}

/// What becomes of a row whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAt(UnixMillis),
    Dead,
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones:
/// `first_ms · 2^(attempts-1)`, capped at [`MAX_RETRY_MS`], of which a
/// random half to all ("equal jitter": retries of many mails spread out,
/// and none comes sooner than half the schedule).
pub fn backoff_ms(attempts: u32, first_ms: i64, rng: &dyn Random) -> i64 {
    let exp = attempts.saturating_sub(1).min(20);
    let base = first_ms.max(1).saturating_mul(1 << exp).min(MAX_RETRY_MS);
    let half = base / 2;
    let r = u64::from_le_bytes(random::bytes::<8>(rng));
    half + (r % (half as u64 + 1)) as i64
}

/// The fate of a row after a failed attempt (`attempts` so far, this one
/// included): dead on a permanent error or once [`GIVE_UP_AFTER_MS`] have
/// passed since it was queued, else a retry after [`backoff_ms`] (never
/// later than the give-up time, so the last try comes at 24 h).
pub fn after_failure(
    err: &SendError,
    attempts: u32,
    first_ms: i64,
    queued_at: UnixMillis,
    now: UnixMillis,
    rng: &dyn Random,
) -> Next {
    let give_up = queued_at.0.saturating_add(GIVE_UP_AFTER_MS);
    if matches!(err, SendError::Permanent(_)) || now.0 >= give_up {
        return Next::Dead;
    }
    let at = now
        .0
        .saturating_add(backoff_ms(attempts, first_ms, rng))
        .min(give_up);
    Next::RetryAt(UnixMillis(at))
}

/// The address in `Name <addr>` or a bare `addr`.
pub fn address_of(from: &str) -> &str {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim(),
        _ => from.trim(),
    }
}

/// `<id@domain>` with the sender's domain (`gatehouse.invalid` without one).
pub fn message_id(id: &str, from: &str) -> String {
    let domain = address_of(from)
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("gatehouse.invalid");
    format!("<{id}@{domain}>")
}

/// One delivery pass at `now`: claim up to [`BATCH`] due rows, send each
/// through `transport` as `from`, record the outcome (retries after
/// [`backoff_ms`] from `first_retry_ms`). A storage failure ends the pass
/// (claimed rows come back when their lease ends).
pub async fn deliver(
    sql: &dyn SqlExecutor,
    transport: &dyn MailTransport,
    from: &str,
    first_retry_ms: i64,
    rng: &dyn Random,
    now: UnixMillis,
) -> Result<DeliveryReport, SqlError> {
    let claim = super::outbox::new_id(rng);
    let rows = sql.run(claim_due(&claim, now)).await?.rows;
    let mut report = DeliveryReport {
        claimed: rows.len(),
        ..Default::default()
    };
    for row in rows {
        let Some(msg) = outgoing(row, from) else {
            continue;
        };
        match transport.send(&msg).await {
            Ok(()) => {
                sql.run(mark_sent(&msg.id, now)).await?;
                report.sent += 1;
            }
            Err(err) => {
                let next =
                    after_failure(&err, msg.attempt, first_retry_ms, msg.queued_at, now, rng);
                sql.run(mark_failed(&msg.id, &claim, &err, next, now))
                    .await?;
                report
                    .errors
                    .push((msg.id.clone(), err.message().to_owned()));
                match next {
                    Next::Dead => report.dead += 1,
                    Next::RetryAt(_) => report.retrying += 1,
                }
            }
        }
    }
    Ok(report)
}

/// Claims due rows (not sent, not dead, due, no live lease) with `claim`
/// for [`LEASE_MS`], counting the attempt; returns them.
fn claim_due(claim: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE mail_outbox SET claim = ?, claimed_until = ?, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM mail_outbox \
           WHERE kind = 'mail' AND sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ? \
             AND (claimed_until IS NULL OR claimed_until <= ?) \
           ORDER BY next_attempt_at LIMIT ?) \
         RETURNING id, to_addr, subject, text_body, html_body, created_at, attempts",
        claim_params(claim, now),
    )
}

/// The parameters of a claim of due outbox rows (mail's or webhooks'):
/// the claim and its lease's end, `now` twice (due, lease over), the batch.
pub(crate) fn claim_params(claim: &str, now: UnixMillis) -> Vec<Value> {
    vec![
        claim.into(),
        now.0.saturating_add(LEASE_MS).into(),
        now.0.into(),
        now.0.into(),
        BATCH.into(),
    ]
}

/// Sent, whoever holds the claim now: the mail left, so no one should send
/// it again.
pub(crate) fn mark_sent(id: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE mail_outbox SET sent_at = ?, claim = NULL, claimed_until = NULL, last_error = NULL \
         WHERE id = ? AND sent_at IS NULL",
        vec![now.0.into(), id.into()],
    )
}

/// A failed attempt, recorded only while this pass still holds the claim
/// (after a lease ran out, the row is another pass's).
pub(crate) fn mark_failed(
    id: &str,
    claim: &str,
    err: &SendError,
    next: Next,
    now: UnixMillis,
) -> Statement {
    let error: String = err.message().chars().take(500).collect();
    let (next_at, dead_at) = match next {
        Next::RetryAt(at) => (Value::Integer(at.0), Value::Null),
        Next::Dead => (Value::Integer(now.0), Value::Integer(now.0)),
    };
    Statement::new(
        "UPDATE mail_outbox SET next_attempt_at = ?, dead_at = ?, last_error = ?, \
         claim = NULL, claimed_until = NULL WHERE id = ? AND claim = ?",
        vec![next_at, dead_at, error.into(), id.into(), claim.into()],
    )
}

fn outgoing(row: Vec<Value>, from: &str) -> Option<Outgoing> {
    let text = |v: &Value| match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    };
    let int = |v: &Value| match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    };
    let id = text(row.first()?)?;
    Some(Outgoing {
        message_id: message_id(&id, from),
        from: from.to_owned(),
        mail: Mail {
            to: text(row.get(1)?)?,
            subject: text(row.get(2)?)?,
            text: text(row.get(3)?)?,
            html: text(row.get(4)?)?,
        },
        queued_at: UnixMillis(int(row.get(5)?)?),
        attempt: u32::try_from(int(row.get(6)?)?).unwrap_or(u32::MAX),
        id,
    })
}

#[cfg(test)]
mod tests;
