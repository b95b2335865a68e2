//! Look-alike emails and usernames where the contract suite does not
//! reach: migration 3 on a database that already has users (among them the
//! look-alikes that were possible before it: existing rows stay valid, get
//! their keys, and the first of two look-alikes keeps the contested key),
//! the admin API's user create/update, and
//! `Config::allow_unicode_email_local_part`.

mod support;

use gatehouse::db::LibsqlExecutor;
use gatehouse_core::api_client::NewApiClient;
use gatehouse_core::operator::OperatorError;
use gatehouse_core::schema::migrate_to;
use gatehouse_core::sql::{SqlExecutor, Statement, Value};
use gatehouse_core::testing::TestEnv;
use gatehouse_core::user::{NewUser, UserType};
use gatehouse_core::Config;
use http::{Method, StatusCode};
use serde_json::json;
use support::{s, Via, PASSWORD};

async fn rows(sql: &LibsqlExecutor, q: &str) -> Vec<Vec<Value>> {
    sql.run(Statement::plain(q)).await.unwrap().rows
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

#[tokio::test]
async fn existing_users_get_keys_and_lookalikes_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let sql = support::open(&dir).await;
    assert_eq!(migrate_to(sql.as_ref(), 2).await.unwrap(), 2);
    // Rows as the code before migration 3 wrote them: email_normalized was
    // trim + lowercase, usernames were unique as spelt.
    let legacy = [
        ("alice@example.com", "alice"),
        ("\u{ff41}lice@example.com", "Alice"), // fullwidth a; case variant
        ("bob@Caf\u{e9}.fr", "\u{ff22}\u{ff2f}\u{ff22}"), // IDN domain; fullwidth BOB
        ("Carol@EXAMPLE.com", "carol"),
        ("dave@example.com", "ALICE"), // a third spelling of alice
        ("eve@B\u{fc}cher.de", "Eve"),
    ];
    for (email, username) in legacy {
        sql.run(Statement::new(
            "INSERT INTO users (email, email_normalized, username, user_type, password_hash, date_joined) VALUES (?, ?, ?, 'creator', 'x', 0)",
            vec![t(email), t(&email.trim().to_lowercase()), t(username)],
        ))
        .await
        .unwrap();
    }

    // Migration 3 alone (later ones are not this test's subject).
    assert_eq!(migrate_to(sql.as_ref(), 3).await.unwrap(), 1);
    assert_eq!(migrate_to(sql.as_ref(), 3).await.unwrap(), 0, "idempotent");
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
            vec![
                t("eve@B\u{fc}cher.de"),
                t("eve@xn--bcher-kva.de"),
                t("Eve"),
                t("eve")
            ],
        ],
        "the stored emails and usernames are unchanged"
    );

    // The service on the migrated database (and the later migrations, which
    // the service's queries need): every spelling is taken.
    gatehouse_core::schema::migrate(sql.as_ref()).await.unwrap();
    let gh = TestEnv::with_sql(sql.clone())
        .start(Config::default())
        .await;
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
        .run(Statement::plain("INSERT INTO users (email, email_normalized, username, user_type, password_hash, date_joined) VALUES ('z@z.zz', 'z@z.zz', 'z', 'creator', 'x', 0)"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("username_key"), "{e}");
}

const EMAIL_TAKEN: &str = "user with this email already exists.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const BLANK: &str = "This field may not be blank.";

