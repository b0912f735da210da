//! The registration service's own settings, from `HELLOWORK_*` variables
//! like the platform's, each error naming its variable and never echoing a
//! secret.

use std::sync::Arc;

use hellowork_platform::{ConfigError, Environment};
use hellowork_sealing::{
    personal::KeyEncryptionKeys,
    ring::{self, RingKey},
};

use crate::domain::{EnvironmentPolicy, FileSharingList, IdentityKey, OsLifecycle};

/// Secret key of the job-seeker id derivation.
pub const ID_KEY_VAR: &str = "HELLOWORK_REGISTRATION_ID_KEY";
/// Art. 5(5): comma-separated names of forbidden file-sharing software.
pub const FILE_SHARING_VAR: &str = "HELLOWORK_FILE_SHARING_SOFTWARE";
/// How long an environment attestation counts.
pub const VALIDITY_VAR: &str = "HELLOWORK_ATTESTATION_VALIDITY";
/// Art. 5(6): oldest acceptable antivirus pattern file.
pub const PATTERN_AGE_VAR: &str = "HELLOWORK_ANTIVIRUS_PATTERN_MAX_AGE";
/// Art. 8: the key-encryption keys of the people's data keys,
/// `kid=base64(32 bytes),...`, the first current.
pub const KEKS_VAR: &str = "HELLOWORK_REGISTRATION_KEKS";
/// Art. 8: a file holding the same text as [`KEKS_VAR`].
pub const KEKS_FILE_VAR: &str = "HELLOWORK_REGISTRATION_KEKS_FILE";

/// Development only: ids derived with a published key can be recomputed by
/// anyone who knows a person's data, so production refuses it by its bytes
/// (in any service's variable), and refuses a weak key
/// (`hellowork_sealing::ring::production_refusal`).
const DEV_ID_KEY: &[u8] = ring::development::REGISTRATION_ID_KEY;
/// Development only, and published: it protects nothing, so production
/// refuses any ring holding these bytes, under any key id.
pub const DEV_KEK: [u8; 32] = ring::development::REGISTRATION_KEK;
const DEV_KEK_ID: &str = "registration-dev";
const DEFAULT_VALIDITY: &str = "30days";
const DEFAULT_PATTERN_AGE: &str = "7days";

/// What the registration service needs beyond the platform.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub identity_key: IdentityKey,
    pub environment_policy: Arc<EnvironmentPolicy>,
    /// Art. 8: wrap new data keys under the first, unwrap under any.
    pub keks: KeyEncryptionKeys,
}

impl RegistrationSettings {
    pub fn from_env(environment: Environment) -> Result<Self, ConfigError> {
        Self::from_vars(environment, std::env::vars())
    }

