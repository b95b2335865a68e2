//! The operator subcommands: open and migrate the database, start the
//! service, call one operator action, print its result.

use crate::cli::{
    ClientArgs, ClientsCommand, Command, ConfigArgs, CreateApiClientArgs, CreateSuperuserArgs,
    CreateUserArgs, DatabaseArgs, ImportDjangoArgs, KeysCommand, MailCommand, WebhooksCommand,
};
use crate::runtime::{native_env, OsRandom};
use crate::server;
use gatehouse_core::api_client::{ApiClient, ApiKey, ClientId, NewApiClient};
use gatehouse_core::operator::{client_json, user_json};
use gatehouse_core::user::{NewUser, User, UserType};
use gatehouse_core::{Config, Gatehouse};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::sync::Arc;

/// A failed command: the message printed on stderr before exiting with 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

impl CommandError {
    fn from_display(e: impl std::fmt::Display) -> Self {
        CommandError(e.to_string())
    }
}

/// Runs one subcommand to completion.
pub async fn run(
    command: Command,
    database: DatabaseArgs,
    config: ConfigArgs,
) -> Result<(), CommandError> {
    // Needs no database: don't create one as a side effect.
    if let Command::Keys(KeysCommand::Generate) = command {
        println!(
            "{}",
            gatehouse_core::token::generate_ed25519_private_key(&OsRandom)
        );
        return Ok(());
    }
    // Needs the database only, not a started service (no signing keys).
    if let Command::ImportDjango(args) = command {
        return import_django(&database, args).await;
    }
    let hash_queue = config.hash_queue;
    let mut config = config.to_config().map_err(CommandError::from_display)?;
    if config.data_key.is_none() && !crate::db::is_remote_url(&database.database_url) {
        config.data_key = Some(data_key_beside(&database.database_url)?);
    }
    let (mut gatehouse, applied) = open(&database, config, hash_queue).await?;
    // Benchmarks only: measure the request path without usage counting.
    if std::env::var_os("GATEHOUSE_BENCH_NO_USAGE").is_some_and(|v| v == "1") {
        gatehouse = gatehouse.without_usage_counting();
    }
    match command {
        Command::Serve(args) => {
            crate::mail::log_mode(gatehouse.config());
            // The outbox sender runs always: webhooks need no mail transport.
            let transport = crate::mail::transport(gatehouse.config()).map_err(CommandError)?;
            let sender = Some(crate::mail::Sender::spawn(gatehouse.clone(), transport));
            // Usage is counted in memory; write it every few seconds and once
            // more after the last request.
            let flusher = gatehouse.clone();
            let task = tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    if let Err(e) = flusher.flush_usage().await {
                        tracing::warn!(error = %e, "usage flush failed; will retry");
                    }
                }
            });
            // The key schedule (docs/KEYS.md): retire previous keys whose
            // time has come, rotate when --key-rotation-days says so.
            let keeper = gatehouse.clone();
            let keys_task = tokio::spawn(async move {
                let mut tick = tokio::time::interval(KEY_MAINTENANCE_EVERY);
                loop {
                    tick.tick().await;
                    match keeper.maintain_keys(None).await {
                        Ok(m) if m.rotated || !m.retired.is_empty() => {
                            tracing::info!(rotated = m.rotated, retired = ?m.retired, "signing keys maintained")
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "signing-key maintenance failed; will retry")
                        }
                    }
                }
            });
            let wake = sender.as_ref().map(|s| s.waker());
            let served = server::serve_with_mail(gatehouse.clone(), args, wake).await;
            task.abort();
            keys_task.abort();
            if let Some(sender) = sender {
                sender.stop().await;
            }
            if let Err(e) = gatehouse.flush_usage().await {
                tracing::warn!(error = %e, "final usage flush failed");
            }
            served.map_err(CommandError::from_display)
        }
        Command::Migrate => {
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Command::CreateSuperuser(args) => create_superuser(&gatehouse, args).await,
        Command::CreateUser(args) => create_user(&gatehouse, args).await,
        Command::CreateApiClient(args) => create_api_client(&gatehouse, args).await,
        Command::Clients(cmd) => clients(&gatehouse, cmd).await,
        Command::Mail(MailCommand::Test { to }) => mail_test(&gatehouse, &to).await,
        Command::Keys(cmd) => keys(&gatehouse, cmd).await,
        Command::Webhooks(cmd) => webhooks(&gatehouse, cmd).await,
        Command::Providers(cmd) => providers(&gatehouse, cmd).await,
        Command::ImportDjango(_) => unreachable!("handled above"),
    }
}

