//! Passkeys (WebAuthn, issue 16): registering one (signed in), listing,
//! renaming and deleting the caller's, and passwordless sign-in with a
//! discoverable credential. The ceremonies' checks are the pure verifier's
//! (`crate::webauthn`); this file issues and spends challenges, stores
//! credentials and opens the login.
//!
//! The relying party is the API client: its id is the host of the client's
//! first concrete allowed origin, and a ceremony's origin must be one of the
//! client's concrete allowed origins (`*` never counts: it would let any
//! site ask for this client's passkeys).

use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{BadApiKey, ErrorOut, FieldErrorsOut, NotAuthenticated, SignedIn, TokenPair};
use crate::audit::{event, UserRef};
use crate::clock::UnixMillis;
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, StrField};
use crate::store::passkeys::{
    ChallengeInsert, ChallengePurpose, Inserted, PasskeyInsert, PasskeyRow, PasskeyUse,
    TakenChallenge,
};
use crate::token::new_jti;
use crate::user::{User, UserId};
use crate::webauthn::{
    self, b64url_encode, Challenge, RelyingParty, StoredCredential, WebauthnError,
};
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a ceremony's challenge lives (WebAuthn's default timeout is 5 min).
pub(crate) const CHALLENGE_TTL_SECS: i64 = 300;
/// The most passkeys one user may register.
pub(crate) const MAX_PASSKEYS: i64 = 20;
/// The longest passkey name.
const MAX_NAME: usize = 64;
/// The largest body of the ceremony routes: a credential's JSON is 1–2 KB.
pub(crate) const BODY_LIMIT: usize = 24 * 1024;

const PASSKEY_REGISTERED: &str = "passkey.registered";
const PASSKEY_RENAMED: &str = "passkey.renamed";
const PASSKEY_DELETED: &str = "passkey.deleted";

/// One of the caller's passkeys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOut {
    pub id: String,
    pub name: String,
    /// COSE algorithm: -7 (ES256) or -8 (EdDSA).
    pub alg: i64,
    /// Whether the provider may sync it to other devices, and whether it has.
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// A ceremony's options: pass `publicKey` to `navigator.credentials.create`
/// / `.get` (after `PublicKeyCredential.parseCreationOptionsFromJSON` /
/// `parseRequestOptionsFromJSON`), and send `challenge_id` back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOptionsOut {
    pub challenge_id: String,
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
}

/// A registration: the options' `challenge_id` and the credential's JSON.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRegisterIn {
    pub challenge_id: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.create`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// At most 64 characters; default "Passkey".
    pub name: Option<String>,
}

/// A passwordless sign-in: the options' `challenge_id` and the assertion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyLoginIn {
    pub challenge_id: String,
    /// `PublicKeyCredential.toJSON()` of `navigator.credentials.get`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// A passkey's new name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRenameIn {
    pub name: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    PasskeyOut,
    PasskeyOptionsOut,
    PasskeyRegisterIn,
    PasskeyLoginIn,
    PasskeyRenameIn
)))]
pub(crate) struct PasskeyDoc;

fn ceremony_error(e: WebauthnError) -> ApiError {
    ApiError::detail(StatusCode::BAD_REQUEST, e.code(), e.to_string())
}

fn challenge_invalid() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "webauthn_challenge_invalid",
        "This challenge is unknown, spent or expired: ask for new options.",
    )
}

/// The client as a relying party: its rp id and its concrete origins.
fn relying_party(ctx: &Ctx<'_>) -> Result<(String, Vec<String>), ApiError> {
    let origins: Vec<String> = ctx
        .client
        .allowed_origins
        .iter()
        .filter(|o| o.as_str() != "*")
        .map(|o| o.trim_end_matches('/').to_owned())
        .collect();
    let rp_id = origins.first().and_then(|o| origin_host(o));
    match rp_id {
        Some(rp_id) => Ok((rp_id.to_owned(), origins)),
        None => Err(ApiError::detail(
            StatusCode::FORBIDDEN,
            "passkeys_unavailable",
            "This client has no allowed origin to be a passkey relying party.",
        )),
    }
}

/// The host of `scheme://host[:port]`.
fn origin_host(origin: &str) -> Option<&str> {
    let rest = origin.split_once("://")?.1;
    let host = rest.split(['/', ':']).next()?;
    (!host.is_empty()).then_some(host)
}

