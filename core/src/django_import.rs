//! `gatehouse import-django DUMP.json`: the seed Django deployment's
//! `manage.py dumpdata` into Gatehouse's tables (docs/MIGRATING.md).
//!
//! Pure steps, so every rule is unit-tested without a database:
//! [`parse`] (the dump → typed records, every refusal naming its record),
//! [`plan`] (the records against what the database already holds →
//! inserts, updates, collisions), [`Plan::statements`] (one batch, run as
//! one transaction by [`apply`]). Only [`existing`] and [`apply`] touch SQL.
//!
//! Decisions: ids are preserved; rows already present are never
//! overwritten (a second run of the same dump changes nothing, and a run
//! after the cutover does not undo a rehash or a Gatehouse-side change);
//! the one update is a legacy refresh token blacklisted since the last run.
//! Emails and usernames are compared by Gatehouse's keys
//! ([`normalize_email`], [`username_key`]): two records with one key are an
//! error naming both. Imported clients serve every user type (the seed's
//! clients did) unless told otherwise.

use crate::admin::operator::origin_error;
use crate::api_client::ApiClient;
use crate::clock::UnixMillis;
use crate::password::django::{self, Kind};
use crate::sql::{SqlError, SqlExecutor, Statement, Value};
use crate::store::clients::client_insert_statement;
use crate::user::{normalize_email, username_key, UserType};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// A refusal: which record, and why. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: {why}")]
pub struct ImportError {
    /// `model pk=…` (or `entry #n` when the entry has no model/pk).
    pub record: String,
    pub why: String,
}

fn err(record: impl Into<String>, why: impl Into<String>) -> ImportError {
    ImportError {
        record: record.into(),
        why: why.into(),
    }
}

pub const USER_MODEL: &str = "customauth.user";
pub const CLIENT_MODEL: &str = "apiclients.apiclient";
pub const OUTSTANDING_MODEL: &str = "token_blacklist.outstandingtoken";
pub const BLACKLISTED_MODEL: &str = "token_blacklist.blacklistedtoken";

/// A user as imported.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub email_key: String,
    pub username: String,
    pub username_key: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub is_active: bool,
    /// As stored by Django; verified at the first login, then replaced.
    pub password_hash: String,
    pub date_joined: UnixMillis,
    pub last_login: Option<UnixMillis>,
}

/// An API client as imported.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    /// The seed's `client_id` (a UUID): what frontends send as `X-Client-ID`.
    pub id: String,
    pub pk: i64,
    pub name: String,
    pub client_type: String,
    /// SHA-256 of the key, hex: the same as Gatehouse's.
    pub key_hash: String,
    /// Requests per hour.
    pub rate_limit: u32,
    pub is_active: bool,
    pub created_at: UnixMillis,
}

/// A simplejwt refresh token (outstanding, maybe blacklisted).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub pk: i64,
    pub jti: String,
    pub user_id: i64,
    pub expires_at: UnixMillis,
    pub blacklisted_at: Option<UnixMillis>,
}

/// The dump's records Gatehouse takes, in dump order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dump {
    pub users: Vec<UserRecord>,
    pub clients: Vec<ClientRecord>,
    pub tokens: Vec<TokenRecord>,
    /// Outstanding tokens without a user (Django keeps them after the user
    /// is deleted): nothing to exchange them for.
    pub tokens_without_user: usize,
    /// Records of other models (sessions, permissions, usage counters…):
    /// count per model.
    pub ignored: BTreeMap<String, usize>,
}

