//! `POST /api/auth/token/`: log in with email and password.

use super::throttle::check_counter;
use super::tokens::Rehash;
use super::types::{ErrorOut, FieldErrorsOut, LoginIn, TokenPair};
use crate::audit::{event, UserRef};
use crate::context::Ctx;
use crate::error::{json_response, ApiError};
use crate::json::StrField;
use crate::password::django::{self, Kind};
use crate::rate_limit::Quota;
use crate::user::{normalize_email, User};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let fields = [
        StrField::required("email", 254),
        StrField::password("password"),
    ];
    let Some([email, password]) = ctx.body()?.strs(fields)? else {
        return Err(ApiError::no_active_account());
    };
    let email = normalize_email(&email);

    // Failed-login throttles: looked at before any work, spent only on failure.
    let keys = failure_throttle_keys(ctx, &email);
    check_failure_throttles(ctx, &keys).await?;

    // A replica host syncs before it judges a login: a user just created
    // or deactivated through another host must be seen as the primary
    // sees it (one round trip, small beside the password hash; a no-op on
    // a single host).
    ctx.env().sql.catch_up().await?;
    let found = ctx.store().user_by_email(&email).await?;
    let stored = found.as_ref().map(|f| f.password_hash.clone());
    let kind = stored.as_deref().map(django::kind);
    // Verify against a dummy hash when the email is unknown (or its hash
    // cannot be verified), so the answer takes as long as for a known
    // email with a wrong password.
    let phc = match (&stored, kind) {
        (Some(h), Some(k)) if k != Kind::Unusable => h.clone(),
        _ => ctx.shared.dummy_hash.clone(),
    };
    let ok = ctx.env().hasher.verify(password.clone(), phc).await?;
    let check = match kind {
        Some(Kind::Unusable) => PasswordCheck::Unusable,
        _ if ok => PasswordCheck::Verified,
        _ => PasswordCheck::Wrong,
    };
    let account = found.map(|f| f.user);
    let serves = account
        .as_ref()
        .is_some_and(|u| ctx.client.serves(u.user_type));
    let must_verify = ctx.client.email.require_verified_email;
    let user = match decide(account, check, serves, must_verify) {
        LoginOutcome::Issue(user) => user,
        LoginOutcome::ResetRequired(target) => {
            // Not a guess (no password was checked): audited, not counted.
            audit_login_failure(ctx, &email, target, "password_reset_required").await?;
            return Err(ApiError::password_reset_required());
        }
        LoginOutcome::Refuse { target, reason } => {
            audit_login_failure(ctx, &email, target, reason.as_str()).await?;
            spend_failure_throttles(ctx, &keys).await?;
            return Err(ApiError::no_active_account());
        }
        LoginOutcome::NotServed(target) => {
            audit_login_failure(ctx, &email, target, "user_type_not_allowed").await?;
            return Err(ApiError::user_type_not_allowed());
        }
        LoginOutcome::NotVerified(target) => {
            audit_login_failure(ctx, &email, target, "email_not_verified").await?;
            return Err(ApiError::detail(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "Confirm your email address before signing in.",
            ));
        }
    };
    // A user with a second factor gets a challenge, not tokens (no
    // rehash either: that waits for a login that completes).
    let factors = ctx.store().factors(user.id).await?;
    if !factors.methods().is_empty() {
        let r = super::mfa_required::required(ctx, &user, crate::mfa::amr::PWD, &factors);
        ctx.store().insert_mfa_challenge(r.insert).await?;
        return Ok(r.response);
    }
    // A Django hash (imported from the seed) is replaced by Argon2id in
    // the login's own transaction: verified once, never again.
    let rehash = match (kind, stored) {
        (Some(Kind::Django(hasher)), Some(old_hash)) => {
            let salt: [u8; 16] = crate::random::bytes(ctx.env().random.as_ref());
            let new_hash = ctx.env().hasher.hash(password, salt).await?;
            Some(Rehash {
                from: hasher.name(),
                old_hash,
                new_hash,
            })
        }
        _ => None,
    };
    let pair = super::tokens::login_user(ctx, &user, rehash.as_ref(), crate::mfa::amr::PWD).await?;
    if crate::mfa::enrollment_required(ctx.client.require_mfa_for_staff, &user, false) {
        // Signed in (aal1), told to set a second factor up: the dashboard
        // enrols before anything else (docs/CONTRACT.md, "Second factors").
        return Ok(json_response(
            StatusCode::OK,
            &LoginEnrollOut {
                access: pair.access,
                refresh: pair.refresh,
                mfa_enrollment_required: true,
            },
        ));
    }
    Ok(json_response(StatusCode::OK, &pair))
}

