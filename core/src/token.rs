//! JWT access and refresh tokens: claims, signing keys, issue and verify.

use crate::random::Random;

/// A new Ed25519 private key, base64 (standard alphabet) of its 64-byte
/// secret key, as `GATEHOUSE_JWT_PRIVATE_KEY` and the Worker secret take it.
pub fn generate_ed25519_private_key(_rng: &dyn Random) -> String {
    todo!()
}
