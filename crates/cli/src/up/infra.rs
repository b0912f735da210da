//! PostgreSQL and NATS for `hellowork up`: the configured ones
//! (`HELLOWORK_DATABASE_URL`, `HELLOWORK_NATS_URL`) when they answer, else
//! private instances when their programs are installed, so a fresh machine
//! needs no manual set-up. The database is created if missing and every
//! service's JetStream stream exists before the services start (each would
//! create its own, but the others' consumers would wait for it meanwhile).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use hellowork_eventstore::EventStreamConfig;
use hellowork_platform::{
    PlatformConfig, Service,
    nats_accounts::{DevNatsAccounts, NatsServerTls},
};
use hellowork_tls::dev_pki::DevPki;
use sqlx::{Connection as _, PgConnection, postgres::PgConnectOptions};

use super::private::{PrivateNats, PrivatePostgres};

/// How long a configured server may take to answer before it counts as
/// not running.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the servers are, and the private ones to stop afterwards.
#[derive(Debug)]
pub struct Infra {
    /// `HELLOWORK_DATABASE_URL` / `HELLOWORK_NATS_URL` for the services
    /// when private instances replace the configured ones.
    pub overrides: Vec<(String, String)>,
    /// For a person: where the database is (no password) and whose it is.
    pub database: String,
    /// For a person: where NATS is (no credentials) and whose it is.
    pub nats: String,
    postgres: Option<PrivatePostgres>,
    nats_server: Option<PrivateNats>,
    nats_url: String,
    /// The services' users on the private NATS (the project's
    /// configuration, deploy/nats/nats.conf) and the CA of its certificate.
    nats_users: Option<(DevNatsAccounts, PathBuf)>,
}

/// What probing a configured server found.
enum Probe {
    Ready,
    /// PostgreSQL answers but the database does not exist yet.
    NoDatabase,
    /// Nothing answers: a private instance may stand in.
    Unreachable(String),
    /// Something answers but refuses us (credentials, TLS): a person must
    /// fix the configuration; a private instance would hide the mistake.
    Refused(String),
}

impl Infra {
    /// Finds or starts PostgreSQL and NATS. `data_dir` holds the private
    /// instances (`postgres/`, `nats/`) and `logs/`.
    pub async fn prepare(
        config: &PlatformConfig,
        data_dir: &Path,
        private_allowed: bool,
    ) -> Result<Self, String> {
        let logs = data_dir.join("logs");
        let options = config.database.options.expose().clone();
        let mut overrides = Vec::new();
        let (database, postgres) = match probe_postgres(&options).await {
            Probe::Ready => (format!("{} (configured)", show_pg(&options)), None),
            Probe::NoDatabase => {
                create_database(&options).await?;
                (
                    format!("{} (configured; database created)", show_pg(&options)),
                    None,
                )
            }
            Probe::Refused(why) => {
                return Err(format!(
                    "PostgreSQL at {} refused the connection: {why}; check HELLOWORK_DATABASE_URL",
                    show_pg(&options)
                ));
            }
            Probe::Unreachable(why) => {
                let bin = stand_in(
                    &POSTGRES,
                    &show_pg(&options),
                    &why,
                    private_allowed,
                    hellowork_programs::postgres_bindir(),
                )?;
                println!(
                    "PostgreSQL is not answering at {}; starting a private one",
                    show_pg(&options)
                );
                let dir = data_dir.join("postgres");
                let server = PrivatePostgres::start(bin, &dir, &logs.join("postgres.log")).await?;
                let name = options
                    .get_database()
                    .unwrap_or(options.get_username())
                    .to_owned();
                let url = server.url(&name);
                let private = url
                    .parse::<PgConnectOptions>()
                    .map_err(|e| format!("private database url: {e}"))?;
                if let Err(error) = create_database(&private).await {
                    server.stop().await;
                    return Err(error);
                }
                overrides.push(("HELLOWORK_DATABASE_URL".to_owned(), url));
                (
                    format!("{} (private, data in {})", show_pg(&private), dir.display()),
                    Some(server),
                )
            }
        };
        let mut infra = Self {
            overrides,
            database,
            nats: String::new(),
            postgres,
            nats_server: None,
            nats_url: config.nats_url.expose().clone(),
            nats_users: None,
        };
        if let Err(error) = infra.find_nats(data_dir, private_allowed).await {
            infra.stop().await;
            return Err(error);
        }
        Ok(infra)
    }

