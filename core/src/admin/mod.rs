//! The admin API under `/api/admin/` (docs/ADMIN_API.md): users, API
//! clients, usage and the audit log, for staff and admins calling through an
//! API client of type `admin`.
//!
//! The route table ([`crate::routes`]) guards every admin route with
//! `Staff`, checked in order: the client is an admin client, the bearer
//! token, the client serves the caller's type, the caller is staff
//! (`IsStaffUser`); then each handler looks the object up (404) and applies
//! the object rules (staff manage creators only; admins anyone).
//!
//! [`operator`] holds the actions the CLI shares with this API (create users
//! and clients, deactivate, rotate keys); the crate root re-exports it as
//! `gatehouse_core::operator`.

pub(crate) mod audit_log;
pub(crate) mod clients;
mod common;
pub(crate) mod keys;
pub(crate) mod mail;
pub(crate) mod openapi;
pub mod operator;
pub(crate) mod providers;
mod store;
pub mod types;
pub(crate) mod usage;
pub(crate) mod users;
pub(crate) mod webhooks;
