//! The client's state and behaviour: session events, single-flight refresh, the
//! proactive timer, the token for each `fetch` (and its one retry after a 401),
//! and what each async method of the core class (`js_api.rs`) does (`Op`).

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::claim::{Claim, Coordinator, DONE, FAIL, POLL_MS};
use crate::error::{backoff_error, bad_response, closed_error, no_session, status_of};
use crate::host::{
    clear_timeout, now, peek, s, set_timeout, sleep, unref, Callback, Response, Shell, Store,
};
use crate::session::{opt_js, Session};
use crate::storage::TOMBSTONE;

/// The state behind one `GatehouseClient`. Futures in flight share it by `Rc`;
/// the callback holds only a `Weak`, so it does not keep the client alive.
pub(crate) struct Inner {
    /// The JS shell: events go out through it, refresh requests too.
    pub(crate) shell: Shell,
    pub(crate) key: JsValue,
    pub(crate) margin: f64,
    pub(crate) auto: bool,
    pub(crate) store: Store,
    pub(crate) shared: bool,
    /// The session as last read from or written to the storage (`raw` is the
    /// stored string it was parsed from, to detect changes by other tabs).
    pub(crate) cache: Cell<Option<Session>>,
    pub(crate) raw: Cell<JsValue>,
    /// The refresh in flight in this instance: every caller awaits this one promise.
    pub(crate) inflight: Cell<Option<Promise>>,
    /// This instance's side of the cross-tab claims (`claim.rs`).
    pub(crate) coord: Coordinator,
    pub(crate) timer: Cell<JsValue>,
    /// The one callback of the refresh timer, the claim's heartbeat and the
    /// channel.
    pub(crate) cb: Cell<Option<Callback>>,
    pub(crate) closed: Cell<bool>,
    /// Refresh failures in a row (network, 5xx) and when the next may go out:
    /// the backoff shared, through `FAIL` messages, by the tabs.
    pub(crate) fails: Cell<u32>,
    pub(crate) retry_at: Cell<f64>,
}

/// Backoff after a failed refresh: `BACKOFF_MS · 2^(n-1)`, capped, times a
/// jitter in [0.5, 1). The cap is low because the access token is about to
/// expire: a server back from an outage must see the refresh within ~2 s.
const BACKOFF_MS: f64 = 250.0;
const BACKOFF_CAP_MS: f64 = 1_600.0;

impl Inner {
    fn coordinated(&self) -> bool {
        self.shared
    }

    pub(crate) fn current(&self) -> Option<Session> {
        peek(&self.cache)
    }

    /// Records a new current session, emits the matching event and re-arms the
    /// proactive refresh timer.
    pub(crate) fn changed(&self, new: Option<Session>, raw: JsValue, event: Option<&str>) {
        let old = self.cache.replace(new.clone());
        let expired = raw == s(TOMBSTONE);
        self.raw.set(raw);
        let ev = event.or(match (&old, &new) {
            (None, Some(_)) => Some("signedIn"),
            (Some(_), None) if expired => Some("sessionExpired"),
            (Some(_), None) => Some("signedOut"),
            (Some(a), Some(b)) if a.refresh != b.refresh => Some("refreshed"),
            _ => None,
        });
        self.schedule();
        if let Some(ev) = ev {
            self.shell.emit(ev, &opt_js(&new));
        }
    }

    /// Reads the session from the storage; picks up what other tabs wrote.
    pub(crate) async fn load(&self) -> Option<Session> {
        let raw = self.store.read(&self.key).await;
        if raw != peek(&self.raw) {
            let s = Session::parse(&raw);
            self.changed(s, raw, None);
        }
        self.current()
    }

    /// Writes the session (or its absence, or the expiry tombstone) to the storage.
    pub(crate) async fn commit(&self, new: Option<Session>, tomb: bool, event: Option<&str>) {
        let raw = match &new {
            Some(x) => x.raw(),
            None if tomb => s(TOMBSTONE),
            None => JsValue::NULL,
        };
        self.store.write(&self.key, &raw).await;
        self.fails.set(0);
        self.retry_at.set(0.0);
        self.changed(new, raw, event);
    }

    /// A refresh failed without an answer about the token: back off (and tell
    /// the other tabs to, so that one attempt at a time goes out in an outage).
    fn failed(&self) -> f64 {
        let n = self.fails.get().min(16);
        self.fails.set(n + 1);
        let d = (BACKOFF_MS * (1u32 << n) as f64).min(BACKOFF_CAP_MS);
        let at = now() + d * (0.5 + js_sys::Math::random() / 2.0);
        self.retry_at.set(at);
        self.schedule();
        at
    }

    /// A message from another instance on the channel.
    pub(crate) fn on_message(self: &Rc<Self>, data: JsValue) {
        // DONE: look at the storage. FAIL: back off as that instance does.
        if let Some(until) = self.coord.hear(data) {
            self.backoff_until(until);
            self.background(false);
        }
    }

