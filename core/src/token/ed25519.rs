//! The Ed25519 signing key behind EdDSA tokens.
//!
//! With the `aws-lc` feature (the native host turns it on) it signs with
//! aws-lc: about 9 µs a signature on the bench machine against 18 µs for
//! ed25519-compact; a refresh signs two tokens, and signing was two thirds
//! of its CPU once verification was cached. Without it (the Worker's wasm32
//! build, where aws-lc's C does not build, and the fuzz target) it signs
//! with ed25519-compact. Both are RFC 8032's deterministic Ed25519, so one
//! seed signs one message to the same bytes on every host; a test below
//! holds the two to that.

/// An Ed25519 key pair that signs.
pub struct Ed25519Key {
    #[cfg(feature = "aws-lc")]
    pair: aws_lc_rs::signature::Ed25519KeyPair,
    #[cfg(not(feature = "aws-lc"))]
    pair: ed25519_compact::KeyPair,
    public: [u8; 32],
}

impl Ed25519Key {
    /// The key of a 32-byte seed (RFC 8032's private key).
    pub fn from_seed(seed: &[u8; 32]) -> Ed25519Key {
        let compact = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(*seed));
        let public = *compact.pk;
        #[cfg(feature = "aws-lc")]
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_and_public_key(seed, &public)
            .expect("a seed and the public key derived from it are consistent");
        #[cfg(not(feature = "aws-lc"))]
        let pair = compact;
        Ed25519Key { pair, public }
    }

    /// The 32-byte public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        #[cfg(feature = "aws-lc")]
        out.copy_from_slice(self.pair.sign(message).as_ref());
        #[cfg(not(feature = "aws-lc"))]
        out.copy_from_slice(self.pair.sk.sign(message, None).as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The native signer gives ed25519-compact's (the Worker's) bytes.
        #[test]
        fn signs_as_ed25519_compact_does(seed in proptest::array::uniform32(0u8..), message in proptest::collection::vec(0u8.., 0..600)) {
            let key = Ed25519Key::from_seed(&seed);
            let compact = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
            proptest::prop_assert_eq!(key.public(), &*compact.pk);
            let signature = key.sign(&message);
            proptest::prop_assert_eq!(&signature[..], &compact.sk.sign(&message, None)[..]);
            let parsed = ed25519_compact::Signature::from_slice(&signature).unwrap();
            proptest::prop_assert!(compact.pk.verify(&message, &parsed).is_ok());
        }
    }

    /// RFC 8032 §7.1, TEST 2 (one-byte message).
    #[test]
    fn rfc_8032_test_2() {
        let hex = |s: &str| base16ct::lower::decode_vec(s).unwrap();
        let seed: [u8; 32] =
            hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
                .try_into()
                .unwrap();
        let key = Ed25519Key::from_seed(&seed);
        assert_eq!(
            key.public().to_vec(),
            hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
        );
        assert_eq!(
            key.sign(&[0x72]).to_vec(),
            hex(concat!(
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
                "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            ))
        );
    }
}
