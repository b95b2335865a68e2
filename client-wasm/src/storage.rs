//! Where the session is kept: memory, Web Storage or a custom adapter.

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::host::{call_p, get, global, s};

/// Storage value left behind when the server rejected the refresh token, so that
/// other tabs report `sessionExpired` rather than `signedOut`.
pub(crate) const TOMBSTONE: &str = "x";

/// Where the session lives: a JS `Map` (in memory, the default: nothing is
/// shared, so no cross-tab coordination), `localStorage` or any Web Storage, or a
/// custom `{get, set, remove}` adapter (whose methods may return promises).
pub(crate) struct Store {
    pub(crate) obj: JsValue,
    pub(crate) get: Function,
    set: Function,
    rm: Function,
    pub(crate) shared: bool,
}

impl Store {
    pub(crate) fn from_option(v: &JsValue) -> Result<Store, JsValue> {
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
    pub(crate) async fn get(&self, key: &JsValue) -> JsValue {
        let v = call_p(&self.get, &self.obj, key, &JsValue::UNDEFINED)
            .await
            .unwrap_or(JsValue::NULL);
        if v.is_string() {
            v
        } else {
            JsValue::NULL
        }
    }

    /// Starts storing `value` (or removing the key) without waiting: for
    /// synchronous moments such as `pagehide` and the heartbeat timer.
    pub(crate) fn set_now(&self, key: &JsValue, value: &JsValue) -> JsFuture {
        if !value.is_string() {
            call_p(&self.rm, &self.obj, key, &JsValue::UNDEFINED)
        } else {
            call_p(&self.set, &self.obj, key, value)
        }
    }

    /// Stores `value`, or removes the key when it is null.
    pub(crate) async fn set(&self, key: &JsValue, value: &JsValue) {
        let _ = self.set_now(key, value).await;
    }
}
