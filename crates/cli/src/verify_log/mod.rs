//! `hellowork verify-log`: checks the Art. 7 access log on this side, never
//! taking the service's word for it. It pins the log's public key, keeps (or
//! is given) a trusted checkpoint — its own from the last run, a file, or
//! the witness's cosigned one — checks every signature, checks that the
//! log's current checkpoint extends the trusted one (consistency proof),
//! and rebuilds the tree from the leaves the log computes from its rows, so
//! an edited row, a deleted one, a consistent rewrite or a rewound log all
//! show, with the first bad position or the inconsistent sizes named. With
//! `--entry`, it checks one entry's inclusion proof instead (what a job
//! seeker does with a disclosure item). The verdict is the exit code.

mod client;
mod locate;

use std::{path::PathBuf, process::ExitCode};

use clap::Args;
use hellowork_auth::Role;
use hellowork_transparency::{
    DEFAULT_ORIGIN, Hash, checkpoint, hash_from_bytes, keys,
    proof::{verify_consistency, verify_inclusion},
    tree::MemoryTree,
};
use hellowork_witness::{check::first_changed, state};

use crate::{rpc, transport::ClientTransport};

#[derive(Debug, Args)]
pub struct VerifyLogArgs {
    /// Check the inclusion of this entry (1-based sequence) in the current
    /// checkpoint instead of rebuilding the whole tree.
    #[arg(long)]
    entry: Option<u64>,
    /// With --entry: the leaf hash (hex) you hold for it, e.g. from a
    /// disclosure item; a job seeker must give it.
    #[arg(long, requires = "entry")]
    leaf_hash: Option<String>,
    /// A trusted checkpoint (a signed note) to check the log against.
    #[arg(long, conflicts_with = "witness")]
    trusted: Option<PathBuf>,
    /// Take the trusted checkpoint from this witness (its cosigned one).
    #[arg(long, env = "HELLOWORK_WITNESS_URL")]
    witness: Option<String>,
    /// Where this verifier keeps its trusted checkpoint and its copy of the
    /// leaves between runs.
    #[arg(long, default_value = ".data/verify-log")]
    state: PathBuf,
    /// The log's C2SP verifier key, pinned; the development log's by
    /// default outside production.
    #[arg(long, env = "HELLOWORK_VERIFY_LOG_KEY")]
    log_key: Option<String>,
    /// The witnesses' C2SP verifier keys whose cosignatures are accepted;
    /// the development witness's by default outside production.
    #[arg(
        long = "witness-key",
        env = "HELLOWORK_VERIFY_WITNESS_KEYS",
        value_delimiter = ','
    )]
    witness_keys: Vec<String>,
    /// The log's origin line.
    #[arg(long, default_value = DEFAULT_ORIGIN)]
    origin: String,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    /// The audit-log service; the variable is the one services use to reach it.
    #[arg(
        long,
        env = "HELLOWORK_AUDITLOG_URL",
        default_value = "http://127.0.0.1:50054"
    )]
    endpoint: String,
    /// A bearer token (auditor for the whole log; job seeker with --entry
    /// and --leaf-hash); by default one is minted with the development key.
    #[arg(long, env = "HELLOWORK_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The folder `hellowork up --data-dir` used: its development CA is
    /// trusted, and TLS spoken, when it made one (see also
    /// `HELLOWORK_TLS_CA_FILE`).
    #[arg(long, default_value = crate::transport::UP_DATA_DIR)]
    data_dir: PathBuf,
}

/// What is wrong with the log, first found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Finding {
    /// The current checkpoint does not verify under the pinned key.
    BadSignature(String),
    /// Smaller than the trusted checkpoint.
    Rollback { trusted: u64, current: u64 },
    /// Not an extension of the trusted checkpoint.
    Inconsistent { trusted: u64, current: u64 },
    /// The row at this position no longer matches its committed leaf.
    LeafChanged(u64),
    /// No row at this position.
    Missing(u64),
    /// The rows do not hash to the signed root and no single entry was named.
    RootMismatch(u64),
    /// The entry is not in the checkpoint as claimed.
    NotIncluded(u64),
}

