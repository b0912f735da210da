//! The codec of every generated server and client (set in `build.rs`):
//! protobuf through prost, exactly as `tonic_prost::ProstCodec`, except that
//! bytes which are not a message of the expected type are answered
//! INVALID_ARGUMENT with a `google.rpc.BadRequest`.
//!
//! Why: `ProstCodec` answers them INTERNAL "failed to decode Protobuf
//! message" before any handler runs. That reads as a fault of the service
//! and breaks the rule every service keeps for bad input: INVALID_ARGUMENT,
//! with field violations a client can act on (issue "Bad input").
//!
//! tonic-prost-build takes one codec path for the servers and the clients of
//! a service, so generated clients decode responses with it too: a response
//! that does not decode (a peer on an incompatible contract) reaches the
//! caller as INVALID_ARGUMENT naming the response type, where `ProstCodec`
//! gives INTERNAL. That is acceptable: our callers treat any unexpected code
//! from a peer as the peer failing (scheduling's eligibility check answers
//! UNAVAILABLE) or show it to an operator, and the violation names the
//! message type, so the mismatch is as easy to diagnose.

use std::marker::PhantomData;

use prost::{DecodeError, Message, Name};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;
use tonic_types::{ErrorDetails, StatusExt};

/// Prefix of prost's `Display` of a [`DecodeError`], before the field stack.
const PROST_PREFIX: &str = "failed to decode Protobuf message: ";

/// Encodes `T` and decodes `U` as protobuf; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct ProtoCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder(PhantomData)
    }
}

/// Decodes `U` with prost; a [`DecodeError`] becomes INVALID_ARGUMENT.
#[derive(Debug, Clone, Copy)]
pub struct ProtoDecoder<U>(PhantomData<U>);

impl<U: Message + Name + Default> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf)
            .map(Some)
            .map_err(|error| undecodable(&U::full_name(), &error))
    }
}

/// INVALID_ARGUMENT with one field violation: the field prost stopped in, as
/// a path from the top of the message (`record.device.ip_address`), or
/// `request` when it stopped on the message itself.
fn undecodable(message_type: &str, error: &DecodeError) -> Status {
    let text = error.to_string();
    let (path, cause) = located(&text);
    let field = if path.is_empty() {
        "request".to_owned()
    } else {
        path
    };
    let description = format!("not a valid {message_type} protobuf message: {cause}");
    Status::with_error_details(
        Code::InvalidArgument,
        format!("invalid request: {field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// Splits prost's `failed to decode Protobuf message: Inner.b: Outer.a:
/// cause` into the path `a.b` and the cause. prost keeps its (message,
/// field) stack private and shows it only in `Display`; text of another
/// shape gives no path, so the violation falls back to the whole message.
fn located(text: &str) -> (String, &str) {
    let mut rest = text.strip_prefix(PROST_PREFIX).unwrap_or(text);
    let mut fields = Vec::new();
    while let Some((head, tail)) = rest.split_once(": ") {
        let Some((message, field)) = head.split_once('.') else {
            break;
        };
        // A field named like a keyword is `r#type` in prost's stack.
        let field = field.strip_prefix("r#").unwrap_or(field);
        if !is_identifier(message) || !is_identifier(field) {
            break;
        }
        fields.push(field);
        rest = tail;
    }
    fields.reverse();
    (fields.join("."), rest)
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, Bytes, BytesMut};
    use http_body_util::Full;
    use tonic::codec::Streaming;

    use super::*;
    use crate::auditlog::v1::{DeviceIdentifiers, RecordUsageRequest, UsageRecord};

    /// `message` as one uncompressed gRPC frame.
    fn frame(message: &[u8]) -> Full<Bytes> {
        let mut buf = BytesMut::new();
        buf.put_u8(0);
        buf.put_u32(u32::try_from(message.len()).expect("a small message"));
        buf.put_slice(message);
        Full::new(buf.freeze())
    }

    /// What a server's decoder makes of `message`.
    async fn decode(message: &[u8]) -> Result<Option<RecordUsageRequest>, Status> {
        let mut codec = ProtoCodec::<RecordUsageRequest, RecordUsageRequest>::default();
        Streaming::new_request(codec.decoder(), frame(message), None, None)
            .message()
            .await
    }

    fn request(ip_address: &str) -> RecordUsageRequest {
        RecordUsageRequest {
            record: Some(UsageRecord {
                record_id: "r-1".into(),
                device: Some(DeviceIdentifiers {
                    ip_address: ip_address.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    }

    fn only_violation(status: &Status) -> (String, String) {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        let details = status.get_error_details();
        let violations = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations;
        assert_eq!(violations.len(), 1, "{violations:?}");
        (
            violations[0].field.clone(),
            violations[0].description.clone(),
        )
    }

    #[tokio::test]
    async fn a_valid_message_decodes() {
        let sent = request("203.0.113.7");
        let decoded = decode(&sent.encode_to_vec()).await.unwrap();
        assert_eq!(decoded, Some(sent));
    }

    #[tokio::test]
    async fn garbage_is_invalid_argument_on_the_whole_message() {
        // A key of field number 0, which no message has.
        let status = decode(&[0x00, 0x01]).await.unwrap_err();
        let (field, description) = only_violation(&status);
        assert_eq!(field, "request");
        assert!(
            description.starts_with(
                "not a valid hellowork.auditlog.v1.RecordUsageRequest protobuf message: "
            ),
            "{description}"
        );
        assert!(status.message().starts_with("invalid request: request: "));
    }

    #[tokio::test]
    async fn a_nested_failure_names_the_field_path() {
        let mut bytes = request("IPIP").encode_to_vec();
        let at = bytes
            .windows(4)
            .position(|w| w == b"IPIP")
            .expect("the address is in the encoding");
        bytes[at..at + 4].copy_from_slice(&[0xff; 4]);
        let status = decode(&bytes).await.unwrap_err();
        let (field, description) = only_violation(&status);
        assert_eq!(field, "record.device.ip_address");
        assert!(description.ends_with("not UTF-8 encoded"), "{description}");
    }

    #[test]
    fn text_of_another_shape_gives_no_path() {
        assert_eq!(
            located("buffer underflow"),
            (String::new(), "buffer underflow")
        );
        assert_eq!(
            located("failed to decode Protobuf message: A.r#type: invalid tag value: 0"),
            ("type".to_owned(), "invalid tag value: 0")
        );
        assert_eq!(
            located("failed to decode Protobuf message: not a.path: x"),
            (String::new(), "not a.path: x")
        );
    }
}
