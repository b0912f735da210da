//! Producer signatures on event envelopes: a message on the bus is trusted
//! only if the service that owns its stream signed it.
//!
//! NATS permissions decide who may publish on a subject; they do not make a
//! message true. A service whose credentials leak, or anyone who can write
//! to the server's storage, could otherwise put a forged `SessionJoined` or
//! `OnlineServicesApplied` on a stream and every consumer would apply it.
//! So each relay signs every envelope it publishes with its service's
//! Ed25519 key ([`EventSigner`]), and each consumer checks the signature
//! against the keys configured for the producer of the stream it reads
//! ([`TrustedProducers`]) before anything is applied.
//!
//! What is signed (format 1): the domain separator [`SIGNATURE_CONTEXT`], a
//! zero byte, the NATS subject, a zero byte, and the protobuf encoding of the
//! envelope with its `signature` field empty (its key id and signing time
//! included). Binding the subject means a signed envelope copied onto another
//! subject fails; the signing time lets a consumer refuse a copy stored on
//! the stream long after it was signed (a replay, see
//! [`TrustedProducers::verify`]). A consumer re-encodes the envelope it
//! decoded to check it; prost encodes known fields in field order, so this is
//! the producer's encoding (unknown fields, which no consumer reads, are not
//! covered).

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use prost::Message as _;
use sha2::{Digest as _, Sha256};

use hellowork_proto::events::v1::EventEnvelope;

/// The domain separator of envelope signatures, format 1.
pub const SIGNATURE_CONTEXT: &[u8] = b"hellowork.events.v1.EventEnvelope/ed25519/1";

/// How far a message's storage time on the stream may lie from its signing
/// time before it counts as a replay: the relay signs right before it
/// publishes, so this only has to cover clock differences between the
/// producer and the NATS server.
pub const DEFAULT_MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// Why an envelope is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the envelope is not signed")]
    Unsigned,
    #[error("the envelope is signed by key {0:?}, which is not trusted for this stream")]
    UnknownKey(String),
    #[error("the envelope's signature does not verify")]
    BadSignature,
    #[error("the envelope was signed at {signed_at} but stored at {stored_at}: a replay")]
    Replayed {
        signed_at: DateTime<Utc>,
        stored_at: DateTime<Utc>,
    },
}

impl SignatureError {
    /// The metric label of the refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Replayed { .. } => "replayed",
        }
    }

    /// Every [`reason`](Self::reason), for registering counters at zero.
    pub const REASONS: [&'static str; 4] = ["unsigned", "unknown_key", "bad_signature", "replayed"];
}

/// A key id that is not 1-64 characters of letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key id {0:?} is not 1-64 characters of letters, digits, '.', '_' or '-'")]
pub struct BadKeyId(pub String);

fn checked_key_id(key_id: impl Into<String>) -> Result<String, BadKeyId> {
    let key_id = key_id.into();
    let valid = (1..=64).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(key_id)
    } else {
        Err(BadKeyId(key_id))
    }
}

/// A producer's signing key. Never printed, never in an event.
pub struct EventSigner {
    key_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for EventSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EventSigner({})", self.key_id)
    }
}

impl EventSigner {
    /// The signer of the 32-byte Ed25519 seed `seed` (RFC 8032 private key).
    pub fn from_seed(key_id: impl Into<String>, seed: &[u8; 32]) -> Result<Self, BadKeyId> {
        Ok(Self {
            key_id: checked_key_id(key_id)?,
            key: SigningKey::from_bytes(seed),
        })
    }

