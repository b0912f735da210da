//! proptest strategies for any request message, derived from its descriptor:
//! random but structured messages (every field of its declared type, with
//! empty, huge, unicode, NUL and control-character strings, unknown enum
//! values, extreme and malformed timestamps, nested messages), mutations of
//! the valid requests a test supplies (one or two fields changed, so the
//! rest of the request gets past validation), and arbitrary wire bytes.

use std::{collections::HashMap, fmt, sync::Arc};

use hellowork_auth::Role;
use proptest::{
    collection::vec,
    option,
    prelude::*,
    sample::{Index, select},
    strategy::Union,
};
use prost::encoding::encode_varint;
use prost_types::field_descriptor_proto::Type;

use super::dynamic::{self, DURATION, Field, FieldInfo, Msg, TIMESTAMP, Types, Value};

/// Nested messages deeper than this are generated empty.
const MAX_DEPTH: usize = 4;

/// What a test knows that helps random requests reach past validation:
/// valid requests to mutate, ids of what it created, token subjects.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Values used for any string field (ids of created entities, versions
    /// in force, …).
    pub strings: Vec<String>,
    /// Values used for string fields of that name.
    pub fields: HashMap<String, Vec<String>>,
    /// Token subjects per role besides random ones (job seeker and
    /// counsellor ids), so that "only on their own records" checks pass
    /// often enough to reach what lies behind them.
    pub subjects: HashMap<Role, Vec<String>>,
    /// Instants (Unix seconds) timestamps cluster around besides now.
    pub instants: Vec<i64>,
    /// Valid requests per RPC method name, encoded.
    pub seeds: HashMap<String, Vec<Vec<u8>>>,
}

impl Hints {
    /// `request` is a valid request of `method`: cases mutate it.
    pub fn seed(&mut self, method: &str, request: &impl prost::Message) -> &mut Self {
        self.seeds
            .entry(method.to_owned())
            .or_default()
            .push(request.encode_to_vec());
        self
    }

    /// A value for any string field.
    pub fn string(&mut self, value: impl Into<String>) -> &mut Self {
        self.strings.push(value.into());
        self
    }

    /// A value for string fields named `field`.
    pub fn field(&mut self, field: &str, value: impl Into<String>) -> &mut Self {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(value.into());
        self
    }

    /// A token subject for `role`; also a value for any string field.
    pub fn subject(&mut self, role: Role, subject: impl Into<String>) -> &mut Self {
        let subject = subject.into();
        self.strings.push(subject.clone());
        self.subjects.entry(role).or_default().push(subject);
        self
    }

    pub fn instant(&mut self, unix_seconds: i64) -> &mut Self {
        self.instants.push(unix_seconds);
        self
    }
}

/// Bytes sent as they are, whether or not they are a valid message.
#[derive(Clone)]
pub struct Wire {
    pub bytes: Vec<u8>,
    /// `Ok` when prost would decode them as the request type.
    pub decoded: Result<Msg, dynamic::WireError>,
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: String = self.bytes.iter().map(|b| format!("{b:02x}")).collect();
        match &self.decoded {
            Ok(msg) => write!(f, "Wire({hex} = {msg:?})"),
            Err(e) => write!(f, "Wire({hex}, not a message: {})", e.0),
        }
    }
}

/// One request message of a case.
#[derive(Clone)]
pub enum Payload {
    /// A structured message (always valid protobuf).
    Message(Msg),
    /// Raw bytes.
    Wire(Wire),
}

impl Payload {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Message(msg) => msg.encode(),
            Payload::Wire(wire) => wire.bytes.clone(),
        }
    }

    /// Whether prost decodes it as the request type.
    pub fn decodes(&self) -> bool {
        match self {
            Payload::Message(_) => true,
            Payload::Wire(wire) => wire.decoded.is_ok(),
        }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Message(msg) => msg.fmt(f),
            Payload::Wire(wire) => wire.fmt(f),
        }
    }
}

/// Builds strategies for the message types of one descriptor set.
#[derive(Debug, Clone)]
pub struct Generator {
    types: Arc<Types>,
    hints: Arc<Hints>,
    now: i64,
}

