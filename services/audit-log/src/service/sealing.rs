//! Art. 7(2): the keys device identifiers are sealed to where they enter
//! (the front system, scheduling), so they cross no other system in clear.

use hellowork_sealing::device::SealingKeys;

use super::AuditLog;

impl AuditLog {
    /// Art. 7(2): the public halves of the sealing keys, current first; the
    /// private halves never leave the service.
    pub fn sealing_keys(&self) -> &SealingKeys {
        self.ingestor.sealing.public_keys()
    }
}
