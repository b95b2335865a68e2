//! `/api/admin/users/…`: list, create, read, update, deactivate and
//! reactivate users, and list or end their logins. Staff manage creators;
//! only admins create or change staff and admins; nobody removes the last
//! active superuser.

use super::common::{bad_choice, no_content, page_links, paging};
use super::store::UserFilter;
use super::types::{
    AdminSessionOut, AdminUserCreateIn, AdminUserOut, AdminUserPage, AdminUserPatchIn, EndedOut,
};
use crate::api::register::{EMAIL_TAKEN, USERNAME_TAKEN};
use crate::api::types::ErrorOut;
use crate::audit::{event, AuditEvent, UserRef};
use crate::context::AdminCaller;
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body, push, JsonBody, StrField};
use crate::operator::OperatorError;
use crate::query::Query;
use crate::session::SessionId;
use crate::sql::SqlError;
use crate::user::{canonical_username, NewUser, User, UserId, UserType};
use bytes::Bytes;
use http::{Response, StatusCode};

const EMAIL: StrField = StrField::required("email", 254);
const USERNAME: StrField = StrField::required("username", 150);
const FIRST_NAME: StrField = StrField::optional_blank("first_name", 150);
const LAST_NAME: StrField = StrField::optional_blank("last_name", 150);
const USER_TYPE: StrField = StrField::required("user_type", 32);

/// The orderings the list accepts (anything else: the default).
const ORDERINGS: &[(&str, &str)] = &[
    ("id", "id"),
    ("-id", "id DESC"),
    ("email", "email_normalized, id"),
    ("-email", "email_normalized DESC, id DESC"),
    ("username", "username, id"),
    ("-username", "username DESC, id DESC"),
    ("date_joined", "date_joined, id"),
    ("-date_joined", "date_joined DESC, id DESC"),
    ("last_login", "last_login, id"),
    ("-last_login", "last_login DESC, id DESC"),
];

fn last_superuser() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "last_superuser",
        "This is the last active superuser; it cannot be deactivated or demoted.",
    )
}

/// Reads a `user_type` choice.
fn user_type(body: &JsonBody, required: bool, errors: &mut FieldErrors) -> Option<UserType> {
    let raw = body.str(USER_TYPE.required_when(required), errors)?;
    match raw.parse() {
        Ok(t) => Some(t),
        Err(_) => {
            push(errors, "user_type", bad_choice(&raw));
            None
        }
    }
}

/// What an update asks for; None leaves a field as it is.
#[derive(Debug, Default)]
struct UserPatch {
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    user_type: Option<UserType>,
    is_active: Option<bool>,
}

impl UserPatch {
    fn apply(&self, u: &User) -> User {
        let mut after = u.clone();
        if let Some(v) = &self.username {
            after.username.clone_from(v);
        }
        if let Some(v) = &self.first_name {
            after.first_name.clone_from(v);
        }
        if let Some(v) = &self.last_name {
            after.last_name.clone_from(v);
        }
        if let Some(t) = self.user_type {
            after.user_type = t;
            after.is_staff = t.is_staff();
            after.is_superuser = t.is_superuser();
        }
        if let Some(a) = self.is_active {
            after.is_active = a;
        }
        after
    }
}

