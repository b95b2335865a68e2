//! Delivering webhook messages: the mail sender's outbox, lease and retry
//! schedule (`mail/sender.rs`: [`after_failure`], exponential backoff with
//! jitter, dead after 24 h), with the host's [`HttpClient`] as transport.
//!
//! **At least once**, with a stable `webhook-id` (the outbox row id) across
//! retries: a host that dies after the receiver answered but before the
//! row says so sends it again when the lease ends; receivers deduplicate on
//! the id. `2xx` is delivered; any other answer, a timeout or a network
//! failure is retried; an address the outbound policy refuses is dead at
//! once and disables the endpoint (flagged for the operator), as does
//! failing for longer than [`DISABLE_AFTER_MS`].

use super::Secret;
use crate::clock::{Clock, UnixMillis};
use crate::mail::sender::{
    after_failure, claim_params, mark_failed, mark_sent, DeliveryReport, Next, SendError,
};
use crate::mfa::DataKey;
use crate::outbound::{HttpClient, OutboundError, OutboundRequest};
use crate::random::Random;
use crate::sql::{SqlError, SqlExecutor, Statement, Value};
use crate::store::{int, text};
use bytes::Bytes;
use std::collections::HashMap;

/// A receiver gets this long to answer.
pub const TIMEOUT_MS: u64 = 10_000;
/// The most of a response read (its first KiB is kept in the log).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// The response excerpt kept per attempt.
pub const EXCERPT_BYTES: usize = 1024;
/// An endpoint failing this long is disabled.
pub const DISABLE_AFTER_MS: i64 = 24 * 3_600_000;

/// Whether an endpoint that just failed should be disabled: it has failed
/// since `failing_since` (this failure's time if it had not), or the
/// policy refused its address.
pub fn should_disable(failing_since: Option<UnixMillis>, now: UnixMillis, refused: bool) -> bool {
    refused || failing_since.is_some_and(|t| now.0.saturating_sub(t.0) >= DISABLE_AFTER_MS)
}

/// One claimed message.
struct Claimed {
    id: String,
    endpoint_id: String,
    event_type: String,
    payload: String,
    queued_at: UnixMillis,
    attempt: u32,
}

/// One delivery pass: claims up to [`BATCH`](crate::mail::sender::BATCH)
/// due webhook rows of active endpoints (a lease of
/// [`LEASE_MS`](crate::mail::sender::LEASE_MS)), signs and POSTs each,
/// records the attempt in the log and the outcome in the outbox and on the endpoint.
/// The clock is read per attempt (the log's latency and time).
pub async fn deliver(
    sql: &dyn SqlExecutor,
    http: &dyn HttpClient,
    data_key: Option<&DataKey>,
    first_retry_ms: i64,
    rng: &dyn Random,
    clock: &dyn Clock,
) -> Result<DeliveryReport, SqlError> {
    let claim = crate::mail::outbox::new_id(rng);
    let rows = sql.run(claim_due(&claim, clock.now())).await?.rows;
    let claimed: Vec<Claimed> = rows.iter().filter_map(|r| claimed(r)).collect();
    let mut report = DeliveryReport {
        claimed: rows.len(),
        ..Default::default()
    };
    let mut ids: Vec<String> = claimed.iter().map(|c| c.endpoint_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let targets: HashMap<String, (String, String)> = super::store::targets(sql, &ids)
        .await?
        .into_iter()
        .map(|(id, url, sealed)| (id, (url, sealed)))
        .collect();
    for msg in claimed {
        let started = clock.now();
        let target = targets.get(&msg.endpoint_id);
        let secret = match (target, data_key) {
            (None, _) => Err(SendError::Permanent("the endpoint is gone".into())),
            (Some(_), None) => Err(SendError::Retryable(
                "no data key is configured: the secret cannot be opened".into(),
            )),
            (Some((_, sealed)), Some(k)) => Secret::open(k, &msg.endpoint_id, sealed)
                .and_then(|s| s.key())
                .ok_or_else(|| {
                    SendError::Permanent("the secret does not open under this data key".into())
                }),
        };
        let (result, status, excerpt, refused) = match (secret, target) {
            (Ok(key), Some((url, _))) => {
                let req = request(url, &key, &msg, started);
                match http.send(req).await {
                    Ok(resp) => {
                        let excerpt = excerpt(&resp.body);
                        let r = if (200..300).contains(&resp.status) {
                            Ok(())
                        } else {
                            Err(SendError::Retryable(format!("HTTP {}", resp.status)))
                        };
                        (r, Some(i64::from(resp.status)), Some(excerpt), false)
                    }
                    Err(e @ OutboundError::Refused { .. }) => {
                        (Err(SendError::Permanent(e.to_string())), None, None, true)
                    }
                    Err(e) => (Err(SendError::Retryable(e.to_string())), None, None, false),
                }
            }
            (Err(e), _) => (Err(e), None, None, false),
            (Ok(_), None) => unreachable!("a key only opens for a known endpoint"),
        };
        let now = clock.now();
        let latency = now.0.saturating_sub(started.0).max(0);
        let mut stmts = Vec::new();
        let outcome = match &result {
            Ok(()) => {
                stmts.push(mark_sent(&msg.id, now));
                stmts.push(Statement::new(
                    "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?",
                    vec![msg.endpoint_id.as_str().into()],
                ));
                report.sent += 1;
                "delivered"
            }
            Err(err) => {
                let next = after_failure(err, msg.attempt, first_retry_ms, msg.queued_at, now, rng);
                stmts.push(mark_failed(&msg.id, &claim, err, next, now));
                stmts.extend(flag_failing(&msg.endpoint_id, now, refused, err));
                report
                    .errors
                    .push((msg.id.clone(), err.message().to_owned()));
                match next {
                    Next::Dead => {
                        report.dead += 1;
                        "dead"
                    }
                    Next::RetryAt(_) => {
                        report.retrying += 1;
                        "retrying"
                    }
                }
            }
        };
        stmts.push(Statement::new(
            "INSERT INTO webhook_deliveries (message_id, endpoint_id, event_type, attempt, at, status, latency_ms, response_excerpt, error, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                msg.id.as_str().into(),
                msg.endpoint_id.as_str().into(),
                msg.event_type.as_str().into(),
                i64::from(msg.attempt).into(),
                now.0.into(),
                status.into(),
                latency.into(),
                excerpt.into(),
                result
                    .as_ref()
                    .err()
                    .map(|e| e.message().chars().take(500).collect::<String>())
                    .into(),
                outcome.into(),
            ],
        ));
        sql.batch(stmts).await?;
    }
    Ok(report)
}

