//! `@gatehouse/client`: Gatehouse's JavaScript client, in Rust, built with wasm-pack.
//!
//! It holds the tokens, attaches `Authorization`, `X-API-Key` and `X-Client-ID`,
//! refreshes before expiry and never lets two refreshes of one refresh token race:
//! one refresh per instance at a time (single flight), and across tabs or
//! instances that share a storage, a claim protocol over `BroadcastChannel` plus a
//! lock entry in the storage itself (no Web Locks).
//!
//! Size matters here (the package's budget is 25 KB gzip, wasm + JS glue), so:
//! JSON, fetch, base64 and timers are the host's; tokens and other strings stay
//! JavaScript strings (`JsValue`) instead of being copied into Rust `String`s;
//! `Cell` instead of `RefCell` (no borrow panics); no `format!`/`core::fmt`; and in
//! the release build no `std` at all (a trapping panic handler, a small allocator).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use js_sys::{Array, Function, JsString, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

mod ts;

/// Without `std` (the release build): no panic machinery at all, so panics don't
/// pull `core::fmt` in (a panic traps; the code is written not to panic), and
/// lol_alloc's free-list allocator (~0.7 KB) instead of dlmalloc (~5 KB): the
/// client's heap is a few kilobytes of short-lived strings and closures.
#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod bare {
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    // SAFETY: wasm32-unknown-unknown without atomics is single-threaded.
    #[global_allocator]
    static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
        unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
}

/// How long a claim or a storage lock holds before others may take over (a tab
/// that closed mid-refresh must not block the others for longer than this).
const LOCK_MS: f64 = 10_000.0;
/// How long a claimant listens for competing claims before it decides.
const CLAIM_WINDOW_MS: f64 = 80.0;
/// How often a tab that lost a claim looks at the storage for the winner's result.
const POLL_MS: f64 = 40.0;
/// Storage value left behind when the server rejected the refresh token, so that
/// other tabs report `sessionExpired` rather than `signedOut`.
const TOMBSTONE: &str = "x";
/// Channel message kinds.
const CLAIM: f64 = 1.0;
const DONE: f64 = 2.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[wasm_bindgen(catch)]
    fn atob(s: &JsString) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(s: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    fn json_stringify(v: &JsValue) -> JsValue;

    type Headers;
    #[wasm_bindgen(constructor, catch)]
    fn new(init: &JsValue) -> Result<Headers, JsValue>;
    #[wasm_bindgen(method)]
    fn set(this: &Headers, name: &str, value: &JsValue);

    type Response;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Response) -> u16;
    #[wasm_bindgen(method)]
    fn text(this: &Response) -> Promise;

    type BroadcastChannel;
    #[wasm_bindgen(constructor, catch)]
    fn new(name: &JsValue) -> Result<BroadcastChannel, JsValue>;
    #[wasm_bindgen(method, js_name = postMessage)]
    fn post_message(this: &BroadcastChannel, msg: &JsValue);
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &BroadcastChannel, cb: &Function);
    #[wasm_bindgen(method)]
    fn close(this: &BroadcastChannel);
}

// ---------------------------------------------------------------- small helpers

fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

