//! Key rotation on the fake clock, through the service's own key functions
//! and codec (the HTTP side is the contract suite's key_rotation tests).

use super::*;
use crate::audit::Actor;
use crate::service::Gatehouse;
use crate::sql::SqlExecutor;
use crate::testing::{sample_token, TestEnv, T0};
use crate::token::TokenType;
use crate::user::{User, UserType};

fn sign(gh: &Gatehouse, token_type: TokenType, ttl_secs: i64) -> String {
    let user = User::sample(7, UserType::Creator);
    sample_token(&gh.shared().codec, token_type, &user, gh.now(), ttl_secs)
}

fn access(gh: &Gatehouse) -> String {
    sign(gh, TokenType::Access, gh.config().access_ttl_secs)
}

/// Two hosts over one database and one fake clock (`seed`: the second
/// host's randomness); `env` is the first host's, which keeps the database.
struct TwoHosts {
    env: TestEnv,
    a: Gatehouse,
    b: Gatehouse,
}

async fn two_hosts(seed: u64, config: Config) -> TwoHosts {
    let env = TestEnv::new().await;
    let b_env = TestEnv::with_sql(env.sql.clone())
        .seeded(seed)
        .with_clock(env.clock.clone());
    let a = env.start(config.clone()).await;
    let b = b_env.start(config).await;
    TwoHosts { env, a, b }
}

fn accepts(gh: &Gatehouse, token: &str, t: TokenType) -> bool {
    gh.shared().codec.verify(token, t, gh.now()).is_some()
}

fn kid(token: &str) -> String {
    crate::token::kid_of(token).unwrap()
}

async fn states(gh: &Gatehouse) -> Vec<(String, KeyState)> {
    gh.list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.state))
        .collect()
}

fn jwks_kids(gh: &Gatehouse) -> Vec<String> {
    gh.shared().codec.keys().jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn count(states: &[(String, KeyState)], s: KeyState) -> usize {
    states.iter().filter(|(_, x)| *x == s).count()
}

/// The kid of the (first) key in state `s`.
fn kid_in(states: &[(String, KeyState)], s: KeyState) -> String {
    states.iter().find(|(_, x)| *x == s).unwrap().0.clone()
}

#[tokio::test]
async fn first_start_makes_a_current_and_a_next_key_and_publishes_both() {
    let t = TestEnv::new().await;
    let gh = t.start(Config::default()).await;
    let s = states(&gh).await;
    assert_eq!(
        (count(&s, KeyState::Current), count(&s, KeyState::Next)),
        (1, 1)
    );
    let tok = access(&gh);
    let current = s.iter().find(|(_, st)| *st == KeyState::Current).unwrap();
    assert_eq!(kid(&tok), current.0);
    assert_eq!(jwks_kids(&gh).len(), 2);
    // A restart on the same database keeps them.
    let again = t.start(Config::default()).await;
    assert!(accepts(&again, &tok, TokenType::Access));
    assert_eq!(states(&again).await, s);
}

#[tokio::test]
async fn the_seed_era_default_key_becomes_current_with_its_kid_unchanged() {
    // A database at the schema before migration 13, with its one key.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let sql = std::sync::Arc::new(
        crate::testing::EmbeddedExecutor::open(path.to_str().unwrap())
            .await
            .unwrap(),
    );
    crate::schema::migrate_to(sql.as_ref(), 10).await.unwrap();
    let seed = [9u8; 32];
    sql.run(crate::sql::Statement::new(
        "INSERT INTO signing_keys (slot, alg, secret, created_at) VALUES ('default', 'EdDSA', ?, ?)",
        vec![seed.to_vec().into(), T0.0.into()],
    ))
    .await
    .unwrap();
    let old = TokenCodec::new(
        SigningKey::ed25519_from_bytes(&seed).unwrap(),
        Config::default().issuer,
        Config::default().audience,
    );
    let user = User::sample(7, UserType::Creator);
    let before = sample_token(&old, TokenType::Refresh, &user, T0, 3600);
    crate::schema::migrate(sql.as_ref()).await.unwrap();
    let gh = TestEnv::with_sql(sql).start(Config::default()).await;
    assert!(accepts(&gh, &before, TokenType::Refresh));
    let s = states(&gh).await;
    assert!(s.contains(&(kid(&before), KeyState::Current)), "{s:?}");
    assert_eq!(kid(&access(&gh)), kid(&before));
}

