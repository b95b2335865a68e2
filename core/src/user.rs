//! Users and their three types.

use crate::clock::UnixMillis;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The three user types of the SPEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    Creator,
    Staff,
    Admin,
}

impl UserType {
    pub const ALL: [UserType; 3] = [UserType::Creator, UserType::Staff, UserType::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Creator => "creator",
            UserType::Staff => "staff",
            UserType::Admin => "admin",
        }
    }
    /// Staff and admins are staff; creators never are.
    pub fn is_staff(self) -> bool {
        !matches!(self, UserType::Creator)
    }
    /// Only admins are superusers.
    pub fn is_superuser(self) -> bool {
        matches!(self, UserType::Admin)
    }
}

impl fmt::Display for UserType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "creator" => Ok(UserType::Creator),
            "staff" => Ok(UserType::Staff),
            "admin" => Ok(UserType::Admin),
            other => Err(format!(
                "unknown user type {other:?} (creator, staff, admin)"
            )),
        }
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub is_active: bool,
    pub date_joined: UnixMillis,
    pub last_login: Option<UnixMillis>,
    /// When the user proved the address theirs (a verification or email
    /// change link); None: not verified.
    pub email_verified_at: Option<UnixMillis>,
}

/// What an operator (CLI, later the admin API) gives to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub password: String,
}

// ------------------------------------------------------------------------
// Look-alike emails and usernames.
//
// Everything that takes an email or a username from outside (register,
// login, profile, the admin API, the operator CLI) goes through these
// functions, so that a look-alike of an existing account (a fullwidth
// letter, a decomposed accent, a case variant, a Cyrillic letter in a Latin
// domain) either collides with the original or is refused:
//
// - [`canonical_email`] / [`canonical_username`]: validate and return the
//   form that is stored (refusal → the field's 400 message);
// - [`normalize_email`] / [`username_key`]: the comparison keys behind the
//   unique indexes (`email_normalized`, `username_key`); never fail, so a
//   login with any spelling finds the same row (or none) as the original.

/// Longest email accepted (after normalisation; Django's `EmailField`).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest username accepted (after normalisation; Django's `AbstractUser`).
pub const MAX_USERNAME_CHARS: usize = 150;

/// Django's `EmailValidator` message.
pub const BAD_EMAIL: &str = "Enter a valid email address.";
/// A non-ASCII local part (after NFKC) while
/// [`Config::allow_unicode_email_local_part`](crate::config::Config) is off.
pub const EMAIL_LOCAL_NOT_ASCII: &str =
    "Enter a valid email address. The part before the @ may contain only ASCII characters.";
/// Letters of different scripts in one domain label or in the local part.
pub const EMAIL_MIXED_SCRIPT: &str =
    "Enter a valid email address. It may not mix letters of different scripts.";
/// Django's `UnicodeUsernameValidator` message.
pub const BAD_USERNAME: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
/// Letters of different scripts in one username.
pub const USERNAME_MIXED_SCRIPT: &str =
    "Enter a valid username. It may not mix letters of different scripts.";

/// Django's `EmailValidator`, simplified: one `@`, a non-empty local part
/// without white space or control characters, and a dotted domain of
/// letters, digits and hyphens (IDNs as Unicode letters). Hand-written: the
/// rule is ten lines and a crate would bring a regex engine into the core.
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic) || tld.starts_with("xn--"));
    local_ok && domain_ok
}

/// Django's `UnicodeUsernameValidator`: letters, digits and `@.+-_`.
pub fn is_valid_username(username: &str) -> bool {
    !username.is_empty()
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
}

fn nfkc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc().collect()
}

/// A domain as UTS-46 (non-transitional, STD3 rules) lowercase ASCII:
/// `ＥＸＡＭＰＬＥ．com`, `example。com` → `example.com`, `café.fr` →
/// `xn--caf-dma.fr`. `None` when UTS-46 refuses it.
fn domain_to_ascii(domain: &str) -> Option<String> {
    idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::STD3)
        .ok()
        .map(|d| d.into_owned())
}

/// UTS-39's "highly restrictive" level, without its identifier-profile
/// part: all letters of one script (characters common to all scripts, such
/// as digits, `.`, `-`, `_`, `@`, and combining marks count for any
/// script), or Latin with Han and Japanese kana, Han and Bopomofo, or Han
/// and Hangul. Refuses `pаypal` (a Cyrillic а among Latin letters) but keeps
/// `jürgen`, `дмитрий`, `tシャツ`.
pub fn is_single_script(s: &str) -> bool {
    use unicode_script::Script;
    use unicode_security::mixed_script::AugmentedScriptSet;
    let mut all = AugmentedScriptSet::default();
    let mut besides_latin = AugmentedScriptSet::default();
    for c in s.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        if !set.base.contains_script(Script::Latin) {
            besides_latin.intersect_with(set);
        }
    }
    !all.is_empty() || besides_latin.hanb || besides_latin.jpan || besides_latin.kore
}