/// A login through a client that requires a second factor of staff, by a
/// staff user who has none yet.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginEnrollOut {
    pub access: String,
    pub refresh: String,
    /// Always true: set up a second factor now (`/api/auth/mfa/totp/enroll/`).
    pub mfa_enrollment_required: bool,
}

/// How the presented password compared with the stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// It matched (or, with no account, the dummy hash did).
    Verified,
    Wrong,
    /// The stored hash cannot be verified (`password::django::Kind::Unusable`).
    Unusable,
}

/// Why a login is refused with the one answer that reveals nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefuseReason {
    /// Unknown email or wrong password: the same to the caller.
    InvalidCredentials,
    /// The right password of a deactivated account.
    Inactive,
}

impl RefuseReason {
    fn as_str(self) -> &'static str {
        match self {
            RefuseReason::InvalidCredentials => "invalid_credentials",
            RefuseReason::Inactive => "inactive",
        }
    }
}

/// What a login attempt comes to, once the throttles let it through.
#[derive(Debug, PartialEq)]
pub(crate) enum LoginOutcome {
    /// Open a login and answer with its tokens.
    Issue(User),
    /// 401 `no_active_account`, audited, and a failure counted.
    Refuse {
        target: UserRef,
        reason: RefuseReason,
    },
    /// The right password, but this client does not serve the user's type:
    /// 403, audited, not counted as a guess.
    NotServed(UserRef),
    /// An active account whose stored hash cannot be verified: 401
    /// `password_reset_required`, audited, not counted.
    ResetRequired(UserRef),
    /// The right password, but the client requires a verified email and
    /// this one is not: 403 `email_not_verified`, audited, not counted.
    NotVerified(UserRef),
}

/// The login decision: the account found by email (if any), how the
/// password compared (against the dummy hash when there is no account), and
/// whether the client serves the account's type.
///
/// An active account with an unverifiable hash is told to reset its
/// password whatever was typed: this tells a caller that the email has an
/// account, which registration's "already exists" tells anyway, and a
/// migrated user stuck on "wrong password" forever would be worse
/// (docs/MIGRATING.md). An inactive one gets the ordinary refusal.
pub(crate) fn decide(
    account: Option<User>,
    check: PasswordCheck,
    serves: bool,
    must_verify: bool,
) -> LoginOutcome {
    match account {
        None => LoginOutcome::Refuse {
            target: UserRef::None,
            reason: RefuseReason::InvalidCredentials,
        },
        Some(u) if check == PasswordCheck::Unusable && u.is_active => {
            LoginOutcome::ResetRequired(UserRef::Id(u.id))
        }
        Some(u) if check != PasswordCheck::Verified => LoginOutcome::Refuse {
            target: UserRef::Id(u.id),
            reason: RefuseReason::InvalidCredentials,
        },
        Some(u) if !u.is_active => LoginOutcome::Refuse {
            target: UserRef::Id(u.id),
            reason: RefuseReason::Inactive,
        },
        Some(u) if !serves => LoginOutcome::NotServed(UserRef::Id(u.id)),
        Some(u) if must_verify && u.email_verified_at.is_none() => {
            LoginOutcome::NotVerified(UserRef::Id(u.id))
        }
        Some(u) => LoginOutcome::Issue(u),
    }
}

/// A failed login has no change to ride along with: one INSERT.
async fn audit_login_failure(
    ctx: &Ctx<'_>,
    email: &str,
    target: UserRef,
    reason: &str,
) -> Result<(), ApiError> {
    let e = ctx
        .audit(event::LOGIN_FAILED, None)
        .target_user(target)
        .detail(
            serde_json::json!({"email": email, "reason": reason, "user_agent": ctx.user_agent()}),
        );
    Ok(ctx.store().insert_audit(&e).await?)
}

/// The failed-password counters a login attempt (or a change-password
/// with a wrong current password) is held to: per (account, IP), a
/// looser per-account ceiling and, when the host knows it, per IP.
///
/// The tight counter is keyed by (account, IP) so that failures from
/// one address never lock the owner out from another; the ceiling
/// still bounds guessing spread over many addresses.
pub(crate) fn failure_throttle_keys(ctx: &Ctx<'_>, email: &str) -> Vec<(String, Quota)> {
    let cfg = ctx.config();
    let ip = ctx.ip().map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let mut keys = vec![
        (
            format!("login-fail:account-ip:{email}|{ip}"),
            cfg.failed_login_per_account_ip,
        ),
        (
            format!("login-fail:account:{email}"),
            cfg.failed_login_per_account,
        ),
    ];
    if let Some(ip) = ctx.ip() {
        keys.push((format!("login-fail:ip:{ip}"), cfg.failed_login_per_ip));
    }
    keys
}

