//! Where the session is kept: the shell's `{get, set, remove}` adapter over
//! memory, Web Storage or the app's own (whose methods may return promises).

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::host::{later, Store};

/// Storage value left behind when the server rejected the refresh token, so that
/// other tabs report `sessionExpired` rather than `signedOut`.
pub(crate) const TOMBSTONE: &str = "x";

impl Store {
    /// The stored string, or null.
    pub(crate) async fn read(&self, key: &JsValue) -> JsValue {
        let v = later(self.get(key)).await.unwrap_or(JsValue::NULL);
        if v.is_string() {
            v
        } else {
            JsValue::NULL
        }
    }

    /// Starts storing `value` (or removing the key) without waiting: for
    /// synchronous moments such as `pagehide` and the heartbeat timer.
    pub(crate) fn write_now(&self, key: &JsValue, value: &JsValue) -> JsFuture {
        later(if value.is_string() {
            self.set(key, value)
        } else {
            self.remove(key)
        })
    }

    /// Stores `value`, or removes the key when it is not a string.
    pub(crate) async fn write(&self, key: &JsValue, value: &JsValue) {
        let _ = self.write_now(key, value).await;
    }
}
