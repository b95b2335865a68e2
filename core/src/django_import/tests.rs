use super::*;
use serde_json::json;

const PBKDF2: &str =
    "pbkdf2_sha256$1000$mJJtlZ88QY7YjgeOXkAudS$Rd6Tv2va692N7bdv2HalwO5c/kAHEJX0Acw+CjMH32U=";
const KEY_HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn user(pk: i64, email: &str, username: &str) -> Json {
    json!({"model": USER_MODEL, "pk": pk, "fields": {
        "password": PBKDF2, "last_login": null, "is_superuser": false,
        "username": username, "first_name": "A", "last_name": "B", "email": email,
        "is_staff": false, "is_active": true, "date_joined": "2026-11-01T10:00:00.123Z",
        "user_type": "creator", "is_email_verified": false, "email_verified_at": null,
        "updated_at": "2026-11-01T10:00:00Z", "groups": [], "user_permissions": []}})
}

fn client(pk: i64, id: &str) -> Json {
    json!({"model": CLIENT_MODEL, "pk": pk, "fields": {
        "name": "Web", "client_type": "web", "client_id": id, "key_prefix": "sk_abcdefg",
        "key_hash": KEY_HASH, "rate_limit": 1000, "is_active": true, "description": "",
        "created_at": "2026-10-01T00:00:00+00:00", "updated_at": "2026-10-01T00:00:00Z"}})
}

fn token(pk: i64, user: i64, jti: &str) -> Json {
    json!({"model": OUTSTANDING_MODEL, "pk": pk, "fields": {
        "user": user, "jti": jti, "token": "eyJ...", "created_at": "2026-12-01T00:00:00Z",
        "expires_at": "2026-12-08T00:00:00Z"}})
}

fn black(pk: i64, token: i64) -> Json {
    json!({"model": BLACKLISTED_MODEL, "pk": pk, "fields": {
        "token": token, "blacklisted_at": "2026-12-02T00:00:00Z"}})
}

fn dump(v: Vec<Json>) -> Vec<u8> {
    serde_json::to_vec(&Json::Array(v)).unwrap()
}

fn good() -> Vec<u8> {
    dump(vec![
        user(1, "Ann@Example.COM", "ann"),
        user(2, "bob@example.com", "bob"),
        client(1, "6f1c2a3e-0b4d-4c5e-9f60-7a8b9c0d1e2f"),
        token(10, 1, "jti-a"),
        token(11, 2, "jti-b"),
        black(1, 11),
        json!({"model": "sessions.session", "pk": "abc", "fields": {}}),
    ])
}

fn parse_err(v: Vec<Json>) -> ImportError {
    parse(&dump(v)).unwrap_err()
}

#[test]
fn a_dump_becomes_users_clients_and_tokens() {
    let d = parse(&good()).unwrap();
    assert_eq!(d.users.len(), 2);
    let ann = &d.users[0];
    assert_eq!((ann.id, ann.email_key.as_str()), (1, "ann@example.com"));
    assert_eq!(ann.date_joined, UnixMillis(1_793_527_200_123));
    assert_eq!(ann.password_hash, PBKDF2);
    assert_eq!(d.clients[0].id, "6f1c2a3e-0b4d-4c5e-9f60-7a8b9c0d1e2f");
    assert_eq!(d.clients[0].key_hash, KEY_HASH);
    assert_eq!(d.tokens[0].blacklisted_at, None);
    assert!(d.tokens[1].blacklisted_at.is_some());
    assert_eq!(d.ignored["sessions.session"], 1);
}

