//! [`Config::from_vars`]: the one reader of the `GATEHOUSE_*` settings.
//!
//! Both hosts call it: the Worker with its `[vars]` and secrets, the native
//! host with its flags (clap fills each from its `GATEHOUSE_*` variable when
//! the flag is not given). The defaults, the check of each value and the
//! cross-checks between values live here only.

use super::{
    Config, Dashboard, HiddenText, LegacyTokens, SigningConfig, MAX_REFRESH_REUSE_GRACE_SECS,
};
use crate::clock::UnixMillis;
use crate::password::Argon2Params;
use crate::rate_limit::Quota;
use std::fmt;
use std::str::FromStr;

pub const ACCESS_TTL: &str = "GATEHOUSE_ACCESS_TTL";
pub const REFRESH_TTL: &str = "GATEHOUSE_REFRESH_TTL";
pub const SESSION_MAX_AGE: &str = "GATEHOUSE_SESSION_MAX_AGE";
pub const REFRESH_REUSE_GRACE: &str = "GATEHOUSE_REFRESH_REUSE_GRACE";
pub const ISSUER: &str = "GATEHOUSE_ISSUER";
pub const AUDIENCE: &str = "GATEHOUSE_AUDIENCE";
pub const JWT_ALGORITHM: &str = "GATEHOUSE_JWT_ALGORITHM";
pub const JWT_SECRET: &str = "GATEHOUSE_JWT_SECRET";
pub const JWT_PRIVATE_KEY: &str = "GATEHOUSE_JWT_PRIVATE_KEY";
pub const ARGON2_MEMORY_KIB: &str = "GATEHOUSE_ARGON2_MEMORY_KIB";
pub const ARGON2_ITERATIONS: &str = "GATEHOUSE_ARGON2_ITERATIONS";
pub const ARGON2_PARALLELISM: &str = "GATEHOUSE_ARGON2_PARALLELISM";
pub const LOGIN_FAILURES_PER_ACCOUNT_IP: &str = "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT_IP";
pub const LOGIN_FAILURES_PER_ACCOUNT: &str = "GATEHOUSE_LOGIN_FAILURES_PER_ACCOUNT";
pub const LOGIN_FAILURES_PER_IP: &str = "GATEHOUSE_LOGIN_FAILURES_PER_IP";
pub const REGISTRATIONS_PER_IP: &str = "GATEHOUSE_REGISTRATIONS_PER_IP";
pub const ANONYMOUS_RATE_LIMIT: &str = "GATEHOUSE_ANONYMOUS_RATE_LIMIT";
pub const ALLOW_UNICODE_EMAIL_LOCAL_PART: &str = "GATEHOUSE_ALLOW_UNICODE_EMAIL_LOCAL_PART";
pub const DASHBOARD_CLIENT_ID: &str = "GATEHOUSE_DASHBOARD_CLIENT_ID";
pub const DASHBOARD_API_KEY: &str = "GATEHOUSE_DASHBOARD_API_KEY";
pub const DJANGO_SIGNING_KEY: &str = "GATEHOUSE_DJANGO_SIGNING_KEY";
pub const LEGACY_TOKENS_UNTIL: &str = "GATEHOUSE_LEGACY_TOKENS_UNTIL";
pub const RESET_TOKEN_TTL: &str = "GATEHOUSE_RESET_TOKEN_TTL";
pub const VERIFY_TOKEN_TTL: &str = "GATEHOUSE_VERIFY_TOKEN_TTL";
pub const EMAIL_CHANGE_TTL: &str = "GATEHOUSE_EMAIL_CHANGE_TTL";
pub const SIGNIN_CODE_TTL: &str = "GATEHOUSE_SIGNIN_CODE_TTL";
pub const DATA_KEY: &str = "GATEHOUSE_DATA_KEY";
pub const EMAIL_REQUESTS_PER_ADDRESS: &str = "GATEHOUSE_EMAIL_REQUESTS_PER_ADDRESS";
pub const EMAIL_REQUESTS_PER_IP: &str = "GATEHOUSE_EMAIL_REQUESTS_PER_IP";

pub const SMTP_URL: &str = "GATEHOUSE_SMTP_URL";
pub const MAIL_FROM: &str = "GATEHOUSE_MAIL_FROM";
pub const MAIL_DEV: &str = "GATEHOUSE_MAIL_DEV";
pub const PUBLIC_URL: &str = "GATEHOUSE_PUBLIC_URL";
pub const MAIL_RETRY_SECS: &str = "GATEHOUSE_MAIL_RETRY_SECS";
pub const OUTBOUND_ALLOW: &str = "GATEHOUSE_OUTBOUND_ALLOW";
pub const KEY_ROTATION_DAYS: &str = "GATEHOUSE_KEY_ROTATION_DAYS";
pub const KEY_CACHE_SECS: &str = "GATEHOUSE_KEY_CACHE_SECS";

