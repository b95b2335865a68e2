//! The black-box contract suite's support code: which host to test, how to
//! start and administer it ([`harness`]), JWT decoding/forging ([`jwt`]) and a fake
//! identity provider for social sign-in ([`fake_idp`]).
//!
//! The tests themselves live in `tests/contract/`, one module per topic of
//! `docs/CONTRACT.md`.

pub mod fake_idp;
pub mod harness;
pub mod jwt;
pub mod mailbox;
pub mod webhooks;
