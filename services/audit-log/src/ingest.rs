//! Art. 7(1), 7(2): turns a usage record into a log entry — raw device
//! identifiers sealed, only non-identifying derivations kept in clear.

use hellowork_proto::auditlog::v1::{self as proto, EntryKind};
use prost::Message;

use crate::{
    domain::{
        anonymize::{DeviceClass, PseudonymSecret, ip_prefix, reduce_user_agent},
        seal::Keyring,
        usage::Usage,
    },
    settings::AuditLogSettings,
    store::Entry,
};

/// The keys an entry is sealed and pseudonymized with.
#[derive(Debug, Clone)]
pub struct Ingestor {
    pub keyring: Keyring,
    pub pseudonyms: PseudonymSecret,
}

impl Ingestor {
    pub fn new(settings: &AuditLogSettings) -> Self {
        Self {
            keyring: settings.keyring.clone(),
            pseudonyms: settings.pseudonyms.clone(),
        }
    }

    /// The entry of `usage`, reported by `actor`.
    pub fn entry(&self, usage: &Usage, actor: &str) -> Entry {
        let mut entry = Entry {
            kind: EntryKind::Usage as i32,
            occurred_at: usage.occurred_at,
            record_id: Some(usage.record_id.clone()),
            job_seeker_id: usage.job_seeker_id.clone(),
            access_kind: usage.access_kind,
            action: usage.action.clone(),
            method: usage.method.clone(),
            outcome: usage.outcome,
            offering: usage.offering,
            booking_id: usage.booking_id.clone(),
            source: usage.source.clone(),
            window_start: usage.usage_window.map(|w| w.0),
            window_end: usage.usage_window.map(|w| w.1),
            actor: actor.to_owned(),
            ..Entry::default()
        };
        if let Some(device) = &usage.device {
            let reduced = reduce_user_agent(&device.user_agent);
            let pseudonym = self
                .pseudonyms
                .pseudonym(&device.device_id, usage.occurred_at);
            entry.device_class = device_class(reduced.device_class) as i32;
            entry.device_pseudonym = pseudonym.pseudonym;
            entry.pseudonym_period = pseudonym.period;
            entry.ip_prefix = ip_prefix(device.ip_address);
            entry.browser_family = reduced.browser_family.to_owned();
            entry.os_family = reduced.os_family.to_owned();
            let plaintext = zeroize::Zeroizing::new(
                proto::DeviceIdentifiers {
                    device_id: device.device_id.clone(),
                    ip_address: device.ip_address.to_string(),
                    user_agent: device.user_agent.clone(),
                    os_name: device.os_name.clone(),
                    os_version: device.os_version.clone(),
                }
                .encode_to_vec(),
            );
            let sealed = self.keyring.seal(&plaintext, usage.record_id.as_bytes());
            entry.key_id = sealed.key_id;
            entry.nonce = sealed.nonce;
            entry.ciphertext = sealed.ciphertext;
        }
        entry
    }
}

pub fn device_class(class: DeviceClass) -> proto::DeviceClass {
    match class {
        DeviceClass::Smartphone => proto::DeviceClass::Smartphone,
        DeviceClass::Tablet => proto::DeviceClass::Tablet,
        DeviceClass::Pc => proto::DeviceClass::Pc,
        DeviceClass::Other => proto::DeviceClass::Other,
    }
}
