//! The one MIME rendering of a mail, for every transport (SMTP's `DATA`, the
//! Worker's `EmailMessage`): `multipart/alternative` with a UTF-8 text part
//! and an HTML part, both base64 (safe for any text and line length), CRLF
//! line ends, non-ASCII headers as RFC 2047 encoded words.

use super::sender::Outgoing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The message `msg` as MIME text.
pub fn render(msg: &Outgoing) -> String {
    let boundary = format!("=_gatehouse_{}", msg.id);
    let date = time::OffsetDateTime::from_unix_timestamp(msg.queued_at.as_secs())
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let mut out = String::with_capacity(msg.mail.text.len() * 2 + msg.mail.html.len() * 2 + 512);
    header(&mut out, "From", &mailbox(&msg.from));
    header(&mut out, "To", &one_line(&msg.mail.to));
    header(
        &mut out,
        "Subject",
        &encode_word(&one_line(&msg.mail.subject)),
    );
    header(&mut out, "Date", &date);
    header(&mut out, "Message-ID", &msg.message_id);
    header(&mut out, "MIME-Version", "1.0");
    header(
        &mut out,
        "Content-Type",
        &format!("multipart/alternative; boundary=\"{boundary}\""),
    );
    out.push_str("\r\n");
    for (kind, body) in [("plain", &msg.mail.text), ("html", &msg.mail.html)] {
        out.push_str(&format!("--{boundary}\r\n"));
        header(
            &mut out,
            "Content-Type",
            &format!("text/{kind}; charset=utf-8"),
        );
        header(&mut out, "Content-Transfer-Encoding", "base64");
        out.push_str("\r\n");
        let encoded = STANDARD.encode(body.as_bytes());
        for chunk in encoded.as_bytes().chunks(76) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push_str("\r\n");
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

fn header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str("\r\n");
}

/// No line breaks in a header value (no header injection).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

/// `Name <addr>` with the name encoded when it is not plain ASCII.
fn mailbox(from: &str) -> String {
    let from = one_line(from);
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => {
            let name = from[..a].trim().trim_matches('"');
            let addr = &from[a..=b];
            if name.is_empty() {
                addr.to_owned()
            } else if name.is_ascii() && !name.contains(['"', '\\']) {
                format!("\"{name}\" {addr}")
            } else {
                format!("{} {addr}", encode_word(name))
            }
        }
        _ => from,
    }
}

/// Plain printable ASCII stays as it is; anything else becomes
/// `=?UTF-8?B?…?=` words of at most 39 bytes of text each (a line under
/// 78 characters even after `Subject: `), folded onto continuation lines.
fn encode_word(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) && !s.contains("=?") {
        return s.to_owned();
    }
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if i + c.len_utf8() - start > 39 {
            words.push(&s[start..end]);
            start = i;
        }
        end = i + c.len_utf8();
    }
    words.push(&s[start..end]);
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::UnixMillis;
    use crate::mail::Mail;

    fn msg(subject: &str, from: &str) -> Outgoing {
        Outgoing {
            id: "abc_-1".into(),
            message_id: "<abc_-1@example.com>".into(),
            from: from.into(),
            mail: Mail {
                to: "a@example.com".into(),
                subject: subject.into(),
                text: "Hello\nhttps://x.example/?t=1".into(),
                html: "<p>Hello</p>".into(),
            },
            attempt: 1,
            queued_at: UnixMillis(1_800_000_000_000),
        }
    }

    #[test]
    fn renders_headers_and_both_parts() {
        let m = render(&msg("Test", "Shop <noreply@example.com>"));
        assert!(m.starts_with("From: \"Shop\" <noreply@example.com>\r\n"));
        assert!(m.contains("\r\nTo: a@example.com\r\n"));
        assert!(m.contains("\r\nSubject: Test\r\n"));
        assert!(m.contains("\r\nMessage-ID: <abc_-1@example.com>\r\n"));
        assert!(m.contains("\r\nDate: Fri, 15 Jan 2027 08:00:00 +0000\r\n"));
        assert!(m.contains("text/plain; charset=utf-8"));
        assert!(m.contains("text/html; charset=utf-8"));
        assert!(m.contains(&STANDARD.encode("<p>Hello</p>")));
        assert!(m.ends_with("--=_gatehouse_abc_-1--\r\n"));
        // Every line ends in CRLF, none is over 998 characters.
        assert!(m.split("\r\n").all(|l| !l.contains('\n') && l.len() <= 998));
    }

    #[test]
    fn non_ascii_and_injected_headers_are_tamed() {
        let m = render(&msg(
            "Réinitialisez votre mot de passe, s'il vous plaît, maintenant\r\nBcc: x@evil.example",
            "Café <noreply@example.com>",
        ));
        assert!(!m.contains("\r\nBcc:"));
        assert!(m.contains("Subject: =?UTF-8?B?"));
        assert!(m.contains("From: =?UTF-8?B?"));
        for line in m.split("\r\n").filter(|l| l.contains("=?UTF-8?B?")) {
            assert!(line.len() <= 78, "{line}");
        }
    }
}
