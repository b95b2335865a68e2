//! Sign-in with OpenID Connect and OAuth 2 providers (docs/CONTRACT.md,
//! "Social sign-in"):
//!
//! 1. `POST /api/auth/social/{provider}/start/` (the API client's key):
//!    the frontend's redirect URI (one the client allows for the provider)
//!    and its PKCE S256 challenge → `{authorization_url}`, the provider's
//!    page with Gatehouse's `state`, `nonce` and own PKCE challenge. (A
//!    JSON answer, not a 302: the API-key gate needs headers, which a
//!    navigation cannot send; the frontend navigates.)
//! 2. `GET /api/auth/social/callback/` (open: the provider sends the
//!    browser): state checked (single use, 10 min), code exchanged, ID token
//!    verified in full (or GitHub's user API read), the account found,
//!    linked or created → 302 to the frontend's redirect URI with a
//!    one-time Gatehouse `code` (60 s) and the frontend's `state`.
//! 3. `POST /api/auth/social/token/` (the API client's key): `{code,
//!    code_verifier}` → `{access, refresh}`, or `mfa_required`.
//!
//! No token travels in a URL; the provider's access token is used once,
//! server-side, and never stored.

use crate::api::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use crate::api::types::{BadApiKey, ErrorOut, NotAuthenticated, SignedIn, TokenPair};
use crate::audit::{Actor, AuditEvent, UserRef};
use crate::clock::UnixMillis;
use crate::context::{Ctx, Shared};
use crate::error::FieldErrors;
use crate::error::{json_response, ApiError};
use crate::json::{check, StrField};
use crate::query::Query;
use crate::social::fetch::{self, FetchError};
use crate::social::{self, Account, Identity, Kind, Provider};
use crate::sql::{SqlError, Statement};
use crate::store::users::UserInsert;
use crate::user::{normalize_email, UserType};
use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// Audit events of this flow.
pub(crate) mod event {
    pub(crate) const SIGNED_UP: &str = "social.signed_up";
    pub(crate) const LINKED: &str = "social.linked";
    pub(crate) const LINK_REFUSED: &str = "social.link_refused";
    pub(crate) const UNLINKED: &str = "social.unlinked";
    pub(crate) const LOGIN: &str = "social.login";
}

fn bad(code: &'static str, detail: &str) -> ApiError {
    ApiError::detail(StatusCode::BAD_REQUEST, code, detail)
}

fn unknown_provider() -> ApiError {
    ApiError::detail(
        StatusCode::NOT_FOUND,
        "provider_not_found",
        "No such provider for this client.",
    )
}

/// A provider failure: 504 on a timeout, 502 otherwise; an ID token that
/// does not verify is 400 `invalid_id_token`.
fn fetch_error(e: FetchError) -> ApiError {
    match e {
        FetchError::Timeout => ApiError::detail(
            StatusCode::GATEWAY_TIMEOUT,
            "provider_timeout",
            "The identity provider did not answer in time.",
        ),
        FetchError::Provider(why) => ApiError::detail(
            StatusCode::BAD_GATEWAY,
            "provider_error",
            format!("The identity provider could not be used: {why}"),
        ),
        FetchError::IdToken(why) => bad(
            "invalid_id_token",
            &format!("The identity provider's ID token was refused: {why}"),
        ),
        FetchError::Sql(e) => ApiError::from(e),
    }
}

/// The client secret, opened with the data key.
fn secret(shared: &Shared, p: &Provider) -> Result<String, ApiError> {
    let key = shared.config.data_key.as_ref().ok_or_else(|| {
        ApiError::detail(
            StatusCode::SERVICE_UNAVAILABLE,
            "social_not_configured",
            "No data key is configured (GATEHOUSE_DATA_KEY).",
        )
    })?;
    crate::mfa::seal::open(key, &social::seal_context(&p.id), &p.client_secret_sealed)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or_else(|| {
            ApiError::detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "social_not_configured",
                "The provider's secret does not open with the configured data key.",
            )
        })
}

/// Gatehouse's own callback URL, which providers are registered with.
pub(crate) fn callback_url(shared: &Shared) -> String {
    format!(
        "{}/api/auth/social/callback/",
        shared.config.public_url.trim_end_matches('/')
    )
}

