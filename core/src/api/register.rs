//! `POST /api/auth/register/`: self-registration, always as a creator.

use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{ErrorOut, RegisterIn, RegisterOut, UserOut};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, parse_body, push, StrField};
use crate::password::validation::{validate_password, UserAttributes};
use crate::sql::SqlError;
use crate::store::users::UserInsert;
use crate::user::{canonical_email, canonical_username, UserType};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) const EMAIL: StrField = StrField::required("email", 254);
pub(crate) const USERNAME: StrField = StrField::required("username", 150);
pub(crate) const FIRST_NAME: StrField = StrField::optional_blank("first_name", 150);
pub(crate) const LAST_NAME: StrField = StrField::optional_blank("last_name", 150);

pub(crate) const EMAIL_TAKEN: &str = "user with this email already exists.";
pub(crate) const USERNAME_TAKEN: &str = "A user with that username already exists.";
pub(crate) const MISMATCH: &str = "Password fields didn't match.";

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    if !ctx.client.serves(UserType::Creator) {
        return Err(ApiError::user_type_not_allowed());
    }
    // Every attempt counts, so the throttle also slows probing for
    // taken addresses through "already exists".
    if let Some(ip) = ctx.ip() {
        let d = ctx
            .env()
            .rate_limits
            .check(
                &format!("register:ip:{ip}"),
                ctx.config().registrations_per_ip,
                ctx.now,
                true,
            )
            .await?;
        if !d.allowed {
            return Err(ApiError::throttled(
                "register_throttled",
                d.retry_after_secs,
            ));
        }
    }
    let body = parse_body(ctx.req)?;
    let mut errors = FieldErrors::new();
    let allow_unicode_local = ctx.config().allow_unicode_email_local_part;
    let email = body.str(EMAIL, &mut errors).and_then(|e| {
        field_value(
            canonical_email(&e, allow_unicode_local),
            "email",
            &mut errors,
        )
    });
    let username = body
        .str(USERNAME, &mut errors)
        .and_then(|u| field_value(canonical_username(&u), "username", &mut errors));
    let password = body.str(StrField::password("password"), &mut errors);
    let password2 = body.str(StrField::password("password2"), &mut errors);
    let first_name = body.str(FIRST_NAME, &mut errors).unwrap_or_default();
    let last_name = body.str(LAST_NAME, &mut errors).unwrap_or_default();

    if let (Some(p), Some(p2)) = (&password, &password2) {
        if p != p2 {
            push(&mut errors, "password", MISMATCH);
        } else {
            let attrs = UserAttributes {
                username: username.as_deref().unwrap_or_default(),
                email: email.as_deref().unwrap_or_default(),
                first_name: &first_name,
                last_name: &last_name,
            };
            for msg in validate_password(p, &attrs) {
                push(&mut errors, "password", msg);
            }
        }
    }
    if email.is_some() || username.is_some() {
        let (e, u) = (email.as_deref(), username.as_deref());
        check_taken(
            ctx,
            e.unwrap_or_default(),
            u.unwrap_or_default(),
            &mut errors,
        )
        .await?;
    }
    check(errors)?;
    let (Some(email), Some(username), Some(password)) = (email, username, password) else {
        return Err(ApiError::not_found()); // unreachable: missing fields are errors above
    };

    let salt: [u8; 16] = crate::random::bytes(ctx.env().random.as_ref());
    let hash = ctx.env().hasher.hash(password, salt).await?;
    let s = new_session(ctx);
    let insert = UserInsert {
        email: &email,
        username: &username,
        first_name: &first_name,
        last_name: &last_name,
        user_type: UserType::Creator,
        password_hash: &hash,
        now: ctx.now,
    };
    let session = session_insert(ctx, &s);
    let audit = ctx
        .audit(crate::audit::event::USER_REGISTERED, None)
        .actor_user(crate::audit::UserRef::OwnerOf(s.id.clone()))
        .target_user(crate::audit::UserRef::OwnerOf(s.id.clone()))
        .detail(serde_json::json!({"email": email, "username": username, "session_id": s.id.0}));
    let user = match ctx
        .store()
        .insert_user_with_session(&insert, &session, &audit)
        .await
    {
        Ok(u) => u,
        // Lost a race with a concurrent registration of the same email or name.
        Err(SqlError::UniqueViolation(_)) => {
            let mut errors = FieldErrors::new();
            check_taken(ctx, &email, &username, &mut errors).await?;
            check(errors)?;
            return Err(SqlError::UniqueViolation("users".into()).into());
        }
        Err(e) => return Err(e.into()),
    };
    let pair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx));
    let out = RegisterOut {
        user: UserOut::from(&user),
        access: pair.access,
        refresh: pair.refresh,
    };
    Ok(json_response(StatusCode::CREATED, &out))
}

/// Adds "already exists" errors for a taken email or username (compared
/// by their keys; an empty one is never taken).
pub(crate) async fn check_taken(
    ctx: &Ctx<'_>,
    email: &str,
    username: &str,
    errors: &mut FieldErrors,
) -> Result<(), ApiError> {
    let (email_taken, username_taken) = ctx.store().taken(email, username).await?;
    if email_taken {
        push(errors, "email", EMAIL_TAKEN);
    }
    if username_taken {
        push(errors, "username", USERNAME_TAKEN);
    }
    Ok(())
}

/// A validated value, or its message recorded under `name`.
pub(crate) fn field_value<T>(
    r: Result<T, &'static str>,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    r.map_err(|msg| push(errors, name, msg)).ok()
}

// ---- OpenAPI: the operation(s) of this file's route(s)

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(post, path = "/api/auth/register/", tag = "auth", request_body = RegisterIn,
    security(("api_key" = [], "client_id" = [])),
    responses(
        (status = 201, description = "Registered as a creator", body = RegisterOut),
        (status = 400, description = "Field errors: {\"field\": [\"message\", …]}"),
        (status = 401, description = "Missing or invalid API key", body = ErrorOut),
        (status = 403, description = "Client inactive or does not serve creators", body = ErrorOut),
        (status = 413, description = "Body over 64 KiB", body = ErrorOut),
        (status = 415, description = "Not application/json", body = ErrorOut),
        (status = 429, description = "Client rate limit, or too many registrations from this IP", body = ErrorOut),
    ))]
fn register() {}
