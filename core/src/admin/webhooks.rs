//! `/api/admin/webhooks/…` (admins only, every change audited): endpoints
//! (list, create — the secret shown once —, read, update, delete), a new
//! secret, a test ping, the delivery log and "send again". The events and
//! their delivery are `crate::webhook`'s.

use super::common::StaffErrors;
use crate::api::types::{ErrorOut, FieldErrorsOut};
use crate::audit::{event, Actor, AuditEvent};
use crate::clock::UnixMillis;
use crate::context::{AdminCaller, Ctx, Shared};
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, JsonBody, StrField};
use crate::mfa::DataKey;
use crate::permission::{IsAdminUser, Permission};
use crate::sql::{SqlError, Statement};
use crate::webhook::store::{self as hooks, Attempt, Endpoint, Message};
use crate::webhook::{self, Secret};
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const URL: StrField = StrField::required("url", 2000);
const DESCRIPTION: StrField = StrField::optional_blank("description", 500);
/// The log shows this many messages and attempts.
const LOG_LIMIT: i64 = 100;

/// An endpoint (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookOut {
    pub id: String,
    pub url: String,
    pub description: String,
    /// `["*"]` (every event) or the event types it takes.
    pub event_types: Vec<String>,
    /// The operator's switch.
    pub active: bool,
    /// Set by the sender: failing for over 24 h, or its address refused by
    /// the outbound policy. Setting `active` to true clears it.
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Since when every attempt failed (null: the last one succeeded).
    pub failing_since: Option<String>,
    pub created_at: String,
    pub secret_rotated_at: Option<String>,
}

impl From<&Endpoint> for WebhookOut {
    fn from(e: &Endpoint) -> Self {
        let t = |m: Option<UnixMillis>| m.map(UnixMillis::to_rfc3339);
        WebhookOut {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.split(',').map(str::to_owned).collect(),
            active: e.active,
            disabled: e.disabled_at.is_some(),
            disabled_reason: e.disabled_reason.clone(),
            disabled_at: t(e.disabled_at),
            failing_since: t(e.failing_since),
            created_at: e.created_at.to_rfc3339(),
            secret_rotated_at: t(e.secret_rotated_at),
        }
    }
}

/// An endpoint with its signing secret: only in the answers to create and
/// rotate-secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecretOut {
    #[serde(flatten)]
    pub endpoint: WebhookOut,
    /// `whsec_…`: shown once; kept sealed under the data key.
    pub secret: String,
}

/// The endpoints.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub count: usize,
    pub results: Vec<WebhookOut>,
}

/// A new endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookCreateIn {
    /// `http://` or `https://`; private and loopback addresses only if the
    /// outbound policy allows them.
    pub url: String,
    /// `["*"]` or event types (docs/WEBHOOKS.md).
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// Changes to an endpoint (each field optional).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookPatchIn {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// One message to the endpoint and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookMessageOut {
    /// The `webhook-id` (the same on every attempt).
    pub id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub created_at: String,
    pub delivered_at: Option<String>,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

impl From<&Message> for WebhookMessageOut {
    fn from(m: &Message) -> Self {
        let state = match (m.delivered_at, m.dead_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "dead",
            (None, None) => "pending",
        };
        WebhookMessageOut {
            id: m.id.clone(),
            event_type: m.event_type.clone(),
            state: state.into(),
            attempts: m.attempts,
            created_at: m.created_at.to_rfc3339(),
            delivered_at: m.delivered_at.map(UnixMillis::to_rfc3339),
            next_attempt_at: (state == "pending").then(|| m.next_attempt_at.to_rfc3339()),
            last_error: m.last_error.clone(),
        }
    }
}

/// One attempt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookAttemptOut {
    pub message_id: String,
    pub event_type: String,
    pub attempt: i64,
    pub at: String,
    /// The receiver's HTTP status (null: no answer).
    pub status: Option<i64>,
    pub latency_ms: i64,
    /// The first KiB of the answer.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    /// `delivered`, `retrying` or `dead`.
    pub outcome: String,
}

