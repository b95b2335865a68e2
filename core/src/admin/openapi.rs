//! The admin API's part of the OpenAPI document, merged into the main one
//! by [`crate::openapi::document`]. The functions exist only to carry the
//! path docs.
#![allow(dead_code)]

use super::types::{
    AdminSessionOut, AdminUserCreateIn, AdminUserOut, AdminUserPage, AdminUserPatchIn,
    AuditEventOut, AuditEventPage, ClientCreateIn, ClientOut, ClientPage, ClientPatchIn,
    ClientUsageOut, ClientWithKeyOut, EndedOut, TopClientOut, UsageBucketOut, UsageCountsOut,
    UsageSummaryOut,
};
use crate::api::types::ErrorOut;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    components(schemas(
        AdminUserOut, AdminUserCreateIn, AdminUserPatchIn, AdminUserPage, AdminSessionOut,
        EndedOut, ClientOut, ClientWithKeyOut, ClientCreateIn, ClientPatchIn, ClientPage,
        UsageCountsOut, UsageBucketOut, ClientUsageOut, TopClientOut, UsageSummaryOut,
        AuditEventOut, AuditEventPage
    )),
    tags((name = "admin", description = "The admin API (docs/ADMIN_API.md): an API client of type admin and a staff or admin user's bearer token. Staff manage creators and API clients; only admins create or change staff and admins."))
)]
pub(crate) struct AdminDoc;

#[utoipa::path(get, path = "/api/admin/users/", tag = "admin",
    params(
        ("search" = Option<String>, Query, description = "Case-insensitive substring of email, username, first or last name"),
        ("user_type" = Option<String>, Query, description = "creator, staff or admin"),
        ("is_active" = Option<bool>, Query, description = "true or false"),
        ("ordering" = Option<String>, Query, description = "id, email, username, date_joined, last_login; `-` for descending"),
        ("page" = Option<u64>, Query, description = "1-based page"),
        ("page_size" = Option<String>, Query, description = "Default 50; larger sizes are capped at 200, and a value that is not a positive integer means the default (as DRF reads it)"),
    ),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "A page of users", body = AdminUserPage),
        (status = 400, description = "Bad filter: {\"field\": [\"message\"]}"),
        (status = 401, description = "Not authenticated or bad API key", body = ErrorOut),
        (status = 403, description = "Not staff, or not an admin client", body = ErrorOut),
        (status = 404, description = "Invalid page", body = ErrorOut),
    ))]
fn users_list() {}

#[utoipa::path(post, path = "/api/admin/users/", tag = "admin", request_body = AdminUserCreateIn,
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AdminUserOut),
        (status = 400, description = "Field errors"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Staff creating staff or admin, or not staff", body = ErrorOut),
    ))]
fn users_create() {}

#[utoipa::path(get, path = "/api/admin/users/{id}/", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "The user", body = AdminUserOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    ))]
fn user_get() {}

#[utoipa::path(patch, path = "/api/admin/users/{id}/", tag = "admin", request_body = AdminUserPatchIn,
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Updated (deactivation or a type change ends every login)", body = AdminUserOut),
        (status = 400, description = "Field errors, or `last_superuser`"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Staff acting on staff/admin or granting staff/admin", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
        (status = 409, description = "Changed concurrently; retry", body = ErrorOut),
    ))]
fn user_patch() {}

#[utoipa::path(post, path = "/api/admin/users/{id}/deactivate/", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Deactivated; every login ended", body = AdminUserOut),
        (status = 400, description = "`last_superuser`", body = ErrorOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not allowed on this user", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    ))]
fn user_deactivate() {}

#[utoipa::path(post, path = "/api/admin/users/{id}/reactivate/", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Reactivated", body = AdminUserOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not allowed on this user", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    ))]
fn user_reactivate() {}

#[utoipa::path(get, path = "/api/admin/users/{id}/sessions/", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "The user's live logins, newest first (at most the 200 newest)", body = [AdminSessionOut]),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    ))]
fn user_sessions() {}

#[utoipa::path(delete, path = "/api/admin/users/{id}/sessions/", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Every login ended", body = EndedOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not allowed on this user", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    ))]
fn user_sessions_end() {}

#[utoipa::path(delete, path = "/api/admin/users/{id}/sessions/{session_id}/", tag = "admin",
    params(("id" = i64, Path, description = "User id"), ("session_id" = String, Path, description = "A login id from the list")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not allowed on this user", body = ErrorOut),
        (status = 404, description = "No such user or live login of theirs", body = ErrorOut),
    ))]
fn user_session_end() {}