/// `import-django`: parse and plan in the core, then one transaction.
/// Prints the report (JSON) on stdout; a refused dump names its record and
/// writes nothing.
async fn import_django(
    database: &DatabaseArgs,
    args: ImportDjangoArgs,
) -> Result<(), CommandError> {
    use gatehouse_core::django_import as di;
    let started = std::time::Instant::now();
    let bytes = if args.dump == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b).map(|_| b)
    } else {
        std::fs::read(&args.dump)
    }
    .map_err(|e| CommandError(format!("cannot read {}: {e}", args.dump)))?;
    let dump =
        di::parse(&bytes).map_err(|e| CommandError(format!("refused, nothing written: {e}")))?;
    let exec = database.open().await.map_err(CommandError::from_display)?;
    gatehouse_core::schema::migrate(&exec)
        .await
        .map_err(|e| CommandError(format!("migration failed: {e}")))?;
    let existing = di::existing(&exec)
        .await
        .map_err(|e| CommandError(format!("cannot read the database: {e}")))?;
    let mut opts = di::Options {
        allowed_origins: args.allowed_origins,
        ..di::Options::default()
    };
    if let Some(serves) = args.serves {
        opts.serves = serves;
    }
    let plan = di::plan(&dump, &existing, &opts)
        .map_err(|e| CommandError(format!("refused, nothing written: {e}")))?;
    if !args.dry_run {
        di::apply(&exec, &plan)
            .await
            .map_err(|e| CommandError(format!("the import failed, nothing written: {e}")))?;
    }
    let mut report = plan.report(args.dry_run);
    report["elapsed_ms"] = json!(started.elapsed().as_millis() as u64);
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    Ok(())
}

/// `mail test --to ADDRESS`: one test mail straight through the configured
/// transport (not the outbox), so the answer is the transport's own.
async fn mail_test(gatehouse: &Gatehouse, to: &str) -> Result<(), CommandError> {
    use gatehouse_core::mail::{self, outbox, sender};
    let config = gatehouse.config();
    let transport = crate::mail::transport(config)
        .map_err(CommandError)?
        .ok_or_else(|| {
            CommandError("mail is off: set --smtp-url (or GATEHOUSE_SMTP_URL), or --mail-dev to print mail to the log".into())
        })?;
    let id = outbox::new_id(&OsRandom);
    let msg = sender::Outgoing {
        message_id: sender::message_id(&id, &config.mail_from),
        id,
        from: config.mail_from.clone(),
        mail: mail::test_mail(to, &config.public_url),
        attempt: 1,
        queued_at: gatehouse_core::clock::Clock::now(&crate::runtime::SystemClock),
    };
    let via = match &config.smtp {
        Some(url) => url.redacted(),
        None => "the development log (--mail-dev)".into(),
    };
    match transport.send(&msg).await {
        Ok(()) => {
            println!(
                "sent a test mail to {to} via {via} (Message-ID {})",
                msg.message_id
            );
            Ok(())
        }
        Err(e) => Err(CommandError(format!(
            "the test mail to {to} was not sent via {via}: {}{}",
            e.message(),
            match e {
                sender::SendError::Permanent(_) => " (refused for good)",
                sender::SendError::Retryable(_) => " (a temporary failure: try again)",
            }
        ))),
    }
}

/// Opens and migrates the database, then starts the service over it.
/// Returns the service and the number of migrations that ran.
async fn open(
    database: &DatabaseArgs,
    config: Config,
    hash_queue: Option<usize>,
) -> Result<(Gatehouse, usize), CommandError> {
    let exec = database.open().await.map_err(CommandError::from_display)?;
    let applied = gatehouse_core::schema::migrate(&exec)
        .await
        .map_err(|e| CommandError(format!("migration failed: {e}")))?;
    let exec: Arc<dyn gatehouse_core::sql::SqlExecutor> = Arc::new(exec);
    // Slices of the shared limits are reserved on the primary directly: a
    // write through the replica would wait for the replica to sync after it.
    let shared_limits = match (
        &database.replica_path,
        crate::db::is_remote_url(&database.database_url),
    ) {
        (Some(_), _) => Some(Arc::new(
            crate::db::LibsqlExecutor::open(
                &database.database_url,
                database.database_auth_token.clone(),
            )
            .await
            .map_err(CommandError::from_display)?,
        ) as Arc<dyn gatehouse_core::sql::SqlExecutor>),
        (None, true) => Some(exec.clone()),
        (None, false) => None,
    };
    let env = native_env(
        exec,
        config.argon2,
        hash_queue,
        config.outbound.clone(),
        shared_limits,
    );
    let gatehouse = Gatehouse::start(config, env)
        .await
        .map_err(|e| CommandError(format!("cannot start: {e}")))?;
    Ok((gatehouse, applied))
}

