//! The core's [`SqlExecutor`] as a small Hrana-over-HTTP client (the libSQL
//! server protocol that sqld and Turso speak), sent through the Workers
//! `fetch`.
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
//!
//! The protocol types are written out here (a few serde structs) rather than
//! taken from `libsql-hrana`: that crate brings prost and protobuf encodings
//! the Worker has no use for, and only the JSON shapes below are needed.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use gatehouse_core::async_trait_decl;
use gatehouse_core::sql::{SqlError, SqlExecutor, Statement, StatementResult, Value};
use serde::{Deserialize, Serialize};

/// Hrana's blobs: standard base64, sent without padding (as sqld sends
/// them), read with or without it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

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
            pipeline_url: pipeline_url(database_url),
            authorization: if auth_token.is_empty() {
                String::new()
            } else {
                format!("Bearer {auth_token}")
            },
        }
    }

    /// Sends one pipeline and returns its results, one per request.
    async fn pipeline(&self, requests: Vec<Req<'_>>) -> Result<Vec<StreamResult>, SqlError> {
        let body = serde_json::to_string(&Pipeline {
            baton: None,
            requests,
        })
        .map_err(|e| SqlError::Other(format!("hrana: encoding the request: {e}")))?;
        let text = post(&self.pipeline_url, &self.authorization, body).await?;
        let resp: PipelineResp = serde_json::from_str(&text)
            .map_err(|e| SqlError::Other(format!("hrana: unreadable response: {e}")))?;
        Ok(resp.results)
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
        let mut waits = BUSY_WAITS_MS.iter();
        loop {
            match (self.execute(stmt.clone()).await, waits.next()) {
                (Err(e), Some(ms)) if is_busy(&e) => pause(*ms, &e).await,
                (r, _) => return r.inspect_err(log),
            }
        }
    }

    async fn batch(&self, stmts: Vec<Statement>) -> Result<Vec<StatementResult>, SqlError> {
        let mut waits = BUSY_WAITS_MS.iter();
        loop {
            match (self.transaction(&stmts).await, waits.next()) {
                (Err(e), Some(ms)) if is_busy(&e) => pause(*ms, &e).await,
                (r, _) => return r.inspect_err(log),
            }
        }
    }
}
}

/// How long to wait before each new try after SQLITE_BUSY (about 1 s in
/// all). sqld waits for a busy lock itself, but under concurrent writers a
/// statement still now and then gets "database is locked" at once (seen
/// with 8 contract tests at a time against one sqld). Trying again is safe:
/// a busy statement changed nothing, and a busy batch was rolled back (its
/// ROLLBACK step runs whenever COMMIT did not succeed).
const BUSY_WAITS_MS: [u64; 6] = [5, 20, 50, 100, 250, 500];

fn is_busy(e: &SqlError) -> bool {
    matches!(e, SqlError::Other(m) if m.starts_with("SQLITE_BUSY"))
}

