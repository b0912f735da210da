//! Art. 8: the personal data of a registration, as the domain sees it: in
//! clear while the person's data key exists, or erased. Sealing is not the
//! domain's business; the adapter (`crate::sealed`) seals it for the store
//! and the bus and opens it again, so decide/apply stay pure.

use hellowork_proto::registration::v1 as proto;

/// A person's name, date of birth and contact as registered.
#[derive(Debug, Clone, PartialEq)]
pub struct Personal {
    pub name: proto::PersonName,
    pub date_of_birth: proto::Date,
    pub contact: proto::Contact,
}

/// Art. 8: what is known of a person's personal data.
#[derive(Debug, Clone, PartialEq)]
pub enum PersonalData {
    Known(Personal),
    /// The person's data key was destroyed: the sealed fields exist but
    /// nobody can open them any more. Not an error: the rest of the record
    /// (ids, status, attestations) stays readable.
    Erased,
}

impl PersonalData {
    pub fn known(&self) -> Option<&Personal> {
        match self {
            Self::Known(personal) => Some(personal),
            Self::Erased => None,
        }
    }

    pub fn is_erased(&self) -> bool {
        matches!(self, Self::Erased)
    }
}
