//! Every built-in endpoint, one row each: method, path (also served under
//! `/api/v1/`), guard, handler and OpenAPI operation. The router
//! ([`find`]), the OpenAPI document ([`crate::openapi::document`]) and the
//! fuzz target's list of paths ([`paths`]) all read this table.
//!
//! Adding an endpoint: write `api/<name>.rs` with an
//! `async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError>` and
//! a `#[utoipa::path]` stub, then add its row here (docs/ARCHITECTURE.md).

use crate::config::MAX_BODY_BYTES;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::usage::RequestKind;
use crate::{admin, api, meta};
use bytes::Bytes;
use http::{Method, Response};
use std::future::Future;
use std::pin::Pin;
use utoipa::openapi::path::Operation;

/// Who may call a gated route; the service checks it before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// An active API client's key and origin, within its budget.
    Client,
    /// `Client`, and a valid access token of an active user with a live
    /// login (DRF's `IsAuthenticated`).
    Authenticated,
    /// `Client` of type `admin`, and an access token of a staff or admin
    /// user that the client serves (`IsStaffUser`).
    Staff,
    /// `Authenticated`, and a login that passed a second factor (the
    /// access token's `aal` is 2): step-up for sensitive changes.
    RequireMfa,
}

/// What a `{…}` path segment must look like for the path to match (a
/// segment that does not is a 404 before the API key is looked at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Digits without a leading zero, at most 18 ("+5" or "05" are not 5).
    UserId,
    /// At most 64 characters.
    ClientId,
    /// At most 128 characters.
    SessionId,
    /// A passkey id: 22 base64url characters (so `login` and `register`
    /// beside it are never ids).
    PasskeyId,
    /// Any non-empty segment.
    Any,
}

impl Param {
    fn matches(self, segment: &str) -> bool {
        !segment.is_empty()
            && match self {
                Param::UserId => {
                    segment.len() <= 18
                        && segment.bytes().all(|b| b.is_ascii_digit())
                        && !segment.starts_with('0')
                }
                Param::ClientId => segment.len() <= 64,
                Param::SessionId => segment.len() <= 128,
                Param::PasskeyId => {
                    segment.len() == 22
                        && segment
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }
                Param::Any => true,
            }
    }
}

/// A handler's future: `Send` natively, not on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Bytes>, ApiError>> + Send + 'a>>;
/// A handler's future: `Send` natively, not on wasm32.
#[cfg(target_arch = "wasm32")]
pub(crate) type HandlerFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Bytes>, ApiError>> + 'a>>;

/// An endpoint's handler, as a plain function pointer.
pub(crate) type Handler = for<'a> fn(&'a Ctx<'a>) -> HandlerFuture<'a>;

/// An endpoint's OpenAPI path and operation (from its `#[utoipa::path]` stub).
pub(crate) type Doc = fn() -> (String, Operation);

/// One endpoint.
pub struct Route {
    pub method: Method,
    /// `{…}` marks a parameter segment; its name is the OpenAPI parameter's.
    pub path: &'static str,
    /// The kind of each `{…}` segment, in order.
    pub params: &'static [Param],
    pub(crate) serve: Serve,
    /// The largest JSON body its handler reads, in bytes: over it, 413. At
    /// most [`MAX_BODY_BYTES`], which the hosts enforce while reading.
    pub(crate) body_limit: usize,
    /// How the client's usage analytics count a request to it.
    pub(crate) counts_as: RequestKind,
    pub(crate) doc: Doc,
}

/// How a route is answered.
pub(crate) enum Serve {
    /// Behind the API-key gate and its guard, by its handler.
    Gated(Guard, Handler),
    /// With no API key, by the service itself, before any client check.
    Open(Meta),
}

/// The open routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    Schema,
    Health,
    Jwks,
    /// A provider sending the browser back (`api::social::callback`).
    SocialCallback,
}

/// Wraps `async fn(&Ctx) -> Result<Response<Bytes>, ApiError>` as a [`Handler`].
macro_rules! handler {
    ($f:path) => {{
        fn call<'a>(ctx: &'a Ctx<'a>) -> HandlerFuture<'a> {
            Box::pin($f(ctx))
        }
        call as Handler
    }};
}

