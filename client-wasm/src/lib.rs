//! `@gatehouse/client`: Gatehouse's JavaScript client, in Rust, built with wasm-pack.
//!
//! It holds the tokens, attaches `Authorization`, `X-API-Key` and `X-Client-ID`,
//! refreshes before expiry and never lets two refreshes of one refresh token race:
//! one refresh per instance at a time (single flight), and across tabs or
//! instances that share a storage, a claim protocol over `BroadcastChannel` plus a
//! lock entry in the storage itself (no Web Locks).
//!
//! Size matters here (the package's budget is 25 KB gzip, wasm + JS glue): JSON,
//! fetch and timers are the host's, through `js-sys` and a few `extern` imports;
//! no `serde`, no `format!` or other `core::fmt` users.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

mod rt;
mod ts;

/// Without `std` (the release build): no panic machinery at all, so nothing pulls
/// `core::fmt` in. A panic traps; the client's code is written not to panic.
#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod bare {
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }

    #[global_allocator]
    static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;
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

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(cb: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    type Headers;
    #[wasm_bindgen(constructor, catch)]
    fn new(init: &JsValue) -> Result<Headers, JsValue>;
    #[wasm_bindgen(method)]
    fn set(this: &Headers, name: &str, value: &str);

    type Response;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Response) -> u16;
    #[wasm_bindgen(method)]
    fn text(this: &Response) -> Promise;

    type BroadcastChannel;
    #[wasm_bindgen(constructor, catch)]
    fn new(name: &str) -> Result<BroadcastChannel, JsValue>;
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

fn cat(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len());
    s.push_str(a);
    s.push_str(b);
    s
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Calls `f` (which may return a value or a promise) and awaits the result.
async fn call_await(f: &Function, this: &JsValue, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
    let v = f.call2(this, a, b)?;
    if get(&v, "then").is_function() {
        JsFuture::from(Promise::resolve(&v)).await
    } else {
        Ok(v)
    }
}

/// A timer someone awaits: not unref'd (Node would exit under the awaiting code).
async fn sleep(ms: f64) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// Builds the error that every rejection of the high-level methods carries: a real
/// `Error` named `GatehouseError` with `status`, `code`, `detail` and `fields`.
fn gh_error(status: f64, code: &str, detail: &str, fields: &JsValue) -> JsValue {
    let e = js_sys::Error::new(detail);
    e.set_name("GatehouseError");
    let v: JsValue = e.into();
    put(&v, "status", &JsValue::from_f64(status));
    put(&v, "code", &JsValue::from_str(code));
    put(&v, "detail", &JsValue::from_str(detail));
    put(&v, "fields", fields);
    v
}

/// Maps a DRF/simplejwt-shaped error body to a `GatehouseError`:
/// `{"detail", "code"}` for general errors, `{"field": ["message", …]}` for validation.
fn error_from(status: u16, data: &JsValue) -> JsValue {
    let fields = Object::new();
    let mut first: Option<String> = None;
    if data.is_object() {
        let keys = Object::keys(data.unchecked_ref::<Object>());
        for k in keys.iter() {
            let v = Reflect::get(data, &k).unwrap_or(JsValue::UNDEFINED);
            if Array::is_array(&v) {
                if first.is_none() {
                    first = Array::from(&v).get(0).as_string();
                }
                let _ = Reflect::set(&fields, &k, &v);
            }
        }
    }
    let has_fields = first.is_some();
    let detail = get(data, "detail")
        .as_string()
        .or(first)
        .or_else(|| data.as_string())
        .unwrap_or_else(|| String::from("Request failed."));
    let code = get(data, "code").as_string().unwrap_or_else(|| {
        String::from(if has_fields { "invalid" } else { "error" })
    });
    gh_error(status as f64, &code, &detail, &fields)
}

fn status_of(e: &JsValue) -> f64 {
    get(e, "status").as_f64().unwrap_or(0.0)
}

fn no_session() -> JsValue {
    gh_error(401.0, "no_session", "Not signed in.", &Object::new())
}

/// Decodes base64url (padding and the standard alphabet tolerated).
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The `exp` and `iat` claims of a JWT (NaN when absent or unreadable). The
/// signature is not checked: the client only needs to know when to refresh.
pub fn jwt_times(jwt: &str) -> (f64, f64) {
    let nan = (f64::NAN, f64::NAN);
    let Some(payload) = jwt.split('.').nth(1) else { return nan };
    let Some(bytes) = b64url_decode(payload) else { return nan };
    let Ok(text) = core::str::from_utf8(&bytes) else { return nan };
    let Ok(claims) = JSON::parse(text) else { return nan };
    let n = |k| get(&claims, k).as_f64().unwrap_or(f64::NAN);
    (n("exp"), n("iat"))
}