impl Generator {
    pub fn new(types: Arc<Types>, hints: Arc<Hints>) -> Self {
        Self {
            types,
            hints,
            now: chrono::Utc::now().timestamp(),
        }
    }

    /// Requests of `type_name` for `method`: mutated seeds, random
    /// messages, the seeds themselves and raw wire bytes.
    pub fn payload(&self, method: &str, type_name: &str) -> BoxedStrategy<Payload> {
        let seeds: Vec<Msg> = self
            .hints
            .seeds
            .get(method)
            .into_iter()
            .flatten()
            .map(|bytes| {
                dynamic::decode(&self.types, type_name, bytes)
                    .unwrap_or_else(|e| panic!("the seed of {method} is not a {type_name}: {e:?}"))
            })
            .collect();
        let mut arms: Vec<(u32, BoxedStrategy<Payload>)> = vec![
            (
                3,
                self.message(type_name, 0)
                    .prop_map(Payload::Message)
                    .boxed(),
            ),
            (
                2,
                self.wire(type_name, &seeds).prop_map(Payload::Wire).boxed(),
            ),
        ];
        if !seeds.is_empty() {
            let mutations: Vec<_> = seeds.iter().map(|seed| self.mutate(seed, 0)).collect();
            arms.push((6, Union::new(mutations).prop_map(Payload::Message).boxed()));
            arms.push((1, select(seeds).prop_map(Payload::Message).boxed()));
        }
        Union::new_weighted(arms).boxed()
    }

    /// A random message of `type_name`.
    pub fn message(&self, type_name: &str, depth: usize) -> BoxedStrategy<Msg> {
        match type_name {
            TIMESTAMP => return self.timestamp(),
            DURATION => return duration(),
            _ => {}
        }
        let name = type_name.to_owned();
        if depth >= MAX_DEPTH {
            return Just(Msg::empty(&name)).boxed();
        }
        let fields: Vec<BoxedStrategy<Option<Field>>> = self
            .types
            .fields(type_name)
            .iter()
            .map(|info| option::weighted(0.7, self.field(info, depth)).boxed())
            .collect();
        fields
            .prop_map(move |fields| Msg {
                type_name: name.clone(),
                fields: fields.into_iter().flatten().collect(),
            })
            .boxed()
    }

    /// `seed` with a few of its fields (at any depth) replaced by random
    /// values, dropped or added.
    fn mutate(&self, seed: &Msg, depth: usize) -> BoxedStrategy<Msg> {
        if matches!(seed.type_name.as_str(), TIMESTAMP | DURATION) {
            return prop_oneof![4 => Just(seed.clone()), 1 => self.message(&seed.type_name, depth)]
                .boxed();
        }
        let fields: Vec<BoxedStrategy<Option<Field>>> = self
            .types
            .fields(&seed.type_name)
            .iter()
            .map(|info| {
                let random = self.field(info, depth).prop_map(Some);
                match seed.fields.iter().find(|f| f.number == info.number) {
                    Some(present) => {
                        let mut arms: Vec<(u32, BoxedStrategy<Option<Field>>)> = vec![
                            (16, Just(Some(present.clone())).boxed()),
                            (2, random.boxed()),
                            (1, Just(None).boxed()),
                        ];
                        if let (false, [Value::Message(nested)]) =
                            (info.repeated, present.values.as_slice())
                        {
                            let field = present.clone();
                            arms.push((
                                3,
                                self.mutate(nested, depth + 1)
                                    .prop_map(move |m| {
                                        Some(Field {
                                            values: vec![Value::Message(m)],
                                            ..field.clone()
                                        })
                                    })
                                    .boxed(),
                            ));
                        }
                        Union::new_weighted(arms).boxed()
                    }
                    None => prop_oneof![12 => Just(None), 1 => random].boxed(),
                }
            })
            .collect();
        let name = seed.type_name.clone();
        fields
            .prop_map(move |fields| Msg {
                type_name: name.clone(),
                fields: fields.into_iter().flatten().collect(),
            })
            .boxed()
    }

