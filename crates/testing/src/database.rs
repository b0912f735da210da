use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    str::FromStr,
};

use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};

use crate::budget::{self, Reservation};

/// What a [`TestDatabase`] declares to the connection budget for its life:
/// the admin connection that creates it and the one that drops it, one after
/// the other. Its services declare their own (see [`crate::ServiceEnv`]).
const DATABASE_CONNECTIONS: u32 = 1;

/// What preparing a template takes besides: the migration lock, the
/// schema's set-up connection and the migrating pool's connection.
const TEMPLATE_CONNECTIONS: u32 = 3;

/// A database of its own per test, cloned from a template that was prepared
/// (migrated) once: `CREATE DATABASE … TEMPLATE` costs milliseconds, where
/// migrating every test's database would not. Dropped on drop.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    name: String,
    admin: PgConnectOptions,
    /// Last to drop: counts until the database is dropped.
    budget: Reservation,
}

impl TestDatabase {
    /// Clones template `tmpl_<key>_<fingerprint>`, creating it first with
    /// `prepare(url)` if no process has. `fingerprint` must change whenever
    /// what `prepare` creates changes (hash the migrations), so a stale
    /// template is never used.
    pub async fn from_template<F, Fut>(
        server_url: &str,
        key: &str,
        fingerprint: &str,
        prepare: F,
    ) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let budget = budget::reserve(server_url, DATABASE_CONNECTIONS + TEMPLATE_CONNECTIONS);
        let admin = PgConnectOptions::from_str(server_url).expect("valid database url");
        let template = format!("tmpl_{key}_{}", short_hash(fingerprint));
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect as admin");
        // One process prepares the template; the others wait for it.
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind(&template)
            .execute(&mut conn)
            .await
            .expect("template lock");
        let ready: Option<bool> =
            sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
                .bind(&template)
                .fetch_optional(&mut conn)
                .await
                .expect("look up template");
        if ready != Some(true) {
            // Absent, or left half-prepared by a crashed run.
            sqlx::query(&format!("DROP DATABASE IF EXISTS {template} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .expect("drop stale template");
            sqlx::query(&format!("CREATE DATABASE {template}"))
                .execute(&mut conn)
                .await
                .expect("create template");
            prepare(url_for(server_url, &template)).await;
            // No session may stay connected to a template that is copied.
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&template)
            .execute(&mut conn)
            .await
            .expect("disconnect from template");
            sqlx::query(&format!("ALTER DATABASE {template} WITH IS_TEMPLATE true"))
                .execute(&mut conn)
                .await
                .expect("mark template");
        }
        let name = format!("t_{}", crate::unique_suffix());
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await
            .expect("clone template");
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(&template)
            .execute(&mut conn)
            .await
            .expect("template unlock");
        let _ = conn.close().await;
        budget.shrink(TEMPLATE_CONNECTIONS);
        Self {
            url: url_for(server_url, &name),
            name,
            admin,
            budget,
        }
    }
}

impl TestDatabase {
    /// The database's name (`pg_stat_activity.datname` of its sessions).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Declares the connections of a service that uses this database.
    pub(crate) fn declare_service(&self, connections: u32) {
        self.budget.grow(connections);
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        crate::block_on_cleanup(async move {
            if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                let _ = conn.close().await;
            }
        });
    }
}

/// `server_url` with its database replaced by `database`.
fn url_for(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    format!("{root}/{database}{query}")
}

fn short_hash(text: &str) -> String {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::url_for;

    #[test]
    fn urls_get_the_database_replaced() {
        assert_eq!(
            url_for("postgres://postgres@127.0.0.1:5432/test", "t_1"),
            "postgres://postgres@127.0.0.1:5432/t_1"
        );
        assert_eq!(
            url_for("postgres://u@h:1/test?sslmode=disable", "t_1"),
            "postgres://u@h:1/t_1?sslmode=disable"
        );
    }
}
