//! The core's [`SqlExecutor`] as a Hrana-over-HTTP client (the libSQL
//! server protocol that sqld and Turso speak), sent through the Workers
//! `fetch`. This file is the I/O shell: the request bodies and the reading
//! of the answers are the core's [`gatehouse_core::sql::hrana`]; here are
//! the HTTP call and the tries again after SQLITE_BUSY.
//!
//! Every call is ONE `POST /v3/pipeline` request on a fresh stream that the
//! same request closes: `run` is `execute` + `close`; `batch` is one Hrana
//! `batch` (BEGIN → each statement, each conditioned on the previous step's
//! success → COMMIT, and a ROLLBACK conditioned on COMMIT not succeeding) +
//! `close`. The server therefore holds the write lock only while it runs
//! that one request, and no transaction or stream outlives a request.
//!
//! Why not `libsql::wasm::Connection` (libsql 0.10, `cloudflare` feature),
//! which this replaced: it sends a `describe` before every statement and one
//! request per statement, so a transaction of N statements cost 2N + 2 round
//! trips with sqld's write lock held throughout; concurrent writers timed out
//! in sqld (429 `DbCreateTimeout`), and a failed change-password batch left
//! the lock held (its stream close is fire-and-forget). It also carries a
//! SQL parser (~95 KB of wasm). See docs/worker.md.

use gatehouse_core::async_trait_decl;
use gatehouse_core::sql::{busy, hrana};
use gatehouse_core::sql::{SqlError, SqlExecutor, Statement, StatementResult};
use std::future::Future;

/// Where the database is. Each call makes its own `fetch`: workerd forbids
/// one request's I/O objects being used by another request of the isolate.
pub struct HranaExecutor {
    pipeline_url: String,
    /// `Bearer …`, or empty for a server without auth (a local sqld).
    authorization: String,
}

impl HranaExecutor {
    pub fn new(database_url: &str, auth_token: &str) -> Self {
        HranaExecutor {
            pipeline_url: hrana::pipeline_url(database_url),
            authorization: hrana::authorization(auth_token),
        }
    }

    /// Sends one pipeline body and returns the answer's text.
    async fn pipeline(&self, body: String) -> Result<String, SqlError> {
        post(&self.pipeline_url, &self.authorization, body).await
    }
}

#[cfg(target_arch = "wasm32")]
async fn post(url: &str, authorization: &str, body: String) -> Result<String, SqlError> {
    use worker::wasm_bindgen::JsValue;
    use worker::{Fetch, Headers, Method, Request, RequestInit};

    let fail = |e: worker::Error| SqlError::Other(format!("hrana: fetch: {e}"));
    let headers = Headers::new();
    headers
        .set("Content-Type", "application/json")
        .map_err(fail)?;
    if !authorization.is_empty() {
        headers.set("Authorization", authorization).map_err(fail)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from(body)));
    let req = Request::new_with_init(url, &init).map_err(fail)?;
    let mut resp = Fetch::Request(req).send().await.map_err(fail)?;
    let status = resp.status_code();
    let text = resp.text().await.map_err(fail)?;
    if status != 200 {
        // e.g. 429 "DbCreateTimeout" from sqld, 401 from Turso: the core
        // answers 503 for any of these.
        return Err(SqlError::Other(format!("hrana: HTTP {status}: {text}")));
    }
    Ok(text)
}

/// Native builds (the unit tests) never talk to a server.
#[cfg(not(target_arch = "wasm32"))]
async fn post(_url: &str, _authorization: &str, _body: String) -> Result<String, SqlError> {
    Err(SqlError::Other(
        "hrana: fetch is only available in a Worker".into(),
    ))
}

async_trait_decl! {
impl SqlExecutor for HranaExecutor {
    async fn run(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        let stmt = &stmt;
        retrying_when_busy(|| async move {
            let body = self.pipeline(hrana::execute_request(stmt)?).await?;
            hrana::execute_response(&body, stmt)
        })
        .await
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let stmts = &stmts;
        retrying_when_busy(|| async move {
            let body = self.pipeline(hrana::batch_request(stmts)?).await?;
            hrana::batch_response(&body, stmts)
        })
        .await
    }
}
}

/// [`busy::retrying_when_busy`] with this host's timer; logs the failure
/// it ends with.
async fn retrying_when_busy<T, F, Fut>(attempt: F) -> Result<T, SqlError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SqlError>>,
{
    busy::retrying_when_busy(attempt, pause)
        .await
        .inspect_err(log)
}

/// Says why, then waits `ms` (a timer: no CPU) before the next try.
fn pause(ms: u64, e: &SqlError) -> impl Future<Output = ()> {
    #[cfg(target_arch = "wasm32")]
    worker::console_warn!("gatehouse sql: busy, trying again in {ms} ms: {e}");
    #[cfg(not(target_arch = "wasm32"))]
    let _ = e;
    async move {
        #[cfg(target_arch = "wasm32")]
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
        #[cfg(not(target_arch = "wasm32"))]
        let _ = ms;
    }
}

/// A storage failure becomes the core's 503; the reason goes to the log
/// (`wrangler tail`). A unique violation is an expected answer, not logged.
fn log(e: &SqlError) {
    if let SqlError::Other(m) = e {
        #[cfg(target_arch = "wasm32")]
        worker::console_error!("gatehouse sql: {m}");
        #[cfg(not(target_arch = "wasm32"))]
        let _ = m;
    }
}
