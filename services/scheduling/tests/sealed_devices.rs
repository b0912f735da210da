//! Art. 7(2): device identifiers are sealed where they enter. Joins and
//! leaves bring them in clear (scheduling seals them to the audit-log's
//! current key before anything else touches them) or sealed by the front
//! system (stored as given); scheduling's store holds only the sealed blob,
//! which only the audit-log opens, and a blob that is forged, truncated,
//! sealed to another key or for another booking is INVALID_ARGUMENT naming
//! the field, with nothing written.

mod support;

use hellowork_audit_log::AuditLogSettings;
use hellowork_platform::{Environment, Role};
use hellowork_proto::{
    auditlog::v1::{self as auditlog, GetSealingKeysRequest},
    scheduling::v1::{self as proto, SessionJoined, SessionLeft},
    sealing::v1::{self as sealing, HpkeSealed},
};
use hellowork_sealing::{
    device::{OpeningKeys, SealingKeys},
    ring::RingKey,
};
use prost::Message;
use support::world::{World, eventually};
use tonic::Code;
use tonic_types::StatusExt;

const DEVICE_ID: &str = "front-device-ZQX4711";
const IPV4: &str = "203.0.113.199";
const IPV6: &str = "2001:db8:4711::beef";
const AGENT: &str = "DistinctiveAgent/47.11 (sealing test)";

fn device(ip: &str) -> proto::DeviceIdentifiers {
    proto::DeviceIdentifiers {
        device_id: DEVICE_ID.into(),
        ip_address: ip.into(),
        user_agent: AGENT.into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    }
}

fn plaintext(ip: &str) -> Vec<u8> {
    let d = device(ip);
    sealing::DeviceIdentifiers {
        device_id: d.device_id,
        ip_address: d.ip_address,
        user_agent: d.user_agent,
        os_name: d.os_name,
        os_version: d.os_version,
    }
    .encode_to_vec()
}

/// The audit-log's development keys, which the world's audit-log runs with.
fn audit_log_keys() -> OpeningKeys {
    AuditLogSettings::from_vars(Environment::Development, Vec::new())
        .unwrap()
        .sealing
}

async fn published_keys(world: &World) -> SealingKeys {
    let published = world
        .auditlog()
        .await
        .get_sealing_keys(world.auditlog_env.request(
            GetSealingKeysRequest {},
            "system:front",
            Role::System,
        ))
        .await
        .expect("sealing keys")
        .into_inner();
    SealingKeys::from_proto(&published.keys).expect("a usable current key")
}

fn join(
    booking: &str,
    clear: Option<proto::DeviceIdentifiers>,
    sealed: Option<HpkeSealed>,
) -> proto::JoinSessionRequest {
    proto::JoinSessionRequest {
        booking_id: booking.into(),
        device: clear,
        sealed_device: sealed,
    }
}

fn fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn clear_identifiers_are_sealed_before_they_are_stored_and_only_the_audit_log_opens_them() {
    let mut world = World::start("24h").await;
    let (seeker, booking) = world.ready_booking(1, "counsellor-1").await;
    let mut client = world.client().await;
    client
        .join_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            join(&booking, Some(device(IPV4)), None),
        ))
        .await
        .expect("joined");
    client
        .leave_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            proto::LeaveSessionRequest {
                booking_id: booking.clone(),
                device: Some(device(IPV6)),
                sealed_device: None,
            },
        ))
        .await
        .expect("left");

    let keys = audit_log_keys();
    let joined = world.stored_payloads("SessionJoined").await;
    let left = world.stored_payloads("SessionLeft").await;
    assert_eq!((joined.len(), left.len()), (1, 1));
    for payload in joined.iter().chain(&left) {
        for value in [DEVICE_ID, IPV4, IPV6, AGENT] {
            assert!(!contains(payload, value), "{value} stored in clear");
        }
    }
    let joined = SessionJoined::decode(joined[0].as_slice()).unwrap();
    let left = SessionLeft::decode(left[0].as_slice()).unwrap();
    assert!(joined.device.is_none() && left.device.is_none());
    let sealed_join = joined.sealed_device.unwrap();
    assert_eq!(sealed_join.key_id, keys.public_keys().current().key_id);
    let opened = keys
        .open(&sealed_join.clone().into(), booking.as_bytes())
        .unwrap();
    assert_eq!(opened.as_slice(), plaintext(IPV4).as_slice());
    let opened = keys
        .open(&left.sealed_device.unwrap().into(), booking.as_bytes())
        .unwrap();
    assert_eq!(opened.as_slice(), plaintext(IPV6).as_slice());
    // Bound to its booking: moved to another, it does not open.
    assert!(keys.open(&sealed_join.into(), b"another-booking").is_err());

    // The audit-log opened both on ingest and recorded them as usage,
    // re-sealed under its own key ring.
    let pool = sqlx::PgPool::connect(&world.auditlog_env.database.url)
        .await
        .unwrap();
    let recorded: Vec<Vec<u8>> = eventually("both usage records", || {
        let pool = pool.clone();
        async move {
            let rows: Vec<Vec<u8>> = sqlx::query_scalar(
                "SELECT payload FROM auditlog.events WHERE event_type = 'UsageRecorded'",
            )
            .fetch_all(&pool)
            .await
            .ok()?;
            (rows.len() == 2).then_some(rows)
        }
    })
    .await;
    for payload in &recorded {
        let usage = auditlog::UsageRecorded::decode(payload.as_slice()).unwrap();
        assert_eq!(usage.booking_id, booking);
        assert!(usage.sealed_device.is_some() && usage.device.is_some());
        for value in [DEVICE_ID, IPV4, IPV6, AGENT] {
            assert!(
                !contains(payload, value),
                "{value} in the audit-log's event"
            );
        }
    }
    pool.close().await;
}