/// The path and operation of a `#[utoipa::path]` stub, with its tags (kept
/// apart by utoipa, which the `OpenApi` derive would otherwise merge in).
fn doc<P>() -> (String, Operation)
where
    P: utoipa::Path + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut op = P::operation();
    let tags = <P as utoipa::__dev::Tags>::tags();
    op.tags
        .get_or_insert_with(Vec::new)
        .extend(tags.iter().map(ToString::to_string));
    (P::path(), op)
}

/// Builds a row; the table below reads as one line per endpoint. A gated
/// row may end in `counts Login` (or `Register`, `Refresh`) for the usage
/// analytics, the rest count as `Other`; and in `body N` for a body limit
/// below the default [`MAX_BODY_BYTES`].
macro_rules! route {
    ($method:ident $path:literal $params:expr, $guard:ident, $handler:path, $doc:ty $(, counts $kind:ident)? $(, body $limit:expr)?) => {
        Route {
            method: Method::$method,
            path: $path,
            params: $params,
            serve: Serve::Gated(Guard::$guard, handler!($handler)),
            body_limit: body_limit!($($limit)?),
            counts_as: counts!($($kind)?),
            doc: doc::<$doc>,
        }
    };
    (open $method:ident $path:literal, $meta:ident, $doc:ty) => {
        Route {
            method: Method::$method,
            path: $path,
            params: NONE,
            serve: Serve::Open(Meta::$meta),
            body_limit: 0,
            counts_as: RequestKind::Other,
            doc: doc::<$doc>,
        }
    };
}

macro_rules! body_limit {
    () => {
        MAX_BODY_BYTES
    };
    ($limit:expr) => {
        $limit
    };
}

macro_rules! counts {
    () => {
        RequestKind::Other
    };
    ($kind:ident) => {
        RequestKind::$kind
    };
}

const NONE: &[Param] = &[];
const USER: &[Param] = &[Param::UserId];
const USER_SESSION: &[Param] = &[Param::UserId, Param::SessionId];
const CLIENT: &[Param] = &[Param::ClientId];
const ANY: &[Param] = &[Param::Any];
const PASSKEY: &[Param] = &[Param::PasskeyId];
const HOOK: &[Param] = &[Param::ClientId];
const HOOK_MESSAGE: &[Param] = &[Param::ClientId, Param::ClientId];

