//! The [`Store`] on the test kit's embedded libSQL database:
//! users, sessions (the refresh compare-and-swap), API clients, the signing
//! key and the change-password compare-and-swap.

use super::sessions::SessionInsert;
use super::users::UserInsert;
use super::Store;
use crate::api_client::{ApiClient, ClientId};
use crate::audit::{event, Actor, AuditEvent, UserRef};
use crate::clock::UnixMillis;
use crate::session::SessionId;
use crate::sql::{Statement, Value};
use crate::testing::{sample_client, TestEnv, T0};
use crate::user::{Taken, UserId, UserType};

async fn store() -> (TestEnv, Store) {
    let t = TestEnv::in_memory().await;
    let store = Store::new(t.sql.clone());
    (t, store)
}

fn audit(name: &'static str) -> AuditEvent {
    AuditEvent::new(name, &Actor::operator(), T0)
}

fn user<'a>(email: &'a str, username: &'a str) -> UserInsert<'a> {
    UserInsert {
        email,
        username,
        first_name: "",
        last_name: "",
        user_type: UserType::Creator,
        password_hash: "hash-0",
        now: T0,
    }
}

fn client(id: &str) -> ApiClient {
    ApiClient {
        allowed_origins: vec!["https://app.example.com".into()],
        ..sample_client(id)
    }
}

fn session<'a>(id: &'a SessionId, client: &'a ClientId, jti: &'a str) -> SessionInsert<'a> {
    SessionInsert {
        id,
        client_id: client,
        jti,
        now: T0,
        refresh_expires_at: T0.plus_secs(7 * 86400),
        absolute_expires_at: T0.plus_secs(30 * 86400),
        ip: Some("192.0.2.1".into()),
        user_agent: None,
        amr: "pwd,otp",
        mfa_at: Some(T0),
    }
}

/// Records a login of `user` through `client` at [`T0`].
async fn login(s: &Store, user: UserId, id: &SessionId, client: &ClientId, jti: &str) {
    s.insert_session(
        user,
        &session(id, client, jti),
        &audit(event::LOGIN_SUCCEEDED),
        None,
    )
    .await
    .unwrap();
}

/// A store with one client (`c`) and one user (`ann`).
async fn with_user() -> (TestEnv, Store, ClientId, UserId) {
    let (t, s) = store().await;
    let c = client("c");
    s.insert_client(&c, &audit(event::CLIENT_CREATED))
        .await
        .unwrap();
    let u = s
        .insert_user(
            &user("Ann@Example.com", "ann"),
            &audit(event::USER_CREATED).target_user(UserRef::LastInsert),
        )
        .await
        .unwrap();
    (t, s, c.id, u.id)
}

#[tokio::test]
async fn users_insert_look_up_and_are_taken_by_their_keys() {
    let (_t, s, _, id) = with_user().await;
    let u = s.user(id).await.unwrap().unwrap();
    assert_eq!(
        (u.email.as_str(), u.username.as_str()),
        ("Ann@Example.com", "ann")
    );
    assert_eq!(u.date_joined, T0);
    assert!(u.is_active && u.last_login.is_none());

    let by_email = s.user_by_email("ann@example.com").await.unwrap().unwrap();
    assert_eq!(by_email.user.id, id);
    assert_eq!(by_email.password_hash, "hash-0");
    assert!(s.user_by_email("bob@example.com").await.unwrap().is_none());
    assert!(s.user(UserId(id.0 + 1)).await.unwrap().is_none());
    assert_eq!(
        s.password_hash(id).await.unwrap().as_deref(),
        Some("hash-0")
    );

    assert_eq!(
        s.taken("ANN@example.com", "ANN").await.unwrap(),
        Taken {
            email: true,
            username: true
        }
    );
    assert_eq!(
        s.taken("ann@example.com", "bob").await.unwrap(),
        Taken {
            email: true,
            username: false
        }
    );
    assert_eq!(
        s.taken("bob@example.com", "bob").await.unwrap(),
        Taken::default()
    );
    let again = s
        .insert_user(
            &user("ann@example.com", "other"),
            &audit(event::USER_CREATED),
        )
        .await;
    assert!(
        matches!(again, Err(crate::sql::SqlError::UniqueViolation(_))),
        "{again:?}"
    );
}