    /// Another tab's refresh failed: honour its backoff.
    pub(crate) fn backoff_until(&self, at: f64) {
        if at > self.retry_at.get() {
            self.retry_at.set(at);
            self.schedule();
        }
    }

    /// `online`, a page made visible (0): try again now; `pagehide` (1): give
    /// up a held claim at once.
    pub(crate) fn signal(self: &Rc<Self>, kind: u32) {
        if kind == 1 {
            self.coord.drop_claim();
        } else if !self.closed.get() {
            self.retry_at.set(0.0);
            self.background(true);
        }
    }

    /// Reads the storage (or makes sure the session is fresh) in the background.
    pub(crate) fn background(self: &Rc<Self>, fresh: bool) {
        let me = self.clone();
        let _ = run(async move {
            if fresh {
                me.fresh().await;
            } else {
                me.load().await;
            }
            Ok(JsValue::UNDEFINED)
        });
    }

    /// Refreshes `old` unless another instance already did (or is doing) it.
    async fn refresh_coordinated(self: &Rc<Self>, old: Session) -> Result<Session, JsValue> {
        let won = Cell::new(false);
        let f0 = self.fails.get();
        let r = self.refresh_claimed(&old, &won).await;
        let failed = self.fails.get() > f0;
        if self.coordinated() && won.get() {
            let kind = if failed { FAIL } else { DONE };
            let retry_at = self.retry_at.get();
            self.coord.release(&old.refresh, kind, retry_at).await;
        }
        r
    }

    async fn refresh_claimed(
        self: &Rc<Self>,
        old: &Session,
        won: &Cell<bool>,
    ) -> Result<Session, JsValue> {
        let coordinated = self.coordinated();
        loop {
            if self.closed.get() {
                return Err(closed_error());
            }
            match self.load().await {
                None => return Err(no_session()),
                Some(cur) if cur.refresh != old.refresh => return Ok(cur),
                // Backing off (this tab's failure or another's): no attempt now.
                _ if now() < self.retry_at.get() => return Err(backoff_error()),
                _ if won.get() || !coordinated => break,
                _ => {}
            }
            // Won the claim: one last look at the storage (above) before spending the token.
            match self.coord.contest(&old.refresh).await {
                Some(w) => self.wait_for(old, w).await,
                None => won.set(true),
            }
        }
        match JsFuture::from(self.shell.renew(&old.refresh)).await {
            Ok(data) => {
                let s = Session::from_js(&data).ok_or_else(bad_response)?;
                self.commit(Some(s.clone()), false, Some("refreshed")).await;
                Ok(s)
            }
            Err(e) if status_of(&e) == 401.0 => {
                // Did another (uncoordinated) instance win the race? Then adopt its pair.
                match self.load().await {
                    Some(cur) if cur.refresh != old.refresh => Ok(cur),
                    _ => {
                        self.commit(None, true, Some("sessionExpired")).await;
                        Err(e)
                    }
                }
            }
            // Network failure, throttling, server error: keep the session, back off.
            Err(e) => {
                self.failed();
                Err(e)
            }
        }
    }

    /// Waits until the winner of a claim has published a new session (or gave up,
    /// or its claim ran out): within `DEAD_MS` of its last heartbeat when it died.
    async fn wait_for(&self, old: &Session, mut w: Claim) {
        while w.live(&old.refresh) && !self.closed.get() {
            let _ = sleep(POLL_MS).await;
            match self.load().await {
                Some(cur) if cur.refresh == old.refresh => {}
                _ => return,
            }
            let lock = self.coord.read_lock().await;
            if !self.coord.still_held(&mut w, lock) {
                return;
            }
        }
    }

    /// Single flight: every caller that needs a refresh while one is running
    /// awaits that one.
    pub(crate) async fn refresh_from(self: &Rc<Self>, old: Session) -> Result<Session, JsValue> {
        let p = match peek(&self.inflight) {
            Some(p) => p,
            None => {
                let me = self.clone();
                let p = run(async move {
                    let r = me.refresh_coordinated(old).await;
                    me.inflight.set(None);
                    r.map(|s| s.raw())
                });
                self.inflight.set(Some(p.clone()));
                p
            }
        };
        Session::parse(&JsFuture::from(p).await?).ok_or_else(no_session)
    }

    fn margin_for(&self, s: &Session) -> f64 {
        if s.life.is_finite() {
            self.margin.min(s.life / 2.0)
        } else {
            self.margin
        }
    }

    fn needs_refresh(&self, s: &Session) -> bool {
        s.expires.is_finite() && now() >= s.expires - self.margin_for(s)
    }

    /// The session to use for a request: refreshed first when close to expiry.
    pub(crate) async fn fresh(self: &Rc<Self>) -> Option<Session> {
        let s = self.load().await?;
        // Backing off after a failed refresh: the old token is tried meanwhile.
        if !self.needs_refresh(&s) || now() < self.retry_at.get() {
            return Some(s);
        }
        match self.refresh_from(s).await {
            Ok(n) => Some(n),
            // Expired: signed out now. Network failure: try the old token anyway.
            Err(_) => self.current(),
        }
    }

