//! `@gatehouse/client`: Gatehouse's JavaScript client, in Rust, built with wasm-pack.
//!
//! This crate is the package's wasm core; its JS shell (js/client.js) is the
//! public class. The core holds the tokens, hands the shell the access token for
//! each request, refreshes before expiry and never lets two refreshes of one
//! refresh token race:
//! one refresh per instance at a time (single flight), and across tabs or
//! instances that share a storage, a claim protocol over `BroadcastChannel` plus a
//! lock entry in the storage itself (no Web Locks).
//!
//! Size matters here (the package's budget is 22,000 B gzip, wasm + JS), so:
//! requests, options, errors and listeners are the JS shell's; JSON, base64 and
//! timers are the host's; tokens and other strings stay
//! JavaScript strings (`JsValue`) instead of being copied into Rust `String`s;
//! `Cell` instead of `RefCell` (no borrow panics); no `format!`/`core::fmt`; and in
//! the release build no `std` at all (a trapping panic handler, a small allocator).
//!
//! Where things live:
//!
//! - `js_api`: the core class the package's JS shell (js/client.js) wraps; the
//!   shell checks the options and does the plain JSON calls, the errors and the
//!   listeners, and its js/index.d.ts is the package's one set of declarations.
//! - `client`: the state behind the class: session events, single-flight
//!   refresh, the refresh timer, the token for a `fetch` and its one retry after
//!   a 401, and what each async method does (`Op`, one future for all).
//! - `claim`: the cross-tab claim protocol run before spending a refresh token
//!   (`Coordinator`: this instance's id, channel, lock and claims).
//! - `session`: the token pair and its expiry (`jwt_times`).
//! - `storage`: reads and writes through the shell's storage adapter.
//! - `error`: the core's own rejections (bare codes the shell turns into
//!   `GatehouseError`s).
//! - `host`: bindings to the host's timers, JSON, base64, `Response` and
//!   `BroadcastChannel`, and to the shell (`Shell`), and small helpers.
//! - `bare`: the release build's panic handler and allocator.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(all(not(feature = "std"), target_arch = "wasm32"))]
mod bare;

mod claim;
mod client;
mod error;
mod host;
mod js_api;
mod session;
mod storage;

// The crate's Rust API is what the tests use; JavaScript sees the same items
// through wasm-bindgen.
pub use js_api::GatehouseClient;
pub use session::jwt_times;