/// The user handle a discoverable credential carries: the user id.
fn user_handle(user: &User) -> Vec<u8> {
    user.id.0.to_string().into_bytes()
}

/// Issues a challenge; its id and bytes.
async fn issue(
    ctx: &Ctx<'_>,
    purpose: ChallengePurpose,
    user: Option<&User>,
) -> Result<(String, [u8; 32]), ApiError> {
    issue_bound(ctx, purpose, user, None).await
}

/// [`issue`] with an id that starts with `bind` (`BIND.` + random): a
/// second-step challenge names the sign-in challenge it belongs to.
async fn issue_bound(
    ctx: &Ctx<'_>,
    purpose: ChallengePurpose,
    user: Option<&User>,
    bind: Option<&str>,
) -> Result<(String, [u8; 32]), ApiError> {
    let rng = ctx.env().random.as_ref();
    let value: [u8; 32] = crate::random::bytes(rng);
    let id = match bind {
        Some(b) => format!("{b}.{}", new_jti(rng)),
        None => new_jti(rng),
    };
    let hex = crate::digest::sha256_hex(&value);
    ctx.store()
        .insert_passkey_challenge(&ChallengeInsert {
            id: &id,
            sha256_hex: &hex,
            purpose,
            user: user.map(|u| u.id),
            client_id: &ctx.client.id.0,
            now: ctx.now,
            expires_at: ctx.now.plus_secs(CHALLENGE_TTL_SECS),
        })
        .await?;
    Ok((id, value))
}

