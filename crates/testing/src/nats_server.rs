use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::Port;

/// A private `nats-server` with JetStream on a free port and its own store
/// directory, for tests that stop and restart the broker. Killed and its
/// directory removed on drop. The port survives restarts, so clients
/// reconnect on their own.
#[derive(Debug)]
pub struct NatsServer {
    port: Port,
    store_dir: PathBuf,
    /// A configuration file (`-c`), where the server runs with one (the
    /// project's `deploy/nats/nats.conf`).
    configured: Option<PathBuf>,
    child: Option<Child>,
}

impl NatsServer {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A private server run with the configuration `config` (accounts,
    /// permissions, TLS); the port and store are still this server's own.
    pub fn start_configured(config: PathBuf) -> Self {
        Self::start_with(Some(config))
    }

    fn start_with(configured: Option<PathBuf>) -> Self {
        let port = Port::reserve();
        let store_dir =
            std::env::temp_dir().join(format!("hellowork-nats-{}", crate::unique_suffix()));
        std::fs::create_dir_all(&store_dir).expect("create the nats store dir");
        let mut server = Self {
            port,
            store_dir,
            configured,
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port.number())
    }

    pub fn port(&self) -> u16 {
        self.port.number()
    }

    /// Kills the server (SIGKILL: no goodbye to clients).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store, and waits until it accepts
    /// connections.
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new(binary());
        if let Some(config) = &self.configured {
            command.arg("-c").arg(config);
        }
        let child = command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.number().to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server (is it installed?)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port.number())).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not start on port {}",
                self.port.number()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store_dir);
    }
}

fn binary() -> PathBuf {
    hellowork_programs::nats_server().expect("nats-server (packaged in /usr/sbin, or on the PATH)")
}
