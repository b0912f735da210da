//! Raw wire bytes for a request: random, or a seed with bytes changed, cut
//! short, extended, or with a field of any number and wire type appended.

use proptest::{collection::vec, prelude::*, sample::Index, sample::select};
use prost::encoding::encode_varint;

use super::{Generator, Wire};
use crate::bad_input::dynamic::{self, Msg};

impl Generator {
    /// Raw bytes: random, or a seed with bytes changed, cut short, or with
    /// a field of any number and wire type appended.
    pub(super) fn wire(&self, type_name: &str, seeds: &[Msg]) -> BoxedStrategy<Wire> {
        let mut encoded: Vec<Vec<u8>> = seeds.iter().map(Msg::encode).collect();
        if encoded.is_empty() {
            encoded.push(Vec::new());
        }
        let bytes = prop_oneof![
            vec(any::<u8>(), 0..96),
            (
                select(encoded.clone()),
                vec((any::<Index>(), any::<u8>()), 1..4)
            )
                .prop_map(|(mut bytes, flips)| {
                    if !bytes.is_empty() {
                        for (at, byte) in flips {
                            let i = at.index(bytes.len());
                            bytes[i] = byte;
                        }
                    }
                    bytes
                }),
            (select(encoded.clone()), any::<Index>()).prop_map(|(mut bytes, at)| {
                bytes.truncate(at.index(bytes.len() + 1));
                bytes
            }),
            (
                select(encoded.clone()),
                1u32..(1 << 29),
                0..6u8,
                vec(any::<u8>(), 0..12)
            )
                .prop_map(|(mut bytes, number, wire, body)| {
                    append_field(&mut bytes, number, wire, &body);
                    bytes
                }),
            (select(encoded), vec(any::<u8>(), 1..16)).prop_map(|(mut bytes, tail)| {
                bytes.extend(tail);
                bytes
            }),
        ];
        let types = self.types.clone();
        let name = type_name.to_owned();
        bytes
            .prop_map(move |bytes| Wire {
                decoded: dynamic::decode(&types, &name, &bytes),
                bytes,
            })
            .boxed()
    }
}

fn append_field(bytes: &mut Vec<u8>, number: u32, wire: u8, body: &[u8]) {
    let key = (u64::from(number) << 3) | u64::from(wire & 7);
    encode_varint(key, bytes);
    match wire {
        0 => encode_varint(
            body.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)),
            bytes,
        ),
        1 => bytes.extend(body.iter().copied().chain(std::iter::repeat(0)).take(8)),
        2 => {
            encode_varint(body.len() as u64, bytes);
            bytes.extend_from_slice(body);
        }
        5 => bytes.extend(body.iter().copied().chain(std::iter::repeat(0)).take(4)),
        // Groups and invalid wire types: whatever follows.
        _ => bytes.extend_from_slice(body),
    }
}
