//! What the `JobSeeker` aggregate keeps of each fact, as domain values: ids
//! as UUIDs, instants as `DateTime<Utc>`, the contract's enums as the
//! domain's. Each is read from its event, totally: `apply` cannot fail, so
//! what no `decide` ever writes (a malformed id, an unknown enum value)
//! reads as the nil UUID or `None`, which no request names.

use chrono::{DateTime, Utc};
use hellowork_proto::registration::v1::{
    DeviceCapabilityAttested, EnvironmentAttested, JobSeekerErased, OnlineServicesApplied,
};
use hellowork_values::{stored_uuid, time::to_datetime};
use uuid::Uuid;

use super::{
    contract::{
        Channel, DeviceFailure, DeviceKind, ErasureReason, RegistrantCategory, RegistrationStatus,
    },
    environment::{ItemResult, OsSupport},
    personal::{PersonRecord, PersonalData},
};

/// The registration as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub channel: Channel,
    pub category: RegistrantCategory,
    pub status: RegistrationStatus,
    /// Art. 8: in clear while the person's data key exists.
    pub personal: PersonalData<PersonRecord>,
}

/// Art. 4, 6: the texts shown when the person applied, as recorded (they
/// were checked when applying; kept as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedTerms {
    pub terms_version: String,
    pub terms_sha256: String,
    pub meeting_app_terms_version: String,
    pub meeting_app_terms_sha256: String,
    pub language: String,
}

/// Art. 2(1), 6: one application for online services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub application_id: Uuid,
    pub terms: AppliedTerms,
}

impl Application {
    pub fn of(event: &OnlineServicesApplied) -> Self {
        Self {
            application_id: stored_uuid(&event.application_id),
            terms: AppliedTerms {
                terms_version: event.terms_version.clone(),
                terms_sha256: event.terms_sha256.clone(),
                meeting_app_terms_version: event.meeting_app_terms_version.clone(),
                meeting_app_terms_sha256: event.meeting_app_terms_sha256.clone(),
                language: event.language.clone(),
            },
        }
    }
}

/// Art. 2(3): one attested device and whether it qualifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAttestation {
    pub device_attestation_id: Uuid,
    /// `None` for a kind this build does not know.
    pub kind: Option<DeviceKind>,
    pub owned: bool,
    pub has_webcam: bool,
    pub can_prepare_meeting_app: bool,
    pub capable: bool,
    pub failures: Vec<DeviceFailure>,
}

impl DeviceAttestation {
    pub fn of(event: &DeviceCapabilityAttested) -> Self {
        Self {
            device_attestation_id: stored_uuid(&event.device_attestation_id),
            kind: DeviceKind::try_from(event.device_kind).ok(),
            owned: event.owned,
            has_webcam: event.has_webcam,
            can_prepare_meeting_app: event.can_prepare_meeting_app,
            capable: event.capable,
            failures: event
                .failures
                .iter()
                .filter_map(|failure| DeviceFailure::try_from(*failure).ok())
                .collect(),
        }
    }
}

/// Art. 5, 12(4): one attested environment of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentAttestation {
    pub environment_attestation_id: Uuid,
    pub device_attestation_id: Uuid,
    /// `None` (never written) counts as expired.
    pub expires_at: Option<DateTime<Utc>>,
    pub passed: bool,
    pub items: Vec<ItemResult>,
    pub os_support: Option<OsSupport>,
    pub file_sharing_found: Vec<String>,
}

impl EnvironmentAttestation {
    pub fn of(event: &EnvironmentAttested) -> Self {
        Self {
            environment_attestation_id: stored_uuid(&event.environment_attestation_id),
            device_attestation_id: stored_uuid(&event.device_attestation_id),
            expires_at: to_datetime(event.expires_at.as_ref()),
            passed: event.passed,
            items: event.items.iter().filter_map(ItemResult::of).collect(),
            os_support: event.os_support.as_ref().map(OsSupport::of),
            file_sharing_found: event.file_sharing_software_found.clone(),
        }
    }
}

/// Art. 8: the recorded erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// `None` for a reason this build does not know.
    pub reason: Option<ErasureReason>,
    /// The case it was made under; empty when none was given.
    pub reference: String,
    pub erased_at: Option<DateTime<Utc>>,
}

