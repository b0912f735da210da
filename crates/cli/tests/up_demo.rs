//! `hellowork up` on a fresh machine and `hellowork demo` against it, as a
//! person runs them: the configured PostgreSQL and NATS point at ports
//! where nothing listens, so `up` must start private ones under its data
//! folder; the demo's report shows pseudonyms and never a raw identifier,
//! published and suppressed statistics cells and an intact log; the
//! witness runs beside the services, answers health and cosigns the log's
//! checkpoints into its state under the data folder; Ctrl-C (SIGINT) stops
//! everything and leaves no process behind.
//!
//! The service binaries must be built beside `hellowork`. A dependency on
//! the service crates would build only their libraries, and cargo has no
//! stable way to depend on another package's binary, so the test runs
//! `cargo build` for the four services and the witness itself, with the
//! cargo, target folder and profile of the test run: a no-op when they are
//! fresh, a rebuild when their code changed since (so the test never runs
//! stale binaries), and a clear failure if they do not build.

use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use hellowork_testing::Port;

const SERVICES: [&str; 5] = [
    "hellowork-registration",
    "hellowork-consent",
    "hellowork-scheduling",
    "hellowork-audit-log",
    "hellowork-witness",
];

fn hellowork_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hellowork"))
}

/// Builds the service binaries and the witness into the folder `hellowork`
/// is in.
fn build_services() {
    let exe = hellowork_binary();
    let profile_dir = exe.parent().expect("target/<profile>/hellowork");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .args(["build", "--bins"])
        .arg("--target-dir")
        .arg(target_dir);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        command.arg("--release");
    }
    for service in SERVICES {
        command.args(["-p", service]);
    }
    let output = command.output().expect("run cargo build");
    assert!(
        output.status.success(),
        "the service binaries do not build:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for service in SERVICES {
        assert!(
            profile_dir.join(service).is_file(),
            "{service} was not built"
        );
    }
}

/// Ports below the kernel's ephemeral range, held while the test runs: a
/// port 0 picked and released races with every connection made meanwhile.
#[derive(Default)]
struct Ports(Vec<Port>);

impl Ports {
    fn reserve(&mut self) -> u16 {
        let port = Port::reserve();
        let number = port.number();
        self.0.push(port);
        number
    }
}

/// What `up` and `demo` are both given: where the configured servers are
/// (nowhere), where each service and the witness listen, and the
/// development key.
fn environment(root: &Path, ports: &mut Ports) -> Vec<(String, String)> {
    let mut vars = vec![
        (
            "HELLOWORK_DATABASE_URL".to_owned(),
            format!(
                "postgres://postgres@127.0.0.1:{}/hellowork",
                ports.reserve()
            ),
        ),
        (
            "HELLOWORK_NATS_URL".to_owned(),
            format!("nats://127.0.0.1:{}", ports.reserve()),
        ),
        (
            "HELLOWORK_DEV_KEY_DIR".to_owned(),
            root.join("keys").display().to_string(),
        ),
    ];
    for service in ["REGISTRATION", "CONSENT", "SCHEDULING", "AUDITLOG"] {
        vars.push((
            format!("HELLOWORK_{service}_URL"),
            format!("https://127.0.0.1:{}", ports.reserve()),
        ));
        vars.push((
            format!("HELLOWORK_{service}_METRICS_ADDR"),
            format!("127.0.0.1:{}", ports.reserve()),
        ));
    }
    for variable in [
        "HELLOWORK_WITNESS_GRPC_ADDR",
        "HELLOWORK_WITNESS_METRICS_ADDR",
    ] {
        vars.push((
            variable.to_owned(),
            format!("127.0.0.1:{}", ports.reserve()),
        ));
    }
    vars
}