#[tokio::test]
async fn sessions_insert_rotate_once_and_revoke() {
    let (_t, s, c, u) = with_user().await;
    let sid = SessionId("s1".into());
    login(&s, u, &sid, &c, "j1").await;
    assert_eq!(s.user(u).await.unwrap().unwrap().last_login, Some(T0));
    let row = s.session(&sid).await.unwrap().unwrap();
    assert_eq!((row.user_id, row.current_jti.as_str()), (u, "j1"));
    assert_eq!(row.revoked_at, None);
    assert_eq!(
        s.user_in_session(u, &sid, T0).await.unwrap().map(|u| u.id),
        Some(u)
    );

    // The refresh compare-and-swap: only the holder of the current jti wins.
    let later = T0.plus_secs(60);
    let exp = later.plus_secs(7 * 86400);
    assert!(s
        .rotate_session(&sid, "j1", "j2", later, exp)
        .await
        .unwrap());
    assert!(!s
        .rotate_session(&sid, "j1", "j3", later, exp)
        .await
        .unwrap());
    let row = s.session(&sid).await.unwrap().unwrap();
    assert_eq!(row.current_jti, "j2");
    assert_eq!((row.last_used_at, row.refresh_expires_at), (later, exp));

    let live = s.newest_live_sessions(u, later, 10).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].client_name, "client c");

    let end = T0.plus_secs(120);
    s.revoke_session(&sid, end, "logout", &audit(event::LOGOUT))
        .await
        .unwrap();
    s.revoke_session(&sid, end.plus_secs(1), "logout", &audit(event::LOGOUT))
        .await
        .unwrap();
    assert_eq!(
        s.session(&sid).await.unwrap().unwrap().revoked_at,
        Some(end)
    );
    assert!(!s.rotate_session(&sid, "j2", "j4", end, exp).await.unwrap());
    assert!(s.user_in_session(u, &sid, end).await.unwrap().is_none());
    assert!(s.newest_live_sessions(u, end, 10).await.unwrap().is_empty());
}

/// A refresh's one read: the login and the token's user, each as the
/// single-table lookups give it, or None when missing.
#[tokio::test]
async fn a_session_and_its_user_are_read_in_one_statement() {
    let (_t, s, c, u) = with_user().await;
    let sid = SessionId("s1".into());
    login(&s, u, &sid, &c, "j1").await;
    let (row, user) = s.session_and_user(&sid, u).await.unwrap();
    let (row, user) = (row.unwrap(), user.unwrap());
    assert_eq!(Some(&row), s.session(&sid).await.unwrap().as_ref());
    assert_eq!(Some(&user), s.user(u).await.unwrap().as_ref());
    assert_eq!((row.amr.as_str(), row.previous_jti), ("pwd,otp", None));

    let other = UserId(u.0 + 1000);
    let (row, user) = s.session_and_user(&sid, other).await.unwrap();
    assert!(row.is_some() && user.is_none(), "no such user");
    let nowhere = SessionId("s404".into());
    let (row, user) = s.session_and_user(&nowhere, u).await.unwrap();
    assert!(row.is_none() && user.is_some(), "no such login");
    let (row, user) = s.session_and_user(&nowhere, other).await.unwrap();
    assert!(row.is_none() && user.is_none());
}

