//! What JavaScript sees: the `GatehouseClient` class (options, methods) and
//! `isGatehouseError`. Their TypeScript declarations are in `ts.rs`.

use alloc::rc::{Rc, Weak};
use core::cell::Cell;

use js_sys::{Function, JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::client::{Inner, Op};
use crate::host::{get, global, jstr, s, unref, BroadcastChannel};
use crate::session::{opt_js, Session};
use crate::storage::Store;

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
            held: Cell::new(None),
            beat_timer: Cell::new(JsValue::UNDEFINED),
            fails: Cell::new(0),
            retry_at: Cell::new(0.0),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let cb = Rc::new(Closure::new(move |ev: JsValue| {
            if let Some(i) = weak.upgrade() {
                if ev.is_undefined() {
                    i.background(true);
                } else if ev.as_f64().is_some() {
                    i.beat();
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
        self.inner
            .op(Op::GetSession, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    /// The session with an access token fit to send: refreshed first when it is
    /// close to expiry (single flight, like `fetch`). For callers that attach
    /// the token themselves, such as an Angular `HttpInterceptor`.
    #[wasm_bindgen(js_name = freshSession)]
    pub fn fresh_session(&self) -> Promise {
        self.inner.op(
            Op::FreshSession,
            JsValue::NULL,
            JsValue::NULL,
            JsValue::NULL,
        )
    }

    pub fn register(&self, data: JsValue) -> Promise {
        self.inner
            .op(Op::Register, data, JsValue::NULL, JsValue::NULL)
    }

    pub fn login(&self, email: JsValue, password: JsValue) -> Promise {
        self.inner.op(Op::Login, email, password, JsValue::NULL)
    }

    /// Blacklists the refresh token on the server and forgets the session; the
    /// session is forgotten locally even when the server call fails.
    pub fn logout(&self) -> Promise {
        self.inner
            .op(Op::Logout, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    pub fn refresh(&self) -> Promise {
        self.inner
            .op(Op::Refresh, JsValue::NULL, JsValue::NULL, JsValue::NULL)
    }

    pub fn profile(&self) -> Promise {
        self.inner.op(
            Op::Profile("GET"),
            JsValue::UNDEFINED,
            JsValue::NULL,
            JsValue::NULL,
        )
    }

    #[wasm_bindgen(js_name = updateProfile)]
    pub fn update_profile(&self, patch: JsValue) -> Promise {
        self.inner
            .op(Op::Profile("PATCH"), patch, JsValue::NULL, JsValue::NULL)
    }

    #[wasm_bindgen(js_name = replaceProfile)]
    pub fn replace_profile(&self, data: JsValue) -> Promise {
        self.inner
            .op(Op::Profile("PUT"), data, JsValue::NULL, JsValue::NULL)
    }

    #[wasm_bindgen(js_name = changePassword)]
    pub fn change_password(
        &self,
        old_password: JsValue,
        new_password: JsValue,
        new_password2: JsValue,
    ) -> Promise {
        self.inner.op(
            Op::ChangePassword,
            old_password,
            new_password,
            new_password2,
        )
    }

    /// Drop-in `fetch`: relative paths (`/api/…`) go to `baseUrl`.
    pub fn fetch(&self, input: JsValue, init: JsValue) -> Promise {
        self.inner.op(Op::Fetch, input, init, JsValue::NULL)
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

    /// What the page tells the client (the package's JS wires it to events):
    /// 0 `online` or visible again (retry a failed refresh now), 1 `pagehide`
    /// (give up a held refresh claim so that other tabs take over at once).
    pub fn signal(&self, kind: u32) {
        self.inner.signal(kind);
    }

    /// Stops the timer and the channel (for hot reload, tests, Node processes).
    pub fn close(&self) {
        self.inner.close();
    }
}

/// True for the errors this package rejects with.
#[wasm_bindgen(js_name = isGatehouseError, skip_typescript)]
pub fn is_gatehouse_error(e: &JsValue) -> bool {
    get(e, "name") == s("GatehouseError")
}