/// The witness's health and its cosigned checkpoint, over gRPC: over TLS
/// trusting `up`'s development CA when `ca` names it, else in plaintext.
fn witness_status(port: u16, ca: Option<&Path>) -> Option<(bool, u64, i32)> {
    use hellowork_proto::witness::v1::{
        GetWitnessedCheckpointRequest, witness_service_client::WitnessServiceClient,
    };
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let channel = match ca {
            Some(ca) => {
                let endpoint =
                    tonic::transport::Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
                        .ok()?
                        .connect_timeout(Duration::from_secs(1));
                let tls = hellowork_tls::ClientTls::load(ca, None).ok()?;
                hellowork_tls::channel(endpoint, tls)
            }
            None => tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .ok()?
                .connect_timeout(Duration::from_secs(1))
                .connect()
                .await
                .ok()?,
        };
        let health = HealthClient::new(channel.clone())
            .check(HealthCheckRequest {
                service: "hellowork.witness.v1.WitnessService".to_owned(),
            })
            .await
            .ok()?
            .into_inner();
        let witnessed = WitnessServiceClient::new(channel)
            .get_witnessed_checkpoint(GetWitnessedCheckpointRequest::default())
            .await
            .ok()?
            .into_inner();
        Some((
            health.status() == ServingStatus::Serving,
            witnessed.tree_size,
            witnessed.refusing,
        ))
    })
}

/// `hellowork up` running, its stdout read line by line. Dropping it (a
/// failed assertion) stops it as Ctrl-C would, so no server outlives the
/// test.
struct Up {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    data_dir: PathBuf,
}

impl Up {
    fn start(data_dir: &Path, vars: &[(String, String)]) -> Self {
        let mut child = Command::new(hellowork_binary())
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .envs(vars.iter().cloned())
            .env_remove("HELLOWORK_ENVIRONMENT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hellowork up");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Reads stdout until a line starting with `prefix`.
    fn wait_for(&mut self, prefix: &str, patience: Duration) {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.starts_with(prefix);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no {prefix:?} from hellowork up within {}s; it printed:\n{}\n{}",
                    patience.as_secs(),
                    self.seen.join("\n"),
                    self.logs()
                ),
            }
        }
    }

    fn logs(&self) -> String {
        let dir = self.data_dir.join("logs");
        std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "--- {}\n{}",
                    entry.path().display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for `up` to exit; `None` if it did not within `patience`.
    fn wait(&mut self, patience: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("poll hellowork up") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                    self.seen.push(line);
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.interrupt();
            if self.wait(Duration::from_secs(60)).is_none() {
                let _ = self.child.kill();
            }
        }
        // Whatever a failed run may have left behind.
        for pid in processes_using(&self.data_dir) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// Processes whose command line names `dir` (the private postgres and
/// nats-server name their data folders).
fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
        })
        .collect()
}

/// The port of the first `host:port` after `scheme` in `line`.
fn port_in(line: &str, scheme: &str) -> u16 {
    let rest = &line[line.find(scheme).expect(scheme) + scheme.len()..];
    let authority = rest.split(['/', ' ']).next().unwrap();
    authority.rsplit(':').next().unwrap().parse().unwrap()
}

/// The last line starting with `start` (the summary comes after the
/// progress lines).
fn line_with<'a>(lines: &'a [String], start: &str) -> &'a str {
    lines
        .iter()
        .rev()
        .find(|line| line.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{}", lines.join("\n")))
}

