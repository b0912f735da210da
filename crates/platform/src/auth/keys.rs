//! The token verification keys (Art. 8): loaded at start and replaced
//! without a restart. The files `HELLOWORK_JWT_PUBLIC_KEYS` names are read
//! again when their contents change (looked at every
//! `HELLOWORK_JWT_KEYS_RELOAD_INTERVAL`) and at once on SIGHUP, so an
//! identity provider's new key is trusted, and a withdrawn one distrusted,
//! within seconds. A reload that fails (a file unreadable, a key malformed,
//! the development key in production) keeps the keys in use, logs why and
//! counts it in [`KEY_RELOADS`].

use std::{
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
};

use hellowork_auth::{AuthError, Caller, DevKey, PublicKey, TokenVerifier, VerifierConfig};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::KeyLoadError;
use crate::config::{AuthConfig, Environment, PlatformConfig};

/// Counter of key reloads by `outcome`: `success` (the keys now in use) or
/// `failure` (the previous keys kept).
pub const KEY_RELOADS: &str = "auth_key_reloads_total";

/// Token leeway for clock differences between machines.
const LEEWAY_SECONDS: u64 = 30;

/// The verifier requests are checked with; a reload replaces it whole, so a
/// request sees either the old keys or the new, never a mix.
#[derive(Debug, Clone)]
pub struct SharedVerifier(Arc<RwLock<Arc<TokenVerifier>>>);

impl SharedVerifier {
    pub fn new(verifier: TokenVerifier) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(verifier))))
    }

    /// The verifier in use now.
    pub fn current(&self) -> Arc<TokenVerifier> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verifies `token` with the keys in use now.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        self.current().verify(token)
    }

    fn replace(&self, verifier: TokenVerifier) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(verifier);
    }
}

/// The verifier for the configured keys; in development without configured
/// keys, for the local development key (generated on first use).
pub(crate) fn load_verifier(config: &PlatformConfig) -> Result<TokenVerifier, KeyLoadError> {
    let auth = &config.auth;
    if auth.public_keys.is_empty() {
        let environment = match config.environment {
            Environment::Development => "development",
            Environment::Production => hellowork_auth::PRODUCTION,
        };
        let dev = DevKey::load_or_generate(&auth.dev_key_dir, environment)?;
        return verifier(auth, vec![(dev.kid().to_owned(), dev.public_key().clone())]);
    }
    from_files(config.environment, auth, &read_files(&auth.public_keys))
}

/// The text of each configured key file, `None` where it cannot be read.
type FileContents = Vec<Result<String, (PathBuf, String)>>;

fn read_files(files: &[(String, PathBuf)]) -> FileContents {
    files
        .iter()
        .map(|(_, path)| std::fs::read_to_string(path).map_err(|e| (path.clone(), e.to_string())))
        .collect()
}

fn from_files(
    environment: Environment,
    auth: &AuthConfig,
    contents: &FileContents,
) -> Result<TokenVerifier, KeyLoadError> {
    let keys = auth
        .public_keys
        .iter()
        .zip(contents)
        .map(|((kid, _), text)| {
            let pem = text
                .as_ref()
                .map_err(|(path, problem)| KeyLoadError::File {
                    path: path.clone(),
                    source: std::io::Error::other(problem.clone()),
                })?;
            let key = PublicKey::from_pem(pem).map_err(|source| KeyLoadError::Key {
                kid: kid.clone(),
                source,
            })?;
            Ok((kid.clone(), key))
        })
        .collect::<Result<Vec<_>, KeyLoadError>>()?;
    if environment == Environment::Production {
        refuse_development_key(&keys, &auth.dev_key_dir)?;
    }
    verifier(auth, keys)
}

fn verifier(
    auth: &AuthConfig,
    keys: Vec<(String, PublicKey)>,
) -> Result<TokenVerifier, KeyLoadError> {
    Ok(TokenVerifier::new(VerifierConfig {
        issuer: auth.issuer.clone(),
        audience: auth.audience.clone(),
        keys,
        leeway_seconds: LEEWAY_SECONDS,
        max_lifetime_seconds: auth.max_lifetime.as_secs(),
    })?)
}

/// Production: no configured key may be the development signing key's
/// public half (whose tokens anyone with this machine's key folder mints),
/// under whatever key id it is configured.
fn refuse_development_key(
    keys: &[(String, PublicKey)],
    dev_key_dir: &Path,
) -> Result<(), KeyLoadError> {
    let Some(development) = DevKey::existing_public_key(dev_key_dir)? else {
        return Ok(());
    };
    match keys.iter().find(|(_, key)| *key == development) {
        Some((kid, _)) => Err(KeyLoadError::DevelopmentKeyTrusted { kid: kid.clone() }),
        None => Ok(()),
    }
}

/// Keeps `verifier` in step with the configured key files until `stop`:
/// each new state of the files is judged once (a file half-written during a
/// rotation fails, and the finished one succeeds at the next look); SIGHUP
/// judges them again at once. Nothing to do for the development key.
pub(crate) async fn reload_keys(
    verifier: SharedVerifier,
    environment: Environment,
    auth: AuthConfig,
    stop: CancellationToken,
) {
    if auth.public_keys.is_empty() {
        return;
    }
    for outcome in ["success", "failure"] {
        metrics::counter!(KEY_RELOADS, "outcome" => outcome).increment(0);
    }
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => Some(hangups),
        Err(error) => {
            tracing::warn!(error = %error, "no SIGHUP handler; key files are still polled");
            None
        }
    };
    let mut loaded = read_files(&auth.public_keys);
    let mut ticks = tokio::time::interval(auth.keys_reload_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let forced = tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => false,
            Some(()) = hangup(&mut hangups) => true,
        };
        let contents = read_files(&auth.public_keys);
        if !forced && contents == loaded {
            continue;
        }
        match from_files(environment, &auth, &contents) {
            Ok(fresh) => {
                verifier.replace(fresh);
                metrics::counter!(KEY_RELOADS, "outcome" => "success").increment(1);
                let kids: Vec<&str> = auth.public_keys.iter().map(|(k, _)| k.as_str()).collect();
                tracing::info!(?kids, forced, "token verification keys reloaded");
            }
            Err(error) => {
                metrics::counter!(KEY_RELOADS, "outcome" => "failure").increment(1);
                tracing::warn!(
                    error = crate::error::cause_chain(&error),
                    "token verification keys not reloaded; the previous keys stay in use"
                );
            }
        }
        loaded = contents;
    }
}

/// The next SIGHUP, or never without a handler.
async fn hangup(hangups: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match hangups {
        Some(hangups) => hangups.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
