//! Art. 8: the officers' notes in scheduling's events as stored and
//! published. A note about a person (why a session was stopped, why their
//! online services were refused or the refusal lifted) may name them or hold
//! health or conduct details, so it is sealed with the person's data key,
//! bound to its field and to the booking or refusal it belongs to
//! (associated data): the store and the bus hold only ciphertext and the
//! key's id.
//!
//! The domain decides with the note in clear in the message's `note`; the
//! adapter passes every event through [`sealed`] before it is stored or
//! folded into a kept state, so only events stored before Step 8 carry
//! `note` (until the start-up reseal). Views open notes when they show them
//! ([`stop_note`], [`refusal_note`]), so a note erased meanwhile shows as
//! erased even from a state kept in memory.

use hellowork_proto::sealing::v1 as sealing;
use hellowork_sealing::personal::{DataKey, PersonalError};
use zeroize::Zeroize;

use super::keys::PersonKey;
use crate::domain::{BookingId, Event, RefusalId, StoredNote};

/// Why a note could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("a note about a person is only stored sealed, with the person's data key")]
    NoKey,
    /// Tampered, moved to another booking, refusal or person, or of an
    /// unknown format.
    #[error("the sealed note of {field} does not open: {source}")]
    DoesNotOpen {
        field: String,
        source: PersonalError,
    },
    #[error("the sealed note of {0} is not text")]
    NotText(String),
}

/// A note as a view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// What the officer wrote (empty if nothing).
    Text(String),
    /// Art. 8: the person was erased; whatever it said is gone.
    Erased,
}

/// The field a note is sealed as: its message's name and the booking or
/// refusal, so a sealed note copied to another one does not open.
fn field(message: &str, id: &str) -> String {
    format!("{message}.note {id}")
}

type NoteParts<'a> = (
    String,
    &'a mut String,
    &'a mut Option<sealing::PersonalSealed>,
);

fn note_parts(event: &mut Event) -> Option<NoteParts<'_>> {
    match event {
        Event::SessionStopped(e) => Some((
            field("SessionStopped", &e.booking_id),
            &mut e.note,
            &mut e.sealed_note,
        )),
        Event::OnlineServicesRefused(e) => Some((
            field("OnlineServicesRefused", &e.refusal_id),
            &mut e.note,
            &mut e.sealed_note,
        )),
        Event::RefusalLifted(e) => Some((
            field("RefusalLifted", &e.refusal_id),
            &mut e.note,
            &mut e.sealed_note,
        )),
        _ => None,
    }
}

/// The job seeker whose data key [`sealed`] needs for `event`: the person a
/// note in clear is about; `None` if it holds none.
pub fn note_owner(event: &Event) -> Option<&str> {
    let (owner, note) = match event {
        Event::SessionStopped(e) => (&e.job_seeker_id, &e.note),
        Event::OnlineServicesRefused(e) => (&e.job_seeker_id, &e.note),
        Event::RefusalLifted(e) => (&e.job_seeker_id, &e.note),
        _ => return None,
    };
    (!note.is_empty()).then_some(owner.as_str())
}

/// `event` as it is stored: a note in clear sealed with `key`, the note's
/// owner's data key, and its clear field emptied.
pub fn sealed(mut event: Event, key: Option<&DataKey>) -> Result<Event, CodecError> {
    let Some((field, note, sealed)) = note_parts(&mut event) else {
        return Ok(event);
    };
    if note.is_empty() {
        return Ok(event);
    }
    let key = key.ok_or(CodecError::NoKey)?;
    *sealed = Some(key.seal(&field, note.as_bytes()).into());
    note.zeroize();
    Ok(event)
}

/// Art. 8: `event` with a note in clear dropped, for a person erased before
/// it could be sealed (the start-up reseal of an erased person's notes).
pub fn forgotten(mut event: Event) -> Event {
    if let Some((_, note, _)) = note_parts(&mut event) {
        note.zeroize();
    }
    event
}

