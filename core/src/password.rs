//! Passwords: Argon2id hashing (PHC strings) behind [`PasswordHasher`], so the
//! native host can run it on a bounded blocking pool while the Worker runs it
//! inline; Django-style validation ([`validation`]); and Django's own hash
//! formats, verified for users imported from the seed deployment ([`django`]).

pub mod django;
pub mod validation;

use crate::async_trait_decl;
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};

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

/// Hashing did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Bad parameters or a corrupt stored hash: a server error.
    #[error("password hashing failed: {0}")]
    Failed(String),
    /// The host's hashing capacity is used up (its queue is full): the
    /// request is refused at once (503 `server_busy`) instead of waiting.
    #[error("password hashing is at capacity; retry in {retry_after_secs} s")]
    Busy {
        /// Suggested wait, for `Retry-After`.
        retry_after_secs: u64,
    },
}

impl PasswordError {
    fn failed(e: impl std::fmt::Display) -> Self {
        PasswordError::Failed(e.to_string())
    }
}

/// Hashes `password` with Argon2id into a PHC string. CPU-bound: ~20 ms with
/// the default parameters in an optimised build.
pub fn hash_password(
    params: Argon2Params,
    password: &str,
    salt: [u8; 16],
) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&salt).map_err(PasswordError::failed)?;
    argon2(params)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(PasswordError::failed)
}

/// Checks `password` against a PHC string, with the parameters stored in it.
/// The comparison inside `argon2` is constant-time. A hash that is not
/// Gatehouse's own goes to [`django::verify`] (false when not verifiable):
/// so the host's hashing pool runs Django's costly hashes too.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, PasswordError> {
    if django::kind(phc) != django::Kind::Native {
        return Ok(django::verify(password, phc));
    }
    let parsed = PasswordHash::new(phc).map_err(PasswordError::failed)?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

fn argon2(p: Argon2Params) -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None)
        .map_err(PasswordError::failed)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A reusable Argon2 work area. Hashing and verifying through it give
/// exactly what [`hash_password`] and [`verify_password`] give (the same PHC
/// strings), without allocating and freeing `m` KiB per hash: a host keeps
/// one per hashing thread, so memory stays at one area per thread instead
/// of following the allocator's caches.
#[derive(Debug)]
pub struct HashMemory {
    params: Argon2Params,
    /// Blocks for `params`; allocated on first use.
    capacity: usize,
    blocks: Vec<Block>,
}

impl HashMemory {
    /// A work area sized for hashes made with `params`.
    pub fn new(params: Argon2Params) -> Self {
        let capacity = argon2(params).map_or(0, |a| a.params().block_count());
        HashMemory {
            params,
            capacity,
            blocks: Vec::new(),
        }
    }

