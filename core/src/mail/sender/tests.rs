//! The sender with a fake clock and a fake transport.

use super::*;
use crate::mail::{compose, outbox};
use crate::random::SeededRandom;
use crate::sql::Value;
use crate::testing::{TestEnv, T0};
use std::sync::Mutex;

const FROM: &str = "Gatehouse <noreply@example.com>";

/// Records every message; answers `fail` while it is set.
#[derive(Default)]
struct Fake {
    sent: Mutex<Vec<Outgoing>>,
    fail: Mutex<Option<SendError>>,
}

impl Fake {
    fn failing(err: SendError) -> Fake {
        let f = Fake::default();
        *f.fail.lock().unwrap() = Some(err);
        f
    }
    fn heal(&self) {
        *self.fail.lock().unwrap() = None;
    }
    fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap().clone()
    }
}

crate::async_trait_decl! {
impl MailTransport for Fake {
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        if let Some(e) = self.fail.lock().unwrap().clone() {
            return Err(e);
        }
        self.sent.lock().unwrap().push(msg.clone());
        Ok(())
    }
}
}

async fn queue(t: &TestEnv, to: &str, at: UnixMillis) -> String {
    let id = outbox::new_id(t.env.random.as_ref());
    let mail = compose(to, "Hi", "Shop", &["Hello"], None);
    t.sql.run(outbox::enqueue(&mail, &id, at)).await.unwrap();
    id
}

async fn pass(t: &TestEnv, fake: &Fake) -> DeliveryReport {
    deliver(
        t.sql.as_ref(),
        fake,
        FROM,
        FIRST_RETRY_MS,
        t.env.random.as_ref(),
        t.env.clock.now(),
    )
    .await
    .unwrap()
}

/// (attempts, next_attempt_at, sent_at, dead_at, last_error) of a row.
async fn row(t: &TestEnv, id: &str) -> (i64, i64, Option<i64>, Option<i64>, Option<String>) {
    let r = t
        .sql
        .run(Statement::new(
            "SELECT attempts, next_attempt_at, sent_at, dead_at, last_error FROM mail_outbox WHERE id = ?",
            vec![id.into()],
        ))
        .await
        .unwrap()
        .rows
        .remove(0);
    let int = |v: &Value| match v {
        Value::Integer(i) => Some(*i),
        _ => None,
    };
    let text = |v: &Value| match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    };
    (
        int(&r[0]).unwrap(),
        int(&r[1]).unwrap(),
        int(&r[2]),
        int(&r[3]),
        text(&r[4]),
    )
}

#[tokio::test]
async fn a_due_mail_is_sent_once_with_its_message_id() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::default();
    let a = queue(&t, "a@example.com", T0).await;
    let b = queue(&t, "b@example.com", T0).await;
    let r = pass(&t, &fake).await;
    assert_eq!((r.claimed, r.sent, r.retrying, r.dead), (2, 2, 0, 0));
    assert_eq!(pass(&t, &fake).await, DeliveryReport::default());
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    let m = sent.iter().find(|m| m.id == a).unwrap();
    assert_eq!(m.message_id, format!("<{a}@example.com>"));
    assert_eq!(m.from_address(), "noreply@example.com");
    assert_eq!((m.attempt, m.mail.to.as_str()), (1, "a@example.com"));
    assert_eq!(row(&t, &b).await.2, Some(T0.0));
}

#[tokio::test]
async fn a_mail_queued_later_is_not_due_yet() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::default();
    queue(&t, "a@example.com", T0.plus_secs(10)).await;
    assert_eq!(pass(&t, &fake).await.claimed, 0);
    t.clock.advance_secs(10);
    assert_eq!(pass(&t, &fake).await.sent, 1);
}

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    let rng = SeededRandom::new(7);
    for attempts in 1..=30u32 {
        let base = (FIRST_RETRY_MS << (attempts - 1).min(20)).min(MAX_RETRY_MS);
        for _ in 0..50 {
            let d = backoff_ms(attempts, FIRST_RETRY_MS, &rng);
            assert!(
                d >= base / 2 && d <= base,
                "attempt {attempts}: {d} vs {base}"
            );
        }
    }
    assert_eq!(
        (FIRST_RETRY_MS << 7).min(MAX_RETRY_MS),
        MAX_RETRY_MS,
        "capped from the 8th attempt"
    );
    // Jitter: the same attempt does not always wait the same.
    let waits: std::collections::HashSet<i64> = (0..20)
        .map(|_| backoff_ms(3, FIRST_RETRY_MS, &rng))
        .collect();
    assert!(waits.len() > 10);
    // A configured first wait (1 s) scales the whole schedule.
    for _ in 0..50 {
        let d = backoff_ms(2, 1000, &rng);
        assert!((1000..=2000).contains(&d), "{d}");
    }
}

#[tokio::test]
async fn failures_are_retried_on_the_backoff_schedule_then_delivered() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::failing(SendError::Retryable("connection refused".into()));
    let id = queue(&t, "a@example.com", T0).await;
    let mut last = T0.0;
    for attempt in 1..=4i64 {
        let r = pass(&t, &fake).await;
        assert_eq!((r.claimed, r.retrying), (1, 1), "attempt {attempt}");
        let (attempts, next, sent, dead, error) = row(&t, &id).await;
        assert_eq!((attempts, sent, dead), (attempt, None, None));
        assert_eq!(error.as_deref(), Some("connection refused"));
        let base = FIRST_RETRY_MS << (attempt - 1);
        let now = t.env.clock.now().0;
        assert!(next >= now + base / 2 && next <= now + base, "{attempt}");
        assert!(next > last);
        last = next;
        // Not due before its time.
        t.clock.set(UnixMillis(next - 1));
        assert_eq!(pass(&t, &fake).await.claimed, 0);
        t.clock.set(UnixMillis(next));
    }
    fake.heal();
    let r = pass(&t, &fake).await;
    assert_eq!(r.sent, 1);
    let (attempts, _, sent, _, error) = row(&t, &id).await;
    assert_eq!((attempts, sent, error), (5, Some(last), None));
    assert_eq!(fake.sent()[0].attempt, 5);
}

