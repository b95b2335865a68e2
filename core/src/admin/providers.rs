//! `/api/admin/providers/`: the social sign-in providers (admins only):
//! list, create (the client secret sealed under the data key, never
//! returned), delete. Audited.

use super::common::StaffErrors;
use crate::api::types::{ErrorOut, FieldErrorsOut};
use crate::context::Ctx;
use crate::error::FieldErrors;
use crate::error::{json_response, ApiError};
use crate::json::{check, push, StrField};
use crate::social::{self, Kind, Provider, ProviderClient};
use crate::sql::SqlError;
use crate::user::UserType;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const CREATED: &str = "social.provider_created";
const DELETED: &str = "social.provider_deleted";

/// A provider as the API shows it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderOut {
    pub id: String,
    /// `oidc` or `github`.
    pub kind: String,
    pub preset: Option<String>,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub clients: Vec<ProviderClient>,
    /// Gatehouse's callback URL, to register at the provider.
    pub callback_url: String,
    pub created_at: i64,
}

/// `POST /api/admin/providers/` body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // OpenAPI only
pub struct ProviderCreateIn {
    /// The provider's name in URLs: `[a-z0-9_-]`, at most 32.
    pub id: String,
    /// `google`, `microsoft`, `apple`, `gitlab`, `github`, or absent for a
    /// generic OpenID Connect provider (then `issuer` is required).
    pub preset: Option<String>,
    /// The issuer (OIDC), or GitHub's base URL; overrides the preset's.
    pub issuer: Option<String>,
    /// Microsoft's directory (tenant) id.
    pub tenant: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated; the preset's (or `openid email profile`) by default.
    pub scopes: Option<String>,
    pub clients: Vec<ProviderClient>,
}

pub(crate) fn out(shared: &crate::context::Shared, p: &Provider) -> ProviderOut {
    ProviderOut {
        id: p.id.clone(),
        kind: p.kind.as_str().into(),
        preset: p.preset.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        scopes: p.scopes.clone(),
        clients: p.clients.clone(),
        callback_url: crate::api::social::callback_url(shared),
        created_at: p.created_at.0,
    }
}

/// Admins only: a provider's secret and its reach over every client are
/// deployment settings.
fn admin_only(ctx: &Ctx<'_>) -> Result<crate::context::AdminCaller, ApiError> {
    let caller = ctx.admin()?;
    if caller.user.is_superuser || caller.user.user_type == UserType::Admin {
        Ok(caller)
    } else {
        Err(ApiError::permission_denied())
    }
}

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    admin_only(ctx)?;
    let all = ctx.store().social_providers().await?;
    let list: Vec<ProviderOut> = all.iter().map(|p| out(ctx.shared, p)).collect();
    Ok(json_response(StatusCode::OK, &list))
}

pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = admin_only(ctx)?;
    let body = ctx.body()?;
    let p = create_from(ctx.shared, ctx.now, &caller.actor, &body).await?;
    Ok(json_response(StatusCode::CREATED, &out(ctx.shared, &p)))
}

