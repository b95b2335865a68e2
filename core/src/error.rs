//! The one place where errors become responses, in DRF/simplejwt shapes:
//! `{"detail": "…", "code": "…"}` or `{"field": ["message", …]}`.

use crate::sql::SqlError;
use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use std::collections::BTreeMap;

/// Field name → messages, as DRF's validation errors.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Every way a request can fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// `{"detail", "code"}` with a status.
    Detail {
        status: StatusCode,
        code: &'static str,
        detail: String,
        /// `Retry-After` seconds, for 429s and 503s.
        retry_after: Option<u64>,
        /// `Allow` methods, for 405s.
        allow: Option<String>,
    },
    /// 400 with field errors.
    Fields(FieldErrors),
}

impl ApiError {
    pub fn detail(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Detail {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            allow: None,
        }
    }

    /// One field, one message.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(field.to_owned(), vec![message.into()]);
        ApiError::Fields(f)
    }

    pub fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "not_found", "Not found.")
    }

    pub fn method_not_allowed(method: &http::Method, allow: &[http::Method]) -> Self {
        let allow = allow
            .iter()
            .map(http::Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        ApiError::Detail {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            detail: format!("Method \"{}\" not allowed.", method.as_str()),
            retry_after: None,
            allow: Some(allow),
        }
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Unsupported media type \"{content_type}\" in request."),
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::detail(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("Request body too large (limit {limit} bytes)."),
        )
    }

    pub fn parse_error(why: impl std::fmt::Display) -> Self {
        Self::detail(
            StatusCode::BAD_REQUEST,
            "parse_error",
            format!("JSON parse error - {why}"),
        )
    }

    pub fn not_authenticated() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Authentication credentials were not provided.",
        )
    }

    /// simplejwt's answer to any bad token.
    pub fn token_not_valid() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "token_not_valid",
            "Given token not valid for any token type",
        )
    }

    /// simplejwt's answer to bad credentials; the same whatever was wrong.
    pub fn no_active_account() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "no_active_account",
            "No active account found with the given credentials",
        )
    }

    /// The account's stored password cannot be verified (an unusable or
    /// unknown hash imported from Django, or one above the cost ceiling):
    /// only a password reset lets the user in.
    pub fn password_reset_required() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "password_reset_required",
            "This account's password must be reset before it can log in.",
        )
    }

    pub fn permission_denied() -> Self {
        Self::detail(
            StatusCode::FORBIDDEN,
            "permission_denied",
            "You do not have permission to perform this action.",
        )
    }

    /// 403: the login did not pass a second factor (`aal` 1), and this
    /// change needs one (the `RequireMfa` guard, change-password).
    pub fn mfa_step_up_required() -> Self {
        Self::detail(
            StatusCode::FORBIDDEN,
            "mfa_step_up_required",
            "Sign in with your second factor to do this.",
        )
    }

    pub fn user_type_not_allowed() -> Self {
        Self::detail(
            StatusCode::FORBIDDEN,
            "user_type_not_allowed",
            "This API client does not serve your type of account.",
        )
    }

    pub fn throttled(code: &'static str, retry_after: u64) -> Self {
        ApiError::Detail {
            status: StatusCode::TOO_MANY_REQUESTS,
            code,
            detail: format!("Request was throttled. Expected available in {retry_after} seconds."),
            retry_after: Some(retry_after),
            allow: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Detail { status, .. } => *status,
            ApiError::Fields(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON response for this error.
    pub fn into_response(self) -> Response<Bytes> {
        match self {
            ApiError::Detail {
                status,
                code,
                detail,
                retry_after,
                allow,
            } => {
                let body = serde_json::json!({ "detail": detail, "code": code });
                let mut resp = json_response(status, &body);
                if let Some(secs) = retry_after {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
                    resp.headers_mut().insert(header::ALLOW, allow);
                }
                resp
            }
            ApiError::Fields(fields) => json_response(StatusCode::BAD_REQUEST, &fields),
        }
    }
}

/// `Retry-After` of a 503 `database_unavailable`.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl From<SqlError> for ApiError {
    /// Storage failures are the only 5xx the service gives. A unique
    /// violation that reaches here was not anticipated by a handler.
    fn from(e: SqlError) -> Self {
        match e {
            SqlError::UniqueViolation(_) => Self::detail(
                StatusCode::CONFLICT,
                "conflict",
                "The resource changed concurrently; try again.",
            ),
            // A primary restarting is back within seconds: say when to try.
            SqlError::Other(_) => ApiError::Detail {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "database_unavailable",
                detail: "The database is unavailable; try again shortly.".into(),
                retry_after: Some(DATABASE_RETRY_AFTER_SECS),
                allow: None,
            },
        }
    }
}

impl From<crate::password::PasswordError> for ApiError {
    /// A full hashing queue is load shedding (503 `server_busy`, with
    /// `Retry-After`); any other hashing failure is a server error.
    fn from(e: crate::password::PasswordError) -> Self {
        match e {
            crate::password::PasswordError::Busy { retry_after_secs } => ApiError::Detail {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "server_busy",
                detail: format!("The server is busy; try again in {retry_after_secs} seconds."),
                retry_after: Some(retry_after_secs),
                allow: None,
            },
            crate::password::PasswordError::Failed(_) => Self::detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Internal server error.",
            ),
        }
    }
}

/// A JSON response with the given status.
pub fn json_response<T: serde::Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Response<Bytes> {
    // Most answers fit: no regrowth on the way.
    let mut bytes = Vec::with_capacity(512);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes = b"{}".to_vec();
    }
    let mut resp = Response::new(Bytes::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::PasswordError;

    #[test]
    fn busy_hasher_is_503_server_busy_with_retry_after() {
        let resp = ApiError::from(PasswordError::Busy {
            retry_after_secs: 2,
        })
        .into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        let body: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(body["code"], "server_busy");
    }

    #[test]
    fn failed_hash_is_500() {
        let resp = ApiError::from(PasswordError::Failed("bad".into())).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
    }
}
