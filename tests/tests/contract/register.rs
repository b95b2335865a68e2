//! `POST /api/auth/register/`.

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::{json, Value};

/// The fields of the contract's User object, sorted.
pub const USER_KEYS: [&str; 12] = [
    "date_joined",
    "email",
    "email_verified",
    "email_verified_at",
    "first_name",
    "id",
    "is_staff",
    "is_superuser",
    "last_login",
    "last_name",
    "user_type",
    "username",
];

/// Whether `s` is an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`).
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() < 20 || !digits(0..4) || b[4] != b'-' || !digits(5..7) || b[7] != b'-' {
        return false;
    }
    if !digits(8..10) || !matches!(b[10], b'T' | b't') || !digits(11..13) || b[13] != b':' {
        return false;
    }
    if !digits(14..16) || b[16] != b':' || !digits(17..19) {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Asserts `user` is a contract User object.
#[track_caller]
/// `user` is the User object of `u` as [`TestUser::register_body`]
/// registered it: a creator named Ada Lovelace.
pub fn assert_fresh_creator(user: &Value, u: &TestUser) {
    assert_user_shape(user);
    assert_eq!(user["email"], u.email.as_str());
    assert_eq!(user["username"], u.username.as_str());
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["last_name"], "Lovelace");
    assert_eq!(user["user_type"], "creator");
    assert_eq!(user["is_staff"], false);
    assert_eq!(user["is_superuser"], false);
}

/// `user` is a User object with these three writable fields.
pub fn assert_names(user: &Value, username: &str, first_name: &str, last_name: &str) {
    assert_user_shape(user);
    assert_eq!(user["username"], username);
    assert_eq!(user["first_name"], first_name);
    assert_eq!(user["last_name"], last_name);
}

pub fn assert_user_shape(user: &Value) {
    assert_eq!(keys(user), USER_KEYS, "User object keys: {user}");
    assert!(user["id"].is_i64(), "id is not an integer: {user}");
    for k in ["email", "username", "first_name", "last_name", "user_type"] {
        assert!(user[k].is_string(), "{k} is not a string: {user}");
    }
    assert!(
        ["creator", "staff", "admin"].contains(&user["user_type"].as_str().unwrap_or("")),
        "user_type: {user}"
    );
    assert!(user["is_staff"].is_boolean(), "is_staff: {user}");
    assert!(user["is_superuser"].is_boolean(), "is_superuser: {user}");
    assert!(
        user["date_joined"].as_str().is_some_and(is_rfc3339),
        "date_joined is not RFC 3339: {user}"
    );
    assert!(
        user["last_login"].is_null() || user["last_login"].as_str().is_some_and(is_rfc3339),
        "last_login is neither null nor RFC 3339: {user}"
    );
    assert!(
        user["email_verified"].is_boolean(),
        "email_verified: {user}"
    );
    assert_eq!(
        user["email_verified"].as_bool(),
        Some(!user["email_verified_at"].is_null()),
        "email_verified_at is set exactly when verified: {user}"
    );
    assert!(
        user["email_verified_at"].is_null()
            || user["email_verified_at"].as_str().is_some_and(is_rfc3339),
        "email_verified_at is neither null nor RFC 3339: {user}"
    );
}

fn body(email: &str, username: &str, password: &str) -> Value {
    json!({
        "email": email,
        "username": username,
        "password": password,
        "password2": password,
        "first_name": "Grace",
        "last_name": "Hopper",
    })
}

#[test]
fn rfc3339_checker_works() {
    assert!(is_rfc3339("2026-11-26T08:00:00Z"));
    assert!(is_rfc3339("2026-11-26T08:00:00.123456+00:00"));
    assert!(!is_rfc3339("2026-11-26 08:00:00"));
    assert!(!is_rfc3339("1700000000"));
}

#[tokio::test]
async fn register_returns_201_with_user_and_token_pair() {
    let (ctx, u) = Ctx::with_fresh_user();
    let r = ctx.api.register(&u.register_body()).await;
    r.expect(201);
    let v = r.json();
    assert_eq!(keys(&v), ["access", "refresh", "user"], "{v}");
    let user = &v["user"];
    assert_fresh_creator(user, &u);
    let t = Tokens::from_json(&v);
    assert_eq!(jwt::claims(&t.access)["token_type"], "access");
    assert_eq!(jwt::claims(&t.refresh)["token_type"], "refresh");
    assert_eq!(jwt::claims(&t.access)["user_id"], user["id"]);
    // The pair works.
    let p = ctx.api.profile(&t.access).await;
    p.expect(200);
    assert_eq!(p.json()["id"], user["id"]);
    ctx.api.refresh(&t.refresh).await.expect(200);
}

