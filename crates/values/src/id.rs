//! Ids that are UUIDs, job seekers' first, and the one accepted form of a
//! UUID.

use uuid::Uuid;

const UUID_FORM: &str = "must be a UUID like 0190f2c4-6b1e-7a00-8000-000000000000";

/// A UUID in its canonical hyphenated form, in either case, with nothing
/// around it: the one form every service accepts, so an id that passes one
/// service passes them all (braces, URNs, bare hex and spaces do not).
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    if text.len() != 36 {
        return Err(UUID_FORM.into());
    }
    Uuid::try_parse(text).map_err(|_| UUID_FORM.into())
}

/// A UUID in an event the domain itself wrote. One that does not parse
/// (only possible in a corrupt payload) reads as the nil id rather than
/// failing the fold, as a corrupt time reads as the epoch.
pub fn stored_uuid(text: &str) -> Uuid {
    Uuid::try_parse(text).unwrap_or_default()
}

/// An id that is a UUID: parsed from a request in the one accepted form
/// ([`parse_uuid`]), shown in lowercase, and read back from a stored event
/// with [`stored`](JobSeekerId::stored). Each kind of id is its own type,
/// so a booking's id is never passed where a slot's is expected.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($crate::uuid::Uuid);

        impl $name {
            /// The id in a request: the canonical hyphenated form only.
            pub fn new(id: &str) -> Result<Self, String> {
                $crate::parse_uuid(id).map(Self)
            }

            pub const fn from_uuid(id: $crate::uuid::Uuid) -> Self {
                Self(id)
            }

            pub fn uuid(self) -> $crate::uuid::Uuid {
                self.0
            }

            /// The id in an event the domain itself wrote ([`stored_uuid`]).
            pub fn stored(id: &str) -> Self {
                Self($crate::stored_uuid(id))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id! {
    /// A job seeker's id: the UUID registration derived for the person, the
    /// id every service uses.
    JobSeekerId
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ID: &str = "0190f2c4-6b1e-7a00-8000-00000000000a";

    #[test]
    fn only_the_hyphenated_form_is_an_id() {
        assert_eq!(JobSeekerId::new(ID).unwrap().to_string(), ID);
        assert_eq!(
            JobSeekerId::new(&ID.to_uppercase()).unwrap().to_string(),
            ID
        );
        for other in [
            format!(" {ID}"),
            format!("{{{ID}}}"),
            format!("urn:uuid:{ID}"),
            ID.replace('-', ""),
            String::new(),
        ] {
            assert!(JobSeekerId::new(&other).is_err(), "{other:?}");
        }
    }

    #[test]
    fn a_stored_id_reads_back_and_a_corrupt_one_reads_as_nil() {
        assert_eq!(JobSeekerId::stored(ID).to_string(), ID);
        assert_eq!(JobSeekerId::stored("not an id").uuid(), Uuid::nil());
    }

    proptest! {
        #[test]
        fn every_uuid_round_trips_through_its_text(bytes in any::<[u8; 16]>()) {
            let id = Uuid::from_bytes(bytes);
            let parsed = JobSeekerId::new(&id.to_string()).unwrap();
            prop_assert_eq!(parsed.uuid(), id);
        }

        #[test]
        fn arbitrary_text_is_accepted_only_in_the_canonical_form(text in ".{0,40}") {
            if let Ok(id) = JobSeekerId::new(&text) {
                prop_assert_eq!(id.to_string(), text.to_lowercase());
            }
        }
    }
}