// `GET /api/admin/users/{id}/sessions/` lists at most the newest
// `MAX_SESSIONS_LISTED`: a user can pile up logins, and the list is not paged.
use crate::api::sessions::MAX_SESSIONS_LISTED;

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let q = Query::parse(ctx.req.uri().query());
    let mut errors = FieldErrors::new();
    let user_type = q.get("user_type").and_then(|t| match t.parse() {
        Ok(t) => Some(t),
        Err(_) => {
            push(&mut errors, "user_type", bad_choice(t));
            None
        }
    });
    let filter = UserFilter {
        search: q.get("search").map(|s| s.chars().take(254).collect()),
        user_type,
        is_active: q.bool("is_active", &mut errors),
    };
    check(errors)?;
    let order = q
        .get("ordering")
        .and_then(|o| ORDERINGS.iter().find(|(k, _)| *k == o))
        .map_or("id", |(_, sql)| sql);
    let p = paging(&q)?;
    let (count, users) = ctx
        .store()
        .admin_users(&filter, order, p.size, p.offset())
        .await?;
    let links = page_links(ctx, &q, p, count)?;
    let results = users.iter().map(AdminUserOut::from).collect();
    Ok(json_response(
        StatusCode::OK,
        &AdminUserPage::new(links, results),
    ))
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &ctx.admin()?;
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let user_type = user_type(&body, true, &mut errors);
    if user_type.is_some_and(|t| !caller.may_manage(t)) {
        return Err(ApiError::permission_denied());
    }
    let email = body.str(EMAIL, &mut errors);
    let username = body.str(USERNAME, &mut errors);
    let password = body.str(StrField::password("password"), &mut errors);
    let first_name = body.str(FIRST_NAME, &mut errors).unwrap_or_default();
    let last_name = body.str(LAST_NAME, &mut errors).unwrap_or_default();
    check(errors)?;
    let (Some(user_type), Some(email), Some(username), Some(password)) =
        (user_type, email, username, password)
    else {
        return Err(ApiError::not_found()); // unreachable: missing fields are errors above
    };
    let new = NewUser {
        email: email.clone(),
        username: username.clone(),
        first_name,
        last_name,
        user_type,
        password,
    };
    match crate::operator::create_user_as(ctx.shared, ctx.now, new, &caller.actor).await {
        Ok(u) => Ok(json_response(StatusCode::CREATED, &AdminUserOut::from(&u))),
        // Lost a race with a concurrent creation of the same email or name.
        Err(OperatorError::Sql(SqlError::UniqueViolation(_))) => {
            let (email_taken, username_taken) = ctx.store().taken(&email, &username).await?;
            let mut errors = FieldErrors::new();
            if email_taken {
                push(&mut errors, "email", EMAIL_TAKEN);
            }
            if username_taken {
                push(&mut errors, "username", USERNAME_TAKEN);
            }
            check(errors)?;
            Err(SqlError::UniqueViolation("users".into()).into())
        }
        Err(e) => Err(operator_error(e)),
    }
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let id = user_id(ctx);
    let user = ctx
        .store()
        .user(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, &AdminUserOut::from(&user)))
}

pub(crate) async fn patch(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    let before = managed_user(ctx, caller, id).await?;
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let mut patch = UserPatch {
        username: body.str(USERNAME.required_when(false), &mut errors),
        first_name: body.str(FIRST_NAME, &mut errors),
        last_name: body.str(LAST_NAME, &mut errors),
        user_type: user_type(&body, false, &mut errors),
        is_active: body.bool("is_active", &mut errors),
    };
    if patch.user_type.is_some_and(|t| !caller.may_manage(t)) {
        return Err(ApiError::permission_denied());
    }
    if let Some(u) = patch.username.take() {
        patch.username = canonical_username(&u)
            .map_err(|msg| push(&mut errors, "username", msg))
            .ok();
    }
    check(errors)?;
    admin_update_user(ctx, caller, before, &patch).await
}

/// `POST …/deactivate/`.
pub(crate) async fn deactivate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    set_active(ctx, false).await
}

/// `POST …/reactivate/`.
pub(crate) async fn reactivate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    set_active(ctx, true).await
}

async fn set_active(ctx: &Ctx<'_>, active: bool) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    let before = managed_user(ctx, caller, id).await?;
    let patch = UserPatch {
        is_active: Some(active),
        ..UserPatch::default()
    };
    admin_update_user(ctx, caller, before, &patch).await
}

pub(crate) async fn sessions(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let id = user_id(ctx);
    ctx.store()
        .user(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let sessions = ctx
        .store()
        .newest_live_sessions(id, ctx.now, MAX_SESSIONS_LISTED)
        .await?;
    debug_assert!(sessions.len() <= MAX_SESSIONS_LISTED as usize);
    let out: Vec<AdminSessionOut> = sessions.into_iter().map(Into::into).collect();
    Ok(json_response(StatusCode::OK, &out))
}

pub(crate) async fn end_sessions(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    managed_user(ctx, caller, id).await?;
    let audit = AuditEvent::new(event::USER_SESSIONS_REVOKED, &caller.actor, ctx.now)
        .target_user(UserRef::Id(id));
    let ended = ctx
        .store()
        .revoke_user_sessions(id, ctx.now, "ended_by_admin", &audit)
        .await?;
    Ok(json_response(StatusCode::OK, &EndedOut { ended }))
}

pub(crate) async fn end_session(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id, sid) = (&ctx.admin()?, user_id(ctx), ctx.param(1));
    managed_user(ctx, caller, id).await?;
    let audit = AuditEvent::new(event::USER_SESSIONS_REVOKED, &caller.actor, ctx.now)
        .target_user(UserRef::Id(id))
        .detail(serde_json::json!({"session_id": sid}));
    if !ctx
        .store()
        .revoke_user_session(
            id,
            &SessionId(sid.to_owned()),
            ctx.now,
            "ended_by_admin",
            &audit,
        )
        .await?
    {
        return Err(ApiError::not_found());
    }
    Ok(no_content())
}

