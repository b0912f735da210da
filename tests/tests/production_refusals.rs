//! Production fails closed: each binary started with a complete production
//! environment altered in exactly one respect refuses to start, within
//! seconds, with a one-line error naming the variable at fault and never
//! its value; the unaltered environment gets past its configuration (the
//! services fail only at connecting to the database, the witness starts).

#[path = "production_refusals/baseline.rs"]
mod baseline;
#[path = "production_refusals/note_keys.rs"]
mod note_keys;
#[path = "production_refusals/rows.rs"]
mod rows;

use std::{
    io::Read,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use baseline::{Baseline, Binary};
use hellowork_platform::Service;
use rows::Row;

/// A refusal comes from reading the configuration: far less than this even
/// on a loaded machine.
const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// Binaries sit in the target profile directory, above the test's `deps/`.
fn executable(binary: Binary) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile = exe.parent().and_then(|deps| deps.parent()).expect("deps/");
    let path = profile.join(binary.executable());
    assert!(
        path.exists(),
        "{} is not built: cargo build -p {} --bins",
        path.display(),
        binary.executable()
    );
    path
}

fn spawn(binary: Binary, vars: &std::collections::BTreeMap<String, String>) -> Child {
    Command::new(executable(binary))
        // Only what the row says: nothing of this test's own environment.
        .env_clear()
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the binary")
}

/// The exit status and stderr, or `None` (the process killed) if it was
/// still running after [`EXIT_WITHIN`].
fn outcome(mut child: Child) -> Option<(std::process::ExitStatus, String)> {
    let deadline = Instant::now() + EXIT_WITHIN;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    Some((status, stderr))
}

/// The first `HELLOWORK_*` variable `line` names.
fn first_variable(line: &str) -> Option<&str> {
    let start = line.find("HELLOWORK_")?;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// What is wrong with how `binary` met `row`, if anything.
fn judge(binary: Binary, baseline: &Baseline, row: &Row) -> Option<String> {
    let Some((status, stderr)) = outcome(spawn(binary, &row.apply(&baseline.vars))) else {
        return Some("still running: it did not refuse".to_owned());
    };
    let line = stderr.trim_end();
    let prefix = format!("{}: ", binary.executable());
    let leaked = baseline
        .secrets
        .iter()
        .chain(&row.offending)
        .find(|value| line.contains(value.as_str()));
    if status.success() {
        Some(format!("exited successfully: {line}"))
    } else if line.is_empty() || line.contains('\n') || !line.starts_with(&prefix) {
        Some(format!("not one line of its own:\n{stderr}"))
    } else if first_variable(line) != Some(row.variable.as_str()) {
        Some(format!("names the wrong variable: {line}"))
    } else {
        leaked.map(|value| format!("shows the value {value:?}: {line}"))
    }
}

/// Every row of `binary`, each refused as [`judge`] requires.
fn assert_refusals(binary: Binary, rows: Vec<Row>, baseline: &Baseline) {
    assert!(rows.len() > 10, "the matrix lost its rows");
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|row| judge(binary, baseline, row).map(|why| format!("{}: {why}", row.what)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} did not fail closed:\n{}",
        binary.executable(),
        failures.join("\n")
    );
}

/// The services' baseline passes its configuration and every local file's
/// check, and fails at its first connection: the database, on a closed port.
fn assert_baseline_fails_only_at_connecting(binary: Binary, baseline: &Baseline) {
    let (status, stderr) =
        outcome(spawn(binary, &baseline.vars)).expect("it to stop at connecting");
    let line = stderr.trim_end();
    assert!(!status.success() && !line.contains('\n'), "{stderr}");
    assert!(line.contains("cannot prepare the database"), "{line}");
    assert_eq!(
        first_variable(line),
        None,
        "a configuration refusal: {line}"
    );
    assert!(
        !baseline.secrets.iter().any(|s| line.contains(s.as_str())),
        "{line}"
    );
}

/// Whether `child` writes a line containing `text` to stdout in `within`.
fn wait_for_line(child: &mut Child, text: &'static str, within: Duration) -> bool {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("piped stdout");
    let (found, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let hit = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains(text));
        let _ = found.send(hit);
    });
    seen.recv_timeout(within).unwrap_or(false)
}

fn service(service: Service) {
    let closed = baseline::closed_port();
    let binary = Binary::Service(service);
    let baseline = Baseline::new(binary, closed.number());
    assert_baseline_fails_only_at_connecting(binary, &baseline);
    assert_refusals(binary, rows::service(service, &baseline), &baseline);
}

#[test]
fn registration_refuses_every_row_of_the_matrix() {
    service(Service::Registration);
}

#[test]
fn consent_refuses_every_row_of_the_matrix() {
    service(Service::Consent);
}

#[test]
fn scheduling_refuses_every_row_of_the_matrix() {
    service(Service::Scheduling);
}

#[test]
fn audit_log_refuses_every_row_of_the_matrix() {
    service(Service::AuditLog);
}

#[test]
fn the_witness_refuses_every_row_of_the_matrix() {
    let closed = baseline::closed_port();
    let baseline = Baseline::new(Binary::Witness, closed.number());
    // Its baseline starts for real (it connects to the log lazily).
    let mut child = spawn(Binary::Witness, &baseline.vars);
    let started = wait_for_line(&mut child, "witness started", EXIT_WITHIN);
    let _ = child.kill();
    let _ = child.wait();
    assert!(started, "the witness's production baseline did not start");
    assert_refusals(Binary::Witness, rows::witness(&baseline), &baseline);
}
