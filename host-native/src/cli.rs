//! The command line (docs/CONTRACT.md, "CLI"): flags, their `GATEHOUSE_*`
//! variables, and the [`Config`] they describe.

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use gatehouse_core::config::vars::{self, ConfigError, Naming};
use gatehouse_core::config::HiddenText;
use gatehouse_core::user::UserType;
use gatehouse_core::Config;
use std::net::SocketAddr;

/// A flag's environment variable takes 1/0, true/false, yes/no, on/off (as
/// the core's own reader does), not only `true`/`false`.
fn boolish() -> clap::builder::BoolishValueParser {
    clap::builder::BoolishValueParser::new()
}

/// Gatehouse: a JWT authentication service for several frontends.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about)]
// `gatehouse --addr …` serves: `serve` is the default subcommand, so its
// flags are accepted without it ([`Cli::parse_args`] refuses them before a
// named subcommand).
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `serve`'s flags as they appear at the top level (argument ids).
const TOP_LEVEL_SERVE_ARGS: [&str; 4] =
    ["addr", "trust_proxy", "trusted_proxies", "max_connections"];

impl Cli {
    /// Parses `args` (program name first). Like `Cli::try_parse_from`, and
    /// refuses `serve`'s flags before a named subcommand, where they would
    /// be silently ignored (`gatehouse --addr X migrate`).
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut cmd = Cli::command();
        let matches = cmd.try_get_matches_from_mut(args)?;
        if let Some(sub) = matches.subcommand_name() {
            for id in TOP_LEVEL_SERVE_ARGS {
                if matches.value_source(id) == Some(ValueSource::CommandLine) {
                    let flag = id.replace('_', "-");
                    return Err(cmd.error(
                        ErrorKind::ArgumentConflict,
                        format!("--{flag} goes after `serve`, and not with `{sub}`"),
                    ));
                }
            }
        }
        Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
    }

    /// The subcommand to run (`serve` when none was named).
    pub fn into_parts(self) -> (Command, DatabaseArgs, ConfigArgs) {
        let command = self.command.unwrap_or(Command::Serve(self.serve));
        (command, self.database, self.config)
    }
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// A file path (embedded database, created if missing) or an
    /// `http://`, `https://` or `libsql://` URL of a libSQL server.
    #[arg(
        long,
        env = "GATEHOUSE_DATABASE_URL",
        default_value = "gatehouse.db",
        global = true
    )]
    pub database_url: String,

    /// Auth token for a remote libSQL server.
    #[arg(
        long,
        env = "GATEHOUSE_DATABASE_AUTH_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub database_auth_token: Option<String>,

    /// Keep an embedded replica of the remote `--database-url` in FILE:
    /// reads run on it, writes go to the primary (docs/SCALING.md). Native
    /// hosts only; one file per process.
    #[arg(
        long,
        value_name = "FILE",
        env = "GATEHOUSE_REPLICA_PATH",
        global = true
    )]
    pub replica_path: Option<String>,

    /// How often the replica pulls the primary's changes, in milliseconds:
    /// the bound on how stale another host's change can look here.
    #[arg(
        long,
        value_name = "MS",
        env = "GATEHOUSE_REPLICA_SYNC_MS",
        default_value_t = 100,
        global = true
    )]
    pub replica_sync_ms: u64,
}

impl DatabaseArgs {
    /// Opens the database these arguments name: a replica when
    /// `--replica-path` is given, else the URL itself.
    pub async fn open(&self) -> Result<crate::db::LibsqlExecutor, crate::db::OpenError> {
        use crate::db::LibsqlExecutor;
        let token = self.database_auth_token.clone();
        match &self.replica_path {
            Some(path) => {
                let every = std::time::Duration::from_millis(self.replica_sync_ms.max(1));
                LibsqlExecutor::open_replica(path, &self.database_url, token, every).await
            }
            None => LibsqlExecutor::open(&self.database_url, token).await,
        }
    }
}