    async fn find_nats(&mut self, data_dir: &Path, private_allowed: bool) -> Result<(), String> {
        let shown = show_nats(&self.nats_url);
        match probe_nats(&self.nats_url).await {
            Probe::Ready | Probe::NoDatabase => {
                // The probe connected without credentials.
                self.nats = format!(
                    "{shown} (configured; NO AUTHENTICATION: a bare development server, any \
                     local process can read every stream and publish on any subject)"
                );
                Ok(())
            }
            Probe::Refused(why) => Err(format!(
                "NATS at {shown} refused the connection: {why}; check HELLOWORK_NATS_URL"
            )),
            Probe::Unreachable(why) => {
                let program = stand_in(
                    &NATS,
                    &shown,
                    &why,
                    private_allowed,
                    hellowork_programs::nats_server(),
                )?;
                println!(
                    "NATS is not answering at {shown}; starting a private nats-server with \
                     the project's accounts and TLS (deploy/nats/nats.conf)"
                );
                let dir = data_dir.join("nats");
                let pki = DevPki::ensure(&data_dir.join("pki"), &["nats"])
                    .map_err(|e| format!("cannot create the development certificates: {e}"))?;
                let users = DevNatsAccounts::ensure(
                    &data_dir.join("nats-users"),
                    &NatsServerTls {
                        cert: pki.cert("nats"),
                        key: pki.key("nats"),
                        ca: pki.ca(),
                    },
                )
                .map_err(|e| format!("cannot create the NATS users: {e}"))?;
                let server = PrivateNats::start(
                    &program,
                    &dir,
                    &data_dir.join("logs").join("nats.log"),
                    &users.config_file(),
                )
                .await?;
                self.nats_url = server.url();
                self.nats = format!(
                    "{} (private: TLS, one nkey user per service, JetStream store in {})",
                    self.nats_url,
                    dir.display()
                );
                self.overrides
                    .push(("HELLOWORK_NATS_URL".to_owned(), self.nats_url.clone()));
                self.nats_users = Some((users, pki.ca()));
                self.nats_server = Some(server);
                Ok(())
            }
        }
    }

    /// The variables that make `service` its own user of the private NATS:
    /// its nkey seed file and the CA of the server's certificate (none for a
    /// configured NATS).
    pub fn nats_vars(&self, service: Service) -> Vec<(String, String)> {
        let Some((users, ca)) = &self.nats_users else {
            return Vec::new();
        };
        vec![
            (
                "HELLOWORK_NATS_NKEY_SEED_FILE".to_owned(),
                users.seed_file(service).display().to_string(),
            ),
            (
                "HELLOWORK_NATS_CA_FILE".to_owned(),
                ca.display().to_string(),
            ),
        ]
    }