/// Reads `dumpdata` JSON (a list of `{model, pk, fields}`).
pub fn parse(json: &[u8]) -> Result<Dump, ImportError> {
    let entries: Vec<Json> = serde_json::from_slice(json)
        .map_err(|e| err("the dump", format!("not a JSON list of records: {e}")))?;
    let mut dump = Dump::default();
    // Blacklist rows point at outstanding tokens by pk.
    let mut blacklisted: Vec<(String, i64, UnixMillis)> = Vec::new();
    for (n, entry) in entries.iter().enumerate() {
        let obj = entry
            .as_object()
            .ok_or_else(|| err(format!("entry #{n}"), "not an object"))?;
        let model = obj
            .get("model")
            .and_then(Json::as_str)
            .ok_or_else(|| err(format!("entry #{n}"), "no \"model\""))?;
        let pk = obj.get("pk");
        let name = format!("{model} pk={}", pk.map_or("?".into(), |p| p.to_string()));
        let r = Rec {
            name: &name,
            fields: match obj.get("fields") {
                Some(Json::Object(f)) => f,
                _ => return Err(err(&name, "no \"fields\" object")),
            },
        };
        let int_pk = || {
            pk.and_then(Json::as_i64)
                .filter(|p| *p > 0)
                .ok_or_else(|| err(&name, "the pk is not a positive integer"))
        };
        match model {
            USER_MODEL => dump.users.push(user(&r, int_pk()?)?),
            CLIENT_MODEL => dump.clients.push(client(&r, int_pk()?)?),
            OUTSTANDING_MODEL => {
                let pk = int_pk()?;
                match r.opt_int("user")? {
                    Some(user_id) => dump.tokens.push(TokenRecord {
                        pk,
                        jti: r.nonempty("jti", 255)?,
                        user_id,
                        expires_at: r.time("expires_at")?,
                        blacklisted_at: None,
                    }),
                    None => dump.tokens_without_user += 1,
                }
            }
            BLACKLISTED_MODEL => {
                int_pk()?;
                let token = r
                    .opt_int("token")?
                    .ok_or_else(|| err(&name, "\"token\" is missing"))?;
                blacklisted.push((name.clone(), token, r.time("blacklisted_at")?));
            }
            other => *dump.ignored.entry(other.to_owned()).or_default() += 1,
        }
    }
    let by_pk: HashMap<i64, usize> = dump
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.pk, i))
        .collect();
    for (name, token, at) in blacklisted {
        match by_pk.get(&token) {
            Some(&i) => dump.tokens[i].blacklisted_at = Some(at),
            // A token without a user was not kept: its blacklisting is moot.
            None if dump.tokens_without_user > 0 => {}
            None => {
                return Err(err(
                    name,
                    format!("points at {OUTSTANDING_MODEL} pk={token}, which is not in the dump"),
                ))
            }
        }
    }
    check_consistency(&dump)?;
    Ok(dump)
}

/// Duplicates and dangling references within the dump.
fn check_consistency(d: &Dump) -> Result<(), ImportError> {
    let mut ids: HashMap<i64, i64> = HashMap::new();
    let mut emails: HashMap<&str, i64> = HashMap::new();
    let mut usernames: HashMap<&str, i64> = HashMap::new();
    for u in &d.users {
        let me = format!("{USER_MODEL} pk={}", u.id);
        if ids.insert(u.id, u.id).is_some() {
            return Err(err(me, "appears twice"));
        }
        for (seen, key, what, value) in [
            (&mut emails, &u.email_key, "email", &u.email),
            (&mut usernames, &u.username_key, "username", &u.username),
        ] {
            if let Some(other) = seen.insert(key, u.id) {
                return Err(err(
                    me,
                    format!("its {what} {value:?} is the same, once normalised, as {USER_MODEL} pk={other}'s"),
                ));
            }
        }
    }
    let mut clients: HashMap<&str, i64> = HashMap::new();
    for c in &d.clients {
        if let Some(other) = clients.insert(&c.id, c.pk) {
            return Err(err(
                format!("{CLIENT_MODEL} pk={}", c.pk),
                format!("its client_id {} is also {CLIENT_MODEL} pk={other}'s", c.id),
            ));
        }
    }
    let mut jtis: HashMap<&str, i64> = HashMap::new();
    for t in &d.tokens {
        let me = format!("{OUTSTANDING_MODEL} pk={}", t.pk);
        if !ids.contains_key(&t.user_id) {
            return Err(err(
                me,
                format!("its user {USER_MODEL} pk={} is not in the dump", t.user_id),
            ));
        }
        if let Some(other) = jtis.insert(&t.jti, t.pk) {
            return Err(err(
                me,
                format!("its jti is also {OUTSTANDING_MODEL} pk={other}'s"),
            ));
        }
    }
    Ok(())
}

/// One record's fields, read with errors that name it.
struct Rec<'a> {
    name: &'a str,
    fields: &'a Map<String, Json>,
}

