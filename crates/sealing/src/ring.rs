//! Key rings from configuration: `kid=base64(32 bytes),...`, the first key
//! current, the others kept so that what they sealed still opens (rotation).
//! Problems name the entry, never its bytes.

use base64::Engine;
use zeroize::Zeroizing;

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

/// The key ids of `keys` whose bytes equal one of `published` (development
/// keys, which protect nothing): production refuses a ring holding any,
/// whatever its key id or position.
pub fn published_among(keys: &[RingKey], published: &[[u8; 32]]) -> Vec<String> {
    keys.iter()
        .filter(|key| published.iter().any(|dev| dev == &*key.secret))
        .map(|key| key.key_id.clone())
        .collect()
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
/// is refused, and so is one holding `development`'s bytes under any id.
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
    let published = published_among(&keys, &[*development.secret]);
    if production && !published.is_empty() {
        return Err(error(
            at,
            format!(
                "key {} is the published development KEK; production needs secret keys",
                published.join(", ")
            ),
        ));
    }
    Ok(keys)
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

    #[test]
    fn finds_published_keys_by_their_bytes_under_any_id() {
        let ring = parse(&format!("prod={},old={}", b64(key(3)), b64(key(1)))).unwrap();
        assert_eq!(published_among(&ring, &[key(1)]), vec!["old".to_owned()]);
        assert!(published_among(&ring, &[key(5)]).is_empty());
    }
}
