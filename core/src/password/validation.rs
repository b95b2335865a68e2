// Common-password list: Django's common-passwords list (BSD licence), see core/data/README.
//! Django-style password validation: the four validators of Django's default
//! `AUTH_PASSWORD_VALIDATORS`, with Django's messages, in Django's order.
//!
//! Pure, no I/O, std only (builds for `wasm32-unknown-unknown`). Python's
//! string semantics are reproduced where they matter: lengths count code
//! points, `str.lower()` is [`str::to_lowercase`], `str.strip()` also strips
//! U+001C..U+001F, `str.isdigit()` uses Python's table (Unicode 14), and
//! `re.split(r"\W+")` treats [`char::is_alphanumeric`] and `_` as word
//! characters.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The user attributes a password must not be too similar to.
pub struct UserAttributes<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// `MinimumLengthValidator`'s default `min_length`.
const MIN_LENGTH: usize = 8;
/// `UserAttributeSimilarityValidator`'s default `max_similarity`.
const MAX_SIMILARITY: f64 = 0.7;

/// Django's common-password list: lowercased and stripped, one per line.
const COMMON_PASSWORDS_TXT: &str = include_str!("../../data/common-passwords.txt");

/// The answer for a password of white space only.
/// A password and its confirmation that differ (DRF serializers' message).
pub const MISMATCH: &str = "Password fields didn't match.";

pub const BLANK: &str = "This field may not be blank.";

/// Every validator's message for `password`, Django's wording; empty when it passes.
///
/// A non-empty password of white space only (Python's `str.isspace()`) is
/// refused with [`BLANK`] alone, which is what DRF answers for it (its
/// `CharField` trims, then finds the field blank). Passwords are not
/// trimmed otherwise: white space inside or around a password is part of it.
///
/// Validators run in the order of Django's default `AUTH_PASSWORD_VALIDATORS`
/// (attribute similarity, minimum length, common, numeric) and each adds at
/// most one message.
pub fn validate_password(password: &str, user: &UserAttributes<'_>) -> Vec<String> {
    if !password.is_empty() && password.chars().all(is_python_space) {
        return vec![BLANK.to_owned()];
    }
    let mut errors = Vec::new();
    if let Some(verbose_name) = too_similar_attribute(password, user) {
        errors.push(format!(
            "The password is too similar to the {verbose_name}."
        ));
    }
    if password.chars().count() < MIN_LENGTH {
        errors.push(format!(
            "This password is too short. It must contain at least {MIN_LENGTH} characters."
        ));
    }
    if is_common(password) {
        errors.push("This password is too common.".to_owned());
    }
    if is_entirely_numeric(password) {
        errors.push("This password is entirely numeric.".to_owned());
    }
    errors
}

/// `UserAttributeSimilarityValidator`: the verbose name of the first attribute
/// (Django's default order: username, first name, last name, email) that the
/// password is too similar to.
///
/// Like Django, a part is too similar when
/// `SequenceMatcher(a=password, b=part).quick_ratio() >= max_similarity`
/// (Django never calls `ratio()`); parts that the password is at least ten
/// times longer than are skipped (Django ≥ 4.2).
fn too_similar_attribute(password: &str, user: &UserAttributes<'_>) -> Option<&'static str> {
    let attributes = [
        (user.username, "username"),
        (user.first_name, "first name"),
        (user.last_name, "last name"),
        (user.email, "email address"),
    ];
    let password: Vec<char> = password.to_lowercase().chars().collect();
    for (value, verbose_name) in attributes {
        if value.is_empty() {
            continue;
        }
        let value_lower = value.to_lowercase();
        let mut parts = split_non_word(&value_lower);
        parts.push(&value_lower);
        for part in parts {
            let part: Vec<char> = part.chars().collect();
            if exceeds_maximum_length_ratio(password.len(), part.len()) {
                continue;
            }
            if quick_ratio(&password, &part) >= MAX_SIMILARITY {
                return Some(verbose_name);
            }
        }
    }
    None
}

/// Django's `exceeds_maximum_length_ratio`: the password is so much longer
/// than `value` that no similarity check is needed.
fn exceeds_maximum_length_ratio(password_len: usize, value_len: usize) -> bool {
    let length_bound_similarity = MAX_SIMILARITY / 2.0 * password_len as f64;
    password_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// Python's `re.split(r"\W+", s)`, including the empty strings at either end
/// when `s` starts or ends with non-word characters.
fn split_non_word(s: &str) -> Vec<&str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_word(c) {
            continue;
        }
        parts.push(&s[start..i]);
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if is_word(d) {
                break;
            }
            end = j + d.len_utf8();
            chars.next();
        }
        start = end;
    }
    parts.push(&s[start..]);
    parts
}

