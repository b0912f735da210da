//! The audit-log service's own settings, from `HELLOWORK_AUDITLOG_*`
//! variables like the platform's, each error naming its variable and never
//! echoing a secret.

use hellowork_platform::{ConfigError, Environment};

use hellowork_sealing::{
    device::OpeningKeys,
    personal::KeyEncryptionKeys,
    ring::{self, RingKey},
};

use crate::{
    domain::{
        anonymize::PseudonymSecret,
        grid::{SlotLength, SlotLengths},
        kanon::MIN_K,
        legal::{self, Ceilings},
    },
    transparency::TransparencySettings,
};

/// Art. 7(2), 8: `kid=base64(32-byte key),...`: the key-encryption keys the
/// per person and period data keys are wrapped by, the first current; the
/// others only unwrap what they wrapped (rotation), and open device
/// identifiers sealed under them before Step 8 (the start-up reseal).
pub const KEYS_VAR: &str = "HELLOWORK_AUDITLOG_KEYS";
/// Art. 7(2): `kid=base64(32-byte seed),...`: the HPKE key pairs device
/// identifiers are sealed to where they enter (`GetSealingKeys` publishes the
/// public halves), the first current; the others keep opening what was
/// sealed to them.
pub const SEALING_KEYS_VAR: &str = "HELLOWORK_AUDITLOG_SEALING_KEYS";
/// Art. 7(2): secret the per-period device pseudonym keys derive from.
pub const PSEUDONYM_SECRET_VAR: &str = "HELLOWORK_AUDITLOG_PSEUDONYM_SECRET";
/// Art. 7(2): the time slot the views coarsen to (default 1h), a divisor
/// of a day; the statistics' finest slot length.
pub const SLOT_VAR: &str = "HELLOWORK_AUDITLOG_SLOT";
/// Art. 7(2): k of the usage statistics (default 10, never below 5).
pub const K_VAR: &str = "HELLOWORK_AUDITLOG_K";
/// Art. 7(2), 8: how long after its key period ends a usage record stays
/// identifiable (default 365days, between 30days and 3650days); then its
/// data key is destroyed.
pub const RETENTION_VAR: &str = "HELLOWORK_AUDITLOG_RETENTION";

/// Development only: the published keys (`hellowork_sealing::ring::
/// development`) protect nothing, so production refuses them by their
/// bytes, and refuses weak ones.
const DEV_KEY_ID: &str = "dev";
const DEFAULT_SLOT: &str = "1h";
const DEFAULT_K: u32 = 10;
/// A year: the access log answers audits and legal requests about the past
/// year, and a key period's records are then at most thirteen months old.
const DEFAULT_RETENTION: &str = "365days";
/// Shorter than a key period would shred a period's keys as soon as it
/// ends, before anyone could audit it; longer than ten years keeps
/// identifiers no purpose of the log needs.
const MIN_RETENTION_DAYS: i64 = 30;
const MAX_RETENTION_DAYS: i64 = 3650;

/// Art. 7(2): distinct approvers (told apart by personnel id) a legal
/// request filed from now on needs; 1 to 10, default 1.
pub const APPROVALS_REQUIRED_VAR: &str = "HELLOWORK_AUDITLOG_APPROVALS_REQUIRED";
/// Art. 7(2): how long after the approval an authorization may last at most
/// (default 30days, between 1h and 366days).
pub const MAX_APPROVAL_VALIDITY_VAR: &str = "HELLOWORK_AUDITLOG_MAX_APPROVAL_VALIDITY";
/// Art. 7(2): most persons and device pseudonyms together in a legal
/// request's scope (default 10, between 1 and 1000).
pub const MAX_SCOPE_ENTRIES_VAR: &str = "HELLOWORK_AUDITLOG_MAX_SCOPE_ENTRIES";
/// Art. 7(2): longest time range of a legal request's scope (default
/// 366days, between 1h and 3650days).
pub const MAX_SCOPE_SPAN_VAR: &str = "HELLOWORK_AUDITLOG_MAX_SCOPE_SPAN";
/// Art. 7(2): highest disclosure limit an approval may set, and the limit
/// of requests approved before limits existed (default 1000 records,
/// between 1 and 1000000).
pub const MAX_DISCLOSURE_LIMIT_VAR: &str = "HELLOWORK_AUDITLOG_MAX_DISCLOSURE_LIMIT";
/// Art. 7(2): longest notification deferral an approval may set (default
/// 180days, between 0s, no deferral at all, and 3650days).
pub const MAX_NOTIFICATION_DEFERRAL_VAR: &str = "HELLOWORK_AUDITLOG_MAX_NOTIFICATION_DEFERRAL";

