//! What the client takes from the host (browser, Node, Worker) instead of
//! shipping its own: timers, base64, JSON, `Response`, `BroadcastChannel`; the
//! package's JS shell (`Shell`: the checked options, the storage adapter, the
//! event and refresh-request functions); and small helpers for JS values.

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Function, JsString, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(cb: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(id: &JsValue);
    /// `setInterval(cb, ms, arg)`: `cb` is called with `arg`.
    #[wasm_bindgen(js_name = setInterval)]
    pub(crate) fn set_interval(cb: &Function, ms: f64, arg: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = clearInterval)]
    pub(crate) fn clear_interval(id: &JsValue);
    #[wasm_bindgen(catch)]
    pub(crate) fn atob(s: &JsString) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub(crate) fn json_parse(s: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    pub(crate) fn json_stringify(v: &JsValue) -> JsValue;

    pub(crate) type Response;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn status(this: &Response) -> u16;

    pub(crate) type BroadcastChannel;
    #[wasm_bindgen(method, js_name = postMessage, catch)]
    pub(crate) fn post_message(this: &BroadcastChannel, msg: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_onmessage(this: &BroadcastChannel, cb: &Function);
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &BroadcastChannel);

    /// What the JS shell (js/client.js) hands the core: the options, checked and
    /// normalised there, and the calls the core makes back into it.
    pub(crate) type Shell;
    /// `{get, set, remove}`, each of which may return a promise.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn store(this: &Shell) -> Store;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn key(this: &Shell) -> JsValue;
    /// True when other tabs or instances may see the storage (not memory).
    #[wasm_bindgen(method, getter)]
    pub(crate) fn shared(this: &Shell) -> bool;
    /// The refresh margin in ms.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn margin(this: &Shell) -> f64;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn auto(this: &Shell) -> bool;
    /// A `BroadcastChannel`, or undefined.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn chan(this: &Shell) -> JsValue;
    /// Tells the app's listeners: `emit(event, session)`.
    #[wasm_bindgen(method)]
    pub(crate) fn emit(this: &Shell, event: &str, session: &JsValue);
    /// The refresh request: resolves with `{access, refresh}`, rejects with a
    /// `GatehouseError` (`status` 401: the token was refused).
    #[wasm_bindgen(method)]
    pub(crate) fn renew(this: &Shell, refresh: &JsValue) -> Promise;

    pub(crate) type Store;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn get(this: &Store, key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn set(this: &Store, key: &JsValue, value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    pub(crate) fn remove(this: &Store, key: &JsValue) -> Result<JsValue, JsValue>;
}

// ---------------------------------------------------------------- small helpers

pub(crate) fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

pub(crate) fn put(o: &JsValue, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

pub(crate) fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

pub(crate) fn jstr(v: &JsValue) -> &JsString {
    v.unchecked_ref()
}

/// The one callback of a client's refresh timer (called with no argument),
/// its claim's heartbeat (with 1) and its channel (with a `MessageEvent`).
pub(crate) type Callback = Rc<Closure<dyn FnMut(JsValue)>>;

pub(crate) fn now() -> f64 {
    js_sys::Date::now()
}

/// Reads a `Cell` holding a non-`Copy` value (take, clone, put back): `Cell`
/// instead of `RefCell` keeps borrow-panic paths (and `core::fmt`) out.
pub(crate) fn peek<T: Clone + Default>(c: &Cell<T>) -> T {
    let v = c.take();
    let out = v.clone();
    c.set(v);
    out
}

/// Node keeps a process alive while a timer is referenced; the client's
/// background timers must not do that.
pub(crate) fn unref(v: &JsValue) {
    if let Ok(f) = get(v, "unref").dyn_into::<Function>() {
        let _ = f.call0(v);
    }
}

/// The promise of a value that may be one.
pub(crate) fn later(v: Result<JsValue, JsValue>) -> JsFuture {
    JsFuture::from(Promise::resolve(&v.unwrap_or(JsValue::NULL)))
}

/// A timer someone awaits: not unref'd (Node would exit under the awaiting code).
pub(crate) fn sleep(ms: f64) -> JsFuture {
    // `new_typed`: the constructor binding `future_to_promise` already imports.
    JsFuture::from(Promise::new_typed::<JsValue>(&mut |resolve, _| {
        set_timeout(resolve.unchecked_ref(), ms);
    }))
}
