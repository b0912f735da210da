//! Who is calling: the name in the SPIFFE URI of the caller's certificate,
//! which the handshake proved the caller holds the key of.

use std::{fmt, net::SocketAddr};

use rustls::pki_types::CertificateDer;
use x509_cert::{
    Certificate,
    der::{Decode, oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME},
    ext::pkix::{SubjectAltName, name::GeneralName},
};

/// The trust domain of every Hello Work certificate's URI.
pub const SPIFFE_PREFIX: &str = "spiffe://hellowork-takamatsu/";

/// A caller proven by its certificate: `registration`, `witness`, `cli`, …
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerIdentity(String);

impl PeerIdentity {
    /// The identity in a certificate: its one SAN URI under
    /// [`SPIFFE_PREFIX`], a lowercase name. `None` for a certificate without
    /// exactly one such URI (or one that does not parse).
    pub fn from_certificate(der: &CertificateDer<'_>) -> Option<Self> {
        let cert = Certificate::from_der(der.as_ref()).ok()?;
        let extension = cert
            .tbs_certificate
            .extensions
            .as_deref()?
            .iter()
            .find(|e| e.extn_id == ID_CE_SUBJECT_ALT_NAME)?;
        let names = SubjectAltName::from_der(extension.extn_value.as_bytes()).ok()?;
        let mut ours = names.0.iter().filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => uri.as_str().strip_prefix(SPIFFE_PREFIX),
            _ => None,
        });
        let name = ours.next()?;
        if ours.next().is_some() {
            return None;
        }
        Self::new(name)
    }

    /// A name of lowercase letters, digits and dashes.
    pub fn new(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| Self(name.to_owned()))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// `spiffe://hellowork-takamatsu/<name>`.
    pub fn uri(&self) -> String {
        format!("{SPIFFE_PREFIX}{}", self.0)
    }
}

impl fmt::Display for PeerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What tonic puts into each request's extensions for a TLS connection.
#[derive(Debug, Clone)]
pub struct TlsConnectInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The caller's identity; `None` for a caller without a certificate
    /// (allowed only with [`crate::ClientAuth::Optional`]) or with one that
    /// names no Hello Work identity.
    pub peer: Option<PeerIdentity>,
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair, SanType};

    use super::*;

    fn certificate(uris: &[&str]) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        for uri in uris {
            params
                .subject_alt_names
                .push(SanType::URI((*uri).try_into().unwrap()));
        }
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn the_one_hello_work_uri_names_the_caller() {
        let cert = certificate(&["spiffe://hellowork-takamatsu/scheduling"]);
        let identity = PeerIdentity::from_certificate(&cert).unwrap();
        assert_eq!(identity.name(), "scheduling");
        // Other URIs beside ours do not matter.
        let cert = certificate(&[
            "https://example.org/x",
            "spiffe://hellowork-takamatsu/witness",
        ]);
        assert_eq!(
            PeerIdentity::from_certificate(&cert).unwrap().name(),
            "witness"
        );
    }

    #[test]
    fn no_uri_two_uris_another_domain_or_a_bad_name_name_nobody() {
        for uris in [
            &[][..],
            &["spiffe://elsewhere/scheduling"],
            &["spiffe://hellowork-takamatsu/"],
            &["spiffe://hellowork-takamatsu/Scheduling"],
            &["spiffe://hellowork-takamatsu/a/b"],
            &[
                "spiffe://hellowork-takamatsu/consent",
                "spiffe://hellowork-takamatsu/scheduling",
            ],
        ] {
            assert_eq!(
                PeerIdentity::from_certificate(&certificate(uris)),
                None,
                "{uris:?}"
            );
        }
        assert_eq!(
            PeerIdentity::from_certificate(&CertificateDer::from(vec![0x30, 0x00])),
            None
        );
    }
}
