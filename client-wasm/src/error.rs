//! `GatehouseError`: what every rejected promise carries.

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::host::{get, put, s};

/// Builds the error that every rejection of the high-level methods carries: a real
/// `Error` named `GatehouseError` with `status`, `code`, `detail` and `fields`.
pub(crate) fn gh_error(status: f64, code: &JsValue, detail: &JsValue, fields: &JsValue) -> JsValue {
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
pub(crate) fn error_from(status: u16, data: &JsValue) -> JsValue {
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

pub(crate) fn status_of(e: &JsValue) -> f64 {
    get(e, "status").as_f64().unwrap_or(0.0)
}

pub(crate) fn bad_response() -> JsValue {
    simple_error(0.0, "bad_response", "Response had no tokens.")
}

pub(crate) fn no_session() -> JsValue {
    simple_error(401.0, "no_session", "Not signed in.")
}

pub(crate) fn closed_error() -> JsValue {
    simple_error(0.0, "closed", "The client is closed.")
}

/// A refresh not attempted because the last one failed moments ago.
pub(crate) fn backoff_error() -> JsValue {
    simple_error(
        0.0,
        "network_error",
        "Server unreachable; the refresh is retried with backoff.",
    )
}
