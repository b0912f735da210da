//! Art. 7(2): the audit-log publishes the public keys device identifiers are
//! sealed to, opens what front systems sealed to them, and refuses — naming
//! the field, counting it, writing nothing — what does not open.

mod support;

use chrono::Utc;
use hellowork_platform::Role;
use hellowork_proto::{
    auditlog::v1::{self as proto, CheckSealedDeviceRequest, GetSealingKeysRequest},
    sealing::v1::{self as sealing, HpkeSealed},
};
use hellowork_sealing::device::{ALGORITHM, SealingKeys};
use prost::Message;
use support::{SEEKER_1, World, record};
use tonic::Code;
use tonic_types::StatusExt;

fn fields(status: &tonic::Status) -> Vec<String> {
    let mut fields: Vec<String> = status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default();
    fields.dedup();
    fields
}

async fn keys(world: &mut World) -> SealingKeys {
    let published = world
        .client
        .get_sealing_keys(world.req(GetSealingKeysRequest {}, "seeker-1", Role::JobSeeker))
        .await
        .expect("any authenticated caller gets the public keys")
        .into_inner()
        .keys;
    assert_eq!(published.len(), 1);
    assert!(published[0].current && published[0].algorithm == ALGORITHM);
    assert_eq!(published[0].public_key.len(), 32);
    SealingKeys::from_proto(&published).unwrap()
}

fn sealed_record(keys: &SealingKeys, context: Option<&str>) -> proto::UsageRecord {
    let mut usage = record(SEEKER_1, "sealed-device-31337", "198.51.100.23", Utc::now());
    let device = usage.device.take().unwrap();
    let plaintext = sealing::DeviceIdentifiers {
        device_id: device.device_id,
        ip_address: device.ip_address,
        user_agent: device.user_agent,
        os_name: device.os_name,
        os_version: device.os_version,
    }
    .encode_to_vec();
    let context = context.unwrap_or(&usage.record_id).to_owned();
    usage.sealed_device = Some(keys.seal(&plaintext, context.as_bytes()).into());
    usage
}

#[tokio::test]
async fn a_record_sealed_by_the_front_system_is_opened_and_kept_under_the_services_own_ring() {
    let mut world = World::start().await;
    let keys = keys(&mut world).await;
    let usage = sealed_record(&keys, None);
    world
        .client
        .record_usage(world.req(
            proto::RecordUsageRequest {
                record: Some(usage),
            },
            "system:front",
            Role::System,
        ))
        .await
        .expect("recorded");
    world.settled(1).await;
    let payload: Vec<u8> =
        sqlx::query_scalar("SELECT payload FROM events WHERE event_type = 'UsageRecorded'")
            .fetch_one(&world.pool)
            .await
            .unwrap();
    let recorded = proto::UsageRecorded::decode(payload.as_slice()).unwrap();
    // Re-sealed under the data key of the person and period, pseudonymized
    // for views.
    let period = hellowork_audit_log::domain::anonymize::PseudonymSecret::period_of(Utc::now());
    assert!(
        recorded
            .sealed_device
            .unwrap()
            .data_key_id
            .starts_with(&format!("auditlog/{period}/"))
    );
    assert!(
        recorded
            .device
            .unwrap()
            .ip_prefix
            .starts_with("198.51.100.")
    );
    assert!(!payload.windows(19).any(|w| w == b"sealed-device-31337"));
}

#[tokio::test]
async fn sealed_values_that_do_not_open_are_invalid_naming_the_field_and_nothing_is_written() {
    let mut world = World::start().await;
    let keys = keys(&mut world).await;
    let good = sealed_record(&keys, None);
    let with = |change: &dyn Fn(&mut HpkeSealed)| {
        let mut usage = good.clone();
        change(usage.sealed_device.as_mut().unwrap());
        usage
    };
    let mut both = good.clone();
    both.device = record(SEEKER_1, "d", "192.0.2.1", Utc::now()).device;
    let cases = [
        (
            "unknown key",
            with(&|s| s.key_id = "k-old".into()),
            "record.sealed_device.key_id",
        ),
        (
            "truncated",
            with(&|s| s.ciphertext.truncate(15)),
            "record.sealed_device.ciphertext",
        ),
        (
            "flipped bit",
            with(&|s| s.ciphertext[0] ^= 1),
            "record.sealed_device.ciphertext",
        ),
        (
            "other record",
            sealed_record(&keys, Some("another-record")),
            "record.sealed_device.ciphertext",
        ),
        (
            "format",
            with(&|s| s.format = 0),
            "record.sealed_device.format",
        ),
        ("clear and sealed", both, "record.sealed_device"),
    ];
    for (case, usage, field) in cases {
        let status = world
            .client
            .record_usage(world.req(
                proto::RecordUsageRequest {
                    record: Some(usage),
                },
                "system:front",
                Role::System,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{case}");
        assert_eq!(fields(&status), [field], "{case}");
    }
    // CheckSealedDevice answers the same for a service about to store one.
    let sealed = good.sealed_device.clone().unwrap();
    let check = |sealed: HpkeSealed, context: &str| CheckSealedDeviceRequest {
        sealed_device: Some(sealed),
        context_id: context.to_owned(),
    };
    world
        .client
        .check_sealed_device(world.req(
            check(sealed.clone(), &good.record_id),
            "system:scheduling",
            Role::System,
        ))
        .await
        .expect("it opens");
    let status = world
        .client
        .check_sealed_device(world.req(
            check(sealed.clone(), "another"),
            "system:scheduling",
            Role::System,
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["sealed_device.ciphertext"]);
    let status = world
        .client
        .check_sealed_device(world.req(check(sealed, &good.record_id), "seeker-1", Role::JobSeeker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&world.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "nothing written");
}
