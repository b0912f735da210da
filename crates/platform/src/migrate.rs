//! Schema set-up at start-up, safe when several replicas start at once.

use sqlx::{Connection, PgConnection, PgPool, migrate::Migrator, postgres::PgPoolOptions};

use crate::config::DatabaseConfig;

/// Creates the service's schema and runs the event store's and the service's
/// own migrations, all under one advisory lock per schema, so replicas
/// starting together wait for each other instead of racing on DDL. Returns a
/// pool whose connections work in the schema.
pub async fn prepare_database(
    database: &DatabaseConfig,
    service_migrations: &Migrator,
) -> Result<PgPool, sqlx::Error> {
    let options = database.options.expose().clone();
    let mut lock = PgConnection::connect_with(&options).await?;
    let key = format!("hellowork.migrate.{}", database.schema.as_str());
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
        .bind(&key)
        .execute(&mut lock)
        .await?;
    let prepared = async {
        let pool_options = PgPoolOptions::new()
            .max_connections(database.max_connections)
            .acquire_timeout(database.acquire_timeout);
        let pool = hellowork_eventstore::connect(options, &database.schema, pool_options)
            .await
            .map_err(store_to_sqlx)?;
        hellowork_eventstore::migrate(&pool)
            .await
            .map_err(store_to_sqlx)?;
        let mut service = Migrator {
            migrations: service_migrations.migrations.clone(),
            ..Migrator::DEFAULT
        };
        // The event store's migrations share the schema's history table.
        service.set_ignore_missing(true);
        service.run(&pool).await?;
        Ok::<_, sqlx::Error>(pool)
    }
    .await;
    // Closing the session releases the lock even if unlocking fails.
    let _ = lock.close().await;
    prepared
}

fn store_to_sqlx(error: hellowork_eventstore::StoreError) -> sqlx::Error {
    match error {
        hellowork_eventstore::StoreError::Database(error) => error,
        hellowork_eventstore::StoreError::Migration(error) => sqlx::Error::Migrate(Box::new(error)),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
