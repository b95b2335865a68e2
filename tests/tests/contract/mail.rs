//! Mail delivery (docs/ADMIN_API.md `POST /api/admin/mail/test/`, the
//! outbox of docs/mail.md): a queued mail reaches a real mailbox on every
//! host — the aiosmtpd Maildir natively, the `send_email` emulation's files
//! on the Worker — exactly once, and (natively) an outbox whose SMTP server
//! was down delivers every mail once the server is back.
//!
//! Skipped where the run has no mail capture (`GATEHOUSE_TEST_MAILDIR`,
//! set by scripts/with-smtp.sh and scripts/test-worker.sh).

use gatehouse_contract::harness::*;
use gatehouse_contract::mailbox::{self, ReceivedMail};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

async fn queue_test_mail(api: &Api, access: &str, to: &str) -> String {
    let r = api
        .post_as("/api/admin/mail/test/", access, &json!({ "to": to }))
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let v = r.json();
    assert_eq!(v["to"], to);
    v["id"].as_str().expect("the outbox id").to_owned()
}

fn assert_test_mail(m: &ReceivedMail, to: &str, id: &str) {
    assert_eq!(m.to, to);
    assert_eq!(m.from, "gatehouse@tests.example", "the configured sender");
    assert_eq!(m.subject, "Gatehouse test mail");
    let domain = "@tests.example";
    assert_eq!(
        m.message_id.trim_matches(['<', '>']),
        format!("{id}{domain}"),
        "the Message-ID is the outbox id at the sender's domain"
    );
    assert!(m.text.contains("its mail delivery works"), "{}", m.text);
    assert!(m.html.contains("<p>This is a test mail"), "{}", m.html);
    assert!(m.link().is_some_and(|l| l.starts_with("http")));
}

#[tokio::test]
async fn an_admin_test_mail_arrives_once_with_both_parts() {
    let capture = match mailbox::Capture::get() {
        Ok(c) => c,
        Err(Skip(why)) => {
            return eprintln!("SKIP an_admin_test_mail_arrives_once_with_both_parts: {why}")
        }
    };
    let (api, access) = admin_on(default_server()).await;
    let to = unique_email();
    let started = Instant::now();
    let id = queue_test_mail(&api, &access, &to).await;
    let mails = capture.wait_for(&to, 1, mailbox::WAIT).await;
    eprintln!(
        "MEASURE mail: request to arrival ({}) took {} ms",
        Target::get().name(),
        started.elapsed().as_millis()
    );
    assert_test_mail(&mails[0], &to, &id);
    // Exactly once: a second mail, queued after the first arrived, arrives
    // alone (the sender passed over the first again without resending it).
    let to2 = unique_email();
    let id2 = queue_test_mail(&api, &access, &to2).await;
    let second = capture.wait_for(&to2, 1, mailbox::WAIT).await;
    assert_test_mail(&second[0], &to2, &id2);
    assert_eq!(mailbox::mails_to(&to).await.map(|m| m.len()).ok(), Some(1));
}

#[tokio::test]
async fn the_test_mail_is_for_admins_and_checks_its_address() {
    let server = default_server();
    let (api, access) = admin_on(server).await;
    for body in [json!({}), json!({"to": "not an address"}), json!({"to": 7})] {
        let r = api.post_as("/api/admin/mail/test/", &access, &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.json()["to"].is_array(), "{}", r.text());
    }
    // Staff (not admin) may not send mail to arbitrary addresses.
    let ctx = Ctx::on(server);
    let (_, staff_api) = ctx.client(&ClientSpec::admin());
    let staff = server.create_user("staff");
    let tokens = staff_api.login_ok(&staff).await;
    let r = test_mail(&staff_api, &tokens.access).await;
    assert_eq!(r.status, 403, "{}", r.text());
    // A creator's client is not an admin client.
    let (_, tokens) = ctx.api.new_creator().await;
    let r = test_mail(&ctx.api, &tokens.access).await;
    assert_eq!(r.status, 403, "{}", r.text());
}

/// Asks for a test mail to a fresh address with `access` as bearer.
async fn test_mail(api: &Api, access: &str) -> Resp {
    api.post_as(
        "/api/admin/mail/test/",
        access,
        &json!({"to": unique_email()}),
    )
    .await
}

/// An aiosmtpd writing into `dir`, stopped (by its pid) when dropped.
struct Smtpd(Child);

impl Smtpd {
    fn start(python: &str, port: u16, dir: &Path) -> Smtpd {
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Smtpd(child)
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `log` until it has a line containing all of `needles`.
async fn wait_for_log(log: &Path, needles: &[&str], deadline: Duration) {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|l| needles.iter().all(|n| l.contains(n))) {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "no log line with {needles:?} in {} after {deadline:?}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn mail_queued_while_smtp_is_down_arrives_once_when_it_is_back() {
    const TEST: &str = "mail_queued_while_smtp_is_down_arrives_once_when_it_is_back";
    let Ok(python) = std::env::var("GATEHOUSE_TEST_SMTPD_PYTHON") else {
        return eprintln!(
            "SKIP {TEST}: GATEHOUSE_TEST_SMTPD_PYTHON is unset (run under scripts/with-smtp.sh)"
        );
    };
    let Some(server) = server_or_skip(ServerConfig::MailRetry, TEST) else {
        return;
    };
    let log = server.log.clone().expect("a harness-started server logs");
    let (api, access) = admin_on(server).await;
    let to: Vec<String> = (0..3).map(|_| unique_email()).collect();
    let mut ids = Vec::new();
    for t in &to {
        ids.push(queue_test_mail(&api, &access, t).await);
    }
    // The sender tried each and failed: nothing listens on the port yet.
    for id in &ids {
        wait_for_log(
            &log,
            &["a mail was not sent", id.as_str()],
            Duration::from_secs(20),
        )
        .await;
    }
    let base: PathBuf = tempfile::tempdir().expect("tempdir").keep();
    // aiosmtpd makes the Maildir's new/, cur/ and tmp/ only in a new folder.
    let dir = base.join("maildir");
    let _smtpd = Smtpd::start(&python, mail_retry_port(), &dir);
    let retry_box = mailbox::Capture::Dir(dir.clone());
    let back = Instant::now();
    for (t, id) in to.iter().zip(&ids) {
        let m = retry_box.wait_for(t, 1, Duration::from_secs(60)).await;
        assert_test_mail(&m[0], t, id);
    }
    eprintln!(
        "MEASURE mail: the outbox delivered 3 retried mails {} ms after the SMTP server came back",
        back.elapsed().as_millis()
    );
    // A sentinel queued after all three arrived comes through alone: by
    // then no retry of the three is pending, and none was sent twice.
    let sentinel = unique_email();
    let sid = queue_test_mail(&api, &access, &sentinel).await;
    let m = retry_box
        .wait_for(&sentinel, 1, Duration::from_secs(20))
        .await;
    assert_test_mail(&m[0], &sentinel, &sid);
    for t in &to {
        assert_eq!(
            mailbox::mails_in(&dir, t).len(),
            1,
            "{t} got exactly one mail"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}
