//! Where a benchmark run writes: Postgres schemas, JetStream streams and
//! temporary directories of its own, named after the run so that runs (and
//! tests) never share state, and removed again when the run ends — after the
//! services the run started on them have stopped.

use std::{env::VarError, path::PathBuf, str::FromStr, time::Duration};

use anyhow::Context as _;
use async_nats::jetstream;
use hellowork_eventstore::{EventStreamConfig, SchemaName, ensure_stream};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const DATABASE_URL_VAR: &str = "HELLOWORK_BENCH_DATABASE_URL";
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NATS_URL_VAR: &str = "HELLOWORK_BENCH_NATS_URL";
const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";
/// How long a service of the run may take to stop before its schema is
/// dropped anyway (its in-flight work is the run's own, so nothing is lost).
const SERVICE_STOP: Duration = Duration::from_secs(10);

/// Where PostgreSQL and NATS are.
#[derive(Debug)]
pub struct Settings {
    database: PgConnectOptions,
    database_url: String,
    nats_url: String,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let database_url = var_or(DATABASE_URL_VAR, DEFAULT_DATABASE_URL)?;
        let database = PgConnectOptions::from_str(&database_url).with_context(|| {
            format!("{DATABASE_URL_VAR} is not a postgres url: {database_url:?}")
        })?;
        Ok(Self {
            database,
            database_url,
            nats_url: var_or(NATS_URL_VAR, DEFAULT_NATS_URL)?,
        })
    }
}

fn var_or(name: &str, default: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(value) => Ok(value),
        Err(VarError::NotPresent) => Ok(default.to_owned()),
        Err(VarError::NotUnicode(_)) => anyhow::bail!("{name} is not valid unicode"),
    }
}

/// The run's resources. Each is recorded *before* it is created, so that
/// [`Scratch::clean_up`] also removes one whose creation failed half way.
#[derive(Debug)]
pub struct Scratch {
    run_id: String,
    database: PgConnectOptions,
    database_url: String,
    nats_url: String,
    jetstream: jetstream::Context,
    schemas: Vec<SchemaName>,
    streams: Vec<String>,
    directories: Vec<PathBuf>,
    services: Vec<(CancellationToken, JoinHandle<()>)>,
}

impl Scratch {
    /// Connects to NATS and checks that PostgreSQL answers, so a wrong URL
    /// fails before any measurement starts.
    pub async fn open(settings: Settings) -> anyhow::Result<Self> {
        let client = async_nats::connect(&settings.nats_url)
            .await
            .with_context(|| {
                format!(
                    "connecting to nats at {} ({NATS_URL_VAR})",
                    settings.nats_url
                )
            })?;
        PgConnection::connect_with(&settings.database)
            .await
            .with_context(|| {
                format!(
                    "connecting to postgres at {} ({DATABASE_URL_VAR})",
                    settings.database_url
                )
            })?
            .close()
            .await?;
        Ok(Self {
            run_id: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            database: settings.database,
            database_url: settings.database_url,
            nats_url: settings.nats_url,
            jetstream: jetstream::new(client),
            schemas: Vec::new(),
            streams: Vec::new(),
            directories: Vec::new(),
            services: Vec::new(),
        })
    }

    pub fn database(&self) -> &PgConnectOptions {
        &self.database
    }

    /// The URLs themselves, for services configured by variables.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn nats_url(&self) -> &str {
        &self.nats_url
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// The name of a schema of this run, `bench_<run>_<role>`, dropped at the
    /// end; `hellowork_eventstore::connect` creates it.
    pub fn schema(&mut self, role: &str) -> anyhow::Result<SchemaName> {
        let name = SchemaName::new(format!("bench_{}_{role}", self.run_id))
            .map_err(|reason| anyhow::anyhow!(reason))?;
        self.schemas.push(name.clone());
        Ok(name)
    }

    /// A fresh JetStream stream of this run (`BENCH_<RUN>_<ROLE>` on
    /// `bench_<run>_<role>.bench.v1.>`), deleted at the end.
    pub async fn stream(&mut self, role: &str) -> anyhow::Result<EventStreamConfig> {
        let config = EventStreamConfig::new(
            format!("BENCH_{}_{}", self.run_id, role).to_uppercase(),
            format!("bench_{}_{role}.bench.v1", self.run_id),
        );
        self.streams.push(config.stream_name.clone());
        ensure_stream(&self.jetstream, &config)
            .await
            .with_context(|| format!("creating jetstream stream {}", config.stream_name))?;
        Ok(config)
    }

    /// A fresh directory of this run (`<tmp>/hellowork-bench-<run>-<role>`),
    /// removed at the end.
    pub fn directory(&mut self, role: &str) -> anyhow::Result<PathBuf> {
        let path = std::env::temp_dir().join(format!("hellowork-bench-{}-{role}", self.run_id));
        self.directories.push(path.clone());
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(path)
    }

    /// A service the run started on its resources: stopped (by cancelling
    /// `shutdown`, then awaiting `task`) before they are removed, so that it
    /// never works on a dropped schema or a deleted stream.
    pub fn service(&mut self, shutdown: CancellationToken, task: JoinHandle<()>) {
        self.services.push((shutdown, task));
    }

    /// Stops the run's services, then drops every schema and deletes every
    /// stream and directory of the run. Failures are reported, not returned:
    /// the benchmark's own outcome matters more, and the names say what to
    /// remove by hand.
    pub async fn clean_up(self) {
        for (shutdown, mut task) in self.services {
            shutdown.cancel();
            if tokio::time::timeout(SERVICE_STOP, &mut task).await.is_err() {
                eprintln!("warning: a service did not stop within {SERVICE_STOP:?}; aborted");
                task.abort();
            }
        }
        match PgConnection::connect_with(&self.database).await {
            Ok(mut conn) => {
                for schema in &self.schemas {
                    // `SchemaName` admits only [a-z0-9_], so it needs no quoting.
                    let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.as_str());
                    if let Err(error) = sqlx::query(&drop).execute(&mut conn).await {
                        eprintln!(
                            "warning: could not drop schema {}: {error}",
                            schema.as_str()
                        );
                    }
                }
                let _ = conn.close().await;
            }
            Err(error) => eprintln!(
                "warning: could not connect to drop schemas {:?}: {error}",
                self.schemas
                    .iter()
                    .map(SchemaName::as_str)
                    .collect::<Vec<_>>()
            ),
        }
        for stream in &self.streams {
            let Err(error) = self.jetstream.delete_stream(stream).await else {
                continue;
            };
            // Its creation failed: nothing to delete.
            let not_found = matches!(
                error.kind(),
                jetstream::context::DeleteStreamErrorKind::JetStream(error)
                    if error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            );
            if !not_found {
                eprintln!("warning: could not delete stream {stream}: {error}");
            }
        }
        for directory in &self.directories {
            if let Err(error) = std::fs::remove_dir_all(directory)
                && error.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!("warning: could not remove {}: {error}", directory.display());
            }
        }
    }
}
