//! `docker compose` cannot run on the development machines (no Docker
//! engine), so the compose file is checked here: it must parse, and every
//! reference inside it must resolve.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

fn compose() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docker-compose.yml");
    let text =
        std::fs::read_to_string(path).expect("docker-compose.yml exists at the workspace root");
    let mut compose: Value =
        serde_yaml_ng::from_str(&text).expect("docker-compose.yml is valid YAML");
    // Resolve `<<: *anchor` merges as Compose does, so shared settings are checked too.
    compose.apply_merge().expect("merge keys resolve");
    compose
}

fn names(section: &Value) -> BTreeSet<String> {
    section
        .as_mapping()
        .map(|map| {
            map.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_service_has_a_pinned_image_or_a_build_and_a_healthcheck() {
    let compose = compose();
    let services = compose["services"]
        .as_mapping()
        .expect("a services mapping");
    assert!(!services.is_empty());
    for (name, service) in services {
        let name = name.as_str().unwrap();
        match (
            service.get("image").and_then(Value::as_str),
            service.get("build"),
        ) {
            (Some(image), _) => assert!(
                image.contains(':') && !image.ends_with(":latest"),
                "{name}: image {image} must be pinned to a version"
            ),
            (None, Some(_)) => {}
            (None, None) => panic!("{name}: needs an image or a build"),
        }
        assert!(
            service.get("healthcheck").is_some(),
            "{name}: needs a healthcheck"
        );
    }
}

#[test]
fn references_resolve() {
    let compose = compose();
    let services = names(&compose["services"]);
    let volumes = names(&compose["volumes"]);
    for (name, service) in compose["services"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let depends_on = match &service["depends_on"] {
            Value::Sequence(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            other => names(other),
        };
        for dependency in depends_on {
            assert!(
                services.contains(&dependency),
                "{name} depends on unknown service {dependency}"
            );
        }
        for mount in service["volumes"].as_sequence().into_iter().flatten() {
            let source = mount
                .as_str()
                .and_then(|m| m.split(':').next())
                .unwrap_or_default();
            let is_path = source.starts_with('.') || source.starts_with('/');
            assert!(
                is_path || volumes.contains(source),
                "{name} mounts undeclared volume {source}"
            );
        }
    }
}

#[test]
fn every_built_service_has_a_dockerfile_target_and_dependencies() {
    let compose = compose();
    for name in ["registration", "consent", "scheduling", "audit-log"] {
        let service = &compose["services"][name];
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile"),
            "{name}"
        );
        assert_eq!(
            service["build"]["args"]["SERVICE"].as_str(),
            Some(name),
            "{name}"
        );
        assert!(
            service["depends_on"]["postgres"].is_mapping(),
            "{name} waits for postgres"
        );
        assert!(
            service["depends_on"]["nats"].is_mapping(),
            "{name} waits for nats"
        );
        assert!(
            service["environment"]["HELLOWORK_GRPC_ADDR"]
                .as_str()
                .is_some_and(|a| a.starts_with("0.0.0.0:"))
        );
    }
    let scheduling = &compose["services"]["scheduling"]["environment"];
    assert_eq!(
        scheduling["HELLOWORK_REGISTRATION_URL"].as_str(),
        Some("http://registration:50051")
    );
    assert_eq!(
        scheduling["HELLOWORK_CONSENT_URL"].as_str(),
        Some("http://consent:50052")
    );
    let dockerfile = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/Dockerfile");
    assert!(std::path::Path::new(dockerfile).exists());
}

#[test]
fn the_kernel_infrastructure_is_there() {
    let compose = compose();
    let postgres = &compose["services"]["postgres"];
    assert!(
        postgres["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:15"),
        "the kernel is tested on PostgreSQL 15"
    );
    let nats_command: Vec<&str> = compose["services"]["nats"]["command"]
        .as_sequence()
        .expect("nats command list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        nats_command.contains(&"-js"),
        "NATS must run with JetStream"
    );
}
