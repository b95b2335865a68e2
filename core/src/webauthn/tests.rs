//! The verifier against known answers (vectors made by OpenSSL, see
//! scripts/webauthn-vectors.py) and a software authenticator (soft.rs).

use super::*;
use webauthn_soft::{Cbor, SoftAuthenticator};

const RP: &str = "login.example.com";
const ORIGIN: &str = "https://login.example.com";
const NOW: i64 = 1_800_000_000;

fn origins() -> Vec<String> {
    vec!["https://app.example.com".into(), ORIGIN.into()]
}

/// The test relying party: [`RP`] with `origins`.
fn relying_party(origins: &[String]) -> RelyingParty<'_> {
    RelyingParty { rp_id: RP, origins }
}

fn ch(value: &[u8]) -> Challenge {
    Challenge::new(value, NOW + 300)
}

fn register(a: &SoftAuthenticator, challenge: &[u8]) -> Result<NewCredential, WebauthnError> {
    let o = origins();
    let json = serde_json::to_vec(&a.register(challenge)).unwrap();
    verify_registration(relying_party(&o), ch(challenge), &json, NOW)
}

fn stored(c: &NewCredential) -> StoredCredential {
    StoredCredential {
        credential_id: c.credential_id.clone(),
        public_key_cose: c.public_key_cose.clone(),
        sign_count: c.sign_count,
        backup_eligible: c.backup_eligible,
    }
}

fn assert_with(
    s: &StoredCredential,
    challenge: &[u8],
    json: &serde_json::Value,
) -> Result<AssertionOutcome, WebauthnError> {
    let body = serde_json::to_vec(json).unwrap();
    verify_assertion(s, ch(challenge), &origins(), RP, &body, NOW)
}

#[test]
fn known_answers_from_openssl() {
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("testdata/vectors.json")).unwrap();
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let name = s("name");
        let o = vec![s("origin")];
        let rp = RelyingParty {
            rp_id: v["rp_id"].as_str().unwrap(),
            origins: &o,
        };
        let reg_ch = b64url_decode(&s("registration_challenge")).unwrap();
        let reg = serde_json::to_vec(&v["registration"]).unwrap();
        let cred = verify_registration(rp, ch(&reg_ch), &reg, NOW).expect(&name);
        assert_eq!(
            cred.credential_id,
            b64url_decode(&s("credential_id")).unwrap()
        );
        assert_eq!(
            cred.public_key_cose,
            b64url_decode(&s("public_key_cose")).unwrap()
        );
        assert_eq!(cred.attestation_format, "none");
        assert!(cred.backup_eligible && cred.backed_up);
        let expected_alg = if s("name").starts_with("es256") {
            CoseAlg::Es256
        } else {
            CoseAlg::EdDsa
        };
        assert_eq!(cred.alg, expected_alg);
        let get_ch = b64url_decode(&s("assertion_challenge")).unwrap();
        let json = serde_json::to_vec(&v["assertion"]).unwrap();
        let out =
            verify_assertion(&stored(&cred), ch(&get_ch), &o, rp.rp_id, &json, NOW).expect(&name);
        assert_eq!(out.sign_count, 7);
        assert_eq!(out.user_handle.as_deref(), Some(&b"user-42"[..]));
        assert_eq!(out.used_at, NOW);
        // One flipped bit of the signed data and it no longer verifies.
        let mut bad = v["assertion"].clone();
        let cd = b64url_decode(bad["response"]["clientDataJSON"].as_str().unwrap()).unwrap();
        let cd = String::from_utf8(cd)
            .unwrap()
            .replace("\"crossOrigin\":false", "\"crossOrigin\":false ");
        bad["response"]["clientDataJSON"] = b64url_encode(cd.as_bytes()).into();
        let json = serde_json::to_vec(&bad).unwrap();
        assert_eq!(
            verify_assertion(&stored(&cred), ch(&get_ch), &o, rp.rp_id, &json, NOW),
            Err(WebauthnError::Signature)
        );
    }
}

