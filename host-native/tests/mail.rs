//! The binary's mail settings: what `serve` says about mail at start (and
//! that an SMTP password never reaches the log), `mail test` through the
//! development log, and the refusals.

mod support;

use std::process::{Command, Output};
use support::binary;

const PASSWORD: &str = "hunter2-Secret";

fn gatehouse(dir: &std::path::Path) -> Command {
    let mut cmd = binary::gatehouse(dir);
    cmd.env("GATEHOUSE_LOG", "trace");
    cmd
}

/// Starts `serve` with `flags`, waits for it to listen, stops it, and
/// returns its log.
fn serve_log(flags: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("err");
    let stderr = std::fs::File::create(&log).unwrap();
    let mut child = binary::serve(gatehouse(dir.path()), flags, stderr.into());
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(&log).unwrap()
}

fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    gatehouse(dir.path()).args(args).output().unwrap()
}

/// `gatehouse mail test --to TO` with `more` flags.
fn mail_test(to: &str, more: &[&str]) -> Output {
    run(&[&["mail", "test", "--to", to], more].concat())
}

#[test]
fn serve_names_the_smtp_server_without_its_password() {
    let url = format!("smtp://user:{PASSWORD}@127.0.0.1:9?tls=none");
    let log = serve_log(&[
        "--smtp-url",
        &url,
        "--mail-from",
        "Shop <noreply@shop.example>",
    ]);
    assert!(
        log.contains("mail is sent by SMTP")
            && log.contains("smtp://user:***@127.0.0.1:9?tls=none"),
        "{log}"
    );
    assert!(
        !log.contains(PASSWORD),
        "the password reached the log:\n{log}"
    );
}

#[test]
fn serve_says_when_mail_is_off_and_which_flows_need_it() {
    let log = serve_log(&[]);
    assert!(log.contains("mail is off"), "{log}");
    assert!(log.contains("password reset"), "{log}");
    let log = serve_log(&["--mail-dev"]);
    assert!(log.contains("DEVELOPMENT mail mode"), "{log}");
}

#[test]
fn mail_test_prints_the_mail_in_development_mode() {
    let out = mail_test(
        "ops@example.com",
        &["--mail-dev", "--public-url", "https://auth.example.com"],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("sent a test mail to ops@example.com"),
        "{stdout}"
    );
    assert!(stderr.contains("DEVELOPMENT MAIL"), "{stderr}");
    assert!(
        stderr.contains("https://auth.example.com"),
        "the link is in the log: {stderr}"
    );
}

#[test]
fn mail_test_fails_clearly() {
    let out = mail_test("ops@example.com", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail is off"));
    // Nothing listens on port 9: a temporary failure, said so, exit 1.
    let url = format!("smtp://user:{PASSWORD}@127.0.0.1:9?tls=none");
    let out = mail_test("ops@example.com", &["--smtp-url", &url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("was not sent") && stderr.contains("try again"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    let out = mail_test("x@example.com", &["--smtp-url", "smtp://h", "--mail-dev"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exclude each other"));
    let out = mail_test(
        "x@example.com",
        &["--smtp-url", &format!("ftp://u:{PASSWORD}@h")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--smtp-url") && !stderr.contains(PASSWORD),
        "{stderr}"
    );
}
