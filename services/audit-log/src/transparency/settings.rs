//! The transparency log's settings, from `HELLOWORK_AUDITLOG_*` variables,
//! each error naming its variable and never echoing a key.

use std::{collections::HashMap, sync::Arc, time::Duration};

use hellowork_platform::ConfigError;
use hellowork_transparency::{
    checkpoint::LogKey,
    cosignature::{CosignatureVerifier, WitnessKey},
    keys,
};

/// The log's Ed25519 signing key as a C2SP signed-note private key
/// (`PRIVATE+KEY+name+id+base64`); or `…_FILE` naming a file holding it.
/// Never in the database: a database writer cannot sign a checkpoint.
pub const SIGNING_KEY_VAR: &str = "HELLOWORK_AUDITLOG_LOG_SIGNING_KEY";
pub const SIGNING_KEY_FILE_VAR: &str = "HELLOWORK_AUDITLOG_LOG_SIGNING_KEY_FILE";
/// The checkpoints' origin line, naming this office's log.
pub const ORIGIN_VAR: &str = "HELLOWORK_AUDITLOG_LOG_ORIGIN";
/// Comma-separated C2SP verifier keys of the witnesses whose cosignatures
/// `AddCosignature` accepts.
pub const WITNESS_KEYS_VAR: &str = "HELLOWORK_AUDITLOG_WITNESS_KEYS";
/// How often a checkpoint is signed when the tree grew (default 2s).
pub const CHECKPOINT_INTERVAL_VAR: &str = "HELLOWORK_AUDITLOG_CHECKPOINT_INTERVAL";
/// How often the service verifies its own log: rows against the tree and
/// the tree against its signed checkpoints (default 10min).
pub const VERIFY_INTERVAL_VAR: &str = "HELLOWORK_AUDITLOG_VERIFY_INTERVAL";

/// A schema-less URL (C2SP tlog-checkpoint) naming Hello Work Takamatsu's
/// access log.
pub const DEFAULT_ORIGIN: &str = "hellowork-takamatsu/access-log";
const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(2);
const DEFAULT_VERIFY_INTERVAL: Duration = Duration::from_secs(600);

/// What the transparency log needs.
#[derive(Debug, Clone)]
pub struct TransparencySettings {
    pub key: Arc<LogKey>,
    pub origin: String,
    /// Verifier keys of the accepted witnesses.
    pub witnesses: Vec<String>,
    pub checkpoint_interval: Duration,
    pub verify_interval: Duration,
}

impl TransparencySettings {
    pub fn from_vars(
        production: bool,
        vars: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let error = |variable: &str, problem: String| ConfigError {
            variable: variable.to_owned(),
            problem,
        };
        let (variable, skey) = keys::configured(
            keys::KeySource {
                variable: SIGNING_KEY_VAR,
                file_variable: SIGNING_KEY_FILE_VAR,
                text: get(SIGNING_KEY_VAR),
                file: get(SIGNING_KEY_FILE_VAR),
            },
            production,
            keys::DEVELOPMENT_LOG_KEY,
        )
        .map_err(|e| error(&e.variable, e.problem))?;
        let key = LogKey::from_note_key(&skey)
            .map_err(|e| error(&variable, format!("is not a signed-note private key: {e}")))?;
        let origin = get(ORIGIN_VAR).unwrap_or(DEFAULT_ORIGIN).to_owned();
        if origin.chars().any(|c| c.is_whitespace() || c == '+') {
            return Err(error(
                ORIGIN_VAR,
                "must be a schema-less URL without spaces or '+'".to_owned(),
            ));
        }
        let witnesses = witnesses(get(WITNESS_KEYS_VAR), production)
            .map_err(|problem| error(WITNESS_KEYS_VAR, problem))?;
        Ok(Self {
            key: Arc::new(key),
            origin,
            witnesses,
            checkpoint_interval: interval(
                get(CHECKPOINT_INTERVAL_VAR),
                DEFAULT_CHECKPOINT_INTERVAL,
                Duration::from_millis(100)..=Duration::from_secs(3600),
            )
            .map_err(|problem| error(CHECKPOINT_INTERVAL_VAR, problem))?,
            verify_interval: interval(
                get(VERIFY_INTERVAL_VAR),
                DEFAULT_VERIFY_INTERVAL,
                Duration::from_secs(1)..=Duration::from_secs(86_400),
            )
            .map_err(|problem| error(VERIFY_INTERVAL_VAR, problem))?,
        })
    }
}

