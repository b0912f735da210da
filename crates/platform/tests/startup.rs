//! Starting: replicas that start together on an empty database all come up.

use hellowork_eventstore::Upcasters;
use hellowork_platform::{Platform, PlatformConfig, Service};
use hellowork_testing::{TestDatabase, database_url};

static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

#[tokio::test]
async fn replicas_starting_together_migrate_once_and_all_start() {
    // An empty database: the replicas themselves create schema and tables.
    let database = TestDatabase::from_template(&database_url(), "empty", "v1", |_| async {}).await;
    let vars = vec![
        ("HELLOWORK_ENVIRONMENT".to_owned(), "development".to_owned()),
        ("HELLOWORK_DATABASE_URL".to_owned(), database.url.clone()),
        (
            "HELLOWORK_NATS_STREAM".to_owned(),
            format!("TEST_STARTUP_{}", uuid::Uuid::new_v4().simple()),
        ),
        (
            "HELLOWORK_NATS_SUBJECT_PREFIX".to_owned(),
            format!("test_{}.startup.v1", uuid::Uuid::new_v4().simple()),
        ),
        (
            "HELLOWORK_DEV_KEY_DIR".to_owned(),
            std::env::temp_dir()
                .join("hellowork-startup-keys")
                .display()
                .to_string(),
        ),
    ];
    let config = PlatformConfig::from_vars(Service::Registration, vars).unwrap();
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            let config = config.clone();
            tokio::spawn(async move {
                Platform::connect(config, &NO_MIGRATIONS, Upcasters::new()).await
            })
        })
        .collect();
    let mut platforms = Vec::new();
    for replica in replicas {
        platforms.push(replica.await.unwrap().expect("every replica starts"));
    }
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM registration._sqlx_migrations")
        .fetch_one(&platforms[0].pool)
        .await
        .unwrap();
    let expected = hellowork_eventstore::schema_fingerprint()
        .split(',')
        .count() as i64;
    assert_eq!(applied, expected, "each migration applied once");
    // In development a replica mints its own `system` token for calls to
    // other services, signed with the key they all trust.
    let system = platforms[0].verifier.verify(
        platforms[0]
            .system
            .bearer()
            .unwrap()
            .trim_start_matches("Bearer "),
    );
    assert!(system.unwrap().has_role(hellowork_platform::Role::System));
    for platform in &platforms {
        platform.pool.close().await;
    }
    platforms[0]
        .jetstream
        .delete_stream(&config.stream.stream_name)
        .await
        .unwrap();
}
