//! What the client takes from the host (browser, Node, Worker) instead of
//! shipping its own: timers, base64, JSON, `Headers`, `Response`,
//! `BroadcastChannel`, plus the small helpers every module uses to read and
//! build JS values.

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

    pub(crate) type Headers;
    #[wasm_bindgen(constructor, catch)]
    pub(crate) fn new(init: &JsValue) -> Result<Headers, JsValue>;
    #[wasm_bindgen(method)]
    pub(crate) fn set(this: &Headers, name: &str, value: &JsValue);

    pub(crate) type Response;
    #[wasm_bindgen(method, getter)]
    pub(crate) fn status(this: &Response) -> u16;
    #[wasm_bindgen(method)]
    pub(crate) fn text(this: &Response) -> Promise;

    pub(crate) type BroadcastChannel;
    #[wasm_bindgen(constructor, catch)]
    pub(crate) fn new(name: &JsValue) -> Result<BroadcastChannel, JsValue>;
    #[wasm_bindgen(method, js_name = postMessage, catch)]
    pub(crate) fn post_message(this: &BroadcastChannel, msg: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    pub(crate) fn set_onmessage(this: &BroadcastChannel, cb: &Function);
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &BroadcastChannel);
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

pub(crate) fn global(k: &str) -> JsValue {
    get(&js_sys::global(), k)
}

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

/// Node keeps a process alive while a timer or a `BroadcastChannel` is
/// referenced; the client's background timer and channel must not do that.
pub(crate) fn unref(v: &JsValue) {
    if let Ok(f) = get(v, "unref").dyn_into::<Function>() {
        let _ = f.call2(v, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
    }
}

/// Duck-typed `input instanceof Request` (works whatever realm built the Request).
pub(crate) fn is_request(v: &JsValue) -> bool {
    !v.is_string() && get(v, "clone").is_function()
}

/// Calls `f` (which may return a value or a promise): the promise of its result.
pub(crate) fn call_p(f: &Function, this: &JsValue, a: &JsValue, b: &JsValue) -> JsFuture {
    JsFuture::from(Promise::resolve(
        &f.call2(this, a, b).unwrap_or(JsValue::NULL),
    ))
}

/// A timer someone awaits: not unref'd (Node would exit under the awaiting code).
pub(crate) fn sleep(ms: f64) -> JsFuture {
    // `new_typed`: the constructor binding `future_to_promise` already imports.
    JsFuture::from(Promise::new_typed::<JsValue>(&mut |resolve, _| {
        set_timeout(resolve.unchecked_ref(), ms);
    }))
}
