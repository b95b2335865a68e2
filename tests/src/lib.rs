//! The black-box contract suite's support code: which host to test, how to
//! start and administer it ([`harness`]), and JWT decoding/forging ([`jwt`]).
//!
//! The tests themselves live in `tests/contract/`, one module per topic of
//! `docs/CONTRACT.md`.

pub mod harness;
pub mod jwt;
pub mod mailbox;
pub mod webhooks;
