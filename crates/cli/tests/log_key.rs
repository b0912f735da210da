//! `hellowork log-key`: the keys it writes are the ones the audit-log and
//! the witness take, the private key readable by its owner only and never
//! printed, and an existing file is never overwritten.

use std::{os::unix::fs::PermissionsExt as _, process::Command};

use hellowork_transparency::{
    DEFAULT_ORIGIN,
    checkpoint::{self, LogKey},
    cosignature::WitnessKey,
    keys, leaf_hash,
};

fn log_key(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hellowork"))
        .arg("log-key")
        .args(args)
        .output()
        .expect("run hellowork")
}

#[test]
fn generated_keys_sign_and_cosign_checkpoints_their_printed_verifier_keys_check() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("log.key");
    let witness_file = dir.path().join("witness.key");
    let log = log_key(&[
        "--name",
        "office-log-2027",
        "--out",
        log_file.to_str().unwrap(),
    ]);
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let witness = log_key(&[
        "--name",
        "office-witness",
        "--witness",
        "--out",
        witness_file.to_str().unwrap(),
    ]);
    assert!(witness.status.success());
    let skey = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        !String::from_utf8_lossy(&log.stdout).contains("PRIVATE"),
        "the private key is never printed"
    );
    assert_eq!(
        std::fs::metadata(&log_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!keys::is_development(&skey));
    let log_vkey = String::from_utf8_lossy(&log.stdout).trim().to_owned();
    let witness_vkey = String::from_utf8_lossy(&witness.stdout).trim().to_owned();
    let signed = LogKey::from_note_key(&skey)
        .unwrap()
        .sign(DEFAULT_ORIGIN, 3, leaf_hash(b"r"))
        .unwrap();
    let cosigned = WitnessKey::from_note_key(&std::fs::read_to_string(&witness_file).unwrap())
        .unwrap()
        .cosign(&signed.note, 1_800_000_000)
        .unwrap();
    let verified =
        checkpoint::verify(&cosigned, DEFAULT_ORIGIN, &log_vkey, &[witness_vkey]).unwrap();
    assert_eq!((verified.size, verified.cosigned_by.len()), (3, 1));

    let again = log_key(&[
        "--name",
        "office-log-2027",
        "--out",
        log_file.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "an existing key file is kept");
    assert_eq!(std::fs::read_to_string(&log_file).unwrap(), skey);
    let bad = log_key(&[
        "--name",
        "two words",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
