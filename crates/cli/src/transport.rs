//! How the `hellowork` command reaches the services and the witness: over
//! TLS whenever it knows a CA to trust, which is `HELLOWORK_TLS_CA_FILE`
//! where set, or else the development CA `hellowork up` made under its data
//! folder (`.data/up/pki/ca.pem`). It then presents a certificate too:
//! `HELLOWORK_TLS_CERT_FILE` and `HELLOWORK_TLS_KEY_FILE` where set, or the
//! certificate of the part it plays from that folder (`cli`; `front` for
//! the demo's usage reports, made as the office's front system). A command that speaks TLS never
//! falls back to plaintext: an `http://` URL is called as `https://`.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use hellowork_tls::ClientTls;
use tonic::transport::{Channel, Endpoint};

/// Where `hellowork up` keeps its data (and its PKI) unless told otherwise.
pub const UP_DATA_DIR: &str = ".data/up";

#[derive(Debug, Clone)]
pub struct ClientTransport {
    tls: Option<Arc<ClientTls>>,
}

impl ClientTransport {
    /// TLS from `HELLOWORK_TLS_*`, or from the PKI under `data_dir` (the
    /// folder `hellowork up --data-dir` used) when it holds one, presenting
    /// the certificate issued there to `identity`; plaintext when neither.
    pub fn discover(data_dir: &Path, identity: &str) -> Result<Self, String> {
        Self::from_vars(data_dir, identity, &std::env::vars().collect())
    }

    fn from_vars(
        data_dir: &Path,
        name: &str,
        vars: &HashMap<String, String>,
    ) -> Result<Self, String> {
        let var = |name: &str| {
            vars.get(name)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let pki = data_dir.join("pki");
        let (ca, identity) = match var("HELLOWORK_TLS_CA_FILE") {
            Some(ca) => {
                let identity = var("HELLOWORK_TLS_CERT_FILE").zip(var("HELLOWORK_TLS_KEY_FILE"));
                (ca, identity)
            }
            None if pki.join("ca.pem").is_file() => {
                let (cert, key) = (
                    pki.join(format!("{name}.pem")),
                    pki.join(format!("{name}-key.pem")),
                );
                let identity = (cert.is_file() && key.is_file()).then_some((cert, key));
                (pki.join("ca.pem"), identity)
            }
            None => return Ok(Self { tls: None }),
        };
        let identity = identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
        let tls = ClientTls::load(&ca, identity).map_err(|e| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            message
        })?;
        Ok(Self { tls: Some(tls) })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `url` as this transport calls it.
    pub fn url(&self, url: &str) -> String {
        match (&self.tls, url.strip_prefix("http://")) {
            (Some(_), Some(rest)) => format!("https://{rest}"),
            _ => url.to_owned(),
        }
    }

    /// A lazily connected channel to `url` (each call times out after
    /// `timeout`).
    pub fn channel(&self, url: &str, timeout: Duration) -> Result<Channel, String> {
        let url = self.url(url);
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|e| format!("{url:?} is not a URL: {e}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(timeout);
        Ok(match &self.tls {
            Some(tls) => hellowork_tls::channel(endpoint, tls.clone()),
            None => endpoint.connect_lazy(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_ca_it_is_plaintext_and_with_up_s_pki_it_is_tls() {
        let dir = tempfile::tempdir().unwrap();
        let plain = ClientTransport::from_vars(dir.path(), "cli", &HashMap::new()).unwrap();
        assert!(!plain.is_tls());
        assert_eq!(plain.url("http://127.0.0.1:1"), "http://127.0.0.1:1");

        hellowork_tls::dev_pki::DevPki::ensure(&dir.path().join("pki"), &["cli"]).unwrap();
        let tls = ClientTransport::from_vars(dir.path(), "cli", &HashMap::new()).unwrap();
        assert!(tls.is_tls());
        assert_eq!(tls.url("http://127.0.0.1:1"), "https://127.0.0.1:1");
        assert_eq!(tls.url("https://127.0.0.1:1"), "https://127.0.0.1:1");

        // The variables win over the folder.
        let vars = HashMap::from([(
            "HELLOWORK_TLS_CA_FILE".to_owned(),
            "/nonexistent/ca.pem".to_owned(),
        )]);
        let error = ClientTransport::from_vars(dir.path(), "cli", &vars).unwrap_err();
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");
    }

    #[test]
    fn a_broken_ca_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pki")).unwrap();
        std::fs::write(dir.path().join("pki/ca.pem"), "not a certificate").unwrap();
        let error = ClientTransport::from_vars(dir.path(), "cli", &HashMap::new()).unwrap_err();
        assert!(error.contains("ca.pem"), "{error}");
    }
}
