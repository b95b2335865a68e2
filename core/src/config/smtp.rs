//! `GATEHOUSE_SMTP_URL` / `--smtp-url`: one URL says where and how the
//! native host sends mail. Parsed here (pure) so the rules live with the
//! rest of the configuration; only the native host uses it.
//!
//! - `smtps://user:pass@host[:465]`: TLS from the first byte (implicit TLS).
//! - `smtp://user:pass@host[:587]`: STARTTLS, required (the password never
//!   crosses in clear).
//! - `?tls=opportunistic` (STARTTLS when offered) or `?tls=none` (plain; a
//!   local test server): only for `smtp://`.
//!
//! User and password are percent-decoded. The password is never printed:
//! `Debug` hides it, and [`SmtpUrl::redacted`] is what logs show.

use std::fmt;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtps://`: TLS at once.
    Implicit,
    /// `smtp://`: STARTTLS, or fail.
    StartTls,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://…?tls=none`: no TLS at all.
    None,
}

/// A parsed SMTP URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub tls: SmtpTls,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl SmtpUrl {
    /// The URL without its password (`smtp://user:***@host:587`).
    pub fn redacted(&self) -> String {
        let scheme = if self.tls == SmtpTls::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let auth = match (&self.user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        let query = match self.tls {
            SmtpTls::Opportunistic => "?tls=opportunistic",
            SmtpTls::None => "?tls=none",
            _ => "",
        };
        format!("{scheme}://{auth}{}:{}{query}", self.host, self.port)
    }

    /// Parses `s`; the error says what is wrong (never echoing a password).
    pub fn parse(s: &str) -> Result<SmtpUrl, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or("expected smtp://host[:port] or smtps://host[:port]")?;
        let implicit = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(format!("unknown scheme {scheme:?} (smtp or smtps)")),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return Err("no path is allowed after the host".into());
        }
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => {
                let (u, p) = match a.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (a, None),
                };
                let user = decode(u).ok_or("the user name is not valid percent-encoding")?;
                let password = p
                    .map(|p| decode(p).ok_or("the password is not valid percent-encoding"))
                    .transpose()?;
                (Some(user).filter(|u| !u.is_empty()), password)
            }
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h.split_once(']').ok_or("unclosed [ in the host")?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        let port = match port {
            None => {
                if implicit {
                    465
                } else {
                    587
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("bad port {p:?}"))?,
        };
        let mut tls = if implicit {
            SmtpTls::Implicit
        } else {
            SmtpTls::StartTls
        };
        for kv in query.into_iter().flat_map(|q| q.split('&')) {
            match kv {
                "" => {}
                "tls=required" if !implicit => tls = SmtpTls::StartTls,
                "tls=opportunistic" if !implicit => tls = SmtpTls::Opportunistic,
                "tls=none" if !implicit => tls = SmtpTls::None,
                _ => {
                    return Err(format!(
                        "unknown option {kv:?} (smtp:// takes tls=required, tls=opportunistic or tls=none)"
                    ))
                }
            }
        }
        Ok(SmtpUrl {
            tls,
            host: host.to_owned(),
            port,
            user,
            password,
        })
    }
}

/// Percent-decoding; `None` on a bad escape or non-UTF-8 result.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms() {
        let u = SmtpUrl::parse("smtp://me%40x.com:p%3Ass@mail.example.com").unwrap();
        assert_eq!(u.tls, SmtpTls::StartTls);
        assert_eq!(u.port, 587);
        assert_eq!(u.user.as_deref(), Some("me@x.com"));
        assert_eq!(u.password.as_deref(), Some("p:ss"));
        let u = SmtpUrl::parse("smtps://mail.example.com").unwrap();
        assert_eq!((u.tls, u.port, u.user), (SmtpTls::Implicit, 465, None));
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((u.tls, u.port), (SmtpTls::None, 2525));
        let u = SmtpUrl::parse("smtp://[::1]:25/?tls=opportunistic").unwrap();
        assert_eq!((u.host.as_str(), u.tls), ("::1", SmtpTls::Opportunistic));
    }

    #[test]
    fn refuses_bad_urls_without_echoing_the_password() {
        for bad in [
            "mail.example.com",
            "http://x",
            "smtp://",
            "smtp://h:0",
            "smtp://h:99999",
            "smtps://h?tls=none",
            "smtp://h?tls=maybe",
            "smtp://h/path",
            "smtp://u:%zz@h",
        ] {
            let e = SmtpUrl::parse(bad).unwrap_err();
            assert!(!e.contains("%zz"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_password_is_never_shown() {
        let u = SmtpUrl::parse("smtp://user:hunter2@h:25").unwrap();
        assert_eq!(format!("{u:?}"), "smtp://user:***@h:25");
        assert!(!u.redacted().contains("hunter2"));
    }
}
