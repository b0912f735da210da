//! Art. 7(2): device identifiers are sealed where they enter — by the front
//! system or by the first handler that receives them — with HPKE (RFC 9180,
//! base mode) to a public key of the audit-log. Scheduling, the bus and every
//! store in between hold a blob they cannot open; only the audit-log's
//! private keys open it, and older private keys keep opening after a
//! rotation.
//!
//! The associated data is the id of what the value belongs to (a booking, a
//! usage record), so a blob moved to another booking does not open; the HPKE
//! `info` names the purpose and the key id, so a blob relabelled with another
//! key id does not open either.

use hpke::{
    Deserializable, Kem as _, OpModeR, OpModeS, Serializable, aead::ChaCha20Poly1305,
    kdf::HkdfSha256, kem::X25519HkdfSha256,
};
use zeroize::Zeroizing;

use crate::ring::{RingKey, valid_key_id};

type Kem = X25519HkdfSha256;

/// The one format so far: the suite below, `info` = [`INFO_PREFIX`] + key id.
pub const FORMAT_V1: u32 = 1;
/// The suite of [`FORMAT_V1`], as published with each key.
pub const ALGORITHM: &str = "HPKE-v1-X25519-HKDF-SHA256-ChaCha20Poly1305";
/// RFC 9180 §7.1: DHKEM(X25519, HKDF-SHA256).
pub const KEM_ID: u32 = 0x0020;
/// RFC 9180 §7.2: HKDF-SHA256.
pub const KDF_ID: u32 = 0x0001;
/// RFC 9180 §7.3: ChaCha20-Poly1305.
pub const AEAD_ID: u32 = 0x0003;
const INFO_PREFIX: &[u8] = b"hellowork.sealing.v1 device-identifiers ";
const KEY_BYTES: usize = 32;
const TAG_BYTES: usize = 16;

/// A value sealed to one of the audit-log's keys.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBox {
    pub format: u32,
    pub key_id: String,
    pub encapsulated_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedBox(format={}, key_id={}, {} bytes)",
            self.format,
            self.key_id,
            self.ciphertext.len()
        )
    }
}

/// Why a sealed value is refused; each names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("format {0} is not a known sealing format (1)")]
    UnsupportedFormat(u32),
    #[error("key {0:?} is not a sealing key of the audit-log")]
    UnknownKey(String),
    #[error("the encapsulated key is not {KEY_BYTES} bytes")]
    BadEncapsulatedKey,
    #[error("the ciphertext is shorter than its {TAG_BYTES}-byte tag")]
    TruncatedCiphertext,
    #[error(
        "the sealed value does not open: forged, altered, sealed to another key or for another context"
    )]
    DoesNotOpen,
}

impl SealError {
    /// The field of `HpkeSealed` the problem is in.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnsupportedFormat(_) => "format",
            Self::UnknownKey(_) => "key_id",
            Self::BadEncapsulatedKey => "encapsulated_key",
            Self::TruncatedCiphertext | Self::DoesNotOpen => "ciphertext",
        }
    }
}

/// A public key values may be sealed to.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    pub bytes: [u8; KEY_BYTES],
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.key_id)
    }
}

/// What a sender knows: the audit-log's public keys, current first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealingKeys {
    keys: Vec<PublicKey>,
}

