//! The cross-tab claim protocol: before spending a refresh token, an instance
//! that shares its storage claims it on the `BroadcastChannel` and in a lock
//! entry of the storage; the earliest claim wins and the others wait for its
//! result. The refresh itself is in `client.rs` (`refresh_claimed`), whose
//! state holds this instance's [`Coordinator`].

use core::cell::Cell;

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use crate::host::{
    clear_interval, json_parse, json_stringify, now, peek, set_interval, sleep, BroadcastChannel,
    Callback, Store,
};

/// A claim is dead when its holder has not renewed it (heartbeat) for this long:
/// a tab that closed or froze mid-refresh blocks the others for at most this.
const DEAD_MS: f64 = 1_000.0;
/// How often the holder of a claim renews it while its refresh is in flight.
pub(crate) const BEAT_MS: f64 = 300.0;
/// How long a claimant listens for competing claims before it decides.
const CLAIM_WINDOW_MS: f64 = 80.0;
/// How often a tab that lost a claim looks at the storage for the winner's result.
pub(crate) const POLL_MS: f64 = 40.0;
/// Channel message kinds.
const CLAIM: f64 = 1.0;
pub(crate) const DONE: f64 = 2.0;
/// The holder's refresh failed (no answer): its `beat` is when to try again.
pub(crate) const FAIL: f64 = 3.0;

/// "I am about to spend the refresh token `fp`", announced on the channel and
/// written to the storage lock. The earliest claim (then the lowest id) wins.
#[derive(Clone)]
pub(crate) struct Claim {
    id: f64,
    at: f64,
    fp: JsValue,
    /// When its holder last renewed it (`at` for a new claim).
    beat: f64,
}

impl Claim {
    fn before(&self, o: &Claim) -> bool {
        self.at < o.at || (self.at == o.at && self.id < o.id)
    }
    /// A claim on `fp` whose holder renewed it lately.
    pub(crate) fn live(&self, fp: &JsValue) -> bool {
        self.fp == *fp && now() - self.beat < DEAD_MS
    }
    /// As a message or lock value: `[kind, id, at, fp, beat]`.
    fn to_js(&self, kind: f64) -> JsValue {
        Array::of5(
            &JsValue::from_f64(kind),
            &JsValue::from_f64(self.id),
            &JsValue::from_f64(self.at),
            &self.fp,
            &JsValue::from_f64(self.beat),
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
            beat: a.get(4).as_f64()?,
        })
    }
}

/// This instance's side of the protocol: its id, the channel, the storage
/// lock, the claims heard from the others, and the claim it holds (renewed by
/// `beat`) with its interval timer.
pub(crate) struct Coordinator {
    me: f64,
    pub(crate) chan: Option<BroadcastChannel>,
    store: Store,
    lock_key: JsValue,
    /// The latest claim heard from each other instance, by id (raw messages).
    claims: js_sys::Map,
    held: Cell<Option<Claim>>,
    beat_timer: Cell<JsValue>,
    /// The client's callback, which `beat`s when called with 1.
    cb: Cell<Option<Callback>>,
    closed: Cell<bool>,
}

impl Coordinator {
    pub(crate) fn new(store: Store, lock_key: JsValue, chan: Option<BroadcastChannel>) -> Self {
        Coordinator {
            me: js_sys::Math::random(),
            chan,
            store,
            lock_key,
            claims: js_sys::Map::new(),
            held: Cell::new(None),
            beat_timer: Cell::new(JsValue::UNDEFINED),
            cb: Cell::new(None),
            closed: Cell::new(false),
        }
    }

    /// Sets the callback that the heartbeat's interval timer calls.
    pub(crate) fn set_callback(&self, cb: Callback) {
        self.cb.set(Some(cb));
    }

    pub(crate) fn post(&self, kind: f64, fp: &JsValue) {
        let t = now();
        self.post_at(kind, fp, t, t);
    }

    /// Posts this instance's claim on `fp`, made `at`, with heartbeat `beat`.
    fn post_at(&self, kind: f64, fp: &JsValue, at: f64, beat: f64) {
        self.send_msg(
            &Claim {
                id: self.me,
                at,
                fp: fp.clone(),
                beat,
            }
            .to_js(kind),
        );
    }

    /// Posts on the channel unless closed (a closed channel throws).
    fn send_msg(&self, msg: &JsValue) {
        if let (Some(c), false) = (&self.chan, self.closed.get()) {
            let _ = c.post_message(msg);
        }
    }

