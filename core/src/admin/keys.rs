//! `GET /api/admin/keys/` and `POST /api/admin/keys/rotate/`: the signing
//! keys (docs/KEYS.md), for admins only. Never a secret: kid, algorithm,
//! state and dates.

use super::common::StaffErrors;
use crate::api::types::ErrorOut;
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use crate::keys::{KeyInfo, KeysError};
use crate::permission::{IsAdminUser, Permission};
use bytes::Bytes;
use http::{Response, StatusCode};

/// The key set and how it rotates.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct KeysOut {
    /// Next, current, previous, retired (newest first within a state).
    keys: Vec<KeyInfo>,
    /// False when this host signs with a configured key, which Gatehouse
    /// does not rotate (`keys` is then what the database holds, unused).
    managed: bool,
    /// The schedule (`--key-rotation-days`), null when rotation is manual.
    rotation_days: Option<i64>,
    /// Seconds a key stays accepted after it stops signing.
    retire_delay_secs: i64,
    /// Seconds a host keeps the keys before re-reading them (JWKS max-age).
    cache_secs: i64,
}

async fn keys_out(ctx: &Ctx<'_>) -> Result<KeysOut, ApiError> {
    let config = ctx.config();
    Ok(KeysOut {
        keys: crate::keys::list(ctx.store()).await?,
        managed: crate::keys::managed_alg(config).is_some(),
        rotation_days: config.key_rotation_days,
        retire_delay_secs: crate::keys::retire_delay_secs(config),
        cache_secs: config.key_cache_secs,
    })
}

fn admins_only(ctx: &Ctx<'_>) -> Result<crate::context::AdminCaller, ApiError> {
    let caller = ctx.admin()?;
    if !IsAdminUser.has_permission(Some(&caller.user)) {
        return Err(ApiError::permission_denied());
    }
    Ok(caller)
}

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    admins_only(ctx)?;
    Ok(json_response(StatusCode::OK, &keys_out(ctx).await?))
}

pub(crate) async fn rotate(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = admins_only(ctx)?;
    match ctx.keys().rotate(ctx.now, &caller.actor).await {
        Ok(()) => Ok(json_response(StatusCode::OK, &keys_out(ctx).await?)),
        Err(e @ KeysError::Pinned) => Err(ApiError::detail(
            StatusCode::CONFLICT,
            "signing_key_pinned",
            e.to_string(),
        )),
        Err(e @ KeysError::Conflict) => Err(ApiError::detail(
            StatusCode::CONFLICT,
            "rotation_conflict",
            e.to_string(),
        )),
        Err(KeysError::Sql(e)) => Err(e.into()),
        Err(KeysError::Key(e)) => Err(ApiError::detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "signing_key_error",
            e,
        )),
    }
}

operation! { admin keys_list, get "/api/admin/keys/",
    responses(
        (status = 200, description = "The signing keys (no secrets); admins only", body = KeysOut),
        StaffErrors,
    )
}

operation! { admin keys_rotate, post "/api/admin/keys/rotate/",
    responses(
        (status = 200, description = "Rotated: next signs now, current is previous until its retirement time, a new next is published; admins only", body = KeysOut),
        StaffErrors,
        (status = 409, description = "`signing_key_pinned`: this host signs with a configured key; `rotation_conflict`: another host rotated at the same moment", body = ErrorOut),
    )
}
