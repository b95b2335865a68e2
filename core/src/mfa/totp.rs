//! TOTP (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, 6 digits, 30-second
//! steps, a code accepted in its own step or one step either side. Pure:
//! the time comes in as an argument.

use crate::clock::UnixMillis;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per step.
pub(crate) const STEP_SECS: i64 = 30;
/// Digits per code.
pub(crate) const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (clock drift, typing time).
pub(crate) const WINDOW: i64 = 1;
/// A secret's length in bytes (160 bits, RFC 4226's recommendation).
pub(crate) const SECRET_LEN: usize = 20;

/// The step that `now` falls in.
pub fn step_of(now: UnixMillis) -> i64 {
    now.as_secs().div_euclid(STEP_SECS)
}

/// RFC 4226's HOTP value of `counter`, `digits` long.
pub(crate) fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    // HMAC accepts a key of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    let value = bin % 10u32.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code of `step` (6 digits).
pub fn code_at(secret: &[u8], step: i64) -> String {
    hotp(secret, step.max(0) as u64, DIGITS)
}

/// The step whose code `code` is, within the window around `now`, and
/// later than `last_used_step` (each code is accepted once: a code of a
/// step already used, or of an earlier one, is refused). Every step of the
/// window is computed and compared in constant time.
pub(crate) fn verify(
    secret: &[u8],
    code: &str,
    now: UnixMillis,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_of(now);
    let mut found = None;
    for step in current - WINDOW..=current + WINDOW {
        let matches: bool = code_at(secret, step)
            .as_bytes()
            .ct_eq(code.as_bytes())
            .into();
        let fresh = last_used_step.is_none_or(|last| step > last);
        if matches && fresh && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding (what authenticator apps read).
pub(crate) fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// RFC 4648 base32 (no padding, upper case) back to bytes; None for
/// anything else.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://` URI an authenticator app reads (Google's Key URI
/// format): the issuer and the account, percent-encoded.
pub(crate) fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let issuer_enc = percent(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{}?secret={secret_b32}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(account)
    )
}

/// Percent-encoding of a URI path or query part (RFC 3986's unreserved
/// characters stay).
fn percent(s: &str) -> String {
    crate::query::percent_encode(s, b"-._~")
}

/// The URI as a QR code in SVG (a standalone document).
pub(crate) fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B: the SHA-1 seed is "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_vectors() {
        // (unix time, 8-digit TOTP) from RFC 6238 appendix B.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, expected) in vectors {
            let step = step_of(UnixMillis::from_secs(t));
            assert_eq!(hotp(RFC_SECRET, step as u64, 8), expected, "t = {t}");
            // The 6-digit code is the same value's last six digits.
            assert_eq!(code_at(RFC_SECRET, step), expected[2..], "t = {t}");
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), *code);
        }
    }

    #[test]
    fn the_window_is_one_step_either_side_and_no_more() {
        // t = 1_111_111_111 is in step 37_037_037 (starts at 1_111_111_110).
        let start = 37_037_037 * STEP_SECS;
        let code = code_at(RFC_SECRET, 37_037_037);
        let at = |secs: i64| verify(RFC_SECRET, &code, UnixMillis::from_secs(secs), None);
        // Its own step, first and last millisecond.
        assert_eq!(at(start), Some(37_037_037));
        assert_eq!(
            verify(RFC_SECRET, &code, UnixMillis(start * 1000 + 29_999), None),
            Some(37_037_037)
        );
        // One step before (the code typed early: the clock is behind) and after.
        assert_eq!(at(start - 30), Some(37_037_037));
        assert_eq!(at(start + 59), Some(37_037_037));
        // Two steps away: refused, to the millisecond.
        assert_eq!(at(start - 31), None);
        assert_eq!(
            verify(RFC_SECRET, &code, UnixMillis((start + 60) * 1000), None),
            None
        );
        assert_eq!(
            verify(RFC_SECRET, &code, UnixMillis((start + 60) * 1000 - 1), None),
            Some(37_037_037)
        );
    }

    #[test]
    fn a_code_is_accepted_once_and_never_an_older_one() {
        let now = UnixMillis::from_secs(1_111_111_111);
        let step = step_of(now);
        let code = code_at(RFC_SECRET, step);
        assert_eq!(verify(RFC_SECRET, &code, now, None), Some(step));
        // Replayed in the same step: refused.
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step)), None);
        // The previous step's code after the current one was used: refused.
        let older = code_at(RFC_SECRET, step - 1);
        assert_eq!(verify(RFC_SECRET, &older, now, Some(step)), None);
        // The next step's code is still fine.
        let next = code_at(RFC_SECRET, step + 1);
        assert_eq!(verify(RFC_SECRET, &next, now, Some(step)), Some(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        let now = UnixMillis::from_secs(59);
        for bad in ["", "12345", "1234567", "28708a", "２８７０８２", " "] {
            assert_eq!(verify(RFC_SECRET, bad, now, None), None, "{bad:?}");
        }
        // Spaces around a right code are forgiven.
        let code = code_at(RFC_SECRET, 1);
        assert_eq!(verify(RFC_SECRET, &format!(" {code} "), now, None), Some(1));
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for n in 0u8..=25 {
            let bytes: Vec<u8> = (0..n)
                .map(|i: u8| i.wrapping_mul(37).wrapping_add(1))
                .collect();
            assert_eq!(base32_decode(&base32(&bytes)), Some(bytes));
        }
        assert_eq!(base32_decode("MZXW6!"), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_the_qr_code_is_svg() {
        let uri = otpauth_uri("Gate house", "ada@example.com", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Gate%20house:ada%40example.com?secret=ABC&issuer=Gate%20house&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("fits a QR code");
        assert!(svg.contains("<svg"), "{svg:.80}");
    }
}
