//! Feeds arbitrary bytes to the passkey parsers (core/src/webauthn): the
//! attestation object, authenticator data, COSE keys and the credential
//! JSON of both ceremonies. They must never panic, and anything they accept
//! must satisfy the checks they promise. The first byte picks the parser.
#![no_main]

use webauthn_soft::SoftAuthenticator;
use gatehouse_core::webauthn::{
    self, AuthData, Challenge, CoseKey, RelyingParty, StoredCredential,
};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const RP: &str = "login.example.com";
const ORIGIN: &str = "https://login.example.com";

fn client_data(kind: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{ORIGIN}"}}"#,
        webauthn::b64url_encode(&[1; 32])
    )
    .into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let origins = vec![ORIGIN.to_owned()];
    let rp = RelyingParty {
        rp_id: RP,
        origins: &origins,
    };
    let challenge = Challenge::new(&[1; 32], 10);
    match mode % 5 {
        // An attestation object behind valid client data.
        0 => {
            let r = webauthn::verify_registration_parts(
                rp,
                challenge,
                &client_data("webauthn.create"),
                rest,
                0,
            );
            if let Ok(c) = r {
                assert!(c.credential_id.len() <= webauthn::MAX_CREDENTIAL_ID);
                assert!(CoseKey::parse(&c.public_key_cose).is_ok());
            }
        }
        1 => {
            if let Ok(a) = AuthData::parse(rest) {
                if let Some(c) = a.attested {
                    assert!(
                        !c.credential_id.is_empty()
                            && c.credential_id.len() <= webauthn::MAX_CREDENTIAL_ID
                    );
                }
            }
        }
        2 => {
            let _ = CoseKey::parse(rest);
        }
        // Credential JSON of either ceremony.
        3 => {
            let _ = webauthn::verify_registration(rp, challenge, rest, 0);
        }
        // Authenticator data and a signature nobody made: they must never
        // verify against a real stored key, whatever the parse gets through.
        _ => {
            static KEY: OnceLock<Vec<u8>> = OnceLock::new();
            let key = KEY.get_or_init(|| SoftAuthenticator::es256(3, RP, ORIGIN).cose_key());
            let stored = StoredCredential {
                credential_id: vec![1; 16],
                public_key_cose: key.clone(),
                sign_count: 0,
                backup_eligible: true,
            };
            let (ad_tail, sig) = rest.split_at(rest.len() / 2);
            let mut ad = Sha256::digest(RP.as_bytes()).to_vec();
            ad.extend_from_slice(ad_tail);
            let parts = webauthn::ParsedAssertion {
                credential_id: vec![1; 16],
                user_handle: None,
                client_data_json: client_data("webauthn.get"),
                authenticator_data: ad,
                signature: sig.to_vec(),
            };
            assert!(webauthn::verify_assertion_parts(&stored, rp, challenge, &parts, 0).is_err());
            let _ = webauthn::parse_assertion(rest);
        }
    }
});
