//! crash-test: SIGKILL the release `gatehouse` under write load, restart it
//! on the same database, and check that every answered write took effect
//! and nothing was half-written.
//!
//! Each round: start the server (on the database the last round left),
//! verify what the previous round recorded, run register, chained refresh
//! and change-password load from several connections, SIGKILL the server at a
//! random moment (seeded RNG, seed printed), then open the file read-only
//! and check it. After the last kill: one more restart and a full
//! verification, then a clean SIGTERM.
//!
//! ```text
//! crash-test [--rounds 5] [--seed N] [--min-load 300ms] [--max-load 2500ms]
//!            [--registrars 2] [--refreshers 6] [--changers 2]
//!            [--argon2-memory-kib 1024] [--argon2-iterations 1]
//!            [--work-dir DIR] [--gatehouse-bin PATH]
//! ```

use gatehouse_robustness::*;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const P: &str = "crash";

/// A user registered through the API.
#[derive(Debug, Clone)]
struct Registered {
    email: String,
    password: String,
    /// The 201 arrived (else the request was cut by the kill).
    confirmed: bool,
    round: u32,
}

/// A user whose password is changed over and over.
#[derive(Debug, Clone)]
struct Changer {
    email: String,
    /// The password of the last change that got a 200 (or the first one).
    password: String,
    /// The password before that one (must no longer work).
    previous: Option<String>,
    /// A change cut by the kill: it may or may not have been applied.
    pending: Option<String>,
    access: Option<String>,
}

/// A refresh-token family rotated in a chain.
#[derive(Debug, Clone)]
struct Family {
    user: usize,
    /// The refresh token of the last 200 (or of the login).
    current: String,
    /// The token `current` replaced (dead since that 200).
    previous: Option<String>,
    /// A refresh of `current` was cut by the kill: it may have rotated.
    pending: bool,
    /// 200s this family has had.
    rotations: u64,
}

#[derive(Debug, Default)]
struct Ledger {
    registered: Vec<Registered>,
    changers: Vec<Changer>,
    /// Users whose families refreshers chain (email, password).
    refresh_users: Vec<(String, String)>,
    families: Vec<Family>,
    /// Answers no correct server gives under this load (status, what).
    unexpected: Vec<String>,
    /// 2xx answers recorded during load, by operation.
    ok_register: u64,
    ok_refresh: u64,
    ok_change: u64,
}

struct Ctx {
    bin: PathBuf,
    db: PathBuf,
    log: PathBuf,
    opts: ServerOpts,
    creds: Creds,
    run: String,
}