#[rustfmt::skip]
static ROUTES: &[Route] = &[
    // The auth API: any active API client.
    route!(POST   "/api/auth/register/"        NONE, Client,        api::register::handle,        api::register::__path_register, counts Register),
    route!(POST   "/api/auth/token/"           NONE, Client,        api::login::handle,           api::login::__path_token, counts Login),
    route!(POST   "/api/auth/token/refresh/"   NONE, Client,        api::refresh::handle,         api::refresh::__path_token_refresh, counts Refresh),
    route!(POST   "/api/auth/logout/"          NONE, Authenticated, api::logout::handle,          api::logout::__path_logout),
    route!(GET    "/api/auth/profile/"         NONE, Authenticated, api::profile::get,            api::profile::__path_profile_get),
    route!(PUT    "/api/auth/profile/"         NONE, Authenticated, api::profile::put,            api::profile::__path_profile_put),
    route!(PATCH  "/api/auth/profile/"         NONE, Authenticated, api::profile::patch,          api::profile::__path_profile_patch),
    route!(POST   "/api/auth/change-password/" NONE, Authenticated, api::change_password::handle, api::change_password::__path_change_password),
    route!(GET    "/api/auth/sessions/"        NONE, Authenticated, api::sessions::list,          api::sessions::__path_sessions_list),
    route!(DELETE "/api/auth/sessions/{id}/"   ANY,  Authenticated, api::sessions::end,           api::sessions::__path_session_delete),
    route!(POST   "/api/auth/logout-all/"      NONE, Authenticated, api::sessions::end_all,       api::sessions::__path_logout_all),
    // Second factors.
    route!(POST   "/api/auth/mfa/totp/enroll/"              NONE, Authenticated, api::mfa::enroll,     api::mfa::__path_mfa_totp_enroll, body 1024),
    route!(POST   "/api/auth/mfa/totp/confirm/"             NONE, Authenticated, api::mfa::confirm,    api::mfa::__path_mfa_totp_confirm, body 1024),
    route!(GET    "/api/auth/mfa/factors/"                  NONE, Authenticated, api::mfa::factors,    api::mfa::__path_mfa_factors),
    route!(POST   "/api/auth/mfa/totp/disable/"             NONE, RequireMfa,    api::mfa::disable,    api::mfa::__path_mfa_totp_disable, body 8192),
    route!(POST   "/api/auth/mfa/recovery-codes/regenerate/" NONE, RequireMfa,   api::mfa::regenerate, api::mfa::__path_mfa_recovery_regenerate, body 1024),
    route!(POST   "/api/auth/mfa/passkey/options/"          NONE, Client,        api::mfa::passkey_options, api::mfa::__path_mfa_passkey_options, body 1024),
    route!(POST   "/api/auth/mfa/step-up/"                  NONE, Authenticated, api::step_up::step_up, api::step_up::__path_mfa_step_up, body api::passkeys::BODY_LIMIT),
    route!(POST   "/api/auth/mfa/step-up/passkey/options/"  NONE, Authenticated, api::step_up::passkey_options, api::step_up::__path_mfa_step_up_passkey_options, body 1024),
    route!(POST   "/api/auth/mfa/verify/"                   NONE, Client,        api::mfa::verify,     api::mfa::__path_mfa_verify, counts Login, body api::passkeys::BODY_LIMIT),
    // Passkeys (WebAuthn): the caller's own, and passwordless sign-in.
    route!(POST   "/api/auth/passkeys/register/options/"   NONE, Authenticated, api::passkeys::register_options, api::passkeys::__path_passkey_register_options),
    route!(POST   "/api/auth/passkeys/register/"           NONE, Authenticated, api::passkeys::register,      api::passkeys::__path_passkey_register, body api::passkeys::BODY_LIMIT),
    route!(GET    "/api/auth/passkeys/"                    NONE, Authenticated, api::passkeys::list,          api::passkeys::__path_passkeys_list),
    route!(PATCH  "/api/auth/passkeys/{id}/"               PASSKEY, Authenticated, api::passkeys::rename,        api::passkeys::__path_passkey_rename),
    route!(DELETE "/api/auth/passkeys/{id}/"               PASSKEY, Authenticated, api::passkeys::delete,        api::passkeys::__path_passkey_delete),
    route!(POST   "/api/auth/passkeys/login/options/"      NONE, Client,        api::passkeys::login_options, api::passkeys::__path_passkey_login_options),
    route!(POST   "/api/auth/passkeys/login/"              NONE, Client,        api::passkeys::login,         api::passkeys::__path_passkey_login, counts Login, body api::passkeys::BODY_LIMIT),
    // The email flows (503 `mail_not_configured` where a mail is sent and the deployment has no mail).
    route!(POST   "/api/auth/email/verify/"                NONE, Client,        api::email_verify::verify,     api::email_verify::__path_email_verify),
    route!(POST   "/api/auth/email/verify/resend/"         NONE, Authenticated, api::email_verify::resend,     api::email_verify::__path_email_verify_resend),
    route!(POST   "/api/auth/password/reset/"              NONE, Client,        api::password_reset::request,  api::password_reset::__path_password_reset),
    route!(POST   "/api/auth/password/reset/confirm/"      NONE, Client,        api::password_reset::confirm,  api::password_reset::__path_password_reset_confirm),
    route!(POST   "/api/auth/email/change/"                NONE, Authenticated, api::email_change::request,    api::email_change::__path_email_change),
    route!(POST   "/api/auth/email/change/confirm/"        NONE, Client,        api::email_change::confirm,    api::email_change::__path_email_change_confirm),
    route!(POST   "/api/auth/code/request/"                NONE, Client,        api::signin_code::request,     api::signin_code::__path_code_request),
    route!(POST   "/api/auth/code/verify/"                 NONE, Client,        api::signin_code::verify,      api::signin_code::__path_code_verify, counts Login),
    route!(POST   "/api/auth/social/{provider}/start/"     ANY,  Client,        api::social::start,            api::social::__path_social_start, body 4096),
    route!(POST   "/api/auth/social/{provider}/link/"      ANY,  Authenticated, api::social::link,             api::social::__path_social_link, body 8192),
    route!(POST   "/api/auth/social/token/"                NONE, Client,        api::social::token,            api::social::__path_social_token, counts Login, body 1024),
    route!(GET    "/api/auth/social/identities/"           NONE, Authenticated, api::social::identities,       api::social::__path_social_identities),
    route!(DELETE "/api/auth/social/identities/{provider}/" ANY, Authenticated, api::social::unlink,           api::social::__path_social_unlink),
    route!(open GET "/api/auth/social/callback/", SocialCallback, api::social::__path_social_callback),
    // The admin API: an admin-type client and a staff or admin user.
    route!(GET    "/api/admin/users/"                                    NONE,         Staff, admin::users::list,              admin::users::__path_users_list),
    route!(POST   "/api/admin/users/"                                    NONE,         Staff, admin::users::create,            admin::users::__path_users_create),
    route!(GET    "/api/admin/users/{id}/"                               USER,         Staff, admin::users::get,               admin::users::__path_user_get),
    route!(PATCH  "/api/admin/users/{id}/"                               USER,         Staff, admin::users::patch,             admin::users::__path_user_patch),
    route!(POST   "/api/admin/users/{id}/deactivate/"                    USER,         Staff, admin::users::deactivate,        admin::users::__path_user_deactivate),
    route!(POST   "/api/admin/users/{id}/reactivate/"                    USER,         Staff, admin::users::reactivate,        admin::users::__path_user_reactivate),
    route!(POST   "/api/admin/users/{id}/send-verification/"             USER,         Staff, admin::users::send_verification, admin::users::__path_user_send_verification),
    route!(POST   "/api/admin/users/{id}/send-password-reset/"           USER,         Staff, admin::users::send_password_reset, admin::users::__path_user_send_password_reset),
    route!(POST   "/api/admin/users/{id}/mfa/reset/"                     USER,         Staff, admin::users::mfa_reset,         admin::users::__path_user_mfa_reset, body 1024),
    route!(GET    "/api/admin/users/{id}/sessions/"                      USER,         Staff, admin::users::sessions,          admin::users::__path_user_sessions),
    route!(DELETE "/api/admin/users/{id}/sessions/"                      USER,         Staff, admin::users::end_sessions,      admin::users::__path_user_sessions_end),
    route!(DELETE "/api/admin/users/{id}/sessions/{session_id}/"         USER_SESSION, Staff, admin::users::end_session,       admin::users::__path_user_session_end),
    route!(GET    "/api/admin/clients/"                                  NONE,         Staff, admin::clients::list,            admin::clients::__path_clients_list),
    route!(POST   "/api/admin/clients/"                                  NONE,         Staff, admin::clients::create,          admin::clients::__path_clients_create),
    route!(GET    "/api/admin/clients/{client_id}/"                      CLIENT,       Staff, admin::clients::get,             admin::clients::__path_client_get),
    route!(PATCH  "/api/admin/clients/{client_id}/"                      CLIENT,       Staff, admin::clients::patch,           admin::clients::__path_client_patch),
    route!(POST   "/api/admin/clients/{client_id}/rotate-key/"           CLIENT,       Staff, admin::clients::rotate_key,      admin::clients::__path_client_rotate_key),
    route!(POST   "/api/admin/clients/{client_id}/deactivate/"           CLIENT,       Staff, admin::clients::deactivate,      admin::clients::__path_client_deactivate),
    route!(POST   "/api/admin/clients/{client_id}/activate/"             CLIENT,       Staff, admin::clients::activate,        admin::clients::__path_client_activate),
    route!(GET    "/api/admin/clients/{client_id}/usage/"                CLIENT,       Staff, admin::usage::client,            admin::usage::__path_client_usage),
    route!(GET    "/api/admin/usage/"                                    NONE,         Staff, admin::usage::all,               admin::usage::__path_usage),
    route!(GET    "/api/admin/audit/"                                    NONE,         Staff, admin::audit_log::list,          admin::audit_log::__path_audit),
    route!(GET    "/api/admin/keys/"                                     NONE,         Staff, admin::keys::list,               admin::keys::__path_keys_list),
    route!(POST   "/api/admin/keys/rotate/"                              NONE,         Staff, admin::keys::rotate,             admin::keys::__path_keys_rotate),
    route!(POST   "/api/admin/mail/test/"                                NONE,         Staff, admin::mail::test,               admin::mail::__path_mail_test),
    route!(GET    "/api/admin/webhooks/"                                 NONE,         Staff, admin::webhooks::list,           admin::webhooks::__path_webhooks_list),
    route!(POST   "/api/admin/webhooks/"                                 NONE,         Staff, admin::webhooks::create,         admin::webhooks::__path_webhooks_create, body 8192),
    route!(GET    "/api/admin/webhooks/{endpoint_id}/"                   HOOK,         Staff, admin::webhooks::get,            admin::webhooks::__path_webhook_get),
    route!(PATCH  "/api/admin/webhooks/{endpoint_id}/"                   HOOK,         Staff, admin::webhooks::patch,          admin::webhooks::__path_webhook_patch, body 8192),
    route!(DELETE "/api/admin/webhooks/{endpoint_id}/"                   HOOK,         Staff, admin::webhooks::delete,         admin::webhooks::__path_webhook_delete),
    route!(POST   "/api/admin/webhooks/{endpoint_id}/rotate-secret/"     HOOK,         Staff, admin::webhooks::rotate_secret,  admin::webhooks::__path_webhook_rotate_secret),
    route!(POST   "/api/admin/webhooks/{endpoint_id}/test/"              HOOK,         Staff, admin::webhooks::test,           admin::webhooks::__path_webhook_test),
    route!(GET    "/api/admin/webhooks/{endpoint_id}/deliveries/"        HOOK,         Staff, admin::webhooks::deliveries,     admin::webhooks::__path_webhook_deliveries),
    route!(POST   "/api/admin/webhooks/{endpoint_id}/deliveries/{message_id}/resend/" HOOK_MESSAGE, Staff, admin::webhooks::resend, admin::webhooks::__path_webhook_resend),
    route!(GET    "/api/admin/providers/"                                NONE,         Staff, admin::providers::list,          admin::providers::__path_providers_list),
    route!(POST   "/api/admin/providers/"                                NONE,         Staff, admin::providers::create,        admin::providers::__path_providers_create, body 16384),
    route!(DELETE "/api/admin/providers/{provider}/"                     ANY,          Staff, admin::providers::delete,        admin::providers::__path_provider_delete),
    // Open: no API key. The service answers these itself (see `Meta`).
    route!(open GET "/api/schema/",           Schema, meta::__path_schema),
    route!(open GET "/healthz",               Health, meta::__path_healthz),
    route!(open GET "/.well-known/jwks.json", Jwks,   meta::__path_jwks),
];

