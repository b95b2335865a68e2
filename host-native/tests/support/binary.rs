//! The `gatehouse` binary itself, run as a child process on a database
//! file in a test's own folder.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

/// The binary on `dir`'s `gh.db`, with none of the caller's `GATEHOUSE_*`
/// variables (they would override the flags under test).
pub fn gatehouse(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GATEHOUSE_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--database-url").arg(dir.join("gh.db"));
    cmd
}

/// Spawns `cmd serve` on a free loopback port with `flags`, its stderr to
/// `stderr`, and returns it once it has said it listens (its first line).
pub fn serve(cmd: Command, flags: &[&str], stderr: Stdio) -> Child {
    serve_at(cmd, flags, stderr).0
}

/// [`serve`], with the address it listens on (`127.0.0.1:port`).
pub fn serve_at(mut cmd: Command, flags: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let Some(addr) = line.trim().strip_prefix("gatehouse listening on http://") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve did not start: {line:?} {read:?}");
    };
    let addr = addr.to_owned();
    (child, addr)
}
