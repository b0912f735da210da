//! Protobuf messages known only by their descriptor: a value tree that
//! proptest can generate and shrink, its wire encoding, and a strict wire
//! decoder that accepts only what prost would accept for the same type.

use std::{collections::HashMap, fmt};

use prost::{
    Message as _,
    encoding::{WireType, encode_key, encode_varint},
};
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorSet,
    field_descriptor_proto::{Label, Type},
};

/// Fully qualified name of `google.protobuf.Timestamp`, as in `type_name`.
pub const TIMESTAMP: &str = ".google.protobuf.Timestamp";
/// Fully qualified name of `google.protobuf.Duration`.
pub const DURATION: &str = ".google.protobuf.Duration";

/// Deeper nesting than this is never generated and never accepted
/// (prost's own recursion limit is 100).
const MAX_DEPTH: usize = 32;

/// One field of a message type.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub number: u32,
    pub name: String,
    pub kind: Type,
    pub repeated: bool,
    /// `.pkg.Message` or `.pkg.Enum` for message and enum fields.
    pub type_name: String,
}

impl FieldInfo {
    fn packable(&self) -> bool {
        self.repeated && !matches!(self.kind, Type::String | Type::Bytes | Type::Message)
    }
}

/// The message and enum types of a descriptor set, by fully qualified name.
#[derive(Debug, Default)]
pub struct Types {
    pub messages: HashMap<String, Vec<FieldInfo>>,
    /// Enum values by enum name.
    pub enums: HashMap<String, Vec<i32>>,
}

impl Types {
    pub fn new(files: &FileDescriptorSet) -> Self {
        let mut types = Self::default();
        for file in &files.file {
            let scope = format!(".{}", file.package());
            for message in &file.message_type {
                types.add_message(&scope, message);
            }
            for enumeration in &file.enum_type {
                types.enums.insert(
                    format!("{scope}.{}", enumeration.name()),
                    enumeration.value.iter().map(|v| v.number()).collect(),
                );
            }
        }
        types
    }

    fn add_message(&mut self, scope: &str, message: &DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested);
        }
        for enumeration in &message.enum_type {
            self.enums.insert(
                format!("{name}.{}", enumeration.name()),
                enumeration.value.iter().map(|v| v.number()).collect(),
            );
        }
        let fields = message.field.iter().map(field_info).collect();
        self.messages.insert(name, fields);
    }

    pub fn fields(&self, type_name: &str) -> &[FieldInfo] {
        self.messages
            .get(type_name)
            .unwrap_or_else(|| panic!("message type {type_name} is not in the descriptor set"))
    }
}

fn field_info(field: &FieldDescriptorProto) -> FieldInfo {
    FieldInfo {
        number: u32::try_from(field.number()).expect("field numbers are positive"),
        name: field.name().to_owned(),
        kind: field.r#type(),
        repeated: field.label() == Label::Repeated,
        type_name: field.type_name().to_owned(),
    }
}

/// A message value: its type and the fields that are present, in any order
/// (a field may even appear twice; on the wire the last one wins, as
/// protobuf's merge rules say).
#[derive(Clone, PartialEq)]
pub struct Msg {
    pub type_name: String,
    pub fields: Vec<Field>,
}

/// One present field and its value(s): one for a singular field, any
/// number for a repeated one.
#[derive(Clone, PartialEq)]
pub struct Field {
    pub number: u32,
    pub name: String,
    pub values: Vec<Value>,
}

/// A field value, in the shape its wire type carries it.
#[derive(Clone, PartialEq)]
pub enum Value {
    /// int32, int64, uint32, uint64, bool, enum: the varint as sent
    /// (negative int32 and enum values sign-extended to 64 bits).
    Varint(u64),
    /// sint32, sint64 (zigzag).
    Signed(i64),
    /// fixed32, sfixed32, float.
    Fixed32(u32),
    /// fixed64, sfixed64, double.
    Fixed64(u64),
    Str(String),
    Bytes(Vec<u8>),
    Message(Msg),
}

impl Msg {
    pub fn empty(type_name: &str) -> Self {
        Self {
            type_name: type_name.to_owned(),
            fields: Vec::new(),
        }
    }

    /// The protobuf encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.encode_to(&mut buf);
        buf
    }

    fn encode_to(&self, buf: &mut Vec<u8>) {
        for field in &self.fields {
            for value in &field.values {
                value.encode(field.number, buf);
            }
        }
    }
}

impl Value {
    fn encode(&self, number: u32, buf: &mut Vec<u8>) {
        match self {
            Value::Varint(v) => {
                encode_key(number, WireType::Varint, buf);
                encode_varint(*v, buf);
            }
            Value::Signed(v) => {
                encode_key(number, WireType::Varint, buf);
                encode_varint(((v << 1) ^ (v >> 63)) as u64, buf);
            }
            Value::Fixed32(v) => {
                encode_key(number, WireType::ThirtyTwoBit, buf);
                buf.extend_from_slice(&v.to_le_bytes());
            }
            Value::Fixed64(v) => {
                encode_key(number, WireType::SixtyFourBit, buf);
                buf.extend_from_slice(&v.to_le_bytes());
            }
            Value::Str(s) => length_delimited(number, s.as_bytes(), buf),
            Value::Bytes(b) => length_delimited(number, b, buf),
            Value::Message(m) => length_delimited(number, &m.encode(), buf),
        }
    }
}

