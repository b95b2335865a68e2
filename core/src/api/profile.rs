//! `GET/PATCH/PUT /api/auth/profile/`: the caller's own user. Only
//! `username`, `first_name` and `last_name` are writable; every other field
//! is read-only and ignored, as DRF does with read-only fields.

use super::register::{field_value, FIRST_NAME, LAST_NAME, USERNAME, USERNAME_TAKEN};
use super::types::UserOut;
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
