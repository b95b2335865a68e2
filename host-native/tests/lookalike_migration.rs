//! Migration 3 (look-alike keys) on a database that already has users,
//! among them the look-alikes that were possible before it: existing rows
//! stay valid, get their keys, and the first of two look-alikes keeps the
//! contested key.

mod support;

use gatehouse::db::LibsqlExecutor;
use gatehouse_core::clock::FixedClock;
use gatehouse_core::operator::OperatorError;
use gatehouse_core::password::InlineHasher;
use gatehouse_core::random::SeededRandom;
use gatehouse_core::rate_limit::MemoryRateLimitStore;
use gatehouse_core::schema::{migrate, migrate_to};
use gatehouse_core::sql::{SqlExecutor, Statement, Value};
use gatehouse_core::user::{NewUser, UserType};
use gatehouse_core::{Config, Env, Gatehouse};
use std::sync::Arc;
use support::{CHEAP, PASSWORD, T0};

async fn rows(sql: &LibsqlExecutor, q: &str) -> Vec<Vec<Value>> {
    sql.run(Statement::new(q, vec![])).await.unwrap().rows
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

#[tokio::test]
async fn existing_users_get_keys_and_lookalikes_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gh.db");
    let sql = Arc::new(
        LibsqlExecutor::open(path.to_str().unwrap(), None)
            .await
            .unwrap(),
    );
    assert_eq!(migrate_to(sql.as_ref(), 2).await.unwrap(), 2);
    // Rows as the code before migration 3 wrote them: email_normalized was
    // trim + lowercase, usernames were unique as spelt.
    let legacy = [
        ("alice@example.com", "alice"),
        ("\u{ff41}lice@example.com", "Alice"), // fullwidth a; case variant
        ("bob@Caf\u{e9}.fr", "\u{ff22}\u{ff2f}\u{ff22}"), // IDN domain; fullwidth BOB
        ("Carol@EXAMPLE.com", "carol"),
        ("dave@example.com", "ALICE"), // a third spelling of alice
    ];
    for (email, username) in legacy {
        sql.run(Statement::new(
            "INSERT INTO users (email, email_normalized, username, user_type, password_hash, date_joined) VALUES (?, ?, ?, 'creator', 'x', 0)",
            vec![t(email), t(&email.trim().to_lowercase()), t(username)],
        ))
        .await
        .unwrap();
    }

    assert_eq!(migrate(sql.as_ref()).await.unwrap(), 1);
    assert_eq!(migrate(sql.as_ref()).await.unwrap(), 0, "idempotent");
    let got = rows(
        &sql,
        "SELECT email, email_normalized, username, username_key FROM users ORDER BY id",
    )
    .await;
    let n = Value::Null;
    assert_eq!(
        got,
        vec![
            vec![
                t("alice@example.com"),
                t("alice@example.com"),
                t("alice"),
                t("alice")
            ],
            // Its new email key is the first row's: it keeps its old one.
            // Its username key is the first row's too: none.
            vec![
                t("\u{ff41}lice@example.com"),
                t("\u{ff41}lice@example.com"),
                t("Alice"),
                n.clone()
            ],
            vec![
                t("bob@Caf\u{e9}.fr"),
                t("bob@xn--caf-dma.fr"),
                t("\u{ff22}\u{ff2f}\u{ff22}"),
                t("bob")
            ],
            vec![
                t("Carol@EXAMPLE.com"),
                t("carol@example.com"),
                t("carol"),
                t("carol")
            ],
            vec![t("dave@example.com"), t("dave@example.com"), t("ALICE"), n],
        ],
        "the stored emails and usernames are unchanged"
    );

    // The service on the migrated database: every spelling is taken.
    let env = Env {
        clock: Arc::new(FixedClock::new(T0)),
        random: Arc::new(SeededRandom::new(7)),
        sql: sql.clone(),
        hasher: Arc::new(InlineHasher(CHEAP)),
        rate_limits: Arc::new(MemoryRateLimitStore::default()),
    };
    let config = Config {
        argon2: CHEAP,
        ..Config::default()
    };
    let gh = Gatehouse::start(config, env).await.unwrap();
    let new = |email: &str, username: &str| NewUser {
        email: email.into(),
        username: username.into(),
        first_name: String::new(),
        last_name: String::new(),
        user_type: UserType::Creator,
        password: PASSWORD.into(),
    };
    for (email, username, field) in [
        ("bob@cafe\u{301}.fr", "someone", "email"),
        ("BOB@xn--caf-dma.fr", "someone", "email"),
        ("a\u{ff4c}ice@example.com", "someone", "email"),
        ("new@example.com", "bob", "username"),
        ("new@example.com", "aLiCe", "username"),
        ("new@example.com", "CAROL", "username"),
    ] {
        match gh.create_user(new(email, username)).await {
            Err(OperatorError::Validation(fields)) => {
                assert_eq!(
                    fields.keys().collect::<Vec<_>>(),
                    [field],
                    "{email} / {username}: {fields:?}"
                );
            }
            other => panic!("{email} / {username}: {other:?}"),
        }
    }
    let u = gh
        .create_user(new("new@example.com", "\u{ff4e}ew"))
        .await
        .unwrap();
    assert_eq!(
        (u.email.as_str(), u.username.as_str()),
        ("new@example.com", "new")
    );

    // Every insert carries a username key.
    let e = sql
        .run(Statement::new(
            "INSERT INTO users (email, email_normalized, username, user_type, password_hash, date_joined) VALUES ('z@z.zz', 'z@z.zz', 'z', 'creator', 'x', 0)",
            vec![],
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("username_key"), "{e}");
}
