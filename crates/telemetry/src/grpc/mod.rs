//! The gRPC side of telemetry: a tower layer for the tonic server that
//! continues the caller's trace and records request metrics, and the client
//! half that passes the trace on.

mod body;
mod call;
mod client;
mod layer;
mod method;
mod status;

pub use body::ObservedBody;
pub use call::{GRPC_SERVER_IN_FLIGHT, GRPC_SERVER_REQUEST_DURATION, GRPC_SERVER_REQUESTS};
pub use client::inject_into_metadata;
pub use layer::{GrpcTelemetry, GrpcTelemetryLayer, ResponseFuture};
