//! PEM files read into what rustls takes, and what was read kept to tell
//! whether a file changed since (contents, not modification times: a
//! rotation may write files of one length within one second).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    sign::CertifiedKey,
};

use crate::{TlsError, provider};

/// The contents of a set of files as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(Vec<Vec<u8>>);

impl Snapshot {
    pub(crate) fn read(paths: &[&Path]) -> Result<Self, TlsError> {
        paths
            .iter()
            .map(|path| {
                std::fs::read(path).map_err(|source| TlsError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub(crate) fn file(&self, index: usize) -> &[u8] {
        &self.0[index]
    }
}

pub(crate) fn certificates(
    pem: &[u8],
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

pub(crate) fn roots(pem: &[u8], path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(pem, path)? {
        roots.add(cert).map_err(|source| TlsError::Roots {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(Arc::new(roots))
}

/// A certificate chain with its key, checked to belong together.
pub(crate) fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert: &Path,
    key: &Path,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = certificates(cert_pem, cert)?;
    let private = PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| match error {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::NoKey {
            path: key.to_path_buf(),
        },
        source => TlsError::Pem {
            path: key.to_path_buf(),
            source,
        },
    })?;
    let identity = |source| TlsError::Identity {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    let certified = CertifiedKey::from_der(chain, private, &provider()).map_err(identity)?;
    Ok(Arc::new(certified))
}

/// A certificate and key pair on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}