/// Waits `ms` (a timer: no CPU) before the next try.
async fn pause(ms: u64, e: &SqlError) {
    #[cfg(target_arch = "wasm32")]
    {
        worker::console_warn!("gatehouse sql: busy, trying again in {ms} ms: {e}");
        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (ms, e);
}

impl HranaExecutor {
    async fn execute(&self, stmt: Statement) -> Result<StatementResult, SqlError> {
        let results = self
            .pipeline(vec![
                Req::Execute {
                    stmt: Stmt::new(&stmt),
                },
                Req::Close,
            ])
            .await?;
        match results.into_iter().next() {
            Some(StreamResult::Ok {
                response: StreamResp::Execute { result },
            }) => result.convert(),
            Some(StreamResult::Error { error }) => Err(within(error.into_sql_error(), &stmt.sql)),
            _ => Err(SqlError::Other("hrana: no execute result".into())),
        }
    }

    async fn transaction(&self, stmts: &[Statement]) -> Result<Vec<StatementResult>, SqlError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        let results = self
            .pipeline(vec![
                Req::Batch {
                    batch: transaction(stmts),
                },
                Req::Close,
            ])
            .await?;
        match results.into_iter().next() {
            Some(StreamResult::Ok {
                response: StreamResp::Batch { result },
            }) => batch_results(result, stmts),
            Some(StreamResult::Error { error }) => Err(error.into_sql_error()),
            _ => Err(SqlError::Other("hrana: no batch result".into())),
        }
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

/// `libsql://host` is Turso's alias for `https://host`.
fn pipeline_url(database_url: &str) -> String {
    let url = match database_url.strip_prefix("libsql://") {
        Some(rest) => format!("https://{rest}"),
        None => database_url.to_owned(),
    };
    format!("{}/v3/pipeline", url.trim_end_matches('/'))
}

/// The statements as one all-or-nothing Hrana batch: step 0 BEGIN, steps
/// 1..=n the statements (each runs only if the step before it succeeded),
/// step n+1 COMMIT (only if statement n succeeded), step n+2 ROLLBACK (if
/// COMMIT did not succeed, whatever failed before it). The statements share
/// one connection, so `changes()` sees the previous statement's count.
fn transaction(stmts: &[Statement]) -> Batch<'_> {
    // IMMEDIATE takes the write lock at BEGIN, so a concurrent writer waits
    // for it instead of failing with SQLITE_BUSY when it upgrades.
    let begin = if stmts.iter().all(|s| is_select(&s.sql)) {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    };
    let n = stmts.len();
    let mut steps = Vec::with_capacity(n + 3);
    steps.push(Step {
        condition: None,
        stmt: Stmt::plain(begin),
    });
    for (i, s) in stmts.iter().enumerate() {
        steps.push(Step {
            condition: Some(Cond::Ok { step: i }),
            stmt: Stmt::new(s),
        });
    }
    steps.push(Step {
        condition: Some(Cond::Ok { step: n }),
        stmt: Stmt::plain("COMMIT"),
    });
    steps.push(Step {
        condition: Some(Cond::Not {
            cond: Box::new(Cond::Ok { step: n + 1 }),
        }),
        stmt: Stmt::plain("ROLLBACK"),
    });
    Batch { steps }
}

/// The statements' results, or the first error among BEGIN, the statements
/// and COMMIT (the ROLLBACK step's own outcome does not matter).
fn batch_results(
    result: BatchResult,
    stmts: &[Statement],
) -> Result<Vec<StatementResult>, SqlError> {
    let n = stmts.len();
    let BatchResult {
        step_results,
        mut step_errors,
    } = result;
    // Steps 0 (BEGIN) to n + 1 (COMMIT) must all have run without error.
    for i in 0..=n + 1 {
        if let Some(Some(e)) = step_errors.get_mut(i).map(Option::take) {
            let step = match i {
                0 => "BEGIN",
                i if i <= n => &stmts[i - 1].sql,
                _ => "COMMIT",
            };
            return Err(within(e.into_sql_error(), step));
        }
    }
    let mut steps = step_results.into_iter();
    let begin = steps.next().flatten();
    let outputs: Vec<Option<StmtResult>> = steps.by_ref().take(n).collect();
    let commit = steps.next().flatten();
    if begin.is_none() || commit.is_none() || outputs.len() != n {
        return Err(SqlError::Other(
            "hrana: the transaction did not run to COMMIT".into(),
        ));
    }
    outputs
        .into_iter()
        .map(|r| {
            r.ok_or_else(|| SqlError::Other("hrana: a statement was skipped".into()))?
                .convert()
        })
        .collect()
}

/// Names the statement in a storage failure's message (for the log).
fn within(e: SqlError, sql: &str) -> SqlError {
    match e {
        SqlError::Other(m) => {
            let head: String = sql.chars().take(60).collect();
            SqlError::Other(format!("{m} (in `{head}`)"))
        }
        unique => unique,
    }
}

/// Only a plain SELECT is known not to write.
fn is_select(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case("select"))
}