impl Finding {
    fn name(&self) -> &'static str {
        match self {
            Self::BadSignature(_) => "bad_signature",
            Self::Rollback { .. } => "rollback",
            Self::Inconsistent { .. } => "inconsistent",
            Self::LeafChanged(_) => "leaf_changed",
            Self::Missing(_) => "missing_entry",
            Self::RootMismatch(_) => "root_mismatch",
            Self::NotIncluded(_) => "not_included",
        }
    }

    fn position(&self) -> Option<u64> {
        match self {
            Self::LeafChanged(at) | Self::Missing(at) | Self::NotIncluded(at) => Some(*at),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::BadSignature(why) => format!("the log's checkpoint does not verify: {why}"),
            Self::Rollback { trusted, current } => format!(
                "the log holds {current} entries, fewer than the {trusted} of the trusted checkpoint (rolled back)"
            ),
            Self::Inconsistent { trusted, current } => format!(
                "the checkpoint of {current} entries does not extend the trusted one of {trusted} (history rewritten)"
            ),
            Self::LeafChanged(at) => {
                format!("entry {at} no longer matches what the log committed to (edited)")
            }
            Self::Missing(at) => format!("entry {at} is missing (deleted)"),
            Self::RootMismatch(size) => {
                format!("the log's {size} entries do not hash to its signed root")
            }
            Self::NotIncluded(at) => format!("entry {at} is not in the checkpoint as claimed"),
        }
    }
}

/// The outcome of a run.
#[derive(Debug)]
struct Report {
    finding: Option<Finding>,
    size: u64,
    root: Hash,
    trusted: Option<u64>,
    checked: u64,
}

/// Verifies; the report and exit code 0 when intact, 1 when not. Not
/// reaching a verdict (no connection, refused token) is an error.
pub fn run(args: &VerifyLogArgs) -> Result<(String, ExitCode), String> {
    let report = rpc::block_on(verify(args))?;
    let text = if args.json {
        json(&report)
    } else {
        summary(&report)
    };
    let code = if report.finding.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok((text, code))
}

fn pinned_keys(args: &VerifyLogArgs) -> Result<(String, Vec<String>), String> {
    let production = crate::environment::current().map_err(|e| e.to_string())?
        == hellowork_platform::Environment::Production;
    let log = match (&args.log_key, production) {
        (Some(key), _) => key.clone(),
        (None, false) => keys::DEVELOPMENT_LOG_VERIFIER_KEY.to_owned(),
        (None, true) => {
            return Err("--log-key is required in production: pin the log's key".to_owned());
        }
    };
    let witnesses = if args.witness_keys.is_empty() && !production {
        vec![keys::DEVELOPMENT_WITNESS_VERIFIER_KEY.to_owned()]
    } else {
        args.witness_keys.clone()
    };
    Ok((log, witnesses))
}

