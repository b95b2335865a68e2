//! `/api/admin/clients/…`: list, create (the key shown once), read, update,
//! rotate the key, deactivate and activate API clients.

use super::common::{
    bad_choice, page_answer, paging, ClientErrors, ClientIdPath, PageParams, StaffErrors,
};
use super::store::ClientFilter;
use super::types::{ClientCreateIn, ClientOut, ClientPage, ClientPatchIn, ClientWithKeyOut};
use super::users::operator_error;
use crate::api::types::{ErrorOut, FieldErrorsOut};
use crate::api_client::{ApiClient, ClientId, EmailOptions, NewApiClient};
use crate::audit::{event, AuditEvent};
use crate::context::AdminCaller;
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, JsonBody, StrField};
use crate::operator::{origin_error, OperatorError};
use crate::query::Query;
use crate::sql::SqlError;
use crate::user::UserType;
use bytes::Bytes;
use http::{Response, StatusCode};

const NAME: StrField = StrField::required("name", 200);
const CLIENT_TYPE: StrField = StrField::required("client_type", 32);
/// The largest rate limit accepted (the column is an integer; the GCRA
/// interval stays at least 1 ms per request within an hour up to this).
const MAX_RATE_LIMIT: i64 = 3_600_000;

/// Reads `serves` (a list of user types, not empty).
fn serves(body: &JsonBody, errors: &mut FieldErrors) -> Option<Vec<UserType>> {
    let raw = body.str_list("serves", 16, errors)?;
    let mut out = Vec::new();
    for s in &raw {
        match s.parse::<UserType>() {
            Ok(t) if !out.contains(&t) => out.push(t),
            Ok(_) => {}
            Err(_) => {
                push(errors, "serves", bad_choice(s));
                return None;
            }
        }
    }
    if out.is_empty() {
        push(
            errors,
            "serves",
            "A client must serve at least one user type.",
        );
        return None;
    }
    Some(out)
}

/// Reads `allowed_origins` (each `*`, an `https://` origin, or an
/// `http://` one on a loopback host).
fn origins(body: &JsonBody, errors: &mut FieldErrors) -> Option<Vec<String>> {
    let raw = body.str_list("allowed_origins", 2048, errors)?;
    let mut ok = true;
    for o in &raw {
        if let Some(msg) = origin_error(o) {
            push(errors, "allowed_origins", msg);
            ok = false;
        }
    }
    ok.then_some(raw)
}

/// The email-flow options present in the body, applied to `to`.
/// `reset_url` and `signin_url` may be null (Gatehouse's own reset page;
/// a code mail without a link).
fn email_options(body: &JsonBody, to: &mut EmailOptions, errors: &mut FieldErrors) {
    if let Some(b) = body.bool("require_verified_email", errors) {
        to.require_verified_email = b;
    }
    if let Some(b) = body.bool("signin_codes", errors) {
        to.signin_codes = b;
    }
    page_url(body, "reset_url", &mut to.reset_url, errors);
    page_url(body, "signin_url", &mut to.signin_url, errors);
}

/// A client's page URL field (`reset_url`, `signin_url`) if present: null
/// clears it, else it must pass [`crate::api_client::reset_url_error`].
fn page_url(
    body: &JsonBody,
    name: &'static str,
    to: &mut Option<String>,
    errors: &mut FieldErrors,
) {
    if body.is_null(name) {
        *to = None;
    } else if let Some(u) = body.str(StrField::required(name, 2000).required_when(false), errors) {
        match crate::api_client::reset_url_error(&u) {
            Some(msg) => push(errors, name, msg),
            None => *to = Some(u),
        }
    }
}

fn rate_limit(body: &JsonBody, required: bool, errors: &mut FieldErrors) -> Option<u32> {
    body.int("rate_limit", required, 1, MAX_RATE_LIMIT, errors)
        .and_then(|n| u32::try_from(n).ok())
}

