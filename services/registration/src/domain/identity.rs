//! Job-seeker ids. The id is derived from the person's identity with a keyed
//! hash, so registering the same person twice finds the same stream (the
//! duplicate check is idempotent by construction) while the id reveals
//! nothing about the person and cannot be recomputed without the key (Art. 8).

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{birth::DateOfBirth, contact::Contact, name::PersonName};

pub use hellowork_values::JobSeekerId;

/// The event stream of a job seeker: `registration-<id>`.
pub fn stream_name(id: JobSeekerId) -> String {
    format!("registration-{id}")
}

/// The secret key of the id derivation. Changing it gives every person a new
/// id, so it is configured once per deployment and never rotated casually.
#[derive(Clone)]
pub struct IdentityKey(Vec<u8>);

impl IdentityKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self(key.into())
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(***)")
    }
}

/// HMAC-SHA256 over the normalized identity (NFKC name, date of birth,
/// normalized contact), its first 128 bits formatted as a UUID (version 8,
/// "custom"). The same person typed in another width or case gets the same id.
pub fn derived_id(
    key: &IdentityKey,
    name: &PersonName,
    date_of_birth: DateOfBirth,
    contact: &Contact,
) -> JobSeekerId {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes keys of any length");
    // Unit separators keep the fields apart: no two identities share an input.
    mac.update(b"hellowork.registration.identity.v1\x1f");
    mac.update(name.identity_form().as_bytes());
    mac.update(b"\x1f");
    mac.update(date_of_birth.date().to_string().as_bytes());
    mac.update(b"\x1f");
    mac.update(contact.identity_form().as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    JobSeekerId::from_uuid(Uuid::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn person(family: &str, phone: &str) -> (PersonName, DateOfBirth, Contact) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        (
            PersonName::parse(family, "太郎", "", "").unwrap(),
            DateOfBirth::parse(1990, 4, 1, today).unwrap(),
            Contact::parse("", phone).unwrap(),
        )
    }

    #[test]
    fn the_same_person_gets_the_same_id_and_others_do_not() {
        let key = IdentityKey::new(b"k".to_vec());
        let (n, d, c) = person("山田", "090-1234-5678");
        let (n2, d2, c2) = person(" 山田 ", "09012345678");
        let (n3, d3, c3) = person("山本", "09012345678");
        let id = derived_id(&key, &n, d, &c);
        assert_eq!(id, derived_id(&key, &n2, d2, &c2));
        assert_ne!(id, derived_id(&key, &n3, d3, &c3));
        assert_eq!(id.uuid().get_version_num(), 8);
    }

    #[test]
    fn another_key_gives_another_id_and_the_key_is_never_printed() {
        let (n, d, c) = person("山田", "09012345678");
        let one = derived_id(&IdentityKey::new(b"one".to_vec()), &n, d, &c);
        let two = derived_id(&IdentityKey::new(b"two".to_vec()), &n, d, &c);
        assert_ne!(one, two);
        assert_eq!(
            format!("{:?}", IdentityKey::new(b"secret".to_vec())),
            "IdentityKey(***)"
        );
    }
}