fn main() {
    let args = Args::from_env();
    let rounds: u32 = args.parse("rounds", 5);
    let seed: u64 = args.parse("seed", Rng::fresh_seed());
    let min_load = duration_arg(&args, "min-load", Duration::from_millis(300));
    let max_load = duration_arg(&args, "max-load", Duration::from_millis(2500));
    let registrars: usize = args.parse("registrars", 2);
    let refreshers: usize = args.parse("refreshers", 6);
    let changers: usize = args.parse("changers", 2);
    let mem: u32 = args.parse("argon2-memory-kib", 1024);
    let iters: u32 = args.parse("argon2-iterations", 1);
    let Workspace { bin, work, db, log } = args.workspace("crash");
    info(P, format!("seed {seed} (rerun with --seed {seed}); {rounds} rounds; load {min_load:?}..{max_load:?} before each SIGKILL"));
    info(
        P,
        format!(
            "binary {}; database {}; server log {}",
            bin.display(),
            db.display(),
            log.display()
        ),
    );

    let rt = client_runtime(2);
    let mut checks = Checks::new(P);
    let started = Instant::now();
    let creds = checks.setup(
        create_client(&bin, &db, "crash-test").map_err(|e| format!("create-api-client: {e}")),
    );
    let ctx = Ctx {
        bin,
        db,
        log,
        opts: ServerOpts {
            args: vec![
                "--argon2-memory-kib".into(),
                mem.to_string(),
                "--argon2-iterations".into(),
                iters.to_string(),
                // Verification logs in with passwords that may be stale on
                // purpose; the throttles are not under test here.
                "--login-failures-per-account".into(),
                "1000000".into(),
                // A spent token is checked to be dead at once (a replay);
                // the reuse grace would reissue it within its window.
                "--refresh-reuse-grace".into(),
                "0".into(),
                "--login-failures-per-ip".into(),
                "1000000".into(),
            ],
            log_filter: Some("info".into()),
        },
        creds,
        run: format!("{:x}", seed & 0xffff_ffff),
    };
    let mut rng = Rng::new(seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));

    for round in 0..=rounds {
        let server = match Server::start(&ctx.bin, &ctx.db, &ctx.log, &ctx.opts) {
            Ok(s) => s,
            Err(e) => {
                checks.check(false, &format!("round {round}: restart"), e);
                checks.finish();
            }
        };
        let target = server.target(ctx.creds.clone());
        if round == 0 {
            checks.setup(rt.block_on(setup(&ctx, &target, &ledger, refreshers, changers)));
        } else {
            let last = round == rounds;
            rt.block_on(verify(&target, &ledger, round, last, &mut rng, &mut checks));
        }
        if round == rounds {
            let status = server.terminate();
            info(P, format!("final server stopped with SIGTERM ({status})"));
            break;
        }
        // Load, then SIGKILL at a random moment.
        let load_for = min_load + (max_load - min_load).mul_f64(rng.unit());
        let stop = Arc::new(AtomicBool::new(false));
        let before = counts(&ledger);
        let handles = spawn_load(
            &rt, &ctx, &target, &ledger, &stop, round, registrars, refreshers, changers,
        );
        std::thread::sleep(load_for);
        let killed_at = Instant::now();
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        rt.block_on(async {
            for h in handles {
                let _ = h.await;
            }
        });
        let after = counts(&ledger);
        let pending = {
            let l = ledger.lock().unwrap();
            (
                l.registered
                    .iter()
                    .filter(|r| !r.confirmed && r.round == round)
                    .count(),
                l.families.iter().filter(|f| f.pending).count(),
                l.changers.iter().filter(|c| c.pending.is_some()).count(),
            )
        };
        info(
            P,
            format!(
                "round {round}: SIGKILL after {:.0} ms of load; 2xx since start: {} registers, {} refreshes, {} password changes; cut mid-request: {} registers, {} refreshes, {} changes ({} ms to drain clients)",
                load_for.as_secs_f64() * 1000.0,
                after.0 - before.0,
                after.1 - before.1,
                after.2 - before.2,
                pending.0,
                pending.1,
                pending.2,
                killed_at.elapsed().as_millis()
            ),
        );
        rt.block_on(check_file(&ctx.db, &ledger, round, &mut checks));
    }

    let l = ledger.lock().unwrap();
    checks.none_found(&l.unexpected, "no unexpected answers under load", "none");
    info(
        P,
        format!(
            "totals: {} registers, {} refreshes, {} password changes answered 2xx over {rounds} kills; {:.1} s",
            l.ok_register,
            l.ok_refresh,
            l.ok_change,
            started.elapsed().as_secs_f64()
        ),
    );
    drop(l);
    if checks.failed == 0 && args.value("work-dir").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    checks.finish();
}

fn counts(ledger: &Mutex<Ledger>) -> (u64, u64, u64) {
    let l = ledger.lock().unwrap();
    (l.ok_register, l.ok_refresh, l.ok_change)
}

