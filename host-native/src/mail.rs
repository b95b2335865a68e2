//! Mail on the native host: the core's sender (`Gatehouse::deliver_mail`)
//! over SMTP with `lettre` (`--smtp-url`), or printed to the log in
//! development (`--mail-dev`); and the background task that runs it.

use gatehouse_core::config::{SmtpTls, SmtpUrl};
use gatehouse_core::mail::mime;
use gatehouse_core::mail::sender::{DeliveryReport, MailTransport, Outgoing, SendError};
use gatehouse_core::sql::SqlError;
use gatehouse_core::{Config, Gatehouse};
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// One SMTP conversation may take this long (well inside the outbox lease).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The sender runs this often without a cue (retries come due).
const TICK: Duration = Duration::from_secs(2);
/// At shutdown, a pass in progress gets this long to record its outcomes.
const STOP_GRACE: Duration = Duration::from_secs(35);

/// SMTP through lettre. The message text is the core's MIME rendering.
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    url: SmtpUrl,
}

impl SmtpTransport {
    pub fn new(url: &SmtpUrl) -> Result<SmtpTransport, String> {
        let host = url.host.as_str();
        let tls = |required: bool| {
            TlsParameters::new(host.to_owned())
                .map(|p| {
                    if required {
                        Tls::Required(p)
                    } else {
                        Tls::Opportunistic(p)
                    }
                })
                .map_err(|e| format!("TLS setup for {host}: {e}"))
        };
        let tls = match url.tls {
            SmtpTls::Implicit => TlsParameters::new(host.to_owned())
                .map(Tls::Wrapper)
                .map_err(|e| format!("TLS setup for {host}: {e}"))?,
            SmtpTls::StartTls => tls(true)?,
            SmtpTls::Opportunistic => tls(false)?,
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(user) = &url.user {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                url.password.clone().unwrap_or_default(),
            ));
        }
        Ok(SmtpTransport {
            inner: builder.build(),
            url: url.clone(),
        })
    }

    /// The server, without the password, for messages.
    pub fn describe(&self) -> String {
        self.url.redacted()
    }
}

#[async_trait::async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        let bad =
            |what: &str, v: &str| SendError::Permanent(format!("{what} {v:?} is not an address"));
        let from: Address = msg
            .from_address()
            .parse()
            .map_err(|_| bad("the sender", msg.from_address()))?;
        let to: Address = msg
            .mail
            .to
            .parse()
            .map_err(|_| bad("the recipient", &msg.mail.to))?;
        let envelope = Envelope::new(Some(from), vec![to])
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        let text = mime::render(msg);
        match self.inner.send_raw(&envelope, text.as_bytes()).await {
            Ok(_) => Ok(()),
            // A 5xx reply: the server will never take this mail.
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            // 4xx, connection refused, timeout, TLS: later.
            Err(e) => Err(SendError::Retryable(e.to_string())),
        }
    }
}

/// `--mail-dev`: each mail printed to the log, marked as development, and
/// counted as sent (like Django's console e-mail backend).
pub struct DevLogTransport;

#[async_trait::async_trait]
impl MailTransport for DevLogTransport {
    async fn send(&self, msg: &Outgoing) -> Result<(), SendError> {
        tracing::warn!(
            target: "gatehouse::mail_dev",
            to = %msg.mail.to,
            subject = %msg.mail.subject,
            message_id = %msg.message_id,
            "DEVELOPMENT MAIL (--mail-dev: printed here, NOT sent)\n\
             ----- DEVELOPMENT MAIL -----\nFrom: {}\nTo: {}\nSubject: {}\nMessage-ID: {}\n\n{}\n----- END OF DEVELOPMENT MAIL -----",
            msg.from,
            msg.mail.to,
            msg.mail.subject,
            msg.message_id,
            msg.mail.text,
        );
        Ok(())
    }
}

/// The transport `config` asks for; `None` when mail is off.
pub fn transport(config: &Config) -> Result<Option<Arc<dyn MailTransport>>, String> {
    if let Some(url) = &config.smtp {
        return Ok(Some(Arc::new(SmtpTransport::new(url)?)));
    }
    if config.mail_dev {
        return Ok(Some(Arc::new(DevLogTransport)));
    }
    Ok(None)
}

/// Says at start what mail does in this process.
pub fn log_mode(config: &Config) {
    if let Some(url) = &config.smtp {
        tracing::info!(smtp = %url.redacted(), from = %config.mail_from, "mail is sent by SMTP");
    } else if config.mail_dev {
        tracing::warn!(
            "DEVELOPMENT mail mode (--mail-dev): every mail is printed to this log, none is sent"
        );
    } else {
        tracing::warn!(
            "mail is off (neither --smtp-url nor --mail-dev is set): email verification, \
             password reset, email change and sign-in codes answer 503 mail_not_configured, \
             and registration sends no verification mail"
        );
    }
}

/// The running outbox sender, both kinds of message: mail (when a
/// transport is configured) and webhooks (through the core's HTTP client).
/// Woken after a response that queued mail or may have queued an event,
/// and every [`TICK`] for retries.
pub struct Sender {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sender {
    pub fn spawn(gatehouse: Gatehouse, transport: Option<Arc<dyn MailTransport>>) -> Sender {
        let wake = Arc::new(Notify::new());
        let (stop, mut stopped) = watch::channel(false);
        let woken = wake.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = woken.notified() => {}
                    _ = stopped.changed() => break,
                }
                // A pass is never cut short: a message sent but not
                // recorded would go out twice.
                if let Some(transport) = &transport {
                    mail_passes(&gatehouse, transport.as_ref()).await;
                }
                webhook_passes(&gatehouse).await;
            }
        });
        Sender { wake, stop, task }
    }

    /// The cue the server gives after a response that queued mail.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Stops after the pass in progress (if any), waiting at most
    /// [`STOP_GRACE`].
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(STOP_GRACE, self.task).await.is_err() {
            tracing::warn!("the mail sender did not stop in time");
        }
    }
}

/// Mail passes until the due mail is done (each pass claims a batch).
async fn mail_passes(gatehouse: &Gatehouse, transport: &dyn MailTransport) {
    outbox_passes(
        "mail",
        || gatehouse.deliver_mail(transport),
        |id, error| {
            tracing::warn!(mail_id = %id, %error, "a mail was not sent");
        },
    )
    .await
}

/// Webhook passes until the due messages are done.
async fn webhook_passes(gatehouse: &Gatehouse) {
    outbox_passes(
        "webhook",
        || gatehouse.deliver_webhooks(),
        |id, error| {
            tracing::warn!(webhook_id = %id, %error, "a webhook was not delivered");
        },
    )
    .await
}

/// Passes of one kind of outbox row (`what`) while each claims a full
/// batch; `failed` logs a row's failed attempt (its own field name).
async fn outbox_passes<F, Fut>(what: &str, mut pass: F, failed: impl Fn(&str, &str))
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<DeliveryReport, SqlError>>,
{
    loop {
        match pass().await {
            Ok(r) => {
                for (id, error) in &r.errors {
                    failed(id, error);
                }
                if r.claimed > 0 {
                    tracing::info!(
                        sent = r.sent,
                        retrying = r.retrying,
                        dead = r.dead,
                        "{what} outbox pass"
                    );
                }
                if !r.full() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "{what} outbox pass failed; will retry");
                return;
            }
        }
    }
}