fn stored_challenge(t: &TakenChallenge) -> Result<Challenge, ApiError> {
    let bad = || ApiError::from(crate::sql::SqlError::Other("bad challenge hash".into()));
    let mut sha256 = [0u8; 32];
    if t.sha256_hex.len() != 64 {
        return Err(bad());
    }
    for (i, out) in sha256.iter_mut().enumerate() {
        *out = u8::from_str_radix(&t.sha256_hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(Challenge {
        sha256,
        expires_at: t.expires_at.0,
    })
}

/// Spends this client's challenge `id` of `purpose` (for `user`, or for
/// no one at sign-in); None when it is unknown, spent or expired.
async fn take(
    ctx: &Ctx<'_>,
    id: &str,
    purpose: ChallengePurpose,
    user: Option<UserId>,
) -> Result<Option<TakenChallenge>, ApiError> {
    Ok(ctx
        .store()
        .take_challenge(id, purpose, &ctx.client.id.0, user, ctx.now)
        .await?)
}

/// The stored passkey `row` as the verifier reads it.
fn stored_credential(credential_id: &[u8], row: &PasskeyRow) -> Result<StoredCredential, ApiError> {
    Ok(StoredCredential {
        credential_id: credential_id.to_vec(),
        public_key_cose: webauthn::b64url_decode(&row.public_key).map_err(ceremony_error)?,
        sign_count: u32::try_from(row.sign_count).unwrap_or(u32::MAX),
        backup_eligible: row.backup_eligible,
    })
}

fn passkey_out(p: &PasskeyRow) -> PasskeyOut {
    PasskeyOut {
        id: p.id.clone(),
        name: p.name.clone(),
        alg: p.alg,
        backup_eligible: p.backup_eligible,
        backed_up: p.backed_up,
        created_at: p.created_at.to_rfc3339(),
        last_used_at: p.last_used_at.map(|t| t.to_rfc3339()),
    }
}

/// Reads `challenge_id` and the `credential` object (re-serialised: the
/// verifier reads JSON bytes).
fn ceremony_fields(ctx: &Ctx<'_>) -> Result<(String, Vec<u8>, Option<String>), ApiError> {
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let challenge_id = body.str(StrField::required("challenge_id", 64), &mut errors);
    let name = body.str(
        StrField::required("name", MAX_NAME).required_when(false),
        &mut errors,
    );
    let credential = match body.value("credential") {
        Some(v @ serde_json::Value::Object(_)) => serde_json::to_vec(v).ok(),
        Some(_) => {
            errors
                .entry("credential".into())
                .or_default()
                .push("Must be the credential's JSON object.".into());
            None
        }
        None => {
            errors
                .entry("credential".into())
                .or_default()
                .push("This field is required.".into());
            None
        }
    };
    check(errors)?;
    match (challenge_id, credential) {
        (Some(c), Some(j)) => Ok((c, j, name)),
        _ => Err(challenge_invalid()),
    }
}

pub(crate) async fn register_options(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let (rp_id, _) = relying_party(ctx)?;
    let existing = ctx.store().passkeys_of(caller.user.id).await?;
    let (id, value) = issue(ctx, ChallengePurpose::Register, Some(&caller.user)).await?;
    let u = &caller.user;
    let display = format!("{} {}", u.first_name, u.last_name)
        .trim()
        .to_owned();
    let exclude: Vec<serde_json::Value> = existing
        .iter()
        .map(|p| serde_json::json!({"type": "public-key", "id": p.credential_id}))
        .collect();
    let options = serde_json::json!({
        "rp": {"id": rp_id, "name": ctx.client.name},
        "user": {
            "id": b64url_encode(&user_handle(u)),
            "name": u.email,
            "displayName": if display.is_empty() { u.username.clone() } else { display },
        },
        "challenge": b64url_encode(&value),
        "pubKeyCredParams": [
            {"type": "public-key", "alg": -7},
            {"type": "public-key", "alg": -8},
        ],
        "timeout": CHALLENGE_TTL_SECS * 1000,
        "excludeCredentials": exclude,
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        },
        "attestation": "none",
    });
    Ok(json_response(
        StatusCode::OK,
        &PasskeyOptionsOut {
            challenge_id: id,
            public_key: options,
        },
    ))
}

pub(crate) async fn register(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let (rp_id, origins) = relying_party(ctx)?;
    let (challenge_id, credential, name) = ceremony_fields(ctx)?;
    // Spent before the verification: a failed attempt burns it too.
    let taken = take(
        ctx,
        &challenge_id,
        ChallengePurpose::Register,
        Some(caller.user.id),
    )
    .await?
    .ok_or_else(challenge_invalid)?;
    let rp = RelyingParty {
        rp_id: &rp_id,
        origins: &origins,
    };
    let cred = webauthn::verify_registration(rp, stored_challenge(&taken)?, &credential, ctx.now.0)
        .map_err(ceremony_error)?;
    let rng = ctx.env().random.as_ref();
    let id = new_jti(rng);
    let name = name.unwrap_or_else(|| "Passkey".to_owned());
    let credential_id = b64url_encode(&cred.credential_id);
    let audit = ctx
        .audit(PASSKEY_REGISTERED, Some(caller.user.id))
        .target_user(UserRef::Id(caller.user.id))
        .detail(serde_json::json!({"passkey_id": id, "name": name, "alg": cred.alg.cose_id(), "attestation": cred.attestation_format}));
    let inserted = ctx
        .store()
        .insert_passkey(
            &PasskeyInsert {
                id: &id,
                user: caller.user.id,
                credential_id: &credential_id,
                public_key: &b64url_encode(&cred.public_key_cose),
                alg: cred.alg.cose_id(),
                sign_count: cred.sign_count,
                backup_eligible: cred.backup_eligible,
                backed_up: cred.backed_up,
                aaguid: &b64url_encode(&cred.aaguid),
                name: &name,
                now: ctx.now,
            },
            MAX_PASSKEYS,
            &audit,
        )
        .await?;
    match inserted {
        Inserted::Yes => {}
        Inserted::Exists => {
            return Err(ApiError::detail(
                StatusCode::BAD_REQUEST,
                "passkey_exists",
                "This passkey is registered already.",
            ))
        }
        Inserted::Full => {
            return Err(ApiError::detail(
                StatusCode::BAD_REQUEST,
                "passkey_limit",
                format!("An account can have at most {MAX_PASSKEYS} passkeys."),
            ))
        }
    }
    let out = PasskeyOut {
        id,
        name,
        alg: cred.alg.cose_id(),
        backup_eligible: cred.backup_eligible,
        backed_up: cred.backed_up,
        created_at: ctx.now.to_rfc3339(),
        last_used_at: None,
    };
    Ok(json_response(StatusCode::CREATED, &out))
}

pub(crate) async fn list(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let rows = ctx.store().passkeys_of(caller.user.id).await?;
    let out: Vec<PasskeyOut> = rows.iter().map(passkey_out).collect();
    Ok(json_response(StatusCode::OK, &out))
}

pub(crate) async fn rename(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let id = ctx.param(0);
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let name = body.str(StrField::required("name", MAX_NAME), &mut errors);
    check(errors)?;
    let Some(name) = name else {
        return Err(ApiError::not_found());
    };
    let audit = ctx
        .audit(PASSKEY_RENAMED, Some(caller.user.id))
        .target_user(UserRef::Id(caller.user.id))
        .detail(serde_json::json!({"passkey_id": id, "name": name}));
    let renamed = ctx
        .store()
        .rename_passkey(caller.user.id, id, &name, &audit)
        .await?;
    let row = match renamed {
        true => ctx
            .store()
            .passkeys_of(caller.user.id)
            .await?
            .into_iter()
            .find(|p| p.id == id),
        false => None,
    };
    let row = row.ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, &passkey_out(&row)))
}

pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = ctx.caller()?;
    let id = ctx.param(0);
    let audit = ctx
        .audit(PASSKEY_DELETED, Some(caller.user.id))
        .target_user(UserRef::Id(caller.user.id))
        .detail(serde_json::json!({"passkey_id": id}));
    if !ctx
        .store()
        .delete_passkey(caller.user.id, id, &audit)
        .await?
    {
        return Err(ApiError::not_found());
    }
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

pub(crate) async fn login_options(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (rp_id, _) = relying_party(ctx)?;
    let (id, value) = issue(ctx, ChallengePurpose::Login, None).await?;
    // Discoverable credentials: no allowCredentials, the authenticator
    // offers the user's passkeys for this rp id.
    let options = serde_json::json!({
        "challenge": b64url_encode(&value),
        "rpId": rp_id,
        "timeout": CHALLENGE_TTL_SECS * 1000,
        "userVerification": "required",
        "allowCredentials": [],
    });
    Ok(json_response(
        StatusCode::OK,
        &PasskeyOptionsOut {
            challenge_id: id,
            public_key: options,
        },
    ))
}

/// What binds a second-step passkey challenge to its sign-in challenge:
/// 16 hex digits of the `mfa_token`'s stored hash (64 bits of a hash of 256
/// random bits: nothing of the token is learnt from it).
fn mfa_bind(mfa_hash: &str) -> &str {
    mfa_hash.get(..16).unwrap_or(mfa_hash)
}

/// `mfa/passkey/options/`, past the `mfa_token` checks: request options
/// listing `user`'s passkeys, with a challenge bound to the sign-in
/// challenge (`mfa_hash`), the user and the client.
pub(super) async fn mfa_options(
    ctx: &Ctx<'_>,
    user: &User,
    mfa_hash: &str,
) -> Result<Response<Bytes>, ApiError> {
    let keys = ctx.store().passkeys_of(user.id).await?;
    if keys.is_empty() {
        return Err(ApiError::detail(
            StatusCode::BAD_REQUEST,
            "unsupported_method",
            "This account has no passkey.",
        ));
    }
    let (rp_id, _) = relying_party(ctx)?;
    let (id, value) = issue_bound(
        ctx,
        ChallengePurpose::Mfa,
        Some(user),
        Some(mfa_bind(mfa_hash)),
    )
    .await?;
    let allow: Vec<serde_json::Value> = keys
        .iter()
        .map(|p| serde_json::json!({"type": "public-key", "id": p.credential_id}))
        .collect();
    let options = serde_json::json!({
        "challenge": b64url_encode(&value),
        "rpId": rp_id,
        "timeout": CHALLENGE_TTL_SECS * 1000,
        "userVerification": "required",
        "allowCredentials": allow,
    });
    Ok(json_response(
        StatusCode::OK,
        &PasskeyOptionsOut {
            challenge_id: id,
            public_key: options,
        },
    ))
}

/// A passkey assertion that passed every check, to be written with the
/// login (the counter's compare-and-swap).
pub(super) struct MfaAssertion {
    pub(super) passkey_id: String,
    pub(super) verified_count: i64,
    pub(super) new_count: u32,
    pub(super) backed_up: bool,
}

impl MfaAssertion {
    /// The passkey's use by `user` at `now`: its counter's compare-and-swap.
    pub(super) fn passkey_use(&self, user: UserId, now: UnixMillis) -> PasskeyUse<'_> {
        PasskeyUse {
            id: &self.passkey_id,
            user,
            verified_count: self.verified_count,
            new_count: self.new_count,
            backed_up: self.backed_up,
            now,
        }
    }
}