/// Every variable [`Config::from_vars`] reads.
pub const NAMES: [&str; 37] = [
    KEY_ROTATION_DAYS,
    KEY_CACHE_SECS,
    ACCESS_TTL,
    REFRESH_TTL,
    SESSION_MAX_AGE,
    REFRESH_REUSE_GRACE,
    ISSUER,
    AUDIENCE,
    JWT_ALGORITHM,
    JWT_SECRET,
    JWT_PRIVATE_KEY,
    ARGON2_MEMORY_KIB,
    ARGON2_ITERATIONS,
    ARGON2_PARALLELISM,
    LOGIN_FAILURES_PER_ACCOUNT_IP,
    LOGIN_FAILURES_PER_ACCOUNT,
    LOGIN_FAILURES_PER_IP,
    REGISTRATIONS_PER_IP,
    ANONYMOUS_RATE_LIMIT,
    ALLOW_UNICODE_EMAIL_LOCAL_PART,
    DASHBOARD_CLIENT_ID,
    DASHBOARD_API_KEY,
    DJANGO_SIGNING_KEY,
    LEGACY_TOKENS_UNTIL,
    SMTP_URL,
    MAIL_FROM,
    MAIL_DEV,
    PUBLIC_URL,
    MAIL_RETRY_SECS,
    RESET_TOKEN_TTL,
    VERIFY_TOKEN_TTL,
    EMAIL_CHANGE_TTL,
    SIGNIN_CODE_TTL,
    DATA_KEY,
    EMAIL_REQUESTS_PER_ADDRESS,
    EMAIL_REQUESTS_PER_IP,
    OUTBOUND_ALLOW,
];

