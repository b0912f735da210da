//! Art. 8: registration's events as stored and published. Every personal
//! field of a registration is sealed with the person's data key, each under
//! its own field name (associated data), so the store and the bus hold only
//! ciphertext and the key's id; every other event is its plain message.

use hellowork_eventstore::DomainEvent;
use hellowork_proto::{
    registration::v1::{self as proto, JobSeekerRegistered},
    sealing::v1 as sealing,
};
use hellowork_sealing::personal::{DataKey, PersonalError, PersonalSealed};
use prost::Message;

use crate::domain::{Event, Personal, PersonalData, Registered};

/// The field names sealed values are bound to.
const NAME: &str = "name";
const DATE_OF_BIRTH: &str = "date_of_birth";
const CONTACT: &str = "contact";

/// The event type whose payload holds sealed fields.
pub const REGISTERED: &str = "JobSeekerRegistered";

/// Why an event could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("a registration's personal data is only stored sealed, with the person's data key")]
    NoKey,
    #[error("the payload is not the event's message: {0}")]
    Decode(String),
    #[error("the sealed field {0} is missing")]
    Missing(&'static str),
    /// Tampered, moved to another field or person, or of an unknown format.
    #[error("the sealed field {field} does not open: {source}")]
    DoesNotOpen {
        field: &'static str,
        source: PersonalError,
    },
}

/// The payload of `event`; a registration's personal fields sealed with
/// `key`, the person's data key.
pub fn encode(event: &Event, key: Option<&DataKey>) -> Result<Vec<u8>, CodecError> {
    let Event::Registered(registered) = event else {
        return Ok(event.encode());
    };
    let mut message = registered.facts();
    if let PersonalData::Known(personal) = &registered.personal {
        let key = key.ok_or(CodecError::NoKey)?;
        message.sealed_name = Some(seal(key, NAME, &personal.name));
        message.sealed_date_of_birth = Some(seal(key, DATE_OF_BIRTH, &personal.date_of_birth));
        message.sealed_contact = Some(seal(key, CONTACT, &personal.contact));
    }
    Ok(message.encode_to_vec())
}

/// The event of a stored or published payload. `key` is the person's data
/// key, `None` once it was destroyed: a registration then decodes with its
/// personal data [`PersonalData::Erased`], never as an error, so the rest of
/// the person's record still loads.
pub fn decode(
    event_type: &str,
    payload: &[u8],
    key: Option<&DataKey>,
) -> Result<Event, CodecError> {
    decode_with(event_type, payload, |message| match key {
        None => Ok(PersonalData::Erased),
        Some(key) => Ok(PersonalData::Known(Personal {
            name: open(key, NAME, message.sealed_name.as_ref())?,
            date_of_birth: open(key, DATE_OF_BIRTH, message.sealed_date_of_birth.as_ref())?,
            contact: open(key, CONTACT, message.sealed_contact.as_ref())?,
        })),
    })
}

/// The event of a stored payload with a registration's personal data left
/// sealed ([`PersonalData::Unopened`]): for reads that need only the facts,
/// with no data key fetched and nothing personal in memory.
pub fn decode_unopened(event_type: &str, payload: &[u8]) -> Result<Event, CodecError> {
    decode_with(event_type, payload, |_| Ok(PersonalData::Unopened))
}

fn decode_with(
    event_type: &str,
    payload: &[u8],
    personal: impl FnOnce(&JobSeekerRegistered) -> Result<PersonalData, CodecError>,
) -> Result<Event, CodecError> {
    if event_type != REGISTERED {
        return Event::decode(event_type, payload).map_err(CodecError::Decode);
    }
    let message =
        JobSeekerRegistered::decode(payload).map_err(|e| CodecError::Decode(e.to_string()))?;
    let personal = personal(&message)?;
    Ok(Event::Registered(Registered::from_facts(
        &message, personal,
    )))
}

fn seal(key: &DataKey, field: &str, value: &impl Message) -> sealing::PersonalSealed {
    key.seal(field, &value.encode_to_vec()).into()
}

fn open<M: Message + Default>(
    key: &DataKey,
    field: &'static str,
    sealed: Option<&sealing::PersonalSealed>,
) -> Result<M, CodecError> {
    let sealed = PersonalSealed::from(sealed.ok_or(CodecError::Missing(field))?.clone());
    let plaintext = key
        .open(field, &sealed)
        .map_err(|source| CodecError::DoesNotOpen { field, source })?;
    M::decode(plaintext.as_slice()).map_err(|e| CodecError::Decode(e.to_string()))
}

