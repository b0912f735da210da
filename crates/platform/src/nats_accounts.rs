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
    /// the configuration beside them with `nats-users.conf`, which names
    /// their public keys and the server's TLS files.
    pub fn ensure(dir: &Path, tls: &NatsServerTls) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let accounts = Self {
            dir: dir.to_owned(),
        };
        let mut users = String::from(
            "# The development users and certificate of deploy/nats/nats.conf, written by\n\
             # hellowork (nats_accounts.rs); the seeds are in the .nkey files beside it.\n",
        );
        for service in Service::ALL {
            let path = accounts.seed_file(service);
            if !path.exists() {
                let seed = nkeys::KeyPair::new_user()
                    .seed()
                    .map_err(|e| io::Error::other(e.to_string()))?;
                write_private(&path, &seed)?;
            }
            let seed = std::fs::read_to_string(&path)?;
            let user = nkeys::KeyPair::from_seed(seed.trim())
                .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
            users.push_str(&format!(
                "HELLOWORK_NATS_{}_NKEY = \"{}\"\n",
                service.name().to_uppercase(),
                user.public_key()
            ));
        }
        for (name, path) in [
            ("HELLOWORK_NATS_TLS_CERT", &tls.cert),
            ("HELLOWORK_NATS_TLS_KEY", &tls.key),
            ("HELLOWORK_NATS_TLS_CA", &tls.ca),
        ] {
            users.push_str(&format!("{name} = \"{}\"\n", path.display()));
        }
        std::fs::write(dir.join("nats-users.conf"), users)?;
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
        let tls = NatsServerTls {
            cert: "/pki/nats.pem".into(),
            key: "/pki/nats-key.pem".into(),
            ca: "/pki/ca.pem".into(),
        };
        let users = |dir: &Path| {
            DevNatsAccounts::ensure(dir, &tls).unwrap();
            std::fs::read_to_string(dir.join("nats-users.conf")).unwrap()
        };
        let first = users(&dir);
        assert_eq!(first, users(&dir), "the same users on every start");
        assert!(first.contains("HELLOWORK_NATS_AUDITLOG_NKEY = \"U"));
        assert!(first.contains("HELLOWORK_NATS_TLS_CA = \"/pki/ca.pem\""));
        assert!(!first.contains("\"SU"), "no seed in the server's file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
