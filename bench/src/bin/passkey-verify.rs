//! The cost of one passkey assertion verification (the pure verifier,
//! core/src/webauthn: JSON and CBOR parsing, the checks and the signature),
//! ES256 and EdDSA, on the known-answer vectors. Run optimised:
//!
//!     cargo run --release -p gatehouse-bench --bin passkey-verify [ROUNDS]

use gatehouse_core::webauthn::{self, Challenge, RelyingParty, StoredCredential};
use std::time::Instant;

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let vectors: Vec<serde_json::Value> = serde_json::from_str(include_str!(
        "../../../core/src/webauthn/testdata/vectors.json"
    ))
    .expect("vectors");
    println!("one assertion verification, mean of {rounds} (µs):");
    for v in &vectors {
        let s = |k: &str| v[k].as_str().expect(k).to_owned();
        let origins = vec![s("origin")];
        let rp_id = s("rp_id");
        let rp = RelyingParty {
            rp_id: &rp_id,
            origins: &origins,
        };
        let reg_ch = webauthn::b64url_decode(&s("registration_challenge")).unwrap();
        let reg = serde_json::to_vec(&v["registration"]).unwrap();
        let cred = webauthn::verify_registration(rp, Challenge::new(&reg_ch, 1), &reg, 0)
            .expect("registration");
        let stored = StoredCredential {
            credential_id: cred.credential_id,
            public_key_cose: cred.public_key_cose,
            sign_count: 0,
            backup_eligible: cred.backup_eligible,
        };
        let get_ch = webauthn::b64url_decode(&s("assertion_challenge")).unwrap();
        let json = serde_json::to_vec(&v["assertion"]).unwrap();
        let run = || {
            webauthn::verify_assertion(
                &stored,
                Challenge::new(&get_ch, 1),
                &origins,
                &rp_id,
                &json,
                0,
            )
            .expect("assertion")
        };
        run(); // warm-up
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(run());
        }
        let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
        println!("  {:<16} {us:8.1}", s("name"));
    }
}
