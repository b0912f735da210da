//! Each service's own account of its event pipeline, read from its
//! `/metrics` as an operator's Prometheus would: the outbox backlog, the
//! appends that lost a race for their stream, and per projection the
//! events applied and how far behind it is. The same gauges tell when the
//! services have finished the set-up's work.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

/// Outbox rows not yet on JetStream (refreshed by the relay leader about
/// once a second).
const BACKLOG: &str = "eventstore_outbox_backlog";
/// Messages a JetStream-fed projection has yet to receive.
const CONSUMER_LAG: &str = "eventstore_consumer_lag_messages";
/// Age of the oldest event a tailing projection has yet to apply.
const TAIL_LAG: &str = "eventstore_tail_lag_seconds";
const APPENDS: &str = "eventstore_appends_total";
const HANDLED: &str = "eventstore_consumer_events_total";
/// Count and sum of the server's call durations, by `method`.
const SERVED_COUNT: &str = "grpc_server_request_duration_seconds_count";
const SERVED_SUM: &str = "grpc_server_request_duration_seconds_sum";
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);
/// Idle this long (longer than the backlog gauge's refresh) counts as
/// settled.
const QUIET: Duration = Duration::from_millis(1500);
const SETTLE_PATIENCE: Duration = Duration::from_secs(180);
const SETTLE_POLL: Duration = Duration::from_millis(250);

/// `GET /metrics` over HTTP/1.0 (the connection closes after the answer,
/// so reading to the end reads it all); `None` when the endpoint does not
/// answer in time.
pub async fn scrape(addr: SocketAddr) -> Option<String> {
    let get = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut text = String::new();
        stream.read_to_string(&mut text).await?;
        std::io::Result::Ok(text)
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, get).await.ok()?.ok()
}

/// The samples of metric `name`: each one's labels (`{…}`, or empty) and
/// value.
fn values<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    text.lines().filter_map(move |line| {
        let rest = line.strip_prefix(name)?;
        if !rest.starts_with(['{', ' ']) {
            return None;
        }
        let (labels, value) = rest.rsplit_once(' ')?;
        Some((labels.trim(), value.parse().ok()?))
    })
}

/// The value of label `key` in `{a="x",b="y"}`.
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{key}=\""))? + key.len() + 2;
    let length = labels[start..].find('"')?;
    Some(&labels[start..start + length])
}

/// Counters, to be taken at both ends of the window.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub conflicts: f64,
    /// Events applied, by projection.
    pub applied: BTreeMap<String, f64>,
    /// Calls served and the seconds they took in all, by method.
    pub served: BTreeMap<String, (f64, f64)>,
}

pub fn counters(text: &str) -> Counters {
    let conflicts = values(text, APPENDS)
        .filter(|(labels, _)| label(labels, "outcome") == Some("conflict"))
        .map(|(_, count)| count)
        .sum();
    let mut applied = BTreeMap::new();
    for (labels, count) in values(text, HANDLED) {
        if let (Some(consumer), Some("applied")) =
            (label(labels, "consumer"), label(labels, "outcome"))
        {
            applied.insert(consumer.to_owned(), count);
        }
    }
    let mut served: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (labels, count) in values(text, SERVED_COUNT) {
        if let Some(method) = label(labels, "method") {
            served.entry(method.to_owned()).or_default().0 += count;
        }
    }
    for (labels, seconds) in values(text, SERVED_SUM) {
        if let Some(method) = label(labels, "method") {
            served.entry(method.to_owned()).or_default().1 += seconds;
        }
    }
    Counters {
        conflicts,
        applied,
        served,
    }
}

/// Gauges, sampled through the window.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    pub backlog: Option<f64>,
    /// By projection: messages behind (JetStream-fed) or seconds behind
    /// (tailing its own store).
    pub lag: BTreeMap<String, Lag>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lag {
    Messages(f64),
    Seconds(f64),
}

impl Lag {
    pub fn value(self) -> f64 {
        match self {
            Self::Messages(value) | Self::Seconds(value) => value,
        }
    }
}

pub fn gauges(text: &str) -> Gauges {
    let mut lag = BTreeMap::new();
    for (name, kind) in [
        (CONSUMER_LAG, Lag::Messages as fn(f64) -> Lag),
        (TAIL_LAG, Lag::Seconds),
    ] {
        for (labels, value) in values(text, name) {
            if let Some(consumer) = label(labels, "consumer") {
                lag.insert(consumer.to_owned(), kind(value));
            }
        }
    }
    Gauges {
        backlog: values(text, BACKLOG)
            .map(|(_, value)| value)
            .reduce(f64::max),
        lag,
    }
}

/// Waits until every service has published its outbox, every projection
/// has caught up, steadily for [`QUIET`]: what the set-up caused is then
/// done and does not weigh on the measurement.
pub async fn settle(endpoints: &[SocketAddr]) -> anyhow::Result<()> {
    let deadline = Instant::now() + SETTLE_PATIENCE;
    let mut quiet_since = None;
    loop {
        let mut quiet = true;
        for &addr in endpoints {
            quiet &= scrape(addr).await.is_some_and(|text| {
                let gauges = gauges(&text);
                gauges.backlog.unwrap_or(0.0) == 0.0
                    && gauges.lag.values().all(|lag| lag.value() == 0.0)
            });
        }
        if !quiet {
            quiet_since = None;
        } else if quiet_since.get_or_insert_with(Instant::now).elapsed() >= QUIET {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the services were still busy with the set-up after {SETTLE_PATIENCE:?}"
        );
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "HTTP/1.1 200 OK\r\n\r\n\
        # TYPE eventstore_outbox_backlog gauge\n\
        eventstore_outbox_backlog{service=\"scheduling\"} 17\n\
        eventstore_outbox_backlog_other 99\n\
        eventstore_appends_total{service=\"scheduling\",outcome=\"conflict\"} 40\n\
        eventstore_appends_total{service=\"scheduling\",outcome=\"appended\"} 400\n\
        eventstore_consumer_events_total{consumer=\"scheduling-read-models\",outcome=\"applied\"} 12\n\
        eventstore_consumer_events_total{consumer=\"scheduling-read-models\",outcome=\"duplicate\"} 1\n\
        eventstore_consumer_lag_messages{consumer=\"scheduling-read-models\"} 3\n\
        eventstore_tail_lag_seconds{consumer=\"access-log\"} 0.25\n\
        grpc_server_request_duration_seconds_bucket{service=\"scheduling\",method=\"BookSession\",le=\"0.05\"} 3\n\
        grpc_server_request_duration_seconds_sum{service=\"scheduling\",method=\"BookSession\"} 0.12\n\
        grpc_server_request_duration_seconds_count{service=\"scheduling\",method=\"BookSession\"} 4\n";

    #[test]
    fn the_pipeline_is_read_from_prometheus_text() {
        let counters = counters(TEXT);
        assert!((counters.conflicts - 40.0).abs() < f64::EPSILON);
        assert_eq!(counters.applied["scheduling-read-models"], 12.0);
        assert_eq!(counters.served["BookSession"], (4.0, 0.12));
        let gauges = gauges(TEXT);
        assert_eq!(gauges.backlog, Some(17.0));
        assert_eq!(gauges.lag["scheduling-read-models"], Lag::Messages(3.0));
        assert_eq!(gauges.lag["access-log"], Lag::Seconds(0.25));
        assert_eq!(super::gauges("up 1\n").backlog, None);
    }
}
