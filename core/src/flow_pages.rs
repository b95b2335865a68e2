//! The minimal pages Gatehouse serves itself for the links it mails when a
//! client has no page of its own: `/auth/reset/` (choose a new password),
//! `/auth/verify/` (confirm an address) and `/auth/email-change/` (confirm a
//! new address). No API key: the mailed token is the credential, and the
//! page's API client is the one that asked for the mail (kept with the
//! token).
//!
//! GET shows a form and changes nothing (mail scanners fetch links); its
//! POST (a plain HTML form, `application/x-www-form-urlencoded`) does what
//! the API route does, through the same function. No script and no inline
//! style: the Content-Security-Policy allows nothing but the form's own
//! submission.

use crate::api::{email_change, email_verify, password_reset};
use crate::clock::UnixMillis;
use crate::context::{Ctx, Shared};
use crate::email_token::{self, Purpose};
use crate::error::ApiError;
use crate::mail::escape;
use crate::pages::finish;
use crate::query::Query;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};

/// Nothing but the form posting to this origin.
pub const CSP_FLOW_PAGES: &str =
    "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The largest form body read (two passwords and a token).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// One of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowPage {
    Reset,
    Verify,
    EmailChange,
}

impl FlowPage {
    /// The page at `path`, if it is one.
    pub fn at(path: &str) -> Option<FlowPage> {
        match path {
            "/auth/reset/" => Some(FlowPage::Reset),
            "/auth/verify/" => Some(FlowPage::Verify),
            "/auth/email-change/" => Some(FlowPage::EmailChange),
            _ => None,
        }
    }

    fn purpose(self) -> Purpose {
        match self {
            FlowPage::Reset => Purpose::Reset,
            FlowPage::Verify => Purpose::Verify,
            FlowPage::EmailChange => Purpose::EmailChange,
        }
    }

    fn title(self) -> &'static str {
        match self {
            FlowPage::Reset => "Choose a new password",
            FlowPage::Verify => "Confirm your email address",
            FlowPage::EmailChange => "Confirm your new email address",
        }
    }
}

/// The answer to a request for `page`.
pub(crate) async fn answer(
    shared: &Shared,
    page: FlowPage,
    req: &Request<Bytes>,
    now: UnixMillis,
) -> Response<Bytes> {
    let method = req.method();
    let resp = if method == Method::GET || method == Method::HEAD {
        let token = Query::parse(req.uri().query())
            .get("token")
            .unwrap_or_default()
            .to_owned();
        form(page, &token, &[])
    } else if method == Method::POST {
        post(shared, page, req, now).await
    } else {
        let mut r = html(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "<p>Use the link from the mail.</p>",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        r
    };
    finish(resp, CSP_FLOW_PAGES, method)
}

async fn post(
    shared: &Shared,
    page: FlowPage,
    req: &Request<Bytes>,
    now: UnixMillis,
) -> Response<Bytes> {
    if req.body().len() > MAX_FORM_BYTES {
        return html(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "<p>The form is too large.</p>",
        );
    }
    let form_text = std::str::from_utf8(req.body()).unwrap_or_default();
    let fields = Query::parse(Some(form_text));
    let token = fields.get("token").unwrap_or_default().to_owned();
    // The token names the client that asked for the mail: its name goes in
    // the mails the action sends, as with the API route.
    let client = if email_token::well_formed(&token) {
        match shared
            .store
            .email_token(&email_token::token_hash(&token))
            .await
        {
            Ok(Some(row)) if row.purpose == page.purpose().as_str() => {
                shared.store.client(&row.client_id).await.ok().flatten()
            }
            Ok(_) => None,
            Err(e) => return error_page(page, &token, ApiError::from(e)),
        }
    } else {
        None
    };
    let Some(client) = client.filter(|c| c.is_active) else {
        return error_page(page, &token, crate::api::email_flow::invalid_token());
    };
    let ctx = Ctx {
        shared,
        req,
        client: std::sync::Arc::new(client),
        now,
        params: Vec::new(),
        caller: None,
        body_limit: MAX_FORM_BYTES,
    };
    let done = match page {
        FlowPage::Reset => password_reset::reset_password(
            &ctx,
            &token,
            fields.get("password").unwrap_or_default(),
            fields.get("password2").unwrap_or_default(),
        )
        .await
        .map(|()| password_reset::PASSWORD_RESET_DONE.to_owned()),
        FlowPage::Verify => email_verify::verify_email(&ctx, &token)
            .await
            .map(|()| email_verify::EMAIL_VERIFIED.to_owned()),
        FlowPage::EmailChange => email_change::change_email(&ctx, &token).await.map(|email| {
            format!(
                "{} Your email address is now {email}.",
                email_change::EMAIL_CHANGED
            )
        }),
    };
    match done {
        Ok(msg) => html(
            StatusCode::OK,
            page.title(),
            &format!("<p>{}</p><p>You can close this page.</p>", escape(&msg)),
        ),
        Err(e) => error_page(page, &token, e),
    }
}

/// A refusal: field errors show the form again (the token is still good);
/// anything else says why.
fn error_page(page: FlowPage, token: &str, e: ApiError) -> Response<Bytes> {
    match e {
        ApiError::Fields(errors) => {
            let msgs: Vec<String> = errors.into_values().flatten().collect();
            let mut r = form(page, token, &msgs);
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
        ApiError::Detail { status, detail, .. } => {
            html(status, page.title(), &format!("<p>{}</p>", escape(&detail)))
        }
    }
}

/// The page's form, with `errors` above it.
fn form(page: FlowPage, token: &str, errors: &[String]) -> Response<Bytes> {
    let mut body = String::new();
    for e in errors {
        body.push_str(&format!("<p><strong>{}</strong></p>", escape(e)));
    }
    body.push_str(&format!(
        "<form method=\"post\"><input type=\"hidden\" name=\"token\" value=\"{}\">",
        escape(token)
    ));
    match page {
        FlowPage::Reset => body.push_str(
            "<p><label>New password<br><input type=\"password\" name=\"password\" autocomplete=\"new-password\" required minlength=\"8\"></label></p>\
             <p><label>New password again<br><input type=\"password\" name=\"password2\" autocomplete=\"new-password\" required></label></p>\
             <p><button type=\"submit\">Set the new password</button></p>",
        ),
        FlowPage::Verify | FlowPage::EmailChange => {
            body.push_str("<p><button type=\"submit\">Confirm</button></p>")
        }
    }
    body.push_str("</form>");
    html(StatusCode::OK, page.title(), &body)
}

fn html(status: StatusCode, title: &str, body: &str) -> Response<Bytes> {
    let text = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    let mut r = Response::new(Bytes::from(text));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