    fn field(&self, info: &FieldInfo, depth: usize) -> BoxedStrategy<Field> {
        let value = self.value(info, depth);
        let (number, name) = (info.number, info.name.clone());
        let values = if info.repeated {
            prop_oneof![9 => vec(value.clone(), 0..4), 1 => vec(value, 20..110)].boxed()
        } else {
            value.prop_map(|v| vec![v]).boxed()
        };
        values
            .prop_map(move |values| Field {
                number,
                name: name.clone(),
                values,
            })
            .boxed()
    }

    fn value(&self, info: &FieldInfo, depth: usize) -> BoxedStrategy<Value> {
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

    /// Strings for a field named `field`.
    pub fn string(&self, field: &str) -> BoxedStrategy<String> {
        let mut known = self.hints.strings.clone();
        known.extend(self.hints.fields.get(field).into_iter().flatten().cloned());
        let mut arms: Vec<(u32, BoxedStrategy<String>)> = vec![
            (2, Just(String::new()).boxed()),
            (
                3,
                any::<u128>()
                    .prop_map(|n| uuid::Uuid::from_u128(n).to_string())
                    .boxed(),
            ),
            (1, Just(uuid::Uuid::now_v7().to_string()).boxed()),
            (3, select(TRICKY).prop_map(str::to_owned).boxed()),
            (2, "[ -~]{0,24}".boxed()),
            (2, "\\PC{0,24}".boxed()),
            (
                1,
                vec(any::<char>(), 0..24)
                    .prop_map(String::from_iter)
                    .boxed(),
            ),
            (
                1,
                (
                    select(vec!['a', 'あ', '0', ' ', '\0', '🦀', '\u{0301}']),
                    1_000..50_000usize,
                )
                    .prop_map(|(c, n)| std::iter::repeat_n(c, n).collect())
                    .boxed(),
            ),
            (
                1,
                ("[a-z0-9-]{0,12}", "[a-z0-9-]{0,12}")
                    .prop_map(|(a, b)| format!("{a}\0{b}"))
                    .boxed(),
            ),
        ];
        if !known.is_empty() {
            arms.push((6, select(known.clone()).boxed()));
            // Known values, slightly off: padded, cased, cut, extended.
            arms.push((
                2,
                (select(known), 0..5u8)
                    .prop_map(|(value, how)| match how {
                        0 => format!(" {value} "),
                        1 => value.to_uppercase(),
                        2 => value.chars().skip(1).collect(),
                        3 => format!("{value}x"),
                        _ => format!("{value}\u{3000}"),
                    })
                    .boxed(),
            ));
        }
        Union::new_weighted(arms).boxed()
    }

    fn timestamp(&self) -> BoxedStrategy<Msg> {
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

    /// Raw bytes: random, or a seed with bytes changed, cut short, or with
    /// a field of any number and wire type appended.
    fn wire(&self, type_name: &str, seeds: &[Msg]) -> BoxedStrategy<Wire> {
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

fn duration() -> BoxedStrategy<Msg> {
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

/// Strings that have broken parsers before.
const TRICKY: &[&str] = &[
    " ",
    "\t\n",
    "\u{3000}",
    "\u{feff}",
    "\u{202e}abc",
    "a\u{0301}",
    "🦀",
    "\u{10ffff}",
    "ｱｲｳ",
    "Ｔａｒｏ",
    "山田\0太郎",
    "\0",
    "\u{7f}",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999",
    "null",
    "' OR 1=1 --",
    "%s%n",
    "../../etc/passwd",
    "<script>",
    "*",
    ".",
    "|",
    "1700000000.0|x",
    "ja",
    "en",
    "ja-JP",
    "und",
    "x-",
    "2023-12-18",
    "2023-02-30",
    "9999-12-31",
    "0000-00-00",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "{01234567-89ab-cdef-0123-456789abcdef}",
    "urn:uuid:01234567-89ab-cdef-0123-456789abcdef",
    "0123456789abcdef0123456789abcdef",
    "a@example.com",
    "@",
    "a@",
    "+81-87-811-8609",
    "+",
    "127.0.0.1",
    "::1",
    "256.1.1.1",
    "203.0.113.7",
    "2001:db8::1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0 Safari/537.36",
    "Windows",
    "11 23H2",
    "GET",
    "system:scheduling",
];
