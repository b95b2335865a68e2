//! `/api/admin/users/…`: list, create, read, update, deactivate and
//! reactivate users, and list or end their logins. Staff manage creators;
//! only admins create or change staff and admins; nobody removes the last
//! active superuser.

use super::common::{
    bad_choice, page_answer, paging, ManagedUserErrors, PageParams, UserErrors, UserIdPath,
};
use super::store::UserFilter;
use super::types::{
    AdminSessionOut, AdminUserCreateIn, AdminUserOut, AdminUserPage, AdminUserPatchIn, EndedOut,
};
use crate::api::register::{field_value, lost_race};
use crate::api::types::{ErrorOut, FieldErrorsOut, MailNotConfigured, NotAuthenticated};
use crate::audit::{event, AuditEvent, UserRef};
use crate::context::AdminCaller;
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, JsonBody, StrField};
use crate::operator::OperatorError;
use crate::query::Query;
use crate::sql::SqlError;
use crate::user::{canonical_username, NewUser, User, UserId, UserType, USERNAME_TAKEN};
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
pub(crate) struct UserPatch {
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
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let kinds = ctx.store().factor_kinds_of(&ids).await?;
    let results = users
        .iter()
        .map(|u| {
            // In the order `Factors::kinds` gives: totp, then passkey.
            let mut mine: Vec<&str> = kinds
                .iter()
                .filter(|(id, _)| *id == u.id)
                .map(|(_, k)| *k)
                .collect();
            mine.sort_by_key(|k| *k != "totp");
            AdminUserOut::from(u).with_mfa(&mine)
        })
        .collect();
    page_answer::<AdminUserPage>(ctx, &q, p, count, results)
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &ctx.admin()?;
    let body = ctx.body()?;
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
            Err(lost_race(ctx, &email, &username).await)
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
    Ok(json_response(StatusCode::OK, &user_out(ctx, &user).await?))
}

/// A user as the admin API shows it, with their second factors.
async fn user_out(ctx: &Ctx<'_>, user: &User) -> Result<AdminUserOut, ApiError> {
    let kinds = ctx.store().factors(user.id).await?.kinds();
    Ok(AdminUserOut::from(user).with_mfa(&kinds))
}

/// `POST /api/admin/users/{id}/mfa/reset/` (admins only): removes every
/// second factor of the user (lost device); audited `mfa.reset`, with a
/// notice mail when the deployment sends mail. Their logins stay.
pub(crate) async fn mfa_reset(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    use crate::permission::{IsAdminUser, Permission};
    if !IsAdminUser.has_permission(Some(&caller.user)) {
        return Err(ApiError::permission_denied());
    }
    let user = managed_user(ctx, caller, id).await?;
    let audit = AuditEvent::new(event::MFA_RESET, &caller.actor, ctx.now)
        .target_user(UserRef::Id(id))
        .detail(serde_json::json!({"by": "admin"}));
    let notice = ctx.config().mail_enabled.then(|| {
        let m = crate::mail::compose(
            &user.email,
            "Your second factor was removed",
            &ctx.client.name,
            &[
                "An administrator removed the second factors (authenticator app, recovery codes, passkeys) of your account.",
                "You can sign in with your password alone until you set one up again. If you did not ask for this, contact your administrator.",
            ],
            None,
        );
        crate::api::email_flow::enqueue(ctx, &m)
    });
    let queued = notice.is_some();
    let removed = ctx.store().remove_factors(id, true, &audit, notice).await?;
    if removed && queued {
        ctx.mail_queued();
    }
    Ok(json_response(StatusCode::OK, &user_out(ctx, &user).await?))
}

pub(crate) async fn patch(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    let before = managed_user(ctx, caller, id).await?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let patch = UserPatch {
        username: body
            .str(USERNAME.required_when(false), &mut errors)
            .and_then(|u| field_value(canonical_username(&u), "username", &mut errors)),
        first_name: body.str(FIRST_NAME, &mut errors),
        last_name: body.str(LAST_NAME, &mut errors),
        user_type: user_type(&body, false, &mut errors),
        is_active: body.bool("is_active", &mut errors),
    };
    admin_update_user(ctx, caller, before, &patch, errors).await
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
    admin_update_user(ctx, caller, before, &patch, FieldErrors::new()).await
}

/// `POST …/send-verification/`: mails the user a new verification link
/// (older ones stop working); audited `email.verification_sent`.
pub(crate) async fn send_verification(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    crate::api::email_flow::require_mail(ctx)?;
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    let user = managed_user(ctx, caller, id).await?;
    if user.email_verified_at.is_some() {
        return Err(crate::api::email_verify::already_verified());
    }
    let audit = AuditEvent::new(event::EMAIL_VERIFICATION_SENT, &caller.actor, ctx.now)
        .target_user(UserRef::Id(id))
        .detail(serde_json::json!({"by": "admin"}));
    crate::api::email_flow::send_verification(ctx, &user, audit.statement()).await?;
    Ok(crate::api::email_flow::accepted(
        crate::api::email_verify::VERIFICATION_SENT,
    ))
}

