//! How a service authenticates its own calls to other services: a bearer
//! token with the `system` role, plus the current trace context, on every
//! outgoing request.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use hellowork_auth::{DevKey, MintRequest, Role};
use tonic::{Request, Status, metadata::MetadataValue, service::Interceptor};

use crate::{
    auth::KeyLoadError,
    config::{AuthConfig, Environment, PlatformConfig},
};

/// Lifetime of a minted development token (or the configured maximum token
/// lifetime, if shorter); renewed a minute before expiry.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
const RENEW_BEFORE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SystemTokenError {
    #[error("cannot read the system token file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot mint a development system token")]
    Mint(#[from] hellowork_auth::MintError),
}

#[derive(Debug)]
enum Source {
    /// Development: minted with the development key.
    DevKey {
        key: Box<DevKey>,
        subject: String,
        issuer: String,
        audience: String,
        ttl: Duration,
    },
    /// Production: issued by the identity provider into a file, re-read on
    /// renewal so rotation needs no restart.
    File(PathBuf),
}

/// The `system` credentials of this service.
#[derive(Debug)]
pub struct SystemCredentials {
    source: Source,
    cached: Mutex<Option<(String, Instant)>>,
    /// The deadline of a call made outside any request (see
    /// [`crate::deadline`]).
    peer_timeout: Duration,
}

impl SystemCredentials {
    pub fn from_config(config: &PlatformConfig) -> Result<Self, KeyLoadError> {
        Self::for_subject(
            &format!("system:{}", config.service.name()),
            config.environment,
            &config.auth,
            config.peer_timeout,
        )
    }

    /// The credentials of a process that is not one of the four services
    /// (the witness): the same token file in production, a development
    /// token minted for `subject` otherwise.
    pub fn for_subject(
        subject: &str,
        environment: Environment,
        auth: &AuthConfig,
        peer_timeout: Duration,
    ) -> Result<Self, KeyLoadError> {
        let source = match (&auth.system_token_file, environment) {
            (Some(path), Environment::Production) => {
                refuse_development_token(path)?;
                Source::File(path.clone())
            }
            (Some(path), Environment::Development) => Source::File(path.clone()),
            (None, Environment::Development) => Source::DevKey {
                key: Box::new(DevKey::load_or_generate(&auth.dev_key_dir, "development")?),
                subject: subject.to_owned(),
                issuer: auth.issuer.clone(),
                audience: auth.audience.clone(),
                ttl: DEV_TOKEN_TTL.min(auth.max_lifetime),
            },
            (None, Environment::Production) => return Err(KeyLoadError::MissingSystemToken),
        };
        Ok(Self {
            source,
            cached: Mutex::new(None),
            peer_timeout,
        })
    }

    /// `Bearer <token>`, renewed when it is about to expire.
    pub fn bearer(&self) -> Result<String, SystemTokenError> {
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((token, renew_at)) = cached.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let (token, valid_for) = match &self.source {
            Source::DevKey {
                key,
                subject,
                issuer,
                audience,
                ttl,
            } => {
                let token = key.mint(&MintRequest {
                    subject: subject.clone(),
                    roles: vec![Role::System],
                    ttl: *ttl,
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                    not_before: None,
                    personnel_id: None,
                })?;
                (token, *ttl)
            }
            Source::File(path) => {
                let token = std::fs::read_to_string(path)
                    .map_err(|source| SystemTokenError::File {
                        path: path.clone(),
                        source,
                    })?
                    .trim()
                    .to_owned();
                // Re-read the file every few minutes to pick up rotation.
                (token, RENEW_BEFORE * 5)
            }
        };
        let bearer = format!("Bearer {token}");
        let renew_at = Instant::now() + valid_for.saturating_sub(RENEW_BEFORE);
        *cached = Some((bearer.clone(), renew_at));
        Ok(bearer)
    }

    /// A client interceptor adding the token, the current trace context and
    /// the deadline.
    pub fn interceptor(self: &Arc<Self>) -> SystemAuth {
        SystemAuth(self.clone())
    }
}

/// Production: the token file must be readable at start, and its token
/// must not name a development key (minted by `hellowork token` or a
/// development service), which every peer would refuse anyway; refused here
/// it says so once, at start, naming the variable.
fn refuse_development_token(path: &std::path::Path) -> Result<(), KeyLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyLoadError::SystemTokenFile {
        path: path.to_path_buf(),
        source,
    })?;
    let kid = hellowork_auth::unverified_key_id(text.trim());
    if kid
        .as_deref()
        .is_some_and(hellowork_auth::is_development_kid)
    {
        return Err(KeyLoadError::DevelopmentSystemToken);
    }
    Ok(())
}

