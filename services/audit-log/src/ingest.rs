//! Art. 7(1), 7(2): turns a usage record into its `UsageRecorded` event —
//! raw device identifiers sealed, only non-identifying derivations in clear.

use hellowork_proto::{auditlog::v1 as proto, sealing::v1 as sealing};
use hellowork_sealing::device::{OpeningKeys, SealError};
use prost::Message;
use uuid::Uuid;

use crate::{
    domain::{
        anonymize::{DeviceClass, PseudonymSecret, ip_prefix, reduce_user_agent},
        seal::Keyring,
        time::{timestamp, to_micros},
        usage::Usage,
    },
    settings::AuditLogSettings,
};

/// Namespace of the event ids of usage records (UUIDv5 of the record id), so
/// a record id is recorded at most once, whichever batch repeats it.
const USAGE_NAMESPACE: Uuid = Uuid::from_u128(0x6865_6c6c_6f77_6f72_6b2e_7573_6167_6501);

/// The event id of the usage record `record_id`.
pub fn usage_event_id(record_id: &str) -> Uuid {
    Uuid::new_v5(&USAGE_NAMESPACE, record_id.as_bytes())
}

/// The keys a record is opened, sealed and pseudonymized with.
#[derive(Debug, Clone)]
pub struct Ingestor {
    pub keyring: Keyring,
    pub sealing: OpeningKeys,
    pub pseudonyms: PseudonymSecret,
}

impl Ingestor {
    pub fn new(settings: &AuditLogSettings) -> Self {
        Self {
            keyring: settings.keyring.clone(),
            sealing: settings.sealing.clone(),
            pseudonyms: settings.pseudonyms.clone(),
        }
    }

    /// Art. 7(2): opens identifiers sealed to this service where they
    /// entered, for `context` (the booking or record id they were sealed
    /// for). Only this service holds the private keys.
    pub fn open_device(
        &self,
        sealed: &sealing::HpkeSealed,
        context: &str,
    ) -> Result<sealing::DeviceIdentifiers, SealError> {
        let plaintext = self
            .sealing
            .open(&sealed.clone().into(), context.as_bytes())?;
        sealing::DeviceIdentifiers::decode(plaintext.as_slice()).map_err(|_| SealError::DoesNotOpen)
    }

    /// The event recording `usage`.
    pub fn recorded(&self, usage: &Usage) -> proto::UsageRecorded {
        let mut recorded = proto::UsageRecorded {
            record_id: usage.record_id.clone(),
            job_seeker_id: usage.job_seeker_id.clone(),
            // The precision Postgres keeps, so the chain hashes what it stores.
            occurred_at: Some(timestamp(to_micros(usage.occurred_at))),
            usage_window: usage.usage_window.map(|(start, end)| proto::TimeRange {
                start_time: Some(timestamp(to_micros(start))),
                end_time: Some(timestamp(to_micros(end))),
            }),
            access_kind: usage.access_kind,
            action: usage.action.clone(),
            method: usage.method.clone(),
            outcome: usage.outcome,
            offering: usage.offering,
            booking_id: usage.booking_id.clone(),
            source: usage.source.clone(),
            ..proto::UsageRecorded::default()
        };
        if let Some(device) = &usage.device {
            let reduced = reduce_user_agent(&device.user_agent);
            let pseudonym = self
                .pseudonyms
                .pseudonym(&device.device_id, usage.occurred_at);
            recorded.device_class = device_class(reduced.device_class) as i32;
            recorded.device = Some(proto::AnonymizedDevice {
                device_pseudonym: pseudonym.pseudonym,
                pseudonym_period: pseudonym.period,
                ip_prefix: ip_prefix(device.ip_address),
                browser_family: reduced.browser_family.to_owned(),
                os_family: reduced.os_family.to_owned(),
                device_class: recorded.device_class,
            });
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
            recorded.sealed_device = Some(proto::SealedDeviceIdentifiers {
                key_id: sealed.key_id,
                nonce: sealed.nonce,
                ciphertext: sealed.ciphertext,
            });
        }
        recorded
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
