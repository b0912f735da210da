//! Art. 8: whom a counsellor serves, and so may read.

use super::error::DomainError;

/// Art. 8: a counsellor reads a person's bookings only when the person has
/// (or had) a booking in one of the counsellor's slots; any other
/// counsellor is refused alike, whether or not the person has bookings.
pub fn require_served(booked_with: bool) -> Result<(), DomainError> {
    if booked_with {
        return Ok(());
    }
    Err(DomainError::NotServed)
}
