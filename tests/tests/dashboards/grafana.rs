//! The checked-in Grafana dashboards: every query they would send to
//! Prometheus, with Grafana's variables replaced as Grafana would, and the
//! structural checks Grafana's provisioning relies on.

use std::collections::HashSet;

use serde_json::Value;

use super::prometheus::deploy;

/// The panel types the dashboards use.
const PANEL_TYPES: [&str; 4] = ["timeseries", "stat", "bargauge", "table"];

/// One PromQL expression of a dashboard, named for failure messages.
#[derive(Debug)]
pub struct Query {
    /// `dashboard title / panel title`.
    pub place: String,
    pub expr: String,
}

/// Every dashboard JSON file, parsed, in file-name order.
pub fn dashboards() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(deploy("grafana/dashboards"))
        .expect("deploy/grafana/dashboards")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("read a dashboard");
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|error| panic!("{name} is not JSON: {error}"));
            (name, json)
        })
        .collect()
}

/// The uid of the provisioned Prometheus data source.
pub fn datasource_uid() -> String {
    let path = deploy("grafana/provisioning/datasources/prometheus.yml");
    let text = std::fs::read_to_string(path).expect("read the data source provisioning");
    let provisioning: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).expect("the data source provisioning is YAML");
    let source = &provisioning["datasources"][0];
    assert_eq!(source["type"].as_str(), Some("prometheus"));
    assert_eq!(source["url"].as_str(), Some("http://prometheus:9090"));
    source["uid"]
        .as_str()
        .expect("a data source uid")
        .to_owned()
}

/// Every panel target's expression, and for each query variable
/// `label_values(metric, label)` the expression Grafana's lookup amounts to.
pub fn queries(dashboards: &[(String, Value)]) -> Vec<Query> {
    let mut queries = Vec::new();
    for (_, dashboard) in dashboards {
        let title = dashboard["title"].as_str().unwrap_or_default();
        for panel in panels(dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                queries.push(Query {
                    place: format!("{title} / {}", panel["title"].as_str().unwrap_or_default()),
                    expr: substitute(target["expr"].as_str().unwrap_or_default()),
                });
            }
        }
        for variable in variables(dashboard) {
            let definition = variable["definition"].as_str().unwrap_or_default();
            if let Some((metric, label)) = label_values(definition) {
                queries.push(Query {
                    place: format!("{title} / variable {}", variable["name"]),
                    expr: format!("count by ({label}) ({metric})"),
                });
            }
        }
    }
    queries
}

/// What is wrong with the dashboards' structure, one line each.
pub fn problems(dashboards: &[(String, Value)], datasource: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut uids = HashSet::new();
    for (file, dashboard) in dashboards {
        let mut problem = |what: String| problems.push(format!("{file}: {what}"));
        let uid = dashboard["uid"].as_str().unwrap_or_default();
        if uid.is_empty() || !uids.insert(uid.to_owned()) {
            problem(format!("uid {uid:?} missing or not unique"));
        }
        if dashboard["title"].as_str().is_none_or(str::is_empty) {
            problem("no title".into());
        }
        if !dashboard["schemaVersion"]
            .as_u64()
            .is_some_and(|v| (36..=41).contains(&v))
        {
            problem(format!("schemaVersion {}", dashboard["schemaVersion"]));
        }
        if !dashboard["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == "hellowork"))
        {
            problem("not tagged hellowork (the dashboards' links find each other by it)".into());
        }
        let mut ids = HashSet::new();
        let all = panels(dashboard);
        if all.is_empty() {
            problem("no panels".into());
        }
        for panel in all {
            let title = panel["title"].as_str().unwrap_or_default();
            if title.is_empty() {
                problem("a panel without a title".into());
            }
            if !panel["id"].as_u64().is_some_and(|id| ids.insert(id)) {
                problem(format!("panel {title:?}: id missing or not unique"));
            }
            let kind = panel["type"].as_str().unwrap_or_default();
            if !PANEL_TYPES.contains(&kind) {
                problem(format!("panel {title:?}: type {kind:?}"));
            }
            if ["h", "w", "x", "y"]
                .iter()
                .any(|k| !panel["gridPos"][k].is_u64())
            {
                problem(format!("panel {title:?}: no gridPos"));
            }
            let targets = panel["targets"].as_array().cloned().unwrap_or_default();
            if targets.is_empty() {
                problem(format!("panel {title:?}: no targets"));
            }
            let mut sources = vec![&panel["datasource"]];
            sources.extend(targets.iter().map(|t| &t["datasource"]));
            if sources.iter().any(|s| s["uid"] != datasource) {
                problem(format!(
                    "panel {title:?}: data source is not uid {datasource:?}"
                ));
            }
            let refs: HashSet<_> = targets.iter().map(|t| &t["refId"]).collect();
            if refs.len() != targets.len() || targets.iter().any(|t| !t["refId"].is_string()) {
                problem(format!("panel {title:?}: refIds missing or repeated"));
            }
            if targets
                .iter()
                .any(|t| t["expr"].as_str().is_none_or(|e| e.trim().is_empty()))
            {
                problem(format!("panel {title:?}: a target without expr"));
            }
        }
    }
    problems
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        if panel["type"] == "row" {
            all.extend(panel["panels"].as_array().into_iter().flatten());
        } else {
            all.push(panel);
        }
    }
    all
}

fn variables(dashboard: &Value) -> impl Iterator<Item = &Value> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|variable| variable["type"] == "query")
}

/// `label_values(metric, label)` → `(metric, label)`.
fn label_values(definition: &str) -> Option<(&str, &str)> {
    let inner = definition
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (metric, label) = inner.rsplit_once(',')?;
    Some((metric.trim(), label.trim()))
}

/// Grafana's variables as Grafana fills them in for a panel over the last
/// hour with every value of `$service` selected.
fn substitute(expr: &str) -> String {
    [
        ("$__rate_interval", "1m"),
        ("$__interval", "15s"),
        ("$__range", "1h"),
        ("${service}", ".*"),
        ("$service", ".*"),
    ]
    .iter()
    .fold(expr.to_owned(), |expr, (variable, value)| {
        expr.replace(variable, value)
    })
}