    /// Bytes held now (0 before the first hash).
    pub fn allocated_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
    }

    /// [`hash_password`] with this area's parameters, in this area.
    pub fn hash(&mut self, password: &str, salt: [u8; 16]) -> Result<String, PasswordError> {
        let hasher = argon2(self.params)?;
        let salt_b64 = SaltString::encode_b64(&salt).map_err(PasswordError::failed)?;
        let blocks = self
            .blocks(hasher.params().block_count())
            .ok_or_else(|| PasswordError::failed("no work area for these parameters"))?;
        let len = hasher
            .params()
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(len, |out| {
            Ok(hasher.hash_password_into_with_memory(password.as_bytes(), &salt, out, blocks)?)
        })
        .map_err(PasswordError::failed)?;
        // What `argon2`'s own `hash_password` builds.
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(hasher.params()).map_err(PasswordError::failed)?,
            salt: Some(salt_b64.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    }

    /// [`verify_password`], in this area when the stored parameters fit in
    /// it (the usual case: hashes made with this area's parameters or
    /// cheaper ones). Anything else (a costlier or unusual stored hash)
    /// takes [`verify_password`]'s own path with a fresh allocation.
    pub fn verify(&mut self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        if django::kind(phc) != django::Kind::Native {
            return Ok(django::verify(password, phc));
        }
        let parsed = PasswordHash::new(phc).map_err(PasswordError::failed)?;
        match self.verify_in_place(password.as_bytes(), &parsed) {
            Some(ok) => Ok(ok),
            None => verify_password(password, phc),
        }
    }

    /// The steps of `password_hash`'s `PasswordVerifier` (the parameters,
    /// algorithm and version stored in the hash; a constant-time compare),
    /// with this area as Argon2's memory. `None` when it does not apply.
    fn verify_in_place(&mut self, password: &[u8], parsed: &PasswordHash<'_>) -> Option<bool> {
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let mut salt_buf = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_buf).ok()?;
        let hasher = Argon2::new(algorithm, version, params);
        let blocks = self.blocks(hasher.params().block_count())?;
        let computed = Output::init_with(expected.len(), |out| {
            Ok(hasher.hash_password_into_with_memory(password, salt, out, blocks)?)
        })
        .ok()?;
        // `Output`'s equality is constant-time.
        Some(computed == expected)
    }

    /// The first `count` blocks of the area, or `None` if it is smaller.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if count > self.capacity {
            return None;
        }
        if self.blocks.len() < self.capacity {
            self.blocks = vec![Block::default(); self.capacity];
        }
        // Argon2 writes every block before reading it, so what an earlier
        // hash left here does not matter.
        Some(&mut self.blocks[..count])
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::CHEAP_ARGON2 as CHEAP;

    #[test]
    fn hash_memory_makes_the_phc_of_hash_password() {
        for params in [CHEAP, Argon2Params::default()] {
            let mut area = HashMemory::new(params);
            let reused = area.hash("correct horse", [7; 16]).unwrap();
            let fresh = hash_password(params, "correct horse", [7; 16]).unwrap();
            assert_eq!(reused, fresh);
        }
    }

    #[test]
    fn hashes_of_either_path_verify_with_the_other() {
        let mut area = HashMemory::new(CHEAP);
        let new_way = area.hash("battery staple", [1; 16]).unwrap();
        assert!(verify_password("battery staple", &new_way).unwrap());
        assert!(!verify_password("battery stapler", &new_way).unwrap());

        let old_way = hash_password(CHEAP, "battery staple", [2; 16]).unwrap();
        assert!(area.verify("battery staple", &old_way).unwrap());
        assert!(!area.verify("battery stapler", &old_way).unwrap());
    }

    #[test]
    fn hash_memory_honours_the_parameters_stored_in_the_hash() {
        let mut area = HashMemory::new(Argon2Params {
            memory_kib: 256,
            ..CHEAP
        });
        // Cheaper (fits in the area), costlier (a fresh allocation), and
        // other parallelism / iterations.
        for stored in [
            CHEAP,
            Argon2Params {
                memory_kib: 1024,
                iterations: 2,
                parallelism: 2,
            },
            Argon2Params {
                memory_kib: 128,
                iterations: 3,
                parallelism: 2,
            },
        ] {
            let phc = hash_password(stored, "pw-1", [3; 16]).unwrap();
            assert!(area.verify("pw-1", &phc).unwrap(), "{stored:?}");
            assert!(!area.verify("pw-2", &phc).unwrap(), "{stored:?}");
        }
        // The area kept its own size.
        assert_eq!(area.allocated_bytes(), 256 * 1024);
    }

    #[test]
    fn hash_memory_verifies_other_argon2_variants() {
        let salt = SaltString::encode_b64(&[9; 16]).unwrap();
        let params = Params::new(64, 1, 1, None).unwrap();
        let mut area = HashMemory::new(CHEAP);
        for (alg, version) in [
            (Algorithm::Argon2i, Version::V0x13),
            (Algorithm::Argon2d, Version::V0x13),
            (Algorithm::Argon2id, Version::V0x10),
        ] {
            let phc = Argon2::new(alg, version, params.clone())
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string();
            assert!(area.verify("pw", &phc).unwrap(), "{phc}");
            assert!(!area.verify("px", &phc).unwrap(), "{phc}");
        }
    }

    #[test]
    fn hash_memory_fails_like_verify_password() {
        let mut area = HashMemory::new(CHEAP);
        assert!(area.verify("pw", "$argon2id$x").is_err());
        assert!(verify_password("pw", "$argon2id$x").is_err());
        // Not Gatehouse's format: Django's verifier says no (a reset is due).
        assert!(!area.verify("pw", "not a hash").unwrap());
        assert!(!verify_password("pw", "not a hash").unwrap());
        // Parsable, but no hash: false on both paths.
        let no_hash = "$argon2id$v=19$m=64,t=1,p=1$CQkJCQkJCQkJCQkJCQkJCQ";
        assert!(!area.verify("pw", no_hash).unwrap());
        assert!(!verify_password("pw", no_hash).unwrap());
    }

    #[test]
    fn hash_memory_reuses_one_area() {
        let mut area = HashMemory::new(CHEAP);
        assert_eq!(area.allocated_bytes(), 0);
        let phc = area.hash("pw", [4; 16]).unwrap();
        let first = area.blocks.as_ptr();
        for i in 0..5u8 {
            area.hash("pw", [i; 16]).unwrap();
            assert!(area.verify("pw", &phc).unwrap());
        }
        assert_eq!(area.blocks.as_ptr(), first);
        assert_eq!(area.allocated_bytes(), 64 * 1024);
    }
}