async fn create_superuser(gh: &Gatehouse, args: CreateSuperuserArgs) -> Result<(), CommandError> {
    let password = match args.password {
        Some(p) => p,
        None => prompt_password()?,
    };
    let user = gh
        .create_user(NewUser {
            email: args.email,
            username: args.username,
            first_name: String::new(),
            last_name: String::new(),
            user_type: UserType::Admin,
            password,
        })
        .await
        .map_err(CommandError::from_display)?;
    print_user(&user, args.json);
    Ok(())
}

/// Asks twice on the terminal; with no terminal there is no one to ask.
fn prompt_password() -> Result<String, CommandError> {
    if !std::io::stdin().is_terminal() {
        return Err(CommandError(
            "no password: pass --password or set GATEHOUSE_SUPERUSER_PASSWORD \
             (no terminal to prompt on)"
                .into(),
        ));
    }
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| CommandError(format!("cannot read the password: {e}")))
    };
    let first = read("Password: ")?;
    let second = read("Password (again): ")?;
    if first != second {
        return Err(CommandError("passwords didn't match".into()));
    }
    if first.is_empty() {
        return Err(CommandError("the password may not be blank".into()));
    }
    Ok(first)
}

async fn create_user(gh: &Gatehouse, args: CreateUserArgs) -> Result<(), CommandError> {
    let user = gh
        .create_user(NewUser {
            email: args.email,
            username: args.username,
            first_name: args.first_name,
            last_name: args.last_name,
            user_type: args.user_type,
            password: args.password,
        })
        .await
        .map_err(CommandError::from_display)?;
    print_user(&user, args.json);
    Ok(())
}

async fn create_api_client(gh: &Gatehouse, args: CreateApiClientArgs) -> Result<(), CommandError> {
    let (client, key) = gh
        .create_api_client(NewApiClient {
            name: args.name,
            client_type: args.client_type,
            rate_limit: args.rate_limit,
            serves: args.serves,
            allowed_origins: args.origins,
            is_active: !args.inactive,
            email: gatehouse_core::api_client::EmailOptions {
                require_verified_email: args.require_verified_email,
                signin_codes: args.signin_codes,
                reset_url: args.reset_url,
                signin_url: args.signin_url,
            },
            require_mfa_for_staff: args.require_mfa_for_staff,
        })
        .await
        .map_err(CommandError::from_display)?;
    if args.json {
        let mut record = client_json(&client);
        record["api_key"] = json!(key.0);
        print_json(&record);
    } else {
        print_client(&client);
        print_key(&client.id, &key);
    }
    Ok(())
}