fn length_delimited(number: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encode_key(number, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

/// Why bytes are not a message of the type (prost would refuse them too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError(pub String);

/// Decodes `bytes` as a `type_name` message, as strictly as prost does (or
/// more so: groups, which prost would skip in unknown fields, are refused).
/// Unknown fields are skipped.
pub fn decode(types: &Types, type_name: &str, bytes: &[u8]) -> Result<Msg, WireError> {
    decode_at(types, type_name, bytes, 0)
}

fn decode_at(types: &Types, type_name: &str, bytes: &[u8], depth: usize) -> Result<Msg, WireError> {
    if depth > MAX_DEPTH {
        return Err(WireError("nested too deeply".into()));
    }
    let fields = types.fields(type_name);
    let mut msg = Msg::empty(type_name);
    let mut reader = Reader { bytes, at: 0 };
    while !reader.done() {
        let key = reader.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError("field number".into()))?;
        if number == 0 {
            return Err(WireError("field number 0".into()));
        }
        let wire = key & 7;
        let Some(info) = fields.iter().find(|f| f.number == number) else {
            reader.skip(wire)?;
            continue;
        };
        let values = if info.packable() && wire == 2 {
            let packed = reader.length_delimited()?;
            let mut inner = Reader {
                bytes: packed,
                at: 0,
            };
            let mut values = Vec::new();
            while !inner.done() {
                values.push(scalar(info, expected_wire(info.kind), &mut inner)?);
            }
            values
        } else {
            if wire != expected_wire(info.kind) {
                return Err(WireError(format!("wire type {wire} for {}", info.name)));
            }
            vec![match info.kind {
                Type::String => {
                    let raw = reader.length_delimited()?;
                    Value::Str(
                        String::from_utf8(raw.to_vec())
                            .map_err(|_| WireError(format!("{} is not UTF-8", info.name)))?,
                    )
                }
                Type::Bytes => Value::Bytes(reader.length_delimited()?.to_vec()),
                Type::Message => {
                    let raw = reader.length_delimited()?;
                    Value::Message(decode_at(types, &info.type_name, raw, depth + 1)?)
                }
                _ => scalar(info, wire, &mut reader)?,
            }]
        };
        match msg.fields.iter_mut().find(|f| f.number == number) {
            Some(field) if info.repeated => field.values.extend(values),
            _ => msg.fields.push(Field {
                number,
                name: info.name.clone(),
                values,
            }),
        }
    }
    Ok(msg)
}

fn expected_wire(kind: Type) -> u64 {
    match kind {
        Type::Double | Type::Fixed64 | Type::Sfixed64 => 1,
        Type::Float | Type::Fixed32 | Type::Sfixed32 => 5,
        Type::String | Type::Bytes | Type::Message | Type::Group => 2,
        _ => 0,
    }
}

fn scalar(info: &FieldInfo, wire: u64, reader: &mut Reader<'_>) -> Result<Value, WireError> {
    Ok(match wire {
        0 => {
            let v = reader.varint()?;
            if matches!(info.kind, Type::Sint32 | Type::Sint64) {
                Value::Signed(((v >> 1) as i64) ^ -((v & 1) as i64))
            } else {
                Value::Varint(v)
            }
        }
        1 => Value::Fixed64(u64::from_le_bytes(reader.take(8)?.try_into().unwrap())),
        5 => Value::Fixed32(u32::from_le_bytes(reader.take(4)?.try_into().unwrap())),
        _ => return Err(WireError(format!("wire type {wire} in {}", info.name))),
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| WireError("truncated".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// A varint as prost reads it: at most ten bytes, the tenth at most 1.
    fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = self.take(1)?[0];
            if i == 9 && byte > 1 {
                return Err(WireError("varint overflow".into()));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(WireError("varint too long".into()))
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.varint()?;
        self.take(usize::try_from(len).map_err(|_| WireError("length".into()))?)
    }

    fn skip(&mut self, wire: u64) -> Result<(), WireError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.length_delimited().map(drop),
            5 => self.take(4).map(drop),
            _ => Err(WireError(format!("wire type {wire}"))),
        }
    }
}

/// The `FileDescriptorSet` of every Hello Work proto file (and its imports).
pub fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(hellowork_proto::FILE_DESCRIPTOR_SET)
        .expect("hellowork-proto embeds a valid descriptor set")
}

// Debug output is what a failing case prints: field names, strings cut short.
impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.type_name.rsplit('.').next().unwrap_or_default();
        let mut s = f.debug_struct(short);
        for field in &self.fields {
            match field.values.as_slice() {
                [one] => s.field(&field.name, one),
                many => s.field(&field.name, &many),
            };
        }
        s.finish()
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.name, self.values)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Varint(v) if *v > i64::MAX as u64 => write!(f, "{v} (signed {})", *v as i64),
            Value::Varint(v) => write!(f, "{v}"),
            Value::Signed(v) => write!(f, "{v}"),
            Value::Fixed32(v) => write!(f, "0x{v:08x}"),
            Value::Fixed64(v) => write!(f, "0x{v:016x}"),
            Value::Str(s) if s.chars().count() > 80 => {
                let head: String = s.chars().take(40).collect();
                write!(f, "{head:?}…({} chars)", s.chars().count())
            }
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "bytes({})", b.len()),
            Value::Message(m) => m.fmt(f),
        }
    }
}
