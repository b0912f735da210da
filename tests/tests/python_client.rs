//! A client nobody here wrote: `tests/python/booking_client.py`, with stubs
//! that grpcio-tools generates from `proto/` at run time, books counselling
//! through registration, consent and scheduling running as their own
//! processes (the same [`Stack`] as the other end-to-end tests), then is
//! refused a booking by the terms (Art. 2) and decodes the refusal's
//! `google.rpc` rich details (`ErrorInfo`, `PreconditionFailure`,
//! `BadRequest`) with grpcio-status, all over TLS. This proves the contracts are usable
//! from other government systems, whatever their language.
//!
//! The Python is `$HELLOWORK_PYTHON`, else `.venv/bin/python` of the
//! checkout, into which `.ci/run` installs `tests/python/requirements.txt`.
//! Without it (or without its packages) the test fails under `CI=true` and
//! is skipped, loudly, elsewhere. The tokens are minted here, one per
//! service and role, so the script needs no signing key.
//!
//! The services run as their own binaries: build them first with `cargo
//! build --bins -p hellowork-<service>` when running `cargo test -p
//! hellowork-tests` alone.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use common::Stack;
use hellowork_auth::Role;
use hellowork_tls::dev_pki::{self, DevPki};

/// How long the whole Python run may take (stub generation included).
const DEADLINE: Duration = Duration::from_secs(180);

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the checkout")
        .to_path_buf()
}

fn script() -> PathBuf {
    repository().join("tests/python/booking_client.py")
}

/// The Python with the client's packages installed, or why there is none.
fn python() -> Result<PathBuf, String> {
    let python = std::env::var_os("HELLOWORK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join(".venv/bin/python"));
    if !python.exists() {
        return Err(format!("{} does not exist", python.display()));
    }
    let checked = std::process::Command::new(&python)
        .arg(script())
        .arg("--check-deps")
        .output()
        .map_err(|error| format!("{} cannot run: {error}", python.display()))?;
    if !checked.status.success() {
        return Err(format!(
            "{}: {}",
            python.display(),
            String::from_utf8_lossy(&checked.stderr).trim()
        ));
    }
    Ok(python)
}

#[tokio::test]
async fn a_python_client_from_the_protos_books_and_decodes_a_refusal() {
    let python = match python() {
        Ok(python) => python,
        Err(missing) if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "no Python with the client's packages: {missing}; `.ci/run` creates .venv with \
             tests/python/requirements.txt (or set HELLOWORK_PYTHON)"
        ),
        Err(missing) => {
            eprintln!(
                "\n*** SKIPPED python client test: {missing} (run .ci/run, or `python3 -m venv \
                 .venv && .venv/bin/pip install -r tests/python/requirements.txt`) ***\n"
            );
            return;
        }
    };

    // Over TLS, as a government system would call the services.
    let pki_dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(pki_dir.path(), &dev_pki::NAMES).unwrap();
    let mut stack = Stack::start_tls(&pki).await;
    // One token per service and role: each service under test trusts its
    // own test issuer. The job seeker's token is the front system's, which
    // registers people online; the counsellor acts at the counter.
    let tokens = [
        (
            "HELLOWORK_TOKEN_CONSENT_OPERATOR",
            stack.consent_env.token("operator-1", &[Role::Operator]),
        ),
        (
            "HELLOWORK_TOKEN_REGISTRATION_JOB_SEEKER",
            stack
                .registration_env
                .token("front-system", &[Role::JobSeeker]),
        ),
        (
            "HELLOWORK_TOKEN_REGISTRATION_COUNSELLOR",
            stack
                .registration_env
                .token("counsellor-1", &[Role::Counsellor]),
        ),
        (
            "HELLOWORK_TOKEN_SCHEDULING_COUNSELLOR",
            stack
                .scheduling_env
                .token("counsellor-1", &[Role::Counsellor]),
        ),
    ];
    let run = tokio::process::Command::new(&python)
        .arg(script())
        .args(["--registration", &stack.registration.url()])
        .args(["--consent", &stack.consent.url()])
        .args(["--scheduling", &stack.scheduling.url()])
        .args(["--counsellor-id", "counsellor-1"])
        .arg("--ca")
        .arg(pki.ca())
        .envs(tokens)
        .env("PYTHONUTF8", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(repository())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(DEADLINE, run).await {
        Ok(output) => output.expect("run the Python client"),
        Err(_) => panic!(
            "the Python client did not finish within {DEADLINE:?}\n{}",
            service_logs(&stack)
        ),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n{}",
        output.status,
        service_logs(&stack)
    );
    assert!(
        stdout.contains("booking client: OK"),
        "the report ends with OK:\n{stdout}"
    );
    eprintln!("{stdout}");
    stack.terminate().await;
}

fn service_logs(stack: &Stack) -> String {
    format!(
        "--- registration log\n{}\n--- consent log\n{}\n--- scheduling log\n{}",
        stack.registration.log_tail(),
        stack.consent.log_tail(),
        stack.scheduling.log_tail()
    )
}