#[tokio::test]
async fn clients_insert_look_up_change_key_and_deactivate() {
    let (_t, s, c, u) = with_user().await;
    let got = s.client(&c.0).await.unwrap().unwrap();
    assert_eq!(got, client("c"));
    assert!(s.client("nope").await.unwrap().is_none());
    assert!(s
        .origin_allowed_by_any("https://app.example.com")
        .await
        .unwrap());
    assert!(!s
        .origin_allowed_by_any("https://evil.example")
        .await
        .unwrap());

    assert!(s
        .set_client_key(&c, "key-1", &audit(event::CLIENT_KEY_ROTATED))
        .await
        .unwrap());
    assert_eq!(s.client(&c.0).await.unwrap().unwrap().key_hash, "key-1");
    let none = ClientId("nope".into());
    assert!(!s
        .set_client_key(&none, "key-1", &audit(event::CLIENT_KEY_ROTATED))
        .await
        .unwrap());

    // Deactivating ends the logins the client issued.
    let sid = SessionId("s1".into());
    login(&s, u, &sid, &c, "j1").await;
    let now = T0.plus_secs(5);
    assert!(s
        .set_client_active(&c, false, now, &audit(event::CLIENT_DEACTIVATED))
        .await
        .unwrap());
    assert!(!s.client(&c.0).await.unwrap().unwrap().is_active);
    assert_eq!(
        s.session(&sid).await.unwrap().unwrap().revoked_at,
        Some(now)
    );
    assert!(!s
        .origin_allowed_by_any("https://app.example.com")
        .await
        .unwrap());
    assert!(s
        .set_client_active(&c, true, now, &audit(event::CLIENT_ACTIVATED))
        .await
        .unwrap());
    assert!(!s
        .set_client_active(&none, true, now, &audit(event::CLIENT_ACTIVATED))
        .await
        .unwrap());
    assert_eq!(s.clients().await.unwrap().len(), 1);
}

#[tokio::test]
async fn one_current_and_one_next_key_at_most() {
    use crate::store::keys::{KeyState, NewKey};
    let (_t, s) = store().await;
    let key = |kid: &str| NewKey {
        kid: kid.into(),
        alg: "EdDSA".into(),
        secret: vec![1; 32],
    };
    // Whether each key was added: one current, one next, a kid once.
    for (kid, state, added) in [
        ("a", KeyState::Current, true),
        ("b", KeyState::Current, false),
        ("c", KeyState::Next, true),
        ("a", KeyState::Previous, false),
    ] {
        let got = s.add_signing_key(&key(kid), state, T0).await.unwrap();
        assert_eq!(got, added, "{kid} {state:?}");
    }
    let kids: Vec<_> = s
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.slot)
        .collect();
    assert_eq!(kids, ["a", "c"]);
}

#[tokio::test]
async fn of_two_password_changes_from_the_same_hash_exactly_one_wins() {
    let (t, s, c, u) = with_user().await;
    let old = SessionId("old".into());
    login(&s, u, &old, &c, "j0").await;
    let (a, b) = (SessionId("a".into()), SessionId("b".into()));
    let now = T0.plus_secs(10);
    let sa = SessionInsert {
        now,
        ..session(&a, &c, "ja")
    };
    let sb = SessionInsert {
        now,
        ..session(&b, &c, "jb")
    };
    let changed = audit(event::PASSWORD_CHANGED).target_user(UserRef::Id(u));
    let (wa, wb) = tokio::join!(
        s.change_password(u, "hash-0", "hash-a", &sa, &changed),
        s.change_password(u, "hash-0", "hash-b", &sb, &changed),
    );
    let (wa, wb) = (wa.unwrap(), wb.unwrap());
    assert!(wa ^ wb, "exactly one wins: {wa} {wb}");
    let (winner, loser, hash) = if wa {
        (&a, &b, "hash-a")
    } else {
        (&b, &a, "hash-b")
    };
    assert_eq!(s.password_hash(u).await.unwrap().as_deref(), Some(hash));
    assert_eq!(
        s.session(&old).await.unwrap().unwrap().revoked_at,
        Some(now)
    );
    let won = s.session(winner).await.unwrap().unwrap();
    assert_eq!(won.revoked_at, None, "the winner's new login is live");
    assert!(
        s.session(loser).await.unwrap().is_none(),
        "the loser opened none"
    );
    let audits = t
        .sql
        .run(Statement::plain(
            "SELECT count(*) FROM audit_events WHERE event = 'password.changed'",
        ))
        .await
        .unwrap()
        .rows;
    assert_eq!(
        audits,
        vec![vec![Value::Integer(1)]],
        "one audit event, the winner's"
    );
}

