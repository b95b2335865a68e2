//! The single-use tokens the email flows mail out (verification, password
//! reset, email change) and the six-digit sign-in codes, as pure functions:
//! making them, their stored forms, and whether a stored one may be used now.
//!
//! A link token is 256 random bits, base64url (43 characters); only its
//! SHA-256 is stored (`email_tokens.token_hash`), so a database read gives
//! no usable link. A code has only a million values: it is stored as
//! SHA-256 over the row's random salt and the code, and what protects it is
//! the attempts cap ([`MAX_CODE_ATTEMPTS`], counted atomically in SQL).

use crate::clock::UnixMillis;
use crate::random::{self, Random};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Wrong guesses a sign-in code survives; the fifth wrong one kills it.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

/// The length of a token as mailed (32 bytes, base64url without padding).
pub const TOKEN_LEN: usize = 43;

/// What a token is for; a token of one purpose is refused by the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Reset,
    EmailChange,
    Code,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::EmailChange => "email_change",
            Purpose::Code => "code",
        }
    }
    pub fn parse(s: &str) -> Option<Purpose> {
        [
            Purpose::Verify,
            Purpose::Reset,
            Purpose::EmailChange,
            Purpose::Code,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A fresh token and its stored form.
pub struct NewToken {
    /// What the mail carries.
    pub token: String,
    /// What the database keeps.
    pub hash: String,
}

/// A fresh token: 256 random bits.
pub fn new_token(rng: &dyn Random) -> NewToken {
    let token = URL_SAFE_NO_PAD.encode(random::bytes::<32>(rng));
    let hash = token_hash(&token);
    NewToken { token, hash }
}

/// The stored form of a presented token (SHA-256, hex).
pub fn token_hash(token: &str) -> String {
    crate::api_client::key_hash(token)
}

/// Could `token` be one of ours? (43 base64url characters.) Anything else
/// is refused without a database read.
pub fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A six-digit code, uniform over 000000..=999999 (rejection sampling, so no
/// value is likelier than another).
pub fn new_code(rng: &dyn Random) -> String {
    loop {
        let n = u32::from_le_bytes(random::bytes::<4>(rng));
        // The largest multiple of a million that fits in a u32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// A fresh salt for a code's hash (128 bits, base64url).
pub fn new_salt(rng: &dyn Random) -> String {
    URL_SAFE_NO_PAD.encode(random::bytes::<16>(rng))
}

/// The stored form of a code: SHA-256 of the row's salt and the code, hex.
pub fn code_hash(salt: &str, code: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(code.as_bytes());
    crate::digest::hex(&h.finalize())
}

/// Is `code` six ASCII digits? Anything else cannot match and costs no
/// attempt.
pub fn code_well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A stored token, as the flows read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub purpose: String,
    pub user_id: i64,
    /// The address the mail went to (the new address of an email change).
    pub email: String,
    pub client_id: String,
    pub expires_at: UnixMillis,
    pub used_at: Option<UnixMillis>,
    pub attempts: i64,
    pub salt: Option<String>,
    pub code_hash: Option<String>,
}

/// Why a token cannot be used (all one answer to the caller:
/// `invalid_token`; the reason goes to the audit log and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// No such token (never issued, or a typo).
    Unknown,
    /// A token of another flow.
    WrongPurpose,
    /// Used already, or replaced by a newer request of the same purpose.
    Used,
    /// Past its expiry (the expiry instant itself is past).
    Expired,
}

/// May the stored token `row` be used for `purpose` at `now`?
pub fn check(row: Option<&TokenRow>, purpose: Purpose, now: UnixMillis) -> Result<(), Invalid> {
    let row = row.ok_or(Invalid::Unknown)?;
    if row.purpose != purpose.as_str() {
        return Err(Invalid::WrongPurpose);
    }
    if row.used_at.is_some() {
        return Err(Invalid::Used);
    }
    if now >= row.expires_at {
        return Err(Invalid::Expired);
    }
    Ok(())
}

/// What a sign-in code guess comes to, given the live code row after the
/// guess was counted (`attempts` includes it), or None when no live code
/// was left to count it against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOutcome {
    /// The code matches: sign in (and spend the code).
    SignIn,
    /// Wrong (or no live code, or its attempts are spent): 400 `invalid_code`.
    Wrong,
}

pub fn check_code(row: Option<&TokenRow>, presented: &str, now: UnixMillis) -> CodeOutcome {
    let Some(row) = row else {
        return CodeOutcome::Wrong;
    };
    if check(Some(row), Purpose::Code, now).is_err() || row.attempts > MAX_CODE_ATTEMPTS {
        return CodeOutcome::Wrong;
    }
    let (Some(salt), Some(stored)) = (&row.salt, &row.code_hash) else {
        return CodeOutcome::Wrong;
    };
    let presented = code_hash(salt, presented);
    if bool::from(presented.as_bytes().ct_eq(stored.as_bytes())) {
        CodeOutcome::SignIn
    } else {
        CodeOutcome::Wrong
    }
}

/// `base` with `token=…` added as a query parameter (`?` or `&`).
pub fn link(base: &str, token: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}token={token}")
}

/// A client's sign-in page (`signin_url`) with the address and the code as
/// query parameters: the page posts them to `/api/auth/code/verify/`.
pub fn code_link(base: &str, email: &str, code: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let (email, code) = (crate::query::encode(email), crate::query::encode(code));
    format!("{base}{sep}email={email}&code={code}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::testing::T0;

    fn row(purpose: Purpose, expires_at: UnixMillis) -> TokenRow {
        TokenRow {
            purpose: purpose.as_str().into(),
            user_id: 7,
            email: "ada@example.com".into(),
            client_id: "cl_x".into(),
            expires_at,
            used_at: None,
            attempts: 0,
            salt: None,
            code_hash: None,
        }
    }

    struct Counter(std::sync::atomic::AtomicU8);
    impl Random for Counter {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn a_token_is_256_bits_of_base64url_and_only_its_hash_is_kept() {
        let rng = crate::random::SeededRandom::new(1);
        let t = new_token(&rng);
        assert_eq!(t.token.len(), TOKEN_LEN);
        assert!(well_formed(&t.token));
        assert_eq!(t.hash, token_hash(&t.token));
        assert_eq!(t.hash.len(), 64);
        assert!(!t.hash.contains(&t.token));
        let other = new_token(&rng);
        assert_ne!(t.token, other.token);
    }

    #[test]
    fn malformed_tokens_are_refused_without_a_lookup() {
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &"a".repeat(42),
            &format!("{}=", "a".repeat(42)),
            &format!("{}é", "a".repeat(41)),
        ] {
            assert!(!well_formed(bad), "{bad:?}");
        }
        assert!(well_formed(&"A-_9".repeat(11)[..TOKEN_LEN]));
    }

    #[test]
    fn a_token_is_valid_until_its_expiry_instant_and_not_at_it() {
        let clock = FixedClock::new(T0);
        let r = row(Purpose::Reset, T0.plus_secs(3600));
        assert_eq!(check(Some(&r), Purpose::Reset, clock.now()), Ok(()));
        clock.advance_secs(3599);
        assert_eq!(check(Some(&r), Purpose::Reset, clock.now()), Ok(()));
        clock.advance_secs(1);
        assert_eq!(
            check(Some(&r), Purpose::Reset, clock.now()),
            Err(Invalid::Expired)
        );
    }

    #[test]
    fn used_unknown_and_other_purposes_are_invalid() {
        let mut r = row(Purpose::Verify, T0.plus_secs(60));
        assert_eq!(check(None, Purpose::Verify, T0), Err(Invalid::Unknown));
        assert_eq!(
            check(Some(&r), Purpose::Reset, T0),
            Err(Invalid::WrongPurpose)
        );
        assert_eq!(
            check(Some(&r), Purpose::EmailChange, T0),
            Err(Invalid::WrongPurpose)
        );
        r.used_at = Some(T0);
        assert_eq!(check(Some(&r), Purpose::Verify, T0), Err(Invalid::Used));
    }

    #[test]
    fn a_newer_request_invalidates_the_older_token() {
        // A newer request marks the older row used (the store's
        // `replace` statement); the older link is then refused.
        let mut older = row(Purpose::Reset, T0.plus_secs(3600));
        let newer = row(Purpose::Reset, T0.plus_secs(3700));
        older.used_at = Some(T0.plus_secs(100));
        let at = T0.plus_secs(200);
        assert_eq!(check(Some(&older), Purpose::Reset, at), Err(Invalid::Used));
        assert_eq!(check(Some(&newer), Purpose::Reset, at), Ok(()));
    }

    #[test]
    fn codes_are_six_digits_and_spread_over_the_range() {
        let rng = crate::random::SeededRandom::new(2);
        let mut firsts = std::collections::HashSet::new();
        for _ in 0..200 {
            let c = new_code(&rng);
            assert!(code_well_formed(&c), "{c}");
            firsts.insert(c.as_bytes()[0]);
        }
        assert!(firsts.len() >= 8, "{firsts:?}");
        // Zero-padded: a small number still has six digits.
        let c = new_code(&Counter(std::sync::atomic::AtomicU8::new(0)));
        assert_eq!(c.len(), 6);
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345"] {
            assert!(!code_well_formed(bad), "{bad}");
        }
    }

    fn code_row(code: &str, attempts: i64) -> TokenRow {
        let salt = "c2FsdA".to_owned();
        TokenRow {
            attempts,
            code_hash: Some(code_hash(&salt, code)),
            salt: Some(salt),
            ..row(Purpose::Code, T0.plus_secs(600))
        }
    }

    #[test]
    fn the_right_code_signs_in_within_its_attempts_and_lifetime() {
        let r = code_row("042042", 1);
        assert_eq!(check_code(Some(&r), "042042", T0), CodeOutcome::SignIn);
        assert_eq!(check_code(Some(&r), "042043", T0), CodeOutcome::Wrong);
        // The fifth counted attempt may still be the right one.
        let r = code_row("042042", MAX_CODE_ATTEMPTS);
        assert_eq!(check_code(Some(&r), "042042", T0), CodeOutcome::SignIn);
    }

    #[test]
    fn a_code_past_its_attempts_or_lifetime_or_spent_is_dead_even_when_right() {
        let r = code_row("042042", MAX_CODE_ATTEMPTS + 1);
        assert_eq!(check_code(Some(&r), "042042", T0), CodeOutcome::Wrong);
        let r = code_row("042042", 1);
        assert_eq!(
            check_code(Some(&r), "042042", T0.plus_secs(600)),
            CodeOutcome::Wrong
        );
        assert_eq!(
            check_code(Some(&r), "042042", T0.plus_secs(599)),
            CodeOutcome::SignIn
        );
        let mut used = code_row("042042", 1);
        used.used_at = Some(T0);
        assert_eq!(check_code(Some(&used), "042042", T0), CodeOutcome::Wrong);
        assert_eq!(check_code(None, "042042", T0), CodeOutcome::Wrong);
        // A link token's row has no code.
        let mut reset = row(Purpose::Reset, T0.plus_secs(600));
        reset.attempts = 1;
        assert_eq!(check_code(Some(&reset), "042042", T0), CodeOutcome::Wrong);
    }

    #[test]
    fn a_code_hash_depends_on_the_salt() {
        assert_ne!(code_hash("a", "123456"), code_hash("b", "123456"));
        assert_eq!(code_hash("a", "123456"), code_hash("a", "123456"));
    }

    #[test]
    fn links_add_the_token_as_a_query_parameter() {
        assert_eq!(
            link("https://app.example.com/reset", "T"),
            "https://app.example.com/reset?token=T"
        );
        assert_eq!(
            link("https://app.example.com/reset?lang=fr", "T"),
            "https://app.example.com/reset?lang=fr&token=T"
        );
    }

    #[test]
    fn code_links_add_the_encoded_address_and_the_code() {
        assert_eq!(
            code_link(
                "https://app.example.com/code",
                "ada+x@example.com",
                "012345"
            ),
            "https://app.example.com/code?email=ada%2Bx%40example.com&code=012345"
        );
        assert_eq!(
            code_link("https://app.example.com/code?lang=fr", "a@b.c", "1"),
            "https://app.example.com/code?lang=fr&email=a%40b.c&code=1"
        );
    }
}
