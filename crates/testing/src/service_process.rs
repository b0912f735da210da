use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use hellowork_tls::ClientTls;
use tonic::transport::Channel;

use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::Port;

/// A service binary running as its own process (as in production), on free
/// ports, with its output kept in a log file shown when something fails.
/// Killed on drop.
#[derive(Debug)]
pub struct ServiceProcess {
    pub grpc_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    /// Held while the process may listen on them.
    _ports: [Port; 2],
    name: String,
    log: PathBuf,
    child: Option<Child>,
    /// Where its vars configure TLS: its clients here trust that CA.
    tls: Option<Arc<ClientTls>>,
}

impl ServiceProcess {
    /// Starts `binary` (e.g. `hellowork-consent`, built by `cargo test
    /// --workspace` next to the test executables) with `vars`.
    pub fn spawn(binary: &str, vars: &[(String, String)]) -> Self {
        let path = binary_path(binary);
        assert!(
            path.exists(),
            "{} is not built; run `cargo build -p {binary}` or `cargo test --workspace`",
            path.display()
        );
        let tls = vars
            .iter()
            .find(|(name, _)| name == "HELLOWORK_TLS_CA_FILE")
            .map(|(_, ca)| ClientTls::load(Path::new(ca), None).expect("the service's CA loads"));
        let ports = [Port::reserve(), Port::reserve()];
        let grpc_addr = SocketAddr::from(([127, 0, 0, 1], ports[0].number()));
        let metrics_addr = SocketAddr::from(([127, 0, 0, 1], ports[1].number()));
        let log = std::env::temp_dir().join(format!("{binary}-{}.log", crate::unique_suffix()));
        let output = std::fs::File::create(&log).expect("create the service log");
        let child = Command::new(&path)
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("HELLOWORK_GRPC_ADDR", grpc_addr.to_string())
            .env("HELLOWORK_METRICS_ADDR", metrics_addr.to_string())
            .stdout(output.try_clone().expect("clone the log handle"))
            .stderr(output)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn the service");
        Self {
            grpc_addr,
            metrics_addr,
            _ports: ports,
            name: binary.to_owned(),
            log,
            child: Some(child),
            tls,
        }
    }

    /// `https://` where the service serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.grpc_addr)
    }

    /// A lazily connected channel to it, over TLS where it serves TLS
    /// (trusting its CA, presenting no certificate: a person's client).
    pub fn channel(&self) -> Channel {
        let endpoint = Channel::from_shared(self.url()).expect("a valid url");
        match &self.tls {
            Some(tls) => hellowork_tls::channel(endpoint, tls.clone()),
            None => endpoint.connect_lazy(),
        }
    }

    /// Polls gRPC health of `service` until SERVING (30 s at most).
    pub async fn wait_until_serving(&mut self, service: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.health(service).await == Some(ServingStatus::Serving) {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{} exited with {status}:\n{}", self.name, self.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "{} never became SERVING:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn health(&self, service: &str) -> Option<ServingStatus> {
        let response = HealthClient::new(self.channel())
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .ok()?;
        Some(response.into_inner().status())
    }

    /// SIGTERM, as an orchestrator stops it; returns whether it exited
    /// successfully within 30 s. Async on purpose: the caller's open gRPC
    /// connections must keep being served (answering the server's GOAWAY)
    /// while the service drains, or the drain waits for its grace period.
    pub async fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill();
        false
    }

    /// Everything the service wrote to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines the service wrote.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Binaries of the workspace sit in the target profile directory, one level
/// above the test executable's `deps/`.
fn binary_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    profile_dir.join(name)
}
