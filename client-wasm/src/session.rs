//! The token pair and when it expires (read from the access token itself).

use js_sys::Object;
use wasm_bindgen::JsValue;

use crate::host::{atob, get, json_parse, json_stringify, jstr, now, put};

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

#[derive(Clone, Default)]
pub(crate) struct Session {
    pub(crate) access: JsValue,
    pub(crate) refresh: JsValue,
    /// Local time (ms) the pair was received.
    at: f64,
    /// Local time (ms) the access token expires: `at + (exp - iat)`, which is
    /// immune to clock skew between client and server; NaN if unknown.
    pub(crate) expires: f64,
    /// The access token's lifetime in ms (NaN if unknown).
    pub(crate) life: f64,
}

impl Session {
    /// From a server response or a stored value: `{access, refresh[, at]}`.
    pub(crate) fn from_js(v: &JsValue) -> Option<Session> {
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

    pub(crate) fn parse(raw: &JsValue) -> Option<Session> {
        Session::from_js(&json_parse(raw).ok()?)
    }

    fn pair(&self) -> JsValue {
        let o: JsValue = Object::new().into();
        put(&o, "access", &self.access);
        put(&o, "refresh", &self.refresh);
        o
    }

    pub(crate) fn raw(&self) -> JsValue {
        let o = self.pair();
        put(&o, "at", &JsValue::from_f64(self.at));
        json_stringify(&o)
    }

    pub(crate) fn to_js(&self) -> JsValue {
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

pub(crate) fn opt_js(s: &Option<Session>) -> JsValue {
    s.as_ref().map(Session::to_js).unwrap_or(JsValue::NULL)
}