/// The user `id` if it exists (404) and the caller may manage it (403).
async fn managed_user(ctx: &Ctx<'_>, caller: &AdminCaller, id: UserId) -> Result<User, ApiError> {
    let user = ctx
        .store()
        .user(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !caller.may_manage(user.user_type) {
        return Err(ApiError::permission_denied());
    }
    Ok(user)
}

/// Applies a validated patch: the last-superuser rule, the
/// compare-and-swap with its audit event, and ending the user's logins
/// when they are deactivated or change type.
async fn admin_update_user(
    ctx: &Ctx<'_>,
    caller: &AdminCaller,
    before: User,
    patch: &UserPatch,
) -> Result<Response<Bytes>, ApiError> {
    let after = patch.apply(&before);
    if after == before {
        return Ok(json_response(StatusCode::OK, &AdminUserOut::from(&before)));
    }
    let removes_superuser =
        before.is_superuser && before.is_active && !(after.is_superuser && after.is_active);
    if removes_superuser && ctx.store().other_active_superusers(before.id).await? == 0 {
        return Err(last_superuser());
    }
    let only_active_changed = User {
        is_active: before.is_active,
        ..after.clone()
    } == before;
    let name = match (only_active_changed, after.is_active) {
        (true, false) => event::USER_DEACTIVATED,
        (true, true) => event::USER_REACTIVATED,
        (false, _) => event::USER_UPDATED,
    };
    let revoke = if !after.is_active && before.is_active {
        Some("user_deactivated")
    } else if after.user_type != before.user_type {
        Some("user_type_changed")
    } else {
        None
    };
    let audit = AuditEvent::new(name, &caller.actor, ctx.now)
        .target_user(UserRef::Id(before.id))
        .detail(serde_json::json!({
            "before": AdminUserOut::from(&before),
            "after": AdminUserOut::from(&after),
        }));
    let swapped = ctx
        .store()
        .admin_update_user(&before, &after, removes_superuser, revoke, ctx.now, &audit)
        .await;
    match swapped {
        Ok(true) => Ok(json_response(StatusCode::OK, &AdminUserOut::from(&after))),
        Ok(false) => {
            // Lost a race: say why, as far as can be known now.
            if ctx.store().user(before.id).await?.is_none() {
                return Err(ApiError::not_found());
            }
            if removes_superuser && ctx.store().other_active_superusers(before.id).await? == 0 {
                return Err(last_superuser());
            }
            Err(SqlError::UniqueViolation("users".into()).into())
        }
        Err(SqlError::UniqueViolation(_)) => Err(ApiError::field("username", USERNAME_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

/// An operator action's failure as an API error.
pub(crate) fn operator_error(e: OperatorError) -> ApiError {
    match e {
        OperatorError::Validation(fields) => ApiError::Fields(fields),
        OperatorError::NotFound(_) => ApiError::not_found(),
        OperatorError::Sql(e) => e.into(),
        OperatorError::Password(e) => e.into(),
    }
}

/// The `{id}` of the path (the route table checked its form).
fn user_id(ctx: &Ctx<'_>) -> UserId {
    UserId(ctx.param(0).parse().unwrap_or_default())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(post, path = "/api/admin/users/", tag = "admin", request_body = AdminUserCreateIn,
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AdminUserOut),
        (status = 400, description = "Field errors"),
        (status = 401, description = "Not authenticated", body = ErrorOut),
        (status = 403, description = "Staff creating staff or admin, or not staff", body = ErrorOut),
    ))]
fn users_create() {}

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
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
