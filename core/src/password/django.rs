//! Django's password hashes, as a `dumpdata` of the seed deployment holds
//! them (docs/MIGRATING.md). They are only ever *verified*: on a migrated
//! user's first successful login the stored hash is replaced by Gatehouse's
//! Argon2id (`api::login`), so each is checked at most once per user.
//!
//! Formats (Django 5.2's hashers):
//! - `pbkdf2_sha256$<iterations>$<salt>$<b64 hash>` (Django's default), and
//!   `pbkdf2_sha1$…` the same with SHA-1;
//! - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: `argon2` glued to a
//!   PHC string (argon2-cffi's);
//! - `bcrypt_sha256$$2b$<cost>$…`: bcrypt of the *hex* SHA-256 of the
//!   password; `bcrypt$$2b$…`: bcrypt of the password;
//! - `scrypt$<N>$<salt>$<r>$<p>$<b64 hash>` (64-byte key).
//!
//! Every format has a cost ceiling: a dump with absurd iterations or memory
//! must not let one login occupy a hashing thread for minutes or allocate
//! gigabytes. A hash above its ceiling is treated like an unknown format —
//! the user is told to reset the password ([`Kind::Unusable`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// PBKDF2 iterations accepted (Django 5.2 writes 1,000,000: ~0.1 s natively,
/// ~0.5 s in wasm32). Twice that is the ceiling.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// bcrypt cost accepted (Django writes 12: ~0.25 s; each step doubles).
pub const MAX_BCRYPT_COST: u32 = 13;
/// scrypt memory accepted, `128 · N · r` bytes (Django writes N = 2^14, r = 8:
/// 16 MiB).
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;
/// scrypt parallelism accepted (Django 5.2 writes 5); time grows with `N · r · p`.
pub const MAX_SCRYPT_P: u32 = 16;
/// Argon2 memory accepted, KiB (argon2-cffi's default, which Django uses, is
/// 100 MiB = 102,400 KiB).
pub const MAX_ARGON2_MEMORY_KIB: u32 = 128 * 1024;
/// Argon2 passes accepted (argon2-cffi writes 2 or 3).
pub const MAX_ARGON2_ITERATIONS: u32 = 10;
/// Argon2 lanes accepted (argon2-cffi writes 4 or 8).
pub const MAX_ARGON2_PARALLELISM: u32 = 16;

/// What a stored password hash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Gatehouse's own Argon2id PHC string (`$argon2id$…`).
    Native,
    /// A Django hash Gatehouse can verify (within its cost ceiling); it is
    /// replaced by Argon2id at the first successful login.
    Django(Hasher),
    /// Not verifiable: an unusable Django password (`!…`), an unknown or
    /// malformed format, or a cost above the ceiling. The user must reset
    /// the password.
    Unusable,
}

/// The Django hashers Gatehouse verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hasher {
    Pbkdf2Sha256,
    Pbkdf2Sha1,
    Argon2,
    BcryptSha256,
    Bcrypt,
    Scrypt,
}

impl Hasher {
    /// Django's name of the algorithm (the hash's prefix).
    pub fn name(self) -> &'static str {
        match self {
            Hasher::Pbkdf2Sha256 => "pbkdf2_sha256",
            Hasher::Pbkdf2Sha1 => "pbkdf2_sha1",
            Hasher::Argon2 => "argon2",
            Hasher::BcryptSha256 => "bcrypt_sha256",
            Hasher::Bcrypt => "bcrypt",
            Hasher::Scrypt => "scrypt",
        }
    }
}

/// What `stored` is, ceilings applied. Pure and cheap: no hashing.
pub fn kind(stored: &str) -> Kind {
    if stored.starts_with("$argon2") {
        return Kind::Native;
    }
    match parse(stored) {
        Some(p) => Kind::Django(p.hasher()),
        None => Kind::Unusable,
    }
}

