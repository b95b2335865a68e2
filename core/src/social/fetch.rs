//! Talking to providers through the host's [`HttpClient`]: discovery and
//! the key set (cached in the database: a Worker keeps nothing between
//! requests), the code exchange, GitHub's user API. Every failure is a
//! [`FetchError`] the routes turn into a 502-class answer.

use super::id_token::{self, IdTokenError, Verified};
use super::{Discovery, Identity, Provider, DISCOVERY_TTL_MS, JWKS_REFETCH_MS};
use crate::clock::UnixMillis;
use crate::outbound::{HttpClient, OutboundError, OutboundRequest, OutboundResponse};
use crate::store::Store;
use serde::Deserialize;

/// Why a provider exchange failed.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// The provider did not answer, answered an error or nonsense.
    Provider(String),
    /// It did not answer in time.
    Timeout,
    /// The ID token was refused.
    IdToken(String),
    /// The database.
    Sql(crate::sql::SqlError),
}

impl From<crate::sql::SqlError> for FetchError {
    fn from(e: crate::sql::SqlError) -> Self {
        FetchError::Sql(e)
    }
}

fn outbound(what: &str, e: OutboundError) -> FetchError {
    match e {
        OutboundError::Timeout => FetchError::Timeout,
        e => FetchError::Provider(format!("{what}: {e}")),
    }
}

/// The JSON body of a 200, or why not.
fn json<T: for<'de> Deserialize<'de>>(what: &str, r: &OutboundResponse) -> Result<T, FetchError> {
    if r.status != 200 {
        return Err(FetchError::Provider(format!("{what}: status {}", r.status)));
    }
    serde_json::from_slice(&r.body)
        .map_err(|e| FetchError::Provider(format!("{what}: not the expected JSON ({e})")))
}

/// The provider's discovery document: the cached one while fresh, else
/// fetched (its `issuer` must be the configured one) and cached.
pub(crate) async fn discovery(
    http: &dyn HttpClient,
    store: &Store,
    p: &mut Provider,
    now: UnixMillis,
) -> Result<Discovery, FetchError> {
    if let (Some(d), Some(at)) = (&p.discovery, p.discovery_fetched_at) {
        if now.0 - at.0 < DISCOVERY_TTL_MS {
            return Ok(d.clone());
        }
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        p.issuer.trim_end_matches('/')
    );
    let r = http
        .send(OutboundRequest::get(&url))
        .await
        .map_err(|e| outbound("discovery", e))?;
    let d: Discovery = json("discovery", &r)?;
    if d.issuer != p.issuer {
        return Err(FetchError::Provider(format!(
            "discovery names the issuer {:?}, not {:?}",
            d.issuer, p.issuer
        )));
    }
    store.cache_discovery(&p.id, &d, now).await?;
    p.discovery = Some(d.clone());
    p.discovery_fetched_at = Some(now);
    Ok(d)
}

async fn fetch_jwks(
    http: &dyn HttpClient,
    store: &Store,
    p: &mut Provider,
    jwks_uri: &str,
    now: UnixMillis,
) -> Result<String, FetchError> {
    let r = http
        .send(OutboundRequest::get(jwks_uri))
        .await
        .map_err(|e| outbound("key set", e))?;
    let _: serde_json::Value = json("key set", &r)?;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    store.cache_jwks(&p.id, &text, now).await?;
    p.jwks = Some(text.clone());
    p.jwks_fetched_at = Some(now);
    Ok(text)
}

/// Verifies `token` with the cached key set; on an unknown `kid`, fetches
/// the set again (at most once a minute per provider) and tries once more.
pub(crate) async fn verify_id_token(
    http: &dyn HttpClient,
    store: &Store,
    p: &mut Provider,
    d: &Discovery,
    token: &str,
    nonce: &str,
    now: UnixMillis,
) -> Result<Verified, FetchError> {
    let jwks = match p.jwks.clone() {
        Some(j) => j,
        None => fetch_jwks(http, store, p, &d.jwks_uri, now).await?,
    };
    let check = |jwks: &str| id_token::verify(token, jwks, &p.issuer, &p.client_id, nonce, now);
    match check(&jwks) {
        Ok(v) => Ok(v),
        Err(IdTokenError::UnknownKey) => {
            let recent = p
                .jwks_fetched_at
                .is_some_and(|at| now.0 - at.0 < JWKS_REFETCH_MS);
            if recent {
                return Err(FetchError::IdToken("unknown signing key".into()));
            }
            let fresh = fetch_jwks(http, store, p, &d.jwks_uri, now).await?;
            let check =
                |jwks: &str| id_token::verify(token, jwks, &p.issuer, &p.client_id, nonce, now);
            check(&fresh).map_err(|e| match e {
                IdTokenError::UnknownKey => FetchError::IdToken("unknown signing key".into()),
                IdTokenError::Invalid(why) => FetchError::IdToken(why),
            })
        }
        Err(IdTokenError::Invalid(why)) => Err(FetchError::IdToken(why)),
    }
}

#[derive(Deserialize)]
struct TokenOut {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// The token endpoint's answer to the authorization code: `(id_token,
/// access_token)`. OIDC: client_secret_basic (the spec's default);
/// GitHub: the secret in the form, as it documents.
pub(crate) async fn exchange_code(
    http: &dyn HttpClient,
    token_endpoint: &str,
    p: &Provider,
    secret: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<(Option<String>, Option<String>), FetchError> {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let req = match p.kind {
        super::Kind::Oidc => {
            use base64::Engine;
            let mut user = String::new();
            crate::outbound::percent_encode_into(&mut user, &p.client_id);
            let mut pass = String::new();
            crate::outbound::percent_encode_into(&mut pass, secret);
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            OutboundRequest::post_form(token_endpoint, &fields)
                .header("authorization", &format!("Basic {basic}"))
        }
        super::Kind::Github => {
            fields.push(("client_id", &p.client_id));
            fields.push(("client_secret", secret));
            OutboundRequest::post_form(token_endpoint, &fields)
        }
    };
    let r = http
        .send(req)
        .await
        .map_err(|e| outbound("token endpoint", e))?;
    let t: TokenOut = json("token endpoint", &r)?;
    Ok((t.id_token, t.access_token))
}

#[derive(Deserialize)]
struct GithubUser {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

/// GitHub's user (`/user`) and its primary email (`/user/emails`).
pub(crate) async fn github_identity(
    http: &dyn HttpClient,
    api: &str,
    access_token: &str,
) -> Result<Identity, FetchError> {
    let get = |path: &str| {
        OutboundRequest::get(&format!("{api}{path}"))
            .header("authorization", &format!("Bearer {access_token}"))
            .header("accept", "application/vnd.github+json")
    };
    let r = http
        .send(get("/user"))
        .await
        .map_err(|e| outbound("user API", e))?;
    let user: GithubUser = json("user API", &r)?;
    let r = http
        .send(get("/user/emails"))
        .await
        .map_err(|e| outbound("emails API", e))?;
    let emails: Vec<GithubEmail> = json("emails API", &r)?;
    let primary = emails.into_iter().find(|e| e.primary);
    Ok(Identity {
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|e| e.verified),
        email: primary.map(|e| e.email),
        name: user.name,
    })
}
