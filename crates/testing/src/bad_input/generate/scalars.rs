//! A random value of a field's declared type: nested messages, enum
//! numbers known and unknown, booleans beyond 0 and 1, integers at and past
//! their edges, and the special floating-point values.

use proptest::{collection::vec, prelude::*, sample::select};
use prost_types::field_descriptor_proto::Type;

use super::Generator;
use crate::bad_input::dynamic::{FieldInfo, Value};

impl Generator {
    pub(super) fn value(&self, info: &FieldInfo, depth: usize) -> BoxedStrategy<Value> {
        match info.kind {
            Type::String => self.string(&info.name).prop_map(Value::Str).boxed(),
            Type::Bytes => prop_oneof![
                4 => vec(any::<u8>(), 0..64),
                1 => vec(any::<u8>(), 1000..20_000),
            ]
            .prop_map(Value::Bytes)
            .boxed(),
            Type::Message => self
                .message(&info.type_name, depth + 1)
                .prop_map(Value::Message)
                .boxed(),
            Type::Enum => {
                let known = self
                    .types
                    .enums
                    .get(&info.type_name)
                    .cloned()
                    .unwrap_or_else(|| vec![0]);
                let max = known.iter().copied().max().unwrap_or(0);
                prop_oneof![
                    6 => select(known),
                    1 => select(vec![-1, i32::MIN, i32::MAX, max + 1, max + 100]),
                    1 => any::<i32>(),
                ]
                .prop_map(|v| Value::Varint(i64::from(v) as u64))
                .boxed()
            }
            Type::Bool => prop_oneof![
                8 => any::<bool>().prop_map(u64::from),
                1 => select(vec![2, u64::MAX]),
            ]
            .prop_map(Value::Varint)
            .boxed(),
            Type::Int32 => int32()
                .prop_map(|v| Value::Varint(i64::from(v) as u64))
                .boxed(),
            Type::Sint32 => int32().prop_map(|v| Value::Signed(i64::from(v))).boxed(),
            Type::Sfixed32 => int32().prop_map(|v| Value::Fixed32(v as u32)).boxed(),
            Type::Uint32 => uint32().prop_map(|v| Value::Varint(u64::from(v))).boxed(),
            Type::Fixed32 => uint32().prop_map(Value::Fixed32).boxed(),
            Type::Int64 => int64().prop_map(|v| Value::Varint(v as u64)).boxed(),
            Type::Sint64 => int64().prop_map(Value::Signed).boxed(),
            Type::Sfixed64 => int64().prop_map(|v| Value::Fixed64(v as u64)).boxed(),
            Type::Uint64 => int64().prop_map(|v| Value::Varint(v as u64)).boxed(),
            Type::Fixed64 => int64().prop_map(|v| Value::Fixed64(v as u64)).boxed(),
            Type::Float => prop_oneof![
                select(vec![
                    0.0f32,
                    -0.0,
                    1.0,
                    -1.0,
                    f32::NAN,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::MAX,
                    f32::MIN_POSITIVE
                ]),
                any::<f32>(),
            ]
            .prop_map(|v| Value::Fixed32(v.to_bits()))
            .boxed(),
            Type::Double => prop_oneof![
                select(vec![
                    0.0f64,
                    -0.0,
                    1.0,
                    -1.0,
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::MAX,
                    f64::MIN_POSITIVE
                ]),
                any::<f64>(),
            ]
            .prop_map(|v| Value::Fixed64(v.to_bits()))
            .boxed(),
            Type::Group => Just(Value::Bytes(Vec::new())).boxed(),
        }
    }
}

fn int32() -> BoxedStrategy<i32> {
    prop_oneof![
        2 => select(vec![0, 1, -1, 2, 12, 13, 29, 31, 32, 50, 500, 501, 1900, 1990, 2023, 2100, 10_000, i32::MIN, i32::MAX]),
        2 => -5..40i32,
        1 => any::<i32>(),
    ]
    .boxed()
}

fn uint32() -> BoxedStrategy<u32> {
    prop_oneof![
        2 => select(vec![0, 1, 2, 5, 10, 50, 500, 501, u32::MAX, 1 << 31]),
        2 => 0..40u32,
        1 => any::<u32>(),
    ]
    .boxed()
}

fn int64() -> BoxedStrategy<i64> {
    prop_oneof![
        2 => select(vec![0, 1, -1, 2, i64::from(i32::MAX) + 1, i64::MIN, i64::MAX]),
        2 => -5..40i64,
        1 => any::<i64>(),
    ]
    .boxed()
}