    /// Creates the services' JetStream streams that do not exist yet, with
    /// the settings the services would create them with. On the private
    /// NATS nobody but each service may create its stream: they do so as
    /// they start.
    pub async fn ensure_streams(&self, streams: &[EventStreamConfig]) -> Result<(), String> {
        if self.nats_users.is_some() {
            return Ok(());
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(PROBE_TIMEOUT)
            .connect(self.nats_url.as_str())
            .await
            .map_err(|e| format!("cannot connect to NATS: {e}"))?;
        let jetstream = async_nats::jetstream::new(client);
        for stream in streams {
            hellowork_eventstore::ensure_stream(&jetstream, stream)
                .await
                .map_err(|e| {
                    format!(
                        "cannot create the JetStream stream {} (is JetStream enabled, nats-server -js?): {e}",
                        stream.stream_name
                    )
                })?;
        }
        Ok(())
    }

    /// Whether `up` started PostgreSQL or NATS itself.
    pub fn has_private(&self) -> bool {
        self.postgres.is_some() || self.nats_server.is_some()
    }

    /// Stops the private instances, if any (after the services).
    pub async fn stop(self) {
        if let Some(nats) = self.nats_server {
            nats.stop().await;
        }
        if let Some(postgres) = self.postgres {
            postgres.stop().await;
        }
    }
}

/// A server `up` may stand in for, as error messages name it.
struct Server {
    what: &'static str,
    variable: &'static str,
    package: &'static str,
}

const POSTGRES: Server = Server {
    what: "PostgreSQL",
    variable: "HELLOWORK_DATABASE_URL",
    package: "postgresql",
};

const NATS: Server = Server {
    what: "NATS",
    variable: "HELLOWORK_NATS_URL",
    package: "nats-server",
};

/// The installed program of a private instance standing in for an
/// unreachable server, or the error a person needs.
fn stand_in<T>(
    server: &Server,
    shown: &str,
    why: &str,
    private_allowed: bool,
    program: Option<T>,
) -> Result<T, String> {
    let Server {
        what,
        variable,
        package,
    } = server;
    let problem = format!("{what} is not answering at {shown} ({why})");
    if !private_allowed {
        return Err(format!(
            "{problem}; start it or set {variable} (--no-private forbids a private instance)"
        ));
    }
    program.ok_or_else(|| {
        format!(
            "{problem} and its programs are not installed for a private instance; \
             install them (e.g. apt-get install {package}) or set {variable}"
        )
    })
}

async fn probe_postgres(options: &PgConnectOptions) -> Probe {
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(options)).await {
        Err(_) => Probe::Unreachable(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            Probe::Ready
        }
        Ok(Err(sqlx::Error::Io(error))) => Probe::Unreachable(error.to_string()),
        Ok(Err(sqlx::Error::Database(error))) if error.code().as_deref() == Some("3D000") => {
            Probe::NoDatabase
        }
        Ok(Err(error)) => Probe::Refused(error.to_string()),
    }
}

async fn probe_nats(url: &str) -> Probe {
    let connect = async_nats::ConnectOptions::new()
        .connection_timeout(PROBE_TIMEOUT)
        .connect(url);
    match tokio::time::timeout(PROBE_TIMEOUT * 2, connect).await {
        Err(_) => Probe::Unreachable(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())),
        Ok(Ok(client)) => {
            drop(client);
            Probe::Ready
        }
        Ok(Err(error)) => {
            use async_nats::ConnectErrorKind as Kind;
            match error.kind() {
                Kind::Io | Kind::TimedOut | Kind::Dns | Kind::MaxReconnects => {
                    Probe::Unreachable(error.to_string())
                }
                _ => Probe::Refused(error.to_string()),
            }
        }
    }
}

/// `CREATE DATABASE`, connected to the server's `postgres` database; a
/// database created meanwhile by someone else is fine.
async fn create_database(options: &PgConnectOptions) -> Result<(), String> {
    let name = options
        .get_database()
        .unwrap_or(options.get_username())
        .to_owned();
    let mut connection = PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .map_err(|e| {
            format!(
                "cannot connect to {} to create the database: {e}",
                show_pg(options)
            )
        })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut connection)
            .await
            .map_err(|e| format!("cannot look up database {name}: {e}"))?;
    if !exists {
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&statement).execute(&mut connection).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P04") => {}
            Err(error) => return Err(format!("cannot create database {name}: {error}")),
        }
    }
    let _ = connection.close().await;
    Ok(())
}

/// The database as a person may see it: no password.
fn show_pg(options: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    )
}

/// The NATS URL as a person may see it: credentials masked.
fn show_nats(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}"),
        None => format!("{scheme}://{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_carry_no_secrets() {
        let options: PgConnectOptions = "postgres://app:s3cret@db.example:6543/office"
            .parse()
            .unwrap();
        assert_eq!(show_pg(&options), "postgres://app@db.example:6543/office");
        assert_eq!(
            show_nats("nats://user:s3cret@127.0.0.1:4222"),
            "nats://***@127.0.0.1:4222"
        );
        assert_eq!(show_nats("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }

    #[test]
    fn without_a_private_instance_the_error_says_what_to_do() {
        let error = stand_in(&NATS, "nats://127.0.0.1:1", "refused", false, Some(())).unwrap_err();
        assert!(error.contains("HELLOWORK_NATS_URL"), "{error}");
        let error = stand_in::<()>(&POSTGRES, "x", "refused", true, None).unwrap_err();
        assert!(error.contains("apt-get install postgresql"), "{error}");
        assert_eq!(stand_in(&POSTGRES, "x", "refused", true, Some(7)), Ok(7));
    }
}
