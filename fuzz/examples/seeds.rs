//! Writes the seed corpus of the fuzz targets into `fuzz/seeds/<target>/`:
//! valid event envelopes (every role, with and without causation and trace
//! context, empty and large payloads) and well-formed bearer tokens (valid
//! shape, signed by a key the fuzz verifier does not trust, and a few
//! classic attacks). Checked in; regenerate with
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds`.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};
use hellowork_auth::{Claims, MintRequest, Role, TokenIssuer};
use hellowork_eventstore::{Actor, EventMetadata, RecordedEvent, StreamId, envelope};
use hellowork_proto::events::v1 as proto;
use prost::Message;
use uuid::Uuid;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    envelopes(&root.join("envelope_decode"));
    tokens(&root.join("token_parse"));
    sealed(&root.join("sealed_open"));
    checkpoints(&root.join("checkpoint_verify"));
}

/// Checkpoints of the development log: signed, cosigned by the development
/// witness, cosigned by a stranger, and of another origin.
fn checkpoints(dir: &Path) {
    use hellowork_transparency::{
        DEFAULT_ORIGIN, checkpoint::LogKey, cosignature::WitnessKey, keys, leaf_hash,
    };
    let log = LogKey::from_note_key(keys::DEVELOPMENT_LOG_KEY).expect("the development log key");
    let witness =
        WitnessKey::from_note_key(keys::DEVELOPMENT_WITNESS_KEY).expect("the development witness");
    let (stranger, _) = keys::generate("stranger-witness", true);
    let stranger = WitnessKey::from_note_key(&stranger).expect("a generated witness key");
    let signed = log
        .sign(DEFAULT_ORIGIN, 42, leaf_hash(b"root"))
        .expect("signed")
        .note;
    let time = 1_764_633_600;
    write(dir, "signed.note", &signed);
    write(dir, "cosigned.note", &witness.cosign(&signed, time).expect("cosigned"));
    write(dir, "stranger.note", &stranger.cosign(&signed, time).expect("cosigned"));
    let other = log
        .sign("elsewhere/log", 1, leaf_hash(b"root"))
        .expect("signed")
        .note;
    write(dir, "other-origin.note", &other);
}

/// Device identifiers sealed for `booking-fuzz` to the key ring the
/// `sealed_open` target opens with, and a few near misses.
fn sealed(dir: &Path) {
    let keys = hellowork_sealing::device::OpeningKeys::from_seeds(&[hellowork_sealing::ring::RingKey {
        key_id: "fuzz".into(),
        secret: zeroize::Zeroizing::new(std::array::from_fn(|i| i as u8 + 1)),
    }])
    .expect("a key ring");
    for (i, plaintext) in [&b""[..], b"\x0a\x06device", &[7u8; 300]].iter().enumerate() {
        let sealed: hellowork_proto::sealing::v1::HpkeSealed =
            keys.public_keys().seal(plaintext, b"booking-fuzz").into();
        write(dir, &format!("valid-{i}.bin"), &sealed.encode_to_vec());
        let mut other_key = sealed.clone();
        other_key.key_id = "retired".into();
        write(dir, &format!("unknown-key-{i}.bin"), &other_key.encode_to_vec());
    }
    let other_booking: hellowork_proto::sealing::v1::HpkeSealed =
        keys.public_keys().seal(b"device", b"another-booking").into();
    write(dir, "other-booking.bin", &other_booking.encode_to_vec());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("create the seed directory");
    std::fs::write(dir.join(name), bytes).expect("write a seed");
}

fn event(role: proto::Role, payload: Vec<u8>, traced: bool) -> RecordedEvent {
    let at = DateTime::<Utc>::from_timestamp(1_765_000_000, 123_456_000).expect("a valid instant");
    RecordedEvent {
        event_id: Uuid::now_v7(),
        stream_id: StreamId::new(format!("job-seeker-{}", Uuid::now_v7())).expect("a stream id"),
        stream_version: 3,
        event_type: "OnlineServicesApplied".into(),
        schema_version: 1,
        payload,
        occurred_at: at,
        recorded_at: at,
        metadata: EventMetadata {
            correlation_id: Uuid::now_v7(),
            causation_id: traced.then(Uuid::now_v7),
            actor: Actor {
                subject: "seeker-1".into(),
                role,
            },
            traceparent: traced
                .then(|| "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            tracestate: traced.then(|| "vendor=value".into()),
        },
    }
}

fn envelopes(dir: &Path) {
    let roles = [
        proto::Role::JobSeeker,
        proto::Role::Counsellor,
        proto::Role::Supervisor,
        proto::Role::Operator,
        proto::Role::LegalOfficer,
        proto::Role::Approver,
        proto::Role::Auditor,
        proto::Role::System,
    ];
    for (i, role) in roles.into_iter().enumerate() {
        let payload = vec![0x0a, 0x03, b'a', b'b', b'c'];
        let bytes = envelope::to_envelope("registration", &event(role, payload, i % 2 == 0))
            .encode_to_vec();
        write(dir, &format!("valid-{i}.bin"), &bytes);
    }
    let empty = envelope::to_envelope("consent", &event(proto::Role::System, vec![], false));
    write(dir, "empty-payload.bin", &empty.encode_to_vec());
    let large = envelope::to_envelope(
        "auditlog",
        &event(proto::Role::System, vec![0x55; 2048], true),
    );
    write(dir, "large-payload.bin", &large.encode_to_vec());
    let mut no_actor = empty.clone();
    no_actor.actor = None;
    write(dir, "no-actor.bin", &no_actor.encode_to_vec());
    let mut far = empty;
    far.occurred_at = Some(prost_types_timestamp(i64::MAX, 999_999_999));
    write(dir, "far-future.bin", &far.encode_to_vec());
}

fn prost_types_timestamp(seconds: i64, nanos: i32) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos }
}

fn tokens(dir: &Path) {
    let issuer = TokenIssuer::generate("fuzz").expect("generate a key");
    let mint = |roles: Vec<Role>| {
        issuer
            .mint(&MintRequest {
                subject: "seeker-1".into(),
                roles,
                ttl: Duration::from_secs(600),
                issuer: "hellowork-fuzz".into(),
                audience: "hellowork".into(),
                not_before: None,
                personnel_id: None,
            })
            .expect("mint")
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let valid = mint(vec![Role::JobSeeker]);
    write(dir, "valid-shape.txt", valid.as_bytes());
    write(dir, "bearer.txt", format!("Bearer {valid}").as_bytes());
    write(dir, "all-roles.txt", mint(Role::ALL.to_vec()).as_bytes());
    let expired = issuer
        .sign(&Claims {
            iss: "hellowork-fuzz".into(),
            aud: "hellowork".into(),
            sub: "seeker-1".into(),
            roles: vec![Role::Operator],
            exp: now - 3600,
            nbf: now - 7200,
            iat: now - 7200,
            jti: Uuid::new_v4().to_string(),
            personnel_id: None,
        })
        .expect("sign");
    write(dir, "expired.txt", expired.as_bytes());
    write(
        dir,
        "alg-none.txt",
        b"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJvcGVyYXRvci0xIiwicm9sZXMiOlsib3BlcmF0b3IiXX0.",
    );
    write(
        dir,
        "hs256.txt",
        b"eyJhbGciOiJIUzI1NiIsImtpZCI6ImZ1enoifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    );
    write(
        dir,
        "crit.txt",
        b"eyJhbGciOiJFZERTQSIsImtpZCI6ImZ1enoiLCJjcml0IjpbImV4cCJdfQ.e30.AA",
    );
}