#[tokio::test]
async fn register_always_makes_a_creator_whatever_the_body_says() {
    let (ctx, u) = Ctx::with_fresh_user();
    let mut b = u.register_body();
    b["user_type"] = json!("admin");
    b["is_staff"] = json!(true);
    b["is_superuser"] = json!(true);
    b["is_active"] = json!(false);
    let r = ctx.api.register(&b).await;
    r.expect(201);
    let user = r.json()["user"].clone();
    assert_eq!(user["user_type"], "creator", "{user}");
    assert_eq!(user["is_staff"], false, "{user}");
    assert_eq!(user["is_superuser"], false, "{user}");
    // Also as stored: a fresh login (is_active was ignored too) carries creator claims.
    let t = ctx.api.login_ok(&u).await;
    let c = jwt::claims(&t.access);
    assert_eq!(c["user_type"], "creator", "{c}");
    assert_eq!(c["is_staff"], false, "{c}");
    assert_eq!(c["is_superuser"], false, "{c}");
    let p = ctx.api.profile(&t.access).await;
    p.expect(200);
    assert_eq!(p.json()["user_type"], "creator");
}

#[tokio::test]
async fn register_password_mismatch() {
    let (ctx, u) = Ctx::with_fresh_user();
    let mut b = u.register_body();
    b["password2"] = json!("Correct-Horse-7-Battery-not");
    ctx.api
        .register(&b)
        .await
        .expect_body(400, &json!({"password": ["Password fields didn't match."]}));
    // Nothing was written: the same email and username register fine.
    ctx.api.register(&u.register_body()).await.expect(201);
}

/// Registers with `password` and asserts a 400 with only `password`
/// messages, one of which contains `needle` (case-insensitive).
async fn assert_password_rejected(
    ctx: &Ctx,
    email: &str,
    username: &str,
    password: &str,
    needle: &str,
) -> Vec<String> {
    let r = ctx.api.register(&body(email, username, password)).await;
    r.expect(400);
    let v = r.json();
    assert_eq!(keys(&v), ["password"], "password {password:?}: {v}");
    let msgs = field_messages(&v, "password");
    assert!(
        msgs.iter().any(|m| m.to_lowercase().contains(needle)),
        "password {password:?}: no message mentions {needle:?}: {v}"
    );
    msgs
}

#[tokio::test]
async fn register_rejects_a_too_short_password() {
    let ctx = Ctx::new();
    let (e, n) = (unique_email(), unique("user"));
    assert_password_rejected(&ctx, &e, &n, "Xy7#qw", "short").await;
    ctx.api
        .register(&body(&e, &n, GOOD_PASSWORD))
        .await
        .expect(201);
}

#[tokio::test]
async fn register_rejects_an_entirely_numeric_password() {
    let ctx = Ctx::new();
    assert_password_rejected(
        &ctx,
        &unique_email(),
        &unique("user"),
        "80417395262",
        "numeric",
    )
    .await;
}

#[tokio::test]
async fn register_rejects_common_passwords() {
    let ctx = Ctx::new();
    for pw in ["qwerty123", "password1"] {
        assert_password_rejected(&ctx, &unique_email(), &unique("user"), pw, "common").await;
    }
}

#[tokio::test]
async fn register_rejects_a_password_similar_to_the_username() {
    let ctx = Ctx::new();
    let username = unique("marmaladevoyager");
    let password = format!("{username}!");
    assert_password_rejected(&ctx, &unique_email(), &username, &password, "similar").await;
}

#[tokio::test]
async fn register_rejects_a_password_similar_to_the_email() {
    let ctx = Ctx::new();
    let local = unique("ultravioletkoala");
    let email = format!("{local}@example.com");
    assert_password_rejected(&ctx, &email, &unique("u"), &local, "similar").await;
}

#[tokio::test]
async fn register_reports_every_password_message_at_once() {
    let ctx = Ctx::new();
    // Too short and entirely numeric (and probably common): all reported.
    let msgs =
        assert_password_rejected(&ctx, &unique_email(), &unique("user"), "1234567", "short").await;
    assert!(msgs.len() >= 2, "expected several messages: {msgs:?}");
    assert!(
        msgs.iter().any(|m| m.to_lowercase().contains("numeric")),
        "no numeric message among {msgs:?}"
    );
}

