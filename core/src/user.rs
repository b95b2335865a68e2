//! Users and their three types.

use crate::clock::UnixMillis;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The three user types of the SPEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    Creator,
    Staff,
    Admin,
}

impl UserType {
    pub const ALL: [UserType; 3] = [UserType::Creator, UserType::Staff, UserType::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Creator => "creator",
            UserType::Staff => "staff",
            UserType::Admin => "admin",
        }
    }
    /// Staff and admins are staff; creators never are.
    pub fn is_staff(self) -> bool {
        !matches!(self, UserType::Creator)
    }
    /// Only admins are superusers.
    pub fn is_superuser(self) -> bool {
        matches!(self, UserType::Admin)
    }
}

impl fmt::Display for UserType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "creator" => Ok(UserType::Creator),
            "staff" => Ok(UserType::Staff),
            "admin" => Ok(UserType::Admin),
            other => Err(format!(
                "unknown user type {other:?} (creator, staff, admin)"
            )),
        }
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub is_active: bool,
    pub date_joined: UnixMillis,
    pub last_login: Option<UnixMillis>,
}

/// What an operator (CLI, later the admin API) gives to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub password: String,
}

/// The email as compared for uniqueness and login: trimmed, lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
