//! The JSON shapes of the API, also the OpenAPI document's schemas.

use crate::user::{User, UserType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub is_staff: bool,
    pub is_superuser: bool,
    /// RFC 3339.
    pub date_joined: String,
    /// RFC 3339, null before the first login.
    pub last_login: Option<String>,
    /// Whether the user proved the address theirs (a verification or
    /// email-change link).
    pub email_verified: bool,
    /// RFC 3339, null while not verified.
    pub email_verified_at: Option<String>,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        UserOut {
            id: u.id.0,
            email: u.email.clone(),
            username: u.username.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            user_type: u.user_type,
            is_staff: u.is_staff,
            is_superuser: u.is_superuser,
            date_joined: u.date_joined.to_rfc3339(),
            last_login: u.last_login.map(|t| t.to_rfc3339()),
            email_verified: u.email_verified_at.is_some(),
            email_verified_at: u.email_verified_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// An access token and a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

/// The answer to a registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterOut {
    pub user: UserOut,
    pub access: String,
    pub refresh: String,
}

/// The answer to a password change: a fresh pair for the calling client.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordOut {
    pub detail: String,
    pub access: String,
    pub refresh: String,
}

/// Self-registration. Any other field (`user_type`, `is_staff`, …) is ignored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterIn {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub username: String,
    #[schema(min_length = 8)]
    pub password: String,
    #[schema(min_length = 1)]
    pub password2: String,
    #[schema(nullable = false)]
    #[serde(default)]
    pub first_name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default)]
    pub last_name: Option<String>,
}

/// Login.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginIn {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

/// A refresh token (refresh and logout).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefreshIn {
    #[schema(min_length = 1)]
    pub refresh: String,
}

/// A body of the writable profile fields, then those of `tail` (the admin
/// API's patch of a user takes the same three first).
macro_rules! profile_in {
    ($(#[$doc:meta])* $name:ident { $($tail:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            #[schema(nullable = false, min_length = 1)]
            pub username: Option<String>,
            #[schema(nullable = false)]
            pub first_name: Option<String>,
            #[schema(nullable = false)]
            pub last_name: Option<String>,
            $($tail)*
        }
    };
}
pub(crate) use profile_in;

profile_in! {
    /// The writable profile fields (PUT: all required; PATCH: any).
    ProfileIn {}
}

/// A password change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordIn {
    #[schema(min_length = 1)]
    pub old_password: String,
    #[schema(min_length = 8)]
    pub new_password: String,
    #[schema(min_length = 1)]
    pub new_password2: String,
}

/// A message, for an accepted or completed email-flow request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DetailOut {
    pub detail: String,
}

/// A request for a password-reset mail.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetIn {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// A new password, with the mailed reset token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetConfirmIn {
    /// The token from the mailed link (43 base64url characters).
    #[schema(min_length = 1)]
    pub token: String,
    #[schema(min_length = 8)]
    pub password: String,
    #[schema(min_length = 1)]
    pub password2: String,
}

/// A mailed token (verification, email change).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenIn {
    #[schema(min_length = 1)]
    pub token: String,
}

/// The answer to a verified email.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailVerifiedOut {
    pub detail: String,
    pub email_verified: bool,
}

/// A request to change the caller's email.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailChangeIn {
    #[schema(min_length = 1, max_length = 254)]
    pub new_email: String,
    #[schema(min_length = 1)]
    pub password: String,
}

/// The answer to a confirmed email change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailChangedOut {
    pub detail: String,
    pub email: String,
}

/// A request for a sign-in code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CodeRequestIn {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// A sign-in with an emailed code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CodeVerifyIn {
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    /// Six digits.
    #[schema(min_length = 1)]
    pub code: String,
}

/// DRF's general error shape.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorOut {
    pub detail: String,
    pub code: String,
}

/// One of the caller's live logins.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionOut {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the last refresh.
    pub last_used_at: String,
    /// At login.
    pub ip: Option<String>,
    /// At login.
    pub user_agent: Option<String>,
    /// The login of the access token that asked.
    pub current: bool,
}

/// How many logins `logout-all` ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogoutAllOut {
    pub ended: u64,
}

/// The refusal of every route that needs a signed-in user.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Not authenticated")]
#[allow(dead_code)] // OpenAPI only
pub struct NotAuthenticated(ErrorOut);

/// The refusal of every route that checks the API key and client id.
#[derive(utoipa::IntoResponses)]
#[response(status = 401, description = "Missing or invalid API key")]
#[allow(dead_code)] // OpenAPI only
pub struct BadApiKey(ErrorOut);

/// The refusal of every route that sends mail, on a deployment without it.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 503,
    description = "This deployment cannot send mail (`mail_not_configured`)"
)]
#[allow(dead_code)] // OpenAPI only
pub struct MailNotConfigured(ErrorOut);

/// The answer of every route that signs a user in.
#[derive(utoipa::IntoResponses)]
#[response(status = 200, description = "Signed in")]
#[allow(dead_code)] // OpenAPI only
pub struct SignedIn(TokenPair);

/// A body whose fields do not validate: `{"field": ["message", …]}`.
#[derive(utoipa::IntoResponses)]
#[response(status = 400, description = "Field errors")]
#[allow(dead_code)] // OpenAPI only
pub struct FieldErrorsOut;

/// What a mail request that never says whether the address has an account
/// answers (password reset, sign-in code), beside its own refusals.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub enum MailRequestResponses {
    #[response(
        status = 202,
        description = "The one answer, whether or not the address has an account"
    )]
    Accepted(DetailOut),
    #[response(status = 400, description = "Field errors")]
    FieldErrors,
    #[response(status = 401, description = "Missing or invalid API key")]
    BadApiKey(ErrorOut),
    #[response(
        status = 503,
        description = "This deployment cannot send mail (`mail_not_configured`)"
    )]
    MailNotConfigured(ErrorOut),
}
