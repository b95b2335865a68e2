//! The open routes (no API key): `GET /healthz`, `GET /.well-known/jwks.json`
//! and `GET /api/schema/`. The service answers them before any API-client
//! check; this file holds their OpenAPI operations.

use crate::api::types::ErrorOut;

operation! { open schema, get "/api/schema/", "meta",
    params(("format" = Option<String>, Query, description = "`yaml` for YAML")),
    responses((status = 200, description = "This document"))
}

operation! { open healthz, get "/healthz", "meta",
    responses((status = 200, description = "The database answers"), (status = 503, description = "It does not", body = ErrorOut))
}

operation! { open jwks, get "/.well-known/jwks.json", "meta",
    responses((status = 200, description = "The public signing keys (JWKS)"))
}
