//! The running service under test and a connection to it and its database:
//! one call judged at a time, checked to have written nothing unless OK
//! (or a refusal on record by design), with the service healthy after it.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use tonic::{
    Status, codegen::http::uri::PathAndQuery, metadata::AsciiMetadataValue, transport::Channel,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use uuid::Uuid;

use super::{Outcome, RawCodec, Rpc, judge};
use crate::ServiceEnv;

/// How long one call may take before it counts as a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long health may report NOT_SERVING before it counts as a failure.
const READINESS_GRACE: Duration = Duration::from_secs(2);

/// The running service under test.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Full protobuf name, e.g. `hellowork.consent.v1.ConsentService`.
    pub service: &'a str,
    /// The name it reports on gRPC health.
    pub health: &'a str,
    /// Its Postgres schema, whose `events` table must not grow on refusals.
    pub schema: &'a str,
    pub addr: SocketAddr,
    /// Mints its tokens.
    pub env: &'a ServiceEnv,
    /// RPCs whose refusals of an authenticated caller are on record by
    /// design, with the one event type each refusal writes (Art. 7(2): a
    /// refused disclosure). Invalid requests and bad tokens of these RPCs
    /// still write nothing.
    pub recorded_refusals: &'a [(&'a str, &'a str)],
}

/// A connection to the service under test and to its database.
pub(super) struct Session<'a> {
    pub(super) target: Target<'a>,
    channel: Channel,
    pool: sqlx::PgPool,
}

impl<'a> Session<'a> {
    pub(super) async fn open(target: Target<'a>) -> Self {
        let channel = Channel::from_shared(format!("http://{}", target.addr))
            .expect("a valid address")
            .connect()
            .await
            .expect("connect to the service under test");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&target.env.database.url)
            .await
            .expect("connect to the service's database");
        Self {
            target,
            channel,
            pool,
        }
    }

    async fn events(&self) -> i64 {
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}.events",
            self.target.schema
        ))
        .fetch_one(&self.pool)
        .await
        .expect("count the service's events")
    }

    /// Waits until the event count holds still for a moment (2 s at most).
    async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut count = self.events().await;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
            let now = self.events().await;
            if now == count {
                return;
            }
            count = now;
        }
    }

    /// The last `n` events: type and correlation id, for a report.
    async fn last_events(&self, n: i64) -> Vec<(String, String)> {
        sqlx::query_as(&format!(
            "SELECT event_type, correlation_id::text FROM {}.events ORDER BY position DESC LIMIT $1",
            self.target.schema
        ))
        .bind(n)
        .fetch_all(&self.pool)
        .await
        .expect("read the service's events")
    }

    /// Health answers, and SERVING within [`READINESS_GRACE`]: readiness
    /// probes PostgreSQL every 100 ms in tests and reports NOT_SERVING for
    /// one probe slower than that, which a loaded machine (two test worlds
    /// in parallel) sometimes takes; a service broken by bad input stays
    /// down or stops answering.
    pub(super) async fn healthy(&self) -> Result<(), String> {
        let deadline = Instant::now() + READINESS_GRACE;
        loop {
            let answer = tokio::time::timeout(
                CALL_TIMEOUT,
                HealthClient::new(self.channel.clone()).check(HealthCheckRequest {
                    service: self.target.health.to_owned(),
                }),
            )
            .await
            .map_err(|_| "health check timed out".to_owned())?
            .map_err(|s| format!("health check failed: {s:?}"))?;
            match answer.into_inner().status() {
                ServingStatus::Serving => return Ok(()),
                other if Instant::now() >= deadline => {
                    return Err(format!("health is {other:?} for {READINESS_GRACE:?}"));
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Calls `rpc` with `messages` (one for a unary RPC) as they are.
    async fn call(
        &self,
        rpc: &Rpc,
        messages: Vec<Vec<u8>>,
        authorization: Option<AsciiMetadataValue>,
        correlation: Uuid,
    ) -> Result<Vec<u8>, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready()
            .await
            .map_err(|e| Status::unknown(format!("channel not ready: {e}")))?;
        let path = PathAndQuery::try_from(rpc.path.as_str()).expect("a valid path");
        let decorate = |metadata: &mut tonic::metadata::MetadataMap| {
            if let Some(value) = authorization.clone() {
                metadata.insert("authorization", value);
            }
            metadata.insert(
                "x-correlation-id",
                correlation
                    .to_string()
                    .parse()
                    .expect("a UUID is valid metadata"),
            );
        };
        let call = async {
            if rpc.client_streaming {
                let mut request = tonic::Request::new(tokio_stream::iter(messages));
                decorate(request.metadata_mut());
                grpc.client_streaming(request, path, RawCodec).await
            } else {
                let message = messages.into_iter().next().unwrap_or_default();
                let mut request = tonic::Request::new(message);
                decorate(request.metadata_mut());
                grpc.unary(request, path, RawCodec).await
            }
        };
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("the call did not finish in 10 s")),
        }
    }

    /// One call, judged: its outcome, checked to have written nothing
    /// unless OK, with the service healthy afterwards.
    pub(super) async fn check(
        &self,
        rpc: &Rpc,
        messages: Vec<Vec<u8>>,
        authorization: Option<AsciiMetadataValue>,
    ) -> Result<Outcome, String> {
        let before = self.events().await;
        let correlation = Uuid::now_v7();
        let largest = messages.iter().map(Vec::len).max().unwrap_or(0);
        let result = self.call(rpc, messages, authorization, correlation).await;
        let outcome = judge(&result, largest);
        if matches!(outcome, Ok(Outcome::Ok)) {
            // What an accepted call's events set off (process managers)
            // settles before the next call counts events.
            if self.events().await != before {
                self.settle().await;
            }
        } else {
            let after = self.events().await;
            let recorded = self
                .target
                .recorded_refusals
                .iter()
                .find(|(method, _)| *method == rpc.method)
                .map(|(_, event_type)| *event_type);
            let written = if after == before {
                Vec::new()
            } else {
                self.last_events(after - before).await
            };
            let on_record = |written: &[(String, String)]| {
                matches!(written, [(event_type, id)]
                    if Some(event_type.as_str()) == recorded && *id == correlation.to_string())
            };
            let may_record = matches!(
                outcome,
                Ok(Outcome::Refused
                    | Outcome::State
                    | Outcome::NotFound
                    | Outcome::PermissionDenied)
            );
            if after != before && !(may_record && on_record(&written)) {
                return Err(format!(
                    "{} answered {:?} but {} event(s) were written (type, correlation id): {written:?}; this call's correlation id is {correlation}",
                    rpc.method,
                    result.err().map(|s| (s.code(), s.message().to_owned())),
                    after - before
                ));
            }
        }
        self.healthy()
            .await
            .map_err(|e| format!("after {}: {e}", rpc.method))?;
        outcome
    }
}
