//! The test servers and databases behave as the tests relying on them assume.

use std::str::FromStr;

use hellowork_testing::{NatsServer, PostgresServer, TestDatabase, TestStream, database_url};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

async fn answers(url: &str) -> bool {
    let Ok(options) = PgConnectOptions::from_str(url) else {
        return false;
    };
    match PgConnection::connect_with(&options).await {
        Ok(mut conn) => sqlx::query("SELECT 1").execute(&mut conn).await.is_ok(),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_private_postgres_stops_and_restarts_with_its_data() {
    let mut server = PostgresServer::start();
    let url = server.url();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    server.stop();
    assert!(!answers(&url).await);
    server.restart();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let kept: i32 = sqlx::query_scalar("SELECT n FROM kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept, 7);
}

#[tokio::test]
async fn databases_are_cloned_from_a_prepared_template_and_dropped() {
    let prepare = |url: String| async move {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE prepared (n int)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    };
    let first = TestDatabase::from_template(&database_url(), "servers", "v1", prepare).await;
    let second = TestDatabase::from_template(&database_url(), "servers", "v1", prepare).await;
    assert_ne!(first.url, second.url);
    for db in [&first, &second] {
        let mut conn = PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("INSERT INTO prepared VALUES (1)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let url = first.url.clone();
    drop(first);
    assert!(!answers(&url).await, "dropped with the guard");
}

/// Tests create and delete streams in parallel. nats-server 2.9 removes an
/// account's store when its last stream goes, and a stream created at that
/// moment failed (about 2 in 100 such races here); the anchor stream the
/// harness keeps on every server means the account never empties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_created_while_others_are_deleted_never_fail() {
    let server = NatsServer::start();
    let cycles = |url: String| async move {
        for _ in 0..150 {
            drop(TestStream::create_at(&url, "race").await);
        }
    };
    let (first, second) = tokio::join!(
        tokio::spawn(cycles(server.url())),
        tokio::spawn(cycles(server.url()))
    );
    first.expect("every stream of the first was created");
    second.expect("every stream of the second was created");
}
