//! A WebAuthn relying-party verifier: registration (attestation) and sign-in
//! (assertion) checks as pure functions — no I/O, no clock of its own (`now`
//! is passed in), so it runs the same on the native host and in wasm32.
//!
//! Why our own and not `webauthn-rs`: its registration reads
//! `SystemTime::now` inside the library and aborts in wasm32 (issue 16), so
//! the Worker could not register passkeys. This module is the small part of
//! WebAuthn Level 3 a passkey RP needs, on RustCrypto primitives (`p256` for
//! ES256, `ed25519-compact` for EdDSA) and `minicbor` (borrowed, definite
//! lengths only; no allocation sized by the input beyond copies of it).
//!
//! Attestation: format "none" is what passkey providers send; any other
//! format is accepted and its statement ignored (we do not verify
//! attestation chains — there is no metadata service to trust them against),
//! so every credential is treated as self-attested.

mod authdata;
mod client_data;
mod cose;
#[cfg(test)]
mod tests;

pub use authdata::{AttestedCredential, AuthData, Flags};
pub use cose::{CoseAlg, CoseKey};

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The longest credential id accepted (WebAuthn §7.1 step: ≤ 1023 bytes).
pub const MAX_CREDENTIAL_ID: usize = 1023;
/// The longest credential JSON the parsers look at: a passkey's JSON is
/// about 1–2 KB; the routes' body limit sits above this.
pub const MAX_CREDENTIAL_JSON: usize = 16 * 1024;

/// Why a ceremony failed. Each maps to a 400 with [`WebauthnError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebauthnError {
    #[error("the credential is malformed: {0}")]
    Malformed(&'static str),
    #[error("the client data's type is not the one this ceremony expects")]
    WrongType,
    #[error("the challenge does not match")]
    ChallengeMismatch,
    #[error("the challenge has expired")]
    ChallengeExpired,
    #[error("the origin is not one of this client's allowed origins")]
    Origin,
    #[error("the credential is for another relying party")]
    RpId,
    #[error("the authenticator did not report user presence")]
    UserPresence,
    #[error("the authenticator did not verify the user")]
    UserVerification,
    #[error("only ES256 and EdDSA public keys are accepted")]
    UnsupportedAlgorithm,
    #[error("the credential id is too long")]
    CredentialIdTooLong,
    #[error("the signature does not verify")]
    Signature,
    #[error("the signature counter went backwards: the authenticator may be cloned")]
    Counter,
    #[error("the backup flags are inconsistent")]
    BackupState,
    #[error("the credential is not the one expected")]
    WrongCredential,
}

impl WebauthnError {
    /// The machine-readable code of the 400 answer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "webauthn_malformed",
            Self::WrongType => "webauthn_wrong_type",
            Self::ChallengeMismatch => "webauthn_challenge_mismatch",
            Self::ChallengeExpired => "webauthn_challenge_expired",
            Self::Origin => "webauthn_origin",
            Self::RpId => "webauthn_rp_id",
            Self::UserPresence => "webauthn_user_presence",
            Self::UserVerification => "webauthn_user_verification",
            Self::UnsupportedAlgorithm => "webauthn_unsupported_algorithm",
            Self::CredentialIdTooLong => "webauthn_credential_id_too_long",
            Self::Signature => "webauthn_signature",
            Self::Counter => "webauthn_counter",
            Self::BackupState => "webauthn_backup_state",
            Self::WrongCredential => "webauthn_wrong_credential",
        }
    }
}

/// The relying party as a ceremony sees it: its id (a host name) and the
/// origins the API client allows.
#[derive(Debug, Clone, Copy)]
pub struct RelyingParty<'a> {
    pub rp_id: &'a str,
    pub origins: &'a [String],
}

/// The challenge the server issued, as its SHA-256 (servers keep only the
/// hash), with its deadline (any unit, the same as `now`'s).
#[derive(Debug, Clone, Copy)]
pub struct Challenge {
    pub sha256: [u8; 32],
    pub expires_at: i64,
}

impl Challenge {
    /// From the challenge's bytes.
    pub fn new(value: &[u8], expires_at: i64) -> Self {
        Self {
            sha256: Sha256::digest(value).into(),
            expires_at,
        }
    }

    fn check_live(&self, now: i64) -> Result<(), WebauthnError> {
        if now >= self.expires_at {
            return Err(WebauthnError::ChallengeExpired);
        }
        Ok(())
    }
}

