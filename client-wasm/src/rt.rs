//! Host-runtime odds and ends.

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};

use crate::get;

/// Node keeps a process alive while a timer or a `BroadcastChannel` is
/// referenced; the client's own timers and channel must not do that.
pub fn unref(v: &JsValue) {
    if let Ok(f) = get(v, "unref").dyn_into::<Function>() {
        let _ = f.call0(v);
    }
}

/// Duck-typed `input instanceof Request` (works whatever realm built the Request).
pub fn is_request(v: &JsValue) -> bool {
    v.is_object() && get(v, "clone").is_function() && get(v, "headers").is_object()
}
