//! Gatehouse core: every decision of the auth service, and no I/O.
//!
//! The core never opens a socket or a file, never reads the clock and never
//! spawns. What it needs from the world comes in through [`Env`]: a
//! [`clock::Clock`], a [`random::Random`] source, a [`sql::SqlExecutor`], a
//! [`password::PasswordHasher`] runner and a [`rate_limit::RateLimitStore`].
//! A host converts its request type into an `http::Request<Bytes>`, calls
//! [`service::Gatehouse::handle`], and converts the response back.
//!
//! The map (file: what it holds). `pub` modules are the ones the hosts, the
//! tests, the fuzz target and the bench use; the rest are private.
//! - `service.rs`: the one HTTP surface: API-client checks, CORS, rate limits,
//!   dispatch through `routes.rs` (the route table) to handlers that take a
//!   `context.rs` request context.
//! - `api/`: one file per endpoint (`register`, `login`, `refresh`, ...).
//! - `admin/`: the admin API under `/api/admin/` (users, clients, usage,
//!   audit), its own SQL (`admin/store.rs`) and the operator actions the CLI
//!   shares with it (`admin/operator.rs`, re-exported as [`operator`]).
//! - `audit.rs`: audit events, written in the same transaction as their change.
//! - [`usage`]: per-client usage counted in memory, flushed in batches.
//! - [`token`]: JWT claims, signing keys, issue and verify.
//! - `session.rs`: `SessionId`, refresh-token families and the pure
//!   rotate/reuse/reject decision.
//! - [`user`]: users, their types, and the email and username rules.
//! - [`api_client`]: API clients (frontends), keys and origins.
//! - [`password`]: Argon2id hashing and Django-style password validation.
//! - [`permission`]: `IsAuthenticated`, `IsCreator`, `IsStaffUser`, `IsAdminUser`.
//! - [`rate_limit`]: GCRA math, the in-memory counter store and the SQL one
//!   (`rate_limit/sql.rs`).
//! - `store/`: the service's SQL over [`sql::SqlExecutor`], one file per
//!   concern: `users.rs`, `sessions.rs`, `clients.rs`, `keys.rs`; the row
//!   helpers in `store/mod.rs`.
//! - [`outbound`]: outbound HTTP: the host's client trait and the policy of
//!   where requests may go (no private addresses unless allowed).
//! - [`mail`]: mails as values, their one layout, and the outbox they are
//!   written to in the transaction of their change.
//! - [`schema`]: the migrations.
//! - [`json`], `query.rs`: request bodies and query strings.
//! - [`error`]: the one place errors become DRF-shaped JSON responses.
//! - [`openapi`]: the OpenAPI document, from the route table.
//! - [`pages`]: the dashboard and API-docs answers that are not files (the hosts serve the files).
//! - [`config`], `env.rs` ([`Env`]), [`clock`], [`random`], [`sql`]: what a host supplies.

#[macro_use]
mod operation; // first: its macro is used by the modules below
mod admin;
mod api;
pub mod api_client;
mod audit;
mod cache;
pub mod clock;
pub mod config;
mod context;
mod digest;
pub mod django_import;
pub mod email_token;
mod env;
pub mod error;
mod flow_pages;
pub mod json;
pub mod keys;
pub mod legacy_token;
pub mod mail;
mod meta;
pub mod mfa;
pub mod openapi;
pub mod outbound;
pub mod pages;
pub mod password;
pub mod permission;
mod query;
pub mod random;
pub mod rate_limit;
pub mod routes;
pub mod schema;
pub mod service;
mod session;
mod social;
pub mod sql;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod usage;
pub mod user;
pub mod webauthn;
pub mod webhook;

pub use admin::operator;
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
