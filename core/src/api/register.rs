//! `POST /api/auth/register/`: self-registration, always as a creator.

use super::tokens::{first_refresh_ttl, new_session, session_insert, token_pair};
use super::types::{BadApiKey, ErrorOut, RegisterIn, RegisterOut, UserOut};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, JsonBody, StrField};
use crate::password::validation::{validate_password, UserAttributes};
use crate::rate_limit::RateDecision;
use crate::sql::SqlError;
use crate::store::users::UserInsert;
use crate::user::{canonical_email, canonical_username, Taken, UserType};
use bytes::Bytes;
use http::{Response, StatusCode};

pub(crate) const EMAIL: StrField = StrField::required("email", 254);
pub(crate) const USERNAME: StrField = StrField::required("username", 150);
pub(crate) const FIRST_NAME: StrField = StrField::optional_blank("first_name", 150);
pub(crate) const LAST_NAME: StrField = StrField::optional_blank("last_name", 150);

pub(crate) use crate::password::validation::MISMATCH;

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    // Gather, in the order the answer depends on them: the client's
    // audience, the per-IP throttle (spent only for a served client), the
    // body, then which of its email and username are taken.
    let serves = ctx.client.serves(UserType::Creator);
    let throttle = match ctx.ip() {
        Some(ip) if serves => Some(
            ctx.env()
                .rate_limits
                .check(
                    &format!("register:ip:{ip}"),
                    ctx.config().registrations_per_ip,
                    ctx.now,
                    true,
                )
                .await?,
        ),
        _ => None,
    };
    if let Some(refusal) = admit(serves, throttle.as_ref()) {
        return Err(refusal.into());
    }
    let body = ctx.body()?;
    let form = RegisterForm::read(&body, ctx.config().allow_unicode_email_local_part);
    let taken = form.taken(ctx).await?;
    let r = match decide(form, taken) {
        RegisterOutcome::Create(r) => r,
        refusal => return Err(refusal.into()),
    };

    let salt: [u8; 16] = crate::random::bytes(ctx.env().random.as_ref());
    let hash = ctx.env().hasher.hash(r.password, salt).await?;
    let s = new_session(ctx, crate::mfa::amr::PWD);
    let insert = UserInsert {
        email: &r.email,
        username: &r.username,
        first_name: &r.first_name,
        last_name: &r.last_name,
        user_type: UserType::Creator,
        password_hash: &hash,
        now: ctx.now,
    };
    let session = session_insert(ctx, &s);
    let audit = ctx
        .audit(crate::audit::event::USER_REGISTERED, None)
        .actor_user(crate::audit::UserRef::OwnerOf(s.id.clone()))
        .target_user(crate::audit::UserRef::OwnerOf(s.id.clone()))
        .detail(
            serde_json::json!({"email": r.email, "username": r.username, "session_id": s.id.0}),
        );
    // The verification mail commits with the user (when mail is on).
    let with = if ctx.config().mail_enabled {
        let t = crate::email_token::new_token(ctx.env().random.as_ref());
        let sent = ctx
            .audit(crate::audit::event::EMAIL_VERIFICATION_SENT, None)
            .actor_user(crate::audit::UserRef::OwnerOf(s.id.clone()))
            .target_user(crate::audit::UserRef::OwnerOf(s.id.clone()));
        let mail = super::email_flow::verification_mail(ctx, &r.email, &t.token);
        vec![
            crate::store::email_tokens::verify_token_for_session_owner(
                &s.id.0,
                &r.email,
                &ctx.client.id.0,
                &t.hash,
                ctx.now,
                ctx.now.plus_secs(ctx.config().verify_token_ttl_secs),
            ),
            super::email_flow::enqueue(ctx, &mail),
            sent.statement(),
        ]
    } else {
        Vec::new()
    };
    let queued = !with.is_empty();
    let user = match ctx
        .store()
        .insert_user_with_session(&insert, &session, &audit, with)
        .await
    {
        Ok(u) => u,
        // Lost a race with a concurrent registration of the same email or name.
        Err(SqlError::UniqueViolation(_)) => {
            return Err(lost_race(ctx, &r.email, &r.username).await);
        }
        Err(e) => return Err(e.into()),
    };
    if queued {
        ctx.mail_queued();
    }
    let pair = token_pair(ctx, &user, &s.id, &s.jti, first_refresh_ttl(ctx), &s.amr);
    let out = RegisterOut {
        user: UserOut::from(&user),
        access: pair.access,
        refresh: pair.refresh,
    };
    Ok(json_response(StatusCode::CREATED, &out))
}

/// A user insert that lost to a concurrent one with the same email or
/// username: "already exists" on the field(s) now taken, else the conflict.
pub(crate) async fn lost_race(ctx: &Ctx<'_>, email: &str, username: &str) -> ApiError {
    let mut errors = FieldErrors::new();
    match ctx.store().taken(email, username).await {
        Ok(taken) => taken.push_errors(&mut errors),
        Err(e) => return e.into(),
    }
    match check(errors) {
        Err(e) => e,
        Ok(()) => SqlError::UniqueViolation("users".into()).into(),
    }
}