/// Validates an email and returns the form to store: trimmed, NFKC, the
/// domain as UTS-46 lowercase ASCII (punycode), the local part's case kept.
///
/// Refused: what Django's `EmailValidator` refuses (checked on the
/// normalised form), longer than 254 characters once normalised, a domain
/// label that mixes scripts, and a non-ASCII local part unless
/// `allow_unicode_local` (then a local part that mixes scripts).
pub fn canonical_email(email: &str, allow_unicode_local: bool) -> Result<String, &'static str> {
    let email = nfkc(email.trim());
    let (local, domain) = email.rsplit_once('@').ok_or(BAD_EMAIL)?;
    if !local.is_ascii() {
        if !allow_unicode_local {
            return Err(EMAIL_LOCAL_NOT_ASCII);
        }
        if !is_single_script(local) {
            return Err(EMAIL_MIXED_SCRIPT);
        }
    }
    let ascii = domain_to_ascii(domain).ok_or(BAD_EMAIL)?;
    let (unicode, ok) = idna::domain_to_unicode(&ascii);
    ok.map_err(|_| BAD_EMAIL)?;
    if !unicode.split('.').all(is_single_script) {
        return Err(EMAIL_MIXED_SCRIPT);
    }
    let out = format!("{local}@{ascii}");
    if !is_valid_email(&out) || out.chars().count() > MAX_EMAIL_CHARS {
        return Err(BAD_EMAIL);
    }
    Ok(out)
}

/// The email as compared for uniqueness and login (`email_normalized`):
/// trimmed, NFKC, the local part lowercased, the domain as UTS-46 lowercase
/// ASCII. Never fails: a string [`canonical_email`] refuses still gets a key
/// (so a login with it finds nothing, the same way as an unknown email).
/// Idempotent: the key of a key is itself.
pub fn normalize_email(email: &str) -> String {
    let email = nfkc(email.trim());
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let domain = domain_to_ascii(domain).unwrap_or_else(|| domain.to_lowercase());
            format!("{}@{domain}", local.to_lowercase())
        }
        None => email.to_lowercase(),
    }
}

/// Django's `AbstractBaseUser.normalize_username`: NFKC (`ｕｓｅｒ` → `user`,
/// `ﬁ` → `fi`, `e` + U+0301 → `é`).
pub fn normalize_username(username: &str) -> String {
    nfkc(username)
}

/// Validates a username and returns the form to store: trimmed and NFKC
/// ([`normalize_username`]), the case kept. Refused: anything but letters,
/// digits and `@.+-_` (Django's `UnicodeUsernameValidator`, on the
/// normalised form), over 150 characters once normalised, letters of
/// different scripts.
pub fn canonical_username(username: &str) -> Result<String, &'static str> {
    let username = normalize_username(username.trim());
    if !is_valid_username(&username) {
        return Err(BAD_USERNAME);
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Err("Ensure this field has no more than 150 characters.");
    }
    if !is_single_script(&username) {
        return Err(USERNAME_MIXED_SCRIPT);
    }
    Ok(username)
}

/// The username as compared for uniqueness (`username_key`): NFKC, then
/// full case folding (upper- then lowercase, so `ß`, `SS` and `ss` meet),
/// then NFKC again (case mapping may decompose). `Alice`, `ALICE` and
/// `ａｌｉｃｅ` have one key.
pub fn username_key(username: &str) -> String {
    nfkc(&nfkc(username).to_uppercase().to_lowercase())
}

/// The answer to "already exists" for an email.
pub const EMAIL_TAKEN: &str = "user with this email already exists.";
/// The answer to "already exists" for a username.
pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// Which of an email and a username already belong to a user (each compared
/// by its key; an empty one is never taken).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    pub email: bool,
    pub username: bool,
}

impl Taken {
    /// Adds the "already exists" errors, as registration, the admin API and
    /// the CLI all report them.
    pub fn push_errors(self, errors: &mut crate::error::FieldErrors) {
        if self.email {
            crate::json::push(errors, "email", EMAIL_TAKEN);
        }
        if self.username {
            crate::json::push(errors, "username", USERNAME_TAKEN);
        }
    }
}

