//! Operator actions (the CLI and the admin API): create users and API
//! clients, list, deactivate and rotate clients; social providers and
//! webhook endpoints for the CLI. Each change is audited in
//! its own transaction; the plain forms record `Actor::operator`, the
//! `_as` forms the given actor (the admin API's caller).

use super::types::ClientOut;
use super::webhooks::{audit_as, create_endpoint, WebhookOut};
use crate::api::types::UserOut;
use crate::api_client::{
    default_serves, generate_client_id, ApiClient, ApiKey, ClientId, NewApiClient,
};
use crate::audit::{event, Actor, AuditEvent, UserRef};
use crate::clock::UnixMillis;
use crate::context::Shared;
use crate::error::FieldErrors;
use crate::json::push;
use crate::password::validation::{validate_password, UserAttributes};
use crate::service::Gatehouse;
use crate::sql::SqlError;
use crate::store::users::UserInsert;
use crate::user::{canonical_email, canonical_username, NewUser, User};
use crate::webhook::{self, store as hooks};
use std::collections::BTreeMap;

/// A user as the HTTP API shows it (the User object of docs/CONTRACT.md):
/// what the CLI prints with `--json`.
pub fn user_json(u: &User) -> serde_json::Value {
    serde_json::to_value(UserOut::from(u)).expect("a User serialises")
}

/// A client as the admin API shows it, without its key (nor the key's hash,
/// of no use to an operator): what the CLI prints with `--json`.
pub fn client_json(c: &ApiClient) -> serde_json::Value {
    serde_json::to_value(ClientOut::from(c)).expect("a client serialises")
}

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

/// Why `o` is not an allowed origin, or `None` when it is: `*`;
/// `https://HOST[:PORT]`; `http://` only with `localhost`, `127.0.0.1` or
/// `[::1]` (browsers treat those as secure, and nothing else should be
/// trusted over plain http). HOST is a DNS name (letters, digits, `-`,
/// dot-separated labels of 1–63) or an IP literal; PORT is 1–65535.
pub(crate) fn origin_error(o: &str) -> Option<String> {
    if o == "*" {
        return None;
    }
    let like = || {
        Some(format!(
            "\"{o}\" is not an origin like https://app.example.com"
        ))
    };
    let (https, rest) = match (o.strip_prefix("https://"), o.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return like(),
    };
    // HOST[:PORT]; an IPv6 host is bracketed.
    let (host, port) = match rest.find(']') {
        Some(i) if rest.starts_with('[') => match &rest[i + 1..] {
            "" => (&rest[..=i], None),
            after => match after.strip_prefix(':') {
                Some(p) => (&rest[..=i], Some(p)),
                None => return like(),
            },
        },
        _ => match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n >= 1)
    });
    if !port_ok || !valid_host(host) {
        return like();
    }
    if !https && !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Some(format!(
            "\"{o}\" is not allowed: plain http:// only for localhost, 127.0.0.1 or [::1]; use https://"
        ));
    }
    None
}

