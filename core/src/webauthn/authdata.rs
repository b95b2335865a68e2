//! The attestation object (CBOR map: fmt, attStmt, authData) and
//! authenticator data (WebAuthn §6.1), read borrowed from the input.

use super::{CoseKey, WebauthnError, MAX_CREDENTIAL_ID};
use minicbor::Decoder;

const MALFORMED_AUTH: WebauthnError = WebauthnError::Malformed("authenticator data is not valid");
const MALFORMED_ATT: WebauthnError =
    WebauthnError::Malformed("the attestation object is not valid");

/// The authenticator data flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    pub const UP: u8 = 0x01;
    pub const UV: u8 = 0x04;
    pub const BE: u8 = 0x08;
    pub const BS: u8 = 0x10;
    pub const AT: u8 = 0x40;
    pub const ED: u8 = 0x80;
    pub fn user_present(self) -> bool {
        self.0 & Self::UP != 0
    }
    pub fn user_verified(self) -> bool {
        self.0 & Self::UV != 0
    }
    pub fn backup_eligible(self) -> bool {
        self.0 & Self::BE != 0
    }
    pub fn backed_up(self) -> bool {
        self.0 & Self::BS != 0
    }
    fn attested(self) -> bool {
        self.0 & Self::AT != 0
    }
    fn extensions(self) -> bool {
        self.0 & Self::ED != 0
    }
}

/// attestedCredentialData.
#[derive(Debug, Clone)]
pub struct AttestedCredential<'a> {
    pub aaguid: [u8; 16],
    pub credential_id: &'a [u8],
    /// The COSE key's own bytes, stored as they came.
    pub public_key_cose: &'a [u8],
    pub public_key: CoseKey,
}

/// Authenticator data.
#[derive(Debug, Clone)]
pub struct AuthData<'a> {
    pub rp_id_hash: [u8; 32],
    pub flags: Flags,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential<'a>>,
}

impl<'a> AuthData<'a> {
    /// Parses authenticator data; every byte must be accounted for.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WebauthnError> {
        if bytes.len() < 37 {
            return Err(MALFORMED_AUTH);
        }
        let mut rp_id_hash = [0u8; 32];
        rp_id_hash.copy_from_slice(&bytes[..32]);
        let flags = Flags(bytes[32]);
        let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
        let mut rest = &bytes[37..];
        let attested = if flags.attested() {
            if rest.len() < 18 {
                return Err(MALFORMED_AUTH);
            }
            let mut aaguid = [0u8; 16];
            aaguid.copy_from_slice(&rest[..16]);
            let id_len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
            if id_len > MAX_CREDENTIAL_ID {
                return Err(WebauthnError::CredentialIdTooLong);
            }
            if id_len == 0 || rest.len() < 18 + id_len {
                return Err(MALFORMED_AUTH);
            }
            let credential_id = &rest[18..18 + id_len];
            let key_bytes = &rest[18 + id_len..];
            let mut d = Decoder::new(key_bytes);
            let public_key = CoseKey::decode(&mut d)?;
            let key_len = d.position();
            rest = &key_bytes[key_len..];
            Some(AttestedCredential {
                aaguid,
                credential_id,
                public_key_cose: &key_bytes[..key_len],
                public_key,
            })
        } else {
            None
        };
        if flags.extensions() {
            // Extension outputs: one CBOR map, read past, not interpreted.
            let mut d = Decoder::new(rest);
            if d.datatype().map_err(|_| MALFORMED_AUTH)? != minicbor::data::Type::Map {
                return Err(MALFORMED_AUTH);
            }
            d.skip().map_err(|_| MALFORMED_AUTH)?;
            rest = &rest[d.position()..];
        }
        if !rest.is_empty() {
            return Err(MALFORMED_AUTH);
        }
        Ok(Self {
            rp_id_hash,
            flags,
            sign_count,
            attested,
        })
    }
}

/// The attestation object's three members.
#[derive(Debug, Clone, Copy)]
pub(super) struct AttestationObject<'a> {
    pub fmt: &'a str,
    pub auth_data: &'a [u8],
}

/// Parses the attestation object. The statement (`attStmt`) is read past:
/// "none" has an empty one, and other formats' statements are not verified
/// (see the module note).
pub(super) fn parse_attestation_object(
    bytes: &[u8],
) -> Result<AttestationObject<'_>, WebauthnError> {
    let mut d = Decoder::new(bytes);
    let n = d.map().map_err(|_| MALFORMED_ATT)?.ok_or(MALFORMED_ATT)?;
    if n != 3 {
        return Err(MALFORMED_ATT);
    }
    let (mut fmt, mut auth_data, mut stmt) = (None, None, false);
    for _ in 0..n {
        let dup = match d.str().map_err(|_| MALFORMED_ATT)? {
            "fmt" => fmt.replace(d.str().map_err(|_| MALFORMED_ATT)?).is_some(),
            "authData" => auth_data
                .replace(d.bytes().map_err(|_| MALFORMED_ATT)?)
                .is_some(),
            "attStmt" => {
                if d.datatype().map_err(|_| MALFORMED_ATT)? != minicbor::data::Type::Map {
                    return Err(MALFORMED_ATT);
                }
                d.skip().map_err(|_| MALFORMED_ATT)?;
                std::mem::replace(&mut stmt, true)
            }
            _ => return Err(MALFORMED_ATT),
        };
        if dup {
            return Err(MALFORMED_ATT);
        }
    }
    if d.position() != bytes.len() {
        return Err(MALFORMED_ATT);
    }
    match (fmt, auth_data, stmt) {
        (Some(fmt), Some(auth_data), true) => Ok(AttestationObject { fmt, auth_data }),
        _ => Err(MALFORMED_ATT),
    }
}
