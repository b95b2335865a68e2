//! The endpoints, one module each, and what they share: the JSON shapes
//! ([`types`]) and opening a login ([`Gatehouse::open_session`]).

mod change_password;
mod login;
mod logout;
mod profile;
mod refresh;
mod register;
mod sessions;
pub mod types;

pub(crate) use sessions::MAX_SESSIONS_LISTED;

/// Messages shared with the operator commands.
pub(crate) mod register_messages {
    pub(crate) use super::register::{EMAIL_TAKEN, USERNAME_TAKEN};
}

use crate::api_client::ApiClient;
use crate::error::ApiError;
use crate::service::{Ctx, Gatehouse};
use crate::store::SessionInsert;
use crate::token::{new_jti, Issue, SessionId, TokenType};
use crate::user::User;
use types::TokenPair;

/// A login about to be stored, and the tokens that go with it.
pub(crate) struct NewSession {
    pub(crate) id: SessionId,
    pub(crate) jti: String,
}

impl Gatehouse {
    /// Ids for a new login (refresh-token family).
    pub(crate) fn new_session(&self) -> NewSession {
        let rng = self.env().random.as_ref();
        NewSession {
            id: SessionId(new_jti(rng)),
            jti: new_jti(rng),
        }
    }

    /// The row that stores `s` for a request.
    pub(crate) fn session_insert<'a>(
        &self,
        s: &'a NewSession,
        client: &'a ApiClient,
        ctx: &Ctx<'_>,
    ) -> SessionInsert<'a> {
        let cfg = self.config();
        SessionInsert {
            id: &s.id,
            client_id: &client.id,
            jti: &s.jti,
            now: ctx.now,
            refresh_expires_at: ctx
                .now
                .plus_secs(cfg.refresh_ttl_secs.min(cfg.session_max_age_secs)),
            absolute_expires_at: ctx.now.plus_secs(cfg.session_max_age_secs),
            ip: ctx.ip().map(|ip| ip.to_string()),
            user_agent: ctx.user_agent(),
        }
    }

    /// Signs an access token and the refresh token `refresh_jti` of login
    /// `sid`. The refresh token never outlives its family.
    pub(crate) fn token_pair(
        &self,
        user: &User,
        client: &ApiClient,
        sid: &SessionId,
        refresh_jti: &str,
        refresh_ttl_secs: i64,
        ctx: &Ctx<'_>,
    ) -> TokenPair {
        let cfg = self.config();
        let access_jti = new_jti(self.env().random.as_ref());
        let access = self.codec().issue(Issue {
            token_type: TokenType::Access,
            user,
            client_id: &client.id,
            sid,
            jti: &access_jti,
            now: ctx.now,
            ttl_secs: cfg.access_ttl_secs,
        });
        let refresh = self.codec().issue(Issue {
            token_type: TokenType::Refresh,
            user,
            client_id: &client.id,
            sid,
            jti: refresh_jti,
            now: ctx.now,
            ttl_secs: refresh_ttl_secs,
        });
        TokenPair { access, refresh }
    }

    /// The refresh lifetime of a brand-new login.
    pub(crate) fn first_refresh_ttl(&self) -> i64 {
        let cfg = self.config();
        cfg.refresh_ttl_secs.min(cfg.session_max_age_secs)
    }

    /// Opens a login for `user` through the calling client and returns its
    /// tokens.
    pub(crate) async fn login_user(
        &self,
        user: &User,
        ctx: &Ctx<'_>,
    ) -> Result<TokenPair, ApiError> {
        let s = self.new_session();
        let insert = self.session_insert(&s, &ctx.client, ctx);
        let audit = ctx
            .audit(crate::audit::event::LOGIN_SUCCEEDED, Some(user.id))
            .target_user(crate::audit::UserRef::Id(user.id))
            .detail(serde_json::json!({"session_id": s.id.0, "user_agent": ctx.user_agent()}));
        self.store()
            .insert_session(user.id, &insert, &audit)
            .await?;
        Ok(self.token_pair(
            user,
            &ctx.client,
            &s.id,
            &s.jti,
            self.first_refresh_ttl(),
            ctx,
        ))
    }
}