async fn webhooks(gh: &Gatehouse, cmd: WebhooksCommand) -> Result<(), CommandError> {
    match cmd {
        WebhooksCommand::Add {
            url,
            events,
            description,
            json,
        } => {
            let (e, secret) = gh
                .add_webhook(&url, &events, &description)
                .await
                .map_err(CommandError)?;
            if json {
                let mut v = e;
                v["secret"] = Value::String(secret);
                print_json(&v);
            } else {
                println!("{}  {}", e["id"].as_str().unwrap_or(""), url);
                println!("secret (shown once): {secret}");
            }
        }
        WebhooksCommand::List { json } => {
            let all = gh.list_webhooks().await.map_err(CommandError)?;
            print_list(json, &all, Value::clone, "no webhook endpoints", |e| {
                let state = if e["disabled"] == true {
                    "DISABLED"
                } else if e["active"] == true {
                    "active"
                } else {
                    "inactive"
                };
                let types: Vec<&str> = e["event_types"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
                    .unwrap_or_default();
                format!(
                    "{}  {}  {}  {}",
                    e["id"].as_str().unwrap_or(""),
                    state,
                    e["url"].as_str().unwrap_or(""),
                    types.join(",")
                )
            });
        }
        WebhooksCommand::Remove { id } => {
            if gh.remove_webhook(&id).await.map_err(CommandError)? {
                println!("removed {id}");
            } else {
                return Err(CommandError(format!("no webhook endpoint {id}")));
            }
        }
    }
    Ok(())
}

async fn clients(gh: &Gatehouse, cmd: ClientsCommand) -> Result<(), CommandError> {
    match cmd {
        ClientsCommand::List { json } => {
            let clients = gh
                .list_api_clients()
                .await
                .map_err(CommandError::from_display)?;
            print_list(json, &clients, client_json, "no API clients", |c| {
                format!(
                    "{}  {}  {}  {}/{}s  serves {}  {}",
                    c.id,
                    c.client_type,
                    if c.is_active { "active" } else { "inactive" },
                    c.rate_limit,
                    c.rate_period_secs,
                    join_types(&c.serves),
                    c.name
                )
            });
        }
        ClientsCommand::Deactivate(ClientArgs { id, json }) => {
            set_active(gh, id, false, json).await?
        }
        ClientsCommand::Activate(ClientArgs { id, json }) => set_active(gh, id, true, json).await?,
        ClientsCommand::RotateKey(ClientArgs { id, json }) => {
            let id = ClientId(id);
            let key = gh
                .rotate_api_key(&id)
                .await
                .map_err(CommandError::from_display)?;
            if json {
                print_json(&json!({"client_id": id.0, "api_key": key.0}));
            } else {
                print_key(&id, &key);
            }
        }
    }
    Ok(())
}

/// How often the server runs the key schedule: well inside the retirement
/// margin (`keys::RETIRE_MARGIN_SECS`), cheap (two small reads).
const KEY_MAINTENANCE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// `keys list|rotate|maintain` (`generate` needs no database: see `run`).
async fn keys(gh: &Gatehouse, cmd: KeysCommand) -> Result<(), CommandError> {
    let (keys, json) = match cmd {
        KeysCommand::Generate => unreachable!("handled in run"),
        KeysCommand::List { json } => (
            gh.list_keys().await.map_err(CommandError::from_display)?,
            json,
        ),
        KeysCommand::Rotate { json } => (
            gh.rotate_keys().await.map_err(CommandError::from_display)?,
            json,
        ),
        KeysCommand::Maintain { now, json } => {
            let at = now.map(gatehouse_core::clock::UnixMillis::from_secs);
            let done = gh
                .maintain_keys(at)
                .await
                .map_err(CommandError::from_display)?;
            if json {
                print_json(&json!(done));
            } else {
                println!(
                    "rotated: {}; retired: {}",
                    if done.rotated { "yes" } else { "no" },
                    if done.retired.is_empty() {
                        "none".to_owned()
                    } else {
                        done.retired.join(", ")
                    }
                );
            }
            return Ok(());
        }
    };
    if json {
        print_json(&json!(keys));
    } else {
        for k in &keys {
            println!(
                "{}  {}  {:<8}  created {}  signing since {}  retires {}",
                k.kid,
                k.alg,
                k.state.as_str(),
                k.created_at,
                k.activated_at.as_deref().unwrap_or("-"),
                k.retire_after.as_deref().unwrap_or("-"),
            );
        }
    }
    Ok(())
}

async fn set_active(
    gh: &Gatehouse,
    id: String,
    active: bool,
    json: bool,
) -> Result<(), CommandError> {
    let client = gh
        .set_api_client_active(&ClientId(id), active)
        .await
        .map_err(CommandError::from_display)?;
    if json {
        print_json(&client_json(&client));
    } else {
        let state = if active { "activated" } else { "deactivated" };
        println!("client {} {state}", client.id);
    }
    Ok(())
}

async fn providers(gh: &Gatehouse, cmd: crate::cli::ProvidersCommand) -> Result<(), CommandError> {
    use crate::cli::ProvidersCommand;
    match cmd {
        ProvidersCommand::List { json } => {
            let list = gh
                .social_providers()
                .await
                .map_err(CommandError::from_display)?;
            let all = list.as_array().map_or(&[][..], Vec::as_slice);
            print_list(json, all, Value::clone, "no providers", |p| {
                format!(
                    "{}  {}  {}  clients {}",
                    p["id"].as_str().unwrap_or_default(),
                    p["kind"].as_str().unwrap_or_default(),
                    p["issuer"].as_str().unwrap_or_default(),
                    p["clients"].as_array().map_or(0, |c| c.len())
                )
            });
            Ok(())
        }
        ProvidersCommand::Add {
            id,
            preset,
            issuer,
            tenant,
            client_id,
            client_secret,
            scopes,
            clients,
        } => {
            let mut list = Vec::new();
            for c in &clients {
                let (client, uris) = c.split_once('=').ok_or_else(|| {
                    CommandError(format!("--client {c:?}: expected CLIENT_ID=URI[,URI…]"))
                })?;
                list.push(json!({"client_id": client, "redirect_uris": uris.split(',').collect::<Vec<_>>()}));
            }
            let mut fields = serde_json::Map::new();
            fields.insert("id".into(), json!(id));
            fields.insert("client_id".into(), json!(client_id));
            fields.insert("client_secret".into(), json!(client_secret));
            fields.insert("clients".into(), Value::Array(list));
            for (k, v) in [
                ("preset", preset),
                ("issuer", issuer),
                ("tenant", tenant),
                ("scopes", scopes),
            ] {
                if let Some(v) = v {
                    fields.insert(k.into(), json!(v));
                }
            }
            let out = gh.add_social_provider(fields).await.map_err(CommandError)?;
            print_json(&out);
            Ok(())
        }
        ProvidersCommand::Remove { id } => {
            if gh
                .remove_social_provider(&id)
                .await
                .map_err(CommandError::from_display)?
            {
                println!("removed provider {id}");
                Ok(())
            } else {
                Err(CommandError(format!("no provider {id}")))
            }
        }
    }
}

fn print_json(v: &Value) {
    println!("{v}");
}

/// A `list` command's output: the items as one JSON array, or a line each
/// (`none` when there are none).
fn print_list<T>(
    json: bool,
    items: &[T],
    to_json: impl Fn(&T) -> Value,
    none: &str,
    line: impl Fn(&T) -> String,
) {
    if json {
        print_json(&Value::Array(items.iter().map(to_json).collect()));
    } else if items.is_empty() {
        println!("{none}");
    } else {
        for item in items {
            println!("{}", line(item));
        }
    }
}

fn print_user(u: &User, json: bool) {
    if json {
        print_json(&user_json(u));
    } else {
        println!(
            "created {} {} <{}> (id {})",
            u.user_type, u.username, u.email, u.id
        );
    }
}

fn print_client(c: &ApiClient) {
    println!("created API client {:?}", c.name);
    println!("  client id:   {}", c.id);
    println!("  type:        {}", c.client_type);
    println!("  rate limit:  {}/{}s", c.rate_limit, c.rate_period_secs);
    println!("  serves:      {}", join_types(&c.serves));
    if !c.allowed_origins.is_empty() {
        println!("  origins:     {}", c.allowed_origins.join(", "));
    }
    println!("  active:      {}", c.is_active);
}

fn print_key(id: &ClientId, key: &ApiKey) {
    println!("  X-Client-ID: {id}");
    println!("  X-API-Key:   {}", key.0);
    println!("Store the key now: it is not shown again.");
}

fn join_types(types: &[UserType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The data key kept beside an embedded database (`<path>.data-key`,
/// mode 0600), made on first use: TOTP works out of the box, and the key
/// never sits in the database whose secrets it seals (a copied database
/// file alone does not reveal them).
pub fn data_key_beside(database: &str) -> Result<gatehouse_core::mfa::DataKey, CommandError> {
    use gatehouse_core::mfa::DataKey;
    let path = std::path::PathBuf::from(format!("{database}.data-key"));
    match std::fs::read_to_string(&path) {
        Ok(text) => DataKey::from_base64(&text)
            .map_err(|why| CommandError(format!("{}: {why}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = DataKey(gatehouse_core::random::bytes(&OsRandom));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(key.to_base64().as_bytes())
                        .map_err(|e| CommandError(format!("{}: {e}", path.display())))?;
                    Ok(key)
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    data_key_beside(database)
                }
                Err(e) => Err(CommandError(format!("{}: {e}", path.display()))),
            }
        }
        Err(e) => Err(CommandError(format!("{}: {e}", path.display()))),
    }
}