#[tokio::test]
async fn rotation_keeps_old_tokens_until_the_previous_key_retires() {
    let t = TestEnv::new().await;
    let config = Config::default();
    let delay = retire_delay_secs(&config);
    let gh = t.start(config).await;
    let old_access = access(&gh);
    let old_refresh = sign(&gh, TokenType::Refresh, gh.config().refresh_ttl_secs);
    let before = states(&gh).await;
    let next_kid = kid_in(&before, KeyState::Next);

    let after = gh.rotate_keys().await.unwrap();
    let s: Vec<_> = after.iter().map(|k| (k.kid.clone(), k.state)).collect();
    assert!(s.contains(&(kid(&old_access), KeyState::Previous)), "{s:?}");
    assert!(s.contains(&(next_kid.clone(), KeyState::Current)), "{s:?}");
    assert_eq!(count(&s, KeyState::Next), 1);
    // New tokens use the promoted key; the old ones still verify; the JWKS
    // publishes next, current and previous.
    assert_eq!(kid(&access(&gh)), next_kid);
    assert!(accepts(&gh, &old_access, TokenType::Access));
    assert_eq!(jwks_kids(&gh).len(), 3);
    assert!(jwks_kids(&gh).contains(&kid(&old_access)));

    // The last second of the old refresh token: still accepted, the key
    // still there after a scheduled pass.
    let refresh_ttl = gh.config().refresh_ttl_secs;
    assert!(delay > refresh_ttl, "outlives every token it signed");
    t.clock.advance_secs(refresh_ttl);
    assert_eq!(
        gh.maintain_keys(None).await.unwrap(),
        Maintenance::default()
    );
    assert!(accepts(&gh, &old_refresh, TokenType::Refresh));
    // Not retired a second early.
    t.clock.advance_secs(delay - refresh_ttl - 1);
    assert_eq!(
        gh.maintain_keys(None).await.unwrap(),
        Maintenance::default()
    );
    assert_eq!(jwks_kids(&gh).len(), 3);

    t.clock.advance_secs(1);
    let done = gh.maintain_keys(None).await.unwrap();
    assert_eq!(done.retired, vec![kid(&old_access)]);
    assert_eq!(jwks_kids(&gh).len(), 2);
    let s = states(&gh).await;
    assert!(s.contains(&(kid(&old_access), KeyState::Retired)));
    // The secret is gone from the database.
    let rows = gh.shared().store.signing_keys().await.unwrap();
    let retired = rows.iter().find(|r| r.state == KeyState::Retired).unwrap();
    assert!(retired.secret.is_empty());
}

#[tokio::test]
async fn a_retired_keys_cached_access_token_is_refused_too() {
    let t = TestEnv::new().await;
    let gh = t.start(Config::default()).await;
    let tok = access(&gh);
    assert!(accepts(&gh, &tok, TokenType::Access)); // now in the verified cache
    gh.rotate_keys().await.unwrap();
    // A drill: retire as if the delay had passed (`keys maintain --now`).
    let later = gh.now().plus_secs(retire_delay_secs(gh.config()));
    assert_eq!(
        gh.maintain_keys(Some(later)).await.unwrap().retired.len(),
        1
    );
    assert!(!accepts(&gh, &tok, TokenType::Access));
}

#[tokio::test]
async fn another_host_sees_a_rotation_within_its_cache_bound_and_at_once_for_a_new_kid() {
    let TwoHosts { env: a_env, a, b } = two_hosts(2, Config::default()).await;
    let b_before = access(&b);
    a.rotate_keys().await.unwrap();
    // A signs with the former next key, which B already accepts.
    let from_a = access(&a);
    assert!(accepts(&b, &from_a, TokenType::Access));
    assert_ne!(kid(&from_a), kid(&b_before));
    // B goes on signing with its cached key (still accepted everywhere)...
    b.shared().keys().refresh(b.now(), None).await;
    assert_eq!(kid(&access(&b)), kid(&b_before));
    assert!(accepts(&a, &access(&b), TokenType::Access));
    // ...until its cache is key_cache_secs old.
    a_env.clock.advance_secs(b.config().key_cache_secs);
    b.shared().keys().refresh(b.now(), None).await;
    assert_eq!(kid(&access(&b)), kid(&from_a));

    // Two quick rotations on A: its new key was never B's next. B re-reads
    // at once when it meets the unknown kid (at most once a second).
    a.rotate_keys().await.unwrap();
    a.rotate_keys().await.unwrap();
    let newest = access(&a);
    assert!(!accepts(&b, &newest, TokenType::Access));
    b.shared().keys().refresh(b.now(), Some(&newest)).await;
    assert!(accepts(&b, &newest, TokenType::Access));
    a.rotate_keys().await.unwrap();
    a.rotate_keys().await.unwrap();
    let newer = access(&a);
    b.shared().keys().refresh(b.now(), Some(&newer)).await;
    assert!(!accepts(&b, &newer, TokenType::Access), "twice in a second");
    a_env.clock.advance_millis(UNKNOWN_KID_REFRESH_MS);
    b.shared().keys().refresh(b.now(), Some(&newer)).await;
    assert!(accepts(&b, &newer, TokenType::Access));
}

