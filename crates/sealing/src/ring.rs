//! Key rings from configuration: `kid=base64(32 bytes),...`, the first key
//! current, the others kept so that what they sealed still opens (rotation).
//! Problems name the entry, never its bytes. Production's judgement of any
//! configured secret, ring key or not, is here too: a published development
//! secret ([`development`]) or a weak one ([`weakness`]) is refused.

pub mod development;
mod strength;

use base64::Engine;
use zeroize::Zeroizing;

pub use strength::{MIN_DISTINCT_BYTES, MIN_SECRET_BYTES, Weakness, weakness};

/// A 32-byte secret with its key id.
#[derive(Clone)]
pub struct RingKey {
    pub key_id: String,
    pub secret: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for RingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RingKey({})", self.key_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    #[error("the key ring is empty")]
    Empty,
    #[error("entry {0} is not kid=base64key")]
    NotAnEntry(usize),
    #[error("key id {0:?} is not 1-64 characters of letters, digits, '.', '_' or '-'")]
    BadKeyId(String),
    #[error("key {0} is not base64")]
    NotBase64(String),
    #[error("key {0} is not 32 bytes")]
    WrongLength(String),
    #[error("key id {0} appears twice")]
    DuplicateKeyId(String),
    #[error("key {0} is weak (all bytes equal)")]
    Weak(String),
}

/// Parses `kid=base64,...` into keys, current first.
pub fn parse(text: &str) -> Result<Vec<RingKey>, RingError> {
    let mut keys: Vec<RingKey> = Vec::new();
    for (index, item) in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .enumerate()
    {
        let (kid, encoded) = item.split_once('=').ok_or(RingError::NotAnEntry(index))?;
        let kid = kid.trim();
        if !valid_key_id(kid) {
            return Err(RingError::BadKeyId(kid.to_owned()));
        }
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| RingError::NotBase64(kid.to_owned()))?,
        );
        let secret: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| RingError::WrongLength(kid.to_owned()))?;
        if secret.iter().all(|byte| *byte == secret[0]) {
            return Err(RingError::Weak(kid.to_owned()));
        }
        if keys.iter().any(|key| key.key_id == kid) {
            return Err(RingError::DuplicateKeyId(kid.to_owned()));
        }
        keys.push(RingKey {
            key_id: kid.to_owned(),
            secret: Zeroizing::new(secret),
        });
    }
    if keys.is_empty() {
        return Err(RingError::Empty);
    }
    Ok(keys)
}

/// Why production refuses a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is a published development secret; production needs its own")]
    Published,
    #[error("is weak ({0}); production needs a random one (openssl rand -base64 32)")]
    Weak(Weakness),
}

/// Production's judgement of one secret, by its bytes: one of the published
/// development secrets is refused whatever variable holds it, and so is a
/// weak one.
pub fn production_refusal(secret: &[u8]) -> Option<Refusal> {
    if development::is_published(secret) {
        return Some(Refusal::Published);
    }
    weakness(secret).map(Refusal::Weak)
}

/// Production's judgement of a ring: the first key refused, by its key id
/// (`key old is weak (…)`), whatever its position; never its bytes.
pub fn ring_refusal(keys: &[RingKey]) -> Option<String> {
    keys.iter().find_map(|key| {
        production_refusal(&*key.secret).map(|refusal| format!("key {} {refusal}", key.key_id))
    })
}

/// Where a service configures a ring: a variable holding it, or another
/// naming a file that holds it (not both).
#[derive(Debug, Clone, Copy)]
pub struct RingSource<'a> {
    pub variable: &'static str,
    pub file_variable: &'static str,
    pub text: Option<&'a str>,
    pub file: Option<&'a str>,
}

/// A configured ring refused, naming the variable at fault, never key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct RingConfigError {
    pub variable: &'static str,
    pub problem: String,
}

/// The ring `source` configures; `development` (a published key) when
/// neither variable is set outside production. In production a missing ring
/// is refused, and so is one holding a published development key
/// (`development`'s or another's) under any id, or a weak key
/// ([`ring_refusal`]).
pub fn configured(
    source: RingSource<'_>,
    production: bool,
    development: &RingKey,
) -> Result<Vec<RingKey>, RingConfigError> {
    let RingSource {
        variable,
        file_variable,
        text,
        file,
    } = source;
    let error = |variable, problem| RingConfigError { variable, problem };
    let (at, text) = match (text, file) {
        (Some(_), Some(_)) => {
            return Err(error(
                variable,
                format!("set either {variable} or {file_variable}, not both"),
            ));
        }
        (Some(text), None) => (variable, Zeroizing::new(text.to_owned())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| error(file_variable, format!("cannot read {path}: {e}")))?;
            (file_variable, Zeroizing::new(text))
        }
        (None, None) if production => {
            return Err(error(
                variable,
                format!("required in production (or {file_variable})"),
            ));
        }
        (None, None) => return Ok(vec![development.clone()]),
    };
    let keys = parse(&text).map_err(|e| error(at, e.to_string()))?;
    if !production {
        return Ok(keys);
    }
    if let Some(key) = keys.iter().find(|key| key.secret == development.secret) {
        let refusal = Refusal::Published;
        return Err(error(at, format!("key {} {refusal}", key.key_id)));
    }
    match ring_refusal(&keys) {
        Some(problem) => Err(error(at, problem)),
        None => Ok(keys),
    }
}