/// Tonic client interceptor: `authorization` with the system token,
/// `traceparent`/`tracestate` so the callee continues the caller's trace, and
/// `grpc-timeout`: what is left of the request being served, or the peer
/// timeout outside one. A request whose deadline has passed calls no peer.
#[derive(Debug, Clone)]
pub struct SystemAuth(Arc<SystemCredentials>);

impl Interceptor for SystemAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let bearer = self.0.bearer().map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "no system token");
            Status::unauthenticated("this service has no system credentials")
        })?;
        let value = MetadataValue::try_from(bearer.as_str())
            .map_err(|_| Status::internal("system token is not a valid header value"))?;
        request.metadata_mut().insert("authorization", value);
        hellowork_telemetry::inject_into_metadata(request.metadata_mut());
        let timeout = crate::deadline::remaining().unwrap_or(self.0.peer_timeout);
        if timeout.is_zero() {
            return Err(Status::deadline_exceeded(
                "the request's deadline passed before the peer was called",
            ));
        }
        request.set_timeout(timeout);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Service;

    /// `vars` in development unless they name another environment.
    fn config_with(vars: &[(&str, String)]) -> PlatformConfig {
        let development = [("HELLOWORK_ENVIRONMENT", "development".to_owned())];
        let vars = development
            .iter()
            .chain(vars)
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .chain(crate::config::production_vars(Service::Scheduling));
        PlatformConfig::from_vars(Service::Scheduling, vars).unwrap()
    }

    #[test]
    fn outgoing_calls_carry_the_issued_system_token() {
        let dir = std::env::temp_dir().join(format!("hellowork-system-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("system.token");
        std::fs::write(&file, "issued.by.idp\n").unwrap();
        let config = config_with(&[
            ("HELLOWORK_ENVIRONMENT", "production".into()),
            ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/nonexistent.pem".into()),
            ("HELLOWORK_SYSTEM_TOKEN_FILE", file.display().to_string()),
        ]);
        let credentials = Arc::new(SystemCredentials::from_config(&config).unwrap());
        let request = credentials.interceptor().call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get("authorization").unwrap(),
            "Bearer issued.by.idp"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The `grpc-timeout` an outgoing call carries, or the interceptor's
    /// refusal.
    fn sent_timeout(credentials: &Arc<SystemCredentials>) -> Result<Duration, Status> {
        let request = credentials.interceptor().call(Request::new(()))?;
        let header = request.metadata().get("grpc-timeout").unwrap();
        Ok(crate::deadline::parse_grpc_timeout(header.to_str().unwrap()).unwrap())
    }

    #[tokio::test]
    async fn outgoing_calls_carry_what_is_left_of_the_requests_deadline() {
        let dir = std::env::temp_dir().join(format!("hellowork-deadline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("system.token");
        std::fs::write(&file, "issued.by.idp\n").unwrap();
        let config = config_with(&[
            ("HELLOWORK_PEER_TIMEOUT", "2s".into()),
            ("HELLOWORK_SYSTEM_TOKEN_FILE", file.display().to_string()),
        ]);
        let credentials = Arc::new(SystemCredentials::from_config(&config).unwrap());
        // Outside a request (a background task): the peer timeout.
        assert_eq!(sent_timeout(&credentials).unwrap(), Duration::from_secs(2));
        // Within one: what is left of it, longer or shorter than the peer
        // timeout alike.
        for budget in [Duration::from_millis(500), Duration::from_secs(8)] {
            let deadline = tokio::time::Instant::now() + budget;
            let sent = crate::deadline::within(deadline, async { sent_timeout(&credentials) })
                .await
                .unwrap();
            assert!(
                sent <= budget && sent > budget - Duration::from_millis(100),
                "{sent:?}"
            );
        }
        // A request already out of time calls no peer.
        let past = tokio::time::Instant::now();
        let refused = crate::deadline::within(past, async { sent_timeout(&credentials) })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::DeadlineExceeded);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_without_a_system_token_is_refused_at_start() {
        // The configuration refuses it first (see config's tests); these
        // credentials refuse it too, whoever built the settings.
        let auth = AuthConfig {
            system_token_file: None,
            ..config_with(&[]).auth
        };
        let error = SystemCredentials::for_subject(
            "system:scheduling",
            Environment::Production,
            &auth,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(error.to_string().contains("HELLOWORK_SYSTEM_TOKEN_FILE"));
    }
}
