//! `GET /api/admin/audit/`: the audit log, newest first, filtered and paged.

use super::common::{page_answer, paging, PageParams, StaffErrors};
use super::store::AuditFilter;
use super::types::{AuditEventOut, AuditEventPage};
use crate::api::types::ErrorOut;
use crate::context::Ctx;
use crate::error::{ApiError, FieldErrors};
use crate::json::check;
use crate::query::Query;
use bytes::Bytes;
use http::Response;

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let q = Query::parse(ctx.req.uri().query());
    let mut errors = FieldErrors::new();
    let filter = AuditFilter {
        event: q.get("event").map(|e| e.chars().take(64).collect()),
        actor: q.int("actor", &mut errors),
        target_user: q.int("target_user", &mut errors),
        user: q.int("user", &mut errors),
        client: q.get("client").map(|c| c.chars().take(64).collect()),
        from: q.time("from", &mut errors),
        to: q.time("to", &mut errors),
    };
    check(errors)?;
    let p = paging(&q)?;
    let (count, rows) = ctx
        .store()
        .audit_events(&filter, p.size, p.offset())
        .await?;
    let results = rows
        .into_iter()
        .map(|r| AuditEventOut {
            id: r.id,
            at: r.at.to_rfc3339(),
            event: r.event,
            actor_user_id: r.actor_user_id,
            actor_client_id: r.actor_client_id,
            ip: r.ip,
            target_user_id: r.target_user_id,
            target_client_id: r.target_client_id,
            detail: serde_json::from_str(&r.detail)
                .unwrap_or_else(|_| serde_json::Value::Object(Default::default())),
        })
        .collect();
    page_answer::<AuditEventPage>(ctx, &q, p, count, results)
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { admin audit, get "/api/admin/audit/",
    params(
        ("event" = Option<String>, Query, description = "Exact event name, or a prefix ending in `*` (e.g. `user.*`)"),
        ("actor" = Option<i64>, Query, description = "Actor user id"),
        ("target_user" = Option<i64>, Query, description = "Target user id"),
        ("user" = Option<i64>, Query, description = "User id as actor or target"),
        ("client" = Option<String>, Query, description = "Client id as actor or target"),
        ("from" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31 (inclusive)"),
        ("to" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31 (exclusive)"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = AuditEventPage),
        (status = 400, description = "Bad filter"),
        StaffErrors,
        (status = 404, description = "Invalid page", body = ErrorOut),
    )
}