/// The settings do not describe a usable configuration. Variants name the
/// variable at fault; [`ConfigError::message`] tells it with flag names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Not a whole number of the setting's type.
    NotANumber { name: &'static str, value: String },
    /// Zero or negative.
    NotPositive(&'static str),
    /// A whole number outside the setting's range.
    OutOfRange {
        name: &'static str,
        min: i64,
        max: i64,
    },
    /// Neither true (`true`, `1`, `yes`, …) nor false (`false`, `0`, `no`, …).
    NotABool { name: &'static str, value: String },
    /// `GATEHOUSE_JWT_ALGORITHM` other than `eddsa` or `hs256`.
    UnknownAlgorithm(String),
    /// An HS256 secret under 32 bytes.
    ShortSecret,
    /// `GATEHOUSE_JWT_SECRET` with EdDSA.
    SecretWithoutHs256,
    /// `GATEHOUSE_JWT_PRIVATE_KEY` with HS256.
    PrivateKeyWithHs256,
    /// One of the dashboard's client id and key without the other.
    HalfDashboard {
        set: &'static str,
        missing: &'static str,
    },
    /// One of the seed's signing key and the cutover deadline without the
    /// other.
    HalfLegacy {
        set: &'static str,
        missing: &'static str,
    },
    /// An empty `GATEHOUSE_DJANGO_SIGNING_KEY`.
    EmptyDjangoKey,
    /// `GATEHOUSE_DATA_KEY` that is not base64 of 32 bytes.
    BadDataKey(String),
    /// `GATEHOUSE_LEGACY_TOKENS_UNTIL` that is not an RFC 3339 time.
    NotATime { name: &'static str, value: String },
    /// `GATEHOUSE_SMTP_URL` that does not parse (the reason never repeats
    /// the password).
    BadSmtpUrl(String),
    /// Both `GATEHOUSE_SMTP_URL` and `GATEHOUSE_MAIL_DEV`.
    SmtpAndMailDev,
    /// `GATEHOUSE_MAIL_FROM` without a plausible `user@domain`.
    BadMailFrom(String),
    /// `GATEHOUSE_PUBLIC_URL` not an `http(s)://` URL.
    BadPublicUrl(String),
    /// `GATEHOUSE_OUTBOUND_ALLOW` with an entry that is not an address, a
    /// CIDR block or host:port.
    BadOutboundAllow(String),
}

/// How a [`ConfigError`] message names a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `GATEHOUSE_JWT_ALGORITHM=hs256`: the Worker's vars and secrets.
    Variable,
    /// `--jwt-algorithm hs256`: the native host's flags, each also named by
    /// its variable (`--jwt-secret (or GATEHOUSE_JWT_SECRET)`).
    Flag,
}

impl Naming {
    fn name(self, var: &str) -> String {
        match self {
            Naming::Variable => var.to_owned(),
            Naming::Flag => format!("{} (or {var})", flag(var)),
        }
    }

    /// The setting `var` given `value`.
    fn set(self, var: &str, value: &str) -> String {
        match self {
            Naming::Variable => format!("{var}={value}"),
            Naming::Flag => format!("{} {value}", flag(var)),
        }
    }
}

/// The native host's flag for a variable: `GATEHOUSE_ACCESS_TTL` → `--access-ttl`.
fn flag(var: &str) -> String {
    let name = var.strip_prefix("GATEHOUSE_").unwrap_or(var);
    format!("--{}", name.to_ascii_lowercase().replace('_', "-"))
}

impl ConfigError {
    /// The message, naming settings as `naming` says.
    pub fn message(&self, naming: Naming) -> String {
        let n = |var| naming.name(var);
        match self {
            ConfigError::NotANumber { name, value } => {
                format!(
                    "{}: cannot use {value:?} (expected a positive whole number)",
                    n(name)
                )
            }
            ConfigError::NotPositive(name) => format!("{} must be positive", n(name)),
            ConfigError::OutOfRange { name, min, max } => {
                format!("{} must be from {min} to {max}", n(name))
            }
            ConfigError::NotABool { name, value } => {
                format!("{}: cannot use {value:?} (expected true or false)", n(name))
            }
            ConfigError::UnknownAlgorithm(value) => {
                format!("{} must be eddsa or hs256, not {value:?}", n(JWT_ALGORITHM))
            }
            ConfigError::ShortSecret => {
                format!("{} must be at least 32 bytes long", n(JWT_SECRET))
            }
            ConfigError::SecretWithoutHs256 => format!(
                "{} is only used with {}",
                n(JWT_SECRET),
                naming.set(JWT_ALGORITHM, "hs256")
            ),
            ConfigError::PrivateKeyWithHs256 => format!(
                "{} is only used with {}",
                n(JWT_PRIVATE_KEY),
                naming.set(JWT_ALGORITHM, "eddsa")
            ),
            // Variables on both hosts: the native host has no flags for them.
            ConfigError::HalfDashboard { set, missing } => {
                format!("{set} is set but {missing} is not: set both or neither")
            }
            ConfigError::HalfLegacy { set, missing } => format!(
                "{} is set but {} is not: set both or neither",
                n(set),
                n(missing)
            ),
            ConfigError::EmptyDjangoKey => format!("{} must not be empty", n(DJANGO_SIGNING_KEY)),
            ConfigError::BadDataKey(why) => format!("{}: {why}", n(DATA_KEY)),
            ConfigError::NotATime { name, value } => format!(
                "{}: cannot use {value:?} (expected an RFC 3339 time such as 2027-01-31T00:00:00Z)",
                n(name)
            ),
            ConfigError::BadSmtpUrl(why) => format!("{}: {why}", n(SMTP_URL)),
            ConfigError::SmtpAndMailDev => format!(
                "{} and {} exclude each other: send mail, or print it",
                n(SMTP_URL),
                n(MAIL_DEV)
            ),
            ConfigError::BadMailFrom(value) => format!(
                "{}: cannot use {value:?} (expected addr@domain or \"Name <addr@domain>\")",
                n(MAIL_FROM)
            ),
            ConfigError::BadPublicUrl(value) => format!(
                "{}: cannot use {value:?} (expected http(s)://host[:port][/path])",
                n(PUBLIC_URL)
            ),
            ConfigError::BadOutboundAllow(why) => format!("{}: {why}", n(OUTBOUND_ALLOW)),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Naming::Variable))
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration `lookup` describes: `lookup(name)` is the value of
    /// the `GATEHOUSE_*` variable `name` (see [`NAMES`]), `None` when unset,
    /// which keeps the core's default. Numbers must be positive; the signing
    /// settings must agree with each other (an HS256 secret of at least 32
    /// bytes and no private key, or EdDSA and no secret); the dashboard's
    /// client id and key come together.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let d = Config::default();
        let quota = |name, default: Quota| -> Result<Quota, ConfigError> {
            Ok(Quota {
                limit: positive(&lookup, name)?.unwrap_or(default.limit),
                ..default
            })
        };
        Ok(Config {
            access_ttl_secs: positive(&lookup, ACCESS_TTL)?.unwrap_or(d.access_ttl_secs),
            refresh_ttl_secs: positive(&lookup, REFRESH_TTL)?.unwrap_or(d.refresh_ttl_secs),
            session_max_age_secs: positive(&lookup, SESSION_MAX_AGE)?
                .unwrap_or(d.session_max_age_secs),
            refresh_reuse_grace_secs: in_range(
                &lookup,
                REFRESH_REUSE_GRACE,
                0..=MAX_REFRESH_REUSE_GRACE_SECS,
            )?
            .unwrap_or(d.refresh_reuse_grace_secs),
            issuer: lookup(ISSUER).unwrap_or(d.issuer),
            audience: lookup(AUDIENCE).unwrap_or(d.audience),
            signing: signing(&lookup)?,
            argon2: Argon2Params {
                memory_kib: positive(&lookup, ARGON2_MEMORY_KIB)?.unwrap_or(d.argon2.memory_kib),
                iterations: positive(&lookup, ARGON2_ITERATIONS)?.unwrap_or(d.argon2.iterations),
                parallelism: positive(&lookup, ARGON2_PARALLELISM)?.unwrap_or(d.argon2.parallelism),
            },
            failed_login_per_account_ip: quota(
                LOGIN_FAILURES_PER_ACCOUNT_IP,
                d.failed_login_per_account_ip,
            )?,
            failed_login_per_account: quota(
                LOGIN_FAILURES_PER_ACCOUNT,
                d.failed_login_per_account,
            )?,
            failed_login_per_ip: quota(LOGIN_FAILURES_PER_IP, d.failed_login_per_ip)?,
            registrations_per_ip: quota(REGISTRATIONS_PER_IP, d.registrations_per_ip)?,
            anonymous_rate_limit: positive(&lookup, ANONYMOUS_RATE_LIMIT)?
                .or(d.anonymous_rate_limit),
            client_rate_period_secs: d.client_rate_period_secs,
            allow_unicode_email_local_part: boolean(&lookup, ALLOW_UNICODE_EMAIL_LOCAL_PART)?
                .unwrap_or(d.allow_unicode_email_local_part),
            dashboard: Dashboard::from_vars(&lookup)?,
            legacy_tokens: legacy_tokens(&lookup)?,
            reset_token_ttl_secs: positive(&lookup, RESET_TOKEN_TTL)?
                .unwrap_or(d.reset_token_ttl_secs),
            verify_token_ttl_secs: positive(&lookup, VERIFY_TOKEN_TTL)?
                .unwrap_or(d.verify_token_ttl_secs),
            email_change_ttl_secs: positive(&lookup, EMAIL_CHANGE_TTL)?
                .unwrap_or(d.email_change_ttl_secs),
            signin_code_ttl_secs: positive(&lookup, SIGNIN_CODE_TTL)?
                .unwrap_or(d.signin_code_ttl_secs),
            email_requests_per_address: quota(
                EMAIL_REQUESTS_PER_ADDRESS,
                d.email_requests_per_address,
            )?,
            email_requests_per_ip: quota(EMAIL_REQUESTS_PER_IP, d.email_requests_per_ip)?,
            data_key: lookup(DATA_KEY)
                .filter(|k| !k.trim().is_empty())
                .map(|k| crate::mfa::DataKey::from_base64(&k).map_err(ConfigError::BadDataKey))
                .transpose()?,
            outbound: lookup(OUTBOUND_ALLOW)
                .map(|l| crate::outbound::OutboundPolicy::parse(&l))
                .transpose()
                .map_err(ConfigError::BadOutboundAllow)?
                .unwrap_or_default(),
            key_rotation_days: positive(&lookup, KEY_ROTATION_DAYS)?,
            key_cache_secs: positive(&lookup, KEY_CACHE_SECS)?.unwrap_or(d.key_cache_secs),
            ..mail(&lookup, Config::default())?
        })
    }
}

/// The mail settings: `GATEHOUSE_SMTP_URL` or `GATEHOUSE_MAIL_DEV` (not
/// both), `GATEHOUSE_MAIL_FROM`, `GATEHOUSE_PUBLIC_URL`. `mail_enabled`
/// says whether one of the two is set; the Worker sets it again from its
/// binding.
fn mail(lookup: &impl Fn(&str) -> Option<String>, d: Config) -> Result<Config, ConfigError> {
    let smtp = lookup(SMTP_URL)
        .filter(|s| !s.trim().is_empty())
        .map(|s| super::SmtpUrl::parse(s.trim()).map_err(ConfigError::BadSmtpUrl))
        .transpose()?;
    let mail_dev = boolean(lookup, MAIL_DEV)?.unwrap_or(d.mail_dev);
    if smtp.is_some() && mail_dev {
        return Err(ConfigError::SmtpAndMailDev);
    }
    let mail_from = match lookup(MAIL_FROM) {
        None => d.mail_from.clone(),
        Some(v) => {
            let addr = crate::mail::sender::address_of(&v);
            let ok = !v.contains(['\r', '\n'])
                && !addr.contains(char::is_whitespace)
                && addr
                    .split_once('@')
                    .is_some_and(|(l, dom)| !l.is_empty() && !dom.is_empty() && !dom.contains('@'));
            if !ok {
                return Err(ConfigError::BadMailFrom(v));
            }
            v.trim().to_owned()
        }
    };
    let public_url = match lookup(PUBLIC_URL) {
        None => d.public_url.clone(),
        Some(v) => {
            let t = v.trim().trim_end_matches('/');
            let rest = t
                .strip_prefix("https://")
                .or_else(|| t.strip_prefix("http://"));
            match rest {
                Some(r) if !r.is_empty() && !r.contains(char::is_whitespace) => t.to_owned(),
                _ => return Err(ConfigError::BadPublicUrl(v)),
            }
        }
    };
    Ok(Config {
        mail_retry_secs: positive(lookup, MAIL_RETRY_SECS)?.unwrap_or(d.mail_retry_secs),
        mail_enabled: smtp.is_some() || mail_dev,
        smtp,
        mail_dev,
        mail_from,
        public_url,
        ..d
    })
}

impl Dashboard {
    /// `GATEHOUSE_DASHBOARD_CLIENT_ID` and `GATEHOUSE_DASHBOARD_API_KEY`:
    /// both or neither. For a host that answers `/admin/config.json`
    /// without the rest of the configuration.
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Dashboard>, ConfigError> {
        let pair = both_or_neither(
            &lookup,
            DASHBOARD_CLIENT_ID,
            DASHBOARD_API_KEY,
            |set, missing| ConfigError::HalfDashboard { set, missing },
        )?;
        Ok(pair.map(|(client_id, api_key)| Dashboard {
            client_id,
            api_key: HiddenText(api_key),
        }))
    }
}

/// Two variables that mean something only together: both values, neither,
/// or `half(set, missing)` naming the one set and the one missing.
fn both_or_neither(
    lookup: &impl Fn(&str) -> Option<String>,
    a: &'static str,
    b: &'static str,
    half: impl Fn(&'static str, &'static str) -> ConfigError,
) -> Result<Option<(String, String)>, ConfigError> {
    match (lookup(a), lookup(b)) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(half(a, b)),
        (None, Some(_)) => Err(half(b, a)),
    }
}

