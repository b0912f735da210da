//! Art. 7(2), 8: raw device identifiers are sealed with AES-256-GCM under a
//! key of the service's keyring before they are stored; each sealed value
//! names its key id, so keys rotate (new records under the first key, old
//! kids still open) and deleting a key erases what it sealed.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngCore;
use zeroize::Zeroizing;

/// A sealed value: key id, 96-bit random nonce, ciphertext with tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed(key_id={})", self.key_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no key {0} in the keyring")]
    UnknownKey(String),
    #[error("sealed data failed authentication")]
    Corrupt,
}

/// The keys, current first.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, Zeroizing<[u8; 32]>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("Keyring").field("kids", &kids).finish()
    }
}

impl Keyring {
    /// `keys` in order, the first being current. Must not be empty.
    pub fn new(keys: Vec<(String, [u8; 32])>) -> Self {
        debug_assert!(!keys.is_empty());
        Self {
            keys: keys
                .into_iter()
                .map(|(kid, key)| (kid, Zeroizing::new(key)))
                .collect(),
        }
    }

    pub fn current_kid(&self) -> &str {
        &self.keys[0].0
    }

    fn cipher(&self, kid: &str) -> Result<Aes256Gcm, SealError> {
        let (_, key) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
        Ok(Aes256Gcm::new_from_slice(key.as_slice()).expect("a 32-byte key"))
    }

    /// Seals `plaintext` under the current key; `context` (e.g. the record
    /// id) is bound as associated data, so a sealed value moved to another
    /// record fails to open.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Sealed {
        let kid = self.current_kid().to_owned();
        let cipher = self.cipher(&kid).expect("the current key exists");
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("aes-gcm encryption of a bounded message");
        Sealed {
            key_id: kid,
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.nonce.len() != 12 {
            return Err(SealError::Corrupt);
        }
        let cipher = self.cipher(&sealed.key_id)?;
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_with_fresh_nonces_and_opens_after_rotation_but_not_after_key_deletion() {
        let old = Keyring::new(vec![("k1".into(), [1; 32])]);
        let sealed = old.seal(b"device-123", b"r1");
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"device"));
        assert_ne!(sealed.nonce, old.seal(b"device-123", b"r1").nonce);
        let rotated = Keyring::new(vec![("k2".into(), [2; 32]), ("k1".into(), [1; 32])]);
        assert_eq!(rotated.seal(b"x", b"r").key_id, "k2");
        assert_eq!(
            rotated.open(&sealed, b"r1").unwrap().as_slice(),
            b"device-123"
        );
        assert_eq!(rotated.open(&sealed, b"r2"), Err(SealError::Corrupt));
        let shredded = Keyring::new(vec![("k2".into(), [2; 32])]);
        assert_eq!(
            shredded.open(&sealed, b"r1"),
            Err(SealError::UnknownKey("k1".into()))
        );
    }
}
