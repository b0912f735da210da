//! The variables the `hellowork` commands read. The services refuse to start
//! without `HELLOWORK_ENVIRONMENT`; these commands are development tools
//! (`up` runs the stack on this machine, `token` and `demo` mint with the
//! development key), so where it is unset they name `development`
//! themselves — and `up` passes it on to every process it starts, so no
//! service is left to guess. A production value set by the caller is kept.

use hellowork_platform::{ConfigError, Environment};

const VARIABLE: &str = "HELLOWORK_ENVIRONMENT";

/// The process environment, with `HELLOWORK_ENVIRONMENT=development` where
/// it is unset or empty.
pub fn vars() -> Vec<(String, String)> {
    with_development_default(std::env::vars())
}

/// The environment the commands act in (see [`vars`]).
pub fn current() -> Result<Environment, ConfigError> {
    Environment::from_vars(vars())
}

fn with_development_default(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = vars.into_iter().collect();
    if !vars
        .iter()
        .any(|(n, v)| n == VARIABLE && !v.trim().is_empty())
    {
        vars.retain(|(n, _)| n != VARIABLE);
        vars.push((VARIABLE.to_owned(), "development".to_owned()));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment_of(vars: &[(&str, &str)]) -> Result<Environment, ConfigError> {
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Environment::from_vars(with_development_default(vars))
    }

    #[test]
    fn unset_or_empty_is_named_development_and_a_set_value_is_kept() {
        assert_eq!(environment_of(&[]), Ok(Environment::Development));
        assert_eq!(
            environment_of(&[(VARIABLE, " ")]),
            Ok(Environment::Development)
        );
        assert_eq!(
            environment_of(&[(VARIABLE, "production")]),
            Ok(Environment::Production)
        );
        let error = environment_of(&[(VARIABLE, "staging")]).unwrap_err();
        assert_eq!(error.variable, VARIABLE);
    }
}
