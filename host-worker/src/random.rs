//! Randomness from the Workers runtime.

use gatehouse_core::random::Random;

/// `crypto.getRandomValues`, reached through getrandom's `js` backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CryptoRandom;

impl Random for CryptoRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Fails only if the runtime has no Web Crypto, which workerd always has;
        // carrying on with predictable bytes would be worse than stopping.
        getrandom_02::getrandom(buf).expect("crypto.getRandomValues is unavailable");
    }
}
