//! Test support: the real registration and consent services and the
//! scheduling service, all started in-process on the platform with their own
//! databases, streams and signing keys; scheduling calls the other two as
//! `system` with a token they trust.
#![allow(dead_code)] // each test binary uses its own subset

pub mod world;
