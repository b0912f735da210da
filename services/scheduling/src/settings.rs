//! The scheduling service's own settings, from `HELLOWORK_*` variables like
//! the platform's, each error naming its variable.

use hellowork_platform::{ConfigError, Environment};

/// Art. 12(3): how long before a session attendants must be declared.
pub const ATTENDANT_CUTOFF_VAR: &str = "HELLOWORK_ATTENDANT_CUTOFF";

const DEFAULT_ATTENDANT_CUTOFF: &str = "24h";

/// What the scheduling service needs beyond the platform.
#[derive(Debug, Clone, Copy)]
pub struct SchedulingSettings {
    /// Art. 12(3): attendants are declared at least this long before the
    /// session starts.
    pub attendant_cutoff: chrono::Duration,
}

impl SchedulingSettings {
    pub fn from_env(environment: Environment) -> Result<Self, ConfigError> {
        Self::from_vars(environment, std::env::vars())
    }

    pub fn from_vars(
        _environment: Environment,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let value = vars
            .into_iter()
            .find(|(name, value)| name == ATTENDANT_CUTOFF_VAR && !value.trim().is_empty())
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_ATTENDANT_CUTOFF.to_owned());
        let attendant_cutoff = humantime::parse_duration(&value)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .ok_or_else(|| ConfigError {
                variable: ATTENDANT_CUTOFF_VAR.to_owned(),
                problem: format!("{value:?} is not a duration like 24h"),
            })?;
        Ok(Self { attendant_cutoff })
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
}
