//! Certificates rotate without a restart: a configuration re-reads its files
//! every interval (and, for a server, on SIGHUP) and, when they changed and
//! still form a valid configuration, new connections use it. Connections
//! already open keep the configuration they were made with, so no call in
//! flight is dropped. Files that fail to load are logged and the previous
//! configuration stays in use (a rotation caught half-written is retried at
//! the next interval).

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use crate::TlsError;

/// A configuration that can re-read its files.
pub trait Reload: Send + Sync + 'static {
    /// Re-reads the files; `true` if they changed and the new configuration
    /// is in use, `false` if nothing changed.
    fn reload(&self) -> Result<bool, TlsError>;

    /// What the log calls it (`server`, `client`).
    fn role(&self) -> &'static str;
}

/// Re-reads `config` every `interval`, and on SIGHUP when `on_hangup`, until
/// the configuration is dropped. Needs a Tokio runtime.
pub(crate) fn watch<R: Reload>(config: &Arc<R>, interval: Duration, on_hangup: bool) {
    let weak: Weak<R> = Arc::downgrade(config);
    tokio::spawn(async move {
        let mut hangup = hangup_signal(on_hangup);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            let trigger = tokio::select! {
                _ = ticks.tick() => "interval",
                () = next_hangup(&mut hangup) => "SIGHUP",
            };
            let Some(config) = weak.upgrade() else { return };
            let role = config.role();
            match tokio::task::spawn_blocking(move || config.reload()).await {
                Ok(Ok(true)) => tracing::info!(role, trigger, "tls certificates reloaded"),
                Ok(Ok(false)) => {}
                Ok(Err(error)) => tracing::warn!(
                    role,
                    error = &error as &dyn std::error::Error,
                    "tls certificates not reloaded; the previous ones stay in use"
                ),
                Err(_) => tracing::error!(role, "tls reload task panicked"),
            }
        }
    });
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal(on_hangup: bool) -> Hangup {
    use tokio::signal::unix::{SignalKind, signal};
    on_hangup
        .then(|| signal(SignalKind::hangup()))
        .and_then(|signal| match signal {
            Ok(signal) => Some(signal),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP; tls reloads on the interval only");
                None
            }
        })
}

#[cfg(not(unix))]
fn hangup_signal(_on_hangup: bool) -> Hangup {
    None
}

async fn next_hangup(hangup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(signal) = hangup.as_mut()
        && signal.recv().await.is_some()
    {
        return;
    }
    let _ = hangup;
    std::future::pending::<()>().await;
}
