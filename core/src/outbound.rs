//! Outbound HTTP: the core decides what to send and where it may go; a host
//! owns one transport ([`HttpClient`]: hyper natively, `fetch` on the
//! Worker), as with mail.
//!
//! Rules every transport keeps: it never follows a redirect (a 3xx is an
//! answer like any other), it gives up after the request's `timeout_ms`, it
//! reads at most `max_response_bytes` of the body, and it connects only to
//! addresses the [`OutboundPolicy`] admits. The policy refuses loopback,
//! private, link-local, shared (CGNAT), unique-local, unspecified, broadcast
//! and multicast addresses unless the operator allows them
//! (`GATEHOUSE_OUTBOUND_ALLOW`, for tests and private identity providers):
//! a provider's discovery document or a webhook URL must not make Gatehouse
//! a proxy into its own network (SSRF). The native transport resolves a
//! name itself, checks every address it got and connects to a checked one,
//! so a second resolution cannot swap the address (DNS rebinding).

use crate::async_trait_decl;
use bytes::Bytes;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: http::Method,
    /// An absolute `http://` or `https://` URL without user information.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The whole exchange (resolution, connection, TLS, request, response
    /// body) ends within this.
    pub timeout_ms: u64,
    /// A larger body is [`OutboundError::TooLarge`].
    pub max_response_bytes: usize,
}

