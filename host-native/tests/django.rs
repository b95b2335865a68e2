//! Users imported from the seed Django deployment log in with their Django
//! password hashes: verified once on the hashing pool's path, replaced by
//! Argon2id in the login's transaction and audited; an unverifiable hash
//! asks for a reset.

mod support;

use gatehouse_core::sql::{SqlExecutor, Statement, Value};
use support::*;

// Made by Django 5.2's own hashers at cheap costs (scripts/django/vectors.py):
// the password is "correct horse".
const DJANGO_HASHES: &[(&str, &str)] = &[
    ("pbkdf2_sha256", "pbkdf2_sha256$1000$mJJtlZ88QY7YjgeOXkAudS$Rd6Tv2va692N7bdv2HalwO5c/kAHEJX0Acw+CjMH32U="),
    ("pbkdf2_sha1", "pbkdf2_sha1$1000$3tC1oJLBKjyYvQ8CewFbZm$FPeg5bfcpVfSBPnyMWG2Q/NgVJE="),
    ("argon2", "argon2$argon2id$v=19$m=256,t=1,p=2$ckMzWHpnb2tJMEFnekNEcmtOaU8xTg$rdw/Tkhf5+SIX9Q0fI8id8vA6NjptHMpNP8PBbscx0w"),
    ("bcrypt_sha256", "bcrypt_sha256$$2b$04$dnRvzfX797Q.uvigwyzI4OfgJa4Mc/9N4DDC2ocSSVQj/Pld71zTm"),
    ("scrypt", "scrypt$1024$zOjai9uz7fHOzBjOapVfmx$8$2$JqjSSPmXL/xkvLcXEiExDsjW/MpxzU9QFZNcDH6earfhF4AgWGC+M9H49Zk5m72gpJ3EfSGSrHPIu91MA0K8MQ=="),
];
const OLD_PASSWORD: &str = "correct horse";

async fn set_hash(sql: &dyn SqlExecutor, email: &str, hash: &str) {
    sql.run(Statement::new(
        "UPDATE users SET password_hash = ? WHERE email_normalized = ?",
        vec![hash.into(), email.into()],
    ))
    .await
    .unwrap();
}

async fn stored_hash(sql: &dyn SqlExecutor, email: &str) -> String {
    let rows = sql
        .run(Statement::new(
            "SELECT password_hash FROM users WHERE email_normalized = ?",
            vec![email.into()],
        ))
        .await
        .unwrap()
        .rows;
    match &rows[0][0] {
        Value::Text(s) => s.clone(),
        v => panic!("{v:?}"),
    }
}

async fn rehash_events(sql: &dyn SqlExecutor) -> Vec<String> {
    sql.run(Statement::plain(
        "SELECT detail FROM audit_events WHERE event = 'password.rehashed' ORDER BY id",
    ))
    .await
    .unwrap()
    .rows
    .iter()
    .map(|r| match &r[0] {
        Value::Text(s) => s.clone(),
        v => panic!("{v:?}"),
    })
    .collect()
}

#[tokio::test]
async fn each_django_hash_logs_in_once_and_becomes_argon2id() {
    let svc = service(gatehouse_core::Config::default(), |g| g).await;
    let w = svc.web_world().await;
    for (i, (name, hash)) in DJANGO_HASHES.iter().enumerate() {
        let user = format!("u{i}");
        let email = format!("{user}@example.com");
        w.register(&user).await;
        set_hash(svc.sql.as_ref(), &email, hash).await;

        let wrong = w.login(&email, "correct horsf").await;
        assert_eq!(wrong.status, 401, "{name}");
        assert_eq!(wrong.body["code"], "no_active_account");
        assert_eq!(
            stored_hash(svc.sql.as_ref(), &email).await,
            *hash,
            "a failure changes nothing"
        );

        let ok = w.login(&email, OLD_PASSWORD).await;
        assert_eq!(ok.status, 200, "{name}: {}", ok.body);
        let now = stored_hash(svc.sql.as_ref(), &email).await;
        assert!(now.starts_with("$argon2id$"), "{name}: {now}");
        let events = rehash_events(svc.sql.as_ref()).await;
        assert_eq!(events.len(), i + 1);
        assert!(events[i].contains(name), "{}", events[i]);

        // Then it is an ordinary Gatehouse login: no second rehash.
        assert_eq!(w.login(&email, OLD_PASSWORD).await.status, 200);
        assert_eq!(stored_hash(svc.sql.as_ref(), &email).await, now);
        assert_eq!(rehash_events(svc.sql.as_ref()).await.len(), i + 1);
    }
}

#[tokio::test]
async fn an_unverifiable_hash_is_told_to_reset_and_changes_nothing() {
    let svc = service(gatehouse_core::Config::default(), |g| g).await;
    let w = svc.web_world().await;
    for (i, hash) in [
        "!unusableDjangoPassword",
        "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
        "pbkdf2_sha256$999999999$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]
    .iter()
    .enumerate()
    {
        let user = format!("r{i}");
        let email = format!("{user}@example.com");
        w.register(&user).await;
        set_hash(svc.sql.as_ref(), &email, hash).await;
        for password in [OLD_PASSWORD, PASSWORD, "anything"] {
            let r = w.login(&email, password).await;
            assert_eq!(r.status, 401, "{hash}");
            assert_eq!(r.body["code"], "password_reset_required", "{hash}");
        }
        assert_eq!(stored_hash(svc.sql.as_ref(), &email).await, *hash);
    }
    // Unknown emails still get the ordinary answer.
    let r = w.login("nobody@example.com", "x").await;
    assert_eq!(r.body["code"], "no_active_account");
}