/// `GATEHOUSE_DJANGO_SIGNING_KEY` and `GATEHOUSE_LEGACY_TOKENS_UNTIL`: both
/// or neither. A key without a deadline would honour the seed's tokens for
/// ever; a deadline without a key means nothing.
fn legacy_tokens(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LegacyTokens>, ConfigError> {
    let pair = both_or_neither(
        lookup,
        DJANGO_SIGNING_KEY,
        LEGACY_TOKENS_UNTIL,
        |set, missing| ConfigError::HalfLegacy { set, missing },
    )?;
    match pair {
        None => Ok(None),
        Some((key, _)) if key.is_empty() => Err(ConfigError::EmptyDjangoKey),
        Some((signing_key, until)) => {
            let not_a_time = || ConfigError::NotATime {
                name: LEGACY_TOKENS_UNTIL,
                value: until.clone(),
            };
            let t = time::OffsetDateTime::parse(
                until.trim(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| not_a_time())?;
            let ms =
                i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| not_a_time())?;
            Ok(Some(LegacyTokens {
                signing_key: HiddenText(signing_key),
                until: UnixMillis(ms),
            }))
        }
    }
}

/// `GATEHOUSE_JWT_ALGORITHM` = `eddsa` (default) or `hs256`, and the key or
/// secret that goes with it.
fn signing(lookup: &impl Fn(&str) -> Option<String>) -> Result<SigningConfig, ConfigError> {
    let algorithm = lookup(JWT_ALGORITHM).unwrap_or_else(|| "eddsa".into());
    let secret = lookup(JWT_SECRET);
    let private_key = lookup(JWT_PRIVATE_KEY);
    match algorithm.to_ascii_lowercase().as_str() {
        "eddsa" if secret.is_some() => Err(ConfigError::SecretWithoutHs256),
        "eddsa" => Ok(SigningConfig::EdDsa { private_key }),
        "hs256" if private_key.is_some() => Err(ConfigError::PrivateKeyWithHs256),
        "hs256" => match secret {
            // No secret: the database keeps (and rotates) HS256 secrets.
            None => Ok(SigningConfig::Hs256 { secret: None }),
            Some(s) if s.len() < 32 => Err(ConfigError::ShortSecret),
            Some(secret) => Ok(SigningConfig::Hs256 {
                secret: Some(secret),
            }),
        },
        _ => Err(ConfigError::UnknownAlgorithm(algorithm)),
    }
}

/// The variable as a positive number, `None` when unset.
fn positive<T: FromStr + PartialOrd + Default>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = lookup(name) else {
        return Ok(None);
    };
    match value.parse::<T>() {
        Ok(v) if v > T::default() => Ok(Some(v)),
        Ok(_) => Err(ConfigError::NotPositive(name)),
        Err(_) => Err(ConfigError::NotANumber { name, value }),
    }
}

