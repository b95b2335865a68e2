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
    pub email: String,
    pub username: String,
    pub password: String,
    pub password2: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

/// Login.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
}

/// A refresh token (refresh and logout).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefreshIn {
    pub refresh: String,
}

/// The writable profile fields (PUT: all required; PATCH: any).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProfileIn {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A password change.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordIn {
    pub old_password: String,
    pub new_password: String,
    pub new_password2: String,
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
