//! Gatehouse core: every decision of the auth service, and no I/O.
//!
//! The core never opens a socket or a file, never reads the clock and never
//! spawns. What it needs from the world comes in through [`Env`]: a
//! [`clock::Clock`], a [`random::Random`] source, a [`sql::SqlExecutor`], a
//! [`password::PasswordHasher`] runner and a [`rate_limit::RateLimitStore`].
//! A host converts its request type into an `http::Request<Bytes>`, calls
//! [`service::Gatehouse::handle`], and converts the response back.
//!
//! The map:
//! - [`service`]: the one HTTP surface: routing, API-client checks, CORS, rate limits.
//! - [`api`]: one module per endpoint (`register`, `login`, `refresh`, ...).
//! - [`admin`]: the admin API under `/api/admin/` (users, clients, usage, audit).
//! - [`audit`]: audit events, written in the same transaction as their change.
//! - [`usage`]: per-client usage counted in memory, flushed in batches.
//! - [`token`]: JWT claims, signing keys, issue and verify.
//! - [`session`]: refresh-token families and the pure rotate/reuse/reject decision.
//! - [`password`]: Argon2id hashing and Django-style password validation.
//! - [`permission`]: `IsAuthenticated`, `IsCreator`, `IsStaffUser`, `IsAdminUser`.
//! - [`rate_limit`]: GCRA math and the in-memory counter store.
//! - [`store`]: all storage logic, as SQL text over [`sql::SqlExecutor`].
//! - [`schema`]: the migrations.
//! - [`error`]: the one place errors become DRF-shaped JSON responses.
//! - [`pages`]: the dashboard and API-docs answers that are not files (the hosts serve the files).

pub mod admin;
pub mod api;
pub mod api_client;
pub mod audit;
pub mod clock;
pub mod config;
mod context;
pub mod env;
pub mod error;
pub mod json;
pub mod openapi;
pub mod operator;
pub mod pages;
pub mod password;
pub mod permission;
pub mod query;
pub mod random;
pub mod rate_limit;
pub mod routes;
pub mod schema;
pub mod service;
pub mod session;
pub mod sql;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod usage;
pub mod user;

pub use config::Config;
pub use env::Env;
pub use service::Gatehouse;

/// Declares an async trait the same way for the whole workspace: futures are
/// `Send` on native targets (tokio's multi-threaded runtime needs that) and
/// `?Send` on wasm32, where the Workers runtime's futures are not `Send`.
#[macro_export]
macro_rules! async_trait_decl {
    ($($item:tt)*) => {
        #[cfg_attr(not(target_arch = "wasm32"), $crate::__async_trait::async_trait)]
        #[cfg_attr(target_arch = "wasm32", $crate::__async_trait::async_trait(?Send))]
        $($item)*
    };
}

#[doc(hidden)]
pub use async_trait as __async_trait;

/// `Send + Sync` on native targets, nothing on wasm32 (the Workers runtime is
/// single-threaded and its handles are `!Send`).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}
/// `Send + Sync` on native targets, nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}