impl SealingKeys {
    /// `keys` current first; `None` when empty or a key id repeats.
    pub fn new(keys: Vec<PublicKey>) -> Option<Self> {
        let distinct = keys
            .iter()
            .enumerate()
            .all(|(i, key)| keys[..i].iter().all(|other| other.key_id != key.key_id));
        (!keys.is_empty() && distinct && keys.iter().all(|key| valid_key_id(&key.key_id)))
            .then_some(Self { keys })
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    pub fn current(&self) -> &PublicKey {
        &self.keys[0]
    }

    /// Seals `plaintext` to the current key for the context `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> SealedBox {
        let key = self.current();
        let recipient = <Kem as hpke::Kem>::PublicKey::from_bytes(&key.bytes)
            .expect("32 bytes are an X25519 key");
        let (encapsulated, ciphertext) =
            hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
                &OpModeS::Base,
                &recipient,
                &info(&key.key_id),
                plaintext,
                aad,
                &mut rand::rng(),
            )
            .expect("HPKE base-mode sealing of a bounded message");
        SealedBox {
            format: FORMAT_V1,
            key_id: key.key_id.clone(),
            encapsulated_key: encapsulated.to_bytes().to_vec(),
            ciphertext,
        }
    }

    /// What a sender can check without opening: a known format, a known key,
    /// well-formed lengths. Whether it opens only the audit-log can tell.
    pub fn check(&self, sealed: &SealedBox) -> Result<(), SealError> {
        check_shape(sealed)?;
        if self.keys.iter().any(|key| key.key_id == sealed.key_id) {
            Ok(())
        } else {
            Err(SealError::UnknownKey(sealed.key_id.clone()))
        }
    }
}

/// What the audit-log holds: its private keys, current first.
#[derive(Clone)]
pub struct OpeningKeys {
    keys: Vec<(String, <Kem as hpke::Kem>::PrivateKey)>,
    public: SealingKeys,
}

impl std::fmt::Debug for OpeningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(kid, _)| kid.as_str()).collect();
        f.debug_struct("OpeningKeys").field("kids", &kids).finish()
    }
}

impl OpeningKeys {
    /// Derives each key pair from its 32-byte seed (RFC 9180 DeriveKeyPair),
    /// so configuration holds one secret per key.
    pub fn from_seeds(seeds: &[RingKey]) -> Option<Self> {
        let mut keys = Vec::with_capacity(seeds.len());
        let mut public = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let (private, public_key) = Kem::derive_keypair(seed.secret.as_slice());
            let bytes: [u8; KEY_BYTES] = public_key.to_bytes().into();
            keys.push((seed.key_id.clone(), private));
            public.push(PublicKey {
                key_id: seed.key_id.clone(),
                bytes,
            });
        }
        Some(Self {
            keys,
            public: SealingKeys::new(public)?,
        })
    }

    /// The public halves, to publish.
    pub fn public_keys(&self) -> &SealingKeys {
        &self.public
    }

    /// Opens `sealed` for the context `aad`.
    pub fn open(&self, sealed: &SealedBox, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        check_shape(sealed)?;
        let (_, private) = self
            .keys
            .iter()
            .find(|(kid, _)| *kid == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        let encapsulated = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.encapsulated_key)
            .map_err(|_| SealError::BadEncapsulatedKey)?;
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            private,
            &encapsulated,
            &info(&sealed.key_id),
            &sealed.ciphertext,
            aad,
        )
        .map(Zeroizing::new)
        .map_err(|_| SealError::DoesNotOpen)
    }
}

fn check_shape(sealed: &SealedBox) -> Result<(), SealError> {
    if sealed.format != FORMAT_V1 {
        return Err(SealError::UnsupportedFormat(sealed.format));
    }
    if !valid_key_id(&sealed.key_id) {
        return Err(SealError::UnknownKey(sealed.key_id.clone()));
    }
    if sealed.encapsulated_key.len() != KEY_BYTES {
        return Err(SealError::BadEncapsulatedKey);
    }
    if sealed.ciphertext.len() < TAG_BYTES {
        return Err(SealError::TruncatedCiphertext);
    }
    Ok(())
}