/// `POST …/send-password-reset/`: mails an active user a reset link (older
/// ones stop working); audited `password.reset_requested`.
pub(crate) async fn send_password_reset(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    crate::api::email_flow::require_mail(ctx)?;
    let (caller, id) = (&ctx.admin()?, user_id(ctx));
    let user = managed_user(ctx, caller, id).await?;
    if !user.is_active {
        return Err(ApiError::detail(
            StatusCode::BAD_REQUEST,
            "user_inactive",
            "This user is deactivated; reactivate it first.",
        ));
    }
    let audit = AuditEvent::new(event::PASSWORD_RESET_REQUESTED, &caller.actor, ctx.now)
        .target_user(UserRef::Id(id))
        .detail(serde_json::json!({"by": "admin"}));
    crate::api::email_flow::send_reset(ctx, Some(&user), &user.email, audit.statement()).await?;
    Ok(crate::api::email_flow::accepted(
        "A password-reset link has been sent.",
    ))
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
    crate::api::sessions::end_one(ctx, id, sid, "ended_by_admin", &audit).await
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

/// What an admin update of a user comes to.
#[derive(Debug, PartialEq)]
pub(crate) enum UpdateOutcome {
    /// 403: the patch grants a type the caller may not manage (staff never
    /// make staff or admins).
    Forbidden,
    /// 400 with these field errors.
    Refuse(FieldErrors),
    /// 400 `last_superuser`: the change would leave no active superuser.
    LastSuperuser,
    /// Nothing changes: 200 with the user as it is, no write, no audit.
    Unchanged,
    /// Write `after` (a compare-and-swap on the user as read), with the
    /// audit event `event` in the same batch, ending every login of the user
    /// for `revoke` when it is set.
    Update(UserUpdate),
}

#[derive(Debug, PartialEq)]
pub(crate) struct UserUpdate {
    pub(crate) after: User,
    pub(crate) event: &'static str,
    pub(crate) revoke: Option<&'static str>,
    /// The change takes an active superuser away: the write is guarded by
    /// "another one is left".
    pub(crate) removes_superuser: bool,
}

/// True when going from `before` to `after` leaves one fewer active superuser.
fn removes_superuser(before: &User, after: &User) -> bool {
    before.is_superuser && before.is_active && !(after.is_superuser && after.is_active)
}

/// The admin update decision. `caller` may manage `before` (checked when it
/// was read); `errors` are the body's field errors; `other_superusers` is
/// the number of other active superusers, read only when `before` is one
/// (None otherwise: it cannot matter).
pub(crate) fn decide(
    caller: &AdminCaller,
    before: &User,
    patch: &UserPatch,
    errors: FieldErrors,
    other_superusers: Option<u64>,
) -> UpdateOutcome {
    if patch.user_type.is_some_and(|t| !caller.may_manage(t)) {
        return UpdateOutcome::Forbidden;
    }
    if !errors.is_empty() {
        return UpdateOutcome::Refuse(errors);
    }
    let after = patch.apply(before);
    if after == *before {
        return UpdateOutcome::Unchanged;
    }
    let removes_superuser = removes_superuser(before, &after);
    if removes_superuser && other_superusers.unwrap_or(0) == 0 {
        return UpdateOutcome::LastSuperuser;
    }
    let only_active_changed = User {
        is_active: before.is_active,
        ..after.clone()
    } == *before;
    let event = match (only_active_changed, after.is_active) {
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
    UpdateOutcome::Update(UserUpdate {
        after,
        event,
        revoke,
        removes_superuser,
    })
}

/// Gathers what [`decide`] needs, and acts on its answer: the
/// compare-and-swap with its audit event, and ending the user's logins
/// when they are deactivated or change type.
async fn admin_update_user(
    ctx: &Ctx<'_>,
    caller: &AdminCaller,
    before: User,
    patch: &UserPatch,
    errors: FieldErrors,
) -> Result<Response<Bytes>, ApiError> {
    let other_superusers = if before.is_superuser && before.is_active && errors.is_empty() {
        Some(ctx.store().other_active_superusers(before.id).await?)
    } else {
        None
    };
    let update = match decide(caller, &before, patch, errors, other_superusers) {
        UpdateOutcome::Forbidden => return Err(ApiError::permission_denied()),
        UpdateOutcome::Refuse(errors) => return Err(ApiError::Fields(errors)),
        UpdateOutcome::LastSuperuser => return Err(last_superuser()),
        UpdateOutcome::Unchanged => {
            return Ok(json_response(
                StatusCode::OK,
                &user_out(ctx, &before).await?,
            ))
        }
        UpdateOutcome::Update(u) => u,
    };
    let UserUpdate {
        after,
        event,
        revoke,
        removes_superuser,
    } = update;
    let audit = AuditEvent::new(event, &caller.actor, ctx.now)
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
        Ok(true) => Ok(json_response(StatusCode::OK, &user_out(ctx, &after).await?)),
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

operation! { admin users_list, get "/api/admin/users/",
    params(
        ("search" = Option<String>, Query, description = "Case-insensitive substring of email, username, first or last name"),
        ("user_type" = Option<String>, Query, description = "creator, staff or admin"),
        ("is_active" = Option<bool>, Query, description = "true or false"),
        ("ordering" = Option<String>, Query, description = "id, email, username, date_joined, last_login; `-` for descending"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of users", body = AdminUserPage),
        (status = 400, description = "Bad filter: {\"field\": [\"message\"]}"),
        (status = 401, description = "Not authenticated or bad API key", body = ErrorOut),
        (status = 403, description = "Not staff, or not an admin client", body = ErrorOut),
        (status = 404, description = "Invalid page", body = ErrorOut),
    )
}

operation! { admin users_create, post "/api/admin/users/", request_body = AdminUserCreateIn,
    responses(
        (status = 201, description = "Created", body = AdminUserOut),
        FieldErrorsOut,
        NotAuthenticated,
        (status = 403, description = "Staff creating staff or admin, or not staff", body = ErrorOut),
    )
}

operation! { admin user_get, get "/api/admin/users/{id}/", params(UserIdPath),
    responses((status = 200, description = "The user", body = AdminUserOut), UserErrors)
}

operation! { admin user_mfa_reset, post "/api/admin/users/{id}/mfa/reset/", params(UserIdPath),
    responses(
        (status = 200, description = "The user, without second factors (a notice mailed when mail is on)", body = AdminUserOut),
        NotAuthenticated,
        (status = 403, description = "Not an admin", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
    )
}

operation! { admin user_patch, patch "/api/admin/users/{id}/", request_body = AdminUserPatchIn,
    params(UserIdPath),
    responses(
        (status = 200, description = "Updated (deactivation or a type change ends every login)", body = AdminUserOut),
        (status = 400, description = "Field errors, or `last_superuser`"),
        NotAuthenticated,
        (status = 403, description = "Staff acting on staff/admin or granting staff/admin", body = ErrorOut),
        (status = 404, description = "No such user", body = ErrorOut),
        (status = 409, description = "Changed concurrently; retry", body = ErrorOut),
    )
}

operation! { admin user_deactivate, post "/api/admin/users/{id}/deactivate/", params(UserIdPath),
    responses(
        (status = 200, description = "Deactivated; every login ended", body = AdminUserOut),
        (status = 400, description = "`last_superuser`", body = ErrorOut),
        ManagedUserErrors,
    )
}

operation! { admin user_send_verification, post "/api/admin/users/{id}/send-verification/", params(UserIdPath),
    responses(
        (status = 202, description = "A verification link was mailed to the user", body = crate::api::types::DetailOut),
        (status = 400, description = "`already_verified`", body = ErrorOut),
        MailNotConfigured,
        ManagedUserErrors,
    )
}

operation! { admin user_send_password_reset, post "/api/admin/users/{id}/send-password-reset/", params(UserIdPath),
    responses(
        (status = 202, description = "A password-reset link was mailed to the user", body = crate::api::types::DetailOut),
        (status = 400, description = "`user_inactive`", body = ErrorOut),
        MailNotConfigured,
        ManagedUserErrors,
    )
}

operation! { admin user_reactivate, post "/api/admin/users/{id}/reactivate/", params(UserIdPath),
    responses((status = 200, description = "Reactivated", body = AdminUserOut), ManagedUserErrors)
}

operation! { admin user_sessions, get "/api/admin/users/{id}/sessions/", params(UserIdPath),
    responses(
        (status = 200, description = "The user's live logins, newest first (at most the 200 newest)", body = [AdminSessionOut]),
        UserErrors,
    )
}

operation! { admin user_sessions_end, delete "/api/admin/users/{id}/sessions/", params(UserIdPath),
    responses((status = 200, description = "Every login ended", body = EndedOut), ManagedUserErrors)
}

operation! { admin user_session_end, delete "/api/admin/users/{id}/sessions/{session_id}/",
    params(UserIdPath, ("session_id" = String, Path, description = "A login id from the list")),
    responses(
        (status = 204, description = "Ended"),
        NotAuthenticated,
        (status = 403, description = "Not allowed on this user", body = ErrorOut),
        (status = 404, description = "No such user or live login of theirs", body = ErrorOut),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;

    fn user(id: i64, t: UserType) -> User {
        User::sample(id, t)
    }

    fn caller(t: UserType) -> AdminCaller {
        AdminCaller {
            user: user(1, t),
            actor: Actor::default(),
        }
    }

    fn type_change(t: UserType) -> UserPatch {
        UserPatch {
            user_type: Some(t),
            ..UserPatch::default()
        }
    }

    fn active(a: bool) -> UserPatch {
        UserPatch {
            is_active: Some(a),
            ..UserPatch::default()
        }
    }

    fn update(o: UpdateOutcome) -> UserUpdate {
        match o {
            UpdateOutcome::Update(u) => u,
            other => panic!("expected an update, got {other:?}"),
        }
    }

    const NO_ERRORS: FieldErrors = FieldErrors::new();

    #[test]
    fn staff_never_grant_staff_or_admin_rights() {
        let target = user(2, UserType::Creator);
        for t in [UserType::Staff, UserType::Admin] {
            let p = type_change(t);
            assert_eq!(
                decide(&caller(UserType::Staff), &target, &p, NO_ERRORS, None),
                UpdateOutcome::Forbidden
            );
            // The 403 comes before the body's other field errors.
            let mut errors = FieldErrors::new();
            push(&mut errors, "username", "bad");
            assert_eq!(
                decide(&caller(UserType::Staff), &target, &p, errors, None),
                UpdateOutcome::Forbidden
            );
        }
        // An admin may; the change ends the user's logins.
        let u = update(decide(
            &caller(UserType::Admin),
            &target,
            &type_change(UserType::Staff),
            NO_ERRORS,
            None,
        ));
        assert!(u.after.is_staff && !u.after.is_superuser);
        assert_eq!(u.revoke, Some("user_type_changed"));
        assert_eq!(u.event, event::USER_UPDATED);
    }

    #[test]
    fn field_errors_refuse_the_whole_patch() {
        let mut errors = FieldErrors::new();
        push(&mut errors, "username", "bad");
        let p = UserPatch {
            first_name: Some("Ada".into()),
            ..UserPatch::default()
        };
        let o = decide(
            &caller(UserType::Admin),
            &user(2, UserType::Creator),
            &p,
            errors.clone(),
            None,
        );
        assert_eq!(o, UpdateOutcome::Refuse(errors));
    }

    #[test]
    fn a_patch_that_changes_nothing_writes_nothing() {
        let target = user(2, UserType::Creator);
        let p = UserPatch {
            username: Some("u2".into()),
            is_active: Some(true),
            user_type: Some(UserType::Creator),
            ..UserPatch::default()
        };
        assert_eq!(
            decide(&caller(UserType::Staff), &target, &p, NO_ERRORS, None),
            UpdateOutcome::Unchanged
        );
    }

    #[test]
    fn the_last_active_superuser_is_neither_deactivated_nor_demoted() {
        let admin = user(2, UserType::Admin);
        let c = caller(UserType::Admin);
        for p in [active(false), type_change(UserType::Staff)] {
            assert_eq!(
                decide(&c, &admin, &p, NO_ERRORS, Some(0)),
                UpdateOutcome::LastSuperuser
            );
            // With another one left, it goes through, guarded by "one is left".
            let u = update(decide(&c, &admin, &p, NO_ERRORS, Some(1)));
            assert!(u.removes_superuser);
        }
        // An admin acting on themselves is held to the same rule.
        assert_eq!(
            decide(&c, &c.user, &active(false), NO_ERRORS, Some(0)),
            UpdateOutcome::LastSuperuser
        );
        // Renaming the last one is fine and needs no guard.
        let rename = UserPatch {
            first_name: Some("Root".into()),
            ..UserPatch::default()
        };
        let u = update(decide(&c, &admin, &rename, NO_ERRORS, Some(0)));
        assert!(!u.removes_superuser);
        assert_eq!(u.revoke, None);
    }

    #[test]
    fn deactivation_and_reactivation_are_their_own_events() {
        let c = caller(UserType::Staff);
        let target = user(2, UserType::Creator);
        let off = update(decide(&c, &target, &active(false), NO_ERRORS, None));
        assert_eq!(off.event, event::USER_DEACTIVATED);
        assert_eq!(off.revoke, Some("user_deactivated"));
        assert!(!off.after.is_active);

        let on = update(decide(&c, &off.after, &active(true), NO_ERRORS, None));
        assert_eq!(on.event, event::USER_REACTIVATED);
        assert_eq!(on.revoke, None);

        // Deactivating while renaming is an ordinary update (still ending logins).
        let both = UserPatch {
            last_name: Some("L".into()),
            is_active: Some(false),
            ..UserPatch::default()
        };
        let u = update(decide(&c, &target, &both, NO_ERRORS, None));
        assert_eq!(u.event, event::USER_UPDATED);
        assert_eq!(u.revoke, Some("user_deactivated"));
    }
}
