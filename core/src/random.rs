//! Randomness comes in through [`Random`]: the OS generator natively,
//! `crypto.getRandomValues` on the Worker, a seeded one in tests.

/// A cryptographically secure source of random bytes.
pub trait Random: crate::MaybeSendSync {
    fn fill(&self, buf: &mut [u8]);
}

/// `n` random bytes from `rng`.
pub fn bytes<const N: usize>(rng: &dyn Random) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill(&mut b);
    b
}

/// A deterministic generator for tests (splitmix64). Never use it for real.
#[derive(Debug)]
pub struct SeededRandom(std::sync::Mutex<u64>);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom(std::sync::Mutex::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(8) {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}
