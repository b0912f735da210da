//! The audit-log service's own settings, from `HELLOWORK_AUDITLOG_*`
//! variables like the platform's, each error naming its variable and never
//! echoing a secret.

use base64::Engine;
use hellowork_platform::{ConfigError, Environment};

use hellowork_sealing::{device::OpeningKeys, ring};

use crate::domain::{anonymize::PseudonymSecret, kanon::MIN_K, seal::Keyring};

/// Art. 7(2), 8: `kid=base64(32-byte key),...`, the first key current; the
/// others only open what they sealed (rotation).
pub const KEYS_VAR: &str = "HELLOWORK_AUDITLOG_KEYS";
/// Art. 7(2): `kid=base64(32-byte seed),...`: the HPKE key pairs device
/// identifiers are sealed to where they enter (`GetSealingKeys` publishes the
/// public halves), the first current; the others keep opening what was
/// sealed to them.
pub const SEALING_KEYS_VAR: &str = "HELLOWORK_AUDITLOG_SEALING_KEYS";
/// Art. 7(2): secret the per-period device pseudonym keys derive from.
pub const PSEUDONYM_SECRET_VAR: &str = "HELLOWORK_AUDITLOG_PSEUDONYM_SECRET";
/// Art. 7(2): the time slot the views coarsen to (default 1h).
pub const SLOT_VAR: &str = "HELLOWORK_AUDITLOG_SLOT";
/// Art. 7(2): k of the usage statistics (default 10, never below 5).
pub const K_VAR: &str = "HELLOWORK_AUDITLOG_K";

/// Development only: a published key protects nothing, so production
/// refuses to start with it.
const DEV_KEYS: &str = "dev=aGVsbG93b3JrLWF1ZGl0bG9nLWRldmVsb3BtZW50LWs=";
const DEV_SEALING_KEYS: &str = "dev=TXsP0EhSBx0utiJogCxXoTS0AgvhFfaj0bemQczTB5k=";
const DEV_PSEUDONYM_SECRET: &str = "hellowork-auditlog-development-only-pseudonym-secret";
const MIN_SECRET_BYTES: usize = 32;
const DEFAULT_SLOT: &str = "1h";
const DEFAULT_K: u32 = 10;

/// What the audit-log service needs beyond the platform.
#[derive(Debug, Clone)]
pub struct AuditLogSettings {
    pub keyring: Keyring,
    pub sealing: OpeningKeys,
    pub pseudonyms: PseudonymSecret,
    pub slot: chrono::Duration,
    pub k: u32,
}

impl AuditLogSettings {
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
        let keys = match get(KEYS_VAR) {
            None if production => return Err(error(KEYS_VAR, "required in production")),
            Some(DEV_KEYS) if production => {
                return Err(error(
                    KEYS_VAR,
                    "the development key is refused in production",
                ));
            }
            Some(keys) => keys,
            None => DEV_KEYS,
        };
        let keyring = parse_keys(keys).map_err(|problem| error(KEYS_VAR, &problem))?;
        let secret = match get(PSEUDONYM_SECRET_VAR) {
            None if production => {
                return Err(error(PSEUDONYM_SECRET_VAR, "required in production"));
            }
            Some(secret)
                if production
                    && (secret == DEV_PSEUDONYM_SECRET || secret.len() < MIN_SECRET_BYTES) =>
            {
                return Err(error(
                    PSEUDONYM_SECRET_VAR,
                    &format!("must be a secret of at least {MIN_SECRET_BYTES} bytes in production"),
                ));
            }
            Some(secret) => secret,
            None => DEV_PSEUDONYM_SECRET,
        };
        let sealing = sealing_keys(get(SEALING_KEYS_VAR), production)
            .map_err(|problem| error(SEALING_KEYS_VAR, &problem))?;
        let slot_text = get(SLOT_VAR).unwrap_or(DEFAULT_SLOT);
        let slot = humantime::parse_duration(slot_text)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .filter(|d| d.num_seconds() >= 60 && d.num_seconds() <= 86_400)
            .ok_or_else(|| {
                error(
                    SLOT_VAR,
                    &format!("{slot_text:?} is not a duration between 1min and 1day like 1h"),
                )
            })?;
        let k = match get(K_VAR) {
            None => DEFAULT_K,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|k| *k >= MIN_K)
                .ok_or_else(|| {
                    error(
                        K_VAR,
                        &format!("must be a whole number of at least {MIN_K}"),
                    )
                })?,
        };
        Ok(Self {
            keyring,
            sealing,
            pseudonyms: PseudonymSecret::new(secret.as_bytes().to_vec()),
            slot,
            k,
        })
    }
}

/// The HPKE opening keys: the development pair only outside production,
/// where a ring holding it (by its bytes, under any key id) is refused.
fn sealing_keys(text: Option<&str>, production: bool) -> Result<OpeningKeys, String> {
    let published = ring::parse(DEV_SEALING_KEYS).expect("the development ring parses");
    let seeds = match text {
        None if production => return Err("required in production".to_owned()),
        None => published.clone(),
        Some(text) => ring::parse(text).map_err(|problem| problem.to_string())?,
    };
    if production && !ring::published_among(&seeds, &[*published[0].secret]).is_empty() {
        return Err("the development key is refused in production".to_owned());
    }
    OpeningKeys::from_seeds(&seeds).ok_or_else(|| "no usable key".to_owned())
}

