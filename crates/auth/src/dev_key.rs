//! The local development signing key: generated on first use into a
//! directory outside version control (e.g. `.data/dev-keys/`), readable by its
//! owner only, reused afterwards, and refused outright in production, where
//! tokens come from the office's real identity provider. Unix only: the file
//! modes are part of the contract.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use zeroize::Zeroizing;

use crate::issuer::{MintError, MintRequest, TokenIssuer};
use crate::keys::{self, KeyError, PublicKey};

/// The environment name in which the development key is refused.
pub const PRODUCTION: &str = "production";

/// How every development key's id begins (`dev-<thumbprint>`): production
/// refuses a token naming such a key before any peer has to.
pub const DEV_KID_PREFIX: &str = "dev-";

/// Whether `kid` names a development key ([`DEV_KID_PREFIX`]).
pub fn is_development_kid(kid: &str) -> bool {
    kid.starts_with(DEV_KID_PREFIX)
}

/// The name of the PKCS#8 PEM file the key is kept in.
pub const DEV_KEY_FILE: &str = "dev-signing-key.pem";

/// The development key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    /// The environment is production.
    #[error("the development signing key is refused in production")]
    RefusedInProduction,
    /// Reading or writing the key file failed.
    #[error("cannot access development key path {path}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The key file does not hold a usable key.
    #[error("unusable development key in {path}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: KeyError,
    },
}

/// The development signing key and the issuer that mints with it.
#[derive(Debug, Clone)]
pub struct DevKey {
    path: PathBuf,
    issuer: TokenIssuer,
}

impl DevKey {
    /// Loads the key from `dir`/[`DEV_KEY_FILE`], or generates it there (mode
    /// 0600, in a directory created with mode 0700) when absent. Several
    /// processes may race to generate it: exactly one key is kept, and all of
    /// them use it.
    ///
    /// Refused with [`DevKeyError::RefusedInProduction`] when `environment` is
    /// `production` (any case, surrounding spaces ignored).
    pub fn load_or_generate(dir: &Path, environment: &str) -> Result<Self, DevKeyError> {
        if environment.trim().eq_ignore_ascii_case(PRODUCTION) {
            return Err(DevKeyError::RefusedInProduction);
        }
        let path = dir.join(DEV_KEY_FILE);
        let pem = match read_key_file(&path)? {
            Some(pem) => pem,
            None => generate_key_file(dir, &path)?,
        };
        let issuer = dev_issuer(&pem).map_err(|source| DevKeyError::Key {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, issuer })
    }

    /// The public key of the development key kept in `dir`, if one was
    /// generated there; never generates one. Production reads it only to
    /// refuse a configured trusted key with the same bytes: tokens signed by
    /// this machine's development key must not be trusted there.
    pub fn existing_public_key(dir: &Path) -> Result<Option<PublicKey>, DevKeyError> {
        let path = dir.join(DEV_KEY_FILE);
        let Some(pem) = read_key_file(&path)? else {
            return Ok(None);
        };
        let issuer = dev_issuer(&pem).map_err(|source| DevKeyError::Key { path, source })?;
        Ok(Some(issuer.public_key().clone()))
    }

    /// The key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key id: `dev-` and the RFC 7638 thumbprint of the public key, so it
    /// stays the same for as long as the key file does.
    pub fn kid(&self) -> &str {
        self.issuer.kid()
    }

    /// The public key services must trust to accept development tokens
    /// ([`PublicKey::to_pem`] for configuration).
    pub fn public_key(&self) -> &PublicKey {
        self.issuer.public_key()
    }

    /// The issuer signing with this key, e.g. for
    /// [`TokenIssuer::trusted_key`].
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// Mints a token signed with the development key; see [`TokenIssuer::mint`].
    pub fn mint(&self, request: &MintRequest) -> Result<String, MintError> {
        self.issuer.mint(request)
    }
}

/// The issuer for a PKCS#8 PEM key, named `dev-<thumbprint>`.
fn dev_issuer(pem: &str) -> Result<TokenIssuer, KeyError> {
    let key = keys::signing_key_from_pem(pem)?;
    let public_key = PublicKey::from_verifying_key(key.verifying_key())?;
    TokenIssuer::from_signing_key(format!("{DEV_KID_PREFIX}{}", public_key.thumbprint()), &key)
}

fn read_key_file(path: &Path) -> Result<Option<Zeroizing<String>>, DevKeyError> {
    match fs::read_to_string(path) {
        Ok(pem) => Ok(Some(Zeroizing::new(pem))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io_error(path, source)),
    }
}

/// Writes a new key to a private temporary file, then links it into place
/// only if no key is there yet; returns whichever key ended up in place.
fn generate_key_file(dir: &Path, path: &Path) -> Result<Zeroizing<String>, DevKeyError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| io_error(dir, source))?;
    let key_error = |source| DevKeyError::Key {
        path: path.to_path_buf(),
        source,
    };
    let key = keys::generate_signing_key().map_err(key_error)?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| key_error(KeyError::Encoding))?;

    let temporary = dir.join(format!(".{DEV_KEY_FILE}.{}.tmp", uuid::Uuid::new_v4()));
    let written = write_private_file(&temporary, pem.as_bytes())
        .and_then(|()| fs::hard_link(&temporary, path));
    // The temporary name is only a staging point; losing it changes nothing.
    let _ = fs::remove_file(&temporary);
    match written {
        Ok(()) => Ok(pem),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            let winner = read_key_file(path)?;
            winner.ok_or_else(|| io_error(path, io::ErrorKind::NotFound.into()))
        }
        Err(source) => Err(io_error(path, source)),
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn io_error(path: &Path, source: io::Error) -> DevKeyError {
    DevKeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}