#[tokio::test]
async fn identifiers_sealed_by_the_front_system_are_stored_as_given() {
    let mut world = World::start("24h").await;
    let (seeker, booking) = world.ready_booking(1, "counsellor-1").await;
    let sealed: HpkeSealed = published_keys(&world)
        .await
        .seal(&plaintext(IPV6), booking.as_bytes())
        .into();
    world
        .client()
        .await
        .join_session(world.request_as(
            &seeker,
            Role::JobSeeker,
            join(&booking, None, Some(sealed.clone())),
        ))
        .await
        .expect("joined with sealed identifiers");
    let stored = world.stored_payloads("SessionJoined").await;
    let joined = SessionJoined::decode(stored[0].as_slice()).unwrap();
    assert_eq!(joined.sealed_device, Some(sealed));
    assert!(joined.device.is_none());
}

#[tokio::test]
async fn forged_truncated_wrong_key_and_misbound_blobs_are_refused_naming_the_field_and_nothing_is_written()
 {
    let mut world = World::start("24h").await;
    let (seeker, booking) = world.ready_booking(1, "counsellor-1").await;
    let keys = published_keys(&world).await;
    let good: HpkeSealed = keys.seal(&plaintext(IPV4), booking.as_bytes()).into();
    // A key pair the audit-log does not hold, under the current key's id.
    let stranger = OpeningKeys::from_seeds(&[RingKey {
        key_id: keys.current().key_id.clone(),
        secret: zeroize::Zeroizing::new(std::array::from_fn(|i| 200 - i as u8)),
    }])
    .unwrap();
    let with = |change: &dyn Fn(&mut HpkeSealed)| {
        let mut sealed = good.clone();
        change(&mut sealed);
        sealed
    };
    let bad_content = keys
        .seal(
            &sealing::DeviceIdentifiers {
                device_id: DEVICE_ID.into(),
                ip_address: "not-an-address".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            booking.as_bytes(),
        )
        .into();
    let cases: Vec<(&str, proto::JoinSessionRequest, &str)> = vec![
        (
            "unknown key",
            join(
                &booking,
                None,
                Some(with(&|s| s.key_id = "retired-2019".into())),
            ),
            "sealed_device.key_id",
        ),
        (
            "truncated",
            join(&booking, None, Some(with(&|s| s.ciphertext.truncate(8)))),
            "sealed_device.ciphertext",
        ),
        (
            "flipped bit",
            join(&booking, None, Some(with(&|s| s.ciphertext[3] ^= 0x10))),
            "sealed_device.ciphertext",
        ),
        (
            "forged key share",
            join(&booking, None, Some(with(&|s| s.encapsulated_key[0] ^= 1))),
            "sealed_device.ciphertext",
        ),
        (
            "short key share",
            join(
                &booking,
                None,
                Some(with(&|s| {
                    s.encapsulated_key.pop();
                })),
            ),
            "sealed_device.encapsulated_key",
        ),
        (
            "unknown format",
            join(&booking, None, Some(with(&|s| s.format = 2))),
            "sealed_device.format",
        ),
        (
            "another key pair",
            join(
                &booking,
                None,
                Some(
                    stranger
                        .public_keys()
                        .seal(&plaintext(IPV4), booking.as_bytes())
                        .into(),
                ),
            ),
            "sealed_device.ciphertext",
        ),
        (
            "another booking",
            join(
                &booking,
                None,
                Some(keys.seal(&plaintext(IPV4), b"another-booking").into()),
            ),
            "sealed_device.ciphertext",
        ),
        (
            "not identifiers inside",
            join(&booking, None, Some(bad_content)),
            "sealed_device",
        ),
        (
            "clear and sealed",
            join(&booking, Some(device(IPV4)), Some(good.clone())),
            "sealed_device",
        ),
    ];
    let mut client = world.client().await;
    for (case, request, field) in cases {
        let status = client
            .join_session(world.request_as(&seeker, Role::JobSeeker, request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        let mut named = fields(&status);
        named.dedup();
        assert_eq!(named, [field], "{case}");
    }
    assert!(
        !world
            .stored_events()
            .await
            .contains(&"SessionJoined".to_owned())
    );
    client
        .join_session(world.request_as(&seeker, Role::JobSeeker, join(&booking, None, Some(good))))
        .await
        .expect("the good blob joins");
    assert!(
        world
            .stored_events()
            .await
            .contains(&"SessionJoined".to_owned())
    );
}
