//! COSE_Key (RFC 9052 §7, RFC 9053): the credential public key, ES256 on
//! P-256 or EdDSA on Ed25519 only.

use super::WebauthnError;
use minicbor::{data::Type, Decoder};

/// Entries read from a COSE key map; real keys have 4 or 5.
const MAX_ENTRIES: u64 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoseAlg {
    /// ECDSA with SHA-256 on P-256 (COSE -7).
    Es256,
    /// Ed25519 (COSE -8).
    EdDsa,
}

impl CoseAlg {
    pub fn cose_id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::EdDsa => -8,
        }
    }
}

/// A parsed public key.
#[derive(Debug, Clone)]
pub enum CoseKey {
    Es256(p256::ecdsa::VerifyingKey),
    EdDsa(ed25519_compact::PublicKey),
}

const MALFORMED: WebauthnError = WebauthnError::Malformed("the COSE public key is not valid");

fn m<T, E>(r: Result<T, E>) -> Result<T, WebauthnError> {
    r.map_err(|_| MALFORMED)
}

impl CoseKey {
    pub fn alg(&self) -> CoseAlg {
        match self {
            Self::Es256(_) => CoseAlg::Es256,
            Self::EdDsa(_) => CoseAlg::EdDsa,
        }
    }

    /// Parses exactly one COSE key that fills `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, WebauthnError> {
        let mut d = Decoder::new(bytes);
        let key = Self::decode(&mut d)?;
        if d.position() != bytes.len() {
            return Err(MALFORMED);
        }
        Ok(key)
    }

    /// Parses one COSE key at the decoder's position (authData carries it
    /// followed by optional extensions).
    pub(super) fn decode(d: &mut Decoder<'_>) -> Result<Self, WebauthnError> {
        let n = m(d.map())?.ok_or(MALFORMED)?; // definite length only
        if n > MAX_ENTRIES {
            return Err(MALFORMED);
        }
        let (mut kty, mut alg, mut crv) = (None, None, None);
        let (mut x, mut y): (Option<&[u8]>, Option<&[u8]>) = (None, None);
        for _ in 0..n {
            let label = m(d.i64())?;
            // A repeated label is refused: which one would count?
            let dup = match label {
                1 => kty.replace(m(d.i64())?).is_some(),
                3 => alg.replace(m(d.i64())?).is_some(),
                // -1 is the curve for EC2/OKP, RSA's modulus (bytes) otherwise.
                -1 if !matches!(m(d.datatype())?, Type::Bytes) => {
                    crv.replace(m(d.i64())?).is_some()
                }
                -2 => x.replace(m(d.bytes())?).is_some(),
                -3 => y.replace(m(d.bytes())?).is_some(),
                _ => {
                    m(d.skip())?;
                    false
                }
            };
            if dup {
                return Err(MALFORMED);
            }
        }
        match (kty, alg, crv) {
            // EC2, ES256, P-256
            (Some(2), Some(-7), Some(1)) => {
                let (x, y) = (x.ok_or(MALFORMED)?, y.ok_or(MALFORMED)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(MALFORMED);
                }
                let mut sec1 = [0u8; 65];
                sec1[0] = 4;
                sec1[1..33].copy_from_slice(x);
                sec1[33..].copy_from_slice(y);
                // Refuses points not on the curve.
                let key = m(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1))?;
                Ok(Self::Es256(key))
            }
            // OKP, EdDSA, Ed25519
            (Some(1), Some(-8), Some(6)) => {
                let x = x.ok_or(MALFORMED)?;
                if y.is_some() {
                    return Err(MALFORMED);
                }
                Ok(Self::EdDsa(m(ed25519_compact::PublicKey::from_slice(x))?))
            }
            (Some(_), Some(_), _) => Err(WebauthnError::UnsupportedAlgorithm),
            _ => Err(MALFORMED),
        }
    }

    /// Verifies `sig` over `msg`: ES256 signatures are ASN.1 DER (WebAuthn
    /// §6.5.6), EdDSA ones the raw 64 bytes.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), WebauthnError> {
        match self {
            Self::Es256(key) => {
                use p256::ecdsa::signature::Verifier;
                let sig = p256::ecdsa::DerSignature::from_bytes(sig)
                    .map_err(|_| WebauthnError::Signature)?;
                key.verify(msg, &sig).map_err(|_| WebauthnError::Signature)
            }
            Self::EdDsa(key) => {
                let sig = ed25519_compact::Signature::from_slice(sig)
                    .map_err(|_| WebauthnError::Signature)?;
                key.verify(msg, &sig).map_err(|_| WebauthnError::Signature)
            }
        }
    }
}