/// The signed POST of one message at `at`.
fn request(url: &str, key: &[u8], msg: &Claimed, at: UnixMillis) -> OutboundRequest {
    let ts = at.0.div_euclid(1000);
    let signature = super::sign(key, &msg.id, ts, msg.payload.as_bytes());
    OutboundRequest {
        method: http::Method::POST,
        url: url.to_owned(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "Gatehouse-Webhooks/1".into()),
            ("webhook-id".into(), msg.id.clone()),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body: Bytes::from(msg.payload.clone()),
        timeout_ms: TIMEOUT_MS,
        max_response_bytes: MAX_RESPONSE_BYTES,
    }
}

/// The first [`EXCERPT_BYTES`] of a body, as text (cut at a character).
fn excerpt(body: &[u8]) -> String {
    let mut end = body.len().min(EXCERPT_BYTES);
    while end > 0 && std::str::from_utf8(&body[..end]).is_err() {
        end -= 1;
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// The endpoint after a failure: failing since its first failure, and
/// disabled when [`should_disable`] says so (the same rule, in SQL, so two
/// senders agree).
fn flag_failing(
    endpoint_id: &str,
    now: UnixMillis,
    refused: bool,
    err: &SendError,
) -> Vec<Statement> {
    let reason = if refused {
        format!(
            "the outbound policy refused the address ({})",
            err.message()
        )
    } else {
        "every delivery failed for 24 hours".to_owned()
    };
    vec![
        Statement::new(
            "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ?",
            vec![now.0.into(), endpoint_id.into()],
        ),
        Statement::new(
            "UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? \
             WHERE id = ? AND disabled_at IS NULL AND (? = 1 OR failing_since <= ?)",
            vec![
                now.0.into(),
                reason.into(),
                endpoint_id.into(),
                i64::from(refused).into(),
                now.0.saturating_sub(DISABLE_AFTER_MS).into(),
            ],
        ),
    ]
}

/// Claims due webhook rows of active, enabled endpoints for
/// [`LEASE_MS`](crate::mail::sender::LEASE_MS), counting the attempt;
/// returns them.
fn claim_due(claim: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "UPDATE mail_outbox SET claim = ?, claimed_until = ?, attempts = attempts + 1 \
         WHERE id IN (SELECT o.id FROM mail_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id \
           WHERE o.kind = 'webhook' AND o.sent_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= ? \
             AND (o.claimed_until IS NULL OR o.claimed_until <= ?) \
             AND e.active = 1 AND e.disabled_at IS NULL \
           ORDER BY o.next_attempt_at LIMIT ?) \
         RETURNING id, endpoint_id, event_type, payload, created_at, attempts",
        claim_params(claim, now),
    )
}

fn claimed(r: &[Value]) -> Option<Claimed> {
    Some(Claimed {
        id: text(r.first()?)?,
        endpoint_id: text(r.get(1)?)?,
        event_type: text(r.get(2)?)?,
        payload: text(r.get(3)?)?,
        queued_at: UnixMillis(int(r.get(4)?)?),
        attempt: u32::try_from(int(r.get(5)?)?).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests;