/// The body of a registration, read and canonicalised; `errors` holds what
/// was wrong with it field by field.
#[derive(Debug, Default)]
pub(crate) struct RegisterForm {
    pub(crate) email: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) password2: Option<String>,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) errors: FieldErrors,
}

impl RegisterForm {
    pub(crate) fn read(body: &JsonBody, allow_unicode_local: bool) -> RegisterForm {
        let mut errors = FieldErrors::new();
        let email = body.str(EMAIL, &mut errors).and_then(|e| {
            field_value(
                canonical_email(&e, allow_unicode_local),
                "email",
                &mut errors,
            )
        });
        let username = body
            .str(USERNAME, &mut errors)
            .and_then(|u| field_value(canonical_username(&u), "username", &mut errors));
        RegisterForm {
            email,
            username,
            password: body.str(StrField::password("password"), &mut errors),
            password2: body.str(StrField::password("password2"), &mut errors),
            first_name: body.str(FIRST_NAME, &mut errors).unwrap_or_default(),
            last_name: body.str(LAST_NAME, &mut errors).unwrap_or_default(),
            errors,
        }
    }

    /// Which of the valid email and username are taken (no query when
    /// neither is valid).
    async fn taken(&self, ctx: &Ctx<'_>) -> Result<Taken, ApiError> {
        if self.email.is_none() && self.username.is_none() {
            return Ok(Taken::default());
        }
        let (e, u) = (self.email.as_deref(), self.username.as_deref());
        Ok(ctx
            .store()
            .taken(e.unwrap_or_default(), u.unwrap_or_default())
            .await?)
    }
}

/// A registration that passed every rule: what to create.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Registration {
    pub(crate) email: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
}

/// What a registration attempt comes to.
#[derive(Debug, PartialEq)]
pub(crate) enum RegisterOutcome {
    /// 403 `user_type_not_allowed`: the client does not serve creators.
    NotServed,
    /// 429 `register_throttled`: too many attempts from this IP.
    Throttle { retry_after_secs: u64 },
    /// 400 with these field errors.
    Refuse(FieldErrors),
    /// Hash the password; insert the user, its first login and the audit
    /// event in one batch; answer 201 with the user and its tokens.
    Create(Registration),
}

impl From<RegisterOutcome> for ApiError {
    /// The answer of a refusal (`Create` is not one: the handler acts on it).
    fn from(o: RegisterOutcome) -> ApiError {
        match o {
            RegisterOutcome::NotServed => ApiError::user_type_not_allowed(),
            RegisterOutcome::Throttle { retry_after_secs } => {
                ApiError::throttled("register_throttled", retry_after_secs)
            }
            RegisterOutcome::Refuse(errors) => ApiError::Fields(errors),
            RegisterOutcome::Create(_) => ApiError::not_found(),
        }
    }
}

/// Before the body is read: a client that does not serve creators is
/// refused outright; a served one is held to the per-IP throttle (every
/// attempt counts, so it also slows probing for taken addresses through
/// "already exists"). None: read the body.
pub(crate) fn admit(serves: bool, throttle: Option<&RateDecision>) -> Option<RegisterOutcome> {
    if !serves {
        return Some(RegisterOutcome::NotServed);
    }
    match throttle {
        Some(d) if !d.allowed => Some(RegisterOutcome::Throttle {
            retry_after_secs: d.retry_after_secs,
        }),
        _ => None,
    }
}

/// The registration decision, from the read body and what is taken: the
/// field errors (the body's own, the password pair and Django's password
/// validators, "already exists") all at once, or the user to create.
pub(crate) fn decide(form: RegisterForm, taken: Taken) -> RegisterOutcome {
    let mut errors = form.errors;
    if let (Some(p), Some(p2)) = (&form.password, &form.password2) {
        if p != p2 {
            push(&mut errors, "password", MISMATCH);
        } else {
            let attrs = UserAttributes {
                username: form.username.as_deref().unwrap_or_default(),
                email: form.email.as_deref().unwrap_or_default(),
                first_name: &form.first_name,
                last_name: &form.last_name,
            };
            for msg in validate_password(p, &attrs) {
                push(&mut errors, "password", msg);
            }
        }
    }
    taken.push_errors(&mut errors);
    match (form.email, form.username, form.password) {
        (Some(email), Some(username), Some(password)) if errors.is_empty() => {
            RegisterOutcome::Create(Registration {
                email,
                username,
                password,
                first_name: form.first_name,
                last_name: form.last_name,
            })
        }
        _ => RegisterOutcome::Refuse(errors),
    }
}

/// A validated value, or its message recorded under `name`.
pub(crate) fn field_value<T>(
    r: Result<T, &'static str>,
    name: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    r.map_err(|msg| push(errors, name, msg)).ok()
}

// ---- OpenAPI: the operation(s) of this file's route(s)

