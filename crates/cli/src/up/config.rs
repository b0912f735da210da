//! The environment each service of `hellowork up` starts with: the caller's
//! `HELLOWORK_*` variables, so one setting applies to the whole stack, made
//! consistent across four processes. Where a service listens is where the
//! others (and `hellowork demo`) call it: `HELLOWORK_<SERVICE>_URL`
//! (default `http://127.0.0.1:5005x`); its metrics listen on
//! `HELLOWORK_<SERVICE>_METRICS_ADDR` (default `127.0.0.1:910x`). The
//! witness reads its own `HELLOWORK_WITNESS_*` variables; `up` points it at
//! the audit-log it runs and keeps its storage under the data folder.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::Path,
};

use hellowork_platform::{PlatformConfig, Service};
use hellowork_witness::WitnessConfig;

/// Variables that configure one service by itself; inherited by four they
/// would collide (four servers on one address, four services in one
/// schema), so `up` derives them per service instead.
const OWN: [&str; 5] = [
    "HELLOWORK_GRPC_ADDR",
    "HELLOWORK_METRICS_ADDR",
    "HELLOWORK_DATABASE_SCHEMA",
    "HELLOWORK_NATS_STREAM",
    "HELLOWORK_NATS_SUBJECT_PREFIX",
];

/// `HELLOWORK_<SERVICE>_…`: the prefix of variables about one service as
/// the others see it (`AUDITLOG` without a dash).
fn upper(service: Service) -> String {
    service.name().to_uppercase()
}

