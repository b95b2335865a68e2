//! Mail the core sends. A flow never talks to a mail server: it builds a
//! [`Mail`] (with [`compose`]) and puts [`outbox::enqueue`]'s statement in the
//! same batch (transaction) as the change that causes the mail, so a change
//! and its mail commit together or not at all. A host's sender then delivers
//! the outbox (see `outbox.rs`).

pub mod mime;
pub mod outbox;
pub mod sender;

/// One message, ready for any transport. The sender's address is the
/// host's configuration, not the message's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The plain-text part: every link is in it, for clients without HTML.
    pub text: String,
    pub html: String,
}

/// An action a mail asks the reader to take: a button in HTML, a bare URL in
/// the text part.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    pub label: &'a str,
    pub url: &'a str,
}

/// Builds a mail in the one layout every Gatehouse mail shares: a greeting
/// naming the API client (`client_name`, the frontend the user knows), the
/// paragraphs, an optional action, and a footer saying why the mail came.
/// Every caller-supplied text is escaped in the HTML part.
pub fn compose(
    to: &str,
    subject: &str,
    client_name: &str,
    paragraphs: &[&str],
    action: Option<Action<'_>>,
) -> Mail {
    let mut text = String::new();
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">",
    );
    html.push_str(&format!("<h2>{}</h2>", escape(client_name)));
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some(a) = action {
        text.push_str(&format!("{}:\n{}\n\n", a.label, a.url));
        html.push_str(&format!(
            "<p><a href=\"{url}\">{label}</a></p><p style=\"font-size:small\">{url}</p>",
            url = escape(a.url),
            label = escape(a.label)
        ));
    }
    let footer = format!(
        "You receive this mail because of an account at {client_name}. \
         If you did not ask for it, you can ignore it."
    );
    text.push_str("-- \n");
    text.push_str(&footer);
    text.push('\n');
    html.push_str(&format!(
        "<hr><p style=\"font-size:small;color:#666\">{}</p></body></html>",
        escape(&footer)
    ));
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html,
    }
}

/// The mail `gatehouse mail test` and `POST /api/admin/mail/test/` send:
/// proof that the configured transport delivers, in the usual layout.
pub fn test_mail(to: &str, public_url: &str) -> Mail {
    compose(
        to,
        "Gatehouse test mail",
        "Gatehouse",
        &[
            "This is a test mail from Gatehouse: its mail delivery works.",
            "Nothing needs to be done.",
        ],
        Some(Action {
            label: "Gatehouse",
            url: public_url,
        }),
    )
}

/// HTML-escapes text and attribute values. Five replacements, written here
/// rather than pulling a crate for them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_escapes_html_and_keeps_the_link_in_text() {
        let m = compose(
            "a@example.com",
            "Reset",
            "<Shop & Co>",
            &["Hello <b>"],
            Some(Action {
                label: "Reset your password",
                url: "https://app.example.com/reset?token=x&y=\"1\"",
            }),
        );
        assert!(m.html.contains("&lt;Shop &amp; Co&gt;"));
        assert!(m.html.contains("Hello &lt;b&gt;"));
        assert!(!m.html.contains("<b>"));
        assert!(m.html.contains("token=x&amp;y=&quot;1&quot;"));
        assert!(m
            .text
            .contains("https://app.example.com/reset?token=x&y=\"1\""));
        assert!(m.text.contains("<Shop & Co>"));
    }
}
