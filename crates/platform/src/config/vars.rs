//! The variables as given, read one at a time: present or defaulted,
//! parsed, durations within bounds, and every problem a [`ConfigError`]
//! naming its variable, never a secret's value.

use std::{collections::HashMap, fmt, str::FromStr, time::Duration};

use super::PREFIX;

/// A configuration problem, naming the variable. Never contains the value of
/// a secret variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

pub(crate) struct Vars(pub(crate) HashMap<String, String>);

#[cfg(test)]
impl Vars {
    /// The variables `pairs`, for the settings' unit tests.
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

impl Vars {
    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&format!("{PREFIX}{name}")).map(String::as_str)
    }

    pub(crate) fn error(&self, name: &str, problem: &str) -> ConfigError {
        ConfigError {
            variable: format!("{PREFIX}{name}"),
            problem: problem.to_owned(),
        }
    }

    pub(crate) fn text(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    pub(crate) fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .parse()
                .map_err(|e| self.error(name, &format!("{value:?} is invalid: {e}"))),
        }
    }

    pub(crate) fn duration(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => humantime::parse_duration(value).map_err(|e| {
                self.error(
                    name,
                    &format!("{value:?} is not a duration like 500ms or 10s: {e}"),
                )
            }),
        }
    }

    /// [`Self::duration`] within `allowed`.
    pub(super) fn bounded_duration(
        &self,
        name: &str,
        default: Duration,
        allowed: std::ops::RangeInclusive<Duration>,
    ) -> Result<Duration, ConfigError> {
        let value = self.duration(name, default)?;
        if !allowed.contains(&value) {
            let (low, high) = (allowed.start(), allowed.end());
            return Err(self.error(
                name,
                &format!(
                    "must be between {} and {}",
                    humantime::format_duration(*low),
                    humantime::format_duration(*high)
                ),
            ));
        }
        Ok(value)
    }
}
