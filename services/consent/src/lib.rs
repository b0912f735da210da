//! The consent service (`hellowork.consent.v1`): terms documents published
//! by operators, consent receipts (explicit, or deemed by applying for
//! online services), withdrawal, Art. 13 revisions with a notice to every
//! registered user, and status queries (Art. 2(1), 4, 6, 13), with their
//! Prometheus metrics ([`metrics`]).

pub mod app;
pub mod commands;
pub mod deemed_consent;
pub mod domain;
pub mod grpc;
pub mod metrics;
pub mod projections;
pub mod streams;
