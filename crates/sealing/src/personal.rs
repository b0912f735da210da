//! Art. 8: personal fields in events are sealed per person ("forgettable
//! payloads"). Each person has a data key of the owning service; events and
//! messages carry only [`PersonalSealed`] values naming that key. The data
//! key is kept wrapped by a key-encryption key (KEK) from configuration in the
//! owning service's own table, never in an event, so a reader of the bus or
//! of any store learns nothing, and deleting the wrapped key erases the
//! person's fields in every copy, replay and backup at once.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::ring::RingKey;

/// AES-256-GCM with a 96-bit random nonce; associated data as below.
pub const FORMAT_V1: u32 = 1;
const NONCE_BYTES: usize = 12;
const FIELD_CONTEXT: &[u8] = b"hellowork.sealing.v1 personal ";
const WRAP_CONTEXT: &[u8] = b"hellowork.sealing.v1 data-key ";

/// A personal field sealed with a person's data key.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalSealed {
    pub format: u32,
    pub data_key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for PersonalSealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonalSealed(key={})", self.data_key_id)
    }
}

/// A data key wrapped by a KEK, as the owning service stores it.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedDataKey {
    pub kek_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for WrappedDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappedDataKey(kek={})", self.kek_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalError {
    #[error("format {0} is not a known personal sealing format (1)")]
    UnsupportedFormat(u32),
    #[error("no key-encryption key {0} is configured")]
    UnknownKek(String),
    #[error("the value is sealed with data key {sealed}, not {given}")]
    OtherDataKey { sealed: String, given: String },
    #[error("the sealed value does not open")]
    DoesNotOpen,
}

/// A person's data key, in memory only while it is used.
#[derive(Clone)]
pub struct DataKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

