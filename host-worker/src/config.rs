//! Configuration from the Worker's `[vars]` and secrets. The names are the
//! native binary's `GATEHOUSE_*` environment variables, so one deployment
//! guide covers both hosts.

use gatehouse_core::config::SigningConfig;
use gatehouse_core::Config;
use std::str::FromStr;
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
    /// Reads every setting; unset ones keep the core's defaults.
    pub fn from_env(env: &Env) -> worker::Result<Settings> {
        let vars = Vars(env);
        let mut core = Config::default();
        vars.parse_into("GATEHOUSE_ACCESS_TTL", &mut core.access_ttl_secs)?;
        vars.parse_into("GATEHOUSE_REFRESH_TTL", &mut core.refresh_ttl_secs)?;
        vars.parse_into("GATEHOUSE_SESSION_MAX_AGE", &mut core.session_max_age_secs)?;
        if let Some(v) = vars.get("GATEHOUSE_ISSUER") {
            core.issuer = v;
        }
        if let Some(v) = vars.get("GATEHOUSE_AUDIENCE") {
            core.audience = v;
        }
        core.signing = signing(&vars)?;
        vars.parse_into("GATEHOUSE_ARGON2_MEMORY_KIB", &mut core.argon2.memory_kib)?;
        vars.parse_into("GATEHOUSE_ARGON2_ITERATIONS", &mut core.argon2.iterations)?;
        vars.parse_into("GATEHOUSE_ARGON2_PARALLELISM", &mut core.argon2.parallelism)?;
        vars.parse_into(
            "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT",
            &mut core.failed_login_per_account.limit,
        )?;
        vars.parse_into(
            "GATEHOUSE_LOGIN_FAILURES_PER_IP",
            &mut core.failed_login_per_ip.limit,
        )?;
        vars.parse_into(
            "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT_IP",
            &mut core.failed_login_per_account_ip.limit,
        )?;
        vars.parse_into(
            "GATEHOUSE_REGISTRATIONS_PER_IP",
            &mut core.registrations_per_ip.limit,
        )?;
        core.allow_unicode_email_local_part = matches!(
            vars.get("GATEHOUSE_ALLOW_UNICODE_EMAIL_LOCAL_PART").as_deref(),
            Some("1" | "true" | "yes")
        );
        if vars.get("GATEHOUSE_ANONYMOUS_RATE_LIMIT").is_some() {
            let mut n = 0u32;
            vars.parse_into("GATEHOUSE_ANONYMOUS_RATE_LIMIT", &mut n)?;
            core.anonymous_rate_limit = Some(n);
        }

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
/// set, as the native host reads them from its environment.
pub fn dashboard(env: &Env) -> Option<(String, String)> {
    let vars = Vars(env);
    Some((
        vars.get("GATEHOUSE_DASHBOARD_CLIENT_ID")?,
        vars.get("GATEHOUSE_DASHBOARD_API_KEY")?,
    ))
}

/// `GATEHOUSE_JWT_ALGORITHM` = `eddsa` (default) or `hs256`.
fn signing(vars: &Vars) -> worker::Result<SigningConfig> {
    let algorithm = vars
        .get("GATEHOUSE_JWT_ALGORITHM")
        .unwrap_or_else(|| "eddsa".into());
    match algorithm.to_ascii_lowercase().as_str() {
        "eddsa" => Ok(SigningConfig::EdDsa {
            private_key: vars.get("GATEHOUSE_JWT_PRIVATE_KEY"),
        }),
        "hs256" => {
            let secret = vars.get("GATEHOUSE_JWT_SECRET").ok_or_else(|| {
                worker::Error::RustError(
                    "GATEHOUSE_JWT_ALGORITHM=hs256 needs the GATEHOUSE_JWT_SECRET secret".into(),
                )
            })?;
            Ok(SigningConfig::Hs256 { secret })
        }
        other => Err(worker::Error::RustError(format!(
            "GATEHOUSE_JWT_ALGORITHM must be eddsa or hs256, not {other:?}"
        ))),
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

    /// Overwrites `slot` when the binding is set; a value that is not a
    /// positive number stops the start, naming the variable (as the native
    /// binary refuses such flags).
    fn parse_into<T: FromStr + PartialOrd + Default>(
        &self,
        name: &str,
        slot: &mut T,
    ) -> worker::Result<()> {
        if let Some(text) = self.get(name) {
            match text.parse::<T>() {
                Ok(v) if v > T::default() => *slot = v,
                _ => {
                    return Err(worker::Error::RustError(format!(
                        "{name}: cannot use {text:?} (expected a positive whole number)"
                    )))
                }
            }
        }
        Ok(())
    }
}
