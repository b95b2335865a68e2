//! What JavaScript sees: the core class the package's JS shell (js/client.js)
//! wraps. The shell checks the options, owns the listeners, the errors and the
//! plain JSON calls; the public TypeScript declarations are js/index.d.ts.

use alloc::rc::{Rc, Weak};
use core::cell::Cell;

use js_sys::{JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::claim::Coordinator;
use crate::client::{Inner, Op};
use crate::host::{get, s, BroadcastChannel, Shell};
use crate::session::{opt_js, Session};

/// The wasm core of `GatehouseClient` (see js/client.js).
#[wasm_bindgen(skip_typescript)]
pub struct GatehouseClient {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl GatehouseClient {
    /// `shell`: the options as js/client.js checked them, plus its callbacks
    /// (see `host::Shell`).
    #[wasm_bindgen(constructor)]
    pub fn new(shell: JsValue) -> GatehouseClient {
        let shell: Shell = shell.unchecked_into();
        let key = shell.key();
        let chan = shell.chan();
        let lock_key = JsString::from(key.clone()).concat(&s(".lock")).into();
        let chan = chan
            .is_object()
            .then(|| chan.unchecked_into::<BroadcastChannel>());
        let store = shell.store();
        let inner = Rc::new(Inner {
            coord: Coordinator::new(store.clone().unchecked_into(), lock_key, chan),
            key,
            margin: shell.margin(),
            auto: shell.auto(),
            store,
            shared: shell.shared(),
            shell,
            cache: Cell::new(None),
            raw: Cell::new(JsValue::NULL),
            inflight: Cell::new(None),
            timer: Cell::new(JsValue::UNDEFINED),
            cb: Cell::new(None),
            closed: Cell::new(false),
            fails: Cell::new(0),
            retry_at: Cell::new(0.0),
        });
        let weak: Weak<Inner> = Rc::downgrade(&inner);
        let cb = Rc::new(Closure::new(move |ev: JsValue| {
            if let Some(i) = weak.upgrade() {
                if ev.is_undefined() {
                    i.background(true);
                } else if ev.as_f64().is_some() {
                    i.coord.beat();
                } else {
                    i.on_message(get(&ev, "data"));
                }
            }
        }));
        if let Some(c) = &inner.coord.chan {
            c.set_onmessage((*cb).as_ref().unchecked_ref());
        }
        inner.coord.set_callback(cb.clone());
        inner.cb.set(Some(cb));
        // A synchronous storage (Web Storage, memory) is read now, so `session`
        // is right as soon as the client exists; a custom adapter that returns a
        // promise is read in the background (and arms the timer).
        if let Ok(raw) = inner.store.get(&inner.key) {
            if raw.is_string() {
                inner.changed(Session::parse(&raw), raw, None);
            }
        }
        inner.background(false);
        GatehouseClient { inner }
    }

    /// The current session as last seen (`null` when signed out).
    #[wasm_bindgen(getter)]
    pub fn session(&self) -> JsValue {
        opt_js(&self.inner.current())
    }

    /// Reads the session from the storage (picks up other tabs' changes).
    #[wasm_bindgen(js_name = getSession)]
    pub fn get_session(&self) -> Promise {
        self.inner.op(Op::GetSession, JsValue::NULL)
    }

    /// The session with an access token fit to send: refreshed first when it is
    /// close to expiry (single flight, like `fetch`).
    #[wasm_bindgen(js_name = freshSession)]
    pub fn fresh_session(&self) -> Promise {
        self.inner.op(Op::FreshSession, JsValue::NULL)
    }

    pub fn refresh(&self) -> Promise {
        self.inner.op(Op::Refresh, JsValue::NULL)
    }

    /// `send(token)` sends the request with the access token given (see `Inner::authed`).
    pub fn fetch(&self, send: JsValue) -> Promise {
        self.inner.op(Op::Fetch, send)
    }

    /// A new pair from the server (`{access, refresh}`) as the session;
    /// `refreshed`: a password change (else a sign-in). Resolves with the session.
    pub fn take(&self, pair: JsValue, refreshed: bool) -> Promise {
        let ev = if refreshed { "refreshed" } else { "signedIn" };
        self.inner.op(Op::Take(ev), pair)
    }

    /// Forgets the session (after the shell's logout call), telling the other tabs.
    pub fn forget(&self) -> Promise {
        self.inner.op(Op::Forget, JsValue::NULL)
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