/// Token lifetimes, signing and limits. Global, because the operator
/// commands hash passwords too and must use the server's Argon2 cost.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Access-token lifetime in seconds [default: 900].
    #[arg(long, value_name = "SECS", env = "GATEHOUSE_ACCESS_TTL", global = true)]
    pub access_ttl: Option<i64>,

    /// Refresh-token lifetime in seconds [default: 604800].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_REFRESH_TTL",
        global = true
    )]
    pub refresh_ttl: Option<i64>,

    /// Absolute lifetime of a login in seconds [default: 2592000].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_SESSION_MAX_AGE",
        global = true
    )]
    pub session_max_age: Option<i64>,

    /// Seconds after a refresh during which the refresh token it spent
    /// still gets the new one again (racing tabs, retried requests) instead
    /// of revoking the login as a replay; 0 turns it off, at most 300
    /// [default: 30].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_REFRESH_REUSE_GRACE",
        allow_negative_numbers = true,
        global = true
    )]
    pub refresh_reuse_grace: Option<i64>,

    /// `iss` claim of issued tokens, required of presented ones [default: gatehouse].
    #[arg(long, env = "GATEHOUSE_ISSUER", global = true)]
    pub issuer: Option<String>,

    /// `aud` claim of issued tokens, required of presented ones [default: gatehouse-api].
    #[arg(long, env = "GATEHOUSE_AUDIENCE", global = true)]
    pub audience: Option<String>,

    /// Token signature algorithm [default: eddsa].
    #[arg(long, value_enum, env = "GATEHOUSE_JWT_ALGORITHM", global = true)]
    pub jwt_algorithm: Option<JwtAlgorithm>,

    /// HS256 secret (at least 32 bytes), pinned (never rotated); requires
    /// `--jwt-algorithm hs256`. Without it, hs256 secrets are kept in the
    /// database and rotate (docs/KEYS.md).
    #[arg(
        long,
        env = "GATEHOUSE_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Ed25519 private key (base64, as `keys generate` prints), pinned
    /// (never rotated). Without it, the keys kept in the database are used
    /// (created on first start) and rotate (docs/KEYS.md).
    #[arg(
        long,
        env = "GATEHOUSE_JWT_PRIVATE_KEY",
        hide_env_values = true,
        global = true
    )]
    pub jwt_private_key: Option<String>,

    /// The seed's (Django + simplejwt) HS256 signing key, its `SECRET_KEY`:
    /// with `--legacy-tokens-until`, the seed's tokens are honoured until
    /// then (docs/LEGACY_TOKENS.md).
    #[arg(
        long,
        value_name = "KEY",
        env = "GATEHOUSE_DJANGO_SIGNING_KEY",
        hide_env_values = true,
        global = true
    )]
    pub django_signing_key: Option<HiddenText>,

    /// The key that seals TOTP secrets at rest: base64 of 32 bytes. Without
    /// it, an embedded database gets a key file beside it
    /// (`<database>.data-key`, mode 0600, made on first start); a remote
    /// database has none, and TOTP enrolment answers 503.
    #[arg(
        long,
        value_name = "BASE64",
        env = "GATEHOUSE_DATA_KEY",
        hide_env_values = true,
        global = true
    )]
    pub data_key: Option<HiddenText>,

    /// End of the cutover (RFC 3339, e.g. 2027-01-31T00:00:00Z): from then
    /// on the seed's tokens are refused. Requires `--django-signing-key`.
    #[arg(
        long,
        value_name = "TIME",
        env = "GATEHOUSE_LEGACY_TOKENS_UNTIL",
        global = true
    )]
    pub legacy_tokens_until: Option<String>,

    /// Failed logins per account from one IP address in 15 minutes before
    /// that address gets 429 for the account [default: 10].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT_IP",
        global = true
    )]
    pub login_failures_per_account_ip: Option<u32>,

    /// Failed logins per account from all addresses in 15 minutes before
    /// 429 (a ceiling on spread-out guessing) [default: 100].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT",
        global = true
    )]
    pub login_failures_per_account: Option<u32>,

    /// Registration attempts per IP address in an hour before 429 [default: 30].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_REGISTRATIONS_PER_IP",
        global = true
    )]
    pub registrations_per_ip: Option<u32>,

    /// Accept emails whose local part (before the @) is not ASCII; it must
    /// still be of one script [default: refused].
    #[arg(long, env = "GATEHOUSE_ALLOW_UNICODE_EMAIL_LOCAL_PART", global = true, value_parser = boolish())]
    pub allow_unicode_email_local_part: bool,

    /// Caps every client's budget for requests without a valid access
    /// token, counted per (client, IP) [default: the client's rate limit].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_ANONYMOUS_RATE_LIMIT",
        global = true
    )]
    pub anonymous_rate_limit: Option<u32>,

    /// Failed logins per IP address in 15 minutes before 429 [default: 300].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_LOGIN_FAILURES_PER_IP",
        global = true
    )]
    pub login_failures_per_ip: Option<u32>,

    /// Argon2id memory cost in KiB [default: 19456].
    #[arg(
        long,
        value_name = "KIB",
        env = "GATEHOUSE_ARGON2_MEMORY_KIB",
        global = true
    )]
    pub argon2_memory_kib: Option<u32>,

    /// Argon2id iterations [default: 2].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_ARGON2_ITERATIONS",
        global = true
    )]
    pub argon2_iterations: Option<u32>,

    /// Argon2id parallelism [default: 1].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_ARGON2_PARALLELISM",
        global = true
    )]
    pub argon2_parallelism: Option<u32>,

    /// Password hashes that may wait for a hashing thread (one per core);
    /// past them, logins and registrations get 503 `server_busy`
    /// [default: 32 per core].
    #[arg(long, value_name = "N", env = "GATEHOUSE_HASH_QUEUE", global = true)]
    pub hash_queue: Option<usize>,

    /// Send mail through this SMTP server: `smtp://USER:PASS@HOST[:587]`
    /// (STARTTLS required), `smtps://…[:465]` (implicit TLS); for a local
    /// test server `smtp://HOST:PORT?tls=none` (or `?tls=opportunistic`).
    /// User and password percent-encoded. Excludes --mail-dev.
    #[arg(
        long,
        value_name = "URL",
        env = "GATEHOUSE_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<HiddenText>,

    /// The sender of every mail: `noreply@example.com` or
    /// `"Example <noreply@example.com>"` [default: Gatehouse <gatehouse@localhost>].
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "GATEHOUSE_MAIL_FROM",
        global = true
    )]
    pub mail_from: Option<String>,

    /// Development: print every mail (links included) to the log, clearly
    /// marked, instead of sending it. Not for production.
    #[arg(long, env = "GATEHOUSE_MAIL_DEV", global = true, value_parser = boolish())]
    pub mail_dev: bool,

    /// Gatehouse's public base URL, for links in mails to pages it serves
    /// itself [default: http://localhost:8000].
    #[arg(long, value_name = "URL", env = "GATEHOUSE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Seconds before the first retry of a mail that could not be sent
    /// (half to all of it, doubling up to an hour; given up after 24 h)
    /// [default: 30].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_MAIL_RETRY_SECS",
        global = true
    )]
    pub mail_retry_secs: Option<i64>,

    /// Non-public addresses outbound HTTP (identity providers, webhooks) may
    /// reach, comma-separated: addresses, CIDR blocks (`127.0.0.0/8`) or
    /// `host:port`. Loopback, private, link-local and the like are refused
    /// otherwise [default: none].
    #[arg(
        long,
        value_name = "LIST",
        env = "GATEHOUSE_OUTBOUND_ALLOW",
        global = true
    )]
    pub outbound_allow: Option<String>,
    /// Rotate the signing key every N days (the server's timer; docs/KEYS.md)
    /// [default: only `gatehouse keys rotate` rotates].
    #[arg(
        long,
        value_name = "DAYS",
        env = "GATEHOUSE_KEY_ROTATION_DAYS",
        global = true
    )]
    pub key_rotation_days: Option<i64>,

    /// Seconds a server keeps the key set before re-reading it from the
    /// database (also the JWKS max-age) [default: 30].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_KEY_CACHE_SECS",
        global = true
    )]
    pub key_cache_secs: Option<i64>,

    /// Lifetime of a password-reset link, in seconds [default: 3600].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_RESET_TOKEN_TTL",
        global = true
    )]
    pub reset_token_ttl: Option<i64>,

    /// Lifetime of an email-verification link, in seconds [default: 86400].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_VERIFY_TOKEN_TTL",
        global = true
    )]
    pub verify_token_ttl: Option<i64>,

    /// Lifetime of an email-change link, in seconds [default: 3600].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_EMAIL_CHANGE_TTL",
        global = true
    )]
    pub email_change_ttl: Option<i64>,

    /// Lifetime of an emailed sign-in code, in seconds [default: 600].
    #[arg(
        long,
        value_name = "SECS",
        env = "GATEHOUSE_SIGNIN_CODE_TTL",
        global = true
    )]
    pub signin_code_ttl: Option<i64>,

    /// Reset, sign-in code, verification and email-change requests per target address and hour, each flow apart, whether or not it has an account [default: 5].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_EMAIL_REQUESTS_PER_ADDRESS",
        global = true
    )]
    pub email_requests_per_address: Option<u32>,

    /// The same requests per IP address and hour [default: 50].
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_EMAIL_REQUESTS_PER_IP",
        global = true
    )]
    pub email_requests_per_ip: Option<u32>,
}

