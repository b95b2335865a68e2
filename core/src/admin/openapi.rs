//! The admin API's schemas and tag, merged into the main document by
//! [`crate::openapi::document`]. Each operation lives beside its handler
//! (`#[utoipa::path]` stubs in `admin/*.rs`), placed by the route table.

use super::types::{
    AdminSessionOut, AdminUserCreateIn, AdminUserOut, AdminUserPage, AdminUserPatchIn,
    AuditEventOut, AuditEventPage, ClientCreateIn, ClientOut, ClientPage, ClientPatchIn,
    ClientUsageOut, ClientWithKeyOut, EndedOut, MailTestIn, MailTestOut, TopClientOut,
    UsageBucketOut, UsageCountsOut, UsageSummaryOut,
};
use super::webhooks::{
    WebhookAttemptOut, WebhookCreateIn, WebhookDeliveriesOut, WebhookList, WebhookMessageOut,
    WebhookOut, WebhookPatchIn, WebhookQueuedOut, WebhookWithSecretOut,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    components(schemas(
        AdminUserOut, AdminUserCreateIn, AdminUserPatchIn, AdminUserPage, AdminSessionOut,
        EndedOut, ClientOut, ClientWithKeyOut, ClientCreateIn, ClientPatchIn, ClientPage,
        UsageCountsOut, UsageBucketOut, ClientUsageOut, TopClientOut, UsageSummaryOut,
        AuditEventOut, AuditEventPage, MailTestIn, MailTestOut, WebhookOut, WebhookWithSecretOut,
        WebhookList, WebhookCreateIn, WebhookPatchIn, WebhookMessageOut, WebhookAttemptOut,
        WebhookDeliveriesOut, WebhookQueuedOut, super::keys::KeysOut, crate::keys::KeyInfo
    )),
    tags((name = "admin", description = "The admin API (docs/ADMIN_API.md): an API client of type admin and a staff or admin user's bearer token. Staff manage creators and API clients; only admins create or change staff and admins."))
)]
pub(crate) struct AdminDoc;
