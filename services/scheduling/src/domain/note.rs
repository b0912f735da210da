//! Art. 8: an officer's note about a person as the store holds it, for a
//! view to open with the person's data key.

use hellowork_proto::sealing::v1 as sealing;
use hellowork_sealing::personal::PersonalSealed;

/// A note as stored: sealed with the person's data key, or in clear (stored
/// before Step 8 and not yet resealed, or empty).
#[derive(Clone, PartialEq, Eq)]
pub enum StoredNote {
    Sealed(PersonalSealed),
    Clear(String),
}

impl StoredNote {
    /// The note of an event: its sealed field if set, else its clear one.
    pub fn of(sealed: Option<&sealing::PersonalSealed>, clear: &str) -> Self {
        match sealed {
            Some(sealed) => Self::Sealed(sealed.clone().into()),
            None => Self::Clear(clear.to_owned()),
        }
    }
}

/// Art. 8: never print a note, even sealed.
impl std::fmt::Debug for StoredNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sealed(sealed) => f.debug_tuple("Sealed").field(sealed).finish(),
            Self::Clear(_) => f.write_str("Clear(..)"),
        }
    }
}
