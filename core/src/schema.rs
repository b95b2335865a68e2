//! The libSQL schema, as numbered migrations. Both hosts and the CLI run
//! [`migrate`]; it is idempotent and safe to run from two processes at once.

use crate::sql::{SqlError, SqlExecutor, Statement, Value};

/// Migrations in order. Never edit one that has shipped: add a new one.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, INITIAL),
    (2, AUDIT_AND_USAGE),
    (3, LOOKALIKE_KEYS),
    (4, LEGACY_TOKENS),
    (5, REFRESH_REUSE_GRACE),
    (6, MAIL_OUTBOX),
    (7, EMAIL_FLOWS),
    (8, SECOND_FACTORS),
    (9, PASSKEYS),
    (10, SIGNIN_URL),
    (11, SOCIAL_SIGNIN),
    (12, WEBHOOKS),
    (13, KEY_ROTATION),
    (15, STEP_UP),
];

/// Sign-in with OpenID Connect and OAuth 2 providers (core/src/social/).
/// `social_providers`: one configured provider (`id` is its name in URLs),
/// its client secret sealed under the data key (bound to the provider id),
/// the API clients it is enabled for with their allowed redirect URIs
/// (`clients`, JSON), and the discovery document and key set fetched from
/// its issuer (`discovery`, `jwks`, with when they were fetched).
/// `social_states`: a started sign-in (`state` kept as its SHA-256), bound
/// to a client, its frontend redirect URI and PKCE challenge, 10 minutes;
/// `link_user_id`: a signed-in user linking the provider from the profile.
/// `social_codes`: the one-time Gatehouse code a callback issued (SHA-256),
/// 60 seconds, spent when `used_at` is set; `state_hash` is UNIQUE, so a
/// state serves one callback. `user_identities`: a provider's subject
/// linked to a user. Times are unix millis.
const SOCIAL_SIGNIN: &str = "
CREATE TABLE IF NOT EXISTS social_providers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    preset TEXT,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    scopes TEXT NOT NULL,
    clients TEXT NOT NULL,
    discovery TEXT,
    discovery_fetched_at INTEGER,
    jwks TEXT,
    jwks_fetched_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS social_states (
    state_hash TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    frontend_state TEXT,
    nonce TEXT NOT NULL,
    link_user_id INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS social_codes (
    code_hash TEXT PRIMARY KEY,
    state_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE TABLE IF NOT EXISTS user_identities (
    provider_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    email TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX IF NOT EXISTS user_identities_user ON user_identities (user_id);
";

/// Webhooks (core/src/webhook.rs). `webhook_endpoints`: an operator's
/// receiver: its URL, the event types it takes (`*` or a comma list), its
/// signing secret sealed under the data key (bound to the endpoint's id; the
/// signature needs the plaintext, so it cannot be a hash), an `active` flag
/// the operator sets, and `failing_since` / `disabled_at` the sender sets
/// (failing for over 24 h: disabled and flagged, until the operator
/// re-enables it). The mail outbox becomes the outbox of both kinds of
/// message: `kind` is `mail` or `webhook`; a webhook row names its endpoint,
/// its event type and its JSON `payload` (the mail columns stay empty), and
/// its `id` is the Standard Webhooks `webhook-id`. `webhook_event_map` says
/// which audit events are webhook events (and under which name); the trigger
/// `webhook_fanout` turns each such audit INSERT into one outbox row per
/// subscribed, active endpoint — inside the INSERT, so in the transaction of
/// the change the audit event records. `webhook_deliveries`: one row per
/// attempt (HTTP status, latency, a response excerpt of at most 1 KiB, the
/// error). Times are unix millis.
const WEBHOOKS: &str = "
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    secret_rotated_at INTEGER,
    failing_since INTEGER,
    disabled_at INTEGER,
    disabled_reason TEXT
);
CREATE TABLE IF NOT EXISTS webhook_event_map (
    audit_event TEXT PRIMARY KEY,
    webhook_event TEXT NOT NULL
);
INSERT OR IGNORE INTO webhook_event_map (audit_event, webhook_event) VALUES
    ('user.registered', 'user.created'), ('user.created', 'user.created'),
    ('user.updated', 'user.updated'), ('email.changed', 'user.updated'),
    ('user.deactivated', 'user.deactivated'), ('user.reactivated', 'user.reactivated'),
    ('login.succeeded', 'login.succeeded'), ('login.failed', 'login.failed'),
    ('logout', 'session.revoked'), ('session.ended', 'session.revoked'),
    ('logout_all', 'session.revoked'), ('user.sessions_revoked', 'session.revoked'),
    ('token.replay_detected', 'refresh.replay_detected'),
    ('password.changed', 'password.changed'), ('password.reset', 'password.reset'),
    ('email.verified', 'email.verified'),
    ('mfa.enrolled', 'mfa.enrolled'), ('mfa.removed', 'mfa.removed'), ('mfa.reset', 'mfa.removed'),
    ('client.created', 'client.created'), ('client.key_rotated', 'client.key_rotated'),
    ('client.deactivated', 'client.deactivated'),
    ('webhook.test', 'webhook.test');
ALTER TABLE mail_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'mail';
ALTER TABLE mail_outbox ADD COLUMN endpoint_id TEXT;
ALTER TABLE mail_outbox ADD COLUMN event_type TEXT;
ALTER TABLE mail_outbox ADD COLUMN payload TEXT;
CREATE INDEX IF NOT EXISTS mail_outbox_kind_due ON mail_outbox (kind, sent_at, next_attempt_at);
CREATE INDEX IF NOT EXISTS mail_outbox_endpoint ON mail_outbox (endpoint_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER,
    latency_ms INTEGER NOT NULL,
    response_excerpt TEXT,
    error TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE TRIGGER IF NOT EXISTS webhook_fanout AFTER INSERT ON audit_events WHEN EXISTS (SELECT 1 FROM webhook_event_map WHERE audit_event = NEW.event) BEGIN INSERT INTO mail_outbox (id, kind, endpoint_id, event_type, payload, to_addr, subject, text_body, html_body, created_at, next_attempt_at, attempts) SELECT 'msg_' || lower(hex(randomblob(16))), 'webhook', e.id, m.webhook_event, json_object('type', m.webhook_event, 'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.at / 1000.0, 'unixepoch'), 'data', json_object('user_id', NEW.target_user_id, 'client_id', NEW.target_client_id, 'actor_user_id', NEW.actor_user_id, 'actor_client_id', NEW.actor_client_id, 'session_id', json_extract(NEW.detail, '$.session_id'), 'reason', json_extract(NEW.detail, '$.reason'), 'sessions_ended', json_extract(NEW.detail, '$.sessions_ended'), 'endpoint_id', json_extract(NEW.detail, '$.endpoint_id'))), '', '', '', '', NEW.at, NEW.at, 0 FROM webhook_event_map m JOIN webhook_endpoints e ON e.active = 1 AND e.disabled_at IS NULL AND (e.event_types = '*' OR m.webhook_event = 'webhook.test' OR instr(',' || e.event_types || ',', ',' || m.webhook_event || ',') > 0) WHERE m.audit_event = NEW.event AND (m.webhook_event <> 'webhook.test' OR e.id = json_extract(NEW.detail, '$.endpoint_id')); END;
";

/// Signing-key rotation (docs/KEYS.md): each row is a key in one state,
/// `next` → `current` → `previous` → `retired`. The seed-era 'default' key
/// becomes `current`; its `kid` (derived from the key) is filled in by the
/// first host that loads it, so tokens issued before the upgrade still
/// verify. At most one `current` and one `next`: the partial unique index is
/// what makes two hosts rotating at once end with one winner.
const KEY_ROTATION: &str = "
ALTER TABLE signing_keys ADD COLUMN kid TEXT;
ALTER TABLE signing_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'current';
ALTER TABLE signing_keys ADD COLUMN activated_at INTEGER;
ALTER TABLE signing_keys ADD COLUMN retire_after INTEGER;
UPDATE signing_keys SET activated_at = created_at WHERE activated_at IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_per_state ON signing_keys(state) WHERE state IN ('current', 'next')
";

/// Step-up recency (`RequireMfa`, change-password): `mfa_at` is when the
/// login last passed a second factor (at sign-in, or a step-up on it);
/// null for a login that never did. A login that passed one at sign-in
/// counts from its creation.
const STEP_UP: &str = "
ALTER TABLE sessions ADD COLUMN mfa_at INTEGER;
UPDATE sessions SET mfa_at = created_at WHERE ',' || amr || ',' LIKE '%,otp,%' OR ',' || amr || ',' LIKE '%,rc,%' OR ',' || amr || ',' LIKE '%,hwk,%';
";

/// An API client's own page for sign-in with an emailed code: the code mail
/// links to it with `email=…&code=…` (null: the mail carries the code only).
const SIGNIN_URL: &str = "
ALTER TABLE api_clients ADD COLUMN signin_url TEXT;
";

/// Second factors (core/src/mfa.rs). `mfa_factors`: a user's TOTP factor,
/// its secret sealed under the data key (`secret_sealed`, bound to the
/// row's `id`), usable once `confirmed_at` is set; `last_used_step` is the
/// TOTP step of the last accepted code (a code of that step or an earlier
/// one is refused: compare-and-set). `mfa_recovery_codes`: SHA-256 of each
/// code, spent when `used_at` is set. `mfa_challenges`: the sign-in
/// challenge (`mfa_token`, kept as its SHA-256) between a first factor and
/// the second: bound to a client, with the first factor's methods (`amr`),
/// its guesses counted in `attempts`, spent when `used_at` is set (`consumed_by`:
/// the random mark of the request that spent it, as for `email_tokens`). An API client's `require_mfa_for_staff` (on for `admin`-type clients)
/// asks its staff logins without a factor to enrol. A login keeps its methods (`amr`,
/// comma-separated) for its refreshes. Times are unix millis.
const SECOND_FACTORS: &str = "
CREATE TABLE IF NOT EXISTS mfa_factors (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_step INTEGER
);
CREATE INDEX IF NOT EXISTS mfa_factors_user ON mfa_factors (user_id, kind);
CREATE TABLE IF NOT EXISTS mfa_recovery_codes (
    code_hash TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE IF NOT EXISTS mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at INTEGER,
    consumed_by TEXT
);
CREATE INDEX IF NOT EXISTS mfa_challenges_user ON mfa_challenges (user_id);
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE api_clients ADD COLUMN require_mfa_for_staff INTEGER NOT NULL DEFAULT 0;
UPDATE api_clients SET require_mfa_for_staff = 1 WHERE client_type = 'admin';
";

/// Passkeys (WebAuthn credentials, core/src/webauthn) and the challenges of
/// their ceremonies. `credential_id` and `public_key` (the COSE_Key as the
/// authenticator sent it) are base64url; `sign_count` is the last signature
/// counter seen, `backup_eligible` fixed at registration, `backed_up` the
/// last one seen. A challenge is kept only as its SHA-256 (hex), bound to a
/// client and (registration) a user, and spent by `used_at`. Times are unix
/// millis.
const PASSKEYS: &str = "
CREATE TABLE IF NOT EXISTS passkeys (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    alg INTEGER NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    backup_eligible INTEGER NOT NULL,
    backed_up INTEGER NOT NULL,
    aaguid TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id);
CREATE TABLE IF NOT EXISTS webauthn_challenges (
    id TEXT PRIMARY KEY,
    challenge_hash TEXT NOT NULL,
    purpose TEXT NOT NULL,
    user_id INTEGER,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
";

/// The email flows (verification, password reset, email change, sign-in
/// codes): when a user's address was proven theirs, each API client's
/// options for them, and the single-use tokens the mails carry. A token is
/// kept only as its SHA-256 (`token_hash`); a sign-in code as a hash keyed
/// by the row's random `salt` (`code_hash`), its guesses counted in
/// `attempts`. `email` is the address the mail went to (the new one for an
/// email change). A row is spent when `used_at` is set: by its use, or by a
/// newer request of the same purpose; `consumed_by` is the random mark of
/// the request that used it, which the rest of that request's batch checks
/// (of two racing uses, only the winner's writes apply). Times are unix millis.
const EMAIL_FLOWS: &str = "
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
ALTER TABLE api_clients ADD COLUMN require_verified_email INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_clients ADD COLUMN signin_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_clients ADD COLUMN reset_url TEXT;
CREATE TABLE IF NOT EXISTS email_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    consumed_by TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    salt TEXT,
    code_hash TEXT
);
CREATE INDEX IF NOT EXISTS email_tokens_user ON email_tokens (user_id, purpose, used_at);
";

/// The mail outbox (core/src/mail/outbox.rs): a mail is a row written in the
/// transaction of its change; a sender claims due rows (`claimed_until`, a
/// lease), delivers them and sets `sent_at`, or records the failure and the
/// next attempt.
const MAIL_OUTBOX: &str = "
CREATE TABLE IF NOT EXISTS mail_outbox (
    id TEXT PRIMARY KEY,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- the pass holding the row until claimed_until (mail/sender.rs)
    claim TEXT,
    claimed_until INTEGER,
    sent_at INTEGER,
    -- given up (a permanent refusal, or 24 h of failures); last_error says why
    dead_at INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (sent_at, next_attempt_at);
";

const INITIAL: &str = "
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    user_type TEXT NOT NULL CHECK (user_type IN ('creator', 'staff', 'admin')),
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL CHECK (length(password_hash) > 0),
    date_joined INTEGER NOT NULL,
    last_login INTEGER,
    -- a creator is never staff or superuser, whatever wrote the row
    CHECK (user_type <> 'creator' OR (is_staff = 0 AND is_superuser = 0)),
    CHECK (is_superuser = 0 OR user_type = 'admin')
);
CREATE TABLE IF NOT EXISTS api_clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    client_type TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
    rate_period_secs INTEGER NOT NULL CHECK (rate_period_secs > 0),
    is_active INTEGER NOT NULL DEFAULT 1,
    serves TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    client_id TEXT NOT NULL REFERENCES api_clients(id),
    current_jti TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_id);
CREATE TABLE IF NOT EXISTS signing_keys (
    slot TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);
";

/// The audit log (append-only: triggers refuse UPDATE and DELETE; each
/// trigger sits on one line because statements split at `;` + newline) and
/// the hourly usage counters, added to by the flush's UPSERTs.
const AUDIT_AND_USAGE: &str = "
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_client_id TEXT,
    ip TEXT,
    target_user_id INTEGER,
    target_client_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events(at);
CREATE INDEX IF NOT EXISTS audit_events_event ON audit_events(event, id);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events(actor_user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_target_user ON audit_events(target_user_id, id);
CREATE INDEX IF NOT EXISTS audit_events_client ON audit_events(actor_client_id, id);
CREATE INDEX IF NOT EXISTS audit_events_target_client ON audit_events(target_client_id, id);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TABLE IF NOT EXISTS usage_hourly (
    client_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    status_2xx INTEGER NOT NULL DEFAULT 0,
    status_4xx INTEGER NOT NULL DEFAULT 0,
    status_5xx INTEGER NOT NULL DEFAULT 0,
    throttled INTEGER NOT NULL DEFAULT 0,
    logins INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    registrations INTEGER NOT NULL DEFAULT 0,
    refreshes INTEGER NOT NULL DEFAULT 0,
    latency_sum_ms INTEGER NOT NULL DEFAULT 0,
    lat_0 INTEGER NOT NULL DEFAULT 0,
    lat_1 INTEGER NOT NULL DEFAULT 0,
    lat_2 INTEGER NOT NULL DEFAULT 0,
    lat_3 INTEGER NOT NULL DEFAULT 0,
    lat_4 INTEGER NOT NULL DEFAULT 0,
    lat_5 INTEGER NOT NULL DEFAULT 0,
    lat_6 INTEGER NOT NULL DEFAULT 0,
    lat_7 INTEGER NOT NULL DEFAULT 0,
    lat_8 INTEGER NOT NULL DEFAULT 0,
    lat_9 INTEGER NOT NULL DEFAULT 0,
    lat_10 INTEGER NOT NULL DEFAULT 0,
    lat_11 INTEGER NOT NULL DEFAULT 0,
    lat_12 INTEGER NOT NULL DEFAULT 0,
    lat_13 INTEGER NOT NULL DEFAULT 0,
    lat_14 INTEGER NOT NULL DEFAULT 0,
    lat_15 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, hour)
);
CREATE INDEX IF NOT EXISTS usage_hourly_hour ON usage_hourly(hour);
";

/// Look-alike accounts: usernames unique by their case-folded NFKC key
/// (`user::username_key`; SQLite's `lower()` folds ASCII only, and has no
/// NFKC, so the key is a column the core fills), and email keys
/// recomputed with NFKC and UTS-46 domains (`user::normalize_email`).
/// Existing rows get their keys from [`rekey_users`], in the same
/// transaction. Every INSERT must give `username_key` (the trigger says so
/// loudly rather than leave a row outside the unique index).
const LOOKALIKE_KEYS: &str = "
ALTER TABLE users ADD COLUMN username_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users(username_key);
CREATE TRIGGER IF NOT EXISTS users_username_key_required BEFORE INSERT ON users WHEN NEW.username_key IS NULL BEGIN SELECT RAISE(ABORT, 'users.username_key is required'); END;
";

/// The seed's (Django simplejwt) refresh tokens during a cutover:
/// `gatehouse import-django` writes the outstanding ones (with
/// `blacklisted_at` for those in simplejwt's blacklist), and the refresh
/// endpoint marks one `exchanged_at` when it trades it for a Gatehouse pair;
/// that UPDATE's `WHERE exchanged_at IS NULL` gives an exchange race one
/// winner. Only the `jti` is kept, never the token. Times are unix millis.
const LEGACY_TOKENS: &str = "
CREATE TABLE IF NOT EXISTS legacy_refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    blacklisted_at INTEGER,
    exchanged_at INTEGER
);
";

/// The refresh reuse grace (`session::decide`): the jti the last rotation
/// replaced (the current token's parent) and when it happened (ms; also
/// the current refresh token's `iat`, which a reissue signs again). NULL
/// until a login's first rotation.
const REFRESH_REUSE_GRACE: &str = "
ALTER TABLE sessions ADD COLUMN previous_jti TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
";

/// The statements that give existing users the keys of [`LOOKALIKE_KEYS`]
/// (computed here: SQL has no NFKC). Rows are taken in `id` order and the
/// first one keeps a contested key, so existing rows stay valid:
///
/// - `username_key`: set to the row's key unless an earlier row has it
///   (`Alice` after `alice`: the later row keeps no key, NULL, which the
///   unique index allows; the name stays taken through the earlier row's
///   key).
/// - `email_normalized`: set to the new key when it differs and no row
///   has it yet, neither before nor after. A row whose new key is another
///   row's (a fullwidth copy registered before this fix) keeps its old key:
///   a login with that spelling now finds the original account.
async fn rekey_users(sql: &dyn SqlExecutor) -> Result<Vec<Statement>, SqlError> {
    use crate::user::{normalize_email, username_key};
    use std::collections::HashSet;
    let rows = sql
        .run(Statement::plain(
            "SELECT id, email, email_normalized, username FROM users ORDER BY id",
        ))
        .await?
        .rows;
    fn text(v: Option<&Value>) -> Result<&str, SqlError> {
        match v {
            Some(Value::Text(s)) => Ok(s),
            _ => Err(SqlError::Other("unexpected users row shape".into())),
        }
    }
    let mut email_keys: HashSet<&str> = HashSet::new();
    for r in &rows {
        email_keys.insert(text(r.get(2))?);
    }
    let mut new_email_keys: HashSet<String> = HashSet::new();
    let mut username_keys: HashSet<String> = HashSet::new();
    let mut stmts = Vec::new();
    let mut lowercase_ids: Vec<i64> = Vec::new();
    for r in &rows {
        let Some(Value::Integer(id)) = r.first() else {
            return Err(SqlError::Other("unexpected users row shape".into()));
        };
        let (email, old_key, username) = (text(r.get(1))?, text(r.get(2))?, text(r.get(3))?);
        let new_key = normalize_email(email);
        let email_key = (new_key != old_key
            && !email_keys.contains(new_key.as_str())
            && new_email_keys.insert(new_key.clone()))
        .then_some(new_key);
        let ukey = username_key(username);
        let ukey = username_keys.insert(ukey.clone()).then_some(ukey);
        match (email_key, ukey) {
            // The common case, an ASCII name (whose key is SQL's lower())
            // and an unchanged email key: many rows per statement, as a
            // remote database pays a round trip per statement.
            (None, Some(k)) if username.is_ascii() && k == username.to_ascii_lowercase() => {
                lowercase_ids.push(*id);
            }
            (None, None) => {}
            (email_key, ukey) => stmts.push(Statement::new(
                "UPDATE users SET email_normalized = coalesce(?, email_normalized), username_key = ? WHERE id = ?",
                vec![email_key.into(), ukey.into(), (*id).into()],
            )),
        }
    }
    for ids in lowercase_ids.chunks(500) {
        let marks = vec!["?"; ids.len()].join(", ");
        stmts.push(Statement::new(
            format!("UPDATE users SET username_key = lower(username) WHERE id IN ({marks})"),
            ids.iter().map(|&id| id.into()).collect(),
        ));
    }
    Ok(stmts)
}

async fn is_applied(sql: &dyn SqlExecutor, version: i64) -> Result<bool, SqlError> {
    let applied = sql
        .run(Statement::new(
            "SELECT 1 FROM schema_migrations WHERE version = ?",
            vec![version.into()],
        ))
        .await?;
    Ok(!applied.rows.is_empty())
}

/// Applies every migration not yet applied; returns how many ran.
pub async fn migrate(sql: &dyn SqlExecutor) -> Result<usize, SqlError> {
    migrate_to(sql, i64::MAX).await
}

/// Applies the migrations up to `last` (inclusive) not yet applied; returns
/// how many ran. For tests of a later migration on an older schema.
pub async fn migrate_to(sql: &dyn SqlExecutor, last: i64) -> Result<usize, SqlError> {
    sql.run(Statement::plain("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))"))
    .await?;
    let mut ran = 0;
    for (version, text) in MIGRATIONS.iter().filter(|(v, _)| *v <= last) {
        if is_applied(sql, *version).await? {
            continue;
        }
        // The statements and the version row commit together; the version
        // row's primary key makes a concurrent second run fail and roll back.
        let mut stmts: Vec<Statement> = split_statements(text).map(Statement::plain).collect();
        if *version == 3 {
            stmts.extend(rekey_users(sql).await?);
        }
        stmts.push(Statement::new(
            "INSERT INTO schema_migrations (version) VALUES (?)",
            vec![(*version).into()],
        ));
        match sql.batch(stmts).await {
            Ok(_) => ran += 1,
            // A concurrent run applied it first (its version row, or the
            // column an ALTER TABLE adds, is there already).
            Err(_) if is_applied(sql, *version).await? => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ran)
}

/// Splits migration text on `;` at line ends (a trigger is written on one
/// line, so the `;` inside its body is not at a line end).
fn split_statements(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn initial_migration_splits_into_statements() {
        let stmts: Vec<_> = super::split_statements(super::INITIAL).collect();
        assert_eq!(stmts.len(), 7);
        assert!(stmts.iter().all(|s| !s.contains("--")));
    }

    #[test]
    fn lookalike_keys_split_into_statements() {
        let stmts: Vec<_> = super::split_statements(super::LOOKALIKE_KEYS).collect();
        assert_eq!(stmts.len(), 3);
        assert!(stmts[2].trim_end().ends_with("END"));
    }

    #[test]
    fn triggers_stay_whole_statements() {
        let stmts: Vec<_> = super::split_statements(super::AUDIT_AND_USAGE).collect();
        assert_eq!(stmts.len(), 11);
        assert!(stmts
            .iter()
            .filter(|s| s.contains("TRIGGER"))
            .all(|s| s.trim_end().ends_with("END")));
    }
}
