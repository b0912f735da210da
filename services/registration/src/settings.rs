//! The registration service's own settings, from `HELLOWORK_*` variables
//! like the platform's, each error naming its variable and never echoing a
//! secret.

use std::sync::Arc;

use hellowork_platform::{ConfigError, Environment};

use crate::domain::{EnvironmentPolicy, FileSharingList, IdentityKey, OsLifecycle};

/// Secret key of the job-seeker id derivation.
pub const ID_KEY_VAR: &str = "HELLOWORK_REGISTRATION_ID_KEY";
/// Art. 5(5): comma-separated names of forbidden file-sharing software.
pub const FILE_SHARING_VAR: &str = "HELLOWORK_FILE_SHARING_SOFTWARE";
/// How long an environment attestation counts.
pub const VALIDITY_VAR: &str = "HELLOWORK_ATTESTATION_VALIDITY";
/// Art. 5(6): oldest acceptable antivirus pattern file.
pub const PATTERN_AGE_VAR: &str = "HELLOWORK_ANTIVIRUS_PATTERN_MAX_AGE";

/// Development only: ids derived with a published key can be recomputed by
/// anyone who knows a person's data, so production refuses to start with it.
const DEV_ID_KEY: &str = "hellowork-registration-development-only-id-key";
/// Shortest production key: 256 bits, the HMAC-SHA256 block strength.
const MIN_KEY_BYTES: usize = 32;
const DEFAULT_VALIDITY: &str = "30days";
const DEFAULT_PATTERN_AGE: &str = "7days";

/// What the registration service needs beyond the platform.
#[derive(Debug, Clone)]
pub struct RegistrationSettings {
    pub identity_key: IdentityKey,
    pub environment_policy: Arc<EnvironmentPolicy>,
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
        let key = match (get(ID_KEY_VAR), environment) {
            (None, Environment::Production) => {
                return Err(error(ID_KEY_VAR, "required in production"));
            }
            (Some(key), Environment::Production)
                if key == DEV_ID_KEY || key.len() < MIN_KEY_BYTES =>
            {
                return Err(error(
                    ID_KEY_VAR,
                    &format!("must be a secret of at least {MIN_KEY_BYTES} bytes in production"),
                ));
            }
            (Some(key), _) => key.to_owned(),
            (None, Environment::Development) => DEV_ID_KEY.to_owned(),
        };
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
            identity_key: IdentityKey::new(key.into_bytes()),
            environment_policy: Arc::new(EnvironmentPolicy {
                lifecycle: OsLifecycle::embedded(),
                file_sharing,
                pattern_max_age: duration(PATTERN_AGE_VAR, DEFAULT_PATTERN_AGE)?,
                validity: duration(VALIDITY_VAR, DEFAULT_VALIDITY)?,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn production_refuses_a_missing_weak_or_development_key_without_echoing_it() {
        for set in [
            vec![],
            vec![(ID_KEY_VAR, "short-secret")],
            vec![(ID_KEY_VAR, DEV_ID_KEY)],
        ] {
            let error =
                RegistrationSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
            assert_eq!(error.variable, ID_KEY_VAR);
            assert!(!error.to_string().contains("short-secret"));
        }
        let key = "k".repeat(32);
        assert!(
            RegistrationSettings::from_vars(Environment::Production, vars(&[(ID_KEY_VAR, &key)]))
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
