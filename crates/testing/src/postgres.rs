use std::str::FromStr;

use hellowork_eventstore::{SchemaName, connect, migrate};

use crate::budget::{self, Reservation};
use sqlx::{
    Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// The database tests use: `HELLOWORK_TEST_DATABASE_URL`, by default the
/// machine's `test` database.
pub fn database_url() -> String {
    std::env::var("HELLOWORK_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The pool size of a [`TestSchema`]: enough for the concurrency the event
/// store's tests exercise (writers racing, a transaction held open while
/// others commit), small enough for the test's connection share.
pub const SCHEMA_POOL: u32 = 8;

/// What the event stores, relays and tailing projections a test runs on a
/// [`TestSchema`] hold outside its pool: two stores' writer pools
/// (`StoreConfig::new`'s four connections each), a relay's leadership
/// session and `LISTEN`, and two tailers' `LISTEN`.
const SCHEMA_SESSIONS: u32 = 2 * 4 + 2 + 2;

/// What a [`TestSchema`] declares to the connection budget: its pool, the
/// sessions above and the connection that creates and drops the schema.
const SCHEMA_CONNECTIONS: u32 = SCHEMA_POOL + SCHEMA_SESSIONS + 1;

/// A migrated schema of its own, dropped (with everything in it) on drop.
#[derive(Debug)]
pub struct TestSchema {
    pub pool: PgPool,
    pub name: SchemaName,
    options: PgConnectOptions,
    /// Last to drop: the connections above count until they are closed.
    _budget: Reservation,
}

impl TestSchema {
    /// Creates and migrates `t_<prefix>_<random>`.
    pub async fn create(prefix: &str) -> Self {
        Self::create_at(&database_url(), prefix).await
    }

    /// The same on another server (a test's private PostgreSQL).
    pub async fn create_at(url: &str, prefix: &str) -> Self {
        let budget = budget::reserve(url, SCHEMA_CONNECTIONS);
        let options = PgConnectOptions::from_str(url).expect("valid test database url");
        let name = SchemaName::new(format!("t_{prefix}_{}", crate::unique_suffix()))
            .expect("test schema name");
        let pool = connect(
            options.clone(),
            &name,
            PgPoolOptions::new().max_connections(SCHEMA_POOL),
        )
        .await
        .expect("connect to the test database");
        migrate(&pool).await.expect("migrate the test schema");
        Self {
            pool,
            name,
            options,
            _budget: budget,
        }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let options = self.options.clone();
        let schema = self.name.as_str().to_owned();
        // The pool is not closed here: its connections are driven by the
        // test's runtime, which is blocked while this clean-up runs.
        crate::block_on_cleanup(async move {
            if let Ok(mut conn) = PgConnection::connect_with(&options).await {
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        });
    }
}
