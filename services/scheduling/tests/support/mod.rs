//! Test support: the real registration and consent services and the
//! scheduling service, all started in-process on the platform with their own
//! databases, streams and signing keys; scheduling calls the other two as
//! `system` with a token they trust.
#![allow(dead_code)] // each test binary uses its own subset

// Art. 8: registration's search for values in clear (raw, hex, base64),
// shared rather than copied; `schema_values` here is scheduling's own.
#[path = "../../../registration/tests/support/privacy.rs"]
pub mod privacy;
pub mod world;