/// A credential as stored after registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub credential_id: Vec<u8>,
    /// The COSE_Key exactly as the authenticator sent it.
    pub public_key_cose: Vec<u8>,
    pub sign_count: u32,
    pub backup_eligible: bool,
}

/// What a registration yields, to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    pub public_key_cose: Vec<u8>,
    pub alg: CoseAlg,
    pub sign_count: u32,
    pub aaguid: [u8; 16],
    pub backup_eligible: bool,
    pub backed_up: bool,
    /// The attestation format the authenticator named ("none" for passkeys);
    /// recorded, its statement not verified.
    pub attestation_format: String,
}

/// What a verified assertion yields: the counter and backup state to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionOutcome {
    pub credential_id: Vec<u8>,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
    /// The user handle a discoverable credential returned (our user id bytes).
    pub user_handle: Option<Vec<u8>>,
    /// When it was used (the `now` passed in), for `last_used`.
    pub used_at: i64,
}

/// `PublicKeyCredential.toJSON()` of a registration, as far as we read it.
#[derive(Debug, Deserialize)]
struct RegistrationJson {
    #[serde(rename = "type")]
    kind: String,
    response: RegistrationResponseJson,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationResponseJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    attestation_object: String,
}

/// `PublicKeyCredential.toJSON()` of an assertion, as far as we read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionJson {
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: AssertionResponseJson,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionResponseJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    authenticator_data: String,
    signature: String,
    #[serde(default)]
    user_handle: Option<String>,
}

/// An assertion's decoded parts; `credential_id` and `user_handle` let the
/// caller find the stored credential before verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAssertion {
    pub credential_id: Vec<u8>,
    pub user_handle: Option<Vec<u8>>,
    pub client_data_json: Vec<u8>,
    pub authenticator_data: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The decoded parts of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRegistration {
    pub client_data_json: Vec<u8>,
    pub attestation_object: Vec<u8>,
}

/// base64url, padded or not (browsers send it unpadded).
pub fn b64url_decode(s: &str) -> Result<Vec<u8>, WebauthnError> {
    let s = s.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| WebauthnError::Malformed("a field is not base64url"))
}

pub fn b64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn check_json_size(json: &[u8]) -> Result<(), WebauthnError> {
    if json.len() > MAX_CREDENTIAL_JSON {
        return Err(WebauthnError::Malformed("the credential is too large"));
    }
    Ok(())
}

/// Decodes the JSON `navigator.credentials.create()` gives (`toJSON()`).
pub fn parse_registration(json: &[u8]) -> Result<ParsedRegistration, WebauthnError> {
    check_json_size(json)?;
    let r: RegistrationJson = serde_json::from_slice(json)
        .map_err(|_| WebauthnError::Malformed("the credential JSON is not valid"))?;
    if r.kind != "public-key" {
        return Err(WebauthnError::Malformed(
            "the credential type is not public-key",
        ));
    }
    Ok(ParsedRegistration {
        client_data_json: b64url_decode(&r.response.client_data_json)?,
        attestation_object: b64url_decode(&r.response.attestation_object)?,
    })
}

/// Decodes the JSON `navigator.credentials.get()` gives (`toJSON()`).
pub fn parse_assertion(json: &[u8]) -> Result<ParsedAssertion, WebauthnError> {
    check_json_size(json)?;
    let a: AssertionJson = serde_json::from_slice(json)
        .map_err(|_| WebauthnError::Malformed("the credential JSON is not valid"))?;
    if a.kind != "public-key" {
        return Err(WebauthnError::Malformed(
            "the credential type is not public-key",
        ));
    }
    let credential_id = b64url_decode(&a.raw_id)?;
    if credential_id.len() > MAX_CREDENTIAL_ID {
        return Err(WebauthnError::CredentialIdTooLong);
    }
    let user_handle = match a.response.user_handle.as_deref() {
        None | Some("") => None,
        Some(h) => Some(b64url_decode(h)?),
    };
    Ok(ParsedAssertion {
        credential_id,
        user_handle,
        client_data_json: b64url_decode(&a.response.client_data_json)?,
        authenticator_data: b64url_decode(&a.response.authenticator_data)?,
        signature: b64url_decode(&a.response.signature)?,
    })
}

