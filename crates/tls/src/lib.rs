//! TLS and mutual TLS for the services' gRPC (Art. 8: bearer tokens and the
//! raw identifiers of a legal disclosure, Art. 7(2), never cross the network
//! in clear).
//!
//! - [`ServerTls`]: the server's certificate chain, key and the roots its
//!   callers' certificates must chain to, re-read when the files change, so
//!   certificates rotate without a restart; [`incoming`] turns a listener
//!   into TLS connections for tonic, handshakes done concurrently.
//! - [`ClientTls`] and [`channel`]: a tonic channel that speaks TLS to its
//!   peer and presents this process's certificate, equally reloadable.
//! - [`PeerIdentity`]: the caller named by its certificate's SPIFFE URI
//!   (`spiffe://hellowork-takamatsu/<name>`), found in every request's
//!   extensions through [`TlsConnectInfo`].
//! - [`dev_pki`]: a development CA and a certificate for each process.
//!
//! rustls with the ring provider throughout; no configuration relies on a
//! process-wide default provider.

mod client;
pub mod dev_pki;
mod identity;
mod incoming;
mod material;
mod reload;
mod server;

use std::{path::PathBuf, sync::Arc};

pub use client::{ClientTls, TlsConnector, channel};
pub use identity::{PeerIdentity, SPIFFE_PREFIX, TlsConnectInfo};
pub use incoming::{TlsConnection, incoming};
pub use reload::Reload;
pub use server::{ClientAuth, ServerTls};

/// The files of one process's TLS identity and trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// The private key of the leaf (PEM, PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// The roots: the peers' certificates (servers' and callers') must chain
    /// to one of them (PEM).
    pub ca: PathBuf,
}

/// Why a TLS configuration could not be built; names the file, never its
/// content.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key")]
    NoKey { path: PathBuf },
    #[error("{path} is not valid PEM")]
    Pem {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("the roots in {path} are unusable")]
    Roots {
        path: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("the certificate {cert} and key {key} do not form a usable identity")]
    Identity {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
    #[error("cannot build the verifier of peer certificates from {path}")]
    Verifier {
        path: PathBuf,
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
}

/// The ring provider every configuration here is built with.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// gRPC runs on HTTP/2 only.
pub(crate) const ALPN_H2: &[u8] = b"h2";