#[test]
fn es256_and_eddsa_round_trip_with_counter() {
    for mut a in [
        SoftAuthenticator::es256(3, RP, ORIGIN),
        SoftAuthenticator::eddsa(4, RP, ORIGIN),
    ] {
        let cred = register(&a, &[9; 32]).unwrap();
        let mut s = stored(&cred);
        for _ in 0..3 {
            let out = assert_with(&s, &[7; 32], &a.assert(&[7; 32], true)).unwrap();
            assert_eq!(out.sign_count, a.sign_count);
            s.sign_count = out.sign_count;
        }
    }
}

#[test]
fn zero_counter_passkeys_are_accepted() {
    let mut a = SoftAuthenticator::es256(5, RP, ORIGIN);
    let s = stored(&register(&a, &[1; 32]).unwrap());
    for _ in 0..2 {
        assert_eq!(
            assert_with(&s, &[2; 32], &a.assert(&[2; 32], false))
                .unwrap()
                .sign_count,
            0
        );
    }
}

#[test]
fn a_cloned_authenticator_is_refused() {
    let mut a = SoftAuthenticator::es256(6, RP, ORIGIN);
    let mut s = stored(&register(&a, &[1; 32]).unwrap());
    s.sign_count = 10;
    a.sign_count = 9; // the clone is behind
    assert_eq!(
        assert_with(&s, &[2; 32], &a.assert(&[2; 32], true)),
        Err(WebauthnError::Counter)
    );
    a.sign_count = 10; // equal is not greater
    assert_eq!(
        assert_with(&s, &[2; 32], &a.assert(&[2; 32], false)),
        Err(WebauthnError::Counter)
    );
    a.sign_count = 0; // a counting credential falling back to 0
    assert_eq!(
        assert_with(&s, &[2; 32], &a.assert(&[2; 32], false)),
        Err(WebauthnError::Counter)
    );
    a.sign_count = 10;
    assert_eq!(
        assert_with(&s, &[2; 32], &a.assert(&[2; 32], true))
            .unwrap()
            .sign_count,
        11
    );
}

#[test]
fn ceremony_checks() {
    let o = origins();
    let rp = relying_party(&o);
    let a = SoftAuthenticator::es256(7, RP, ORIGIN);
    // Wrong challenge, expired challenge.
    let json = serde_json::to_vec(&a.register(&[1; 32])).unwrap();
    assert_eq!(
        verify_registration(rp, ch(&[2; 32]), &json, NOW),
        Err(WebauthnError::ChallengeMismatch)
    );
    assert_eq!(
        verify_registration(rp, ch(&[1; 31]), &json, NOW),
        Err(WebauthnError::ChallengeMismatch)
    );
    let late = Challenge::new(&[1; 32], NOW);
    assert_eq!(
        verify_registration(rp, late, &json, NOW),
        Err(WebauthnError::ChallengeExpired)
    );
    // Wrong origin; wrong rp id.
    let evil = SoftAuthenticator::es256(7, RP, "https://evil.example.net");
    assert_eq!(register(&evil, &[1; 32]), Err(WebauthnError::Origin));
    let other_rp = SoftAuthenticator::es256(7, "example.net", ORIGIN);
    assert_eq!(register(&other_rp, &[1; 32]), Err(WebauthnError::RpId));
    // UP and UV required; BS without BE.
    for (flags, err) in [
        (0x04, WebauthnError::UserPresence),
        (0x01, WebauthnError::UserVerification),
        (0x01 | 0x04 | 0x10, WebauthnError::BackupState),
    ] {
        let mut a = SoftAuthenticator::es256(7, RP, ORIGIN);
        a.flags = flags;
        assert_eq!(register(&a, &[1; 32]), Err(err));
    }
    // An assertion's clientData presented to registration, and back.
    let mut a = SoftAuthenticator::es256(7, RP, ORIGIN);
    let cred = register(&a, &[1; 32]).unwrap();
    let cd = a.client_data("webauthn.get", &[1; 32]);
    let att = a.attestation_object(&a.registration_auth_data());
    let json = serde_json::to_vec(&a.registration_json(&cd, &att)).unwrap();
    assert_eq!(
        verify_registration(rp, ch(&[1; 32]), &json, NOW),
        Err(WebauthnError::WrongType)
    );
    let cd = a.client_data("webauthn.create", &[2; 32]);
    let ad = a.registration_auth_data()[..37].to_vec();
    assert_eq!(
        assert_with(&stored(&cred), &[2; 32], &a.assertion_json(&cd, &ad)),
        Err(WebauthnError::WrongType)
    );
    // Another credential's assertion against this stored one.
    let mut other = SoftAuthenticator::es256(8, RP, ORIGIN);
    assert_eq!(
        assert_with(&stored(&cred), &[2; 32], &other.assert(&[2; 32], true)),
        Err(WebauthnError::WrongCredential)
    );
    // The same id signed by another key.
    other.credential_id = a.credential_id.clone();
    assert_eq!(
        assert_with(&stored(&cred), &[2; 32], &other.assert(&[2; 32], true)),
        Err(WebauthnError::Signature)
    );
    // BE changed since registration.
    a.flags = 0x01 | 0x04;
    assert_eq!(
        assert_with(&stored(&cred), &[2; 32], &a.assert(&[2; 32], true)),
        Err(WebauthnError::BackupState)
    );
}

