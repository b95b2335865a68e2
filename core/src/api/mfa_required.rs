//! The 401 `mfa_required` that a first factor (password, emailed code)
//! gets when the user has a second one, with its challenge.

use crate::context::Ctx;
use crate::error::json_response;
use crate::mfa;
use crate::store::mfa::Factors;
use crate::user::User;
use bytes::Bytes;
use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The answer to a first factor when the user has a second one: 401
/// `mfa_required` with a new challenge (stored by the caller's batch or
/// by `insert_mfa_challenge`), never tokens.
pub(crate) struct Required {
    pub(crate) response: Response<Bytes>,
    pub(crate) insert: crate::sql::Statement,
}

/// The challenge for `user`, who passed `first` (an `amr` value) through
/// this client, and the 401 that carries it.
pub(crate) fn required(ctx: &Ctx<'_>, user: &User, first: &str, f: &Factors) -> Required {
    let (token, hash) = mfa::new_challenge_token(ctx.env().random.as_ref());
    let insert = crate::store::Store::challenge_statement(
        &hash,
        user.id,
        &ctx.client.id,
        first,
        ctx.now,
        ctx.now.plus_secs(mfa::CHALLENGE_TTL_SECS),
    );
    let response = json_response(
        StatusCode::UNAUTHORIZED,
        &MfaRequiredOut {
            detail: "A second factor is required.".into(),
            code: "mfa_required".into(),
            mfa_token: token,
            methods: f.methods().iter().map(|m| m.to_string()).collect(),
        },
    );
    Required { response, insert }
}

/// 401 `mfa_required`: the first factor was right; answer the challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaRequiredOut {
    pub detail: String,
    pub code: String,
    /// For `POST /api/auth/mfa/verify/`: single use, 5 minutes, this client only.
    pub mfa_token: String,
    pub methods: Vec<String>,
}