fn current_client() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "current_client",
        "This request came through this client; deactivate it through another admin client or the CLI.",
    )
}

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let q = Query::parse(ctx.req.uri().query());
    let mut errors = FieldErrors::new();
    let filter = ClientFilter {
        search: q.get("search").map(|s| s.chars().take(200).collect()),
        client_type: q.get("client_type").map(|s| s.trim().to_ascii_lowercase()),
        is_active: q.bool("is_active", &mut errors),
    };
    check(errors)?;
    let p = paging(&q)?;
    let (count, clients) = ctx
        .store()
        .admin_clients(&filter, p.size, p.offset())
        .await?;
    let results = clients.iter().map(ClientOut::from).collect();
    page_answer::<ClientPage>(ctx, &q, p, count, results)
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &ctx.admin()?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let name = body.str(NAME, &mut errors);
    let client_type = body.str(CLIENT_TYPE, &mut errors);
    let rate_limit = rate_limit(&body, true, &mut errors);
    let serves = serves(&body, &mut errors);
    let allowed_origins = origins(&body, &mut errors).unwrap_or_default();
    let is_active = body.bool("is_active", &mut errors).unwrap_or(true);
    let require_mfa_for_staff = body.bool("require_mfa_for_staff", &mut errors);
    let mut email = EmailOptions::default();
    email_options(&body, &mut email, &mut errors);
    if let Some(t) = &client_type {
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            push(
                &mut errors,
                "client_type",
                "A type such as web, mobile, admin or server is required.",
            );
        }
    }
    check(errors)?;
    let (Some(name), Some(client_type), Some(rate_limit)) = (name, client_type, rate_limit) else {
        return Err(ApiError::not_found()); // unreachable: missing fields are errors above
    };
    let new = NewApiClient {
        name,
        client_type,
        rate_limit,
        serves,
        allowed_origins,
        is_active,
        email,
        require_mfa_for_staff,
    };
    let (client, key) =
        crate::operator::create_api_client_as(ctx.shared, ctx.now, new, &caller.actor)
            .await
            .map_err(|e| operator_error(rename_fields(e)))?;
    Ok(json_response(
        StatusCode::CREATED,
        &ClientWithKeyOut {
            client: ClientOut::from(&client),
            api_key: key.0,
        },
    ))
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let id = &client_id(ctx);
    let client = found_client(ctx, id).await?;
    Ok(json_response(StatusCode::OK, &ClientOut::from(&client)))
}

pub(crate) async fn patch(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, &client_id(ctx));
    let before = found_client(ctx, id).await?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let mut after = before.clone();
    if let Some(n) = body.str(NAME.required_when(false), &mut errors) {
        after.name = n;
    }
    if let Some(r) = rate_limit(&body, false, &mut errors) {
        after.rate_limit = r;
    }
    if let Some(s) = serves(&body, &mut errors) {
        after.serves = s;
    }
    if let Some(o) = origins(&body, &mut errors) {
        after.allowed_origins = o;
    }
    if let Some(a) = body.bool("is_active", &mut errors) {
        after.is_active = a;
    }
    email_options(&body, &mut after.email, &mut errors);
    if let Some(b) = body.bool("require_mfa_for_staff", &mut errors) {
        after.require_mfa_for_staff = b;
    }
    check(errors)?;
    admin_update_client(ctx, caller, before, after).await
}

/// `POST …/deactivate/`.
pub(crate) async fn deactivate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    set_active(ctx, false).await
}

/// `POST …/activate/`.
pub(crate) async fn activate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    set_active(ctx, true).await
}

async fn set_active(ctx: &Ctx<'_>, active: bool) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, &client_id(ctx));
    let before = found_client(ctx, id).await?;
    let after = ApiClient {
        is_active: active,
        ..before.clone()
    };
    admin_update_client(ctx, caller, before, after).await
}

pub(crate) async fn rotate_key(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (caller, id) = (&ctx.admin()?, &client_id(ctx));
    found_client(ctx, id).await?;
    let key = crate::operator::rotate_api_key_as(ctx.shared, ctx.now, id, &caller.actor)
        .await
        .map_err(operator_error)?;
    let client = found_client(ctx, id).await?;
    Ok(json_response(
        StatusCode::OK,
        &ClientWithKeyOut {
            client: ClientOut::from(&client),
            api_key: key.0,
        },
    ))
}

