//! Gatehouse on Cloudflare Workers: a thin shell around the core.
//!
//! Everything here is Worker-specific plumbing; every route, status code,
//! validation rule and SQL statement lives in `gatehouse_core`.
//!
//! - [`config`]: `[vars]` and secrets → [`gatehouse_core::Config`] and the libSQL address.
//! - [`convert`]: `worker::Request`/`Response` ↔ `http::Request<Bytes>`/`Response<Bytes>`.
//! - [`executor`]: the core's `SqlExecutor`: one Hrana pipeline request per call (`fetch`).
//! - [`pages`]: what reaches the Worker under the dashboard/docs asset prefixes.
//! - [`clock`], [`random`]: `Date.now()` and `crypto.getRandomValues`.
//! - [`mail`]: the outbox sender over the `send_email` binding (`MAIL`),
//!   run after a response that queued mail and by the Cron Trigger.
//! - [`outbound`]: the core's outbound HTTP over `fetch` (no redirects, timeout, body cap, policy).

mod clock;
mod config;
mod convert;
mod executor;
mod mail;
mod outbound;
mod pages;
mod random;

use gatehouse_core::error::ApiError;
use gatehouse_core::password::InlineHasher;
use gatehouse_core::rate_limit::sql::SqlRateLimitStore;
use gatehouse_core::service::StartError;
use gatehouse_core::sql::{SqlError, SqlExecutor};
use gatehouse_core::{Env as CoreEnv, Gatehouse};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::thread::LocalKey;
use worker::{
    event, js_sys, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent,
};

thread_local! {
    /// One service per isolate: built on the first request, reused after.
    /// Isolates are single-threaded, so a thread-local is the isolate.
    static SERVICE: RefCell<Option<Gatehouse>> = const { RefCell::new(None) };
    /// When this isolate last ran a mail pass (ms since the epoch).
    static LAST_MAIL_PASS: Cell<f64> = const { Cell::new(0.0) };
    /// When this isolate last ran a webhook pass (ms since the epoch).
    static LAST_WEBHOOK_PASS: Cell<f64> = const { Cell::new(0.0) };
}

/// Each isolate runs a webhook pass after a response at most this often
/// besides the cue (a request that may have queued an event), so retries,
/// which are seconds apart at first, come due with traffic; the cron
/// covers idle times.
const WEBHOOK_PASS_EVERY_MS: f64 = 1_000.0;

/// Whether this response should be followed by a webhook pass.
fn webhook_pass_due(queued: bool) -> bool {
    pass_due(&LAST_WEBHOOK_PASS, WEBHOOK_PASS_EVERY_MS, queued)
}

/// Besides the cron, each isolate runs a mail pass after a response at
/// most this often, so retries come due with traffic too.
const MAIL_PASS_EVERY_MS: f64 = 30_000.0;

/// Whether this response should be followed by a mail pass: it queued mail,
/// or the isolate's last pass is older than [`MAIL_PASS_EVERY_MS`].
fn mail_pass_due(queued: bool) -> bool {
    pass_due(&LAST_MAIL_PASS, MAIL_PASS_EVERY_MS, queued)
}

/// Whether a pass is due (`queued`, or the `last` one is `every_ms` old),
/// noting it as the last one if so.
fn pass_due(last: &'static LocalKey<Cell<f64>>, every_ms: f64, queued: bool) -> bool {
    let now = js_sys::Date::now();
    last.with(|last| {
        let due = queued || now - last.get() >= every_ms;
        if due {
            last.set(now);
        }
        due
    })
}

