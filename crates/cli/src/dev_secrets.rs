//! `hellowork dev-secrets --dir DIR`: what a development stack started
//! otherwise than by `hellowork up` (docker compose's `dev-secrets` job)
//! needs to run as production does, over TLS and with NATS accounts: the
//! development CA and a certificate for each process under `DIR/pki`, and
//! the NATS users (one nkey per service, seeds in 0600 files) with the
//! project's configuration (`deploy/nats/nats.conf`, embedded) under
//! `DIR/nats`. What is there and still valid is kept, so running it again
//! changes nothing. Refused in production, whose secrets come from its own
//! CA and operators.

use std::path::PathBuf;

use clap::Args;
use hellowork_platform::{
    Environment,
    nats_accounts::{DevNatsAccounts, NatsServerTls},
};
use hellowork_tls::dev_pki::{self, DevPki};

#[derive(Debug, Args)]
pub struct DevSecretsArgs {
    /// Where to write (`pki/` and `nats/` inside it); the path the files
    /// name each other by, so mount it at the same path wherever it is read.
    #[arg(long)]
    dir: PathBuf,
}

pub fn run(args: &DevSecretsArgs) -> Result<String, String> {
    if crate::environment::current().map_err(|e| e.to_string())? == Environment::Production {
        return Err(
            "HELLOWORK_ENVIRONMENT: production: dev-secrets writes development secrets only"
                .to_owned(),
        );
    }
    let dir =
        std::path::absolute(&args.dir).map_err(|e| format!("--dir {}: {e}", args.dir.display()))?;
    let pki = DevPki::ensure(&dir.join("pki"), &dev_pki::NAMES)
        .map_err(|e| format!("cannot create the development certificates: {e}"))?;
    let accounts = DevNatsAccounts::ensure(
        &dir.join("nats"),
        &NatsServerTls {
            cert: pki.cert("nats"),
            key: pki.key("nats"),
            ca: pki.ca(),
        },
    )
    .map_err(|e| format!("cannot create the NATS users in {}: {e}", dir.display()))?;
    Ok(format!(
        "development CA {} and certificates for {}\nNATS configuration {} with a user per service",
        pki.ca().display(),
        dev_pki::NAMES.join(", "),
        accounts.config_file().display()
    ))
}