/// Every built-in route.
pub fn all() -> &'static [Route] {
    ROUTES
}

/// Every distinct path pattern, in table order (for fuzzing and docs).
pub fn paths() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        if !out.contains(&r.path) {
            out.push(r.path);
        }
    }
    out
}

/// What [`find`] makes of a path and method.
pub(crate) enum Found<'p> {
    /// The route, and its parameter segments.
    Route(&'static Route, Vec<&'p str>),
    /// The path exists; these methods are allowed on it.
    WrongMethod(Vec<Method>),
    /// No route has this path.
    Nothing,
}

/// Routes `path` (already without the `/api/v1/` alias) and `method`.
pub(crate) fn find<'p>(path: &'p str, method: &Method) -> Found<'p> {
    let mut allowed: Vec<Method> = Vec::new();
    for route in ROUTES {
        let Some(params) = match_path(route, path) else {
            continue;
        };
        if route.method == method {
            return Found::Route(route, params);
        }
        allowed.push(route.method.clone());
    }
    if allowed.is_empty() {
        Found::Nothing
    } else {
        Found::WrongMethod(allowed)
    }
}

/// The parameter segments if `path` matches the route's pattern.
fn match_path<'p>(route: &Route, path: &'p str) -> Option<Vec<&'p str>> {
    if !route.path.contains('{') {
        return (route.path == path).then(Vec::new);
    }
    let mut params = Vec::with_capacity(route.params.len());
    let mut kinds = route.params.iter();
    let mut segments = path.split('/');
    for pattern in route.path.split('/') {
        let segment = segments.next()?;
        if pattern.starts_with('{') {
            if !kinds.next()?.matches(segment) {
                return None;
            }
            params.push(segment);
        } else if pattern != segment {
            return None;
        }
    }
    segments.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_of(path: &str, method: Method) -> Option<(&'static str, Vec<&str>)> {
        match find(path, &method) {
            Found::Route(r, p) => Some((r.path, p)),
            _ => None,
        }
    }

    #[test]
    fn body_limits_stay_within_what_the_hosts_read() {
        for r in all() {
            match r.serve {
                Serve::Gated(..) => assert!(
                    r.body_limit > 0 && r.body_limit <= MAX_BODY_BYTES,
                    "{} {}: body limit {}",
                    r.method,
                    r.path,
                    r.body_limit
                ),
                Serve::Open(_) => assert_eq!(r.body_limit, 0),
            }
        }
    }

    #[test]
    fn parameters_are_checked_by_kind() {
        assert_eq!(
            route_of("/api/admin/users/42/", Method::GET),
            Some(("/api/admin/users/{id}/", vec!["42"]))
        );
        for bad in ["05", "+5", "x", "1234567890123456789"] {
            assert!(
                route_of(&format!("/api/admin/users/{bad}/"), Method::GET).is_none(),
                "{bad}"
            );
        }
        assert_eq!(
            route_of("/api/admin/users/7/sessions/abc/", Method::DELETE),
            Some((
                "/api/admin/users/{id}/sessions/{session_id}/",
                vec!["7", "abc"]
            ))
        );
        let long = "s".repeat(129);
        assert!(route_of(
            &format!("/api/admin/users/7/sessions/{long}/"),
            Method::DELETE
        )
        .is_none());
        assert!(route_of(&format!("/api/auth/sessions/{long}/"), Method::DELETE).is_some());
        assert!(route_of("/api/auth/sessions//", Method::DELETE).is_none());
        assert!(route_of("/api/auth/sessions/a/b/", Method::DELETE).is_none());
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_allowed_ones() {
        match find("/api/auth/profile/", &Method::POST) {
            Found::WrongMethod(m) => assert_eq!(m, [Method::GET, Method::PUT, Method::PATCH]),
            _ => panic!("expected 405"),
        }
        assert!(matches!(
            find("/api/auth/nope/", &Method::GET),
            Found::Nothing
        ));
        assert!(matches!(
            find("/api/auth/profile", &Method::GET),
            Found::Nothing
        ));
    }

    #[test]
    fn passkey_ids_do_not_swallow_the_ceremony_paths() {
        for path in ["/api/auth/passkeys/login/", "/api/auth/passkeys/register/"] {
            match find(path, &Method::DELETE) {
                Found::WrongMethod(m) => assert_eq!(m, [Method::POST], "{path}"),
                _ => panic!("expected 405 for {path}"),
            }
        }
        let id = "AbCdEfGhIjKlMnOpQrSt_-";
        let path = format!("/api/auth/passkeys/{id}/");
        assert_eq!(
            route_of(&path, Method::DELETE),
            Some(("/api/auth/passkeys/{id}/", vec![id]))
        );
        assert!(route_of("/api/auth/passkeys/short/", Method::DELETE).is_none());
    }

    #[test]
    fn every_row_is_documented_at_its_own_path() {
        // The document is built from the table; a stub written for another
        // path would put the operation in the wrong place.
        for r in ROUTES {
            let (path, _) = (r.doc)();
            assert_eq!(path, r.path, "{} {}", r.method, r.path);
        }
        let doc = crate::openapi::document();
        assert_eq!(paths().len(), doc.paths.paths.len());
    }
}
