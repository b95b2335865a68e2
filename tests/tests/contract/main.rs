//! The HTTP contract of docs/CONTRACT.md, one module per topic, in one test
//! binary (one link step, one shared server per configuration).
//!
//! Run: `cargo test -p gatehouse-contract` (see tests/README.md for targets).

mod admin_bounds;
mod aliases;
mod api_clients;
mod attacks;
mod bad_input;
mod change_password;
mod cli;
mod cors;
mod email_change;
mod email_verification;
mod expiry;
mod hardening;
mod legacy_tokens;
mod login;
mod logout;
mod mail;
mod mfa_totp;
mod pages;
mod passkeys;
mod password_reset;
mod profile;
mod rate_limits;
mod refresh;
mod refresh_grace;
mod register;
mod schema;
mod signin_code;
mod social;
mod tokens;
mod webhooks;
