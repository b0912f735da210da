//! `hellowork token`: a development bearer token for any subject and roles.

use std::time::Duration;

use clap::Args;
use hellowork_auth::{DevKey, MintRequest, Role};
use hellowork_platform::{AuthConfig, Environment};

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Whom the token speaks for: a pseudonymous id, never a name.
    #[arg(long)]
    subject: String,
    /// A role (repeat for several): job_seeker, counsellor, supervisor,
    /// operator, legal_officer, approver, auditor, system.
    #[arg(long = "role", required = true)]
    roles: Vec<Role>,
    /// How long the token is valid, e.g. 30m or 8h.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    ttl: Duration,
    /// The personnel id of the person behind the subject (staff): legal
    /// officers and approvers need one for legal requests, which tell
    /// people apart by it (Art. 7(2)).
    #[arg(long)]
    personnel_id: Option<String>,
}

/// The token, ready for an `authorization: Bearer …` header.
pub fn run(args: &TokenArgs) -> Result<String, String> {
    DevMinter::from_env()?.mint_as(
        &args.subject,
        args.roles.clone(),
        args.ttl,
        args.personnel_id.as_deref(),
    )
}

/// A token signed with the development key in `HELLOWORK_DEV_KEY_DIR`, for
/// the issuer and audience the services check; refused in production, where
/// services trust only the keys in `HELLOWORK_JWT_PUBLIC_KEYS`.
pub fn mint(subject: &str, roles: Vec<Role>, ttl: Duration) -> Result<String, String> {
    DevMinter::from_env()?.mint(subject, roles, ttl)
}

/// The development key loaded once, for commands that mint many tokens
/// (`hellowork demo` speaks for a dozen people and every staff role).
#[derive(Debug)]
pub struct DevMinter {
    key: DevKey,
    issuer: String,
    audience: String,
}

impl DevMinter {
    /// Reads the same variables and defaults the services read; refused in
    /// production.
    pub fn from_env() -> Result<Self, String> {
        let (environment, auth) =
            AuthConfig::from_vars(crate::environment::vars()).map_err(|e| e.to_string())?;
        let environment = match environment {
            Environment::Development => "development",
            Environment::Production => hellowork_auth::PRODUCTION,
        };
        let key =
            DevKey::load_or_generate(&auth.dev_key_dir, environment).map_err(|e| e.to_string())?;
        Ok(Self {
            key,
            issuer: auth.issuer,
            audience: auth.audience,
        })
    }

    /// A token for `subject` with `roles`, naming no personnel id.
    pub fn mint(&self, subject: &str, roles: Vec<Role>, ttl: Duration) -> Result<String, String> {
        self.mint_as(subject, roles, ttl, None)
    }

    /// A token for `subject` with `roles` and, for staff, the personnel id
    /// of the person behind the subject.
    pub fn mint_as(
        &self,
        subject: &str,
        roles: Vec<Role>,
        ttl: Duration,
        personnel_id: Option<&str>,
    ) -> Result<String, String> {
        self.key
            .mint(&MintRequest {
                subject: subject.to_owned(),
                roles,
                ttl,
                issuer: self.issuer.clone(),
                audience: self.audience.clone(),
                not_before: None,
                personnel_id: personnel_id.map(str::to_owned),
            })
            .map_err(|e| e.to_string())
    }
}
