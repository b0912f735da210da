//! Art. 8: whom a counsellor serves, and so may read: a counsellor's duty
//! is to the people they counsel, not to every registered person.

use super::error::DomainError;

/// Art. 8: a counsellor reads a person's registration and eligibility only
/// when they serve the person: they registered the person at the counter
/// (`registered_by`, the actor of the registration), or the person booked a
/// session with them (`booked_with`, from scheduling's events). Anyone else,
/// a person registered or not, is refused alike.
pub fn require_served(
    counsellor: &str,
    registered_by: Option<&str>,
    booked_with: bool,
) -> Result<(), DomainError> {
    if booked_with || registered_by == Some(counsellor) {
        return Ok(());
    }
    Err(DomainError::NotServed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counsellor_serves_whom_they_registered_or_who_booked_with_them() {
        assert_eq!(require_served("c-1", Some("c-1"), false), Ok(()));
        assert_eq!(require_served("c-1", None, true), Ok(()));
        assert_eq!(require_served("c-1", Some("c-2"), true), Ok(()));
        for registered_by in [None, Some("c-2")] {
            assert_eq!(
                require_served("c-1", registered_by, false),
                Err(DomainError::NotServed)
            );
        }
    }
}
