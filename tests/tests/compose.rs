//! `docker compose` cannot run on the development machines (no Docker
//! engine), so `docker-compose.yml` and `deploy/Dockerfile` are checked here:
//! every variable given to a service (or to the access log's witness) is one
//! its binary reads, no host port is published twice, every mounted or copied
//! file exists, and every reference resolves (services, volumes, Dockerfile
//! stages and arguments, Prometheus targets, Grafana's data source and
//! dashboards, the OpenTelemetry collector).
//!
//! Inside the stack (`docker compose --profile test up`, whose `tests` job sets
//! `HELLOWORK_TEST_COMPOSE_STACK`), one more test calls the stack's services
//! by their compose host names.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Debug,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use hellowork_audit_log::AuditLogSettings;
use hellowork_platform::{ConfigError, Environment, NatsCredentials, PlatformConfig, Service};
use hellowork_registration::RegistrationSettings;
use hellowork_scheduling::SchedulingSettings;
use hellowork_witness::WitnessConfig;
use serde_yaml_ng::Value;

/// The services built from this workspace: compose service, platform service.
const SERVICES: [(&str, Service); 4] = [
    ("registration", Service::Registration),
    ("consent", Service::Consent),
    ("scheduling", Service::Scheduling),
    ("audit-log", Service::AuditLog),
];

/// The access log's witness: built from this workspace like the services,
/// but no platform service (no database, no NATS; its own
/// `HELLOWORK_WITNESS_*` variables).
const WITNESS: &str = "witness";
/// The one-shot job writing the development CA, certificates and NATS users.
const DEV_SECRETS: &str = "dev-secrets";

/// Every compose service built from this workspace, by its `SERVICE` build
/// argument (the Dockerfile builds package and binary `hellowork-$SERVICE`).
fn built() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|(name, _)| *name).chain([WITNESS])
}

/// What the witness makes of its compose environment.
fn witness_config(compose: &Value) -> WitnessConfig {
    WitnessConfig::from_vars(environment(compose, WITNESS)).unwrap_or_else(|error| {
        panic!("hellowork-witness refuses its compose environment: {error}")
    })
}

/// The repository root: the compose file's folder and the build context.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compose() -> Value {
    let path = root().join("docker-compose.yml");
    let text =
        std::fs::read_to_string(path).expect("docker-compose.yml exists at the workspace root");
    let mut compose: Value =
        serde_yaml_ng::from_str(&text).expect("docker-compose.yml is valid YAML");
    // Resolve `<<: *anchor` merges as Compose does, so shared settings are checked too.
    compose.apply_merge().expect("merge keys resolve");
    compose
}

