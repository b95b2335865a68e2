//! Lowercase hex, and SHA-256 as hex: the stored form of every hashed
//! secret (API keys, one-time tokens and codes, recovery codes) and of key
//! ids. One place, so a hash written by one flow is read the same by another.

use sha2::{Digest, Sha256};

/// `bytes` as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
