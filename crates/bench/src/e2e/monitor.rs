//! What the run costs, over the measured window: each process's CPU time
//! (`utime + stime` from `/proc/<pid>/stat`) for the services, the bench
//! itself (its simulated users share the two cores) and the machine as a
//! whole (PostgreSQL, NATS and anything else), and its peak resident
//! memory (`VmRSS`), sampled every [`EVERY`] with each service's pipeline
//! figures from its `/metrics`.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use anyhow::Context as _;
use hellowork_platform::Service;

use super::{
    metrics::{self, Counters, Lag},
    record::Window,
};

const EVERY: Duration = Duration::from_millis(250);

/// A service process to watch.
#[derive(Debug, Clone)]
pub struct Target {
    pub service: Service,
    pub pid: u32,
    pub metrics_addr: SocketAddr,
}

/// One process over the window.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// CPU time over wall time, in percent of one core.
    pub cpu_percent: f64,
    pub peak_rss_bytes: u64,
    /// The largest outbox backlog seen; `None` if the gauge never appeared.
    pub max_backlog: Option<f64>,
    /// Appends that lost a race for their stream and were decided again.
    pub conflicts: f64,
}

/// One projection of a service over the window.
#[derive(Debug, Clone)]
pub struct Projection {
    pub service: Service,
    pub name: String,
    pub applied_per_s: f64,
    /// The furthest behind it was seen.
    pub max_lag: Lag,
}

#[derive(Debug, Clone)]
pub struct Usage {
    pub services: Vec<(Service, Process)>,
    pub projections: Vec<Projection>,
    /// Calls each service served in the window, by method.
    pub served: Vec<Served>,
    pub bench: Process,
    /// All cores together, in percent of one core (200 = two cores busy).
    pub machine_cpu_percent: f64,
}

/// A method's calls as its server timed them, from handler entry to the
/// last byte (no network, no client queueing).
#[derive(Debug, Clone)]
pub struct Served {
    pub service: Service,
    pub method: String,
    pub calls: f64,
    pub mean_ms: f64,
}

/// Each target's counters now (empty where its endpoint fails).
async fn counters(targets: &[Target]) -> Vec<Counters> {
    let mut all = Vec::with_capacity(targets.len());
    for target in targets {
        let text = metrics::scrape(target.metrics_addr).await;
        all.push(text.as_deref().map(metrics::counters).unwrap_or_default());
    }
    all
}

/// Samples from the window's opening to its closing.
pub async fn watch(targets: Vec<Target>, window: Window) -> anyhow::Result<Usage> {
    let ticks_per_second = clock_ticks().await;
    tokio::time::sleep_until(window.opens.into()).await;
    let began = std::time::Instant::now();
    let pids: Vec<String> = targets
        .iter()
        .map(|target| target.pid.to_string())
        .chain(["self".to_owned()])
        .collect();
    let cpu_before = pids
        .iter()
        .map(|pid| cpu_ticks(pid))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let machine_before = machine_ticks()?;
    let counters_before = counters(&targets).await;
    let mut processes = vec![Process::default(); pids.len()];
    // By service and projection.
    let mut max_lags: BTreeMap<(usize, String), Lag> = BTreeMap::new();
    let mut interval = tokio::time::interval(EVERY);
    while tokio::time::Instant::now() < window.closes.into() {
        interval.tick().await;
        for (index, pid) in pids.iter().enumerate() {
            let process = &mut processes[index];
            process.peak_rss_bytes = process.peak_rss_bytes.max(rss_bytes(pid).unwrap_or(0));
            let Some(target) = targets.get(index) else {
                continue;
            };
            let Some(text) = metrics::scrape(target.metrics_addr).await else {
                continue;
            };
            let gauges = metrics::gauges(&text);
            if let Some(backlog) = gauges.backlog {
                process.max_backlog = Some(process.max_backlog.unwrap_or(0.0).max(backlog));
            }
            for (name, lag) in gauges.lag {
                let max = max_lags.entry((index, name)).or_insert(lag);
                if lag.value() > max.value() {
                    *max = lag;
                }
            }
        }
    }
    // The window, as these snapshots saw it.
    let seconds = began.elapsed().as_secs_f64();
    let counters_after = counters(&targets).await;
    let mut projections = Vec::new();
    let mut served = Vec::new();
    for (index, (before, after)) in counters_before.iter().zip(&counters_after).enumerate() {
        processes[index].conflicts = after.conflicts - before.conflicts;
        for (method, (count, seconds)) in &after.served {
            let (count_before, seconds_before) =
                before.served.get(method).copied().unwrap_or_default();
            let calls = count - count_before;
            if calls > 0.0 {
                served.push(Served {
                    service: targets[index].service,
                    method: method.clone(),
                    calls,
                    mean_ms: (seconds - seconds_before) / calls * 1000.0,
                });
            }
        }
        for (name, applied) in &after.applied {
            let applied = applied - before.applied.get(name).copied().unwrap_or(0.0);
            projections.push(Projection {
                service: targets[index].service,
                name: name.clone(),
                applied_per_s: applied / seconds,
                max_lag: max_lags
                    .get(&(index, name.clone()))
                    .copied()
                    .unwrap_or(Lag::Messages(0.0)),
            });
        }
    }
    for (index, pid) in pids.iter().enumerate() {
        let used = cpu_ticks(pid)?.saturating_sub(cpu_before[index]);
        processes[index].cpu_percent = used as f64 / ticks_per_second / seconds * 100.0;
    }
    let machine_after = machine_ticks()?;
    let total = machine_after.0.saturating_sub(machine_before.0) as f64;
    let idle = machine_after.1.saturating_sub(machine_before.1) as f64;
    let cores = crate::output::cores() as f64;
    let bench = processes.pop().unwrap_or_default();
    Ok(Usage {
        services: targets
            .iter()
            .map(|target| target.service)
            .zip(processes)
            .collect(),
        projections,
        served,
        bench,
        machine_cpu_percent: if total > 0.0 {
            (total - idle) / total * cores * 100.0
        } else {
            0.0
        },
    })
}

/// `getconf CLK_TCK` (the unit of `/proc` CPU times); 100 where it cannot
/// be asked, as on every Linux this runs on.
async fn clock_ticks() -> f64 {
    let output = tokio::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .await;
    output
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `utime + stime` of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_cpu_ticks(&stat).with_context(|| format!("parsing {path}"))
}

/// After the command name (which may hold spaces, so after its closing
/// parenthesis) come the state, then 10 fields, then utime and stime.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// `VmRSS` of a process.
fn rss_bytes(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// All CPU time and idle time (idle + iowait) of the machine, in ticks.
fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    parse_machine_ticks(&stat).context("parsing /proc/stat")
}

fn parse_machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal (guest time is
    // already in user).
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    Some((fields.iter().sum(), fields.get(3)? + fields.get(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_text_is_read() {
        let stat = "4242 (tokio (runtime)) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 9 0 1000 1000000 500 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        let machine = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n";
        assert_eq!(parse_machine_ticks(machine), Some((981, 820)));
    }
}
