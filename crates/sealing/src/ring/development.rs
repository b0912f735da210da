//! Every development secret published in this repository, in one list, so
//! that production refuses each of them by its bytes wherever it is
//! configured: under any key id, at any position of a ring, and in another
//! service's variable than the one it was written for. They protect nothing:
//! anyone can read them here.

/// Registration's key-encryption key (Art. 8) outside production.
pub const REGISTRATION_KEK: [u8; 32] = *b"hellowork-registration-dev-kek!!";

/// Scheduling's key-encryption key (Art. 8) outside production.
pub const SCHEDULING_KEK: [u8; 32] = *b"hellowork-scheduling-dev-kek!!!!";

/// The audit-log's key-encryption key of its data keys (Art. 7(2), 8).
pub const AUDITLOG_KEK: [u8; 32] = *b"hellowork-auditlog-development-k";

/// The seed of the audit-log's HPKE key pair devices are sealed to.
pub const AUDITLOG_SEALING_SEED: [u8; 32] = [
    0x4d, 0x7b, 0x0f, 0xd0, 0x48, 0x52, 0x07, 0x1d, 0x2e, 0xb6, 0x22, 0x68, 0x80, 0x2c, 0x57, 0xa1,
    0x34, 0xb4, 0x02, 0x0b, 0xe1, 0x15, 0xf6, 0xa3, 0xd1, 0xb7, 0xa6, 0x41, 0xcc, 0xd3, 0x07, 0x99,
];

/// The secret the audit-log's device pseudonym keys derive from (Art. 7(2)).
pub const AUDITLOG_PSEUDONYM_SECRET: &[u8] =
    b"hellowork-auditlog-development-only-pseudonym-secret";

/// Registration's key of the job-seeker id derivation.
pub const REGISTRATION_ID_KEY: &[u8] = b"hellowork-registration-development-only-id-key";

/// All of the above.
pub const ALL: [&[u8]; 6] = [
    &REGISTRATION_KEK,
    &SCHEDULING_KEK,
    &AUDITLOG_KEK,
    &AUDITLOG_SEALING_SEED,
    AUDITLOG_PSEUDONYM_SECRET,
    REGISTRATION_ID_KEY,
];

/// Whether `secret` is one of the published development secrets.
pub fn is_published(secret: &[u8]) -> bool {
    ALL.contains(&secret)
}
