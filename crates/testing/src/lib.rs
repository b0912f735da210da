//! Test support shared by every crate's tests.
//!
//! - [`eventually`]: polling with a deadline and a backoff, the one way
//!   tests wait for what the system does eventually.
//! - [`budget`]: the connection budget every database resource below draws
//!   on, so the suite never exceeds the server's `max_connections`.
//! - [`TestSchema`]: a Postgres schema of its own per test, migrated, dropped
//!   afterwards, so tests run in parallel and never see each other's rows.
//! - [`TestStream`]: a JetStream stream with its own name and subjects on the
//!   shared NATS server, deleted afterwards.
//! - [`TestDatabase`]: a database of its own per test, cloned from a
//!   template migrated once.
//! - [`NatsServer`] and [`PostgresServer`]: private servers on free ports,
//!   for tests that must stop and restart the broker or the database.
//! - [`ServiceEnv`]: what one service under test needs (database, stream,
//!   signing key, `HELLOWORK_*` variables) and tokens for any role.
//! - [`ServiceProcess`]: a service binary running as its own process.
//! - [`Port`]: a port for a server a test starts as a process, reserved
//!   below the ephemeral range so nothing else takes it meanwhile.
//! - [`Scenario`]: given/when/then for pure aggregates.
//!   [`ServiceEnv::mint`] mints them for a `hellowork_journey::JourneyClient`.
//! - [`terms::terms_of_use`]: the office's terms text beside the checkout,
//!   or the stand-in written for this project where it is absent.
//! - [`bad_input`]: every RPC of a service called with generated bad
//!   requests and bad tokens (no panic, no write, only INVALID_ARGUMENT,
//!   refusals with details or UNAUTHENTICATED).

pub mod bad_input;
pub mod budget;
mod database;
pub mod eventually;
mod fingerprint;
mod nats_server;
mod ports;
mod postgres;
mod postgres_server;
mod scenario;
mod service_env;
mod service_process;
mod stream;
pub mod terms;

pub use database::TestDatabase;
pub use eventually::{eventually, eventually_within};
pub use fingerprint::template_fingerprint;
/// The environment report that passes every check; defined beside the
/// contract so the demo, which may not depend on this crate, shares it.
pub use hellowork_proto::examples::passing_environment;
pub use nats_server::NatsServer;
pub use ports::Port;
pub use postgres::{TestSchema, database_url};
pub use postgres_server::PostgresServer;
pub use scenario::Scenario;
pub use service_env::ServiceEnv;
pub use service_process::ServiceProcess;
pub use stream::{TestStream, nats_url, signed_envelope};

/// Runs an async clean-up to completion from `Drop`, on a thread of its own so
/// it works whether or not the dropping thread is inside a Tokio runtime.
fn block_on_cleanup<F: std::future::Future<Output = ()> + Send + 'static>(cleanup: F) {
    let _ = block_on(cleanup);
}

/// Runs `work` to completion on a thread and runtime of its own (so from
/// sync code, inside a Tokio runtime or not); `None` if that thread could
/// not run it.
fn block_on<T, F>(work: F) -> Option<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let worker = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()
            .map(|runtime| runtime.block_on(work))
    });
    worker.join().ok().flatten()
}

/// A short unique suffix for names of per-test resources.
fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}
