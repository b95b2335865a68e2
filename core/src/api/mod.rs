//! The endpoints, one module each, and what they share: the JSON shapes
//! ([`types`]) and opening a login and signing its tokens ([`tokens`]).

pub(crate) mod change_password;
pub(crate) mod email_change;
pub(crate) mod email_flow;
pub(crate) mod email_verify;
pub(crate) mod legacy_exchange;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod mfa;
pub(crate) mod mfa_required;
pub(crate) mod passkeys;
pub(crate) mod password_reset;
pub(crate) mod profile;
pub(crate) mod reauth;
pub(crate) mod refresh;
pub(crate) mod register;
pub(crate) mod sessions;
pub(crate) mod signin_code;
pub(crate) mod social;
pub(crate) mod step_up;
pub(crate) mod throttle;
pub(crate) mod tokens;
pub mod types;
