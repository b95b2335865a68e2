//! The mail outbox (table `mail_outbox`, migration 6). A flow writes its mail
//! here with [`enqueue`] in the batch of its change; a host's sender claims
//! due rows, hands them to its transport and marks them sent, retrying with
//! backoff. The row id is the mail's idempotency key (it becomes the
//! `Message-ID`), so a retry after an unrecorded success is recognisable.

use super::Mail;
use crate::clock::UnixMillis;
use crate::random::{self, Random};
use crate::sql::Statement;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A new outbox id: 128 random bits, base64url.
pub fn new_id(rng: &dyn Random) -> String {
    URL_SAFE_NO_PAD.encode(random::bytes::<16>(rng))
}

/// The statement that queues `mail` for delivery, due at once.
pub fn enqueue(mail: &Mail, id: &str, now: UnixMillis) -> Statement {
    Statement::new(
        "INSERT INTO mail_outbox (id, to_addr, subject, text_body, html_body, created_at, next_attempt_at, attempts) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        vec![
            id.into(),
            mail.to.as_str().into(),
            mail.subject.as_str().into(),
            mail.text.as_str().into(),
            mail.html.as_str().into(),
            now.0.into(),
            now.0.into(),
        ],
    )
}