fn reg_with(auth_data: &[u8]) -> Result<NewCredential, WebauthnError> {
    let a = SoftAuthenticator::es256(9, RP, ORIGIN);
    let o = origins();
    let cd = a.client_data("webauthn.create", &[1; 32]);
    let att = a.attestation_object(auth_data);
    verify_registration_parts(relying_party(&o), ch(&[1; 32]), &cd, &att, NOW)
}

#[test]
fn malformed_authenticator_data() {
    let a = SoftAuthenticator::es256(9, RP, ORIGIN);
    let good = a.registration_auth_data();
    assert!(reg_with(&good).is_ok());
    // Truncated anywhere, or a trailing byte: malformed.
    for n in 0..good.len() {
        assert!(
            matches!(reg_with(&good[..n]), Err(WebauthnError::Malformed(_))),
            "{n}"
        );
    }
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(reg_with(&long), Err(WebauthnError::Malformed(_))));
    // A credential id over 1023 bytes.
    let mut big = SoftAuthenticator::es256(9, RP, ORIGIN);
    big.credential_id = vec![1; 1024];
    assert_eq!(
        reg_with(&big.registration_auth_data()),
        Err(WebauthnError::CredentialIdTooLong)
    );
    big.credential_id = vec![1; 1023];
    assert!(reg_with(&big.registration_auth_data()).is_ok());
    // Extensions (ED) are read past; an ED flag with nothing after is not.
    let mut ext = good.clone();
    ext[32] |= 0x80;
    assert!(matches!(reg_with(&ext), Err(WebauthnError::Malformed(_))));
    Cbor::Map(vec![(Cbor::Text("credProtect"), Cbor::Int(2))]).encode(&mut ext);
    assert!(reg_with(&ext).is_ok());
    // No AT in a registration.
    let mut no_at = good[..37].to_vec();
    no_at[32] &= !0x40;
    assert!(matches!(reg_with(&no_at), Err(WebauthnError::Malformed(_))));
}

fn cose(entries: Vec<(i64, Cbor<'_>)>) -> Vec<u8> {
    Cbor::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Cbor::Int(k), v))
            .collect(),
    )
    .to_vec()
}