impl Erasure {
    pub fn of(event: &JobSeekerErased) -> Self {
        Self {
            reason: ErasureReason::try_from(event.reason).ok(),
            reference: event.reference.clone(),
            erased_at: to_datetime(event.erased_at.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use hellowork_proto::registration::v1 as proto;

    use super::*;
    use crate::domain::contract::{EnvironmentFailure, EnvironmentItem};

    #[test]
    fn a_device_reads_as_recorded_and_unknown_values_are_left_out() {
        let id = Uuid::from_u128(7);
        let device = DeviceAttestation::of(&DeviceCapabilityAttested {
            device_attestation_id: id.to_string(),
            device_kind: proto::DeviceKind::Tablet.into(),
            owned: false,
            has_webcam: true,
            can_prepare_meeting_app: true,
            capable: false,
            failures: vec![proto::DeviceCapabilityFailure::NotOwned.into(), 99],
            ..Default::default()
        });
        assert_eq!(device.device_attestation_id, id);
        assert_eq!(device.kind, Some(DeviceKind::Tablet));
        assert_eq!(device.failures, [DeviceFailure::NotOwned]);
        let unknown = DeviceAttestation::of(&DeviceCapabilityAttested {
            device_attestation_id: "not a uuid".into(),
            ..Default::default()
        });
        assert_eq!(unknown.device_attestation_id, Uuid::nil());
        assert_eq!(unknown.kind, None);
    }

    #[test]
    fn an_environment_reads_its_items_instants_and_os_support() {
        let expires_at: DateTime<Utc> = "2026-12-25T01:00:00Z".parse().unwrap();
        let environment = EnvironmentAttestation::of(&EnvironmentAttested {
            environment_attestation_id: Uuid::from_u128(3).to_string(),
            device_attestation_id: Uuid::from_u128(2).to_string(),
            expires_at: Some(hellowork_values::time::timestamp(expires_at)),
            passed: false,
            items: vec![
                proto::EnvironmentItemResult {
                    item: proto::EnvironmentItem::Firewall.into(),
                    passed: false,
                    failures: vec![proto::EnvironmentFailureReason::FirewallDisabled.into()],
                    article: "Art. 5(4)".into(),
                },
                proto::EnvironmentItemResult::default(),
            ],
            os_support: Some(proto::OsSupportStatus::default()),
            file_sharing_software_found: vec!["Winny".into()],
            ..Default::default()
        });
        assert_eq!(environment.environment_attestation_id, Uuid::from_u128(3));
        assert_eq!(environment.device_attestation_id, Uuid::from_u128(2));
        assert_eq!(environment.expires_at, Some(expires_at));
        assert_eq!(
            environment.items,
            [ItemResult {
                item: EnvironmentItem::Firewall,
                passed: false,
                failures: vec![EnvironmentFailure::FirewallDisabled],
            }]
        );
        assert_eq!(environment.os_support.unwrap().support_ends_on, None);
        assert_eq!(environment.file_sharing_found, ["Winny"]);
        let unset = EnvironmentAttestation::of(&EnvironmentAttested::default());
        assert_eq!(unset.expires_at, None, "counts as expired");
    }

    #[test]
    fn an_application_and_an_erasure_read_as_recorded() {
        let application = Application::of(&OnlineServicesApplied {
            application_id: Uuid::from_u128(9).to_string(),
            terms_version: "2023-12-18".into(),
            language: "ja".into(),
            ..Default::default()
        });
        assert_eq!(application.application_id, Uuid::from_u128(9));
        assert_eq!(application.terms.terms_version, "2023-12-18");
        assert_eq!(application.terms.language, "ja");
        let erased_at: DateTime<Utc> = "2026-11-25T01:00:00Z".parse().unwrap();
        let erasure = Erasure::of(&JobSeekerErased {
            reason: proto::ErasureReason::RetentionEnded.into(),
            reference: "APPI-1".into(),
            erased_at: Some(hellowork_values::time::timestamp(erased_at)),
            ..Default::default()
        });
        assert_eq!(erasure.reason, Some(ErasureReason::RetentionEnded));
        assert_eq!(erasure.reference, "APPI-1");
        assert_eq!(erasure.erased_at, Some(erased_at));
    }
}
