//! The core's own rejections: a bare code, which the JS shell turns into a
//! `GatehouseError` (status, message) — the messages live in JS, not in the wasm.
//! Errors from the network and the server (a `TypeError`, a `GatehouseError`
//! made by the shell's refresh request) pass through as they are.

use wasm_bindgen::JsValue;

use crate::host::{get, s};

pub(crate) fn status_of(e: &JsValue) -> f64 {
    get(e, "status").as_f64().unwrap_or(0.0)
}

/// No tokens in an answer that should have had them.
pub(crate) fn bad_response() -> JsValue {
    s("bad_response")
}

pub(crate) fn no_session() -> JsValue {
    s("no_session")
}

pub(crate) fn closed_error() -> JsValue {
    s("closed")
}

/// A refresh not attempted because the last one failed moments ago.
pub(crate) fn backoff_error() -> JsValue {
    s("backoff")
}
