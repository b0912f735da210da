//! Connecting a service to its own Postgres schema and migrating it.

use sqlx::{
    Connection, PgConnection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

use crate::error::StoreError;

/// A Postgres schema name a service owns: lowercase letters, digits and `_`,
/// starting with a letter or `_`, at most 63 bytes (Postgres' identifier limit).
/// Being this strict makes it safe to interpolate into DDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaName(String);

impl SchemaName {
    pub fn new(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into();
        let valid_start = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let valid_rest = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid_start && valid_rest && name.len() <= 63 && !name.starts_with("pg_") {
            Ok(Self(name))
        } else {
            Err(format!(
                "schema name must match [a-z_][a-z0-9_]{{0,62}} and not start with pg_: {name:?}"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pooled connection idle this long is pinged before it is lent: one that
/// died idle (a database restart, a dropped route) is replaced instead of
/// failing a request. One in steady use is not, as a ping before every
/// query would double its round trips; if it dies, that one request fails
/// (UNAVAILABLE, retried by the caller) and the pool replaces it.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Opens a pool (sized and timed by `pool`) whose connections work in
/// `schema`, which is created if missing; only connections idle for
/// [`PING_AFTER_IDLE`] are pinged before they are lent.
pub async fn connect(
    options: PgConnectOptions,
    schema: &SchemaName,
    pool: PgPoolOptions,
) -> Result<PgPool, StoreError> {
    let mut admin = PgConnection::connect_with(&options).await?;
    // The name is validated by `SchemaName`, so it needs no further quoting.
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {}", schema.as_str()))
        .execute(&mut admin)
        .await?;
    admin.close().await?;

    let pool = pool
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await?;
    Ok(pool)
}

/// A `LISTEN` on `channel` in a session of its own, outside `pool`: a
/// listener keeps its connection for as long as it lives, which taken from a
/// small pool would leave requests waiting for the rest. The session has the
/// pool's options (the schema's search path) and reconnects by itself.
pub(crate) async fn listen_outside(
    pool: &PgPool,
    channel: &str,
) -> Result<PgListener, sqlx::Error> {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with((*pool.connect_options()).clone());
    let mut listener = PgListener::connect_with(&own).await?;
    // Nothing closes the private pool: the listener ends when it is dropped.
    listener.ignore_pool_close_event(true);
    listener.listen(channel).await?;
    Ok(listener)
}

/// Identifies the store's schema: changes whenever one of its migrations
/// does (test templates are keyed by it, so a stale one is never used).
pub fn schema_fingerprint() -> String {
    let migrator: Migrator = sqlx::migrate!();
    migrator
        .iter()
        .map(|m| {
            let checksum: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}:{checksum}", m.version)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Applies the store's migrations to the pool's schema. sqlx holds a Postgres
/// advisory lock while migrating, so replicas starting together are safe.
/// Migrations the store does not know (a service's own, recorded in the same
/// table) are left alone.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut migrator: Migrator = sqlx::migrate!();
    migrator.set_ignore_missing(true);
    migrator.run(pool).await?;
    Ok(())
}
