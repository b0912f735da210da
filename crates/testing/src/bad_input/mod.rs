//! Bad input for any service (issue "Step 7 — Bad input"): every RPC of a
//! service, enumerated from its contract (the descriptor set of
//! `hellowork-proto`), called with generated requests and a valid token of a
//! role its contract allows (the `Roles:` line of the RPC's comment), and
//! with bad tokens. Whatever arrives:
//!
//! - the service answers OK (some random requests are valid), or
//!   INVALID_ARGUMENT with a `BadRequest` listing field violations, or a
//!   refusal with details: FAILED_PRECONDITION (with `ErrorInfo` and
//!   `PreconditionFailure` naming the article, or a `PreconditionFailure`
//!   of type `STATE` for a state the request does not fit), NOT_FOUND /
//!   ALREADY_EXISTS with `ResourceInfo`, PERMISSION_DENIED with `ErrorInfo`;
//!   never INTERNAL, UNKNOWN or UNAVAILABLE, never a dropped connection;
//! - a call that is not OK writes nothing: the count of the service's
//!   events is the same after it;
//! - the service still answers health afterwards.
//!
//! Bytes that are not a protobuf message of the request type (prost refuses
//! them) are sent too. The codec of `hellowork-proto` answers those before
//! any handler runs, like any other invalid input: INVALID_ARGUMENT with a
//! field violation naming the field prost stopped in.
//!
//! The one answer without details is OUT_OF_RANGE for a message over the
//! size limit ([`Outcome::TooLarge`]): tonic checks the frame's length
//! prefix against the limit before any codec sees the bytes, so no code of
//! ours can answer it otherwise.
//!
//! Cases per RPC: 64, or `PROPTEST_CASES`. A failing case is shrunk by
//! proptest and reported with its request, decoded field by field.
//!
//! - `contract`: the RPCs and their roles, from the descriptor set.
//! - `session`: the service under test, called and judged one case at a
//!   time: its answer, the events it wrote, its health.
//! - `random_requests`: generated requests against every RPC.
//! - `text_sweep`: each text field of a valid request set to nasty strings.
//! - `credentials`: bad tokens against every RPC.
//! - `report`: the outcomes counted per RPC, and the failures.
//! - `generate`, `dynamic`, `raw`, `judge`: the requests, their
//!   decoding, sending and the verdict on an answer.

mod contract;
mod credentials;
mod dynamic;
mod generate;
mod judge;
mod random_requests;
mod raw;
mod report;
mod session;
mod text_sweep;

pub use contract::{Rpc, rpcs};
pub use credentials::bad_tokens;
pub use dynamic::{Msg, Types};
pub use generate::{Generator, Hints, Payload};
pub use judge::{MAX_MESSAGE_BYTES, Outcome, judge};
pub use random_requests::every_rpc;
pub use raw::RawCodec;
pub use report::Report;
pub use session::Target;

/// Cases per RPC unless `PROPTEST_CASES` says otherwise.
pub const DEFAULT_CASES: u32 = 64;

/// A multi-threaded runtime for a bad-input test: the service runs on its
/// workers while proptest drives cases from the test thread with
/// `block_on`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}