/// `kid=base64,...` into a keyring; problems never echo key material.
fn parse_keys(text: &str) -> Result<Keyring, String> {
    let mut keys = Vec::new();
    for (index, item) in text.split(',').map(str::trim).enumerate() {
        let (kid, encoded) = item
            .split_once('=')
            .filter(|(kid, _)| !kid.trim().is_empty())
            .ok_or_else(|| format!("entry {index} is not kid=base64key"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| format!("key {} is not base64", kid.trim()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("key {} is not 32 bytes (AES-256)", kid.trim()))?;
        if keys
            .iter()
            .any(|(k, _): &(String, [u8; 32])| k == kid.trim())
        {
            return Err(format!("key id {} appears twice", kid.trim()));
        }
        keys.push((kid.trim().to_owned(), key));
    }
    Ok(Keyring::new(keys))
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
        let settings = AuditLogSettings::from_vars(Environment::Development, vars(&[])).unwrap();
        assert_eq!(settings.k, 10);
        assert_eq!(settings.slot, chrono::Duration::hours(1));
        assert_eq!(settings.keyring.current_kid(), "dev");
        assert_eq!(settings.sealing.public_keys().current().key_id, "dev");
    }

    #[test]
    fn production_refuses_a_missing_or_development_sealing_key_under_any_id() {
        let secret = "s".repeat(40);
        let key = base64::engine::general_purpose::STANDARD
            .encode([7u8; 31].iter().chain(&[8]).copied().collect::<Vec<u8>>());
        let aes = format!("k1={key}");
        let dev_seed = DEV_SEALING_KEYS.split_once('=').unwrap().1;
        let good = base64::engine::general_purpose::STANDARD
            .encode(std::array::from_fn::<u8, 32, _>(|i| i as u8));
        for sealing in [
            None,
            Some(format!("new={good},old={dev_seed}")),
            Some(format!("s1={good},s1={good}")),
        ] {
            let mut set = vec![
                (KEYS_VAR, aes.as_str()),
                (PSEUDONYM_SECRET_VAR, secret.as_str()),
            ];
            if let Some(sealing) = &sealing {
                set.push((SEALING_KEYS_VAR, sealing.as_str()));
            }
            let error =
                AuditLogSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
            assert_eq!(error.variable, SEALING_KEYS_VAR);
            assert!(!error.to_string().contains(dev_seed) && !error.to_string().contains(&good));
        }
        let ring = format!("s2={good}");
        let settings = AuditLogSettings::from_vars(
            Environment::Production,
            vars(&[
                (KEYS_VAR, &aes),
                (PSEUDONYM_SECRET_VAR, &secret),
                (SEALING_KEYS_VAR, &ring),
            ]),
        )
        .unwrap();
        assert_eq!(settings.sealing.public_keys().current().key_id, "s2");
    }

    #[test]
    fn production_refuses_development_secrets_without_echoing_them() {
        let secret = "s".repeat(40);
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let good_keys = format!("k2={key},k1={key}");
        for (set, variable) in [
            (vec![(PSEUDONYM_SECRET_VAR, secret.as_str())], KEYS_VAR),
            (
                vec![(KEYS_VAR, DEV_KEYS), (PSEUDONYM_SECRET_VAR, &secret)],
                KEYS_VAR,
            ),
            (vec![(KEYS_VAR, good_keys.as_str())], PSEUDONYM_SECRET_VAR),
            (
                vec![
                    (KEYS_VAR, good_keys.as_str()),
                    (PSEUDONYM_SECRET_VAR, "short"),
                ],
                PSEUDONYM_SECRET_VAR,
            ),
        ] {
            let error =
                AuditLogSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(!error.to_string().contains(&key));
        }
        let duplicate = format!("k1={key},k1={key}");
        let settings = AuditLogSettings::from_vars(
            Environment::Production,
            vars(&[(KEYS_VAR, &duplicate), (PSEUDONYM_SECRET_VAR, &secret)]),
        );
        assert!(settings.is_err(), "duplicate kids are refused");
        let keys = format!(
            "k2={key},k1={}",
            base64::engine::general_purpose::STANDARD.encode([8u8; 32])
        );
        let sealing = format!(
            "s1={}",
            base64::engine::general_purpose::STANDARD.encode([9u8, 1].repeat(16))
        );
        let settings = AuditLogSettings::from_vars(
            Environment::Production,
            vars(&[
                (KEYS_VAR, &keys),
                (PSEUDONYM_SECRET_VAR, &secret),
                (SEALING_KEYS_VAR, &sealing),
            ]),
        )
        .unwrap();
        assert_eq!(settings.keyring.current_kid(), "k2");
    }

    #[test]
    fn k_below_five_and_bad_slots_are_refused() {
        for (name, value) in [
            (K_VAR, "4"),
            (K_VAR, "ten"),
            (SLOT_VAR, "soon"),
            (SLOT_VAR, "1s"),
        ] {
            let error =
                AuditLogSettings::from_vars(Environment::Development, vars(&[(name, value)]))
                    .unwrap_err();
            assert_eq!(error.variable, name);
        }
        let settings = AuditLogSettings::from_vars(
            Environment::Development,
            vars(&[(K_VAR, "5"), (SLOT_VAR, "30min")]),
        )
        .unwrap();
        assert_eq!(settings.k, 5);
        assert_eq!(settings.slot, chrono::Duration::minutes(30));
    }
}