/// How tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    /// Ed25519 (public keys served at /.well-known/jwks.json).
    Eddsa,
    /// HMAC-SHA256 with a shared secret.
    Hs256,
}

/// A core [`ConfigError`], told with flag names.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}", .0.message(Naming::Flag))]
pub struct FlagError(pub ConfigError);

impl ConfigArgs {
    /// The service configuration: the core's defaults, overridden by flags.
    //
    // One reader for both hosts: clap only merges each flag with its
    // variable (the flag wins) and checks its type; `Config::from_vars`, the
    // Worker's reader too, gets the result under the variable names and
    // alone applies the defaults, checks and cross-checks. Handing it the
    // parsed values, rather than a lookup that reads the environment again,
    // leaves the flag-over-variable precedence to clap alone.
    pub fn to_config(&self) -> Result<Config, FlagError> {
        Config::from_vars(|name| self.value(name)).map_err(FlagError)
    }

    /// The setting the variable `name` names, as clap parsed it; for the
    /// names without a flag (the dashboard's client), the environment's.
    fn value(&self, name: &str) -> Option<String> {
        fn text(v: Option<impl ToString>) -> Option<String> {
            v.map(|v| v.to_string())
        }
        match name {
            vars::ACCESS_TTL => text(self.access_ttl),
            vars::REFRESH_TTL => text(self.refresh_ttl),
            vars::SESSION_MAX_AGE => text(self.session_max_age),
            vars::REFRESH_REUSE_GRACE => text(self.refresh_reuse_grace),
            vars::ISSUER => self.issuer.clone(),
            vars::AUDIENCE => self.audience.clone(),
            vars::JWT_ALGORITHM => self
                .jwt_algorithm
                .and_then(|a| a.to_possible_value())
                .map(|v| v.get_name().to_owned()),
            vars::JWT_SECRET => self.jwt_secret.clone(),
            vars::JWT_PRIVATE_KEY => self.jwt_private_key.clone(),
            vars::DJANGO_SIGNING_KEY => self.django_signing_key.clone().map(|k| k.0),
            vars::DATA_KEY => self.data_key.clone().map(|k| k.0),
            vars::LEGACY_TOKENS_UNTIL => self.legacy_tokens_until.clone(),
            vars::LOGIN_FAILURES_PER_ACCOUNT_IP => text(self.login_failures_per_account_ip),
            vars::LOGIN_FAILURES_PER_ACCOUNT => text(self.login_failures_per_account),
            vars::LOGIN_FAILURES_PER_IP => text(self.login_failures_per_ip),
            vars::REGISTRATIONS_PER_IP => text(self.registrations_per_ip),
            vars::ANONYMOUS_RATE_LIMIT => text(self.anonymous_rate_limit),
            vars::ALLOW_UNICODE_EMAIL_LOCAL_PART => text(Some(self.allow_unicode_email_local_part)),
            vars::ARGON2_MEMORY_KIB => text(self.argon2_memory_kib),
            vars::ARGON2_ITERATIONS => text(self.argon2_iterations),
            vars::ARGON2_PARALLELISM => text(self.argon2_parallelism),
            vars::SMTP_URL => self.smtp_url.clone().map(|u| u.0),
            vars::MAIL_FROM => self.mail_from.clone(),
            vars::MAIL_DEV => self.mail_dev.then(|| "true".to_owned()),
            vars::PUBLIC_URL => self.public_url.clone(),
            vars::MAIL_RETRY_SECS => text(self.mail_retry_secs),
            vars::OUTBOUND_ALLOW => self.outbound_allow.clone(),
            vars::KEY_ROTATION_DAYS => text(self.key_rotation_days),
            vars::KEY_CACHE_SECS => text(self.key_cache_secs),
            vars::RESET_TOKEN_TTL => text(self.reset_token_ttl),
            vars::VERIFY_TOKEN_TTL => text(self.verify_token_ttl),
            vars::EMAIL_CHANGE_TTL => text(self.email_change_ttl),
            vars::SIGNIN_CODE_TTL => text(self.signin_code_ttl),
            vars::EMAIL_REQUESTS_PER_ADDRESS => text(self.email_requests_per_address),
            vars::EMAIL_REQUESTS_PER_IP => text(self.email_requests_per_ip),
            _ => std::env::var(name).ok().filter(|v| !v.is_empty()),
        }
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve HTTP (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations.
    Migrate,
    /// Create an admin (superuser).
    #[command(name = "createsuperuser")]
    CreateSuperuser(CreateSuperuserArgs),
    /// Create a user of any type.
    CreateUser(CreateUserArgs),
    /// Create an API client (a frontend); its key is shown once.
    CreateApiClient(CreateApiClientArgs),
    /// List and manage API clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import the seed Django deployment's `manage.py dumpdata` (users,
    /// API clients, simplejwt refresh tokens), in one transaction
    /// (docs/MIGRATING.md).
    ImportDjango(ImportDjangoArgs),
    /// Mail delivery.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Webhook endpoints (docs/WEBHOOKS.md).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Social sign-in providers (OpenID Connect, GitHub).
    #[command(subcommand)]
    Providers(ProvidersCommand),
}

/// `webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint; its signing secret (`whsec_…`) is shown once.
    Add {
        /// Where to POST events (http or https).
        url: String,
        /// Event types it takes, comma-separated, or `*` for all.
        #[arg(long, default_value = "*", value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        json: bool,
    },
    /// List the endpoints (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an endpoint, its queued messages and its delivery log.
    Remove { id: String },
}

/// `providers …`.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// List the providers (never a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a provider; its client secret is sealed under the data key.
    Add {
        /// Its name in URLs (`/api/auth/social/ID/start/`): a-z, 0-9, - and _.
        #[arg(long)]
        id: String,
        /// google, microsoft, apple, gitlab or github; none: a generic
        /// OpenID Connect provider (give --issuer).
        #[arg(long)]
        preset: Option<String>,
        /// The issuer URL (OpenID Connect) or GitHub's base URL.
        #[arg(long)]
        issuer: Option<String>,
        /// Microsoft's directory (tenant) id.
        #[arg(long)]
        tenant: Option<String>,
        /// The client id registered at the provider.
        #[arg(long)]
        client_id: String,
        /// Its secret (or GATEHOUSE_PROVIDER_CLIENT_SECRET, kept out of
        /// the shell history).
        #[arg(long, env = "GATEHOUSE_PROVIDER_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// Space-separated scopes [default: the preset's, or openid email profile].
        #[arg(long)]
        scopes: Option<String>,
        /// An API client it is enabled for and the redirect URIs it allows:
        /// `CLIENT_ID=URI[,URI…]`; repeat for more clients.
        #[arg(long = "client", value_name = "CLIENT_ID=URIS", required = true)]
        clients: Vec<String>,
    },
    /// Remove a provider.
    Remove { id: String },
}

