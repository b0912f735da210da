//! Whatever arrives as a sealed device blob (`HpkeSealed` from a front
//! system, or inside a scheduling event on the bus), opening it answers with
//! the identifiers or an error naming a field of the blob, never a panic;
//! what opens does so again from its re-encoded form and never for another
//! booking (the associated data binds it).
#![no_main]

use hellowork_proto::sealing::v1::HpkeSealed;
use hellowork_sealing::{device::OpeningKeys, ring::RingKey};
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// The booking the seeds are sealed for (`examples/seeds.rs`).
const BOOKING: &[u8] = b"booking-fuzz";

fn keys() -> OpeningKeys {
    OpeningKeys::from_seeds(&[RingKey {
        key_id: "fuzz".into(),
        secret: zeroize::Zeroizing::new(std::array::from_fn(|i| i as u8 + 1)),
    }])
    .expect("a key ring")
}

fuzz_target!(|data: &[u8]| {
    let Ok(sealed) = HpkeSealed::decode(data) else {
        return;
    };
    let keys = keys();
    match keys.open(&sealed.clone().into(), BOOKING) {
        Ok(plaintext) => {
            let again = HpkeSealed::decode(sealed.encode_to_vec().as_slice()).expect("re-encoded");
            let reopened = keys.open(&again.into(), BOOKING).expect("opens again");
            assert_eq!(reopened.as_slice(), plaintext.as_slice());
            assert!(keys.open(&sealed.into(), b"another-booking").is_err());
        }
        Err(error) => {
            assert!(["format", "key_id", "encapsulated_key", "ciphertext"].contains(&error.field()));
        }
    }
});
