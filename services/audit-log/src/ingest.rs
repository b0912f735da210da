//! Art. 7(1), 7(2), 8: turns a usage record into its `UsageRecorded` event —
//! the job seeker id and the raw device identifiers sealed with the data
//! key of the person and key period, only non-identifying derivations and
//! the period's lookup tag in clear.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_proto::{auditlog::v1 as proto, sealing::v1 as sealing};
use hellowork_sealing::{
    device::{OpeningKeys, SealError},
    personal::DataKey,
};
use prost::Message;
use sqlx::PgPool;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{
    domain::{
        anonymize::{DeviceClass, PseudonymSecret, ip_prefix, reduce_user_agent},
        subject::{KeyPeriod, SubjectSecret, SubjectTag, device_field, job_seeker_field},
        time::{timestamp, to_micros},
        usage::Usage,
    },
    keys::{KeyError, SubjectKeys},
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
    pub sealing: OpeningKeys,
    pub pseudonyms: PseudonymSecret,
    pub subjects: SubjectSecret,
    pub keys: SubjectKeys,
}

/// The identifying parts of one record, in clear, before sealing.
#[derive(Clone, Copy)]
pub struct Identifying<'a> {
    pub record_id: &'a str,
    pub at: DateTime<Utc>,
    /// Empty when no person was signed in.
    pub job_seeker_id: &'a str,
    pub device: Option<&'a proto::DeviceIdentifiers>,
}

/// Art. 7, 8: the debug form never prints an identifier.
impl std::fmt::Debug for Identifying<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identifying")
            .field("record_id", &self.record_id)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl Identifying<'_> {
    /// Whether there is anything to seal, and so a data key to have.
    fn any(&self) -> bool {
        !self.job_seeker_id.is_empty() || self.device.is_some()
    }
}

impl Ingestor {
    pub fn new(settings: &AuditLogSettings, pool: PgPool) -> Self {
        Self {
            sealing: settings.sealing.clone(),
            pseudonyms: settings.pseudonyms.clone(),
            subjects: settings.pseudonyms.subject_secret(),
            keys: SubjectKeys::new(pool, settings.keks()),
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

    /// The key (tag and period) the identifying parts of `parts` are sealed
    /// under: the person's of the period, or the period's anonymous one.
    fn key_of(&self, parts: &Identifying<'_>) -> (SubjectTag, KeyPeriod) {
        let period = KeyPeriod::of(parts.at);
        (self.subjects.key_tag(period, parts.job_seeker_id), period)
    }

    /// The data keys the identifying parts of `all` are sealed with, made
    /// where missing.
    pub async fn keys_for(
        &self,
        all: &[Identifying<'_>],
    ) -> Result<HashMap<SubjectTag, DataKey>, KeyError> {
        let wanted: Vec<_> = all
            .iter()
            .filter(|parts| parts.any())
            .map(|parts| self.key_of(parts))
            .collect();
        self.keys.for_sealing(&wanted).await
    }

    /// Art. 7(2), 8: seals `parts` into `recorded` with their key from
    /// `keys` (see [`Ingestor::keys_for`]): the period's lookup tag of the
    /// person, the job seeker id and the device, each bound to the record.
    pub fn seal_into(
        &self,
        recorded: &mut proto::UsageRecorded,
        parts: &Identifying<'_>,
        keys: &HashMap<SubjectTag, DataKey>,
    ) -> Result<(), KeyError> {
        if !parts.any() {
            return Ok(());
        }
        let (tag, _) = self.key_of(parts);
        // Made by `keys_for`, unless an erasure destroyed it since.
        let key = keys.get(&tag).ok_or(KeyError::Destroyed)?;
        if !parts.job_seeker_id.is_empty() {
            recorded.subject_tag = tag.0.to_vec();
            recorded.sealed_job_seeker_id = Some(
                key.seal(
                    &job_seeker_field(parts.record_id),
                    parts.job_seeker_id.as_bytes(),
                )
                .into(),
            );
        }
        if let Some(device) = parts.device {
            let plaintext = Zeroizing::new(device.encode_to_vec());
            recorded.sealed_device =
                Some(key.seal(&device_field(parts.record_id), &plaintext).into());
        }
        Ok(())
    }

    /// The events recording `usages`, in order.
    pub async fn recorded_all(
        &self,
        usages: &[Usage],
    ) -> Result<Vec<proto::UsageRecorded>, KeyError> {
        let devices: Vec<Option<proto::DeviceIdentifiers>> =
            usages.iter().map(raw_device).collect();
        let parts: Vec<Identifying<'_>> = usages
            .iter()
            .zip(&devices)
            .map(|(usage, device)| Identifying {
                record_id: &usage.record_id,
                at: usage.occurred_at,
                job_seeker_id: &usage.job_seeker_id,
                device: device.as_ref(),
            })
            .collect();
        let keys = self.keys_for(&parts).await?;
        usages
            .iter()
            .zip(&parts)
            .map(|(usage, parts)| {
                let mut recorded = self.anonymized(usage);
                self.seal_into(&mut recorded, parts, &keys)?;
                Ok(recorded)
            })
            .collect()
    }

    /// The event recording `usage` without its identifying parts.
    fn anonymized(&self, usage: &Usage) -> proto::UsageRecorded {
        let mut recorded = proto::UsageRecorded {
            record_id: usage.record_id.clone(),
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
        }
        recorded
    }
}

/// The raw identifiers of `usage`'s device, as they are sealed.
fn raw_device(usage: &Usage) -> Option<proto::DeviceIdentifiers> {
    usage
        .device
        .as_ref()
        .map(|device| proto::DeviceIdentifiers {
            device_id: device.device_id.clone(),
            ip_address: device.ip_address.to_string(),
            user_agent: device.user_agent.clone(),
            os_name: device.os_name.clone(),
            os_version: device.os_version.clone(),
        })
}

pub fn device_class(class: DeviceClass) -> proto::DeviceClass {
    match class {
        DeviceClass::Smartphone => proto::DeviceClass::Smartphone,
        DeviceClass::Tablet => proto::DeviceClass::Tablet,
        DeviceClass::Pc => proto::DeviceClass::Pc,
        DeviceClass::Other => proto::DeviceClass::Other,
    }
}