/// `mail …`.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send one test mail through the configured transport (--smtp-url or
    /// --mail-dev), at once and not through the outbox; says whether it
    /// was accepted.
    Test {
        /// The recipient.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
    },
}

/// `import-django`'s flags.
#[derive(Debug, Clone, Args)]
pub struct ImportDjangoArgs {
    /// The `dumpdata` JSON file (`-` for standard input).
    pub dump: String,
    /// Print what would be done (the same report) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// User types the imported clients serve [default: creator,staff,admin,
    /// as the seed's clients did].
    #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = parse_user_type)]
    pub serves: Option<Vec<UserType>>,
    /// Browser origins the imported clients accept (the seed keeps none):
    /// `https://HOST[:PORT]`, or `*` for any.
    #[arg(long, value_name = "ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// `serve`'s own flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "GATEHOUSE_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,

    /// Take the client IP from `X-Forwarded-For` as the trusted proxies
    /// appended it (only behind a proxy that appends it; see
    /// --trusted-proxies).
    #[arg(long, env = "GATEHOUSE_TRUST_PROXY", value_parser = boolish())]
    pub trust_proxy: bool,

    /// How many proxies in front of Gatehouse append to `X-Forwarded-For`:
    /// the client IP is the N-th entry from the right (the leftmost ones are
    /// written by the client and never trusted). Used with --trust-proxy.
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_TRUSTED_PROXIES",
        default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..)
    )]
    pub trusted_proxies: u8,

    /// Most connections served at once; more wait to be accepted.
    #[arg(
        long,
        value_name = "N",
        env = "GATEHOUSE_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    pub max_connections: usize,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            trust_proxy: false,
            trusted_proxies: 1,
            max_connections: 10_000,
        }
    }
}

