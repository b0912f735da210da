//! One request message of a case: a structured message, or wire bytes with
//! whether prost would decode them as the request type.

use std::fmt;

use crate::bad_input::dynamic::{self, Msg};

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