// ---- Hrana's JSON shapes (the subset used) ----

#[derive(Serialize)]
struct Pipeline<'a> {
    /// Always null: a new stream, closed by the pipeline's last request.
    baton: Option<String>,
    requests: Vec<Req<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Req<'a> {
    Execute { stmt: Stmt<'a> },
    Batch { batch: Batch<'a> },
    Close,
}

#[derive(Serialize)]
struct Stmt<'a> {
    sql: &'a str,
    args: Vec<Arg<'a>>,
    want_rows: bool,
}

impl<'a> Stmt<'a> {
    fn new(s: &'a Statement) -> Self {
        Stmt {
            sql: &s.sql,
            args: s.params.iter().map(Arg::from).collect(),
            want_rows: true,
        }
    }

    fn plain(sql: &'static str) -> Self {
        Stmt {
            sql,
            args: Vec::new(),
            want_rows: false,
        }
    }
}

/// A value sent: integers travel as decimal strings (JSON numbers lose
/// precision past 2^53), blobs as base64.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Arg<'a> {
    Null,
    Integer { value: String },
    Float { value: f64 },
    Text { value: &'a str },
    Blob { base64: String },
}

impl<'a> From<&'a Value> for Arg<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Arg::Null,
            Value::Integer(i) => Arg::Integer {
                value: i.to_string(),
            },
            Value::Real(f) => Arg::Float { value: *f },
            Value::Text(s) => Arg::Text { value: s },
            Value::Blob(b) => Arg::Blob {
                base64: BASE64.encode(b),
            },
        }
    }
}

#[derive(Serialize)]
struct Batch<'a> {
    steps: Vec<Step<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Cond>,
    stmt: Stmt<'a>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Cond {
    Ok { step: usize },
    Not { cond: Box<Cond> },
}

