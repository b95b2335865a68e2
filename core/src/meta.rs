//! The open routes (no API key): `GET /healthz`, `GET /.well-known/jwks.json`
//! and `GET /api/schema/`. The service answers them before any API-client
//! check; this file holds their OpenAPI operations.

use crate::api::types::ErrorOut;

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(get, path = "/api/schema/", tag = "meta",
    params(("format" = Option<String>, Query, description = "`yaml` for YAML")),
    responses((status = 200, description = "This document")))]
fn schema() {}

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The database answers"), (status = 503, description = "It does not", body = ErrorOut)))]
fn healthz() {}

#[allow(dead_code)] // carries the OpenAPI operation that routes.rs reads
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta",
    responses((status = 200, description = "The public signing keys (JWKS)")))]
fn jwks() {}
