//! Shared pieces of the robustness checks, one module each: the command
//! line (`args`), a seeded RNG (`rng`), starting and killing the `gatehouse`
//! binary (`server`), a keep-alive HTTP/1.1 connection (`conn`), percentiles
//! and a pass/fail tally (`checks`), tokens and encodings (`encoding`), and
//! reading the database file (`db`). The binaries take them all through
//! the `pub use`s below.
//!
//! Every binary in this crate talks only to 127.0.0.1 and bounds its
//! traffic in count and time.

mod args;
mod checks;
mod conn;
mod db;
mod encoding;
mod rng;
mod server;

pub use args::{duration_arg, gatehouse_bin, parse_duration, Args, Workspace};
pub use checks::{info, mib, ms, percentile, rss_samples, Checks};
pub use conn::{
    client_runtime, server_busy_retry_after, Conn, Creds, Failure, Resp, Target, CONNECTIONS_OPENED,
};
pub use db::{open_read_only, query, value_text};
pub use encoding::{base64_decode, base64_encode, hex, jwt_claim, jwt_claims};
pub use rng::Rng;
pub use server::{cli, create_client, rss_kib, Server, ServerOpts};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