#[test]
fn malformed_records_are_refused_by_name() {
    let mut bad_email = user(3, "x@example.com", "x");
    bad_email["fields"]["email"] = json!(5);
    let e = parse_err(vec![user(1, "a@example.com", "a"), bad_email]);
    assert_eq!(e.record, "customauth.user pk=3");
    assert!(e.why.contains("email"), "{e}");

    let mut bad_type = user(4, "y@example.com", "y");
    bad_type["fields"]["user_type"] = json!("wizard");
    assert_eq!(parse_err(vec![bad_type]).record, "customauth.user pk=4");

    let mut staff_creator = user(5, "z@example.com", "z");
    staff_creator["fields"]["is_staff"] = json!(true);
    assert!(parse_err(vec![staff_creator]).why.contains("creator"));

    let mut bad_date = user(6, "w@example.com", "w");
    bad_date["fields"]["date_joined"] = json!("yesterday");
    assert!(parse_err(vec![bad_date]).why.contains("date_joined"));

    let mut bad_hash = client(7, "6f1c2a3e-0b4d-4c5e-9f60-7a8b9c0d1e2f");
    bad_hash["fields"]["key_hash"] = json!("sk_plaintext");
    assert_eq!(
        parse_err(vec![bad_hash]).record,
        "apiclients.apiclient pk=7"
    );

    assert_eq!(parse_err(vec![json!([1])]).record, "entry #0");
    assert!(parse(b"{\"not\": \"a list\"}")
        .unwrap_err()
        .why
        .contains("JSON list"));
    assert_eq!(
        parse_err(vec![json!({"model": USER_MODEL, "pk": "x", "fields": {}})]).record,
        "customauth.user pk=\"x\""
    );
}

#[test]
fn dangling_references_are_refused_by_name() {
    let e = parse_err(vec![user(1, "a@example.com", "a"), token(10, 99, "j")]);
    assert_eq!(e.record, "token_blacklist.outstandingtoken pk=10");
    assert!(e.why.contains("customauth.user pk=99"), "{e}");

    let e = parse_err(vec![user(1, "a@example.com", "a"), black(3, 42)]);
    assert_eq!(e.record, "token_blacklist.blacklistedtoken pk=3");
    assert!(e.why.contains("outstandingtoken pk=42"), "{e}");
}

#[test]
fn records_that_normalise_alike_are_refused_naming_both() {
    let e = parse_err(vec![
        user(1, "ann@example.com", "ann"),
        user(2, "ANN@example.com", "ann2"),
    ]);
    assert_eq!(e.record, "customauth.user pk=2");
    assert!(e.why.contains("pk=1"), "{e}");
    let e = parse_err(vec![
        user(1, "a@example.com", "Ann"),
        user(2, "b@example.com", "aNN"),
    ]);
    assert!(e.why.contains("username") && e.why.contains("pk=1"), "{e}");
    let e = parse_err(vec![
        user(1, "a@example.com", "a"),
        user(1, "b@example.com", "b"),
    ]);
    assert!(e.why.contains("twice"), "{e}");
}

/// What the database holds after `d` was imported, with jti-b blacklisted
/// there or not.
fn imported(d: &Dump, b_blacklisted: bool) -> Existing {
    let mut e = Existing::default();
    for u in &d.users {
        e.users
            .insert(u.id, (u.email_key.clone(), u.username_key.clone()));
    }
    e.clients.insert(d.clients[0].id.clone(), KEY_HASH.into());
    e.tokens.insert("jti-a".into(), false);
    e.tokens.insert("jti-b".into(), b_blacklisted);
    e
}

#[test]
fn a_fresh_database_gets_everything_and_a_present_one_nothing() {
    let d = parse(&good()).unwrap();
    let p = plan(&d, &Existing::default(), &Options::default()).unwrap();
    assert_eq!(
        (p.new_users.len(), p.new_clients.len(), p.new_tokens.len()),
        (2, 1, 2)
    );
    assert_eq!(p.statements().len(), 5);
    assert_eq!(p.new_clients[0].serves.len(), 3);
    assert!(!p.changes_nothing());

    let e = imported(&d, true);
    let again = plan(&d, &e, &Options::default()).unwrap();
    assert!(again.changes_nothing());
    assert!(again.statements().is_empty());
    assert_eq!(again.report(false)["changes_nothing"], true);
}

#[test]
fn imported_clients_take_only_origins_any_client_may_have() {
    let d = parse(&good()).unwrap();
    let with = |o: &str| Options {
        allowed_origins: vec![o.into()],
        ..Options::default()
    };
    let p = plan(&d, &Existing::default(), &with("https://app.example.com")).unwrap();
    assert_eq!(
        p.new_clients[0].allowed_origins,
        vec!["https://app.example.com"]
    );
    let err = plan(&d, &Existing::default(), &with("http://app.example.com")).unwrap_err();
    assert_eq!(err.record, "--allowed-origins");
}

