//! The development PKI: a CA and, for each process, a certificate good for
//! both serving and calling, under one directory (`hellowork up` uses
//! `.data/up/pki`; docker-compose fills a shared volume with
//! `hellowork dev-certs`). Files: `ca.pem`, `ca-key.pem`, `<name>.pem`,
//! `<name>-key.pem` (keys 0600).
//!
//! Each certificate names its process by the SAN URI
//! `spiffe://hellowork-takamatsu/<name>` (what the callee checks) and by the
//! DNS names `localhost` and `<name>` and the IP 127.0.0.1, so the same files
//! serve on loopback and under the compose service names. Every host name
//! here is one any of these processes could answer for: this is a
//! development PKI, never production's.
//!
//! [`DevPki::ensure`] is idempotent: files that are still valid for longer
//! than [`RENEW_BEFORE`] are kept, anything missing, expiring, unreadable or
//! not issued by the CA on disk is issued anew (a new CA reissues every
//! certificate).

use std::{
    io::Write,
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::{
    client::{WebPkiServerVerifier, danger::ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime},
    server::WebPkiClientVerifier,
};

use crate::{SPIFFE_PREFIX, TlsFiles, material, provider};

/// The processes of the stack that get a certificate: the four services, the
/// witness, the NATS server (serving only), the `hellowork` command and the
/// office's front system, which `hellowork demo` plays (calling only).
pub const NAMES: [&str; 8] = [
    "registration",
    "consent",
    "scheduling",
    "auditlog",
    "witness",
    "nats",
    "cli",
    "front",
];

/// How long the development CA is valid.
pub const CA_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// How long a process's certificate is valid.
pub const LEAF_VALIDITY: Duration = Duration::from_secs(90 * 24 * 3600);
/// A file that expires sooner is issued anew.
pub const RENEW_BEFORE: Duration = Duration::from_secs(14 * 24 * 3600);
/// Tolerated clock difference between the machine issuing and the ones
/// checking (containers).
const BACKDATE: Duration = Duration::from_secs(3600);

const CA_NAME: &str = "Hello Work Takamatsu development CA";
const ORGANIZATION: &str = "Hello Work Takamatsu (development)";

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot generate a certificate for {name}")]
    Generate {
        name: String,
        #[source]
        source: rcgen::Error,
    },
    #[error("{0:?} is not a certificate name (lowercase letters, digits, dashes)")]
    Name(String),
}

/// The development PKI in a directory.
#[derive(Debug, Clone)]
pub struct DevPki {
    dir: PathBuf,
}

impl DevPki {
    /// Makes sure `dir` holds a valid CA and a valid certificate for each of
    /// `names`, keeping what is still valid.
    pub fn ensure(dir: &Path, names: &[&str]) -> Result<Self, PkiError> {
        for name in names {
            if crate::PeerIdentity::new(name).is_none() {
                return Err(PkiError::Name((*name).to_owned()));
            }
        }
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let pki = Self {
            dir: dir.to_path_buf(),
        };
        let (ca_key, renewed) = match pki.valid_ca_key() {
            Some(key) => (key, false),
            None => (pki.issue_ca()?, true),
        };
        for name in names {
            if renewed || !pki.leaf_is_valid(name) {
                pki.issue_leaf(name, &ca_key)?;
            }
        }
        Ok(pki)
    }

