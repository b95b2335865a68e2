//! `POST /api/admin/mail/test/`: queues one test mail through the outbox,
//! so an admin can check a deployment's mail delivery end to end (and the
//! contract suite can, on every host, without the email flows).

use super::common::StaffErrors;
use super::types::{MailTestIn, MailTestOut};
use crate::api::types::{ErrorOut, FieldErrorsOut};
use crate::audit::{event, AuditEvent};
use crate::context::Ctx;
use crate::error::{json_response, ApiError, FieldErrors};
use crate::json::{check, push, StrField};
use crate::mail::{outbox, test_mail};
use crate::permission::{IsAdminUser, Permission};
use bytes::Bytes;
use http::{Response, StatusCode};

const TO: StrField = StrField::required("to", 254);

/// 503 `mail_not_configured`: the deployment cannot send mail.
pub(crate) fn mail_not_configured() -> ApiError {
    ApiError::detail(
        StatusCode::SERVICE_UNAVAILABLE,
        "mail_not_configured",
        "This server cannot send mail (no SMTP server, development log or mail binding is configured).",
    )
}

pub(crate) async fn test(ctx: &Ctx<'_>) -> Result<Response<Bytes>, ApiError> {
    let caller = &ctx.admin()?;
    // Admins only: a test mail goes to any address the caller types.
    if !IsAdminUser.has_permission(Some(&caller.user)) {
        return Err(ApiError::permission_denied());
    }
    let body = ctx.body()?;
    let mut errors = FieldErrors::new();
    let to = body.str(TO, &mut errors);
    if let Some(to) = &to {
        if !crate::user::is_valid_email(to) {
            push(&mut errors, "to", "Enter a valid email address.");
        }
    }
    check(errors)?;
    let Some(to) = to else {
        return Err(ApiError::field("to", "This field is required."));
    };
    let config = ctx.config();
    if !config.mail_enabled {
        return Err(mail_not_configured());
    }
    let id = outbox::new_id(ctx.env().random.as_ref());
    let mut audit = AuditEvent::new(event::MAIL_TEST_QUEUED, &caller.actor, ctx.now);
    audit.detail = serde_json::json!({ "to": &to, "mail_id": &id });
    ctx.env()
        .sql
        .batch(vec![
            outbox::enqueue(&test_mail(&to, &config.public_url), &id, ctx.now),
            audit.statement(),
        ])
        .await?;
    ctx.mail_queued();
    Ok(json_response(
        StatusCode::ACCEPTED,
        &MailTestOut {
            queued: true,
            to,
            id,
        },
    ))
}

operation! { admin mail_test, post "/api/admin/mail/test/",
    request_body = MailTestIn,
    responses(
        (status = 202, description = "Queued in the outbox; the sender delivers it", body = MailTestOut),
        FieldErrorsOut,
        StaffErrors,
        (status = 503, description = "`mail_not_configured`: no mail transport", body = ErrorOut),
    )
}
