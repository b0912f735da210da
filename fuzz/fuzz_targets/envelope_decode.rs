//! Whatever arrives on a NATS subject, `envelope::decode` answers with an
//! event or an error, never a panic; and an event it accepts survives
//! re-encoding unchanged (what a consumer decodes is what the relay would
//! have published).
#![no_main]

use hellowork_eventstore::envelope;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = envelope::decode(data) else {
        return;
    };
    let service = hellowork_proto::events::v1::EventEnvelope::decode(data)
        .map(|e| e.service)
        .unwrap_or_default();
    let again = envelope::to_envelope(&service, &event).encode_to_vec();
    assert_eq!(envelope::decode(&again).as_ref(), Ok(&event));
});