operation! { client register, post "/api/auth/register/", "auth", request_body = RegisterIn,
    responses(
        (status = 201, description = "Registered as a creator", body = RegisterOut),
        (status = 400, description = "Field errors: {\"field\": [\"message\", …]}"),
        BadApiKey,
        (status = 403, description = "Client inactive or does not serve creators", body = ErrorOut),
        (status = 413, description = "Body over 64 KiB", body = ErrorOut),
        (status = 415, description = "Not application/json", body = ErrorOut),
        (status = 429, description = "Client rate limit, or too many registrations from this IP", body = ErrorOut),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::rate_limit::{MemoryRateLimitStore, Quota};
    use crate::testing::T0;
    use crate::user::{EMAIL_TAKEN, USERNAME_TAKEN};

    /// A JSON body as the handler reads it.
    pub(crate) fn body(v: serde_json::Value) -> JsonBody {
        let req = http::Request::builder()
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Bytes::from(v.to_string()))
            .expect("request");
        crate::json::parse_body(&req, crate::config::MAX_BODY_BYTES).expect("a JSON object")
    }

    fn form(v: serde_json::Value) -> RegisterForm {
        RegisterForm::read(&body(v), false)
    }

    fn ada() -> serde_json::Value {
        serde_json::json!({
            "email": "Ada@Example.COM", "username": "ada",
            "password": "correct horse battery", "password2": "correct horse battery",
            "first_name": "Ada",
        })
    }

    fn refused(o: RegisterOutcome) -> FieldErrors {
        match o {
            RegisterOutcome::Refuse(e) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_free_registration_creates_the_canonical_user() {
        let RegisterOutcome::Create(r) = decide(form(ada()), Taken::default()) else {
            panic!("expected Create");
        };
        // The domain is lowercased, the local part kept as given.
        assert_eq!(r.email, "Ada@example.com");
        assert_eq!(r.username, "ada");
        assert_eq!(r.password, "correct horse battery");
        assert_eq!((r.first_name.as_str(), r.last_name.as_str()), ("Ada", ""));
    }

    #[test]
    fn taken_email_and_username_are_refused_together_with_other_errors() {
        let mut v = ada();
        v["password2"] = "something else entirely".into();
        let errors = refused(decide(
            form(v),
            Taken {
                email: true,
                username: true,
            },
        ));
        assert_eq!(errors["email"], [EMAIL_TAKEN]);
        assert_eq!(errors["username"], [USERNAME_TAKEN]);
        assert_eq!(errors["password"], [MISMATCH]);
    }

    #[test]
    fn a_mismatched_pair_is_refused_before_the_validators_run() {
        let mut v = ada();
        v["password"] = "1".into();
        v["password2"] = "2".into();
        // Only the mismatch: "too short" / "entirely numeric" are not looked at.
        assert_eq!(
            refused(decide(form(v), Taken::default()))["password"],
            [MISMATCH]
        );
    }

    #[test]
    fn a_weak_password_gets_every_validator_message() {
        let mut v = ada();
        v["password"] = "12345".into();
        v["password2"] = "12345".into();
        let errors = refused(decide(form(v), Taken::default()));
        let msgs = &errors["password"];
        assert!(msgs.len() >= 2, "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("too short")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("numeric")), "{msgs:?}");
    }

    #[test]
    fn a_password_like_the_username_is_refused() {
        let mut v = ada();
        v["username"] = "grace_hopper_1906".into();
        v["password"] = "grace_hopper_1906".into();
        v["password2"] = "grace_hopper_1906".into();
        let errors = refused(decide(form(v), Taken::default()));
        assert!(
            errors["password"].iter().any(|m| m.contains("similar")),
            "{errors:?}"
        );
    }

    #[test]
    fn missing_and_invalid_fields_are_all_reported_and_nothing_is_created() {
        let errors = refused(decide(
            form(serde_json::json!({"email": "not an email", "username": "a b"})),
            Taken::default(),
        ));
        for field in ["email", "username", "password", "password2"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
        // A taken-check on the invalid email is never made (nothing to add).
        assert!(!errors["email"].iter().any(|m| m == EMAIL_TAKEN));
    }

    #[test]
    fn a_client_that_does_not_serve_creators_is_refused_whatever_the_throttle() {
        let spent = RateDecision {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_after_secs: 60,
            retry_after_secs: 60,
        };
        assert_eq!(admit(false, None), Some(RegisterOutcome::NotServed));
        assert_eq!(admit(false, Some(&spent)), Some(RegisterOutcome::NotServed));
        // A served client without a known IP has no per-IP throttle.
        assert_eq!(admit(true, None), None);
    }

    #[test]
    fn the_per_ip_throttle_refuses_the_attempt_over_quota_until_time_passes() {
        let clock = FixedClock::new(T0);
        let limits = MemoryRateLimitStore::default();
        let quota = Quota {
            limit: 2,
            period_secs: 60,
        };
        let attempt = || {
            let d = limits.check_now("register:ip:192.0.2.1", quota, clock.now(), true);
            admit(true, Some(&d))
        };
        assert_eq!(attempt(), None);
        assert_eq!(attempt(), None);
        assert_eq!(
            attempt(),
            Some(RegisterOutcome::Throttle {
                retry_after_secs: 30
            })
        );
        clock.advance_secs(30);
        assert_eq!(attempt(), None);
    }
}