#[derive(Deserialize)]
struct PipelineResp {
    results: Vec<StreamResult>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamResult {
    Ok { response: StreamResp },
    Error { error: HranaError },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamResp {
    Execute {
        result: StmtResult,
    },
    Batch {
        result: BatchResult,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct BatchResult {
    step_results: Vec<Option<StmtResult>>,
    step_errors: Vec<Option<HranaError>>,
}

#[derive(Deserialize)]
struct StmtResult {
    #[serde(default)]
    rows: Vec<Vec<Cell>>,
    #[serde(default)]
    affected_row_count: u64,
}

impl StmtResult {
    /// The server's own change count: 0 for a SELECT, the rows written for
    /// INSERT/UPDATE/DELETE (with or without RETURNING).
    fn convert(self) -> Result<StatementResult, SqlError> {
        let rows = self
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(Cell::into_value).collect())
            .collect::<Result<_, _>>()?;
        Ok(StatementResult {
            rows_affected: self.affected_row_count,
            rows,
        })
    }
}

/// A value received.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Cell {
    Null,
    Integer { value: String },
    Float { value: f64 },
    Text { value: String },
    Blob { base64: String },
}

impl Cell {
    fn into_value(self) -> Result<Value, SqlError> {
        Ok(match self {
            Cell::Null => Value::Null,
            Cell::Integer { value } => Value::Integer(
                value
                    .parse()
                    .map_err(|_| SqlError::Other(format!("hrana: bad integer {value:?}")))?,
            ),
            Cell::Float { value } => Value::Real(value),
            Cell::Text { value } => Value::Text(value),
            Cell::Blob { base64 } => Value::Blob(
                BASE64
                    .decode(&base64)
                    .map_err(|_| SqlError::Other("hrana: bad base64 blob".into()))?,
            ),
        })
    }
}

#[derive(Deserialize)]
struct HranaError {
    message: String,
    #[serde(default)]
    code: Option<String>,
}

impl HranaError {
    /// SQLite reports UNIQUE (and PRIMARY KEY) failures as "UNIQUE
    /// constraint failed: table.column[, table.column]"; the columns are cut
    /// out of it, as the native host reports them.
    fn into_sql_error(self) -> SqlError {
        const UNIQUE_MESSAGE: &str = "UNIQUE constraint failed: ";
        match self.message.find(UNIQUE_MESSAGE) {
            Some(at) => {
                let cols: String = self.message[at + UNIQUE_MESSAGE.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ',' | ' '))
                    .collect();
                SqlError::UniqueViolation(cols.trim().to_owned())
            }
            None => SqlError::Other(match self.code {
                Some(code) => format!("{code}: {}", self.message),
                None => self.message,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls() {
        assert_eq!(
            pipeline_url("libsql://db-org.turso.io"),
            "https://db-org.turso.io/v3/pipeline"
        );
        assert_eq!(
            pipeline_url("http://127.0.0.1:8790/"),
            "http://127.0.0.1:8790/v3/pipeline"
        );
    }

    #[test]
    fn a_batch_is_one_conditional_transaction() {
        let stmts = vec![
            Statement::new(
                "UPDATE t SET a = ? WHERE b = ?",
                vec![Value::Integer(i64::MAX), Value::Blob(vec![0, 1, 255])],
            ),
            Statement::new(
                "INSERT INTO x SELECT ?, ? WHERE changes() > 0",
                vec![Value::Null, Value::Real(1.5)],
            ),
        ];
        let wire = serde_json::to_value(Pipeline {
            baton: None,
            requests: vec![
                Req::Batch {
                    batch: transaction(&stmts),
                },
                Req::Close,
            ],
        })
        .unwrap();
        let plain = |sql: &str| json!({"sql": sql, "args": [], "want_rows": false});
        assert_eq!(
            wire,
            json!({"baton": null, "requests": [
                {"type": "batch", "batch": {"steps": [
                    {"stmt": plain("BEGIN IMMEDIATE")},
                    {"condition": {"type": "ok", "step": 0}, "stmt": {
                        "sql": "UPDATE t SET a = ? WHERE b = ?",
                        "args": [
                            {"type": "integer", "value": "9223372036854775807"},
                            {"type": "blob", "base64": "AAH/"}],
                        "want_rows": true}},
                    {"condition": {"type": "ok", "step": 1}, "stmt": {
                        "sql": "INSERT INTO x SELECT ?, ? WHERE changes() > 0",
                        "args": [{"type": "null"}, {"type": "float", "value": 1.5}],
                        "want_rows": true}},
                    {"condition": {"type": "ok", "step": 2}, "stmt": plain("COMMIT")},
                    {"condition": {"type": "not", "cond": {"type": "ok", "step": 3}},
                     "stmt": plain("ROLLBACK")},
                ]}},
                {"type": "close"},
            ]})
        );
        let reads = vec![Statement::new("  select 1", vec![])];
        let first = serde_json::to_value(&transaction(&reads).steps[0].stmt).unwrap();
        assert_eq!(first["sql"], "BEGIN");
    }

    /// What sqld 0.24 answered to a two-statement batch whose second
    /// statement broke a UNIQUE constraint (recorded with curl).
    const FAILED_BATCH: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null,"rows_read":0,"rows_written":0,"query_duration_ms":0.016},{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":"3","replication_index":null,"rows_read":0,"rows_written":2,"query_duration_ms":0.023},null,null,{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null,"rows_read":0,"rows_written":0,"query_duration_ms":0.009}],"step_errors":[null,null,{"message":"SQLite error: UNIQUE constraint failed: t.b","code":"SQLITE_CONSTRAINT"},null,null],"replication_index":"4"}}},{"type":"ok","response":{"type":"close"}}]}"#;

    fn stmts(n: usize) -> Vec<Statement> {
        (0..n)
            .map(|i| Statement::new(format!("SELECT {i}"), vec![]))
            .collect()
    }

    fn batch_of(text: &str) -> BatchResult {
        let resp: PipelineResp = serde_json::from_str(text).unwrap();
        match resp.results.into_iter().next() {
            Some(StreamResult::Ok {
                response: StreamResp::Batch { result },
            }) => result,
            _ => panic!("not a batch result"),
        }
    }

    #[test]
    fn a_unique_violation_in_a_batch_is_reported_as_such() {
        match batch_results(batch_of(FAILED_BATCH), &stmts(2)) {
            Err(SqlError::UniqueViolation(cols)) => assert_eq!(cols, "t.b"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn a_committed_batch_gives_each_statement_its_rows_and_count() {
        let text = r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[
            {"cols":[],"rows":[],"affected_row_count":0},
            {"cols":[{"name":"a"}],"rows":[[{"type":"integer","value":"2"}]],"affected_row_count":1},
            {"cols":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"e"}],"rows":[[{"type":"integer","value":"-7"},{"type":"text","value":"x"},{"type":"float","value":1.5},{"type":"null"},{"type":"blob","base64":"AAH/"}]],"affected_row_count":0},
            {"cols":[],"rows":[],"affected_row_count":0},
            null],"step_errors":[null,null,null,null,null]}}},{"type":"ok","response":{"type":"close"}}]}"#;
        let results = batch_results(batch_of(text), &stmts(2)).unwrap();
        assert_eq!(results[0].rows_affected, 1);
        assert_eq!(results[0].rows, vec![vec![Value::Integer(2)]]);
        assert_eq!(results[1].rows_affected, 0);
        assert_eq!(
            results[1].rows,
            vec![vec![
                Value::Integer(-7),
                Value::Text("x".into()),
                Value::Real(1.5),
                Value::Null,
                Value::Blob(vec![0, 1, 255]),
            ]]
        );
    }

    #[test]
    fn a_failed_commit_or_begin_is_an_error() {
        let commit_failed = r#"{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[
            {"rows":[],"affected_row_count":0},{"rows":[],"affected_row_count":1},null,{"rows":[],"affected_row_count":0}],
            "step_errors":[null,null,{"message":"SQLite error: database is locked","code":"SQLITE_BUSY"},null]}}}]}"#;
        match batch_results(batch_of(commit_failed), &stmts(1)) {
            Err(SqlError::Other(m)) => {
                assert!(
                    m.contains("SQLITE_BUSY") && m.contains("in `COMMIT`"),
                    "{m}"
                )
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        let nothing_ran = r#"{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{
            "step_results":[null,null,null,null],"step_errors":[null,null,null,null]}}}]}"#;
        assert!(matches!(
            batch_results(batch_of(nothing_ran), &stmts(1)),
            Err(SqlError::Other(_))
        ));
    }

    #[test]
    fn blobs_with_or_without_padding() {
        for text in ["AA", "AA=="] {
            let cell = Cell::Blob {
                base64: text.into(),
            };
            assert_eq!(cell.into_value().unwrap(), Value::Blob(vec![0]));
        }
        let sent = serde_json::to_value(Arg::from(&Value::Blob(vec![0]))).unwrap();
        assert_eq!(sent, json!({"type": "blob", "base64": "AA"}));
    }

    #[test]
    fn stream_errors_and_primary_keys() {
        let e = HranaError {
            message: "SQLite error: UNIQUE constraint failed: t.a, t.b".into(),
            code: Some("SQLITE_CONSTRAINT".into()),
        };
        assert!(matches!(e.into_sql_error(), SqlError::UniqueViolation(c) if c == "t.a, t.b"));
        let e = HranaError {
            message: "SQLite error: no such table: nope".into(),
            code: Some("SQLITE_UNKNOWN".into()),
        };
        assert!(matches!(e.into_sql_error(), SqlError::Other(m) if m.contains("no such table")));
    }
}
