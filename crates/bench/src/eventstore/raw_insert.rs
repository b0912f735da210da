//! Contender: a plain single-row INSERT per command in autocommit, one
//! connection per writer: one commit (one WAL flush) per event, the
//! durability limit of this PostgreSQL without batching.

use anyhow::Context as _;
use hellowork_eventstore::{SchemaName, connect};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, postgres::PgConnectOptions};
use uuid::Uuid;

use super::{
    measure::{Measurement, Timing, Writer, run_writers},
    workload::{Streams, payload},
};
use crate::scratch::Scratch;

#[derive(Debug)]
pub struct RawInsert {
    database: PgConnectOptions,
    schema: SchemaName,
}

impl RawInsert {
    pub async fn setup(scratch: &mut Scratch) -> anyhow::Result<Self> {
        let raw = Self {
            database: scratch.database().clone(),
            schema: scratch.schema("raw")?,
        };
        let pool = connect(
            raw.database.clone(),
            &raw.schema,
            PgPoolOptions::new().max_connections(1),
        )
        .await?;
        // The same row shape as an event, with the unique (stream, version)
        // that the event stores' concurrency checks rely on, so the index
        // work per row is comparable too.
        sqlx::query(
            "CREATE TABLE raw_events (id uuid PRIMARY KEY, stream text NOT NULL, \
             version bigint NOT NULL, payload bytea NOT NULL, UNIQUE (stream, version))",
        )
        .execute(&pool)
        .await
        .context("creating the raw insert table")?;
        pool.close().await;
        Ok(raw)
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
        let writers = (0..writers)
            .map(|w| InsertWriter {
                pool: pool.clone(),
                streams: Streams::new(&label, w),
                payload: payload(),
            })
            .collect();
        let measurement = run_writers(writers, timing).await;
        pool.close().await;
        measurement
    }
}

#[derive(Debug)]
struct InsertWriter {
    pool: PgPool,
    streams: Streams,
    payload: Vec<u8>,
}

impl Writer for InsertWriter {
    async fn command(&mut self) -> anyhow::Result<()> {
        let (stream, version) = self.streams.next();
        sqlx::query(
            "INSERT INTO raw_events (id, stream, version, payload) VALUES ($1, $2, $3, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(&stream)
        .bind(i64::try_from(version + 1)?)
        .bind(&self.payload)
        .execute(&self.pool)
        .await
        .with_context(|| format!("inserting into {stream}"))?;
        Ok(())
    }
}
