//! Contender: `cqrs-es` 0.5 with `postgres-es` 0.5, the event-sourcing
//! crates a Rust user would pick, writing to its documented `events` table.
//!
//! Commands go straight to `PostgresEventRepository::persist`, the
//! framework's commit step (a transaction inserting the event, whose primary
//! key is its concurrency check). `CqrsFramework::execute` would also load
//! the aggregate first, a read per command that our `append` does not do;
//! leaving it out compares append with append.

use sqlx::postgres::PgPoolOptions;
use std::convert::Infallible;

use anyhow::Context as _;
use cqrs_es::{
    Aggregate, DomainEvent,
    event_sink::EventSink,
    persist::{PersistedEventRepository, SerializedEvent},
};
use hellowork_eventstore::{SchemaName, connect};
use postgres_es::PostgresEventRepository;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;

use super::{
    measure::{Measurement, Timing, Writer, run_writers},
    workload::{PAYLOAD_BYTES, Streams},
};
use crate::scratch::Scratch;

/// How the peer is named in the report.
pub const PEER: &str = "cqrs-es 0.5 + postgres-es 0.5";

#[derive(Debug)]
pub struct CqrsEs {
    database: PgConnectOptions,
    schema: SchemaName,
}

impl CqrsEs {
    pub async fn setup(scratch: &mut Scratch) -> anyhow::Result<Self> {
        let peer = Self {
            database: scratch.database().clone(),
            schema: scratch.schema("cqrs")?,
        };
        let pool = connect(
            peer.database.clone(),
            &peer.schema,
            PgPoolOptions::new().max_connections(1),
        )
        .await?;
        // postgres-es' `db/init.sql`; its snapshot table is not needed since
        // nothing here snapshots.
        sqlx::query(
            "CREATE TABLE events ( \
                 aggregate_type text NOT NULL, \
                 aggregate_id text NOT NULL, \
                 sequence bigint CHECK (sequence >= 0) NOT NULL, \
                 event_type text NOT NULL, \
                 event_version text NOT NULL, \
                 payload json NOT NULL, \
                 metadata json NOT NULL, \
                 PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
        )
        .execute(&pool)
        .await
        .context("creating the postgres-es events table")?;
        pool.close().await;
        Ok(peer)
    }

    pub async fn measure(&self, writers: usize, timing: Timing) -> anyhow::Result<Measurement> {
        let connections = u32::try_from(writers)?;
        let pool = connect(
            self.database.clone(),
            &self.schema,
            PgPoolOptions::new().max_connections(connections),
        )
        .await?;
        let label = format!("c{writers}");
        let event = serde_json::to_value(deposited())?;
        let writers = (0..writers)
            .map(|w| PersistWriter {
                repository: PostgresEventRepository::new(pool.clone()),
                streams: Streams::new(&label, w),
                event: event.clone(),
            })
            .collect();
        let measurement = run_writers(writers, timing).await;
        pool.close().await;
        measurement
    }
}

/// The aggregate the repository is typed by (it stores `A::TYPE`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Account {
    balance: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum AccountEvent {
    Deposited { amount: i64, memo: String },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        "Deposited".to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug)]
struct Deposit {
    amount: i64,
}

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Command = Deposit;
    type Event = AccountEvent;
    type Error = Infallible;
    type Services = ();

    async fn handle(
        &mut self,
        command: Deposit,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Infallible> {
        let event = AccountEvent::Deposited {
            amount: command.amount,
            memo: String::new(),
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::Deposited { amount, .. } => self.balance += amount,
        }
    }
}

/// A `Deposited` event whose JSON is [`PAYLOAD_BYTES`] long, like the
/// payload the other contenders write.
fn deposited() -> AccountEvent {
    let overhead = serde_json::to_string(&AccountEvent::Deposited {
        amount: 100,
        memo: String::new(),
    })
    .map_or(0, |json| json.len());
    AccountEvent::Deposited {
        amount: 100,
        memo: "m".repeat(PAYLOAD_BYTES.saturating_sub(overhead)),
    }
}

// No Debug: the repository does not implement it.
struct PersistWriter {
    repository: PostgresEventRepository,
    streams: Streams,
    event: serde_json::Value,
}

impl Writer for PersistWriter {
    async fn command(&mut self) -> anyhow::Result<()> {
        let (stream, version) = self.streams.next();
        let event = SerializedEvent::new(
            stream,
            usize::try_from(version + 1)?,
            Account::TYPE.to_owned(),
            "Deposited".to_owned(),
            "1.0".to_owned(),
            self.event.clone(),
            serde_json::Value::Object(serde_json::Map::new()),
        );
        self.repository
            .persist::<Account>(std::slice::from_ref(&event), None)
            .await
            .with_context(|| {
                format!(
                    "persisting to {} at sequence {}",
                    event.aggregate_id, event.sequence
                )
            })?;
        Ok(())
    }
}