    /// The published development key of `service` (see
    /// [`development_seed`]), under the key id `<service>-dev`.
    pub fn development(service: &str) -> Self {
        Self {
            key_id: format!("{service}-dev"),
            key: SigningKey::from_bytes(&development_seed(service)),
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw public key consumers are configured with.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs `envelope` for publication on `subject`, as of `now`.
    pub fn sign(&self, envelope: &mut EventEnvelope, subject: &str, now: DateTime<Utc>) {
        envelope.signing_key_id = self.key_id.clone();
        envelope.signed_at = Some(crate::envelope::timestamp(now));
        envelope.signature = Vec::new();
        let signature = self.key.sign(&signed_bytes(envelope, subject));
        envelope.signature = signature.to_bytes().to_vec();
    }
}

/// The development signing seed of `service`: derived from its name, so
/// every development process agrees on it without configuration, and
/// published by this very function — production refuses it
/// ([`is_development_key`]).
pub fn development_seed(service: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"hellowork development event signing key\0")
        .chain_update(service.as_bytes())
        .finalize()
        .into()
}

/// Whether `public_key` is the development key of one of `services`.
pub fn is_development_key(public_key: &[u8; 32], services: &[&str]) -> bool {
    services.iter().any(|service| {
        SigningKey::from_bytes(&development_seed(service))
            .verifying_key()
            .as_bytes()
            == public_key
    })
}

/// The bytes a signature covers (see the module documentation).
fn signed_bytes(envelope: &EventEnvelope, subject: &str) -> Vec<u8> {
    let unsigned = EventEnvelope {
        signature: Vec::new(),
        ..envelope.clone()
    };
    let body = unsigned.encode_to_vec();
    let mut bytes = Vec::with_capacity(SIGNATURE_CONTEXT.len() + subject.len() + body.len() + 2);
    bytes.extend_from_slice(SIGNATURE_CONTEXT);
    bytes.push(0);
    bytes.extend_from_slice(subject.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&body);
    bytes
}

/// The keys a consumer trusts for one stream's producer: several during a
/// rotation (the new key added to consumers first, then given to the
/// producer, the old one removed once nothing it signed is still unread).
#[derive(Clone, Default)]
pub struct TrustedProducers {
    keys: HashMap<String, VerifyingKey>,
    max_skew: TimeDelta,
}

impl std::fmt::Debug for TrustedProducers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("TrustedProducers")
            .field("keys", &ids)
            .field("max_skew", &self.max_skew)
            .finish()
    }
}

/// A trusted key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustedKeyError {
    #[error(transparent)]
    KeyId(#[from] BadKeyId),
    #[error("key {0} is not an Ed25519 public key")]
    NotAKey(String),
    #[error("key id {0} appears twice")]
    Duplicate(String),
}

impl TrustedProducers {
    /// Trusts `keys` (key id, raw Ed25519 public key).
    pub fn new(
        keys: impl IntoIterator<Item = (String, [u8; 32])>,
    ) -> Result<Self, TrustedKeyError> {
        let mut trusted = HashMap::new();
        for (key_id, bytes) in keys {
            let key_id = checked_key_id(key_id)?;
            let key = VerifyingKey::from_bytes(&bytes)
                .ok()
                .filter(|key| !key.is_weak())
                .ok_or_else(|| TrustedKeyError::NotAKey(key_id.clone()))?;
            if trusted.insert(key_id.clone(), key).is_some() {
                return Err(TrustedKeyError::Duplicate(key_id));
            }
        }
        Ok(Self {
            keys: trusted,
            max_skew: DEFAULT_MAX_SKEW,
        })
    }

    /// Trusts exactly `signer`'s key (tests, development).
    pub fn of(signer: &EventSigner) -> Self {
        Self::new([(signer.key_id.clone(), signer.public_key())])
            .expect("a signer's key is a valid key")
    }