impl Rec<'_> {
    fn fail(&self, why: impl Into<String>) -> ImportError {
        err(self.name, why)
    }
    fn str(&self, f: &str, max_chars: usize) -> Result<String, ImportError> {
        let s = self
            .fields
            .get(f)
            .and_then(Json::as_str)
            .ok_or_else(|| self.fail(format!("\"{f}\" is missing or not a string")))?;
        if s.chars().count() > max_chars {
            return Err(self.fail(format!("\"{f}\" is longer than {max_chars} characters")));
        }
        Ok(s.to_owned())
    }
    fn nonempty(&self, f: &str, max_chars: usize) -> Result<String, ImportError> {
        let s = self.str(f, max_chars)?;
        if s.trim().is_empty() {
            return Err(self.fail(format!("\"{f}\" is empty")));
        }
        Ok(s)
    }
    fn bool(&self, f: &str) -> Result<bool, ImportError> {
        self.fields
            .get(f)
            .and_then(Json::as_bool)
            .ok_or_else(|| self.fail(format!("\"{f}\" is missing or not true/false")))
    }
    fn opt_int(&self, f: &str) -> Result<Option<i64>, ImportError> {
        match self.fields.get(f) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.fail(format!("\"{f}\" is not an integer"))),
        }
    }
    fn opt_time(&self, f: &str) -> Result<Option<UnixMillis>, ImportError> {
        match self.fields.get(f) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => parse_time(s)
                .map(Some)
                .ok_or_else(|| self.fail(format!("\"{f}\" is not a date and time: {s:?}"))),
            Some(_) => Err(self.fail(format!("\"{f}\" is not a date and time"))),
        }
    }
    fn time(&self, f: &str) -> Result<UnixMillis, ImportError> {
        self.opt_time(f)?
            .ok_or_else(|| self.fail(format!("\"{f}\" is missing")))
    }
}

/// Django's JSON dates: ISO 8601 with `Z` or an offset (`USE_TZ = True`);
/// a naive one is taken as UTC.
fn parse_time(s: &str) -> Option<UnixMillis> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(UnixMillis)
}

fn user(r: &Rec<'_>, id: i64) -> Result<UserRecord, ImportError> {
    let email = r.nonempty("email", 254)?;
    let username = r.nonempty("username", 150)?;
    let user_type: UserType = r
        .str("user_type", 16)?
        .parse()
        .map_err(|_| r.fail("\"user_type\" is not creator, staff or admin"))?;
    let (is_staff, is_superuser) = (r.bool("is_staff")?, r.bool("is_superuser")?);
    // Gatehouse's own invariants (its CHECK constraints), which the seed's
    // `User.save` keeps too: a dump breaking them was edited by hand.
    if user_type == UserType::Creator && (is_staff || is_superuser) {
        return Err(r.fail("a creator cannot be staff or superuser"));
    }
    if is_superuser && user_type != UserType::Admin {
        return Err(r.fail("a superuser must have user_type admin"));
    }
    let mut password_hash = r.str("password", 1024)?;
    if password_hash.is_empty() {
        // Django's "no password"; the column must not be empty.
        password_hash = "!".into();
    }
    Ok(UserRecord {
        id,
        email_key: normalize_email(&email),
        username_key: username_key(&username),
        email: email.trim().to_owned(),
        username,
        first_name: r.str("first_name", 150)?,
        last_name: r.str("last_name", 150)?,
        user_type,
        is_staff,
        is_superuser,
        is_active: r.bool("is_active")?,
        password_hash,
        date_joined: r.time("date_joined")?,
        last_login: r.opt_time("last_login")?,
    })
}

fn client(r: &Rec<'_>, pk: i64) -> Result<ClientRecord, ImportError> {
    let id = r.nonempty("client_id", 64)?;
    if id.len() != 36 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(r.fail("\"client_id\" is not a UUID"));
    }
    let key_hash = r.str("key_hash", 64)?;
    if key_hash.len() != 64 || !key_hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        return Err(r.fail("\"key_hash\" is not a hex SHA-256"));
    }
    let rate_limit = r
        .opt_int("rate_limit")?
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| r.fail("\"rate_limit\" is not a positive integer"))?;
    Ok(ClientRecord {
        id: id.to_ascii_lowercase(),
        pk,
        name: r.nonempty("name", 100)?,
        client_type: r.nonempty("client_type", 16)?,
        key_hash,
        rate_limit,
        is_active: r.bool("is_active")?,
        created_at: r.time("created_at")?,
    })
}

/// What the database holds already, by the keys the plan compares.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// id → (email key, username key).
    pub users: HashMap<i64, (String, String)>,
    pub email_keys: HashMap<String, i64>,
    pub username_keys: HashMap<String, i64>,
    pub clients: HashMap<String, String>,
    /// jti → blacklisted?
    pub tokens: HashMap<String, bool>,
}

