//! Passwords: Argon2id hashing (PHC strings) behind [`PasswordHasher`], so the
//! native host can run it on a bounded blocking pool while the Worker runs it
//! inline; and Django-style validation ([`validation`]).

pub mod validation;

use crate::async_trait_decl;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

/// Argon2id cost parameters. Defaults are OWASP's: m = 19456 KiB, t = 2, p = 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Hashing failed (bad parameters or a corrupt stored hash).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(pub String);

/// Hashes `password` with Argon2id into a PHC string. CPU-bound: ~20 ms with
/// the default parameters in an optimised build.
pub fn hash_password(
    params: Argon2Params,
    password: &str,
    salt: [u8; 16],
) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError(e.to_string()))?;
    argon2(params)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Checks `password` against a PHC string, with the parameters stored in it.
/// The comparison inside `argon2` is constant-time.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|e| PasswordError(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

fn argon2(p: Argon2Params) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(|e| PasswordError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

async_trait_decl! {
/// Runs the CPU-heavy hash work wherever the host wants it to run.
pub trait PasswordHasher: crate::MaybeSendSync {
    async fn hash(&self, password: String, salt: [u8; 16]) -> Result<String, PasswordError>;
    async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError>;
}
}

/// Hashes on the calling task: for the Worker and for tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct InlineHasher(pub Argon2Params);

async_trait_decl! {
impl PasswordHasher for InlineHasher {
    async fn hash(&self, password: String, salt: [u8; 16]) -> Result<String, PasswordError> {
        hash_password(self.0, &password, salt)
    }
    async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError> {
        verify_password(&password, &phc)
    }
}
}
