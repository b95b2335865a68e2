//! Hrana over HTTP, the protocol sqld and Turso speak, as pure functions:
//! the body of a `POST /v3/pipeline` for one statement or for one
//! transaction, and the reading of its answer into [`StatementResult`]s or a
//! [`SqlError`]. No I/O: the Worker's executor sends the bodies through the
//! Workers `fetch` and tries again after SQLITE_BUSY (docs/worker.md).
//!
//! Every pipeline starts a fresh stream and closes it in its last request,
//! so no stream or transaction outlives one HTTP request:
//! - one statement: `execute` + `close`;
//! - a transaction: one Hrana `batch` (BEGIN → each statement, each
//!   conditioned on the previous step's success → COMMIT, and a ROLLBACK
//!   conditioned on COMMIT not succeeding) + `close`.
//!
//! The JSON shapes are written out here (a few serde structs) rather than
//! taken from `libsql-hrana`: that crate brings prost and protobuf encodings
//! the Worker has no use for, and only this subset is needed.

use super::classify::{may_write, ErrorCode};
use super::{SqlError, Statement, StatementResult, Value};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Hrana's blobs: standard base64, sent without padding (as sqld sends
/// them), read with or without it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The pipeline endpoint of a database URL. `libsql://host` is Turso's alias
/// for `https://host`.
pub fn pipeline_url(database_url: &str) -> String {
    let url = match database_url.strip_prefix("libsql://") {
        Some(rest) => format!("https://{rest}"),
        None => database_url.to_owned(),
    };
    format!("{}/v3/pipeline", url.trim_end_matches('/'))
}

/// The `Authorization` header's value for an auth token: `Bearer …`, or
/// empty (send none) for a server without auth (a local sqld).
pub fn authorization(auth_token: &str) -> String {
    if auth_token.is_empty() {
        String::new()
    } else {
        format!("Bearer {auth_token}")
    }
}

/// The body that runs one statement: `execute` + `close`.
pub fn execute_request(stmt: &Statement) -> Result<String, SqlError> {
    encode(Req::Execute {
        stmt: Stmt::new(stmt),
    })
}

/// The statement's result from the answer to [`execute_request`]. A failure
/// names the statement (for the log).
pub fn execute_response(body: &str, stmt: &Statement) -> Result<StatementResult, SqlError> {
    match first_result(body)? {
        Some(StreamResult::Ok {
            response: StreamResp::Execute { result },
        }) => result.convert(),
        Some(StreamResult::Error { error }) => Err(within(error.into_sql_error(), &stmt.sql)),
        _ => Err(SqlError::Other("hrana: no execute result".into())),
    }
}

/// The body that runs the statements as one all-or-nothing transaction
/// (see [`transaction`]) + `close`.
pub fn batch_request(stmts: &[Statement]) -> Result<String, SqlError> {
    encode(Req::Batch {
        batch: transaction(stmts),
    })
}

/// The statements' results from the answer to [`batch_request`], or the
/// first error among BEGIN, the statements and COMMIT.
pub fn batch_response(body: &str, stmts: &[Statement]) -> Result<Vec<StatementResult>, SqlError> {
    match first_result(body)? {
        Some(StreamResult::Ok {
            response: StreamResp::Batch { result },
        }) => batch_results(result, stmts),
        Some(StreamResult::Error { error }) => Err(error.into_sql_error()),
        _ => Err(SqlError::Other("hrana: no batch result".into())),
    }
}

/// A pipeline of `request` then `close`, on a new stream.
fn encode(request: Req<'_>) -> Result<String, SqlError> {
    serde_json::to_string(&Pipeline {
        baton: None,
        requests: vec![request, Req::Close],
    })
    .map_err(|e| SqlError::Other(format!("hrana: encoding the request: {e}")))
}

/// The result of the pipeline's first request (the close's is of no use).
fn first_result(body: &str) -> Result<Option<StreamResult>, SqlError> {
    let resp: PipelineResp = serde_json::from_str(body)
        .map_err(|e| SqlError::Other(format!("hrana: unreadable response: {e}")))?;
    Ok(resp.results.into_iter().next())
}