/// The variables `service` is started with, and the configuration it will
/// read from them (checked here, so a bad value stops `up` before anything
/// starts, naming the variable). `overrides` (database and NATS URLs found
/// by `up`) win over inherited values.
pub fn service_vars(
    service: Service,
    inherited: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<(Vec<(String, String)>, PlatformConfig), String> {
    let mut vars = shared(inherited, overrides);
    let get = |name: &str| {
        inherited
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let upper = upper(service);
    // The stream the others read this service's events from is the one it
    // writes to.
    for (own, peer) in [
        (
            "HELLOWORK_NATS_STREAM",
            format!("HELLOWORK_{upper}_NATS_STREAM"),
        ),
        (
            "HELLOWORK_NATS_SUBJECT_PREFIX",
            format!("HELLOWORK_{upper}_NATS_SUBJECT_PREFIX"),
        ),
    ] {
        if let Some(value) = get(&peer) {
            vars.push((own.to_owned(), value));
        }
    }
    let defaults = PlatformConfig::from_vars(service, vars.clone()).map_err(|e| e.to_string())?;
    let url_var = format!("HELLOWORK_{upper}_URL");
    let grpc = listen_addr(&url_var, defaults.endpoint_of(service))?;
    let metrics_var = format!("HELLOWORK_{upper}_METRICS_ADDR");
    let metrics = match get(&metrics_var) {
        Some(value) => value
            .parse::<SocketAddr>()
            .map_err(|e| format!("{metrics_var}: {value:?} is not host:port ({e})"))?,
        None => defaults.metrics_addr,
    };
    vars.push(("HELLOWORK_GRPC_ADDR".to_owned(), grpc.to_string()));
    vars.push(("HELLOWORK_METRICS_ADDR".to_owned(), metrics.to_string()));
    let config = PlatformConfig::from_vars(service, vars.clone()).map_err(|e| e.to_string())?;
    Ok((vars, config))
}

/// The inherited variables but those of a single service, `overrides`
/// replacing inherited values.
fn shared(inherited: &[(String, String)], overrides: &[(String, String)]) -> Vec<(String, String)> {
    inherited
        .iter()
        .filter(|(name, _)| !OWN.contains(&name.as_str()))
        .filter(|(name, _)| !overrides.iter().any(|(o, _)| o == name))
        .cloned()
        .chain(overrides.iter().cloned())
        .collect()
}

/// The variables the witness is started with, and the configuration it
/// will read from them (checked before anything starts). It watches the
/// audit-log `up` runs, at `audit_log_url`, and keeps its own storage in
/// `state_dir`, unless `HELLOWORK_WITNESS_LOG_URL` or
/// `HELLOWORK_WITNESS_STATE_DIR` name others.
pub fn witness_vars(
    inherited: &[(String, String)],
    overrides: &[(String, String)],
    audit_log_url: &str,
    state_dir: &Path,
) -> Result<(Vec<(String, String)>, WitnessConfig), String> {
    let mut vars = shared(inherited, overrides);
    for (name, value) in [
        ("HELLOWORK_WITNESS_LOG_URL", audit_log_url.to_owned()),
        (
            "HELLOWORK_WITNESS_STATE_DIR",
            state_dir.display().to_string(),
        ),
    ] {
        let set = vars.iter().any(|(n, v)| n == name && !v.trim().is_empty());
        if !set {
            vars.retain(|(n, _)| n != name);
            vars.push((name.to_owned(), value));
        }
    }
    let config = WitnessConfig::from_vars(vars.clone()).map_err(|e| e.to_string())?;
    Ok((vars, config))
}

/// The address to listen on for a service reached at `url`: `up` runs it
/// on this machine, so the host must be `localhost` or an address of it.
fn listen_addr(variable: &str, url: &str) -> Result<SocketAddr, String> {
    let problem = |why: &str| format!("{variable}: {url:?} {why}");
    let uri: tonic::transport::Uri = url
        .parse()
        .map_err(|_| problem("is not a URL like http://127.0.0.1:50051"))?;
    let port = uri.port_u16().ok_or_else(|| problem("names no port"))?;
    let host = uri.host().unwrap_or_default();
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                problem(
                    "must name localhost or an IP address: `hellowork up` runs the service here",
                )
            })?
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `up` inherits: `list` in the environment it names for itself.
    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        [("HELLOWORK_ENVIRONMENT", "development")]
            .iter()
            .chain(list)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn value(vars: &[(String, String)], name: &str) -> Option<String> {
        vars.iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn each_service_listens_where_the_others_call_it() {
        let inherited = pairs(&[
            ("HELLOWORK_CONSENT_URL", "http://localhost:6052"),
            ("HELLOWORK_CONSENT_METRICS_ADDR", "127.0.0.1:7052"),
        ]);
        let (vars, config) = service_vars(Service::Consent, &inherited, &[]).unwrap();
        assert_eq!(config.grpc_addr.to_string(), "127.0.0.1:6052");
        assert_eq!(config.metrics_addr.to_string(), "127.0.0.1:7052");
        // Its peers are told the same place.
        assert_eq!(
            config.endpoint_of(Service::Consent),
            "http://localhost:6052"
        );
        assert_eq!(
            value(&vars, "HELLOWORK_CONSENT_URL").as_deref(),
            Some("http://localhost:6052")
        );
        let (_, audit) = service_vars(Service::AuditLog, &inherited, &[]).unwrap();
        assert_eq!(audit.grpc_addr.to_string(), "127.0.0.1:50054");
        assert_eq!(audit.metrics_addr.to_string(), "127.0.0.1:9104");
    }

    #[test]
    fn variables_of_a_single_service_are_not_shared_by_all_four() {
        let inherited = pairs(&[
            ("HELLOWORK_GRPC_ADDR", "127.0.0.1:1"),
            ("HELLOWORK_DATABASE_SCHEMA", "one"),
            ("HELLOWORK_NATS_STREAM", "ONE"),
            ("HELLOWORK_SCHEDULING_NATS_STREAM", "SCHED_X"),
            ("HELLOWORK_DATABASE_URL", "postgres://u@db:5432/configured"),
        ]);
        let overrides = pairs(&[(
            "HELLOWORK_DATABASE_URL",
            "postgres://postgres@127.0.0.1:7000/configured",
        )]);
        let (vars, registration) =
            service_vars(Service::Registration, &inherited, &overrides).unwrap();
        assert_eq!(registration.grpc_addr.to_string(), "127.0.0.1:50051");
        assert_eq!(registration.database.schema.as_str(), "registration");
        assert_eq!(registration.stream.stream_name, "HELLOWORK_REGISTRATION");
        assert_eq!(
            registration.stream_of(Service::Scheduling).stream_name,
            "SCHED_X"
        );
        let urls: Vec<_> = vars
            .iter()
            .filter(|(n, _)| n == "HELLOWORK_DATABASE_URL")
            .collect();
        assert_eq!(urls.len(), 1, "the override replaces the inherited value");
        let (_, scheduling) = service_vars(Service::Scheduling, &inherited, &overrides).unwrap();
        assert_eq!(scheduling.stream.stream_name, "SCHED_X");
    }

    #[test]
    fn the_witness_watches_the_stacks_audit_log_and_keeps_its_state_under_the_data_dir() {
        let inherited = pairs(&[
            ("HELLOWORK_GRPC_ADDR", "127.0.0.1:1"),
            ("HELLOWORK_WITNESS_GRPC_ADDR", "127.0.0.1:6055"),
        ]);
        let state = Path::new("/tmp/up/witness");
        let (vars, config) = witness_vars(&inherited, &[], "http://127.0.0.1:6054", state).unwrap();
        assert_eq!(config.log_url, "http://127.0.0.1:6054");
        assert_eq!(config.state_dir, state);
        assert_eq!(config.grpc_addr.to_string(), "127.0.0.1:6055");
        assert_eq!(config.metrics_addr.to_string(), "127.0.0.1:9105");
        assert_eq!(value(&vars, "HELLOWORK_GRPC_ADDR"), None);
        // What the caller names wins.
        let named = pairs(&[
            ("HELLOWORK_WITNESS_LOG_URL", "http://10.0.0.4:50054"),
            ("HELLOWORK_WITNESS_STATE_DIR", "/var/lib/witness"),
        ]);
        let (_, config) = witness_vars(&named, &[], "http://127.0.0.1:6054", state).unwrap();
        assert_eq!(config.log_url, "http://10.0.0.4:50054");
        assert_eq!(config.state_dir, Path::new("/var/lib/witness"));
        let bad = pairs(&[("HELLOWORK_WITNESS_METRICS_ADDR", "nine")]);
        let error = witness_vars(&bad, &[], "http://127.0.0.1:6054", state).unwrap_err();
        assert!(
            error.starts_with("HELLOWORK_WITNESS_METRICS_ADDR"),
            "{error}"
        );
    }

    #[test]
    fn a_remote_or_portless_url_is_refused_with_its_variable_named() {
        let remote = pairs(&[("HELLOWORK_REGISTRATION_URL", "http://registration:50051")]);
        let error = service_vars(Service::Registration, &remote, &[]).unwrap_err();
        assert!(error.starts_with("HELLOWORK_REGISTRATION_URL"), "{error}");
        let portless = pairs(&[("HELLOWORK_REGISTRATION_URL", "http://127.0.0.1")]);
        let error = service_vars(Service::Registration, &portless, &[]).unwrap_err();
        assert!(error.contains("port"), "{error}");
        let bad = pairs(&[("HELLOWORK_AUDITLOG_METRICS_ADDR", "nine")]);
        let error = service_vars(Service::AuditLog, &bad, &[]).unwrap_err();
        assert!(
            error.starts_with("HELLOWORK_AUDITLOG_METRICS_ADDR"),
            "{error}"
        );
    }
}