impl OutboundRequest {
    /// A `GET` of `url` with the default timeout and size cap.
    pub fn get(url: &str) -> OutboundRequest {
        OutboundRequest {
            method: http::Method::GET,
            url: url.to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Bytes::new(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// A form `POST` (`application/x-www-form-urlencoded`) of `fields`.
    pub fn post_form(url: &str, fields: &[(&str, &str)]) -> OutboundRequest {
        OutboundRequest {
            method: http::Method::POST,
            body: Bytes::from(form_encode(fields)),
            headers: vec![
                ("accept".into(), "application/json".into()),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            ..OutboundRequest::get(url)
        }
    }

    /// The same with one more header.
    pub fn header(mut self, name: &str, value: &str) -> OutboundRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Default [`OutboundRequest::timeout_ms`].
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default [`OutboundRequest::max_response_bytes`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What came back (any status: a 3xx or 5xx is an answer, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl OutboundResponse {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// `timeout_ms` passed.
    Timeout,
    /// The policy forbids the address (or the URL is not one Gatehouse
    /// sends to); nothing was sent.
    Refused { reason: String },
    /// The body passed `max_response_bytes`.
    TooLarge,
    /// Resolution, connection, TLS or protocol failure.
    Network(String),
}

impl fmt::Display for OutboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundError::Timeout => f.write_str("timed out"),
            OutboundError::Refused { reason } => write!(f, "refused: {reason}"),
            OutboundError::TooLarge => f.write_str("response too large"),
            OutboundError::Network(why) => write!(f, "network error: {why}"),
        }
    }
}

impl std::error::Error for OutboundError {}

async_trait_decl! {
/// A host's HTTP client. It keeps the module's rules: no redirects, the
/// timeout, the body cap, and the policy it was built with checked on every
/// address it connects to.
pub trait HttpClient: crate::MaybeSendSync {
    async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError>;
}
}

/// `application/x-www-form-urlencoded` of `fields`.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The host of an [`OutboundUrl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlHost {
    Ip(IpAddr),
    /// A name, in lower case, without a trailing dot.
    Name(String),
}

/// An outbound URL taken apart: only what a transport needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundUrl {
    pub https: bool,
    pub host: UrlHost,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
}

impl OutboundUrl {
    /// Parses an absolute `http(s)://host[:port][/path][?query]` URL; a
    /// fragment is dropped. User information, other schemes and control
    /// characters are refused.
    pub fn parse(url: &str) -> Result<OutboundUrl, OutboundError> {
        let refuse = |why: &str| OutboundError::Refused {
            reason: format!("{why}: {url:?}"),
        };
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(refuse("control character or space in the URL"));
        }
        let (https, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(url, "http://") {
            (false, r)
        } else {
            return Err(refuse("not an http(s) URL"));
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(refuse("user information in the URL"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| refuse("bad host or port"))?;
        let port = port.unwrap_or(if https { 443 } else { 80 });
        let host = parse_host(host).ok_or_else(|| refuse("bad host"))?;
        let path_and_query = match tail.chars().next() {
            None => "/".to_owned(),
            Some('?') => format!("/{tail}"),
            _ => tail.to_owned(),
        };
        Ok(OutboundUrl {
            https,
            host,
            port,
            path_and_query,
        })
    }

    /// The host as it goes in the `Host` header and TLS's server name
    /// (an IPv6 address in brackets for the header).
    pub fn host_text(&self) -> String {
        match &self.host {
            UrlHost::Ip(IpAddr::V6(a)) => format!("[{a}]"),
            UrlHost::Ip(a) => a.to_string(),
            UrlHost::Name(n) => n.clone(),
        }
    }

    /// The `Host` header: the host, with the port unless it is the scheme's.
    pub fn host_header(&self) -> String {
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            self.host_text()
        } else {
            format!("{}:{}", self.host_text(), self.port)
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get`: the prefix's length may fall inside a character of `s`.
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// `host[:port]` or `[v6][:port]`.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']')?;
        let after = &rest[close + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (&s[..close + 2], port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|p| *p != 0)?)
        }
        Some(_) => return None,
    };
    (!host.is_empty()).then_some((host, port))
}

fn parse_host(host: &str) -> Option<UrlHost> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| UrlHost::Ip(IpAddr::V6(a)));
    }
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        return Some(UrlHost::Ip(IpAddr::V4(a)));
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    // A name whose last label is a number is an IPv4 address in some other
    // notation (`0x7f.1`, `2130706433`, `127.1`): refused rather than guessed.
    let last = name.rsplit('.').next().unwrap_or_default();
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    (name.len() <= 253 && name.split('.').all(label_ok) && !numeric).then_some(UrlHost::Name(name))
}

/// One `GATEHOUSE_OUTBOUND_ALLOW` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An address block (`127.0.0.0/8`, `10.1.2.3`, `fd00::/8`).
    Net { addr: IpAddr, prefix: u8 },
    /// One host (a name or an address) on one port (`idp.internal:8443`,
    /// `127.0.0.1:18100`, `[::1]:8080`).
    HostPort { host: UrlHost, port: u16 },
}

impl AllowEntry {
    fn parse(s: &str) -> Result<AllowEntry, String> {
        let bad = || format!("cannot use {s:?} (expected an address, a CIDR block or host:port)");
        if let Some((addr, prefix)) = s.split_once('/') {
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = prefix.parse().ok().filter(|p| *p <= max).ok_or_else(bad)?;
            return Ok(AllowEntry::Net { addr, prefix });
        }
        if let Ok(addr) = s.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(AllowEntry::Net { addr, prefix });
        }
        match split_host_port(s) {
            Some((host, Some(port))) => Ok(AllowEntry::HostPort {
                host: parse_host(host).ok_or_else(bad)?,
                port,
            }),
            _ => Err(bad()),
        }
    }

    fn admits(&self, url: &OutboundUrl, addr: IpAddr) -> bool {
        match self {
            AllowEntry::Net { addr: net, prefix } => in_net(addr, *net, *prefix),
            AllowEntry::HostPort { host, port } => *port == url.port && *host == url.host,
        }
    }
}

fn in_net(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (a, n, bits) = match (canonical(addr), canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let prefix = u32::from(prefix).min(bits);
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix;
    (a >> shift) == (n >> shift)
}

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, NAT64's
/// `64:ff9b::a.b.c.d`) is judged as the IPv4 address it reaches.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let o = v6.octets();
                return IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// Why `addr` is not public, or `None` when it is.
pub fn special_use(addr: IpAddr) -> Option<&'static str> {
    match canonical(addr) {
        IpAddr::V4(a) => {
            let o = a.octets();
            if a.is_loopback() {
                Some("loopback")
            } else if a.is_unspecified() || o[0] == 0 {
                Some("unspecified")
            } else if a.is_private() {
                Some("private")
            } else if a.is_link_local() {
                Some("link-local")
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some("shared (CGNAT)")
            } else if a.is_multicast() {
                Some("multicast")
            } else if o[0] >= 240 {
                Some("reserved or broadcast")
            } else {
                None
            }
        }
        IpAddr::V6(a) => {
            let s0 = a.segments()[0];
            if a.is_loopback() {
                Some("loopback")
            } else if a.is_unspecified() {
                Some("unspecified")
            } else if (s0 & 0xfe00) == 0xfc00 {
                Some("unique-local")
            } else if (s0 & 0xffc0) == 0xfe80 {
                Some("link-local")
            } else if a.is_multicast() {
                Some("multicast")
            } else {
                None
            }
        }
    }
}

/// Where outbound requests may go (`GATEHOUSE_OUTBOUND_ALLOW`, the native
/// host's `--outbound-allow`): public addresses always; a special-use one
/// only when an entry admits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub allow_private: Vec<AllowEntry>,
}

impl OutboundPolicy {
    /// A comma-separated list of entries; empty means none.
    pub fn parse(list: &str) -> Result<OutboundPolicy, String> {
        let allow_private = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(AllowEntry::parse)
            .collect::<Result<_, _>>()?;
        Ok(OutboundPolicy { allow_private })
    }

    /// Whether a connection for `url` may go to `addr` (one address the
    /// URL's host resolved to, or its literal address).
    pub fn check(&self, url: &OutboundUrl, addr: IpAddr) -> Result<(), OutboundError> {
        match special_use(addr) {
            None => Ok(()),
            Some(_) if self.allow_private.iter().any(|e| e.admits(url, addr)) => Ok(()),
            Some(kind) => Err(OutboundError::Refused {
                reason: format!(
                    "{} resolves to {addr}, a {kind} address (allow it with GATEHOUSE_OUTBOUND_ALLOW)",
                    url.host_header()
                ),
            }),
        }
    }

    /// The check a transport that cannot resolve names (the Worker) makes
    /// before sending: a literal address as [`OutboundPolicy::check`];
    /// `localhost` and `*.localhost` as loopback; other names pass (the
    /// edge network does not route to private space).
    pub fn check_unresolved(&self, url: &OutboundUrl) -> Result<(), OutboundError> {
        match &url.host {
            UrlHost::Ip(a) => self.check(url, *a),
            UrlHost::Name(n) if n == "localhost" || n.ends_with(".localhost") => {
                self.check(url, IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            UrlHost::Name(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> OutboundUrl {
        OutboundUrl::parse(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn urls_parse() {
        let u = url("https://Accounts.Example.com/.well-known/openid-configuration?x=1#f");
        assert!(u.https);
        assert_eq!(u.host, UrlHost::Name("accounts.example.com".into()));
        assert_eq!(u.port, 443);
        assert_eq!(u.path_and_query, "/.well-known/openid-configuration?x=1");
        let u = url("http://127.0.0.1:18100");
        assert_eq!(u.host, UrlHost::Ip(ip("127.0.0.1")));
        assert_eq!((u.port, u.path_and_query.as_str()), (18100, "/"));
        assert_eq!(u.host_header(), "127.0.0.1:18100");
        let u = url("http://[::1]:8080?q");
        assert_eq!(u.host, UrlHost::Ip(ip("::1")));
        assert_eq!(u.path_and_query, "/?q");
        assert_eq!(u.host_header(), "[::1]:8080");
        assert_eq!(url("https://example.com:443/").host_header(), "example.com");
        assert_eq!(url("http://cafe.be/").host, UrlHost::Name("cafe.be".into()));
    }

    #[test]
    fn bad_urls_are_refused() {
        for bad in [
            "ftp://example.com/",
            "example.com",
            "http://user:pw@example.com/",
            "http://example.com:0/",
            "http://example.com:99999/",
            "http://example.com:/",
            "http:///path",
            "http://exa mple.com/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::1/",
            "http://a\nb/",
            "\u{80}\u{80}\u{10000}",
            "ht\u{e9}ps://x/",
            "https://\u{e9}x.com/",
        ] {
            assert!(
                matches!(OutboundUrl::parse(bad), Err(OutboundError::Refused { .. })),
                "{bad}"
            );
        }
    }

    proptest::proptest! {
        /// Any text is a URL or a refusal, never a panic; so is any allow list.
        #[test]
        fn parsing_never_panics(s in "\\PC*", t in "(https?://)?[\\[\\]:@./0-9a-z\u{80}-\u{10FFFF}]{0,40}") {
            let _ = OutboundUrl::parse(&s);
            let _ = OutboundUrl::parse(&t);
            let _ = OutboundPolicy::parse(&s);
            let _ = OutboundPolicy::parse(&t);
        }
    }

    #[test]
    fn special_addresses_are_refused_by_default() {
        let p = OutboundPolicy::default();
        let u = url("http://idp.example/");
        for a in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.1.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(
                matches!(p.check(&u, ip(a)), Err(OutboundError::Refused { .. })),
                "{a}"
            );
        }
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert_eq!(p.check(&u, ip(a)), Ok(()), "{a}");
        }
    }

    #[test]
    fn entries_admit_what_they_name() {
        let p =
            OutboundPolicy::parse(" 127.0.0.0/8, fd00::/8 ,idp.internal:8443,10.9.9.9").unwrap();
        assert_eq!(p.allow_private.len(), 4);
        assert_eq!(p.check(&url("http://x/"), ip("127.3.2.1")), Ok(()));
        assert_eq!(p.check(&url("http://x/"), ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(p.check(&url("http://x/"), ip("fd00::5")), Ok(()));
        assert_eq!(p.check(&url("http://x/"), ip("10.9.9.9")), Ok(()));
        assert!(p.check(&url("http://x/"), ip("10.9.9.8")).is_err());
        assert!(p.check(&url("http://x/"), ip("::1")).is_err());
        // host:port admits that host on that port only.
        assert_eq!(
            p.check(&url("https://idp.internal:8443/"), ip("192.168.0.7")),
            Ok(())
        );
        assert!(p
            .check(&url("https://idp.internal/"), ip("192.168.0.7"))
            .is_err());
        assert!(p
            .check(&url("https://other.internal:8443/"), ip("192.168.0.7"))
            .is_err());
        let p = OutboundPolicy::parse("[::1]:8080").unwrap();
        assert_eq!(p.check(&url("http://[::1]:8080/"), ip("::1")), Ok(()));
        assert!(p.check(&url("http://[::1]:8081/"), ip("::1")).is_err());
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in ["127.0.0.0/33", "::/129", "nonsense", "host:", "10.0.0.0/x"] {
            assert!(OutboundPolicy::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            OutboundPolicy::parse("").unwrap(),
            OutboundPolicy::default()
        );
    }

    #[test]
    fn names_pass_unresolved_but_localhost_does_not() {
        let p = OutboundPolicy::default();
        assert_eq!(
            p.check_unresolved(&url("https://accounts.google.com/")),
            Ok(())
        );
        assert!(p.check_unresolved(&url("http://localhost:3000/")).is_err());
        assert!(p.check_unresolved(&url("http://a.localhost/")).is_err());
        assert!(p.check_unresolved(&url("http://192.168.1.1/")).is_err());
        let p = OutboundPolicy::parse("127.0.0.1").unwrap();
        assert_eq!(p.check_unresolved(&url("http://localhost:3000/")), Ok(()));
    }

    #[test]
    fn forms_encode() {
        assert_eq!(
            form_encode(&[
                ("grant_type", "authorization_code"),
                ("redirect_uri", "http://a/b?c=d e")
            ]),
            "grant_type=authorization_code&redirect_uri=http%3A%2F%2Fa%2Fb%3Fc%3Dd%20e"
        );
    }
}