// ---------------------------------------------------------------- session

#[derive(Clone)]
struct Session {
    access: String,
    refresh: String,
    /// Local time (ms) the pair was received.
    at: f64,
    /// Local time (ms) the access token expires: `at + (exp - iat)`, which is
    /// immune to clock skew between client and server; NaN if unknown.
    expires: f64,
    /// The access token's lifetime in ms (NaN if unknown).
    life: f64,
}

impl Session {
    fn new(access: String, refresh: String, at: f64) -> Session {
        let (exp, iat) = jwt_times(&access);
        let life = (exp - iat) * 1000.0;
        let expires = if life.is_finite() { at + life } else { exp * 1000.0 };
        Session { access, refresh, at, expires, life }
    }

    /// From a server response or a stored value: `{access, refresh[, at]}`.
    fn from_js(v: &JsValue) -> Option<Session> {
        let access = get(v, "access").as_string()?;
        let refresh = get(v, "refresh").as_string()?;
        let at = get(v, "at").as_f64().unwrap_or_else(now);
        Some(Session::new(access, refresh, at))
    }

    fn parse(raw: &str) -> Option<Session> {
        Session::from_js(&JSON::parse(raw).ok()?)
    }

    fn pair(&self) -> Object {
        let o = Object::new();
        put(&o, "access", &JsValue::from_str(&self.access));
        put(&o, "refresh", &JsValue::from_str(&self.refresh));
        o
    }

    fn raw(&self) -> String {
        let o = self.pair();
        put(&o, "at", &JsValue::from_f64(self.at));
        JSON::stringify(&o).ok().and_then(|s| s.as_string()).unwrap_or_default()
    }

    fn to_js(&self) -> JsValue {
        let o = self.pair();
        let e = if self.expires.is_finite() { JsValue::from_f64(self.expires) } else { JsValue::NULL };
        put(&o, "expiresAt", &e);
        o.into()
    }

    /// Last characters of the refresh token (its signature): names the token in
    /// claims and locks without spreading the token itself.
    fn fp(&self) -> String {
        let r = &self.refresh;
        String::from(r.get(r.len().saturating_sub(16)..).unwrap_or(r))
    }
}

fn opt_js(s: &Option<Session>) -> JsValue {
    s.as_ref().map(Session::to_js).unwrap_or(JsValue::NULL)
}

// ---------------------------------------------------------------- storage

enum Store {
    /// In-memory (the default): nothing is shared, so no cross-tab coordination.
    Mem(RefCell<Option<String>>),
    /// `localStorage`, any Web Storage, or a custom `{get, set, remove}` adapter
    /// (whose methods may return promises).
    Js { obj: JsValue, get: Function, set: Function, rm: Function },
}

impl Store {
    fn from_option(v: &JsValue) -> Result<Store, JsValue> {
        let name = v.as_string();
        if v.is_undefined() || v.is_null() || name.as_deref() == Some("memory") {
            return Ok(Store::Mem(RefCell::new(None)));
        }
        let obj = if name.as_deref() == Some("localStorage") {
            get(&js_sys::global(), "localStorage")
        } else {
            v.clone()
        };
        let f = |k: &str| get(&obj, k).dyn_into::<Function>().ok();
        if let (Some(g), Some(s), Some(r)) = (f("getItem"), f("setItem"), f("removeItem")) {
            return Ok(Store::Js { obj, get: g, set: s, rm: r });
        }
        if let (Some(g), Some(s), Some(r)) = (f("get"), f("set"), f("remove")) {
            return Ok(Store::Js { obj, get: g, set: s, rm: r });
        }
        Err(js_sys::TypeError::new(
            "storage must be 'memory', 'localStorage', a Web Storage or an object with get, set and remove",
        )
        .into())
    }

    fn shared(&self) -> bool {
        matches!(self, Store::Js { .. })
    }

    async fn get(&self, key: &str) -> Option<String> {
        match self {
            Store::Mem(m) => m.borrow().clone(),
            Store::Js { obj, get, .. } => call_await(get, obj, &JsValue::from_str(key), &JsValue::UNDEFINED)
                .await
                .ok()
                .and_then(|v| v.as_string()),
        }
    }

