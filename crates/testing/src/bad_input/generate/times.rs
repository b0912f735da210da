//! `google.protobuf.Timestamp` and `Duration` values: around now and the
//! instants a test named, and at and past the ends of what the types and
//! chrono represent, with nanos in and out of range.

use proptest::{option, prelude::*, sample::select};

use super::Generator;
use crate::bad_input::dynamic::{DURATION, Field, Msg, TIMESTAMP, Value};

impl Generator {
    pub(super) fn timestamp(&self) -> BoxedStrategy<Msg> {
        let now = self.now;
        let mut centres = self.hints.instants.clone();
        centres.push(now);
        let seconds = prop_oneof![
            6 => (select(centres), -400 * DAY..400 * DAY).prop_map(|(c, d)| c.saturating_add(d)),
            1 => select(vec![
                0,
                -1,
                i64::MIN,
                i64::MAX,
                -62_135_596_801, // before 0001-01-01
                -62_135_596_800,
                253_402_300_799, // 9999-12-31T23:59:59Z
                253_402_300_800,
                8_210_298_412_799, // chrono's last representable second
                8_210_298_412_800,
            ]),
            1 => any::<i64>(),
        ];
        let nanos = prop_oneof![
            6 => Just(0),
            2 => 0..1_000_000_000i32,
            1 => select(vec![-1, 999_999_999, 1_000_000_000, i32::MIN, i32::MAX]),
        ];
        (
            option::weighted(0.95, seconds),
            option::weighted(0.5, nanos),
        )
            .prop_map(|(seconds, nanos)| seconds_nanos(TIMESTAMP, seconds, nanos))
            .boxed()
    }
}

const DAY: i64 = 86_400;

fn seconds_nanos(type_name: &str, seconds: Option<i64>, nanos: Option<i32>) -> Msg {
    let mut msg = Msg::empty(type_name);
    if let Some(seconds) = seconds {
        msg.fields.push(Field {
            number: 1,
            name: "seconds".into(),
            values: vec![Value::Varint(seconds as u64)],
        });
    }
    if let Some(nanos) = nanos {
        msg.fields.push(Field {
            number: 2,
            name: "nanos".into(),
            values: vec![Value::Varint(i64::from(nanos) as u64)],
        });
    }
    msg
}

pub(super) fn duration() -> BoxedStrategy<Msg> {
    let seconds = prop_oneof![
        4 => select(vec![0i64, 1, 59, 60, 299, 300, 900, 1800, 3600, 7200, DAY]),
        1 => select(vec![-1, -3600, i64::MIN, i64::MAX, 315_576_000_001]),
        1 => any::<i64>(),
    ];
    let nanos = prop_oneof![
        6 => Just(0),
        1 => select(vec![-1, 1, 999_999_999, 1_000_000_000, i32::MIN, i32::MAX]),
    ];
    (option::weighted(0.9, seconds), option::weighted(0.3, nanos))
        .prop_map(|(seconds, nanos)| seconds_nanos(DURATION, seconds, nanos))
        .boxed()
}
