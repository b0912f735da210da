//! How a service connects to NATS: as its own user, over TLS.
//!
//! - `HELLOWORK_NATS_URL`: `nats://host:port` (`tls://` where the server
//!   requires TLS from the first byte).
//! - `HELLOWORK_NATS_NKEY_SEED_FILE`: the file holding this service's nkey
//!   seed (`SU...`), the user `deploy/nats/nats.conf` grants this service's
//!   permissions; or `HELLOWORK_NATS_CREDS_FILE`, a `.creds` file (JWT and
//!   seed) for an operator-managed (decentralised) NATS.
//! - `HELLOWORK_NATS_CA_FILE`: the CA the server's certificate must chain
//!   to; setting it requires TLS.
//!
//! Production requires credentials and TLS. Development connects to a bare
//! local server as it finds it (`hellowork up` says so when it has no auth).

use std::path::PathBuf;

use super::{ConfigError, Vars};

const SEED_FILE: &str = "NATS_NKEY_SEED_FILE";
const CREDS_FILE: &str = "NATS_CREDS_FILE";
const CA_FILE: &str = "NATS_CA_FILE";

/// Who this service is to NATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsCredentials {
    /// An nkey seed file (the project's configuration).
    NkeySeedFile(PathBuf),
    /// A `.creds` file (an operator's JWT-based accounts).
    CredsFile(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSettings {
    pub credentials: Option<NatsCredentials>,
    /// Where set, the connection must be TLS and the server's certificate
    /// chain to this CA.
    pub ca_file: Option<PathBuf>,
}

/// Why the configured NATS credentials cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NatsCredentialsError {
    #[error("cannot read {variable} ({path})")]
    Read {
        variable: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{variable}: the file does not hold an nkey user seed")]
    NotASeed { variable: &'static str },
}

impl NatsSettings {
    /// Connect options for the service `name`: its user, TLS where
    /// configured, and replies on its own inbox prefix (`_INBOX_<name>`,
    /// the only inbox its NATS user may subscribe to).
    pub async fn connect_options(
        &self,
        name: &str,
    ) -> Result<async_nats::ConnectOptions, NatsCredentialsError> {
        let mut options = match &self.credentials {
            None => async_nats::ConnectOptions::new(),
            Some(NatsCredentials::NkeySeedFile(path)) => {
                let variable = "HELLOWORK_NATS_NKEY_SEED_FILE";
                let seed =
                    std::fs::read_to_string(path).map_err(|source| NatsCredentialsError::Read {
                        variable,
                        path: path.clone(),
                        source,
                    })?;
                let seed = seed.trim().to_owned();
                // Checked here so a wrong file fails at start, naming the
                // variable, not as a refused connection.
                nkeys::KeyPair::from_seed(&seed)
                    .ok()
                    .filter(|pair| pair.public_key().starts_with('U'))
                    .ok_or(NatsCredentialsError::NotASeed { variable })?;
                async_nats::ConnectOptions::with_nkey(seed)
            }
            Some(NatsCredentials::CredsFile(path)) => {
                async_nats::ConnectOptions::with_credentials_file(path)
                    .await
                    .map_err(|source| NatsCredentialsError::Read {
                        variable: "HELLOWORK_NATS_CREDS_FILE",
                        path: path.clone(),
                        source,
                    })?
            }
        };
        if let Some(ca) = &self.ca_file {
            options = options.require_tls(true).add_root_certificates(ca.clone());
        }
        Ok(options
            .name(format!("hellowork-{name}"))
            .custom_inbox_prefix(format!("_INBOX_{name}")))
    }
}

impl Vars {
    pub(crate) fn nats(&self, production: bool) -> Result<NatsSettings, ConfigError> {
        let path = |name: &str| {
            self.get(name)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let credentials = match (path(SEED_FILE), path(CREDS_FILE)) {
            (Some(_), Some(_)) => {
                return Err(self.error(
                    SEED_FILE,
                    &format!("set either {SEED_FILE} or {CREDS_FILE}, not both"),
                ));
            }
            (Some(seed), None) => Some(NatsCredentials::NkeySeedFile(seed)),
            (None, Some(creds)) => Some(NatsCredentials::CredsFile(creds)),
            (None, None) if production => {
                return Err(self.error(
                    SEED_FILE,
                    &format!(
                        "required in production (or {CREDS_FILE}): NATS must know which service connects"
                    ),
                ));
            }
            (None, None) => None,
        };
        let ca_file = path(CA_FILE);
        if production && ca_file.is_none() {
            return Err(self.error(CA_FILE, "required in production: NATS only over TLS"));
        }
        Ok(NatsSettings {
            credentials,
            ca_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_may_connect_anonymously_and_in_clear() {
        assert_eq!(
            Vars::of(&[]).nats(false).unwrap(),
            NatsSettings {
                credentials: None,
                ca_file: None
            }
        );
    }

    #[test]
    fn production_requires_credentials_and_tls() {
        let error = Vars::of(&[]).nats(true).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_NATS_NKEY_SEED_FILE");
        let error = Vars::of(&[("HELLOWORK_NATS_NKEY_SEED_FILE", "/run/secrets/seed")])
            .nats(true)
            .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_NATS_CA_FILE");
        let settings = Vars::of(&[
            ("HELLOWORK_NATS_CREDS_FILE", "/run/secrets/consent.creds"),
            ("HELLOWORK_NATS_CA_FILE", "/run/secrets/ca.pem"),
        ])
        .nats(true)
        .unwrap();
        assert_eq!(
            settings.credentials,
            Some(NatsCredentials::CredsFile(
                "/run/secrets/consent.creds".into()
            ))
        );
    }

    #[test]
    fn a_seed_file_and_a_creds_file_together_are_refused() {
        let error = Vars::of(&[
            ("HELLOWORK_NATS_NKEY_SEED_FILE", "a"),
            ("HELLOWORK_NATS_CREDS_FILE", "b"),
        ])
        .nats(false)
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_NATS_NKEY_SEED_FILE");
    }

    #[tokio::test]
    async fn a_file_without_a_user_seed_is_refused_naming_its_variable() {
        let dir = std::env::temp_dir().join(format!("hellowork-nats-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("seed");
        std::fs::write(&file, "SUnot-a-seed\n").unwrap();
        let settings = NatsSettings {
            credentials: Some(NatsCredentials::NkeySeedFile(file.clone())),
            ca_file: None,
        };
        let error = settings.connect_options("consent").await.unwrap_err();
        assert!(matches!(error, NatsCredentialsError::NotASeed { .. }));
        assert!(!error.to_string().contains("SUnot"));
        let user = nkeys::KeyPair::new_user();
        std::fs::write(&file, user.seed().unwrap()).unwrap();
        assert!(settings.connect_options("consent").await.is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