/// Key ids travel in every sealed value: short and printable.
pub fn valid_key_id(kid: &str) -> bool {
    (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: [u8; 32]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn key(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| seed.wrapping_add(i as u8))
    }

    #[test]
    fn parses_current_first_and_refuses_bad_entries_without_echoing_bytes() {
        let ring = parse(&format!("k2={}, k1={}", b64(key(2)), b64(key(1)))).unwrap();
        assert_eq!(ring[0].key_id, "k2");
        assert_eq!(*ring[1].secret, key(1));
        let secret = b64(key(9));
        for (text, expected) in [
            (String::new(), RingError::Empty),
            ("nokey".to_owned(), RingError::NotAnEntry(0)),
            (
                format!("bad id={secret}"),
                RingError::BadKeyId("bad id".into()),
            ),
            ("k=***".to_owned(), RingError::NotBase64("k".into())),
            (
                format!("k={}", b64(key(1))[..20].to_owned()),
                RingError::WrongLength("k".into()),
            ),
            (format!("k={}", b64([7; 32])), RingError::Weak("k".into())),
            (
                format!("k={secret},k={secret}"),
                RingError::DuplicateKeyId("k".into()),
            ),
        ] {
            let error = parse(&text).unwrap_err();
            assert_eq!(error, expected, "{text}");
            assert!(!error.to_string().contains(&secret));
        }
        let short = base64::engine::general_purpose::STANDARD.encode([1u8, 2, 3]);
        assert_eq!(
            parse(&format!("k={short}")).unwrap_err(),
            RingError::WrongLength("k".into())
        );
    }

    fn random_key() -> [u8; 32] {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    }

    #[test]
    fn production_refuses_published_and_weak_keys_by_id_at_any_position() {
        let good = b64(random_key());
        let mut low_entropy = [0u8; 32];
        low_entropy[..4].copy_from_slice(&[1, 2, 3, 4]);
        for (bad, why) in [
            (b64(development::SCHEDULING_KEK), "published development"),
            (
                b64(development::AUDITLOG_SEALING_SEED),
                "published development",
            ),
            (b64(low_entropy), "weak"),
            (b64(std::array::from_fn(|i| (i % 4) as u8)), "weak"),
        ] {
            for text in [
                format!("odd={bad},k1={good}"),
                format!("k1={good},odd={bad}"),
            ] {
                let problem = ring_refusal(&parse(&text).unwrap()).unwrap();
                assert!(problem.starts_with("key odd "), "{problem}");
                assert!(problem.contains(why), "{problem}");
                assert!(!problem.contains(&bad) && !problem.contains(&good));
            }
        }
        assert_eq!(ring_refusal(&parse(&format!("k1={good}")).unwrap()), None);
    }

    #[test]
    fn a_configured_ring_in_production_holds_no_development_or_weak_key() {
        let development = RingKey {
            key_id: "dev".to_owned(),
            secret: Zeroizing::new(development::REGISTRATION_KEK),
        };
        let good = b64(random_key());
        let mut nearly_zero = [0u8; 32];
        nearly_zero[31] = 9;
        fn source(text: &str) -> RingSource<'_> {
            RingSource {
                variable: "HELLOWORK_X_KEKS",
                file_variable: "HELLOWORK_X_KEKS_FILE",
                text: Some(text),
                file: None,
            }
        }
        for text in [
            format!("k2={good},old={}", b64(development::REGISTRATION_KEK)),
            format!("k2={good},old={}", b64(development::AUDITLOG_KEK)),
            format!("k2={good},old={}", b64(nearly_zero)),
        ] {
            let error = configured(source(&text), true, &development).unwrap_err();
            assert_eq!(error.variable, "HELLOWORK_X_KEKS");
            assert!(error.problem.starts_with("key old "), "{error}");
            assert!(!error.to_string().contains(&good));
            // Outside production a ring is taken as configured.
            assert!(configured(source(&text), false, &development).is_ok());
        }
        let ring = configured(source(&format!("k2={good}")), true, &development).unwrap();
        assert_eq!(ring[0].key_id, "k2");
    }
}