/// The job seeker of a payload in the form written before Step 8, with
/// personal data in clear; `None` if it holds none (sealed, or never had).
pub fn legacy_owner(payload: &[u8]) -> Result<Option<String>, CodecError> {
    Ok(legacy(payload)?.map(|(message, _)| message.job_seeker_id))
}

/// A payload of the form written before Step 8 resealed with `key`, the
/// owner's data key; `None` if it holds no personal data in clear.
pub fn reseal(payload: &[u8], key: &DataKey) -> Result<Option<Vec<u8>>, CodecError> {
    let Some((legacy, personal)) = legacy(payload)? else {
        return Ok(None);
    };
    let facts = JobSeekerRegistered {
        job_seeker_id: legacy.job_seeker_id,
        channel: legacy.channel,
        category: legacy.category,
        status: legacy.status,
        ..Default::default()
    };
    let event = Event::Registered(Registered::from_facts(
        &facts,
        PersonalData::Known(personal),
    ));
    encode(&event, Some(key)).map(Some)
}

fn legacy(
    payload: &[u8],
) -> Result<Option<(proto::LegacyJobSeekerRegistered, Personal)>, CodecError> {
    let mut legacy = proto::LegacyJobSeekerRegistered::decode(payload)
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if legacy.name.is_none() && legacy.date_of_birth.is_none() && legacy.contact.is_none() {
        return Ok(None);
    }
    let personal = Personal {
        name: legacy.name.take().unwrap_or_default(),
        date_of_birth: legacy.date_of_birth.take().unwrap_or_default(),
        contact: legacy.contact.take().unwrap_or_default(),
    };
    Ok(Some((legacy, personal)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn registered(personal: Personal) -> Event {
        Event::Registered(Registered {
            job_seeker_id: "0190f2c4-0000-8000-8000-000000000001".into(),
            channel: proto::RegistrationChannel::Online,
            category: proto::RegistrantCategory::OnlineRegistrant,
            status: proto::RegistrationStatus::Provisional,
            personal: PersonalData::Known(personal),
        })
    }

    fn personal(family: &str, given: &str, email: &str, phone: &str, day: i32) -> Personal {
        Personal {
            name: proto::PersonName {
                family_name: family.into(),
                given_name: given.into(),
                family_name_reading: "やまだ".into(),
                given_name_reading: String::new(),
            },
            date_of_birth: proto::Date {
                year: 1987,
                month: 7,
                day,
            },
            contact: proto::Contact {
                email: email.into(),
                phone_number: phone.into(),
            },
        }
    }

    fn key() -> DataKey {
        DataKey::generate("registration/0190f2c4-0000-8000-8000-000000000001/1")
    }

    proptest! {
        /// Art. 8: what is sealed opens as it was, and none of it is in
        /// the payload in clear.
        #[test]
        fn personal_fields_round_trip_and_never_appear_in_clear(
            family in "[a-zA-Z\\p{Han}]{4,20}", given in "[a-zA-Z\\p{Hiragana}]{4,20}",
            email in "[a-z]{4,12}@[a-z]{4,8}\\.jp", phone in "0[0-9]{9,10}", day in 1..=28i32,
        ) {
            let key = key();
            let event = registered(personal(&family, &given, &email, &phone, day));
            let payload = encode(&event, Some(&key)).unwrap();
            prop_assert_eq!(decode(REGISTERED, &payload, Some(&key)).unwrap(), event);
            for clear in [&family, &given, &email, &phone] {
                prop_assert!(!contains(&payload, clear.as_bytes()));
            }
            prop_assert_eq!(legacy_owner(&payload).unwrap(), None);
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn art_8_a_registration_read_for_its_facts_is_unopened_not_erased() {
        let key = key();
        let event = registered(personal("山田", "太郎", "t@example.jp", "", 1));
        let payload = encode(&event, Some(&key)).unwrap();
        let Event::Registered(unopened) = decode_unopened(REGISTERED, &payload).unwrap() else {
            panic!("not a registration");
        };
        assert_eq!(unopened.personal, PersonalData::Unopened);
        assert!(!unopened.personal.is_erased());
        let Event::Registered(opened) = event else {
            unreachable!()
        };
        assert_eq!(
            Registered {
                personal: PersonalData::Unopened,
                ..opened
            },
            unopened,
            "every fact but the personal data as stored"
        );
    }

    #[test]
    fn art_8_without_the_key_a_registration_decodes_as_erased() {
        let key = key();
        let payload = encode(
            &registered(personal("山田", "太郎", "t@example.jp", "", 1)),
            Some(&key),
        )
        .unwrap();
        let Event::Registered(opened) = decode(REGISTERED, &payload, None).unwrap() else {
            panic!("not a registration");
        };
        assert_eq!(opened.personal, PersonalData::Erased);
        assert_eq!(opened.job_seeker_id, "0190f2c4-0000-8000-8000-000000000001");
    }

    #[test]
    fn art_8_personal_data_is_never_encoded_without_a_key() {
        let event = registered(personal("山田", "太郎", "t@example.jp", "", 1));
        assert!(matches!(encode(&event, None), Err(CodecError::NoKey)));
    }

    /// Adversarial: a flipped bit anywhere in a sealed field, a field moved
    /// to another field, or another person's key: nothing opens.
    #[test]
    fn art_8_a_forged_or_moved_sealed_field_does_not_open() {
        let key = key();
        let payload = encode(
            &registered(personal("山田", "太郎", "t@example.jp", "0312345678", 1)),
            Some(&key),
        )
        .unwrap();
        let message = JobSeekerRegistered::decode(payload.as_slice()).unwrap();
        let sealed = message.sealed_contact.clone().unwrap();
        for index in 0..sealed.ciphertext.len() + sealed.nonce.len() {
            let mut forged = message.clone();
            let field = forged.sealed_contact.as_mut().unwrap();
            match index.checked_sub(sealed.nonce.len()) {
                None => field.nonce[index] ^= 0x01,
                Some(at) => field.ciphertext[at] ^= 0x80,
            }
            let error = decode(REGISTERED, &forged.encode_to_vec(), Some(&key)).unwrap_err();
            assert!(
                matches!(error, CodecError::DoesNotOpen { field: CONTACT, .. }),
                "{error}"
            );
        }
        let mut moved = message.clone();
        moved.sealed_name = moved.sealed_contact.clone();
        assert!(matches!(
            decode(REGISTERED, &moved.encode_to_vec(), Some(&key)),
            Err(CodecError::DoesNotOpen { field: NAME, .. })
        ));
        let other = DataKey::generate(key.id());
        assert!(decode(REGISTERED, &payload, Some(&other)).is_err());
        let mut missing = message;
        missing.sealed_date_of_birth = None;
        assert!(matches!(
            decode(REGISTERED, &missing.encode_to_vec(), Some(&key)),
            Err(CodecError::Missing(DATE_OF_BIRTH))
        ));
    }

    #[test]
    fn a_legacy_payload_is_resealed_to_what_it_said_and_nothing_else_is() {
        let clear = personal("山田", "太郎", "t@example.jp", "0312345678", 1);
        let legacy = proto::LegacyJobSeekerRegistered {
            job_seeker_id: "0190f2c4-0000-8000-8000-000000000001".into(),
            channel: proto::RegistrationChannel::Online.into(),
            category: proto::RegistrantCategory::OnlineRegistrant.into(),
            status: proto::RegistrationStatus::Provisional.into(),
            name: Some(clear.name.clone()),
            date_of_birth: Some(clear.date_of_birth),
            contact: Some(clear.contact.clone()),
        }
        .encode_to_vec();
        assert_eq!(
            legacy_owner(&legacy).unwrap().as_deref(),
            Some("0190f2c4-0000-8000-8000-000000000001")
        );
        let key = key();
        let resealed = reseal(&legacy, &key).unwrap().unwrap();
        assert!(!contains(&resealed, "t@example.jp".as_bytes()));
        assert!(!contains(&resealed, "山田".as_bytes()));
        assert_eq!(
            decode(REGISTERED, &resealed, Some(&key)).unwrap(),
            registered(clear)
        );
        assert_eq!(reseal(&resealed, &key).unwrap(), None);
        let facts = proto::LegacyJobSeekerRegistered {
            job_seeker_id: "j".into(),
            ..Default::default()
        };
        assert_eq!(legacy_owner(&facts.encode_to_vec()).unwrap(), None);
    }
}