async fn found_client(ctx: &Ctx<'_>, id: &ClientId) -> Result<ApiClient, ApiError> {
    ctx.store()
        .client(&id.0)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The compare-and-swap of a client with its audit event; deactivation
/// ends the client's logins in the same transaction.
async fn admin_update_client(
    ctx: &Ctx<'_>,
    caller: &AdminCaller,
    before: ApiClient,
    after: ApiClient,
) -> Result<Response<Bytes>, ApiError> {
    if after == before {
        return Ok(json_response(StatusCode::OK, &ClientOut::from(&before)));
    }
    if !after.is_active && before.is_active && before.id == ctx.client.id {
        return Err(current_client());
    }
    let only_active_changed = ApiClient {
        is_active: before.is_active,
        ..after.clone()
    } == before;
    let name = match (only_active_changed, after.is_active) {
        (true, false) => event::CLIENT_DEACTIVATED,
        (true, true) => event::CLIENT_ACTIVATED,
        (false, _) => event::CLIENT_UPDATED,
    };
    let audit = AuditEvent::new(name, &caller.actor, ctx.now)
        .target_client(&before.id)
        .detail(serde_json::json!({
            "before": ClientOut::from(&before),
            "after": ClientOut::from(&after),
        }));
    if ctx
        .store()
        .admin_update_client(&before, &after, ctx.now, &audit)
        .await?
    {
        Ok(json_response(StatusCode::OK, &ClientOut::from(&after)))
    } else {
        found_client(ctx, &before.id).await?;
        Err(SqlError::UniqueViolation("api_clients".into()).into())
    }
}

/// The operator's field names (`type`, `origins`, as the CLI flags) as the
/// API's body fields.
fn rename_fields(e: OperatorError) -> OperatorError {
    match e {
        OperatorError::Validation(fields) => OperatorError::Validation(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let k = match k.as_str() {
                        "type" => "client_type".to_owned(),
                        "origins" => "allowed_origins".to_owned(),
                        _ => k,
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// The `{client_id}` of the path.
fn client_id(ctx: &Ctx<'_>) -> ClientId {
    ClientId(ctx.param(0).to_owned())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { admin clients_list, get "/api/admin/clients/",
    params(
        ("search" = Option<String>, Query, description = "Substring of the name or client id"),
        ("client_type" = Option<String>, Query, description = "web, mobile, admin, server, …"),
        ("is_active" = Option<bool>, Query, description = "true or false"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of clients, oldest first", body = ClientPage),
        (status = 400, description = "Bad filter"),
        StaffErrors,
        (status = 404, description = "Invalid page", body = ErrorOut),
    )
}

operation! { admin clients_create, post "/api/admin/clients/", request_body = ClientCreateIn,
    responses(
        (status = 201, description = "Created; `api_key` is shown this once", body = ClientWithKeyOut),
        FieldErrorsOut,
        StaffErrors,
    )
}

operation! { admin client_get, get "/api/admin/clients/{client_id}/", params(ClientIdPath),
    responses((status = 200, description = "The client", body = ClientOut), ClientErrors)
}

operation! { admin client_patch, patch "/api/admin/clients/{client_id}/", request_body = ClientPatchIn,
    params(ClientIdPath),
    responses(
        (status = 200, description = "Updated (deactivation ends the client's logins)", body = ClientOut),
        (status = 400, description = "Field errors, or `current_client`"),
        ClientErrors,
        (status = 409, description = "Changed concurrently; retry", body = ErrorOut),
    )
}

operation! { admin client_rotate_key, post "/api/admin/clients/{client_id}/rotate-key/", params(ClientIdPath),
    responses(
        (status = 200, description = "A new key, shown this once; the old one is dead", body = ClientWithKeyOut),
        ClientErrors,
    )
}

operation! { admin client_deactivate, post "/api/admin/clients/{client_id}/deactivate/", params(ClientIdPath),
    responses(
        (status = 200, description = "Deactivated; its logins ended", body = ClientOut),
        (status = 400, description = "`current_client`: the request came through it", body = ErrorOut),
        ClientErrors,
    )
}

operation! { admin client_activate, post "/api/admin/clients/{client_id}/activate/", params(ClientIdPath),
    responses((status = 200, description = "Activated", body = ClientOut), ClientErrors)
}
