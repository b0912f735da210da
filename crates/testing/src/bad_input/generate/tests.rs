//! The generator against prost: what it builds decodes, and the strict
//! decoder accepts only what prost accepts.

use std::sync::Arc;

use proptest::test_runner::Config;
use uuid::Uuid;

use super::*;
use crate::bad_input::dynamic;

static TYPES: std::sync::LazyLock<Arc<Types>> =
    std::sync::LazyLock::new(|| Arc::new(Types::new(&dynamic::descriptor_set())));

fn usage_seed() -> Hints {
    let mut hints = Hints::default();
    hints.seed(
        "RecordUsage",
        &hellowork_proto::auditlog::v1::RecordUsageRequest {
            record: Some(hellowork_proto::auditlog::v1::UsageRecord {
                record_id: Uuid::new_v4().to_string(),
                job_seeker_id: "seeker-1".into(),
                occurred_at: Some(prost_types::Timestamp {
                    seconds: 1_765_000_000,
                    nanos: 0,
                }),
                action: "/bookings".into(),
                access_kind: 1,
                device: Some(hellowork_proto::auditlog::v1::DeviceIdentifiers {
                    device_id: "device-1".into(),
                    ip_address: "203.0.113.7".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        },
    );
    hints
}

proptest! {
    #![proptest_config(Config::with_cases(64))]

    /// What the generator builds is a message prost decodes, and the
    /// strict decoder reads prost's re-encoding back.
    #[test]
    fn generated_messages_decode_with_prost(
        msg in Generator::new(TYPES.clone(), Arc::new(Hints::default()))
            .message(".hellowork.registration.v1.AttestEnvironmentRequest", 0)
    ) {
        use prost::Message as _;
        let bytes = msg.encode();
        let typed = hellowork_proto::registration::v1::AttestEnvironmentRequest::decode(bytes.as_slice());
        prop_assert!(typed.is_ok(), "{msg:?}");
        let again = dynamic::decode(&TYPES, &msg.type_name, &typed.unwrap().encode_to_vec());
        prop_assert!(again.is_ok());
    }

    /// Raw payloads (random, or a valid request changed) that the
    /// strict decoder accepts, prost accepts too: a case reported
    /// field by field is one the service's codec decodes as well.
    #[test]
    fn the_strict_decoder_accepts_only_what_prost_accepts(
        payload in Generator::new(TYPES.clone(), Arc::new(usage_seed()))
            .payload("RecordUsage", ".hellowork.auditlog.v1.RecordUsageRequest")
    ) {
        use prost::Message as _;
        let bytes = payload.bytes();
        let prost = hellowork_proto::auditlog::v1::RecordUsageRequest::decode(bytes.as_slice());
        if payload.decodes() {
            prop_assert!(prost.is_ok(), "{payload:?}");
        }
    }
}