/// 429 `login_throttled` when any counter is spent (nothing is consumed).
pub(crate) async fn check_failure_throttles(
    ctx: &Ctx<'_>,
    keys: &[(String, Quota)],
) -> Result<(), ApiError> {
    for (key, quota) in keys {
        check_counter(ctx, key, *quota, false, "login_throttled").await?;
    }
    Ok(())
}

/// Counts one failure against every counter.
pub(crate) async fn spend_failure_throttles(
    ctx: &Ctx<'_>,
    keys: &[(String, Quota)],
) -> Result<(), ApiError> {
    for (key, quota) in keys {
        ctx.env()
            .rate_limits
            .check(key, *quota, ctx.now, true)
            .await?;
    }
    Ok(())
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { client token, post "/api/auth/token/", "auth", request_body = LoginIn,
    responses(
        (status = 200, description = "Logged in; a staff user without a second factor signing in through an admin client also gets `mfa_enrollment_required: true`", body = TokenPair),
        FieldErrorsOut,
        (status = 401, description = "Bad credentials or API key, the account must reset its password (`password_reset_required`), or a second factor is required (`mfa_required`, with an `mfa_token`)", body = ErrorOut),
        (status = 403, description = "This client does not serve the user's type", body = ErrorOut),
        (status = 429, description = "Too many failed logins or requests", body = ErrorOut),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::{UserId, UserType};
    use PasswordCheck::{Unusable, Verified, Wrong};
    use RefuseReason::{Inactive, InvalidCredentials};

    fn user(active: bool) -> User {
        User {
            is_active: active,
            ..User::sample(7, UserType::Creator)
        }
    }

    /// `decide` for the account of [`user`], active or not.
    fn known(active: bool, check: PasswordCheck, serves: bool) -> LoginOutcome {
        decide(Some(user(active)), check, serves, false)
    }

    fn refused(target: UserRef, reason: RefuseReason) -> LoginOutcome {
        LoginOutcome::Refuse { target, reason }
    }

    /// The refusal of the account of [`user`].
    fn user_refused(reason: RefuseReason) -> LoginOutcome {
        refused(UserRef::Id(UserId(7)), reason)
    }

    #[test]
    fn unknown_email_and_wrong_password_look_the_same_to_the_caller() {
        let unknown = decide(None, Wrong, false, false);
        assert_eq!(unknown, refused(UserRef::None, InvalidCredentials));
        // Even a (dummy-hash) "match" without an account is a refusal.
        assert_eq!(decide(None, Verified, true, false), unknown);
        assert_eq!(known(true, Wrong, true), user_refused(InvalidCredentials));
    }

    #[test]
    fn an_inactive_account_is_refused_even_with_the_right_password() {
        assert_eq!(known(false, Verified, true), user_refused(Inactive));
        // A wrong password on an inactive account says nothing of its state.
        assert_eq!(known(false, Wrong, true), user_refused(InvalidCredentials));
    }

    #[test]
    fn the_right_password_through_a_client_that_does_not_serve_the_type_is_403() {
        assert_eq!(
            known(true, Verified, false),
            LoginOutcome::NotServed(UserRef::Id(UserId(7)))
        );
        // A wrong password there is still an ordinary failure (counted).
        assert!(matches!(
            known(true, Wrong, false),
            LoginOutcome::Refuse { .. }
        ));
    }

    #[test]
    fn the_right_password_of_an_active_served_account_issues() {
        assert_eq!(known(true, Verified, true), LoginOutcome::Issue(user(true)));
    }

    #[test]
    fn a_client_requiring_verified_emails_refuses_only_the_right_password_of_an_unverified_user() {
        assert_eq!(
            decide(Some(user(true)), Verified, true, true),
            LoginOutcome::NotVerified(UserRef::Id(UserId(7)))
        );
        // A wrong password stays the ordinary (counted) refusal.
        assert!(matches!(
            decide(Some(user(true)), Wrong, true, true),
            LoginOutcome::Refuse { .. }
        ));
        let mut verified = user(true);
        verified.email_verified_at = Some(crate::clock::UnixMillis(1));
        assert_eq!(
            decide(Some(verified.clone()), Verified, true, true),
            LoginOutcome::Issue(verified)
        );
    }

    #[test]
    fn an_unverifiable_hash_asks_an_active_account_for_a_reset_whatever_was_typed() {
        for serves in [true, false] {
            assert_eq!(
                known(true, Unusable, serves),
                LoginOutcome::ResetRequired(UserRef::Id(UserId(7)))
            );
        }
        // A deactivated one learns nothing more than with a wrong password.
        assert_eq!(
            known(false, Unusable, true),
            user_refused(InvalidCredentials)
        );
    }
}
