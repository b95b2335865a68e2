//! The JSON shapes of the admin API, also the OpenAPI document's schemas.

use crate::api::types::{profile_in, UserOut};
use crate::api_client::ApiClient;
use crate::store::sessions::SessionInfo;
use crate::usage::Counters;
use crate::user::{User, UserType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user as the admin API shows it: the API's user, and whether the
/// account is active.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminUserOut {
    #[serde(flatten)]
    pub user: UserOut,
    pub is_active: bool,
    /// The user's second factors: `totp` (confirmed), `passkey` (one or more).
    pub mfa: Vec<String>,
}

impl From<&User> for AdminUserOut {
    fn from(u: &User) -> Self {
        AdminUserOut {
            user: UserOut::from(u),
            is_active: u.is_active,
            mfa: Vec::new(),
        }
    }
}

impl AdminUserOut {
    /// With the user's factor kinds.
    pub(crate) fn with_mfa(mut self, kinds: &[&str]) -> Self {
        self.mfa = kinds.iter().map(|k| k.to_string()).collect();
        self
    }
}

/// A new user (staff: creators only; admins: any type).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminUserCreateIn {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(min_length = 1)]
    pub username: String,
    #[schema(min_length = 8)]
    pub password: String,
    pub user_type: UserType,
    #[schema(nullable = false)]
    #[serde(default)]
    pub first_name: Option<String>,
    #[schema(nullable = false)]
    #[serde(default)]
    pub last_name: Option<String>,
}

profile_in! {
    /// A partial update of a user; absent fields stay as they are.
    AdminUserPatchIn {
        /// Only admins may set or leave `staff` / `admin`.
        #[schema(nullable = false)]
        pub user_type: Option<UserType>,
        #[schema(nullable = false)]
        pub is_active: Option<bool>,
    }
}

/// A live login of a user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminSessionOut {
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the last refresh.
    pub last_used_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<SessionInfo> for AdminSessionOut {
    fn from(s: SessionInfo) -> Self {
        AdminSessionOut {
            id: s.id.0,
            client_id: s.client_id.0,
            client_name: s.client_name,
            created_at: s.created_at.to_rfc3339(),
            last_used_at: s.last_used_at.to_rfc3339(),
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// How many logins were ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndedOut {
    pub ended: u64,
}

/// An API client (never its key or key hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClientOut {
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    pub rate_limit: u32,
    pub rate_period_secs: u32,
    pub serves: Vec<UserType>,
    pub allowed_origins: Vec<String>,
    pub is_active: bool,
    /// RFC 3339.
    pub created_at: String,
    /// A login of a user with an unverified email is refused (403
    /// `email_not_verified`).
    pub require_verified_email: bool,
    /// Sign-in with an emailed code is offered.
    pub signin_codes: bool,
    /// The client's password-reset page (null: Gatehouse's own).
    pub reset_url: Option<String>,
    /// The client's page for sign-in with an emailed code (null: the code
    /// mail has no link).
    pub signin_url: Option<String>,
    /// Staff and admins without a second factor who sign in here are told
    /// to enrol (`mfa_enrollment_required`); on by default for `admin`.
    pub require_mfa_for_staff: bool,
}

impl From<&ApiClient> for ClientOut {
    fn from(c: &ApiClient) -> Self {
        ClientOut {
            client_id: c.id.0.clone(),
            name: c.name.clone(),
            client_type: c.client_type.clone(),
            rate_limit: c.rate_limit,
            rate_period_secs: c.rate_period_secs,
            serves: c.serves.clone(),
            allowed_origins: c.allowed_origins.clone(),
            is_active: c.is_active,
            created_at: c.created_at.to_rfc3339(),
            require_verified_email: c.email.require_verified_email,
            signin_codes: c.email.signin_codes,
            reset_url: c.email.reset_url.clone(),
            signin_url: c.email.signin_url.clone(),
            require_mfa_for_staff: c.require_mfa_for_staff,
        }
    }
}

/// A client with its key: only in the answers to create and rotate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientWithKeyOut {
    #[serde(flatten)]
    pub client: ClientOut,
    /// Shown once; only its hash is kept.
    pub api_key: String,
}

/// An API client's settings in a create or a patch: the fields of `head`,
/// then those both take alike (absent: the default, or unchanged).
macro_rules! client_in {
    ($(#[$doc:meta])* $name:ident { $($head:tt)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            $($head)*
            /// `*`, `https://HOST[:PORT]`, or `http://` on `localhost`, `127.0.0.1`
            /// or `[::1]` only.
            #[schema(nullable = false)]
            pub allowed_origins: Option<Vec<String>>,
            #[schema(nullable = false)]
            pub is_active: Option<bool>,
            /// Refuse logins of users whose email is not verified (default false).
            #[schema(nullable = false)]
            pub require_verified_email: Option<bool>,
            /// Offer sign-in with an emailed code (default false).
            #[schema(nullable = false)]
            pub signin_codes: Option<bool>,
            /// The client's password-reset page (`token=…` is added); null:
            /// Gatehouse's own page.
            #[schema(max_length = 2000)]
            pub reset_url: Option<String>,
            /// The client's page for sign-in with an emailed code (`email=…&code=…`
            /// is added); null: the code mail carries the code only.
            #[schema(max_length = 2000)]
            pub signin_url: Option<String>,
            /// Tell staff and admins without a second factor to enrol at sign-in
            /// (default: on for `admin`-type clients, off for the others).
            #[schema(nullable = false)]
            pub require_mfa_for_staff: Option<bool>,
        }
    };
}

