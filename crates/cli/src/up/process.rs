//! What `hellowork up` needs to run other programs as its children: output
//! to a log file, a process group of their own, signals, and a bounded wait.

use std::{
    fs::{File, OpenOptions},
    net::TcpListener,
    os::unix::fs::MetadataExt as _,
    path::Path,
    process::{ExitStatus, Stdio},
    time::Duration,
};

use tokio::process::{Child, Command};

/// A command whose output goes to `log` (emptied first: a log holds one
/// run), in a process group of its own: Ctrl-C in the
/// terminal then reaches only `up`, which stops the services before the
/// database and broker they drain into. Killed if `up` drops it (a panic or
/// an early return); an orderly stop signals first.
pub fn logged(program: impl AsRef<std::ffi::OsStr>, log: &Path) -> Result<Command, String> {
    let file = create(log)?;
    let copy = file
        .try_clone()
        .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
    let mut command = Command::new(program);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(copy))
        .stderr(Stdio::from(file))
        .process_group(0)
        .kill_on_drop(true);
    Ok(command)
}

fn create(log: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(log)
        .map_err(|e| format!("cannot open {}: {e}", log.display()))
}

/// Sends `signal` (e.g. `TERM`) to `pid` with the system's `kill`: the
/// workspace forbids `unsafe`, which `libc::kill` needs.
pub async fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Stops a process left running by an `up` that was killed (its children
/// live in process groups of their own and outlive it), found through the
/// pid file it left and recognized by its command line: a pid alone may
/// have been reused by an unrelated process. SIGTERM, then SIGKILL after
/// `patience`.
pub async fn stop_leftover(pid_file: &Path, program: &str, patience: Duration) {
    let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
    else {
        return;
    };
    let running = |pid: u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(program))
    };
    if !running(pid) {
        return;
    }
    println!("stopping {program} (pid {pid}) left running by an earlier `hellowork up`");
    signal(pid, "TERM").await;
    let deadline = tokio::time::Instant::now() + patience;
    while running(pid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if running(pid) {
        signal(pid, "KILL").await;
    }
}

/// Waits for `child` to exit for at most `patience`; kills it after that.
/// `None` when it had to be killed.
pub async fn wait_or_kill(child: &mut Child, patience: Duration) -> Option<ExitStatus> {
    match tokio::time::timeout(patience, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            let _ = child.kill().await;
            None
        }
    }
}

/// The last `lines` lines of a log file, for a person to see why something
/// failed.
pub fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A port nothing listens on right now (the kernel's choice).
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// Whether we run as root, whom PostgreSQL refuses to run as.
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}