/// The variable as a whole number in `range`, `None` when unset.
fn in_range(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ConfigError> {
    let Some(value) = lookup(name) else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(v) if range.contains(&v) => Ok(Some(v)),
        Ok(_) => Err(ConfigError::OutOfRange {
            name,
            min: *range.start(),
            max: *range.end(),
        }),
        Err(_) => Err(ConfigError::NotANumber { name, value }),
    }
}

/// The variable as a boolean (the words clap's boolish flags take), `None`
/// when unset.
fn boolean(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<bool>, ConfigError> {
    let Some(value) = lookup(name) else {
        return Ok(None);
    };
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Ok(Some(true)),
        "0" | "false" | "f" | "no" | "n" | "off" => Ok(Some(false)),
        _ => Err(ConfigError::NotABool { name, value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|name| map.get(name).cloned())
    }

    fn ok(vars: &[(&str, &str)]) -> Config {
        read(vars).unwrap_or_else(|e| panic!("{vars:?}: {e}"))
    }

    fn err(vars: &[(&str, &str)]) -> ConfigError {
        match read(vars) {
            Ok(c) => panic!("{vars:?} was accepted: {c:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn nothing_set_is_the_default() {
        let c = ok(&[]);
        let d = Config::default();
        assert_eq!(c.access_ttl_secs, d.access_ttl_secs);
        assert_eq!(c.refresh_ttl_secs, d.refresh_ttl_secs);
        assert_eq!(c.session_max_age_secs, d.session_max_age_secs);
        assert_eq!(c.refresh_reuse_grace_secs, 30);
        assert_eq!((c.issuer, c.audience), (d.issuer, d.audience));
        assert_eq!(c.signing, SigningConfig::EdDsa { private_key: None });
        assert_eq!(c.argon2, d.argon2);
        assert_eq!(c.failed_login_per_account_ip, d.failed_login_per_account_ip);
        assert_eq!(c.failed_login_per_account, d.failed_login_per_account);
        assert_eq!(c.failed_login_per_ip, d.failed_login_per_ip);
        assert_eq!(c.registrations_per_ip, d.registrations_per_ip);
        assert_eq!(c.anonymous_rate_limit, None);
        assert_eq!(c.client_rate_period_secs, d.client_rate_period_secs);
        assert!(!c.allow_unicode_email_local_part);
        assert_eq!(c.dashboard, None);
        assert_eq!(c.legacy_tokens, None);
    }

    /// `secret` stays out of `c`'s Debug output.
    fn hides(c: &Config, secret: &str) {
        assert!(
            !format!("{c:?}").contains(secret),
            "the key leaked into Debug"
        );
    }

    #[test]
    fn legacy_tokens_key_and_deadline_together() {
        let c = ok(&[
            (DJANGO_SIGNING_KEY, "django-insecure-key"),
            (LEGACY_TOKENS_UNTIL, "2027-01-31T12:00:00+01:00"),
        ]);
        let l = c.legacy_tokens.clone().unwrap();
        assert_eq!(l.signing_key.0, "django-insecure-key");
        assert_eq!(l.until, UnixMillis(1_801_393_200_000));
        hides(&c, "django-insecure-key");
        for (set, value, missing) in [
            (DJANGO_SIGNING_KEY, "k", LEGACY_TOKENS_UNTIL),
            (
                LEGACY_TOKENS_UNTIL,
                "2027-01-31T00:00:00Z",
                DJANGO_SIGNING_KEY,
            ),
        ] {
            assert_eq!(
                err(&[(set, value)]),
                ConfigError::HalfLegacy { set, missing }
            );
        }
        assert_eq!(
            err(&[
                (DJANGO_SIGNING_KEY, ""),
                (LEGACY_TOKENS_UNTIL, "2027-01-31T00:00:00Z")
            ]),
            ConfigError::EmptyDjangoKey
        );
        for bad in [
            "2027-01-31",
            "tomorrow",
            "2027-01-31 00:00:00",
            "1801393200",
        ] {
            assert_eq!(
                err(&[(DJANGO_SIGNING_KEY, "k"), (LEGACY_TOKENS_UNTIL, bad)]),
                ConfigError::NotATime {
                    name: LEGACY_TOKENS_UNTIL,
                    value: bad.into()
                }
            );
        }
        let e = ConfigError::HalfLegacy {
            set: DJANGO_SIGNING_KEY,
            missing: LEGACY_TOKENS_UNTIL,
        };
        assert_eq!(
            e.message(Naming::Flag),
            "--django-signing-key (or GATEHOUSE_DJANGO_SIGNING_KEY) is set but --legacy-tokens-until (or GATEHOUSE_LEGACY_TOKENS_UNTIL) is not: set both or neither"
        );
    }

    #[test]
    fn lifetimes_and_token_identity() {
        let c = ok(&[
            (ACCESS_TTL, "60"),
            (REFRESH_TTL, "3600"),
            (SESSION_MAX_AGE, "7200"),
            (ISSUER, "iss"),
            (AUDIENCE, "aud"),
        ]);
        assert_eq!(c.access_ttl_secs, 60);
        assert_eq!(c.refresh_ttl_secs, 3600);
        assert_eq!(c.session_max_age_secs, 7200);
        assert_eq!((c.issuer.as_str(), c.audience.as_str()), ("iss", "aud"));
    }

    #[test]
    fn argon2_params() {
        let c = ok(&[
            (ARGON2_MEMORY_KIB, "8192"),
            (ARGON2_ITERATIONS, "3"),
            (ARGON2_PARALLELISM, "2"),
        ]);
        assert_eq!(
            c.argon2,
            Argon2Params {
                memory_kib: 8192,
                iterations: 3,
                parallelism: 2
            }
        );
    }

    #[test]
    fn throttles_keep_their_periods() {
        let c = ok(&[
            (LOGIN_FAILURES_PER_ACCOUNT_IP, "4"),
            (LOGIN_FAILURES_PER_ACCOUNT, "3"),
            (LOGIN_FAILURES_PER_IP, "50"),
            (REGISTRATIONS_PER_IP, "7"),
            (ANONYMOUS_RATE_LIMIT, "20"),
        ]);
        let d = Config::default();
        let q = |limit, period_secs| Quota { limit, period_secs };
        assert_eq!(
            c.failed_login_per_account_ip,
            q(4, d.failed_login_per_account_ip.period_secs)
        );
        assert_eq!(
            c.failed_login_per_account,
            q(3, d.failed_login_per_account.period_secs)
        );
        assert_eq!(c.failed_login_per_ip, q(50, 15 * 60));
        assert_eq!(c.registrations_per_ip, q(7, 3600));
        assert_eq!(c.anonymous_rate_limit, Some(20));
    }

    #[test]
    fn email_flow_lifetimes_and_throttles() {
        let d = ok(&[]);
        assert_eq!(
            (
                d.reset_token_ttl_secs,
                d.verify_token_ttl_secs,
                d.email_change_ttl_secs,
                d.signin_code_ttl_secs
            ),
            (3600, 86400, 3600, 600)
        );
        let c = ok(&[
            (RESET_TOKEN_TTL, "60"),
            (VERIFY_TOKEN_TTL, "61"),
            (EMAIL_CHANGE_TTL, "62"),
            (SIGNIN_CODE_TTL, "63"),
            (EMAIL_REQUESTS_PER_ADDRESS, "2"),
            (EMAIL_REQUESTS_PER_IP, "9"),
        ]);
        assert_eq!(
            (
                c.reset_token_ttl_secs,
                c.verify_token_ttl_secs,
                c.email_change_ttl_secs,
                c.signin_code_ttl_secs
            ),
            (60, 61, 62, 63)
        );
        let q = |limit| Quota {
            limit,
            period_secs: 3600,
        };
        assert_eq!(c.email_requests_per_address, q(2));
        assert_eq!(c.email_requests_per_ip, q(9));
    }

    #[test]
    fn mail_settings() {
        let c = ok(&[]);
        assert!(!c.mail_enabled && !c.mail_dev && c.smtp.is_none());
        assert_eq!(c.mail_from, "Gatehouse <gatehouse@localhost>");
        let c = ok(&[
            (MAIL_DEV, "true"),
            (PUBLIC_URL, "https://auth.example.com/"),
        ]);
        assert!(c.mail_enabled && c.mail_dev);
        assert_eq!(c.public_url, "https://auth.example.com");
        let c = ok(&[
            (SMTP_URL, "smtp://u:secret@mail.example.com"),
            (MAIL_FROM, "Shop <noreply@example.com>"),
        ]);
        assert!(c.mail_enabled && !c.mail_dev);
        assert_eq!(c.smtp.as_ref().map(|s| s.port), Some(587));
        assert_eq!(c.mail_from, "Shop <noreply@example.com>");
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(
            err(&[(SMTP_URL, "smtp://h"), (MAIL_DEV, "1")]),
            ConfigError::SmtpAndMailDev
        );
        assert!(matches!(
            err(&[(SMTP_URL, "ftp://u:secret@h")]),
            ConfigError::BadSmtpUrl(m) if !m.contains("secret")
        ));
        for bad in ["nobody", "a b@c", "x@", "<@c>", "a@b\r\nBcc: c@d"] {
            assert_eq!(
                err(&[(MAIL_FROM, bad)]),
                ConfigError::BadMailFrom(bad.into())
            );
        }
        for bad in ["example.com", "https://", "ftp://x", "http://a b"] {
            assert_eq!(
                err(&[(PUBLIC_URL, bad)]),
                ConfigError::BadPublicUrl(bad.into())
            );
        }
        assert_eq!(
            ConfigError::SmtpAndMailDev.message(Naming::Flag),
            "--smtp-url (or GATEHOUSE_SMTP_URL) and --mail-dev (or GATEHOUSE_MAIL_DEV) exclude each other: send mail, or print it"
        );
    }

    #[test]
    fn the_data_key_is_32_bytes_of_base64() {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        let c = Config::from_vars(|n| (n == DATA_KEY).then(|| key.clone())).unwrap();
        assert_eq!(c.data_key, Some(crate::mfa::DataKey([3; 32])));
        assert_eq!(Config::from_vars(|_| None).unwrap().data_key, None);
        assert!(matches!(
            err(&[(DATA_KEY, "c2hvcnQ=")]),
            ConfigError::BadDataKey(_)
        ));
        let e = err(&[(DATA_KEY, "not base64")]);
        assert!(e.to_string().contains(DATA_KEY), "{e}");
    }

    #[test]
    fn numbers_must_be_positive_whole_numbers() {
        let not_numbers = [
            REFRESH_REUSE_GRACE, // 0 allowed: `refresh_reuse_grace_is_0_to_300`
            ISSUER,
            AUDIENCE,
            JWT_ALGORITHM,
            JWT_SECRET,
            JWT_PRIVATE_KEY,
            ALLOW_UNICODE_EMAIL_LOCAL_PART,
            DASHBOARD_CLIENT_ID,
            DASHBOARD_API_KEY,
            DJANGO_SIGNING_KEY,
            LEGACY_TOKENS_UNTIL,
            SMTP_URL,
            MAIL_FROM,
            MAIL_DEV,
            PUBLIC_URL,
            DATA_KEY,
            OUTBOUND_ALLOW,
        ];
        let numbers = NAMES.into_iter().filter(|n| !not_numbers.contains(n));
        assert_eq!(numbers.clone().count(), 20);
        for name in numbers {
            assert_eq!(err(&[(name, "0")]), ConfigError::NotPositive(name));
            for bad in ["", "ten", "1.5", " 5", "99999999999999999999"] {
                assert_eq!(
                    err(&[(name, bad)]),
                    ConfigError::NotANumber {
                        name,
                        value: bad.into()
                    },
                    "{name}={bad:?}"
                );
            }
        }
        for name in [ACCESS_TTL, REFRESH_TTL, SESSION_MAX_AGE] {
            assert_eq!(err(&[(name, "-5")]), ConfigError::NotPositive(name));
        }
    }

    #[test]
    fn refresh_reuse_grace_is_0_to_300() {
        for (text, secs) in [("0", 0), ("1", 1), ("10", 10), ("300", 300)] {
            assert_eq!(
                ok(&[(REFRESH_REUSE_GRACE, text)]).refresh_reuse_grace_secs,
                secs
            );
        }
        let range = ConfigError::OutOfRange {
            name: REFRESH_REUSE_GRACE,
            min: 0,
            max: 300,
        };
        assert_eq!(err(&[(REFRESH_REUSE_GRACE, "301")]), range);
        assert_eq!(err(&[(REFRESH_REUSE_GRACE, "-1")]), range);
        for bad in ["", "thirty", "1.5", "99999999999999999999"] {
            assert_eq!(
                err(&[(REFRESH_REUSE_GRACE, bad)]),
                ConfigError::NotANumber {
                    name: REFRESH_REUSE_GRACE,
                    value: bad.into()
                }
            );
        }
        assert_eq!(
            range.message(Naming::Flag),
            "--refresh-reuse-grace (or GATEHOUSE_REFRESH_REUSE_GRACE) must be from 0 to 300"
        );
    }

    #[test]
    fn allow_unicode_email_local_part_is_a_boolean() {
        for yes in ["1", "true", "TRUE", "yes", "on", "y", "t"] {
            assert!(ok(&[(ALLOW_UNICODE_EMAIL_LOCAL_PART, yes)]).allow_unicode_email_local_part);
        }
        for no in ["0", "false", "False", "no", "off", "n", "f"] {
            assert!(!ok(&[(ALLOW_UNICODE_EMAIL_LOCAL_PART, no)]).allow_unicode_email_local_part);
        }
        assert_eq!(
            err(&[(ALLOW_UNICODE_EMAIL_LOCAL_PART, "maybe")]),
            ConfigError::NotABool {
                name: ALLOW_UNICODE_EMAIL_LOCAL_PART,
                value: "maybe".into()
            }
        );
    }

    #[test]
    fn eddsa_with_or_without_a_key() {
        assert_eq!(
            ok(&[(JWT_ALGORITHM, "eddsa")]).signing,
            SigningConfig::EdDsa { private_key: None }
        );
        assert_eq!(
            ok(&[(JWT_PRIVATE_KEY, "a2V5")]).signing,
            SigningConfig::EdDsa {
                private_key: Some("a2V5".into())
            }
        );
        assert_eq!(
            ok(&[(JWT_ALGORITHM, "EdDSA"), (JWT_PRIVATE_KEY, "a2V5")]).signing,
            SigningConfig::EdDsa {
                private_key: Some("a2V5".into())
            }
        );
    }

    #[test]
    fn hs256_with_a_long_secret() {
        for alg in ["hs256", "HS256"] {
            assert_eq!(
                ok(&[(JWT_ALGORITHM, alg), (JWT_SECRET, SECRET)]).signing,
                SigningConfig::Hs256 {
                    secret: Some(SECRET.into())
                }
            );
        }
    }

    #[test]
    fn signing_cross_checks() {
        assert_eq!(
            ok(&[(JWT_ALGORITHM, "hs256")]).signing,
            SigningConfig::Hs256 { secret: None }
        );
        assert_eq!(
            err(&[(JWT_ALGORITHM, "hs256"), (JWT_SECRET, &SECRET[1..])]),
            ConfigError::ShortSecret
        );
        assert_eq!(
            err(&[(JWT_SECRET, SECRET)]),
            ConfigError::SecretWithoutHs256
        );
        assert_eq!(
            err(&[(JWT_ALGORITHM, "eddsa"), (JWT_SECRET, SECRET)]),
            ConfigError::SecretWithoutHs256
        );
        assert_eq!(
            err(&[
                (JWT_ALGORITHM, "hs256"),
                (JWT_SECRET, SECRET),
                (JWT_PRIVATE_KEY, "a2V5")
            ]),
            ConfigError::PrivateKeyWithHs256
        );
        assert_eq!(
            err(&[(JWT_ALGORITHM, "rs256")]),
            ConfigError::UnknownAlgorithm("rs256".into())
        );
    }

    #[test]
    fn dashboard_both_or_neither() {
        let both = ok(&[(DASHBOARD_CLIENT_ID, "cl_1"), (DASHBOARD_API_KEY, "key")]);
        assert_eq!(
            both.dashboard,
            Some(Dashboard {
                client_id: "cl_1".into(),
                api_key: HiddenText("key".into())
            })
        );
        hides(&both, "\"key\"");
        for (set, value, missing) in [
            (DASHBOARD_CLIENT_ID, "cl_1", DASHBOARD_API_KEY),
            (DASHBOARD_API_KEY, "key", DASHBOARD_CLIENT_ID),
        ] {
            assert_eq!(
                err(&[(set, value)]),
                ConfigError::HalfDashboard { set, missing }
            );
        }
    }

    #[test]
    fn outbound_allow_is_a_list_of_entries() {
        let c =
            Config::from_vars(|n| (n == OUTBOUND_ALLOW).then(|| "127.0.0.0/8, idp:8443".into()))
                .unwrap();
        assert_eq!(c.outbound.allow_private.len(), 2);
        assert!(Config::from_vars(|_| None)
            .unwrap()
            .outbound
            .allow_private
            .is_empty());
        let e = err(&[(OUTBOUND_ALLOW, "10.0.0.0/99")]);
        assert!(matches!(e, ConfigError::BadOutboundAllow(_)));
        assert!(e
            .message(Naming::Flag)
            .starts_with("--outbound-allow (or GATEHOUSE_OUTBOUND_ALLOW): "));
    }

    #[test]
    fn reads_every_name_and_nothing_else() {
        let asked = std::cell::RefCell::new(Vec::new());
        Config::from_vars(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let mut asked = asked.into_inner();
        asked.sort();
        let mut names = NAMES.map(String::from).to_vec();
        names.sort();
        assert_eq!(asked, names);
    }

    #[test]
    fn messages_name_variables_or_flags() {
        let e = ConfigError::SecretWithoutHs256;
        assert_eq!(
            e.to_string(),
            "GATEHOUSE_JWT_SECRET is only used with GATEHOUSE_JWT_ALGORITHM=hs256"
        );
        assert_eq!(
            e.message(Naming::Flag),
            "--jwt-secret (or GATEHOUSE_JWT_SECRET) is only used with --jwt-algorithm hs256"
        );
        let e = ConfigError::NotPositive(ACCESS_TTL);
        assert_eq!(e.to_string(), "GATEHOUSE_ACCESS_TTL must be positive");
        assert_eq!(
            e.message(Naming::Flag),
            "--access-ttl (or GATEHOUSE_ACCESS_TTL) must be positive"
        );
        assert_eq!(
            ConfigError::PrivateKeyWithHs256.message(Naming::Flag),
            "--jwt-private-key (or GATEHOUSE_JWT_PRIVATE_KEY) is only used with --jwt-algorithm eddsa"
        );
        let e = ConfigError::NotANumber {
            name: REGISTRATIONS_PER_IP,
            value: "x".into(),
        };
        assert_eq!(
            e.to_string(),
            "GATEHOUSE_REGISTRATIONS_PER_IP: cannot use \"x\" (expected a positive whole number)"
        );
    }
}
