use std::str::FromStr;

use hellowork_eventstore::{SchemaName, connect, migrate};
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

/// A migrated schema of its own, dropped (with everything in it) on drop.
#[derive(Debug)]
pub struct TestSchema {
    pub pool: PgPool,
    pub name: SchemaName,
    options: PgConnectOptions,
}

impl TestSchema {
    /// Creates and migrates `t_<prefix>_<random>`.
    pub async fn create(prefix: &str) -> Self {
        Self::create_at(&database_url(), prefix).await
    }

    /// The same on another server (a test's private PostgreSQL).
    pub async fn create_at(url: &str, prefix: &str) -> Self {
        let options = PgConnectOptions::from_str(url).expect("valid test database url");
        let name = SchemaName::new(format!("t_{prefix}_{}", crate::unique_suffix()))
            .expect("test schema name");
        let pool = connect(
            options.clone(),
            &name,
            PgPoolOptions::new().max_connections(16),
        )
        .await
        .expect("connect to the test database");
        migrate(&pool).await.expect("migrate the test schema");
        Self {
            pool,
            name,
            options,
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
