//! Configuration from the Worker's `[vars]` and secrets. The names are the
//! native binary's `GATEHOUSE_*` environment variables, and the core's
//! [`Config::from_vars`] reads them on both hosts, so one deployment guide
//! (and one set of checks) covers both.

use gatehouse_core::config::Dashboard;
use gatehouse_core::Config;
use worker::wasm_bindgen::JsValue;
use worker::{js_sys, Env};

/// What the Worker needs at start: the core's [`Config`] and where libSQL is.
pub struct Settings {
    pub core: Config,
    /// `libsql://…` (Turso), `https://…` or, locally, `http://127.0.0.1:PORT` (sqld).
    pub database_url: String,
    /// Turso's database token (a secret); empty for a local sqld.
    pub database_auth_token: String,
}

impl Settings {
    /// Reads every setting; unset ones keep the core's defaults. A value
    /// the core refuses stops the start, naming the variable.
    pub fn from_env(env: &Env) -> worker::Result<Settings> {
        let vars = Vars(env);
        let mut core = Config::from_vars(|name| vars.get(name))
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        // The Worker sends through its `send_email` binding (or, with
        // GATEHOUSE_MAIL_DEV, to its log); SMTP is the native host's.
        if core.smtp.take().is_some() {
            worker::console_error!(
                "GATEHOUSE_SMTP_URL is ignored on the Worker: it sends through its MAIL binding"
            );
        }
        core.mail_enabled = core.mail_dev || crate::mail::has_binding(env);
        let database_url = vars.get("GATEHOUSE_DATABASE_URL").ok_or_else(|| {
            worker::Error::RustError(
                "GATEHOUSE_DATABASE_URL is not set (a [vars] entry or a secret)".into(),
            )
        })?;
        let database_auth_token = vars
            .get("GATEHOUSE_DATABASE_AUTH_TOKEN")
            .unwrap_or_default();
        Ok(Settings {
            core,
            database_url,
            database_auth_token,
        })
    }
}

/// The dashboard's API client for `/admin/config.json`: vars or secrets
/// `GATEHOUSE_DASHBOARD_CLIENT_ID` and `GATEHOUSE_DASHBOARD_API_KEY`, both
/// set. Read on its own, as that page needs no service; only one of them
/// set is logged here, and stops the service's start.
pub fn dashboard(env: &Env) -> Option<Dashboard> {
    let vars = Vars(env);
    match Dashboard::from_vars(|name| vars.get(name)) {
        Ok(d) => d,
        Err(e) => {
            worker::console_error!("{e}");
            None
        }
    }
}

/// The Worker's bindings, read as text. `[vars]` entries may be TOML strings
/// or numbers; secrets are always strings.
struct Vars<'a>(&'a Env);

impl Vars<'_> {
    /// The binding's text, or None when unset or empty.
    fn get(&self, name: &str) -> Option<String> {
        let value = js_sys::Reflect::get(self.0, &JsValue::from_str(name)).ok()?;
        let text = match (value.as_string(), value.as_f64(), value.as_bool()) {
            (Some(s), _, _) => s,
            (None, Some(n), _) => n.to_string(),
            (None, None, Some(b)) => b.to_string(),
            _ => return None,
        };
        let text = text.trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}
