//! The OpenAPI 3.1 document of every route, generated from the API's types
//! with `utoipa`: the schemas and tags here, each operation beside its
//! handler, placed at its path by the route table ([`crate::routes`]).

use crate::api::types::{
    ChangePasswordIn, ChangePasswordOut, CodeRequestIn, CodeVerifyIn, DetailOut, EmailChangeIn,
    EmailChangedOut, EmailVerifiedOut, ErrorOut, LoginIn, LogoutAllOut, PasswordResetConfirmIn,
    PasswordResetIn, ProfileIn, RefreshIn, RegisterIn, RegisterOut, SessionOut, TokenIn, TokenPair,
    UserOut,
};
use crate::user::UserType;
use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Declares the API-key headers and bearer auth as security schemes.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "client_id",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Client-ID"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse",
        description = "Multi-frontend JWT authentication. Every /api/auth/ route needs the X-API-Key and X-Client-ID headers of an API client. The same routes are served under /api/v1/.",
        version = "1.0.0"
    ),
    components(schemas(UserOut, TokenPair, RegisterIn, RegisterOut, LoginIn, RefreshIn, ProfileIn, ChangePasswordIn, ChangePasswordOut, ErrorOut, UserType, SessionOut, LogoutAllOut, DetailOut, PasswordResetIn, PasswordResetConfirmIn, TokenIn, EmailVerifiedOut, EmailChangeIn, EmailChangedOut, CodeRequestIn, CodeVerifyIn, crate::api::mfa::TotpEnrollOut, crate::api::mfa::TotpCodeIn, crate::api::mfa::RecoveryCodesOut, crate::api::mfa::TotpOut, crate::api::mfa::FactorsOut, crate::api::mfa::MfaDisableIn, crate::api::mfa::MfaVerifyIn, crate::api::mfa::MfaTokenIn, crate::api::mfa_required::MfaRequiredOut, crate::api::social::SocialStartIn, crate::api::social::SocialStartOut, crate::api::social::SocialTokenIn, crate::store::social::IdentityOut, crate::admin::providers::ProviderOut, crate::admin::providers::ProviderCreateIn, crate::social::ProviderClient)),
    modifiers(&SecuritySchemes),
    tags((name = "auth", description = "Registration, tokens and the caller's profile"), (name = "mfa", description = "Second factors: TOTP, recovery codes, the second step of a sign-in"), (name = "meta", description = "Schema, health and keys"))
)]
struct ApiDoc;

/// The document, built once per call (cheap; only `/api/schema/` asks):
/// the auth routes and the admin API.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::admin::openapi::AdminDoc::openapi());
    doc.merge(crate::api::passkeys::PasskeyDoc::openapi());
    doc.merge(crate::api::step_up::StepUpDoc::openapi());
    // Every operation comes from the route table, at the row's path and method.
    for route in crate::routes::all() {
        let (_, operation) = (route.doc)();
        doc.paths
            .add_path_operation(route.path, vec![http_method(&route.method)], operation);
    }
    complete_responses(doc)
}