    async fn set(&self, key: &str, value: Option<&str>) {
        match self {
            Store::Mem(m) => *m.borrow_mut() = value.map(String::from),
            Store::Js { obj, set, rm, .. } => {
                let k = JsValue::from_str(key);
                let _ = match value {
                    Some(v) => call_await(set, obj, &k, &JsValue::from_str(v)).await,
                    None => call_await(rm, obj, &k, &JsValue::UNDEFINED).await,
                };
            }
        }
    }
}

// ---------------------------------------------------------------- coordination

/// "I am about to spend the refresh token `fp`", announced on the channel and
/// written to the storage lock. The earliest claim (then the lowest id) wins.
#[derive(Clone)]
struct Claim {
    id: f64,
    at: f64,
    fp: String,
}

impl Claim {
    fn before(&self, o: &Claim) -> bool {
        self.at < o.at || (self.at == o.at && self.id < o.id)
    }
    fn live(&self, fp: &str) -> bool {
        self.fp == fp && now() - self.at < LOCK_MS
    }
    fn to_js(&self, kind: &str) -> JsValue {
        let o = Object::new();
        put(&o, "k", &JsValue::from_str(kind));
        put(&o, "i", &JsValue::from_f64(self.id));
        put(&o, "a", &JsValue::from_f64(self.at));
        put(&o, "f", &JsValue::from_str(&self.fp));
        o.into()
    }
    fn from_js(v: &JsValue) -> Option<Claim> {
        Some(Claim { id: get(v, "i").as_f64()?, at: get(v, "a").as_f64()?, fp: get(v, "f").as_string()? })
    }
}

// ---------------------------------------------------------------- the client

struct Inner {
    base: String,
    api_key: String,
    client_id: String,
    key: String,
    lock_key: String,
    margin: f64,
    auto: bool,
    fetch_fn: Function,
    store: Store,
    /// The session as last read from or written to the storage (`raw` is the
    /// stored string it was parsed from, to detect changes by other tabs).
    cache: RefCell<Option<Session>>,
    raw: RefCell<Option<String>>,
    /// The refresh in flight in this instance: every caller awaits this one promise.
    inflight: RefCell<Option<Promise>>,
    listeners: RefCell<Vec<(u32, Function)>>,
    next_listener: Cell<u32>,
    me: f64,
    chan: Option<BroadcastChannel>,
    claims: RefCell<Vec<Claim>>,
    timer: RefCell<JsValue>,
    timer_cb: RefCell<Option<Closure<dyn FnMut()>>>,
    msg_cb: RefCell<Option<Closure<dyn FnMut(JsValue)>>>,
    closed: Cell<bool>,
}

impl Inner {
    fn coordinated(&self) -> bool {
        self.store.shared()
    }

    fn emit(&self, event: &str, s: &Option<Session>) {
        let list: Vec<Function> = self.listeners.borrow().iter().map(|(_, f)| f.clone()).collect();
        let (ev, sv) = (JsValue::from_str(event), opt_js(s));
        for f in list {
            let _ = f.call2(&JsValue::UNDEFINED, &ev, &sv);
        }
    }

