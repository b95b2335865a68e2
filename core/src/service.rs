//! The one HTTP surface: a host hands in an `http::Request<Bytes>` and gets
//! an `http::Response<Bytes>` back.

use crate::config::Config;
use crate::env::Env;
use bytes::Bytes;
use http::{Request, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The caller's IP address, put into the request's extensions by the host
/// (socket peer natively, `CF-Connecting-IP` on the Worker). Used for the
/// per-IP failed-login throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Failure to start the service (database unreachable, bad key config).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
    #[error("signing key: {0}")]
    Key(String),
}

/// The Gatehouse service. Cheap to clone; share one per process/isolate.
#[derive(Clone)]
pub struct Gatehouse {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) env: Env,
}

impl Gatehouse {
    /// Builds the service over a migrated database: loads (or, on first
    /// start, creates) the signing key.
    pub async fn start(config: Config, env: Env) -> Result<Gatehouse, StartError> {
        Ok(Gatehouse {
            inner: Arc::new(Inner { config, env }),
        })
    }

    /// Serves one request. Never panics on bad input; every error is a JSON body.
    pub async fn handle(&self, _req: Request<Bytes>) -> Response<Bytes> {
        todo!()
    }

    /// The 413 response a host sends when a body exceeds
    /// [`crate::config::MAX_BODY_BYTES`] (the host stops reading early).
    pub fn payload_too_large() -> Response<Bytes> {
        todo!()
    }
}
