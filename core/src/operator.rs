//! Operator actions (the CLI now, the admin API later): create users and
//! API clients, list, deactivate and rotate clients.

use crate::api_client::{ApiClient, ApiKey, ClientId, NewApiClient};
use crate::service::Gatehouse;
use crate::user::{NewUser, User};
use std::collections::BTreeMap;

/// Why an operator action failed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// Field errors, as the API reports them.
    #[error("invalid input: {}", format_fields(.0))]
    Validation(BTreeMap<String, Vec<String>>),
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
}

fn format_fields(f: &BTreeMap<String, Vec<String>>) -> String {
    f.iter()
        .map(|(k, v)| format!("{k}: {}", v.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Gatehouse {
    /// Creates a user of any type. The password passes the same validators
    /// as self-registration.
    pub async fn create_user(&self, _new: NewUser) -> Result<User, OperatorError> {
        todo!()
    }

    /// Creates a client; the key is returned once and only its hash is kept.
    pub async fn create_api_client(
        &self,
        _new: NewApiClient,
    ) -> Result<(ApiClient, ApiKey), OperatorError> {
        todo!()
    }

    pub async fn list_api_clients(&self) -> Result<Vec<ApiClient>, OperatorError> {
        todo!()
    }

    /// Activates or deactivates a client. Deactivating revokes every refresh
    /// token the client issued.
    pub async fn set_api_client_active(
        &self,
        _id: &ClientId,
        _active: bool,
    ) -> Result<ApiClient, OperatorError> {
        todo!()
    }

    /// Replaces a client's key; the old key stops working at once.
    pub async fn rotate_api_key(&self, _id: &ClientId) -> Result<ApiKey, OperatorError> {
        todo!()
    }
}