/// The relying party's checks on authData common to both ceremonies:
/// rpIdHash, UP and UV, BS only with BE.
fn check_auth_flags(auth: &AuthData<'_>, rp_id: &str) -> Result<(), WebauthnError> {
    let expected: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &auth.rp_id_hash[..],
        &expected[..],
    )) {
        return Err(WebauthnError::RpId);
    }
    if !auth.flags.user_present() {
        return Err(WebauthnError::UserPresence);
    }
    if !auth.flags.user_verified() {
        return Err(WebauthnError::UserVerification);
    }
    if auth.flags.backed_up() && !auth.flags.backup_eligible() {
        return Err(WebauthnError::BackupState);
    }
    Ok(())
}

/// Registration (WebAuthn §7.1) over the decoded parts.
pub fn verify_registration_parts(
    rp: RelyingParty<'_>,
    challenge: Challenge,
    client_data_json: &[u8],
    attestation_object: &[u8],
    now: i64,
) -> Result<NewCredential, WebauthnError> {
    challenge.check_live(now)?;
    client_data::check(
        client_data_json,
        "webauthn.create",
        &challenge.sha256,
        rp.origins,
    )?;
    let att = authdata::parse_attestation_object(attestation_object)?;
    let auth = AuthData::parse(att.auth_data)?;
    check_auth_flags(&auth, rp.rp_id)?;
    let cred = auth
        .attested
        .ok_or(WebauthnError::Malformed("no attested credential data"))?;
    Ok(NewCredential {
        credential_id: cred.credential_id.to_vec(),
        public_key_cose: cred.public_key_cose.to_vec(),
        alg: cred.public_key.alg(),
        sign_count: auth.sign_count,
        aaguid: cred.aaguid,
        backup_eligible: auth.flags.backup_eligible(),
        backed_up: auth.flags.backed_up(),
        attestation_format: att.fmt.to_owned(),
    })
}

/// Registration from the JSON `navigator.credentials.create()` gives.
pub fn verify_registration(
    rp: RelyingParty<'_>,
    challenge: Challenge,
    credential_json: &[u8],
    now: i64,
) -> Result<NewCredential, WebauthnError> {
    let parts = parse_registration(credential_json)?;
    verify_registration_parts(
        rp,
        challenge,
        &parts.client_data_json,
        &parts.attestation_object,
        now,
    )
}

/// Assertion (WebAuthn §7.2) over the decoded parts.
pub fn verify_assertion_parts(
    stored: &StoredCredential,
    rp: RelyingParty<'_>,
    challenge: Challenge,
    parts: &ParsedAssertion,
    now: i64,
) -> Result<AssertionOutcome, WebauthnError> {
    challenge.check_live(now)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        &parts.credential_id[..],
        &stored.credential_id[..],
    )) {
        return Err(WebauthnError::WrongCredential);
    }
    client_data::check(
        &parts.client_data_json,
        "webauthn.get",
        &challenge.sha256,
        rp.origins,
    )?;
    let auth = AuthData::parse(&parts.authenticator_data)?;
    check_auth_flags(&auth, rp.rp_id)?;
    // BE is fixed for a credential's life (WebAuthn §6.1.3).
    if auth.flags.backup_eligible() != stored.backup_eligible {
        return Err(WebauthnError::BackupState);
    }
    let key = CoseKey::parse(&stored.public_key_cose)?;
    let mut signed = Vec::with_capacity(parts.authenticator_data.len() + 32);
    signed.extend_from_slice(&parts.authenticator_data);
    signed.extend_from_slice(&Sha256::digest(&parts.client_data_json));
    key.verify(&signed, &parts.signature)?;
    // §7.2 step 22: if either counter is non-zero, the new one must be
    // greater; otherwise the authenticator may be a clone.
    if (auth.sign_count != 0 || stored.sign_count != 0) && auth.sign_count <= stored.sign_count {
        return Err(WebauthnError::Counter);
    }
    Ok(AssertionOutcome {
        credential_id: parts.credential_id.clone(),
        sign_count: auth.sign_count,
        backup_eligible: auth.flags.backup_eligible(),
        backed_up: auth.flags.backed_up(),
        user_handle: parts.user_handle.clone(),
        used_at: now,
    })
}

/// An assertion from the JSON `navigator.credentials.get()` gives, against
/// a stored credential: what the passwordless sign-in and the second-factor
/// check both call.
pub fn verify_assertion(
    stored: &StoredCredential,
    challenge: Challenge,
    origins: &[String],
    rp_id: &str,
    credential_json: &[u8],
    now: i64,
) -> Result<AssertionOutcome, WebauthnError> {
    let parts = parse_assertion(credential_json)?;
    verify_assertion_parts(
        stored,
        RelyingParty { rp_id, origins },
        challenge,
        &parts,
        now,
    )
}