/// The accepted witnesses: the development witness outside production when
/// none is named; never a development key in production (by its bytes,
/// under any name), where anyone could forge its cosignature.
fn witnesses(text: Option<&str>, production: bool) -> Result<Vec<String>, String> {
    let development = WitnessKey::from_note_key(keys::DEVELOPMENT_WITNESS_KEY)
        .expect("the development witness key parses")
        .verifier_key();
    let Some(text) = text else {
        return Ok(if production {
            Vec::new()
        } else {
            vec![development]
        });
    };
    let mut keys = Vec::new();
    for (index, vkey) in text.split(',').map(str::trim).enumerate() {
        CosignatureVerifier::new(vkey)
            .map_err(|e| format!("entry {index} is not a cosignature verifier key: {e}"))?;
        if production && keys::is_development_verifier(vkey) {
            return Err(format!(
                "entry {index} is a published development key; production needs real witnesses"
            ));
        }
        keys.push(vkey.to_owned());
    }
    Ok(keys)
}

fn interval(
    text: Option<&str>,
    default: Duration,
    allowed: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, String> {
    let Some(text) = text else {
        return Ok(default);
    };
    humantime::parse_duration(text)
        .ok()
        .filter(|d| allowed.contains(d))
        .ok_or_else(|| {
            format!(
                "{text:?} is not a duration between {} and {}",
                humantime::format_duration(*allowed.start()),
                humantime::format_duration(*allowed.end())
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn development_defaults_sign_with_the_published_key_and_accept_its_witness() {
        let settings = TransparencySettings::from_vars(false, &vars(&[])).unwrap();
        assert_eq!(settings.origin, DEFAULT_ORIGIN);
        assert_eq!(settings.witnesses.len(), 1);
        assert_eq!(settings.checkpoint_interval, DEFAULT_CHECKPOINT_INTERVAL);
    }

    #[test]
    fn production_refuses_a_missing_or_published_signing_key() {
        let missing = TransparencySettings::from_vars(true, &vars(&[])).unwrap_err();
        assert_eq!(missing.variable, SIGNING_KEY_VAR);
        let published = TransparencySettings::from_vars(
            true,
            &vars(&[(SIGNING_KEY_VAR, keys::DEVELOPMENT_LOG_KEY)]),
        )
        .unwrap_err();
        assert!(published.problem.contains("development"), "{published}");
        assert!(!published.to_string().contains("PRIVATE"), "{published}");
    }

    #[test]
    fn production_refuses_the_development_witness_and_takes_its_own() {
        let (skey, _) = keys::generate("office-log", false);
        let development = WitnessKey::from_note_key(keys::DEVELOPMENT_WITNESS_KEY)
            .unwrap()
            .verifier_key();
        let refused = TransparencySettings::from_vars(
            true,
            &vars(&[(SIGNING_KEY_VAR, &skey), (WITNESS_KEYS_VAR, &development)]),
        )
        .unwrap_err();
        assert_eq!(refused.variable, WITNESS_KEYS_VAR);
        let (_, witness) = keys::generate("office-witness", true);
        let taken = TransparencySettings::from_vars(
            true,
            &vars(&[(SIGNING_KEY_VAR, &skey), (WITNESS_KEYS_VAR, &witness)]),
        )
        .unwrap();
        assert_eq!(taken.witnesses, vec![witness]);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            (SIGNING_KEY_VAR, "PRIVATE+KEY+nope"),
            (ORIGIN_VAR, "two words"),
            (WITNESS_KEYS_VAR, "not-a-key"),
            (CHECKPOINT_INTERVAL_VAR, "1ms"),
            (VERIFY_INTERVAL_VAR, "forever"),
        ] {
            let error =
                TransparencySettings::from_vars(false, &vars(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