/// Whether `stored` starts with the name of a hasher Gatehouse verifies
/// (whatever [`kind`] makes of the rest): for the import's report.
pub fn names_a_hasher(stored: &str) -> bool {
    let name = stored.split('$').next().unwrap_or_default();
    [
        Hasher::Pbkdf2Sha256,
        Hasher::Pbkdf2Sha1,
        Hasher::Argon2,
        Hasher::BcryptSha256,
        Hasher::Bcrypt,
        Hasher::Scrypt,
    ]
    .iter()
    .any(|h| h.name() == name)
}

/// Checks `password` against a Django hash. `false` for a wrong password
/// and for anything [`kind`] does not call `Django(_)`. The final comparison
/// is constant-time.
pub fn verify(password: &str, stored: &str) -> bool {
    match parse(stored) {
        Some(p) => p.verify(password.as_bytes()),
        None => false,
    }
}

/// A parsed Django hash, within its ceiling.
enum Parsed<'a> {
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: &'a str,
        expected: Vec<u8>,
    },
    /// The PHC string after Django's `argon2` prefix.
    Argon2(argon2::password_hash::PasswordHash<'a>),
    Bcrypt {
        sha256: bool,
        bcrypt: &'a str,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: &'a str,
        expected: Vec<u8>,
    },
}

fn parse(stored: &str) -> Option<Parsed<'_>> {
    let (algorithm, rest) = stored.split_once('$')?;
    match algorithm {
        "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let sha1 = algorithm == "pbkdf2_sha1";
            let mut f = rest.split('$');
            let (iterations, salt, hash) = (f.next()?, f.next()?, f.next()?);
            if f.next().is_some() || salt.is_empty() {
                return None;
            }
            let iterations: u32 = iterations.parse().ok()?;
            let expected = STANDARD.decode(hash).ok()?;
            // Django derives the digest's own length (dklen=None).
            let len = if sha1 { 20 } else { 32 };
            ((1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) && expected.len() == len).then_some(
                Parsed::Pbkdf2 {
                    sha1,
                    iterations,
                    salt,
                    expected,
                },
            )
        }
        "argon2" => {
            // `rest` lost the PHC's leading `$` to split_once.
            let phc = &stored["argon2".len()..];
            let parsed = argon2::password_hash::PasswordHash::new(phc).ok()?;
            let params = argon2::Params::try_from(&parsed).ok()?;
            (parsed.hash.is_some()
                && parsed.salt.is_some()
                && argon2::Algorithm::try_from(parsed.algorithm).is_ok()
                && params.m_cost() <= MAX_ARGON2_MEMORY_KIB
                && params.t_cost() <= MAX_ARGON2_ITERATIONS
                && params.p_cost() <= MAX_ARGON2_PARALLELISM)
                .then_some(Parsed::Argon2(parsed))
        }
        "bcrypt_sha256" | "bcrypt" => {
            // `$2b$12$<22 salt><31 hash>`: the cost is the second field.
            let cost: u32 = rest.split('$').nth(2)?.parse().ok()?;
            let shape_ok = rest.len() == 60
                && (rest.starts_with("$2b$")
                    || rest.starts_with("$2a$")
                    || rest.starts_with("$2y$"));
            (shape_ok && (4..=MAX_BCRYPT_COST).contains(&cost)).then_some(Parsed::Bcrypt {
                sha256: algorithm == "bcrypt_sha256",
                bcrypt: rest,
            })
        }
        "scrypt" => {
            let mut f = rest.split('$');
            let (n, salt, r, p, hash) = (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
            if f.next().is_some() || salt.is_empty() {
                return None;
            }
            let (n, r, p): (u64, u32, u32) = (n.parse().ok()?, r.parse().ok()?, p.parse().ok()?);
            if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 || p > MAX_SCRYPT_P {
                return None;
            }
            if 128u64.checked_mul(n)?.checked_mul(u64::from(r))? > MAX_SCRYPT_MEMORY {
                return None;
            }
            let expected = STANDARD.decode(hash).ok()?;
            (expected.len() == 64).then_some(Parsed::Scrypt {
                log_n: n.trailing_zeros() as u8,
                r,
                p,
                salt,
                expected,
            })
        }
        _ => None,
    }
}

