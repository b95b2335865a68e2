//! Second factors, as pure functions: TOTP ([`totp`]), the sealed secret
//! ([`seal`]), recovery codes, the sign-in challenge (`mfa_token`) and the
//! authentication methods (`amr`) a login carries, with its assurance
//! level (`aal`). The SQL is in `store/mfa.rs`, the endpoints in `api/mfa.rs`.

pub(crate) mod seal;
pub mod totp;

use crate::api_client::ClientId;
use crate::clock::UnixMillis;
use crate::random::Random;
use crate::user::{User, UserId, UserType};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub use seal::DataKey;

/// How many recovery codes a set holds.
pub(crate) const RECOVERY_CODES: usize = 10;
/// An `mfa_token` lives this long (seconds).
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;

/// How long a second factor counts as recent for the routes that need one
/// (`RequireMfa`, change-password): 15 minutes since the login last passed
/// one, at sign-in or by a step-up (`mfa/step-up/`).
pub const STEP_UP_WINDOW_SECS: i64 = 15 * 60;

/// Whether a login whose last second factor was at `mfa_at` may use a
/// route that needs a recent one at `now`: within [`STEP_UP_WINDOW_SECS`]
/// (inclusive); never without one. A time after `now` (clocks of two
/// hosts) counts as now.
pub(crate) fn step_up_fresh(mfa_at: Option<UnixMillis>, now: UnixMillis) -> bool {
    mfa_at.is_some_and(|t| now.0 - t.0 <= STEP_UP_WINDOW_SECS * 1000)
}
/// Codes one challenge may be tried with; the one past it kills it.
pub(crate) const CHALLENGE_ATTEMPTS: i64 = 5;

/// The `amr` values (RFC 8176 where one fits).
pub(crate) mod amr {
    /// A password.
    pub(crate) const PWD: &str = "pwd";
    /// A code mailed to the user's address (not in RFC 8176).
    pub(crate) const EMAIL: &str = "email";
    /// A TOTP code (RFC 8176 `otp`).
    pub(crate) const OTP: &str = "otp";
    /// A recovery code (not in RFC 8176).
    pub(crate) const RECOVERY: &str = "rc";
    /// A passkey (RFC 8176 `hwk`: a hardware-secured key) with user
    /// verification (`user`), together one login of two factors.
    pub(crate) const PASSKEY: &str = "hwk,user";
    /// A passkey as the second factor, after a password or an emailed code.
    pub(crate) const HWK: &str = "hwk";
    pub(super) fn is_second_factor(m: &str) -> bool {
        m == OTP || m == RECOVERY || m == HWK
    }
}

/// The methods of a login, as stored on its session row: comma-separated.
pub(crate) fn amr_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The assurance level of a login's methods: 2 with a second factor, else 1.
pub(crate) fn aal(methods: &[String]) -> u8 {
    if methods.iter().any(|m| amr::is_second_factor(m)) {
        2
    } else {
        1
    }
}

/// Whether a login that completed without a second factor must be told to
/// set one up (`mfa_enrollment_required`): staff and admins who have none,
/// signing in through a client with `require_mfa_for_staff` (on by default
/// for `admin`-type clients).
pub(crate) fn enrollment_required(client_requires: bool, user: &User, has_factor: bool) -> bool {
    client_requires
        && (user.is_staff || user.is_superuser || user.user_type != UserType::Creator)
        && !has_factor
}

/// A new `mfa_token` (256 random bits, URL-safe) and its stored hash.
pub(crate) fn new_challenge_token(rng: &dyn Random) -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(crate::random::bytes::<32>(rng));
    let hash = challenge_hash(&token);
    (token, hash)
}

/// What is stored of an `mfa_token`.
pub(crate) fn challenge_hash(token: &str) -> String {
    crate::digest::sha256_hex(token.as_bytes())
}

/// A stored sign-in challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) user_id: UserId,
    pub(crate) client_id: ClientId,
    /// The first factor's methods (`pwd`, or `email`).
    pub(crate) amr: String,
    pub(crate) expires_at: UnixMillis,
    /// Codes tried so far, counting the one of this request.
    pub(crate) attempts: i64,
    pub(crate) used_at: Option<UnixMillis>,
}

/// Whether a challenge may be answered by this request (after its attempt
/// was counted): not used, not expired, within the attempts, and presented
/// through the client it was issued to.
pub(crate) fn challenge_usable(c: &Challenge, client: &ClientId, now: UnixMillis) -> bool {
    c.used_at.is_none()
        && now < c.expires_at
        && c.attempts <= CHALLENGE_ATTEMPTS
        && c.client_id == *client
}