/// `createsuperuser`'s flags.
#[derive(Debug, Clone, Args)]
pub struct CreateSuperuserArgs {
    #[arg(long, env = "GATEHOUSE_SUPERUSER_EMAIL")]
    pub email: String,
    #[arg(long, env = "GATEHOUSE_SUPERUSER_USERNAME")]
    pub username: String,
    /// Without it: GATEHOUSE_SUPERUSER_PASSWORD, else a prompt on a terminal.
    #[arg(long, env = "GATEHOUSE_SUPERUSER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Print the user as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `create-user`'s flags.
#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_user_type)]
    pub user_type: UserType,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub username: String,
    #[arg(long, default_value = "")]
    pub first_name: String,
    #[arg(long, default_value = "")]
    pub last_name: String,
    #[arg(long)]
    pub password: String,
    /// Print the user as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `create-api-client`'s flags.
#[derive(Debug, Clone, Args)]
pub struct CreateApiClientArgs {
    #[arg(long)]
    pub name: String,
    /// `web`, `mobile`, `admin`, `server`, or another label.
    #[arg(long = "type", value_name = "TYPE")]
    pub client_type: String,
    /// Requests allowed per hour.
    #[arg(long, value_name = "N")]
    pub rate_limit: u32,
    /// User types it serves [default: staff,admin for `admin`, else creator].
    #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = parse_user_type)]
    pub serves: Option<Vec<UserType>>,
    /// Browser origins allowed to use it: `https://HOST[:PORT]`, `http://` only for localhost, 127.0.0.1 or [::1], or `*` for any.
    #[arg(long, value_name = "ORIGINS", value_delimiter = ',')]
    pub origins: Vec<String>,
    /// Create it deactivated.
    #[arg(long)]
    pub inactive: bool,
    /// Refuse logins of users whose email is not verified (403 `email_not_verified`).
    #[arg(long)]
    pub require_verified_email: bool,
    /// Offer sign-in with an emailed six-digit code.
    #[arg(long)]
    pub signin_codes: bool,
    /// The client's password-reset page; the mail links to it with `token=…` added [default: Gatehouse's own page].
    #[arg(long, value_name = "URL")]
    pub reset_url: Option<String>,
    /// The client's sign-in-with-a-code page; the code mail links to it with `email=…&code=…` added [default: no link].
    #[arg(long, value_name = "URL")]
    pub signin_url: Option<String>,
    /// Tell staff and admins without a second factor to enrol at sign-in; `--require-mfa-for-staff=false` turns it off [default: on for `admin`, else off].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub require_mfa_for_staff: Option<bool>,
    /// Print the client (and its key) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `clients …`.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List every API client.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a client; every refresh token it issued is revoked.
    Deactivate(ClientArgs),
    /// Activate a client.
    Activate(ClientArgs),
    /// Replace a client's key; the old key stops working at once.
    RotateKey(ClientArgs),
}

// The flags of a `clients` command on one client (no doc comment: the
// subcommand's own is its help).
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

/// `keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new base64 Ed25519 private key (for --jwt-private-key).
    Generate,
    /// List the signing keys (kid, algorithm, state, dates; never secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Rotate: next becomes current (signing), current becomes previous
    /// (verifying until its retirement time), and a new next is made.
    Rotate {
        #[arg(long)]
        json: bool,
    },
    /// One pass of the key schedule: retire previous keys past their
    /// retirement time, rotate when --key-rotation-days says so.
    Maintain {
        /// Run as if the time were this Unix time (seconds): for drills and
        /// tests that cannot wait out a retirement.
        #[arg(long, value_name = "UNIX_SECS")]
        now: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_user_type(s: &str) -> Result<UserType, String> {
    s.trim().parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::config::SigningConfig;

    fn parse(args: &[&str]) -> Cli {
        Cli::parse_args(std::iter::once("gatehouse").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let (cmd, db, _) = parse(&[]).into_parts();
        assert_eq!(db.database_url, "gatehouse.db");
        let Command::Serve(s) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(s.addr.to_string(), "127.0.0.1:8000");
        assert!(!s.trust_proxy);

        let (cmd, _, _) = parse(&["--addr", "127.0.0.1:0", "--trust-proxy"]).into_parts();
        let Command::Serve(s) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(s.addr.port(), 0);
        assert!(s.trust_proxy);
    }

    #[test]
    fn serve_subcommand_and_global_flags() {
        let (cmd, db, cfg) = parse(&[
            "--database-url",
            "/tmp/x.db",
            "serve",
            "--addr",
            "0.0.0.0:9000",
            "--access-ttl",
            "60",
            "--jwt-algorithm",
            "hs256",
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
        ])
        .into_parts();
        assert_eq!(db.database_url, "/tmp/x.db");
        assert!(matches!(cmd, Command::Serve(ref s) if s.addr.port() == 9000));
        let c = cfg.to_config().unwrap();
        assert_eq!(c.access_ttl_secs, 60);
        assert_eq!(
            c.signing,
            SigningConfig::Hs256 {
                secret: Some("0123456789abcdef0123456789abcdef".into())
            }
        );
    }

    #[test]
    fn global_flags_after_a_subcommand() {
        let (cmd, db, cfg) = parse(&[
            "migrate",
            "--database-url",
            "libsql://db.example",
            "--argon2-memory-kib",
            "8192",
        ])
        .into_parts();
        assert!(matches!(cmd, Command::Migrate));
        assert_eq!(db.database_url, "libsql://db.example");
        assert_eq!(cfg.to_config().unwrap().argon2.memory_kib, 8192);
    }

    #[test]
    fn serve_flags_conflict_with_other_subcommands() {
        for args in [
            &["gatehouse", "--addr", "127.0.0.1:1", "migrate"][..],
            &["gatehouse", "--trust-proxy", "serve"],
        ] {
            let e = Cli::parse_args(args).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{args:?}");
        }
    }

    #[test]
    fn createsuperuser() {
        let (cmd, _, _) = parse(&[
            "createsuperuser",
            "--email",
            "a@example.com",
            "--username",
            "admin",
            "--json",
        ])
        .into_parts();
        let Command::CreateSuperuser(a) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(a.email, "a@example.com");
        assert_eq!(a.username, "admin");
        assert!(a.json);
        // The password may also come from the environment or a prompt.
        assert!(a.password.is_none() || std::env::var("GATEHOUSE_SUPERUSER_PASSWORD").is_ok());
    }

    #[test]
    fn create_user() {
        let (cmd, _, _) = parse(&[
            "create-user",
            "--type",
            "staff",
            "--email",
            "s@example.com",
            "--username",
            "s",
            "--first-name",
            "Sam",
            "--password",
            "pw",
        ])
        .into_parts();
        let Command::CreateUser(a) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(a.user_type, UserType::Staff);
        assert_eq!(a.first_name, "Sam");
        assert_eq!(a.last_name, "");
        assert!(!a.json);
        assert!(Cli::try_parse_from([
            "gatehouse",
            "create-user",
            "--type",
            "owner",
            "--email",
            "e",
            "--username",
            "u",
            "--password",
            "p"
        ])
        .is_err());
    }

    #[test]
    fn create_api_client() {
        let (cmd, _, _) = parse(&[
            "create-api-client",
            "--name",
            "Creator Web App",
            "--type",
            "web",
            "--rate-limit",
            "1000",
            "--serves",
            "creator,staff",
            "--origins",
            "https://a.example,https://b.example",
            "--inactive",
            "--json",
        ])
        .into_parts();
        let Command::CreateApiClient(a) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(a.name, "Creator Web App");
        assert_eq!(a.client_type, "web");
        assert_eq!(a.rate_limit, 1000);
        assert_eq!(a.serves, Some(vec![UserType::Creator, UserType::Staff]));
        assert_eq!(a.origins, vec!["https://a.example", "https://b.example"]);
        assert!(a.inactive && a.json);

        let (cmd, _, _) = parse(&[
            "create-api-client",
            "--name",
            "n",
            "--type",
            "admin",
            "--rate-limit",
            "5",
        ])
        .into_parts();
        let Command::CreateApiClient(a) = cmd else {
            panic!("{cmd:?}")
        };
        assert_eq!(a.serves, None);
        assert!(a.origins.is_empty());
        assert!(!a.inactive);
    }

    #[test]
    fn clients_and_keys() {
        let (cmd, _, _) = parse(&["clients", "list", "--json"]).into_parts();
        assert!(matches!(
            cmd,
            Command::Clients(ClientsCommand::List { json: true })
        ));
        let (cmd, _, _) = parse(&["clients", "deactivate", "cl_x"]).into_parts();
        assert!(
            matches!(cmd, Command::Clients(ClientsCommand::Deactivate(ref a)) if a.id == "cl_x")
        );
        let (cmd, _, _) = parse(&["clients", "activate", "cl_x"]).into_parts();
        assert!(matches!(cmd, Command::Clients(ClientsCommand::Activate(_))));
        let (cmd, _, _) = parse(&["clients", "rotate-key", "cl_x", "--json"]).into_parts();
        assert!(matches!(
            cmd,
            Command::Clients(ClientsCommand::RotateKey(ClientArgs { json: true, .. }))
        ));
        let (cmd, _, _) = parse(&["keys", "generate"]).into_parts();
        assert!(matches!(cmd, Command::Keys(KeysCommand::Generate)));
    }

    #[test]
    fn default_config_is_the_cores() {
        let c = ConfigArgs::default().to_config().unwrap();
        let d = Config::default();
        assert_eq!(c.access_ttl_secs, d.access_ttl_secs);
        assert_eq!(c.refresh_ttl_secs, d.refresh_ttl_secs);
        assert_eq!(c.signing, SigningConfig::EdDsa { private_key: None });
        assert_eq!(c.argon2, d.argon2);
        assert_eq!(c.failed_login_per_account, d.failed_login_per_account);
    }

    #[test]
    fn config_from_flags() {
        let cfg = ConfigArgs {
            refresh_ttl: Some(3600),
            session_max_age: Some(7200),
            refresh_reuse_grace: Some(0),
            issuer: Some("iss".into()),
            audience: Some("aud".into()),
            jwt_private_key: Some("a2V5".into()),
            login_failures_per_account: Some(3),
            login_failures_per_ip: Some(50),
            argon2_iterations: Some(3),
            argon2_parallelism: Some(2),
            ..ConfigArgs::default()
        };
        let c = cfg.to_config().unwrap();
        assert_eq!(c.refresh_ttl_secs, 3600);
        assert_eq!(c.session_max_age_secs, 7200);
        assert_eq!(c.refresh_reuse_grace_secs, 0);
        assert_eq!((c.issuer.as_str(), c.audience.as_str()), ("iss", "aud"));
        assert_eq!(
            c.signing,
            SigningConfig::EdDsa {
                private_key: Some("a2V5".into())
            }
        );
        assert_eq!(c.failed_login_per_account.limit, 3);
        assert_eq!(c.failed_login_per_account.period_secs, 15 * 60);
        assert_eq!(c.failed_login_per_ip.limit, 50);
        assert_eq!((c.argon2.iterations, c.argon2.parallelism), (3, 2));
    }

    #[test]
    fn the_django_key_is_not_in_debug() {
        let cfg = ConfigArgs {
            django_signing_key: Some(HiddenText("seed-secret-key".into())),
            legacy_tokens_until: Some("2027-01-31T00:00:00Z".into()),
            ..ConfigArgs::default()
        };
        assert!(!format!("{cfg:?}").contains("seed-secret-key"));
        let c = cfg.to_config().unwrap();
        assert_eq!(c.legacy_tokens.unwrap().signing_key.0, "seed-secret-key");
        let half = ConfigArgs {
            legacy_tokens_until: Some("2027-01-31T00:00:00Z".into()),
            ..ConfigArgs::default()
        };
        assert_eq!(
            half.to_config().unwrap_err().to_string(),
            "--legacy-tokens-until (or GATEHOUSE_LEGACY_TOKENS_UNTIL) is set but --django-signing-key (or GATEHOUSE_DJANGO_SIGNING_KEY) is not: set both or neither"
        );
    }

    #[test]
    fn config_errors() {
        let hs = |secret: Option<&str>| ConfigArgs {
            jwt_algorithm: Some(JwtAlgorithm::Hs256),
            jwt_secret: secret.map(Into::into),
            ..ConfigArgs::default()
        };
        let error = |args: ConfigArgs| args.to_config().unwrap_err().0;
        // No secret: the database keeps (and rotates) the HS256 secrets.
        assert!(hs(None).to_config().is_ok());
        assert_eq!(error(hs(Some("short"))), ConfigError::ShortSecret);
        let secret_with_eddsa = ConfigArgs {
            jwt_secret: Some("x".repeat(32)),
            ..ConfigArgs::default()
        };
        assert_eq!(error(secret_with_eddsa), ConfigError::SecretWithoutHs256);
        let zero_ttl = ConfigArgs {
            access_ttl: Some(0),
            ..ConfigArgs::default()
        };
        let e = zero_ttl.to_config().unwrap_err();
        assert_eq!(e.0, ConfigError::NotPositive(vars::ACCESS_TTL));
        assert_eq!(
            e.to_string(),
            "--access-ttl (or GATEHOUSE_ACCESS_TTL) must be positive"
        );
    }

    /// Every config flag's value reaches the core under its variable's
    /// name, and every variable the core reads is a flag's but the
    /// dashboard pair's (read from the environment).
    #[test]
    fn every_config_flag_reaches_the_core() {
        // Settings of this host's own runtime (the hashing pool), not of the
        // core's `Config`: the Worker has no such thing.
        const HOST_ONLY: &[&str] = &["GATEHOUSE_HASH_QUEUE"];
        let flags = ConfigArgs::augment_args(clap::Command::new("t"));
        let mut argv = vec!["t".to_owned()];
        let mut names = Vec::new();
        for arg in flags.get_arguments() {
            let env = arg.get_env().and_then(|e| e.to_str()).unwrap();
            if HOST_ONLY.contains(&env) {
                continue;
            }
            names.push(env.to_owned());
            argv.push(format!("--{}", arg.get_long().unwrap()));
            if arg.get_action().takes_values() {
                let value = match arg.get_possible_values().first() {
                    Some(v) => v.get_name().to_owned(),
                    None => "7".to_owned(),
                };
                argv.push(value);
            }
        }
        let matches = flags.try_get_matches_from(argv).unwrap();
        let cfg = ConfigArgs::from_arg_matches(&matches).unwrap();
        for name in &names {
            assert!(cfg.value(name).is_some(), "{name} does not reach the core");
        }
        names.extend([vars::DASHBOARD_CLIENT_ID, vars::DASHBOARD_API_KEY].map(String::from));
        names.sort();
        let mut core = vars::NAMES.map(String::from).to_vec();
        core.sort();
        assert_eq!(names, core);
    }
}
