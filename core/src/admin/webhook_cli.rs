//! The CLI's webhook commands (`gatehouse webhooks add|list|remove`) on
//! [`Gatehouse`], sharing the admin API's code (`admin/webhooks.rs`).

use super::webhooks::{audit_as, create_endpoint, WebhookOut};
use crate::audit::{event, Actor};
use crate::service::Gatehouse;
use crate::webhook::{self, store as hooks};

/// The CLI's webhook commands (`gatehouse webhooks add|list|remove`),
/// as the operator (no user, client or IP in the audit log).
impl Gatehouse {
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
