//! Conversions between the sealed values and their `hellowork.sealing.v1`
//! messages, in one place.

use hellowork_proto::sealing::v1 as proto;

use crate::{
    device::{AEAD_ID, ALGORITHM, KDF_ID, KEM_ID, PublicKey, SealedBox, SealingKeys},
    personal::PersonalSealed,
};

impl From<proto::HpkeSealed> for SealedBox {
    fn from(sealed: proto::HpkeSealed) -> Self {
        Self {
            format: sealed.format,
            key_id: sealed.key_id,
            encapsulated_key: sealed.encapsulated_key,
            ciphertext: sealed.ciphertext,
        }
    }
}

impl From<SealedBox> for proto::HpkeSealed {
    fn from(sealed: SealedBox) -> Self {
        Self {
            format: sealed.format,
            key_id: sealed.key_id,
            encapsulated_key: sealed.encapsulated_key,
            ciphertext: sealed.ciphertext,
        }
    }
}

impl From<proto::PersonalSealed> for PersonalSealed {
    fn from(sealed: proto::PersonalSealed) -> Self {
        Self {
            format: sealed.format,
            data_key_id: sealed.data_key_id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
        }
    }
}

impl From<PersonalSealed> for proto::PersonalSealed {
    fn from(sealed: PersonalSealed) -> Self {
        Self {
            format: sealed.format,
            data_key_id: sealed.data_key_id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
        }
    }
}

impl SealingKeys {
    /// The keys as `GetSealingKeys` publishes them, current first.
    pub fn to_proto(&self) -> Vec<proto::SealingPublicKey> {
        self.keys()
            .iter()
            .enumerate()
            .map(|(index, key)| proto::SealingPublicKey {
                key_id: key.key_id.clone(),
                algorithm: ALGORITHM.to_owned(),
                kem_id: KEM_ID,
                kdf_id: KDF_ID,
                aead_id: AEAD_ID,
                public_key: key.bytes.to_vec(),
                current: index == 0,
            })
            .collect()
    }

    /// The keys a sender may seal to, from a `GetSealingKeys` answer: those of
    /// a known suite with well-formed keys, the current one first. `None`
    /// when no usable key is current.
    pub fn from_proto(published: &[proto::SealingPublicKey]) -> Option<Self> {
        let usable = |key: &&proto::SealingPublicKey| {
            key.algorithm == ALGORITHM
                && key.kem_id == KEM_ID
                && key.kdf_id == KDF_ID
                && key.aead_id == AEAD_ID
                && key.public_key.len() == 32
        };
        let to_key = |key: &proto::SealingPublicKey| PublicKey {
            key_id: key.key_id.clone(),
            bytes: key
                .public_key
                .as_slice()
                .try_into()
                .expect("checked length"),
        };
        let current = published.iter().filter(usable).find(|key| key.current)?;
        let mut keys = vec![to_key(current)];
        keys.extend(
            published
                .iter()
                .filter(usable)
                .filter(|key| !key.current)
                .map(to_key),
        );
        Self::new(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{device::OpeningKeys, ring::RingKey};

    #[test]
    fn published_keys_round_trip_with_the_current_first() {
        let seeds: Vec<RingKey> = [("k2", 2u8), ("k1", 1)]
            .iter()
            .map(|(id, byte)| RingKey {
                key_id: (*id).to_owned(),
                secret: zeroize::Zeroizing::new([*byte; 32]),
            })
            .collect();
        let keys = OpeningKeys::from_seeds(&seeds).unwrap();
        let mut published = keys.public_keys().to_proto();
        published.reverse();
        let heard = SealingKeys::from_proto(&published).unwrap();
        assert_eq!(&heard, keys.public_keys());
        published
            .iter_mut()
            .for_each(|key| key.algorithm = "RSA".into());
        assert_eq!(SealingKeys::from_proto(&published), None);
    }
}
