//! Gatehouse's native host: the `gatehouse` binary's parts, as a library so
//! they can be tested (and embedded) on their own.
//!
//! - [`assets`]: the embedded dashboard and API-docs files.
//! - [`cli`]: the command line and the [`gatehouse_core::Config`] it builds.
//! - [`commands`]: each subcommand (serve, migrate, operator actions).
//! - [`server`]: hyper 1 + tokio in front of [`gatehouse_core::Gatehouse`].
//! - [`db`]: the core's SQL executor over libSQL (embedded file or remote).
//! - [`runtime`]: clock, randomness, the allocator setting.
//! - [`mail`]: SMTP (lettre) or the development log behind the core's mail sender, and its task.
//! - [`outbound`]: the core's outbound HTTP over hyper + rustls, under the outbound policy.
//! - [`hash_pool`]: Argon2 on one thread per core, each with its own memory, behind a bounded queue.

pub mod assets;
pub mod body;
pub mod cli;
pub mod commands;
pub mod db;
pub mod hash_pool;
pub mod mail;
pub mod outbound;
pub mod runtime;
pub mod server;
pub mod wal_index;