/// What the audit-log service needs beyond the platform.
#[derive(Debug, Clone)]
pub struct AuditLogSettings {
    /// `HELLOWORK_AUDITLOG_KEYS`, current first.
    pub ring: Vec<RingKey>,
    pub sealing: OpeningKeys,
    pub pseudonyms: PseudonymSecret,
    pub slot: chrono::Duration,
    /// Art. 7(2): the slot lengths the statistics are offered in, `slot`
    /// the finest.
    pub lengths: SlotLengths,
    pub k: u32,
    pub retention: chrono::Duration,
    /// The transparency log's key, origin, witnesses and schedule.
    pub transparency: TransparencySettings,
    /// Art. 7(2): the ceilings of legal requests and their approvals.
    pub legal: Ceilings,
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
        let ring = keys(get(KEYS_VAR), production).map_err(|problem| error(KEYS_VAR, &problem))?;
        let secret = match get(PSEUDONYM_SECRET_VAR) {
            None if production => {
                return Err(error(PSEUDONYM_SECRET_VAR, "required in production"));
            }
            None => ring::development::AUDITLOG_PSEUDONYM_SECRET,
            Some(secret) => secret.as_bytes(),
        };
        if let Some(refusal) = ring::production_refusal(secret).filter(|_| production) {
            return Err(error(PSEUDONYM_SECRET_VAR, &refusal.to_string()));
        }
        let sealing = sealing_keys(get(SEALING_KEYS_VAR), production)
            .map_err(|problem| error(SEALING_KEYS_VAR, &problem))?;
        let slot_text = get(SLOT_VAR).unwrap_or(DEFAULT_SLOT);
        let finest = humantime::parse_duration(slot_text)
            .ok()
            .filter(|d| d.subsec_nanos() == 0)
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .and_then(SlotLength::configured)
            .ok_or_else(|| {
                error(
                    SLOT_VAR,
                    &format!(
                        "{slot_text:?} is not a duration between 1min and 1day that divides a \
                         day, like 30min or 1h"
                    ),
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
        let retention_text = get(RETENTION_VAR).unwrap_or(DEFAULT_RETENTION);
        let retention = humantime::parse_duration(retention_text)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .filter(|d| (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&d.num_days()))
            .ok_or_else(|| {
                error(
                    RETENTION_VAR,
                    &format!(
                        "{retention_text:?} is not a duration between {MIN_RETENTION_DAYS}days \
                         and {MAX_RETENTION_DAYS}days like 365days"
                    ),
                )
            })?;
        let transparency = TransparencySettings::from_vars(production, &vars)?;
        let legal = ceilings(&vars)?;
        Ok(Self {
            legal,
            transparency,
            ring,
            sealing,
            pseudonyms: PseudonymSecret::new(secret.to_vec()),
            slot: finest.duration(),
            lengths: SlotLengths::new(finest),
            k,
            retention,
        })
    }

    /// Art. 8: the ring as the key-encryption keys of the data keys.
    pub fn keks(&self) -> KeyEncryptionKeys {
        KeyEncryptionKeys::new(self.ring.clone()).expect("a parsed ring is not empty")
    }
}

/// Art. 7(2): the legal-request ceilings, each within its bounds.
fn ceilings(vars: &std::collections::HashMap<String, String>) -> Result<Ceilings, ConfigError> {
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let error = |variable: &str, problem: String| ConfigError {
        variable: variable.to_owned(),
        problem,
    };
    let number = |variable: &str, default: u64, bounds: std::ops::RangeInclusive<u64>| {
        let Some(text) = get(variable) else {
            return Ok(default);
        };
        text.parse::<u64>()
            .ok()
            .filter(|n| bounds.contains(n))
            .ok_or_else(|| {
                error(
                    variable,
                    format!(
                        "{text:?} is not a whole number between {} and {}",
                        bounds.start(),
                        bounds.end()
                    ),
                )
            })
    };
    let span = |variable: &str, default: i64, min: (i64, &str), max_days: i64| {
        let Some(text) = get(variable) else {
            return Ok(chrono::Duration::days(default));
        };
        humantime::parse_duration(text)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .filter(|d| d.num_seconds() >= min.0 && *d <= chrono::Duration::days(max_days))
            .ok_or_else(|| {
                error(
                    variable,
                    format!(
                        "{text:?} is not a duration between {} and {max_days}days like {default}days",
                        min.1
                    ),
                )
            })
    };
    let approvals = number(
        APPROVALS_REQUIRED_VAR,
        u64::from(legal::DEFAULT_APPROVALS_REQUIRED),
        1..=10,
    )?;
    let entries = number(
        MAX_SCOPE_ENTRIES_VAR,
        u64::from(legal::DEFAULT_MAX_SCOPE_ENTRIES),
        1..=1000,
    )?;
    Ok(Ceilings {
        approvals_required: u32::try_from(approvals).expect("bounded"),
        max_validity: span(
            MAX_APPROVAL_VALIDITY_VAR,
            legal::DEFAULT_MAX_VALIDITY_DAYS,
            (3600, "1h"),
            366,
        )?,
        max_scope_entries: u32::try_from(entries).expect("bounded"),
        max_scope_span: span(
            MAX_SCOPE_SPAN_VAR,
            legal::DEFAULT_MAX_SCOPE_SPAN_DAYS,
            (3600, "1h"),
            3650,
        )?,
        max_disclosure_limit: number(
            MAX_DISCLOSURE_LIMIT_VAR,
            legal::DEFAULT_MAX_DISCLOSURE_LIMIT,
            1..=1_000_000,
        )?,
        max_deferral: span(
            MAX_NOTIFICATION_DEFERRAL_VAR,
            legal::DEFAULT_MAX_DEFERRAL_DAYS,
            (0, "0s"),
            3650,
        )?,
    })
}

/// The key ring: the development ring only outside production, where a
/// ring holding a published development key — by its bytes, under any key
/// id or position — or a weak key is refused.
fn keys(text: Option<&str>, production: bool) -> Result<Vec<RingKey>, String> {
    configured(text, production, ring::development::AUDITLOG_KEK)
}

/// The HPKE opening keys: the development pair only outside production,
/// where the same judgement as [`keys`] applies to the seeds.
fn sealing_keys(text: Option<&str>, production: bool) -> Result<OpeningKeys, String> {
    let seeds = configured(text, production, ring::development::AUDITLOG_SEALING_SEED)?;
    OpeningKeys::from_seeds(&seeds).ok_or_else(|| "no usable key".to_owned())
}

fn configured(
    text: Option<&str>,
    production: bool,
    development: [u8; 32],
) -> Result<Vec<RingKey>, String> {
    let keys = match text {
        None if production => return Err("required in production".to_owned()),
        None => vec![RingKey {
            key_id: DEV_KEY_ID.to_owned(),
            secret: zeroize::Zeroizing::new(development),
        }],
        Some(text) => ring::parse(text).map_err(|problem| problem.to_string())?,
    };
    match ring::ring_refusal(&keys).filter(|_| production) {
        Some(problem) => Err(problem),
        None => Ok(keys),
    }
}

#[cfg(test)]
mod tests;
