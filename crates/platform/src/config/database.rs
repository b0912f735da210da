//! The database settings: `HELLOWORK_DATABASE_URL` (a secret, TLS verified
//! in production), the schema, and the sizes and patience of the pools.

use std::time::Duration;

use hellowork_eventstore::SchemaName;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use super::{ConfigError, Secret, Vars};

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Parsed from `HELLOWORK_DATABASE_URL`, which may carry a password.
    pub options: Secret<PgConnectOptions>,
    pub schema: SchemaName,
    pub max_connections: u32,
    /// The event store writers' own connections, beside the pool (see
    /// `hellowork_eventstore::StoreConfig::writer_connections`).
    pub writer_connections: u32,
    /// How long a request waits for a connection of an exhausted pool before
    /// the database counts as unavailable (UNAVAILABLE, not a request
    /// hanging until its deadline).
    pub acquire_timeout: Duration,
}

impl Vars {
    /// `DATABASE_URL`; the error never includes the value (it may hold a
    /// password). TLS to PostgreSQL is the URL's `sslmode` (and
    /// `sslrootcert`); production requires `verify-full` or `verify-ca`, so
    /// the connection is encrypted and the server proven, never `prefer`'s
    /// quiet fallback to plaintext.
    pub(super) fn database_url(&self, production: bool) -> Result<PgConnectOptions, ConfigError> {
        const NAME: &str = "DATABASE_URL";
        let url = self
            .get(NAME)
            .unwrap_or("postgres://postgres@127.0.0.1:5432/test");
        let problem = "must be a postgres://user@host:port/database url";
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(self.error(NAME, problem));
        }
        let options: PgConnectOptions = url.parse().map_err(|_| self.error(NAME, problem))?;
        let verified = matches!(
            options.get_ssl_mode(),
            PgSslMode::VerifyFull | PgSslMode::VerifyCa
        );
        if production && !verified {
            return Err(self.error(
                NAME,
                "production requires sslmode=verify-full (or verify-ca) and sslrootcert",
            ));
        }
        Ok(options)
    }
}