fn put(o: &JsValue, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

fn jstr(v: &JsValue) -> &JsString {
    v.unchecked_ref()
}

fn global(k: &str) -> JsValue {
    get(&js_sys::global(), k)
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Reads a `Cell` holding a non-`Copy` value (take, clone, put back): `Cell`
/// instead of `RefCell` keeps borrow-panic paths (and `core::fmt`) out.
fn peek<T: Clone + Default>(c: &Cell<T>) -> T {
    let v = c.take();
    let out = v.clone();
    c.set(v);
    out
}

/// Node keeps a process alive while a timer or a `BroadcastChannel` is
/// referenced; the client's background timer and channel must not do that.
fn unref(v: &JsValue) {
    if let Ok(f) = get(v, "unref").dyn_into::<Function>() {
        let _ = f.call2(v, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    }
}

/// Duck-typed `input instanceof Request` (works whatever realm built the Request).
fn is_request(v: &JsValue) -> bool {
    !v.is_string() && get(v, "clone").is_function()
}

/// Calls `f` (which may return a value or a promise): the promise of its result.
fn call_p(f: &Function, this: &JsValue, a: &JsValue, b: &JsValue) -> JsFuture {
    JsFuture::from(Promise::resolve(
        &f.call2(this, a, b).unwrap_or(JsValue::NULL),
    ))
}

/// A timer someone awaits: not unref'd (Node would exit under the awaiting code).
fn sleep(ms: f64) -> JsFuture {
    // `new_typed`: the constructor binding `future_to_promise` already imports.
    JsFuture::from(Promise::new_typed::<JsValue>(&mut |resolve, _| {
        set_timeout(resolve.unchecked_ref(), ms);
    }))
}

/// Builds the error that every rejection of the high-level methods carries: a real
/// `Error` named `GatehouseError` with `status`, `code`, `detail` and `fields`.
fn gh_error(status: f64, code: &JsValue, detail: &JsValue, fields: &JsValue) -> JsValue {
    let e: JsValue = js_sys::Error::new("").into();
    put(&e, "name", &s("GatehouseError"));
    put(&e, "message", detail);
    put(&e, "status", &JsValue::from_f64(status));
    put(&e, "code", code);
    put(&e, "detail", detail);
    put(&e, "fields", fields);
    e
}

fn simple_error(status: f64, code: &str, detail: &str) -> JsValue {
    gh_error(status, &s(code), &s(detail), &Object::new())
}

/// Maps a DRF/simplejwt-shaped error body to a `GatehouseError`:
/// `{"detail", "code"}` for general errors; a validation body (`{"field":
/// ["message", …]}`, `non_field_errors` included) becomes `fields` as it is, with
/// code `invalid` and DRF's own "Invalid input." as the detail.
fn error_from(status: u16, data: &JsValue) -> JsValue {
    let detail = get(data, "detail");
    let (code, detail, fields) = if detail.is_string() {
        let code = get(data, "code");
        (
            if code.is_string() { code } else { s("error") },
            detail,
            Object::new().into(),
        )
    } else if data.is_object() {
        (s("invalid"), s("Invalid input."), data.clone())
    } else {
        (s("error"), s("Request failed."), Object::new().into())
    };
    gh_error(status as f64, &code, &detail, &fields)
}

fn status_of(e: &JsValue) -> f64 {
    get(e, "status").as_f64().unwrap_or(0.0)
}

fn bad_response() -> JsValue {
    simple_error(0.0, "bad_response", "Response had no tokens.")
}

fn no_session() -> JsValue {
    simple_error(401.0, "no_session", "Not signed in.")
}

/// The `exp` and `iat` claims of a JWT (NaN when absent or unreadable). The
/// signature is not checked: the client only needs to know when to refresh.
/// (`atob` gives Latin-1, so non-ASCII claim strings come out garbled: harmless,
/// only the two numbers are read.)
pub fn jwt_times(jwt: &JsValue) -> (f64, f64) {
    let nan = (f64::NAN, f64::NAN);
    if !jwt.is_string() {
        return nan;
    }
    let part = jstr(jwt).split(".").get(1);
    if !part.is_string() {
        return nan;
    }
    let b64 = jstr(&part).replace_all("-", "+").replace_all("_", "/");
    let Ok(claims) = atob(&b64).and_then(|t| json_parse(&t)) else {
        return nan;
    };
    let n = |k| get(&claims, k).as_f64().unwrap_or(f64::NAN);
    (n("exp"), n("iat"))
}

// ---------------------------------------------------------------- session

#[derive(Clone, Default)]
struct Session {
    access: JsValue,
    refresh: JsValue,
    /// Local time (ms) the pair was received.
    at: f64,
    /// Local time (ms) the access token expires: `at + (exp - iat)`, which is
    /// immune to clock skew between client and server; NaN if unknown.
    expires: f64,
    /// The access token's lifetime in ms (NaN if unknown).
    life: f64,
}

impl Session {
    /// From a server response or a stored value: `{access, refresh[, at]}`.
    fn from_js(v: &JsValue) -> Option<Session> {
        let access = get(v, "access");
        let refresh = get(v, "refresh");
        if !access.is_string() || !refresh.is_string() {
            return None;
        }
        let at = get(v, "at").as_f64().unwrap_or_else(now);
        let (exp, iat) = jwt_times(&access);
        let life = (exp - iat) * 1000.0;
        let expires = if life.is_finite() {
            at + life
        } else {
            exp * 1000.0
        };
        Some(Session {
            access,
            refresh,
            at,
            expires,
            life,
        })
    }

    fn parse(raw: &JsValue) -> Option<Session> {
        Session::from_js(&json_parse(raw).ok()?)
    }

    fn pair(&self) -> JsValue {
        let o: JsValue = Object::new().into();
        put(&o, "access", &self.access);
        put(&o, "refresh", &self.refresh);
        o
    }

    fn raw(&self) -> JsValue {
        let o = self.pair();
        put(&o, "at", &JsValue::from_f64(self.at));
        json_stringify(&o)
    }

    fn to_js(&self) -> JsValue {
        let o = self.pair();
        let e = if self.expires.is_finite() {
            JsValue::from_f64(self.expires)
        } else {
            JsValue::NULL
        };
        put(&o, "expiresAt", &e);
        o
    }
}

fn opt_js(s: &Option<Session>) -> JsValue {
    s.as_ref().map(Session::to_js).unwrap_or(JsValue::NULL)
}

// ---------------------------------------------------------------- storage

/// Where the session lives: a JS `Map` (in memory, the default: nothing is
/// shared, so no cross-tab coordination), `localStorage` or any Web Storage, or a
/// custom `{get, set, remove}` adapter (whose methods may return promises).
struct Store {
    obj: JsValue,
    get: Function,
    set: Function,
    rm: Function,
    shared: bool,
}

impl Store {
    fn from_option(v: &JsValue) -> Result<Store, JsValue> {
        let mem = v.is_undefined() || *v == JsValue::NULL || *v == s("memory");
        let obj = if mem {
            js_sys::Map::new().into()
        } else if *v == s("localStorage") {
            global("localStorage")
        } else {
            v.clone()
        };
        let f = |k: &str| get(&obj, k).dyn_into::<Function>().ok();
        let methods = match (f("getItem"), f("setItem"), f("removeItem")) {
            (Some(g), Some(s), Some(r)) => Some((g, s, r)),
            _ => match (f("get"), f("set"), f(if mem { "delete" } else { "remove" })) {
                (Some(g), Some(s), Some(r)) => Some((g, s, r)),
                _ => None,
            },
        };
        match methods {
            Some((get, set, rm)) => Ok(Store {
                obj,
                get,
                set,
                rm,
                shared: !mem,
            }),
            None => Err(js_sys::TypeError::new("GatehouseClient: bad storage option").into()),
        }
    }

    /// The stored string, or null.
    async fn get(&self, key: &JsValue) -> JsValue {
        let v = call_p(&self.get, &self.obj, key, &JsValue::UNDEFINED)
            .await
            .unwrap_or(JsValue::NULL);
        if v.is_string() {
            v
        } else {
            JsValue::NULL
        }
    }

    /// Stores `value`, or removes the key when it is null.
    async fn set(&self, key: &JsValue, value: &JsValue) {
        let _ = if !value.is_string() {
            call_p(&self.rm, &self.obj, key, &JsValue::UNDEFINED)
        } else {
            call_p(&self.set, &self.obj, key, value)
        }
        .await;
    }
}

// ---------------------------------------------------------------- coordination

/// "I am about to spend the refresh token `fp`", announced on the channel and
/// written to the storage lock. The earliest claim (then the lowest id) wins.
#[derive(Clone)]
struct Claim {
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

// ---------------------------------------------------------------- the client

struct Inner {
    base: JsString,
    api_key: JsValue,
    client_id: JsValue,
    key: JsValue,
    lock_key: JsValue,
    margin: f64,
    auto: bool,
    fetch_fn: Function,
    store: Store,
    /// The session as last read from or written to the storage (`raw` is the
    /// stored string it was parsed from, to detect changes by other tabs).
    cache: Cell<Option<Session>>,
    raw: Cell<JsValue>,
    /// The refresh in flight in this instance: every caller awaits this one promise.
    inflight: Cell<Option<Promise>>,
    /// Listener → itself (a Map: its `delete`, bound, is the unsubscribe function).
    listeners: js_sys::Map,
    me: f64,
    chan: Option<BroadcastChannel>,
    /// The latest claim heard from each other instance, by id (raw messages).
    claims: js_sys::Map,
    timer: Cell<JsValue>,
    /// The one callback of both the refresh timer (called with no argument) and
    /// the channel (called with a `MessageEvent`).
    cb: Cell<Option<Rc<Closure<dyn FnMut(JsValue)>>>>,
    closed: Cell<bool>,
}

impl Inner {
    fn coordinated(&self) -> bool {
        self.store.shared
    }

    fn current(&self) -> Option<Session> {
        peek(&self.cache)
    }

    fn emit(&self, event: &str, s: &Option<Session>) {
        let (ev, sv) = (JsValue::from_str(event), opt_js(s));
        for f in Array::from(&self.listeners.values()).iter() {
            let _ = f
                .unchecked_into::<Function>()
                .call2(&JsValue::UNDEFINED, &ev, &sv);
        }
    }

    /// Records a new current session, emits the matching event and re-arms the
    /// proactive refresh timer.
    fn changed(&self, new: Option<Session>, raw: JsValue, event: Option<&str>) {
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
            self.emit(ev, &new);
        }
    }

    /// Reads the session from the storage; picks up what other tabs wrote.
    async fn load(&self) -> Option<Session> {
        let raw = self.store.get(&self.key).await;
        if raw != peek(&self.raw) {
            let s = Session::parse(&raw);
            self.changed(s, raw, None);
        }
        self.current()
    }

    /// Writes the session (or its absence, or the expiry tombstone) to the storage.
    async fn commit(&self, new: Option<Session>, tomb: bool, event: Option<&str>) {
        let raw = match &new {
            Some(x) => x.raw(),
            None if tomb => s(TOMBSTONE),
            None => JsValue::NULL,
        };
        self.store.set(&self.key, &raw).await;
        self.changed(new, raw, event);
    }

    fn post(&self, kind: f64, fp: &JsValue) {
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

    fn on_message(self: &Rc<Self>, data: JsValue) {
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

    /// Reads the storage (or makes sure the session is fresh) in the background.
    fn background(self: &Rc<Self>, fresh: bool) {
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

    async fn read_lock(&self) -> Option<Claim> {
        Claim::from_js(&json_parse(&self.store.get(&self.lock_key).await).ok()?)
    }

    /// Runs the claim protocol for the refresh token `fp`. `None`: this instance
    /// may refresh. `Some(winner)`: another instance is refreshing it.
    async fn contest(&self, fp: &JsValue) -> Option<Claim> {
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
    async fn wait_for(&self, old: &Session, w: &Claim) {
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
    async fn release(&self, fp: &JsValue) {
        self.store.set(&self.lock_key, &JsValue::NULL).await;
        self.post(DONE, fp);
    }

    /// Refreshes `old` unless another instance already did (or is doing) it.
    async fn refresh_coordinated(self: &Rc<Self>, old: Session) -> Result<Session, JsValue> {
        let won = Cell::new(false);
        let r = self.refresh_claimed(&old, &won).await;
        if self.coordinated() && won.get() {
            self.release(&old.refresh).await;
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
            match self.load().await {
                None => return Err(no_session()),
                Some(cur) if cur.refresh != old.refresh => return Ok(cur),
                _ if won.get() || !coordinated => break,
                _ => {}
            }
            // Won the claim: one last look at the storage (above) before spending the token.
            match self.contest(&old.refresh).await {
                Some(w) => self.wait_for(old, &w).await,
                None => won.set(true),
            }
        }
        let body: JsValue = Object::new().into();
        put(&body, "refresh", &old.refresh);
        match self
            .api("POST", "/api/auth/token/refresh/", Some(&body), false)
            .await
        {
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
            // Network failure, throttling, server error: keep the session.
            Err(e) => Err(e),
        }
    }

    /// Single flight: every caller that needs a refresh while one is running
    /// awaits that one.
    async fn refresh_from(self: &Rc<Self>, old: Session) -> Result<Session, JsValue> {
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
    async fn fresh(self: &Rc<Self>) -> Option<Session> {
        let s = self.load().await?;
        if !self.needs_refresh(&s) {
            return Some(s);
        }
        match self.refresh_from(s).await {
            Ok(n) => Some(n),
            // Expired: signed out now. Network failure: try the old token anyway.
            Err(_) => self.current(),
        }
    }

    /// Re-arms the proactive refresh timer for the current session.
    fn schedule(&self) {
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
        // never sooner than a second (a token with a tiny lifetime must not spin).
        let m = self.margin_for(&s);
        let at = s.expires - m + js_sys::Math::random() * m / 4.0;
        let id = set_timeout((*cb).as_ref().unchecked_ref(), (at - now()).max(1000.0));
        unref(&id);
        self.timer.set(id);
    }

    fn resolve(&self, input: JsValue) -> JsValue {
        if input.is_string() && jstr(&input).starts_with("/", 0) {
            self.base.concat(&input).into()
        } else {
            input
        }
    }

    async fn send(
        &self,
        input: &JsValue,
        init: &JsValue,
        token: Option<&JsValue>,
    ) -> Result<Response, JsValue> {
        let init2 = Object::new();
        let mut hsrc = JsValue::UNDEFINED;
        if init.is_object() {
            Object::assign(&init2, init.unchecked_ref());
            hsrc = get(init, "headers");
        }
        if hsrc.is_undefined() && is_request(input) {
            hsrc = get(input, "headers");
        }
        let h = Headers::new(&hsrc)?;
        h.set("X-API-Key", &self.api_key);
        h.set("X-Client-ID", &self.client_id);
        if let Some(t) = token {
            h.set("Authorization", &JsString::from("Bearer ").concat(t));
        }
        put(&init2, "headers", &h);
        let p = self.fetch_fn.call2(&JsValue::UNDEFINED, input, &init2)?;
        Ok(JsFuture::from(Promise::resolve(&p)).await?.unchecked_into())
    }

    /// The drop-in `fetch`: headers, proactive refresh, and on a 401 one refresh
    /// and one retry.
    async fn authed(
        self: &Rc<Self>,
        input: JsValue,
        init: JsValue,
        auth: bool,
    ) -> Result<Response, JsValue> {
        let mut input = self.resolve(input);
        // A Request's body can be read once: keep a copy for the retry.
        let mut spare = if auth && is_request(&input) {
            get(&input, "clone")
                .unchecked_into::<Function>()
                .call2(&input, &JsValue::UNDEFINED, &JsValue::UNDEFINED)
                .ok()
        } else {
            None
        };
        let mut s = if auth { self.fresh().await } else { None };
        let mut retried = !auth;
        loop {
            let resp = self
                .send(&input, &init, s.as_ref().map(|s| &s.access))
                .await?;
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
            if let Some(r) = spare.take() {
                input = r;
            }
        }
    }

    /// A JSON call to the API: resolves with the parsed body, rejects with a
    /// `GatehouseError`.
    async fn api(
        self: &Rc<Self>,
        method: &str,
        path: &str,
        body: Option<&JsValue>,
        auth: bool,
    ) -> Result<JsValue, JsValue> {
        let init: JsValue = Object::new().into();
        put(&init, "method", &s(method));
        if let Some(b) = body {
            put(&init, "body", &json_stringify(b));
            let h: JsValue = Object::new().into();
            put(&h, "Content-Type", &s("application/json"));
            put(&init, "headers", &h);
        }
        let url: JsValue = self.base.concat(&s(path)).into();
        let r = self.authed(url, init, auth).await;
        let resp = r.map_err(|e| {
            let mut msg = get(&e, "message");
            if !msg.is_string() {
                msg = s("Network request failed.");
            }
            gh_error(0.0, &s("network_error"), &msg, &Object::new())
        })?;
        let status = resp.status();
        let text = JsFuture::from(resp.text())
            .await
            .unwrap_or(JsValue::UNDEFINED);
        let data = json_parse(&text).unwrap_or_else(|_| {
            if text.is_string() {
                text
            } else {
                Object::new().into()
            }
        });
        if (200..300).contains(&status) {
            Ok(data)
        } else {
            Err(error_from(status, &data))
        }
    }

    /// Takes `{access, refresh}` from a response as the new session.
    async fn take_pair(&self, data: &JsValue, event: &str) -> Result<Session, JsValue> {
        let s = Session::from_js(data).ok_or_else(bad_response)?;
        self.commit(Some(s.clone()), false, Some(event)).await;
        self.post(DONE, &s.refresh);
        Ok(s)
    }
}

/// A client dropped without `close()` (its JS object collected): stop the timer
/// and the channel, whose callback would otherwise outlive the Rust closure.
impl Drop for Inner {
    fn drop(&mut self) {
        self.closed.set(true);
        self.schedule();
        if let Some(c) = &self.chan {
            c.close();
        }
    }
}

type JsResult = Result<JsValue, JsValue>;

/// One `future_to_promise` instantiation for all methods (a boxed, type-erased
/// future): each distinct future type would otherwise get its own copy.
fn run<F: Future<Output = JsResult> + 'static>(f: F) -> Promise {
    let f: Pin<Box<dyn Future<Output = JsResult>>> = Box::pin(f);
    future_to_promise(f)
}

/// The Gatehouse client. See the package README and the TypeScript declarations.
#[wasm_bindgen(skip_typescript)]
pub struct GatehouseClient {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl GatehouseClient {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GatehouseClient, JsValue> {
        let opt = |k| get(&options, k);
        let (base, api_key, client_id) = (opt("baseUrl"), opt("apiKey"), opt("clientId"));
        for v in [&base, &api_key, &client_id] {
            if !v.is_string() || jstr(v).length() == 0 {
                return Err(js_sys::TypeError::new(
                    "GatehouseClient: baseUrl, apiKey and clientId are required",
                )
                .into());
            }
        }
        let mut base: JsString = base.unchecked_into();
        while base.length() > 0 && base.ends_with("/", base.length() as i32) {
            base = base.slice(0, base.length() - 1);
        }
        let store = Store::from_option(&opt("storage"))?;
        let mut key = opt("storageKey");
        if !key.is_string() {
            key = s("gatehouse.session");
        }
        let margin = opt("refreshMargin").as_f64().unwrap_or(60.0) * 1000.0;
        let auto = opt("autoRefresh") != JsValue::FALSE;
        let fetch_fn = opt("fetch")
            .dyn_into::<Function>()
            .or_else(|_| global("fetch").dyn_into::<Function>())
            .map_err(|_| {
                JsValue::from(js_sys::TypeError::new(
                    "GatehouseClient: no fetch available",
                ))
            })?;
        let ch = opt("channel");
        let chan_name = if ch.is_string() {
            Some(ch)
        } else if ch == JsValue::FALSE || !store.shared {
            None
        } else {
            Some(JsString::from("gatehouse:").concat(&key).into())
        };
        let chan = chan_name
            .filter(|_| global("BroadcastChannel").is_function())
            .and_then(|n| BroadcastChannel::new(&n).ok());
        let inner = Rc::new(Inner {
            base,
            api_key,
            client_id,
            lock_key: jstr(&key).concat(&s(".lock")).into(),
            key,
            margin,
            auto,
            fetch_fn,
            store,
            cache: Cell::new(None),
            raw: Cell::new(JsValue::NULL),
            inflight: Cell::new(None),
            listeners: js_sys::Map::new(),
            me: js_sys::Math::random(),
            chan,
            claims: js_sys::Map::new(),
            timer: Cell::new(JsValue::UNDEFINED),
            cb: Cell::new(None),
            closed: Cell::new(false),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let cb = Rc::new(Closure::new(move |ev: JsValue| {
            if let Some(i) = weak.upgrade() {
                if ev.is_undefined() {
                    i.background(true);
                } else {
                    i.on_message(get(&ev, "data"));
                }
            }
        }));
        if let Some(c) = &inner.chan {
            c.set_onmessage((*cb).as_ref().unchecked_ref());
            unref(c);
        }
        inner.cb.set(Some(cb));
        // A synchronous storage (Web Storage, the in-memory Map) is read now, so
        // `session` is right as soon as the client exists; a custom adapter that
        // returns a promise is read in the background (and arms the timer).
        if let Ok(raw) = inner.store.get.call1(&inner.store.obj, &inner.key) {
            if raw.is_string() {
                inner.changed(Session::parse(&raw), raw, None);
            }
        }
        inner.background(false);
        Ok(GatehouseClient { inner })
    }

    /// The current session as last seen (`null` when signed out).
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> JsValue {
        opt_js(&self.inner.current())
    }

    /// Reads the session from the storage (picks up other tabs' changes).
    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self) -> Promise {
        self.op(Op::GetSession, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    /// The session with an access token fit to send: refreshed first when it is
    /// close to expiry (single flight, like `fetch`). For callers that attach
    /// the token themselves, such as an Angular `HttpInterceptor`.
    #[wasm_bindgen(js_name = freshSession)]
    pub fn fresh_session(&self) -> Promise {
        self.op(
            Op::FreshSession,
            JsValue::NULL,
            JsValue::NULL,
            JsValue::NULL,
        )
    }

    pub fn register(&self, data: JsValue) -> Promise {
        self.op(Op::Register, data, JsValue::NULL, JsValue::NULL)
    }

    pub fn login(&self, email: JsValue, password: JsValue) -> Promise {
        self.op(Op::Login, email, password, JsValue::NULL)
    }

    /// Blacklists the refresh token on the server and forgets the session; the
    /// session is forgotten locally even when the server call fails.
    pub fn logout(&self) -> Promise {
        self.op(Op::Logout, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    pub fn refresh(&self) -> Promise {
        self.op(Op::Refresh, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    pub fn profile(&self) -> Promise {
        self.op(
            Op::Profile("GET"),
            JsValue::UNDEFINED,
            JsValue::NULL,
            JsValue::NULL,
        )
    }

    #[wasm_bindgen(js_name = updateProfile)]
    pub fn update_profile(&self, patch: JsValue) -> Promise {
        self.op(Op::Profile("PATCH"), patch, JsValue::NULL, JsValue::NULL)
    }

    #[wasm_bindgen(js_name = replaceProfile)]
    pub fn replace_profile(&self, data: JsValue) -> Promise {
        self.op(Op::Profile("PUT"), data, JsValue::NULL, JsValue::NULL)
    }

    #[wasm_bindgen(js_name = changePassword)]
    pub fn change_password(
        &self,
        old_password: JsValue,
        new_password: JsValue,
        new_password2: JsValue,
    ) -> Promise {
        self.op(
            Op::ChangePassword,
            old_password,
            new_password,
            new_password2,
        )
    }

    /// Drop-in `fetch`: relative paths (`/api/…`) go to `baseUrl`.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        self.op(Op::Fetch, input, init, JsValue::NULL)
    }

    /// Subscribes to session changes; returns the unsubscribe function.
    #[wasm_bindgen(js_name = onChange)]
    pub fn on_change(&self, callback: JsValue) -> JsValue {
        let set = &self.inner.listeners;
        set.set(&callback, &callback);
        // `set.delete.bind(set, callback)`: an unsubscribe function without a Rust closure.
        get(set, "delete")
            .unchecked_into::<Function>()
            .bind1(set, &callback)
            .into()
    }

    /// Stops the timer and the channel (for hot reload, tests, Node processes).
    pub fn close(&self) {
        let i = &self.inner;
        i.closed.set(true);
        i.schedule();
        if let Some(c) = &i.chan {
            c.close();
        }
    }
}

#[derive(Clone, Copy)]
enum Op {
    GetSession,
    FreshSession,
    Register,
    Login,
    Logout,
    Refresh,
    Profile(&'static str),
    ChangePassword,
    Fetch,
}

impl GatehouseClient {
    /// Every async method goes through this one future (one state machine, one
    /// set of drop glue, instead of one per method).
    fn op(&self, op: Op, a: JsValue, b: JsValue, c: JsValue) -> Promise {
        let i = self.inner.clone();
        run(async move {
            let body: JsValue = Object::new().into();
            let (path, keys): (&str, [&str; 3]) = match op {
                Op::GetSession => return Ok(opt_js(&i.load().await)),
                Op::FreshSession => return Ok(opt_js(&i.fresh().await)),
                Op::Fetch => return Ok(i.authed(a, b, true).await?.into()),
                Op::Refresh => {
                    let s = i.load().await.ok_or_else(no_session)?;
                    return Ok(i.refresh_from(s).await?.to_js());
                }
                Op::Logout => {
                    if let Some(s) = i.load().await {
                        put(&body, "refresh", &s.refresh);
                        let _ = i.api("POST", "/api/auth/logout/", Some(&body), true).await;
                        i.commit(None, false, Some("signedOut")).await;
                        i.post(DONE, &s.refresh);
                    }
                    return Ok(JsValue::UNDEFINED);
                }
                Op::Profile(method) => {
                    return i
                        .api(
                            method,
                            "/api/auth/profile/",
                            if a.is_undefined() { None } else { Some(&a) },
                            true,
                        )
                        .await
                }
                Op::Register => ("/api/auth/register/", ["", "", ""]),
                Op::Login => ("/api/auth/token/", ["email", "password", ""]),
                Op::ChangePassword => (
                    "/api/auth/change-password/",
                    ["old_password", "new_password", "new_password2"],
                ),
            };
            let body = if keys[0].is_empty() {
                a
            } else {
                for (k, v) in keys.iter().zip([&a, &b, &c]) {
                    if !k.is_empty() {
                        put(&body, k, v);
                    }
                }
                body
            };
            let r = i
                .api("POST", path, Some(&body), matches!(op, Op::ChangePassword))
                .await?;
            let s = i
                .take_pair(
                    &r,
                    if matches!(op, Op::ChangePassword) {
                        "refreshed"
                    } else {
                        "signedIn"
                    },
                )
                .await?;
            Ok(if matches!(op, Op::Login) {
                s.to_js()
            } else {
                r
            })
        })
    }
}

/// True for the errors this package rejects with.
#[wasm_bindgen(js_name = isGatehouseError, skip_typescript)]
pub fn is_gatehouse_error(e: &JsValue) -> bool {
    get(e, "name") == s("GatehouseError")
}
