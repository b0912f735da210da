//! Input validation as properties: whatever the request, parsing either
//! accepts it or names every offending field, and never panics.

use hellowork_platform::ServiceError;
use hellowork_proto::scheduling::v1 as proto;
use hellowork_scheduling::{domain::Offering, grpc::parse};
use proptest::prelude::*;

fn fields(error: ServiceError) -> Vec<String> {
    match error {
        ServiceError::InvalidArgument(v) => v.into_iter().map(|v| v.field).collect(),
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

proptest! {
    #[test]
    fn bookings_with_garbage_ids_name_each_field(
        request_id in "[^-]{0,40}",
        slot_id in ".{0,40}",
        kinds in proptest::collection::vec(-3i32..6, 0..8),
    ) {
        let request = proto::BookSessionRequest {
            request_id: request_id.clone(),
            slot_id: slot_id.clone(),
            job_seeker_id: "not-a-uuid".into(),
            attendants: kinds.clone(),
        };
        let error = parse::booking(&request).unwrap_err();
        let fields = fields(error);
        prop_assert!(fields.contains(&"job_seeker_id".to_owned()));
        prop_assert!(fields.contains(&"request_id".to_owned()));
        if uuid::Uuid::parse_str(slot_id.trim()).is_err() {
            prop_assert!(fields.contains(&"slot_id".to_owned()));
        }
        for (i, kind) in kinds.iter().enumerate() {
            if !(1..=3).contains(kind) {
                let field = format!("attendants[{i}]");
                prop_assert!(fields.contains(&field));
            }
        }
    }

    #[test]
    fn a_publication_window_is_split_exactly_or_refused(
        minutes in 1i64..2000,
        slot_minutes in 0i64..300,
        capacity in 0u32..40,
        offering in 0i32..7,
    ) {
        let start = prost_types::Timestamp { seconds: 1_800_000_000, nanos: 0 };
        let end = prost_types::Timestamp { seconds: 1_800_000_000 + minutes * 60, nanos: 0 };
        let request = proto::PublishAvailabilityRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            counsellor_id: "counsellor-1".into(),
            offering,
            start_time: Some(start),
            end_time: Some(end),
            slot_length: (slot_minutes > 0).then(|| prost_types::Duration { seconds: slot_minutes * 60, nanos: 0 }),
            capacity,
        };
        match parse::publication(&request) {
            Ok(parsed) => {
                prop_assert!(!parsed.windows.is_empty());
                prop_assert_eq!(parsed.windows.first().unwrap().0.timestamp(), start.seconds);
                prop_assert_eq!(parsed.windows.last().unwrap().1.timestamp(), end.seconds);
                prop_assert!(parsed.windows.windows(2).all(|w| w[0].1 == w[1].0));
                prop_assert!(parsed.capacity == 1 || parsed.offering == Offering::Seminar);
            }
            Err(error) => {
                let fields = fields(error);
                prop_assert!(!fields.is_empty());
                prop_assert!(fields.iter().all(|f| ["offering", "capacity", "slot_length"].contains(&f.as_str())));
            }
        }
    }

    #[test]
    fn device_identifiers_need_an_ip_address_and_a_device_id(ip in ".{0,45}", id in "[a-z]{0,3}") {
        let device = proto::DeviceIdentifiers {
            device_id: id.clone(),
            ip_address: ip.clone(),
            ..Default::default()
        };
        let result = parse::presence(&uuid::Uuid::new_v4().to_string(), Some(&device), None);
        let ip_ok = ip.parse::<std::net::IpAddr>().is_ok();
        match result {
            Ok(_) => prop_assert!(ip_ok && !id.trim().is_empty()),
            Err(error) => {
                let fields = fields(error);
                prop_assert_eq!(fields.contains(&"device.ip_address".to_owned()), !ip_ok);
                prop_assert_eq!(fields.contains(&"device.device_id".to_owned()), id.trim().is_empty());
            }
        }
    }
}

#[test]
fn stop_and_refusal_need_a_note_for_other_obstruction() {
    let error = parse::stop(&proto::StopSessionRequest {
        booking_id: "x".into(),
        reason: proto::ConductReason::OtherObstruction.into(),
        note: " ".into(),
    })
    .unwrap_err();
    assert_eq!(fields(error), ["booking_id", "note"]);
}