/// Checks a second-step assertion for `user`: the challenge (spent here,
/// bound to `mfa_hash`, the user and the client), a passkey of `user`'s,
/// and the verifier's checks. Outer error: the store; inner: the answer is
/// wrong (a 400 to count as a failed attempt).
pub(super) async fn mfa_assertion(
    ctx: &Ctx<'_>,
    user: &User,
    mfa_hash: &str,
    challenge_id: &str,
    credential: &[u8],
) -> Result<Result<MfaAssertion, ApiError>, ApiError> {
    let (rp_id, origins) = relying_party(ctx)?;
    if !challenge_id.starts_with(&format!("{}.", mfa_bind(mfa_hash))) {
        return Ok(Err(challenge_invalid()));
    }
    let Some(taken) = take(ctx, challenge_id, ChallengePurpose::Mfa, Some(user.id)).await? else {
        return Ok(Err(challenge_invalid()));
    };
    let parts = match webauthn::parse_assertion(credential) {
        Ok(p) => p,
        Err(e) => return Ok(Err(ceremony_error(e))),
    };
    let row = match ctx
        .store()
        .passkey_by_credential(&b64url_encode(&parts.credential_id))
        .await?
    {
        Some(r) if r.user_id == user.id => r,
        // Unknown, or another user's: the same answer.
        _ => return Ok(Err(ceremony_error(WebauthnError::WrongCredential))),
    };
    if parts
        .user_handle
        .as_ref()
        .is_some_and(|h| *h != user_handle(user))
    {
        return Ok(Err(ceremony_error(WebauthnError::WrongCredential)));
    }
    let stored = stored_credential(&parts.credential_id, &row)?;
    let rp = RelyingParty {
        rp_id: &rp_id,
        origins: &origins,
    };
    Ok(
        match webauthn::verify_assertion_parts(
            &stored,
            rp,
            stored_challenge(&taken)?,
            &parts,
            ctx.now.0,
        ) {
            Ok(o) => Ok(MfaAssertion {
                passkey_id: row.id,
                verified_count: row.sign_count,
                new_count: o.sign_count,
                backed_up: o.backed_up,
            }),
            Err(e) => Err(ceremony_error(e)),
        },
    )
}

/// 400 `webauthn_counter`: another assertion moved the counter first.
pub(super) fn counter_moved() -> ApiError {
    ceremony_error(WebauthnError::Counter)
}

fn unknown_passkey() -> ApiError {
    ApiError::detail(
        StatusCode::BAD_REQUEST,
        "passkey_unknown",
        "No account has this passkey.",
    )
}