fn services(compose: &Value) -> Vec<(&str, &Value)> {
    compose["services"]
        .as_mapping()
        .expect("a services mapping")
        .iter()
        .map(|(name, service)| (name.as_str().expect("service names are strings"), service))
        .collect()
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

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A scalar as compose reads it, `${NAME:-default}` replaced by its default.
fn text(service: &str, value: &Value) -> String {
    match value {
        Value::String(s) => interpolate(service, s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("{service}: {other:?} is not a scalar"),
    }
}

/// Compose's interpolation, assuming no `.env` file and nothing set by the
/// caller: `${NAME:-default}` and `${NAME-default}` become the default, `$$`
/// a `$`. A placeholder without a default is refused: the stack must start
/// with a plain `docker compose up`.
fn interpolate(service: &str, text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let body = after.strip_prefix('{').unwrap_or_else(|| {
            panic!("{service}: {text:?}: write ${{NAME:-default}}, a bare $NAME has no default")
        });
        let end = body
            .find('}')
            .unwrap_or_else(|| panic!("{service}: {text:?}: unterminated ${{"));
        let inner = &body[..end];
        let default = inner
            .split_once(":-")
            .or_else(|| inner.split_once('-'))
            .map(|(_, default)| default)
            .unwrap_or_else(|| {
                panic!("{service}: ${{{inner}}} needs a default (${{{inner}:-value}})")
            });
        out.push_str(default);
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The environment compose gives `service`'s process, in either syntax.
fn environment(compose: &Value, name: &str) -> Vec<(String, String)> {
    let service = &compose["services"][name];
    assert!(
        service.get("env_file").is_none(),
        "{name}: env_file would hide variables from these checks; use environment"
    );
    match &service["environment"] {
        Value::Null => Vec::new(),
        Value::Mapping(map) => map
            .iter()
            .map(|(key, value)| {
                let key = key.as_str().expect("variable names are strings").to_owned();
                assert!(
                    !value.is_null(),
                    "{name}: {key} has no value, so compose would pass the caller's"
                );
                let value = text(name, value);
                (key, value)
            })
            .collect(),
        Value::Sequence(list) => list
            .iter()
            .map(|item| {
                let item = item.as_str().expect("KEY=value");
                let (key, value) = item.split_once('=').unwrap_or_else(|| {
                    panic!("{name}: {item} has no value, so compose would pass the caller's")
                });
                (key.to_owned(), interpolate(name, value))
            })
            .collect(),
        other => panic!("{name}: environment {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Which variables a binary reads

/// The service's own settings, parsed as its `main.rs` does after the
/// platform's configuration (consent has none).
fn own_settings(
    service: Service,
    environment: Environment,
    vars: &[(String, String)],
) -> Result<String, ConfigError> {
    fn show<T: Debug>(settings: Result<T, ConfigError>) -> Result<String, ConfigError> {
        settings.map(|settings| format!("{settings:?}"))
    }
    let vars = vars.to_vec();
    match service {
        Service::Registration => show(RegistrationSettings::from_vars(environment, vars)),
        Service::Scheduling => show(SchedulingSettings::from_vars(environment, vars)),
        Service::AuditLog => show(AuditLogSettings::from_vars(environment, vars)),
        Service::Consent => Ok(String::new()),
    }
}

/// Everything the binary of `service` makes of `vars`: the platform's
/// configuration and the service's own settings, in development and in
/// production (some variables only matter there), or the error naming a
/// variable. Debug output redacts secrets, so the URLs that may hold
/// credentials are added in the clear.
fn reaction(service: Service, vars: &[(String, String)]) -> String {
    let platform = match PlatformConfig::from_vars(service, vars.to_vec()) {
        Ok(config) => format!(
            "{config:?}\nnats: {}\ndatabase: {:?}",
            config.nats_url.expose(),
            config.database.options.expose()
        ),
        Err(error) => format!("refused: {error}"),
    };
    let own = [Environment::Development, Environment::Production]
        .map(
            |environment| match own_settings(service, environment, vars) {
                Ok(settings) => settings,
                Err(error) => format!("refused: {error}"),
            },
        )
        .join("\n");
    format!("{platform}\n{own}")
}

/// Everything the witness's binary makes of `vars`, as its own
/// environment says and in production (where more is required).
fn witness_reaction(vars: &[(String, String)]) -> String {
    let mut production = vars.to_vec();
    production.push(("HELLOWORK_ENVIRONMENT".to_owned(), "production".to_owned()));
    [vars.to_vec(), production]
        .map(|vars| match WitnessConfig::from_vars(vars) {
            Ok(config) => format!("{config:?}"),
            Err(error) => format!("refused: {error}"),
        })
        .join("\n")
}

/// A value no variable has by default and most parsers refuse.
const PROBE: &str = "compose-check\u{1}probe";

/// The variables of `vars` the binary of `service` does not read. The
/// platform takes any map of variables and ignores the ones it does not
/// know, and keeps no list of those it does; so a variable counts as read
/// when removing it, emptying it or giving it a nonsense value changes what
/// the binary's own parsers return. A misspelt name or another service's
/// variable changes nothing.
fn unread_variables(service: Service, vars: &[(String, String)]) -> Vec<String> {
    unread_by(|vars| reaction(service, vars), vars)
}

/// The variables of `vars` whose removal, emptying or nonsense value does
/// not change what `reaction` makes of them.
fn unread_by(
    reaction: impl Fn(&[(String, String)]) -> String,
    vars: &[(String, String)],
) -> Vec<String> {
    let base = reaction(vars);
    let keys: BTreeSet<&String> = vars.iter().map(|(key, _)| key).collect();
    keys.into_iter()
        .filter(|&key| {
            let without: Vec<(String, String)> =
                vars.iter().filter(|(k, _)| k != key).cloned().collect();
            let with = |value: &str| {
                let mut vars = without.clone();
                vars.push((key.clone(), value.to_owned()));
                vars
            };
            [without.clone(), with(""), with(PROBE)]
                .iter()
                .all(|variant| reaction(variant) == base)
        })
        .cloned()
        .collect()
}

#[test]
fn every_service_variable_is_one_its_binary_reads() {
    let compose = compose();
    for (name, service) in SERVICES {
        let vars = environment(&compose, name);
        let config = PlatformConfig::from_vars(service, vars.clone()).unwrap_or_else(|error| {
            panic!("hellowork-{name} refuses its compose environment: {error}")
        });
        own_settings(service, config.environment, &vars).unwrap_or_else(|error| {
            panic!("hellowork-{name} refuses its compose environment: {error}")
        });
        let unread = unread_variables(service, &vars);
        assert!(
            unread.is_empty(),
            "{name}: hellowork-{name} does not read {unread:?} (misspelt? another service's?)"
        );
        // Other containers reach it only on an outside interface.
        for addr in [config.grpc_addr, config.metrics_addr] {
            assert!(addr.ip().is_unspecified(), "{name} listens on {addr}");
        }
    }
    let witness = witness_config(&compose);
    let unread = unread_by(witness_reaction, &environment(&compose, WITNESS));
    assert!(
        unread.is_empty(),
        "witness: hellowork-witness does not read {unread:?} (misspelt? a service's?)"
    );
    for addr in [witness.grpc_addr, witness.metrics_addr] {
        assert!(addr.ip().is_unspecified(), "witness listens on {addr}");
    }
    // It watches the audit-log over TLS by the name its certificate carries,
    // an alias of its compose host.
    let audit =
        PlatformConfig::from_vars(Service::AuditLog, environment(&compose, "audit-log")).unwrap();
    assert_eq!(
        witness.log_url,
        format!("https://auditlog:{}", audit.grpc_addr.port())
    );
    assert!(witness.tls.is_some(), "the witness speaks TLS");
}

#[test]
fn the_variable_check_tells_read_variables_from_unread_ones() {
    let compose = compose();
    for (name, service, key, value, read) in [
        (
            "registration",
            Service::Registration,
            "HELLOWORK_GRPC_ADRR",
            "0.0.0.0:1",
            false,
        ),
        (
            "registration",
            Service::Registration,
            "HELLOWORK_ATTENDANT_CUTOFF",
            "48h",
            false,
        ),
        (
            "consent",
            Service::Consent,
            "HELLOWORK_AUDITLOG_K",
            "20",
            false,
        ),
        (
            "consent",
            Service::Consent,
            "OTEL_EXPORTER_OTLP_ENDPOINTS",
            "http://x:4317",
            false,
        ),
        ("consent", Service::Consent, "HELLOWORK_LOG", "debug", true),
        (
            "scheduling",
            Service::Scheduling,
            "HELLOWORK_PEER_TIMEOUT",
            "5s",
            true,
        ),
        (
            "audit-log",
            Service::AuditLog,
            "HELLOWORK_AUDITLOG_K",
            "20",
            true,
        ),
        (
            "registration",
            Service::Registration,
            "HELLOWORK_FILE_SHARING_SOFTWARE",
            "Winny",
            true,
        ),
        // A secret, invisible in Debug output, still counts: production refuses it short.
        (
            "registration",
            Service::Registration,
            "HELLOWORK_REGISTRATION_ID_KEY",
            "a-secret-of-at-least-thirty-two-bytes",
            true,
        ),
    ] {
        let mut vars = environment(&compose, name);
        vars.push((key.to_owned(), value.to_owned()));
        let unread = unread_variables(service, &vars);
        assert_eq!(
            !unread.contains(&key.to_owned()),
            read,
            "{name}: {key} should count as {}",
            if read { "read" } else { "unread" }
        );
    }
    for (key, value, read) in [
        // The services' variables, which the witness never reads.
        (
            "HELLOWORK_DATABASE_URL",
            "postgres://postgres@postgres:5432/test",
            false,
        ),
        ("HELLOWORK_GRPC_ADDR", "0.0.0.0:50055", false),
        ("HELLOWORK_AUDITLOG_K", "20", false),
        ("HELLOWORK_WITNESS_INTERVAL", "10s", true),
        ("HELLOWORK_WITNESS_AUDIT_INTERVAL", "1h", true),
        ("HELLOWORK_LOG", "debug", true),
        // Read only in production, where the development keys are refused.
        (
            "HELLOWORK_SYSTEM_TOKEN_FILE",
            "/run/secrets/witness.token",
            true,
        ),
    ] {
        let mut vars = environment(&compose, WITNESS);
        vars.push((key.to_owned(), value.to_owned()));
        let unread = unread_by(witness_reaction, &vars);
        assert_eq!(
            !unread.contains(&key.to_owned()),
            read,
            "witness: {key} should count as {}",
            if read { "read" } else { "unread" }
        );
    }
}

// ---------------------------------------------------------------------------
// Ports

/// One published port: host interface, host port, protocol, container port.
#[derive(Debug)]
struct Published {
    service: String,
    host_ip: String,
    port: u16,
    protocol: String,
    target: u16,
}

fn port_range(service: &str, text: &str) -> Vec<u16> {
    let parse = |p: &str| {
        p.parse::<u16>()
            .unwrap_or_else(|_| panic!("{service}: port {p:?}"))
    };
    match text.split_once('-') {
        Some((from, to)) => (parse(from)..=parse(to)).collect(),
        None => vec![parse(text)],
    }
}

fn published(name: &str, service: &Value) -> Vec<Published> {
    let mut out = Vec::new();
    for entry in service["ports"].as_sequence().into_iter().flatten() {
        let (host_ip, host, target, protocol) = if entry.is_mapping() {
            let field = |key: &str| entry.get(key).map(|v| text(name, v));
            (
                field("host_ip").unwrap_or_default(),
                field("published"),
                field("target").unwrap_or_else(|| panic!("{name}: a port without target")),
                field("protocol").unwrap_or_else(|| "tcp".to_owned()),
            )
        } else {
            let entry = text(name, entry);
            let (mapping, protocol) = entry.split_once('/').unwrap_or((&entry, "tcp"));
            let mut parts: Vec<&str> = mapping.rsplitn(3, ':').collect();
            parts.reverse();
            match parts.as_slice() {
                [target] => (
                    String::new(),
                    None,
                    (*target).to_owned(),
                    protocol.to_owned(),
                ),
                [host, target] => (
                    String::new(),
                    Some((*host).to_owned()),
                    (*target).to_owned(),
                    protocol.to_owned(),
                ),
                [ip, host, target] => (
                    ip.trim_matches(['[', ']']).to_owned(),
                    Some((*host).to_owned()),
                    (*target).to_owned(),
                    protocol.to_owned(),
                ),
                _ => unreachable!("rsplitn(3) gives one to three parts"),
            }
        };
        // Without a host port Docker picks a free one: nothing to clash with.
        let Some(host) = host.filter(|h| !h.is_empty()) else {
            continue;
        };
        let hosts = port_range(name, &host);
        let targets = port_range(name, &target);
        assert_eq!(hosts.len(), targets.len(), "{name}: {host}:{target}");
        for (port, target) in hosts.into_iter().zip(targets) {
            out.push(Published {
                service: name.to_owned(),
                host_ip: host_ip.clone(),
                port,
                protocol: protocol.clone(),
                target,
            });
        }
    }
    out
}

fn all_interfaces(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::")
}

#[test]
fn no_host_port_is_published_twice() {
    let compose = compose();
    let ports: Vec<Published> = services(&compose)
        .into_iter()
        .flat_map(|(name, service)| published(name, service))
        .collect();
    assert!(!ports.is_empty());
    for (i, a) in ports.iter().enumerate() {
        for b in &ports[i + 1..] {
            let same_interface =
                a.host_ip == b.host_ip || all_interfaces(&a.host_ip) || all_interfaces(&b.host_ip);
            assert!(
                !(a.port == b.port && a.protocol == b.protocol && same_interface),
                "host port {} is published by {} and {}",
                a.port,
                a.service,
                b.service
            );
        }
    }
}

#[test]
fn the_services_publish_the_ports_they_listen_on() {
    let compose = compose();
    for (name, service) in SERVICES {
        let config = PlatformConfig::from_vars(service, environment(&compose, name)).unwrap();
        let listening = [config.grpc_addr.port(), config.metrics_addr.port()];
        let targets: BTreeSet<u16> = published(name, &compose["services"][name])
            .iter()
            .map(|p| p.target)
            .collect();
        assert_eq!(
            targets,
            BTreeSet::from(listening),
            "{name} listens on {listening:?}"
        );
    }
    let witness = witness_config(&compose);
    let listening = [witness.grpc_addr.port(), witness.metrics_addr.port()];
    let targets: BTreeSet<u16> = published(WITNESS, &compose["services"][WITNESS])
        .iter()
        .map(|p| p.target)
        .collect();
    assert_eq!(
        targets,
        BTreeSet::from(listening),
        "witness listens on {listening:?}"
    );
}

// ---------------------------------------------------------------------------
// Files

/// A mount: source (a named volume, or a path relative to the compose file)
/// and target in the container.
#[derive(Debug)]
struct Mount {
    source: String,
    target: String,
    bind: bool,
}

fn mounts(name: &str, service: &Value) -> Vec<Mount> {
    service["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|mount| {
            if mount.is_mapping() {
                let field = |key: &str| mount.get(key).map(|v| text(name, v)).unwrap_or_default();
                Mount {
                    bind: field("type") == "bind",
                    source: field("source"),
                    target: field("target"),
                }
            } else {
                let mount = text(name, mount);
                let mut parts = mount.split(':');
                let source = parts.next().unwrap_or_default().to_owned();
                let target = parts
                    .next()
                    .unwrap_or_else(|| panic!("{name}: anonymous volume {mount}"))
                    .to_owned();
                Mount {
                    bind: source.starts_with(['.', '/', '~']),
                    source,
                    target,
                }
            }
        })
        .collect()
}

/// Where a path inside `service`'s container comes from on the host, if a
/// bind mount provides it.
fn host_path(name: &str, service: &Value, path: &str) -> Option<PathBuf> {
    mounts(name, service)
        .into_iter()
        .filter(|m| m.bind)
        .filter_map(|m| {
            let rest = path.strip_prefix(m.target.trim_end_matches('/'))?;
            // `/etc/prometheus` provides `/etc/prometheus/x`, not `/etc/prometheus2`.
            if !rest.is_empty() && !rest.starts_with('/') {
                return None;
            }
            let source = root().join(&m.source);
            let rest = rest.trim_start_matches('/');
            let host = if rest.is_empty() {
                source
            } else {
                source.join(rest)
            };
            Some((m.target.len(), host))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, path)| path)
}

/// `deploy/Dockerfile` as instructions: continuation lines joined, comments
/// dropped; each an upper-case keyword and its arguments.
fn dockerfile(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let instruction = current.trim();
                let (keyword, arguments) = instruction
                    .split_once(char::is_whitespace)
                    .unwrap_or((instruction, ""));
                instructions.push((keyword.to_ascii_uppercase(), arguments.trim().to_owned()));
                current.clear();
            }
        }
    }
    instructions
}

fn stages(instructions: &[(String, String)]) -> BTreeSet<String> {
    instructions
        .iter()
        .filter(|(keyword, _)| keyword == "FROM")
        .filter_map(|(_, arguments)| {
            let words: Vec<&str> = arguments.split_whitespace().collect();
            words
                .iter()
                .position(|w| w.eq_ignore_ascii_case("as"))
                .and_then(|at| words.get(at + 1))
                .map(|stage| (*stage).to_owned())
        })
        .collect()
}

/// `.dockerignore`'s plain patterns (the file uses no wildcards).
fn dockerignored(context: &Path, source: &str) -> bool {
    let source = source.trim_start_matches("./").trim_start_matches('/');
    std::fs::read_to_string(context.join(".dockerignore"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with('#'))
        .map(|p| p.trim_start_matches('/').trim_end_matches('/'))
        .any(|p| source == p || source.starts_with(&format!("{p}/")))
}

/// Checks the Dockerfile a compose `build` names: it exists, every COPY/ADD
/// source exists in the context and is not excluded from it, the target is a
/// stage and every build argument is declared.
fn check_build(name: &str, build: &Value) {
    let context = root().join(build["context"].as_str().unwrap_or("."));
    assert!(
        context.is_dir(),
        "{name}: build context {}",
        context.display()
    );
    let path = context.join(build["dockerfile"].as_str().unwrap_or("Dockerfile"));
    assert!(path.is_file(), "{name}: no {}", path.display());
    let instructions = dockerfile(&path);
    let stages = stages(&instructions);
    if let Some(target) = build["target"].as_str() {
        assert!(
            stages.contains(target),
            "{name}: no stage {target} in {}",
            path.display()
        );
    }
    let declared: BTreeSet<&str> = instructions
        .iter()
        .filter(|(keyword, _)| keyword == "ARG")
        .filter_map(|(_, arguments)| arguments.split(['=', ' ']).next())
        .collect();
    for arg in names(&build["args"]) {
        assert!(
            declared.contains(arg.as_str()),
            "{name}: build arg {arg} is not an ARG"
        );
    }
    for (keyword, arguments) in &instructions {
        if keyword != "COPY" && keyword != "ADD" {
            continue;
        }
        let words: Vec<String> = if arguments.starts_with('[') {
            serde_json::from_str(arguments).expect("COPY [\"src\", \"dest\"]")
        } else {
            arguments.split_whitespace().map(str::to_owned).collect()
        };
        let from = words.iter().find_map(|w| w.strip_prefix("--from="));
        let paths: Vec<&String> = words.iter().filter(|w| !w.starts_with("--")).collect();
        let (_destination, sources) = paths.split_last().expect("COPY src... dest");
        assert!(!sources.is_empty(), "{keyword} {arguments}: no source");
        if let Some(stage) = from {
            // Another stage's files (or an image's): that stage must exist.
            assert!(
                stages.contains(stage) || stage.contains([':', '/']),
                "{keyword} --from={stage}: no such stage"
            );
            continue;
        }
        for source in sources {
            // A pattern (`src/*.rs`): its fixed leading folder must exist.
            let exists = match source.split_once(['*', '?', '[']) {
                None => context.join(source).exists(),
                Some((fixed, _)) => {
                    let fixed = context.join(fixed);
                    fixed.is_dir() || fixed.parent().is_some_and(Path::is_dir)
                }
            };
            assert!(exists, "{keyword} {source}: not in the build context");
            assert!(
                source.as_str() == "." || !dockerignored(&context, source),
                "{keyword} {source}: excluded by .dockerignore"
            );
        }
    }
}

#[test]
fn every_mounted_or_copied_file_exists() {
    let compose = compose();
    let volumes = names(&compose["volumes"]);
    for (name, service) in services(&compose) {
        for mount in mounts(name, service) {
            if mount.bind {
                // Relative to the compose file; all in the repository but the
                // office's terms text, which lives beside the checkout
                // (../shared/seed) and is never copied into it.
                assert!(
                    !mount.source.starts_with(['/', '~'])
                        && (!mount.source.starts_with("..")
                            || mount.source.starts_with("../shared/")),
                    "{name} mounts {} from outside the repository",
                    mount.source
                );
                // The office's text may be absent (a fresh machine): Docker
                // then mounts an empty folder and the tests publish the
                // stand-in instead (hellowork_testing::terms).
                let path = root().join(&mount.source);
                assert!(
                    path.exists() || mount.source.starts_with("../shared/"),
                    "{name} mounts {}, which does not exist",
                    mount.source
                );
            } else {
                assert!(
                    volumes.contains(&mount.source),
                    "{name} mounts undeclared volume {}",
                    mount.source
                );
            }
        }
        if !service["build"].is_null() {
            check_build(name, &service["build"]);
        }
    }
}

// ---------------------------------------------------------------------------
// Services, dependencies, profiles

fn depends_on(service: &Value) -> BTreeMap<String, String> {
    match &service["depends_on"] {
        Value::Sequence(list) => list
            .iter()
            .filter_map(|v| v.as_str())
            .map(|name| (name.to_owned(), "service_started".to_owned()))
            .collect(),
        Value::Mapping(map) => map
            .iter()
            .map(|(name, dependency)| {
                (
                    name.as_str().expect("a service name").to_owned(),
                    dependency["condition"]
                        .as_str()
                        .unwrap_or("service_started")
                        .to_owned(),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn has_healthcheck(service: &Value) -> bool {
    let check = &service["healthcheck"];
    !check["test"].is_null() && check["disable"].as_bool() != Some(true)
}

#[test]
fn every_service_has_a_pinned_image_or_a_build_and_a_healthcheck_or_says_why_not() {
    let compose = compose();
    for (name, service) in services(&compose) {
        match (service.get("image"), service.get("build")) {
            (Some(image), _) => {
                let image = text(name, image);
                assert!(
                    image.contains(':') && !image.ends_with(":latest"),
                    "{name}: image {image} must be pinned to a version"
                );
            }
            (None, Some(_)) => {}
            (None, None) => panic!("{name}: needs an image or a build"),
        }
        // `disable: true` states that the container has nothing to probe it
        // with (the collector) or is a job (tests); the file says why.
        assert!(
            has_healthcheck(service) || service["healthcheck"]["disable"].as_bool() == Some(true),
            "{name}: needs a healthcheck, or `healthcheck: disable: true` and a reason"
        );
    }
}

#[test]
fn dependencies_and_profiles_resolve() {
    let compose = compose();
    let all = services(&compose);
    let by_name: BTreeMap<&str, &Value> = all.iter().copied().collect();
    for (name, service) in &all {
        let profiled = !service["profiles"].is_null();
        for (dependency, condition) in depends_on(service) {
            let target = by_name
                .get(dependency.as_str())
                .unwrap_or_else(|| panic!("{name} depends on unknown service {dependency}"));
            match condition.as_str() {
                "service_healthy" => assert!(
                    has_healthcheck(target),
                    "{name} waits for {dependency} to be healthy, which has no healthcheck"
                ),
                "service_started" | "service_completed_successfully" => {}
                other => panic!("{name}: unknown condition {other}"),
            }
            // `docker compose up` (no profile) must not need a profiled service.
            assert!(
                profiled || target["profiles"].is_null(),
                "{name} depends on {dependency}, which only starts with its profile"
            );
        }
    }
    // Only the tests job and its own NATS have a profile, so `docker compose
    // up` starts the rest.
    let profiled: Vec<(&str, Vec<&str>)> = all
        .iter()
        .filter(|(_, service)| !service["profiles"].is_null())
        .map(|(name, service)| {
            let profiles = service["profiles"]
                .as_sequence()
                .expect("profiles is a list")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (*name, profiles)
        })
        .collect();
    assert_eq!(
        profiled,
        vec![("tests", vec!["test"]), ("nats-tests", vec!["test"])]
    );
}

#[test]
fn every_built_service_has_its_dockerfile_stage_and_dependencies() {
    let compose = compose();
    for name in built() {
        let service = &compose["services"][name];
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile"),
            "{name}"
        );
        assert_eq!(
            service["build"]["target"].as_str(),
            Some("service"),
            "{name}"
        );
        assert_eq!(
            service["build"]["args"]["SERVICE"].as_str(),
            Some(name),
            "{name}"
        );
        package_builds_its_binary(name);
        let dependencies = depends_on(service);
        if name == WITNESS {
            // The witness needs neither PostgreSQL nor NATS; its first check
            // needs the audit-log.
            assert_eq!(
                dependencies.get("audit-log").map(String::as_str),
                Some("service_healthy"),
                "the witness waits for the audit-log"
            );
            continue;
        }
        for infrastructure in ["postgres", "nats"] {
            assert_eq!(
                dependencies.get(infrastructure).map(String::as_str),
                Some("service_healthy"),
                "{name} waits for {infrastructure}"
            );
        }
        assert_eq!(
            dependencies.get(DEV_SECRETS).map(String::as_str),
            Some("service_completed_successfully"),
            "{name} waits for its certificate and NATS user"
        );
    }
    // Scheduling calls registration and consent by their compose host names.
    let scheduling =
        PlatformConfig::from_vars(Service::Scheduling, environment(&compose, "scheduling"))
            .unwrap();
    assert_eq!(
        scheduling.endpoint_of(Service::Registration),
        "https://registration:50051"
    );
    assert_eq!(
        scheduling.endpoint_of(Service::Consent),
        "https://consent:50052"
    );
}

/// The services and NATS run as in production, over TLS with a user each,
/// from what the `dev-secrets` job writes; NATS runs the project's one
/// configuration.
#[test]
fn tls_and_nats_accounts_come_from_the_dev_secrets_job() {
    let compose = compose();
    let job = &compose["services"][DEV_SECRETS];
    let entrypoint: Vec<&str> = job["entrypoint"]
        .as_sequence()
        .expect("an entrypoint list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(entrypoint[..2], ["/usr/local/bin/hellowork", "dev-secrets"]);
    let dir = entrypoint[entrypoint.len() - 1];
    let secrets_mount = |name: &str| {
        mounts(name, &compose["services"][name])
            .into_iter()
            .find(|m| m.source == DEV_SECRETS)
            .unwrap_or_else(|| panic!("{name} does not mount {DEV_SECRETS}"))
    };
    assert_eq!(secrets_mount(DEV_SECRETS).target, dir);
    // NATS reads the configuration the job writes beside its users: the
    // embedded deploy/nats/nats.conf.
    let nats = &compose["services"]["nats"];
    assert_eq!(secrets_mount("nats").target, dir);
    let command: Vec<&str> = nats["command"]
        .as_sequence()
        .expect("a command list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let config = format!("{dir}/nats/nats.conf");
    assert_eq!(
        command[..2],
        ["-c", config.as_str()],
        "nats runs the project's configuration"
    );
    for (name, service) in SERVICES {
        assert_eq!(secrets_mount(name).target, dir, "{name}");
        let config = PlatformConfig::from_vars(service, environment(&compose, name)).unwrap();
        let tls = config.grpc_tls.as_ref().expect("gRPC over TLS");
        let identity = service.name();
        assert_eq!(
            tls.files.cert,
            Path::new(dir).join(format!("pki/{identity}.pem"))
        );
        assert_eq!(
            tls.files.key,
            Path::new(dir).join(format!("pki/{identity}-key.pem"))
        );
        assert_eq!(tls.files.ca, Path::new(dir).join("pki/ca.pem"));
        assert_eq!(
            config.nats.credentials,
            Some(NatsCredentials::NkeySeedFile(
                Path::new(dir).join(format!("nats/{identity}.nkey"))
            )),
            "{name} connects to NATS as its own user"
        );
        assert_eq!(config.nats.ca_file, Some(Path::new(dir).join("pki/ca.pem")));
        for (_, url) in &config.endpoints {
            assert!(url.starts_with("https://"), "{name} calls {url}");
        }
    }
    let witness = witness_config(&compose);
    let tls = witness.tls.expect("the witness speaks TLS");
    assert_eq!(tls.files.cert, Path::new(dir).join("pki/witness.pem"));
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
    // Every service finds PostgreSQL and NATS by their compose host names.
    for (name, service) in SERVICES {
        let vars: BTreeMap<String, String> = environment(&compose, name).into_iter().collect();
        assert_eq!(
            vars.get("HELLOWORK_DATABASE_URL").map(String::as_str),
            Some("postgres://postgres@postgres:5432/test"),
            "{name}"
        );
        let config = PlatformConfig::from_vars(service, vars).unwrap();
        assert_eq!(config.nats_url.expose(), "nats://nats:4222", "{name}");
    }
}

/// The Dockerfile builds `-p hellowork-$SERVICE --bin hellowork-$SERVICE`:
/// a workspace member of that package name must have that binary.
fn package_builds_its_binary(service: &str) {
    let package = format!("hellowork-{service}");
    let manifest = root().join("services").join(service).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{service}: no {}: {e}", manifest.display()));
    let name = |line: &str| {
        line.strip_prefix("name").map(|rest| {
            rest.trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"')
                .to_owned()
        })
    };
    let mut section = "";
    let mut package_name = None;
    let mut binaries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        match (section, name(line)) {
            ("[package]", Some(found)) => package_name = Some(found),
            ("[[bin]]", Some(found)) => binaries.push(found),
            _ => {}
        }
    }
    assert_eq!(
        package_name.as_deref(),
        Some(package.as_str()),
        "{}",
        manifest.display()
    );
    // Without [[bin]], cargo names the binary of src/main.rs after the package.
    let builds = if binaries.is_empty() {
        manifest.with_file_name("src/main.rs").is_file()
    } else {
        binaries.contains(&package)
    };
    assert!(builds, "{}: no binary {package}", manifest.display());
}

#[test]
fn the_witness_keeps_its_state_on_a_volume_of_its_own() {
    let compose = compose();
    let witness = witness_config(&compose);
    let state = witness.state_dir.display().to_string();
    let own = mounts(WITNESS, &compose["services"][WITNESS]);
    let volume = own
        .iter()
        .find(|m| m.target.trim_end_matches('/') == state.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("nothing is mounted at the witness's state dir {state}"));
    assert!(
        !volume.bind,
        "the witness's state is a named volume, not {}",
        volume.source
    );
    // Outside the audit-log's database: no other service mounts it.
    for (name, service) in services(&compose) {
        if name == WITNESS {
            continue;
        }
        assert!(
            mounts(name, service)
                .iter()
                .all(|m| m.source != volume.source),
            "{name} mounts the witness's volume {}",
            volume.source
        );
    }
    // The development key the audit-log trusts, for its system token.
    let keys = |name: &str| {
        mounts(name, &compose["services"][name])
            .into_iter()
            .find(|m| m.target.ends_with("/.data/dev-keys"))
            .map(|m| (m.source, m.target))
    };
    assert!(
        keys(WITNESS).is_some(),
        "the witness has no development key"
    );
    assert_eq!(keys(WITNESS), keys("audit-log"));
}

/// `http://host:port` (or `host:port`) as host and port.
fn host_and_port(url: &str) -> (String, u16) {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{url}: no port"));
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    (
        host.to_owned(),
        port.parse().unwrap_or_else(|_| panic!("{url}: port")),
    )
}

#[test]
fn the_tests_job_runs_against_the_stack() {
    let compose = compose();
    let tests = &compose["services"]["tests"];
    assert_eq!(tests["build"]["target"].as_str(), Some("tests"));
    let dependencies = depends_on(tests);
    let needed = built().chain(["postgres", "nats-tests"]);
    for name in needed {
        assert_eq!(
            dependencies.get(name).map(String::as_str),
            Some("service_healthy"),
            "tests wait for {name}"
        );
    }
    // The variables hellowork-testing reads (database_url(), nats_url()) point
    // at the stack's servers.
    let vars: BTreeMap<String, String> = environment(&compose, "tests").into_iter().collect();
    let (host, port) = host_and_port(&vars["HELLOWORK_TEST_DATABASE_URL"]);
    assert_eq!((host.as_str(), port), ("postgres", 5432));
    assert!(
        vars["HELLOWORK_TEST_DATABASE_URL"].ends_with(&format!(
            "/{}",
            compose["services"]["postgres"]["environment"]["POSTGRES_DB"]
                .as_str()
                .unwrap()
        )),
        "the tests use the database postgres creates"
    );
    // A bare JetStream server of their own: the stack's NATS admits only its
    // services' users.
    let (host, port) = host_and_port(&vars["HELLOWORK_TEST_NATS_URL"]);
    assert_eq!((host.as_str(), port), ("nats-tests", 4222));
    assert!(vars.contains_key("HELLOWORK_TEST_COMPOSE_STACK"));
    // The tests read the office's terms text from ../shared/seed beside the
    // workspace, which the Dockerfile puts at /hellowork/main (and publish
    // the stand-in where it is absent).
    assert_eq!(
        host_path("tests", tests, "/hellowork/shared/seed"),
        Some(root().join("../shared/seed"))
    );
    let instructions = dockerfile(&root().join("deploy/Dockerfile"));
    let mut stage = String::new();
    let mut workdir = None;
    for (keyword, arguments) in &instructions {
        if keyword == "FROM" {
            stage = arguments
                .split_whitespace()
                .last()
                .unwrap_or_default()
                .to_owned();
        } else if keyword == "WORKDIR" && stage == "tests" {
            workdir = Some(arguments.clone());
        }
    }
    assert_eq!(workdir.as_deref(), Some("/hellowork/main"));
}

// ---------------------------------------------------------------------------
// Observability: Prometheus, Grafana, the collector

#[test]
fn prometheus_scrapes_every_service_by_its_compose_host_name() {
    let compose = compose();
    let prometheus = &compose["services"]["prometheus"];
    // The image's default command reads /etc/prometheus/prometheus.yml.
    let config_path = prometheus["command"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|arg| arg.strip_prefix("--config.file="))
        .unwrap_or("/etc/prometheus/prometheus.yml");
    let config_file = host_path("prometheus", prometheus, config_path)
        .unwrap_or_else(|| panic!("nothing is mounted at {config_path}"));
    let config = yaml(&config_file);
    let dir = config_file.parent().unwrap();
    for rules in config["rule_files"].as_sequence().into_iter().flatten() {
        let rules = rules.as_str().unwrap();
        assert!(
            dir.join(rules).is_file(),
            "rule file {rules} is not mounted"
        );
    }
    let targets: BTreeSet<(String, u16)> = config["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
        .iter()
        .flat_map(|job| job["static_configs"].as_sequence().into_iter().flatten())
        .flat_map(|group| group["targets"].as_sequence().into_iter().flatten())
        .map(|target| host_and_port(target.as_str().unwrap()))
        .collect();
    let services = names(&compose["services"]);
    for (host, port) in &targets {
        assert!(
            services.contains(host),
            "Prometheus scrapes {host}:{port}, not a compose service"
        );
    }
    for (name, service) in SERVICES {
        let config = PlatformConfig::from_vars(service, environment(&compose, name)).unwrap();
        let target = (name.to_owned(), config.metrics_addr.port());
        assert!(
            targets.contains(&target),
            "Prometheus does not scrape {target:?}"
        );
    }
    let target = (
        WITNESS.to_owned(),
        witness_config(&compose).metrics_addr.port(),
    );
    assert!(
        targets.contains(&target),
        "Prometheus does not scrape {target:?}"
    );
}

#[test]
fn grafana_is_provisioned_from_the_repository() {
    let compose = compose();
    let grafana = &compose["services"]["grafana"];
    let provisioning = host_path("grafana", grafana, "/etc/grafana/provisioning")
        .expect("deploy/grafana/provisioning is mounted");
    let files = |dir: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(provisioning.join(dir))
            .unwrap_or_else(|e| panic!("provisioning/{dir}: {e}"))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no provisioning/{dir}/*.yml");
        files
    };
    let services = names(&compose["services"]);
    for file in files("datasources") {
        for source in yaml(&file)["datasources"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let (host, port) = host_and_port(source["url"].as_str().unwrap());
            assert!(
                services.contains(&host),
                "{}: {host} is not a compose service",
                file.display()
            );
            if host == "prometheus" {
                assert_eq!(port, 9090, "Prometheus listens on 9090");
            }
        }
    }
    for file in files("dashboards") {
        for provider in yaml(&file)["providers"].as_sequence().into_iter().flatten() {
            let path = provider["options"]["path"].as_str().unwrap();
            let dir = host_path("grafana", grafana, path)
                .unwrap_or_else(|| panic!("{}: nothing is mounted at {path}", file.display()));
            let dashboards = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
                })
                .count();
            assert!(dashboards > 0, "no dashboards in {}", dir.display());
        }
    }
    let vars: BTreeMap<String, String> = environment(&compose, "grafana").into_iter().collect();
    if let Some(home) = vars.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH") {
        let file = host_path("grafana", grafana, home)
            .unwrap_or_else(|| panic!("nothing is mounted at {home}"));
        assert!(
            file.is_file(),
            "the home dashboard {} does not exist",
            file.display()
        );
    }
    assert!(
        published("grafana", grafana).iter().any(|p| p.port == 3000),
        "Grafana on port 3000"
    );
}

#[test]
fn every_service_sends_its_spans_to_the_collector() {
    let compose = compose();
    let mut endpoints = BTreeSet::new();
    for (name, service) in SERVICES {
        let config = PlatformConfig::from_vars(service, environment(&compose, name)).unwrap();
        endpoints.insert(
            config
                .telemetry
                .otlp_endpoint
                .unwrap_or_else(|| panic!("{name} exports no spans")),
        );
    }
    endpoints.insert(
        witness_config(&compose)
            .telemetry
            .otlp_endpoint
            .expect("the witness exports no spans"),
    );
    assert_eq!(endpoints.len(), 1, "one collector: {endpoints:?}");
    let (host, port) = host_and_port(endpoints.first().unwrap());
    let collector = &compose["services"][host.as_str()];
    assert!(collector.is_mapping(), "{host} is not a compose service");
    let config_path = collector["command"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|arg| arg.strip_prefix("--config="))
        .expect("the collector's --config");
    let config_file = host_path(&host, collector, config_path)
        .unwrap_or_else(|| panic!("nothing is mounted at {config_path}"));
    assert_eq!(
        config_file,
        root().join("./deploy/otel-collector/config.yaml")
    );
    let config = yaml(&config_file);
    let receiver = config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
        .as_str()
        .expect("an OTLP/gRPC receiver");
    let (ip, receiver_port) = host_and_port(receiver);
    assert_eq!(receiver_port, port, "the services send to {port}");
    assert!(all_interfaces(&ip), "the receiver listens on {ip} only");
    let pipelines = config["service"]["pipelines"]
        .as_mapping()
        .expect("pipelines");
    assert!(pipelines.contains_key("traces"));
    for (pipeline, parts) in pipelines {
        for kind in ["receivers", "processors", "exporters"] {
            for component in parts[kind].as_sequence().into_iter().flatten() {
                let component = component.as_str().unwrap();
                assert!(
                    config[kind].get(component).is_some(),
                    "pipeline {pipeline:?} uses undefined {kind} {component}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Inside the stack

/// One `GET` over HTTP/1.0; the status code.
async fn http_status(host: &str, port: u16, path: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let status = String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

async fn serving(url: &str, tls: &std::sync::Arc<hellowork_tls::ClientTls>) -> bool {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(url.to_owned()) else {
        return false;
    };
    let channel = hellowork_tls::channel(endpoint, tls.clone());
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .is_ok_and(|response| response.into_inner().status() == ServingStatus::Serving)
}

/// Runs only in the compose stack's `tests` job: the four service containers
/// and the witness of `docker-compose.yml` answer by their compose host
/// names, gRPC health SERVING (PostgreSQL and NATS reachable) and /metrics as
/// Prometheus scrapes it. (The other end-to-end tests start their own service
/// processes.)
#[tokio::test]
async fn the_stack_answers_by_its_compose_host_names() {
    if std::env::var_os("HELLOWORK_TEST_COMPOSE_STACK").is_none() {
        eprintln!(
            "skipped: runs inside the compose stack \
             (docker compose --profile test up --exit-code-from tests)"
        );
        return;
    }
    let compose = compose();
    let witness = witness_config(&compose);
    let listening = SERVICES
        .iter()
        .map(|(name, service)| {
            let config = PlatformConfig::from_vars(*service, environment(&compose, name)).unwrap();
            (*name, config.grpc_addr, config.metrics_addr)
        })
        .chain([(WITNESS, witness.grpc_addr, witness.metrics_addr)]);
    // Over TLS, trusting the stack's development CA (the tests job mounts it).
    let ca = std::env::var("HELLOWORK_TLS_CA_FILE").expect("the tests job names the CA");
    let tls = hellowork_tls::ClientTls::load(Path::new(&ca), None).unwrap();
    for (name, grpc_addr, metrics_addr) in listening {
        // By the name its certificate carries (the audit-log's alias).
        let host = name.replace('-', "");
        let url = format!("https://{host}:{}", grpc_addr.port());
        let deadline = Instant::now() + Duration::from_secs(120);
        while !serving(&url, &tls).await {
            assert!(Instant::now() < deadline, "{url} is not SERVING");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let port = metrics_addr.port();
        let status = http_status(name, port, "/metrics")
            .await
            .unwrap_or_else(|e| panic!("http://{name}:{port}/metrics: {e}"));
        assert_eq!(status, 200, "http://{name}:{port}/metrics");
    }
}