#[tokio::test]
async fn two_hosts_rotating_at_once_end_with_one_current_and_one_next() {
    let TwoHosts { env: a_env, a, b } = two_hosts(3, Config::default()).await;
    let before = states(&a).await;
    let old_current = kid_in(&before, KeyState::Current);
    // Both read the same state before either writes.
    let (ka, kb, actor) = (a.shared().keys(), b.shared().keys(), Actor::operator());
    let (ra, rb) = tokio::join!(ka.rotate(a.now(), &actor), kb.rotate(b.now(), &actor));
    let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
    let conflicts = [&ra, &rb]
        .iter()
        .filter(|r| matches!(r, Err(KeysError::Conflict)))
        .count();
    assert_eq!(wins + conflicts, 2, "{ra:?} {rb:?}");
    assert!(wins >= 1);
    let s = states(&a).await;
    assert_eq!(
        (count(&s, KeyState::Current), count(&s, KeyState::Next)),
        (1, 1),
        "{s:?}"
    );
    assert_eq!(count(&s, KeyState::Previous), wins);
    assert!(s.contains(&(old_current, KeyState::Previous)));
    // Within the cache bound both hosts sign with the one current key.
    a_env.clock.advance_secs(a.config().key_cache_secs);
    a.shared().keys().refresh(a.now(), None).await;
    b.shared().keys().refresh(b.now(), None).await;
    assert_eq!(kid(&access(&a)), kid(&access(&b)));
}

#[tokio::test]
async fn the_schedule_rotates_when_due_and_once_across_hosts() {
    let config = Config {
        key_rotation_days: Some(30),
        ..Config::default()
    };
    let TwoHosts { env: a_env, a, b } = two_hosts(4, config).await;
    a_env.clock.advance_secs(30 * 86_400 - 1);
    assert!(!a.maintain_keys(None).await.unwrap().rotated);
    a_env.clock.advance_secs(1);
    let (ma, mb) = tokio::join!(a.maintain_keys(None), b.maintain_keys(None));
    let rotated = [ma.unwrap().rotated, mb.unwrap().rotated];
    assert_eq!(rotated.iter().filter(|r| **r).count(), 1, "{rotated:?}");
    let s = states(&a).await;
    assert_eq!(count(&s, KeyState::Previous), 1);
    assert!(!b.maintain_keys(None).await.unwrap().rotated);
}

#[tokio::test]
async fn a_configured_key_is_pinned_and_rotation_says_so() {
    let t = TestEnv::new().await;
    let key = crate::token::generate_ed25519_private_key(t.env.random.as_ref());
    let gh = t
        .start(Config {
            signing: SigningConfig::EdDsa {
                private_key: Some(key.clone()),
            },
            ..Config::default()
        })
        .await;
    let err = gh.rotate_keys().await.unwrap_err();
    assert!(matches!(err, KeysError::Pinned));
    assert!(err.to_string().contains("--jwt-private-key"));
    let pinned = SigningKey::ed25519_from_base64(&key).unwrap();
    assert_eq!(kid(&access(&gh)), pinned.kid());
    assert_eq!(
        gh.maintain_keys(None).await.unwrap(),
        Maintenance::default()
    );
}

#[tokio::test]
async fn hs256_secrets_kept_by_the_database_rotate_the_same_way() {
    let t = TestEnv::new().await;
    let gh = t
        .start(Config {
            signing: SigningConfig::Hs256 { secret: None },
            ..Config::default()
        })
        .await;
    let tok = access(&gh);
    let head = tok.split('.').next().unwrap();
    let head: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, head).unwrap(),
    )
    .unwrap();
    assert_eq!(head["alg"], "HS256");
    assert!(jwks_kids(&gh).is_empty(), "no public keys to publish");
    gh.rotate_keys().await.unwrap();
    assert_ne!(kid(&access(&gh)), kid(&tok));
    assert!(accepts(&gh, &tok, TokenType::Access));
    let later = gh.now().plus_secs(retire_delay_secs(gh.config()));
    gh.maintain_keys(Some(later)).await.unwrap();
    assert!(!accepts(&gh, &tok, TokenType::Access));
}

#[tokio::test]
async fn a_host_without_a_timer_maintains_at_most_once_a_minute() {
    let t = TestEnv::new().await;
    let gh = t
        .start(Config {
            key_rotation_days: Some(1),
            ..Config::default()
        })
        .await;
    assert!(gh.maintain_keys_if_due().await.is_some());
    t.clock.advance_secs(86_400 - 1);
    assert!(gh
        .maintain_keys_if_due()
        .await
        .is_some_and(|m| !m.unwrap().rotated));
    t.clock.advance_secs(30);
    assert!(
        gh.maintain_keys_if_due().await.is_none(),
        "30 s after the last pass"
    );
    t.clock.advance_millis(MAINTAIN_EVERY_MS - 30_000);
    assert!(gh
        .maintain_keys_if_due()
        .await
        .is_some_and(|m| m.unwrap().rotated));
}
