//! Tokens and encodings.

use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// URL-safe, padding optional, trailing bits ignored: what the scan meets in
/// tokens and keys, whichever way they were written.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The claims of a JWT, unverified.
pub fn jwt_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64_decode(payload)?;
    serde_json::from_slice(&bytes).ok()
}

/// A string claim of a JWT.
pub fn jwt_claim(token: &str, claim: &str) -> Option<String> {
    jwt_claims(token)?[claim].as_str().map(str::to_owned)
}

/// Decodes base64 in either alphabet, with or without padding.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    // One engine for both alphabets: the standard one's two letters mapped
    // to their URL-safe twins.
    let url_safe: String = s
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    LENIENT.decode(url_safe).ok()
}

/// Base64 of `bytes` in the standard (`url = false`) or URL-safe alphabet,
/// padded or not.
pub fn base64_encode(bytes: &[u8], url: bool, pad: bool) -> String {
    match (url, pad) {
        (false, true) => STANDARD.encode(bytes),
        (false, false) => STANDARD_NO_PAD.encode(bytes),
        (true, true) => URL_SAFE.encode(bytes),
        (true, false) => URL_SAFE_NO_PAD.encode(bytes),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            for url in [false, true] {
                for pad in [false, true] {
                    let e = base64_encode(&bytes, url, pad);
                    assert_eq!(base64_decode(&e).unwrap(), bytes, "{e}");
                }
            }
        }
        assert_eq!(base64_encode(b"hello", false, true), "aGVsbG8=");
    }
}
