//! The workspace's `rust-version` is true of its dependencies: no package
//! the build uses declares a higher minimum Rust than the workspace claims,
//! so a toolchain of that version is not refused by a dependency. Asked of
//! `cargo metadata` for the host platform (the packages this machine built;
//! other platforms' would need downloading).

use std::process::Command;

use serde_json::Value;

/// `1.89` or `1.89.0` as numbers to compare.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|part| {
        part.parse()
            .unwrap_or_else(|e| panic!("rust-version {text}: {e}"))
    });
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

fn host() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8(output.stdout)
        .expect("rustc -vV is UTF-8")
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

#[test]
fn no_dependency_needs_a_newer_rust_than_the_workspace_declares() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .args(["--filter-platform", &host()])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let packages = metadata["packages"].as_array().unwrap();
    let declared = packages
        .iter()
        .find(|p| p["name"] == "hellowork-tests")
        .and_then(|p| p["rust_version"].as_str())
        .expect("the workspace declares a rust-version");
    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(declared))
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "the workspace declares rust-version {declared}, but {too_new:?}; raise it in Cargo.toml"
    );
}

#[test]
fn versions_compare_by_number() {
    assert!(version("1.89") > version("1.9"));
    assert_eq!(version("1.89"), version("1.89.0"));
    assert!(version("1.89.1") > version("1.89"));
}