/// The note of a stopped session, opened with its person's key.
/// The note of the stopped session of `booking_id`, opened with its
/// person's key.
pub fn stop_note(
    key: &PersonKey,
    booking_id: BookingId,
    note: &StoredNote,
) -> Result<Note, CodecError> {
    open(key, &field("SessionStopped", &booking_id.to_string()), note)
}

/// The note of a refusal, opened with its person's key.
/// The note of the refusal `refusal_id`, opened with its person's key.
pub fn refusal_note(
    key: &PersonKey,
    refusal_id: RefusalId,
    note: &StoredNote,
) -> Result<Note, CodecError> {
    open(
        key,
        &field("OnlineServicesRefused", &refusal_id.to_string()),
        note,
    )
}

/// Art. 8: erased once the key is destroyed, or gone, never an error; a
/// clear note (stored before Step 8, not yet resealed) shows until then.
fn open(key: &PersonKey, field: &str, note: &StoredNote) -> Result<Note, CodecError> {
    match (key, note) {
        (PersonKey::Erased, _) | (PersonKey::None, StoredNote::Sealed(_)) => Ok(Note::Erased),
        (_, StoredNote::Clear(legacy)) => Ok(Note::Text(legacy.clone())),
        (PersonKey::Held(key), StoredNote::Sealed(sealed)) => {
            let clear = key
                .open(field, sealed)
                .map_err(|source| CodecError::DoesNotOpen {
                    field: field.to_owned(),
                    source,
                })?;
            String::from_utf8(clear.to_vec())
                .map(Note::Text)
                .map_err(|_| CodecError::NotText(field.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use hellowork_eventstore::DomainEvent;
    use hellowork_proto::scheduling::v1::{
        ConductReason, OnlineServicesRefused, RefusalLifted, SessionStopped,
    };
    use proptest::prelude::*;
    use prost::Message;

    use super::*;

    const SEEKER: &str = "0190f2c4-0000-8000-8000-000000000001";
    const B1: &str = "0190f2c4-0000-8000-8000-0000000000b1";
    const B2: &str = "0190f2c4-0000-8000-8000-0000000000b2";

    /// The note of a stored stop, as a view opens it.
    fn opened(key: &PersonKey, stopped: &SessionStopped) -> Result<Note, CodecError> {
        stop_note(
            key,
            BookingId::stored(&stopped.booking_id),
            &StoredNote::of(stopped.sealed_note.as_ref(), &stopped.note),
        )
    }

    fn key() -> DataKey {
        DataKey::generate(super::super::keys::data_key_id(SEEKER))
    }

    fn stopped(booking: &str, note: &str) -> SessionStopped {
        SessionStopped {
            booking_id: booking.into(),
            slot_id: "slot".into(),
            job_seeker_id: SEEKER.into(),
            reason: ConductReason::OtherObstruction.into(),
            note: note.into(),
            sealed_note: None,
        }
    }

    fn stored_stop(event: Event) -> SessionStopped {
        let Event::SessionStopped(stopped) =
            Event::decode("SessionStopped", &event.encode()).unwrap()
        else {
            panic!("not a stop");
        };
        stopped
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
    }

    proptest! {
        /// Art. 8: a note sealed opens as it was, and none of it is in the
        /// payload in clear.
        #[test]
        fn art_8_a_note_round_trips_and_is_never_stored_in_clear(note in "\\PC{6,200}") {
            let key = key();
            let event = sealed(Event::SessionStopped(stopped(B1, &note)), Some(&key)).unwrap();
            prop_assert!(!contains(&event.encode(), note.as_bytes()));
            let stored = stored_stop(event);
            prop_assert!(stored.note.is_empty());
            prop_assert_eq!(
                opened(&PersonKey::Held(key), &stored).unwrap(),
                Note::Text(note)
            );
        }
    }

    #[test]
    fn art_8_every_note_of_a_person_is_sealed_and_events_without_one_are_unchanged() {
        let key = key();
        let refused = Event::OnlineServicesRefused(OnlineServicesRefused {
            refusal_id: "r1".into(),
            job_seeker_id: SEEKER.into(),
            reason: ConductReason::Threat.into(),
            note: "threatened the counsellor".into(),
            booking_id: String::new(),
            sealed_note: None,
        });
        let lifted = Event::RefusalLifted(RefusalLifted {
            refusal_id: "r1".into(),
            job_seeker_id: SEEKER.into(),
            note: "apologised in writing".into(),
            sealed_note: None,
        });
        for event in [refused, lifted] {
            assert_eq!(note_owner(&event), Some(SEEKER));
            let stored = sealed(event, Some(&key)).unwrap();
            assert_eq!(note_owner(&stored), None);
            assert!(!contains(&stored.encode(), b"threatened"));
            assert!(!contains(&stored.encode(), b"apologised"));
        }
        let silent = Event::SessionStopped(stopped(B1, ""));
        assert_eq!(note_owner(&silent), None);
        assert!(sealed(silent.clone(), None).unwrap() == silent);
    }

    #[test]
    fn art_8_a_note_is_never_stored_without_a_key() {
        let event = Event::SessionStopped(stopped(B1, "shouted abuse"));
        assert!(matches!(sealed(event, None), Err(CodecError::NoKey)));
    }

    #[test]
    fn art_8_once_the_key_is_gone_a_note_shows_as_erased_not_as_an_error() {
        let stored = stored_stop(
            sealed(Event::SessionStopped(stopped(B1, "shouted")), Some(&key())).unwrap(),
        );
        assert_eq!(opened(&PersonKey::Erased, &stored).unwrap(), Note::Erased);
        assert_eq!(opened(&PersonKey::None, &stored).unwrap(), Note::Erased);
        // A note stored in clear before Step 8 shows until it is resealed,
        // but not once the person is erased.
        let legacy = stopped(B1, "legacy words");
        assert_eq!(
            opened(&PersonKey::None, &legacy).unwrap(),
            Note::Text("legacy words".into())
        );
        assert_eq!(opened(&PersonKey::Erased, &legacy).unwrap(), Note::Erased);
        let forgotten = forgotten(Event::SessionStopped(legacy));
        assert!(note_owner(&forgotten).is_none());
    }

    /// Adversarial: a flipped bit anywhere in a stored sealed note, the note
    /// moved to another booking, or another key of the same id: nothing
    /// opens.
    #[test]
    fn art_8_a_flipped_bit_or_a_moved_note_does_not_open() {
        let key = key();
        let held = PersonKey::Held(key.clone());
        let stored = stored_stop(
            sealed(
                Event::SessionStopped(stopped(B1, "raised his voice")),
                Some(&key),
            )
            .unwrap(),
        );
        let payload = Event::SessionStopped(stored.clone()).encode();
        let sealed_note = stored.sealed_note.clone().unwrap();
        let start = payload.len() - sealed_note.encoded_len();
        for index in start..payload.len() {
            for bit in 0..8 {
                let mut flipped = payload.clone();
                flipped[index] ^= 1 << bit;
                let Ok(message) = SessionStopped::decode(flipped.as_slice()) else {
                    continue;
                };
                if message.sealed_note == stored.sealed_note {
                    continue;
                }
                assert!(
                    !matches!(opened(&held, &message), Ok(Note::Text(ref t)) if !t.is_empty()),
                    "byte {index} bit {bit} opened"
                );
            }
        }
        let moved = SessionStopped {
            booking_id: B2.into(),
            ..stored.clone()
        };
        assert!(matches!(
            opened(&held, &moved),
            Err(CodecError::DoesNotOpen { .. })
        ));
        let other = PersonKey::Held(DataKey::generate(key.id()));
        assert!(matches!(
            opened(&other, &stored),
            Err(CodecError::DoesNotOpen { .. })
        ));
    }
}