#[tokio::test]
async fn register_reports_several_field_errors_at_once() {
    let ctx = Ctx::new();
    let r = ctx
        .api
        .register(&json!({
            "email": "not-an-email",
            "username": "",
            "password": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
            "first_name": "A",
            "last_name": "B",
        }))
        .await;
    r.expect_field_has("email", "Enter a valid email address.")
        .expect_field_has("username", "This field may not be blank.");
}

#[tokio::test]
async fn register_requires_its_fields() {
    let ctx = Ctx::new();
    let r = ctx.api.register(&json!({})).await;
    for f in ["email", "username", "password", "password2"] {
        r.expect_field_has(f, "This field is required.");
    }
}

#[tokio::test]
async fn register_rejects_blank_fields() {
    let ctx = Ctx::new();
    let r = ctx
        .api
        .register(&json!({"email": "", "username": "", "password": "", "password2": "", "first_name": "A", "last_name": "B"}))
        .await;
    for f in ["email", "username", "password", "password2"] {
        r.expect_field_has(f, "This field may not be blank.");
    }
}

#[tokio::test]
async fn register_rejects_fields_of_the_wrong_type() {
    let (ctx, u) = Ctx::with_fresh_user();
    for (field, bad) in [
        ("email", json!(["a@example.com"])),
        ("username", json!({"name": "x"})),
        ("password", json!(true)),
        ("first_name", json!(["Ada"])),
    ] {
        let mut b = u.register_body();
        b[field] = bad.clone();
        ctx.api
            .register(&b)
            .await
            .expect_field_has(field, "Not a valid string.");
    }
    // None of them wrote anything.
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_rejects_an_invalid_email() {
    let ctx = Ctx::new();
    let mut b = TestUser::fresh().register_body();
    b["email"] = json!("no-at-sign.example.com");
    ctx.api
        .register(&b)
        .await
        .expect_fields(&[("email", Some("Enter a valid email address."))]);
}

#[tokio::test]
async fn register_rejects_a_taken_email_case_insensitively() {
    let (ctx, first, _) = Ctx::creator().await;
    let mut b = TestUser::fresh().register_body();
    b["email"] = json!(first.email.to_uppercase());
    ctx.api.register(&b).await.expect_body(
        400,
        &json!({"email": ["user with this email already exists."]}),
    );
}

#[tokio::test]
async fn register_rejects_a_taken_username() {
    let (ctx, first, _) = Ctx::creator().await;
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(first.username);
    ctx.api.register(&b).await.expect_body(
        400,
        &json!({"username": ["A user with that username already exists."]}),
    );
}

/// Two registrations at once that differ from each other only in `field`'s
/// two spellings of one value: in each of 3 rounds exactly one gets through
/// and the other is 400 with `error` on `field`.
async fn race(field: &str, spellings: impl Fn() -> (String, String), error: &str) {
    let ctx = Ctx::new();
    for round in 0..3 {
        let (first, second) = spellings();
        let (a, b) = (TestUser::fresh(), TestUser::fresh());
        let mut ba = a.register_body();
        let mut bb = b.register_body();
        ba[field] = json!(first);
        bb[field] = json!(second);
        let (ra, rb) = tokio::join!(ctx.api.register(&ba), ctx.api.register(&bb));
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [201, 400],
            "round {round}: {} / {}",
            ra.text(),
            rb.text()
        );
        let loser = if ra.status == 400 { &ra } else { &rb };
        loser.expect_body(400, &json!({ field: [error] }));
    }
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_let_exactly_one_through() {
    let spellings = || {
        let email = unique_email();
        (email.clone(), email.to_uppercase())
    };
    race("email", spellings, "user with this email already exists.").await;
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_let_exactly_one_through() {
    let spellings = || {
        let username = unique("race");
        (username.clone(), username)
    };
    race(
        "username",
        spellings,
        "A user with that username already exists.",
    )
    .await;
}

#[tokio::test]
async fn register_enforces_max_lengths() {
    let (ctx, u) = Ctx::with_fresh_user();
    let long_email = format!("{}@example.com", "e".repeat(250));
    for (field, value, limit) in [
        ("email", long_email, 254),
        ("username", "u".repeat(151), 150),
        ("first_name", "f".repeat(151), 150),
        ("last_name", "l".repeat(151), 150),
    ] {
        let mut b = u.register_body();
        b[field] = json!(value);
        ctx.api.register(&b).await.expect_field_has(
            field,
            &format!("Ensure this field has no more than {limit} characters."),
        );
    }
    let mut b = u.register_body();
    let long_pw = format!("Zq-{}", "x7".repeat(2100));
    b["password"] = json!(long_pw);
    b["password2"] = json!(long_pw);
    ctx.api.register(&b).await.expect_field_has(
        "password",
        "Ensure this field has no more than 4096 characters.",
    );
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_through_a_client_that_does_not_serve_creators_is_403() {
    let ctx = Ctx::new();
    let (_, admin_api) = ctx.client(&ClientSpec::admin().serves("staff,admin"));
    let u = TestUser::fresh();
    admin_api
        .register(&u.register_body())
        .await
        .expect_error(403, "user_type_not_allowed");
    // And nothing was written.
    ctx.api.register(&u.register_body()).await.expect(201);
}

// ------------------------------------------------- look-alike accounts

/// `s` with every printable ASCII character as its fullwidth form
/// (U+FF01..U+FF5E), which NFKC maps back.
pub fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// Registers `u` with `field` set to `value`: 400 with `error` on that field
/// alone.
async fn refused(ctx: &Ctx, u: &TestUser, field: &str, value: Value, error: &str) {
    let mut b = u.register_body();
    b[field] = value;
    ctx.api
        .register(&b)
        .await
        .expect_body(400, &json!({ field: [error] }));
}

const EMAIL_TAKEN: &str = "user with this email already exists.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const EMAIL_MIXED_SCRIPT: &str =
    "Enter a valid email address. It may not mix letters of different scripts.";
const EMAIL_LOCAL_NOT_ASCII: &str =
    "Enter a valid email address. The part before the @ may contain only ASCII characters.";
const USERNAME_MIXED_SCRIPT: &str =
    "Enter a valid username. It may not mix letters of different scripts.";

#[tokio::test]
async fn register_rejects_a_fullwidth_copy_of_a_taken_email() {
    let (ctx, first, _) = Ctx::creator().await;
    let (local, domain) = first.email.split_once('@').unwrap();
    let one_letter = format!("{}{}", fullwidth(&local[..1]), &first.email[1..]);
    for copy in [
        one_letter.clone(),
        fullwidth(&first.email),
        format!("{}@{}", local.to_uppercase(), fullwidth(domain)),
        first.email.replace(".com", "\u{3002}com"), // ideographic full stop
    ] {
        assert_ne!(copy, first.email);
        refused(&ctx, &TestUser::fresh(), "email", json!(copy), EMAIL_TAKEN).await;
    }
    // A login with the copy finds the same account, not another one.
    let r = ctx.api.login(&one_letter, &first.password).await;
    r.expect(200);
    let t = Tokens::from_json(&r.json());
    assert_eq!(jwt::claims(&t.access)["user_id"], json!(first.id));
    // And with a wrong password fails as for the original.
    ctx.api
        .login(&fullwidth(&first.email), "Wrong-Horse-9-Battery")
        .await
        .expect_error(401, "no_active_account");
}

#[tokio::test]
async fn register_stores_the_email_nfkc_with_an_ascii_domain() {
    let (ctx, u) = Ctx::with_fresh_user();
    let mut b = u.register_body();
    b["email"] = json!(fullwidth(&u.email.to_uppercase()));
    let r = ctx.api.register(&b).await;
    r.expect(201);
    let stored = r.json()["user"]["email"].clone();
    // NFKC; the local part keeps its case, the domain is lowercased.
    let (local, _) = u.email.split_once('@').unwrap();
    assert_eq!(
        stored,
        json!(format!("{}@example.com", local.to_uppercase()))
    );
    // Logging in with the plain spelling finds it.
    ctx.api.login(&u.email, &u.password).await.expect(200);
}

#[tokio::test]
async fn register_refuses_a_cyrillic_letter_in_the_domain() {
    let (ctx, u) = Ctx::with_fresh_user();
    let (local, _) = u.email.split_once('@').unwrap();
    for domain in [
        "ex\u{0430}mple.com", // Cyrillic а
        "exampl\u{0435}.com", // Cyrillic е
        "example.c\u{043e}m", // Cyrillic о in the TLD
        "xn--exmple-4nf.com", // ex<Cyrillic а>mple, typed as punycode
        "p\u{0430}yp\u{0430}l.com",
    ] {
        refused(
            &ctx,
            &u,
            "email",
            json!(format!("{local}@{domain}")),
            EMAIL_MIXED_SCRIPT,
        )
        .await;
    }
    // Nothing was written.
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_refuses_a_non_ascii_local_part() {
    let (ctx, u) = Ctx::with_fresh_user();
    let (local, domain) = u.email.split_once('@').unwrap();
    for copy in [
        format!("{}\u{0301}@{domain}", local), // combining acute accent
        format!("{}\u{00e9}@{domain}", local), // precomposed é
        local.replacen('a', "\u{0430}", 1) + "@" + domain, // Cyrillic а
    ] {
        refused(&ctx, &u, "email", json!(copy), EMAIL_LOCAL_NOT_ASCII).await;
    }
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_a_combining_accent_in_the_domain_is_the_precomposed_domain() {
    let ctx = Ctx::new();
    let tag = unique("");
    let first = TestUser {
        email: format!("x@caf\u{00e9}{tag}.example"),
        ..TestUser::fresh()
    };
    let r = ctx.api.register(&first.register_body()).await;
    r.expect(201);
    let stored = r.json()["user"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        stored.starts_with("x@xn--caf") && stored.ends_with(".example") && stored.is_ascii(),
        "the domain is stored as UTS-46 ASCII: {stored}"
    );
    for copy in [
        format!("x@cafe\u{0301}{tag}.example"), // e + combining acute
        format!("X@CAF\u{00c9}{tag}.EXAMPLE"),  // uppercase É
        stored.clone(),                         // the punycode itself
    ] {
        refused(&ctx, &TestUser::fresh(), "email", json!(copy), EMAIL_TAKEN).await;
    }
    // Every spelling logs in to the one account.
    ctx.api
        .login(&format!("x@cafe\u{0301}{tag}.example"), &first.password)
        .await
        .expect(200);
    ctx.api.login(&stored, &first.password).await.expect(200);
}

#[tokio::test]
async fn register_rejects_a_case_or_fullwidth_variant_of_a_taken_username() {
    let (ctx, first, _) = Ctx::creator().await;
    for copy in [
        first.username.to_uppercase(),
        fullwidth(&first.username),
        fullwidth(&first.username.to_uppercase()),
        format!(
            "{}{}",
            first.username[..1].to_uppercase(),
            &first.username[1..]
        ),
    ] {
        assert_ne!(copy, first.username);
        refused(
            &ctx,
            &TestUser::fresh(),
            "username",
            json!(copy),
            USERNAME_TAKEN,
        )
        .await;
    }
}

#[tokio::test]
async fn register_stores_the_username_nfkc_and_keeps_its_case() {
    let ctx = Ctx::new();
    let name = unique("Nfkc");
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(fullwidth(&name));
    let r = ctx.api.register(&b).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["username"], json!(name));
    // A decomposed accent is stored composed, and collides with the composed form.
    let accented = format!("jos\u{00e9}{}", unique(""));
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(accented.replacen('\u{00e9}', "e\u{0301}", 1));
    let r = ctx.api.register(&b).await;
    r.expect(201);
    assert_eq!(r.json()["user"]["username"], json!(accented));
    refused(
        &ctx,
        &TestUser::fresh(),
        "username",
        json!(accented.to_uppercase()),
        USERNAME_TAKEN,
    )
    .await;
}

#[tokio::test]
async fn register_refuses_a_username_that_mixes_scripts() {
    let (ctx, u) = Ctx::with_fresh_user();
    refused(
        &ctx,
        &u,
        "username",
        json!(u.username.replacen('u', "\u{0443}", 1)),
        USERNAME_MIXED_SCRIPT,
    )
    .await; // Cyrillic у
            // One script other than Latin is fine.
    let mut b = TestUser::fresh().register_body();
    b["username"] = json!(format!(
        "дмитрий{}",
        unique("").replace(char::is_alphabetic, "")
    ));
    ctx.api.register(&b).await.expect(201);
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_refuses_a_whitespace_only_password() {
    let (ctx, u) = Ctx::with_fresh_user();
    for blank in [
        " ".repeat(12),
        "\t \t \t \t \t \t ".into(),
        "\u{00a0}\u{2003}\u{3000}\u{2009}\u{00a0}\u{2003}\u{3000}\u{2009}".into(),
    ] {
        let r = ctx.api.register(&body(&u.email, &u.username, &blank)).await;
        r.expect_body(400, &json!({"password": ["This field may not be blank."]}));
    }
    // Nothing was written.
    ctx.api.register(&u.register_body()).await.expect(201);
}

#[tokio::test]
async fn register_keeps_white_space_around_a_password() {
    let ctx = Ctx::new();
    let u = TestUser {
        password: format!("  {GOOD_PASSWORD}  "),
        ..TestUser::fresh()
    };
    ctx.api.register(&u.register_body()).await.expect(201);
    ctx.api.login(&u.email, &u.password).await.expect(200);
    // Not trimmed: the password without its spaces is another password.
    ctx.api
        .login(&u.email, GOOD_PASSWORD)
        .await
        .expect_error(401, "no_active_account");
}