/// A DNS name or an IP literal (IPv6 in brackets).
fn valid_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
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
        create_user_as(self.shared(), self.now(), new, &Actor::operator()).await
    }

    /// Creates a client; the key is returned once and only its hash is kept.
    pub async fn create_api_client(
        &self,
        new: NewApiClient,
    ) -> Result<(ApiClient, ApiKey), OperatorError> {
        create_api_client_as(self.shared(), self.now(), new, &Actor::operator()).await
    }

    /// The social sign-in providers, as `GET /api/admin/providers/` shows
    /// them (never a secret).
    pub async fn social_providers(&self) -> Result<serde_json::Value, OperatorError> {
        let all = self.shared().store.social_providers().await?;
        let out: Vec<_> = all
            .iter()
            .map(|p| crate::admin::providers::out(self.shared(), p))
            .collect();
        Ok(serde_json::to_value(out).unwrap_or_default())
    }

    /// Adds a provider from the fields `POST /api/admin/providers/` takes;
    /// its answer, or the refusal's JSON body.
    pub async fn add_social_provider(
        &self,
        fields: serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let body = crate::json::JsonBody::from_object(fields);
        match crate::admin::providers::create_from(
            self.shared(),
            self.now(),
            &Actor::operator(),
            &body,
        )
        .await
        {
            Ok(p) => Ok(
                serde_json::to_value(crate::admin::providers::out(self.shared(), &p))
                    .unwrap_or_default(),
            ),
            Err(e) => Err(String::from_utf8_lossy(e.into_response().body()).into_owned()),
        }
    }

    /// Removes a provider (audited); false when there was none.
    pub async fn remove_social_provider(&self, id: &str) -> Result<bool, OperatorError> {
        let audit = crate::audit::AuditEvent::new(
            "social.provider_deleted",
            &Actor::operator(),
            self.now(),
        )
        .detail(serde_json::json!({"provider": id}));
        Ok(self
            .shared()
            .store
            .delete_social_provider(id, &audit)
            .await?)
    }

    pub async fn list_api_clients(&self) -> Result<Vec<ApiClient>, OperatorError> {
        Ok(self.shared().store.clients().await?)
    }

    /// Activates or deactivates a client. Deactivating revokes every refresh
    /// token the client issued.
    pub async fn set_api_client_active(
        &self,
        id: &ClientId,
        active: bool,
    ) -> Result<ApiClient, OperatorError> {
        set_api_client_active_as(self.shared(), self.now(), id, active, &Actor::operator()).await
    }

    /// Replaces a client's key; the old key stops working at once.
    pub async fn rotate_api_key(&self, id: &ClientId) -> Result<ApiKey, OperatorError> {
        rotate_api_key_as(self.shared(), self.now(), id, &Actor::operator()).await
    }

    // The CLI's webhook commands (`gatehouse webhooks add|list|remove`),
    // sharing the admin API's code (`admin/webhooks.rs`).

    /// A new endpoint for `url` taking `event_types` (`*` or names);
    /// returns it (as the admin API shows it) and its secret, shown once.
    pub async fn add_webhook(
        &self,
        url: &str,
        event_types: &[String],
        description: &str,
    ) -> Result<(serde_json::Value, String), String> {
        let s = self.shared();
        let key = s
            .config
            .data_key
            .as_ref()
            .ok_or("no data key is configured (--data-key): webhook secrets cannot be kept")?;
        if !url.is_ascii() {
            return Err("url: ASCII only (an international domain name in punycode)".into());
        }
        crate::outbound::OutboundUrl::parse(url).map_err(|e| format!("url: {e}"))?;
        let types =
            webhook::parse_event_types(event_types).map_err(|e| format!("event types: {e}"))?;
        let (e, secret) = create_endpoint(
            s,
            key,
            &Actor::operator(),
            self.now(),
            url.to_owned(),
            types,
            description.to_owned(),
            true,
        )
        .await
        .map_err(|e| e.to_string())?;
        let out = serde_json::to_value(WebhookOut::from(&e)).unwrap_or_default();
        Ok((out, secret.0))
    }

    /// Every endpoint, as the admin API shows them.
    pub async fn list_webhooks(&self) -> Result<Vec<serde_json::Value>, String> {
        let all = self
            .shared()
            .store
            .webhook_endpoints()
            .await
            .map_err(|e| e.to_string())?;
        Ok(all
            .iter()
            .map(|e| serde_json::to_value(WebhookOut::from(e)).unwrap_or_default())
            .collect())
    }

    /// Removes an endpoint, its queued messages and its log; false if
    /// there was none.
    pub async fn remove_webhook(&self, id: &str) -> Result<bool, String> {
        let s = self.shared();
        if s.store
            .webhook_endpoint(id)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Ok(false);
        }
        let mut stmts = hooks::delete(id);
        stmts.push(audit_as(
            &Actor::operator(),
            event::WEBHOOK_DELETED,
            id,
            self.now(),
        ));
        s.env.sql.batch(stmts).await.map_err(|e| e.to_string())?;
        Ok(true)
    }
}

/// [`Gatehouse::create_user`] on behalf of `actor`.
pub(crate) async fn create_user_as(
    shared: &Shared,
    now: UnixMillis,
    new: NewUser,
    actor: &Actor,
) -> Result<User, OperatorError> {
    let mut errors = FieldErrors::new();
    // The same normalisation and refusals as self-registration.
    let allow_unicode_local = shared.config.allow_unicode_email_local_part;
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
    shared
        .store
        .taken(email, username)
        .await?
        .push_errors(&mut errors);
    validated(errors)?;
    let salt: [u8; 16] = crate::random::bytes(shared.env.random.as_ref());
    let hash = shared.env.hasher.hash(new.password, salt).await?;
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
    Ok(shared.store.insert_user(&insert, &audit).await?)
}

