//! The caches alone, and through the [`Store`] on the test kit's embedded
//! database behind an executor that has a generation (moved by every write
//! through it) and counts the statements it ran.

use super::GenerationCache;
use crate::api_client::{ApiClient, ClientId};
use crate::audit::{event, Actor, AuditEvent, UserRef};
use crate::session::SessionId;
use crate::sql::classify::may_write;
use crate::sql::{SqlError, SqlExecutor, Statement, StatementResult};
use crate::store::sessions::SessionInsert;
use crate::store::users::UserInsert;
use crate::store::Store;
use crate::testing::{sample_client, TestEnv, T0};
use crate::user::{UserId, UserType};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn an_entry_answers_only_under_its_generation() {
    let c = GenerationCache::new(8);
    c.put("a", 1, "one");
    assert_eq!(c.get("a", 1), Some("one"));
    assert_eq!(c.get("a", 2), None, "read before a write");
    assert_eq!(c.get("b", 1), None);
    c.put("a", 2, "two");
    assert_eq!(c.get("a", 1), None);
    assert_eq!(c.get("a", 2), Some("two"));
}

#[test]
fn the_cap_drops_stale_entries_first_then_everything() {
    let c = GenerationCache::new(3);
    c.put("old", 1, 0);
    c.put("a", 2, 1);
    c.put("b", 2, 2);
    c.put("c", 2, 3);
    assert_eq!(c.len(), 3, "the stale entry made room");
    assert_eq!((c.get("a", 2), c.get("c", 2)), (Some(1), Some(3)));
    c.put("d", 2, 4);
    assert_eq!(c.len(), 1, "all current: cleared");
    assert_eq!(c.get("d", 2), Some(4));
    c.put("d", 2, 5);
    assert_eq!((c.len(), c.get("d", 2)), (1, Some(5)), "a key already in");
}

/// The kit's executor with a generation: `writes` moves after every
/// statement or batch that may write through it (unless `frozen`, which
/// stands for a replica that has not synced yet); `None` when `blind`.
struct Generational {
    inner: Arc<dyn SqlExecutor>,
    writes: AtomicU64,
    statements: AtomicU64,
    blind: bool,
    frozen: std::sync::atomic::AtomicBool,
}

impl Generational {
    fn over(inner: Arc<dyn SqlExecutor>, blind: bool) -> Self {
        Generational {
            inner,
            writes: AtomicU64::new(0),
            statements: AtomicU64::new(0),
            blind,
            frozen: Default::default(),
        }
    }
    fn ran(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }
    fn moved_by(&self, writes: bool) {
        if writes && !self.frozen.load(Ordering::SeqCst) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
    }
}

crate::async_trait_decl! {
impl SqlExecutor for Generational {
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        let writes = may_write(&stmt.sql);
        let r = self.inner.run(stmt).await;
        self.moved_by(writes);
        r
    }
    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        self.statements.fetch_add(1, Ordering::SeqCst);
        let writes = stmts.iter().any(|s| may_write(&s.sql));
        let r = self.inner.batch(stmts).await;
        self.moved_by(writes);
        r
    }
    async fn generation(&self) -> Result<Option<u64>, SqlError> {
        Ok((!self.blind).then(|| self.writes.load(Ordering::SeqCst)))
    }
}
}

fn audit(name: &'static str) -> AuditEvent {
    AuditEvent::new(name, &Actor::operator(), T0)
}

/// A login that ends absolutely at `T0 + 30 days`.
const LIFETIME_SECS: i64 = 30 * 86400;

/// A store over `exec` with client `c`, user `ann` and her login `s1`.
struct World {
    _t: TestEnv,
    exec: Arc<Generational>,
    store: Store,
    client: ClientId,
    user: UserId,
    sid: SessionId,
}

async fn world(blind: bool) -> World {
    let t = TestEnv::in_memory().await;
    let exec = Arc::new(Generational::over(t.sql.clone(), blind));
    let store = Store::new(exec.clone());
    let c = sample_client("c");
    store
        .insert_client(&c, &audit(event::CLIENT_CREATED))
        .await
        .unwrap();
    let user = store
        .insert_user(
            &UserInsert {
                email: "ann@example.com",
                username: "ann",
                first_name: "",
                last_name: "",
                user_type: UserType::Creator,
                password_hash: "hash-0",
                now: T0,
            },
            &audit(event::USER_CREATED).target_user(UserRef::LastInsert),
        )
        .await
        .unwrap()
        .id;
    let sid = SessionId("s1".into());
    store
        .insert_session(
            user,
            &SessionInsert {
                id: &sid,
                client_id: &c.id,
                jti: "j1",
                now: T0,
                refresh_expires_at: T0.plus_secs(7 * 86400),
                absolute_expires_at: T0.plus_secs(LIFETIME_SECS),
                ip: None,
                user_agent: None,
                amr: "pwd",
                mfa_at: None,
            },
            &audit(event::LOGIN_SUCCEEDED),
            None,
        )
        .await
        .unwrap();
    World {
        _t: t,
        exec,
        store,
        client: c.id,
        user,
        sid,
    }
}