impl Parsed<'_> {
    fn hasher(&self) -> Hasher {
        match self {
            Parsed::Pbkdf2 { sha1: true, .. } => Hasher::Pbkdf2Sha1,
            Parsed::Pbkdf2 { sha1: false, .. } => Hasher::Pbkdf2Sha256,
            Parsed::Argon2(_) => Hasher::Argon2,
            Parsed::Bcrypt { sha256: true, .. } => Hasher::BcryptSha256,
            Parsed::Bcrypt { sha256: false, .. } => Hasher::Bcrypt,
            Parsed::Scrypt { .. } => Hasher::Scrypt,
        }
    }

    fn verify(&self, password: &[u8]) -> bool {
        match self {
            Parsed::Pbkdf2 {
                sha1,
                iterations,
                salt,
                expected,
            } => {
                let mut out = vec![0u8; expected.len()];
                if *sha1 {
                    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                        password,
                        salt.as_bytes(),
                        *iterations,
                        &mut out,
                    );
                } else {
                    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt.as_bytes(), *iterations, &mut out);
                }
                bool::from(out.ct_eq(expected))
            }
            Parsed::Argon2(parsed) => {
                use argon2::password_hash::PasswordVerifier as _;
                // The algorithm, version and parameters come from the hash;
                // the comparison inside is constant-time.
                argon2::Argon2::default()
                    .verify_password(password, parsed)
                    .is_ok()
            }
            Parsed::Bcrypt { sha256, bcrypt } => {
                // Django's bcrypt_sha256 feeds bcrypt the hex digest (64
                // bytes, under bcrypt's 72-byte limit). `bcrypt::verify`
                // compares in constant time.
                let input: Vec<u8> = if *sha256 {
                    crate::digest::sha256_hex(password).into_bytes()
                } else {
                    password.to_vec()
                };
                bcrypt::verify(input, bcrypt).unwrap_or(false)
            }
            Parsed::Scrypt {
                log_n,
                r,
                p,
                salt,
                expected,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p, expected.len()) else {
                    return false;
                };
                let mut out = vec![0u8; expected.len()];
                if scrypt::scrypt(password, salt.as_bytes(), &params, &mut out).is_err() {
                    return false;
                }
                bool::from(out.ct_eq(expected))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by Django 5.2.19's own hashers in the seed's venv
    // (scripts/django/vectors.py prints them).
    include!("django_vectors.rs");

    #[test]
    fn every_hasher_verifies_the_right_password_and_refuses_a_wrong_one() {
        for (hasher, stored) in CHEAP_VECTORS {
            assert_eq!(kind(stored), Kind::Django(*hasher), "{stored}");
            assert!(verify(PASSWORD, stored), "{}", hasher.name());
            assert!(!verify("correct horsf", stored), "{}", hasher.name());
            assert!(!verify("", stored), "{}", hasher.name());
        }
    }

    #[test]
    fn django_default_costs_verify() {
        // One verification each at Django 5.2's defaults (PBKDF2 1,000,000
        // iterations, Argon2 100 MiB, bcrypt 12, scrypt N = 2^14 p = 5):
        // all within the ceilings.
        for (hasher, stored) in VECTORS {
            assert_eq!(kind(stored), Kind::Django(*hasher), "{stored}");
            assert!(verify(PASSWORD, stored), "{}", hasher.name());
        }
    }

    #[test]
    fn gatehouse_hashes_are_native_and_not_verified_here() {
        let phc =
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGg";
        assert_eq!(kind(phc), Kind::Native);
        assert!(!verify("x", phc));
    }

    #[test]
    fn unusable_unknown_and_malformed_hashes_need_a_reset() {
        for stored in [
            "",
            "!",
            "!Xq3kLrW2bYbD8a0lXz1qkqJgE6y3xG9mT0fP4aR",
            "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
            "unsalted_md5$$5f4dcc3b5aa765d61d8327deb882cf99",
            "sha1$salt$abc",
            "crypt$$ab01FAX.bQRSU",
            "pbkdf2_sha256$notanumber$salt$aGFzaA==",
            "pbkdf2_sha256$1000$salt$not base64!",
            "pbkdf2_sha256$1000$salt$aGFzaA==", // wrong length
            "pbkdf2_sha256$1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "pbkdf2_sha256$1000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$extra",
            "bcrypt_sha256$$2b$12$tooshort",
            "argon2$argon2id$garbage",
            "scrypt$1000$salt$8$1$AAAA", // N not a power of two
            "pbkdf2_sha256",
        ] {
            assert_eq!(kind(stored), Kind::Unusable, "{stored:?}");
            assert!(!verify("password", stored), "{stored:?}");
        }
    }

    #[test]
    fn costs_above_the_ceiling_need_a_reset_and_are_not_computed() {
        let h = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; // 32 bytes
        let at = format!("pbkdf2_sha256${MAX_PBKDF2_ITERATIONS}$salt${h}");
        assert!(matches!(kind(&at), Kind::Django(Hasher::Pbkdf2Sha256)));
        let over = format!("pbkdf2_sha256${}$salt${h}", MAX_PBKDF2_ITERATIONS + 1);
        assert_eq!(kind(&over), Kind::Unusable);
        // If this computed 4 billion iterations the test would hang.
        assert!(!verify("pw", &format!("pbkdf2_sha256$4294967295$salt${h}")));

        let bcrypt = |cost: u32| {
            format!(
                "bcrypt_sha256$$2b${cost:02}$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"
            )
        };
        assert_eq!(kind(&bcrypt(12)), Kind::Django(Hasher::BcryptSha256));
        assert_eq!(kind(&bcrypt(MAX_BCRYPT_COST + 1)), Kind::Unusable);
        assert_eq!(kind(&bcrypt(31)), Kind::Unusable);

        let key = STANDARD.encode([0u8; 64]);
        assert_eq!(
            kind(&format!("scrypt$16384$salt$8$1${key}")),
            Kind::Django(Hasher::Scrypt)
        );
        // 128 · 2^20 · 8 = 1 GiB.
        assert_eq!(
            kind(&format!("scrypt$1048576$salt$8$1${key}")),
            Kind::Unusable
        );
        assert_eq!(
            kind(&format!("scrypt$16384$salt$8$17${key}")),
            Kind::Unusable
        );

        let argon = |m: u32, t: u32, p: u32| {
            format!("argon2$argon2id$v=19$m={m},t={t},p={p}$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGg")
        };
        assert_eq!(kind(&argon(102_400, 2, 8)), Kind::Django(Hasher::Argon2));
        assert_eq!(kind(&argon(4_194_304, 2, 8)), Kind::Unusable);
        assert_eq!(kind(&argon(65_536, 1_000, 1)), Kind::Unusable);
        assert!(!verify("pw", &argon(4_194_304, 2, 8)));
    }

    #[test]
    fn bcrypt_sha256_bcrypts_the_hex_digest_not_the_password() {
        let (_, stored) = CHEAP_VECTORS
            .iter()
            .find(|(h, _)| *h == Hasher::BcryptSha256)
            .unwrap();
        let bcrypt = &stored["bcrypt_sha256".len() + 1..];
        let hex_digest = crate::digest::sha256_hex(PASSWORD.as_bytes());
        assert!(bcrypt::verify(hex_digest, bcrypt).unwrap());
        assert!(!bcrypt::verify(PASSWORD, bcrypt).unwrap());
    }
}