#[test]
fn a_token_blacklisted_since_the_last_run_is_updated() {
    let d = parse(&good()).unwrap();
    let e = imported(&d, false);
    let p = plan(&d, &e, &Options::default()).unwrap();
    assert_eq!(p.newly_blacklisted.len(), 1);
    assert_eq!(p.newly_blacklisted[0].0, "jti-b");
}

#[test]
fn a_record_colliding_with_another_gatehouse_user_is_refused() {
    let d = parse(&good()).unwrap();
    let mut e = Existing::default();
    e.users
        .insert(1, ("someone@else.com".into(), "someone".into()));
    let err = plan(&d, &e, &Options::default()).unwrap_err();
    assert_eq!(err.record, "customauth.user pk=1");

    let mut e = Existing::default();
    e.email_keys.insert("bob@example.com".into(), 77);
    let err = plan(&d, &e, &Options::default()).unwrap_err();
    assert_eq!(err.record, "customauth.user pk=2");
    assert!(err.why.contains("77"), "{err}");
}

#[test]
fn users_whose_hash_cannot_be_verified_are_listed_for_a_reset() {
    let mut unusable = user(3, "c@example.com", "c");
    unusable["fields"]["password"] = json!("!abcdef");
    let mut md5 = user(4, "d@example.com", "d");
    md5["fields"]["password"] = json!("md5$salt$abc");
    let mut absurd = user(5, "e@example.com", "e");
    absurd["fields"]["password"] = json!(format!(
        "pbkdf2_sha256$999999999$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    ));
    let d = parse(&dump(vec![
        user(1, "a@example.com", "a"),
        unusable,
        md5,
        absurd,
    ]))
    .unwrap();
    let p = plan(&d, &Existing::default(), &Options::default()).unwrap();
    let ids: Vec<i64> = p.need_reset.iter().map(|r| r.0).collect();
    assert_eq!(ids, vec![3, 4, 5]);
    assert_eq!(p.django_hashes["pbkdf2_sha256"], 1);
    assert_eq!(
        p.report(true)["need_password_reset"][2]["why"],
        "malformed, or its cost is above the ceiling"
    );
}

#[tokio::test]
async fn the_import_writes_once_and_then_changes_nothing() {
    let env = crate::testing::TestEnv::new().await;
    crate::schema::migrate(env.sql.as_ref()).await.unwrap();
    let d = parse(&good()).unwrap();
    let p = plan(
        &d,
        &existing(env.sql.as_ref()).await.unwrap(),
        &Options::default(),
    )
    .unwrap();
    apply(env.sql.as_ref(), &p).await.unwrap();
    let e = existing(env.sql.as_ref()).await.unwrap();
    assert_eq!(e.users.len(), 2);
    assert_eq!(e.tokens.get("jti-b"), Some(&true));
    let again = plan(&d, &e, &Options::default()).unwrap();
    assert!(again.changes_nothing());
    // The users' ids are kept, and new ones continue after them.
    let rows = env
        .sql
        .run(Statement::plain(
            "SELECT id, email_normalized, password_hash FROM users ORDER BY id",
        ))
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0][0], Value::Integer(1));
    assert_eq!(rows[1][2], Value::Text(PBKDF2.into()));
}

#[tokio::test]
async fn a_failing_write_leaves_nothing_behind() {
    let env = crate::testing::TestEnv::new().await;
    crate::schema::migrate(env.sql.as_ref()).await.unwrap();
    let d = parse(&good()).unwrap();
    let mut p = plan(&d, &Existing::default(), &Options::default()).unwrap();
    // The same user twice: the second insert fails inside the transaction.
    p.new_users.push(p.new_users[0].clone());
    assert!(apply(env.sql.as_ref(), &p).await.is_err());
    let e = existing(env.sql.as_ref()).await.unwrap();
    assert!(e.users.is_empty() && e.clients.is_empty() && e.tokens.is_empty());
}