/// A new set of recovery codes (`xxxxx-xxxxx`, 50 random bits each) with
/// their stored hashes.
pub(crate) fn new_recovery_codes(rng: &dyn Random) -> Vec<(String, String)> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = totp::base32(&crate::random::bytes::<7>(rng)).to_ascii_lowercase();
            let code = format!("{}-{}", &raw[..5], &raw[5..10]);
            let hash = recovery_hash(&code);
            (code, hash)
        })
        .collect()
}

/// What is stored of a recovery code: SHA-256 of its normalised form
/// (case, spaces and dashes do not matter when it is typed back).
pub(crate) fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::digest::sha256_hex(normal.as_bytes())
}

#[cfg(test)]
mod step_up_tests {
    use super::*;
    use crate::testing::T0;

    #[test]
    fn recent_means_fifteen_minutes_to_the_millisecond() {
        let window = STEP_UP_WINDOW_SECS * 1000;
        assert!(!step_up_fresh(None, T0));
        assert!(step_up_fresh(Some(T0), T0));
        assert!(step_up_fresh(Some(T0), UnixMillis(T0.0 + window)));
        assert!(!step_up_fresh(Some(T0), UnixMillis(T0.0 + window + 1)));
        // A later stamp (another host's clock a little ahead) is recent.
        assert!(step_up_fresh(Some(UnixMillis(T0.0 + 5_000)), T0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    fn challenge() -> Challenge {
        Challenge {
            user_id: UserId(7),
            client_id: ClientId("web".into()),
            amr: "pwd".into(),
            expires_at: UnixMillis(10_000),
            attempts: 1,
            used_at: None,
        }
    }

    #[test]
    fn a_challenge_is_usable_once_in_time_through_its_client_within_its_attempts() {
        let web = ClientId("web".into());
        assert!(challenge_usable(&challenge(), &web, UnixMillis(9_999)));
        assert!(!challenge_usable(&challenge(), &web, UnixMillis(10_000)));
        assert!(!challenge_usable(
            &challenge(),
            &ClientId("other".into()),
            UnixMillis(1)
        ));
        let used = Challenge {
            used_at: Some(UnixMillis(5)),
            ..challenge()
        };
        assert!(!challenge_usable(&used, &web, UnixMillis(1)));
        let fifth = Challenge {
            attempts: 5,
            ..challenge()
        };
        assert!(challenge_usable(&fifth, &web, UnixMillis(1)));
        let sixth = Challenge {
            attempts: 6,
            ..challenge()
        };
        assert!(!challenge_usable(&sixth, &web, UnixMillis(1)));
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_back_loosely() {
        let codes = new_recovery_codes(&SeededRandom::new(1));
        assert_eq!(codes.len(), 10);
        let mut hashes: Vec<_> = codes.iter().map(|(_, h)| h.clone()).collect();
        hashes.dedup();
        assert_eq!(hashes.len(), 10);
        let (code, hash) = &codes[0];
        assert_eq!(code.len(), 11);
        assert_eq!(&recovery_hash(&code.to_uppercase().replace('-', " ")), hash);
        assert_ne!(&recovery_hash(&code[..10]), hash);
    }

    #[test]
    fn the_assurance_level_is_two_only_with_a_second_factor() {
        assert_eq!(aal(&amr_list("pwd")), 1);
        assert_eq!(aal(&amr_list("email")), 1);
        assert_eq!(aal(&amr_list("pwd,otp")), 2);
        assert_eq!(aal(&amr_list("email,rc")), 2);
        assert_eq!(aal(&amr_list(amr::PASSKEY)), 2);
        assert_eq!(amr_list(""), Vec::<String>::new());
    }

    fn user(t: UserType) -> User {
        User {
            id: UserId(7),
            email: "ada@example.com".into(),
            username: "ada".into(),
            first_name: String::new(),
            last_name: String::new(),
            user_type: t,
            is_staff: t != UserType::Creator,
            is_superuser: t == UserType::Admin,
            is_active: true,
            date_joined: UnixMillis(0),
            last_login: None,
            email_verified_at: None,
        }
    }

    #[test]
    fn admin_clients_ask_staff_without_a_factor_to_enrol() {
        for t in [UserType::Staff, UserType::Admin] {
            assert!(enrollment_required(true, &user(t), false));
            assert!(!enrollment_required(true, &user(t), true));
            assert!(!enrollment_required(false, &user(t), false));
        }
        assert!(!enrollment_required(true, &user(UserType::Creator), false));
    }

    #[test]
    fn challenge_tokens_are_long_and_stored_hashed() {
        let (token, hash) = new_challenge_token(&SeededRandom::new(3));
        assert!(token.len() >= 43, "{token}");
        assert_eq!(challenge_hash(&token), hash);
        assert_ne!(token, hash);
    }
}
