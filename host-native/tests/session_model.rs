//! Property test of the session state machine against a model: random
//! sequences of refresh, replay, logout and clock jumps on one login, run
//! on the real service (embedded libSQL, fake clock). The service must
//! answer exactly as the model predicts, and the model never has more than
//! one live refresh token in the family (the reuse grace hands the current
//! token's parent that same token again, never another one).

mod support;

use proptest::prelude::*;
use serde_json::json;
use support::*;

#[derive(Debug, Clone)]
enum Op {
    /// Refresh with the `n`-th issued token (mod count): the current one,
    /// or a spent one (a replay).
    Refresh(usize),
    /// Log out with the `n`-th issued token.
    Logout(usize),
    /// Let time pass.
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..8).prop_map(Op::Refresh),
        1 => (0usize..8).prop_map(Op::Logout),
        2 => (0i64..4 * 86400).prop_map(Op::Advance),
        // Short steps, around the reuse grace.
        1 => (0i64..60).prop_map(Op::Advance),
    ]
}

/// What the service should do, kept as plainly as possible.
struct Model {
    /// Issued refresh tokens with their expiry (ms).
    issued: Vec<(String, i64)>,
    current: Option<usize>,
    /// The token the last rotation spent, and when (ms).
    parent: Option<(usize, i64)>,
    revoked: bool,
    absolute_expiry: i64,
}

const SKEW_MS: i64 = gatehouse_core::token::CLOCK_SKEW_SECS as i64 * 1000;
/// The default reuse grace.
const GRACE_MS: i64 = 30_000;

impl Model {
    fn live_tokens(&self, now: i64) -> usize {
        if self.revoked || now >= self.absolute_expiry {
            return 0;
        }
        self.issued
            .iter()
            .enumerate()
            .filter(|(i, (_, exp))| Some(*i) == self.current && now <= exp + SKEW_MS)
            .count()
    }
}

async fn run(ops: Vec<Op>) {
    let w = world().await;
    let reg = w.register("pat").await;
    let now = || w.clock.now_ms();
    let mut m = Model {
        issued: vec![(s(&reg.body["refresh"]), now() + 7 * 86400 * 1000)],
        current: Some(0),
        parent: None,
        revoked: false,
        absolute_expiry: now() + 30 * 86400 * 1000,
    };
    for op in ops {
        match op {
            Op::Advance(secs) => w.clock.advance_secs(secs),
            Op::Refresh(n) => {
                let i = n % m.issued.len();
                let (token, exp) = m.issued[i].clone();
                let t = now();
                let reissue = matches!(m.parent, Some((p, at)) if p == i && t < at + GRACE_MS);
                let expected = if t > exp + SKEW_MS || m.revoked || t >= m.absolute_expiry {
                    401
                } else if Some(i) == m.current || reissue {
                    200
                } else {
                    m.revoked = true; // a replay ends the family
                    401
                };
                let r = w.refresh(&token).await;
                assert_eq!(
                    r.status.as_u16(),
                    expected,
                    "refresh with token {i} at {t}: {}",
                    r.body
                );
                if expected == 200 && reissue {
                    let current = &m.issued[m.current.unwrap()].0;
                    assert_eq!(&s(&r.body["refresh"]), current, "a reissue of token {i}");
                } else if expected == 200 {
                    let exp = (t + 7 * 86400 * 1000).min(m.absolute_expiry);
                    m.issued.push((s(&r.body["refresh"]), exp));
                    m.parent = Some((i, t));
                    m.current = Some(m.issued.len() - 1);
                }
            }
            Op::Logout(n) => {
                let i = n % m.issued.len();
                let (token, exp) = m.issued[i].clone();
                // A fresh login of the same user supplies the access token.
                let other = w.login("pat@example.com", PASSWORD).await;
                let access = s(&other.body["access"]);
                let expected = if now() > exp + SKEW_MS { 401 } else { 200 };
                let r = w
                    .api()
                    .post_as("/api/auth/logout/", json!({"refresh": token}), &access)
                    .await;
                assert_eq!(
                    r.status.as_u16(),
                    expected,
                    "logout with token {i}: {}",
                    r.body
                );
                if expected == 200 {
                    m.revoked = true;
                }
            }
        }
        assert!(m.live_tokens(now()) <= 1);
    }
    // The end state agrees too: only the model's live token (if any) works.
    let live = m.live_tokens(now());
    if live == 1 {
        let token = m.issued[m.current.unwrap()].0.clone();
        assert_eq!(w.refresh(&token).await.status, 200);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn the_service_follows_the_session_model(ops in proptest::collection::vec(op(), 1..25)) {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run(ops));
    }
}
