//! The server side: its certificate, its key and the roots its callers'
//! certificates must chain to, as one reloadable rustls configuration.

use std::{
    path::Path,
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use rustls::{
    ServerConfig,
    server::{WebPkiClientVerifier, danger::ClientCertVerifier},
    sign::SingleCertAndKey,
};

use crate::{
    ALPN_H2, Reload, TlsError, TlsFiles,
    material::{self, Snapshot},
    provider, reload,
};

/// Whether a caller must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// A connection without a valid client certificate never completes its
    /// handshake (service-to-service only).
    Required,
    /// A caller may connect without one (end users' clients such as the
    /// `hellowork` command); one presented must still be valid, and system
    /// callers are told apart by it at the gRPC edge.
    Optional,
}

/// A server's TLS configuration, re-read when its files change.
#[derive(Debug)]
pub struct ServerTls {
    files: TlsFiles,
    client_auth: ClientAuth,
    current: RwLock<(Snapshot, Arc<ServerConfig>)>,
}

impl ServerTls {
    /// Reads the files; an error names the file at fault.
    pub fn load(files: TlsFiles, client_auth: ClientAuth) -> Result<Arc<Self>, TlsError> {
        let snapshot = read(&files)?;
        let config = build(&files, client_auth, &snapshot)?;
        Ok(Arc::new(Self {
            files,
            client_auth,
            current: RwLock::new((snapshot, config)),
        }))
    }

    /// Like [`ServerTls::load`], then re-reads the files every `interval`
    /// and on SIGHUP. Needs a Tokio runtime.
    pub fn load_and_watch(
        files: TlsFiles,
        client_auth: ClientAuth,
        interval: Duration,
    ) -> Result<Arc<Self>, TlsError> {
        let tls = Self::load(files, client_auth)?;
        reload::watch(&tls, interval, true);
        Ok(tls)
    }

    /// The configuration a new connection is accepted with.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone()
    }

    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }
}

impl Reload for ServerTls {
    fn reload(&self) -> Result<bool, TlsError> {
        let snapshot = read(&self.files)?;
        if self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            == snapshot
        {
            return Ok(false);
        }
        let config = build(&self.files, self.client_auth, &snapshot)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (snapshot, config);
        Ok(true)
    }

    fn role(&self) -> &'static str {
        "server"
    }
}

fn read(files: &TlsFiles) -> Result<Snapshot, TlsError> {
    Snapshot::read(&[&files.cert, &files.key, &files.ca])
}

fn build(
    files: &TlsFiles,
    client_auth: ClientAuth,
    snapshot: &Snapshot,
) -> Result<Arc<ServerConfig>, TlsError> {
    let key = material::certified_key(snapshot.file(0), snapshot.file(1), &files.cert, &files.key)?;
    let verifier = client_verifier(snapshot.file(2), &files.ca, client_auth)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(key)));
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

fn client_verifier(
    ca_pem: &[u8],
    path: &Path,
    client_auth: ClientAuth,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let roots = material::roots(ca_pem, path)?;
    let builder = WebPkiClientVerifier::builder_with_provider(roots, provider());
    let builder = match client_auth {
        ClientAuth::Required => builder,
        ClientAuth::Optional => builder.allow_unauthenticated(),
    };
    builder.build().map_err(|source| TlsError::Verifier {
        path: path.to_path_buf(),
        source,
    })
}
