//! Private PostgreSQL and NATS for `hellowork up`, on a machine where the
//! programs are installed but no server answers: each keeps its data in a
//! folder of `up`'s data directory (so it survives restarts), listens on a
//! free port of 127.0.0.1 only, and is stopped when `up` stops. A server
//! left running by an `up` that was killed is stopped before a new one
//! starts on the same data.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use sqlx::Connection as _;
use tokio::process::{Child, Command};

use super::process::{self, free_port, logged, running_as_root, tail, wait_or_kill};

/// How long a private server may take to accept connections.
const START_PATIENCE: Duration = Duration::from_secs(30);

/// A PostgreSQL cluster of our own, trusting local connections (it listens
/// on 127.0.0.1 only and has no Unix socket).
#[derive(Debug)]
pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    child: Child,
}

impl PrivatePostgres {
    /// Creates the cluster in `dir`/data on first use, then starts it on a
    /// free port and waits until it answers queries.
    pub async fn start(bin: PathBuf, dir: &Path, log: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if running_as_root() {
            // PostgreSQL refuses to run as root; its data must be the
            // postgres user's.
            chown_to_postgres(dir).await?;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            // Left by an `up` that did not get to stop it; no-op if stale.
            stop_cluster(&bin, &data).await;
        }
        if !data.join("PG_VERSION").exists() {
            initdb(&bin, &data, &log.with_file_name("initdb.log")).await?;
        }
        let port = free_port()?;
        let child = as_postgres(&bin.join("postgres"), log)?
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            // No Unix socket: its path would have to fit 107 bytes and be
            // writable by postgres; nothing here uses it.
            .args(["-c", "unix_socket_directories="])
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.join("postgres").display()))?;
        let mut server = Self {
            bin,
            data,
            port,
            child,
        };
        if let Err(error) = server.wait_until_ready(log).await {
            server.stop().await;
            return Err(error);
        }
        Ok(server)
    }

    async fn wait_until_ready(&mut self, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + START_PATIENCE;
        let url = self.url("postgres");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "private PostgreSQL exited with {status}; the end of {}:\n{}",
                    log.display(),
                    tail(log, 20)
                ));
            }
            if let Ok(connection) = sqlx::PgConnection::connect(&url).await {
                let _ = connection.close().await;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "private PostgreSQL did not accept connections on port {} within {}s; see {}",
                    self.port,
                    START_PATIENCE.as_secs(),
                    log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The URL of `database` as the `postgres` superuser (trust auth).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Fast shutdown: open sessions are cut (the services have stopped by
    /// then), the data is flushed. The child may be `runuser`, which does
    /// not pass signals on, so `pg_ctl` stops the postmaster itself.
    pub async fn stop(mut self) {
        stop_cluster(&self.bin, &self.data).await;
        wait_or_kill(&mut self.child, Duration::from_secs(10)).await;
    }
}

async fn initdb(bin: &Path, data: &Path, log: &Path) -> Result<(), String> {
    let status = as_postgres(&bin.join("initdb"), log)?
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
        .arg("--no-sync")
        .arg("-D")
        .arg(data)
        .status()
        .await
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if status.success() {
        return Ok(());
    }
    let hint = if running_as_root() {
        "\n(as root, PostgreSQL runs as the postgres user, who must be able to reach the data \
         folder; choose another with --data-dir if a parent folder is private)"
    } else {
        ""
    };
    Err(format!(
        "initdb failed ({status}); the end of {}:\n{}{hint}",
        log.display(),
        tail(log, 20)
    ))
}

async fn stop_cluster(bin: &Path, data: &Path) {
    let _ = as_postgres_quiet(&bin.join("pg_ctl"))
        .args(["stop", "-m", "fast", "-w", "-t", "30", "-D"])
        .arg(data)
        .status()
        .await;
}

/// `program` as the postgres user when we are root, else as ourselves.
fn as_postgres(program: &Path, log: &Path) -> Result<Command, String> {
    if !running_as_root() {
        return logged(program, log);
    }
    let mut command = logged("runuser", log)?;
    command.args(["-u", "postgres", "--"]).arg(program);
    Ok(command)
}

fn as_postgres_quiet(program: &Path) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}

async fn chown_to_postgres(dir: &Path) -> Result<(), String> {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(dir)
        .status()
        .await
        .map_err(|e| format!("cannot run chown: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot give {} to the postgres user (is PostgreSQL installed?)",
            dir.display()
        ))
    }
}

/// A `nats-server` of our own with JetStream, its store in a folder of the
/// data directory.
#[derive(Debug)]
pub struct PrivateNats {
    port: u16,
    child: Child,
}

impl PrivateNats {
    /// Runs with the configuration file `config`.
    pub async fn start(
        program: &Path,
        dir: &Path,
        log: &Path,
        config: &Path,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let pid_file = dir.join("nats-server.pid");
        // One left running on this store by an `up` that was killed.
        process::stop_leftover(&pid_file, "nats-server", Duration::from_secs(10)).await;
        let port = free_port()?;
        let child = logged(program, log)?
            .arg("-c")
            .arg(config)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir)
            .arg("-P")
            .arg(&pid_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut server = Self { port, child };
        let deadline = Instant::now() + START_PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                server.stop().await;
                return Err(format!(
                    "private nats-server did not start on port {port}; the end of {}:\n{}",
                    log.display(),
                    tail(log, 20)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGTERM: the server flushes its store and exits.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            process::signal(pid, "TERM").await;
        }
        wait_or_kill(&mut self.child, Duration::from_secs(10)).await;
    }
}
