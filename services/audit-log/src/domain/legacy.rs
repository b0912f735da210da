//! Art. 7(2), 8: device identifiers as `UsageRecorded` sealed them before
//! Step 8 — AES-256-GCM under a key of the `HELLOWORK_AUDITLOG_KEYS` ring,
//! the record id as associated data. Only the start-up reseal opens them,
//! to seal them again per person and period.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use hellowork_sealing::ring::RingKey;
use zeroize::Zeroizing;

/// A value sealed the old way: key id, 96-bit nonce, ciphertext with tag.
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
    /// The key left the ring: by the old scheme's rule, what it sealed is
    /// erased.
    #[error("no key {0} in the keyring")]
    UnknownKey(String),
    #[error("sealed data failed authentication")]
    Corrupt,
}

/// Opens `sealed` under the ring key it names, `context` (the record id)
/// as associated data.
pub fn open(
    ring: &[RingKey],
    sealed: &Sealed,
    context: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    if sealed.nonce.len() != 12 {
        return Err(SealError::Corrupt);
    }
    let key = ring
        .iter()
        .find(|key| key.key_id == sealed.key_id)
        .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
    Aes256Gcm::new_from_slice(key.secret.as_slice())
        .expect("a 32-byte key")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[(&str, u8)]) -> Vec<RingKey> {
        keys.iter()
            .map(|(kid, byte)| RingKey {
                key_id: (*kid).to_owned(),
                secret: Zeroizing::new([*byte; 32]),
            })
            .collect()
    }

    /// Seals as the pre-Step 8 service did.
    fn sealed_the_old_way(key: u8, plaintext: &[u8], context: &[u8]) -> Sealed {
        let nonce = [7u8; 12];
        let ciphertext = Aes256Gcm::new_from_slice(&[key; 32])
            .unwrap()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .unwrap();
        Sealed {
            key_id: "k1".into(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    #[test]
    fn opens_under_the_named_key_and_record_only() {
        let sealed = sealed_the_old_way(1, b"device-123", b"r1");
        let rotated = ring(&[("k2", 2), ("k1", 1)]);
        assert_eq!(
            open(&rotated, &sealed, b"r1").unwrap().as_slice(),
            b"device-123"
        );
        assert_eq!(open(&rotated, &sealed, b"r2"), Err(SealError::Corrupt));
        assert_eq!(
            open(&ring(&[("k2", 2)]), &sealed, b"r1"),
            Err(SealError::UnknownKey("k1".into()))
        );
        let mut short = sealed;
        short.nonce.pop();
        assert_eq!(open(&rotated, &short, b"r1"), Err(SealError::Corrupt));
    }
}