#[cfg(test)]
impl User {
    /// An active user of type `t` for unit tests: `u{id}`, `u{id}@example.com`.
    pub(crate) fn sample(id: i64, t: UserType) -> User {
        User {
            id: UserId(id),
            email: format!("u{id}@example.com"),
            username: format!("u{id}"),
            first_name: String::new(),
            last_name: String::new(),
            user_type: t,
            is_staff: t.is_staff(),
            is_superuser: t.is_superuser(),
            is_active: true,
            date_joined: UnixMillis(0),
            last_login: None,
            email_verified_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_key_folds_lookalikes_onto_the_original() {
        let original = normalize_email("Alice@Example.com");
        assert_eq!(original, "alice@example.com");
        for copy in [
            "alice@example.com",
            " ALICE@EXAMPLE.COM ",
            "ａlice@example.com",                 // fullwidth a (NFKC)
            "ＡＬＩＣＥ＠ＥＸＡＭＰＬＥ．ＣＯＭ", // all fullwidth, fullwidth @ and .
            "alice@example。com",                 // ideographic full stop (UTS-46)
            "alice@example\u{FF0E}com",           // fullwidth full stop
            "ａlice@ｅxample.com",
        ] {
            assert_eq!(normalize_email(copy), original, "{copy:?}");
        }
        // Combining accent vs precomposed, in the domain: one punycode key.
        assert_eq!(normalize_email("bob@café.fr"), "bob@xn--caf-dma.fr");
        assert_eq!(normalize_email("bob@cafe\u{301}.fr"), "bob@xn--caf-dma.fr");
        assert_eq!(normalize_email("bob@CAFÉ.fr"), "bob@xn--caf-dma.fr");
        assert_eq!(normalize_email("bob@xn--caf-dma.fr"), "bob@xn--caf-dma.fr");
        // ... and in the local part (NFKC composes).
        assert_eq!(
            normalize_email("jose\u{301}@example.com"),
            normalize_email("josé@example.com")
        );
        // A Cyrillic letter is another key (canonical_email refuses it).
        assert_ne!(normalize_email("alice@exаmple.com"), original);
        // Never fails; idempotent.
        for s in [
            "",
            "no-at-sign",
            "a@",
            "@b",
            "a@b@c",
            "x@-bad-.com",
            "x@a..b",
            "ü@ÄÖ.de",
        ] {
            let k = normalize_email(s);
            assert_eq!(normalize_email(&k), k, "{s:?}");
        }
    }

    #[test]
    fn canonical_email_keeps_local_case_and_puts_the_domain_in_ascii() {
        for (input, canonical) in [
            (" Alice@Example.COM ", "Alice@example.com"),
            ("ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "alice@example.com"),
            ("bob@Cafe\u{301}.fr", "bob@xn--caf-dma.fr"),
            ("bob@bücher.de", "bob@xn--bcher-kva.de"),
            ("taro@日本語.jp", "taro@xn--wgv71a119e.jp"),
            ("ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai"),
        ] {
            assert_eq!(
                canonical_email(input, false),
                Ok(canonical.into()),
                "{input:?}"
            );
        }
        // The canonical form is its own key up to the local part's case.
        let c = canonical_email("Alice@ＥＸＡＭＰＬＥ.com", false).unwrap();
        assert_eq!(normalize_email(&c), normalize_email("alice@example.com"));
    }

    #[test]
    fn canonical_email_refuses_lookalikes() {
        // A Cyrillic а (U+0430) or е (U+0435) among Latin letters.
        for mixed in [
            "alice@exаmple.com",
            "alice@examplе.com",
            "alice@example.cоm",
            "alice@xn--exmple-4nf.com", // the same, typed as punycode
            "alice@paypaΙ.com",         // Greek capital iota
        ] {
            assert_eq!(
                canonical_email(mixed, false),
                Err(EMAIL_MIXED_SCRIPT),
                "{mixed:?}"
            );
        }
        // Non-ASCII local parts: a Cyrillic letter, a combining accent, a
        // precomposed letter; refused unless configured.
        for local in [
            "аlice@example.com",
            "jose\u{301}@example.com",
            "josé@example.com",
        ] {
            assert_eq!(
                canonical_email(local, false),
                Err(EMAIL_LOCAL_NOT_ASCII),
                "{local:?}"
            );
        }
        assert_eq!(
            canonical_email("jose\u{301}@example.com", true),
            Ok("josé@example.com".into())
        );
        assert_eq!(
            canonical_email("дмитрий@example.com", true),
            Ok("дмитрий@example.com".into())
        );
        assert_eq!(
            canonical_email("pаypal@example.com", true),
            Err(EMAIL_MIXED_SCRIPT)
        );
        // Django's validator, on the normalised form.
        for bad in [
            "",
            "a",
            "a@b",
            "a@@b.co",
            "a b@c.co",
            "a@b..co",
            "a@-b.co",
            "@b.co",
            "a@b.c0",
            "a@exa_mple.com",
            "a@xn--.com",
            "a@\u{200b}.com",
        ] {
            assert_eq!(canonical_email(bad, false), Err(BAD_EMAIL), "{bad:?}");
        }
        // NFKC can turn an invalid string into a valid one and back.
        assert_eq!(canonical_email("a\u{FF20}b.co", false), Ok("a@b.co".into()));
        assert_eq!(canonical_email("\u{FF1C}a@b.co", false), Err(BAD_EMAIL)); // ＜ → <
                                                                              // Length counts after normalisation (punycode makes it longer).
        let long = format!(
            "{}@{}.de",
            "a".repeat(64),
            vec!["ü".repeat(40); 4].join(".")
        );
        assert!(long.chars().count() <= 254);
        assert_eq!(canonical_email(&long, false), Err(BAD_EMAIL));
    }

    #[test]
    fn username_key_is_nfkc_and_caseless() {
        let key = username_key("alice");
        for copy in ["Alice", "ALICE", "ａｌｉｃｅ", "ＡＬＩＣＥ", "aLiCe"] {
            assert_eq!(username_key(copy), key, "{copy:?}");
        }
        assert_eq!(username_key("straße"), username_key("STRASSE"));
        assert_eq!(username_key("ﬁ"), username_key("FI"));
        assert_eq!(username_key("jose\u{301}"), username_key("JOSÉ"));
        assert_eq!(username_key("Σίσυφος"), username_key("ΣΊΣΥΦΟΣ"));
        assert_ne!(username_key("alice"), username_key("аlice")); // Cyrillic а
        for s in ["Alice", "straße", "ǰ", "İstanbul", "ΣΊΣΥΦΟΣ", "ﬃ", "ᾼ"] {
            let k = username_key(s);
            assert_eq!(username_key(&k), k, "{s:?}");
        }
    }

    #[test]
    fn canonical_username_is_django_normalize_username_plus_checks() {
        assert_eq!(canonical_username(" ａｌｉｃｅ "), Ok("alice".into()));
        assert_eq!(canonical_username("Ａlice"), Ok("Alice".into())); // case kept
        assert_eq!(canonical_username("jose\u{301}"), Ok("josé".into()));
        assert_eq!(canonical_username("ﬁsh"), Ok("fish".into()));
        for ok in [
            "alice_01.b+c@d-e",
            "jürgen",
            "дмитрий",
            "山田太郎",
            "tシャツ",
            "Ωμέγα",
        ] {
            assert_eq!(canonical_username(ok).as_deref(), Ok(ok), "{ok:?}");
        }
        assert_eq!(canonical_username("pаypal"), Err(USERNAME_MIXED_SCRIPT));
        assert_eq!(
            canonical_username("admin\u{0391}"),
            Err(USERNAME_MIXED_SCRIPT)
        );
        assert_eq!(canonical_username("alice bob"), Err(BAD_USERNAME));
        assert_eq!(canonical_username("a\u{202e}b"), Err(BAD_USERNAME));
        assert_eq!(canonical_username("½"), Err(BAD_USERNAME)); // NFKC: 1⁄2
        assert!(canonical_username(&"a".repeat(150)).is_ok());
        // ﷺ is one character, eighteen after NFKC.
        let long = format!("{}\u{FDFA}", "a".repeat(140));
        assert_eq!(long.chars().count(), 141);
        assert!(canonical_username(&long).is_err());
    }

    #[test]
    fn single_script() {
        for ok in [
            "",
            "abc",
            "123",
            "a.b-c_d@e",
            "jürgen",
            "дмитрий",
            "tシャツ",
            "漢字かな",
            "한국어",
            "e\u{301}",
        ] {
            assert!(is_single_script(ok), "{ok:?}");
        }
        for mixed in ["pаypal", "аpple", "Ωmega", "abcσ", "dmitriй"] {
            assert!(!is_single_script(mixed), "{mixed:?}");
        }
    }

    #[test]
    fn emails_and_usernames() {
        for ok in ["a@b.co", "first.last+tag@example.com", "ü@exämple.de"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "a@@b.co", "a b@c.co", "a@b..co", "a@-b.co", "@b.co", "a@b.c0",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert!(is_valid_username("alice_01.b+c@d-e"));
        assert!(!is_valid_username("alice bob"));
        assert!(!is_valid_username("a\u{202e}b"));
    }
}