#[utoipa::path(get, path = "/api/admin/clients/", tag = "admin",
    params(
        ("search" = Option<String>, Query, description = "Substring of the name or client id"),
        ("client_type" = Option<String>, Query, description = "web, mobile, admin, server, …"),
        ("is_active" = Option<bool>, Query, description = "true or false"),
        ("page" = Option<u64>, Query, description = "1-based page"),
        ("page_size" = Option<String>, Query, description = "Default 50; larger sizes are capped at 200, and a value that is not a positive integer means the default (as DRF reads it)"),
    ),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "A page of clients, oldest first", body = ClientPage),
        (status = 400, description = "Bad filter"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "Invalid page", body = ErrorOut),
    ))]
fn clients_list() {}

#[utoipa::path(post, path = "/api/admin/clients/", tag = "admin", request_body = ClientCreateIn,
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 201, description = "Created; `api_key` is shown this once", body = ClientWithKeyOut),
        (status = 400, description = "Field errors"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
    ))]
fn clients_create() {}

#[utoipa::path(get, path = "/api/admin/clients/{client_id}/", tag = "admin",
    params(("client_id" = String, Path, description = "Client id (cl_…)")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "The client", body = ClientOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    ))]
fn client_get() {}

#[utoipa::path(patch, path = "/api/admin/clients/{client_id}/", tag = "admin", request_body = ClientPatchIn,
    params(("client_id" = String, Path, description = "Client id (cl_…)")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Updated (deactivation ends the client's logins)", body = ClientOut),
        (status = 400, description = "Field errors, or `current_client`"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
        (status = 409, description = "Changed concurrently; retry", body = ErrorOut),
    ))]
fn client_patch() {}

#[utoipa::path(post, path = "/api/admin/clients/{client_id}/rotate-key/", tag = "admin",
    params(("client_id" = String, Path, description = "Client id (cl_…)")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "A new key, shown this once; the old one is dead", body = ClientWithKeyOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    ))]
fn client_rotate_key() {}

#[utoipa::path(post, path = "/api/admin/clients/{client_id}/deactivate/", tag = "admin",
    params(("client_id" = String, Path, description = "Client id (cl_…)")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Deactivated; its logins ended", body = ClientOut),
        (status = 400, description = "`current_client`: the request came through it", body = ErrorOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    ))]
fn client_deactivate() {}

#[utoipa::path(post, path = "/api/admin/clients/{client_id}/activate/", tag = "admin",
    params(("client_id" = String, Path, description = "Client id (cl_…)")),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Activated", body = ClientOut),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    ))]
fn client_activate() {}

#[utoipa::path(get, path = "/api/admin/clients/{client_id}/usage/", tag = "admin",
    params(
        ("client_id" = String, Path, description = "Client id (cl_…)"),
        ("from" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default `to` − 24 h"),
        ("to" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default now"),
        ("bucket" = Option<String>, Query, description = "hour or day; default hour up to 48 h, else day"),
    ),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "The client's usage per bucket", body = ClientUsageOut),
        (status = 400, description = "Bad range"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "No such client", body = ErrorOut),
    ))]
fn client_usage() {}

#[utoipa::path(get, path = "/api/admin/usage/", tag = "admin",
    params(
        ("from" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default `to` − 24 h"),
        ("to" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31; default now"),
        ("bucket" = Option<String>, Query, description = "hour or day; default hour up to 48 h, else day"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "How many top clients (1–100, default 10)"),
    ),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "Usage of every client per bucket, and the busiest clients", body = UsageSummaryOut),
        (status = 400, description = "Bad range"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
    ))]
fn usage() {}

#[utoipa::path(get, path = "/api/admin/audit/", tag = "admin",
    params(
        ("event" = Option<String>, Query, description = "Exact event name, or a prefix ending in `*` (e.g. `user.*`)"),
        ("actor" = Option<i64>, Query, description = "Actor user id"),
        ("target_user" = Option<i64>, Query, description = "Target user id"),
        ("user" = Option<i64>, Query, description = "User id as actor or target"),
        ("client" = Option<String>, Query, description = "Client id as actor or target"),
        ("from" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31 (inclusive)"),
        ("to" = Option<String>, Query, description = "RFC 3339 or Unix seconds, 1970-01-01 .. 9999-12-31 (exclusive)"),
        ("page" = Option<u64>, Query, description = "1-based page"),
        ("page_size" = Option<String>, Query, description = "Default 50; larger sizes are capped at 200, and a value that is not a positive integer means the default (as DRF reads it)"),
    ),
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = AuditEventPage),
        (status = 400, description = "Bad filter"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Not staff", body = ErrorOut),
        (status = 404, description = "Invalid page", body = ErrorOut),
    ))]
fn audit() {}