/// Reads what [`plan`] compares the dump with.
pub async fn existing(sql: &dyn SqlExecutor) -> Result<Existing, SqlError> {
    let text = |v: Option<&Value>| match v {
        Some(Value::Text(s)) => s.clone(),
        _ => String::new(),
    };
    let mut e = Existing::default();
    let users = sql
        .run(Statement::plain(
            "SELECT id, email_normalized, username_key FROM users",
        ))
        .await?;
    for r in &users.rows {
        let Some(Value::Integer(id)) = r.first() else {
            continue;
        };
        let (ek, uk) = (text(r.get(1)), text(r.get(2)));
        e.email_keys.insert(ek.clone(), *id);
        e.username_keys.insert(uk.clone(), *id);
        e.users.insert(*id, (ek, uk));
    }
    let clients = sql
        .run(Statement::plain("SELECT id, key_hash FROM api_clients"))
        .await?;
    for r in &clients.rows {
        e.clients.insert(text(r.first()), text(r.get(1)));
    }
    let tokens = sql
        .run(Statement::plain(
            "SELECT jti, blacklisted_at IS NOT NULL FROM legacy_refresh_tokens",
        ))
        .await?;
    for r in &tokens.rows {
        let black = matches!(r.get(1), Some(Value::Integer(1)));
        e.tokens.insert(text(r.first()), black);
    }
    Ok(e)
}

/// Choices the dump does not hold.
#[derive(Debug, Clone)]
pub struct Options {
    /// The user types imported clients serve (the seed's served every one).
    pub serves: Vec<UserType>,
    /// Browser origins imported clients accept (the seed kept none).
    pub allowed_origins: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            serves: vec![UserType::Creator, UserType::Staff, UserType::Admin],
            allowed_origins: vec![],
        }
    }
}

/// What an import does.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub new_users: Vec<UserRecord>,
    pub new_clients: Vec<ApiClient>,
    pub new_tokens: Vec<TokenRecord>,
    /// Tokens present, blacklisted in the dump since: (jti, when).
    pub newly_blacklisted: Vec<(String, UnixMillis)>,
    pub users_present: usize,
    pub clients_present: usize,
    pub tokens_present: usize,
    /// Present clients whose key hash differs from the dump's (rotated on
    /// one side): kept as they are, reported.
    pub clients_differing: Vec<String>,
    pub tokens_without_user: usize,
    pub ignored: BTreeMap<String, usize>,
    /// Users (new or present) whose hash cannot be verified: (id, email,
    /// why) — they must reset their password.
    pub need_reset: Vec<(i64, String, &'static str)>,
    /// Users whose hash is Django's, per hasher: migrated at first login.
    pub django_hashes: BTreeMap<&'static str, usize>,
}

impl Plan {
    /// Whether running it would change anything.
    pub fn changes_nothing(&self) -> bool {
        self.new_users.is_empty()
            && self.new_clients.is_empty()
            && self.new_tokens.is_empty()
            && self.newly_blacklisted.is_empty()
    }
}

/// Compares the dump with the database: inserts for what is missing, an
/// error for a record that collides with a different one already there.
pub fn plan(d: &Dump, e: &Existing, opts: &Options) -> Result<Plan, ImportError> {
    // The imported clients' origins follow the rule every other client's do.
    if let Some(why) = opts.allowed_origins.iter().find_map(|o| origin_error(o)) {
        return Err(err("--allowed-origins", why));
    }
    let mut p = Plan {
        tokens_without_user: d.tokens_without_user,
        ignored: d.ignored.clone(),
        ..Plan::default()
    };
    for u in &d.users {
        let me = format!("{USER_MODEL} pk={}", u.id);
        match e.users.get(&u.id) {
            Some((ek, _)) if *ek == u.email_key => p.users_present += 1,
            Some((ek, _)) => {
                return Err(err(
                    me,
                    format!("Gatehouse's user {} has another email ({ek})", u.id),
                ))
            }
            None => {
                if let Some(other) = e.email_keys.get(&u.email_key) {
                    return Err(err(me, format!("its email is Gatehouse's user {other}'s")));
                }
                if let Some(other) = e.username_keys.get(&u.username_key) {
                    return Err(err(
                        me,
                        format!("its username is Gatehouse's user {other}'s"),
                    ));
                }
                p.new_users.push(u.clone());
            }
        }
        match django::kind(&u.password_hash) {
            Kind::Django(h) => *p.django_hashes.entry(h.name()).or_default() += 1,
            Kind::Native => {}
            Kind::Unusable => {
                p.need_reset
                    .push((u.id, u.email.clone(), reset_reason(&u.password_hash)))
            }
        }
    }
    for c in &d.clients {
        match e.clients.get(&c.id) {
            Some(hash) => {
                p.clients_present += 1;
                if *hash != c.key_hash {
                    p.clients_differing.push(c.id.clone());
                }
            }
            None => p.new_clients.push(ApiClient {
                id: crate::api_client::ClientId(c.id.clone()),
                name: c.name.clone(),
                client_type: c.client_type.clone(),
                key_hash: c.key_hash.clone(),
                rate_limit: c.rate_limit,
                rate_period_secs: 3600,
                is_active: c.is_active,
                serves: opts.serves.clone(),
                allowed_origins: opts.allowed_origins.clone(),
                created_at: c.created_at,
                email: Default::default(),
                require_mfa_for_staff: crate::api_client::requires_mfa_for_staff_by_default(
                    &c.client_type,
                ),
            }),
        }
    }
    for t in &d.tokens {
        match e.tokens.get(&t.jti) {
            Some(black) => {
                p.tokens_present += 1;
                if let (false, Some(at)) = (*black, t.blacklisted_at) {
                    p.newly_blacklisted.push((t.jti.clone(), at));
                }
            }
            None => p.new_tokens.push(t.clone()),
        }
    }
    Ok(p)
}