impl DataKey {
    /// A fresh random key named `id` (e.g. `registration/<person>/1`).
    pub fn generate(id: impl Into<String>) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(key.as_mut_slice());
        Self { id: id.into(), key }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` as the field `field` of this key's person.
    pub fn seal(&self, field: &str, plaintext: &[u8]) -> PersonalSealed {
        let (nonce, ciphertext) = encrypt(&self.key, plaintext, &field_aad(&self.id, field));
        PersonalSealed {
            format: FORMAT_V1,
            data_key_id: self.id.clone(),
            nonce,
            ciphertext,
        }
    }

    /// Opens `sealed`, which must be the field `field` under this key.
    pub fn open(
        &self,
        field: &str,
        sealed: &PersonalSealed,
    ) -> Result<Zeroizing<Vec<u8>>, PersonalError> {
        if sealed.format != FORMAT_V1 {
            return Err(PersonalError::UnsupportedFormat(sealed.format));
        }
        if sealed.data_key_id != self.id {
            return Err(PersonalError::OtherDataKey {
                sealed: sealed.data_key_id.clone(),
                given: self.id.clone(),
            });
        }
        decrypt(
            &self.key,
            &sealed.nonce,
            &sealed.ciphertext,
            &field_aad(&self.id, field),
        )
    }
}

/// The owning service's key-encryption keys, current first.
#[derive(Clone)]
pub struct KeyEncryptionKeys {
    keys: Vec<RingKey>,
}

impl std::fmt::Debug for KeyEncryptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|key| key.key_id.as_str()).collect();
        f.debug_struct("KeyEncryptionKeys")
            .field("kids", &kids)
            .finish()
    }
}

impl KeyEncryptionKeys {
    /// `keys` current first; `None` when empty.
    pub fn new(keys: Vec<RingKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys })
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].key_id
    }

    /// Wraps `key` under the current KEK, bound to the data key's id.
    pub fn wrap(&self, key: &DataKey) -> WrappedDataKey {
        let kek = &self.keys[0];
        let (nonce, ciphertext) = encrypt(&kek.secret, key.key.as_slice(), &wrap_aad(&key.id));
        WrappedDataKey {
            kek_id: kek.key_id.clone(),
            nonce,
            ciphertext,
        }
    }

    /// Unwraps the data key `id`; a KEK still configured after a rotation
    /// unwraps what it wrapped.
    pub fn unwrap(&self, id: &str, wrapped: &WrappedDataKey) -> Result<DataKey, PersonalError> {
        let kek = self
            .keys
            .iter()
            .find(|key| key.key_id == wrapped.kek_id)
            .ok_or_else(|| PersonalError::UnknownKek(wrapped.kek_id.clone()))?;
        let bytes = decrypt(
            &kek.secret,
            &wrapped.nonce,
            &wrapped.ciphertext,
            &wrap_aad(id),
        )?;
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| PersonalError::DoesNotOpen)?;
        Ok(DataKey {
            id: id.to_owned(),
            key: Zeroizing::new(key),
        })
    }
}

fn field_aad(data_key_id: &str, field: &str) -> Vec<u8> {
    [
        FIELD_CONTEXT,
        data_key_id.as_bytes(),
        b" ",
        field.as_bytes(),
    ]
    .concat()
}

fn wrap_aad(data_key_id: &str) -> Vec<u8> {
    [WRAP_CONTEXT, data_key_id.as_bytes()].concat()
}

fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let cipher = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("aes-gcm encryption of a bounded message");
    (nonce.to_vec(), ciphertext)
}

fn decrypt(
    key: &[u8; 32],
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PersonalError> {
    if nonce.len() != NONCE_BYTES {
        return Err(PersonalError::DoesNotOpen);
    }
    let cipher = Aes256Gcm::new_from_slice(key).expect("a 32-byte key");
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| PersonalError::DoesNotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keks(ids: &[(&str, u8)]) -> KeyEncryptionKeys {
        KeyEncryptionKeys::new(
            ids.iter()
                .map(|(id, byte)| RingKey {
                    key_id: (*id).to_owned(),
                    secret: Zeroizing::new(std::array::from_fn(|i| byte ^ i as u8)),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_wrapped_key_unwraps_after_kek_rotation_and_only_under_its_own_id() {
        let key = DataKey::generate("registration/p1/1");
        let sealed = key.seal("name", "山田 太郎".as_bytes());
        let wrapped = keks(&[("kek1", 1)]).wrap(&key);
        let rotated = keks(&[("kek2", 2), ("kek1", 1)]);
        let unwrapped = rotated.unwrap("registration/p1/1", &wrapped).unwrap();
        assert_eq!(
            unwrapped.open("name", &sealed).unwrap().as_slice(),
            "山田 太郎".as_bytes()
        );
        assert_eq!(
            rotated.unwrap("registration/p2/1", &wrapped).unwrap_err(),
            PersonalError::DoesNotOpen
        );
        assert_eq!(
            keks(&[("kek2", 2)])
                .unwrap("registration/p1/1", &wrapped)
                .unwrap_err(),
            PersonalError::UnknownKek("kek1".into())
        );
    }

    #[test]
    fn a_field_does_not_open_as_another_field_or_under_another_persons_key() {
        let key = DataKey::generate("registration/p1/1");
        let sealed = key.seal("name", b"Taro");
        assert_eq!(
            key.open("contact", &sealed),
            Err(PersonalError::DoesNotOpen)
        );
        let other = DataKey::generate("registration/p2/1");
        assert!(matches!(
            other.open("name", &sealed),
            Err(PersonalError::OtherDataKey { .. })
        ));
        let mut relabelled = sealed.clone();
        relabelled.data_key_id = "registration/p2/1".into();
        assert_eq!(
            other.open("name", &relabelled),
            Err(PersonalError::DoesNotOpen)
        );
        let mut future = sealed;
        future.format = 9;
        assert_eq!(
            key.open("name", &future),
            Err(PersonalError::UnsupportedFormat(9))
        );
    }

    proptest! {
        #[test]
        fn seal_then_open_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..256),
                                      field in "[a-z_.]{1,20}") {
            let key = DataKey::generate("s/p/1");
            let sealed = key.seal(&field, &plaintext);
            let opened = key.open(&field, &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn any_flipped_bit_fails(plaintext in proptest::collection::vec(any::<u8>(), 1..64),
                                 index in any::<prop::sample::Index>(), bit in 0u8..8) {
            let key = DataKey::generate("s/p/1");
            let sealed = key.seal("f", &plaintext);
            let at = index.index(sealed.nonce.len() + sealed.ciphertext.len());
            let mut flipped = sealed.clone();
            if at < flipped.nonce.len() {
                flipped.nonce[at] ^= 1 << bit;
            } else {
                flipped.ciphertext[at - sealed.nonce.len()] ^= 1 << bit;
            }
            prop_assert!(key.open("f", &flipped).is_err());
            let wrapped = keks(&[("k", 3)]).wrap(&key);
            let mut bad = wrapped.clone();
            let at = index.index(bad.ciphertext.len());
            bad.ciphertext[at] ^= 1 << bit;
            prop_assert!(keks(&[("k", 3)]).unwrap("s/p/1", &bad).is_err());
        }
    }
}
