//! Authentication at the gRPC edge: every request but health checks and
//! reflection must carry a valid bearer token; the verified [`Caller`] is put
//! into the request for handlers, which check roles per RPC.

use std::{
    collections::HashMap,
    path::PathBuf,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use hellowork_auth::{
    AuthError, Caller, CallingService, DevKeyError, KeyError, Role, TokenVerifier,
    VerifierConfigError, bearer_token,
};
use hellowork_tls::{PeerIdentity, TlsConnectInfo};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use crate::error::{ERROR_DOMAIN, ServiceError};

mod keys;

pub use keys::{KEY_RELOADS, SharedVerifier};
pub(crate) use keys::{load_verifier, reload_keys};

/// Paths any client may call without a token.
const PUBLIC_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Why the token verification keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("cannot load the development signing key")]
    DevKey(#[from] DevKeyError),
    #[error("cannot read public key file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("public key {kid} is not an Ed25519 public key PEM")]
    Key {
        kid: String,
        #[source]
        source: KeyError,
    },
    #[error(
        "HELLOWORK_JWT_PUBLIC_KEYS: key {kid} is the development signing key's (in \
         HELLOWORK_DEV_KEY_DIR); production trusts only the identity provider's keys"
    )]
    DevelopmentKeyTrusted { kid: String },
    #[error("invalid token verifier configuration")]
    Verifier(#[from] VerifierConfigError),
    #[error("HELLOWORK_SYSTEM_TOKEN_FILE: required in production for calls to other services")]
    MissingSystemToken,
    #[error("HELLOWORK_SYSTEM_TOKEN_FILE: cannot read {path}")]
    SystemTokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "HELLOWORK_SYSTEM_TOKEN_FILE: its token names a development key; production needs one \
         from the identity provider"
    )]
    DevelopmentSystemToken,
}

/// The caller a handler serves; the auth layer guarantees it is there.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<&Caller, ServiceError> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| ServiceError::Unauthenticated("no verified caller".into()))
}

/// Declares which roles may call an RPC.
pub fn require_any(caller: &Caller, allowed: &[Role]) -> Result<(), ServiceError> {
    caller
        .require_any(allowed)
        .map_err(|e| ServiceError::PermissionDenied(e.to_string()))
}

/// A job seeker only on their own records; the other roles on anyone's.
pub fn require_self_or(caller: &Caller, owner: &str, others: &[Role]) -> Result<(), ServiceError> {
    caller
        .require_self_or(owner, Role::JobSeeker, others)
        .map_err(|e| ServiceError::PermissionDenied(e.to_string()))
}

/// Declares which services may call an RPC with the `system` role: the
/// caller must be one of `allowed` (Art. 8: least privilege per calling
/// service); any other caller, another service or a person, is
/// PERMISSION_DENIED naming `rpc` and the services it accepts. A role list
/// of [`require_any`] never admits a service.
pub fn require_service(
    caller: &Caller,
    rpc: &str,
    allowed: &[CallingService],
) -> Result<CallingService, ServiceError> {
    caller
        .require_service(allowed)
        .map_err(|e| ServiceError::PermissionDenied(format!("{rpc}: {e}")))
}

/// An RPC that people and services call: a service must be one of
/// `services` ([`require_service`]); a person is checked by `person`
/// (typically [`require_any`] or [`require_self_or`]).
pub fn require_service_or(
    caller: &Caller,
    rpc: &str,
    services: &[CallingService],
    person: impl FnOnce(&Caller) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    match caller.service() {
        Some(_) => require_service(caller, rpc, services).map(|_| ()),
        None => person(caller),
    }
}

fn authenticate<B>(
    verifier: &TokenVerifier,
    mutual_tls: bool,
    request: &http::Request<B>,
) -> Result<Caller, AuthError> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .ok_or(AuthError::Missing)?;
    let value = header.to_str().map_err(|_| AuthError::Malformed)?;
    let caller = verifier.verify(bearer_token(value)?)?;
    if let Some(service) = caller.service()
        && mutual_tls
    {
        // The token names the service; the handshake proved the connection
        // holds the key of the certificate naming the peer. Both must agree.
        let peer = request
            .extensions()
            .get::<TlsConnectInfo>()
            .and_then(|info| info.peer.as_ref());
        if peer.map(PeerIdentity::name) != Some(service.name()) {
            return Err(AuthError::CertificateMismatch);
        }
    }
    Ok(caller)
}

/// UNAUTHENTICATED with `ErrorInfo` naming why (reason `TOKEN_EXPIRED`, …,
/// domain `hellowork`); the message is fixed text, never the token.
fn unauthenticated(error: &AuthError) -> Status {
    Status::with_error_details(
        Code::Unauthenticated,
        error.to_string(),
        ErrorDetails::with_error_info(error.reason(), ERROR_DOMAIN, HashMap::new()),
    )
}

/// Verifies every request's token; where the server runs TLS
/// (`mutual_tls`), a `system` token counts only over a connection whose
/// client certificate names the same service.
#[derive(Debug, Clone)]
pub(crate) struct AuthLayer {
    verifier: SharedVerifier,
    mutual_tls: bool,
}

impl AuthLayer {
    pub(crate) fn new(verifier: SharedVerifier, mutual_tls: bool) -> Self {
        Self {
            verifier,
            mutual_tls,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
            mutual_tls: self.mutual_tls,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AuthService<S> {
    inner: S,
    verifier: SharedVerifier,
    mutual_tls: bool,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for AuthService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        // Take the service that was polled ready; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !PUBLIC_PREFIXES
            .iter()
            .any(|p| request.uri().path().starts_with(p))
        {
            match authenticate(&self.verifier.current(), self.mutual_tls, &request) {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                }
                Err(error) => {
                    let status = unauthenticated(&error);
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            }
        }
        Box::pin(inner.call(request))
    }
}
