//! `GET/PATCH/PUT /api/auth/profile/`: the caller's own user. Only
//! `username`, `first_name` and `last_name` are writable; every other field
//! is read-only and ignored, as DRF does with read-only fields.

use super::register::{field_value, FIRST_NAME, LAST_NAME, USERNAME};
use super::types::{FieldErrorsOut, NotAuthenticated, ProfileIn, UserOut};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::JsonBody;
use crate::sql::SqlError;
use crate::user::{canonical_username, User, UserId, USERNAME_TAKEN};
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
    let body = ctx.body()?;
    let change = match decide(user, ProfileForm::read(&body, full)) {
        ProfileOutcome::Refuse(errors) => return Err(ApiError::Fields(errors)),
        ProfileOutcome::Update(change) => change,
    };
    let updated = ctx
        .store()
        .update_profile(
            change.id,
            change.username.as_deref(),
            change.first_name.as_deref(),
            change.last_name.as_deref(),
        )
        .await;
    match updated {
        Ok(Some(u)) => Ok(json_response(StatusCode::OK, &UserOut::from(&u))),
        // The account was deleted since the token was checked.
        Ok(None) => Err(ApiError::token_not_valid()),
        Err(SqlError::UniqueViolation(_)) => Err(ApiError::field("username", USERNAME_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

/// The writable fields of a profile body, read (every one required for a
/// `PUT`) and the username canonicalised; `errors` holds what was wrong.
#[derive(Debug, Default)]
pub(crate) struct ProfileForm {
    pub(crate) username: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) errors: FieldErrors,
}

impl ProfileForm {
    pub(crate) fn read(body: &JsonBody, full: bool) -> ProfileForm {
        let mut errors = FieldErrors::new();
        let username = body
            .str(USERNAME.required_when(full), &mut errors)
            .and_then(|u| field_value(canonical_username(&u), "username", &mut errors));
        ProfileForm {
            username,
            first_name: body.str(FIRST_NAME.required_when(full), &mut errors),
            last_name: body.str(LAST_NAME.required_when(full), &mut errors),
            errors,
        }
    }
}

/// The fields to set on the caller's row; None leaves one as it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProfileChange {
    pub(crate) id: UserId,
    pub(crate) username: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
}

/// What a profile update comes to.
#[derive(Debug, PartialEq)]
pub(crate) enum ProfileOutcome {
    /// 400 with these field errors; nothing is written.
    Refuse(FieldErrors),
    /// Write the change (a username taken meanwhile is a 400 on `username`)
    /// and answer with the row as stored.
    Update(ProfileChange),
}

/// The profile decision: only the caller's own row, only the writable
/// fields (the type, staff rights and activity are read-only here, so a
/// creator never gains staff rights through its profile), and nothing at
/// all when any field is wrong.
pub(crate) fn decide(caller: &User, form: ProfileForm) -> ProfileOutcome {
    if !form.errors.is_empty() {
        return ProfileOutcome::Refuse(form.errors);
    }
    ProfileOutcome::Update(ProfileChange {
        id: caller.id,
        username: form.username,
        first_name: form.first_name,
        last_name: form.last_name,
    })
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { bearer profile_get, get "/api/auth/profile/", "auth",
    responses((status = 200, description = "The caller", body = UserOut), NotAuthenticated)
}

operation! { bearer profile_patch, patch "/api/auth/profile/", "auth", request_body = ProfileIn,
    responses((status = 200, description = "Updated", body = UserOut), FieldErrorsOut, NotAuthenticated)
}

operation! { bearer profile_put, put "/api/auth/profile/", "auth", request_body = ProfileIn,
    responses((status = 200, description = "Updated", body = UserOut), FieldErrorsOut, NotAuthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::register::tests::body;
    use crate::user::UserType;

    fn creator() -> User {
        User::sample(7, UserType::Creator)
    }

    fn outcome(v: serde_json::Value, full: bool) -> ProfileOutcome {
        decide(&creator(), ProfileForm::read(&body(v), full))
    }

    #[test]
    fn a_patch_changes_only_the_writable_fields_given() {
        let o = outcome(
            serde_json::json!({"first_name": "Ada", "user_type": "admin", "is_staff": true, "email": "x@example.com"}),
            false,
        );
        // Read-only fields are ignored: a creator never gains staff rights here.
        assert_eq!(
            o,
            ProfileOutcome::Update(ProfileChange {
                id: UserId(7),
                username: None,
                first_name: Some("Ada".into()),
                last_name: None,
            })
        );
    }

    #[test]
    fn a_put_requires_every_writable_field() {
        let ProfileOutcome::Refuse(errors) =
            outcome(serde_json::json!({"first_name": "Ada"}), true)
        else {
            panic!("expected a refusal");
        };
        assert!(errors.contains_key("username"), "{errors:?}");
        assert!(errors.contains_key("last_name"), "{errors:?}");
        assert!(!errors.contains_key("first_name"), "{errors:?}");
        // The same body as a PATCH is fine.
        assert!(matches!(
            outcome(serde_json::json!({"first_name": "Ada"}), false),
            ProfileOutcome::Update(_)
        ));
    }

    #[test]
    fn a_username_is_canonicalised_and_a_bad_one_refuses_the_whole_change() {
        let ProfileOutcome::Update(c) = outcome(serde_json::json!({"username": " ada_l "}), false)
        else {
            panic!("expected an update");
        };
        assert_eq!(c.username.as_deref(), Some("ada_l"));
        let ProfileOutcome::Refuse(errors) = outcome(
            serde_json::json!({"username": "no spaces allowed", "first_name": "Ada"}),
            false,
        ) else {
            panic!("expected a refusal");
        };
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["username"]);
    }
}
