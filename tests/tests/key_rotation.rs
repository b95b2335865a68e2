//! Signing-key rotation end to end (docs/KEYS.md, CONTRACT.md "Signing
//! keys"), on every target: a token issued before a rotation verifies after
//! it, refresh works across it, the JWKS shows next, current and previous;
//! once the previous key retires its tokens are refused; two hosts rotating
//! at once (the server through the admin API, the CLI beside it) end with
//! one current and one next key.
//!
//! Its own test binary, not a module of `contract`: retiring a key refuses
//! every token it signed, and on the targets where all servers share one
//! database (sqld, the Worker) that would fail tests running beside it.
//! Cargo runs test binaries one after another. Inside, the tests take turns
//! (`TURN`) for the same reason.
//!
//! Retirement comes after the longest token lifetime plus margins, which a
//! test cannot wait out: it runs `gatehouse keys maintain --now <later>`
//! against the server's database (the decision in docs/KEYS.md), and the
//! server sees it within its key cache bound (`--key-cache-secs 1` here).

use gatehouse_contract::harness::*;
use gatehouse_contract::jwt;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

static TURN: Mutex<()> = Mutex::const_new(());

/// The key-rotation server, a web client, an admin client and an admin
/// logged in through it.
struct World {
    ctx: Ctx,
    admin: Api,
    admin_user: TestUser,
    admin_access: String,
    /// This test's turn on the server: held for its whole run.
    _turn: MutexGuard<'static, ()>,
}

/// Waits for this test's turn, then its [`World`]; `None` (the test is
/// skipped, and says why) without the key-rotation server.
async fn world(test: &str) -> Option<World> {
    let turn = TURN.lock().await;
    let server = server_or_skip(ServerConfig::KeyRotation, test)?;
    if server.database_url.is_none() {
        eprintln!("SKIP {test}: no GATEHOUSE_TEST_DATABASE_URL for the CLI");
        return None;
    }
    let ctx = Ctx::on(server);
    let (_, admin) = ctx.client(&ClientSpec::admin());
    let admin_user = server.create_user("admin");
    let admin_access = admin.login_ok(&admin_user).await.access;
    Some(World {
        ctx,
        admin,
        admin_user,
        admin_access,
        _turn: turn,
    })
}

impl World {
    async fn relogin(self) -> World {
        let admin_access = self.admin.login_ok(&self.admin_user).await.access;
        World {
            admin_access,
            ..self
        }
    }

    async fn rotate(&self) -> Resp {
        self.admin
            .post_empty_as("/api/admin/keys/rotate/", &self.admin_access)
            .await
    }

    async fn keys(&self) -> Value {
        let r = self
            .admin
            .get_as("/api/admin/keys/", &self.admin_access)
            .await;
        r.expect(200);
        r.json()
    }