    /// The heartbeat of the claim this instance holds: renews it in the storage
    /// lock and on the channel, so the others know its refresh is still alive.
    pub(crate) fn beat(&self) {
        if let Some(mut c) = peek(&self.held) {
            c.beat = now();
            let msg = c.to_js(CLAIM);
            drop(self.store.write_now(&self.lock_key, &json_stringify(&msg)));
            self.send_msg(&msg);
        }
    }

    fn stop_beating(&self) {
        let id = self.beat_timer.take();
        if !id.is_undefined() {
            clear_interval(&id);
        }
    }

    /// Stops the heartbeat and gives up the claim at once (`pagehide`, `close`):
    /// the other tabs take over without waiting for it to die.
    pub(crate) fn drop_claim(&self) {
        self.stop_beating();
        if let Some(c) = self.held.take() {
            drop(self.store.write_now(&self.lock_key, &JsValue::NULL));
            let msg = c.to_js(DONE);
            self.send_msg(&msg);
        }
    }

    /// Gives up any claim and closes the channel, for good.
    pub(crate) fn close(&self) {
        self.drop_claim();
        self.closed.set(true);
        if let Some(c) = &self.chan {
            c.close();
        }
    }

    /// Records a message from the channel. `Some(until)`: another instance
    /// refreshed, signed in or out (look at the storage), or its refresh failed
    /// and it backs off until then (0 when it did not fail).
    pub(crate) fn hear(&self, data: JsValue) -> Option<f64> {
        if !Array::is_array(&data) {
            return None;
        }
        let a: &Array = data.unchecked_ref();
        let id = a.get(1);
        let kind = a.get(0).as_f64();
        if kind == Some(CLAIM) {
            self.claims.set(&id, &data);
            return None;
        }
        self.claims.delete(&id);
        Some(if kind == Some(FAIL) {
            a.get(4).as_f64().unwrap_or(0.0)
        } else {
            0.0
        })
    }

    /// The claim in the storage lock, if any.
    pub(crate) async fn read_lock(&self) -> Option<Claim> {
        Claim::from_js(&json_parse(&self.store.read(&self.lock_key).await).ok()?)
    }

    /// Runs the claim protocol for the refresh token `fp`. `None`: this
    /// instance may refresh. `Some(winner)`: another instance is refreshing it.
    pub(crate) async fn contest(&self, fp: &JsValue) -> Option<Claim> {
        if let Some(l) = self.read_lock().await {
            if l.id != self.me && l.live(fp) {
                return Some(l);
            }
        }
        let t = now();
        let mine = Claim {
            id: self.me,
            at: t,
            fp: fp.clone(),
            beat: t,
        };
        let msg = mine.to_js(CLAIM);
        self.store
            .write(&self.lock_key, &json_stringify(&msg))
            .await;
        self.send_msg(&msg);
        // Renew the claim while deciding and (if it wins) while refreshing.
        self.held.set(Some(mine.clone()));
        if let Some(cb) = peek(&self.cb) {
            self.beat_timer.set(set_interval(
                (*cb).as_ref().unchecked_ref(),
                BEAT_MS,
                &JsValue::from_f64(1.0),
            ));
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
            // Lost: stop renewing (the winner's lock replaces ours).
            self.stop_beating();
            self.held.set(None);
            Some(best)
        }
    }

    /// Whether winner `w` still holds its claim, as heard on the channel or
    /// seen in the lock (`lock`, just read); its heartbeat is brought up to date.
    pub(crate) fn still_held(&self, w: &mut Claim, lock: Option<Claim>) -> bool {
        let heard = Claim::from_js(&self.claims.get(&JsValue::from_f64(w.id)));
        let locked = lock.filter(|l| l.id == w.id);
        if heard.is_none() && locked.is_none() {
            return false;
        }
        for c in [heard, locked].into_iter().flatten() {
            w.beat = w.beat.max(c.beat);
        }
        true
    }

    /// The winner removes the lock (whoever wrote it last: the others lost to it);
    /// a loser's lock names the old token and is dead once the winner is done.
    pub(crate) async fn release(&self, fp: &JsValue, kind: f64, retry_at: f64) {
        self.stop_beating();
        self.held.set(None);
        self.store.write(&self.lock_key, &JsValue::NULL).await;
        self.post_at(kind, fp, now(), retry_at);
    }
}
