//! Gatehouse's native host: the `gatehouse` binary's parts, as a library so
//! they can be tested (and embedded) on their own.
//!
//! - [`assets`]: the embedded dashboard and API-docs files.
//! - [`cli`]: the command line and the [`gatehouse_core::Config`] it builds.
//! - [`commands`]: each subcommand (serve, migrate, operator actions).
//! - [`server`]: hyper 1 + tokio in front of [`gatehouse_core::Gatehouse`].
//! - [`db`]: the core's SQL executor over libSQL (embedded file or remote).
//! - [`runtime`]: clock, randomness and the bounded Argon2 pool.

pub mod assets;
pub mod cli;
pub mod commands;
pub mod db;
pub mod runtime;
pub mod server;