/// [`Gatehouse::create_api_client`] on behalf of `actor`.
pub(crate) async fn create_api_client_as(
    shared: &Shared,
    now: UnixMillis,
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
        if let Some(msg) = origin_error(o) {
            push(&mut errors, "origins", msg);
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
    // The client's own pages: the same rule for both.
    for (field, url) in [
        ("reset_url", &new.email.reset_url),
        ("signin_url", &new.email.signin_url),
    ] {
        if let Some(msg) = url.as_deref().and_then(crate::api_client::reset_url_error) {
            push(&mut errors, field, msg);
        }
    }
    validated(errors)?;
    let rng = shared.env.random.as_ref();
    let key = ApiKey::generate(rng);
    let require_mfa_for_staff = new
        .require_mfa_for_staff
        .unwrap_or_else(|| crate::api_client::requires_mfa_for_staff_by_default(&client_type));
    let client = ApiClient {
        id: generate_client_id(rng),
        name: name.to_owned(),
        client_type,
        key_hash: key.hash(),
        rate_limit: new.rate_limit,
        rate_period_secs: shared.config.client_rate_period_secs,
        is_active: new.is_active,
        serves,
        allowed_origins: new.allowed_origins,
        created_at: now,
        email: new.email,
        require_mfa_for_staff,
    };
    let audit = AuditEvent::new(event::CLIENT_CREATED, actor, client.created_at)
        .target_client(&client.id)
        .detail(serde_json::json!({"after": ClientOut::from(&client)}));
    shared.store.insert_client(&client, &audit).await?;
    Ok((client, key))
}

/// [`Gatehouse::set_api_client_active`] on behalf of `actor`.
pub(crate) async fn set_api_client_active_as(
    shared: &Shared,
    now: UnixMillis,
    id: &ClientId,
    active: bool,
    actor: &Actor,
) -> Result<ApiClient, OperatorError> {
    let name = if active {
        event::CLIENT_ACTIVATED
    } else {
        event::CLIENT_DEACTIVATED
    };
    let audit = AuditEvent::new(name, actor, now)
        .target_client(id)
        .detail(serde_json::json!({"is_active": active}));
    if !shared
        .store
        .set_client_active(id, active, now, &audit)
        .await?
    {
        return Err(OperatorError::NotFound(format!("API client {id}")));
    }
    shared
        .store
        .client(&id.0)
        .await?
        .ok_or_else(|| OperatorError::NotFound(format!("API client {id}")))
}

/// [`Gatehouse::rotate_api_key`] on behalf of `actor`.
pub(crate) async fn rotate_api_key_as(
    shared: &Shared,
    now: UnixMillis,
    id: &ClientId,
    actor: &Actor,
) -> Result<ApiKey, OperatorError> {
    let key = ApiKey::generate(shared.env.random.as_ref());
    let audit = AuditEvent::new(event::CLIENT_KEY_ROTATED, actor, now).target_client(id);
    if !shared.store.set_client_key(id, &key.hash(), &audit).await? {
        return Err(OperatorError::NotFound(format!("API client {id}")));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::origin_error;

    /// Each of `bad` is refused, with a message that contains `says`.
    fn refused(bad: &[&str], says: &str) {
        for bad in bad {
            let msg = origin_error(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(msg.contains(says), "{bad}: {msg}");
        }
    }

    #[test]
    fn https_anywhere_plain_http_only_on_loopback() {
        for ok in [
            "*",
            "https://app.example.com",
            "https://app.example.com:8443",
            "https://localhost",
            "https://192.0.2.1:3000",
            "https://[2001:db8::1]:8443",
            "http://localhost",
            "http://localhost:3000",
            "http://localhost:8000",
            "http://127.0.0.1",
            "http://127.0.0.1:65535",
            "http://[::1]",
            "http://[::1]:5173",
        ] {
            assert_eq!(origin_error(ok), None, "{ok}");
        }
        refused(
            &[
                "http://evil.example",
                "http://evil.example:80",
                "http://localhost.evil.example",
                "http://127.0.0.2:3000",
                "http://[::2]",
                "http://0.0.0.0:8000",
                "http://192.168.1.10",
            ],
            "plain http://",
        );
        refused(
            &[
                "",
                "**",
                "ftp://x",
                "https://",
                "https://app.example.com/",
                "https://app.example.com/path",
                "https://app.example.com:0",
                "https://app.example.com:65536",
                "https://app.example.com:",
                "https://app.example.com:+80",
                "https://a b.example",
                "https://app..example",
                "https://-app.example",
                "https://user@app.example",
                "https://[::1",
                "https://[::1]x",
                "https://[nope]",
                "http://localhost/",
                "http://localhost:3000\nhttps://x",
            ],
            "is not an origin like",
        );
    }
}
