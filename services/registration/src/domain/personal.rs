//! Art. 8: the personal data of a registration, as the domain sees it: in
//! clear while the person's data key exists, or erased. Sealing is not the
//! domain's business; the adapter (`crate::sealed`) seals it for the store
//! and the bus and opens it again, so decide/apply stay pure.
//!
//! The event carries it as the contract's messages ([`Personal`], sealed
//! field by field by the codec); the aggregate keeps it as plain values
//! ([`PersonRecord`]).

use chrono::NaiveDate;
use hellowork_proto::registration::v1 as proto;

use super::{contact::Contact, dates, name::PersonName};

/// A person's name, date of birth and contact as a `JobSeekerRegistered`
/// carries them (each sealed as its own field).
#[derive(Debug, Clone, PartialEq)]
pub struct Personal {
    pub name: proto::PersonName,
    pub date_of_birth: proto::Date,
    pub contact: proto::Contact,
}

impl Personal {
    /// What a registration records of a person it parsed.
    pub fn of(name: &PersonName, date_of_birth: NaiveDate, contact: &Contact) -> Self {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        Self {
            name: proto::PersonName {
                family_name: name.family.as_str().to_owned(),
                given_name: name.given.as_str().to_owned(),
                family_name_reading: name.family_reading.as_str().to_owned(),
                given_name_reading: name.given_reading.as_str().to_owned(),
            },
            date_of_birth: dates::message(date_of_birth),
            contact: proto::Contact {
                email: text(contact.email.as_ref().map(|e| e.as_str())),
                phone_number: text(contact.phone.as_ref().map(|p| p.as_str())),
            },
        }
    }
}

/// A person's name, date of birth and contact as registered, in the
/// aggregate: already checked when registered, so kept as they were
/// written, never parsed again (an age limit would refuse them later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub family_name: String,
    pub given_name: String,
    pub family_name_reading: String,
    pub given_name_reading: String,
    /// `None` only for a stored date that is no calendar date (never
    /// written by a registration, which checks it).
    pub date_of_birth: Option<NaiveDate>,
    /// Empty when not given.
    pub email: String,
    /// Empty when not given.
    pub phone_number: String,
}

impl PersonRecord {
    pub fn of(personal: &Personal) -> Self {
        Self {
            family_name: personal.name.family_name.clone(),
            given_name: personal.name.given_name.clone(),
            family_name_reading: personal.name.family_name_reading.clone(),
            given_name_reading: personal.name.given_name_reading.clone(),
            date_of_birth: dates::of(&personal.date_of_birth),
            email: personal.contact.email.clone(),
            phone_number: personal.contact.phone_number.clone(),
        }
    }
}

/// Art. 8: what is known of a person's personal data: as the event carries
/// it ([`Personal`]) or as the aggregate keeps it ([`PersonRecord`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PersonalData<P = Personal> {
    Known(P),
    /// The person's data key was destroyed: the sealed fields exist but
    /// nobody can open them any more. Not an error: the rest of the record
    /// (ids, status, attestations) stays readable.
    Erased,
    /// Held sealed in the store and not opened by this read, which needed
    /// only the record's facts (eligibility): nothing personal is known,
    /// and nothing is erased.
    Unopened,
}

impl<P> PersonalData<P> {
    pub fn known(&self) -> Option<&P> {
        match self {
            Self::Known(personal) => Some(personal),
            Self::Erased | Self::Unopened => None,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Self::Erased)
    }

    /// The same data in another form.
    pub fn map<Q>(&self, form: impl FnOnce(&P) -> Q) -> PersonalData<Q> {
        match self {
            Self::Known(personal) => PersonalData::Known(form(personal)),
            Self::Erased => PersonalData::Erased,
            Self::Unopened => PersonalData::Unopened,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn art_8_a_registration_records_what_was_parsed_and_the_aggregate_keeps_it_as_written() {
        let name = PersonName::parse("山田", "太郎", "やまだ", "").unwrap();
        let born = NaiveDate::from_ymd_opt(1990, 4, 1).unwrap();
        let contact = Contact::parse("", "090-1234-5678").unwrap();
        let personal = Personal::of(&name, born, &contact);
        assert_eq!(personal.name.family_name, "山田");
        assert_eq!(personal.contact.email, "");
        assert_eq!(personal.contact.phone_number, "09012345678");
        let record = PersonRecord::of(&personal);
        assert_eq!(record.given_name, "太郎");
        assert_eq!(record.family_name_reading, "やまだ");
        assert_eq!(record.date_of_birth, Some(born));
        assert_eq!(record.phone_number, "09012345678");
        let known = PersonalData::Known(personal);
        assert_eq!(known.map(PersonRecord::of), PersonalData::Known(record));
        let erased: PersonalData = PersonalData::Erased;
        assert!(erased.map(PersonRecord::of).is_erased());
    }
}
