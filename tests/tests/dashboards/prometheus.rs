//! A real Prometheus for the dashboards test: the checked-in configuration
//! with its targets rewritten to the services under test and a one-second
//! scrape and evaluation interval, on a free port with its storage in a
//! temporary directory; killed on drop. Its HTTP API is spoken over plain
//! HTTP/1.0, and `promtool` checks the checked-in files.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use hellowork_testing::Port;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The Debian package's binaries, found on `PATH` or in `/usr/bin`.
#[derive(Debug)]
pub struct Binaries {
    pub prometheus: PathBuf,
    pub promtool: PathBuf,
}

impl Binaries {
    /// Both binaries, or the name of the one missing.
    pub fn find() -> Result<Self, &'static str> {
        Ok(Self {
            prometheus: find("prometheus").ok_or("prometheus")?,
            promtool: find("promtool").ok_or("promtool")?,
        })
    }

    /// `promtool args…` run in `deploy/prometheus`, so relative rule files
    /// resolve as Prometheus resolves them.
    pub fn promtool(&self, args: &[&str]) -> Output {
        Command::new(&self.promtool)
            .args(args)
            .current_dir(deploy("prometheus"))
            .output()
            .expect("run promtool")
    }
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A path under the repository's `deploy/`.
pub fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

/// A running Prometheus.
#[derive(Debug)]
pub struct Prometheus {
    pub addr: SocketAddr,
    /// Held while Prometheus listens on it.
    _port: Port,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts `binary` scraping `targets` (job name → metrics address) with
    /// the rule files of `deploy/prometheus/prometheus.yml`, and waits until
    /// it is ready. Every job of the configuration must have a target.
    pub async fn start(binary: &Path, targets: &[(&str, SocketAddr)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, configuration(targets)).expect("write the configuration");
        let port = Port::reserve();
        let addr = SocketAddr::from(([127, 0, 0, 1], port.number()));
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("a log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn prometheus");
        let mut prometheus = Self {
            addr,
            _port: port,
            child: Some(child),
            dir,
        };
        prometheus.wait_until_ready().await;
        prometheus
    }

    async fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http(self.addr, "GET", "/-/ready", "")
                .await
                .is_ok_and(|(status, _)| status == 200)
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten())
            {
                panic!("prometheus exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus never became ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What Prometheus logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The series `expr` yields now (`/api/v1/query`), or Prometheus's error.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let body = format!("query={}", form_encode(expr));
        let data = self.api("POST", "/api/v1/query", &body).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// The `data` of a successful API answer, or its error.
    pub async fn api(&self, method: &str, path: &str, body: &str) -> Result<Value, String> {
        let (_, text) = http(self.addr, method, path, body)
            .await
            .map_err(|error| format!("prometheus did not answer: {error}"))?;
        let answer: Value =
            serde_json::from_str(&text).map_err(|error| format!("{error}: {text}"))?;
        if answer["status"] == "success" {
            Ok(answer["data"].clone())
        } else {
            Err(format!("{}: {}", answer["errorType"], answer["error"]))
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `deploy/prometheus/prometheus.yml` as the test runs it.
fn configuration(targets: &[(&str, SocketAddr)]) -> String {
    let path = deploy("prometheus/prometheus.yml");
    let text = std::fs::read_to_string(&path).expect("read prometheus.yml");
    let mut config: Yaml = serde_yaml_ng::from_str(&text).expect("prometheus.yml is YAML");
    for key in ["scrape_interval", "scrape_timeout", "evaluation_interval"] {
        config["global"][key] = Yaml::from("1s");
    }
    let rules = config["rule_files"]
        .as_sequence_mut()
        .expect("prometheus.yml names its rule files");
    for file in rules.iter_mut() {
        let name = file.as_str().expect("a rule file path").to_owned();
        *file = Yaml::from(deploy("prometheus").join(name).display().to_string());
    }
    let jobs = config["scrape_configs"]
        .as_sequence_mut()
        .expect("prometheus.yml has scrape configs");
    assert_eq!(jobs.len(), targets.len(), "one job per service");
    for job in jobs.iter_mut() {
        let name = job["job_name"].as_str().expect("a job name").to_owned();
        let (_, addr) = targets
            .iter()
            .find(|(job_name, _)| *job_name == name)
            .unwrap_or_else(|| panic!("no service under test for job {name}"));
        let static_config: Yaml =
            serde_yaml_ng::from_str(&format!("targets: [\"{addr}\"]")).expect("valid YAML");
        job["static_configs"] = Yaml::Sequence(vec![static_config]);
    }
    serde_yaml_ng::to_string(&config).expect("serialize the configuration")
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// One HTTP/1.0 exchange: the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}
