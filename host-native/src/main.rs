//! The `gatehouse` binary: parse the command line, set up logging, run.

use gatehouse::{cli::Cli, commands};
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    gatehouse::runtime::tune_allocator();
    let cli = Cli::parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // Logs go to stderr: stdout carries the listening line and records.
    // GATEHOUSE_LOG (or RUST_LOG) overrides the `info` default.
    let filter = EnvFilter::try_from_env("GATEHOUSE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        // A replica's background sync logs every pull at info and a slow one
        // as a warning (its failures are still errors), and libSQL's HTTP
        // client each failed connection as an error of its own.
        .unwrap_or_else(|_| EnvFilter::new("info,libsql::replication=error,tower_http=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let runtime = match gatehouse::runtime::request_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gatehouse: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (command, database, config) = cli.into_parts();
    let result = runtime.block_on(commands::run(command, database, config));
    // Connections still open after the grace period are dropped here.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}
