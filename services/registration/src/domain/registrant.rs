//! Who registers a person, as far as what the answer may tell them goes
//! (Art. 8): registering must not tell a caller whether someone else is
//! registered.

use super::identity::JobSeekerId;

/// Who registers, decided from the caller before the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    /// Staff at the counter, with the person before them: they are told
    /// the existing registration, so the office registers no one twice.
    Staff,
    /// The person themself online: their token's subject is the id their
    /// identity derives to (the front system issues such a token only after
    /// registration), so the record is theirs to see.
    ThePerson,
    /// Anyone else online, typically the front system's session before the
    /// person has an id. Anyone can type someone else's name, date of birth
    /// and contact, so they are told the same whether or not that identity
    /// is registered, or erased: the id it derives to and nothing else.
    Unidentified,
}

impl Registrant {
    /// Art. 8: an online registrant is the person only when their token's
    /// subject is the id their identity derives to; anyone else is
    /// [`Registrant::Unidentified`].
    pub fn online(subject: &str, id: JobSeekerId) -> Self {
        match JobSeekerId::new(subject) {
            Ok(own) if own == id => Self::ThePerson,
            _ => Self::Unidentified,
        }
    }

    /// Art. 8: whether the answer may show the registration and whether
    /// this call created it.
    pub fn sees_the_record(self) -> bool {
        self != Self::Unidentified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_token_naming_the_derived_id_is_the_person() {
        let id = JobSeekerId::new("8f2e0d6a-1c3b-8a4d-9e5f-0a1b2c3d4e5f").unwrap();
        let other = "8f2e0d6a-1c3b-8a4d-9e5f-0a1b2c3d4e60";
        assert_eq!(
            Registrant::online(&id.to_string(), id),
            Registrant::ThePerson
        );
        for subject in [other, "front-1", "", "system:front"] {
            assert_eq!(
                Registrant::online(subject, id),
                Registrant::Unidentified,
                "{subject}"
            );
        }
        assert!(Registrant::Staff.sees_the_record() && Registrant::ThePerson.sees_the_record());
        assert!(!Registrant::Unidentified.sees_the_record());
    }
}