#[tokio::test]
async fn admin_api_create_and_update_normalise_and_refuse_lookalikes() {
    let svc = support::service(Config::default(), |g| g).await;
    let gh = &svc.gh;
    let dash = gh
        .create_api_client(NewApiClient {
            name: "dash".into(),
            client_type: "admin".into(),
            rate_limit: 10_000,
            serves: None,
            allowed_origins: vec![],
            is_active: true,
            email: Default::default(),
            require_mfa_for_staff: None,
        })
        .await
        .unwrap();
    let user = |email: &str, username: &str, t: UserType| NewUser {
        email: email.into(),
        username: username.into(),
        first_name: String::new(),
        last_name: String::new(),
        user_type: t,
        password: PASSWORD.into(),
    };
    gh.create_user(user("boss@example.com", "boss", UserType::Admin))
        .await
        .unwrap();
    gh.create_user(user("ada@example.com", "ada", UserType::Creator))
        .await
        .unwrap();
    let r = support::send(
        gh,
        &dash,
        Method::POST,
        "/api/auth/token/",
        Some(json!({"email": "ＢＯＳＳ＠ｅｘａｍｐｌｅ．ｃｏｍ", "password": PASSWORD})),
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a fullwidth login finds boss: {}",
        r.body
    );
    let admin = s(&r.body["access"]);
    let call = |method: Method, path: String, body: serde_json::Value| {
        let (dash, admin) = (&dash, &admin);
        async move { support::send(gh, dash, method, &path, Some(body), Some(admin)).await }
    };
    let create = |email: &str, username: &str, password: &str| json!({"email": email, "username": username, "password": password, "user_type": "creator"});
    for (body, want) in [
        (
            create("ａda@example.com", "grace", PASSWORD),
            json!({"email": [EMAIL_TAKEN]}),
        ),
        (
            create("grace@example.com", "ＡＤＡ", PASSWORD),
            json!({"username": [USERNAME_TAKEN]}),
        ),
        (
            create("grace@ex\u{0430}mple.com", "grace", PASSWORD),
            json!({"email": ["Enter a valid email address. It may not mix letters of different scripts."]}),
        ),
        (
            create("grace@example.com", "grace", "            "),
            json!({"password": [BLANK]}),
        ),
    ] {
        let r = call(Method::POST, "/api/admin/users/".into(), body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body, want, "{body}");
    }
    let r = call(
        Method::POST,
        "/api/admin/users/".into(),
        create("Grace@ＥＸＡＭＰＬＥ.com", "Ｇｒａｃｅ", PASSWORD),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["email"], "Grace@example.com");
    assert_eq!(r.body["username"], "Grace");
    let grace = r.body["id"].as_i64().unwrap();

    // Update: a case variant of another's name is taken; one's own is not.
    let path = format!("/api/admin/users/{grace}/");
    let r = call(Method::PATCH, path.clone(), json!({"username": "Ada"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body, json!({"username": [USERNAME_TAKEN]}));
    let r = call(
        Method::PATCH,
        path.clone(),
        json!({"username": "ＧＲＡＣＥ"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["username"], "GRACE");
    let r = call(Method::PATCH, path, json!({"username": "gr\u{0430}ce"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"username": ["Enter a valid username. It may not mix letters of different scripts."]})
    );
}

#[tokio::test]
async fn unicode_local_parts_when_configured() {
    let config = Config {
        allow_unicode_email_local_part: true,
        ..Config::default()
    };
    let w = support::world_with(config, |g| g).await;
    let register = |email: &str, username: &str| {
        let body = json!({"email": email, "username": username, "password": PASSWORD, "password2": PASSWORD});
        w.gh.via(&w.client).post("/api/auth/register/", body)
    };
    let r = register("jos\u{e9}@example.com", "jose").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["user"]["email"], "jos\u{e9}@example.com");
    // The decomposed and the uppercase spellings are the same account.
    for copy in ["jose\u{301}@example.com", "JOS\u{c9}@EXAMPLE.COM"] {
        let r = register(copy, "other").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{copy}: {}", r.body);
        assert_eq!(r.body, json!({"email": [EMAIL_TAKEN]}));
        let r = w.login(copy, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{copy}: {}", r.body);
    }
    // Still one script per local part.
    let r = register("p\u{0430}ypal@example.com", "paypal").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"email": ["Enter a valid email address. It may not mix letters of different scripts."]})
    );
}
