//! Health that reflects real readiness: SERVING only while PostgreSQL answers
//! and the NATS connection is up.

use std::time::Duration;

use async_nats::connection::State;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic_health::{ServingStatus, server::HealthReporter};

/// Checks the dependencies every `interval` and reports `names` (and the
/// whole server, `""`) accordingly, until `stop`.
pub(crate) async fn monitor(
    reporter: HealthReporter,
    names: Vec<String>,
    pool: PgPool,
    nats: async_nats::Client,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut last = None;
    loop {
        let ready =
            database_answers(&pool, interval).await && nats.connection_state() == State::Connected;
        if last != Some(ready) {
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            tracing::info!(ready, "readiness changed");
            set_all(&reporter, &names, status).await;
            last = Some(ready);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

async fn database_answers(pool: &PgPool, within: Duration) -> bool {
    let probe = sqlx::query("SELECT 1").execute(pool);
    matches!(tokio::time::timeout(within, probe).await, Ok(Ok(_)))
}

pub(crate) async fn set_all(reporter: &HealthReporter, names: &[String], status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in names {
        reporter.set_service_status(name, status).await;
    }
}