fn reset_reason(hash: &str) -> &'static str {
    if hash.starts_with('!') {
        "unusable password"
    } else if django::names_a_hasher(hash) {
        "malformed, or its cost is above the ceiling"
    } else {
        "unknown hash format"
    }
}

impl Plan {
    /// The writes, for one transaction.
    pub fn statements(&self) -> Vec<Statement> {
        let mut out = Vec::with_capacity(
            self.new_users.len()
                + self.new_clients.len()
                + self.new_tokens.len()
                + self.newly_blacklisted.len(),
        );
        for u in &self.new_users {
            out.push(Statement::new(
                "INSERT INTO users (id, email, email_normalized, username, username_key, first_name, last_name, user_type, is_staff, is_superuser, is_active, password_hash, date_joined, last_login) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    u.id.into(),
                    u.email.clone().into(),
                    u.email_key.clone().into(),
                    u.username.clone().into(),
                    u.username_key.clone().into(),
                    u.first_name.clone().into(),
                    u.last_name.clone().into(),
                    u.user_type.as_str().into(),
                    u.is_staff.into(),
                    u.is_superuser.into(),
                    u.is_active.into(),
                    u.password_hash.clone().into(),
                    u.date_joined.0.into(),
                    u.last_login.map(|t| t.0).into(),
                ],
            ));
        }
        out.extend(self.new_clients.iter().map(client_insert_statement));
        for t in &self.new_tokens {
            out.push(Statement::new(
                "INSERT INTO legacy_refresh_tokens (jti, user_id, expires_at, blacklisted_at) VALUES (?, ?, ?, ?)",
                vec![
                    t.jti.clone().into(),
                    t.user_id.into(),
                    t.expires_at.0.into(),
                    t.blacklisted_at.map(|t| t.0).into(),
                ],
            ));
        }
        for (jti, at) in &self.newly_blacklisted {
            out.push(Statement::new(
                "UPDATE legacy_refresh_tokens SET blacklisted_at = ? WHERE jti = ? AND blacklisted_at IS NULL",
                vec![at.0.into(), jti.clone().into()],
            ));
        }
        out
    }

    /// The report, as JSON (the CLI prints it; `--dry-run` says "would").
    pub fn report(&self, dry_run: bool) -> Json {
        serde_json::json!({
            "dry_run": dry_run,
            "changes_nothing": self.changes_nothing(),
            "users": {"new": self.new_users.len(), "present": self.users_present},
            "clients": {
                "new": self.new_clients.iter().map(|c| serde_json::json!({"client_id": c.id.0, "name": c.name})).collect::<Vec<_>>(),
                "present": self.clients_present,
                "present_with_another_key": self.clients_differing,
            },
            "legacy_refresh_tokens": {
                "new": self.new_tokens.len(),
                "new_blacklisted": self.new_tokens.iter().filter(|t| t.blacklisted_at.is_some()).count(),
                "present": self.tokens_present,
                "newly_blacklisted": self.newly_blacklisted.len(),
                "skipped_without_user": self.tokens_without_user,
            },
            "django_hashes": self.django_hashes,
            "need_password_reset": self.need_reset.iter().map(|(id, email, why)| serde_json::json!({"id": id, "email": email, "why": why})).collect::<Vec<_>>(),
            "ignored_models": self.ignored,
        })
    }
}

/// Runs the plan's writes as one transaction.
pub async fn apply(sql: &dyn SqlExecutor, plan: &Plan) -> Result<(), SqlError> {
    let stmts = plan.statements();
    if stmts.is_empty() {
        return Ok(());
    }
    sql.batch(stmts).await.map(|_| ())
}

#[cfg(test)]
mod tests;
