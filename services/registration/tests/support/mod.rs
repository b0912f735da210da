//! Test support: domain fixtures, and the service started on the platform.
#![allow(dead_code)] // each test binary uses its own subset

pub mod domain;
pub mod privacy;
pub mod service;