/// difflib's `SequenceMatcher(a=a, b=b).quick_ratio()`: twice the size of the
/// multiset intersection over the total length (1.0 when both are empty).
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for &c in b {
        *available.entry(c).or_insert(0) += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(n) = available.get_mut(c) {
            if *n > 0 {
                *n -= 1;
                matches += 1;
            }
        }
    }
    calculate_ratio(matches, a.len() + b.len())
}

/// difflib's `_calculate_ratio`.
fn calculate_ratio(matches: usize, length: usize) -> f64 {
    if length == 0 {
        1.0
    } else {
        2.0 * matches as f64 / length as f64
    }
}

/// `CommonPasswordValidator`: `password.lower().strip()` is in Django's list.
fn is_common(password: &str) -> bool {
    static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let common = COMMON.get_or_init(|| COMMON_PASSWORDS_TXT.lines().map(str::trim).collect());
    let lower = password.to_lowercase();
    common.contains(lower.trim_matches(is_python_space))
}

/// Python's `str.isspace()`: Unicode White_Space plus the information
/// separators U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// `NumericPasswordValidator`: Python's `password.isdigit()` (false when empty).
fn is_entirely_numeric(password: &str) -> bool {
    !password.is_empty() && password.chars().all(is_python_digit)
}

/// Python's `str.isdigit()` for one character (Numeric_Type Decimal or Digit).
fn is_python_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    PYTHON_DIGITS
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The characters for which Python 3.11's `str.isdigit()` is true (Unicode
/// 14.0), as sorted inclusive ranges.
#[rustfmt::skip]
const PYTHON_DIGITS: &[(char, char)] = &[
    ('\u{0030}', '\u{0039}'), ('\u{00B2}', '\u{00B3}'), ('\u{00B9}', '\u{00B9}'),
    ('\u{0660}', '\u{0669}'), ('\u{06F0}', '\u{06F9}'), ('\u{07C0}', '\u{07C9}'),
    ('\u{0966}', '\u{096F}'), ('\u{09E6}', '\u{09EF}'), ('\u{0A66}', '\u{0A6F}'),
    ('\u{0AE6}', '\u{0AEF}'), ('\u{0B66}', '\u{0B6F}'), ('\u{0BE6}', '\u{0BEF}'),
    ('\u{0C66}', '\u{0C6F}'), ('\u{0CE6}', '\u{0CEF}'), ('\u{0D66}', '\u{0D6F}'),
    ('\u{0DE6}', '\u{0DEF}'), ('\u{0E50}', '\u{0E59}'), ('\u{0ED0}', '\u{0ED9}'),
    ('\u{0F20}', '\u{0F29}'), ('\u{1040}', '\u{1049}'), ('\u{1090}', '\u{1099}'),
    ('\u{1369}', '\u{1371}'), ('\u{17E0}', '\u{17E9}'), ('\u{1810}', '\u{1819}'),
    ('\u{1946}', '\u{194F}'), ('\u{19D0}', '\u{19DA}'), ('\u{1A80}', '\u{1A89}'),
    ('\u{1A90}', '\u{1A99}'), ('\u{1B50}', '\u{1B59}'), ('\u{1BB0}', '\u{1BB9}'),
    ('\u{1C40}', '\u{1C49}'), ('\u{1C50}', '\u{1C59}'), ('\u{2070}', '\u{2070}'),
    ('\u{2074}', '\u{2079}'), ('\u{2080}', '\u{2089}'), ('\u{2460}', '\u{2468}'),
    ('\u{2474}', '\u{247C}'), ('\u{2488}', '\u{2490}'), ('\u{24EA}', '\u{24EA}'),
    ('\u{24F5}', '\u{24FD}'), ('\u{24FF}', '\u{24FF}'), ('\u{2776}', '\u{277E}'),
    ('\u{2780}', '\u{2788}'), ('\u{278A}', '\u{2792}'), ('\u{A620}', '\u{A629}'),
    ('\u{A8D0}', '\u{A8D9}'), ('\u{A900}', '\u{A909}'), ('\u{A9D0}', '\u{A9D9}'),
    ('\u{A9F0}', '\u{A9F9}'), ('\u{AA50}', '\u{AA59}'), ('\u{ABF0}', '\u{ABF9}'),
    ('\u{FF10}', '\u{FF19}'), ('\u{104A0}', '\u{104A9}'), ('\u{10A40}', '\u{10A43}'),
    ('\u{10D30}', '\u{10D39}'), ('\u{10E60}', '\u{10E68}'), ('\u{11052}', '\u{1105A}'),
    ('\u{11066}', '\u{1106F}'), ('\u{110F0}', '\u{110F9}'), ('\u{11136}', '\u{1113F}'),
    ('\u{111D0}', '\u{111D9}'), ('\u{112F0}', '\u{112F9}'), ('\u{11450}', '\u{11459}'),
    ('\u{114D0}', '\u{114D9}'), ('\u{11650}', '\u{11659}'), ('\u{116C0}', '\u{116C9}'),
    ('\u{11730}', '\u{11739}'), ('\u{118E0}', '\u{118E9}'), ('\u{11950}', '\u{11959}'),
    ('\u{11C50}', '\u{11C59}'), ('\u{11D50}', '\u{11D59}'), ('\u{11DA0}', '\u{11DA9}'),
    ('\u{16A60}', '\u{16A69}'), ('\u{16AC0}', '\u{16AC9}'), ('\u{16B50}', '\u{16B59}'),
    ('\u{1D7CE}', '\u{1D7FF}'), ('\u{1E140}', '\u{1E149}'), ('\u{1E2F0}', '\u{1E2F9}'),
    ('\u{1E950}', '\u{1E959}'), ('\u{1F100}', '\u{1F10A}'), ('\u{1FBF0}', '\u{1FBF9}'),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    const TOO_SHORT: &str = "This password is too short. It must contain at least 8 characters.";
    const TOO_COMMON: &str = "This password is too common.";
    const NUMERIC: &str = "This password is entirely numeric.";

    fn no_user() -> UserAttributes<'static> {
        UserAttributes {
            username: "",
            email: "",
            first_name: "",
            last_name: "",
        }
    }

    /// A user with only a username.
    fn named(username: &'static str) -> UserAttributes<'static> {
        UserAttributes {
            username,
            ..no_user()
        }
    }

    fn john() -> UserAttributes<'static> {
        UserAttributes {
            username: "johnsmith",
            email: "john.smith@example.com",
            first_name: "John",
            last_name: "Smith",
        }
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// difflib's `SequenceMatcher(a, b, autojunk=False).ratio()` (no junk):
    /// the real longest-matching-block recursion. Django's validator never
    /// calls it; the tests use it to show why `quick_ratio` alone decides.
    fn ratio(a: &[char], b: &[char]) -> f64 {
        let mut b2j: std::collections::HashMap<char, Vec<usize>> = Default::default();
        for (j, &c) in b.iter().enumerate() {
            b2j.entry(c).or_default().push(j);
        }
        let find_longest_match = |alo: usize, ahi: usize, blo: usize, bhi: usize| {
            let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0);
            let mut j2len: std::collections::HashMap<usize, usize> = Default::default();
            for (i, c) in a.iter().enumerate().take(ahi).skip(alo) {
                let mut new_j2len = std::collections::HashMap::new();
                for &j in b2j.get(c).map(Vec::as_slice).unwrap_or(&[]) {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let k = j.checked_sub(1).and_then(|p| j2len.get(&p)).unwrap_or(&0) + 1;
                    new_j2len.insert(j, k);
                    if k > bestsize {
                        (besti, bestj, bestsize) = (i + 1 - k, j + 1 - k, k);
                    }
                }
                j2len = new_j2len;
            }
            (besti, bestj, bestsize)
        };
        let mut matches = 0;
        let mut queue = vec![(0, a.len(), 0, b.len())];
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = find_longest_match(alo, ahi, blo, bhi);
            if k > 0 {
                matches += k;
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        calculate_ratio(matches, a.len() + b.len())
    }

    #[test]
    fn white_space_only_is_blank() {
        for p in [
            " ",
            "            ",
            "\t\n\r\u{b}\u{c}        ",
            "\u{a0}\u{2003}\u{3000}\u{2028}\u{85}\u{1c}\u{1f}\u{2009}\u{202f}",
        ] {
            assert_eq!(validate_password(p, &john()), vec![BLANK], "{p:?}");
        }
        // Not trimmed: white space around or inside a good password is kept
        // and counts towards its length.
        assert!(validate_password("  Xk9#mQ2!vLp7  ", &no_user()).is_empty());
        assert!(validate_password(" correct horse battery staple ", &john()).is_empty());
        assert_eq!(
            validate_password("   Xk9   ", &no_user()),
            Vec::<String>::new()
        );
        // A zero-width space is not white space (Python agrees).
        assert!(!validate_password("\u{200b}", &no_user()).contains(&BLANK.to_owned()));
    }

    #[test]
    fn minimum_length() {
        assert_eq!(validate_password("Xk9#mQ2", &no_user()), vec![TOO_SHORT]);
        assert!(validate_password("Xk9#mQ2!", &no_user()).is_empty());
        // Python's len() counts code points, not bytes.
        assert_eq!(validate_password("ĳŧŋđøþ¥", &no_user()), vec![TOO_SHORT]);
        assert!(validate_password("ĳŧŋđøþ¥æ", &no_user()).is_empty());
    }

    #[test]
    fn common_passwords() {
        assert_eq!(validate_password("password", &no_user()), vec![TOO_COMMON]);
        // Lowercased, then stripped (Python's whitespace includes U+001C).
        assert_eq!(
            validate_password("\u{1c} PassWord\t", &no_user()),
            vec![TOO_COMMON]
        );
        assert_eq!(
            validate_password("qwertyuiop", &no_user()),
            vec![TOO_COMMON]
        );
        assert!(validate_password("Xk9#mQ2!vLp7", &no_user()).is_empty());
        assert!(is_common("йцукен"));
    }

    #[test]
    fn numeric_passwords() {
        assert_eq!(
            validate_password("12345678", &no_user()),
            vec![TOO_COMMON, NUMERIC]
        );
        assert_eq!(validate_password("8305619274", &no_user()), vec![NUMERIC]);
        // str.isdigit(): other scripts' digits and superscripts count, fractions don't.
        assert_eq!(validate_password("١٢٣٤٥٦٧٨٩", &no_user()), vec![NUMERIC]);
        assert_eq!(validate_password("²²²²²²²²", &no_user()), vec![NUMERIC]);
        assert!(validate_password("½½½½½½½½½", &no_user()).is_empty());
        assert!(validate_password("8305619274x", &no_user()).is_empty());
        assert!(!is_entirely_numeric(""));
    }

    #[test]
    fn several_messages_at_once() {
        assert_eq!(
            validate_password("8305", &no_user()),
            vec![TOO_SHORT, NUMERIC]
        );
        assert_eq!(
            validate_password("123", &no_user()),
            vec![TOO_SHORT, TOO_COMMON, NUMERIC]
        );
        let user = named("qwerty");
        assert_eq!(
            validate_password("qwerty", &user),
            vec![
                "The password is too similar to the username.",
                TOO_SHORT,
                TOO_COMMON
            ]
        );
    }

    /// `password` is refused, with one message: too similar to `what`.
    fn too_similar(password: &str, user: &UserAttributes, what: &str) {
        let expected = format!("The password is too similar to the {what}.");
        assert_eq!(validate_password(password, user), [expected], "{password}");
    }

    #[test]
    fn similarity_to_each_attribute() {
        let user = john();
        too_similar("johnsmith1", &user, "username");
        assert!(validate_password("Xk9#mQ2!vLp7", &user).is_empty());
        assert!(validate_password("correct horse battery staple", &user).is_empty());
        // Parts of the email address (split on non-word characters) count.
        too_similar("example.com!", &user, "email address");
        let user = UserAttributes {
            first_name: "Mary-Jane",
            ..no_user()
        };
        too_similar("Mary-Jane99", &user, "first name");
        assert!(validate_password("maryxxxxxxxxx", &user).is_empty());
        let user = UserAttributes {
            last_name: "Featherstonehaugh",
            ..no_user()
        };
        too_similar("FEATHERSTONE-haugh", &user, "last name");
        // One message, for the first attribute in Django's order.
        let user = UserAttributes {
            username: "featherstone",
            email: "featherstone@example.com",
            first_name: "featherstone",
            last_name: "featherstone",
        };
        too_similar("featherstone", &user, "username");
        // Just under the threshold: quick_ratio("password", "pass") = 8/12.
        let user = UserAttributes {
            first_name: "Pass",
            ..no_user()
        };
        assert_eq!(validate_password("Password", &user), vec![TOO_COMMON]);
    }

    #[test]
    fn similarity_is_quick_ratio_like_django() {
        // Django rejects an anagram of the username: quick_ratio is 1.0
        // even though ratio() is only 1/3.
        let user = named("johnsmith");
        assert_eq!(
            validate_password("htimsnhoj", &user),
            vec!["The password is too similar to the username."]
        );
        // Values from Python's difflib.
        let cases: [(&str, &str, f64, f64); 8] = [
            (
                "johnsmith1",
                "johnsmith",
                0.9473684210526315,
                0.9473684210526315,
            ),
            ("htimsnhoj", "johnsmith", 1.0, 0.3333333333333333),
            ("abcd", "bcda", 1.0, 0.75),
            ("private", "privatize", 0.875, 0.875),
            ("qabxcd", "abycdf", 0.6666666666666666, 0.6666666666666666),
            ("tide", "diet", 1.0, 0.25),
            ("", "", 1.0, 1.0),
            ("a", "b", 0.0, 0.0),
        ];
        for (a, b, quick, full) in cases {
            let (a, b) = (chars(a), chars(b));
            assert_eq!(quick_ratio(&a, &b), quick, "quick_ratio({a:?}, {b:?})");
            assert_eq!(ratio(&a, &b), full, "ratio({a:?}, {b:?})");
        }
    }

    #[test]
    fn long_password_skips_short_values() {
        // Django >= 4.2: a password ten times longer than the value is not compared.
        let user = named("a");
        assert!(validate_password("zzzzzzzzza", &user).is_empty());
        assert!(exceeds_maximum_length_ratio(10, 1));
        assert!(!exceeds_maximum_length_ratio(9, 1));
        assert!(!exceeds_maximum_length_ratio(20, 7));
    }

    #[test]
    fn empty_password_matches_empty_value_part() {
        // Django quirk: re.split(r"\W+", ".") == ["", ""], and an empty
        // password is "identical" to an empty part (ratio 1.0).
        let user = named(".");
        assert_eq!(
            validate_password("", &user),
            vec!["The password is too similar to the username.", TOO_SHORT]
        );
        assert_eq!(validate_password("", &no_user()), vec![TOO_SHORT]);
    }

    #[test]
    fn splits_like_python_re() {
        assert_eq!(
            split_non_word("john.smith@example.com"),
            ["john", "smith", "example", "com"]
        );
        assert_eq!(split_non_word(".a..b-"), ["", "a", "b", ""]);
        assert_eq!(split_non_word("o'brien_jr"), ["o", "brien_jr"]);
        assert_eq!(split_non_word("élodie"), ["élodie"]);
        assert_eq!(split_non_word(""), [""]);
        assert_eq!(split_non_word("..."), ["", ""]);
    }

    #[test]
    fn list_is_complete_and_normalised() {
        let entries: Vec<&str> = COMMON_PASSWORDS_TXT.lines().collect();
        assert!(entries.len() >= 10_000, "{} entries", entries.len());
        for entry in &entries {
            assert!(!entry.is_empty());
            assert_eq!(*entry, entry.trim());
            assert_eq!(*entry, entry.to_lowercase());
        }
        assert!(is_common("123456") && is_common("qwerty") && is_common("dragon"));
    }

    #[test]
    fn long_password_is_fast() {
        let password: String = "Zq7!xW2#".repeat(512);
        assert_eq!(password.len(), 4096);
        // Long attribute values so that the length shortcut does not apply.
        let long_value = "johnsmith".repeat(50);
        let user = UserAttributes {
            username: &long_value,
            email: &long_value,
            first_name: &long_value,
            last_name: &long_value,
        };
        let start = Instant::now();
        for _ in 0..10 {
            assert!(validate_password(&password, &user).is_empty());
            assert!(validate_password(&password, &john()).is_empty());
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
}
