//! The tonic side of authentication: an interceptor that turns the
//! `authorization` metadata into a [`Caller`] in the request's extensions, the
//! accessor handlers use to get it back, and the one mapping of
//! [`AuthError`] to `tonic::Status`.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::bearer::bearer_token;
use crate::caller::Caller;
use crate::error::AuthError;
use crate::verifier::TokenVerifier;

/// The metadata key the bearer token travels in.
pub const AUTHORIZATION: &str = "authorization";

/// Authenticates every request of the service it wraps:
/// `FooServer::with_interceptor(service, AuthInterceptor::new(verifier))`.
/// Health and reflection are separate services mounted without it.
#[derive(Debug, Clone)]
pub struct AuthInterceptor {
    verifier: Arc<TokenVerifier>,
}

impl AuthInterceptor {
    /// An interceptor accepting the tokens `verifier` accepts.
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        Self { verifier }
    }

    fn authenticate<T>(&self, request: &Request<T>) -> Result<Caller, AuthError> {
        let value = request
            .metadata()
            .get(AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Malformed)?;
        self.verifier.verify(bearer_token(value)?)
    }
}

impl Interceptor for AuthInterceptor {
    /// Inserts the verified [`Caller`] into the request's extensions, or
    /// answers UNAUTHENTICATED saying why the token was not accepted.
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        match self.authenticate(&request) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            Err(error) => {
                tracing::debug!(reason = %error, "request not authenticated");
                Err(error.into())
            }
        }
    }
}

/// The caller the [`AuthInterceptor`] identified. A request without one means
/// the service was mounted without the interceptor: that is a server fault,
/// answered INTERNAL and logged, never let through.
pub fn caller<T>(request: &Request<T>) -> Result<&Caller, Status> {
    request.extensions().get::<Caller>().ok_or_else(|| {
        tracing::error!("request has no caller; is the service mounted without AuthInterceptor");
        Status::internal("caller identity unavailable")
    })
}

impl From<AuthError> for Status {
    /// UNAUTHENTICATED when the caller could not be identified,
    /// PERMISSION_DENIED when it may not do what it asked; the message is the
    /// error's fixed text.
    fn from(error: AuthError) -> Self {
        if error.is_unauthenticated() {
            Status::unauthenticated(error.to_string())
        } else {
            Status::permission_denied(error.to_string())
        }
    }
}