fn info(key_id: &str) -> Vec<u8> {
    [INFO_PREFIX, key_id.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seed(key_id: &str, byte: u8) -> RingKey {
        RingKey {
            key_id: key_id.to_owned(),
            secret: Zeroizing::new(std::array::from_fn(|i| byte ^ i as u8)),
        }
    }

    fn ring(ids: &[(&str, u8)]) -> OpeningKeys {
        let seeds: Vec<RingKey> = ids.iter().map(|(id, byte)| seed(id, *byte)).collect();
        OpeningKeys::from_seeds(&seeds).unwrap()
    }

    #[test]
    fn older_keys_keep_opening_after_rotation_and_a_removed_key_opens_nothing() {
        let old = ring(&[("k1", 1)]);
        let sealed = old.public_keys().seal(b"device-123", b"booking-1");
        assert_eq!(sealed.key_id, "k1");
        let rotated = ring(&[("k2", 2), ("k1", 1)]);
        assert_eq!(rotated.public_keys().seal(b"x", b"b").key_id, "k2");
        assert_eq!(
            rotated.open(&sealed, b"booking-1").unwrap().as_slice(),
            b"device-123"
        );
        assert_eq!(
            ring(&[("k2", 2)]).open(&sealed, b"booking-1"),
            Err(SealError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn a_sender_checks_shape_and_key_but_cannot_open() {
        let keys = ring(&[("k1", 1)]);
        let sealed = keys.public_keys().seal(b"device", b"b");
        assert_eq!(keys.public_keys().check(&sealed), Ok(()));
        let mut unknown = sealed.clone();
        unknown.key_id = "k9".into();
        assert_eq!(
            keys.public_keys().check(&unknown).unwrap_err().field(),
            "key_id"
        );
        let mut truncated = sealed.clone();
        truncated.ciphertext.truncate(10);
        assert_eq!(
            keys.open(&truncated, b"b"),
            Err(SealError::TruncatedCiphertext)
        );
        let mut short_key = sealed.clone();
        short_key.encapsulated_key.pop();
        assert_eq!(
            keys.open(&short_key, b"b"),
            Err(SealError::BadEncapsulatedKey)
        );
        let mut future = sealed;
        future.format = 2;
        assert_eq!(
            keys.open(&future, b"b"),
            Err(SealError::UnsupportedFormat(2))
        );
    }

    #[test]
    fn a_blob_sealed_to_another_key_under_a_known_id_does_not_open() {
        let ours = ring(&[("k1", 1)]);
        let theirs = ring(&[("k1", 7)]);
        let sealed = theirs.public_keys().seal(b"device", b"b");
        assert_eq!(ours.public_keys().check(&sealed), Ok(()));
        assert_eq!(ours.open(&sealed, b"b"), Err(SealError::DoesNotOpen));
    }

    #[test]
    fn a_blob_relabelled_with_another_known_key_id_does_not_open() {
        let keys = ring(&[("k2", 2), ("k1", 1)]);
        let mut sealed = keys.public_keys().seal(b"device", b"b");
        sealed.key_id = "k1".into();
        assert_eq!(keys.open(&sealed, b"b"), Err(SealError::DoesNotOpen));
    }

    proptest! {
        #[test]
        fn seal_then_open_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..512),
                                      aad in "[a-z0-9-]{0,40}") {
            let keys = ring(&[("k1", 1)]);
            let sealed = keys.public_keys().seal(&plaintext, aad.as_bytes());
            let opened = keys.open(&sealed, aad.as_bytes()).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn the_associated_data_is_bound(plaintext in proptest::collection::vec(any::<u8>(), 0..64),
                                        aad in "[a-z0-9-]{1,40}", other in "[a-z0-9-]{1,40}") {
            prop_assume!(aad != other);
            let keys = ring(&[("k1", 1)]);
            let sealed = keys.public_keys().seal(&plaintext, aad.as_bytes());
            prop_assert_eq!(keys.open(&sealed, other.as_bytes()), Err(SealError::DoesNotOpen));
        }

        #[test]
        fn any_flipped_bit_fails(plaintext in proptest::collection::vec(any::<u8>(), 1..64),
                                 index in any::<prop::sample::Index>(), bit in 0u8..8) {
            let keys = ring(&[("k1", 1)]);
            let sealed = keys.public_keys().seal(&plaintext, b"b");
            let total = sealed.encapsulated_key.len() + sealed.ciphertext.len();
            let at = index.index(total);
            let mut flipped = sealed.clone();
            if at < flipped.encapsulated_key.len() {
                flipped.encapsulated_key[at] ^= 1 << bit;
            } else {
                flipped.ciphertext[at - sealed.encapsulated_key.len()] ^= 1 << bit;
            }
            prop_assert!(keys.open(&flipped, b"b").is_err());
        }
    }
}
