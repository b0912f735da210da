//! The scheduling service's own settings, from `HELLOWORK_*` variables like
//! the platform's, each error naming its variable and never echoing a
//! secret.

use hellowork_platform::{ConfigError, Environment};
use hellowork_sealing::{
    personal::KeyEncryptionKeys,
    ring::{self, RingKey},
};
use zeroize::Zeroizing;

/// Art. 12(3): how long before a session attendants must be declared.
pub const ATTENDANT_CUTOFF_VAR: &str = "HELLOWORK_ATTENDANT_CUTOFF";
/// Art. 8: the key-encryption keys of the people's scheduling data keys,
/// `kid=base64(32 bytes),...`, the first current.
pub const KEKS_VAR: &str = "HELLOWORK_SCHEDULING_KEKS";
/// Art. 8: a file holding the same text as [`KEKS_VAR`].
pub const KEKS_FILE_VAR: &str = "HELLOWORK_SCHEDULING_KEKS_FILE";

const DEFAULT_ATTENDANT_CUTOFF: &str = "24h";
/// Development only, and published: it protects nothing, so production
/// refuses any ring holding these bytes, under any key id (and weak keys).
pub const DEV_KEK: [u8; 32] = ring::development::SCHEDULING_KEK;
const DEV_KEK_ID: &str = "scheduling-dev";

/// What the scheduling service needs beyond the platform.
#[derive(Debug, Clone)]
pub struct SchedulingSettings {
    /// Art. 12(3): attendants are declared at least this long before the
    /// session starts.
    pub attendant_cutoff: chrono::Duration,
    /// Art. 8: wrap new data keys under the first, unwrap under any.
    pub keks: KeyEncryptionKeys,
}

impl SchedulingSettings {
    pub fn from_env(environment: Environment) -> Result<Self, ConfigError> {
        Self::from_vars(environment, std::env::vars())
    }

    pub fn from_vars(
        environment: Environment,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let value = get(ATTENDANT_CUTOFF_VAR).unwrap_or(DEFAULT_ATTENDANT_CUTOFF);
        let attendant_cutoff = humantime::parse_duration(value)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .ok_or_else(|| ConfigError {
                variable: ATTENDANT_CUTOFF_VAR.to_owned(),
                problem: format!("{value:?} is not a duration like 24h"),
            })?;
        Ok(Self {
            attendant_cutoff,
            keks: keks(environment, get(KEKS_VAR), get(KEKS_FILE_VAR))?,
        })
    }
}

/// Art. 8: the KEK ring from the variable or the file named by the other;
/// the development KEK when neither is set outside production. Problems
/// name the variable and the entry, never key bytes.
fn keks(
    environment: Environment,
    text: Option<&str>,
    file: Option<&str>,
) -> Result<KeyEncryptionKeys, ConfigError> {
    let source = ring::RingSource {
        variable: KEKS_VAR,
        file_variable: KEKS_FILE_VAR,
        text,
        file,
    };
    let development = RingKey {
        key_id: DEV_KEK_ID.to_owned(),
        secret: Zeroizing::new(DEV_KEK),
    };
    let keys = ring::configured(source, environment == Environment::Production, &development)
        .map_err(|e| ConfigError {
            variable: e.variable.to_owned(),
            problem: e.problem,
        })?;
    Ok(KeyEncryptionKeys::new(keys).expect("a configured ring is never empty"))
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn secret(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| seed.wrapping_add(i as u8))
    }

    fn production(set: &[(&str, &str)]) -> Result<SchedulingSettings, ConfigError> {
        SchedulingSettings::from_vars(Environment::Production, vars(set))
    }

    #[test]
    fn the_attendant_cutoff_defaults_to_24h_and_is_configurable_and_checked() {
        let default = SchedulingSettings::from_vars(Environment::Development, vars(&[])).unwrap();
        assert_eq!(default.attendant_cutoff, chrono::Duration::hours(24));
        let set = SchedulingSettings::from_vars(
            Environment::Development,
            vars(&[(ATTENDANT_CUTOFF_VAR, "2h")]),
        )
        .unwrap();
        assert_eq!(set.attendant_cutoff, chrono::Duration::hours(2));
        let error = SchedulingSettings::from_vars(
            Environment::Development,
            vars(&[(ATTENDANT_CUTOFF_VAR, "soon")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, ATTENDANT_CUTOFF_VAR);
    }

    #[test]
    fn art_8_development_wraps_under_the_published_development_kek() {
        let settings = SchedulingSettings::from_vars(Environment::Development, vars(&[])).unwrap();
        assert_eq!(settings.keks.current_id(), DEV_KEK_ID);
    }

    #[test]
    fn art_8_keks_rotate_the_first_is_current_and_a_file_works_too() {
        let ring = format!("k2={},k1={}", b64(&secret(2)), b64(&secret(1)));
        assert_eq!(
            production(&[(KEKS_VAR, &ring)]).unwrap().keks.current_id(),
            "k2"
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), format!("{ring}\n")).unwrap();
        let path = file.path().to_str().unwrap();
        assert_eq!(
            production(&[(KEKS_FILE_VAR, path)])
                .unwrap()
                .keks
                .current_id(),
            "k2"
        );
    }

    #[test]
    fn art_8_production_refuses_a_missing_bad_or_development_kek_without_echoing_it() {
        let good = b64(&secret(3));
        let dev = b64(&DEV_KEK);
        let audit_logs = b64(&ring::development::AUDITLOG_KEK);
        let short = b64(&[1, 2, 3]);
        let zero = b64(&[0; 32]);
        for (set, variable) in [
            (vec![], KEKS_VAR),
            (vec![(KEKS_VAR, format!("prod={dev}"))], KEKS_VAR),
            // By its bytes, under any id and in any position, whichever
            // service's it is.
            (vec![(KEKS_VAR, format!("prod={good},old={dev}"))], KEKS_VAR),
            (
                vec![(KEKS_VAR, format!("prod={good},old={audit_logs}"))],
                KEKS_VAR,
            ),
            (vec![(KEKS_VAR, format!("prod={zero}"))], KEKS_VAR),
            (vec![(KEKS_VAR, format!("prod={short}"))], KEKS_VAR),
            (vec![(KEKS_VAR, format!("prod{good}"))], KEKS_VAR),
            (
                vec![(KEKS_FILE_VAR, "/nonexistent/keks".to_owned())],
                KEKS_FILE_VAR,
            ),
            (
                vec![
                    (KEKS_VAR, format!("prod={good}")),
                    (KEKS_FILE_VAR, "/etc/keks".to_owned()),
                ],
                KEKS_VAR,
            ),
        ] {
            let set: Vec<(&str, &str)> = set.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let error = production(&set).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
            for bytes in [&good, &dev, &audit_logs, &short, &zero] {
                assert!(!error.to_string().contains(bytes.as_str()), "{error}");
            }
        }
        let dev_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(dev_file.path(), format!("x={dev}")).unwrap();
        let error = production(&[(KEKS_FILE_VAR, dev_file.path().to_str().unwrap())]).unwrap_err();
        assert_eq!(error.variable, KEKS_FILE_VAR);
        assert!(!error.to_string().contains(&dev));
        // Development may name the development KEK explicitly.
        assert!(
            SchedulingSettings::from_vars(
                Environment::Development,
                vars(&[(KEKS_VAR, &format!("d={dev}"))])
            )
            .is_ok()
        );
    }
}
