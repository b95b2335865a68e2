//! A TOTP secret sealed at rest: XChaCha20-Poly1305 under the deployment's
//! data key (`GATEHOUSE_DATA_KEY`), bound to its factor's id (associated
//! data), so a sealed secret copied onto another factor's row does not open.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The data key: 32 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub [u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// From standard base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<DataKey, String> {
        let raw = STANDARD
            .decode(text.trim())
            .map_err(|_| "must be base64 (standard alphabet)".to_owned())?;
        let key: [u8; 32] = raw
            .try_into()
            .map_err(|_| "must be 32 bytes once decoded".to_owned())?;
        Ok(DataKey(key))
    }

    /// The base64 text [`from_base64`](Self::from_base64) reads.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

/// `secret` sealed with a random 24-byte `nonce`, as `v1.` + base64(nonce ‖ ciphertext).
pub(crate) fn seal(key: &DataKey, nonce: [u8; 24], factor_id: &str, secret: &[u8]) -> String {
    let cipher = XChaCha20Poly1305::new((&key.0).into());
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: factor_id.as_bytes(),
            },
        )
        .expect("in-memory encryption of a short message");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    format!("v1.{}", STANDARD.encode(out))
}

/// The secret, or None (another key, another factor, a damaged value).
pub(crate) fn open(key: &DataKey, factor_id: &str, sealed: &str) -> Option<Vec<u8>> {
    let raw = STANDARD.decode(sealed.strip_prefix("v1.")?).ok()?;
    if raw.len() < 24 {
        return None;
    }
    let (nonce, ciphertext) = raw.split_at(24);
    XChaCha20Poly1305::new((&key.0).into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: factor_id.as_bytes(),
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_factor() {
        let key = DataKey([7; 32]);
        let sealed = seal(&key, [1; 24], "f1", b"secret-bytes-160-bit");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            open(&key, "f1", &sealed).as_deref(),
            Some(&b"secret-bytes-160-bit"[..])
        );
        assert_eq!(open(&DataKey([8; 32]), "f1", &sealed), None);
        assert_eq!(open(&key, "f2", &sealed), None);
        // Damaged: a flipped character, a truncation, another version.
        let mut bad = sealed.clone().into_bytes();
        let i = bad.len() - 3;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(open(&key, "f1", std::str::from_utf8(&bad).unwrap()), None);
        assert_eq!(open(&key, "f1", &sealed[..20]), None);
        assert_eq!(open(&key, "f1", &sealed.replacen("v1.", "v2.", 1)), None);
        assert_eq!(open(&key, "f1", "v1.!!"), None);
    }

    #[test]
    fn the_key_is_32_bytes_of_base64() {
        let k = DataKey([9; 32]);
        assert_eq!(DataKey::from_base64(&k.to_base64()), Ok(k));
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
        assert!(DataKey::from_base64("not base64 at all").is_err());
    }
}
