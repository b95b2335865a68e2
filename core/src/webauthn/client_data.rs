//! `clientDataJSON` (WebAuthn §5.8.1): type, challenge, origin.

use super::{b64url_decode, WebauthnError};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest clientDataJSON read: browsers send ~150–300 bytes.
const MAX_CLIENT_DATA: usize = 4096;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientData<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    challenge: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    origin: std::borrow::Cow<'a, str>,
    #[serde(default)]
    cross_origin: bool,
}

/// Checks the ceremony type, the challenge (its hash, in constant time) and that the
/// origin is one of the client's allowed origins. A cross-origin ceremony
/// (a passkey prompt inside another site's iframe) is refused: no client
/// embeds Gatehouse's sign-in that way.
pub(super) fn check(
    json: &[u8],
    expected_type: &str,
    challenge_sha256: &[u8; 32],
    origins: &[String],
) -> Result<(), WebauthnError> {
    if json.len() > MAX_CLIENT_DATA {
        return Err(WebauthnError::Malformed("clientDataJSON is too large"));
    }
    let cd: ClientData<'_> = serde_json::from_slice(json)
        .map_err(|_| WebauthnError::Malformed("clientDataJSON is not valid"))?;
    if cd.kind != expected_type {
        return Err(WebauthnError::WrongType);
    }
    let got: [u8; 32] = Sha256::digest(b64url_decode(&cd.challenge)?).into();
    if !bool::from(got.ct_eq(challenge_sha256)) {
        return Err(WebauthnError::ChallengeMismatch);
    }
    if cd.cross_origin || !origins.iter().any(|o| o.trim_end_matches('/') == cd.origin) {
        return Err(WebauthnError::Origin);
    }
    Ok(())
}