    /// Replays are judged with `max_skew` instead of [`DEFAULT_MAX_SKEW`].
    pub fn with_max_skew(mut self, max_skew: TimeDelta) -> Self {
        self.max_skew = max_skew;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks that `envelope`, received on `subject` and stored on the
    /// stream at `stored_at`, was signed by a trusted key for that subject,
    /// unaltered, and stored within the allowed skew of its signing.
    pub fn verify(
        &self,
        envelope: &EventEnvelope,
        subject: &str,
        stored_at: DateTime<Utc>,
    ) -> Result<(), SignatureError> {
        if envelope.signature.is_empty() || envelope.signing_key_id.is_empty() {
            return Err(SignatureError::Unsigned);
        }
        let key = self
            .keys
            .get(&envelope.signing_key_id)
            .ok_or_else(|| SignatureError::UnknownKey(envelope.signing_key_id.clone()))?;
        let signature =
            Signature::from_slice(&envelope.signature).map_err(|_| SignatureError::BadSignature)?;
        key.verify(&signed_bytes(envelope, subject), &signature)
            .map_err(|_| SignatureError::BadSignature)?;
        // Only a verified time is worth comparing.
        let signed_at =
            crate::envelope::datetime(envelope.signed_at).ok_or(SignatureError::BadSignature)?;
        if (stored_at - signed_at).abs() > self.max_skew {
            return Err(SignatureError::Replayed {
                signed_at,
                stored_at,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SUBJECT: &str = "hellowork.scheduling.v1.SessionJoined";

    fn envelope() -> EventEnvelope {
        EventEnvelope {
            event_id: "0190f2c4-0000-7000-8000-000000000001".into(),
            stream_id: "booking-1".into(),
            stream_version: 3,
            event_type: "SessionJoined".into(),
            schema_version: 1,
            service: "scheduling".into(),
            payload: b"sealed device identifiers".to_vec(),
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap()
    }

    fn signed(signer: &EventSigner) -> EventEnvelope {
        let mut envelope = envelope();
        signer.sign(&mut envelope, SUBJECT, now());
        envelope
    }

    #[test]
    fn a_signed_envelope_verifies_for_its_producer() {
        let signer = EventSigner::development("scheduling");
        let trusted = TrustedProducers::of(&signer);
        assert_eq!(trusted.verify(&signed(&signer), SUBJECT, now()), Ok(()));
    }

    #[test]
    fn an_unsigned_envelope_is_refused() {
        let trusted = TrustedProducers::of(&EventSigner::development("scheduling"));
        assert_eq!(
            trusted.verify(&envelope(), SUBJECT, now()),
            Err(SignatureError::Unsigned)
        );
    }

    #[test]
    fn another_producers_key_is_refused_even_under_a_trusted_key_id() {
        let producer = EventSigner::development("scheduling");
        let trusted = TrustedProducers::of(&producer);
        let forger = EventSigner::from_seed("scheduling-dev", &[7; 32]).unwrap();
        assert_eq!(
            trusted.verify(&signed(&forger), SUBJECT, now()),
            Err(SignatureError::BadSignature)
        );
        let stranger = EventSigner::from_seed("stranger", &[7; 32]).unwrap();
        assert_eq!(
            trusted.verify(&signed(&stranger), SUBJECT, now()),
            Err(SignatureError::UnknownKey("stranger".into()))
        );
    }

    #[test]
    fn an_envelope_moved_to_another_subject_is_refused() {
        let signer = EventSigner::development("scheduling");
        let trusted = TrustedProducers::of(&signer);
        assert_eq!(
            trusted.verify(
                &signed(&signer),
                "hellowork.scheduling.v1.SessionLeft",
                now()
            ),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn a_copy_stored_long_after_its_signing_is_a_replay() {
        let signer = EventSigner::development("scheduling");
        let trusted = TrustedProducers::of(&signer);
        let later = now() + DEFAULT_MAX_SKEW + TimeDelta::seconds(1);
        assert!(matches!(
            trusted.verify(&signed(&signer), SUBJECT, later),
            Err(SignatureError::Replayed { .. })
        ));
        let within = now() + DEFAULT_MAX_SKEW;
        assert_eq!(trusted.verify(&signed(&signer), SUBJECT, within), Ok(()));
    }

    #[test]
    fn development_keys_are_recognised_by_their_bytes() {
        let dev = EventSigner::development("consent");
        assert!(is_development_key(
            &dev.public_key(),
            &["registration", "consent"]
        ));
        let other = EventSigner::from_seed("k1", &[9; 32]).unwrap();
        assert!(!is_development_key(&other.public_key(), &["consent"]));
        assert_ne!(
            EventSigner::development("consent").public_key(),
            EventSigner::development("scheduling").public_key()
        );
    }

    #[test]
    fn trusted_keys_are_checked() {
        assert!(matches!(
            TrustedProducers::new([("bad id".to_owned(), [1; 32])]),
            Err(TrustedKeyError::KeyId(_))
        ));
        let key = EventSigner::development("consent").public_key();
        assert_eq!(
            TrustedProducers::new([("k".to_owned(), key), ("k".to_owned(), key)]).unwrap_err(),
            TrustedKeyError::Duplicate("k".into())
        );
        // The identity point has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            TrustedProducers::new([("k".to_owned(), identity)]),
            Err(TrustedKeyError::NotAKey(_))
        ));
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let signer = EventSigner::from_seed("k1", &[3; 32]).unwrap();
        assert_eq!(format!("{signer:?}"), "EventSigner(k1)");
    }

    proptest! {
        /// Adversarial: any single flipped bit of a signed envelope's
        /// encoding either fails to decode or fails to verify.
        #[test]
        fn a_flipped_bit_never_verifies(bit in 0usize..2048) {
            let signer = EventSigner::development("scheduling");
            let trusted = TrustedProducers::of(&signer);
            let mut bytes = signed(&signer).encode_to_vec();
            let bit = bit % (bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
            if let Ok(altered) = EventEnvelope::decode(bytes.as_slice()) {
                prop_assert!(trusted.verify(&altered, SUBJECT, now()).is_err());
            }
        }
    }
}