pub(crate) async fn login(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let (rp_id, origins) = relying_party(ctx)?;
    let (challenge_id, credential, _) = ceremony_fields(ctx)?;
    let taken = take(ctx, &challenge_id, ChallengePurpose::Login, None)
        .await?
        .ok_or_else(challenge_invalid)?;
    let parts = webauthn::parse_assertion(&credential).map_err(ceremony_error)?;
    let row = ctx
        .store()
        .passkey_by_credential(&b64url_encode(&parts.credential_id))
        .await?
        .ok_or_else(unknown_passkey)?;
    let user = ctx
        .store()
        .user(row.user_id)
        .await?
        .ok_or_else(unknown_passkey)?;
    if parts
        .user_handle
        .as_ref()
        .is_some_and(|h| *h != user_handle(&user))
    {
        return Err(ceremony_error(WebauthnError::WrongCredential));
    }
    let stored = stored_credential(&parts.credential_id, &row)?;
    let rp = RelyingParty {
        rp_id: &rp_id,
        origins: &origins,
    };
    let outcome = match webauthn::verify_assertion_parts(
        &stored,
        rp,
        stored_challenge(&taken)?,
        &parts,
        ctx.now.0,
    ) {
        Ok(o) => o,
        Err(e) => {
            let failed = ctx
                .audit(event::LOGIN_FAILED, None)
                .target_user(UserRef::Id(user.id))
                .detail(serde_json::json!({"method": "passkey", "passkey_id": row.id, "reason": e.code(), "user_agent": ctx.user_agent()}));
            ctx.store().insert_audit(&failed).await?;
            return Err(ceremony_error(e));
        }
    };
    // The password login's refusals, in its order.
    if !user.is_active {
        return Err(ApiError::no_active_account());
    }
    if !ctx.client.serves(user.user_type) {
        return Err(ApiError::user_type_not_allowed());
    }
    if ctx.client.email.require_verified_email && user.email_verified_at.is_none() {
        return Err(ApiError::detail(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "Confirm your email address before signing in.",
        ));
    }
    // A passkey with user verification is two factors in one: `amr`
    // ["hwk", "user"], assurance level 2.
    let s = new_session(ctx, crate::mfa::amr::PASSKEY);
    let insert = session_insert(ctx, &s);
    let audit = ctx
        .audit(event::LOGIN_SUCCEEDED, Some(user.id))
        .target_user(UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": s.id.0, "method": "passkey", "passkey_id": row.id, "user_agent": ctx.user_agent()}));
    let used = PasskeyUse {
        id: &row.id,
        user: user.id,
        verified_count: row.sign_count,
        new_count: outcome.sign_count,
        backed_up: outcome.backed_up,
        now: ctx.now,
    };
    if !ctx
        .store()
        .sign_in_with_passkey(&used, &insert, &audit)
        .await?
    {
        // Another assertion moved the counter since we read it.
        return Err(ceremony_error(WebauthnError::Counter));
    }
    let pair: TokenPair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    Ok(json_response(StatusCode::OK, &pair))
}

// ---- OpenAPI: the operation(s) of this file's route(s)

/// The refusal of a passkey ceremony for a client with no concrete allowed
/// origin.
#[derive(utoipa::IntoResponses)]
#[response(status = 403, description = "`passkeys_unavailable`")]
#[allow(dead_code)] // OpenAPI only
pub(crate) struct PasskeysUnavailable(ErrorOut);

operation! { bearer passkey_register_options, post "/api/auth/passkeys/register/options/", "passkeys",
    responses(
        (status = 200, description = "PublicKeyCredentialCreationOptions (JSON) and the challenge's id", body = PasskeyOptionsOut),
        NotAuthenticated,
        (status = 403, description = "The client has no concrete allowed origin (`passkeys_unavailable`)", body = ErrorOut),
    )
}

operation! { bearer passkey_register, post "/api/auth/passkeys/register/", "passkeys", request_body = PasskeyRegisterIn,
    responses(
        (status = 201, description = "Registered", body = PasskeyOut),
        (status = 400, description = "`webauthn_*` (the credential failed a check), `webauthn_challenge_invalid`, `passkey_exists`, `passkey_limit`, or field errors", body = ErrorOut),
        NotAuthenticated,
        PasskeysUnavailable,
    )
}

operation! { bearer passkeys_list, get "/api/auth/passkeys/", "passkeys",
    responses((status = 200, description = "The caller's passkeys", body = [PasskeyOut]), NotAuthenticated)
}

operation! { bearer passkey_rename, patch "/api/auth/passkeys/{id}/", "passkeys", request_body = PasskeyRenameIn,
    params(("id" = String, Path, description = "A passkey id from the list")),
    responses(
        (status = 200, description = "Renamed", body = PasskeyOut),
        FieldErrorsOut,
        NotAuthenticated,
        (status = 404, description = "No such passkey of the caller", body = ErrorOut),
    )
}

operation! { bearer passkey_delete, delete "/api/auth/passkeys/{id}/", "passkeys",
    params(("id" = String, Path, description = "A passkey id from the list")),
    responses((status = 204, description = "Deleted"), NotAuthenticated, (status = 404, description = "No such passkey of the caller", body = ErrorOut))
}

operation! { client passkey_login_options, post "/api/auth/passkeys/login/options/", "passkeys",
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptions (JSON, no allowCredentials) and the challenge's id", body = PasskeyOptionsOut),
        BadApiKey,
        PasskeysUnavailable,
    )
}

operation! { client passkey_login, post "/api/auth/passkeys/login/", "passkeys", request_body = PasskeyLoginIn,
    responses(
        SignedIn,
        (status = 400, description = "`webauthn_*` (the assertion failed a check; `webauthn_counter`: a cloned authenticator), `webauthn_challenge_invalid`, `passkey_unknown`, or field errors", body = ErrorOut),
        (status = 401, description = "Missing or invalid API key, or an inactive account (`no_active_account`)", body = ErrorOut),
        (status = 403, description = "`passkeys_unavailable`, `user_type_not_allowed`, `email_not_verified`", body = ErrorOut),
    )
}