/// The statements as one all-or-nothing Hrana batch: step 0 BEGIN, steps
/// 1..=n the statements (each runs only if the step before it succeeded),
/// step n+1 COMMIT (only if statement n succeeded), step n+2 ROLLBACK (if
/// COMMIT did not succeed, whatever failed before it). The statements share
/// one connection, so `changes()` sees the previous statement's count.
fn transaction(stmts: &[Statement]) -> Batch<'_> {
    // IMMEDIATE takes the write lock at BEGIN, so a concurrent writer waits
    // for it instead of failing with SQLITE_BUSY when it upgrades.
    let begin = if stmts.iter().any(|s| may_write(&s.sql)) {
        "BEGIN IMMEDIATE"
    } else {
        "BEGIN"
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
    fn into_sql_error(self) -> SqlError {
        let code = match &self.code {
            Some(name) => ErrorCode::Name(name),
            None => ErrorCode::None,
        };
        SqlError::from_failure(self.message, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    fn wire(body: Result<String, SqlError>) -> Json {
        serde_json::from_str(&body.unwrap()).unwrap()
    }

    fn plain(sql: &str) -> Json {
        json!({"sql": sql, "args": [], "want_rows": false})
    }

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
        assert_eq!(authorization(""), "");
        assert_eq!(authorization("tok"), "Bearer tok");
    }

    #[test]
    fn a_statement_is_one_execute_then_close() {
        let stmt = Statement::new(
            "SELECT ? , ?, ?",
            vec![Value::Integer(-1), "é".into(), Value::Blob(vec![0])],
        );
        assert_eq!(
            wire(execute_request(&stmt)),
            json!({"baton": null, "requests": [
                {"type": "execute", "stmt": {
                    "sql": "SELECT ? , ?, ?",
                    "args": [
                        {"type": "integer", "value": "-1"},
                        {"type": "text", "value": "é"},
                        {"type": "blob", "base64": "AA"}],
                    "want_rows": true}},
                {"type": "close"},
            ]})
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
        assert_eq!(
            wire(batch_request(&stmts)),
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
    }

    #[test]
    fn a_batch_of_reads_begins_deferred() {
        let reads = vec![Statement::plain("  select 1"), Statement::plain("SELECT 2")];
        let body = wire(batch_request(&reads));
        assert_eq!(
            body["requests"][0]["batch"]["steps"][0]["stmt"],
            plain("BEGIN")
        );
        let mixed = vec![reads[0].clone(), Statement::plain("DELETE FROM t")];
        let body = wire(batch_request(&mixed));
        assert_eq!(
            body["requests"][0]["batch"]["steps"][0]["stmt"],
            plain("BEGIN IMMEDIATE")
        );
    }

    // Answers of sqld 0.24 to `execute_request` bodies (recorded with curl
    // against `scripts/with-sqld.sh`, table
    // `t (id INTEGER PRIMARY KEY, b TEXT UNIQUE, f REAL, d BLOB)`).

    /// `INSERT INTO t (b, f, d) VALUES (?, ?, ?) RETURNING id`.
    const INSERTED: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"id","decltype":"INTEGER"}],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":1,"last_insert_rowid":"1","replication_index":"4","rows_read":1,"rows_written":2,"query_duration_ms":0.136}}},{"type":"ok","response":{"type":"close"}}]}"#;

    /// `SELECT id, b, f, d, NULL FROM t`.
    const SELECTED: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"id","decltype":"INTEGER"},{"name":"b","decltype":"TEXT"},{"name":"f","decltype":"REAL"},{"name":"d","decltype":"BLOB"},{"name":"NULL","decltype":null}],"rows":[[{"type":"integer","value":"1"},{"type":"text","value":"x"},{"type":"float","value":1.5},{"type":"blob","base64":"AAH/"},{"type":"null"}]],"affected_row_count":0,"last_insert_rowid":null,"replication_index":"4","rows_read":1,"rows_written":0,"query_duration_ms":0.07}}},{"type":"ok","response":{"type":"close"}}]}"#;

    /// `INSERT INTO t (b) VALUES ('x')` a second time.
    const DUPLICATE: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"error","error":{"message":"SQLite error: UNIQUE constraint failed: t.b","code":"SQLITE_CONSTRAINT"}},{"type":"ok","response":{"type":"close"}}]}"#;

    /// `SELECT * FROM nope`.
    const NO_TABLE: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"error","error":{"message":"SQLite error: no such table: nope","code":"SQLITE_UNKNOWN"}},{"type":"ok","response":{"type":"close"}}]}"#;

    /// The same shape with SQLite's busy code (written by hand: sqld answers
    /// it only under concurrent writers).
    const BUSY: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"error","error":{"message":"SQLite error: database is locked","code":"SQLITE_BUSY"}},{"type":"ok","response":{"type":"close"}}]}"#;

    fn any_stmt() -> Statement {
        Statement::new("INSERT INTO t (b) VALUES (?)", vec!["x".into()])
    }

    #[test]
    fn an_execute_gives_its_rows_and_count() {
        let r = execute_response(INSERTED, &any_stmt()).unwrap();
        assert_eq!(r.rows_affected, 1);
        assert_eq!(r.rows, vec![vec![Value::Integer(1)]]);
        let r = execute_response(SELECTED, &any_stmt()).unwrap();
        assert_eq!(r.rows_affected, 0);
        assert_eq!(
            r.rows,
            vec![vec![
                Value::Integer(1),
                Value::Text("x".into()),
                Value::Real(1.5),
                Value::Blob(vec![0, 1, 255]),
                Value::Null,
            ]]
        );
    }

    #[test]
    fn execute_errors_are_mapped_and_name_the_statement() {
        match execute_response(DUPLICATE, &any_stmt()) {
            Err(SqlError::UniqueViolation(cols)) => assert_eq!(cols, "t.b"),
            other => panic!("{other:?}"),
        }
        match execute_response(NO_TABLE, &Statement::plain("SELECT * FROM nope")) {
            Err(e @ SqlError::Other(_)) => {
                assert!(!e.is_busy());
                assert_eq!(
                    e.to_string(),
                    "database error: SQLITE_UNKNOWN: SQLite error: no such table: nope (in `SELECT * FROM nope`)"
                );
            }
            other => panic!("{other:?}"),
        }
        let busy = execute_response(BUSY, &any_stmt()).unwrap_err();
        assert!(busy.is_busy(), "{busy:?}");
    }

    #[test]
    fn unreadable_or_missing_results_are_errors() {
        for body in ["", "<html>", r#"{"baton":null,"results":[]}"#] {
            assert!(matches!(
                execute_response(body, &any_stmt()),
                Err(SqlError::Other(_))
            ));
            assert!(matches!(
                batch_response(body, &stmts(1)),
                Err(SqlError::Other(_))
            ));
        }
        // A batch's answer to an execute, and the other way round.
        assert!(execute_response(FAILED_BATCH, &any_stmt()).is_err());
        assert!(batch_response(INSERTED, &stmts(1)).is_err());
    }

    /// What sqld 0.24 answered to a two-statement batch whose second
    /// statement broke a UNIQUE constraint (recorded with curl).
    const FAILED_BATCH: &str = r#"{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null,"rows_read":0,"rows_written":0,"query_duration_ms":0.016},{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":"3","replication_index":null,"rows_read":0,"rows_written":2,"query_duration_ms":0.023},null,null,{"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null,"replication_index":null,"rows_read":0,"rows_written":0,"query_duration_ms":0.009}],"step_errors":[null,null,{"message":"SQLite error: UNIQUE constraint failed: t.b","code":"SQLITE_CONSTRAINT"},null,null],"replication_index":"4"}}},{"type":"ok","response":{"type":"close"}}]}"#;

    fn stmts(n: usize) -> Vec<Statement> {
        (0..n)
            .map(|i| Statement::plain(format!("SELECT {i}")))
            .collect()
    }

    #[test]
    fn a_unique_violation_in_a_batch_is_reported_as_such() {
        match batch_response(FAILED_BATCH, &stmts(2)) {
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
        let results = batch_response(text, &stmts(2)).unwrap();
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
        match batch_response(commit_failed, &stmts(1)) {
            Err(e @ SqlError::Other(_)) => {
                let m = e.to_string();
                assert!(
                    m.contains("SQLITE_BUSY") && m.contains("in `COMMIT`"),
                    "{m}"
                );
                assert!(e.is_busy(), "a busy COMMIT may be tried again");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        let nothing_ran = r#"{"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{
            "step_results":[null,null,null,null],"step_errors":[null,null,null,null]}}}]}"#;
        assert!(matches!(
            batch_response(nothing_ran, &stmts(1)),
            Err(SqlError::Other(_))
        ));
    }

    #[test]
    fn a_stream_error_on_a_batch_is_mapped_without_a_statement() {
        match batch_response(BUSY, &stmts(1)) {
            Err(e) => {
                assert!(e.is_busy());
                assert!(!e.to_string().contains("(in `"), "{e}");
            }
            Ok(_) => panic!("a stream error"),
        }
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
    fn bad_cells_are_errors() {
        let bad_int = Cell::Integer {
            value: "1.5".into(),
        };
        assert!(matches!(bad_int.into_value(), Err(SqlError::Other(_))));
        let bad_blob = Cell::Blob {
            base64: "!!".into(),
        };
        assert!(matches!(bad_blob.into_value(), Err(SqlError::Other(_))));
    }
}
