//! A software authenticator for tests and fuzz seeds: makes the JSON a
//! browser's `navigator.credentials.create()` / `.get()` returns
//! (`toJSON()`), "none" attestation, with a P-256 or Ed25519 key.
//!
//! Used by the core's verifier tests, its fuzz target, and the black-box
//! contract suite — which is why it is its own crate and knows nothing of
//! Gatehouse.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A minimal CBOR encoder (RFC 8949 definite lengths), for what we build.
pub enum Cbor<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Map(Vec<(Cbor<'a>, Cbor<'a>)>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

impl Cbor<'_> {
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => head(out, 0, *i as u64),
            Cbor::Int(i) => head(out, 1, (-1 - *i) as u64),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(s) => {
                head(out, 3, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

pub enum SoftKey {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_compact::KeyPair),
}

/// One credential on a software authenticator.
pub struct SoftAuthenticator {
    pub key: SoftKey,
    pub credential_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    pub sign_count: u32,
    /// The flags it sets (UP | UV | BE | BS by default); AT is added for
    /// registrations.
    pub flags: u8,
    /// The rp id it hashes and the origin its "browser" reports.
    pub rp_id: String,
    pub origin: String,
}

/// Base64url without padding, as WebAuthn's JSON carries binary.
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The inverse of [`b64url_encode`]; panics on bad input (tests only).
pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

impl SoftAuthenticator {
    /// An ES256 credential from a 32-byte seed (any seed in 1..n works).
    pub fn es256(seed: u8, rp_id: &str, origin: &str) -> Self {
        let key = p256::ecdsa::SigningKey::from_slice(&[seed.max(1); 32]).expect("valid scalar");
        Self::with(SoftKey::Es256(key), &[b'c', seed], rp_id, origin)
    }

    /// An ES256 credential whose key and id derive from `key_seed` and
    /// `id_seed` (hashed: any bytes will do, e.g. a test's unique name).
    pub fn es256_from(key_seed: &[u8], id_seed: &[u8], rp_id: &str, origin: &str) -> Self {
        let scalar: [u8; 32] = Sha256::digest(key_seed).into();
        let key = p256::ecdsa::SigningKey::from_slice(&scalar).expect("valid scalar");
        Self::with(SoftKey::Es256(key), id_seed, rp_id, origin)
    }

    pub fn eddsa(seed: u8, rp_id: &str, origin: &str) -> Self {
        let kp = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([seed; 32]));
        Self::with(SoftKey::EdDsa(kp), &[b'c', seed], rp_id, origin)
    }

    fn with(key: SoftKey, id_seed: &[u8], rp_id: &str, origin: &str) -> Self {
        Self {
            key,
            credential_id: Sha256::digest(id_seed).to_vec(),
            user_handle: b"user".to_vec(),
            sign_count: 0,
            flags: 0x01 | 0x04 | 0x08 | 0x10,
            rp_id: rp_id.to_owned(),
            origin: origin.to_owned(),
        }
    }

    pub fn cose_key(&self) -> Vec<u8> {
        match &self.key {
            SoftKey::Es256(k) => {
                let p = k.verifying_key().to_sec1_point(false);
                let b = p.as_bytes();
                Cbor::Map(vec![
                    (Cbor::Int(1), Cbor::Int(2)),
                    (Cbor::Int(3), Cbor::Int(-7)),
                    (Cbor::Int(-1), Cbor::Int(1)),
                    (Cbor::Int(-2), Cbor::Bytes(&b[1..33])),
                    (Cbor::Int(-3), Cbor::Bytes(&b[33..65])),
                ])
                .to_vec()
            }
            SoftKey::EdDsa(kp) => Cbor::Map(vec![
                (Cbor::Int(1), Cbor::Int(1)),
                (Cbor::Int(3), Cbor::Int(-8)),
                (Cbor::Int(-1), Cbor::Int(6)),
                (Cbor::Int(-2), Cbor::Bytes(&kp.pk[..])),
            ])
            .to_vec(),
        }
    }

    pub fn client_data(&self, kind: &str, challenge: &[u8]) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": kind,
            "challenge": b64url_encode(challenge),
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .expect("json")
    }

    fn auth_data_head(&self, flags: u8) -> Vec<u8> {
        let mut a = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        a.push(flags);
        a.extend(self.sign_count.to_be_bytes());
        a
    }

    /// The registration's authData (AT set, attested credential data).
    pub fn registration_auth_data(&self) -> Vec<u8> {
        let mut a = self.auth_data_head(self.flags | 0x40);
        a.extend([0u8; 16]);
        a.extend((self.credential_id.len() as u16).to_be_bytes());
        a.extend(&self.credential_id);
        a.extend(self.cose_key());
        a
    }

    pub fn attestation_object(&self, auth_data: &[u8]) -> Vec<u8> {
        Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ])
        .to_vec()
    }

    /// `navigator.credentials.create()` for a server's creation options
    /// (`{publicKey: {challenge, user: {id}}}`): takes the user handle.
    pub fn create(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        self.user_handle = b64url_decode(pk["user"]["id"].as_str().expect("user.id"));
        self.register(&b64url_decode(pk["challenge"].as_str().expect("challenge")))
    }

    /// `navigator.credentials.get()` for a server's request options; the
    /// counter moves, as a hardware key's does.
    pub fn get(&mut self, options: &Value) -> Value {
        let challenge = options["publicKey"]["challenge"]
            .as_str()
            .expect("challenge");
        self.assert(&b64url_decode(challenge), true)
    }

    /// `navigator.credentials.create()`'s JSON.
    pub fn register(&self, challenge: &[u8]) -> serde_json::Value {
        let cd = self.client_data("webauthn.create", challenge);
        let att = self.attestation_object(&self.registration_auth_data());
        self.registration_json(&cd, &att)
    }

    pub fn registration_json(&self, cd: &[u8], att: &[u8]) -> serde_json::Value {
        self.credential_json(serde_json::json!({
            "clientDataJSON": b64url_encode(cd),
            "attestationObject": b64url_encode(att),
            "transports": ["internal"],
        }))
    }

    /// The `PublicKeyCredential` JSON around one authenticator `response`.
    fn credential_json(&self, response: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "id": b64url_encode(&self.credential_id),
            "rawId": b64url_encode(&self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        })
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match &self.key {
            SoftKey::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
            SoftKey::EdDsa(kp) => kp.sk.sign(msg, None).to_vec(),
        }
    }

    /// `navigator.credentials.get()`'s JSON; bumps the counter first when
    /// `count` is set (as hardware keys do; passkey providers send 0).
    pub fn assert(&mut self, challenge: &[u8], count: bool) -> serde_json::Value {
        if count {
            self.sign_count += 1;
        }
        let cd = self.client_data("webauthn.get", challenge);
        let ad = self.auth_data_head(self.flags);
        self.assertion_json(&cd, &ad)
    }

    /// An assertion over given clientDataJSON and authData, signed.
    pub fn assertion_json(&self, cd: &[u8], ad: &[u8]) -> serde_json::Value {
        let mut msg = ad.to_vec();
        msg.extend(Sha256::digest(cd));
        let sig = self.sign(&msg);
        self.credential_json(serde_json::json!({
            "clientDataJSON": b64url_encode(cd),
            "authenticatorData": b64url_encode(ad),
            "signature": b64url_encode(&sig),
            "userHandle": b64url_encode(&self.user_handle),
        }))
    }
}