    async fn jwks_kids(&self) -> Vec<String> {
        let r = self
            .ctx
            .anonymous()
            .get("/.well-known/jwks.json")
            .send()
            .await;
        r.expect(200);
        r.json()["keys"]
            .as_array()
            .map(|ks| {
                ks.iter()
                    .filter_map(|k| k["kid"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn kid(token: &str) -> String {
    jwt::header(token)["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The kid of the key in `state` (the one, for current and next).
fn in_state(keys: &Value, state: &str) -> Vec<String> {
    keys["keys"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .filter(|k| k["state"] == state)
                .filter_map(|k| k["kid"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_token_from_before_a_rotation_verifies_and_refreshes_after_it() {
    let Some(w) = world("a_token_from_before_a_rotation_verifies_and_refreshes_after_it").await
    else {
        return;
    };
    let keys = w.keys().await;
    let current = in_state(&keys, "current");
    assert_eq!(current.len(), 1, "{keys}");
    // The server signs with the database's current key (within its cache
    // bound, if a test before this one rotated through the CLI).
    let (u, _) = w.ctx.api.new_creator().await;
    let before = eventually(
        Duration::from_secs(key_cache_secs() as u64 + 5),
        "the server signs with the current key",
        || async {
            let t = w.ctx.api.login_ok(&u).await;
            if current.contains(&kid(&t.access)) {
                Ok(t)
            } else {
                Err(format!("signed with {}", kid(&t.access)))
            }
        },
    )
    .await;
    let old_kid = kid(&before.access);
    let next = in_state(&keys, "next");
    assert_eq!(next.len(), 1, "{keys}");
    let body = keys.to_string();
    for secret in ["secret", "\"d\"", "seed"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }

    let r = w.rotate().await;
    r.expect(200);
    let keys = r.json();
    assert_eq!(in_state(&keys, "current"), next, "{keys}");
    assert!(in_state(&keys, "previous").contains(&old_kid), "{keys}");
    let new_next = in_state(&keys, "next");
    assert_eq!(new_next.len(), 1);
    let previous = keys["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == old_kid.as_str()))
        .cloned()
        .unwrap_or_default();
    assert!(previous["retire_after"].is_string(), "{previous}");

    // Audited, with the admin as actor and the kids (never a secret).
    let audit = w
        .admin
        .get_as(
            "/api/admin/audit/?event=signing_key.rotated",
            &w.admin_access,
        )
        .await;
    audit.expect(200);
    let audit = audit.json();
    assert!(
        audit["results"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| {
                e["detail"]["previous"] == old_kid.as_str() && e["actor_user_id"].is_i64()
            })),
        "{audit}"
    );

    // The JWKS publishes next, current and previous.
    let published = w.jwks_kids().await;
    for k in [&old_kid, &next[0], &new_next[0]] {
        assert!(published.contains(k), "{k} not in {published:?}");
    }
    // The old tokens still work; new ones are signed with the new key.
    w.ctx.api.profile(&before.access).await.expect(200);
    let after = w.ctx.api.refresh_ok(&before.refresh).await;
    assert_eq!(kid(&after.access), next[0]);
    assert_eq!(kid(&after.refresh), next[0]);
    w.ctx.api.profile(&after.access).await.expect(200);
    assert_eq!(kid(&w.ctx.api.login_ok(&u).await.access), next[0]);
}

#[tokio::test]
async fn a_token_signed_with_a_retired_key_is_refused() {
    let Some(w) = world("a_token_signed_with_a_retired_key_is_refused").await else {
        return;
    };
    let (_, old) = w.ctx.api.new_creator().await;
    let old_kid = kid(&old.access);
    w.ctx.api.profile(&old.access).await.expect(200); // cached as verified
                                                      // Another host rotates (the CLI, on the same database)...
    let rotated: Value = w.ctx.server.cli_ok(&["keys", "rotate", "--json"]).json();
    assert!(
        rotated.as_array().is_some_and(|ks| ks
            .iter()
            .any(|k| k["kid"] == old_kid.as_str() && k["state"] == "previous")),
        "{rotated}"
    );
    // ...and the previous key's time comes (a drill: `--now` a month on).
    let later = (jwt::now() + 31 * 24 * 3600).to_string();
    let done: Value = w
        .ctx
        .server
        .cli_ok(&["keys", "maintain", "--now", &later, "--json"])
        .json();
    assert!(
        done["retired"]
            .as_array()
            .is_some_and(|r| r.iter().any(|k| k == old_kid.as_str())),
        "{done}"
    );
    // Within the server's key cache bound both tokens are refused and the
    // key is gone from the JWKS.
    let bound = Duration::from_secs(key_cache_secs() as u64 + 5);
    eventually(
        bound,
        "the retired key's access token is refused",
        || async {
            match w.ctx.api.profile(&old.access).await.status {
                401 => Ok(()),
                s => Err(format!("status {s}")),
            }
        },
    )
    .await;
    w.ctx.api.profile_refused(&old.access).await;
    w.ctx.api.refresh_refused(&old.refresh).await;
    assert!(!w.jwks_kids().await.contains(&old_kid));
    // The admin's own token was signed with the retired key too: log in again.
    let w = w.relogin().await;
    let keys = w.keys().await;
    let retired = keys["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == old_kid.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(retired["state"], "retired", "{keys}");
    // A new login works, with a live key.
    let (_, fresh) = w.ctx.api.new_creator().await;
    assert_ne!(kid(&fresh.access), old_kid);
    w.ctx.api.profile(&fresh.access).await.expect(200);
}

#[tokio::test]
async fn two_hosts_rotating_at_once_end_with_one_current_and_one_next() {
    let Some(w) = world("two_hosts_rotating_at_once_end_with_one_current_and_one_next").await
    else {
        return;
    };
    let previous_before = in_state(&w.keys().await, "previous").len();
    let server = w.ctx.server;
    // The CLI (a second host on the database) and the server, at once.
    let cli = tokio::task::spawn_blocking(move || {
        let a = std::thread::spawn(move || server.cli(&["keys", "rotate", "--json"]));
        let b = server.cli(&["keys", "rotate", "--json"]);
        (a.join().expect("CLI thread"), b)
    });
    let (r1, r2) = tokio::join!(w.rotate(), w.rotate());
    let (c1, c2) = cli.await.expect("CLI task");
    let mut wins = 0;
    for r in [&r1, &r2] {
        match r.status {
            200 => wins += 1,
            _ => {
                r.expect_error(409, "rotation_conflict");
            }
        }
    }
    for c in [&c1, &c2] {
        if c.success {
            wins += 1;
        } else {
            assert!(
                c.stderr.contains("another host rotated") || c.stderr.contains("locked"),
                "{c:?}"
            );
        }
    }
    assert!(
        wins >= 1,
        "no rotation succeeded: {r1:?} {r2:?} {c1:?} {c2:?}"
    );
    let keys = w.keys().await;
    assert_eq!(in_state(&keys, "current").len(), 1, "{keys}");
    assert_eq!(in_state(&keys, "next").len(), 1, "{keys}");
    assert_eq!(
        in_state(&keys, "previous").len(),
        previous_before + wins,
        "{keys}"
    );
    // Tokens keep working on the server through it all.
    let (u, t) = w.ctx.api.new_creator().await;
    w.ctx.api.profile(&t.access).await.expect(200);
    let current = in_state(&keys, "current");
    eventually(
        Duration::from_secs(key_cache_secs() as u64 + 5),
        "the server signs with the one current key",
        || async {
            let t = w.ctx.api.login_ok(&u).await;
            if current.contains(&kid(&t.access)) {
                Ok(())
            } else {
                Err(format!("signed with {}", kid(&t.access)))
            }
        },
    )
    .await;
}

#[tokio::test]
async fn the_keys_routes_are_for_admins_only() {
    let Some(w) = world("the_keys_routes_are_for_admins_only").await else {
        return;
    };
    let (_, staff_api) = w.ctx.client(&ClientSpec::admin());
    let staff = w.ctx.server.create_user("staff");
    let access = staff_api.login_ok(&staff).await.access;
    for r in [
        staff_api.get_as("/api/admin/keys/", &access).await,
        staff_api
            .post_empty_as("/api/admin/keys/rotate/", &access)
            .await,
    ] {
        r.expect_error(403, "permission_denied");
    }
    // A creator's token through a web client never reaches the admin API.
    let (_, t) = w.ctx.api.new_creator().await;
    let r = w.ctx.api.get_as("/api/admin/keys/", &t.access).await;
    assert!(r.status == 403 || r.status == 401, "{}", r.status);
}