impl From<&Attempt> for WebhookAttemptOut {
    fn from(a: &Attempt) -> Self {
        WebhookAttemptOut {
            message_id: a.message_id.clone(),
            event_type: a.event_type.clone(),
            attempt: a.attempt,
            at: a.at.to_rfc3339(),
            status: a.status,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt.clone(),
            error: a.error.clone(),
            outcome: a.outcome.clone(),
        }
    }
}

/// The delivery log of one endpoint, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveriesOut {
    pub messages: Vec<WebhookMessageOut>,
    pub attempts: Vec<WebhookAttemptOut>,
}

/// A queued message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookQueuedOut {
    pub queued: bool,
    /// The `webhook-id` (send again) or null (a test ping: its id is in the log).
    pub id: Option<String>,
}

/// Admins only: webhooks see every user's events.
fn admin(ctx: &Ctx<'_>) -> Result<AdminCaller, ApiError> {
    let caller = ctx.admin()?;
    if !IsAdminUser.has_permission(Some(&caller.user)) {
        return Err(ApiError::permission_denied());
    }
    Ok(caller)
}

fn data_key<'c>(ctx: &'c Ctx<'_>) -> Result<&'c DataKey, ApiError> {
    ctx.config().data_key.as_ref().ok_or_else(|| {
        ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "data_key_not_configured",
            "This deployment has no data key (GATEHOUSE_DATA_KEY): webhook secrets cannot be kept.",
        )
    })
}

/// `url`: an absolute http(s) URL the outbound client accepts.
fn url(body: &JsonBody, required: bool, errors: &mut FieldErrors) -> Option<String> {
    let u = body.str(URL.required_when(required), errors)?;
    // ASCII only (an international name in punycode): also keeps the
    // parser's byte slicing on character boundaries.
    if !u.is_ascii() {
        push(
            errors,
            "url",
            "Enter a valid http(s) URL (ASCII; an international domain name in punycode).",
        );
        return None;
    }
    if let Err(e) = crate::outbound::OutboundUrl::parse(&u) {
        push(errors, "url", format!("Enter a valid http(s) URL ({e})."));
        return None;
    }
    Some(u)
}

fn event_types(body: &JsonBody, errors: &mut FieldErrors) -> Option<String> {
    let list = body.str_list("event_types", 64, errors)?;
    match webhook::parse_event_types(&list) {
        Ok(t) => Some(t),
        Err(e) => {
            push(errors, "event_types", e);
            None
        }
    }
}

/// Inserts a new endpoint with a new secret (sealed), audited.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_endpoint(
    shared: &Shared,
    key: &DataKey,
    actor: &Actor,
    now: UnixMillis,
    url: String,
    event_types: String,
    description: String,
    active: bool,
) -> Result<(Endpoint, Secret), SqlError> {
    let rng = shared.env.random.as_ref();
    let e = Endpoint {
        id: webhook::new_endpoint_id(rng),
        url,
        description,
        event_types,
        active,
        created_at: now,
        secret_rotated_at: None,
        failing_since: None,
        disabled_at: None,
        disabled_reason: None,
    };
    let secret = Secret::generate(rng);
    let sealed = secret.seal(key, &e.id, rng);
    shared
        .env
        .sql
        .batch(vec![
            hooks::insert(&e, &sealed),
            audit_as(actor, event::WEBHOOK_CREATED, &e.id, now),
        ])
        .await?;
    Ok((e, secret))
}

fn audit(caller: &AdminCaller, name: &'static str, id: &str, now: UnixMillis) -> Statement {
    audit_as(&caller.actor, name, id, now)
}

pub(crate) fn audit_as(actor: &Actor, name: &'static str, id: &str, now: UnixMillis) -> Statement {
    AuditEvent::new(name, actor, now)
        .detail(serde_json::json!({ "endpoint_id": id }))
        .statement()
}

