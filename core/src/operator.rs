//! Operator actions (the CLI and the admin API): create users and API
//! clients, list, deactivate and rotate clients. Each change is audited in
//! its own transaction; the plain forms record [`Actor::operator`], the
//! `_as` forms the given actor (the admin API's caller).

use crate::admin::types::ClientOut;
use crate::api_client::{
    default_serves, generate_client_id, ApiClient, ApiKey, ClientId, NewApiClient,
};
use crate::audit::{event, Actor, AuditEvent, UserRef};
use crate::error::FieldErrors;
use crate::json::push;
use crate::password::validation::{validate_password, UserAttributes};
use crate::service::Gatehouse;
use crate::sql::SqlError;
use crate::store::UserInsert;
use crate::user::{canonical_email, canonical_username, NewUser, User};
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
    Sql(#[from] SqlError),
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
}

fn format_fields(f: &BTreeMap<String, Vec<String>>) -> String {
    f.iter()
        .map(|(k, v)| format!("{k}: {}", v.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `*`, or `http(s)://host[:port]` without a path or trailing slash.
pub(crate) fn is_valid_origin(o: &str) -> bool {
    (o == "*" || o.starts_with("http://") || o.starts_with("https://"))
        && !o.ends_with('/')
        && !o.contains('\n')
}

fn validated(errors: FieldErrors) -> Result<(), OperatorError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(OperatorError::Validation(errors))
    }
}

impl Gatehouse {
    /// Creates a user of any type. The password passes the same validators
    /// as self-registration.
    pub async fn create_user(&self, new: NewUser) -> Result<User, OperatorError> {
        self.create_user_as(new, &Actor::operator()).await
    }

    /// [`Gatehouse::create_user`] on behalf of `actor`.
    pub async fn create_user_as(&self, new: NewUser, actor: &Actor) -> Result<User, OperatorError> {
        let mut errors = FieldErrors::new();
        // The same normalisation and refusals as self-registration.
        let allow_unicode_local = self.config().allow_unicode_email_local_part;
        let email = canonical_email(&new.email, allow_unicode_local)
            .map_err(|msg| push(&mut errors, "email", msg))
            .unwrap_or_default();
        let username = canonical_username(&new.username)
            .map_err(|msg| push(&mut errors, "username", msg))
            .unwrap_or_default();
        let (email, username) = (email.as_str(), username.as_str());
        let attrs = UserAttributes {
            username,
            email,
            first_name: &new.first_name,
            last_name: &new.last_name,
        };
        for msg in validate_password(&new.password, &attrs) {
            push(&mut errors, "password", msg);
        }
        let (email_taken, username_taken) = self.store().taken(email, username).await?;
        if email_taken {
            push(
                &mut errors,
                "email",
                super::api::register_messages::EMAIL_TAKEN,
            );
        }
        if username_taken {
            push(
                &mut errors,
                "username",
                super::api::register_messages::USERNAME_TAKEN,
            );
        }
        validated(errors)?;
        let salt: [u8; 16] = crate::random::bytes(self.env().random.as_ref());
        let hash = self.env().hasher.hash(new.password, salt).await?;
        let now = self.env().clock.now();
        let insert = UserInsert {
            email,
            username,
            first_name: new.first_name.trim(),
            last_name: new.last_name.trim(),
            user_type: new.user_type,
            password_hash: &hash,
            now,
        };
        let audit = AuditEvent::new(event::USER_CREATED, actor, now)
            .target_user(UserRef::LastInsert)
            .detail(serde_json::json!({"after": {
                "email": insert.email,
                "username": insert.username,
                "first_name": insert.first_name,
                "last_name": insert.last_name,
                "user_type": insert.user_type,
                "is_active": true,
            }}));
        Ok(self.store().insert_user(&insert, &audit).await?)
    }

    /// Creates a client; the key is returned once and only its hash is kept.
    pub async fn create_api_client(
        &self,
        new: NewApiClient,
    ) -> Result<(ApiClient, ApiKey), OperatorError> {
        self.create_api_client_as(new, &Actor::operator()).await
    }

    /// [`Gatehouse::create_api_client`] on behalf of `actor`.
    pub async fn create_api_client_as(
        &self,
        new: NewApiClient,
        actor: &Actor,
    ) -> Result<(ApiClient, ApiKey), OperatorError> {
        let mut errors = FieldErrors::new();
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            push(
                &mut errors,
                "name",
                "A name of 1 to 200 characters is required.",
            );
        }
        let client_type = new.client_type.trim().to_ascii_lowercase();
        if client_type.is_empty()
            || !client_type
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            push(
                &mut errors,
                "type",
                "A type such as web, mobile, admin or server is required.",
            );
        }
        if new.rate_limit == 0 {
            push(
                &mut errors,
                "rate_limit",
                "The rate limit must be at least 1.",
            );
        }
        for o in &new.allowed_origins {
            if !is_valid_origin(o) {
                push(
                    &mut errors,
                    "origins",
                    format!("{o:?} is not an origin like https://app.example.com"),
                );
            }
        }
        let serves = new.serves.unwrap_or_else(|| default_serves(&client_type));
        if serves.is_empty() {
            push(
                &mut errors,
                "serves",
                "A client must serve at least one user type.",
            );
        }
        validated(errors)?;
        let rng = self.env().random.as_ref();
        let key = ApiKey::generate(rng);
        let client = ApiClient {
            id: generate_client_id(rng),
            name: name.to_owned(),
            client_type,
            key_hash: key.hash(),
            rate_limit: new.rate_limit,
            rate_period_secs: self.config().client_rate_period_secs,
            is_active: new.is_active,
            serves,
            allowed_origins: new.allowed_origins,
            created_at: self.env().clock.now(),
        };
        let audit = AuditEvent::new(event::CLIENT_CREATED, actor, client.created_at)
            .target_client(&client.id)
            .detail(serde_json::json!({"after": ClientOut::from(&client)}));
        self.store().insert_client(&client, &audit).await?;
        Ok((client, key))
    }

    pub async fn list_api_clients(&self) -> Result<Vec<ApiClient>, OperatorError> {
        Ok(self.store().clients().await?)
    }

    /// Activates or deactivates a client. Deactivating revokes every refresh
    /// token the client issued.
    pub async fn set_api_client_active(
        &self,
        id: &ClientId,
        active: bool,
    ) -> Result<ApiClient, OperatorError> {
        self.set_api_client_active_as(id, active, &Actor::operator())
            .await
    }

    /// [`Gatehouse::set_api_client_active`] on behalf of `actor`.
    pub async fn set_api_client_active_as(
        &self,
        id: &ClientId,
        active: bool,
        actor: &Actor,
    ) -> Result<ApiClient, OperatorError> {
        let now = self.env().clock.now();
        let name = if active {
            event::CLIENT_ACTIVATED
        } else {
            event::CLIENT_DEACTIVATED
        };
        let audit = AuditEvent::new(name, actor, now)
            .target_client(id)
            .detail(serde_json::json!({"is_active": active}));
        if !self
            .store()
            .set_client_active(id, active, now, &audit)
            .await?
        {
            return Err(OperatorError::NotFound(format!("API client {id}")));
        }
        self.store()
            .client(&id.0)
            .await?
            .ok_or_else(|| OperatorError::NotFound(format!("API client {id}")))
    }

    /// Replaces a client's key; the old key stops working at once.
    pub async fn rotate_api_key(&self, id: &ClientId) -> Result<ApiKey, OperatorError> {
        self.rotate_api_key_as(id, &Actor::operator()).await
    }

    /// [`Gatehouse::rotate_api_key`] on behalf of `actor`.
    pub async fn rotate_api_key_as(
        &self,
        id: &ClientId,
        actor: &Actor,
    ) -> Result<ApiKey, OperatorError> {
        let key = ApiKey::generate(self.env().random.as_ref());
        let audit = AuditEvent::new(event::CLIENT_KEY_ROTATED, actor, self.env().clock.now())
            .target_client(id);
        if !self.store().set_client_key(id, &key.hash(), &audit).await? {
            return Err(OperatorError::NotFound(format!("API client {id}")));
        }
        Ok(key)
    }
}
