//! gRPC over TLS (Art. 8: bearer tokens and the raw identifiers of a legal
//! disclosure, Art. 7(2), never cross the network in clear).
//!
//! - `HELLOWORK_TLS_CERT_FILE`, `HELLOWORK_TLS_KEY_FILE`: this service's
//!   certificate chain and key (PEM). The one certificate both serves and,
//!   on calls to other services, names this service to them (its SPIFFE URI
//!   `spiffe://hellowork-takamatsu/<service>`).
//! - `HELLOWORK_TLS_CA_FILE`: the roots that servers' and callers'
//!   certificates must chain to.
//! - `HELLOWORK_TLS_CLIENT_AUTH`: `optional` (the default: people's clients
//!   such as the `hellowork` command connect without a certificate, while a
//!   `system` token is accepted only over a connection whose certificate
//!   names the service the token names) or `required` (no connection
//!   without a valid client certificate completes its handshake).
//! - `HELLOWORK_TLS_RELOAD_INTERVAL` (default 10s): how often the files are
//!   looked at again (and at once on SIGHUP), so certificates rotate without
//!   a restart and without dropping a call in flight.
//!
//! All three files or none. Production requires them; with them, every
//! `HELLOWORK_<SERVICE>_URL` must be `https://`.

use std::{path::PathBuf, time::Duration};

use hellowork_tls::{ClientAuth, TlsFiles};

use super::{ConfigError, PREFIX, Vars};

const CERT_FILE: &str = "TLS_CERT_FILE";
const KEY_FILE: &str = "TLS_KEY_FILE";
const CA_FILE: &str = "TLS_CA_FILE";
const CLIENT_AUTH: &str = "TLS_CLIENT_AUTH";
const RELOAD_INTERVAL: &str = "TLS_RELOAD_INTERVAL";

/// This service's gRPC TLS, when configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcTls {
    pub files: TlsFiles,
    pub client_auth: ClientAuth,
    pub reload_interval: Duration,
}

impl GrpcTls {
    /// The same variables for a process that is not one of the four
    /// services (the witness).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
        production: bool,
    ) -> Result<Option<Self>, ConfigError> {
        Vars(vars.into_iter().collect()).grpc_tls(production)
    }
}

impl Vars {
    pub(crate) fn grpc_tls(&self, production: bool) -> Result<Option<GrpcTls>, ConfigError> {
        let path = |name: &str| {
            self.get(name)
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from)
        };
        let (cert, key, ca) = match (path(CERT_FILE), path(KEY_FILE), path(CA_FILE)) {
            (Some(cert), Some(key), Some(ca)) => (cert, key, ca),
            (None, None, None) if production => {
                return Err(self.error(
                    CERT_FILE,
                    &format!(
                        "required in production (with {PREFIX}{KEY_FILE} and {PREFIX}{CA_FILE}): \
                         gRPC must not carry tokens in clear"
                    ),
                ));
            }
            (None, None, None) => return Ok(None),
            (cert, key, _) => {
                let missing = if cert.is_none() {
                    CERT_FILE
                } else if key.is_none() {
                    KEY_FILE
                } else {
                    CA_FILE
                };
                return Err(self.error(
                    missing,
                    &format!(
                        "set {PREFIX}{CERT_FILE}, {PREFIX}{KEY_FILE} and {PREFIX}{CA_FILE} \
                         together, or none"
                    ),
                ));
            }
        };
        let client_auth = match self.text(CLIENT_AUTH, "optional").as_str() {
            "optional" => ClientAuth::Optional,
            "required" => ClientAuth::Required,
            _ => return Err(self.error(CLIENT_AUTH, "must be optional or required")),
        };
        let reload_interval = self.duration(RELOAD_INTERVAL, Duration::from_secs(10))?;
        if reload_interval < Duration::from_millis(100) {
            return Err(self.error(RELOAD_INTERVAL, "must be at least 100ms"));
        }
        Ok(Some(GrpcTls {
            files: TlsFiles { cert, key, ca },
            client_auth,
            reload_interval,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_plaintext_in_development_and_refused_in_production() {
        assert_eq!(Vars::of(&[]).grpc_tls(false).unwrap(), None);
        let error = Vars::of(&[]).grpc_tls(true).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_TLS_CERT_FILE");
        assert!(error.problem.contains("required in production"));
    }

    #[test]
    fn all_three_files_make_a_tls_configuration() {
        let vars = Vars::of(&[
            ("HELLOWORK_TLS_CERT_FILE", "/tls/svc.crt"),
            ("HELLOWORK_TLS_KEY_FILE", "/tls/svc.key"),
            ("HELLOWORK_TLS_CA_FILE", "/tls/ca.crt"),
            ("HELLOWORK_TLS_CLIENT_AUTH", "required"),
        ]);
        let tls = vars.grpc_tls(true).unwrap().unwrap();
        assert_eq!(tls.files.cert, PathBuf::from("/tls/svc.crt"));
        assert_eq!(tls.files.key, PathBuf::from("/tls/svc.key"));
        assert_eq!(tls.files.ca, PathBuf::from("/tls/ca.crt"));
        assert_eq!(tls.client_auth, ClientAuth::Required);
        assert_eq!(tls.reload_interval, Duration::from_secs(10));
    }

    #[test]
    fn a_partial_configuration_names_the_missing_file() {
        for (set, missing) in [
            (
                vec![
                    ("HELLOWORK_TLS_KEY_FILE", "k"),
                    ("HELLOWORK_TLS_CA_FILE", "c"),
                ],
                "HELLOWORK_TLS_CERT_FILE",
            ),
            (
                vec![
                    ("HELLOWORK_TLS_CERT_FILE", "c"),
                    ("HELLOWORK_TLS_CA_FILE", "c"),
                ],
                "HELLOWORK_TLS_KEY_FILE",
            ),
            (
                vec![
                    ("HELLOWORK_TLS_CERT_FILE", "c"),
                    ("HELLOWORK_TLS_KEY_FILE", "k"),
                ],
                "HELLOWORK_TLS_CA_FILE",
            ),
        ] {
            let error = Vars::of(&set).grpc_tls(false).unwrap_err();
            assert_eq!(error.variable, missing);
        }
    }

    #[test]
    fn bad_client_auth_and_reload_interval_are_refused() {
        let files = [
            ("HELLOWORK_TLS_CERT_FILE", "c"),
            ("HELLOWORK_TLS_KEY_FILE", "k"),
            ("HELLOWORK_TLS_CA_FILE", "a"),
        ];
        for (name, value) in [
            ("HELLOWORK_TLS_CLIENT_AUTH", "sometimes"),
            ("HELLOWORK_TLS_RELOAD_INTERVAL", "1ms"),
            ("HELLOWORK_TLS_RELOAD_INTERVAL", "often"),
        ] {
            let mut set = files.to_vec();
            set.push((name, value));
            assert_eq!(Vars::of(&set).grpc_tls(false).unwrap_err().variable, name);
        }
    }
}