#[event(start)]
fn start() {
    // A panic aborts the wasm instance; at least say why in the logs.
    std::panic::set_hook(Box::new(|info| worker::console_error!("panic: {info}")));
    // GET /api/schema/: the texts build.rs rendered (see there).
    gatehouse_core::openapi::use_prerendered(
        include_str!(concat!(env!("OUT_DIR"), "/openapi.json")),
        include_str!(concat!(env!("OUT_DIR"), "/openapi.yaml")),
    );
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    // Under the dashboard/docs prefixes, what no asset file matched; needs
    // no database.
    if let Ok(method) = http::Method::from_bytes(req.inner().method().as_bytes()) {
        if let Some(r) = pages::respond(&method, &req.path(), || config::dashboard(&env)) {
            return convert::to_worker_response(r);
        }
    }
    let service = match service(&env).await {
        Ok(s) => s,
        // The database did not answer while the isolate started: the core's
        // answer to a storage failure (503), and the next request retries.
        Err(StartFailure::Database(e)) => {
            worker::console_error!("gatehouse could not start: {e}");
            return convert::to_worker_response(ApiError::from(e).into_response());
        }
        // Bad configuration: workerd's 500, with the reason in the log.
        Err(StartFailure::Config(e)) => return Err(e),
    };
    let (req, unread) = convert::to_http_request(req).await?;
    let response = service.handle(req).await;
    if let Some(rest) = unread {
        rest.drain().await;
    }
    // A request that committed a mail: deliver it now, after the response
    // (and now and then anyway, for retries).
    let mail = if mail_pass_due(service.take_mail_queued()) && service.config().mail_enabled {
        mail::transport(&env, service.config().mail_dev)
    } else {
        None
    };
    let webhooks = webhook_pass_due(service.take_event_queued());
    // Usage counters are written after the response, off the request path.
    ctx.wait_until(async move {
        if let Err(e) = service.flush_usage().await {
            worker::console_error!("usage flush failed: {e}");
        }
        if let Some(transport) = mail {
            mail::deliver(&service, transport.as_ref()).await;
        }
        // The key schedule, at most once a minute per isolate, so it runs
        // with traffic even where the Cron Trigger does not fire.
        if let Some(Err(e)) = service.maintain_keys_if_due().await {
            worker::console_error!("signing-key maintenance failed: {e}");
        }
        if webhooks {
            mail::deliver_webhooks(&service).await;
        }
    });
    convert::to_worker_response(response)
}

/// The Cron Trigger (`[triggers] crons` in wrangler.toml): the outbox's
/// retries come due between requests, and the signing keys are maintained.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let service = match service(&env).await {
        Ok(s) => s,
        Err(StartFailure::Database(e)) => {
            return worker::console_error!("scheduled: gatehouse could not start: {e}")
        }
        Err(StartFailure::Config(e)) => {
            return worker::console_error!("scheduled: gatehouse could not start: {e}")
        }
    };
    if let Some(transport) = mail::transport(&env, service.config().mail_dev) {
        mail::deliver(&service, transport.as_ref()).await;
    }
    // The key schedule (docs/KEYS.md): the same core pass as the native
    // host's timer; race-safe when isolates run it at once.
    if let Err(e) = service.maintain_keys(None).await {
        worker::console_error!("scheduled: signing-key maintenance failed: {e}");
    }
    mail::deliver_webhooks(&service).await;
}

/// Why the isolate's service could not be built.
enum StartFailure {
    Database(SqlError),
    Config(worker::Error),
}

/// The isolate's service, built once. Two first requests racing both build
/// one; the second simply replaces the first (start is idempotent).
// The core's `Env` takes `Arc`s on every target; an isolate has one thread.
#[allow(clippy::arc_with_non_send_sync)]
async fn service(env: &Env) -> std::result::Result<Gatehouse, StartFailure> {
    if let Some(s) = SERVICE.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let settings = config::Settings::from_env(env).map_err(StartFailure::Config)?;
    let sql: Arc<dyn SqlExecutor> = Arc::new(executor::HranaExecutor::new(
        &settings.database_url,
        &settings.database_auth_token,
    ));
    let core_env = CoreEnv {
        clock: Arc::new(clock::DateClock),
        random: Arc::new(random::CryptoRandom),
        sql: sql.clone(),
        // Inline: a Worker has no threads to hand the hash to.
        hasher: Arc::new(InlineHasher(settings.core.argon2)),
        // Counters in libSQL: requests of one client land on many isolates.
        rate_limits: Arc::new(SqlRateLimitStore::new(sql)),
        http: Arc::new(outbound::FetchHttp {
            policy: settings.core.outbound.clone(),
        }),
    };
    let service = Gatehouse::start(settings.core, core_env)
        .await
        .map_err(|e| match e {
            StartError::Sql(e) => StartFailure::Database(e),
            other => StartFailure::Config(worker::Error::RustError(format!(
                "gatehouse failed to start: {other}"
            ))),
        })?;
    SERVICE.with(|s| *s.borrow_mut() = Some(service.clone()));
    Ok(service)
}