#[test]
fn cose_keys() {
    let a = SoftAuthenticator::es256(10, RP, ORIGIN);
    let good = a.cose_key();
    assert_eq!(CoseKey::parse(&good).unwrap().alg(), CoseAlg::Es256);
    let xy = [7u8; 32];
    // RS256 (-257) and P-384 ES384 are refused as unsupported.
    assert_eq!(
        CoseKey::parse(&cose(vec![
            (1, Cbor::Int(3)),
            (3, Cbor::Int(-257)),
            (-1, Cbor::Bytes(&xy))
        ]))
        .unwrap_err(),
        WebauthnError::UnsupportedAlgorithm
    );
    assert_eq!(
        CoseKey::parse(&cose(vec![
            (1, Cbor::Int(2)),
            (3, Cbor::Int(-35)),
            (-1, Cbor::Int(2))
        ]))
        .unwrap_err(),
        WebauthnError::UnsupportedAlgorithm
    );
    // A point off the curve, a short coordinate, a repeated label.
    let ec2 = |x: &[u8]| {
        cose(vec![
            (1, Cbor::Int(2)),
            (3, Cbor::Int(-7)),
            (-1, Cbor::Int(1)),
            (-2, Cbor::Bytes(x)),
            (-3, Cbor::Bytes(&xy)),
        ])
    };
    let dup = cose(vec![
        (1, Cbor::Int(2)),
        (1, Cbor::Int(2)),
        (3, Cbor::Int(-7)),
    ]);
    for bad in [ec2(&xy), ec2(&xy[..31]), dup] {
        assert!(matches!(
            CoseKey::parse(&bad),
            Err(WebauthnError::Malformed(_))
        ));
    }
    // Indefinite-length map; absurd declared lengths.
    assert!(CoseKey::parse(&[0xbf, 0x01, 0x02, 0xff]).is_err());
    assert!(CoseKey::parse(&[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(
        CoseKey::parse(&[0xa1, 0x20, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
            .is_err()
    );
}

#[test]
fn attestation_object_shapes() {
    let a = SoftAuthenticator::es256(11, RP, ORIGIN);
    let ad = a.registration_auth_data();
    let o = origins();
    let rp = relying_party(&o);
    let cd = a.client_data("webauthn.create", &[1; 32]);
    let run = |att: &[u8]| verify_registration_parts(rp, ch(&[1; 32]), &cd, att, NOW);
    // "packed" with a statement: accepted, the statement ignored.
    let sig = [1u8; 70];
    let packed = Cbor::Map(vec![
        (Cbor::Text("fmt"), Cbor::Text("packed")),
        (
            Cbor::Text("attStmt"),
            Cbor::Map(vec![
                (Cbor::Text("alg"), Cbor::Int(-7)),
                (Cbor::Text("sig"), Cbor::Bytes(&sig)),
            ]),
        ),
        (Cbor::Text("authData"), Cbor::Bytes(&ad)),
    ])
    .to_vec();
    assert_eq!(run(&packed).unwrap().attestation_format, "packed");
    // Missing or repeated members, trailing bytes, not CBOR at all.
    let missing = Cbor::Map(vec![
        (Cbor::Text("fmt"), Cbor::Text("none")),
        (Cbor::Text("authData"), Cbor::Bytes(&ad)),
    ])
    .to_vec();
    let repeated = Cbor::Map(vec![
        (Cbor::Text("fmt"), Cbor::Text("none")),
        (Cbor::Text("fmt"), Cbor::Text("none")),
        (Cbor::Text("authData"), Cbor::Bytes(&ad)),
    ])
    .to_vec();
    let mut trailing = a.attestation_object(&ad);
    trailing.push(0);
    for bad in [
        &missing[..],
        &repeated,
        &trailing,
        b"{\"fmt\":\"none\"}",
        &[],
        &[0xa3],
    ] {
        assert!(matches!(run(bad), Err(WebauthnError::Malformed(_))));
    }
}

#[test]
fn credential_json_shapes() {
    let o = origins();
    let rp = relying_party(&o);
    for bad in [
        &b"not json"[..],
        b"{}",
        b"{\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"***\",\"attestationObject\":\"\"}}",
        b"{\"type\":\"password\",\"response\":{\"clientDataJSON\":\"\",\"attestationObject\":\"\"}}",
    ] {
        assert!(matches!(verify_registration(rp, ch(&[1; 32]), bad, NOW), Err(WebauthnError::Malformed(_))));
    }
    let huge = vec![b' '; MAX_CREDENTIAL_JSON + 1];
    assert!(matches!(
        parse_assertion(&huge),
        Err(WebauthnError::Malformed(_))
    ));
    let long_id = serde_json::json!({"rawId": b64url_encode(&[0; 1024]), "type": "public-key",
        "response": {"clientDataJSON": "", "authenticatorData": "", "signature": ""}});
    assert_eq!(
        parse_assertion(&serde_json::to_vec(&long_id).unwrap()),
        Err(WebauthnError::CredentialIdTooLong)
    );
}