    /// Records a new current session, emits the matching event and re-arms the
    /// proactive refresh timer.
    fn changed(&self, new: Option<Session>, raw: Option<String>, event: Option<&str>) {
        let old = self.cache.replace(new.clone());
        *self.raw.borrow_mut() = raw.clone();
        let ev = event.or(match (&old, &new) {
            (None, Some(_)) => Some("signedIn"),
            (Some(_), None) if raw.as_deref() == Some(TOMBSTONE) => Some("sessionExpired"),
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
        if raw != *self.raw.borrow() {
            let s = raw.as_deref().and_then(Session::parse);
            self.changed(s, raw, None);
        }
        self.cache.borrow().clone()
    }

    /// Writes the session (or its absence, or the expiry tombstone) to the storage.
    async fn commit(&self, s: Option<Session>, tomb: bool, event: Option<&str>) {
        let raw = match &s {
            Some(s) => Some(s.raw()),
            None if tomb => Some(String::from(TOMBSTONE)),
            None => None,
        };
        self.store.set(&self.key, raw.as_deref()).await;
        self.changed(s, raw, event);
    }

    fn post(&self, msg: &JsValue) {
        if let Some(c) = &self.chan {
            c.post_message(msg);
        }
    }

    fn on_message(self: &Rc<Self>, data: JsValue) {
        let Some(c) = Claim::from_js(&data) else { return };
        let mut claims = self.claims.borrow_mut();
        claims.retain(|x| x.id != c.id && now() - x.at < LOCK_MS);
        if get(&data, "k").as_string().as_deref() == Some("c") {
            claims.push(c);
        } else {
            // "d": that instance is done (refreshed, signed in or out): look at the storage.
            let me = self.clone();
            run(async move {
                me.load().await;
                Ok(JsValue::UNDEFINED)
            });
        }
    }

    async fn read_lock(&self) -> Option<Claim> {
        let raw = self.store.get(&self.lock_key).await?;
        Claim::from_js(&JSON::parse(&raw).ok()?)
    }

    /// Runs the claim protocol for the refresh token `fp`. `None`: this instance
    /// may refresh. `Some(winner)`: another instance is refreshing it.
    async fn contest(&self, fp: &str) -> Option<Claim> {
        if let Some(l) = self.read_lock().await {
            if l.id != self.me && l.live(fp) {
                return Some(l);
            }
        }
        let mine = Claim { id: self.me, at: now(), fp: String::from(fp) };
        let msg = mine.to_js("c");
        let lock = JSON::stringify(&msg).ok().and_then(|s| s.as_string()).unwrap_or_default();
        self.store.set(&self.lock_key, Some(&lock)).await;
        self.post(&msg);
        sleep(CLAIM_WINDOW_MS).await;
        let mut best = mine;
        for c in self.claims.borrow().iter() {
            if c.live(fp) && c.before(&best) {
                best = c.clone();
            }
        }
        if let Some(l) = self.read_lock().await {
            // With a channel, every claimant sees the same claims and agrees on the
            // earliest; without one, the storage decides: the last writer wins.
            if l.live(fp) && (if self.chan.is_some() { l.before(&best) } else { l.id != self.me }) {
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
        while w.live(&old.fp()) {
            sleep(POLL_MS).await;
            match self.load().await {
                Some(s) if s.refresh == old.refresh => {}
                _ => return,
            }
            let claimed = self.claims.borrow().iter().any(|c| c.id == w.id);
            let locked = self.read_lock().await.is_some_and(|l| l.id == w.id);
            if !claimed && !locked {
                return;
            }
        }
    }

    async fn release(&self, fp: &str) {
        if self.read_lock().await.is_some_and(|l| l.id == self.me) {
            self.store.set(&self.lock_key, None).await;
        }
        self.post(&Claim { id: self.me, at: now(), fp: String::from(fp) }.to_js("d"));
    }

    /// Refreshes `old` unless another instance already did (or is doing) it.
    async fn refresh_coordinated(self: &Rc<Self>, old: Session) -> Result<Session, JsValue> {
        let fp = old.fp();
        let r = self.refresh_claimed(&old, &fp).await;
        if self.coordinated() {
            self.release(&fp).await;
        }
        r
    }

    async fn refresh_claimed(self: &Rc<Self>, old: &Session, fp: &str) -> Result<Session, JsValue> {
        loop {
            match self.load().await {
                None => return Err(no_session()),
                Some(cur) if cur.refresh != old.refresh => return Ok(cur),
                _ => {}
            }
            if !self.coordinated() {
                break;
            }
            if let Some(w) = self.contest(fp).await {
                self.wait_for(old, &w).await;
                continue;
            }
            // Won the claim: one last look before spending the token.
            match self.load().await {
                None => return Err(no_session()),
                Some(cur) if cur.refresh != old.refresh => return Ok(cur),
                _ => break,
            }
        }
        let body = Object::new();
        put(&body, "refresh", &JsValue::from_str(&old.refresh));
        match self.api("POST", "/api/auth/token/refresh/", Some(&body), false).await {
            Ok(data) => {
                let s = Session::from_js(&data)
                    .ok_or_else(|| gh_error(0.0, "bad_response", "Refresh response had no tokens.", &Object::new()))?;
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
        let running = self.inflight.borrow().clone();
        let p = match running {
            Some(p) => p,
            None => {
                let me = self.clone();
                let p = run(async move {
                    let r = me.refresh_coordinated(old).await;
                    *me.inflight.borrow_mut() = None;
                    r.map(|s| JsValue::from_str(&s.raw()))
                });
                *self.inflight.borrow_mut() = Some(p.clone());
                p
            }
        };
        let v = JsFuture::from(p).await?;
        v.as_string().as_deref().and_then(Session::parse).ok_or_else(no_session)
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
            Err(_) => self.cache.borrow().clone(),
        }
    }

    /// Re-arms the proactive refresh timer for the current session.
    fn schedule(&self) {
        let old = self.timer.replace(JsValue::UNDEFINED);
        if !old.is_undefined() {
            clear_timeout(&old);
        }
        if !self.auto || self.closed.get() {
            return;
        }
        let Some(s) = self.cache.borrow().clone() else { return };
        let Some(cb) = self.timer_cb.borrow().as_ref().map(|c| c.as_ref().clone()) else { return };
        if !s.expires.is_finite() {
            return;
        }
        // Fire inside the margin, with jitter so that tabs don't all wake at once.
        let m = self.margin_for(&s);
        let at = s.expires - m + js_sys::Math::random() * m / 4.0;
        // Never sooner than a second: a token with a tiny lifetime must not spin.
        let id = set_timeout(cb.unchecked_ref(), (at - now()).max(1000.0));
        rt::unref(&id);
        *self.timer.borrow_mut() = id;
    }

    fn resolve(&self, input: JsValue) -> JsValue {
        match input.as_string() {
            Some(s) if s.starts_with('/') => JsValue::from_str(&cat(&self.base, &s)),
            _ => input,
        }
    }

    async fn send(&self, input: &JsValue, init: &JsValue, token: Option<&str>) -> Result<Response, JsValue> {
        let init2 = Object::new();
        let mut hsrc = JsValue::UNDEFINED;
        if init.is_object() {
            Object::assign(&init2, init.unchecked_ref());
            hsrc = get(init, "headers");
        }
        if hsrc.is_undefined() && rt::is_request(input) {
            hsrc = get(input, "headers");
        }
        let h = Headers::new(&hsrc)?;
        h.set("X-API-Key", &self.api_key);
        h.set("X-Client-ID", &self.client_id);
        if let Some(t) = token {
            h.set("Authorization", &cat("Bearer ", t));
        }
        put(&init2, "headers", &h);
        let p = self.fetch_fn.call2(&JsValue::UNDEFINED, input, &init2)?;
        Ok(JsFuture::from(Promise::resolve(&p)).await?.unchecked_into())
    }

    /// The drop-in `fetch`: headers, proactive refresh, and on a 401 one refresh
    /// and one retry.
    async fn authed(self: &Rc<Self>, input: JsValue, init: JsValue) -> Result<Response, JsValue> {
        let input = self.resolve(input);
        let spare = if rt::is_request(&input) {
            Function::from(get(&input, "clone")).call0(&input).ok()
        } else {
            None
        };
        let s = self.fresh().await;
        let resp = self.send(&input, &init, s.as_ref().map(|s| s.access.as_str())).await?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let Some(used) = s else { return Ok(resp) };
        let next = match self.load().await {
            Some(cur) if cur.access != used.access => Ok(cur),
            Some(cur) => self.refresh_from(cur).await,
            None => return Ok(resp),
        };
        match next {
            Ok(n) => self.send(&spare.unwrap_or(input), &init, Some(&n.access)).await,
            Err(_) => Ok(resp),
        }
    }

    /// A JSON call to the API: resolves with the parsed body, rejects with a
    /// `GatehouseError`.
    async fn api(self: &Rc<Self>, method: &str, path: &str, body: Option<&JsValue>, auth: bool) -> Result<JsValue, JsValue> {
        let init = Object::new();
        put(&init, "method", &JsValue::from_str(method));
        if let Some(b) = body {
            put(&init, "body", &JSON::stringify(b)?.into());
            let h = Object::new();
            put(&h, "Content-Type", &JsValue::from_str("application/json"));
            put(&init, "headers", &h);
        }
        let url = JsValue::from_str(&cat(&self.base, path));
        let r = if auth { self.authed(url, init.into()).await } else { self.send(&url, &init.into(), None).await };
        let resp = r.map_err(|e| {
            let msg = get(&e, "message").as_string().unwrap_or_else(|| String::from("Network request failed."));
            gh_error(0.0, "network_error", &msg, &Object::new())
        })?;
        let status = resp.status();
        let text = JsFuture::from(resp.text()).await.ok().and_then(|t| t.as_string()).unwrap_or_default();
        let data = if text.is_empty() { Object::new().into() } else { JSON::parse(&text).unwrap_or_else(|_| JsValue::from_str(&text)) };
        if (200..300).contains(&status) {
            Ok(data)
        } else {
            Err(error_from(status, &data))
        }
    }

    /// Takes `{access, refresh}` from a response as the new session.
    async fn take_pair(&self, data: &JsValue, event: &str) -> Result<Session, JsValue> {
        let s = Session::from_js(data)
            .ok_or_else(|| gh_error(0.0, "bad_response", "Response had no tokens.", &Object::new()))?;
        self.commit(Some(s.clone()), false, Some(event)).await;
        self.post(&Claim { id: self.me, at: now(), fp: s.fp() }.to_js("d"));
        Ok(s)
    }
}

type JsResult = Result<JsValue, JsValue>;

/// One `future_to_promise` instantiation for all methods (a boxed, type-erased
/// future): each distinct future type would otherwise get its own copy.
fn run<F: Future<Output = JsResult> + 'static>(f: F) -> Promise {
    let f: core::pin::Pin<alloc::boxed::Box<dyn Future<Output = JsResult>>> = alloc::boxed::Box::pin(f);
    future_to_promise(f)
}

/// The Gatehouse client. See the package README and `index.d.ts`.
#[wasm_bindgen(skip_typescript)]
pub struct GatehouseClient {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl GatehouseClient {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<GatehouseClient, JsValue> {
        let req = |k: &str| {
            get(&options, k).as_string().filter(|s| !s.is_empty()).ok_or_else(|| {
                JsValue::from(js_sys::TypeError::new(&cat("GatehouseClient: missing option ", k)))
            })
        };
        let mut base = req("baseUrl")?;
        while base.ends_with('/') {
            base.pop();
        }
        let api_key = req("apiKey")?;
        let client_id = req("clientId")?;
        let store = Store::from_option(&get(&options, "storage"))?;
        let key = get(&options, "storageKey").as_string().unwrap_or_else(|| String::from("gatehouse.session"));
        let margin = get(&options, "refreshMargin").as_f64().unwrap_or(60.0) * 1000.0;
        let auto = get(&options, "autoRefresh").as_bool().unwrap_or(true);
        let fetch_fn = get(&options, "fetch")
            .dyn_into::<Function>()
            .or_else(|_| get(&js_sys::global(), "fetch").dyn_into::<Function>())
            .map_err(|_| JsValue::from(js_sys::TypeError::new("GatehouseClient: no fetch available")))?;
        let ch = get(&options, "channel");
        let chan_name = match ch.as_string() {
            Some(n) => Some(n),
            None if ch.as_bool() == Some(false) || !store.shared() => None,
            None => Some(cat("gatehouse:", &key)),
        };
        let chan = chan_name
            .filter(|_| get(&js_sys::global(), "BroadcastChannel").is_function())
            .and_then(|n| BroadcastChannel::new(&n).ok());
        let inner = Rc::new(Inner {
            base,
            api_key,
            client_id,
            lock_key: cat(&key, ".lock"),
            key,
            margin,
            auto,
            fetch_fn,
            store,
            cache: RefCell::new(None),
            raw: RefCell::new(None),
            inflight: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            me: js_sys::Math::random(),
            chan,
            claims: RefCell::new(Vec::new()),
            timer: RefCell::new(JsValue::UNDEFINED),
            timer_cb: RefCell::new(None),
            msg_cb: RefCell::new(None),
            closed: Cell::new(false),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let w = weak.clone();
        *inner.timer_cb.borrow_mut() = Some(Closure::new(move || {
            if let Some(i) = w.upgrade() {
                run(async move {
                    i.fresh().await;
                    Ok(JsValue::UNDEFINED)
                });
            }
        }));
        if let Some(c) = &inner.chan {
            let w = weak;
            let cb = Closure::new(move |ev: JsValue| {
                if let Some(i) = w.upgrade() {
                    i.on_message(get(&ev, "data"));
                }
            });
            c.set_onmessage(cb.as_ref().unchecked_ref());
            rt::unref(c);
            *inner.msg_cb.borrow_mut() = Some(cb);
        }
        // Pick up a stored session now (and arm the timer for it).
        let i = inner.clone();
        run(async move {
            i.load().await;
            Ok(JsValue::UNDEFINED)
        });
        Ok(GatehouseClient { inner })
    }

    /// The current session as last seen (`null` when signed out).
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> JsValue {
        opt_js(&self.inner.cache.borrow())
    }

    /// Reads the session from the storage (picks up other tabs' changes).
    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self) -> Promise {
        let i = self.inner.clone();
        run(async move { Ok(opt_js(&i.load().await)) })
    }

    pub fn register(&self, data: JsValue) -> Promise {
        let i = self.inner.clone();
        run(async move {
            let r = i.api("POST", "/api/auth/register/", Some(&data), false).await?;
            i.take_pair(&r, "signedIn").await?;
            Ok(r)
        })
    }

    pub fn login(&self, email: String, password: String) -> Promise {
        let i = self.inner.clone();
        run(async move {
            let body = Object::new();
            put(&body, "email", &JsValue::from_str(&email));
            put(&body, "password", &JsValue::from_str(&password));
            let r = i.api("POST", "/api/auth/token/", Some(&body), false).await?;
            Ok(i.take_pair(&r, "signedIn").await?.to_js())
        })
    }

    /// Blacklists the refresh token on the server and forgets the session; the
    /// session is forgotten locally even when the server call fails.
    pub fn logout(&self) -> Promise {
        let i = self.inner.clone();
        run(async move {
            if let Some(s) = i.load().await {
                let body = Object::new();
                put(&body, "refresh", &JsValue::from_str(&s.refresh));
                let _ = i.api("POST", "/api/auth/logout/", Some(&body), true).await;
                i.commit(None, false, Some("signedOut")).await;
                i.post(&Claim { id: i.me, at: now(), fp: s.fp() }.to_js("d"));
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    pub fn refresh(&self) -> Promise {
        let i = self.inner.clone();
        run(async move {
            let s = i.load().await.ok_or_else(no_session)?;
            Ok(i.refresh_from(s).await?.to_js())
        })
    }

    pub fn profile(&self) -> Promise {
        let i = self.inner.clone();
        run(async move { i.api("GET", "/api/auth/profile/", None, true).await })
    }

    #[wasm_bindgen(js_name = updateProfile)]
    pub fn update_profile(&self, patch: JsValue) -> Promise {
        let i = self.inner.clone();
        run(async move { i.api("PATCH", "/api/auth/profile/", Some(&patch), true).await })
    }

    #[wasm_bindgen(js_name = replaceProfile)]
    pub fn replace_profile(&self, data: JsValue) -> Promise {
        let i = self.inner.clone();
        run(async move { i.api("PUT", "/api/auth/profile/", Some(&data), true).await })
    }

    #[wasm_bindgen(js_name = changePassword)]
    pub fn change_password(&self, old_password: String, new_password: String, new_password2: String) -> Promise {
        let i = self.inner.clone();
        run(async move {
            let body = Object::new();
            put(&body, "old_password", &JsValue::from_str(&old_password));
            put(&body, "new_password", &JsValue::from_str(&new_password));
            put(&body, "new_password2", &JsValue::from_str(&new_password2));
            let r = i.api("POST", "/api/auth/change-password/", Some(&body), true).await?;
            i.take_pair(&r, "refreshed").await?;
            Ok(r)
        })
    }

    /// Drop-in `fetch`: relative paths (`/api/…`) go to `baseUrl`.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        let i = self.inner.clone();
        run(async move { Ok(i.authed(input, init).await?.into()) })
    }

    /// Subscribes to session changes; returns the unsubscribe function.
    #[wasm_bindgen(js_name = onChange)]
    pub fn on_change(&self, callback: Function) -> JsValue {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id + 1);
        self.inner.listeners.borrow_mut().push((id, callback));
        let w = Rc::downgrade(&self.inner);
        Closure::once_into_js(move || {
            if let Some(i) = w.upgrade() {
                i.listeners.borrow_mut().retain(|(x, _)| *x != id);
            }
        })
    }

    /// Stops the timer and the channel (for hot reload, tests, Node processes).
    pub fn close(&self) {
        let i = &self.inner;
        i.closed.set(true);
        i.schedule();
        if let Some(c) = &i.chan {
            c.close();
        }
        i.listeners.borrow_mut().clear();
    }
}

/// True for the errors this package rejects with.
#[wasm_bindgen(js_name = isGatehouseError, skip_typescript)]
pub fn is_gatehouse_error(e: &JsValue) -> bool {
    get(e, "name").as_string().as_deref() == Some("GatehouseError")
}