    /// Re-arms the proactive refresh timer for the current session.
    pub(crate) fn schedule(&self) {
        let old = self.timer.take();
        if !old.is_undefined() {
            clear_timeout(&old);
        }
        if !self.auto || self.closed.get() {
            return;
        }
        let (Some(s), Some(cb)) = (self.current(), peek(&self.cb)) else {
            return;
        };
        if !s.expires.is_finite() {
            return;
        }
        // Fire inside the margin, with jitter so that tabs don't all wake at once;
        // never sooner than a second (a token with a tiny lifetime must not spin);
        // after a failed refresh, when the backoff ends.
        let m = self.margin_for(&s);
        let at = s.expires - m + js_sys::Math::random() * m / 4.0;
        let retry = self.retry_at.get();
        let wait = if retry > 0.0 {
            (retry - now()).max(0.0) + 1.0
        } else {
            (at - now()).max(1000.0)
        };
        let id = set_timeout((*cb).as_ref().unchecked_ref(), wait);
        unref(&id);
        self.timer.set(id);
    }

    /// The drop-in `fetch`: proactive refresh, and on a 401 one refresh and one
    /// retry. `send(token)` (made by the shell for this call) sends the request
    /// with the headers and the given access token (a fresh copy of a `Request`
    /// for the retry).
    pub(crate) async fn authed(self: &Rc<Self>, send: Function) -> Result<Response, JsValue> {
        let mut s = self.fresh().await;
        let mut retried = false;
        loop {
            let token = s
                .as_ref()
                .map(|s| s.access.clone())
                .unwrap_or(JsValue::NULL);
            let p = send.call1(&JsValue::UNDEFINED, &token)?;
            let resp: Response = JsFuture::from(Promise::resolve(&p)).await?.unchecked_into();
            if retried || resp.status() != 401 {
                return Ok(resp);
            }
            retried = true;
            let Some(used) = s.take() else {
                return Ok(resp);
            };
            s = match self.load().await {
                // Someone refreshed meanwhile: just retry with the new token.
                Some(cur) if cur.access != used.access => Some(cur),
                Some(cur) => match self.refresh_from(cur).await {
                    Ok(n) => Some(n),
                    Err(_) => return Ok(resp),
                },
                None => return Ok(resp),
            };
        }
    }

    /// Every async method of the class goes through this one future (one state
    /// machine, one set of drop glue, instead of one per method).
    pub(crate) fn op(self: &Rc<Self>, op: Op, a: JsValue) -> Promise {
        let i = self.clone();
        run(async move {
            if i.closed.get() {
                return Err(closed_error());
            }
            match op {
                Op::GetSession => Ok(opt_js(&i.load().await)),
                Op::FreshSession => Ok(opt_js(&i.fresh().await)),
                Op::Fetch => Ok(i.authed(a.unchecked_into()).await?.into()),
                Op::Refresh => {
                    // Asked for explicitly: not held back by a backoff.
                    i.retry_at.set(0.0);
                    let s = i.load().await.ok_or_else(no_session)?;
                    Ok(i.refresh_from(s).await?.to_js())
                }
                // A new pair from a login, a registration or a password change.
                Op::Take(event) => {
                    let s = Session::from_js(&a).ok_or_else(bad_response)?;
                    i.commit(Some(s.clone()), false, Some(event)).await;
                    i.coord.post(DONE, &s.refresh);
                    Ok(s.to_js())
                }
                // Logged out (the shell told the server first).
                Op::Forget => {
                    if let Some(s) = i.load().await {
                        i.commit(None, false, Some("signedOut")).await;
                        i.coord.post(DONE, &s.refresh);
                    }
                    Ok(JsValue::UNDEFINED)
                }
            }
        })
    }

    /// Stops the timer and the channel, for good.
    pub(crate) fn close(&self) {
        self.coord.close();
        self.closed.set(true);
        self.schedule();
        self.inflight.set(None);
    }
}

/// A client dropped without `close()` (its JS object collected): stop the timer
/// and the channel, whose callback would otherwise outlive the Rust closure.
impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

type JsResult = Result<JsValue, JsValue>;

/// One `future_to_promise` instantiation for all methods (a boxed, type-erased
/// future): each distinct future type would otherwise get its own copy.
pub(crate) fn run<F: Future<Output = JsResult> + 'static>(f: F) -> Promise {
    let f: Pin<Box<dyn Future<Output = JsResult>>> = Box::pin(f);
    future_to_promise(f)
}

/// What a method of the JS class asks for (`js_api.rs` maps each method to one).
/// `Inner::op` runs it here, not in `js_api.rs`: each file with async code adds
/// its name to the wasm (panic locations), so async code stays in few files.
#[derive(Clone, Copy)]
pub(crate) enum Op {
    GetSession,
    FreshSession,
    Refresh,
    Fetch,
    Take(&'static str),
    Forget,
}
