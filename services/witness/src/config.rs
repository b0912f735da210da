//! The witness's settings, from `HELLOWORK_WITNESS_*` variables (and the
//! environment — required, as for the services —, token and telemetry
//! settings every service reads, with the services' defaults). Each error
//! names its variable and never echoes a key. In production it refuses the
//! published development keys and needs the log's key pinned and its own
//! state directory named.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use hellowork_platform::{AuthConfig, ConfigError, Environment, GrpcTls, TelemetrySettings};
use hellowork_transparency::{DEFAULT_ORIGIN, checkpoint::LogKey, cosignature::WitnessKey, keys};

const PREFIX: &str = "HELLOWORK_WITNESS_";
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_AUDIT_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_GRPC: &str = "127.0.0.1:50055";
const DEFAULT_METRICS: &str = "127.0.0.1:9105";
const DEFAULT_STATE_DIR: &str = ".data/witness";
const DEFAULT_LOG_URL: &str = "http://127.0.0.1:50054";

/// Everything the witness needs.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    pub environment: Environment,
    pub auth: AuthConfig,
    pub telemetry: TelemetrySettings,
    /// The audit-log's gRPC endpoint.
    pub log_url: String,
    /// The log's C2SP verifier key, pinned here, never taken from the log.
    pub log_key: String,
    pub origin: String,
    pub key: Arc<WitnessKey>,
    /// The witness's own storage.
    pub state_dir: PathBuf,
    /// How often the log's latest checkpoint is fetched and checked.
    pub interval: Duration,
    /// How often every accepted leaf is fetched again and compared.
    pub audit_interval: Duration,
    pub grpc_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    /// TLS as the services have it (`HELLOWORK_TLS_*`, required in
    /// production): served to the witness's readers, and its certificate
    /// presented to the audit-log, which admits `system:witness` only with it.
    pub tls: Option<GrpcTls>,
}

