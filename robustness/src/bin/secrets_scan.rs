//! secrets-scan: runs a scripted flow against a server logging at `trace`,
//! then checks that no password, token, API key or signing key appears in
//! any log line, that no response echoes a password, the API key or a
//! secret sent with its request, and that the signing key (table
//! `signing_keys`, read from the file after the run; a retired key's erased
//! secret is empty and skipped) is never served.
//!
//! ```text
//! secrets-scan [--log-filter trace] [--work-dir DIR] [--gatehouse-bin PATH]
//!              [--extra-log=FILE]…   (more logs to scan for the generic
//!                                     patterns, e.g. a contract run's)
//! ```

use gatehouse_robustness::*;
use http::Method;
use serde_json::json;
use std::process::Command;

const P: &str = "secrets";

/// One request/response of the flow.
struct Exchange {
    what: String,
    /// Secrets this request carried (none may come back in its response).
    sent: Vec<String>,
    status: u16,
    /// Status line, headers and body as text.
    response: String,
}

#[derive(Default)]
struct Flow {
    exchanges: Vec<Exchange>,
    passwords: Vec<String>,
    tokens: Vec<String>,
    api_keys: Vec<String>,
}

impl Flow {
    fn record(&mut self, what: &str, sent: &[&str], r: &Result<Resp, Failure>) -> Option<Resp> {
        match r {
            Ok(resp) => {
                let mut text = format!("{}\n", resp.status);
                for (k, v) in &resp.headers {
                    text.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
                }
                text.push_str(&resp.text());
                for k in ["access", "refresh"] {
                    if let Some(t) = resp.field(k) {
                        self.tokens.push(t);
                    }
                }
                self.exchanges.push(Exchange {
                    what: what.to_owned(),
                    sent: sent
                        .iter()
                        .map(|s| s.to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    status: resp.status.as_u16(),
                    response: text,
                });
                Some(resp.clone())
            }
            Err(e) => {
                self.exchanges.push(Exchange {
                    what: what.to_owned(),
                    sent: Vec::new(),
                    status: 0,
                    response: format!("no answer: {e}"),
                });
                None
            }
        }
    }
}

fn main() {
    let args = Args::from_env();
    let filter = args.value("log-filter").unwrap_or_else(|| "trace".into());
    let Workspace { bin, work, db, log } = args.workspace("secrets");
    let cli_log = work.join("cli.log");
    let mut checks = Checks::new(P);
    info(
        P,
        format!("server log filter {filter}; log {}", log.display()),
    );

    // The API client through the CLI, its stderr kept for the scan too.
    let out = Command::new(&bin)
        .arg("--database-url")
        .arg(&db)
        .args([
            "create-api-client",
            "--name",
            "secrets",
            "--type",
            "web",
            "--rate-limit",
            "100000000",
            "--json",
        ])
        .env("GATEHOUSE_LOG", &filter)
        .output()
        .expect("run gatehouse");
    std::fs::write(&cli_log, &out.stderr).ok();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let (Some(client_id), Some(api_key)) = (v["client_id"].as_str(), v["api_key"].as_str()) else {
        checks.check(
            false,
            "setup",
            format!(
                "create-api-client: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        );
        checks.finish();
    };
    let creds = Creds {
        client_id: client_id.to_owned(),
        api_key: api_key.to_owned(),
    };
    let server = checks.setup(Server::start(
        &bin,
        &db,
        &log,
        &ServerOpts {
            args: Vec::new(),
            log_filter: Some(filter.clone()),
        },
    ));
    let target = server.target(creds.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut flow = Flow::default();
    flow.api_keys.push(creds.api_key.clone());
    rt.block_on(run_flow(&target, &mut flow));
    let status = server.terminate();
    info(
        P,
        format!(
            "{} exchanges; server stopped with SIGTERM ({status})",
            flow.exchanges.len()
        ),
    );

    // The signing key, from the file.
    let keys: Vec<Vec<u8>> = rt.block_on(async {
        match open_read_only(&db).await {
            Ok(conn) => query(
                &conn,
                "SELECT secret FROM signing_keys WHERE length(secret) > 0",
            )
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| match &r[0] {
                libsql::Value::Blob(b) => Some(b.clone()),
                libsql::Value::Text(t) => Some(t.as_bytes().to_vec()),
                _ => None,
            })
            .collect(),
            Err(_) => Vec::new(),
        }
    });
    checks.check(
        !keys.is_empty(),
        "signing key read from the file",
        format!(
            "{} key(s), {:?} bytes",
            keys.len(),
            keys.iter().map(Vec::len).collect::<Vec<_>>()
        ),
    );
    let mut key_forms: Vec<String> = Vec::new();
    for k in &keys {
        // The whole record and, for a 64-byte seed‖public key, the seed
        // alone (the public half is served on purpose, in the JWKS).
        let mut parts = vec![k.clone()];
        if k.len() == 64 {
            parts.push(k[..32].to_vec());
        }
        for p in parts {
            for url in [false, true] {
                key_forms.push(base64_encode(&p, url, false));
            }
            key_forms.push(hex(&p));
            if let Ok(s) = std::str::from_utf8(&p) {
                if s.len() >= 16 {
                    key_forms.push(s.to_owned());
                }
            }
        }
    }

    let logs = std::fs::read_to_string(&log).unwrap_or_default()
        + &std::fs::read_to_string(&cli_log).unwrap_or_default();
    let lines = logs.lines().count();
    let access_lines = logs.matches("gatehouse::access").count();
    checks.check(
        lines > 0 && access_lines >= flow.exchanges.len() / 2,
        "the logs are not empty (the scan means something)",
        format!(
            "{lines} log lines, {access_lines} access lines, {} bytes",
            logs.len()
        ),
    );

    // 1. Logs: no value used.
    let mut leaks = Vec::new();
    for (kind, values) in [
        ("password", &flow.passwords),
        ("token", &flow.tokens),
        ("API key", &flow.api_keys),
        ("signing key", &key_forms),
    ] {
        for v in values {
            if logs.contains(v.as_str()) {
                leaks.push(format!("{kind} {}…", &v[..v.len().min(12)]));
            }
        }
        if kind == "token" {
            // The signature part alone is the unforgeable bit of a token.
            for t in values {
                if let Some(sig) = t.rsplit('.').next().filter(|s| s.len() >= 20) {
                    if logs.contains(sig) {
                        leaks.push(format!("token signature {}…", &sig[..12]));
                    }
                }
            }
        }
    }
    checks.check(
        leaks.is_empty(),
        "no password, token, API key or signing key in any log line",
        format!(
            "{} passwords, {} tokens, {} API key(s), {} signing-key encodings scanned{}",
            flow.passwords.len(),
            flow.tokens.len(),
            flow.api_keys.len(),
            key_forms.len(),
            if leaks.is_empty() {
                String::new()
            } else {
                format!("; found: {leaks:?}")
            }
        ),
    );
    let patterns = generic_patterns(&logs);
    checks.none_found(
        &patterns,
        "no JWT-, API-key- or hash-shaped strings in the logs",
        "none",
    );
    for extra in std::env::args().filter_map(|a| a.strip_prefix("--extra-log=").map(str::to_owned))
    {
        let text = std::fs::read_to_string(&extra).unwrap_or_default();
        let p = generic_patterns(&text);
        checks.check(
            p.is_empty(),
            &format!("no secret-shaped strings in {extra}"),
            format!("{} lines; {p:?}", text.lines().count()),
        );
    }

    // 2. Responses: never a password, the API key or the signing key; never
    //    a secret of their own request.
    let mut echoes = Vec::new();
    for x in &flow.exchanges {
        for (kind, values) in [
            ("password", &flow.passwords),
            ("API key", &flow.api_keys),
            ("signing key", &key_forms),
        ] {
            for v in values {
                if x.response.contains(v.as_str()) {
                    echoes.push(format!("{} ({}) carries a {kind}", x.what, x.status));
                }
            }
        }
        for s in &x.sent {
            if x.response.contains(s.as_str()) {
                echoes.push(format!(
                    "{} ({}) echoes a secret of its request",
                    x.what, x.status
                ));
            }
        }
    }
    checks.check(
        echoes.is_empty(),
        "no response carries a password, the API key, the signing key, or a secret sent with it",
        if echoes.is_empty() {
            format!("{} responses scanned", flow.exchanges.len())
        } else {
            format!("{echoes:?}")
        },
    );
    let unanswered: Vec<&str> = flow
        .exchanges
        .iter()
        .filter(|x| x.status == 0 || x.status >= 500)
        .map(|x| x.what.as_str())
        .collect();
    checks.check(
        unanswered.is_empty(),
        "every request of the flow answered without a 5xx",
        format!("{unanswered:?}"),
    );
    if checks.failed == 0 && args.value("work-dir").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    checks.finish();
}

/// Strings shaped like a secret: a JWT (`eyJ….eyJ….`), an API key
/// (`sk_` + 40 or more base64url characters), an Argon2 hash.
fn generic_patterns(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    for (i, _) in text.match_indices("eyJ") {
        let rest = &text[i..];
        let seg1: String = rest.chars().take_while(|c| b64(*c)).collect();
        let after = &rest[seg1.len()..];
        if after.starts_with(".eyJ") {
            found.push(format!("JWT {}…", &rest[..rest.len().min(20)]));
        }
    }
    for (i, _) in text.match_indices("sk_") {
        let key: String = text[i + 3..].chars().take_while(|c| b64(*c)).collect();
        if key.len() >= 40 {
            found.push(format!("API key sk_{}…", &key[..8]));
        }
    }
    if text.contains("$argon2") {
        found.push("an Argon2 hash".into());
    }
    found.truncate(10);
    found
}

const LOGIN: &str = "/api/auth/token/";
const REFRESH: &str = "/api/auth/token/refresh/";

async fn run_flow(target: &Target, flow: &mut Flow) {
    let mut c = Conn::new(target);
    c.extra.push(("user-agent".into(), "secrets-scan/1".into()));
    let mut rng = Rng::new(Rng::fresh_seed());
    let run = rng.token(8);
    let user = format!("sec{run}");
    let email = format!("{user}@example.com");
    let pw1 = format!("Pw1-{}", rng.token(16));
    let pw2 = format!("Pw2-{}", rng.token(16));
    let wrong = format!("Wrong-{}", rng.token(16));
    let unknown_pw = format!("Unknown-{}", rng.token(16));
    let mismatch_a = format!("MisA-{}", rng.token(16));
    let mismatch_b = format!("MisB-{}", rng.token(16));
    let trunc = format!("Trunc-{}", rng.token(16));
    let typed = format!("Typed-{}", rng.token(16));
    let numeric = format!("{}", 10_000_000_000u64 + rng.below(1_000_000_000));
    for p in [
        &pw1,
        &pw2,
        &wrong,
        &unknown_pw,
        &mismatch_a,
        &mismatch_b,
        &trunc,
        &typed,
        &numeric,
    ] {
        flow.passwords.push(p.clone());
    }

    // Register, log in, refresh, profile, PATCH, sessions.
    let r = c
        .post("/api/auth/register/", None, &json!({"email": email, "username": user, "password": pw1, "password2": pw1, "first_name": "Sec"}))
        .await;
    flow.record("register", &[&pw1], &r);
    let r = c.login(&email, &pw1).await;
    let login = flow.record("login", &[&pw1], &r);
    let mut access = login
        .as_ref()
        .and_then(|r| r.field("access"))
        .unwrap_or_default();
    let mut refresh = login
        .as_ref()
        .and_then(|r| r.field("refresh"))
        .unwrap_or_default();
    let r = c
        .post(
            "/api/auth/token/refresh/",
            None,
            &json!({"refresh": refresh}),
        )
        .await;
    let rotated = flow.record("refresh", &[&refresh], &r);
    let spent = refresh.clone();
    if let Some(t) = rotated.as_ref().and_then(|r| r.field("refresh")) {
        refresh = t;
    }
    if let Some(t) = rotated.as_ref().and_then(|r| r.field("access")) {
        access = t;
    }
    let r = c.get("/api/auth/profile/", Some(&access)).await;
    flow.record("profile GET", &[&access], &r);
    let r = c
        .call(
            Method::PATCH,
            "/api/auth/profile/",
            Some(&access),
            Some(&json!({"first_name": "Secret", "password": pw1})),
        )
        .await;
    flow.record("profile PATCH with a password field", &[&access, &pw1], &r);
    let r = c.get("/api/auth/sessions/", Some(&access)).await;
    flow.record("sessions list", &[&access], &r);

    // Change password, then log out with the new pair.
    let r = c
        .post(
            "/api/auth/change-password/",
            Some(&access),
            &json!({"old_password": pw1, "new_password": pw2, "new_password2": pw2}),
        )
        .await;
    let changed = flow.record("change-password", &[&access, &pw1, &pw2], &r);
    let r = c
        .post("/api/auth/change-password/", Some(&access), &json!({"old_password": wrong, "new_password": mismatch_a, "new_password2": mismatch_b}))
        .await;
    flow.record(
        "change-password, wrong old + mismatch",
        &[&wrong, &mismatch_a, &mismatch_b],
        &r,
    );
    if let Some(resp) = &changed {
        access = resp.field("access").unwrap_or(access);
        refresh = resp.field("refresh").unwrap_or(refresh);
    }
    let r = c
        .post(
            "/api/auth/logout/",
            Some(&access),
            &json!({"refresh": refresh}),
        )
        .await;
    flow.record("logout", &[&access, &refresh], &r);

    // Failures: bad logins, replay, bad keys, bad bodies.
    let nobody = format!("nobody{run}@example.com");
    for (what, who, pw) in [
        ("login, wrong password", &email, &wrong),
        ("login, unknown email", &nobody, &unknown_pw),
    ] {
        let r = c
            .post(LOGIN, None, &json!({"email": who, "password": pw}))
            .await;
        flow.record(what, &[pw], &r);
    }
    let r = c
        .post(LOGIN, None, &json!({"email": email, "password": pw2}))
        .await;
    let relog = flow.record("login, new password", &[&pw2], &r);
    let tampered = format!("{}x", &refresh[..refresh.len().saturating_sub(1)]);
    for (what, token) in [
        ("refresh, replayed token", &spent),
        ("refresh, tampered token", &tampered),
    ] {
        let r = c.post(REFRESH, None, &json!({"refresh": token})).await;
        flow.record(what, &[token], &r);
    }
    let r = c.get("/api/auth/profile/", Some(&spent)).await;
    flow.record("profile with a refresh token as bearer", &[&spent], &r);
    for (what, name, pw, pw2) in [
        (
            "register, passwords differ",
            "mis",
            &mismatch_a,
            &mismatch_b,
        ),
        ("register, numeric password", "num", &numeric, &numeric),
    ] {
        let (email, username) = (format!("{name}{run}@example.com"), format!("{name}{run}"));
        let body = json!({"email": email, "username": username, "password": pw, "password2": pw2});
        let r = c.post("/api/auth/register/", None, &body).await;
        let sent: &[&str] = if pw == pw2 { &[pw] } else { &[pw, pw2] };
        flow.record(what, sent, &r);
    }
    // Login bodies the server cannot use, each carrying a password; the JSON
    // ones as `post` would send them.
    const JSON: &str = "application/json";
    for (what, body, content_type, sent) in [
        (
            "login, truncated JSON",
            format!("{{\"email\": \"{email}\", \"password\": \"{trunc}"),
            JSON,
            &trunc,
        ),
        (
            "login, password of the wrong type",
            json!({"email": email, "password": [typed]}).to_string(),
            JSON,
            &typed,
        ),
        (
            "login, email of the wrong type",
            json!({"email": [email], "password": typed}).to_string(),
            JSON,
            &typed,
        ),
        (
            "login, form-encoded",
            format!("email={email}&password={typed}"),
            "application/x-www-form-urlencoded",
            &typed,
        ),
    ] {
        let r = c
            .raw(Method::POST, LOGIN, None, Some(body.into()), content_type)
            .await;
        flow.record(what, &[sent], &r);
    }

    let wrong_key = format!(
        "{}A",
        &target.creds.api_key[..target.creds.api_key.len() - 1]
    );
    let wrong_key = if wrong_key == target.creds.api_key {
        format!("{}B", &wrong_key[..wrong_key.len() - 1])
    } else {
        wrong_key
    };
    flow.api_keys.push(wrong_key.clone());
    let mut bad = Conn::new(&Target {
        addr: target.addr.clone(),
        creds: Creds {
            client_id: target.creds.client_id.clone(),
            api_key: wrong_key.clone(),
        },
    });
    let r = bad.login(&email, &pw2).await;
    flow.record("login with a wrong API key", &[&wrong_key, &pw2], &r);
    let mut other = Conn::new(&Target {
        addr: target.addr.clone(),
        creds: Creds {
            client_id: "cl_does_not_exist".into(),
            api_key: target.creds.api_key.clone(),
        },
    });
    let r = other.get("/api/auth/profile/", None).await;
    flow.record(
        "the API key with another client id",
        &[&target.creds.api_key],
        &r,
    );
    let mut nokey = Conn::new(target);
    nokey.no_api_key = true;
    let r = nokey
        .get(
            "/api/auth/profile/",
            relog.as_ref().and_then(|r| r.field("access")).as_deref(),
        )
        .await;
    flow.record("profile without an API key", &[], &r);

    // Open routes, and paths that might serve keys.
    for path in [
        "/healthz",
        "/.well-known/jwks.json",
        "/api/schema/",
        "/api/schema/?format=yaml",
        "/api/v1/auth/profile/",
        "/signing_keys",
        "/api/signing_keys/",
        "/.well-known/openid-configuration",
        "/gatehouse.db",
        "/../gatehouse.db",
    ] {
        let r = c
            .get(
                path,
                relog.as_ref().and_then(|r| r.field("access")).as_deref(),
            )
            .await;
        flow.record(&format!("GET {path}"), &[], &r);
    }
}