    pub fn from_vars(
        environment: Environment,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: std::collections::HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let error = |variable: &str, problem: &str| ConfigError {
            variable: variable.to_owned(),
            problem: problem.to_owned(),
        };
        let production = environment == Environment::Production;
        let key = match get(ID_KEY_VAR) {
            None if production => return Err(error(ID_KEY_VAR, "required in production")),
            None => DEV_ID_KEY,
            Some(key) => key.as_bytes(),
        };
        if let Some(refusal) = ring::production_refusal(key).filter(|_| production) {
            return Err(error(ID_KEY_VAR, &refusal.to_string()));
        }
        let file_sharing = match get(FILE_SHARING_VAR) {
            None => FileSharingList::default(),
            Some(list) => FileSharingList::new(list.split(',').map(str::trim)),
        };
        let duration = |name: &str, default: &str| {
            let value = get(name).unwrap_or(default);
            humantime::parse_duration(value)
                .ok()
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .filter(|d| *d > chrono::Duration::zero())
                .ok_or_else(|| {
                    error(
                        name,
                        &format!("{value:?} is not a positive duration like 30days"),
                    )
                })
        };
        Ok(Self {
            keks: keks(environment, get(KEKS_VAR), get(KEKS_FILE_VAR))?,
            identity_key: IdentityKey::new(key.to_vec()),
            environment_policy: Arc::new(EnvironmentPolicy {
                lifecycle: OsLifecycle::embedded(),
                file_sharing,
                pattern_max_age: duration(PATTERN_AGE_VAR, DEFAULT_PATTERN_AGE)?,
                validity: duration(VALIDITY_VAR, DEFAULT_VALIDITY)?,
            }),
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
        secret: zeroize::Zeroizing::new(DEV_KEK),
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

    #[test]
    fn development_defaults_work() {
        let settings =
            RegistrationSettings::from_vars(Environment::Development, vars(&[])).unwrap();
        assert_eq!(
            settings.environment_policy.validity,
            chrono::Duration::days(30)
        );
        assert_eq!(
            settings.environment_policy.pattern_max_age,
            chrono::Duration::days(7)
        );
        assert!(settings.environment_policy.file_sharing.matches("Winny"));
    }

    /// An id key production accepts.
    const ID_KEY: &str = "Zr4uP8wq1Lx6Nc3Vb9Tm2Hk7Jd5Gf0Sa";

    #[test]
    fn production_refuses_a_missing_weak_or_development_key_without_echoing_it() {
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        let own = text(DEV_ID_KEY);
        let audit_logs = text(ring::development::AUDITLOG_PSEUDONYM_SECRET);
        let repeated = "k".repeat(32);
        for value in ["", "short-secret", &own, &audit_logs, &repeated] {
            let set = [(ID_KEY_VAR, value)];
            let error =
                RegistrationSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
            assert_eq!(error.variable, ID_KEY_VAR);
            for secret in ["short-secret", &own, &audit_logs, &repeated] {
                assert!(!error.to_string().contains(secret), "{error}");
            }
        }
        let keks = format!("prod={}", b64(&secret(5)));
        assert!(
            RegistrationSettings::from_vars(
                Environment::Production,
                vars(&[(ID_KEY_VAR, ID_KEY), (KEKS_VAR, &keks)])
            )
            .is_ok()
        );
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn secret(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| seed.wrapping_add(i as u8))
    }

    fn production(extra: &[(&str, &str)]) -> Result<RegistrationSettings, ConfigError> {
        let mut set = vec![(ID_KEY_VAR, ID_KEY)];
        set.extend_from_slice(extra);
        RegistrationSettings::from_vars(Environment::Production, vars(&set))
    }

    #[test]
    fn art_8_development_wraps_under_the_published_development_kek() {
        let settings =
            RegistrationSettings::from_vars(Environment::Development, vars(&[])).unwrap();
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
        let schedulings = b64(&ring::development::SCHEDULING_KEK);
        let short = b64(&[1, 2, 3]);
        let weak = b64(&[0, 0, 0, 0, 1, 1, 1, 1].repeat(4));
        for (set, variable) in [
            (vec![], KEKS_VAR),
            (vec![(KEKS_VAR, format!("prod={dev}"))], KEKS_VAR),
            // By its bytes, under any id and in any position, whichever
            // service's it is.
            (vec![(KEKS_VAR, format!("prod={good},old={dev}"))], KEKS_VAR),
            (
                vec![(KEKS_VAR, format!("prod={good},old={schedulings}"))],
                KEKS_VAR,
            ),
            (
                vec![(KEKS_VAR, format!("prod={good},old={weak}"))],
                KEKS_VAR,
            ),
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
            for bytes in [&good, &dev, &schedulings, &short, &weak] {
                assert!(!error.to_string().contains(bytes.as_str()), "{error}");
            }
        }
        let dev_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(dev_file.path(), format!("x={dev}")).unwrap();
        let error = production(&[(KEKS_FILE_VAR, dev_file.path().to_str().unwrap())]).unwrap_err();
        assert_eq!(error.variable, KEKS_FILE_VAR);
        assert!(!error.to_string().contains(&dev));
        // Development may use the development KEK explicitly.
        assert!(
            RegistrationSettings::from_vars(
                Environment::Development,
                vars(&[(KEKS_VAR, &format!("d={dev}"))])
            )
            .is_ok()
        );
    }

    #[test]
    fn lists_and_durations_are_configurable_and_checked() {
        let settings = RegistrationSettings::from_vars(
            Environment::Development,
            vars(&[
                (FILE_SHARING_VAR, "Foo, Bar"),
                (VALIDITY_VAR, "2days"),
                (PATTERN_AGE_VAR, "36h"),
            ]),
        )
        .unwrap();
        let policy = &settings.environment_policy;
        assert!(policy.file_sharing.matches("bar 2") && !policy.file_sharing.matches("Winny"));
        assert_eq!(policy.validity, chrono::Duration::days(2));
        assert_eq!(policy.pattern_max_age, chrono::Duration::hours(36));
        let error = RegistrationSettings::from_vars(
            Environment::Development,
            vars(&[(VALIDITY_VAR, "soon")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, VALIDITY_VAR);
    }
}