fn http_method(m: &http::Method) -> utoipa::openapi::path::HttpMethod {
    use utoipa::openapi::path::HttpMethod;
    match *m {
        http::Method::POST => HttpMethod::Post,
        http::Method::PUT => HttpMethod::Put,
        http::Method::PATCH => HttpMethod::Patch,
        http::Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// Adds the answers that whole groups of routes can give (the API-key gate,
/// rate limit, JSON body parsing, storage), where a path's own annotation
/// does not list them, and a JSON body to every error answer and untyped
/// success: with it the document describes every status the server sends
/// (held by `scripts/test-schemathesis.sh`).
fn complete_responses(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use serde_json::{json, Value};
    let mut v = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    v["components"]["schemas"]["FieldErrors"] = json!({
        "type": "object",
        "description": "Field name → messages (DRF's validation errors); `non_field_errors` for the body as a whole",
        "additionalProperties": {"type": "array", "items": {"type": "string"}}
    });
    let error = json!({"$ref": "#/components/schemas/ErrorOut"});
    let bad_request = json!({"anyOf": [
        {"$ref": "#/components/schemas/FieldErrors"},
        {"$ref": "#/components/schemas/ErrorOut"}
    ]});
    let json_body = |schema: &Value| json!({"application/json": {"schema": schema}});
    let retry_after = json!({"Retry-After": {
        "description": "Seconds until a request may succeed",
        "schema": {"type": "integer"}
    }});
    let Some(paths) = v["paths"].as_object_mut() else {
        return doc;
    };
    // Query values as `crate::query` reads them: an empty value is no value
    // (as django-filter), numbers and booleans may have white space around
    // them (but are not white space only), booleans are true/false/1/0/yes/no
    // in any case.
    let empty_or_int = json!({"type": "string", "pattern": "^(\\s*[+-]?[0-9]+\\s*)?$"});
    let query_bool = json!({
        "type": "string",
        "pattern": "^(\\s*([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Yy][Ee][Ss]|[Nn][Oo]|1|0)\\s*)?$"
    });
    for item in paths.values_mut() {
        let ops = item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut());
        for op in ops {
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in params.into_iter().flatten() {
                if p["in"] != "query" {
                    continue;
                }
                let schema = p["schema"].take();
                p["schema"] = match schema["type"].as_str() {
                    Some("boolean") => query_bool.clone(),
                    Some("integer") => json!({"anyOf": [schema, empty_or_int]}),
                    _ => schema,
                };
            }
        }
    }
    for (path, item) in paths.iter_mut() {
        // Behind the API-key gate: everything but the open meta routes.
        let gated = path.starts_with("/api/auth/") || path.starts_with("/api/admin/");
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let write = matches!(method.as_str(), "post" | "put" | "patch" | "delete");
            if !write && method != "get" {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |code: &str, description: &str| {
                responses
                    .entry(code)
                    .or_insert_with(|| json!({"description": description}));
            };
            if has_body {
                add("400", "Field errors, or a body that is not a JSON object");
                add("413", "Body over 64 KiB");
                add("415", "Content-Type is not application/json");
            }
            if gated {
                add("400", "A credential header sent more than once");
                add(
                    "401",
                    "Missing or invalid API key or client id, or not authenticated",
                );
                add(
                    "403",
                    "API client inactive, Origin not allowed for it, or not permitted",
                );
                add(
                    "429",
                    "The caller's rate limit on this API client (or a failed-login or registration throttle)",
                );
                if write {
                    add("409", "Changed concurrently; retry");
                }
                add(
                    "503",
                    "The database is unavailable, or the password-hashing queue is full \
                     (`server_busy`, with `Retry-After`); retry shortly",
                );
            }
            for (code, r) in responses.iter_mut() {
                let has_content = r
                    .get("content")
                    .is_some_and(|c| c.as_object().is_some_and(|c| !c.is_empty()));
                if code.starts_with('4') || code.starts_with('5') {
                    if !has_content {
                        r["content"] = json_body(if code == "400" { &bad_request } else { &error });
                    }
                    if code == "429" {
                        r["headers"] = retry_after.clone();
                    }
                } else if code != "204" && !has_content {
                    // `{}` (logout), `{"status": "ok"}`, the JWKS.
                    r["content"] = json_body(&json!({"type": "object"}));
                }
            }
        }
    }
    if let Some(ok) = v.pointer_mut("/paths/~1api~1schema~1/get/responses/200/content") {
        ok["application/yaml"] = json!({"schema": {"type": "string"}});
    }
    serde_json::from_value(v).expect("the completed document deserializes")
}

/// `GET /api/schema/` (JSON, or YAML with `?format=yaml`).
pub fn schema_response(req: &Request<Bytes>) -> Response<Bytes> {
    let yaml = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "format=yaml"));
    #[cfg(feature = "prerendered-openapi")]
    return prerendered_response(yaml);
    #[cfg(not(feature = "prerendered-openapi"))]
    rendered_response(yaml)
}

/// The JSON and YAML texts of [`rendered_response`], made at build time by
/// a host with the `prerendered-openapi` feature (the Worker renders them in
/// its build script, from this module compiled natively).
#[cfg(feature = "prerendered-openapi")]
static PRERENDERED: std::sync::OnceLock<(&'static str, &'static str)> = std::sync::OnceLock::new();

/// Sets the texts `GET /api/schema/` serves (`prerendered-openapi` only).
#[cfg(feature = "prerendered-openapi")]
pub fn use_prerendered(json: &'static str, yaml: &'static str) {
    let _ = PRERENDERED.set((json, yaml));
}

#[cfg(feature = "prerendered-openapi")]
fn prerendered_response(yaml: bool) -> Response<Bytes> {
    let (json_text, yaml_text) = PRERENDERED.get().copied().unwrap_or(("{}", ""));
    let (text, content_type) = if yaml {
        (yaml_text, "application/yaml")
    } else {
        (json_text, "application/json")
    };
    let mut resp = Response::new(Bytes::from_static(text.as_bytes()));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Builds the document and writes it as JSON or YAML.
pub fn rendered_response(yaml: bool) -> Response<Bytes> {
    let doc = document();
    if yaml {
        let text = doc.to_yaml().unwrap_or_default();
        let mut resp = Response::new(Bytes::from(text));
        *resp.status_mut() = StatusCode::OK;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/yaml"),
        );
        resp
    } else {
        crate::error::json_response(StatusCode::OK, &doc)
    }
}

#[cfg(test)]
mod tests {
    /// Every `$ref` names a schema the document has (a schema left out of
    /// every `components(schemas(…))` breaks Redoc and the validators).
    #[test]
    fn every_schema_reference_resolves() {
        let doc = serde_json::to_value(super::document()).expect("the document serialises");
        let schemas = &doc["components"]["schemas"];
        let mut missing = Vec::new();
        let mut stack = vec![&doc];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(serde_json::Value::String(r)) = m.get("$ref") {
                        let name = r.trim_start_matches("#/components/schemas/");
                        if schemas.get(name).is_none() {
                            missing.push(r.clone());
                        }
                    }
                    stack.extend(m.values());
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        assert!(missing.is_empty(), "unresolved: {missing:?}");
    }
}
