//! Mail on the Worker: the core's outbox sender over Cloudflare's
//! `send_email` binding (`[[send_email]] name = "MAIL"`). `worker` 0.6.7 has
//! no wrapper for it, so it is bound here with wasm-bindgen: an
//! `EmailMessage(from, to, raw)` from `cloudflare:email`, handed to
//! `env.MAIL.send(…)`. The raw text is the core's MIME rendering, whose
//! `Message-ID` is the outbox id and whose `From` is `GATEHOUSE_MAIL_FROM`'s
//! address, as the binding requires.

use gatehouse_core::mail::mime;
use gatehouse_core::mail::sender::{DeliveryReport, MailTransport, Outgoing, SendError};
use gatehouse_core::sql::SqlError;
use gatehouse_core::Gatehouse;
use wasm_bindgen::prelude::*;
use worker::js_sys;

/// The binding's name in wrangler.toml.
pub const BINDING: &str = "MAIL";

#[wasm_bindgen(module = "cloudflare:email")]
extern "C" {
    type EmailMessage;

    #[wasm_bindgen(constructor)]
    fn new(from: &str, to: &str, raw: &str) -> EmailMessage;
}

/// The `send_email` binding, when the Worker has one.
pub struct BindingTransport {
    binding: JsValue,
}

impl BindingTransport {
    pub fn from_env(env: &worker::Env) -> Option<BindingTransport> {
        has_binding(env).then(|| BindingTransport {
            binding: binding(env),
        })
    }
}

fn binding(env: &worker::Env) -> JsValue {
    js_sys::Reflect::get(env, &JsValue::from_str(BINDING)).unwrap_or(JsValue::UNDEFINED)
}

/// Whether wrangler.toml gives the Worker its `send_email` binding.
pub fn has_binding(env: &worker::Env) -> bool {
    binding(env).is_object()
}

gatehouse_core::async_trait_decl! {
impl MailTransport for BindingTransport {
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let raw = mime::render(msg);
        let message = EmailMessage::new(msg.from_address(), &msg.mail.to, &raw);
        let send = js_sys::Reflect::get(&self.binding, &JsValue::from_str("send"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| SendError::Permanent("the MAIL binding has no send()".into()))?;
        // Reflect.apply, not `send.call(…)`: the binding is an RPC stub, on
        // which `.call` would be one more remote property (and `this` an
        // argument to serialize).
        let args = js_sys::Array::of1(&message);
        let promise = js_sys::Reflect::apply(&send, &self.binding, &args)
            .map_err(|e| classify(&e))?;
        settle(js_sys::Promise::from(promise)).await
    }
}
}

/// Waits for the binding's promise (a JS future: only inside the Worker;
/// the native build of the unit tests never sends).
#[cfg(target_arch = "wasm32")]
async fn settle(promise: js_sys::Promise) -> Result<(), SendError> {
    worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| classify(&e))
}

#[cfg(not(target_arch = "wasm32"))]
async fn settle(_promise: js_sys::Promise) -> Result<(), SendError> {
    Err(SendError::Permanent(
        "the send_email binding exists only in a Worker".into(),
    ))
}

/// The binding's refusals that no retry can change (a destination or
/// sender it does not allow, a message it cannot parse) are permanent;
/// anything else (a network or service failure) is retried.
fn classify(e: &JsValue) -> SendError {
    let text = js_sys::Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    let permanent = [
        "not allowed",
        "could not parse",
        "invalid",
        "does not match",
    ]
    .iter()
    .any(|p| text.contains(p));
    if permanent {
        SendError::Permanent(text)
    } else {
        SendError::Retryable(text)
    }
}

/// `GATEHOUSE_MAIL_DEV` on the Worker: each mail to the log (`wrangler
/// tail`), marked as development, counted as sent.
pub struct DevLogTransport;

gatehouse_core::async_trait_decl! {
impl MailTransport for DevLogTransport {
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        worker::console_log!(
            "DEVELOPMENT MAIL (GATEHOUSE_MAIL_DEV: printed here, NOT sent)\nFrom: {}\nTo: {}\nSubject: {}\nMessage-ID: {}\n\n{}\n----- END OF DEVELOPMENT MAIL -----",
            msg.from,
            msg.mail.to,
            msg.mail.subject,
            msg.message_id,
            msg.mail.text
        );
        Ok(())
    }
}
}

/// The Worker's transport: the binding, else the development log when
/// `GATEHOUSE_MAIL_DEV` is set, else none (mail is off).
pub fn transport(env: &worker::Env, mail_dev: bool) -> Option<Box<dyn MailTransport>> {
    match BindingTransport::from_env(env) {
        Some(t) => Some(Box::new(t)),
        None if mail_dev => Some(Box::new(DevLogTransport)),
        None => None,
    }
}

/// Delivery passes until the due rows are done (each pass claims a batch).
pub async fn deliver(service: &Gatehouse, transport: &dyn MailTransport) {
    passes("mail", "sent", || service.deliver_mail(transport)).await
}

/// Webhook passes until the due messages are done. The Cron Trigger
/// retries what stays due.
pub async fn deliver_webhooks(service: &Gatehouse) {
    passes("webhook", "delivered", || service.deliver_webhooks()).await
}

/// Passes of one kind of outbox row (`what`) while each claims a full
/// batch. A bound on passes: the Worker's time after a response is limited.
async fn passes<F, Fut>(what: &str, done: &str, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<DeliveryReport, SqlError>>,
{
    for _ in 0..8 {
        match pass().await {
            Ok(r) => {
                for (id, error) in &r.errors {
                    worker::console_error!("{what} {id} was not {done}: {error}");
                }
                if !r.full() {
                    return;
                }
            }
            Err(e) => {
                worker::console_error!("{what} outbox pass failed: {e}");
                return;
            }
        }
    }
}