client_in! {
    /// A new API client.
    ClientCreateIn {
        #[schema(min_length = 1)]
        pub name: String,
        #[schema(min_length = 1)]
        pub client_type: String,
        pub rate_limit: u32,
        /// Default: `admin` → staff and admin; any other type → creator.
        #[schema(nullable = false)]
        pub serves: Option<Vec<UserType>>,
    }
}

client_in! {
    /// A partial update of a client.
    ClientPatchIn {
        #[schema(nullable = false, min_length = 1)]
        pub name: Option<String>,
        #[schema(nullable = false)]
        pub rate_limit: Option<u32>,
        #[schema(nullable = false)]
        pub serves: Option<Vec<UserType>>,
    }
}

/// Usage figures over a bucket or a range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageCountsOut {
    pub requests: u64,
    pub status_2xx: u64,
    /// Includes the 429s.
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// 429 answers (client rate limit and login throttle).
    pub throttled: u64,
    pub logins: u64,
    pub failed_logins: u64,
    pub registrations: u64,
    pub refreshes: u64,
    pub latency_avg_ms: Option<f64>,
    /// Upper bound of the histogram bucket holding the median.
    pub latency_p50_ms: Option<u32>,
    /// Upper bound of the histogram bucket holding the 99th percentile.
    pub latency_p99_ms: Option<u32>,
}

impl From<&Counters> for UsageCountsOut {
    fn from(c: &Counters) -> Self {
        UsageCountsOut {
            requests: c.requests,
            status_2xx: c.status_2xx,
            status_4xx: c.status_4xx,
            status_5xx: c.status_5xx,
            throttled: c.throttled,
            logins: c.logins,
            failed_logins: c.failed_logins,
            registrations: c.registrations,
            refreshes: c.refreshes,
            latency_avg_ms: c.latency_avg_ms(),
            latency_p50_ms: c.latency_quantile_ms(0.5),
            latency_p99_ms: c.latency_quantile_ms(0.99),
        }
    }
}

/// One bucket of a usage series.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageBucketOut {
    /// RFC 3339: the bucket's first instant.
    pub start: String,
    #[serde(flatten)]
    pub counts: UsageCountsOut,
}

/// One client's usage over a range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientUsageOut {
    pub client_id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    /// `hour` or `day`.
    pub bucket: String,
    pub totals: UsageCountsOut,
    pub series: Vec<UsageBucketOut>,
}

/// A client's totals in the top-clients summary.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopClientOut {
    pub client_id: String,
    pub name: String,
    pub client_type: String,
    #[serde(flatten)]
    pub counts: UsageCountsOut,
}

/// Every client's usage over a range, and the busiest clients.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageSummaryOut {
    pub from: String,
    pub to: String,
    /// `hour` or `day`.
    pub bucket: String,
    pub totals: UsageCountsOut,
    pub series: Vec<UsageBucketOut>,
    pub top_clients: Vec<TopClientOut>,
}

/// One audit record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEventOut {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    pub event: String,
    pub actor_user_id: Option<i64>,
    pub actor_client_id: Option<String>,
    pub ip: Option<String>,
    pub target_user_id: Option<i64>,
    pub target_client_id: Option<String>,
    /// Event-specific; admin changes carry `before` and `after`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Paging links of a list answer (DRF's `PageNumberPagination`).
#[derive(Debug, Clone, Default)]
pub struct PageLinks {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// A page of a listing, built from its links and rows.
pub trait ListPage: Serialize {
    type Item;
    fn new(links: PageLinks, results: Vec<Self::Item>) -> Self;
}

/// A page type per result type: concrete structs keep the OpenAPI schemas
/// plain (no generic schema names).
macro_rules! page {
    ($name:ident, $t:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            pub count: u64,
            /// The next page's path and query, or null.
            pub next: Option<String>,
            /// The previous page's path and query, or null.
            pub previous: Option<String>,
            pub results: Vec<$t>,
        }

        impl ListPage for $name {
            type Item = $t;
            fn new(links: PageLinks, results: Vec<$t>) -> Self {
                $name {
                    count: links.count,
                    next: links.next,
                    previous: links.previous,
                    results,
                }
            }
        }
    };
}

page!(AdminUserPage, AdminUserOut, "A page of users.");
page!(ClientPage, ClientOut, "A page of API clients.");
page!(
    AuditEventPage,
    AuditEventOut,
    "A page of audit events, newest first."
);

/// `POST /api/admin/mail/test/`'s body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MailTestIn {
    /// The recipient.
    #[schema(min_length = 1, max_length = 254, example = "ops@example.com")]
    pub to: String,
}

/// A test mail queued in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MailTestOut {
    pub queued: bool,
    pub to: String,
    /// The outbox id: the left part of the mail's `Message-ID`.
    pub id: String,
}
