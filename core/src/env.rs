//! [`Env`]: everything the core needs from the world, supplied by a host.

use crate::clock::Clock;
use crate::outbound::HttpClient;
use crate::password::PasswordHasher;
use crate::random::Random;
use crate::rate_limit::RateLimitStore;
use crate::sql::SqlExecutor;
use std::sync::Arc;

/// The host's implementations of the core's I/O traits.
#[derive(Clone)]
pub struct Env {
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub sql: Arc<dyn SqlExecutor>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// Outbound HTTP (identity providers, webhooks), under the configured
    /// [`crate::outbound::OutboundPolicy`].
    pub http: Arc<dyn HttpClient>,
}
