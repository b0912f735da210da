//! The services' PostgreSQL connections over verified TLS, as production
//! requires (`HELLOWORK_DATABASE_URL` with `sslmode=verify-full` or
//! `verify-ca`; sqlx's rustls with the webpki verifier).
//!
//! A private PostgreSQL serves TLS with a development certificate (DNS
//! `localhost` and `postgres`, IP 127.0.0.1) and its `pg_hba.conf` admits
//! only `hostssl` connections. The test checks that a service's own start-up
//! path (`PlatformConfig::from_vars`, then `prepare_database` with consent's
//! migrations) connects with `verify-full`, and that the server sees its
//! sessions as TLS (`pg_stat_ssl`); that plaintext is refused by the server;
//! that `verify-full` refuses a certificate its CA did not sign, while
//! `require` (which production refuses) accepts it; and that `verify-full`
//! by IP address is checked against the certificate's IP SAN (127.0.0.1
//! connects, 127.0.0.2 is refused — and, with sqlx 0.8.6, by `verify-ca`
//! too).
//!
//! That production refuses `sslmode=require` (and `disable`, `prefer`, no
//! `sslmode`) without showing the URL's password is in
//! `production_refusals.rs`.

use std::path::Path;

use hellowork_platform::{PlatformConfig, Service, prepare_database};
use hellowork_testing::PostgresServer;
use hellowork_tls::dev_pki::DevPki;
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

/// Only TLS connections, from loopback; no `host` (plaintext) line.
const PG_HBA: &str = "hostssl all all 127.0.0.0/8 trust\nhostssl all all ::1/128 trust\n";

#[tokio::test]
async fn services_connect_to_postgres_over_verified_tls_and_plaintext_or_an_unknown_ca_is_refused()
{
    let pki_dir = tempfile::tempdir().expect("a directory for the PKI");
    let pki = DevPki::ensure(pki_dir.path(), &["postgres"]).expect("the development PKI");
    let cert = std::fs::read(pki.cert("postgres")).expect("read the certificate");
    let key = std::fs::read(pki.key("postgres")).expect("read the key");
    let postgres = PostgresServer::start_with(
        &[
            // 127.0.0.2 too: an address the certificate does not name.
            ("listen_addresses", "127.0.0.1,127.0.0.2"),
            ("ssl", "on"),
            ("ssl_cert_file", "server.pem"),
            ("ssl_key_file", "server-key.pem"),
        ],
        &[
            ("server.pem", &cert),
            ("server-key.pem", &key),
            ("pg_hba.conf", PG_HBA.as_bytes()),
        ],
    );
    let port = postgres.port();
    let url = |host: &str, mode: &str, ca: &Path| {
        format!(
            "postgres://postgres@{host}:{port}/postgres?sslmode={mode}&sslrootcert={}",
            ca.display()
        )
    };

    // A service's configuration and start-up, as in production but for the
    // environment: verify-full against the CA that signed the server.
    let vars = [
        ("HELLOWORK_ENVIRONMENT", "development".to_owned()),
        (
            "HELLOWORK_DATABASE_URL",
            url("localhost", "verify-full", &pki.ca()),
        ),
    ]
    .map(|(name, value)| (name.to_owned(), value));
    let config = PlatformConfig::from_vars(Service::Consent, vars).expect("the configuration");
    let pool = prepare_database(&config.database, &hellowork_consent::app::MIGRATOR)
        .await
        .expect("the service's database prepared over verify-full TLS");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .expect("query the pool");
    assert!(ssl, "the server sees the service's session as TLS");
    pool.close().await;

    // Plaintext: the server itself refuses it (no `host` line).
    let error = connect(&url("localhost", "disable", &pki.ca()))
        .await
        .expect_err("plaintext refused");
    assert!(
        error.to_string().contains("no pg_hba.conf entry")
            && error.to_string().contains("no encryption"),
        "refused by pg_hba.conf: {error}"
    );

    // A CA that did not sign the server's certificate.
    let other_dir = tempfile::tempdir().expect("a directory for another PKI");
    let other = DevPki::ensure(other_dir.path(), &["postgres"]).expect("another PKI");
    for mode in ["verify-full", "verify-ca"] {
        let error = connect(&url("localhost", mode, &other.ca()))
            .await
            .expect_err("an unknown issuer refused");
        // Both CAs bear the same name, so rustls finds the issuer and
        // rejects its signature.
        assert!(
            error.to_string().contains("invalid peer certificate"),
            "{mode}: refused by the certificate check, not {error}"
        );
    }
    // `require` encrypts but proves nothing: it accepts that certificate,
    // which is why production refuses it.
    assert_tls(&url("localhost", "require", &other.ca())).await;

    // By IP address: verify-full checks the IP SAN, which names 127.0.0.1
    // (so it connects) and not 127.0.0.2 (refused there).
    assert_tls(&url("127.0.0.1", "verify-full", &pki.ca())).await;
    for mode in ["verify-full", "verify-ca"] {
        let error = connect(&url("127.0.0.2", mode, &pki.ca()))
            .await
            .expect_err("an address the certificate does not name refused");
        assert!(
            error.to_string().contains("certificate not valid for name"),
            "{mode}: refused by the name check, not {error}"
        );
    }
    // verify-ca above checks the name too, unlike libpq's: sqlx 0.8's
    // verifier for it ignores rustls's `NotValidForName` but webpki 0.103
    // reports `NotValidForNameContext` (sqlx issue 3793, fixed after
    // 0.8.6). Stricter, never weaker; a sqlx with the fix connects there,
    // and this assertion is then to change.

    drop(postgres);
}

async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    PgConnection::connect_with(&options).await
}

/// `url` connects and the server sees the session as TLS.
async fn assert_tls(url: &str) {
    let mut connection = connect(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .expect("query pg_stat_ssl");
    assert!(ssl, "{url}: TLS as the server sees it");
    let _ = connection.close().await;
}