async fn found(ctx: &Ctx<'_>) -> Result<Endpoint, ApiError> {
    ctx.store()
        .webhook_endpoint(ctx.param(0))
        .await?
        .ok_or_else(ApiError::not_found)
}

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    admin(ctx)?;
    let all = ctx.store().webhook_endpoints().await?;
    Ok(json_response(
        StatusCode::OK,
        &WebhookList {
            count: all.len(),
            results: all.iter().map(WebhookOut::from).collect(),
        },
    ))
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let key = data_key(ctx)?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let url = url(&body, true, &mut errors);
    let types = event_types(&body, &mut errors);
    if !body.has("event_types") {
        push(&mut errors, "event_types", "This field is required.");
    }
    let description = body.str(DESCRIPTION, &mut errors).unwrap_or_default();
    let active = body.bool("active", &mut errors).unwrap_or(true);
    check(errors)?;
    let (Some(url), Some(event_types)) = (url, types) else {
        return Err(ApiError::field("url", "This field is required."));
    };
    let (e, secret) = create_endpoint(
        ctx.shared,
        key,
        &caller.actor,
        ctx.now,
        url,
        event_types,
        description,
        active,
    )
    .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &WebhookWithSecretOut {
            endpoint: WebhookOut::from(&e),
            secret: secret.0,
        },
    ))
}

pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    admin(ctx)?;
    Ok(json_response(
        StatusCode::OK,
        &WebhookOut::from(&found(ctx).await?),
    ))
}

pub(crate) async fn patch(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let mut e = found(ctx).await?;
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    if let Some(u) = url(&body, false, &mut errors) {
        e.url = u;
    }
    if body.has("event_types") {
        if let Some(t) = event_types(&body, &mut errors) {
            e.event_types = t;
        }
    }
    if let Some(d) = body.str(DESCRIPTION, &mut errors) {
        e.description = d;
    }
    if let Some(a) = body.bool("active", &mut errors) {
        e.active = a;
        if a {
            e.disabled_at = None;
            e.disabled_reason = None;
            e.failing_since = None;
        }
    }
    check(errors)?;
    ctx.env()
        .sql
        .batch(vec![
            hooks::update(&e),
            audit(caller, event::WEBHOOK_UPDATED, &e.id, ctx.now),
        ])
        .await?;
    Ok(json_response(StatusCode::OK, &WebhookOut::from(&e)))
}

pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let e = found(ctx).await?;
    let mut stmts = hooks::delete(&e.id);
    stmts.push(audit(caller, event::WEBHOOK_DELETED, &e.id, ctx.now));
    ctx.env().sql.batch(stmts).await?;
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Bytes::new())
        .unwrap_or_default())
}

pub(crate) async fn rotate_secret(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let key = data_key(ctx)?;
    let mut e = found(ctx).await?;
    let rng = ctx.env().random.as_ref();
    let secret = Secret::generate(rng);
    let sealed = secret.seal(key, &e.id, rng);
    ctx.env()
        .sql
        .batch(vec![
            hooks::set_secret(&e.id, &sealed, ctx.now),
            audit(caller, event::WEBHOOK_SECRET_ROTATED, &e.id, ctx.now),
        ])
        .await?;
    e.secret_rotated_at = Some(ctx.now);
    Ok(json_response(
        StatusCode::OK,
        &WebhookWithSecretOut {
            endpoint: WebhookOut::from(&e),
            secret: secret.0,
        },
    ))
}

/// A `webhook.test` message to this endpoint alone: its audit event is the
/// event (the fan-out trigger sends it only to the endpoint it names).
pub(crate) async fn test(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let e = found(ctx).await?;
    ctx.env()
        .sql
        .run(audit(caller, event::WEBHOOK_TEST, &e.id, ctx.now))
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &WebhookQueuedOut {
            queued: true,
            id: None,
        },
    ))
}

pub(crate) async fn deliveries(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    admin(ctx)?;
    let e = found(ctx).await?;
    let messages = ctx.store().webhook_messages(&e.id, LOG_LIMIT).await?;
    let attempts = ctx.store().webhook_attempts(&e.id, LOG_LIMIT).await?;
    Ok(json_response(
        StatusCode::OK,
        &WebhookDeliveriesOut {
            messages: messages.iter().map(WebhookMessageOut::from).collect(),
            attempts: attempts.iter().map(WebhookAttemptOut::from).collect(),
        },
    ))
}