/// Checks `body` and stores the provider it describes (the admin API's
/// `POST` and the CLI's `providers add`).
pub(crate) async fn create_from(
    shared: &crate::context::Shared,
    now: crate::clock::UnixMillis,
    actor: &crate::audit::Actor,
    body: &crate::json::JsonBody,
) -> Result<Provider, ApiError> {
    let key = shared.config.data_key.clone().ok_or_else(|| {
        ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "social_not_configured",
            "No data key is configured (GATEHOUSE_DATA_KEY): provider secrets cannot be sealed.",
        )
    })?;
    let mut errors = FieldErrors::new();
    let id = body.str(StrField::required("id", 32), &mut errors);
    let preset = body.str(StrField::optional_blank("preset", 16), &mut errors);
    let issuer = body.str(StrField::optional_blank("issuer", 512), &mut errors);
    let tenant = body.str(StrField::optional_blank("tenant", 64), &mut errors);
    let client_id = body.str(StrField::required("client_id", 512), &mut errors);
    let client_secret = body.str(StrField::password("client_secret"), &mut errors);
    let scopes = body.str(StrField::optional_blank("scopes", 512), &mut errors);
    let clients: Option<Vec<ProviderClient>> = match body.value("clients") {
        Some(v) => match serde_json::from_value::<Vec<ProviderClient>>(v.clone()) {
            Ok(c) => Some(c),
            Err(_) => {
                push(
                    &mut errors,
                    "clients",
                    "A list of {client_id, redirect_uris} is required.",
                );
                None
            }
        },
        None => {
            push(&mut errors, "clients", "This field is required.");
            None
        }
    };
    if id.as_deref().is_some_and(|i| {
        !i.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }) {
        push(&mut errors, "id", "Use a-z, 0-9, - and _ only.");
    }
    let preset = preset.filter(|p| !p.is_empty());
    let found = preset.as_deref().map(social::preset);
    if found == Some(None) {
        push(
            &mut errors,
            "preset",
            "Unknown preset: use google, microsoft, apple, gitlab or github.",
        );
    }
    let (kind, preset_issuer, preset_scopes) = match found.flatten() {
        Some((k, i, s)) => (k, Some(i), s),
        None => (Kind::Oidc, None, "openid email profile"),
    };
    let mut issuer = issuer
        .filter(|i| !i.is_empty())
        .or(preset_issuer.map(str::to_owned))
        .unwrap_or_default();
    if issuer.contains("{tenant}") {
        match tenant.filter(|t| !t.is_empty()) {
            Some(t)
                if t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
            {
                issuer = issuer.replace("{tenant}", &t)
            }
            _ => push(
                &mut errors,
                "tenant",
                "Microsoft needs the directory (tenant) id.",
            ),
        }
    }
    if crate::outbound::OutboundUrl::parse(&issuer).is_err() {
        push(&mut errors, "issuer", "An http(s) issuer URL is required.");
    }
    for c in clients.iter().flatten() {
        if c.redirect_uris.is_empty()
            || c.redirect_uris
                .iter()
                .any(|u| crate::outbound::OutboundUrl::parse(u).is_err() || u.contains('#'))
        {
            push(
                &mut errors,
                "clients",
                "Each client needs absolute http(s) redirect URIs without a fragment.",
            );
            break;
        }
    }
    check(errors)?;
    let (Some(id), Some(client_id), Some(secret), Some(clients)) =
        (id, client_id, client_secret, clients)
    else {
        return Err(ApiError::not_found()); // unreachable: required fields
    };
    let nonce: [u8; 24] = crate::random::bytes(shared.env.random.as_ref());
    let sealed = crate::mfa::seal::seal(&key, nonce, &social::seal_context(&id), secret.as_bytes());
    let p = Provider {
        id: id.clone(),
        kind,
        preset: preset.clone(),
        issuer,
        client_id,
        client_secret_sealed: sealed,
        scopes: scopes
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| preset_scopes.to_owned()),
        clients,
        discovery: None,
        discovery_fetched_at: None,
        jwks: None,
        jwks_fetched_at: None,
        created_at: now,
    };
    let audit = crate::audit::AuditEvent::new(CREATED, actor, now).detail(serde_json::json!({
        "provider": p.id, "kind": p.kind.as_str(), "issuer": p.issuer,
        "clients": p.clients.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>(),
    }));
    match shared.store.insert_social_provider(&p, &audit).await {
        Ok(()) => Ok(p),
        Err(SqlError::UniqueViolation(_)) => {
            Err(ApiError::field("id", "A provider with this id exists."))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = admin_only(ctx)?;
    let id = ctx.param(0);
    let audit = crate::audit::AuditEvent::new(DELETED, &caller.actor, ctx.now)
        .detail(serde_json::json!({"provider": id}));
    if ctx.store().delete_social_provider(id, &audit).await? {
        Ok(Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Bytes::new())
            .unwrap_or_default())
    } else {
        Err(ApiError::not_found())
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { admin providers_list, get "/api/admin/providers/",
    responses(
        (status = 200, description = "Every provider (never a secret)", body = [ProviderOut]),
        StaffErrors,
    )
}

operation! { admin providers_create, post "/api/admin/providers/", request_body = ProviderCreateIn,
    responses(
        (status = 201, description = "Created", body = ProviderOut),
        FieldErrorsOut,
        StaffErrors,
        (status = 503, description = "`social_not_configured`: no data key", body = ErrorOut),
    )
}

operation! { admin provider_delete, delete "/api/admin/providers/{provider}/",
    params(("provider" = String, Path, description = "The provider's id")),
    responses(
        (status = 204, description = "Deleted"),
        StaffErrors,
        (status = 404, description = "No such provider", body = ErrorOut),
    )
}
