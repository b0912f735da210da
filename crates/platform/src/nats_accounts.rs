//! The project's NATS configuration (`deploy/nats/nats.conf`) and the
//! development users it is run with: one nkey per service, generated once
//! into a directory (`hellowork up`'s data directory, a test's own), the
//! seeds in 0600 files the services read (`HELLOWORK_NATS_NKEY_SEED_FILE`),
//! the public keys in the variables the configuration reads.

use std::{
    io,
    path::{Path, PathBuf},
};

use crate::config::Service;

/// `deploy/nats/nats.conf`, the one configuration every NATS of the
/// project runs with.
pub const PROJECT_CONFIG: &str = include_str!("../../../deploy/nats/nats.conf");

/// The development users of a NATS run with [`PROJECT_CONFIG`].
#[derive(Debug, Clone)]
pub struct DevNatsAccounts {
    dir: PathBuf,
}

/// A server's TLS files, as `HELLOWORK_NATS_TLS_*` give them to the config.
#[derive(Debug, Clone)]
pub struct NatsServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl DevNatsAccounts {
    /// Keeps the users found in `dir`, creates the missing ones, and writes
    /// the configuration beside them.
    pub fn ensure(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let accounts = Self {
            dir: dir.to_owned(),
        };
        for service in Service::ALL {
            let path = accounts.seed_file(service);
            if !path.exists() {
                let seed = nkeys::KeyPair::new_user()
                    .seed()
                    .map_err(|e| io::Error::other(e.to_string()))?;
                write_private(&path, &seed)?;
            }
        }
        std::fs::write(accounts.config_file(), PROJECT_CONFIG)?;
        Ok(accounts)
    }

    /// Where `service`'s seed is (`HELLOWORK_NATS_NKEY_SEED_FILE`).
    pub fn seed_file(&self, service: Service) -> PathBuf {
        self.dir.join(format!("{}.nkey", service.name()))
    }

    /// The configuration, for `nats-server -c`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("nats.conf")
    }

    /// The environment `nats-server -c` needs: every service's public key
    /// and the server's TLS files.
    pub fn server_env(&self, tls: &NatsServerTls) -> io::Result<Vec<(String, String)>> {
        let mut env = Vec::new();
        for service in Service::ALL {
            let seed = std::fs::read_to_string(self.seed_file(service))?;
            let user = nkeys::KeyPair::from_seed(seed.trim())
                .map_err(|e| io::Error::other(format!("{}: {e}", service.name())))?;
            env.push((
                format!("HELLOWORK_NATS_{}_NKEY", service.name().to_uppercase()),
                user.public_key(),
            ));
        }
        for (name, path) in [
            ("HELLOWORK_NATS_TLS_CERT", &tls.cert),
            ("HELLOWORK_NATS_TLS_KEY", &tls.key),
            ("HELLOWORK_NATS_TLS_CA", &tls.ca),
        ] {
            env.push((name.to_owned(), path.display().to_string()));
        }
        Ok(env)
    }
}

fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("hellowork-nats-users-{}", std::process::id()));
        let accounts = DevNatsAccounts::ensure(&dir).unwrap();
        let tls = NatsServerTls {
            cert: "c".into(),
            key: "k".into(),
            ca: "a".into(),
        };
        let first = accounts.server_env(&tls).unwrap();
        let again = DevNatsAccounts::ensure(&dir)
            .unwrap()
            .server_env(&tls)
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.len(), Service::ALL.len() + 3);
        assert!(first[0].1.starts_with('U'));
        assert!(
            std::fs::read_to_string(accounts.config_file())
                .unwrap()
                .contains("HELLOWORK_NATS_AUDITLOG_NKEY")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