/// "Send again": the message due now, same `webhook-id`, a fresh 24 h.
pub(crate) async fn resend(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &admin(ctx)?;
    let e = found(ctx).await?;
    let message_id = ctx.param(1);
    let audit = AuditEvent::new(event::WEBHOOK_RESENT, &caller.actor, ctx.now)
        .detail(serde_json::json!({ "endpoint_id": &e.id, "message_id": message_id }))
        .only_if_changed();
    let results = ctx
        .env()
        .sql
        .batch(vec![
            hooks::resend(&e.id, message_id, ctx.now),
            audit.statement(),
        ])
        .await?;
    if results.first().is_none_or(|r| r.rows_affected == 0) {
        return Err(ApiError::not_found());
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &WebhookQueuedOut {
            queued: true,
            id: Some(message_id.to_owned()),
        },
    ))
}

/// The `{endpoint_id}` path parameter.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct EndpointIdPath {
    /// `wh_…`
    endpoint_id: String,
}

/// The `{endpoint_id}` and `{message_id}` path parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct MessagePath {
    /// `wh_…`
    endpoint_id: String,
    /// The `webhook-id` (`msg_…`).
    message_id: String,
}

/// The refusal of a route that seals a secret, on a deployment without a
/// data key (see [`data_key`]).
#[derive(utoipa::IntoResponses)]
#[response(status = 503, description = "`data_key_not_configured`")]
#[allow(dead_code)] // OpenAPI only
struct NoDataKey(ErrorOut);

/// The refusals of a route on one endpoint.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
pub(crate) enum EndpointErrors {
    #[response(status = 401, description = "Not authenticated")]
    Unauthenticated(ErrorOut),
    #[response(status = 403, description = "Not an admin")]
    NotAdmin(ErrorOut),
    #[response(status = 404, description = "No such endpoint")]
    NotFound(ErrorOut),
}

operation! { admin webhooks_list, get "/api/admin/webhooks/",
    responses((status = 200, description = "The webhook endpoints", body = WebhookList), StaffErrors)
}

operation! { admin webhooks_create, post "/api/admin/webhooks/", request_body = WebhookCreateIn,
    responses(
        (status = 201, description = "Created; `secret` is shown once", body = WebhookWithSecretOut),
        FieldErrorsOut,
        StaffErrors,
        NoDataKey,
    )
}

operation! { admin webhook_get, get "/api/admin/webhooks/{endpoint_id}/", params(EndpointIdPath),
    responses((status = 200, description = "The endpoint", body = WebhookOut), EndpointErrors)
}

operation! { admin webhook_patch, patch "/api/admin/webhooks/{endpoint_id}/", params(EndpointIdPath),
    request_body = WebhookPatchIn,
    responses((status = 200, description = "Updated (`active: true` also clears a disabled flag)", body = WebhookOut), FieldErrorsOut, EndpointErrors)
}

operation! { admin webhook_delete, delete "/api/admin/webhooks/{endpoint_id}/", params(EndpointIdPath),
    responses((status = 204, description = "Removed, with its queued messages and log"), EndpointErrors)
}

operation! { admin webhook_rotate_secret, post "/api/admin/webhooks/{endpoint_id}/rotate-secret/", params(EndpointIdPath),
    responses(
        (status = 200, description = "A new secret, shown once; the old one stops at once", body = WebhookWithSecretOut),
        EndpointErrors,
        NoDataKey,
    )
}

operation! { admin webhook_test, post "/api/admin/webhooks/{endpoint_id}/test/", params(EndpointIdPath),
    responses((status = 202, description = "A `webhook.test` message queued for this endpoint", body = WebhookQueuedOut), EndpointErrors)
}

operation! { admin webhook_deliveries, get "/api/admin/webhooks/{endpoint_id}/deliveries/", params(EndpointIdPath),
    responses((status = 200, description = "The newest messages and attempts", body = WebhookDeliveriesOut), EndpointErrors)
}

operation! { admin webhook_resend, post "/api/admin/webhooks/{endpoint_id}/deliveries/{message_id}/resend/", params(MessagePath),
    responses((status = 202, description = "Due again now, with the same `webhook-id`", body = WebhookQueuedOut), EndpointErrors)
}
