//! The cross-tab claim protocol: before spending a refresh token, an instance
//! that shares its storage claims it on the `BroadcastChannel` and in a lock
//! entry of the storage; the earliest claim wins and the others wait for its
//! result. The refresh itself is in `client.rs` (`refresh_claimed`).

use alloc::rc::Rc;

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::client::Inner;
use crate::host::{json_parse, json_stringify, now, sleep};
use crate::session::Session;

/// How long a claim or a storage lock holds before others may take over (a tab
/// that closed mid-refresh must not block the others for longer than this).
const LOCK_MS: f64 = 10_000.0;
/// How long a claimant listens for competing claims before it decides.
const CLAIM_WINDOW_MS: f64 = 80.0;
/// How often a tab that lost a claim looks at the storage for the winner's result.
const POLL_MS: f64 = 40.0;
/// Channel message kinds.
const CLAIM: f64 = 1.0;
pub(crate) const DONE: f64 = 2.0;

/// "I am about to spend the refresh token `fp`", announced on the channel and
/// written to the storage lock. The earliest claim (then the lowest id) wins.
#[derive(Clone)]
pub(crate) struct Claim {
    id: f64,
    at: f64,
    fp: JsValue,
}

impl Claim {
    fn before(&self, o: &Claim) -> bool {
        self.at < o.at || (self.at == o.at && self.id < o.id)
    }
    fn live(&self, fp: &JsValue) -> bool {
        self.fp == *fp && now() - self.at < LOCK_MS
    }
    /// As a message or lock value: `[kind, id, at, fp]`.
    fn to_js(&self, kind: f64) -> JsValue {
        Array::of4(
            &JsValue::from_f64(kind),
            &JsValue::from_f64(self.id),
            &JsValue::from_f64(self.at),
            &self.fp,
        )
        .into()
    }
    fn from_js(v: &JsValue) -> Option<Claim> {
        if !Array::is_array(v) {
            return None;
        }
        let a: &Array = v.unchecked_ref();
        Some(Claim {
            id: a.get(1).as_f64()?,
            at: a.get(2).as_f64()?,
            fp: a.get(3),
        })
    }
}

/// The protocol's steps: methods of the client's state, whose storage, channel
/// and heard claims they use.
impl Inner {
    pub(crate) fn post(&self, kind: f64, fp: &JsValue) {
        if let Some(c) = &self.chan {
            c.post_message(
                &Claim {
                    id: self.me,
                    at: now(),
                    fp: fp.clone(),
                }
                .to_js(kind),
            );
        }
    }

    pub(crate) fn on_message(self: &Rc<Self>, data: JsValue) {
        if !Array::is_array(&data) {
            return;
        }
        let a: &Array = data.unchecked_ref();
        let id = a.get(1);
        if a.get(0).as_f64() == Some(CLAIM) {
            self.claims.set(&id, &data);
        } else {
            // DONE: that instance refreshed, signed in or out: look at the storage.
            self.claims.delete(&id);
            self.background(false);
        }
    }

    async fn read_lock(&self) -> Option<Claim> {
        Claim::from_js(&json_parse(&self.store.get(&self.lock_key).await).ok()?)
    }

    /// Runs the claim protocol for the refresh token `fp`. `None`: this instance
    /// may refresh. `Some(winner)`: another instance is refreshing it.
    pub(crate) async fn contest(&self, fp: &JsValue) -> Option<Claim> {
        if let Some(l) = self.read_lock().await {
            if l.id != self.me && l.live(fp) {
                return Some(l);
            }
        }
        let mine = Claim {
            id: self.me,
            at: now(),
            fp: fp.clone(),
        };
        let msg = mine.to_js(CLAIM);
        self.store.set(&self.lock_key, &json_stringify(&msg)).await;
        if let Some(c) = &self.chan {
            c.post_message(&msg);
        }
        let _ = sleep(CLAIM_WINDOW_MS).await;
        let mut best = mine;
        for c in Array::from(&self.claims.values()).iter() {
            if let Some(c) = Claim::from_js(&c) {
                if c.live(fp) && c.before(&best) {
                    best = c;
                }
            }
        }
        if let Some(l) = self.read_lock().await {
            // With a channel, every claimant sees the same claims and agrees on the
            // earliest; without one, the storage decides: the last writer wins.
            if l.live(fp)
                && (if self.chan.is_some() {
                    l.before(&best)
                } else {
                    l.id != self.me
                })
            {
                best = l;
            }
        }
        if best.id == self.me {
            None
        } else {
            Some(best)
        }
    }

    /// Waits until the winner of a claim has published a new session (or gave up,
    /// or its claim ran out).
    pub(crate) async fn wait_for(&self, old: &Session, w: &Claim) {
        while w.live(&old.refresh) {
            let _ = sleep(POLL_MS).await;
            match self.load().await {
                Some(cur) if cur.refresh == old.refresh => {}
                _ => return,
            }
            let claimed = self.claims.has(&JsValue::from_f64(w.id));
            let locked = self.read_lock().await.is_some_and(|l| l.id == w.id);
            if !claimed && !locked {
                return;
            }
        }
    }

    /// The winner removes the lock (whoever wrote it last: the others lost to it);
    /// a loser's lock names the old token and is dead once the winner is done.
    pub(crate) async fn release(&self, fp: &JsValue) {
        self.store.set(&self.lock_key, &JsValue::NULL).await;
        self.post(DONE, fp);
    }
}
