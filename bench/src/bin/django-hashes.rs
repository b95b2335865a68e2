//! The cost of one verification of each Django hash Gatehouse accepts (at
//! Django 5.2's default costs) against one Argon2id hash and verification at
//! Gatehouse's default cost (docs/MIGRATING.md). Run optimised:
//!
//!     cargo run --release -p gatehouse-bench --bin django-hashes [ROUNDS]

use gatehouse_core::password::django::{self, Hasher};
use gatehouse_core::password::{hash_password, verify_password, Argon2Params};
use std::time::Instant;

include!("../../../core/src/password/django_vectors.rs");

fn time_ms(rounds: u32, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t = Instant::now();
    for _ in 0..rounds {
        f();
    }
    t.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
}

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let _ = CHEAP_VECTORS;
    println!("one verification, mean of {rounds} (ms):");
    let params = Argon2Params::default();
    let phc = hash_password(params, PASSWORD, [7; 16]).unwrap();
    let hash = time_ms(rounds, || {
        hash_password(params, PASSWORD, [7; 16]).unwrap();
    });
    let verify = time_ms(rounds, || assert!(verify_password(PASSWORD, &phc).unwrap()));
    println!("  argon2id m=19456,t=2,p=1 (Gatehouse) hash {hash:8.1}  verify {verify:8.1}");
    for (hasher, stored) in VECTORS {
        let ms = time_ms(rounds, || assert!(django::verify(PASSWORD, stored)));
        let cost = stored.split('$').take(5).collect::<Vec<_>>().join("$");
        let cost: String = cost.chars().take(48).collect();
        let _: &Hasher = hasher;
        println!("  {:<14} {ms:8.1}   ({cost}…)", hasher.name());
    }
}