#[tokio::test]
async fn a_mail_failing_for_24_hours_is_dead_with_its_last_error() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::failing(SendError::Retryable("451 try later".into()));
    let id = queue(&t, "a@example.com", T0).await;
    let mut passes = 0;
    loop {
        let r = pass(&t, &fake).await;
        passes += 1;
        if r.dead == 1 {
            break;
        }
        assert_eq!(r.retrying, 1);
        let (_, next, ..) = row(&t, &id).await;
        assert!(
            next <= T0.0 + GIVE_UP_AFTER_MS,
            "never scheduled past the give-up time"
        );
        t.clock.set(UnixMillis(next));
        assert!(passes < 100);
    }
    let (attempts, _, sent, dead, error) = row(&t, &id).await;
    assert_eq!(dead, Some(T0.0 + GIVE_UP_AFTER_MS));
    assert_eq!((sent, error.as_deref()), (None, Some("451 try later")));
    // 30 s doubling to 1 h, then hourly for a day: a few dozen attempts.
    assert!((20..=60).contains(&attempts), "{attempts}");
    t.clock.advance_secs(7 * 24 * 3600);
    assert_eq!(pass(&t, &fake).await.claimed, 0, "a dead mail stays dead");
}

#[tokio::test]
async fn a_permanent_refusal_is_dead_at_once() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::failing(SendError::Permanent("550 no such user".into()));
    let id = queue(&t, "a@example.com", T0).await;
    let r = pass(&t, &fake).await;
    assert_eq!((r.claimed, r.dead), (1, 1));
    assert_eq!(r.errors, vec![(id.clone(), "550 no such user".to_owned())]);
    let (attempts, _, _, dead, error) = row(&t, &id).await;
    assert_eq!((attempts, dead), (1, Some(T0.0)));
    assert_eq!(error.as_deref(), Some("550 no such user"));
}

#[tokio::test]
async fn a_crashed_pass_is_retried_after_its_lease_with_the_same_message_id() {
    let t = TestEnv::in_memory().await;
    let fake = Fake::default();
    let id = queue(&t, "a@example.com", T0).await;
    // A pass claims the row and its transport sends the mail, then the host
    // dies before recording it.
    let claimed = t.sql.run(claim_due("crashed", T0)).await.unwrap().rows;
    let first = outgoing(claimed[0].clone(), FROM).unwrap();
    fake.send(&first).await.unwrap();
    // While the lease runs, nobody sends it again.
    t.clock.advance_millis(LEASE_MS - 1);
    assert_eq!(pass(&t, &fake).await.claimed, 0);
    // After it, the mail goes again: the same Message-ID, attempt 2.
    t.clock.advance_millis(1);
    assert_eq!(pass(&t, &fake).await.sent, 1);
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].message_id, sent[1].message_id);
    assert_eq!(sent[0].message_id, format!("<{id}@example.com>"));
    assert_eq!((sent[0].attempt, sent[1].attempt), (1, 2));
    assert!(row(&t, &id).await.2.is_some());
}

#[tokio::test]
async fn a_late_failure_report_does_not_undo_another_pass() {
    let t = TestEnv::in_memory().await;
    let id = queue(&t, "a@example.com", T0).await;
    t.sql.run(claim_due("slow", T0)).await.unwrap();
    t.clock.advance_millis(LEASE_MS);
    let fake = Fake::default();
    assert_eq!(pass(&t, &fake).await.sent, 1);
    // The slow pass now reports its failure: its claim is gone, nothing changes.
    let err = SendError::Retryable("timeout".into());
    let r = t
        .sql
        .run(mark_failed(
            &id,
            "slow",
            &err,
            Next::Dead,
            t.env.clock.now(),
        ))
        .await
        .unwrap();
    assert_eq!(r.rows_affected, 0);
    let (_, _, sent, dead, error) = row(&t, &id).await;
    assert!(sent.is_some());
    assert_eq!((dead, error), (None, None));
}

#[tokio::test]
async fn concurrent_passes_send_each_mail_once() {
    let t = TestEnv::in_memory().await;
    for i in 0..(BATCH * 2 + 3) {
        queue(&t, &format!("u{i}@example.com"), T0).await;
    }
    let fake = Fake::default();
    let (a, b, c) = tokio::join!(pass(&t, &fake), pass(&t, &fake), pass(&t, &fake));
    assert_eq!(a.sent + b.sent + c.sent, (BATCH * 2 + 3) as usize);
    assert!(a.full() || b.full() || c.full());
    let mut ids: Vec<String> = fake.sent().into_iter().map(|m| m.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), (BATCH * 2 + 3) as usize);
}

#[test]
fn message_ids_and_addresses() {
    assert_eq!(address_of("Shop <a@b.c>"), "a@b.c");
    assert_eq!(address_of(" a@b.c "), "a@b.c");
    assert_eq!(message_id("x", "a@b.c"), "<x@b.c>");
    assert_eq!(message_id("x", "nobody"), "<x@gatehouse.invalid>");
}
