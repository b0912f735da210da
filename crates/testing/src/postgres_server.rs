use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::Port;

/// A private PostgreSQL (`initdb` + `postgres`, the newest installed) on a free port with its own
/// data directory, for tests that stop and restart the database. Runs as the
/// `postgres` user when the test runs as root (PostgreSQL refuses root).
/// Stopped and its directory removed on drop.
#[derive(Debug)]
pub struct PostgresServer {
    port: Port,
    data_dir: PathBuf,
    /// Extra `-c name=value` settings, kept across restarts.
    settings: Vec<String>,
    child: Option<Child>,
}

impl PostgresServer {
    pub fn start() -> Self {
        Self::start_with(&[], &[])
    }

    /// [`Self::start`] with extra `-c name=value` `settings` and `files`
    /// (name, contents) written into the data directory before it starts,
    /// owned by the server's user with mode 0600: a `pg_hba.conf` replacing
    /// initdb's, a certificate and key for `ssl_cert_file`/`ssl_key_file`
    /// (relative paths are the data directory's).
    pub fn start_with(settings: &[(&str, &str)], files: &[(&str, &[u8])]) -> Self {
        let root = std::env::temp_dir().join(format!("hellowork-pg-{}", crate::unique_suffix()));
        let data_dir = root.join("data");
        std::fs::create_dir_all(&root).expect("create the postgres dir");
        if is_root() {
            chown_to_postgres(&root);
        }
        let status = as_postgres(bin().join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed");
        for (name, contents) in files {
            write_private(&data_dir.join(name), contents);
        }
        let mut server = Self {
            port: Port::reserve(),
            data_dir,
            settings: settings
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect(),
            child: None,
        };
        server.restart();
        server
    }

    /// URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.port.number()
        )
    }

    pub fn port(&self) -> u16 {
        self.port.number()
    }

    /// Fast shutdown: connections are cut, as in an outage. (The child may
    /// be `runuser`, which does not pass signals on, so `pg_ctl` stops the
    /// postmaster itself.)
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = as_postgres(bin().join("pg_ctl"))
                .args(["stop", "-m", "fast", "-w", "-D"])
                .arg(&self.data_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data, waiting until it accepts
    /// connections.
    pub fn restart(&mut self) {
        self.stop();
        let child = as_postgres(bin().join("postgres"))
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-p",
                &self.port.number().to_string(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ])
            .args(["-k", &self.data_dir.display().to_string()])
            .args(
                self.settings
                    .iter()
                    .flat_map(|setting| ["-c", setting.as_str()]),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn postgres");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port.number())).is_err() {
            assert!(
                Instant::now() < deadline,
                "postgres did not start on port {}",
                self.port.number()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        // Accepting TCP is not yet accepting queries; give it a moment.
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(root) = self.data_dir.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

/// The folder of PostgreSQL's server programs, found as `hellowork up`
/// finds it.
fn bin() -> PathBuf {
    hellowork_programs::postgres_bindir().expect(
        "PostgreSQL's server programs (initdb, postgres, pg_ctl) under \
         /usr/lib/postgresql/*/bin, pg_config --bindir or the PATH",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn chown_to_postgres(dir: &Path) {
    let status = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(dir)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "chown to postgres failed"
    );
}

/// `contents` at `path` (in the data directory), owned by the server's user
/// with mode 0600, as PostgreSQL requires of a key file.
fn write_private(path: &Path, contents: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).expect("write a file into the data directory");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .expect("make the file 0600");
    if is_root() {
        chown_to_postgres(path);
    }
}

/// `program` run as `postgres` if we are root, else as ourselves.
fn as_postgres(program: PathBuf) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}