// ---- the seed's refresh tokens (store/legacy.rs)

/// Exchanges seed token `jti` of `user` (expiring at T0 + 1 h) at `now`,
/// opening login `sid`. True for a win.
async fn exchange(
    s: &Store,
    c: &ClientId,
    user: UserId,
    jti: &str,
    sid: &str,
    now: UnixMillis,
) -> bool {
    use super::legacy::LegacyExchange;
    let sid = SessionId(sid.into());
    let mut insert = session(&sid, c, "gj");
    insert.now = now;
    s.exchange_legacy_refresh(
        &LegacyExchange {
            jti,
            user,
            expires_at: T0.plus_secs(3600),
            now,
        },
        &insert,
        &audit(event::LEGACY_EXCHANGED).target_user(UserRef::Id(user)),
    )
    .await
    .unwrap()
}

/// Seed-token exchanges audited, and seed tokens marked exchanged.
const EXCHANGE_EVENTS: &str =
    "SELECT COUNT(*) FROM audit_events WHERE event = 'token.legacy_exchanged'";
const EXCHANGED_SEED_TOKENS: &str =
    "SELECT COUNT(*) FROM legacy_refresh_tokens WHERE exchanged_at IS NOT NULL";

async fn assert_count(s: &Store, sql: &str, n: i64) {
    assert_eq!(count(s, sql).await, n, "{sql}");
}

async fn count(s: &Store, sql: &str) -> i64 {
    let rows = s.rows(sql, vec![]).await.unwrap();
    super::int(&rows[0][0]).unwrap()
}

async fn legacy_row(s: &Store, jti: &str, user: UserId, blacklisted: bool) {
    s.sql
        .run(Statement::new(
            "INSERT INTO legacy_refresh_tokens (jti, user_id, expires_at, blacklisted_at) VALUES (?, ?, ?, ?)",
            vec![
                jti.into(),
                user.0.into(),
                T0.plus_secs(3600).0.into(),
                if blacklisted { Value::Integer(T0.0) } else { Value::Null },
            ],
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_seed_refresh_token_is_exchanged_once() {
    let (_t, s, c, u) = with_user().await;
    legacy_row(&s, "imported", u, false).await;
    assert!(exchange(&s, &c, u, "imported", "s1", T0).await);
    assert!(!exchange(&s, &c, u, "imported", "s2", T0).await);
    // One login opened, one event: the loser wrote nothing.
    assert_eq!(count(&s, "SELECT COUNT(*) FROM sessions").await, 1);
    assert!(s.session(&SessionId("s1".into())).await.unwrap().is_some());
    assert_count(&s, EXCHANGE_EVENTS, 1).await;
    assert_count(&s, EXCHANGED_SEED_TOKENS, 1).await;
}

#[tokio::test]
async fn blacklisted_expired_and_foreign_seed_tokens_are_refused() {
    let (_t, s, c, u) = with_user().await;
    legacy_row(&s, "blacklisted", u, true).await;
    assert!(!exchange(&s, &c, u, "blacklisted", "s1", T0).await);
    // The row says it expired (the import's expiry wins over the claim's).
    legacy_row(&s, "old", u, false).await;
    assert!(!exchange(&s, &c, u, "old", "s2", T0.plus_secs(3600)).await);
    // A row of another user (a jti collision or a forged pairing).
    legacy_row(&s, "theirs", UserId(u.0 + 1), false).await;
    assert!(!exchange(&s, &c, u, "theirs", "s3", T0).await);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM sessions").await, 0);
    assert_count(&s, EXCHANGE_EVENTS, 0).await;
}

#[tokio::test]
async fn a_seed_token_the_import_missed_is_recorded_and_exchanged_once() {
    let (_t, s, c, u) = with_user().await;
    assert!(exchange(&s, &c, u, "unseen", "s1", T0).await);
    assert!(!exchange(&s, &c, u, "unseen", "s2", T0).await);
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM legacy_refresh_tokens").await,
        1
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM sessions").await, 1);
}