async fn verify(args: &VerifyLogArgs) -> Result<Report, String> {
    let (log_key, witness_keys) = pinned_keys(args)?;
    let role = if args.entry.is_some() && args.leaf_hash.is_some() {
        Role::JobSeeker
    } else {
        Role::Auditor
    };
    let transport = ClientTransport::discover(&args.data_dir, "cli")?;
    let mut log = client::Log::connect(
        &transport,
        &args.endpoint,
        rpc::bearer(args.token.as_deref(), role)?,
    )?;
    let (store, kept, copy) = state::Store::open(&args.state).map_err(|e| e.to_string())?;
    let trusted_note = match (&args.trusted, &args.witness) {
        (Some(path), _) => {
            Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        }
        (None, Some(witness)) => Some(client::witnessed(&transport, witness).await?),
        (None, None) => {
            (!kept.cosigned_note.is_empty()).then(|| kept.cosigned_note.clone().into_bytes())
        }
    };
    let trusted = match &trusted_note {
        None => None,
        Some(note) => {
            let verified = checkpoint::verify(note, &args.origin, &log_key, &witness_keys)
                .map_err(|e| format!("the trusted checkpoint does not verify: {e}"))?;
            if args.witness.is_some() && verified.cosigned_by.is_empty() {
                return Err(
                    "the witness's checkpoint carries no cosignature by a pinned witness"
                        .to_owned(),
                );
            }
            Some(verified)
        }
    };
    let note = log.checkpoint().await?;
    let current = match checkpoint::verify(&note, &args.origin, &log_key, &[]) {
        Ok(current) => current,
        Err(error) => {
            return Ok(Report {
                finding: Some(Finding::BadSignature(error.to_string())),
                size: 0,
                root: Hash([0; 32]),
                trusted: trusted.map(|t| t.size),
                checked: 0,
            });
        }
    };
    let report = |finding, checked| Report {
        finding,
        size: current.size,
        root: current.root,
        trusted: trusted.as_ref().map(|t| t.size),
        checked,
    };
    if let Some(trusted) = &trusted {
        let (old, new) = (trusted.size, current.size);
        let finding = if new < old {
            Some(Finding::Rollback {
                trusted: old,
                current: new,
            })
        } else if new == old && trusted.root != current.root
            || new > old
                && verify_consistency(
                    &log.consistency(old, new).await?,
                    old,
                    trusted.root,
                    new,
                    current.root,
                )
                .is_err()
        {
            Some(Finding::Inconsistent {
                trusted: old,
                current: new,
            })
        } else {
            None
        };
        if finding.is_some() {
            return Ok(report(finding, 0));
        }
    }
    if let Some(entry) = args.entry {
        let held = args.leaf_hash.as_deref().map(parse_hex).transpose()?;
        if entry == 0 || entry > current.size {
            return Ok(report(Some(Finding::NotIncluded(entry)), 0));
        }
        let (leaf, proof) = log.inclusion(entry, current.size, held).await?;
        let included = verify_inclusion(&proof, entry - 1, current.size, leaf, current.root)
            .is_ok()
            && held.is_none_or(|held| held == leaf);
        return Ok(report(
            (!included).then_some(Finding::NotIncluded(entry)),
            1,
        ));
    }
    let served = log.leaves(current.size).await?;
    if let Some(missing) = served.iter().position(Option::is_none) {
        return Ok(report(
            Some(Finding::Missing(missing as u64 + 1)),
            missing as u64,
        ));
    }
    let served: Vec<Hash> = served.into_iter().flatten().collect();
    if (served.len() as u64) < current.size {
        return Ok(report(
            Some(Finding::Missing(served.len() as u64 + 1)),
            served.len() as u64,
        ));
    }
    let wrapped: Vec<Option<Hash>> = served.iter().copied().map(Some).collect();
    let kept_size = copy.size().min(current.size);
    if let Some(changed) = first_changed(&copy, 1, &wrapped[..kept_size as usize]) {
        return Ok(report(Some(Finding::LeafChanged(changed)), changed - 1));
    }
    let mut rebuilt = MemoryTree::new();
    for leaf in &served {
        rebuilt.push(*leaf);
    }
    let trusted_broken = trusted
        .as_ref()
        .is_some_and(|t| rebuilt.root_at(t.size).is_ok_and(|root| root != t.root));
    if rebuilt.root() != current.root || trusted_broken {
        let finding = match locate(&mut log, &served, current.size).await? {
            Some(at) => Finding::LeafChanged(at),
            None => Finding::RootMismatch(current.size),
        };
        return Ok(report(Some(finding), 0));
    }
    // Intact: this checkpoint is trusted from now on, and the leaves kept.
    if current.size > copy.size() {
        store
            .append_leaves(&served[copy.size() as usize..])
            .map_err(|e| e.to_string())?;
        store
            .save(&state::Accepted {
                tree_size: current.size,
                cosigned_note: String::from_utf8_lossy(&note).into_owned(),
                cosigned_at: chrono::Utc::now().timestamp(),
                ..kept
            })
            .map_err(|e| e.to_string())?;
    }
    Ok(report(None, current.size))
}

/// The first entry whose row no longer matches the tree's committed leaf
/// (see [`locate`]); `None` if the tree itself disagrees with its root.
async fn locate(log: &mut client::Log, served: &[Hash], size: u64) -> Result<Option<u64>, String> {
    let mut index = 0;
    loop {
        let (committed, proof) = log.inclusion(index + 1, size, None).await?;
        match locate::step(served, index, committed, &proof) {
            Err(bad) => return Ok(Some(bad + 1)),
            Ok(Some(next)) => index = next,
            Ok(None) => return Ok(None),
        }
    }
}

fn parse_hex(text: &str) -> Result<Hash, String> {
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("--leaf-hash must be hex")?;
    hash_from_bytes(&bytes).map_err(|_| "--leaf-hash must be 32 bytes of hex".to_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn summary(report: &Report) -> String {
    let verdict = match &report.finding {
        None => "intact".to_owned(),
        Some(finding) => format!("TAMPERED: {}", finding.describe()),
    };
    let trusted = match report.trusted {
        Some(size) => format!("consistent with the trusted checkpoint of {size} entries"),
        None => "no trusted checkpoint yet (first use: this one is kept)".to_owned(),
    };
    format!(
        "{verdict}\ncheckpoint of {} entries, root {}\n{trusted}\nchecked {} entries on this side",
        report.size,
        hex(&report.root.0),
        report.checked
    )
}

fn json(report: &Report) -> String {
    serde_json::json!({
        "intact": report.finding.is_none(),
        "finding": report.finding.as_ref().map(Finding::name),
        "first_bad_sequence": report.finding.as_ref().and_then(Finding::position),
        "detail": report.finding.as_ref().map(Finding::describe),
        "tree_size": report.size,
        "root_hash": hex(&report.root.0),
        "trusted_tree_size": report.trusted,
        "checked_count": report.checked,
    })
    .to_string()
}