impl WitnessConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let (environment, auth) = AuthConfig::from_vars(vars.clone())?;
        let telemetry = TelemetrySettings::from_vars(vars.clone())?;
        let production = environment == Environment::Production;
        let get = |name: &str| {
            vars.get(&format!("{PREFIX}{name}"))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let error = |name: &str, problem: String| ConfigError {
            variable: format!("{PREFIX}{name}"),
            problem,
        };
        let development_log = LogKey::from_note_key(keys::DEVELOPMENT_LOG_KEY)
            .expect("the development log key parses")
            .verifier_key();
        let log_key = match get("LOG_KEY") {
            None if production => {
                return Err(error("LOG_KEY", "required in production".to_owned()));
            }
            None => development_log.clone(),
            Some(key) if production && keys::is_development_verifier(key) => {
                return Err(error(
                    "LOG_KEY",
                    "is a published development key's; production pins the real log's key"
                        .to_owned(),
                ));
            }
            Some(key) => key.to_owned(),
        };
        hellowork_transparency::checkpoint::verify_key(&log_key)
            .map_err(|e| error("LOG_KEY", format!("is not a signed-note verifier key: {e}")))?;
        let signing_key = format!("{PREFIX}SIGNING_KEY");
        let signing_key_file = format!("{PREFIX}SIGNING_KEY_FILE");
        let (_, skey) = keys::configured(
            keys::KeySource {
                variable: &signing_key,
                file_variable: &signing_key_file,
                text: get("SIGNING_KEY"),
                file: get("SIGNING_KEY_FILE"),
            },
            production,
            keys::DEVELOPMENT_WITNESS_KEY,
        )
        .map_err(|e| ConfigError {
            variable: e.variable,
            problem: e.problem,
        })?;
        let key = WitnessKey::from_note_key(&skey).map_err(|e| {
            error(
                "SIGNING_KEY",
                format!("is not a signed-note private key: {e}"),
            )
        })?;
        let state_dir = match get("STATE_DIR") {
            None if production => {
                return Err(error(
                    "STATE_DIR",
                    "required in production: the witness's own storage, outside the audit-log's database"
                        .to_owned(),
                ));
            }
            None => PathBuf::from(DEFAULT_STATE_DIR),
            Some(dir) => PathBuf::from(dir),
        };
        let duration = |name: &str, default: Duration| match get(name) {
            None => Ok(default),
            Some(text) => humantime::parse_duration(text)
                .ok()
                .filter(|d| (Duration::from_millis(100)..=Duration::from_secs(86_400)).contains(d))
                .ok_or_else(|| {
                    error(
                        name,
                        format!("{text:?} is not a duration between 100ms and 1day"),
                    )
                }),
        };
        let address = |name: &str, default: &str| {
            get(name)
                .unwrap_or(default)
                .parse::<SocketAddr>()
                .map_err(|_| error(name, "must be host:port, e.g. 127.0.0.1:50055".to_owned()))
        };
        let tls = GrpcTls::from_vars(vars.clone(), production)?;
        let default_log_url = match tls {
            Some(_) => DEFAULT_LOG_URL.replacen("http://", "https://", 1),
            None => DEFAULT_LOG_URL.to_owned(),
        };
        let log_url = get("LOG_URL")
            .or_else(|| vars.get("HELLOWORK_AUDITLOG_URL").map(String::as_str))
            .map_or(default_log_url, str::to_owned);
        if tls.is_some() && !log_url.starts_with("https://") {
            return Err(error(
                "LOG_URL",
                "must be https:// when TLS is configured".to_owned(),
            ));
        }
        Ok(Self {
            environment,
            auth,
            telemetry,
            log_url,
            log_key,
            origin: get("LOG_ORIGIN").unwrap_or(DEFAULT_ORIGIN).to_owned(),
            key: Arc::new(key),
            state_dir,
            interval: duration("INTERVAL", DEFAULT_INTERVAL)?,
            audit_interval: duration("AUDIT_INTERVAL", DEFAULT_AUDIT_INTERVAL)?,
            grpc_addr: address("GRPC_ADDR", DEFAULT_GRPC)?,
            metrics_addr: address("METRICS_ADDR", DEFAULT_METRICS)?,
            tls,
        })
    }

    pub fn telemetry_config(&self) -> hellowork_telemetry::TelemetryConfig {
        hellowork_telemetry::TelemetryConfig {
            service_name: "witness".to_owned(),
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            log_filter: self.telemetry.log_filter.clone(),
            json_logs: self.telemetry.json_logs,
            otlp_endpoint: self.telemetry.otlp_endpoint.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pairs` in development unless they name another environment (a
    /// later pair wins).
    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        [("HELLOWORK_ENVIRONMENT", "development")]
            .iter()
            .chain(pairs)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_environment_is_refused_naming_the_variable() {
        let error = WitnessConfig::from_vars(std::iter::empty()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "HELLOWORK_ENVIRONMENT: required (development or production)"
        );
    }

    #[test]
    fn development_runs_with_the_published_keys_and_defaults() {
        let config = WitnessConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(config.origin, DEFAULT_ORIGIN);
        assert_eq!(config.interval, DEFAULT_INTERVAL);
        assert_eq!(config.log_url, DEFAULT_LOG_URL);
        let config =
            WitnessConfig::from_vars(vars(&[("HELLOWORK_AUDITLOG_URL", "http://10.0.0.4:7000")]))
                .unwrap();
        assert_eq!(config.log_url, "http://10.0.0.4:7000");
    }

    #[test]
    fn production_refuses_development_keys_and_a_missing_state_dir() {
        let production = [
            ("HELLOWORK_ENVIRONMENT", "production"),
            ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/etc/keys/k1.pem"),
            ("HELLOWORK_SYSTEM_TOKEN_FILE", "/run/secrets/system.token"),
        ];
        let error = WitnessConfig::from_vars(vars(&production)).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_WITNESS_LOG_KEY");
        let (_, log_vkey) = keys::generate("office-log", false);
        let (witness_skey, _) = keys::generate("office-witness", true);
        let with = |extra: &[(&str, &str)]| {
            let mut all = production.to_vec();
            all.extend_from_slice(extra);
            WitnessConfig::from_vars(vars(&all))
        };
        let error = with(&[
            ("HELLOWORK_WITNESS_LOG_KEY", &log_vkey),
            (
                "HELLOWORK_WITNESS_SIGNING_KEY",
                keys::DEVELOPMENT_WITNESS_KEY,
            ),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_WITNESS_SIGNING_KEY");
        assert!(!error.to_string().contains("PRIVATE"), "{error}");
        let error = with(&[
            ("HELLOWORK_WITNESS_LOG_KEY", &log_vkey),
            ("HELLOWORK_WITNESS_SIGNING_KEY", &witness_skey),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_WITNESS_STATE_DIR");
        let keys_and_state = [
            ("HELLOWORK_WITNESS_LOG_KEY", log_vkey.as_str()),
            ("HELLOWORK_WITNESS_SIGNING_KEY", &witness_skey),
            ("HELLOWORK_WITNESS_STATE_DIR", "/var/lib/hellowork-witness"),
        ];
        let error = with(&keys_and_state).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_TLS_CERT_FILE");
        let tls = [
            ("HELLOWORK_TLS_CERT_FILE", "/run/secrets/witness.pem"),
            ("HELLOWORK_TLS_KEY_FILE", "/run/secrets/witness-key.pem"),
            ("HELLOWORK_TLS_CA_FILE", "/run/secrets/ca.pem"),
        ];
        let config = with(&[&keys_and_state[..], &tls[..]].concat()).unwrap();
        assert_eq!(config.log_key, log_vkey);
        assert_eq!(config.log_url, "https://127.0.0.1:50054");
        assert!(config.tls.is_some());
        // With TLS, never a plaintext log.
        let plaintext = [("HELLOWORK_WITNESS_LOG_URL", "http://auditlog:50054")];
        let error = with(&[&keys_and_state[..], &tls[..], &plaintext[..]].concat()).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_WITNESS_LOG_URL");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("HELLOWORK_WITNESS_LOG_KEY", "nope"),
            ("HELLOWORK_WITNESS_SIGNING_KEY", "PRIVATE+KEY+x"),
            ("HELLOWORK_WITNESS_INTERVAL", "1ns"),
            ("HELLOWORK_WITNESS_GRPC_ADDR", "localhost"),
        ] {
            let error = WitnessConfig::from_vars(vars(&[(variable, value)])).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}