/// Round 0: users for the refreshers and changers, one family each.
async fn setup(
    ctx: &Ctx,
    target: &Target,
    ledger: &Mutex<Ledger>,
    refreshers: usize,
    changers: usize,
) -> Result<(), Error> {
    let mut conn = Conn::new(target);
    let mut rng = Rng::new(0xC0FFEE ^ refreshers as u64);
    for i in 0..refreshers + changers {
        let kind = if i < refreshers { "rf" } else { "pw" };
        let username = format!("crash{}{kind}{i}", ctx.run);
        let email = format!("{username}@example.com");
        let pw = rng.password();
        let r = conn
            .register(&username, &pw)
            .await
            .map_err(|e| format!("register {email}: {e}"))?;
        if r.status.as_u16() != 201 {
            return Err(format!("register {email}: {} {}", r.status, r.text()).into());
        }
        let mut l = ledger.lock().unwrap();
        if i < refreshers {
            l.refresh_users.push((email, pw));
            let user = l.refresh_users.len() - 1;
            l.families.push(Family {
                user,
                current: r.field("refresh").ok_or("no refresh")?,
                previous: None,
                pending: false,
                rotations: 0,
            });
        } else {
            l.changers.push(Changer {
                email,
                password: pw,
                previous: None,
                pending: None,
                access: r.field("access"),
            });
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn spawn_load(
    rt: &tokio::runtime::Runtime,
    ctx: &Ctx,
    target: &Target,
    ledger: &Arc<Mutex<Ledger>>,
    stop: &Arc<AtomicBool>,
    round: u32,
    registrars: usize,
    refreshers: usize,
    changers: usize,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut handles = Vec::new();
    let load = Load {
        target: target.clone(),
        ledger: ledger.clone(),
        stop: stop.clone(),
    };
    for w in 0..registrars {
        let prefix = format!("crash{}r{round}w{w}n", ctx.run);
        handles.push(rt.spawn(register_loop(load.clone(), prefix, round)));
    }
    let families = ledger.lock().unwrap().families.len();
    for w in 0..refreshers {
        // Worker w chains families w, w + refreshers, …
        let mine: Vec<usize> = (w..families).step_by(refreshers).collect();
        handles.push(rt.spawn(refresh_loop(load.clone(), mine)));
    }
    for w in 0..changers {
        let seed = (u64::from(round) << 32) | w as u64;
        handles.push(rt.spawn(change_loop(load.clone(), w, seed)));
    }
    handles
}

/// What every load loop shares: the server, the ledger of answered
/// writes, and the flag that ends the round.
#[derive(Clone)]
struct Load {
    target: Target,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
}

impl Load {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::SeqCst)
    }
    /// Records an answer no rule allows; the loop then stops.
    fn unexpected(&self, what: String) {
        self.ledger.lock().unwrap().unexpected.push(what);
    }
}

async fn register_loop(load: Load, prefix: String, round: u32) {
    let (ledger, mut conn) = (&load.ledger, Conn::new(&load.target));
    let mut rng = Rng::new(prefix.len() as u64 ^ u64::from(round) ^ Rng::fresh_seed());
    let mut n = 0u64;
    while load.running() {
        let username = format!("{prefix}{n}");
        n += 1;
        let email = format!("{username}@example.com");
        let pw = rng.password();
        let idx = {
            let mut l = ledger.lock().unwrap();
            l.registered.push(Registered {
                email: email.clone(),
                password: pw.clone(),
                confirmed: false,
                round,
            });
            l.registered.len() - 1
        };
        match conn.register(&username, &pw).await {
            Ok(r) if r.status.as_u16() == 201 => {
                let mut l = ledger.lock().unwrap();
                l.registered[idx].confirmed = true;
                l.ok_register += 1;
            }
            Ok(r) => {
                return load.unexpected(format!("register {email}: {} {}", r.status, r.text()))
            }
            Err(_) => return, // the kill: stays unconfirmed
        }
    }
}

async fn refresh_loop(load: Load, mine: Vec<usize>) {
    if mine.is_empty() {
        return;
    }
    let (ledger, mut conn) = (&load.ledger, Conn::new(&load.target));
    let mut i = 0;
    while load.running() {
        let f = mine[i % mine.len()];
        i += 1;
        let current = {
            let mut l = ledger.lock().unwrap();
            l.families[f].pending = true;
            l.families[f].current.clone()
        };
        match conn.refresh(&current).await {
            Ok(r) if r.status.as_u16() == 200 => {
                let mut l = ledger.lock().unwrap();
                match r.field("refresh") {
                    Some(new) => {
                        let fam = &mut l.families[f];
                        fam.previous = Some(std::mem::replace(&mut fam.current, new));
                        fam.pending = false;
                        fam.rotations += 1;
                        l.ok_refresh += 1;
                    }
                    None => l
                        .unexpected
                        .push(format!("refresh: 200 without a token: {}", r.text())),
                }
            }
            Ok(r) => {
                ledger.lock().unwrap().families[f].pending = false;
                return load.unexpected(format!("refresh family {f}: {} {}", r.status, r.text()));
            }
            Err(_) => return, // the kill: stays pending
        }
    }
}

async fn change_loop(load: Load, who: usize, seed: u64) {
    let (ledger, mut conn) = (&load.ledger, Conn::new(&load.target));
    let mut rng = Rng::new(seed ^ Rng::fresh_seed());
    while load.running() {
        let new = rng.password();
        let (old, access) = {
            let mut l = ledger.lock().unwrap();
            let c = &mut l.changers[who];
            c.pending = Some(new.clone());
            (c.password.clone(), c.access.clone())
        };
        let Some(access) = access else { return };
        let body = json!({"old_password": old, "new_password": new, "new_password2": new});
        match conn
            .post("/api/auth/change-password/", Some(&access), &body)
            .await
        {
            Ok(r) if r.status.as_u16() == 200 => {
                let mut l = ledger.lock().unwrap();
                let c = &mut l.changers[who];
                c.previous = Some(std::mem::replace(&mut c.password, new));
                c.pending = None;
                c.access = r.field("access");
                l.ok_change += 1;
            }
            Ok(r) => {
                ledger.lock().unwrap().changers[who].pending = None;
                return load.unexpected(format!(
                    "change-password {who}: {} {}",
                    r.status,
                    r.text()
                ));
            }
            Err(_) => return, // the kill: stays pending
        }
    }
}

async fn refresh(conn: &mut Conn, token: &str) -> Option<u16> {
    conn.refresh(token).await.ok().map(|r| r.status.as_u16())
}

/// After a restart: every answered write took effect.
async fn verify(
    target: &Target,
    ledger: &Mutex<Ledger>,
    round: u32,
    last: bool,
    rng: &mut Rng,
    checks: &mut Checks,
) {
    let mut conn = Conn::new(target);
    let killed = round - 1;
    let r = format!("round {round}");

    // 1. Registered users log in: those of the round just killed, all of
    //    them after the last kill. Cut registrations may or may not exist.
    let users: Vec<(usize, Registered)> = {
        let l = ledger.lock().unwrap();
        l.registered
            .iter()
            .enumerate()
            .filter(|(_, u)| last || u.round == killed)
            .map(|(i, u)| (i, u.clone()))
            .collect()
    };
    let (mut ok, mut bad, mut cut_in, mut cut_out) = (0, Vec::new(), 0, 0);
    for (i, u) in &users {
        let status = conn
            .login(&u.email, &u.password)
            .await
            .map(|r| r.status.as_u16());
        match (u.confirmed, status) {
            (true, Ok(200)) => ok += 1,
            (true, s) => bad.push(format!("{} → {s:?}", u.email)),
            (false, Ok(200)) => {
                cut_in += 1;
                ledger.lock().unwrap().registered[*i].confirmed = true;
            }
            (false, Ok(401)) => {
                cut_out += 1;
                ledger.lock().unwrap().registered[*i].round = u32::MAX; // never existed
            }
            (false, s) => bad.push(format!("{} (cut) → {s:?}", u.email)),
        }
    }
    checks.check(
        bad.is_empty(),
        &format!("{r}: every 201'd registration can log in"),
        format!(
            "{ok} of {} confirmed users log in; cut registrations: {cut_in} applied, {cut_out} not{}",
            ok + bad.len(),
            if bad.is_empty() { String::new() } else { format!("; failures: {:?}", &bad[..bad.len().min(5)]) }
        ),
    );

    // 2. Password changes: the last 200'd password works, the one before
    //    it does not; a cut change is either applied or not.
    let changers = ledger.lock().unwrap().changers.clone();
    let mut bad = Vec::new();
    let (mut applied, mut not_applied) = (0, 0);
    for (i, c) in changers.iter().enumerate() {
        let mut current = c.password.clone();
        let mut previous = c.previous.clone();
        let mut access = None;
        if let Some(p) = &c.pending {
            match conn.login(&c.email, p).await {
                Ok(r) if r.status.as_u16() == 200 => {
                    applied += 1;
                    previous = Some(std::mem::replace(&mut current, p.clone()));
                    access = r.field("access");
                }
                Ok(r) if r.status.as_u16() == 401 => not_applied += 1,
                other => bad.push(format!(
                    "{} cut password → {:?}",
                    c.email,
                    other.map(|r| r.status)
                )),
            }
        }
        if access.is_none() {
            match conn.login(&c.email, &current).await {
                Ok(r) if r.status.as_u16() == 200 => access = r.field("access"),
                other => bad.push(format!(
                    "{} latest 200'd password → {:?}",
                    c.email,
                    other.map(|r| r.status)
                )),
            }
        }
        if let Some(prev) = &previous {
            match conn.login(&c.email, prev).await {
                Ok(r) if r.status.as_u16() == 401 => {}
                other => bad.push(format!(
                    "{} replaced password → {:?}",
                    c.email,
                    other.map(|r| r.status)
                )),
            }
        }
        let mut l = ledger.lock().unwrap();
        let c = &mut l.changers[i];
        c.password = current;
        c.previous = previous;
        c.pending = None;
        c.access = access;
    }
    checks.check(
        bad.is_empty(),
        &format!("{r}: the last 200'd password works, the one it replaced does not"),
        if bad.is_empty() {
            format!(
                "{} users; cut changes: {applied} applied, {not_applied} not",
                changers.len()
            )
        } else {
            format!("{bad:?}")
        },
    );

    // 3. Families: the last token from a 200 works (once); the token it
    //    replaced is dead. A replay revokes the family, so the full check
    //    runs only on families then discarded (a third of them, all of them
    //    after the last kill); the rest keep rotating next round.
    let families = ledger.lock().unwrap().families.clone();
    let mut bad = Vec::new();
    let (mut cont, mut discarded, mut cut_rotated, mut cut_not) = (0, 0, 0, 0);
    let mut next = Vec::new();
    for f in families {
        let who = format!("family of user {} after {} rotations", f.user, f.rotations);
        let discard = last || rng.below(3) == 0;
        // The last 200'd token must work. If a refresh of it was cut by
        // the kill, it may have rotated already: then it is spent, this is
        // a replay (401) and the family is revoked.
        let new = match conn.refresh(&f.current).await {
            Ok(r) if r.status.as_u16() == 200 => {
                if f.pending {
                    cut_not += 1;
                }
                r.field("refresh")
            }
            Ok(r) if f.pending && r.status.as_u16() == 401 => {
                cut_rotated += 1;
                continue;
            }
            other => {
                bad.push(format!(
                    "{who}: latest 200'd token → {:?}",
                    other.map(|r| r.status)
                ));
                continue;
            }
        };
        let Some(new) = new else {
            bad.push(format!("{who}: 200 without a refresh token"));
            continue;
        };
        if !discard {
            cont += 1;
            next.push(Family {
                previous: Some(f.current.clone()),
                current: new,
                pending: false,
                rotations: f.rotations + 1,
                user: f.user,
            });
            continue;
        }
        discarded += 1;
        // Works once: the same token again is a replay.
        if refresh(&mut conn, &f.current).await != Some(401) {
            bad.push(format!("{who}: latest token worked twice"));
        }
        if let Some(prev) = &f.previous {
            if refresh(&mut conn, prev).await != Some(401) {
                bad.push(format!("{who}: the replaced token is alive"));
            }
        }
        // The replay revoked the family: the token just issued is dead too.
        if refresh(&mut conn, &new).await != Some(401) {
            bad.push(format!("{who}: family not revoked after a replay"));
        }
    }
    checks.none_found(
        &bad,
        &format!("{r}: 200'd refresh tokens work once, replaced ones are dead"),
        &format!("{cont} families continue, {discarded} fully checked and discarded; cut refreshes: {cut_rotated} had rotated, {cut_not} had not"),
    );

    // Fresh families by login so each refresher keeps one: the families
    // that continue plus new ones for the users that lost theirs.
    let refresh_users = ledger.lock().unwrap().refresh_users.clone();
    let mut have: HashSet<usize> = next.iter().map(|f| f.user).collect();
    for (u, (email, pw)) in refresh_users.iter().enumerate() {
        if have.contains(&u) {
            continue;
        }
        match conn.login(email, pw).await {
            Ok(r) if r.status.as_u16() == 200 => {
                if let Some(t) = r.field("refresh") {
                    next.push(Family {
                        user: u,
                        current: t,
                        previous: None,
                        pending: false,
                        rotations: 0,
                    });
                    have.insert(u);
                }
            }
            other => bad.push(format!(
                "refresh user {email} login → {:?}",
                other.map(|r| r.status)
            )),
        }
    }
    next.sort_by_key(|f| f.user);
    ledger.lock().unwrap().families = next;
}

/// After a kill, before the restart: the file read-only.
async fn check_file(db: &Path, ledger: &Mutex<Ledger>, round: u32, checks: &mut Checks) {
    let r = format!("round {round} file");
    let conn = match open_read_only(db).await {
        Ok(c) => c,
        Err(e) => {
            checks.check(false, &format!("{r}: opens read-only"), e);
            return;
        }
    };
    let integrity = query(&conn, "PRAGMA integrity_check").await;
    let integrity = integrity
        .map(|rows| {
            rows.iter()
                .map(|r| value_text(&r[0]))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|e| format!("error: {e}"));
    checks.check(
        integrity == "ok",
        &format!("{r}: integrity_check"),
        &integrity,
    );

    let scalar = |sql: &'static str| {
        let conn = &conn;
        async move {
            query(conn, sql)
                .await
                .ok()
                .and_then(|rows| rows.first().map(|r| value_text(&r[0])))
                .unwrap_or_else(|| "error".into())
        }
    };
    let half_users = scalar(
        "SELECT count(*) FROM users WHERE password_hash IS NULL OR password_hash NOT LIKE '$argon2id$%' OR email_normalized = '' OR username = ''",
    )
    .await;
    let orphans = scalar(
        "SELECT count(*) FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL OR s.current_jti = ''",
    )
    .await;
    checks.check(
        half_users == "0" && orphans == "0",
        &format!("{r}: nothing half-written"),
        format!("users without a valid password hash: {half_users}; sessions without a user or a current token: {orphans}"),
    );

    // Every 201'd registration is in the file.
    let emails: HashSet<String> = query(&conn, "SELECT email_normalized FROM users")
        .await
        .map(|rows| rows.iter().map(|r| value_text(&r[0])).collect())
        .unwrap_or_default();
    let sessions: HashMap<String, (String, bool)> = query(
        &conn,
        "SELECT id, current_jti, revoked_at IS NULL FROM sessions",
    )
    .await
    .map(|rows| {
        rows.iter()
            .map(|r| {
                (
                    value_text(&r[0]),
                    (value_text(&r[1]), value_text(&r[2]) == "1"),
                )
            })
            .collect()
    })
    .unwrap_or_default();
    let l = ledger.lock().unwrap();
    let missing: Vec<&str> = l
        .registered
        .iter()
        .filter(|u| u.confirmed && !emails.contains(&u.email.to_lowercase()))
        .map(|u| u.email.as_str())
        .collect();
    checks.check(
        missing.is_empty(),
        &format!("{r}: every 201'd user is in the file"),
        format!(
            "{} confirmed, {} missing{}",
            l.registered.iter().filter(|u| u.confirmed).count(),
            missing.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(": {:?}", &missing[..missing.len().min(5)])
            }
        ),
    );
    // The session row holds the jti of the last 200'd refresh (one live
    // token per family), unless a cut refresh rotated it further.
    let mut bad = Vec::new();
    let (mut exact, mut cut_moved) = (0, 0);
    for f in &l.families {
        let (Some(sid), Some(jti)) = (jwt_claim(&f.current, "sid"), jwt_claim(&f.current, "jti"))
        else {
            bad.push("a token without sid/jti".to_owned());
            continue;
        };
        match sessions.get(&sid) {
            None => bad.push(format!("session {sid} missing")),
            Some((_, false)) => bad.push(format!("session {sid} revoked")),
            Some((cur, true)) if *cur == jti => exact += 1,
            Some((_, true)) if f.pending => cut_moved += 1,
            Some((cur, true)) => bad.push(format!(
                "session {sid}: current_jti {cur}, last 200'd jti {jti}"
            )),
        }
    }
    checks.none_found(
        &bad,
        &format!("{r}: each family's live token is its last 200'd one"),
        &format!("{exact} families match; {cut_moved} moved on by a cut refresh"),
    );
}
