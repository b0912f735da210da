use sqlx::migrate::Migrator;

/// Identifies what a service's database template holds: the event store's
/// migrations and the service's own. Key [`crate::TestDatabase`] templates
/// by it so a changed migration never meets a stale template.
pub fn template_fingerprint(service_migrations: &Migrator) -> String {
    let ours: Vec<String> = service_migrations
        .iter()
        .map(|m| {
            let checksum: String = m.checksum.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}:{checksum}", m.version)
        })
        .collect();
    format!(
        "{}|{}",
        hellowork_eventstore::schema_fingerprint(),
        ours.join(",")
    )
}
