//! The client side: the roots a server's certificate must chain to and,
//! optionally, this process's own certificate, as one reloadable rustls
//! configuration, and a tonic connector that uses the newest one for every
//! new connection.

use std::{
    future::Future,
    io,
    path::Path,
    pin::Pin,
    sync::{Arc, PoisonError, RwLock},
    task::{Context, Poll},
    time::Duration,
};

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::{ClientConfig, pki_types::ServerName, sign::SingleCertAndKey};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tonic::transport::{Channel, Endpoint};

use crate::{
    ALPN_H2, Reload, TlsError,
    material::{self, KeyFiles, Snapshot},
    provider, reload,
};

/// A client's TLS configuration, re-read when its files change.
#[derive(Debug)]
pub struct ClientTls {
    ca: std::path::PathBuf,
    identity: Option<KeyFiles>,
    current: RwLock<(Snapshot, Arc<ClientConfig>)>,
}

impl ClientTls {
    /// Trusts the roots in `ca`; presents `identity` (certificate, key) when
    /// given. An error names the file at fault.
    pub fn load(ca: &Path, identity: Option<(&Path, &Path)>) -> Result<Arc<Self>, TlsError> {
        let identity = identity.map(|(cert, key)| KeyFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        });
        let snapshot = read(ca, identity.as_ref())?;
        let config = build(ca, identity.as_ref(), &snapshot)?;
        Ok(Arc::new(Self {
            ca: ca.to_path_buf(),
            identity,
            current: RwLock::new((snapshot, config)),
        }))
    }

    /// Like [`ClientTls::load`], then re-reads the files every `interval`.
    /// Needs a Tokio runtime.
    pub fn load_and_watch(
        ca: &Path,
        identity: Option<(&Path, &Path)>,
        interval: Duration,
    ) -> Result<Arc<Self>, TlsError> {
        let tls = Self::load(ca, identity)?;
        reload::watch(&tls, interval, false);
        Ok(tls)
    }

    /// The configuration a new connection is made with.
    pub fn current(&self) -> Arc<ClientConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone()
    }
}

impl Reload for ClientTls {
    fn reload(&self) -> Result<bool, TlsError> {
        let snapshot = read(&self.ca, self.identity.as_ref())?;
        if self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            == snapshot
        {
            return Ok(false);
        }
        let config = build(&self.ca, self.identity.as_ref(), &snapshot)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (snapshot, config);
        Ok(true)
    }

    fn role(&self) -> &'static str {
        "client"
    }
}

fn read(ca: &Path, identity: Option<&KeyFiles>) -> Result<Snapshot, TlsError> {
    match identity {
        Some(files) => Snapshot::read(&[ca, &files.cert, &files.key]),
        None => Snapshot::read(&[ca]),
    }
}

fn build(
    ca: &Path,
    identity: Option<&KeyFiles>,
    snapshot: &Snapshot,
) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = material::roots(snapshot.file(0), ca)?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some(files) => {
            let key = material::certified_key(
                snapshot.file(1),
                snapshot.file(2),
                &files.cert,
                &files.key,
            )?;
            builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key)))
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// A lazily connected channel to `endpoint` (an `https://` URL) over TLS
/// with `tls`; it reconnects on its own, each time with the newest
/// configuration. The endpoint's connect timeout covers the handshake.
pub fn channel(endpoint: Endpoint, tls: Arc<ClientTls>) -> Channel {
    endpoint.connect_with_connector_lazy(TlsConnector { tls })
}

/// The connector of [`channel`]: TCP (TCP_NODELAY set), then TLS to the
/// URL's host, which the server's certificate must name (DNS name or IP).
#[derive(Debug, Clone)]
pub struct TlsConnector {
    tls: Arc<ClientTls>,
}

impl TlsConnector {
    pub fn new(tls: Arc<ClientTls>) -> Self {
        Self { tls }
    }
}

type Connecting =
    Pin<Box<dyn Future<Output = io::Result<TokioIo<TlsStream<TcpStream>>>> + Send + 'static>>;

impl tower_service::Service<Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = self.tls.current();
        Box::pin(async move {
            let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
            if uri.scheme_str() != Some("https") {
                // A TLS client never falls back to plaintext.
                return Err(invalid("tls is configured, so the url must be https://"));
            }
            let host = uri.host().ok_or_else(|| invalid("the url has no host"))?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(443);
            let server_name = ServerName::try_from(host.to_owned())
                .map_err(|_| invalid("the url's host is not a dns name or ip address"))?;
            let tcp = TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            let stream = tokio_rustls::TlsConnector::from(config)
                .connect(server_name, tcp)
                .await?;
            Ok(TokioIo::new(stream))
        })
    }
}
