//! Job-seeker ids and the one accepted form of a UUID.

use std::fmt;

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

/// A job seeker's id: the UUID registration derived for the person, the id
/// every service uses. Shown in lowercase whatever case it came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobSeekerId(Uuid);

impl JobSeekerId {
    pub fn new(id: &str) -> Result<Self, String> {
        parse_uuid(id).map(Self)
    }

    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for JobSeekerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
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
