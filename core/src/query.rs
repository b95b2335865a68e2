//! Query strings: `application/x-www-form-urlencoded` pairs, and the value
//! forms the admin API accepts (integers, booleans, times). Percent-decoding
//! is written here (a dozen lines) rather than pulling a URL crate into the
//! core for it.

use crate::clock::UnixMillis;
use crate::error::FieldErrors;
use crate::json::push;

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Default, Clone)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(query: Option<&str>) -> Query {
        Query(
            query
                .unwrap_or("")
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The last value of `name`, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The query with `name` set to `value` (replacing it), encoded.
    pub fn with(&self, name: &str, value: &str) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut set = false;
        for (k, v) in &self.0 {
            if k == name {
                if !set {
                    out.push(format!("{}={}", encode(k), encode(value)));
                    set = true;
                }
            } else {
                out.push(format!("{}={}", encode(k), encode(v)));
            }
        }
        if !set {
            out.push(format!("{}={}", encode(name), encode(value)));
        }
        out.join("&")
    }

    /// An optional integer; a malformed one is a field error.
    pub fn int(&self, name: &str, errors: &mut FieldErrors) -> Option<i64> {
        let v = self.get(name)?;
        match v.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                push(errors, name, "A valid integer is required.");
                None
            }
        }
    }

    /// An optional boolean (`true`/`false`, `1`/`0`, any case).
    pub fn bool(&self, name: &str, errors: &mut FieldErrors) -> Option<bool> {
        let v = self.get(name)?;
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => {
                push(errors, name, "Must be a valid boolean.");
                None
            }
        }
    }

    /// An optional time, RFC 3339 or Unix seconds, within
    /// [`TIME_MIN`]..=[`TIME_MAX`]; anything else is a field error.
    pub fn time(&self, name: &str, errors: &mut FieldErrors) -> Option<UnixMillis> {
        let v = self.get(name)?;
        match parse_time(v) {
            Ok(t) => Some(t),
            Err(TimeError::Invalid) => {
                push(
                    errors,
                    name,
                    "Enter a valid date/time (RFC 3339 or Unix seconds).",
                );
                None
            }
            Err(TimeError::OutOfRange) => {
                push(errors, name, OUT_OF_RANGE);
                None
            }
        }
    }
}

/// The earliest time a query accepts: 1970-01-01T00:00:00Z.
pub const TIME_MIN: UnixMillis = UnixMillis(0);
/// The latest time a query accepts: 9999-12-31T23:59:59.999Z (the last
/// instant RFC 3339 can write). Every time in the window, and every sum of
/// two of them, fits an `i64` of milliseconds with room to spare.
pub const TIME_MAX: UnixMillis = UnixMillis(253_402_300_799_999);

const OUT_OF_RANGE: &str =
    "Enter a date/time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.";

/// Why a time parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Neither RFC 3339 nor an integer.
    Invalid,
    /// Well-formed, but outside [`TIME_MIN`]..=[`TIME_MAX`].
    OutOfRange,
}

/// RFC 3339 (`2026-11-26T09:00:00Z`, `…+01:00`, fractions) or Unix seconds,
/// within [`TIME_MIN`]..=[`TIME_MAX`]. No arithmetic here can overflow:
/// seconds are range-checked before they are scaled, and RFC 3339 times are
/// compared as `i128` nanoseconds.
pub fn parse_time(v: &str) -> Result<UnixMillis, TimeError> {
    let v = v.trim();
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // An integer: Unix seconds. Too large for an i64 is out of range
        // too, not malformed.
        let secs = v.parse::<i64>().map_err(|_| TimeError::OutOfRange)?;
        if !(TIME_MIN.as_secs()..=TIME_MAX.as_secs()).contains(&secs) {
            return Err(TimeError::OutOfRange);
        }
        return Ok(UnixMillis::from_secs(secs));
    }
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|_| TimeError::Invalid)?;
    let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
    if !(i128::from(TIME_MIN.0)..=i128::from(TIME_MAX.0)).contains(&millis) {
        return Err(TimeError::OutOfRange);
    }
    i64::try_from(millis)
        .map(UnixMillis)
        .map_err(|_| TimeError::OutOfRange)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form decoding: `+` is a space, `%XX` a byte; invalid UTF-8 is replaced.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Form encoding of a value: unreserved characters stay, the rest is `%XX`.
pub(crate) fn encode(s: &str) -> String {
    percent_encode(s, b"-._~*")
}

/// `s` with every byte but ASCII letters, digits and those of `keep` as
/// `%XX`.
pub(crate) fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_reencodes() {
        let q = Query::parse(Some("search=ada+l%C3%BC&page=2&x=%zz&empty="));
        assert_eq!(q.get("search"), Some("ada lü"));
        assert_eq!(q.get("x"), Some("%zz"));
        assert_eq!(q.get("empty"), None);
        assert_eq!(
            q.with("page", "3"),
            "search=ada%20l%C3%BC&page=3&x=%25zz&empty="
        );
        assert_eq!(Query::parse(None).with("page", "1"), "page=1");
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("0"), Ok(UnixMillis(0)));
        assert_eq!(
            parse_time("2026-11-26T09:00:00Z"),
            parse_time("2026-11-26T10:00:00+01:00")
        );
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z"), Ok(UnixMillis(1500)));
        assert_eq!(parse_time("yesterday"), Err(TimeError::Invalid));
        assert_eq!(parse_time("12abc"), Err(TimeError::Invalid));
        assert_eq!(parse_time("-"), Err(TimeError::Invalid));
    }

    #[test]
    fn times_outside_the_window_are_refused_in_both_forms() {
        // The window's edges, in both forms.
        assert_eq!(
            parse_time("253402300799"),
            Ok(UnixMillis(253_402_300_799_000))
        );
        assert_eq!(parse_time("9999-12-31T23:59:59.999Z"), Ok(TIME_MAX));
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(TIME_MIN));
        assert_eq!(parse_time("+0"), Ok(TIME_MIN));
        for v in [
            "253402300800",
            "100000000000000",
            "9223372036854775",
            "9223372036854775807",
            "9223372036854775808",
            "99999999999999999999999999",
            "-1",
            "-9223372036854775808",
            "-9223372036854775809",
            "1969-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-00:01",
            "1970-01-01T00:30:00+01:00",
        ] {
            assert_eq!(parse_time(v), Err(TimeError::OutOfRange), "{v}");
        }
        let q = Query::parse(Some("to=9223372036854775807&from=x"));
        let mut e = FieldErrors::new();
        assert_eq!(q.time("to", &mut e), None);
        assert_eq!(q.time("from", &mut e), None);
        assert_eq!(e["to"], [OUT_OF_RANGE]);
        assert_eq!(
            e["from"],
            ["Enter a valid date/time (RFC 3339 or Unix seconds)."]
        );
    }

    #[test]
    fn typed_values_report_field_errors() {
        let q = Query::parse(Some("a=1&b=true&c=x&d=nope"));
        let mut e = FieldErrors::new();
        assert_eq!(q.int("a", &mut e), Some(1));
        assert_eq!(q.bool("b", &mut e), Some(true));
        assert_eq!(q.int("c", &mut e), None);
        assert_eq!(q.bool("d", &mut e), None);
        assert_eq!(q.time("d", &mut e), None);
        assert_eq!(e.len(), 2);
        assert_eq!(e["d"].len(), 2);
    }
}
