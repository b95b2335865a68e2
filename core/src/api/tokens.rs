//! Opening a login (a refresh-token family) and signing its tokens: what
//! register, login, refresh and change-password share.

use super::types::TokenPair;
use crate::clock::UnixMillis;
use crate::context::Ctx;
use crate::error::ApiError;
use crate::session::{SessionId, SessionRow};
use crate::store::sessions::{HashSwap, SessionInsert};
use crate::token::{new_jti, Issue, TokenType};
use crate::user::User;

/// A login about to be stored, and the tokens that go with it.
pub(crate) struct NewSession {
    pub(crate) id: SessionId,
    pub(crate) jti: String,
    /// How the login was authenticated (`mfa::amr`), comma-separated.
    pub(crate) amr: String,
}

/// Ids for a new login (refresh-token family) authenticated by `amr`.
pub(crate) fn new_session(ctx: &Ctx<'_>, amr: &str) -> NewSession {
    let rng = ctx.env().random.as_ref();
    NewSession {
        id: SessionId(new_jti(rng)),
        jti: new_jti(rng),
        amr: amr.to_owned(),
    }
}

/// The row that stores `s` for this request's client.
pub(crate) fn session_insert<'a>(ctx: &'a Ctx<'_>, s: &'a NewSession) -> SessionInsert<'a> {
    let cfg = ctx.config();
    SessionInsert {
        id: &s.id,
        client_id: &ctx.client.id,
        jti: &s.jti,
        now: ctx.now,
        refresh_expires_at: ctx.now.plus_secs(first_refresh_ttl(ctx)),
        absolute_expires_at: ctx.now.plus_secs(cfg.session_max_age_secs),
        ip: ctx.ip().map(|ip| ip.to_string()),
        user_agent: ctx.user_agent(),
        amr: &s.amr,
        // A login made with a second factor is fresh for step-up from now.
        mfa_at: (crate::mfa::aal(&crate::mfa::amr_list(&s.amr)) == 2).then_some(ctx.now),
    }
}

/// Signs an access token and the refresh token `refresh_jti` of login
/// `sid`, for this request's client. The refresh token never outlives its
/// family.
pub(crate) fn token_pair(
    ctx: &Ctx<'_>,
    user: &User,
    sid: &SessionId,
    refresh_jti: &str,
    refresh_ttl_secs: i64,
    amr: &str,
) -> TokenPair {
    TokenPair {
        access: access_token(ctx, user, sid, amr),
        refresh: sign(
            ctx,
            user,
            sid,
            TokenType::Refresh,
            refresh_jti,
            ctx.now,
            refresh_ttl_secs,
            amr,
        ),
    }
}

/// A reissue's answer (the refresh reuse grace): a fresh access token,
/// and login `s`'s current refresh token signed again with the claims it
/// was issued with (`iat` the last rotation, `exp` the row's refresh
/// expiry; signing is deterministic), so the very string the rotation's
/// winner got, as long as the user's claims did not change in between.
/// None before the login's first rotation (no rotation to repeat).
pub(crate) fn reissued_pair(ctx: &Ctx<'_>, user: &User, s: &SessionRow) -> Option<TokenPair> {
    let issued_at = s.rotated_at?;
    let ttl_secs = s.refresh_expires_at.as_secs() - issued_at.as_secs();
    Some(TokenPair {
        access: access_token(ctx, user, &s.id, &s.amr),
        refresh: sign(
            ctx,
            user,
            &s.id,
            TokenType::Refresh,
            &s.current_jti,
            issued_at,
            ttl_secs,
            &s.amr,
        ),
    })
}

/// A new access token of login `sid`.
fn access_token(ctx: &Ctx<'_>, user: &User, sid: &SessionId, amr: &str) -> String {
    let jti = new_jti(ctx.env().random.as_ref());
    let ttl_secs = ctx.config().access_ttl_secs;
    sign(
        ctx,
        user,
        sid,
        TokenType::Access,
        &jti,
        ctx.now,
        ttl_secs,
        amr,
    )
}

/// One token of login `sid` for this request's client.
#[allow(clippy::too_many_arguments)] // each is one claim of the token
fn sign(
    ctx: &Ctx<'_>,
    user: &User,
    sid: &SessionId,
    token_type: TokenType,
    jti: &str,
    now: UnixMillis,
    ttl_secs: i64,
    amr: &str,
) -> String {
    ctx.codec().issue(Issue {
        token_type,
        user,
        client_id: &ctx.client.id,
        sid,
        jti,
        now,
        ttl_secs,
        amr,
    })
}

/// The refresh lifetime of a brand-new login.
pub(crate) fn first_refresh_ttl(ctx: &Ctx<'_>) -> i64 {
    let cfg = ctx.config();
    cfg.refresh_ttl_secs.min(cfg.session_max_age_secs)
}

/// A stored Django hash to replace by Argon2id with a login.
pub(crate) struct Rehash {
    /// Django's hasher name (`pbkdf2_sha256`, …), for the audit log.
    pub(crate) from: &'static str,
    pub(crate) old_hash: String,
    pub(crate) new_hash: String,
}

/// Opens a login for `user` through the calling client and returns its
/// tokens, replacing the stored hash in the same transaction when `rehash`
/// says so: a compare-and-swap on the old hash (of two racing
/// logins one rehashes; both log in), audited `password.rehashed` only if
/// it swapped.
pub(crate) async fn login_user(
    ctx: &Ctx<'_>,
    user: &User,
    rehash: Option<&Rehash>,
    amr: &str,
) -> Result<TokenPair, ApiError> {
    let s = new_session(ctx, amr);
    let insert = session_insert(ctx, &s);
    let audit = ctx
        .audit(crate::audit::event::LOGIN_SUCCEEDED, Some(user.id))
        .target_user(crate::audit::UserRef::Id(user.id))
        .detail(serde_json::json!({"session_id": s.id.0, "user_agent": ctx.user_agent()}));
    let rehashed = rehash.map(|r| {
        let e = ctx
            .audit(crate::audit::event::PASSWORD_REHASHED, Some(user.id))
            .target_user(crate::audit::UserRef::Id(user.id))
            .detail(serde_json::json!({"from": r.from, "to": "argon2id"}));
        (r, e)
    });
    let swap = rehashed.as_ref().map(|(r, audit)| HashSwap {
        old_hash: &r.old_hash,
        new_hash: &r.new_hash,
        audit,
    });
    ctx.store()
        .insert_session(user.id, &insert, &audit, swap)
        .await?;
    Ok(token_pair(
        ctx,
        user,
        &s.id,
        &s.jti,
        first_refresh_ttl(ctx),
        &s.amr,
    ))
}
