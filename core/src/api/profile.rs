//! `GET/PATCH/PUT /api/auth/profile/`: the caller's own user. Only
//! `username`, `first_name` and `last_name` are writable; every other field
//! is read-only and ignored, as DRF does with read-only fields.

use super::register::{field_value, FIRST_NAME, LAST_NAME, USERNAME, USERNAME_TAKEN};
use super::types::{ErrorOut, ProfileIn, UserOut};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body};
use crate::sql::SqlError;
use crate::user::canonical_username;
use bytes::Bytes;
use http::{Response, StatusCode};

/// `GET`: the caller.
pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    Ok(json_response(StatusCode::OK, &UserOut::from(user)))
}

/// `PUT`: every writable field required.
pub(crate) async fn put(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    update(ctx, true).await
}

/// `PATCH`: the fields given.
pub(crate) async fn patch(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    update(ctx, false).await
}

async fn update(ctx: &Ctx<'_>, full: bool) -> Result<Response<Bytes>, ApiError> {
    let user = &ctx.caller()?.user;
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let username = body
        .str(USERNAME.required_when(full), &mut errors)
        .and_then(|u| field_value(canonical_username(&u), "username", &mut errors));
    let first_name = body.str(FIRST_NAME.required_when(full), &mut errors);
    let last_name = body.str(LAST_NAME.required_when(full), &mut errors);
    check(errors)?;
    let updated = ctx
        .store()
        .update_profile(
            user.id,
            username.as_deref(),
            first_name.as_deref(),
            last_name.as_deref(),
        )
        .await;
    match updated {
        Ok(Some(u)) => Ok(json_response(StatusCode::OK, &UserOut::from(&u))),
        Ok(None) => Err(ApiError::token_not_valid()),
        Err(SqlError::UniqueViolation(_)) => Err(ApiError::field("username", USERNAME_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(get, path = "/api/auth/profile/", tag = "auth",
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses((status = 200, description = "The caller", body = UserOut), (status = 401, description = "Not authenticated", body = ErrorOut)))]
fn profile_get() {}

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(patch, path = "/api/auth/profile/", tag = "auth", request_body = ProfileIn,
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses((status = 200, description = "Updated", body = UserOut), (status = 400, description = "Field errors"), (status = 401, description = "Not authenticated", body = ErrorOut)))]
fn profile_patch() {}

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(put, path = "/api/auth/profile/", tag = "auth", request_body = ProfileIn,
    security(("api_key" = [], "client_id" = [], "bearer" = [])),
    responses((status = 200, description = "Updated", body = UserOut), (status = 400, description = "Field errors"), (status = 401, description = "Not authenticated", body = ErrorOut)))]
fn profile_put() {}