    /// `ca.pem`: the roots every process trusts.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }

    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}-key.pem"))
    }

    /// The certificate, key and CA of `name`.
    pub fn files(&self, name: &str) -> TlsFiles {
        TlsFiles {
            cert: self.cert(name),
            key: self.key(name),
            ca: self.ca(),
        }
    }

    /// Issues `name` a new certificate and key, valid or not (a rotation).
    pub fn reissue(&self, name: &str) -> Result<(), PkiError> {
        let Some(ca_key) = self.valid_ca_key() else {
            return Self::ensure(&self.dir, &[name]).map(|_| ());
        };
        self.issue_leaf(name, &ca_key)
    }

    fn ca_key_path(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }

    /// The CA's key, if the CA on disk is readable, matches it and stays
    /// valid beyond the renewal margin.
    fn valid_ca_key(&self) -> Option<KeyPair> {
        let key = KeyPair::from_pem(&std::fs::read_to_string(self.ca_key_path()).ok()?).ok()?;
        let cert = std::fs::read(self.ca()).ok()?;
        let cert = material::certificates(&cert, &self.ca())
            .ok()?
            .into_iter()
            .next()?;
        // The CA verifies as the issuer of a probe signed with the key on
        // disk, over the renewal margin: key and certificate belong together
        // and stay valid long enough.
        let probe = leaf_params("probe").ok()?;
        let probe_key = KeyPair::generate().ok()?;
        let probe = probe
            .signed_by(&probe_key, &Issuer::new(ca_params(), &key))
            .ok()?;
        verify_leaf(&cert, probe.der(), "probe").then_some(key)
    }

    fn leaf_is_valid(&self, name: &str) -> bool {
        let read = || {
            let ca = std::fs::read(self.ca()).ok()?;
            let ca = material::certificates(&ca, &self.ca())
                .ok()?
                .into_iter()
                .next()?;
            let cert_pem = std::fs::read(self.cert(name)).ok()?;
            let key_pem = std::fs::read(self.key(name)).ok()?;
            material::certified_key(&cert_pem, &key_pem, &self.cert(name), &self.key(name)).ok()?;
            let leaf = material::certificates(&cert_pem, &self.cert(name))
                .ok()?
                .into_iter()
                .next()?;
            Some(verify_leaf(&ca, &leaf, name))
        };
        read().unwrap_or(false)
    }

    fn issue_ca(&self) -> Result<KeyPair, PkiError> {
        let generate = |source| PkiError::Generate {
            name: "ca".to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(generate)?;
        let mut params = ca_params();
        (params.not_before, params.not_after) = validity(CA_VALIDITY);
        let cert = params.self_signed(&key).map_err(generate)?;
        write_private(&self.ca_key_path(), key.serialize_pem().as_bytes())?;
        write_public(&self.ca(), cert.pem().as_bytes())?;
        Ok(key)
    }

    fn issue_leaf(&self, name: &str, ca_key: &KeyPair) -> Result<(), PkiError> {
        let generate = |source| PkiError::Generate {
            name: name.to_owned(),
            source,
        };
        let key = KeyPair::generate().map_err(generate)?;
        let mut params = leaf_params(name).map_err(generate)?;
        (params.not_before, params.not_after) = validity(LEAF_VALIDITY);
        let cert = params
            .signed_by(&key, &Issuer::new(ca_params(), ca_key))
            .map_err(generate)?;
        // The key first: a server reloading between the two writes sees a
        // certificate and key that do not match, refuses them and keeps its
        // previous pair until the next reload.
        write_private(&self.key(name), key.serialize_pem().as_bytes())?;
        write_public(&self.cert(name), cert.pem().as_bytes())
    }
}

/// The CA's name and usages; the same every time, so a CA read back from
/// disk signs exactly as the one that was generated.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(name);
    params.subject_alt_names = vec![
        SanType::URI(format!("{SPIFFE_PREFIX}{name}").try_into()?),
        SanType::DnsName("localhost".try_into()?),
        SanType::DnsName(name.try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, ORGANIZATION);
    name.push(DnType::CommonName, common_name);
    name
}

fn validity(length: Duration) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (now - BACKDATE, now + length)
}

/// `leaf` chains to `ca`, serves as `localhost` and as `name`, calls as a
/// client, and names `name` — all of it still so after the renewal margin.
fn verify_leaf(ca: &CertificateDer<'static>, leaf: &CertificateDer<'_>, name: &str) -> bool {
    let mut roots = rustls::RootCertStore::empty();
    if roots.add(ca.clone()).is_err() {
        return false;
    }
    let roots = Arc::new(roots);
    let Ok(server) = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider()).build()
    else {
        return false;
    };
    let Ok(client) = WebPkiClientVerifier::builder_with_provider(roots, provider()).build() else {
        return false;
    };
    let later = UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            + RENEW_BEFORE,
    );
    let serves = |host: &str| {
        ServerName::try_from(host.to_owned()).is_ok_and(|host| {
            server
                .verify_server_cert(leaf, &[], &host, &[], later)
                .is_ok()
        })
    };
    let named = crate::PeerIdentity::from_certificate(leaf).is_some_and(|id| id.name() == name);
    named
        && serves("localhost")
        && serves(name)
        && client.verify_client_cert(leaf, &[], later).is_ok()
}

fn write_public(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    write_replacing(path, contents, 0o644)
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    write_replacing(path, contents, 0o600)
}

/// Written beside and renamed over, so a reader sees the old file or the new
/// one, never half of one.
fn write_replacing(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let error = |source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    };
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temporary).map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(error)
}
