//! The mail the service under test really sent, as the test SMTP server (or,
//! on the Worker, the `send_email` emulation of `wrangler dev`) stored it.
//!
//! Tests address each mail to a unique address ([`crate::harness::unique_email`]),
//! so a test reads only its own mail. Where no mail capture is configured
//! for the target, the functions answer `Err(Skip)` and the test skips.
//!
//! The capture is the folder in `GATEHOUSE_TEST_MAILDIR`, the Maildir of
//! the aiosmtpd that `scripts/with-smtp.sh` starts (files under `new/`); or,
//! on the Worker, the `.eml` files the `send_email` emulation writes, whose
//! paths `wrangler dev` logs (`GATEHOUSE_TEST_WRANGLER_LOG`, set by
//! `scripts/test-worker.sh`). Each file is one raw message, parsed with
//! `mail-parser`.

use crate::harness::Skip;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The variable naming the mail capture folder.
pub const MAILDIR_VAR: &str = "GATEHOUSE_TEST_MAILDIR";
/// The variable naming `wrangler dev`'s log, which names each `.eml` file.
pub const WRANGLER_LOG_VAR: &str = "GATEHOUSE_TEST_WRANGLER_LOG";

/// How long [`wait_for_mails`] waits.
pub const WAIT: Duration = Duration::from_secs(20);

/// One delivered mail, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: String,
    pub from: String,
    pub subject: String,
    /// The `Message-ID` header (the outbox id: the same on a re-delivery).
    pub message_id: String,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    /// The first `http(s)://` URL in the text part.
    pub fn link(&self) -> Option<String> {
        let start = self
            .text
            .find("http://")
            .or_else(|| self.text.find("https://"))?;
        let rest = &self.text[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }

    /// The value of query parameter `name` in [`Self::link`].
    pub fn link_param(&self, name: &str) -> Option<String> {
        let link = self.link()?;
        let query = link.split_once('?')?.1;
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// Where this run's mail lands.
#[derive(Debug, Clone)]
pub enum Capture {
    /// A folder of message files (a Maildir).
    Dir(PathBuf),
    /// `wrangler dev`'s log, naming each `.eml` file it wrote.
    WranglerLog(PathBuf),
}

impl Capture {
    /// This run's capture, or `Skip`.
    pub fn get() -> Result<Capture, Skip> {
        let var = |n| std::env::var_os(n).filter(|v: &std::ffi::OsString| !v.is_empty());
        if let Some(d) = var(MAILDIR_VAR) {
            return Ok(Capture::Dir(PathBuf::from(d)));
        }
        if let Some(l) = var(WRANGLER_LOG_VAR) {
            return Ok(Capture::WranglerLog(PathBuf::from(l)));
        }
        Err(Skip(format!(
            "no mail capture is configured for this target ({MAILDIR_VAR} and {WRANGLER_LOG_VAR} are unset: run under scripts/with-smtp.sh)"
        )))
    }

    /// The message files so far.
    fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        match self {
            Capture::Dir(d) => collect(d, &mut out),
            Capture::WranglerLog(log) => {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                for word in text.split_whitespace() {
                    if let (Some(start), Some(end)) = (word.find('/'), word.rfind(".eml")) {
                        if start < end {
                            out.push(PathBuf::from(&word[start..end + 4]));
                        }
                    }
                }
            }
        }
        out
    }

    /// Every mail to `to` so far, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<ReceivedMail> {
        mails_from(self.files(), to)
    }

    /// Waits until at least `n` mails to `to` arrived (polling), and returns
    /// them all, oldest first; panics after `deadline`.
    pub async fn wait_for(&self, to: &str, n: usize, deadline: Duration) -> Vec<ReceivedMail> {
        let started = Instant::now();
        loop {
            let mails = self.mails_to(to);
            if mails.len() >= n {
                return mails;
            }
            if started.elapsed() > deadline {
                panic!(
                    "{} mail(s) to {to} in {self:?} after {deadline:?}, expected {n}",
                    mails.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every mail delivered to `to` so far, oldest first.
pub async fn mails_to(to: &str) -> Result<Vec<ReceivedMail>, Skip> {
    Ok(Capture::get()?.mails_to(to))
}

/// Waits (up to 20 s, polling the store) until at least `n` mails to `to`
/// have arrived, and returns them all, oldest first. Panics on the deadline.
pub async fn wait_for_mails(to: &str, n: usize) -> Result<Vec<ReceivedMail>, Skip> {
    Ok(Capture::get()?.wait_for(to, n, WAIT).await)
}

/// The newest mail to `to`, waiting for the first one.
pub async fn last_mail_to(to: &str) -> Result<ReceivedMail, Skip> {
    let mails = wait_for_mails(to, 1).await?;
    Ok(mails
        .last()
        .cloned()
        .expect("wait_for_mails returned at least one"))
}

/// A message file once read: when it arrived and what it holds (`None`:
/// not a mail).
type Parsed = Option<(SystemTime, ReceivedMail)>;

/// Every mail to `to` (case-insensitive) under `dir`, oldest first.
pub fn mails_in(dir: &Path, to: &str) -> Vec<ReceivedMail> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    mails_from(files, to)
}

/// Every mail to `to` (case-insensitive) among `files`, oldest first.
fn mails_from(files: Vec<PathBuf>, to: &str) -> Vec<ReceivedMail> {
    // Parsed files, by path: the shared capture holds every test's mail.
    static PARSED: Mutex<Option<HashMap<PathBuf, Parsed>>> = Mutex::new(None);
    let mut cache = PARSED.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    let mut out: Vec<(SystemTime, PathBuf, ReceivedMail)> = Vec::new();
    for path in files {
        if !cache.contains_key(&path) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            cache.insert(path.clone(), parse(&bytes).map(|m| (modified, m)));
        }
        if let Some(Some((at, m))) = cache.get(&path) {
            if m.to.eq_ignore_ascii_case(to) {
                out.push((*at, path, m.clone()));
            }
        }
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.into_iter().map(|(_, _, m)| m).collect()
}

/// The message files under `dir`: a Maildir's `new/` and `cur/`, or any
/// file of a plain folder (skipping a Maildir's `tmp/`, written to).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            if path.file_name().is_some_and(|n| n != "tmp") {
                collect(&path, out);
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
}

/// One raw message, decoded; `None` if it is not a mail.
pub fn parse(raw: &[u8]) -> Option<ReceivedMail> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    Some(ReceivedMail {
        to: addr(msg.to()),
        from: addr(msg.from()),
        subject: msg.subject().unwrap_or_default().to_owned(),
        message_id: msg.message_id().unwrap_or_default().to_owned(),
        text: msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: msg.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
    })
}
