//! `HELLOWORK_ENVIRONMENT` and the token settings: the issuer, audience
//! and public keys tokens are verified with, the development key, the
//! system token for calls to other services, and the bounds of a token's
//! lifetime and of key reloads. Production requires configured keys and a
//! system token file.

use std::{path::PathBuf, time::Duration};

use super::{ConfigError, Vars};

/// `HELLOWORK_ENVIRONMENT`, required (no default). Development allows the
/// generated dev signing key and the published development keys; production
/// refuses them wherever they appear and requires configured keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    /// `(kid, public key PEM file)` pairs; empty in development means "trust
    /// the local development key".
    pub public_keys: Vec<(String, PathBuf)>,
    /// Where the development signing key lives (generated on first use,
    /// never in production); `hellowork token` mints with the same key.
    pub dev_key_dir: PathBuf,
    /// The `system` token for calls to other services, issued by the
    /// identity provider (production); in development one is minted.
    pub system_token_file: Option<PathBuf>,
    /// `HELLOWORK_JWT_MAX_LIFETIME` (default 1h, 1min to 24h): the longest
    /// lifetime of an accepted token, `exp - iat` and `exp` from now.
    pub max_lifetime: Duration,
    /// `HELLOWORK_JWT_KEYS_RELOAD_INTERVAL` (default 10s, 100ms to 1h): how
    /// often the `public_keys` files are checked for new contents (SIGHUP
    /// re-reads them at once).
    pub keys_reload_interval: Duration,
}

impl AuthConfig {
    /// The environment and token settings alone, as `hellowork token` needs
    /// them: the same variables and defaults the services read.
    pub fn from_env() -> Result<(Environment, Self), ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// The same from explicit variables (the witness, tests).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Environment, Self), ConfigError> {
        Vars(vars.into_iter().collect()).auth()
    }
}

impl Environment {
    /// `HELLOWORK_ENVIRONMENT` alone (required), for a tool that needs no
    /// other service setting (`hellowork verify-log`).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Vars(vars.into_iter().collect()).environment()
    }
}

impl Vars {
    pub(super) fn auth(&self) -> Result<(Environment, AuthConfig), ConfigError> {
        let environment = self.environment()?;
        let auth = AuthConfig {
            issuer: self.text("JWT_ISSUER", "hellowork-dev"),
            audience: self.text("JWT_AUDIENCE", "hellowork"),
            public_keys: self.key_files("JWT_PUBLIC_KEYS")?,
            dev_key_dir: PathBuf::from(self.text("DEV_KEY_DIR", ".data/dev-keys")),
            system_token_file: self
                .get("SYSTEM_TOKEN_FILE")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from),
            max_lifetime: self.bounded_duration(
                "JWT_MAX_LIFETIME",
                Duration::from_secs(3600),
                Duration::from_secs(60)..=Duration::from_secs(24 * 3600),
            )?,
            keys_reload_interval: self.bounded_duration(
                "JWT_KEYS_RELOAD_INTERVAL",
                Duration::from_secs(10),
                Duration::from_millis(100)..=Duration::from_secs(3600),
            )?,
        };
        if environment == Environment::Production && auth.public_keys.is_empty() {
            return Err(self.error(
                "JWT_PUBLIC_KEYS",
                "required in production (kid=path.pem,...)",
            ));
        }
        // Checked here, not when the first call is made: a service without
        // it would start, then fail every call to another service.
        if environment == Environment::Production && auth.system_token_file.is_none() {
            return Err(self.error(
                "SYSTEM_TOKEN_FILE",
                "required in production: the identity provider's system token for calls to \
                 other services",
            ));
        }
        Ok((environment, auth))
    }

    /// `ENVIRONMENT`, which has no default: a forgotten variable must not
    /// quietly run a production deployment on the published development keys.
    fn environment(&self) -> Result<Environment, ConfigError> {
        const NAME: &str = "ENVIRONMENT";
        let Some(value) = self.get(NAME).filter(|v| !v.trim().is_empty()) else {
            return Err(self.error(NAME, "required (development or production)"));
        };
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            _ => Err(self.error(NAME, "must be development or production")),
        }
    }

    /// `kid=path,kid=path`.
    fn key_files(&self, name: &str) -> Result<Vec<(String, PathBuf)>, ConfigError> {
        let Some(value) = self.get(name).filter(|v| !v.trim().is_empty()) else {
            return Ok(Vec::new());
        };
        value
            .split(',')
            .map(|entry| match entry.trim().split_once('=') {
                Some((kid, path)) if !kid.is_empty() && !path.is_empty() => {
                    Ok((kid.to_owned(), PathBuf::from(path)))
                }
                _ => Err(self.error(name, &format!("entry {entry:?} is not kid=path.pem"))),
            })
            .collect()
    }
}