/// `POST /api/auth/social/{provider}/start/` body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // OpenAPI only; the handler reads fields itself
pub struct SocialStartIn {
    /// One of the redirect URIs the client allows for this provider.
    pub redirect_uri: String,
    /// The frontend's PKCE challenge: base64url(SHA-256(verifier)).
    pub code_challenge: String,
    /// `S256` (the only method; the default).
    pub code_challenge_method: Option<String>,
    /// Given back on the redirect, for the frontend's own CSRF check.
    pub state: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SocialStartOut {
    /// Send the browser here.
    pub authorization_url: String,
}

pub(crate) async fn start(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let body = ctx.body()?;
    begin(ctx, &body, None).await
}

/// `POST /api/auth/social/{provider}/link/` (signed in): the same start,
/// for linking the provider to the caller's account. Re-authentication as
/// for a password change: a user with a second factor needs a login that
/// passed it recently; a user with a usable password gives it (`password`; a wrong
/// one counts as a failed login). The callback then links the identity to
/// the caller (409 `identity_in_use` if it is another account's).
pub(crate) async fn link(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let user = caller.user.clone();
    super::reauth::require_recent_second_factor(ctx, caller).await?;
    let body = ctx.body()?;
    let (keys, phc) = super::reauth::guarded_password_hash(ctx, &user).await?;
    let usable = !phc.is_empty() && !phc.starts_with('!');
    if usable {
        let mut errors = FieldErrors::new();
        let password = body.str(StrField::password("password"), &mut errors);
        check(errors)?;
        let password = password.unwrap_or_default();
        if !ctx.env().hasher.verify(password, phc).await? {
            super::login::spend_failure_throttles(ctx, &keys).await?;
            return Err(ApiError::field(
                "password",
                "Your password was entered incorrectly.",
            ));
        }
    }
    begin(ctx, &body, Some(user.id)).await
}

async fn begin(
    ctx: &Ctx<'_>,
    body: &crate::json::JsonBody,
    link_user: Option<crate::user::UserId>,
) -> Result<Response<Bytes>, ApiError> {
    let mut errors = FieldErrors::new();
    let redirect_uri = body.str(StrField::required("redirect_uri", 2048), &mut errors);
    let challenge = body.str(StrField::required("code_challenge", 128), &mut errors);
    let method = body.str(
        StrField::optional_blank("code_challenge_method", 16),
        &mut errors,
    );
    let front_state = body.str(StrField::optional_blank("state", 512), &mut errors);
    if method
        .as_deref()
        .is_some_and(|m| m != "S256" && !m.is_empty())
    {
        crate::json::push(
            &mut errors,
            "code_challenge_method",
            "Only S256 is supported.",
        );
    }
    if challenge
        .as_deref()
        .is_some_and(|c| !social::pkce_shaped(c))
    {
        crate::json::push(
            &mut errors,
            "code_challenge",
            "A PKCE S256 challenge (43 base64url characters) is required.",
        );
    }
    check(errors)?;
    let (Some(redirect_uri), Some(challenge)) = (redirect_uri, challenge) else {
        return Err(ApiError::not_found()); // unreachable: required fields
    };
    let mut p = ctx
        .store()
        .social_provider(ctx.param(0))
        .await?
        .ok_or_else(unknown_provider)?;
    match p.redirect_allowed(&ctx.client.id.0, &redirect_uri) {
        None => return Err(unknown_provider()),
        Some(false) => {
            return Err(bad(
                "redirect_uri_not_allowed",
                "This redirect URI is not allowed for this client and provider.",
            ))
        }
        Some(true) => {}
    }
    secret(ctx.shared, &p)?; // fail now, not after the user's round trip
    let rng = ctx.env().random.as_ref();
    let state = social::random_token(rng);
    let nonce = social::random_token(rng);
    let own_challenge = social::s256(&social::own_verifier(&state));
    let authorize = match p.kind {
        Kind::Oidc => {
            fetch::discovery(ctx.env().http.as_ref(), ctx.store(), &mut p, ctx.now)
                .await
                .map_err(fetch_error)?
                .authorization_endpoint
        }
        Kind::Github => p.github_endpoints().0,
    };
    let callback = callback_url(ctx.shared);
    let url = social::with_query(
        &authorize,
        &[
            ("response_type", "code"),
            ("client_id", &p.client_id),
            ("redirect_uri", &callback),
            ("scope", &p.scopes),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &own_challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    ctx.store()
        .insert_social_state(
            &social::hash(&state),
            &p.id,
            &ctx.client.id.0,
            &redirect_uri,
            &challenge,
            front_state.as_deref().filter(|s| !s.is_empty()),
            &nonce,
            link_user,
            ctx.now,
        )
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &SocialStartOut {
            authorization_url: url,
        },
    ))
}

/// `GET /api/auth/social/callback/?state=…&code=…` (open).
pub(crate) async fn callback(
    shared: &Shared,
    req: &Request<Bytes>,
    now: UnixMillis,
) -> Response<Bytes> {
    match callback_inner(shared, req, now).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn callback_inner(
    shared: &Shared,
    req: &Request<Bytes>,
    now: UnixMillis,
) -> Result<Response<Bytes>, ApiError> {
    let q = Query::parse(req.uri().query());
    let invalid_state = || {
        bad(
            "invalid_state",
            "The sign-in is unknown, expired or already used.",
        )
    };
    let state = q
        .get("state")
        .filter(|s| s.len() <= 128)
        .ok_or_else(invalid_state)?;
    let state_hash = social::hash(state);
    let st = shared
        .store
        .social_state(&state_hash, now)
        .await?
        .ok_or_else(invalid_state)?;
    if let Some(err) = q.get("error") {
        return Err(bad(
            "provider_refused",
            &format!(
                "The identity provider refused the sign-in: {}",
                err.chars().take(100).collect::<String>()
            ),
        ));
    }
    let code = q
        .get("code")
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| bad("invalid_request", "The provider sent no code."))?;
    let mut p = shared
        .store
        .social_provider(&st.provider_id)
        .await?
        .ok_or_else(unknown_provider)?;
    let secret = secret(shared, &p)?;
    let http = shared.env.http.as_ref();
    let callback = callback_url(shared);
    let verifier = social::own_verifier(state);
    let identity = match p.kind {
        Kind::Oidc => {
            let d = fetch::discovery(http, &shared.store, &mut p, now)
                .await
                .map_err(fetch_error)?;
            let (id_token, _) = fetch::exchange_code(
                http,
                &d.token_endpoint,
                &p,
                &secret,
                code,
                &callback,
                &verifier,
            )
            .await
            .map_err(fetch_error)?;
            let id_token = id_token.ok_or_else(|| {
                fetch_error(FetchError::Provider(
                    "the token endpoint sent no id_token".into(),
                ))
            })?;
            let v =
                fetch::verify_id_token(http, &shared.store, &mut p, &d, &id_token, &st.nonce, now)
                    .await
                    .map_err(fetch_error)?;
            Identity {
                subject: v.subject,
                email_verified: v.claims.email_verified(),
                email: v.claims.email.clone(),
                name: v.claims.name.clone(),
            }
        }
        Kind::Github => {
            let (_, token_url, api) = p.github_endpoints();
            let (_, access) =
                fetch::exchange_code(http, &token_url, &p, &secret, code, &callback, &verifier)
                    .await
                    .map_err(fetch_error)?;
            let access = access.ok_or_else(|| {
                fetch_error(FetchError::Provider(
                    "the token endpoint sent no access_token".into(),
                ))
            })?;
            fetch::github_identity(http, &api, &access)
                .await
                .map_err(fetch_error)?
        }
    };
    let email = identity
        .email
        .as_deref()
        .map(normalize_email)
        .filter(|e| e.contains('@') && e.len() <= 254);
    let linked = shared.store.identity_user(&p.id, &identity.subject).await?;
    let by_email = match (&linked, &email) {
        (None, Some(e)) => shared
            .store
            .user_by_email(e)
            .await?
            .map(|u| (u.user.id, u.user.email_verified_at.is_some())),
        _ => None,
    };
    let identity = Identity {
        email: email.clone(),
        ..identity
    };
    let actor = Actor {
        user: None,
        client: Some(crate::api_client::ClientId(st.client_id.clone())),
        ip: req
            .extensions()
            .get::<crate::context::ClientIp>()
            .map(|c| c.0.to_string()),
    };
    let detail = serde_json::json!({"provider": p.id, "subject": identity.subject});
    let code_token = social::random_token(shared.env.random.as_ref());
    let code_stmt = |user_sql: &str, user_params: Vec<crate::sql::Value>| {
        let mut params = vec![social::hash(&code_token).into(), state_hash.as_str().into()];
        params.extend(user_params);
        params.extend([
            st.client_id.as_str().into(),
            p.id.as_str().into(),
            st.code_challenge.as_str().into(),
            now.0.into(),
            now.plus_secs(social::CODE_TTL_SECS).0.into(),
        ]);
        Statement::new(
            format!("INSERT INTO social_codes (code_hash, state_hash, user_id, client_id, provider_id, code_challenge, created_at, expires_at) VALUES (?, ?, {user_sql}, ?, ?, ?, ?, ?)"),
            params,
        )
    };
    let identity_insert = |user_sql: &str, user_params: Vec<crate::sql::Value>| {
        let mut params = vec![p.id.as_str().into(), identity.subject.as_str().into()];
        params.extend(user_params);
        params.extend([
            email.clone().map_or(crate::sql::Value::Null, Into::into),
            now.0.into(),
        ]);
        Statement::new(
            format!("INSERT INTO user_identities (provider_id, subject, user_id, email, created_at) VALUES (?, ?, {user_sql}, ?, ?)"),
            params,
        )
    };
    let decision = match st.link_user {
        Some(me) => match linked {
            Some(other) if other != me => {
                return Err(ApiError::detail(
                    StatusCode::CONFLICT,
                    "identity_in_use",
                    "This provider account is linked to another account.",
                ))
            }
            Some(_) => Account::Linked(me),
            None => Account::Link(me),
        },
        None => social::decide_account(linked, by_email, &identity),
    };
    let result = match decision {
        Account::Linked(u) => {
            let code = code_stmt("?", vec![u.0.into()]);
            shared
                .store
                .finish_social_callback(vec![], code, vec![])
                .await
        }
        Account::AutoLink(u) | Account::Link(u) => {
            let automatic = matches!(decision, Account::AutoLink(_));
            let audit = AuditEvent::new(event::LINKED, &actor, now)
                .target_user(UserRef::Id(u))
                .detail(serde_json::json!({"provider": p.id, "subject": identity.subject, "automatic": automatic}));
            let link = identity_insert("?", vec![u.0.into()]);
            let code = code_stmt("?", vec![u.0.into()]);
            shared
                .store
                .finish_social_callback(vec![link], code, vec![audit.statement()])
                .await
        }
        Account::LinkRefused => {
            let audit = AuditEvent::new(event::LINK_REFUSED, &actor, now)
                .target_user(by_email.map_or(UserRef::None, |(u, _)| UserRef::Id(u)))
                .detail(detail);
            shared.store.insert_audit(&audit).await?;
            return Err(ApiError::detail(
                StatusCode::CONFLICT,
                "account_exists",
                "An account with this email exists and the email is not verified on both sides: sign in to it and link this provider from the profile.",
            ));
        }
        Account::NoEmail => {
            return Err(bad(
                "email_required",
                "The identity provider shared no email address.",
            ))
        }
        Account::Create => {
            let email = email.clone().unwrap_or_default();
            let username = social::new_username(&email, shared.env.random.as_ref());
            let name = identity.name.clone().unwrap_or_default();
            let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
            let first: String = first.chars().take(150).collect();
            let last: String = last.chars().take(150).collect();
            let insert = UserInsert {
                email: &email,
                username: &username,
                first_name: &first,
                last_name: &last,
                user_type: UserType::Creator,
                password_hash: "!",
                now,
            };
            let by_email_sql = "(SELECT id FROM users WHERE email_normalized = ?)";
            let who = || vec![crate::sql::Value::from(email.as_str())];
            let audit = AuditEvent::new(event::SIGNED_UP, &actor, now)
                .target_user(UserRef::LastInsert)
                .detail(detail);
            let mut before = vec![
                crate::store::Store::user_insert_statement(&insert),
                audit.statement(),
            ];
            if identity.email_verified {
                before.push(Statement::new(
                    "UPDATE users SET email_verified_at = ? WHERE email_normalized = ?",
                    vec![now.0.into(), email.as_str().into()],
                ));
            }
            before.push(identity_insert(by_email_sql, who()));
            let code = code_stmt(by_email_sql, who());
            shared
                .store
                .finish_social_callback(before, code, vec![])
                .await
        }
    };
    match result {
        Ok(()) => {}
        Err(SqlError::UniqueViolation(m)) if m.contains("social_codes") => {
            return Err(invalid_state())
        }
        Err(SqlError::UniqueViolation(_)) => {
            return Err(ApiError::detail(
                StatusCode::CONFLICT,
                "account_conflict",
                "The account changed during the sign-in; start again.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let mut back = vec![("code", code_token.as_str())];
    if let Some(s) = &st.frontend_state {
        back.push(("state", s));
    }
    let location = social::with_query(&st.redirect_uri, &back);
    Ok(Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Bytes::new())
        .unwrap_or_default())
}

/// `POST /api/auth/social/token/` body.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // OpenAPI only
pub struct SocialTokenIn {
    /// The `code` the redirect brought.
    pub code: String,
    /// The PKCE verifier whose S256 challenge the start sent.
    pub code_verifier: String,
}

fn invalid_code() -> ApiError {
    bad(
        "invalid_code",
        "The code is unknown, expired, already used, or its verifier is wrong.",
    )
}

pub(crate) async fn token(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let fields = [
        StrField::required("code", 128),
        StrField::required("code_verifier", 128),
    ];
    let Some([code, verifier]) = ctx.body()?.strs(fields)? else {
        return Err(invalid_code());
    };
    // Spent before the verifier is compared: a wrong guess burns the code.
    let (user_id, challenge) = ctx
        .store()
        .spend_social_code(&social::hash(&code), &ctx.client.id.0, ctx.now)
        .await?
        .ok_or_else(invalid_code)?;
    let computed = social::s256(&verifier);
    if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
        return Err(invalid_code());
    }
    let user = ctx
        .store()
        .user(user_id)
        .await?
        .filter(|u| u.is_active && ctx.client.serves(u.user_type))
        .ok_or_else(ApiError::no_active_account)?;
    let factors = ctx.store().factors(user.id).await?;
    if !factors.methods().is_empty() {
        let r = super::mfa_required::required(ctx, &user, social::AMR, &factors);
        ctx.store().insert_mfa_challenge(r.insert).await?;
        return Ok(r.response);
    }
    let s = new_session(ctx, social::AMR);
    let insert = session_insert(ctx, &s);
    let audit = ctx
        .audit(crate::audit::event::LOGIN_SUCCEEDED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": s.id.0, "method": event::LOGIN, "user_agent": ctx.user_agent()}));
    ctx.store()
        .insert_session(user.id, &insert, &audit, None)
        .await?;
    let pair: TokenPair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    if crate::mfa::enrollment_required(ctx.client.require_mfa_for_staff, &user, false) {
        // As a password login: a staff user without a second factor, signing
        // in through a client that wants one, is told to enrol.
        return Ok(json_response(
            StatusCode::OK,
            &super::login::LoginEnrollOut {
                access: pair.access,
                refresh: pair.refresh,
                mfa_enrollment_required: true,
            },
        ));
    }
    Ok(json_response(StatusCode::OK, &pair))
}

/// `GET /api/auth/social/identities/`: the caller's linked identities.
pub(crate) async fn identities(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let list = ctx.store().identities_of(caller.user.id).await?;
    Ok(json_response(StatusCode::OK, &list))
}

/// `DELETE /api/auth/social/identities/{provider}/`: unlinks one, unless
/// it is the last way to sign in (no usable password, no passkey, no other
/// identity): 409 `last_sign_in_method`.
pub(crate) async fn unlink(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let provider = ctx.param(0);
    let mine = ctx.store().identities_of(caller.user.id).await?;
    if !mine.iter().any(|i| i.provider == provider) {
        return Err(ApiError::not_found());
    }
    let others = ctx.store().other_sign_in_ways(caller.user.id).await?;
    let audit = ctx
        .audit(event::UNLINKED, Some(caller.user.id))
        .target_user(UserRef::Id(caller.user.id))
        .detail(serde_json::json!({"provider": provider}));
    if ctx
        .store()
        .unlink_identity(caller.user.id, provider, others, &audit)
        .await?
    {
        Ok(Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Bytes::new())
            .unwrap_or_default())
    } else {
        Err(ApiError::detail(
            StatusCode::CONFLICT,
            "last_sign_in_method",
            "This is the account's last way to sign in: set a password or add a passkey first.",
        ))
    }
}

// ---- OpenAPI: the operation(s) of this file's route(s)

/// The refusals of a route that talks to the provider.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // OpenAPI only
enum ProviderErrors {
    #[response(status = 502, description = "`provider_error`")]
    Provider(ErrorOut),
    #[response(status = 503, description = "`social_not_configured`")]
    NotConfigured(ErrorOut),
    #[response(status = 504, description = "`provider_timeout`")]
    Timeout(ErrorOut),
}

operation! { client social_start, post "/api/auth/social/{provider}/start/", "social",
    params(("provider" = String, Path, description = "The provider's id")),
    request_body = SocialStartIn,
    responses(
        (status = 200, description = "Where to send the browser", body = SocialStartOut),
        (status = 400, description = "`redirect_uri_not_allowed`, or field errors"),
        BadApiKey,
        (status = 404, description = "`provider_not_found` (or not enabled for this client)", body = ErrorOut),
        (status = 502, description = "`provider_error`: the provider's discovery failed", body = ErrorOut),
        (status = 503, description = "`social_not_configured`: no data key to open the provider's secret", body = ErrorOut),
        (status = 504, description = "`provider_timeout`", body = ErrorOut),
    )
}

operation! { bearer social_link, post "/api/auth/social/{provider}/link/", "social",
    params(("provider" = String, Path, description = "The provider's id")),
    request_body = SocialStartIn,
    responses(
        (status = 200, description = "Where to send the browser; the callback links the identity to the caller", body = SocialStartOut),
        (status = 400, description = "`redirect_uri_not_allowed`, a wrong `password`, or field errors"),
        NotAuthenticated,
        (status = 403, description = "`mfa_step_up_required`", body = ErrorOut),
        (status = 404, description = "`provider_not_found`", body = ErrorOut),
        (status = 429, description = "Too many wrong passwords", body = ErrorOut),
        ProviderErrors,
    )
}

operation! { open social_callback, get "/api/auth/social/callback/", "social",
    params(
        ("state" = String, Query, description = "Gatehouse's state"),
        ("code" = Option<String>, Query, description = "The provider's authorization code"),
        ("error" = Option<String>, Query, description = "The provider's refusal"),
    ),
    responses(
        (status = 302, description = "To the frontend's redirect URI with `code` (60 s, single use) and its `state`"),
        (status = 400, description = "`invalid_state`, `provider_refused`, `invalid_id_token`, `email_required`"),
        (status = 404, description = "`provider_not_found`: removed since the start", body = ErrorOut),
        (status = 409, description = "`account_exists` (an account has the email, not verified on both sides), `identity_in_use`, `account_conflict`", body = ErrorOut),
        ProviderErrors,
    )
}

operation! { client social_token, post "/api/auth/social/token/", "social",
    request_body = SocialTokenIn,
    responses(
        SignedIn,
        (status = 400, description = "`invalid_code`: unknown, expired, used, another client's, or a wrong verifier"),
        (status = 401, description = "`mfa_required` (with `mfa_token`), no active account, or a missing or invalid API key", body = ErrorOut),
    )
}

operation! { bearer social_identities, get "/api/auth/social/identities/", "social",
    responses((status = 200, description = "The caller's linked identities", body = [crate::store::social::IdentityOut]), NotAuthenticated)
}

operation! { bearer social_unlink, delete "/api/auth/social/identities/{provider}/", "social",
    params(("provider" = String, Path, description = "The provider's id")),
    responses(
        (status = 204, description = "Unlinked"),
        NotAuthenticated,
        (status = 404, description = "No such identity", body = ErrorOut),
        (status = 409, description = "`last_sign_in_method`", body = ErrorOut),
    )
}
