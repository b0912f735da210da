//! `hellowork log-key`: a fresh Ed25519 key pair in C2SP signed-note form,
//! for the audit-log's checkpoints (`HELLOWORK_AUDITLOG_LOG_SIGNING_KEY`)
//! or a witness's cosignatures (`--witness`,
//! `HELLOWORK_WITNESS_SIGNING_KEY`). The private key goes to a file only
//! its owner reads; the verifier key is printed, to be pinned by those who
//! check: the witness and verifiers (`HELLOWORK_WITNESS_LOG_KEY`,
//! `--log-key`) for a log key, the audit-log (`HELLOWORK_AUDITLOG_WITNESS_KEYS`)
//! and verifiers (`--witness-key`) for a witness key.

use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _, path::PathBuf};

use clap::Args;
use hellowork_transparency::keys;

#[derive(Debug, Args)]
pub struct LogKeyArgs {
    /// The key's name, e.g. `hellowork-takamatsu-access-log-2027`.
    #[arg(long)]
    name: String,
    /// A witness's cosigning key instead of the log's signing key.
    #[arg(long)]
    witness: bool,
    /// Where the private key is written (created, mode 0600; never
    /// overwritten).
    #[arg(long)]
    out: PathBuf,
}

/// Writes the private key to `--out` and returns the verifier key.
pub fn run(args: &LogKeyArgs) -> Result<String, String> {
    if !keys::is_valid_name(&args.name) {
        return Err("--name must be non-empty, without spaces or '+'".to_owned());
    }
    let (skey, vkey) = keys::generate(&args.name, args.witness);
    let skey = zeroize::Zeroizing::new(skey);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    file.write_all(skey.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    Ok(vkey)
}
