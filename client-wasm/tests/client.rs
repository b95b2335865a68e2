//! wasm-bindgen-test suite: runs in Node (the default) and in headless Chromium
//! (`WASM_BINDGEN_USE_BROWSER=1`, see scripts/test-client-wasm.sh). The scenarios
//! themselves are JavaScript (tests/scenarios.js): they use the client the way an
//! app does, through the class wasm-bindgen exports.
#![cfg(target_arch = "wasm32")]

use client::{jwt_times, GatehouseClient};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

// The package's JS shell around the core: the scenarios use the client as the
// package ships it (profile calls and `GatehouseError` live there).
#[wasm_bindgen(module = "/js/client.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeClient)]
    fn make_client(loaded: &JsValue, get_core: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = isGatehouseError)]
    fn is_gatehouse_error(e: &JsValue) -> bool;
}

#[wasm_bindgen(module = "/tests/scenarios.js")]
extern "C" {
    fn ctor(f: &JsValue) -> JsValue;
    #[wasm_bindgen(catch)]
    async fn run(name: &str, make: &JsValue, api: &JsValue) -> Result<JsValue, JsValue>;
}

async fn scenario(name: &str) {
    let core = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(|o: JsValue| {
        Ok(GatehouseClient::new(o).into())
    });
    // The shell calls `new (getCore())(options)`: a plain function (a closure's
    // wrapper is not a constructor) that returns the core object.
    let core_fn = ctor(core.as_ref());
    let get_core = Closure::<dyn Fn() -> JsValue>::new(move || core_fn.clone());
    let shell = make_client(
        &js_sys::Promise::resolve(&JsValue::UNDEFINED),
        get_core.as_ref(),
    );
    let make = Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(move |o: JsValue| {
        Reflect::construct(
            shell.unchecked_ref::<js_sys::Function>(),
            &js_sys::Array::of1(&o),
        )
    });
    let is_err = Closure::<dyn Fn(JsValue) -> bool>::new(|e: JsValue| is_gatehouse_error(&e));
    let api = Object::new();
    Reflect::set(&api, &"isGatehouseError".into(), is_err.as_ref()).unwrap();
    match run(name, make.as_ref(), &api).await {
        Ok(v) => {
            if let Some(s) = v.as_string() {
                if s != "ok" {
                    console_log!("{name}: {s}");
                }
            }
        }
        Err(e) => {
            let msg = Reflect::get(&e, &"stack".into())
                .ok()
                .and_then(|m| m.as_string());
            panic!(
                "scenario {name} failed: {}",
                msg.unwrap_or_else(|| format!("{e:?}"))
            );
        }
    }
}

#[wasm_bindgen_test]
fn jwt_claims_are_read_without_verification() {
    // {"alg":"EdDSA"} . {"exp":1700000300,"iat":1700000000,"name":"é"}
    let jwt =
        "eyJhbGciOiJFZERTQSJ9.eyJleHAiOjE3MDAwMDAzMDAsImlhdCI6MTcwMDAwMDAwMCwibmFtZSI6IsOpIn0.c2ln";
    assert_eq!(jwt_times(&jwt.into()), (1_700_000_300.0, 1_700_000_000.0));
    let (e, i) = jwt_times(&"not-a-jwt".into());
    assert!(e.is_nan() && i.is_nan());
    let (e, _) = jwt_times(&"a.%%%.b".into());
    assert!(e.is_nan());
    // base64url without padding, with - and _ (the payload {"exp":1,"x":"\u00ff\u00ff>"}).
    let (e, _) = jwt_times(&"h.eyJleHAiOjEsIngiOiLDv8O_PiJ9.s".into());
    assert_eq!(e, 1.0);
    let (e, _) = jwt_times(&JsValue::NULL);
    assert!(e.is_nan());
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            scenario(stringify!($name)).await;
        }
    )*};
}

scenarios!(
    constructor_validates,
    login_attaches_headers,
    fetch_keeps_caller_headers_and_requests,
    typed_errors,
    register_signs_in,
    proactive_refresh_single_flight,
    retry_once_on_401_single_flight,
    rejected_refresh_expires_session,
    network_failure_keeps_session,
    storage_adapter_persists,
    on_change_events,
    logout_clears_even_if_server_fails,
    change_password_takes_new_pair,
    auto_refresh_timer,
    cross_instance_coordination,
    storage_lock_without_channel,
    local_storage_two_instances,
);