impl World {
    async fn client(&self) -> Option<ApiClient> {
        self.store.client(&self.client.0).await.unwrap()
    }
    async fn user_at(&self, now: crate::clock::UnixMillis) -> Option<UserId> {
        let u = self.store.user_in_session(self.user, &self.sid, now);
        u.await.unwrap().map(|u| u.id)
    }
    /// Looks up the client and the login's user (both found, at `T0`);
    /// returns how many statements that ran.
    async fn look_up_both(&self) -> u64 {
        let ran = self.exec.ran();
        assert!(self.client().await.is_some());
        assert_eq!(self.user_at(T0).await, Some(self.user));
        self.exec.ran() - ran
    }
}

#[tokio::test]
async fn a_second_lookup_runs_no_statement_until_a_write() {
    let w = world(false).await;
    w.look_up_both().await;
    assert_eq!(w.look_up_both().await, 0, "both answered from memory");

    // Any write moves the generation: both are read again.
    let other = sample_client("other");
    w.store
        .insert_client(&other, &audit(event::CLIENT_CREATED))
        .await
        .unwrap();
    assert_eq!(w.look_up_both().await, 2);
}

#[tokio::test]
async fn a_deactivated_or_rekeyed_client_is_read_as_it_is_now() {
    let w = world(false).await;
    assert_eq!(w.client().await.unwrap().key_hash, "key-0");
    let rotated = audit(event::CLIENT_KEY_ROTATED);
    assert!(w
        .store
        .set_client_key(&w.client, "key-1", &rotated)
        .await
        .unwrap());
    assert_eq!(w.client().await.unwrap().key_hash, "key-1");
    let off = audit(event::CLIENT_DEACTIVATED);
    let changed = w.store.set_client_active(&w.client, false, T0, &off);
    assert!(changed.await.unwrap());
    assert!(!w.client().await.unwrap().is_active);
    // Deactivating revoked the client's logins.
    assert_eq!(w.user_at(T0).await, None);
}

#[tokio::test]
async fn a_revoked_login_or_a_deactivated_user_is_not_answered_from_memory() {
    let w = world(false).await;
    assert_eq!(w.user_at(T0).await, Some(w.user));
    w.store
        .revoke_session(&w.sid, T0, "logout", &audit(event::LOGOUT))
        .await
        .unwrap();
    assert_eq!(w.user_at(T0).await, None, "logged out");

    let w = world(false).await;
    assert!(
        w.store
            .user_in_session(w.user, &w.sid, T0)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );
    w.exec
        .run(Statement::new(
            "UPDATE users SET is_active = 0 WHERE id = ?",
            vec![w.user.0.into()],
        ))
        .await
        .unwrap();
    let user = w.store.user_in_session(w.user, &w.sid, T0).await.unwrap();
    assert!(!user.unwrap().is_active, "deactivated");
}

#[tokio::test]
async fn a_cached_login_still_ends_at_its_absolute_expiry_and_belongs_to_its_user() {
    let w = world(false).await;
    let end = T0.plus_secs(LIFETIME_SECS);
    assert_eq!(w.user_at(T0).await, Some(w.user));
    assert_eq!(w.user_at(end.plus_secs(-1)).await, Some(w.user));
    assert_eq!(w.user_at(end).await, None, "no write, yet past its end");
    let someone_else = UserId(w.user.0 + 1);
    let found = w.store.user_in_session(someone_else, &w.sid, T0).await;
    assert!(found.unwrap().is_none(), "the login is ann's");
}

#[tokio::test]
async fn an_absent_row_is_never_cached() {
    let w = world(false).await;
    // A replica that has not synced: its generation stays while the row
    // appears (another host wrote it); the next lookup must find it.
    w.exec.frozen.store(true, Ordering::SeqCst);
    assert!(w.store.client("late").await.unwrap().is_none());
    w.store
        .insert_client(&sample_client("late"), &audit(event::CLIENT_CREATED))
        .await
        .unwrap();
    assert!(w.store.client("late").await.unwrap().is_some());
}

#[tokio::test]
async fn an_executor_without_a_generation_gets_no_caching() {
    let w = world(true).await;
    w.look_up_both().await;
    assert_eq!(w.look_up_both().await, 2);
}