#[test]
fn up_starts_private_servers_the_demo_shows_the_operator_view_and_ctrl_c_stops_everything() {
    let started = Instant::now();
    build_services();
    eprintln!("service binaries fresh after {:?}", started.elapsed());
    let root = tempfile::tempdir().expect("a temporary folder");
    // As root, the private PostgreSQL runs as the postgres user, who must
    // be able to reach its data folder (tempdir makes it private).
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
        .expect("open the temporary folder");
    let data_dir = root.path().join("up");
    let mut ports = Ports::default();
    let vars = environment(root.path(), &mut ports);

    let mut up = Up::start(&data_dir, &vars);
    up.wait_for("hellowork up: ready", Duration::from_secs(120));
    up.wait_for("Ctrl-C stops everything", Duration::from_secs(5));
    eprintln!("up ready after {:?}", started.elapsed());
    let postgres = line_with(&up.seen, "PostgreSQL ").to_owned();
    let nats = line_with(&up.seen, "NATS ").to_owned();
    assert!(postgres.contains("(private"), "{postgres}");
    assert!(nats.contains("(private"), "{nats}");
    let private_ports = [port_in(&postgres, "postgres://"), port_in(&nats, "nats://")];
    for service in [
        "registration",
        "consent",
        "scheduling",
        "auditlog",
        "witness",
    ] {
        let line = line_with(&up.seen, &format!("{service} "));
        assert!(line.contains("/metrics"), "{line}");
    }
    let witness_line = line_with(&up.seen, "witness ").to_owned();
    // Every process speaks TLS with certificates from up's development CA;
    // a plaintext client gets no answer.
    let tls_line = line_with(&up.seen, "gRPC TLS ").to_owned();
    assert!(tls_line.contains("development CA"), "{tls_line}");
    let ca = data_dir.join("pki/ca.pem");
    assert!(ca.is_file());
    let witness_port = port_in(&witness_line, "https://");
    assert_eq!(
        witness_status(witness_port, None),
        None,
        "plaintext answered"
    );
    let (serving, _, _) = witness_status(witness_port, Some(&ca))
        .unwrap_or_else(|| panic!("the witness does not answer: {witness_line}\n{}", up.logs()));
    assert!(serving, "the witness is not SERVING: {witness_line}");
    assert!(!processes_using(&data_dir).is_empty());

    let demo = Command::new(hellowork_binary())
        .arg("demo")
        .arg("--terms")
        .arg(hellowork_testing::terms::terms_of_use().path)
        .arg("--data-dir")
        .arg(&data_dir)
        .envs(vars.iter().cloned())
        .env_remove("HELLOWORK_ENVIRONMENT")
        .output()
        .expect("run hellowork demo");
    let report = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(
        demo.status.success(),
        "demo failed:\n{report}\n{}\n{}",
        String::from_utf8_lossy(&demo.stderr),
        up.logs()
    );

    // The access log shows devices only as pseudonyms, prefixes and families.
    let usage: Vec<&str> = report
        .lines()
        .filter(|line| line.contains(" usage ") && line.contains("SessionJoined"))
        .collect();
    assert_eq!(
        usage.len(),
        16,
        "12 counselling and 4 seminar joins:\n{report}"
    );
    for line in &usage {
        let pseudonym = line
            .split_whitespace()
            .find(|word| word.len() == 32 && word.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(pseudonym.is_some(), "no pseudonym in {line}");
    }
    assert!(report.contains("203.0.113.0/24"), "{report}");
    assert!(report.contains("2001:db8:4b2::/48"), "{report}");
    // Never a raw device id, IP address or user agent.
    for raw in [
        "tkm-device",
        "203.0.113.1",
        "198.51.100.1",
        "::a",
        "Mozilla",
    ] {
        assert!(
            !report.contains(raw),
            "{raw:?} in the operator's view:\n{report}"
        );
    }
    // Counselling on a PC reaches k = 10; the smaller cells are suppressed.
    let lines: Vec<String> = report.lines().map(str::to_owned).collect();
    let cells = line_with(&lines, "cells:")
        .split_whitespace()
        .filter_map(|word| word.parse::<usize>().ok())
        .collect::<Vec<_>>();
    assert!(
        cells[0] >= 1 && cells[1] >= 1,
        "published and suppressed cells:\n{report}"
    );
    assert!(report.contains("10 (20)"), "{report}");
    assert!(
        report.contains("notices delivered to 12 of the 12"),
        "{report}"
    );
    assert!(
        report.contains("disclosed to legal-officer-1 only"),
        "{report}"
    );
    assert!(
        report.contains("Log verification (auditor): intact"),
        "{report}"
    );

    // The witness has cosigned a checkpoint of the demo's entries, kept in
    // its own storage under the data folder, and refuses nothing.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = witness_status(witness_port, Some(&ca));
        if let Some((_, size, refusing)) = status
            && size > 0
        {
            assert_eq!(refusing, 0, "the witness refuses the log:\n{}", up.logs());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the witness cosigned nothing ({status:?}):\n{}",
            up.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(data_dir.join("witness/state.json").is_file());
    assert!(data_dir.join("witness/leaves").is_file());

    eprintln!("demo done after {:?}", started.elapsed());
    up.interrupt();
    let status = up
        .wait(Duration::from_secs(90))
        .expect("hellowork up stops after SIGINT");
    assert!(
        status.success(),
        "up exited with {status}:\n{}",
        up.seen.join("\n")
    );
    assert!(
        up.seen.iter().any(|line| line == "hellowork up: stopped"),
        "{}",
        up.seen.join("\n")
    );
    assert_eq!(
        processes_using(&data_dir),
        Vec::<u32>::new(),
        "private servers left running"
    );
    assert!(
        up.seen
            .iter()
            .any(|line| line.trim() == "hellowork-witness stopped"),
        "{}",
        up.seen.join("\n")
    );
    for port in private_ports.into_iter().chain([witness_port]) {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "something still listens on {port}"
        );
    }
}
